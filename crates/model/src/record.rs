//! The persisted records. Each is encoded by [`crate::codec`] with its kind
//! and format version; `docs/FORMAT.md` describes every field.

use serde::{Deserialize, Serialize};

use crate::{ArticleKey, ArticleMeta, ChangeKind, Digest, Millis, RevisionId};

/// A record type that the codec can persist.
pub trait Record: Serialize + for<'de> Deserialize<'de> {
    /// The kind named in the envelope, so one kind is never read as another.
    const KIND: &'static str;
    /// The format version this code writes and reads.
    const VERSION: u32;
}

/// The store's own header, written once when a store is created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreInfo {
    /// The store layout version (see `docs/FORMAT.md`).
    pub format: u32,
    /// When the store was created.
    pub created_at: Millis,
}

impl Record for StoreInfo {
    const KIND: &'static str = "store";
    const VERSION: u32 = 1;
}

/// How a blob's bytes are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlobEncoding {
    /// A zstd frame of the whole document.
    Zstd,
    /// A zstd frame compressed with the `base` blob's raw bytes as a raw
    /// content dictionary (zstd's "patch-from").
    ZstdDelta,
}

/// One fetched document's exact bytes, compressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobRecord {
    /// How `data` decodes.
    pub encoding: BlobEncoding,
    /// The blob whose bytes are the dictionary, for `zstd_delta`.
    pub base: Option<Digest>,
    /// How many delta steps lead to a full blob (0 for `zstd`).
    pub depth: u32,
    /// The document's size in bytes.
    pub size: u64,
    /// The compressed bytes.
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
}

impl Record for BlobRecord {
    const KIND: &'static str = "blob";
    const VERSION: u32 = 1;
}

/// One revision of an article. Its id is the BLAKE3 of its encoded bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionRecord {
    /// The article this is a revision of.
    pub article: ArticleKey,
    /// 1-based position in the article's history.
    pub seq: u32,
    /// The document's bytes.
    pub blob: Digest,
    /// The document's size in bytes.
    pub size: u64,
    /// The previous revision of the article; `None` for the first.
    pub parent: Option<RevisionId>,
    /// When this content was fetched (UTC, ms).
    pub fetched_at: Millis,
    /// Where it came from: a file path or a URL.
    pub source: String,
    /// The metadata extracted from the document.
    pub meta: ArticleMeta,
    /// The canonical form of `meta.url`, from which the article key came.
    pub canonical_url: String,
    /// BLAKE3 of the article's normalised text.
    pub text_digest: Digest,
    /// How it differs from `parent`.
    pub change: ChangeKind,
}

impl Record for RevisionRecord {
    const KIND: &'static str = "revision";
    const VERSION: u32 = 1;
}

/// "Seen unchanged at T": a fetch whose bytes equal the latest revision's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservationRecord {
    /// The article seen.
    pub article: ArticleKey,
    /// The revision whose bytes were seen again.
    pub revision: RevisionId,
    /// The bytes seen.
    pub blob: Digest,
    /// When they were fetched.
    pub fetched_at: Millis,
    /// Where they came from.
    pub source: String,
}

impl Record for ObservationRecord {
    const KIND: &'static str = "observation";
    const VERSION: u32 = 1;
}

/// An article's summary, rewritten on every revision or observation of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleRecord {
    /// The article's key.
    pub key: ArticleKey,
    /// The canonical URL of its latest revision.
    pub url: String,
    /// The title of its latest revision.
    pub title: Option<String>,
    /// The earliest `fetched_at` of any revision or observation.
    pub first_seen: Millis,
    /// The latest `fetched_at` of any revision or observation.
    pub last_seen: Millis,
    /// The newest revision (the head of the chain).
    pub latest: RevisionId,
    /// How many revisions it has (the latest's `seq`).
    pub revisions: u32,
    /// How many observations it has.
    pub observations: u32,
}

impl Record for ArticleRecord {
    const KIND: &'static str = "article";
    const VERSION: u32 = 1;
}

/// Whole-store totals, updated in the same atomic write as each change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Articles stored.
    pub articles: u64,
    /// Revisions stored, which is also the last global log sequence number.
    pub revisions: u64,
    /// Observations stored.
    pub observations: u64,
    /// Sum of the sizes of all distinct blobs.
    pub raw_bytes: u64,
}

impl Record for Counters {
    const KIND: &'static str = "counters";
    const VERSION: u32 = 1;
}
