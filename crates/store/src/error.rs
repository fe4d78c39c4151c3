//! Store errors.
//!
//! Policy: every error names what a user needs to find the problem (the
//! store's location, the digest or revision id); a read that finds damage is
//! always an error, never wrong bytes; nothing here panics on stored data.

use newsarc_model::{ArticleKey, Digest, RevisionId};

use crate::engine::EngineError;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The engine could not open the store.
    #[error("cannot open the store at {location}: {reason}")]
    Open {
        /// The store directory.
        location: String,
        /// The engine's reason (in the message, so not also a `source`).
        reason: EngineError,
    },
    /// Another process holds the store (sled allows one per store).
    #[error("{}", in_use_message(location, server.as_deref()))]
    InUse {
        /// The store directory.
        location: String,
        /// The address a `newsarc serve` holding it announced.
        server: Option<String>,
    },
    /// The server's address could not be left in the store directory.
    #[error("cannot write {path}: {source}")]
    Announce {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A non-empty directory that holds no newsarc store.
    #[error(
        "{location} is not a newsarc store (it is a non-empty directory without a store in it)"
    )]
    NotAStore {
        /// The directory.
        location: String,
    },
    /// The store's header is missing or unreadable.
    #[error("the store at {location} has a damaged header: {reason}")]
    DamagedHeader {
        /// The store directory.
        location: String,
        /// What was wrong.
        reason: String,
    },
    /// The store was written by a newer newsarc.
    #[error(
        "the store at {location} has format {found}; this newsarc reads format {supported}: upgrade newsarc"
    )]
    UnsupportedFormat {
        /// The store directory.
        location: String,
        /// The format found.
        found: u32,
        /// The format this build reads.
        supported: u32,
    },
    /// The engine failed during an operation.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A stored record does not hash to its id or does not decode.
    #[error("corrupt {kind} record {id}: {reason}")]
    CorruptRecord {
        /// The record kind.
        kind: &'static str,
        /// The id or key it is stored under.
        id: String,
        /// What is wrong.
        reason: String,
    },
    /// A blob does not reconstruct to bytes with its digest.
    #[error("corrupt blob {digest}: {reason}")]
    CorruptBlob {
        /// The blob's digest (its key).
        digest: Digest,
        /// The digest of what was reconstructed, when it got that far.
        actual: Option<Digest>,
        /// What went wrong.
        reason: String,
    },
    /// A blob that a revision or a delta needs is not in the store.
    #[error("blob {digest} is missing from the store")]
    MissingBlob {
        /// The missing blob.
        digest: Digest,
    },
    /// A revision that an index or article points to is not in the store.
    #[error("revision {id} is missing from the store")]
    MissingRevision {
        /// The missing revision.
        id: RevisionId,
    },
    /// An event that the log or an article points to is not in the store.
    #[error("event {id} is missing from the store")]
    MissingEvent {
        /// The missing event.
        id: Digest,
    },
    /// A bodiless fetch (304, 404) names an article the store does not hold.
    #[error("article {key} is not in the store")]
    MissingArticle {
        /// The article's key.
        key: ArticleKey,
    },
    /// An export file is damaged, truncated or of another format.
    #[error("the export is damaged at record {record}: {reason}")]
    DamagedExport {
        /// The record's number in the file (the header is 0).
        record: u64,
        /// What is wrong.
        reason: String,
    },
    /// A file given to `import` that is not an export at all.
    #[error("not a newsarc export: {reason} (`newsarc export FILE` makes one)")]
    NotAnExport {
        /// What the file holds instead.
        reason: String,
    },
    /// An import's target cannot take a store.
    #[error("cannot import into {location}: {reason}")]
    ImportTarget {
        /// The target directory.
        location: String,
        /// Why.
        reason: String,
    },
    /// Writing an export failed.
    #[error("cannot write the export: {source}")]
    ExportOutput {
        /// The I/O error.
        source: std::io::Error,
    },
    /// `repair` could not copy the store aside, or put the copy back.
    #[error("cannot keep a copy of the store at {location} while repairing it: {source}")]
    RepairCopy {
        /// The copy or the store.
        location: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The head witness file could not be written.
    #[error("cannot write the head witness {path}: {source}")]
    Witness {
        /// The witness file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A document could not be compressed.
    #[error("cannot compress blob {digest}: {reason}")]
    Compress {
        /// The document's digest.
        digest: Digest,
        /// zstd's reason.
        reason: String,
    },
}

fn in_use_message(location: &str, server: Option<&str>) -> String {
    match server {
        Some(server) => format!(
            "the store at {location} is held by `newsarc serve` at {server}: ask it with `newsarc --remote {server} …` (log, show, diff, articles, stats), or stop the server first"
        ),
        None => format!(
            "the store at {location} is in use by another newsarc process (one process per store): wait for it to finish or stop it; to query a store while it is being written, run `newsarc serve` and use --remote"
        ),
    }
}

impl StoreError {
    /// True when the error means stored data is damaged (as opposed to the
    /// store being unreachable or the request naming nothing).
    pub fn is_corruption(&self) -> bool {
        matches!(
            self,
            Self::CorruptRecord { .. }
                | Self::CorruptBlob { .. }
                | Self::MissingBlob { .. }
                | Self::MissingRevision { .. }
                | Self::MissingEvent { .. }
                | Self::DamagedHeader { .. }
                | Self::Engine(EngineError::Corrupted(_))
        )
    }
}
