//! Writing: a commit gathers fetches, appends their documents to the pack
//! as it goes and their records as one batch at the end, syncs the pack,
//! and only then writes the index entries that refer to them — so a crash
//! leaves at most an unreferenced tail in the last pack.

use std::collections::HashMap;
use std::sync::{Arc, MutexGuard, PoisonError};

use newsarc_model::record::{
    ArticleRecord, AttemptRecord, DictionaryRecord, EventKind, EventRecord, HttpFacts,
    ObservationKind, ObservationRecord, Record, RevisionRecord, UrlRecord,
};
use newsarc_model::{
    ArticleKey, ArticleMeta, ChangeKind, Charset, Digest, Millis, RevisionId, codec,
};
use newsarc_pack::block::{Directory, Member};
use newsarc_pack::{Codec, Header, Kind, Location};

use crate::apply::{self, Indexer, RecordSource};
use crate::documents::{self, MAX_DELTA_DEPTH, MAX_SAMPLES, RETRAIN_AT, TRAIN_AT};
use crate::engine::KvEngine;
use crate::index::{self, DocumentValue, HistoryValue, IndexState, ObservationValue, RecordRef};
use crate::overlay::Overlay;
use crate::store::{Store, Writer};
use crate::{StoreError, keys};

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

/// What storing a fetch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The article's first revision.
    NewArticle,
    /// A revision of a known article whose bytes changed.
    NewRevision,
    /// The bytes equal the revision current at the fetch's time: an
    /// observation was recorded.
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

/// What storing a fetch did, with the ids it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    /// What happened.
    pub outcome: Outcome,
    /// The new revision, or the one whose bytes were seen.
    pub revision: RevisionId,
    /// The document's digest.
    pub blob: Digest,
    /// The revision's number in its article's chain.
    pub seq: u32,
    /// The change kind, for a new revision.
    pub change: Option<ChangeKind>,
    /// The article had been gone: a `reappeared` event was recorded first.
    pub reappeared: bool,
}

/// A commit in progress: what it writes is visible to it at once, to
/// others when [`Commit::finish`] returns (durably).
pub struct Commit<'s> {
    store: &'s Store,
    writer: MutexGuard<'s, Writer>,
    overlay: Overlay<'s>,
    /// The records of this commit, in order, encoded.
    records: Vec<Vec<u8>>,
    /// Documents written by this commit, decoded: the bases of the next.
    documents: HashMap<Digest, Vec<u8>>,
    /// Documents this commit stores on their own: written when it
    /// finishes, together in document blocks.
    alone: Vec<PendingAlone>,
    /// Deltas this commit stores, written after the documents on their
    /// own, so that a delta's frame never comes before its base's.
    deltas: Vec<PendingDelta>,
}

/// A document a commit stores on its own when it finishes.
struct PendingAlone {
    digest: Digest,
    /// Its article: a block keeps an article's documents, and its outlet's,
    /// next to each other, and a document alone in its frame uses its
    /// outlet's dictionary.
    article: ArticleKey,
}

/// A delta a commit writes when it finishes.
struct PendingDelta {
    digest: Digest,
    base: Digest,
    depth: u8,
    /// Its compressed bytes.
    payload: Vec<u8>,
}

/// Reads records through a commit: its own, then the store's.
struct Pending<'c> {
    store: &'c Store,
    records: &'c [Vec<u8>],
}

impl RecordSource for Pending<'_> {
    fn record_bytes(&self, at: RecordRef) -> Result<Vec<u8>, StoreError> {
        if apply::is_pending(&at) {
            self.records
                .get(at.index as usize)
                .cloned()
                .ok_or_else(|| StoreError::Internal(format!("no pending record {}", at.index)))
        } else {
            self.store.batches.record(&self.store.packs, at)
        }
    }
}

impl Store {
    /// Starts a commit; it holds the store's writer until it is finished
    /// or dropped (dropping writes nothing to the index).
    pub fn begin(&self) -> Result<Commit<'_>, StoreError> {
        let writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        if writer.packs.is_none() {
            return Err(StoreError::ReadOnly {
                location: self.location.clone(),
            });
        }
        Ok(Commit {
            store: self,
            writer,
            overlay: Overlay::new(&self.index),
            records: Vec::new(),
            documents: HashMap::new(),
            alone: Vec::new(),
            deltas: Vec::new(),
        })
    }
}

