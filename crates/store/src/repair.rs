//! `repair`: rebuild every index from the records, say what changed, and
//! list what cannot be recovered.
//!
//! Records — revisions, events, blobs, observations, the fetcher's state —
//! are never removed or rewritten: they are the evidence. Only what is
//! derived from them is: the history, event, time and digest indexes, the
//! global log, the article records and the counters. All changes go in one
//! atomic batch, so a failed repair leaves the store as it was.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use newsarc_model::record::{
    ArticleRecord, Counters, EventKind, EventRecord, ObservationRecord, RevisionRecord,
};
use newsarc_model::{ArticleKey, Digest, Millis, RevisionId, codec};

use crate::derived::Index;
use crate::engine::{EngineError, KvEngine, SledEngine, WriteBatch};
use crate::store::LogEntry;
use crate::store::{BlobCache, decode_event, decode_revision, encode};
use crate::verify::hex_or_id as hex;
use crate::{Finding, FindingKind, Store, StoreError, derived, keys};

/// What repair did to one derived entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepairAction {
    /// The entry was missing and is now there.
    Added,
    /// The entry held something else and now holds what the records say.
    Replaced,
    /// The entry pointed at nothing the records support.
    Removed,
}

impl RepairAction {
    /// The lower-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Replaced => "replaced",
            Self::Removed => "removed",
        }
    }
}

/// One derived entry repair changed (or, in a dry run, would change).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairChange {
    /// Which index: `history`, `events`, `log`, `time`, `digest`,
    /// `article` or `counters`.
    pub index: &'static str,
    /// The entry, in words: `article@seq`, `log#n`, an id.
    pub entry: String,
    /// What happened to it.
    pub action: RepairAction,
}

/// What `repair` found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepairReport {
    /// Records read.
    pub records: u64,
    /// Every derived entry changed, in index order.
    pub changes: Vec<RepairChange>,
    /// What no index can bring back: damaged or missing records and blobs,
    /// gaps and forks in a history. Left in place for a person to judge.
    pub unrecoverable: Vec<Finding>,
    /// False for a dry run (nothing written).
    pub applied: bool,
}

impl RepairReport {
    /// Lists something no index can bring back.
    fn lost(&mut self, kind: FindingKind, id: String, detail: String) {
        self.unrecoverable.push(Finding {
            kind,
            id,
            expected: None,
            actual: None,
            detail,
        });
    }
}

/// The records repair rebuilds from.
#[derive(Default)]
struct Records {
    /// Sound revisions per article, by seq (more than one: a fork).
    revisions: BTreeMap<ArticleKey, BTreeMap<u32, Vec<(RevisionId, RevisionRecord)>>>,
    /// Sound events per article, by number.
    events: BTreeMap<ArticleKey, BTreeMap<u32, Vec<(Digest, EventRecord)>>>,
    /// Per article: observation count and the times they saw.
    observations: HashMap<ArticleKey, (u32, Vec<Millis>, Vec<RevisionId>)>,
    /// Every observation that decodes, with its number.
    numbered_observations: Vec<(u64, ObservationRecord)>,
    observation_total: u64,
    /// The keys of the article records.
    articles: Vec<Vec<u8>>,
    /// Size of every blob that reads back whole.
    blob_sizes: HashMap<Digest, u64>,
    failed_attempts: u64,
}

/// The derived entries as the records say they should be.
#[derive(Default)]
struct Derived {
    history: BTreeMap<Vec<u8>, Vec<u8>>,
    timeline: BTreeMap<Vec<u8>, Vec<u8>>,
    capture: BTreeMap<Vec<u8>, Vec<u8>>,
    events: BTreeMap<Vec<u8>, Vec<u8>>,
    articles: BTreeMap<Vec<u8>, Vec<u8>>,
    log: BTreeMap<Vec<u8>, Vec<u8>>,
    time: BTreeMap<Vec<u8>, Vec<u8>>,
    digest: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl Derived {
    /// Files an entry under its index.
    fn put(&mut self, entry: derived::IndexEntry) {
        let index = match entry.index {
            Index::History => &mut self.history,
            Index::Timeline => &mut self.timeline,
            Index::Capture => &mut self.capture,
            Index::Events => &mut self.events,
            Index::Log => &mut self.log,
            Index::Time => &mut self.time,
            Index::Digest => &mut self.digest,
        };
        index.insert(entry.key, entry.value);
    }
}

/// How `repair` opened a store: what it copied and what it moved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RepairOpening {
    /// A copy of the store's files as they were before anything touched
    /// them (sled's recovery writes to its log on open, even when it then
    /// refuses the store).
    pub backup: Option<PathBuf>,
    /// Where sled's damaged config file was moved, when it was.
    pub config_set_aside: Option<PathBuf>,
}

