//! `verify`: re-hash every blob and record, check every link and index, and
//! report every finding without stopping at the first.

use std::collections::{HashMap, HashSet};

use newsarc_model::codec;
use newsarc_model::record::{
    ArticleRecord, Counters, EventKind, ObservationRecord, RevisionRecord,
};
use newsarc_model::{ArticleKey, Digest, Millis, RevisionId};

use crate::derived::{self, Index};
use crate::store::{BlobCache, decode_event, decode_revision};
use crate::{Store, StoreError, keys};

/// What kind of damage a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FindingKind {
    /// A blob does not decompress, or its bytes do not hash to its digest.
    CorruptBlob,
    /// A blob a revision (or a delta) needs is absent.
    MissingBlob,
    /// A record does not hash to its id or does not decode.
    CorruptRecord,
    /// A revision's parent link does not point at the previous revision.
    BrokenChain,
    /// An index entry points at nothing, or at a record that disagrees.
    DanglingIndex,
    /// A record lacks an index entry that should point at it.
    MissingIndex,
    /// An article record disagrees with its history.
    StaleArticle,
    /// A blob no revision refers to.
    OrphanBlob,
    /// A whole-store counter disagrees with what is stored.
    WrongCounter,
    /// The log is shorter than the head witness says it was at a flush, or
    /// its last acknowledged entry changed: the engine lost what it had
    /// made durable.
    LostEntries,
}

impl FindingKind {
    /// The snake_case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CorruptBlob => "corrupt_blob",
            Self::MissingBlob => "missing_blob",
            Self::CorruptRecord => "corrupt_record",
            Self::BrokenChain => "broken_chain",
            Self::DanglingIndex => "dangling_index",
            Self::MissingIndex => "missing_index",
            Self::StaleArticle => "stale_article",
            Self::OrphanBlob => "orphan_blob",
            Self::WrongCounter => "wrong_counter",
            Self::LostEntries => "lost_entries",
        }
    }
}

/// One problem `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What kind of problem.
    pub kind: FindingKind,
    /// The digest, revision id, article key or index key concerned.
    pub id: String,
    /// What should be there, where that applies.
    pub expected: Option<String>,
    /// What is there, where that applies.
    pub actual: Option<String>,
    /// A sentence for people.
    pub detail: String,
}

/// The whole report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries read.
    pub objects: u64,
    /// Stored bytes read.
    pub bytes: u64,
    /// Every problem found.
    pub findings: Vec<Finding>,
}

impl VerifyReport {
    /// True when nothing was found.
    pub fn ok(&self) -> bool {
        self.findings.is_empty()
    }

    fn find(
        &mut self,
        kind: FindingKind,
        id: impl ToString,
        expected: Option<String>,
        actual: Option<String>,
        detail: impl Into<String>,
    ) {
        self.findings.push(Finding {
            kind,
            id: id.to_string(),
            expected,
            actual,
            detail: detail.into(),
        });
    }

    fn read(&mut self, bytes: usize) {
        self.objects += 1;
        self.bytes += bytes as u64;
    }
}

struct Walk<'a> {
    store: &'a Store,
    report: VerifyReport,
    cache: BlobCache,
    /// Blobs checked so far and their sizes (`None`: damaged).
    blobs: HashMap<Digest, Option<u64>>,
    /// Revisions reached from a history, with their fetch time and blob.
    revisions: HashMap<RevisionId, (Millis, Digest)>,
    /// Revisions reached but damaged: already reported, so the index
    /// entries that point at them are not reported again.
    damaged: HashSet<RevisionId>,
    observations: u64,
    /// Events reached from an article's event index (damaged ones too, as
    /// they are reported where they are found).
    events: HashSet<Digest>,
    /// The timeline and capture entries the records reached imply, by key:
    /// each is ticked off when found, and what is left is missing.
    implied: HashMap<Vec<u8>, (Index, Vec<u8>)>,
}