impl<'s> Commit<'s> {
    fn history_value(entry: &(Vec<u8>, Vec<u8>)) -> Result<HistoryValue, StoreError> {
        index::decode(&entry.1, "history", &entry.0)
    }

    /// The record a ref names, this commit's own included.
    fn record(&self, at: RecordRef) -> Result<Vec<u8>, StoreError> {
        Pending {
            store: self.store,
            records: &self.records,
        }
        .record_bytes(at)
    }

    fn revision_record(&self, value: &HistoryValue) -> Result<RevisionRecord, StoreError> {
        let bytes = self.record(value.record)?;
        codec::decode(&bytes).map_err(|err| StoreError::CorruptRecord {
            kind: RevisionRecord::KIND,
            id: value.id.to_string(),
            reason: err.to_string(),
        })
    }

    /// Appends `record` to this commit and indexes it.
    fn push<R: Record>(&mut self, record: &R) -> Result<Vec<u8>, StoreError> {
        let bytes = codec::encode(record).map_err(|err| StoreError::Internal(err.to_string()))?;
        self.push_bytes(bytes)
    }

    /// Appends an encoded record to this commit and indexes it.
    pub(crate) fn push_bytes(&mut self, bytes: Vec<u8>) -> Result<Vec<u8>, StoreError> {
        let at = apply::pending(self.records.len() as u32);
        self.records.push(bytes.clone());
        let source = Pending {
            store: self.store,
            records: &self.records,
        };
        let mut indexer = Indexer::new(&mut self.overlay)?;
        indexer.record(&bytes, at, &source)?;
        indexer.finish()?;
        Ok(bytes)
    }

    /// The article as this commit leaves it so far.
    pub fn article(&mut self, key: &ArticleKey) -> Result<Option<ArticleRecord>, StoreError> {
        let value = Indexer::new(&mut self.overlay)?.article(key)?;
        value
            .map(|value| apply::article_record(&self.overlay, key.clone(), value))
            .transpose()
    }

    /// The history entry current at `at` (the last fetched at or before it).
    pub(crate) fn current_at(
        &self,
        key: &ArticleKey,
        at: Millis,
    ) -> Result<Option<HistoryValue>, StoreError> {
        self.overlay
            .last_at_or_before(
                &keys::history_prefix(key),
                &keys::history(key, at, u32::MAX),
            )?
            .map(|entry| Self::history_value(&entry))
            .transpose()
    }

    /// The capture of `blob` in `key` at `at`, when one is recorded.
    fn already_archived(
        &self,
        key: &ArticleKey,
        at: Millis,
        blob: &Digest,
    ) -> Result<Option<Added>, StoreError> {
        let found = |revision: RevisionId, seq: u32| Added {
            outcome: Outcome::AlreadyArchived,
            revision,
            blob: *blob,
            seq,
            change: None,
            reappeared: false,
        };
        for entry in self.overlay.scan_prefix(&keys::history_at(key, at))? {
            let value = Self::history_value(&entry)?;
            if value.blob == *blob {
                let seq = keys::parse_history(&entry.0).map_or(0, |(_, seq)| seq);
                return Ok(Some(found(value.id, seq)));
            }
        }
        for (entry_key, bytes) in self.overlay.scan_prefix(&keys::observation_at(key, at))? {
            let value: ObservationValue = index::decode(&bytes, "observation", &entry_key)?;
            if value.blob == *blob {
                let seq = self.revision_seq(&value.revision)?;
                return Ok(Some(found(value.revision, seq)));
            }
        }
        Ok(None)
    }

    fn revision_seq(&self, id: &RevisionId) -> Result<u32, StoreError> {
        let key = keys::revision(id);
        let value: index::RevisionValue = match self.overlay.get(&key)? {
            Some(bytes) => index::decode(&bytes, "revision", &key)?,
            None => return Err(StoreError::MissingRevision { id: *id }),
        };
        Ok(value.seq)
    }

