//! The store: newsarc's records and indexes over a [`KvEngine`].

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use newsarc_model::codec;
use newsarc_model::record::{
    ArticleRecord, AttemptRecord, BlobRecord, Counters, EventKind, EventRecord, HeadWitness,
    HttpFacts, ObservationKind, ObservationRecord, Record, RevisionRecord, StoreInfo, UrlRecord,
};
use newsarc_model::{ArticleKey, ArticleMeta, ChangeKind, Charset, Digest, Millis, RevisionId};

use crate::engine::{EngineError, KvEngine, MemoryEngine, SledEngine, WriteBatch};
use crate::witness::Witness;
use crate::{StoreError, blob, derived, keys, migrate, serving};

/// The store layout version this build writes and reads.
pub const STORE_FORMAT: u32 = 1;

/// One fetched document, ready to be stored.
#[derive(Debug, Clone)]
pub struct Fetch<'a> {
    /// The article it is a revision of.
    pub article: ArticleKey,
    /// The document's exact bytes.
    pub bytes: &'a [u8],
    /// When it was fetched.
    pub fetched_at: Millis,
    /// Where it came from (file path or URL).
    pub source: String,
    /// The article's canonical URL, kept in its article record.
    pub canonical_url: String,
    /// Metadata the parser extracted.
    pub meta: ArticleMeta,
    /// BLAKE3 of the parsed article's normalised text.
    pub text_digest: Digest,
    /// The HTTP response's facts, for a page fetched over HTTP.
    pub http: Option<HttpFacts>,
    /// The encoding the document was read in (left out of the record when
    /// it is UTF-8).
    pub charset: Option<Charset>,
}

/// A fetch that downloaded no page but says something about an article:
/// `304 Not Modified`, or `404`/`410` gone.
#[derive(Debug, Clone)]
pub struct BodilessFetch {
    /// The article the URL belongs to.
    pub article: ArticleKey,
    /// When it was made.
    pub fetched_at: Millis,
    /// What the server said.
    pub http: HttpFacts,
}

/// One entry of the global log: a revision or an article event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogEntry {
    /// A new revision.
    Revision(RevisionId),
    /// An article event (gone, reappeared), by its id.
    Event(Digest),
}

/// What storing a fetch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The article's first revision.
    NewArticle,
    /// A revision of a known article whose bytes changed.
    NewRevision,
    /// The bytes equal the latest revision's: an observation was recorded.
    Unchanged,
    /// The server answered `304 Not Modified`: an observation was recorded.
    NotModified,
    /// The same bytes of the same article at the same time are already
    /// recorded: nothing was written.
    AlreadyArchived,
}

impl Outcome {
    /// The snake_case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NewArticle => "new_article",
            Self::NewRevision => "new_revision",
            Self::Unchanged => "unchanged",
            Self::NotModified => "not_modified",
            Self::AlreadyArchived => "already_archived",
        }
    }
}

/// The result of [`Store::add_fetch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    /// What happened.
    pub outcome: Outcome,
    /// The new revision, or the latest one for an observation.
    pub revision: RevisionId,
    /// The document's digest.
    pub blob: Digest,
    /// The revision's sequence number within its article.
    pub seq: u32,
    /// The change kind, for a new revision.
    pub change: Option<ChangeKind>,
    /// The article had been gone: a `reappeared` event was recorded first.
    pub reappeared: bool,
}

/// How many reconstructed blobs [`BlobCache`] keeps: enough for a delta chain
/// and a few neighbours.
const BLOB_CACHE_ENTRIES: usize = blob::MAX_DELTA_DEPTH as usize + 4;

/// Recently reconstructed blobs, so that walking a history decompresses each
/// delta once instead of once per descendant.
#[derive(Default)]
pub(crate) struct BlobCache {
    entries: VecDeque<(Digest, Vec<u8>)>,
}

impl BlobCache {
    fn get(&self, digest: &Digest) -> Option<&[u8]> {
        self.entries
            .iter()
            .find(|(d, _)| d == digest)
            .map(|(_, bytes)| bytes.as_slice())
    }

    fn insert(&mut self, digest: Digest, bytes: Vec<u8>) {
        if self.get(&digest).is_none() {
            if self.entries.len() == BLOB_CACHE_ENTRIES {
                self.entries.pop_front();
            }
            self.entries.push_back((digest, bytes));
        }
    }
}

/// A newsarc store.
pub struct Store {
    engine: Box<dyn KvEngine>,
    location: String,
    /// Ingest reads the article's head and then writes: one writer at a time
    /// keeps every history a single chain.
    write_lock: Mutex<()>,
    /// The head witness, for stores in a directory.
    witness: Option<Witness>,
    /// The store's directory, for stores opened from one.
    dir: Option<std::path::PathBuf>,
}

