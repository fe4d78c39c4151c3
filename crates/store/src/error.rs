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
    #[error(
        "cannot open the index of the store at {location}: {reason}; `newsarc --store {location} repair --rebuild-index` makes it anew from the packs"
    )]
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
    /// A store of the first format: it is read by `newsarc upgrade` only.
    #[error(
        "the store at {location} has format 1; this newsarc reads format 2: run `newsarc --store {location} upgrade` (it builds the new store beside it and keeps the old one as {location}.format1)"
    )]
    FormatOne {
        /// The store directory.
        location: String,
    },
    /// `upgrade` on a store of this format.
    #[error("the store at {location} already has format 2: there is nothing to upgrade")]
    UpgradeNotNeeded {
        /// The store directory.
        location: String,
    },
    /// No store where one must already be.
    #[error("no store at {location}: ingest something first, or pass --store DIR")]
    NoStore {
        /// The directory.
        location: String,
    },
    /// A write to a store opened read-only.
    #[error("the store at {location} is open read-only")]
    ReadOnly {
        /// The store directory.
        location: String,
    },
    /// A file or directory of the store could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The packs failed.
    #[error(transparent)]
    Pack(#[from] newsarc_pack::PackError),
    /// A frame holds something that does not read.
    #[error("the frame at {location} is damaged: {reason}")]
    CorruptFrame {
        /// The pack and offset.
        location: String,
        /// What is wrong.
        reason: String,
    },
    /// An index entry does not read (the index is rebuilt from the packs by
    /// `newsarc repair --rebuild-index`).
    #[error(
        "the {index} index entry {entry} is damaged: {reason}; `newsarc repair --rebuild-index` rebuilds the index from the packs"
    )]
    CorruptIndex {
        /// The index.
        index: &'static str,
        /// The entry.
        entry: String,
        /// What is wrong.
        reason: String,
    },
    /// A bug: something newsarc wrote itself does not fit.
    #[error("internal error: {0}")]
    Internal(String),
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
    #[error("{}", engine_message(.0))]
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

fn engine_message(err: &EngineError) -> String {
    match err {
        EngineError::Corrupted(_) => format!(
            "{err}: the index is damaged; `newsarc repair --rebuild-index` makes it anew from the packs"
        ),
        _ => err.to_string(),
    }
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
                | Self::CorruptFrame { .. }
                | Self::CorruptIndex { .. }
                | Self::Pack(newsarc_pack::PackError::Damaged { .. })
                | Self::Engine(EngineError::Corrupted(_))
        )
    }
}