impl Store {
    /// Opens the store in `dir` for `repair`. With `backup`, its files are
    /// first copied to `aside/before-repair`, and if the store cannot be
    /// opened they are put back exactly as they were. When sled refuses
    /// the store because its config file is damaged, that file is moved to
    /// `aside` (see [`SledEngine::open_setting_aside_config`]). Never starts
    /// a new store in its place.
    pub fn open_for_repair(
        dir: &Path,
        cache_bytes: u64,
        aside: &Path,
        backup: bool,
    ) -> Result<(Self, RepairOpening), StoreError> {
        let location = dir.display().to_string();
        let refuse = |reason: String| StoreError::Open {
            location: location.clone(),
            reason: EngineError::Corrupted(reason),
        };
        let log = dir.join("db");
        if !log.exists() {
            return Err(refuse(format!(
                "sled's log file {} is missing",
                log.display()
            )));
        }
        let io = |path: &Path, source: std::io::Error| StoreError::RepairCopy {
            location: path.display().to_string(),
            source,
        };
        let copy = aside.join("before-repair");
        if backup {
            copy_tree(dir, &copy).map_err(|err| io(&copy, err))?;
        }
        let opened = SledEngine::open_setting_aside_config(dir, cache_bytes, aside)
            .map_err(|reason| StoreError::Open {
                location: location.clone(),
                reason,
            })
            .and_then(|(engine, moved)| {
                if engine.get(keys::INFO)?.is_none() {
                    return Err(refuse(
                        "sled opened it but it holds no store header: its log may be truncated"
                            .into(),
                    ));
                }
                let store =
                    Self::with_engine(Box::new(engine), location.clone())?.witnessed_in(dir)?;
                Ok((store, moved))
            });
        match opened {
            Ok((store, config_set_aside)) => Ok((
                store,
                RepairOpening {
                    backup: backup.then_some(copy),
                    config_set_aside,
                },
            )),
            Err(err) if backup => {
                // Undo whatever sled's recovery wrote while failing.
                std::fs::remove_dir_all(dir)
                    .and_then(|()| std::fs::rename(&copy, dir))
                    .map_err(|io_err| io(dir, io_err))?;
                let _ = std::fs::remove_dir(aside);
                Err(err)
            }
            Err(err) => Err(err),
        }
    }
}

impl Store {
    /// Rebuilds the derived entries from the records. With `dry_run` it only
    /// reports. `progress` is called with the number of records read.
    pub fn repair(
        &self,
        dry_run: bool,
        progress: &mut dyn FnMut(u64),
    ) -> Result<RepairReport, StoreError> {
        let mut report = RepairReport::default();
        let records = self.read_records(&mut report, progress)?;
        let chosen = choose_chains(&records, &mut report);
        let derived = self.derive(&records, &chosen, &mut report)?;
        let mut batch = WriteBatch::default();
        for (prefix, index, desired) in [
            (keys::HISTORY, "history", &derived.history),
            (keys::TIMELINE, "timeline", &derived.timeline),
            (keys::CAPTURE, "capture", &derived.capture),
            (keys::ARTICLE_EVENT, "events", &derived.events),
            (keys::ARTICLE, "article", &derived.articles),
            (keys::LOG, "log", &derived.log),
            (keys::TIME, "time", &derived.time),
            (keys::DIGEST, "digest", &derived.digest),
        ] {
            self.reconcile(prefix, index, desired, &mut batch, &mut report)?;
        }
        let counters = Counters {
            articles: derived.articles.len() as u64,
            revisions: chosen.revisions.len() as u64,
            observations: records.observation_total,
            raw_bytes: records.blob_sizes.values().sum(),
            events: chosen.events.len() as u64,
            failed_attempts: records.failed_attempts,
        };
        let counters = encode(&counters)?;
        if self.engine().get(keys::COUNTERS)?.as_deref() != Some(counters.as_slice()) {
            report.changes.push(RepairChange {
                index: "counters",
                entry: "counters".into(),
                action: RepairAction::Replaced,
            });
            batch.put(keys::COUNTERS, counters);
        }
        self.check_witness(&derived.log, &mut report);
        if !dry_run {
            if !batch.is_empty() {
                self.engine().apply(batch)?;
            }
            // Also writes a missing or damaged head witness.
            self.flush()?;
        }
        report.applied = !dry_run;
        Ok(report)
    }