impl Store {
    /// Opens the store in `dir` with sled, creating it when `dir` is absent
    /// or empty.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Self::open_with_cache(dir, crate::engine::DEFAULT_CACHE_BYTES)
    }

    /// Like [`Store::open`] with an explicit sled cache size in bytes.
    pub fn open_with_cache(dir: &Path, cache_bytes: u64) -> Result<Self, StoreError> {
        let location = dir.display().to_string();
        if dir.is_dir() && !dir.join("conf").exists() && !dir.join("db").exists() {
            let non_empty = std::fs::read_dir(dir)
                .map(|mut entries| entries.next().is_some())
                .unwrap_or(false);
            if non_empty {
                return Err(StoreError::NotAStore { location });
            }
        }
        let engine = SledEngine::open(dir, cache_bytes).map_err(|reason| match reason {
            EngineError::Locked(_) => StoreError::InUse {
                location: location.clone(),
                server: serving::announced(dir),
            },
            reason => StoreError::Open {
                location: location.clone(),
                reason,
            },
        })?;
        // This process holds the lock: no server does, whatever a file left
        // by a killed one says.
        serving::withdraw(dir);
        let mut store = Self::with_engine(Box::new(engine), location)?.witnessed_in(dir)?;
        store.dir = Some(dir.to_owned());
        Ok(store)
    }

    /// Says, in the store directory, that a server at `address` holds the
    /// store (removed again by [`Store::withdraw_server`]).
    pub fn announce_server(&self, address: &str) -> Result<(), StoreError> {
        match &self.dir {
            Some(dir) => serving::announce(dir, address).map_err(|source| StoreError::Announce {
                path: dir.join(serving::SERVING_FILE),
                source,
            }),
            None => Ok(()),
        }
    }

    /// Removes what [`Store::announce_server`] wrote.
    pub fn withdraw_server(&self) {
        if let Some(dir) = &self.dir {
            serving::withdraw(dir);
        }
    }

    /// Attaches the head witness kept in `dir`.
    pub(crate) fn witnessed_in(mut self, dir: &Path) -> Result<Self, StoreError> {
        self.witness = Some(Witness::open(dir, self.counters()?.log_len()));
        Ok(self)
    }

    /// A new empty store in memory.
    pub fn in_memory() -> Self {
        Self::with_engine(Box::new(MemoryEngine::new()), "memory".into())
            .expect("a new memory engine always takes a header")
    }

    /// A store over any engine: writes the header into an empty engine,
    /// otherwise checks the header's format.
    pub fn with_engine(engine: Box<dyn KvEngine>, location: String) -> Result<Self, StoreError> {
        let damaged = |reason: String| StoreError::DamagedHeader {
            location: location.clone(),
            reason,
        };
        match engine.get(keys::INFO)? {
            Some(bytes) => {
                let info: StoreInfo =
                    codec::decode(&bytes).map_err(|err| damaged(err.to_string()))?;
                if info.format != STORE_FORMAT {
                    return Err(StoreError::UnsupportedFormat {
                        location,
                        found: info.format,
                        supported: STORE_FORMAT,
                    });
                }
                if info.indexes < migrate::INDEXES {
                    migrate::add_missing_indexes(engine.as_ref(), info)?;
                }
            }
            None => {
                if engine.scan_prefix(b"").next().is_some() {
                    return Err(damaged("the header record is missing".into()));
                }
                let info = StoreInfo {
                    format: STORE_FORMAT,
                    created_at: Millis::now(),
                    indexes: migrate::INDEXES,
                };
                let mut batch = WriteBatch::default();
                batch.put(keys::INFO, encode(&info)?);
                batch.put(keys::COUNTERS, encode(&Counters::default())?);
                engine.apply(batch)?;
                engine.flush()?;
            }
        }
        Ok(Self {
            engine,
            location,
            write_lock: Mutex::new(()),
            witness: None,
            dir: None,
        })
    }

    /// The engine underneath, for verify, repair and fault-injection tests.
    pub fn engine(&self) -> &dyn KvEngine {
        self.engine.as_ref()
    }

    /// Where the store lives, for messages.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Stores a fetch, compared with the article as it stood at the fetch's
    /// time (the revision fetched last at or before it): the same bytes
    /// make an observation of that revision, other bytes a new revision,
    /// placed in the timeline at its time and appended to the article's
    /// hash chain (which keeps the order the archive learnt things in). A
    /// fetch already recorded (same article, bytes and time) writes nothing
    /// and is [`Outcome::AlreadyArchived`]. Nothing is overwritten. The
    /// change is atomic but is durable only after [`Store::flush`].
    pub fn add_fetch(&self, fetch: &Fetch<'_>) -> Result<Added, StoreError> {
        let _writer = self
            .write_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let digest = Digest::of(fetch.bytes);
        if let Some(added) = self.already_archived(&fetch.article, fetch.fetched_at, &digest)? {
            return Ok(added);
        }
        let mut counters = self.counters()?;
        let article = self.article(&fetch.article)?;
        let head = match &article {
            Some(article) => Some((article.latest, self.revision(&article.latest)?)),
            None => None,
        };
        let current = self.revision_at(&fetch.article, fetch.fetched_at)?;
        let newest = self.revision_at(&fetch.article, Millis::from_millis(i64::MAX))?;
        let mut batch = WriteBatch::default();

        // Back after being gone, unless this fetch was made before it went
        // (an old capture archived late says nothing about now).
        let mut updated_events = None;
        if let (Some(article), Some((head_id, _))) = (&article, &head)
            && article
                .gone_since
                .is_some_and(|since| fetch.fetched_at >= since)
        {
            let http = fetch.http.clone().unwrap_or_default();
            self.put_event(
                &mut batch,
                &mut counters,
                article,
                EventKind::Reappeared,
                fetch.fetched_at,
                *head_id,
                http,
            )?;
            updated_events = Some(article.events + 1);
        }
        let reappeared = updated_events.is_some();
        let article = article.map(|article| ArticleRecord {
            events: updated_events.unwrap_or(article.events),
            gone_since: if reappeared { None } else { article.gone_since },
            ..article
        });

        if let (Some(article), Some((current_id, current))) = (&article, &current)
            && current.blob == digest
        {
            let added = self.put_observation(
                &mut batch,
                &mut counters,
                article,
                (*current_id, current),
                ObservationRecord {
                    article: fetch.article.clone(),
                    revision: *current_id,
                    blob: digest,
                    fetched_at: fetch.fetched_at,
                    source: fetch.source.clone(),
                    kind: ObservationKind::Unchanged,
                    http: fetch.http.clone(),
                },
            )?;
            self.engine.apply(batch)?;
            return Ok(Added {
                reappeared,
                ..added
            });
        }

        if self.engine.get(&keys::blob(&digest))?.is_none() {
            // The neighbour in time is the likeliest to share text.
            let base = match current.as_ref().or(head.as_ref()) {
                Some((_, base)) => {
                    let base_record = self.blob_record(&base.blob)?;
                    Some((self.blob(&base.blob)?, base.blob, base_record.depth))
                }
                None => None,
            };
            let record = blob::encode(
                fetch.bytes,
                base.as_ref()
                    .map(|(bytes, digest, depth)| (bytes.as_slice(), *digest, *depth)),
            )
            .map_err(|err| StoreError::Compress {
                digest,
                reason: err.to_string(),
            })?;
            batch.put(keys::blob(&digest), encode(&record)?);
            counters.raw_bytes += fetch.bytes.len() as u64;
        }

        let seq = head.as_ref().map_or(1, |(_, head)| head.seq + 1);
        let change = ChangeKind::between(
            current
                .as_ref()
                .map(|(_, current)| (&current.meta, current.text_digest)),
            (&fetch.meta, fetch.text_digest),
        );
        let record = RevisionRecord {
            article: fetch.article.clone(),
            seq,
            blob: digest,
            size: fetch.bytes.len() as u64,
            parent: head.as_ref().map(|(id, _)| *id),
            fetched_at: fetch.fetched_at,
            source: fetch.source.clone(),
            meta: fetch.meta.clone(),
            canonical_url: fetch.canonical_url.clone(),
            text_digest: fetch.text_digest,
            change,
            http: fetch.http.clone(),
            charset: fetch.charset.clone().filter(|charset| !charset.is_utf8()),
        };
        let record_bytes = encode(&record)?;
        let id = RevisionId::of_record(&record_bytes);
        counters.revisions += 1;
        // The summary shows the last revision in the timeline, which a late
        // capture of an older state does not change.
        let newest_in_time = newest
            .as_ref()
            .is_none_or(|(_, newest)| fetch.fetched_at >= newest.fetched_at);
        let updated = match &article {
            Some(article) => ArticleRecord {
                url: if newest_in_time {
                    fetch.canonical_url.clone()
                } else {
                    article.url.clone()
                },
                title: if newest_in_time {
                    fetch.meta.title.clone()
                } else {
                    article.title.clone()
                },
                first_seen: article.first_seen.min(fetch.fetched_at),
                last_seen: article.last_seen.max(fetch.fetched_at),
                latest: id,
                revisions: seq,
                ..article.clone()
            },
            None => {
                counters.articles += 1;
                ArticleRecord {
                    key: fetch.article.clone(),
                    url: fetch.canonical_url.clone(),
                    title: fetch.meta.title.clone(),
                    first_seen: fetch.fetched_at,
                    last_seen: fetch.fetched_at,
                    latest: id,
                    revisions: 1,
                    observations: 0,
                    events: 0,
                    gone_since: None,
                }
            }
        };
        let log_seq = counters.log_len();
        for entry in derived::of_revision(&id, &record)
            .into_iter()
            .chain(derived::of_log_entry(
                log_seq,
                LogEntry::Revision(id),
                Some(fetch.fetched_at),
            ))
        {
            batch.put(entry.key, entry.value);
        }
        batch.put(keys::revision(&id), record_bytes);
        batch.put(keys::article(&fetch.article), encode(&updated)?);
        batch.put(keys::COUNTERS, encode(&counters)?);
        self.engine.apply(batch)?;
        Ok(Added {
            outcome: if article.is_some() {
                Outcome::NewRevision
            } else {
                Outcome::NewArticle
            },
            revision: id,
            blob: digest,
            seq,
            change: Some(change),
            reappeared,
        })
    }

    /// The capture of `blob` in `article` at `at`, when one is recorded.
    fn already_archived(
        &self,
        article: &ArticleKey,
        at: Millis,
        blob: &Digest,
    ) -> Result<Option<Added>, StoreError> {
        let Some(value) = self.engine.get(&keys::capture(article, at, blob))? else {
            return Ok(None);
        };
        let corrupt = |reason: &str| StoreError::CorruptRecord {
            kind: "capture index",
            id: format!("{article}@{at}"),
            reason: reason.to_owned(),
        };
        let revision = match value.split_first() {
            Some((&keys::CAPTURED_REVISION, id)) => {
                RevisionId(Digest::from_slice(id).map_err(|_| corrupt("not a revision id"))?)
            }
            Some((&keys::CAPTURED_OBSERVATION, number)) => {
                let number = <[u8; 8]>::try_from(number)
                    .map(u64::from_be_bytes)
                    .map_err(|_| corrupt("not an observation number"))?;
                let observation: ObservationRecord = self
                    .decoded(&keys::observation(article, number), article.as_str())?
                    .ok_or_else(|| corrupt("points at a missing observation"))?;
                observation.revision
            }
            _ => return Err(corrupt("unknown entry")),
        };
        let record = self.revision(&revision)?;
        Ok(Some(Added {
            outcome: Outcome::AlreadyArchived,
            revision,
            blob: *blob,
            seq: record.seq,
            change: None,
            reappeared: false,
        }))
    }

    /// The revision of `article` current at `at`: the one fetched last at
    /// or before it (the later archived on a tie).
    pub fn revision_at(
        &self,
        article: &ArticleKey,
        at: Millis,
    ) -> Result<Option<(RevisionId, RevisionRecord)>, StoreError> {
        let prefix = keys::timeline_prefix(article);
        let upto = keys::timeline(article, at, u32::MAX);
        self.engine
            .last_at_or_before(&prefix, &upto)?
            .map(|(key, value)| self.indexed_revision("timeline index", &key, &value))
            .transpose()
    }

    /// An article's revisions in fetch-time order; revisions fetched at
    /// the same moment come in the order they were archived.
    pub fn timeline(
        &self,
        key: &ArticleKey,
    ) -> Result<Vec<(RevisionId, RevisionRecord)>, StoreError> {
        self.engine
            .scan_prefix(&keys::timeline_prefix(key))
            .map(|entry| {
                let (index_key, value) = entry?;
                self.indexed_revision("timeline index", &index_key, &value)
            })
            .collect()
    }

    /// Records a `304 Not Modified` answer as an observation of the
    /// article's latest revision (and a `reappeared` event first if it was
    /// gone).
    pub fn add_not_modified(&self, fetch: &BodilessFetch) -> Result<Added, StoreError> {
        let _writer = self
            .write_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut counters = self.counters()?;
        let mut article = self.known_article(&fetch.article)?;
        let head = self.revision(&article.latest)?;
        let mut batch = WriteBatch::default();
        let reappeared = article.gone_since.is_some();
        if reappeared {
            self.put_event(
                &mut batch,
                &mut counters,
                &article,
                EventKind::Reappeared,
                fetch.fetched_at,
                article.latest,
                fetch.http.clone(),
            )?;
            article.events += 1;
            article.gone_since = None;
        }
        let added = self.put_observation(
            &mut batch,
            &mut counters,
            &article,
            (article.latest, &head),
            ObservationRecord {
                article: fetch.article.clone(),
                revision: article.latest,
                blob: head.blob,
                fetched_at: fetch.fetched_at,
                source: fetch.http.final_url.clone(),
                kind: ObservationKind::NotModified,
                http: Some(fetch.http.clone()),
            },
        )?;
        self.engine.apply(batch)?;
        Ok(Added {
            reappeared,
            ..added
        })
    }

    /// Records that the article's URL answered 404 or 410: a `gone` event,
    /// unless the article is already gone (then nothing changes and `None`
    /// is returned).
    pub fn add_gone(&self, fetch: &BodilessFetch) -> Result<Option<Digest>, StoreError> {
        let _writer = self
            .write_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut counters = self.counters()?;
        let mut article = self.known_article(&fetch.article)?;
        if article.gone_since.is_some() {
            return Ok(None);
        }
        let mut batch = WriteBatch::default();
        let id = self.put_event(
            &mut batch,
            &mut counters,
            &article,
            EventKind::Gone,
            fetch.fetched_at,
            article.latest,
            fetch.http.clone(),
        )?;
        article.events += 1;
        article.gone_since = Some(fetch.fetched_at);
        batch.put(keys::article(&fetch.article), encode(&article)?);
        batch.put(keys::COUNTERS, encode(&counters)?);
        self.engine.apply(batch)?;
        Ok(Some(id))
    }

    /// The record of an article a bodiless fetch names, which must exist.
    fn known_article(&self, key: &ArticleKey) -> Result<ArticleRecord, StoreError> {
        self.article(key)?
            .ok_or_else(|| StoreError::MissingArticle { key: key.clone() })
    }

    /// Adds an observation of `head` and the updated article and counters
    /// to `batch`.
    fn put_observation(
        &self,
        batch: &mut WriteBatch,
        counters: &mut Counters,
        article: &ArticleRecord,
        (head_id, head): (RevisionId, &RevisionRecord),
        observation: ObservationRecord,
    ) -> Result<Added, StoreError> {
        counters.observations += 1;
        let updated = ArticleRecord {
            first_seen: article.first_seen.min(observation.fetched_at),
            last_seen: article.last_seen.max(observation.fetched_at),
            observations: article.observations + 1,
            ..article.clone()
        };
        batch.put(
            keys::observation(&article.key, counters.observations),
            encode(&observation)?,
        );
        for entry in derived::of_observation(counters.observations, &observation) {
            batch.put(entry.key, entry.value);
        }
        batch.put(keys::article(&article.key), encode(&updated)?);
        batch.put(keys::COUNTERS, encode(counters)?);
        Ok(Added {
            outcome: match observation.kind {
                ObservationKind::Unchanged => Outcome::Unchanged,
                ObservationKind::NotModified => Outcome::NotModified,
            },
            revision: head_id,
            blob: head.blob,
            seq: head.seq,
            change: None,
            reappeared: false,
        })
    }

    /// Adds the article's next event, its index entry and its log entry to
    /// `batch`; the caller updates the article record.
    #[allow(clippy::too_many_arguments)]
    fn put_event(
        &self,
        batch: &mut WriteBatch,
        counters: &mut Counters,
        article: &ArticleRecord,
        kind: EventKind,
        at: Millis,
        latest: RevisionId,
        http: HttpFacts,
    ) -> Result<Digest, StoreError> {
        let number = article.events + 1;
        let record = EventRecord {
            article: article.key.clone(),
            number,
            kind,
            at,
            latest,
            http,
        };
        let bytes = encode(&record)?;
        let id = Digest::of(&bytes);
        counters.events += 1;
        for entry in derived::of_event(&id, &record)
            .into_iter()
            .chain(derived::of_log_entry(
                counters.log_len(),
                LogEntry::Event(id),
                None,
            ))
        {
            batch.put(entry.key, entry.value);
        }
        batch.put(keys::event(&id), bytes);
        Ok(id)
    }

    /// Keeps a fetch that produced no page, as evidence of the attempt.
    pub fn add_failed_attempt(&self, attempt: &AttemptRecord) -> Result<(), StoreError> {
        let _writer = self
            .write_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut counters = self.counters()?;
        counters.failed_attempts += 1;
        let mut batch = WriteBatch::default();
        batch.put(
            keys::attempt(&attempt.url, counters.failed_attempts),
            encode(attempt)?,
        );
        batch.put(keys::COUNTERS, encode(&counters)?);
        self.engine.apply(batch)?;
        Ok(())
    }

    /// A URL's failed attempts, oldest first.
    pub fn failed_attempts(&self, url: &str) -> Result<Vec<AttemptRecord>, StoreError> {
        self.engine
            .scan_prefix(&keys::attempt_prefix(url))
            .map(decode_scanned::<AttemptRecord>)
            .collect()
    }

    /// The fetcher's state for `url`.
    pub fn url_state(&self, url: &str) -> Result<Option<UrlRecord>, StoreError> {
        self.decoded(&keys::url(url), url)
    }

    /// Replaces the fetcher's state for `record.url`.
    pub fn put_url_state(&self, record: &UrlRecord) -> Result<(), StoreError> {
        let mut batch = WriteBatch::default();
        batch.put(keys::url(&record.url), encode(record)?);
        Ok(self.engine.apply(batch)?)
    }

    /// Every URL the fetcher knows, in URL order.
    pub fn url_states(&self) -> impl Iterator<Item = Result<UrlRecord, StoreError>> + '_ {
        self.engine
            .scan_prefix(&[keys::URL])
            .map(decode_scanned::<UrlRecord>)
    }

    /// An event record, checked against its id.
    pub fn event(&self, id: &Digest) -> Result<EventRecord, StoreError> {
        let bytes = self
            .engine
            .get(&keys::event(id))?
            .ok_or(StoreError::MissingEvent { id: *id })?;
        decode_event(id, &bytes)
    }

    /// An article's events (gone, reappeared), oldest first.
    pub fn events(&self, key: &ArticleKey) -> Result<Vec<(Digest, EventRecord)>, StoreError> {
        self.engine
            .scan_prefix(&keys::article_event_prefix(key))
            .map(|entry| {
                let (index_key, value) = entry?;
                let id = Digest::from_slice(&value).map_err(|err| StoreError::CorruptRecord {
                    kind: "event index",
                    id: String::from_utf8_lossy(&index_key[1..]).into_owned(),
                    reason: err.to_string(),
                })?;
                Ok((id, self.event(&id)?))
            })
            .collect()
    }

    /// Makes every change so far survive a killed process (sled's flush; see
    /// `docs/ARCHITECTURE.md` for power loss).
    pub fn flush(&self) -> Result<(), StoreError> {
        // Read before the flush: the witness never claims more than it made
        // durable.
        let head = match &self.witness {
            Some(_) => Some(self.head()?),
            None => None,
        };
        self.engine.flush()?;
        if let (Some(witness), Some(head)) = (&self.witness, head) {
            witness.record(&head)?;
        }
        Ok(())
    }

    /// The global log's length and last entry, as the witness records them.
    pub(crate) fn head(&self) -> Result<HeadWitness, StoreError> {
        let log_len = self.counters()?.log_len();
        let last_entry = match log_len {
            0 => None,
            last => self.engine.get(&keys::log(last))?.map(|v| Digest::of(&v)),
        };
        Ok(HeadWitness {
            log_len,
            last_entry,
            written_at: Millis::now(),
        })
    }

    /// The head witness as its file says; `None` for a store without a
    /// directory or without the file.
    pub fn head_witness(&self) -> Result<Option<HeadWitness>, StoreError> {
        match &self.witness {
            Some(witness) => witness.read(),
            None => Ok(None),
        }
    }

    /// True when the store keeps a head witness (it lives in a directory).
    pub fn is_witnessed(&self) -> bool {
        self.witness.is_some()
    }

    /// Whole-store totals.
    pub fn counters(&self) -> Result<Counters, StoreError> {
        self.decoded(keys::COUNTERS, "counters")?
            .ok_or_else(|| StoreError::CorruptRecord {
                kind: Counters::KIND,
                id: "counters".into(),
                reason: "the record is missing".into(),
            })
    }

    /// An article's record.
    pub fn article(&self, key: &ArticleKey) -> Result<Option<ArticleRecord>, StoreError> {
        self.decoded(&keys::article(key), key.as_str())
    }

    /// Every article record, in key order.
    pub fn articles(&self) -> impl Iterator<Item = Result<ArticleRecord, StoreError>> + '_ {
        self.articles_after(None)
    }

    /// The article records whose keys come after `after` (all when `None`),
    /// in key order: a page resumes where the last one ended without
    /// reading what came before.
    pub fn articles_after(
        &self,
        after: Option<&str>,
    ) -> impl Iterator<Item = Result<ArticleRecord, StoreError>> + '_ {
        let mut start = vec![keys::ARTICLE];
        if let Some(after) = after {
            start.extend_from_slice(after.as_bytes());
            // The smallest key greater than `after` itself.
            start.push(0);
        }
        self.engine
            .scan_from(&[keys::ARTICLE], &start)
            .map(decode_scanned::<ArticleRecord>)
    }

    /// A revision record, checked against its id.
    pub fn revision(&self, id: &RevisionId) -> Result<RevisionRecord, StoreError> {
        let bytes = self
            .engine
            .get(&keys::revision(id))?
            .ok_or(StoreError::MissingRevision { id: *id })?;
        decode_revision(id, &bytes)
    }

    /// Revision ids whose hex form starts with `hex_prefix` (lower case).
    pub fn revisions_with_prefix(&self, hex_prefix: &str) -> Result<Vec<RevisionId>, StoreError> {
        let hex_prefix = hex_prefix.to_ascii_lowercase();
        let whole_bytes: Vec<u8> = (0..hex_prefix.len() / 2)
            .filter_map(|i| u8::from_str_radix(hex_prefix.get(2 * i..2 * i + 2)?, 16).ok())
            .collect();
        let mut scan = vec![keys::REVISION];
        scan.extend_from_slice(&whole_bytes);
        let mut found = Vec::new();
        for entry in self.engine.scan_prefix(&scan) {
            let (key, _) = entry?;
            if let Ok(digest) = Digest::from_slice(&key[1..])
                && digest.to_hex().starts_with(&hex_prefix)
            {
                found.push(RevisionId(digest));
            }
        }
        Ok(found)
    }

    /// An article's revisions, oldest first.
    pub fn history(
        &self,
        key: &ArticleKey,
    ) -> Result<Vec<(RevisionId, RevisionRecord)>, StoreError> {
        self.engine
            .scan_prefix(&keys::history_prefix(key))
            .map(|entry| {
                let (index_key, value) = entry?;
                self.indexed_revision("history index", &index_key, &value)
            })
            .collect()
    }

    /// An article's revision number `seq` in its chain.
    pub fn history_entry(
        &self,
        key: &ArticleKey,
        seq: u32,
    ) -> Result<Option<(RevisionId, RevisionRecord)>, StoreError> {
        let index_key = keys::history(key, seq);
        self.engine
            .get(&index_key)?
            .map(|value| self.indexed_revision("history index", &index_key, &value))
            .transpose()
    }

    /// The revision before `record` in its article's timeline: fetched
    /// earlier, or at the same time but archived earlier.
    pub fn previous_in_time(
        &self,
        record: &RevisionRecord,
    ) -> Result<Option<(RevisionId, RevisionRecord)>, StoreError> {
        let Some(seq) = record.seq.checked_sub(1) else {
            return Ok(None);
        };
        let prefix = keys::timeline_prefix(&record.article);
        let upto = keys::timeline(&record.article, record.fetched_at, seq);
        self.engine
            .last_at_or_before(&prefix, &upto)?
            .map(|(key, value)| self.indexed_revision("timeline index", &key, &value))
            .transpose()
    }

    /// The revision an index entry (`index_key` → `value`) points at.
    fn indexed_revision(
        &self,
        index: &'static str,
        index_key: &[u8],
        value: &[u8],
    ) -> Result<(RevisionId, RevisionRecord), StoreError> {
        let id = Digest::from_slice(value).map_err(|err| StoreError::CorruptRecord {
            kind: index,
            id: String::from_utf8_lossy(index_key.get(1..).unwrap_or_default()).into_owned(),
            reason: err.to_string(),
        })?;
        let id = RevisionId(id);
        Ok((id, self.revision(&id)?))
    }

    /// Global log entries with a sequence number of at least `from`, in
    /// order, at most `limit` of them.
    pub fn log_from(&self, from: u64, limit: usize) -> Result<Vec<(u64, LogEntry)>, StoreError> {
        self.engine
            .scan_from(&[keys::LOG], &keys::log(from))
            .take(limit)
            .map(|entry| {
                let (key, value) = entry?;
                let corrupt = |reason: String| StoreError::CorruptRecord {
                    kind: "log entry",
                    id: format!("{key:?}"),
                    reason,
                };
                let seq = key
                    .get(1..)
                    .and_then(|s| <[u8; 8]>::try_from(s).ok())
                    .map(u64::from_be_bytes)
                    .ok_or_else(|| corrupt("malformed key".into()))?;
                let entry = match value.split_first() {
                    Some((&keys::EVENT, id)) if id.len() == 32 => LogEntry::Event(
                        Digest::from_slice(id).map_err(|err| corrupt(err.to_string()))?,
                    ),
                    _ => LogEntry::Revision(RevisionId(
                        Digest::from_slice(&value).map_err(|err| corrupt(err.to_string()))?,
                    )),
                };
                Ok((seq, entry))
            })
            .collect()
    }

    /// An article's observations, oldest recorded first.
    pub fn observations(&self, key: &ArticleKey) -> Result<Vec<ObservationRecord>, StoreError> {
        self.engine
            .scan_prefix(&keys::observation_prefix(key))
            .map(decode_scanned::<ObservationRecord>)
            .collect()
    }

    /// A document's exact bytes, reconstructed and checked against `digest`.
    pub fn blob(&self, digest: &Digest) -> Result<Vec<u8>, StoreError> {
        self.blob_cached(digest, &mut BlobCache::default())
    }

    /// [`Store::blob`] reusing and filling `cache`.
    pub(crate) fn blob_cached(
        &self,
        digest: &Digest,
        cache: &mut BlobCache,
    ) -> Result<Vec<u8>, StoreError> {
        if let Some(bytes) = cache.get(digest) {
            return Ok(bytes.to_vec());
        }
        // Walk down to a whole blob (or a cached one), then decode upwards,
        // checking every step's digest.
        let mut chain = vec![(*digest, self.blob_record(digest)?)];
        let mut base_bytes: Option<Vec<u8>> = None;
        while let Some(base) = chain.last().and_then(|(_, record)| record.base) {
            if let Some(bytes) = cache.get(&base) {
                base_bytes = Some(bytes.to_vec());
                break;
            }
            if chain.len() > blob::MAX_DELTA_DEPTH as usize + 1 {
                return Err(StoreError::CorruptBlob {
                    digest: *digest,
                    actual: None,
                    reason: "its delta chain is longer than any newsarc writes".into(),
                });
            }
            let record = match self.blob_record(&base) {
                Err(StoreError::MissingBlob { .. }) => {
                    return Err(StoreError::CorruptBlob {
                        digest: chain[chain.len() - 1].0,
                        actual: None,
                        reason: format!("its delta base {base} is missing"),
                    });
                }
                other => other?,
            };
            chain.push((base, record));
        }
        while let Some((step_digest, record)) = chain.pop() {
            let bytes = blob::decode(&record, base_bytes.as_deref()).map_err(|err| {
                StoreError::CorruptBlob {
                    digest: step_digest,
                    actual: None,
                    reason: format!("it does not decompress: {err}"),
                }
            })?;
            let actual = Digest::of(&bytes);
            if actual != step_digest {
                return Err(StoreError::CorruptBlob {
                    digest: step_digest,
                    actual: Some(actual),
                    reason: "its bytes do not hash to its digest".into(),
                });
            }
            cache.insert(step_digest, bytes.clone());
            base_bytes = Some(bytes);
        }
        base_bytes.ok_or(StoreError::MissingBlob { digest: *digest })
    }

    /// True when the store holds the document `digest`.
    pub fn has_blob(&self, digest: &Digest) -> Result<bool, StoreError> {
        Ok(self.engine.get(&keys::blob(digest))?.is_some())
    }

    /// A blob's stored record (compressed form).
    pub fn blob_record(&self, digest: &Digest) -> Result<BlobRecord, StoreError> {
        let bytes = self
            .engine
            .get(&keys::blob(digest))?
            .ok_or(StoreError::MissingBlob { digest: *digest })?;
        codec::decode(&bytes).map_err(|err| StoreError::CorruptBlob {
            digest: *digest,
            actual: None,
            reason: err.to_string(),
        })
    }

    /// Bytes the store occupies on disk.
    pub fn disk_bytes(&self) -> Result<u64, StoreError> {
        Ok(self.engine.disk_bytes()?)
    }

    fn decoded<R: Record>(&self, key: &[u8], id: &str) -> Result<Option<R>, StoreError> {
        self.engine
            .get(key)?
            .map(|bytes| {
                codec::decode(&bytes).map_err(|err| StoreError::CorruptRecord {
                    kind: R::KIND,
                    id: id.to_owned(),
                    reason: err.to_string(),
                })
            })
            .transpose()
    }
}

