//! Reading: histories from the index alone (one range scan), records and
//! documents from the packs, every one checked against its digest before
//! it is returned.

use std::sync::{Arc, PoisonError};

use newsarc_model::record::{
    ArticleRecord, AttemptRecord, Counters, EventRecord, HeadWitness, ObservationRecord, Record,
    RevisionRecord, UrlRecord,
};
use newsarc_model::{ArticleKey, ChangeKind, Digest, Millis, RevisionId, codec};
use newsarc_pack::{Codec, Frame, Kind};
use zstd::dict::DecoderDictionary;

use crate::apply;
use crate::documents::{self, MAX_DELTA_DEPTH};
use crate::engine::KvEngine;
use crate::index::{
    self, ArticleValue, AttemptValue, DocumentValue, EventLocator, EventValue, HistoryValue,
    LogValue, ObservationValue, RecordRef, RevisionValue,
};
use crate::overlay::Overlay;
use crate::store::Store;
use crate::{StoreError, keys};

/// One entry of the global log: a revision or an article event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogEntry {
    /// A new revision.
    Revision(RevisionId),
    /// An article event (gone, reappeared), by its id.
    Event(Digest),
}

/// What a history line shows of a revision, read from the index alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// The revision's id.
    pub id: RevisionId,
    /// Its number in the article's chain.
    pub seq: u32,
    /// When it was fetched.
    pub fetched_at: Millis,
    /// Its document's digest.
    pub blob: Digest,
    /// Its document's size.
    pub size: u64,
    /// How it differs from the revision before it in time.
    pub change: ChangeKind,
    /// Its title.
    pub title: Option<String>,
    /// The encoding its bytes were read in, when not UTF-8.
    pub charset: Option<String>,
}

impl HistoryEntry {
    fn from_index(key: &[u8], value: HistoryValue) -> Result<Self, StoreError> {
        let corrupt = |reason: &str| StoreError::CorruptIndex {
            index: "history",
            entry: index::describe(key),
            reason: reason.to_owned(),
        };
        let (fetched_at, seq) =
            keys::parse_history(key).ok_or_else(|| corrupt("a malformed key"))?;
        Ok(Self {
            id: value.id,
            seq,
            fetched_at,
            blob: value.blob,
            size: value.size,
            change: index::change_of(value.change)
                .ok_or_else(|| corrupt("an unknown change kind"))?,
            title: value.title,
            charset: value.charset,
        })
    }
}

/// How many decoded documents a read keeps: enough for a delta chain.
pub(crate) const CACHED_DOCUMENTS: usize = MAX_DELTA_DEPTH as usize + 4;

/// Documents decoded lately, so that delta chains decode each frame once.
pub(crate) type DocumentCache = lru::LruCache<Digest, Arc<Vec<u8>>>;

/// An empty cache of `capacity` documents.
pub(crate) fn document_cache(capacity: usize) -> DocumentCache {
    let capacity = std::num::NonZeroUsize::new(capacity).unwrap_or(std::num::NonZeroUsize::MIN);
    lru::LruCache::new(capacity)
}

impl Store {
    fn get<T: serde::de::DeserializeOwned>(
        &self,
        key: &[u8],
        what: &'static str,
    ) -> Result<Option<T>, StoreError> {
        self.index
            .get(key)?
            .map(|bytes| index::decode(&bytes, what, key))
            .transpose()
    }

    /// Whole-store totals.
    pub fn counters(&self) -> Result<Counters, StoreError> {
        match self.index.get(keys::COUNTERS)? {
            Some(bytes) => codec::decode(&bytes).map_err(|err| StoreError::CorruptIndex {
                index: Counters::KIND,
                entry: "counters".into(),
                reason: err.to_string(),
            }),
            None => Ok(Counters::default()),
        }
    }

    /// An article's summary.
    pub fn article(&self, key: &ArticleKey) -> Result<Option<ArticleRecord>, StoreError> {
        self.get::<ArticleValue>(&keys::article(key), "article")?
            .map(|value| apply::article_record(&Overlay::new(&self.index), key.clone(), value))
            .transpose()
    }

