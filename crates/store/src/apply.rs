//! Derived data in one place: the index entries each document frame and
//! each record imply. A commit applies its own records through here, a
//! rebuild applies every record of the packs through here, and `verify`
//! checks the entries these functions would write.

use newsarc_model::record::{
    ArticleRecord, AttemptRecord, Counters, DictionaryRecord, EventKind, EventRecord,
    ObservationKind, ObservationRecord, Record, RevisionRecord, UrlRecord,
};
use newsarc_model::{ArticleKey, Digest, RevisionId, codec};
use newsarc_pack::Location;

use crate::engine::Entry;
use crate::index::{
    self, ArticleValue, AttemptValue, DictionaryValue, DocumentValue, EventLocator, EventValue,
    HistoryValue, LogValue, ObservationValue, RecordRef, RevisionValue,
};
use crate::overlay::Overlay;
use crate::records::StoredRecord;
use crate::{StoreError, keys};

/// Reads a record by where it is: in the packs, or in a commit not yet
/// written.
pub(crate) trait RecordSource {
    fn record_bytes(&self, at: RecordRef) -> Result<Vec<u8>, StoreError>;
}

/// The record ref of a commit's `index`th record, before its batch has a
/// place in the packs.
pub(crate) fn pending(index: u32) -> RecordRef {
    RecordRef {
        pack: u32::MAX,
        offset: u64::MAX,
        index,
    }
}

/// True for a ref made by [`pending`].
pub(crate) fn is_pending(at: &RecordRef) -> bool {
    at.pack == u32::MAX
}

/// The outlet of an article: the host its key starts with.
pub(crate) fn outlet(key: &ArticleKey) -> &str {
    key.as_str().split('/').next().unwrap_or(key.as_str())
}

/// Applies documents and records to an index, keeping the whole-store
/// counters as it goes.
pub(crate) struct Indexer<'o, 'e> {
    pub(crate) overlay: &'o mut Overlay<'e>,
    pub(crate) counters: Counters,
}

impl<'o, 'e> Indexer<'o, 'e> {
    /// An indexer over `overlay`, starting from its counters.
    pub(crate) fn new(overlay: &'o mut Overlay<'e>) -> Result<Self, StoreError> {
        let counters = match overlay.get(keys::COUNTERS)? {
            Some(bytes) => codec::decode(&bytes).map_err(|err| StoreError::CorruptIndex {
                index: Counters::KIND,
                entry: "counters".into(),
                reason: err.to_string(),
            })?,
            None => Counters::default(),
        };
        Ok(Self { overlay, counters })
    }

    /// Writes the counters back.
    pub(crate) fn finish(self) -> Result<(), StoreError> {
        let bytes =
            codec::encode(&self.counters).map_err(|err| StoreError::Internal(err.to_string()))?;
        self.overlay.put(keys::COUNTERS.to_vec(), bytes);
        Ok(())
    }

    /// A document (or dictionary) in the frame at `location` (its own, or
    /// member `member` of a document block): where its content is, and, for
    /// a document, its bytes in the total.
    pub(crate) fn document(
        &mut self,
        digest: &Digest,
        location: Location,
        size: u64,
        depth: u8,
        is_document: bool,
        member: Option<u32>,
    ) -> Result<(), StoreError> {
        let key = keys::document(digest);
        if self.overlay.get(&key)?.is_some() {
            return Ok(());
        }
        let value = DocumentValue {
            pack: location.pack,
            offset: location.offset,
            size,
            depth,
            member,
        };
        self.overlay.put(key, index::encode(&value)?);
        if is_document {
            self.counters.raw_bytes += size;
        }
        Ok(())
    }

    /// One record of a batch, stored at `at`.
    pub(crate) fn record(
        &mut self,
        bytes: &[u8],
        at: RecordRef,
        records: &dyn RecordSource,
    ) -> Result<(), StoreError> {
        let decoded = StoredRecord::decode(bytes).map_err(|err| StoreError::CorruptRecord {
            kind: "record",
            id: format!("{}#{}", at.frame(), at.index),
            reason: err.to_string(),
        })?;
        match decoded {
            StoredRecord::Revision(record) => {
                self.revision(RevisionId::of_record(bytes), &record, at, records)
            }
            StoredRecord::Observation(record) => self.observation(&record, at),
            StoredRecord::Event(record) => self.event(Digest::of(bytes), &record, at),
            StoredRecord::Url(record) => {
                self.overlay.put(keys::url(&record.url), bytes.to_vec());
                Ok(())
            }
            StoredRecord::Attempt(record) => self.attempt(&record, at),
            StoredRecord::Dictionary(record) => self.dictionary(&record),
        }
    }