    /// Stores a fetch, compared with the article as it stood at the fetch's
    /// time (the revision fetched last at or before it): the same bytes
    /// make an observation of that revision, other bytes a new revision,
    /// placed in the timeline at its time and appended to the article's
    /// hash chain (which keeps the order the archive learnt things in). A
    /// fetch already recorded (same article, bytes and time) writes nothing.
    pub fn add_fetch(&mut self, fetch: &Fetch<'_>) -> Result<Added, StoreError> {
        let digest = Digest::of(fetch.bytes);
        if let Some(added) = self.already_archived(&fetch.article, fetch.fetched_at, &digest)? {
            return Ok(added);
        }
        let article = self.article(&fetch.article)?;
        let current = self.current_at(&fetch.article, fetch.fetched_at)?;
        let reappeared = match &article {
            // Back after being gone, unless this fetch was made before it
            // went (an old capture archived late says nothing about now).
            Some(article)
                if article
                    .gone_since
                    .is_some_and(|since| fetch.fetched_at >= since) =>
            {
                self.push_event(
                    article,
                    EventKind::Reappeared,
                    fetch.fetched_at,
                    fetch.http.clone().unwrap_or_default(),
                )?;
                true
            }
            _ => false,
        };
        if let Some(current) = current.as_ref().filter(|current| current.blob == digest) {
            let seq = self.revision_seq(&current.id)?;
            self.push(&ObservationRecord {
                article: fetch.article.clone(),
                revision: current.id,
                blob: digest,
                fetched_at: fetch.fetched_at,
                source: fetch.source.clone(),
                kind: ObservationKind::Unchanged,
                http: fetch.http.clone(),
            })?;
            return Ok(Added {
                outcome: Outcome::Unchanged,
                revision: current.id,
                blob: digest,
                seq,
                change: None,
                reappeared,
            });
        }

        let current_record = current
            .as_ref()
            .map(|current| self.revision_record(current))
            .transpose()?;
        // The neighbour in time is the likeliest to share text; else the
        // chain's head.
        let base = match (&current, &article) {
            (Some(current), _) => Some(current.blob),
            (None, Some(article)) => Some(self.head_blob(article)?),
            (None, None) => None,
        };
        self.store_document(fetch.bytes, digest, base, &fetch.article)?;

        let seq = article.as_ref().map_or(1, |article| article.revisions + 1);
        let record = RevisionRecord {
            article: fetch.article.clone(),
            seq,
            blob: digest,
            size: fetch.bytes.len() as u64,
            parent: article.as_ref().map(|article| article.latest),
            fetched_at: fetch.fetched_at,
            source: fetch.source.clone(),
            meta: fetch.meta.clone(),
            canonical_url: fetch.canonical_url.clone(),
            text_digest: fetch.text_digest,
            change: ChangeKind::New,
            http: fetch.http.clone(),
            charset: fetch.charset.clone().filter(|charset| !charset.is_utf8()),
        };
        let record = RevisionRecord {
            change: record.change_from(current_record.as_ref()),
            ..record
        };
        let bytes = self.push(&record)?;
        Ok(Added {
            outcome: if article.is_some() {
                Outcome::NewRevision
            } else {
                Outcome::NewArticle
            },
            revision: RevisionId::of_record(&bytes),
            blob: digest,
            seq,
            change: Some(record.change),
            reappeared,
        })
    }

    pub(crate) fn head_blob(&self, article: &ArticleRecord) -> Result<Digest, StoreError> {
        let key = keys::revision(&article.latest);
        let locator: index::RevisionValue = match self.overlay.get(&key)? {
            Some(bytes) => index::decode(&bytes, "revision", &key)?,
            None => return Err(StoreError::MissingRevision { id: article.latest }),
        };
        let entry_key = keys::history(&article.key, locator.fetched_at, locator.seq);
        match self.overlay.get(&entry_key)? {
            Some(bytes) => Ok(index::decode::<HistoryValue>(&bytes, "history", &entry_key)?.blob),
            None => Err(StoreError::MissingRevision { id: article.latest }),
        }
    }