    fn read_records(
        &self,
        report: &mut RepairReport,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Records, StoreError> {
        let mut records = Records::default();
        let mut read = 0u64;
        for entry in self.engine().scan_prefix(&[keys::REVISION]) {
            let (key, value) = entry?;
            read += 1;
            progress(read);
            let Ok(id) = Digest::from_slice(&key[1..]).map(RevisionId) else {
                report.lost(
                    FindingKind::CorruptRecord,
                    hex(&key[1..]),
                    "a revision is stored under a malformed key".into(),
                );
                continue;
            };
            match decode_revision(&id, &value) {
                Ok(record) => records
                    .revisions
                    .entry(record.article.clone())
                    .or_default()
                    .entry(record.seq)
                    .or_default()
                    .push((id, record)),
                Err(err) => {
                    report.lost(FindingKind::CorruptRecord, id.to_string(), err.to_string())
                }
            }
        }
        for entry in self.engine().scan_prefix(&[keys::EVENT]) {
            let (key, value) = entry?;
            read += 1;
            let decoded = Digest::from_slice(&key[1..])
                .map_err(|err| StoreError::CorruptRecord {
                    kind: "event",
                    id: hex(&key[1..]),
                    reason: err.to_string(),
                })
                .and_then(|id| Ok((id, decode_event(&id, &value)?)));
            match decoded {
                Ok((id, event)) => records
                    .events
                    .entry(event.article.clone())
                    .or_default()
                    .entry(event.number)
                    .or_default()
                    .push((id, event)),
                Err(err) => {
                    report.lost(FindingKind::CorruptRecord, hex(&key[1..]), err.to_string())
                }
            }
        }
        for entry in self.engine().scan_prefix(&[keys::OBSERVATION]) {
            let (key, value) = entry?;
            read += 1;
            records.observation_total += 1;
            let Some(article) = key
                .len()
                .checked_sub(9)
                .and_then(|end| std::str::from_utf8(&key[1..end]).ok())
                .and_then(|name| ArticleKey::new(name).ok())
            else {
                report.lost(
                    FindingKind::CorruptRecord,
                    hex(&key[1..]),
                    "an observation is stored under a malformed key".into(),
                );
                continue;
            };
            let counted = records.observations.entry(article.clone()).or_default();
            counted.0 += 1;
            match codec::decode::<ObservationRecord>(&value) {
                Ok(observation) => {
                    counted.1.push(observation.fetched_at);
                    counted.2.push(observation.revision);
                    let number = key
                        .get(key.len() - 8..)
                        .and_then(|tail| <[u8; 8]>::try_from(tail).ok())
                        .map(u64::from_be_bytes);
                    if let Some(number) = number {
                        records.numbered_observations.push((number, observation));
                    }
                }
                Err(err) => report.lost(
                    FindingKind::CorruptRecord,
                    article.to_string(),
                    format!("an observation does not decode: {err}"),
                ),
            }
        }
        for entry in self.engine().scan_prefix(&[keys::ARTICLE]) {
            let (key, _) = entry?;
            read += 1;
            records.articles.push(key);
        }
        records.failed_attempts = self.engine().scan_prefix(&[keys::ATTEMPT]).count() as u64;
        let mut cache = BlobCache::default();
        for entry in self.engine().scan_prefix(&[keys::BLOB]) {
            let (key, _) = entry?;
            read += 1;
            progress(read);
            let Ok(digest) = Digest::from_slice(&key[1..]) else {
                report.lost(
                    FindingKind::CorruptRecord,
                    hex(&key[1..]),
                    "a blob is stored under a malformed key".into(),
                );
                continue;
            };
            match self.blob_cached(&digest, &mut cache) {
                Ok(bytes) => {
                    records.blob_sizes.insert(digest, bytes.len() as u64);
                }
                Err(err) if err.is_corruption() => {
                    report.lost(
                        FindingKind::CorruptBlob,
                        digest.to_string(),
                        err.to_string(),
                    );
                }
                Err(err) => return Err(err),
            }
        }
        report.records = read;
        Ok(records)
    }

    fn derive(
        &self,
        records: &Records,
        chosen: &Chosen,
        report: &mut RepairReport,
    ) -> Result<Derived, StoreError> {
        let mut derived = Derived::default();
        for chain in chosen.chains.values() {
            for (id, record) in chain {
                for entry in derived::of_revision(id, record) {
                    derived.put(entry);
                }
                if !records.blob_sizes.contains_key(&record.blob) {
                    report.lost(
                        FindingKind::MissingBlob,
                        record.blob.to_string(),
                        format!("revision {id} needs this blob, which does not read back"),
                    );
                }
            }
        }
        for events in chosen.event_chains.values() {
            for (id, event) in events {
                for entry in derived::of_event(id, event) {
                    derived.put(entry);
                }
            }
        }
        for (number, observation) in &records.numbered_observations {
            if chosen.revisions.contains_key(&observation.revision) {
                for entry in derived::of_observation(*number, observation) {
                    derived.put(entry);
                }
            }
        }
        for key in &records.articles {
            let name = String::from_utf8_lossy(&key[1..]).into_owned();
            match ArticleKey::new(&name)
                .ok()
                .and_then(|article| article_record(&article, chosen, records))
            {
                Some(record) => {
                    derived.articles.insert(key.clone(), encode(&record)?);
                }
                None => {
                    report.lost(
                        FindingKind::StaleArticle,
                        name,
                        "an article record without any sound revision; left as it is".into(),
                    );
                    if let Some(bytes) = self.engine().get(key)? {
                        derived.articles.insert(key.clone(), bytes);
                    }
                }
            }
        }
        for article in chosen.chains.keys() {
            let key = keys::article(article);
            if !derived.articles.contains_key(&key)
                && let Some(record) = article_record(article, chosen, records)
            {
                derived.articles.insert(key, encode(&record)?);
            }
        }
        for (article, (_, _, seen)) in &records.observations {
            let chain: HashSet<_> = chosen
                .chains
                .get(article)
                .map(|chain| chain.iter().map(|(id, _)| *id).collect())
                .unwrap_or_default();
            for revision in seen.iter().filter(|id| !chain.contains(id)) {
                report.lost(
                    FindingKind::DanglingIndex,
                    article.to_string(),
                    format!("an observation points at revision {revision}, outside the history"),
                );
            }
        }
        self.derive_log(chosen, &mut derived)?;
        Ok(derived)
    }

    /// The global log: the entries it holds that are sound keep their
    /// order; what it lost is appended, oldest first; numbers run 1..n.
    fn derive_log(&self, chosen: &Chosen, derived: &mut Derived) -> Result<(), StoreError> {
        let mut placed_revisions = HashSet::new();
        let mut placed_events = HashSet::new();
        let mut order = Vec::new();
        for entry in self.engine().scan_prefix(&[keys::LOG]) {
            let (_, value) = entry?;
            if let Some((&keys::EVENT, id)) = value.split_first()
                && let Ok(id) = Digest::from_slice(id)
            {
                if chosen.events.contains_key(&id) && placed_events.insert(id) {
                    order.push(value);
                }
            } else if let Ok(id) = Digest::from_slice(&value).map(RevisionId)
                && chosen.revisions.contains_key(&id)
                && placed_revisions.insert(id)
            {
                order.push(value);
            }
        }
        let mut missing: Vec<(Millis, Vec<u8>)> = chosen
            .revisions
            .iter()
            .filter(|(id, _)| !placed_revisions.contains(*id))
            .map(|(id, at)| (*at, id.0.as_bytes().to_vec()))
            .chain(
                chosen
                    .events
                    .iter()
                    .filter(|(id, _)| !placed_events.contains(*id))
                    .map(|(id, at)| (*at, keys::log_event_value(id))),
            )
            .collect();
        missing.sort();
        order.extend(missing.into_iter().map(|(_, value)| value));
        for (seq, value) in (1u64..).zip(order) {
            let logged = match value.split_first() {
                Some((&keys::EVENT, id)) if id.len() == 32 => {
                    Digest::from_slice(id).map(LogEntry::Event)
                }
                _ => Digest::from_slice(&value).map(|id| LogEntry::Revision(RevisionId(id))),
            };
            let Ok(logged) = logged else { continue };
            let fetched_at = match logged {
                LogEntry::Revision(id) => chosen.revisions.get(&id).copied(),
                LogEntry::Event(_) => None,
            };
            for entry in derived::of_log_entry(seq, logged, fetched_at) {
                derived.put(entry);
            }
        }
        Ok(())
    }

    /// Lists entries the head witness says were durable and are gone (no
    /// index brings them back); reports a missing or damaged witness, which
    /// the closing flush writes again.
    fn check_witness(&self, log: &BTreeMap<Vec<u8>, Vec<u8>>, report: &mut RepairReport) {
        if !self.is_witnessed() {
            return;
        }
        let logged = log.len() as u64;
        let head = match self.head_witness() {
            Ok(Some(head)) => head,
            missing_or_damaged => {
                if logged > 0 {
                    report.changes.push(RepairChange {
                        index: "witness",
                        entry: crate::WITNESS_FILE.into(),
                        action: match missing_or_damaged {
                            Ok(_) => RepairAction::Added,
                            Err(_) => RepairAction::Replaced,
                        },
                    });
                }
                return;
            }
        };
        let last = (head.log_len > 0)
            .then(|| log.get(&keys::log(head.log_len)).map(|v| Digest::of(v)))
            .flatten();
        if head.log_len > logged || last != head.last_entry {
            report.unrecoverable.push(Finding {
                kind: FindingKind::LostEntries,
                id: format!("log#{}..#{}", logged.min(head.log_len) + 1, head.log_len),
                expected: Some(head.log_len.to_string()),
                actual: Some(logged.to_string()),
                detail: format!(
                    "the head witness of {} says these log entries were durable; the engine lost them: restore from an export",
                    head.written_at
                ),
            });
        }
    }

    /// Puts `desired` under `prefix`: adds and replaces what differs,
    /// removes what the records do not support.
    fn reconcile(
        &self,
        prefix: u8,
        index: &'static str,
        desired: &BTreeMap<Vec<u8>, Vec<u8>>,
        batch: &mut WriteBatch,
        report: &mut RepairReport,
    ) -> Result<(), StoreError> {
        let mut existing = HashMap::new();
        for entry in self.engine().scan_prefix(&[prefix]) {
            let (key, value) = entry?;
            existing.insert(key, value);
        }
        let mut changes = Vec::new();
        for (key, value) in desired {
            let action = match existing.remove(key) {
                Some(old) if old == *value => continue,
                Some(_) => RepairAction::Replaced,
                None => RepairAction::Added,
            };
            batch.put(key.clone(), value.clone());
            changes.push((key.clone(), action));
        }
        for key in existing.into_keys() {
            batch.remove(key.clone());
            changes.push((key, RepairAction::Removed));
        }
        changes.sort_by(|a, b| a.0.cmp(&b.0));
        report
            .changes
            .extend(changes.into_iter().map(|(key, action)| RepairChange {
                index,
                entry: describe_key(&key),
                action,
            }));
        Ok(())
    }
}

/// The histories and event lists repair indexes, one chain per article.
#[derive(Default)]
struct Chosen {
    chains: BTreeMap<ArticleKey, Vec<(RevisionId, RevisionRecord)>>,
    event_chains: BTreeMap<ArticleKey, Vec<(Digest, EventRecord)>>,
    /// Every chosen revision with its fetch time.
    revisions: HashMap<RevisionId, Millis>,
    /// Every chosen event with its time.
    events: HashMap<Digest, Millis>,
}

/// Picks one revision per seq (the one whose parent is the previous pick;
/// the others are a fork and are listed) and lists gaps and broken links.
fn choose_chains(records: &Records, report: &mut RepairReport) -> Chosen {
    let mut chosen = Chosen::default();
    for (article, by_seq) in &records.revisions {
        let mut chain: Vec<(RevisionId, RevisionRecord)> = Vec::new();
        let mut expected_seq = 1u32;
        for (seq, candidates) in by_seq {
            if *seq != expected_seq {
                report.lost(
                    FindingKind::MissingIndex,
                    format!("{article}@{expected_seq}"),
                    format!(
                        "revisions {expected_seq}..{} of the article are missing",
                        seq - 1
                    ),
                );
            }
            expected_seq = seq + 1;
            let previous = chain.last().map(|(id, _)| *id);
            let mut candidates = candidates.clone();
            candidates.sort_by_key(|(id, record)| (record.parent != previous, *id));
            let mut candidates = candidates.into_iter();
            let Some((id, record)) = candidates.next() else {
                continue;
            };
            if record.parent != previous {
                report.lost(
                    FindingKind::BrokenChain,
                    id.to_string(),
                    "its parent link does not point at the previous revision".into(),
                );
            }
            for (other, _) in candidates {
                report.lost(
                    FindingKind::BrokenChain,
                    other.to_string(),
                    format!("a fork: it claims {article}@{seq}, which {id} holds; not indexed"),
                );
            }
            chosen.revisions.insert(id, record.fetched_at);
            chain.push((id, record));
        }
        chosen.chains.insert(article.clone(), chain);
    }
    for (article, by_number) in &records.events {
        let mut events: Vec<(Digest, EventRecord)> = Vec::new();
        for (number, candidates) in by_number {
            if *number != events.len() as u32 + 1 {
                report.lost(
                    FindingKind::MissingIndex,
                    format!("{article}#event{}", events.len() + 1),
                    "the article's events have a gap".into(),
                );
            }
            let mut candidates = candidates.clone();
            candidates.sort_by_key(|(id, _)| *id);
            let mut candidates = candidates.into_iter();
            let Some((id, event)) = candidates.next() else {
                continue;
            };
            for (other, _) in candidates {
                report.lost(
                    FindingKind::BrokenChain,
                    other.to_string(),
                    format!("claims {article}#event{number}, which {id} holds; not indexed"),
                );
            }
            chosen.events.insert(id, event.at);
            events.push((id, event));
        }
        chosen.event_chains.insert(article.clone(), events);
    }
    chosen
}

/// An article record as its chain, events and observations say it is;
/// `None` for an article without a sound revision.
fn article_record(
    article: &ArticleKey,
    chosen: &Chosen,
    records: &Records,
) -> Option<ArticleRecord> {
    let chain = chosen.chains.get(article)?;
    let (latest, head) = chain.last().map(|(id, record)| (*id, record))?;
    // Its URL and title are those of the last revision in time.
    let newest = chain
        .iter()
        .map(|(_, record)| record)
        .max_by_key(|record| (record.fetched_at, record.seq))?;
    let (observations, seen, _) = records
        .observations
        .get(article)
        .cloned()
        .unwrap_or_default();
    let times = chain
        .iter()
        .map(|(_, record)| record.fetched_at)
        .chain(seen);
    let first_seen = times.clone().min().unwrap_or(head.fetched_at);
    let last_seen = times.max().unwrap_or(head.fetched_at);
    let events = chosen.event_chains.get(article);
    let gone_since = events
        .and_then(|events| events.last())
        .filter(|(_, event)| event.kind == EventKind::Gone)
        .map(|(_, event)| event.at);
    Some(ArticleRecord {
        key: article.clone(),
        url: newest.canonical_url.clone(),
        title: newest.meta.title.clone(),
        first_seen,
        last_seen,
        latest,
        revisions: head.seq,
        observations,
        events: events.map_or(0, |events| events.len() as u32),
        gone_since,
    })
}

/// An index key in words, for reports.
fn describe_key(key: &[u8]) -> String {
    let Some((&tag, rest)) = key.split_first() else {
        return String::new();
    };
    let number = |bytes: &[u8]| -> u64 {
        bytes
            .iter()
            .fold(0u64, |value, byte| (value << 8) | u64::from(*byte))
    };
    match tag {
        keys::HISTORY | keys::ARTICLE_EVENT if rest.len() >= 5 => {
            let (name, seq) = rest.split_at(rest.len() - 5);
            let marker = if tag == keys::HISTORY { "@" } else { "#event" };
            format!(
                "{}{marker}{}",
                String::from_utf8_lossy(name),
                number(&seq[1..])
            )
        }
        keys::LOG => format!("log#{}", number(rest)),
        keys::TIME | keys::DIGEST => {
            match keys::split_tail_id(key, rest.len().saturating_sub(32)) {
                Some((_, id)) => id.to_string(),
                None => hex(rest),
            }
        }
        keys::ARTICLE => String::from_utf8_lossy(rest).into_owned(),
        _ => hex(rest),
    }
}

/// Copies the directory `from` to `to` (which must not exist), file by file.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}