    pub(crate) fn article(&self, key: &ArticleKey) -> Result<Option<ArticleValue>, StoreError> {
        let entry = keys::article(key);
        self.overlay
            .get(&entry)?
            .map(|bytes| index::decode(&bytes, "article", &entry))
            .transpose()
    }

    fn put_article(&mut self, key: &ArticleKey, value: &ArticleValue) -> Result<(), StoreError> {
        self.overlay.put(keys::article(key), index::encode(value)?);
        Ok(())
    }

    /// The revision record a history entry points at.
    fn history_record(
        &self,
        entry: &(Vec<u8>, Vec<u8>),
        records: &dyn RecordSource,
    ) -> Result<(HistoryValue, RevisionRecord), StoreError> {
        let value: HistoryValue = index::decode(&entry.1, "history", &entry.0)?;
        let bytes = records.record_bytes(value.record)?;
        let record = codec::decode(&bytes).map_err(|err| StoreError::CorruptRecord {
            kind: RevisionRecord::KIND,
            id: value.id.to_string(),
            reason: err.to_string(),
        })?;
        Ok((value, record))
    }

    fn revision(
        &mut self,
        id: RevisionId,
        record: &RevisionRecord,
        at: RecordRef,
        records: &dyn RecordSource,
    ) -> Result<(), StoreError> {
        let key = &record.article;
        let prefix = keys::history_prefix(key);
        let entry_key = keys::history(key, record.fetched_at, record.seq);
        // Its neighbours in time: the change is against the one before, and
        // the one after (a capture archived late went between) is now
        // compared with it instead.
        let before = match record.seq.checked_sub(1) {
            Some(seq) => self
                .overlay
                .last_at_or_before(&prefix, &keys::history(key, record.fetched_at, seq))?,
            None => None,
        };
        let previous = before
            .map(|entry| self.history_record(&entry, records))
            .transpose()?;
        let change = record.change_from(previous.as_ref().map(|(_, record)| record));
        let after = self.overlay.first_after(&prefix, &entry_key)?;
        if let Some(entry) = &after {
            let (mut value, next) = self.history_record(entry, records)?;
            let recomputed = index::change_byte(next.change_from(Some(record)));
            if recomputed != value.change {
                value.change = recomputed;
                self.overlay.put(entry.0.clone(), index::encode(&value)?);
            }
        }
        let history = HistoryValue {
            id,
            blob: record.blob,
            size: record.size,
            change: index::change_byte(change),
            title: record.meta.title.clone(),
            charset: record.charset.as_ref().map(|charset| charset.name.clone()),
            record: at,
        };
        self.overlay.put(entry_key, index::encode(&history)?);
        let locator = RevisionValue {
            article: key.to_string(),
            fetched_at: record.fetched_at,
            seq: record.seq,
        };
        self.overlay
            .put(keys::revision(&id), index::encode(&locator)?);
        self.counters.revisions += 1;
        self.log(LogValue {
            event: false,
            record: at,
        })?;

        let newest_in_time = after.is_none();
        let article = match self.article(key)? {
            Some(mut article) => {
                article.revisions = record.seq;
                article.first_seen = article.first_seen.min(record.fetched_at);
                article.last_seen = article.last_seen.max(record.fetched_at);
                if newest_in_time {
                    article.url = record.canonical_url.clone();
                }
                article
            }
            None => {
                self.counters.articles += 1;
                ArticleValue {
                    revisions: record.seq,
                    observations: 0,
                    events: 0,
                    first_seen: record.fetched_at,
                    last_seen: record.fetched_at,
                    gone_since: None,
                    url: record.canonical_url.clone(),
                }
            }
        };
        self.put_article(key, &article)?;
        if record.seq == 1 {
            let mut dictionary = self.dictionary_value(outlet(key))?;
            dictionary.first_revisions += 1;
            self.put_dictionary(outlet(key), &dictionary)?;
        }
        Ok(())
    }

    fn log(&mut self, value: LogValue) -> Result<(), StoreError> {
        let seq = self.counters.log_len();
        self.overlay.put(keys::log(seq), index::encode(&value)?);
        Ok(())
    }

    fn observation(&mut self, record: &ObservationRecord, at: RecordRef) -> Result<(), StoreError> {
        self.counters.observations += 1;
        let number = self.counters.observations;
        let value = ObservationValue {
            revision: record.revision,
            blob: record.blob,
            not_modified: record.kind == ObservationKind::NotModified,
            record: at,
        };
        self.overlay.put(
            keys::observation(&record.article, record.fetched_at, number),
            index::encode(&value)?,
        );
        let mut article =
            self.article(&record.article)?
                .ok_or_else(|| StoreError::MissingArticle {
                    key: record.article.clone(),
                })?;
        article.observations += 1;
        article.first_seen = article.first_seen.min(record.fetched_at);
        article.last_seen = article.last_seen.max(record.fetched_at);
        self.put_article(&record.article, &article)
    }