    /// Records a `304 Not Modified` answer as an observation of the
    /// article's latest revision in time (and a `reappeared` event first if
    /// it was gone).
    pub fn add_not_modified(&mut self, fetch: &BodilessFetch) -> Result<Added, StoreError> {
        let article = self
            .article(&fetch.article)?
            .ok_or_else(|| StoreError::MissingArticle {
                key: fetch.article.clone(),
            })?;
        let current = self
            .current_at(&fetch.article, fetch.fetched_at)?
            .ok_or_else(|| StoreError::MissingArticle {
                key: fetch.article.clone(),
            })?;
        if let Some(added) =
            self.already_archived(&fetch.article, fetch.fetched_at, &current.blob)?
        {
            return Ok(added);
        }
        let reappeared = article
            .gone_since
            .is_some_and(|since| fetch.fetched_at >= since);
        if reappeared {
            self.push_event(
                &article,
                EventKind::Reappeared,
                fetch.fetched_at,
                fetch.http.clone(),
            )?;
        }
        let seq = self.revision_seq(&current.id)?;
        self.push(&ObservationRecord {
            article: fetch.article.clone(),
            revision: current.id,
            blob: current.blob,
            fetched_at: fetch.fetched_at,
            source: fetch.http.final_url.clone(),
            kind: ObservationKind::NotModified,
            http: Some(fetch.http.clone()),
        })?;
        Ok(Added {
            outcome: Outcome::NotModified,
            revision: current.id,
            blob: current.blob,
            seq,
            change: None,
            reappeared,
        })
    }

    /// Records that the article's URL answered 404 or 410: a `gone` event,
    /// unless the article is already gone (then nothing changes and `None`
    /// is returned).
    pub fn add_gone(&mut self, fetch: &BodilessFetch) -> Result<Option<Digest>, StoreError> {
        let article = self
            .article(&fetch.article)?
            .ok_or_else(|| StoreError::MissingArticle {
                key: fetch.article.clone(),
            })?;
        if article.gone_since.is_some() {
            return Ok(None);
        }
        self.push_event(
            &article,
            EventKind::Gone,
            fetch.fetched_at,
            fetch.http.clone(),
        )
        .map(Some)
    }

    fn push_event(
        &mut self,
        article: &ArticleRecord,
        kind: EventKind,
        at: Millis,
        http: HttpFacts,
    ) -> Result<Digest, StoreError> {
        let bytes = self.push(&EventRecord {
            article: article.key.clone(),
            number: article.events + 1,
            kind,
            at,
            latest: article.latest,
            http,
        })?;
        Ok(Digest::of(&bytes))
    }

    /// Keeps a fetch that produced no page, as evidence of the attempt.
    pub fn add_failed_attempt(&mut self, attempt: &AttemptRecord) -> Result<(), StoreError> {
        self.push(attempt).map(drop)
    }

    /// The fetcher's state for `url`, as this commit leaves it so far.
    pub fn url_state(&self, url: &str) -> Result<Option<UrlRecord>, StoreError> {
        self.overlay
            .get(&keys::url(url))?
            .map(|bytes| apply::decode_url(&bytes, url))
            .transpose()
    }

    /// Replaces the fetcher's state for `record.url` (kept in the packs as
    /// well: every state it was ever in).
    pub fn put_url_state(&mut self, record: &UrlRecord) -> Result<(), StoreError> {
        self.push(record).map(drop)
    }

    /// A document already in the store or in this commit, decoded.
    fn document_bytes(&self, digest: &Digest) -> Result<Vec<u8>, StoreError> {
        match self.documents.get(digest) {
            Some(bytes) => Ok(bytes.clone()),
            None => self.store.blob(digest),
        }
    }

    /// The delta depth of a document the store or this commit holds; `None`
    /// when neither does.
    fn document_depth(&self, digest: &Digest) -> Result<Option<u8>, StoreError> {
        if self.alone.iter().any(|alone| alone.digest == *digest) {
            return Ok(Some(0));
        }
        if let Some(delta) = self.deltas.iter().find(|delta| delta.digest == *digest) {
            return Ok(Some(delta.depth));
        }
        let key = keys::document(digest);
        self.overlay
            .get(&key)?
            .map(|bytes| index::decode::<DocumentValue>(&bytes, "document", &key))
            .transpose()
            .map(|value| value.map(|value| value.depth))
    }

