//! Derived data in one place: which index entries each record implies. The
//! write path adds them, `verify` checks them and `repair` rebuilds them
//! from these functions, so the three never disagree.

use newsarc_model::record::{EventRecord, ObservationRecord, RevisionRecord};
use newsarc_model::{Digest, RevisionId};

use crate::keys;
use crate::store::LogEntry;

/// The derived indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Index {
    History,
    Timeline,
    Capture,
    Digest,
    Events,
    Log,
    Time,
}

impl Index {
    /// The index's name in reports.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::History => "history",
            Self::Timeline => "timeline",
            Self::Capture => "capture",
            Self::Digest => "digest",
            Self::Events => "events",
            Self::Log => "log",
            Self::Time => "time",
        }
    }
}

/// One index entry: which index, its key and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexEntry {
    pub index: Index,
    pub key: Vec<u8>,
    pub value: Vec<u8>,
}

fn entry(index: Index, key: Vec<u8>, value: Vec<u8>) -> IndexEntry {
    IndexEntry { index, key, value }
}

/// What a revision implies besides its log entry: its place in the
/// article's history (by seq) and timeline (by fetch time), its capture,
/// and the digest index.
pub(crate) fn of_revision(id: &RevisionId, record: &RevisionRecord) -> [IndexEntry; 4] {
    let article = &record.article;
    let id_bytes = id.0.as_bytes().to_vec();
    [
        entry(
            Index::History,
            keys::history(article, record.seq),
            id_bytes.clone(),
        ),
        entry(
            Index::Timeline,
            keys::timeline(article, record.fetched_at, record.seq),
            id_bytes,
        ),
        entry(
            Index::Capture,
            keys::capture(article, record.fetched_at, &record.blob),
            keys::captured_revision(id),
        ),
        entry(Index::Digest, keys::digest(&record.blob, id), Vec::new()),
    ]
}

/// What an observation implies: its capture.
pub(crate) fn of_observation(number: u64, record: &ObservationRecord) -> [IndexEntry; 1] {
    [entry(
        Index::Capture,
        keys::capture(&record.article, record.fetched_at, &record.blob),
        keys::captured_observation(number),
    )]
}

/// What an event implies besides its log entry: its place among the
/// article's events.
pub(crate) fn of_event(id: &Digest, record: &EventRecord) -> [IndexEntry; 1] {
    [entry(
        Index::Events,
        keys::article_event(&record.article, record.number),
        id.as_bytes().to_vec(),
    )]
}

/// What the log entry number `seq` implies: the entry itself and, for a
/// revision fetched at `fetched_at`, its place in the changes feed by time.
pub(crate) fn of_log_entry(
    seq: u64,
    logged: LogEntry,
    fetched_at: Option<newsarc_model::Millis>,
) -> Vec<IndexEntry> {
    match logged {
        LogEntry::Revision(id) => {
            let mut entries = vec![entry(Index::Log, keys::log(seq), id.0.as_bytes().to_vec())];
            if let Some(at) = fetched_at {
                entries.push(entry(
                    Index::Time,
                    keys::time(at, &id),
                    seq.to_be_bytes().to_vec(),
                ));
            }
            entries
        }
        LogEntry::Event(id) => vec![entry(
            Index::Log,
            keys::log(seq),
            keys::log_event_value(&id),
        )],
    }
}