impl Store {
    /// Checks the whole store. `progress` is called with the number of
    /// revisions checked so far. Errors only when the engine itself fails;
    /// every damage is a finding.
    pub fn verify(&self, progress: &mut dyn FnMut(u64)) -> Result<VerifyReport, StoreError> {
        let mut walk = Walk {
            store: self,
            report: VerifyReport::default(),
            cache: BlobCache::default(),
            blobs: HashMap::new(),
            revisions: HashMap::new(),
            damaged: HashSet::new(),
            observations: 0,
            events: HashSet::new(),
            implied: HashMap::new(),
        };
        let mut articles = 0u64;
        for entry in self.engine().scan_prefix(&[keys::ARTICLE]) {
            let (key, value) = entry?;
            walk.report.read(value.len());
            articles += 1;
            let name = String::from_utf8_lossy(&key[1..]).into_owned();
            match codec::decode::<ArticleRecord>(&value) {
                Ok(article) => walk.article(&name, &article)?,
                Err(err) => walk.report.find(
                    FindingKind::CorruptRecord,
                    &name,
                    None,
                    None,
                    format!("article record does not decode: {err}"),
                ),
            }
            progress(walk.revisions.len() as u64);
        }
        walk.unreached_revisions()?;
        walk.unreached_events()?;
        walk.unreferenced_blobs()?;
        let logged = walk.log()?;
        walk.time_index()?;
        walk.digest_index()?;
        walk.implied_indexes()?;
        walk.counters(articles, logged)?;
        walk.witness(logged)?;
        progress(walk.revisions.len() as u64);
        Ok(walk.report)
    }
}

