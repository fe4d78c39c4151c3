//! The key layout: one ordered keyspace, each kind of entry under a one-byte
//! ASCII prefix. `docs/FORMAT.md` documents the same table.

use newsarc_model::{ArticleKey, Digest, Millis, RevisionId};

/// `info` → the store header ([`newsarc_model::record::StoreInfo`]).
pub const INFO: &[u8] = b"info";
/// `counters` → whole-store totals.
pub const COUNTERS: &[u8] = b"counters";
/// `B` + blob digest → blob record.
pub const BLOB: u8 = b'B';
/// `R` + revision id → revision record (the id hashes these bytes).
pub const REVISION: u8 = b'R';
/// `A` + article key → article record.
pub const ARTICLE: u8 = b'A';
/// `H` + article key + NUL + seq (u32 BE) → revision id.
pub const HISTORY: u8 = b'H';
/// `O` + article key + NUL + observation number (u64 BE) → observation.
pub const OBSERVATION: u8 = b'O';
/// `L` + log sequence number (u64 BE) → revision id.
pub const LOG: u8 = b'L';
/// `T` + fetched_at (sortable 8 bytes) + revision id → log sequence number.
pub const TIME: u8 = b'T';
/// `D` + blob digest + revision id → empty.
pub const DIGEST: u8 = b'D';
/// `V` + event id → event record (the id hashes these bytes).
pub const EVENT: u8 = b'V';
/// `G` + article key + NUL + event number (u32 BE) → event id.
pub const ARTICLE_EVENT: u8 = b'G';
/// `U` + URL → the fetcher's state for that URL.
pub const URL: u8 = b'U';
/// `F` + URL + NUL + attempt number (u64 BE) → failed attempt.
pub const ATTEMPT: u8 = b'F';
/// `W` + article key + NUL + fetched_at (sortable 8 bytes) + seq (u32 BE)
/// → revision id: an article's revisions in fetch-time order.
pub const TIMELINE: u8 = b'W';
/// `C` + article key + NUL + fetched_at (sortable 8 bytes) + blob digest →
/// what recorded that capture: `R` + revision id, or `O` + observation
/// number (u64 BE). A fetch already recorded is found here.
pub const CAPTURE: u8 = b'C';
/// A capture entry's tag for a revision.
pub const CAPTURED_REVISION: u8 = b'R';
/// A capture entry's tag for an observation.
pub const CAPTURED_OBSERVATION: u8 = b'O';

/// A global log entry's value for an event: `V` + the event id, 33 bytes,
/// where a revision's entry is its 32-byte id.
pub fn log_event_value(id: &Digest) -> Vec<u8> {
    tagged(EVENT, &[id.as_bytes()])
}

fn tagged(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut key = vec![tag];
    for part in parts {
        key.extend_from_slice(part);
    }
    key
}

/// Key of a blob.
pub fn blob(digest: &Digest) -> Vec<u8> {
    tagged(BLOB, &[digest.as_bytes()])
}

/// Key of a revision record.
pub fn revision(id: &RevisionId) -> Vec<u8> {
    tagged(REVISION, &[id.0.as_bytes()])
}

/// Key of an article record.
pub fn article(key: &ArticleKey) -> Vec<u8> {
    tagged(ARTICLE, &[key.as_str().as_bytes()])
}

/// Prefix of an article's history entries.
pub fn history_prefix(key: &ArticleKey) -> Vec<u8> {
    tagged(HISTORY, &[key.as_str().as_bytes(), &[0]])
}

/// Key of an article's `seq`th revision.
pub fn history(key: &ArticleKey, seq: u32) -> Vec<u8> {
    let mut entry = history_prefix(key);
    entry.extend_from_slice(&seq.to_be_bytes());
    entry
}

/// Prefix of an article's observations.
pub fn observation_prefix(key: &ArticleKey) -> Vec<u8> {
    tagged(OBSERVATION, &[key.as_str().as_bytes(), &[0]])
}

/// Key of an observation.
pub fn observation(key: &ArticleKey, number: u64) -> Vec<u8> {
    let mut entry = observation_prefix(key);
    entry.extend_from_slice(&number.to_be_bytes());
    entry
}

/// Key of an event record.
pub fn event(id: &Digest) -> Vec<u8> {
    tagged(EVENT, &[id.as_bytes()])
}