    /// Every article summary, in key order.
    pub fn articles(&self) -> impl Iterator<Item = Result<ArticleRecord, StoreError>> + '_ {
        self.articles_after(None)
    }

    /// The article summaries whose keys come after `after` (all when
    /// `None`), in key order: a page resumes where the last one ended.
    pub fn articles_after(
        &self,
        after: Option<&str>,
    ) -> impl Iterator<Item = Result<ArticleRecord, StoreError>> + '_ {
        let mut start = vec![keys::ARTICLE];
        if let Some(after) = after {
            start.extend_from_slice(after.as_bytes());
            start.push(0);
        }
        self.index.scan_from(&[keys::ARTICLE], &start).map(|entry| {
            let (key, value) = entry?;
            let name = String::from_utf8_lossy(&key[1..]).into_owned();
            let article_key =
                ArticleKey::new(name.clone()).map_err(|err| StoreError::CorruptIndex {
                    index: "article",
                    entry: name.clone(),
                    reason: err.to_string(),
                })?;
            let value: ArticleValue = index::decode(&value, "article", &key)?;
            apply::article_record(&Overlay::new(&self.index), article_key, value)
        })
    }

    /// An article's revisions in fetch-time order (revisions fetched at the
    /// same moment in the order they were archived): one range scan.
    pub fn timeline(&self, key: &ArticleKey) -> Result<Vec<HistoryEntry>, StoreError> {
        self.index
            .scan_prefix(&keys::history_prefix(key))
            .map(|entry| {
                let (entry_key, value) = entry?;
                HistoryEntry::from_index(&entry_key, index::decode(&value, "history", &entry_key)?)
            })
            .collect()
    }

    /// The revision of `key` current at `at`: the one fetched last at or
    /// before it (the later archived on a tie).
    pub fn revision_at(
        &self,
        key: &ArticleKey,
        at: Millis,
    ) -> Result<Option<HistoryEntry>, StoreError> {
        self.index
            .last_at_or_before(
                &keys::history_prefix(key),
                &keys::history(key, at, u32::MAX),
            )?
            .map(|(entry_key, value)| {
                HistoryEntry::from_index(&entry_key, index::decode(&value, "history", &entry_key)?)
            })
            .transpose()
    }

    /// The revision before the one fetched at `fetched_at` as number `seq`
    /// in the timeline of `key`.
    pub fn previous_in_time(
        &self,
        key: &ArticleKey,
        fetched_at: Millis,
        seq: u32,
    ) -> Result<Option<HistoryEntry>, StoreError> {
        let Some(seq) = seq.checked_sub(1) else {
            return Ok(None);
        };
        self.index
            .last_at_or_before(
                &keys::history_prefix(key),
                &keys::history(key, fetched_at, seq),
            )?
            .map(|(entry_key, value)| {
                HistoryEntry::from_index(&entry_key, index::decode(&value, "history", &entry_key)?)
            })
            .transpose()
    }

    /// An article's revision number `seq` in its chain.
    pub fn history_entry(
        &self,
        key: &ArticleKey,
        seq: u32,
    ) -> Result<Option<HistoryEntry>, StoreError> {
        Ok(self
            .timeline(key)?
            .into_iter()
            .find(|entry| entry.seq == seq))
    }

    /// A revision's history entry, by its id.
    pub fn revision_entry(
        &self,
        id: &RevisionId,
    ) -> Result<Option<(ArticleKey, HistoryEntry)>, StoreError> {
        let Some(locator) = self.get::<RevisionValue>(&keys::revision(id), "revision")? else {
            return Ok(None);
        };
        let key =
            ArticleKey::new(locator.article.clone()).map_err(|err| StoreError::CorruptIndex {
                index: "revision",
                entry: id.to_string(),
                reason: err.to_string(),
            })?;
        let entry_key = keys::history(&key, locator.fetched_at, locator.seq);
        let value: HistoryValue = self
            .get(&entry_key, "history")?
            .ok_or(StoreError::MissingRevision { id: *id })?;
        Ok(Some((key, HistoryEntry::from_index(&entry_key, value)?)))
    }

    fn history_value(&self, id: &RevisionId) -> Result<HistoryValue, StoreError> {
        let locator: RevisionValue = self
            .get(&keys::revision(id), "revision")?
            .ok_or(StoreError::MissingRevision { id: *id })?;
        let key = ArticleKey::new(locator.article).map_err(|err| StoreError::CorruptIndex {
            index: "revision",
            entry: id.to_string(),
            reason: err.to_string(),
        })?;
        self.get(
            &keys::history(&key, locator.fetched_at, locator.seq),
            "history",
        )?
        .ok_or(StoreError::MissingRevision { id: *id })
    }

    /// A revision record, read from its pack and checked against its id.
    pub fn revision(&self, id: &RevisionId) -> Result<RevisionRecord, StoreError> {
        let value = self.history_value(id)?;
        let bytes = self.batches.record(&self.packs, value.record)?;
        decode_addressed(&id.0, &bytes)
    }

    /// The ids whose hex form starts with `hex_prefix` (lower case).
    pub fn revisions_with_prefix(&self, hex_prefix: &str) -> Result<Vec<RevisionId>, StoreError> {
        let hex_prefix = hex_prefix.to_ascii_lowercase();
        let whole_bytes: Vec<u8> = (0..hex_prefix.len() / 2)
            .filter_map(|i| u8::from_str_radix(hex_prefix.get(2 * i..2 * i + 2)?, 16).ok())
            .collect();
        let mut scan = vec![keys::REVISION];
        scan.extend_from_slice(&whole_bytes);
        let mut found = Vec::new();
        for entry in self.index.scan_prefix(&scan) {
            let (key, _) = entry?;
            if let Ok(digest) = Digest::from_slice(&key[1..])
                && digest.to_hex().starts_with(&hex_prefix)
            {
                found.push(RevisionId(digest));
            }
        }
        Ok(found)
    }

    fn record_at<R: Record>(&self, at: RecordRef, id: String) -> Result<R, StoreError> {
        let bytes = self.batches.record(&self.packs, at)?;
        codec::decode(&bytes).map_err(|err| StoreError::CorruptRecord {
            kind: R::KIND,
            id,
            reason: err.to_string(),
        })
    }

    /// An article's observations, in fetch-time order.
    pub fn observations(&self, key: &ArticleKey) -> Result<Vec<ObservationRecord>, StoreError> {
        self.index
            .scan_prefix(&keys::observation_prefix(key))
            .map(|entry| {
                let (entry_key, value) = entry?;
                let value: ObservationValue = index::decode(&value, "observation", &entry_key)?;
                self.record_at(value.record, format!("{key} observation"))
            })
            .collect()
    }

    /// An article's events (gone, reappeared), oldest first.
    pub fn events(&self, key: &ArticleKey) -> Result<Vec<(Digest, EventRecord)>, StoreError> {
        self.index
            .scan_prefix(&keys::article_event_prefix(key))
            .map(|entry| {
                let (entry_key, value) = entry?;
                let value: EventValue = index::decode(&value, "event", &entry_key)?;
                let bytes = self.batches.record(&self.packs, value.record)?;
                Ok((value.id, decode_addressed(&value.id, &bytes)?))
            })
            .collect()
    }

    /// An event record, checked against its id.
    pub fn event(&self, id: &Digest) -> Result<EventRecord, StoreError> {
        let locator: EventLocator = self
            .get(&keys::event(id), "event")?
            .ok_or(StoreError::MissingEvent { id: *id })?;
        let key = ArticleKey::new(locator.article).map_err(|err| StoreError::CorruptIndex {
            index: "event",
            entry: id.to_string(),
            reason: err.to_string(),
        })?;
        let value: EventValue = self
            .get(&keys::article_event(&key, locator.number), "event")?
            .ok_or(StoreError::MissingEvent { id: *id })?;
        let bytes = self.batches.record(&self.packs, value.record)?;
        decode_addressed(id, &bytes)
    }

    /// Global log entries with a sequence number of at least `from`, in
    /// order, at most `limit` of them.
    pub fn log_from(&self, from: u64, limit: usize) -> Result<Vec<(u64, LogEntry)>, StoreError> {
        self.index
            .scan_from(&[keys::LOG], &keys::log(from))
            .take(limit)
            .map(|entry| {
                let (key, value) = entry?;
                let seq = keys::parse_log(&key).ok_or_else(|| StoreError::CorruptIndex {
                    index: "log",
                    entry: index::describe(&key),
                    reason: "a malformed key".into(),
                })?;
                let value: LogValue = index::decode(&value, "log", &key)?;
                let id = self.logged_id(&value)?;
                Ok((
                    seq,
                    if value.event {
                        LogEntry::Event(id)
                    } else {
                        LogEntry::Revision(RevisionId(id))
                    },
                ))
            })
            .collect()
    }

    /// The fetcher's state for `url`.
    pub fn url_state(&self, url: &str) -> Result<Option<UrlRecord>, StoreError> {
        self.index
            .get(&keys::url(url))?
            .map(|bytes| apply::decode_url(&bytes, url))
            .transpose()
    }

    /// Every URL the fetcher knows, in URL order.
    pub fn url_states(&self) -> impl Iterator<Item = Result<UrlRecord, StoreError>> + '_ {
        self.index.scan_prefix(&[keys::URL]).map(|entry| {
            let (key, value) = entry?;
            apply::decode_url(&value, &String::from_utf8_lossy(&key[1..]))
        })
    }

    /// A URL's failed attempts, oldest first.
    pub fn failed_attempts(&self, url: &str) -> Result<Vec<AttemptRecord>, StoreError> {
        self.index
            .scan_prefix(&keys::attempt_prefix(url))
            .map(|entry| {
                let (key, value) = entry?;
                let value: AttemptValue = index::decode(&value, "attempt", &key)?;
                self.record_at(value.record, format!("{url} attempt"))
            })
            .collect()
    }

    /// True when the store holds the document `digest`.
    pub fn has_blob(&self, digest: &Digest) -> Result<bool, StoreError> {
        Ok(self.index.get(&keys::document(digest))?.is_some())
    }

    /// A document's exact bytes, decoded and checked against `digest`.
    pub fn blob(&self, digest: &Digest) -> Result<Vec<u8>, StoreError> {
        self.decode_document(digest, &mut document_cache(CACHED_DOCUMENTS))
    }

    /// [`Store::blob`] reusing and filling `cache` (a delta chain decodes
    /// each frame once).
    pub(crate) fn decode_document(
        &self,
        digest: &Digest,
        cache: &mut DocumentCache,
    ) -> Result<Vec<u8>, StoreError> {
        Ok(self.decoded(digest, cache)?.as_ref().clone())
    }

    /// A document decoded (from `cache` when it is there), its delta chain
    /// walked down to a frame decoded on its own or a cached base.
    fn decoded(
        &self,
        digest: &Digest,
        cache: &mut DocumentCache,
    ) -> Result<Arc<Vec<u8>>, StoreError> {
        let mut chain: Vec<Frame> = Vec::new();
        let mut next = *digest;
        let mut base: Option<Arc<Vec<u8>>> = None;
        loop {
            if let Some(bytes) = cache.get(&next).cloned() {
                base = Some(bytes);
                break;
            }
            if chain.len() > MAX_DELTA_DEPTH as usize {
                return Err(StoreError::CorruptBlob {
                    digest: *digest,
                    actual: None,
                    reason: "its delta chain is longer than any newsarc writes".into(),
                });
            }
            let value = self.document_value(&next)?;
            if let Some(index) = value.member {
                let block = self
                    .blocks
                    .block(&self.packs, value.location(), index, &next)?;
                let bytes = Arc::new(block.member(index, &next)?.to_vec());
                cache.put(next, Arc::clone(&bytes));
                base = Some(bytes);
                break;
            }
            let frame = self.frame_of(&next, &value)?;
            let reference = frame.header.reference;
            let is_delta = frame.header.codec == Codec::ZstdDelta;
            chain.push(frame);
            match reference {
                Some(reference) if is_delta => next = reference,
                _ => break,
            }
        }
        while let Some(frame) = chain.pop() {
            base = Some(self.decode_one(frame, base.as_deref().map(Vec::as_slice), cache)?);
        }
        base.ok_or(StoreError::MissingBlob { digest: *digest })
    }

    /// The content of a document frame already read (`verify --deep` has
    /// it in hand), decoded with its base from `cache` or the store.
    pub(crate) fn decode_frame(
        &self,
        frame: Frame,
        cache: &mut DocumentCache,
    ) -> Result<Arc<Vec<u8>>, StoreError> {
        let base = match (frame.header.codec, frame.header.reference) {
            (Codec::ZstdDelta, Some(reference)) => Some(self.decoded(&reference, cache)?),
            _ => None,
        };
        self.decode_one(frame, base.as_deref().map(Vec::as_slice), cache)
    }

    /// One frame's content, checked against its digest and kept in `cache`.
    fn decode_one(
        &self,
        frame: Frame,
        base: Option<&[u8]>,
        cache: &mut DocumentCache,
    ) -> Result<Arc<Vec<u8>>, StoreError> {
        let step = frame.header.content;
        let corrupt = |reason: String| StoreError::CorruptBlob {
            digest: step,
            actual: None,
            reason,
        };
        let header = &frame.header;
        let content = match header.codec {
            Codec::Stored => frame.payload,
            Codec::Zstd => documents::decompress(&frame.payload, header.content_len, None)
                .map_err(|err| corrupt(format!("it does not decompress: {err}")))?,
            Codec::ZstdDictionary => {
                let dictionary = self.decoder(header.reference.unwrap_or(step))?;
                documents::decompress(&frame.payload, header.content_len, Some(&dictionary))
                    .map_err(|err| corrupt(format!("it does not decompress: {err}")))?
            }
            Codec::ZstdDelta => {
                let base = base.ok_or_else(|| corrupt("its delta base did not decode".into()))?;
                documents::decompress_delta(&frame.payload, header.content_len, base)
                    .map_err(|err| corrupt(format!("it does not decompress: {err}")))?
            }
        };
        let actual = Digest::of(&content);
        if actual != step {
            return Err(StoreError::CorruptBlob {
                digest: step,
                actual: Some(actual),
                reason: "its bytes do not hash to its digest".into(),
            });
        }
        let content = Arc::new(content);
        cache.put(step, Arc::clone(&content));
        Ok(content)
    }

    /// Where the document (or dictionary) `digest` is stored.
    fn document_value(&self, digest: &Digest) -> Result<DocumentValue, StoreError> {
        self.get(&keys::document(digest), "document")?
            .ok_or(StoreError::MissingBlob { digest: *digest })
    }

    /// The frame holding the document (or dictionary) `digest` on its own,
    /// at `value`.
    fn frame_of(&self, digest: &Digest, value: &DocumentValue) -> Result<Frame, StoreError> {
        let frame = self.packs.read(value.location()).map_err(|err| match err {
            newsarc_pack::PackError::Damaged { reason, .. } => StoreError::CorruptBlob {
                digest: *digest,
                actual: None,
                reason: format!("its frame at {} is damaged: {reason}", value.location()),
            },
            other => other.into(),
        })?;
        if frame.header.content != *digest
            || !matches!(frame.header.kind, Kind::Document | Kind::Dictionary)
        {
            return Err(StoreError::CorruptIndex {
                index: "document",
                entry: digest.to_string(),
                reason: format!(
                    "it points at {}, a frame of something else",
                    value.location()
                ),
            });
        }
        Ok(frame)
    }

    /// The prepared decoder of a dictionary.
    fn decoder(&self, digest: Digest) -> Result<Arc<DecoderDictionary<'static>>, StoreError> {
        if let Some(decoder) = self
            .decoders
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&digest)
        {
            return Ok(Arc::clone(decoder));
        }
        let bytes = self.blob(&digest)?;
        let decoder = Arc::new(DecoderDictionary::copy(&bytes));
        self.decoders
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(digest, Arc::clone(&decoder));
        Ok(decoder)
    }

    /// The id of the revision or event a log entry names: its record's
    /// BLAKE3.
    pub(crate) fn logged_id(&self, value: &LogValue) -> Result<Digest, StoreError> {
        Ok(Digest::of(&self.batches.record(&self.packs, value.record)?))
    }

    /// The global log's length and last entry, and every pack's length.
    pub(crate) fn head(&self) -> Result<HeadWitness, StoreError> {
        let log_len = self.counters()?.log_len();
        let last_entry = match log_len {
            0 => None,
            last => self
                .get::<LogValue>(&keys::log(last), "log")?
                .map(|value| self.logged_id(&value))
                .transpose()?,
        };
        Ok(HeadWitness {
            log_len,
            last_entry,
            written_at: Millis::now(),
            packs: self.packs.lengths()?,
        })
    }

    /// Writes the head witness after a commit.
    pub(crate) fn record_witness(&self) -> Result<(), StoreError> {
        self.witness.record(&self.head()?)
    }

    /// The head witness as its file says; `None` without the file.
    pub fn head_witness(&self) -> Result<Option<HeadWitness>, StoreError> {
        self.witness.read()
    }
}

/// Checks a content-addressed record's bytes against the id they are
/// stored under (their BLAKE3), then decodes them.
pub(crate) fn decode_addressed<R: Record>(id: &Digest, bytes: &[u8]) -> Result<R, StoreError> {
    let corrupt = |reason: String| StoreError::CorruptRecord {
        kind: R::KIND,
        id: id.to_string(),
        reason,
    };
    let actual = Digest::of(bytes);
    if actual != *id {
        return Err(corrupt(format!("its bytes hash to {actual}")));
    }
    codec::decode(bytes).map_err(|err| corrupt(err.to_string()))
}