impl Walk<'_> {
    fn article(&mut self, name: &str, article: &ArticleRecord) -> Result<(), StoreError> {
        let key = match ArticleKey::new(name) {
            Ok(key) if key == article.key => key,
            _ => {
                self.report.find(
                    FindingKind::CorruptRecord,
                    name,
                    Some(name.to_owned()),
                    Some(article.key.to_string()),
                    "article record is stored under another article's key",
                );
                return Ok(());
            }
        };
        let mut previous: Option<RevisionId> = None;
        let mut expected_seq = 1u32;
        for entry in self.store.engine().scan_prefix(&keys::history_prefix(&key)) {
            let (index_key, value) = entry?;
            self.report.read(value.len());
            let seq = keys::parse_history(&index_key).map(|(_, seq)| seq);
            let label = format!("{name}@{}", seq.map_or("?".into(), |s| s.to_string()));
            let Ok(id) = Digest::from_slice(&value).map(RevisionId) else {
                self.report.find(
                    FindingKind::DanglingIndex,
                    &label,
                    None,
                    None,
                    "history entry does not hold a revision id",
                );
                continue;
            };
            if seq != Some(expected_seq) {
                self.report.find(
                    FindingKind::MissingIndex,
                    &label,
                    Some(format!("{name}@{expected_seq}")),
                    Some(label.clone()),
                    "the article's history has a gap",
                );
                expected_seq = seq.unwrap_or(expected_seq);
            }
            expected_seq += 1;
            let Some(bytes) = self.store.engine().get(&keys::revision(&id))? else {
                self.report.find(
                    FindingKind::DanglingIndex,
                    &label,
                    None,
                    Some(id.to_string()),
                    format!("history entry points at revision {id}, which is missing"),
                );
                previous = Some(id);
                continue;
            };
            self.report.read(bytes.len());
            let record = match decode_revision(&id, &bytes) {
                Ok(record) => record,
                Err(err) => {
                    self.report.find(
                        FindingKind::CorruptRecord,
                        id,
                        Some(id.to_string()),
                        Some(RevisionId::of_record(&bytes).to_string()),
                        err.to_string(),
                    );
                    // Its blob is still checked (and so not called an orphan)
                    // when the damaged record still decodes.
                    if let Ok(record) = codec::decode::<RevisionRecord>(&bytes) {
                        self.check_blob(&record.blob, None)?;
                    }
                    self.damaged.insert(id);
                    previous = Some(id);
                    continue;
                }
            };
            if record.article != key || Some(record.seq) != seq {
                self.report.find(
                    FindingKind::DanglingIndex,
                    &label,
                    Some(label.clone()),
                    Some(format!("{}@{}", record.article, record.seq)),
                    format!("history entry points at revision {id} of another place"),
                );
            }
            if record.parent != previous {
                self.report.find(
                    FindingKind::BrokenChain,
                    id,
                    Some(previous.map_or("none".into(), |p| p.to_string())),
                    Some(record.parent.map_or("none".into(), |p| p.to_string())),
                    "the parent link does not point at the previous revision",
                );
            }
            self.check_blob(&record.blob, Some(record.size))?;
            self.imply(derived::of_revision(&id, &record));
            self.revisions.insert(id, (record.fetched_at, record.blob));
            previous = Some(id);
        }
        let revisions = expected_seq - 1;
        if previous != Some(article.latest) || revisions != article.revisions {
            self.report.find(
                FindingKind::StaleArticle,
                name,
                Some(format!(
                    "latest {} of {revisions}",
                    previous.map_or("none".into(), |p| p.to_string())
                )),
                Some(format!(
                    "latest {} of {}",
                    article.latest, article.revisions
                )),
                "the article record disagrees with its history",
            );
        }
        self.article_observations(&key, article)?;
        self.article_events(&key, article)
    }

    fn article_events(
        &mut self,
        key: &ArticleKey,
        article: &ArticleRecord,
    ) -> Result<(), StoreError> {
        let mut expected_number = 1u32;
        let mut last_kind = None;
        for entry in self
            .store
            .engine()
            .scan_prefix(&keys::article_event_prefix(key))
        {
            let (index_key, value) = entry?;
            self.report.read(value.len());
            let label = format!("{key}#event{expected_number}");
            let number = index_key
                .len()
                .checked_sub(4)
                .and_then(|at| <[u8; 4]>::try_from(&index_key[at..]).ok())
                .map(u32::from_be_bytes);
            if number != Some(expected_number) {
                self.report.find(
                    FindingKind::MissingIndex,
                    &label,
                    Some(expected_number.to_string()),
                    number.map(|n| n.to_string()),
                    "the article's events have a gap",
                );
            }
            expected_number = number.unwrap_or(expected_number) + 1;
            let Ok(id) = Digest::from_slice(&value) else {
                self.report.find(
                    FindingKind::DanglingIndex,
                    &label,
                    None,
                    None,
                    "event index entry does not hold an event id",
                );
                continue;
            };
            self.events.insert(id);
            let Some(bytes) = self.store.engine().get(&keys::event(&id))? else {
                self.report.find(
                    FindingKind::DanglingIndex,
                    &label,
                    None,
                    Some(id.to_string()),
                    format!("event index entry points at event {id}, which is missing"),
                );
                continue;
            };
            self.report.read(bytes.len());
            match decode_event(&id, &bytes) {
                Ok(event) if event.article == *key && number == Some(event.number) => {
                    if !self.revisions.contains_key(&event.latest)
                        && !self.damaged.contains(&event.latest)
                    {
                        self.report.find(
                            FindingKind::DanglingIndex,
                            id,
                            None,
                            Some(event.latest.to_string()),
                            "an event points at a revision outside the article's history",
                        );
                    }
                    last_kind = Some(event.kind);
                }
                Ok(event) => self.report.find(
                    FindingKind::DanglingIndex,
                    &label,
                    Some(label.clone()),
                    Some(format!("{}#event{}", event.article, event.number)),
                    format!("event index entry points at event {id} of another place"),
                ),
                Err(err) => self.report.find(
                    FindingKind::CorruptRecord,
                    id,
                    Some(id.to_string()),
                    Some(Digest::of(&bytes).to_string()),
                    err.to_string(),
                ),
            }
        }
        let count = expected_number - 1;
        let gone = last_kind == Some(EventKind::Gone);
        if count != article.events || gone != article.gone_since.is_some() {
            self.report.find(
                FindingKind::StaleArticle,
                key,
                Some(format!("{count} events, gone: {gone}")),
                Some(format!(
                    "{} events, gone: {}",
                    article.events,
                    article.gone_since.is_some()
                )),
                "the article record disagrees with its events",
            );
        }
        Ok(())
    }

    fn unreached_events(&mut self) -> Result<(), StoreError> {
        for entry in self.store.engine().scan_prefix(&[keys::EVENT]) {
            let (key, value) = entry?;
            self.report.read(value.len());
            match Digest::from_slice(&key[1..]) {
                Ok(id) if self.events.contains(&id) => {}
                Ok(id) => self.report.find(
                    FindingKind::MissingIndex,
                    id,
                    None,
                    None,
                    "the event is in no article's event index",
                ),
                Err(_) => self.report.find(
                    FindingKind::CorruptRecord,
                    hex_or_id(&key[1..]),
                    None,
                    None,
                    "an event is stored under a key that is not an id",
                ),
            }
        }
        Ok(())
    }

    fn article_observations(
        &mut self,
        key: &ArticleKey,
        article: &ArticleRecord,
    ) -> Result<(), StoreError> {
        let mut count = 0u32;
        for entry in self
            .store
            .engine()
            .scan_prefix(&keys::observation_prefix(key))
        {
            let (observation_key, value) = entry?;
            self.report.read(value.len());
            count += 1;
            let number = observation_key
                .len()
                .checked_sub(8)
                .and_then(|at| <[u8; 8]>::try_from(&observation_key[at..]).ok())
                .map(u64::from_be_bytes);
            match codec::decode::<ObservationRecord>(&value) {
                Ok(observation) => {
                    if let Some(number) = number {
                        self.imply(derived::of_observation(number, &observation));
                    }
                    if !self.revisions.contains_key(&observation.revision) {
                        self.report.find(
                            FindingKind::DanglingIndex,
                            key,
                            None,
                            Some(observation.revision.to_string()),
                            "an observation points at a revision outside the article's history",
                        );
                    }
                }
                Err(err) => self.report.find(
                    FindingKind::CorruptRecord,
                    key,
                    None,
                    None,
                    format!("observation does not decode: {err}"),
                ),
            }
        }
        self.observations += u64::from(count);
        if count != article.observations {
            self.report.find(
                FindingKind::StaleArticle,
                key,
                Some(format!("{count} observations")),
                Some(format!("{} observations", article.observations)),
                "the article record's observation count disagrees with its observations",
            );
        }
        Ok(())
    }

    fn check_blob(&mut self, digest: &Digest, size: Option<u64>) -> Result<(), StoreError> {
        if self.blobs.contains_key(digest) {
            return Ok(());
        }
        let stored = self.store.engine().get(&keys::blob(digest))?;
        let Some(stored) = stored else {
            self.report.find(
                FindingKind::MissingBlob,
                digest,
                None,
                None,
                "a revision's blob is missing",
            );
            self.blobs.insert(*digest, None);
            return Ok(());
        };
        self.report.read(stored.len());
        let outcome = match self.store.blob_cached(digest, &mut self.cache) {
            Ok(bytes) if size.is_some_and(|size| size != bytes.len() as u64) => {
                self.report.find(
                    FindingKind::CorruptRecord,
                    digest,
                    size.map(|s| s.to_string()),
                    Some(bytes.len().to_string()),
                    "the blob's size disagrees with its revision",
                );
                Some(bytes.len() as u64)
            }
            Ok(bytes) => Some(bytes.len() as u64),
            Err(StoreError::CorruptBlob {
                digest: bad,
                actual,
                reason,
            }) => {
                self.report.find(
                    FindingKind::CorruptBlob,
                    digest,
                    Some(digest.to_string()),
                    actual.map(|a| a.to_string()),
                    if bad == *digest {
                        reason
                    } else {
                        format!("its delta base {bad} is damaged: {reason}")
                    },
                );
                None
            }
            Err(StoreError::MissingBlob { digest: missing }) => {
                self.report.find(
                    FindingKind::MissingBlob,
                    missing,
                    None,
                    None,
                    format!("blob {digest} needs it"),
                );
                None
            }
            Err(other) => return Err(other),
        };
        self.blobs.insert(*digest, outcome);
        Ok(())
    }

    fn unreached_revisions(&mut self) -> Result<(), StoreError> {
        let mut stray = Vec::new();
        for entry in self.store.engine().scan_prefix(&[keys::REVISION]) {
            let (key, value) = entry?;
            let Ok(id) = Digest::from_slice(&key[1..]).map(RevisionId) else {
                self.report.find(
                    FindingKind::CorruptRecord,
                    String::from_utf8_lossy(&key),
                    None,
                    None,
                    "a revision is stored under a malformed key",
                );
                continue;
            };
            if !self.revisions.contains_key(&id) && !self.damaged.contains(&id) {
                self.report.read(value.len());
                stray.push((id, value));
            }
        }
        for (id, value) in stray {
            match decode_revision(&id, &value) {
                Ok(record) => {
                    self.report.find(
                        FindingKind::MissingIndex,
                        id,
                        Some(format!("{}@{}", record.article, record.seq)),
                        None,
                        "no article history points at this revision",
                    );
                    self.check_blob(&record.blob, Some(record.size))?;
                    self.revisions.insert(id, (record.fetched_at, record.blob));
                }
                Err(err) => self.report.find(
                    FindingKind::CorruptRecord,
                    id,
                    Some(id.to_string()),
                    Some(RevisionId::of_record(&value).to_string()),
                    err.to_string(),
                ),
            }
        }
        Ok(())
    }

    fn unreferenced_blobs(&mut self) -> Result<(), StoreError> {
        let mut unreferenced = Vec::new();
        for entry in self.store.engine().scan_prefix(&[keys::BLOB]) {
            let (key, _) = entry?;
            match Digest::from_slice(&key[1..]) {
                Ok(digest) if !self.blobs.contains_key(&digest) => unreferenced.push(digest),
                Ok(_) => {}
                Err(_) => self.report.find(
                    FindingKind::CorruptRecord,
                    String::from_utf8_lossy(&key),
                    None,
                    None,
                    "a blob is stored under a malformed key",
                ),
            }
        }
        for digest in unreferenced {
            self.report.find(
                FindingKind::OrphanBlob,
                digest,
                None,
                None,
                "no revision refers to this blob",
            );
            self.check_blob(&digest, None)?;
        }
        Ok(())
    }

    fn log(&mut self) -> Result<u64, StoreError> {
        let mut logged = HashSet::new();
        let mut logged_events = HashSet::new();
        let mut expected_seq = 1u64;
        for entry in self.store.engine().scan_prefix(&[keys::LOG]) {
            let (key, value) = entry?;
            self.report.read(value.len());
            let seq = key
                .get(1..)
                .and_then(|s| <[u8; 8]>::try_from(s).ok())
                .map(u64::from_be_bytes);
            if seq != Some(expected_seq) {
                self.report.find(
                    FindingKind::MissingIndex,
                    format!("log#{expected_seq}"),
                    Some(expected_seq.to_string()),
                    seq.map(|s| s.to_string()),
                    "the global log has a gap",
                );
            }
            expected_seq = seq.unwrap_or(expected_seq) + 1;
            if let Some((&keys::EVENT, event)) = value.split_first()
                && let Ok(event) = Digest::from_slice(event)
            {
                if self.events.contains(&event) {
                    logged_events.insert(event);
                } else {
                    self.report.find(
                        FindingKind::DanglingIndex,
                        format!("log#{}", expected_seq - 1),
                        None,
                        Some(event.to_string()),
                        "a log entry points at no stored event",
                    );
                }
                continue;
            }
            match Digest::from_slice(&value).map(RevisionId) {
                Ok(id) if self.revisions.contains_key(&id) => {
                    logged.insert(id);
                }
                Ok(id) if self.damaged.contains(&id) => {}
                _ => self.report.find(
                    FindingKind::DanglingIndex,
                    format!("log#{}", expected_seq - 1),
                    None,
                    Some(hex_or_id(&value)),
                    "a log entry points at no stored revision",
                ),
            }
        }
        let mut unlogged: Vec<_> = self
            .revisions
            .keys()
            .filter(|id| !logged.contains(*id))
            .collect();
        unlogged.sort();
        for id in unlogged {
            self.report.find(
                FindingKind::MissingIndex,
                id,
                None,
                None,
                "the revision is not in the global log",
            );
        }
        let mut unlogged_events: Vec<_> = self
            .events
            .iter()
            .filter(|id| !logged_events.contains(*id))
            .collect();
        unlogged_events.sort();
        for id in unlogged_events {
            self.report.find(
                FindingKind::MissingIndex,
                id,
                None,
                None,
                "the event is not in the global log",
            );
        }
        Ok(expected_seq - 1)
    }

    fn time_index(&mut self) -> Result<(), StoreError> {
        let mut indexed = HashSet::new();
        for entry in self.store.engine().scan_prefix(&[keys::TIME]) {
            let (key, value) = entry?;
            self.report.read(value.len());
            let parsed = keys::split_tail_id(&key, 8).and_then(|(time, id)| {
                let time = Millis::from_sortable_bytes(time.try_into().ok()?);
                Some((time, id))
            });
            match parsed {
                Some((time, id)) if self.revisions.get(&id).map(|r| r.0) == Some(time) => {
                    indexed.insert(id);
                }
                Some((_, id)) if self.damaged.contains(&id) => {}
                _ => self.report.find(
                    FindingKind::DanglingIndex,
                    format!("time:{}", hex_or_id(&key[1..])),
                    None,
                    None,
                    "a time index entry points at no revision fetched at that time",
                ),
            }
        }
        self.missing_from("time index", &indexed);
        Ok(())
    }

    fn digest_index(&mut self) -> Result<(), StoreError> {
        let mut indexed = HashSet::new();
        for entry in self.store.engine().scan_prefix(&[keys::DIGEST]) {
            let (key, _) = entry?;
            self.report.read(0);
            let parsed = keys::split_tail_id(&key, 32)
                .and_then(|(blob, id)| Some((Digest::from_slice(blob).ok()?, id)));
            match parsed {
                Some((blob, id)) if self.revisions.get(&id).map(|r| r.1) == Some(blob) => {
                    indexed.insert(id);
                }
                Some((_, id)) if self.damaged.contains(&id) => {}
                _ => self.report.find(
                    FindingKind::DanglingIndex,
                    format!("digest:{}", hex_or_id(&key[1..])),
                    None,
                    None,
                    "a digest index entry points at no revision of that blob",
                ),
            }
        }
        self.missing_from("digest index", &indexed);
        Ok(())
    }

    /// Notes the timeline and capture entries `entries` hold (the other
    /// indexes are checked by walking them).
    fn imply(&mut self, entries: impl IntoIterator<Item = derived::IndexEntry>) {
        for entry in entries {
            if matches!(entry.index, Index::Timeline | Index::Capture) {
                self.implied.insert(entry.key, (entry.index, entry.value));
            }
        }
    }

    /// Checks the timeline and capture indexes against what the records
    /// imply: an entry nothing implies, or that holds something else, is
    /// dangling; an implied entry not found is missing.
    fn implied_indexes(&mut self) -> Result<(), StoreError> {
        for prefix in [keys::TIMELINE, keys::CAPTURE] {
            for entry in self.store.engine().scan_prefix(&[prefix]) {
                let (key, value) = entry?;
                self.report.read(value.len());
                let points_at_damage = value
                    .get(value.len().saturating_sub(32)..)
                    .and_then(|id| Digest::from_slice(id).ok())
                    .is_some_and(|id| self.damaged.contains(&RevisionId(id)));
                match self.implied.remove(&key) {
                    Some((_, expected)) if expected == value => {}
                    _ if points_at_damage => {}
                    Some((index, expected)) => self.report.find(
                        FindingKind::DanglingIndex,
                        format!("{}:{}", index.as_str(), hex_or_id(&key[1..])),
                        Some(hex_or_id(&expected)),
                        Some(hex_or_id(&value)),
                        format!(
                            "a {} index entry holds something other than its record says",
                            index.as_str()
                        ),
                    ),
                    None => self.report.find(
                        FindingKind::DanglingIndex,
                        format!("{}:{}", index_name(prefix), hex_or_id(&key[1..])),
                        None,
                        Some(hex_or_id(&value)),
                        format!("a {} index entry points at no record", index_name(prefix)),
                    ),
                }
            }
        }
        let mut missing: Vec<_> = std::mem::take(&mut self.implied).into_iter().collect();
        missing.sort();
        for (key, (index, value)) in missing {
            self.report.find(
                FindingKind::MissingIndex,
                format!("{}:{}", index.as_str(), hex_or_id(&key[1..])),
                Some(hex_or_id(&value)),
                None,
                format!("a record has no {} index entry", index.as_str()),
            );
        }
        Ok(())
    }

    fn missing_from(&mut self, index: &str, indexed: &HashSet<RevisionId>) {
        let mut missing: Vec<_> = self
            .revisions
            .keys()
            .filter(|id| !indexed.contains(*id))
            .copied()
            .collect();
        missing.sort();
        for id in missing {
            self.report.find(
                FindingKind::MissingIndex,
                id,
                None,
                None,
                format!("the revision has no {index} entry"),
            );
        }
    }

    fn counters(&mut self, articles: u64, logged: u64) -> Result<(), StoreError> {
        let stored = match self.store.counters() {
            Ok(counters) => counters,
            Err(err) => {
                self.report.find(
                    FindingKind::CorruptRecord,
                    "counters",
                    None,
                    None,
                    err.to_string(),
                );
                return Ok(());
            }
        };
        let raw_bytes = self.blobs.values().flatten().sum();
        let actual = Counters {
            articles,
            revisions: (self.revisions.len() + self.damaged.len()) as u64,
            observations: self.observations,
            raw_bytes,
            events: self.events.len() as u64,
            failed_attempts: stored.failed_attempts,
        };
        let damaged_blobs = self.blobs.values().any(Option::is_none);
        let checks = [
            ("articles", stored.articles, actual.articles),
            ("revisions", stored.revisions, actual.revisions),
            ("events", stored.events, actual.events),
            ("log entries", stored.log_len(), logged),
            ("observations", stored.observations, actual.observations),
            ("raw_bytes", stored.raw_bytes, actual.raw_bytes),
        ];
        for (name, expected, found) in checks {
            // Damaged blobs have no size to add up; their own findings say so.
            if expected != found && !(name == "raw_bytes" && damaged_blobs) {
                self.report.find(
                    FindingKind::WrongCounter,
                    name,
                    Some(expected.to_string()),
                    Some(found.to_string()),
                    format!("the store counts {expected} {name} but holds {found}"),
                );
            }
        }
        Ok(())
    }
}

