//! newsarc's storage: a small key-value seam ([`engine::KvEngine`]) with a
//! sled 0.34 adapter and an in-memory adapter, and on top of it the
//! [`Store`]: content-addressed blobs (zstd, delta against the previous
//! revision), hash-chained revision records, observations, article events
//! (gone, reappeared), article records, the global log and its indexes, the
//! fetcher's per-URL state and failed attempts, and [`Store::verify`].
//!
//! ```
//! use newsarc_model::{ArticleKey, ArticleMeta, Digest, Millis};
//! use newsarc_store::{Fetch, Outcome, Store};
//!
//! let store = Store::in_memory();
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
//! let added = store.add_fetch(&fetch)?;
//! assert_eq!(added.outcome, Outcome::NewArticle);
//! assert_eq!(store.add_fetch(&fetch)?.outcome, Outcome::AlreadyArchived);
//! store.flush()?;
//! assert_eq!(store.blob(&Digest::of(b"<p>hello</p>"))?, b"<p>hello</p>");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod blob;
mod derived;
pub mod engine;
mod error;
mod export;
pub mod keys;
mod migrate;
mod repair;
mod serving;
mod store;
mod verify;
mod witness;

pub use blob::{MAX_DELTA_DEPTH, ZSTD_LEVEL};
pub use error::StoreError;
pub use export::Moved;
pub use repair::{RepairAction, RepairChange, RepairOpening, RepairReport};
pub use serving::SERVING_FILE;
pub use store::{Added, BodilessFetch, Fetch, LogEntry, Outcome, STORE_FORMAT, Store};
pub use verify::{Finding, FindingKind, VerifyReport};
pub use witness::WITNESS_FILE;
