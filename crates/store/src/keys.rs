//! The index's keys (store format 2): one ordered keyspace, each kind of
//! entry under a one-byte ASCII prefix. `docs/FORMAT.md` ("The index")
//! documents the same table. Nothing outside this crate sees a key.

use newsarc_model::{ArticleKey, Digest, Millis, RevisionId};

/// `counters` → whole-store totals.
pub(crate) const COUNTERS: &[u8] = b"counters";
/// `indexed` → how far into the packs the index goes.
pub(crate) const INDEXED: &[u8] = b"indexed";
/// `A` + article key → the article's summary.
pub(crate) const ARTICLE: u8 = b'A';
/// `H` + article key + NUL + fetched_at (8) + seq (u32 BE) → a history
/// entry: the article's revisions in fetch-time order.
pub(crate) const HISTORY: u8 = b'H';
/// `R` + revision id → where its history entry is.
pub(crate) const REVISION: u8 = b'R';
/// `O` + article key + NUL + fetched_at (8) + number (u64 BE) → an
/// observation.
pub(crate) const OBSERVATION: u8 = b'O';
/// `G` + article key + NUL + number (u32 BE) → an article event.
pub(crate) const ARTICLE_EVENT: u8 = b'G';
/// `V` + event id → which article event it is.
pub(crate) const EVENT: u8 = b'V';
/// `L` + log seq (u64 BE) → the global log's entry.
pub(crate) const LOG: u8 = b'L';
/// `B` + content digest → where a document's (or dictionary's) frame is.
pub(crate) const DOCUMENT: u8 = b'B';
/// `U` + URL → the fetcher's state for that URL.
pub(crate) const URL: u8 = b'U';
/// `F` + URL + NUL + attempt number (u64 BE) → a failed attempt.
pub(crate) const ATTEMPT: u8 = b'F';
/// `Y` + outlet → the outlet's current dictionary.
pub(crate) const DICTIONARY: u8 = b'Y';

fn tagged(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    let mut key = vec![tag];
    for part in parts {
        key.extend_from_slice(part);
    }
    key
}

/// Key of an article's summary.
pub(crate) fn article(key: &ArticleKey) -> Vec<u8> {
    tagged(ARTICLE, &[key.as_str().as_bytes()])
}

/// Prefix of an article's history.
pub(crate) fn history_prefix(key: &ArticleKey) -> Vec<u8> {
    tagged(HISTORY, &[key.as_str().as_bytes(), &[0]])
}

/// A key after every one of an article's history entries, under its prefix.
pub(crate) fn history_end(key: &ArticleKey) -> Vec<u8> {
    let mut entry = history_prefix(key);
    entry.extend_from_slice(&[0xff; 12]);
    entry
}

/// Prefix of an article's history entries fetched at `at`.
pub(crate) fn history_at(key: &ArticleKey, at: Millis) -> Vec<u8> {
    let mut entry = history_prefix(key);
    entry.extend_from_slice(&at.to_sortable_bytes());
    entry
}

/// Key of an article's revision `seq`, fetched at `at`.
pub(crate) fn history(key: &ArticleKey, at: Millis, seq: u32) -> Vec<u8> {
    let mut entry = history_at(key, at);
    entry.extend_from_slice(&seq.to_be_bytes());
    entry
}

/// The fetch time and seq of a history key.
pub(crate) fn parse_history(key: &[u8]) -> Option<(Millis, u32)> {
    let tail = key.get(key.len().checked_sub(12)?..)?;
    let at = Millis::from_sortable_bytes(tail[..8].try_into().ok()?);
    let seq = u32::from_be_bytes(tail[8..].try_into().ok()?);
    Some((at, seq))
}

/// Key of a revision's locator.
pub(crate) fn revision(id: &RevisionId) -> Vec<u8> {
    tagged(REVISION, &[id.0.as_bytes()])
}

/// Prefix of an article's observations.
pub(crate) fn observation_prefix(key: &ArticleKey) -> Vec<u8> {
    tagged(OBSERVATION, &[key.as_str().as_bytes(), &[0]])
}

/// Prefix of an article's observations made at `at`.
pub(crate) fn observation_at(key: &ArticleKey, at: Millis) -> Vec<u8> {
    let mut entry = observation_prefix(key);
    entry.extend_from_slice(&at.to_sortable_bytes());
    entry
}

/// Key of observation `number` (store-wide), made at `at`.
pub(crate) fn observation(key: &ArticleKey, at: Millis, number: u64) -> Vec<u8> {
    let mut entry = observation_at(key, at);
    entry.extend_from_slice(&number.to_be_bytes());
    entry
}

/// Prefix of an article's events.
pub(crate) fn article_event_prefix(key: &ArticleKey) -> Vec<u8> {
    tagged(ARTICLE_EVENT, &[key.as_str().as_bytes(), &[0]])
}

/// Key of an article's `number`th event.
pub(crate) fn article_event(key: &ArticleKey, number: u32) -> Vec<u8> {
    let mut entry = article_event_prefix(key);
    entry.extend_from_slice(&number.to_be_bytes());
    entry
}

/// Key of an event's locator.
pub(crate) fn event(id: &Digest) -> Vec<u8> {
    tagged(EVENT, &[id.as_bytes()])
}

/// Key of global log entry `seq`.
pub(crate) fn log(seq: u64) -> Vec<u8> {
    tagged(LOG, &[&seq.to_be_bytes()])
}

/// The seq of a log key.
pub(crate) fn parse_log(key: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(key.get(1..)?.try_into().ok()?))
}

/// Key of a document's (or dictionary's) locator.
pub(crate) fn document(digest: &Digest) -> Vec<u8> {
    tagged(DOCUMENT, &[digest.as_bytes()])
}

/// Key of a URL's fetch state.
pub(crate) fn url(url: &str) -> Vec<u8> {
    tagged(URL, &[url.as_bytes()])
}

/// Prefix of a URL's failed attempts.
pub(crate) fn attempt_prefix(url: &str) -> Vec<u8> {
    tagged(ATTEMPT, &[url.as_bytes(), &[0]])
}

/// Key of a failed attempt.
pub(crate) fn attempt(url: &str, number: u64) -> Vec<u8> {
    let mut entry = attempt_prefix(url);
    entry.extend_from_slice(&number.to_be_bytes());
    entry
}

/// Key of an outlet's current dictionary.
pub(crate) fn dictionary(outlet: &str) -> Vec<u8> {
    tagged(DICTIONARY, &[outlet.as_bytes()])
}