    fn event(&mut self, id: Digest, record: &EventRecord, at: RecordRef) -> Result<(), StoreError> {
        let key = &record.article;
        self.overlay.put(
            keys::article_event(key, record.number),
            index::encode(&EventValue { id, record: at })?,
        );
        self.overlay.put(
            keys::event(&id),
            index::encode(&EventLocator {
                article: key.to_string(),
                number: record.number,
            })?,
        );
        self.counters.events += 1;
        self.log(LogValue {
            event: true,
            record: at,
        })?;
        let mut article = self
            .article(key)?
            .ok_or_else(|| StoreError::MissingArticle { key: key.clone() })?;
        article.events = record.number;
        article.gone_since = match record.kind {
            EventKind::Gone => Some(record.at),
            EventKind::Reappeared => None,
        };
        self.put_article(key, &article)
    }

    fn attempt(&mut self, record: &AttemptRecord, at: RecordRef) -> Result<(), StoreError> {
        self.counters.failed_attempts += 1;
        self.overlay.put(
            keys::attempt(&record.url, self.counters.failed_attempts),
            index::encode(&AttemptValue { record: at })?,
        );
        Ok(())
    }

    pub(crate) fn dictionary_value(&self, outlet: &str) -> Result<DictionaryValue, StoreError> {
        let key = keys::dictionary(outlet);
        Ok(match self.overlay.get(&key)? {
            Some(bytes) => index::decode(&bytes, "dictionary", &key)?,
            None => DictionaryValue::default(),
        })
    }

    fn put_dictionary(&mut self, outlet: &str, value: &DictionaryValue) -> Result<(), StoreError> {
        self.overlay
            .put(keys::dictionary(outlet), index::encode(value)?);
        Ok(())
    }

    fn dictionary(&mut self, record: &DictionaryRecord) -> Result<(), StoreError> {
        let mut value = self.dictionary_value(&record.outlet)?;
        value.digest = Some(record.digest);
        value.samples = record.samples;
        self.put_dictionary(&record.outlet, &value)
    }
}

/// An article summary as the model's record (what the facade shows): its
/// title from its last history entry in time, its chain's head (revision
/// `revisions`) from that entry too unless revisions came out of order.
pub(crate) fn article_record(
    index: &Overlay<'_>,
    key: ArticleKey,
    value: ArticleValue,
) -> Result<ArticleRecord, StoreError> {
    let history = |(entry, bytes): &Entry| -> Result<(u32, HistoryValue), StoreError> {
        let seq = keys::parse_history(entry).map(|(_, seq)| seq);
        let value = index::decode::<HistoryValue>(bytes, "history", entry)?;
        Ok((seq.unwrap_or(0), value))
    };
    let prefix = keys::history_prefix(&key);
    let newest = index
        .last_at_or_before(&prefix, &keys::history_end(&key))?
        .map(|entry| history(&entry))
        .transpose()?;
    let head = match newest {
        Some((seq, ref entry)) if seq == value.revisions => Some(entry.id),
        _ => index
            .scan_prefix(&prefix)?
            .iter()
            .map(history)
            .find(|entry| {
                entry
                    .as_ref()
                    .map_or(true, |(seq, _)| *seq == value.revisions)
            })
            .transpose()?
            .map(|(_, entry)| entry.id),
    };
    let latest = head.ok_or_else(|| StoreError::CorruptIndex {
        index: "history",
        entry: key.to_string(),
        reason: format!(
            "the article's revision {} has no history entry",
            value.revisions
        ),
    })?;
    Ok(ArticleRecord {
        key,
        url: value.url,
        title: newest.and_then(|(_, entry)| entry.title),
        first_seen: value.first_seen,
        last_seen: value.last_seen,
        latest,
        revisions: value.revisions,
        observations: value.observations,
        events: value.events,
        gone_since: value.gone_since,
    })
}

/// A URL state's record bytes, for the index.
pub(crate) fn decode_url(bytes: &[u8], url: &str) -> Result<UrlRecord, StoreError> {
    codec::decode(bytes).map_err(|err| StoreError::CorruptIndex {
        index: UrlRecord::KIND,
        entry: url.to_owned(),
        reason: err.to_string(),
    })
}
