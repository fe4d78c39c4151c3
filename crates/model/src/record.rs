//! The persisted records. Each is encoded by [`crate::codec`] with its kind
//! and format version; `docs/FORMAT.md` describes every field.

use serde::{Deserialize, Serialize};

use crate::{ArticleKey, ArticleMeta, ChangeKind, Charset, Digest, Millis, RevisionId};

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
    /// Which derived indexes the store holds: 1 (absent) for the first
    /// set, 2 once the timeline and capture indexes were added.
    #[serde(default = "first_indexes", skip_serializing_if = "is_first_indexes")]
    pub indexes: u32,
}

fn first_indexes() -> u32 {
    1
}

fn is_first_indexes(indexes: &u32) -> bool {
    *indexes == 1
}

impl Record for StoreInfo {
    const KIND: &'static str = "store";
    const VERSION: u32 = 1;
}

/// What the store had made durable at its last commit, kept in a file
/// beside its packs and index (`newsarc-head`), so that packs or an index
/// that come back shorter are noticed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadWitness {
    /// The global log's length at that commit.
    pub log_len: u64,
    /// The id of log entry `log_len` (`None` for an empty log).
    pub last_entry: Option<Digest>,
    /// When the witness was written.
    pub written_at: Millis,
    /// Every pack's number and length at that commit.
    pub packs: Vec<(u32, u64)>,
}

impl Record for HeadWitness {
    const KIND: &'static str = "head";
    const VERSION: u32 = 2;
}

/// A zstd dictionary trained for one outlet's first revisions, in the
/// record stream so that the index knows which is current for whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DictionaryRecord {
    /// The outlet: the host part of its articles' keys.
    pub outlet: String,
    /// The dictionary frame's content digest.
    pub digest: Digest,
    /// How many documents it was trained on.
    pub samples: u32,
    /// When it was trained.
    pub trained_at: Millis,
}

impl Record for DictionaryRecord {
    const KIND: &'static str = "dictionary";
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
    /// What the server said, for a revision fetched over HTTP. Absent
    /// (not encoded) for files, so records written before it existed keep
    /// their bytes and ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpFacts>,
    /// The encoding the document's bytes were read in; absent for UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charset: Option<Charset>,
}

impl Record for RevisionRecord {
    const KIND: &'static str = "revision";
    const VERSION: u32 = 1;
}

impl RevisionRecord {
    /// How this revision differs from `previous`, the revision before it in
    /// time (`None`: it is the first): the same bytes are `unchanged`.
    pub fn change_from(&self, previous: Option<&RevisionRecord>) -> ChangeKind {
        match previous {
            Some(previous) if previous.blob == self.blob => ChangeKind::Unchanged,
            Some(previous) => ChangeKind::between(
                Some((&previous.meta, previous.text_digest)),
                (&self.meta, self.text_digest),
            ),
            None => ChangeKind::New,
        }
    }
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
    /// How the sameness was learnt. Absent means `unchanged`.
    #[serde(default, skip_serializing_if = "ObservationKind::is_unchanged")]
    pub kind: ObservationKind,
    /// What the server said, for a fetch over HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<HttpFacts>,
}

/// How a fetch showed that an article had not changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObservationKind {
    /// The bytes were downloaded and equal the latest revision's.
    #[default]
    Unchanged,
    /// The server answered `304 Not Modified` to a conditional request:
    /// nothing was downloaded, and `blob` is the latest revision's.
    NotModified,
}

impl ObservationKind {
    /// The snake_case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unchanged => "unchanged",
            Self::NotModified => "not_modified",
        }
    }

    fn is_unchanged(&self) -> bool {
        *self == Self::Unchanged
    }
}

/// The facts of one HTTP response that an archivist may need as evidence.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpFacts {
    /// The URL asked for.
    pub url: String,
    /// The URL answered, after redirects.
    pub final_url: String,
    /// The HTTP status code.
    pub status: u16,
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The `ETag` header.
    pub etag: Option<String>,
    /// The `Last-Modified` header.
    pub last_modified: Option<String>,
}

/// Something that happened to an article other than a new text: it
/// disappeared from its URL, or came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The URL answered 404 or 410.
    Gone,
    /// The URL answered with a page again after being gone.
    Reappeared,
}

impl EventKind {
    /// The snake_case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gone => "gone",
            Self::Reappeared => "reappeared",
        }
    }
}

/// One article event. Its id is the BLAKE3 of its encoded bytes, like a
/// revision's, so the log can point at it and verify can check it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRecord {
    /// The article it happened to.
    pub article: ArticleKey,
    /// 1-based position among the article's events.
    pub number: u32,
    /// What happened.
    pub kind: EventKind,
    /// When the fetch that saw it was made.
    pub at: Millis,
    /// The article's latest revision at that moment.
    pub latest: RevisionId,
    /// What the server said.
    pub http: HttpFacts,
}

impl Record for EventRecord {
    const KIND: &'static str = "event";
    const VERSION: u32 = 1;
}

/// The fetcher's state for one URL: what to send in the next conditional
/// request and when to fetch it next. This is the schedule `watch` resumes
/// from after a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlRecord {
    /// The URL as fetched.
    pub url: String,
    /// The article its pages belong to, once one was stored.
    pub article: Option<ArticleKey>,
    /// The feed that listed it, if any.
    pub feed: Option<String>,
    /// When it was first scheduled.
    pub added_at: Millis,
    /// The `ETag` of the last stored page.
    pub etag: Option<String>,
    /// The `Last-Modified` of the last stored page.
    pub last_modified: Option<String>,
    /// When the last fetch attempt was made.
    pub last_attempt: Option<Millis>,
    /// When the article's text last changed (or first appeared).
    pub last_change: Option<Millis>,
    /// Failed attempts since the last success.
    pub failures: u32,
    /// Whether the URL answered 404/410 last time.
    pub gone: bool,
    /// When to fetch it next; `None`: never again.
    pub next_check: Option<Millis>,
}