/// Decodes a scanned entry's value as an `R`; errors name the entry's key
/// (without its prefix byte).
fn decode_scanned<R: Record>(
    entry: Result<crate::engine::Entry, crate::engine::EngineError>,
) -> Result<R, StoreError> {
    let (key, value) = entry?;
    codec::decode(&value).map_err(|err| StoreError::CorruptRecord {
        kind: R::KIND,
        id: String::from_utf8_lossy(key.get(1..).unwrap_or_default()).into_owned(),
        reason: err.to_string(),
    })
}

/// Checks a revision record's bytes against its id, then decodes them.
pub(crate) fn decode_revision(id: &RevisionId, bytes: &[u8]) -> Result<RevisionRecord, StoreError> {
    decode_addressed(&id.0, bytes)
}

/// Checks an event record's bytes against its id, then decodes them.
pub(crate) fn decode_event(id: &Digest, bytes: &[u8]) -> Result<EventRecord, StoreError> {
    decode_addressed(id, bytes)
}

/// Checks a content-addressed record's bytes against the id they are
/// stored under (their BLAKE3), then decodes them.
fn decode_addressed<R: Record>(id: &Digest, bytes: &[u8]) -> Result<R, StoreError> {
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

pub(crate) fn encode<R: Record>(record: &R) -> Result<Vec<u8>, StoreError> {
    codec::encode(record).map_err(|err| StoreError::CorruptRecord {
        kind: R::KIND,
        id: "(new)".into(),
        reason: err.to_string(),
    })
}