    /// Stores a document unless the store holds it: a delta against `base`
    /// while the chain is short enough; else on its own, written when the
    /// commit finishes, together with the commit's other such documents. A
    /// document whose base is one of those joins them: next to its base in
    /// a block, zstd finds what the two share as a delta would, without a
    /// frame of its own (`docs/PERFORMANCE.md`).
    pub(crate) fn store_document(
        &mut self,
        bytes: &[u8],
        digest: Digest,
        base: Option<Digest>,
        article: &ArticleKey,
    ) -> Result<(), StoreError> {
        if self.document_depth(&digest)?.is_some() {
            return Ok(());
        }
        let base_is_alone =
            base.is_some_and(|base| self.alone.iter().any(|alone| alone.digest == base));
        let base = match base.filter(|_| !base_is_alone) {
            Some(base) => self
                .document_depth(&base)?
                .filter(|depth| *depth < MAX_DELTA_DEPTH)
                .map(|depth| (base, depth)),
            None => None,
        };
        match base {
            Some((base, depth)) => {
                let base_bytes = self.document_bytes(&base)?;
                self.deltas.push(PendingDelta {
                    digest,
                    base,
                    depth: depth + 1,
                    payload: documents::compress_delta(bytes, &base_bytes)?,
                });
            }
            None => self.alone.push(PendingAlone {
                digest,
                article: article.clone(),
            }),
        }
        self.documents.insert(digest, bytes.to_vec());
        Ok(())
    }

    /// Writes the commit's documents: those on their own, then the deltas.
    fn write_pending(&mut self) -> Result<(), StoreError> {
        let mut alone = std::mem::take(&mut self.alone);
        self.write_standalone(&mut alone)?;
        for delta in std::mem::take(&mut self.deltas) {
            let len = self.documents.get(&delta.digest).map_or(0, Vec::len);
            let location = self.append(
                Kind::Document,
                Codec::ZstdDelta,
                delta.digest,
                len,
                Some(delta.base),
                &delta.payload,
            )?;
            let mut indexer = Indexer::new(&mut self.overlay)?;
            indexer.document(&delta.digest, location, len as u64, delta.depth, true, None)?;
            indexer.finish()?;
        }
        Ok(())
    }

    /// Writes the documents stored on their own: one alone in a frame of
    /// its own, with its outlet's dictionary when there is one; more in
    /// document blocks of up to [`documents::BLOCK_BYTES`] each, an
    /// outlet's documents next to each other.
    fn write_standalone(&mut self, standalone: &mut [PendingAlone]) -> Result<(), StoreError> {
        // Stable: an article's documents stay in the order they came.
        standalone.sort_by(|a, b| a.article.cmp(&b.article));
        let mut group: Vec<&PendingAlone> = Vec::new();
        let mut group_bytes = 0;
        for pending in standalone.iter() {
            let len = self.documents.get(&pending.digest).map_or(0, Vec::len);
            if !group.is_empty() && group_bytes + len > documents::BLOCK_BYTES {
                self.write_group(&group)?;
                group.clear();
                group_bytes = 0;
            }
            group.push(pending);
            group_bytes += len;
        }
        self.write_group(&group)
    }

    fn write_group(&mut self, group: &[&PendingAlone]) -> Result<(), StoreError> {
        match group {
            [] => Ok(()),
            [alone] => self.write_alone(alone.digest, apply::outlet(&alone.article)),
            group => {
                let digests: Vec<Digest> = group.iter().map(|alone| alone.digest).collect();
                self.write_block(&digests)
            }
        }
    }

    fn write_alone(&mut self, digest: Digest, outlet: &str) -> Result<(), StoreError> {
        let bytes = self.pending_bytes(&digest)?;
        let dictionary = self.dictionary_for(outlet)?;
        let (codec, payload) = match dictionary {
            Some(dictionary) => {
                let encoder = self.encoder(&dictionary)?;
                (
                    Codec::ZstdDictionary,
                    documents::compress(&bytes, Some(&encoder))?,
                )
            }
            None => (Codec::Zstd, documents::compress(&bytes, None)?),
        };
        let location = self.append(
            Kind::Document,
            codec,
            digest,
            bytes.len(),
            dictionary,
            &payload,
        )?;
        let mut indexer = Indexer::new(&mut self.overlay)?;
        indexer.document(&digest, location, bytes.len() as u64, 0, true, None)?;
        indexer.finish()
    }

