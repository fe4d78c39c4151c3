//! newsarc's facade: every job of the `newsarc` command as a library
//! function that takes an options struct and a writer, so that each is
//! tested without spawning a process.
//!
//! ```
//! use newsarc::{Archive, ingest::IngestOptions, history::LogOptions};
//!
//! let archive = Archive::in_memory()?;
//! let dir = tempfile::tempdir()?;
//! let post = dir.path().join("a.md");
//! std::fs::write(&post, "---\ntitle: \"T\"\nfrom: https://example.org/a\n---\n<p>Body.</p>\n")?;
//!
//! let mut out = Vec::new();
//! let summary = archive
//!     .ingest(&IngestOptions { paths: vec![post], ..Default::default() }, &mut out, &mut newsarc::NoProgress)
//!     ?;
//! assert_eq!(summary.new_articles, 1);
//!
//! let mut log = Vec::new();
//! archive.log(&LogOptions { article: "https://example.org/a".into(), json: false, stat: false }, &mut log)?;
//! assert!(String::from_utf8(log)?.contains("new"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod backup;
pub mod diff;
mod error;
pub mod fetch;
pub mod history;
pub mod ingest;
mod json;
pub mod refs;
pub mod repair;
pub mod report;
pub mod show;
pub mod timeline;
pub mod watch;

use std::path::Path;
use std::sync::OnceLock;

use newsarc_parse::KeyRules;
use newsarc_store::Store;

pub use error::{ArchiveError, FileError};
pub use newsarc_store::{Moved, Outcome, RepairReport, StoreConfig, StoreError, Upgraded};

/// Progress of a long job, shown by the CLI as a bar on a terminal.
pub trait Progress {
    /// The job has `total` steps.
    fn start(&mut self, total: u64);
    /// `done` steps are done.
    fn set(&mut self, done: u64);
    /// The job is over.
    fn finish(&mut self);
}

/// Progress that shows nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&mut self, _total: u64) {}
    fn set(&mut self, _done: u64) {}
    fn finish(&mut self) {}
}

/// An open archive: a store plus the article-key rules.
pub struct Archive {
    store: Store,
    /// Compiled on first use: a read by article key needs none, and
    /// compiling them is most of what a one-shot `log` would spend.
    rules: OnceLock<KeyRules>,
}

impl Archive {
    /// Opens (or, unless read-only, creates) the archive in `dir`.
    pub fn open(dir: &Path, config: &StoreConfig) -> Result<Self, ArchiveError> {
        Ok(Self::with_store(Store::open(dir, config)?))
    }

    /// A new archive in memory.
    pub fn in_memory() -> Result<Self, ArchiveError> {
        Ok(Self::with_store(Store::in_memory()?))
    }

    /// An archive over an open store, with the built-in rules.
    pub fn with_store(store: Store) -> Self {
        Self {
            store,
            rules: OnceLock::new(),
        }
    }

    /// Tries the rules in `path` before the built-in ones.
    pub fn add_rules_file(&mut self, path: &Path) -> Result<(), ArchiveError> {
        let text = std::fs::read_to_string(path).map_err(|source| ArchiveError::ReadRules {
            path: path.to_owned(),
            source,
        })?;
        let first = KeyRules::from_toml(&text, &path.display().to_string())?;
        self.rules = OnceLock::from(self.rules().clone().with_rules_first(first));
        Ok(())
    }

    /// The store underneath.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The article-key rules in force.
    pub fn rules(&self) -> &KeyRules {
        self.rules.get_or_init(KeyRules::builtin)
    }
}
