//! The index's values (store format 2): packed CBOR maps, each derived
//! from the records in the packs. Which entries a record implies is said in
//! one place, [`crate::apply`]; this module says what they hold.

use newsarc_model::{ChangeKind, Digest, Millis, RevisionId, codec};
use newsarc_pack::Location;
use serde::{Deserialize, Serialize};

use crate::{StoreError, keys};

/// The index layout this build writes. An index of another version is
/// rebuilt from the packs when the store is opened, never misread.
pub(crate) const INDEX_VERSION: u32 = 4;

/// Where a record is: the batch frame that holds it and its place there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RecordRef {
    /// The pack.
    pub pack: u32,
    /// The batch frame's offset.
    pub offset: u64,
    /// The record's index in the batch.
    pub index: u32,
}

impl RecordRef {
    /// The batch frame's location.
    pub fn frame(&self) -> Location {
        Location {
            pack: self.pack,
            offset: self.offset,
        }
    }
}

/// A change kind as one byte.
pub(crate) fn change_byte(change: ChangeKind) -> u8 {
    match change {
        ChangeKind::New => 0,
        ChangeKind::Body => 1,
        ChangeKind::Title => 2,
        ChangeKind::Metadata => 3,
        ChangeKind::Whitespace => 4,
        ChangeKind::Unchanged => 5,
    }
}

/// The change kind one byte names.
pub(crate) fn change_of(byte: u8) -> Option<ChangeKind> {
    Some(match byte {
        0 => ChangeKind::New,
        1 => ChangeKind::Body,
        2 => ChangeKind::Title,
        3 => ChangeKind::Metadata,
        4 => ChangeKind::Whitespace,
        5 => ChangeKind::Unchanged,
        _ => return None,
    })
}

/// `A`: an article's summary. Its title and its chain's head are its
/// history entries' ([`crate::apply::article_record`]): kept here too, they
/// were a sixth of the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ArticleValue {
    pub revisions: u32,
    pub observations: u32,
    pub events: u32,
    pub first_seen: Millis,
    pub last_seen: Millis,
    pub gone_since: Option<Millis>,
    /// The canonical URL of its last revision in time.
    pub url: String,
}

/// `H`: what a history line needs, so that a history is one range scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct HistoryValue {
    pub id: RevisionId,
    pub blob: Digest,
    pub size: u64,
    /// Against the revision before it in time ([`change_byte`]).
    pub change: u8,
    pub title: Option<String>,
    /// The encoding's name when not UTF-8.
    pub charset: Option<String>,
    pub record: RecordRef,
}

/// `R`: where a revision's history entry is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RevisionValue {
    pub article: String,
    pub fetched_at: Millis,
    pub seq: u32,
}

/// `O`: an observation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ObservationValue {
    pub revision: RevisionId,
    pub blob: Digest,
    pub not_modified: bool,
    pub record: RecordRef,
}

/// `G`: an article event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EventValue {
    pub id: Digest,
    pub record: RecordRef,
}

/// `V`: which article event an event id is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EventLocator {
    pub article: String,
    pub number: u32,
}

/// `L`: a global log entry: a revision or an event, by where its record is
/// (its id is the record's BLAKE3). Entries next to each other point into
/// one batch, so they compress to a few bytes each where an id takes 32.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LogValue {
    pub event: bool,
    pub record: RecordRef,
}

/// `B`: where a document's (or dictionary's) frame is: a frame of its own,
/// or a document block and the document's place in its directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DocumentValue {
    pub pack: u32,
    pub offset: u64,
    /// The content's length.
    pub size: u64,
    /// Deltas down to a frame decoded on its own.
    pub depth: u8,
    /// Its index in the directory of the document block at `pack`/`offset`;
    /// `None` when the frame there is the document's own.
    pub member: Option<u32>,
}

impl DocumentValue {
    pub(crate) fn location(&self) -> Location {
        Location {
            pack: self.pack,
            offset: self.offset,
        }
    }
}

/// `F`: a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AttemptValue {
    pub record: RecordRef,
}

/// `Y`: an outlet's current dictionary, how many samples it was trained
/// on and how many first revisions the outlet has had (when to train).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub(crate) struct DictionaryValue {
    pub digest: Option<Digest>,
    pub samples: u32,
    pub first_revisions: u64,
}

/// `indexed`: the index's version and how far into the packs it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct IndexState {
    pub version: u32,
    /// Everything before this position is in the index.
    pub pack: u32,
    pub offset: u64,
}

impl IndexState {
    pub(crate) fn position(&self) -> Location {
        Location {
            pack: self.pack,
            offset: self.offset,
        }
    }
}

/// Encodes an index value.
pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    codec::encode_value(value).map_err(|err| StoreError::CorruptRecord {
        kind: "index value",
        id: "(new)".into(),
        reason: err.to_string(),
    })
}

/// Decodes an index value; damage names the entry.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    bytes: &[u8],
    what: &'static str,
    key: &[u8],
) -> Result<T, StoreError> {
    codec::decode_value(bytes, what).map_err(|err| StoreError::CorruptIndex {
        index: what,
        entry: describe(key),
        reason: err.to_string(),
    })
}

/// An index key in words, for messages.
pub(crate) fn describe(key: &[u8]) -> String {
    let printable = |bytes: &[u8]| -> String {
        bytes
            .iter()
            .map(|&b| {
                if b.is_ascii_graphic() {
                    (b as char).to_string()
                } else {
                    format!("\\x{b:02x}")
                }
            })
            .collect()
    };
    let named_by_digest = matches!(
        key.first(),
        Some(&keys::DOCUMENT | &keys::REVISION | &keys::EVENT)
    );
    match (named_by_digest, key.get(1..).map(Digest::from_slice)) {
        (true, Some(Ok(digest))) => format!("{} {digest}", index_name(key)),
        _ => printable(key),
    }
}

/// The name of the index a key belongs to, for reports.
pub(crate) fn index_name(key: &[u8]) -> &'static str {
    if key == keys::COUNTERS {
        return "counters";
    }
    if key == keys::INDEXED {
        return "indexed";
    }
    match key.first() {
        Some(&keys::ARTICLE) => "article",
        Some(&keys::HISTORY) => "history",
        Some(&keys::REVISION) => "revision",
        Some(&keys::OBSERVATION) => "observation",
        Some(&keys::ARTICLE_EVENT) => "event",
        Some(&keys::EVENT) => "event id",
        Some(&keys::LOG) => "log",
        Some(&keys::DOCUMENT) => "document",
        Some(&keys::URL) => "url",
        Some(&keys::ATTEMPT) => "attempt",
        Some(&keys::DICTIONARY) => "dictionary",
        _ => "unknown",
    }
}