/// Prefix of an article's event index.
pub fn article_event_prefix(key: &ArticleKey) -> Vec<u8> {
    tagged(ARTICLE_EVENT, &[key.as_str().as_bytes(), &[0]])
}

/// Key of an article's `number`th event.
pub fn article_event(key: &ArticleKey, number: u32) -> Vec<u8> {
    let mut entry = article_event_prefix(key);
    entry.extend_from_slice(&number.to_be_bytes());
    entry
}

/// Key of a URL's fetch state.
pub fn url(url: &str) -> Vec<u8> {
    tagged(URL, &[url.as_bytes()])
}

/// Prefix of a URL's failed attempts.
pub fn attempt_prefix(url: &str) -> Vec<u8> {
    tagged(ATTEMPT, &[url.as_bytes(), &[0]])
}

/// Key of a failed attempt.
pub fn attempt(url: &str, number: u64) -> Vec<u8> {
    let mut entry = attempt_prefix(url);
    entry.extend_from_slice(&number.to_be_bytes());
    entry
}

/// Prefix of an article's timeline.
pub fn timeline_prefix(key: &ArticleKey) -> Vec<u8> {
    tagged(TIMELINE, &[key.as_str().as_bytes(), &[0]])
}

/// Key of an article's revision `seq` fetched at `fetched_at` in its
/// timeline.
pub fn timeline(key: &ArticleKey, fetched_at: Millis, seq: u32) -> Vec<u8> {
    let mut entry = timeline_prefix(key);
    entry.extend_from_slice(&fetched_at.to_sortable_bytes());
    entry.extend_from_slice(&seq.to_be_bytes());
    entry
}

/// Key of a capture: `blob` seen in article `key` at `fetched_at`.
pub fn capture(key: &ArticleKey, fetched_at: Millis, blob: &Digest) -> Vec<u8> {
    tagged(
        CAPTURE,
        &[
            key.as_str().as_bytes(),
            &[0],
            &fetched_at.to_sortable_bytes(),
            blob.as_bytes(),
        ],
    )
}

/// A capture entry's value for a revision.
pub fn captured_revision(id: &RevisionId) -> Vec<u8> {
    tagged(CAPTURED_REVISION, &[id.0.as_bytes()])
}

/// A capture entry's value for an observation.
pub fn captured_observation(number: u64) -> Vec<u8> {
    tagged(CAPTURED_OBSERVATION, &[&number.to_be_bytes()])
}

/// Key of a global log entry.
pub fn log(seq: u64) -> Vec<u8> {
    tagged(LOG, &[&seq.to_be_bytes()])
}

/// Key of a time index entry.
pub fn time(fetched_at: Millis, id: &RevisionId) -> Vec<u8> {
    tagged(TIME, &[&fetched_at.to_sortable_bytes(), id.0.as_bytes()])
}

/// Key of a digest index entry.
pub fn digest(blob: &Digest, id: &RevisionId) -> Vec<u8> {
    tagged(DIGEST, &[blob.as_bytes(), id.0.as_bytes()])
}

/// Splits a history key into (article key, seq).
pub fn parse_history(key: &[u8]) -> Option<(&str, u32)> {
    let rest = key.strip_prefix(&[HISTORY])?;
    let (article, seq) = rest.split_at_checked(rest.len().checked_sub(5)?)?;
    let seq = seq.strip_prefix(&[0])?;
    Some((
        std::str::from_utf8(article).ok()?,
        u32::from_be_bytes(seq.try_into().ok()?),
    ))
}

/// Splits a key made of a tag and two 32-byte ids (digest index) or a
/// sortable time and an id (time index, first part 8 bytes).
pub fn split_tail_id(key: &[u8], head_len: usize) -> Option<(&[u8], RevisionId)> {
    let rest = key.get(1..)?;
    if rest.len() != head_len + 32 {
        return None;
    }
    let (head, id) = rest.split_at(head_len);
    Some((head, RevisionId(Digest::from_slice(id).ok()?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_keys_split_back() {
        let key = ArticleKey::new("dw.com/a-1").unwrap();
        assert_eq!(parse_history(&history(&key, 7)), Some(("dw.com/a-1", 7)));
        assert_eq!(parse_history(b"Hx"), None);
    }
}