impl Walk<'_> {
    /// Compares the log with the head witness written at the last flush.
    fn witness(&mut self, logged: u64) -> Result<(), StoreError> {
        let head = match self.store.head_witness() {
            Ok(Some(head)) => head,
            Ok(None) => return Ok(()),
            Err(err) => {
                self.report.find(
                    FindingKind::CorruptRecord,
                    crate::WITNESS_FILE,
                    None,
                    None,
                    format!("{err}; `newsarc repair` writes it again"),
                );
                return Ok(());
            }
        };
        if head.log_len > logged {
            self.report.find(
                FindingKind::LostEntries,
                format!("log#{}..#{}", logged + 1, head.log_len),
                Some(head.log_len.to_string()),
                Some(logged.to_string()),
                format!(
                    "the store had made {} log entries durable (head witness of {}) but holds {logged}: the storage engine lost the tail of its log; restore from an export",
                    head.log_len, head.written_at
                ),
            );
            return Ok(());
        }
        if head.log_len > 0 {
            let entry = self.store.engine().get(&keys::log(head.log_len))?;
            let actual = entry.map(|value| Digest::of(&value));
            if actual != head.last_entry {
                self.report.find(
                    FindingKind::LostEntries,
                    format!("log#{}", head.log_len),
                    head.last_entry.map(|d| d.to_string()),
                    actual.map(|d| d.to_string()),
                    "the log entry acknowledged last is not the one stored under its number",
                );
            }
        }
        Ok(())
    }
}

fn index_name(prefix: u8) -> &'static str {
    if prefix == keys::TIMELINE {
        "timeline"
    } else {
        "capture"
    }
}

/// A 32-byte id as `blake3:<hex>`, anything else as plain hex.
pub(crate) fn hex_or_id(bytes: &[u8]) -> String {
    match Digest::from_slice(bytes) {
        Ok(digest) => digest.to_string(),
        Err(_) => bytes.iter().map(|b| format!("{b:02x}")).collect(),
    }
}
