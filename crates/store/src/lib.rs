//! newsarc's storage (store format 2): documents and every record in
//! append-only pack files (`newsarc-pack`), the source of truth; and an
//! index over them in sled 0.34, behind a crate-private seam, rebuilt from
//! the packs whenever it is missing, damaged or of another layout.
//! `docs/FORMAT.md` describes both, enough to read a store without newsarc.
//!
//! ```
//! use newsarc_model::{ArticleKey, ArticleMeta, Digest, Millis};
//! use newsarc_store::{Fetch, Outcome, Store};
//!
//! let store = Store::in_memory()?;
//! let fetch = Fetch {
//!     article: ArticleKey::new("example.org/a")?,
//!     bytes: b"<p>hello</p>",
//!     fetched_at: Millis::from_millis(0),
//!     source: "a.html".into(),
//!     canonical_url: "https://example.org/a".into(),
//!     meta: ArticleMeta::default(),
//!     text_digest: Digest::of(b"hello\n"),
//!     http: None,
//!     charset: None,
//! };
//! let mut commit = store.begin()?;
//! assert_eq!(commit.add_fetch(&fetch)?.outcome, Outcome::NewArticle);
//! assert_eq!(commit.add_fetch(&fetch)?.outcome, Outcome::AlreadyArchived);
//! commit.finish()?;
//! assert_eq!(store.blob(&Digest::of(b"<p>hello</p>"))?, b"<p>hello</p>");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod apply;
mod blocks;
mod documents;
mod engine;
mod error;
mod export;
mod format1;
mod import;
mod index;
mod index_layers;
mod keys;
mod layout;
mod overlay;
mod read;
mod rebuild;
mod records;
mod repair;
mod serving;
mod store;
mod upgrade;
mod verify;
mod witness;
mod write;

pub use documents::{MAX_DELTA_DEPTH, ZSTD_LEVEL};
pub use engine::{DEFAULT_CACHE_BYTES, EngineError};
pub use error::StoreError;
pub use export::Moved;
pub use layout::STORE_FORMAT;
pub use read::{HistoryEntry, LogEntry};
pub use repair::{IndexChange, OldIndex, RepairOptions, RepairReport};
pub use serving::SERVING_FILE;
pub use store::{Store, StoreConfig};
pub use upgrade::Upgraded;
pub use verify::{Finding, FindingKind, VerifyOptions, VerifyReport};
pub use witness::WITNESS_FILE;
pub use write::{Added, BodilessFetch, Commit, Fetch, Outcome};