    fn write_block(&mut self, group: &[Digest]) -> Result<(), StoreError> {
        let mut members = Vec::with_capacity(group.len());
        let mut content = Vec::new();
        for digest in group {
            let bytes = self.pending_bytes(digest)?;
            members.push(Member {
                digest: *digest,
                len: bytes.len() as u32,
            });
            content.extend_from_slice(&bytes);
        }
        let directory = Directory { members };
        let mut payload = directory.encode();
        payload.extend_from_slice(&documents::compress_block(&content)?);
        let location = self.append(
            Kind::DocumentBlock,
            Codec::Zstd,
            Digest::of(&content),
            content.len(),
            None,
            &payload,
        )?;
        let mut indexer = Indexer::new(&mut self.overlay)?;
        for (index, member) in directory.members.iter().enumerate() {
            indexer.document(
                &member.digest,
                location,
                u64::from(member.len),
                0,
                true,
                Some(index as u32),
            )?;
        }
        indexer.finish()
    }

    fn pending_bytes(&self, digest: &Digest) -> Result<Vec<u8>, StoreError> {
        self.documents.get(digest).cloned().ok_or_else(|| {
            StoreError::Internal(format!("document {digest} was to be written and is gone"))
        })
    }

    fn append(
        &mut self,
        kind: Kind,
        codec: Codec,
        content: Digest,
        content_len: usize,
        reference: Option<Digest>,
        payload: &[u8],
    ) -> Result<Location, StoreError> {
        let header = Header::new(kind, codec, content, content_len as u32, reference, payload)
            .map_err(|err| StoreError::Internal(err.to_string()))?;
        let packs = self
            .writer
            .packs
            .as_mut()
            .ok_or_else(|| StoreError::ReadOnly {
                location: self.store.location.clone(),
            })?;
        Ok(packs.append(&header, payload)?)
    }

    /// The prepared encoder of a dictionary.
    fn encoder(
        &mut self,
        digest: &Digest,
    ) -> Result<Arc<zstd::dict::EncoderDictionary<'static>>, StoreError> {
        if let Some(encoder) = self.writer.encoders.get(digest) {
            return Ok(Arc::clone(encoder));
        }
        let bytes = self.document_bytes(digest)?;
        let encoder = Arc::new(zstd::dict::EncoderDictionary::copy(
            &bytes,
            documents::ZSTD_LEVEL,
        ));
        self.writer.encoders.insert(*digest, Arc::clone(&encoder));
        Ok(encoder)
    }

    /// The dictionary a document of `outlet` alone in its frame is
    /// compressed with: the outlet's current one, trained first when it is
    /// due ([`TRAIN_AT`], [`RETRAIN_AT`]).
    fn dictionary_for(&mut self, outlet: &str) -> Result<Option<Digest>, StoreError> {
        let value = Indexer::new(&mut self.overlay)?.dictionary_value(outlet)?;
        let due = match value.digest {
            None => value.first_revisions >= TRAIN_AT,
            Some(_) => {
                (value.samples as usize) < MAX_SAMPLES && value.first_revisions >= RETRAIN_AT
            }
        };
        if due {
            self.train(outlet).map(Some)
        } else {
            Ok(value.digest)
        }
    }

    /// Trains the outlet's dictionary from up to [`MAX_SAMPLES`] of its
    /// first revisions (its first articles in key order), kept as a frame
    /// and named in a record.
    fn train(&mut self, outlet: &str) -> Result<Digest, StoreError> {
        let mut prefix = vec![keys::ARTICLE];
        prefix.extend_from_slice(outlet.as_bytes());
        prefix.push(b'/');
        let mut samples = Vec::new();
        for (entry_key, _) in self.overlay.scan_prefix(&prefix)? {
            if samples.len() == MAX_SAMPLES {
                break;
            }
            let Ok(key) = std::str::from_utf8(&entry_key[1..])
                .map_err(drop)
                .and_then(|name| ArticleKey::new(name).map_err(drop))
            else {
                continue;
            };
            let first = self
                .overlay
                .scan_prefix(&keys::history_prefix(&key))?
                .into_iter()
                .find(|(entry, _)| keys::parse_history(entry).is_some_and(|(_, seq)| seq == 1));
            if let Some(entry) = first {
                let value = Self::history_value(&entry)?;
                samples.push(self.document_bytes(&value.blob)?);
            }
        }
        let dictionary = documents::train(&samples).map_err(|err| {
            StoreError::Internal(format!("zstd could not train a dictionary: {err}"))
        })?;
        let digest = Digest::of(&dictionary);
        if self.document_depth(&digest)?.is_none() {
            let payload = documents::compress(&dictionary, None)?;
            let location = self.append(
                Kind::Dictionary,
                Codec::Zstd,
                digest,
                dictionary.len(),
                None,
                &payload,
            )?;
            let mut indexer = Indexer::new(&mut self.overlay)?;
            indexer.document(&digest, location, dictionary.len() as u64, 0, false, None)?;
            indexer.finish()?;
            self.documents.insert(digest, dictionary);
        }
        self.push(&DictionaryRecord {
            outlet: outlet.to_owned(),
            digest,
            samples: samples.len() as u32,
            trained_at: Millis::now(),
        })?;
        Ok(digest)
    }

    /// True when the commit has written nothing.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty() && self.overlay.is_empty()
    }

    /// Makes the commit durable: its records as one batch frame, the pack
    /// synced, then the index entries applied and flushed, then the head
    /// witness. Everything it reported is durable when this returns.
    pub fn finish(mut self) -> Result<(), StoreError> {
        if self.records.is_empty() {
            // Documents are only ever written with a record that names them.
            return Ok(());
        }
        self.write_pending()?;
        let content = crate::records::encode_batch(&self.records);
        let (header, payload) = crate::records::batch_frame(&content)?;
        let packs = self
            .writer
            .packs
            .as_mut()
            .ok_or_else(|| StoreError::ReadOnly {
                location: self.store.location.clone(),
            })?;
        let batch_at = packs.append(&header, &payload)?;
        packs.sync()?;
        let end = packs.end();
        resolve_pending(self.overlay.writes_mut(), batch_at)?;
        self.overlay.put(
            keys::INDEXED.to_vec(),
            index::encode(&IndexState {
                version: index::INDEX_VERSION,
                pack: end.pack,
                offset: end.offset,
            })?,
        );
        let batch =
            std::mem::replace(&mut self.overlay, Overlay::new(&self.store.index)).into_batch();
        self.store.index.apply(batch)?;
        self.store.index.flush()?;
        self.store.record_witness()?;
        // The commit is durable: a compaction that fails leaves the index
        // as it was, and is said, not returned.
        if let Err(err) = self.store.compact_if_large() {
            self.store.report_uncompacted(&err);
        }
        Ok(())
    }
}