impl UrlRecord {
    /// A URL first seen at `now` (in `feed`, if any), due at once.
    pub fn new(url: &str, feed: Option<&str>, now: Millis) -> Self {
        Self {
            url: url.to_owned(),
            article: None,
            feed: feed.map(str::to_owned),
            added_at: now,
            etag: None,
            last_modified: None,
            last_attempt: None,
            last_change: None,
            failures: 0,
            gone: false,
            next_check: Some(now),
        }
    }
}

impl Record for UrlRecord {
    const KIND: &'static str = "url";
    const VERSION: u32 = 1;
}

/// A fetch that produced no page: a timeout, a refused connection, a TLS
/// error, a 5xx, a body over the size limit. Kept as evidence of the
/// attempt; never a revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptRecord {
    /// The URL asked for.
    pub url: String,
    /// When.
    pub at: Millis,
    /// The status code, when the server answered.
    pub status: Option<u16>,
    /// What went wrong.
    pub error: String,
}

impl Record for AttemptRecord {
    const KIND: &'static str = "attempt";
    const VERSION: u32 = 1;
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
    /// How many events (gone, reappeared) it has.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub events: u32,
    /// Since when its URL has answered 404/410; `None` while it is there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gone_since: Option<Millis>,
}

fn is_zero(count: &u32) -> bool {
    *count == 0
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
    /// Revisions stored.
    pub revisions: u64,
    /// Observations stored.
    pub observations: u64,
    /// Sum of the sizes of all distinct blobs.
    pub raw_bytes: u64,
    /// Article events stored. The global log holds `revisions + events`
    /// entries.
    #[serde(default)]
    pub events: u64,
    /// Failed fetch attempts stored.
    #[serde(default)]
    pub failed_attempts: u64,
}

impl Counters {
    /// The global log's length, which is also its last sequence number.
    pub fn log_len(&self) -> u64 {
        self.revisions + self.events
    }

    /// Records an export carries: revisions, events, observations and
    /// failed attempts (URL states come on top).
    pub fn records(&self) -> u64 {
        self.log_len() + self.observations + self.failed_attempts
    }
}

impl Record for Counters {
    const KIND: &'static str = "counters";
    const VERSION: u32 = 1;
}

/// The first record of an export file (`newsarc export`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportHeader {
    /// The store layout version of the exported store.
    pub store_format: u32,
    /// When the export was written.
    pub exported_at: Millis,
}

impl Record for ExportHeader {
    const KIND: &'static str = "export";
    const VERSION: u32 = 1;
}

/// One key and value of the exported store, with their BLAKE3 so that a
/// damaged export is caught at the entry that is damaged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportEntry {
    /// The key.
    #[serde(with = "serde_bytes")]
    pub key: Vec<u8>,
    /// The value.
    #[serde(with = "serde_bytes")]
    pub value: Vec<u8>,
    /// BLAKE3 of the key's length (u32 BE), the key and the value.
    pub digest: Digest,
}

impl ExportEntry {
    /// An entry with its digest.
    pub fn new(key: Vec<u8>, value: Vec<u8>) -> Self {
        let digest = Self::digest_of(&key, &value);
        Self { key, value, digest }
    }

    /// The digest an entry of `key` and `value` must carry.
    pub fn digest_of(key: &[u8], value: &[u8]) -> Digest {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&(key.len() as u32).to_be_bytes());
        hasher.update(key);
        hasher.update(value);
        Digest::from_bytes(*hasher.finalize().as_bytes())
    }
}

impl Record for ExportEntry {
    const KIND: &'static str = "export_entry";
    const VERSION: u32 = 1;
}

/// One record of an exported store of format 2, byte for byte as the
/// store holds it (so every id stays), with the document a revision names;
/// `digest` is the BLAKE3 of the record's length (u32 BE), the record and
/// the document, so a damaged export is caught at the entry damaged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportRecord {
    /// The record's bytes (a CBOR envelope of its own).
    #[serde(with = "serde_bytes")]
    pub record: Vec<u8>,
    /// The document's exact bytes, for a revision.
    pub document: Option<serde_bytes::ByteBuf>,
    /// BLAKE3 of the record's length (u32 BE), the record and the document.
    pub digest: Digest,
}

impl ExportRecord {
    /// A record with its digest.
    pub fn new(record: Vec<u8>, document: Option<Vec<u8>>) -> Self {
        let digest = Self::digest_of(&record, document.as_deref());
        Self {
            record,
            document: document.map(serde_bytes::ByteBuf::from),
            digest,
        }
    }

    /// The digest an entry of `record` and `document` must carry.
    pub fn digest_of(record: &[u8], document: Option<&[u8]>) -> Digest {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&(record.len() as u32).to_be_bytes());
        hasher.update(record);
        hasher.update(document.unwrap_or_default());
        Digest::from_bytes(*hasher.finalize().as_bytes())
    }
}

impl Record for ExportRecord {
    const KIND: &'static str = "export_record";
    const VERSION: u32 = 1;
}

/// The last record of an export file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportTrailer {
    /// How many entries came before it.
    pub entries: u64,
}

impl Record for ExportTrailer {
    const KIND: &'static str = "export_end";
    const VERSION: u32 = 1;
}