/// Gives the records of a commit their place: every index value written
/// with a pending ref now points at the batch frame at `batch`.
pub(crate) fn resolve_pending(
    writes: &mut std::collections::BTreeMap<Vec<u8>, Vec<u8>>,
    batch: Location,
) -> Result<(), StoreError> {
    fn place(at: &mut RecordRef, batch: Location) -> bool {
        if apply::is_pending(at) {
            at.pack = batch.pack;
            at.offset = batch.offset;
            true
        } else {
            false
        }
    }
    for (key, value) in writes.iter_mut() {
        let Some(&tag) = key.first() else { continue };
        let rewritten = match tag {
            keys::HISTORY => {
                let mut entry: HistoryValue = index::decode(value, "history", key)?;
                place(&mut entry.record, batch)
                    .then(|| index::encode(&entry))
                    .transpose()?
            }
            keys::OBSERVATION => {
                let mut entry: ObservationValue = index::decode(value, "observation", key)?;
                place(&mut entry.record, batch)
                    .then(|| index::encode(&entry))
                    .transpose()?
            }
            keys::ARTICLE_EVENT => {
                let mut entry: index::EventValue = index::decode(value, "event", key)?;
                place(&mut entry.record, batch)
                    .then(|| index::encode(&entry))
                    .transpose()?
            }
            keys::LOG => {
                let mut entry: index::LogValue = index::decode(value, "log", key)?;
                place(&mut entry.record, batch)
                    .then(|| index::encode(&entry))
                    .transpose()?
            }
            keys::ATTEMPT => {
                let mut entry: index::AttemptValue = index::decode(value, "attempt", key)?;
                place(&mut entry.record, batch)
                    .then(|| index::encode(&entry))
                    .transpose()?
            }
            _ => None,
        };
        if let Some(bytes) = rewritten {
            *value = bytes;
        }
    }
    Ok(())
}
