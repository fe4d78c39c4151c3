//! `verify`: reads every frame of the packs in order and checks it against
//! the digests written with it, decodes and re-hashes every record, checks
//! every link and every index entry the record implies; with `deep`, also
//! decodes every document and checks its BLAKE3. Findings go to a sink as
//! they are found; memory holds per-article state only.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use newsarc_model::record::{
    DictionaryRecord, EventKind, EventRecord, ObservationRecord, RevisionRecord,
};
use newsarc_model::{ArticleKey, Digest, Millis, RevisionId};
use newsarc_pack::block::Directory;
use newsarc_pack::{Frame, Kind, Location, Scanned};

use crate::blocks;
use crate::engine::KvEngine;
use crate::index::{
    self, ArticleValue, AttemptValue, DocumentValue, EventLocator, EventValue, HistoryValue,
    LogValue, ObservationValue, RecordRef, RevisionValue,
};
use crate::read::{DocumentCache, document_cache};
use crate::records::{StoredRecord, batch_content, split_batch};
use crate::store::Store;
use crate::{StoreError, keys};

/// What kind of damage a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum FindingKind {
    /// A pack frame whose header or payload does not check.
    CorruptFrame,
    /// Frames after the last commit (a crash cut a commit short): nothing
    /// refers to them; `repair` cuts them off.
    UnreferencedTail,
    /// A document that does not decode, or whose bytes do not hash to its
    /// digest.
    CorruptBlob,
    /// A document a revision (or a delta) needs is not in the store.
    MissingBlob,
    /// A record that does not decode, or does not hash to its id.
    CorruptRecord,
    /// A revision's parent link does not point at the previous revision.
    BrokenChain,
    /// A record lacks an index entry it implies.
    MissingIndex,
    /// An index entry no record implies, or that says something else.
    DanglingIndex,
    /// An article summary disagrees with its records.
    StaleArticle,
    /// A whole-store counter disagrees with what is stored.
    WrongCounter,
    /// The packs or the log are shorter than the head witness says they
    /// were at a commit: something lost what it had made durable.
    LostEntries,
}

impl FindingKind {
    /// The snake_case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CorruptFrame => "corrupt_frame",
            Self::UnreferencedTail => "unreferenced_tail",
            Self::CorruptBlob => "corrupt_blob",
            Self::MissingBlob => "missing_blob",
            Self::CorruptRecord => "corrupt_record",
            Self::BrokenChain => "broken_chain",
            Self::MissingIndex => "missing_index",
            Self::DanglingIndex => "dangling_index",
            Self::StaleArticle => "stale_article",
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
    /// The frame, digest, revision id, article key or index entry concerned.
    pub id: String,
    /// What should be there, where that applies.
    pub expected: Option<String>,
    /// What is there, where that applies.
    pub actual: Option<String>,
    /// A sentence for people.
    pub detail: String,
}

/// How thorough `verify` is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Also decode every document and check its BLAKE3.
    pub deep: bool,
}

/// What `verify` read and found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Frames and index entries read.
    pub objects: u64,
    /// Pack bytes read.
    pub bytes: u64,
    /// Findings sent to the sink.
    pub findings: u64,
    /// Where it stopped when asked to (Ctrl-C): everything before was
    /// checked, nothing after.
    pub stopped_at: Option<String>,
}

impl VerifyReport {
    /// True when nothing was found and everything was checked.
    pub fn ok(&self) -> bool {
        self.findings == 0 && self.stopped_at.is_none()
    }
}

/// Documents `--deep` keeps decoded.
const DEEP_CACHED_DOCUMENTS: usize = 256;

/// Frames read and decoded ahead of the walk, at most, besides the batch
/// being filled.
const READ_AHEAD_FRAMES: usize = 64;

/// Frames handed from one verify thread to the next at a time: with one
/// wake-up per frame, waking and switching threads was 9 % of a `verify
/// --deep` profile (3 % since, `docs/PERFORMANCE.md`). A batch of records
/// or a document block is handed on at once: each is a commit's worth of
/// work for the next thread, and a store of big commits has few frames.
const FRAMES_PER_HANDOFF: usize = 32;

/// True for a frame worth handing on by itself ([`FRAMES_PER_HANDOFF`]).
fn is_heavy(step: &Scanned) -> bool {
    matches!(step, Scanned::Frame(frame) if matches!(frame.header.kind, Kind::Records | Kind::DocumentBlock))
}

/// A batch's records, each its bytes and what they decode to.
type DecodedBatch = Result<Vec<(Vec<u8>, Result<StoredRecord, String>)>, String>;

/// A scanned frame as the walk takes it: a batch decoded, and no payload
/// kept (the walk needs headers) but a document block's directory, except a
/// document's or block's whole when `keep_documents` (`--deep` rebuilds it
/// next).
fn decoded_ahead(step: Scanned, keep_documents: bool) -> (Scanned, Option<DecodedBatch>) {
    match step {
        Scanned::Frame(frame)
            if keep_documents
                && matches!(frame.header.kind, Kind::Document | Kind::DocumentBlock) =>
        {
            (Scanned::Frame(frame), None)
        }
        Scanned::Frame(mut frame) if frame.header.kind == Kind::DocumentBlock => {
            keep_directory(&mut frame);
            (Scanned::Frame(frame), None)
        }
        Scanned::Frame(mut frame) => {
            let batch = (frame.header.kind == Kind::Records).then(|| {
                let content = batch_content(&frame)?;
                let records = split_batch(&content)?;
                Ok(records
                    .into_iter()
                    .map(|bytes| {
                        let decoded = StoredRecord::decode(bytes).map_err(|err| err.to_string());
                        (bytes.to_vec(), decoded)
                    })
                    .collect())
            });
            frame.payload = Vec::new();
            (Scanned::Frame(frame), batch)
        }
        other => (other, None),
    }
}

/// Drops a document block's compressed members, keeping its directory.
fn keep_directory(frame: &mut Frame) {
    let directory_len = Directory::len_in(&frame.payload);
    frame.payload.truncate(directory_len);
    frame.payload.shrink_to_fit();
}

/// Decodes a document block and checks every member against its digest,
/// keeping them in `documents`, and the block in the store's cache, for
/// the deltas stored against them. A failure is the block's: its content
/// digest names it.
fn rebuild_block(
    store: &Store,
    frame: &Frame,
    documents: &mut DocumentCache,
) -> Result<(), StoreError> {
    let block_digest = frame.header.content;
    let corrupt = |actual: Option<Digest>, reason: String| StoreError::CorruptBlob {
        digest: block_digest,
        actual,
        reason,
    };
    let block = blocks::decode(frame).map_err(|reason| corrupt(None, reason))?;
    for (index, member) in block.directory.members.iter().enumerate() {
        let bytes = block
            .member(index as u32, &member.digest)
            .map_err(|err| match err {
                StoreError::CorruptBlob { actual, reason, .. } => corrupt(
                    actual,
                    format!("its member {index} ({}): {reason}", member.digest),
                ),
                other => other,
            })?;
        documents.put(member.digest, Arc::new(bytes.to_vec()));
    }
    store.blocks.insert(frame.location, Arc::new(block));
    Ok(())
}

/// A document's place for a report: its frame, and its member in a block.
fn describe_place(location: Location, member: Option<u32>) -> String {
    match member {
        Some(index) => format!("{location} member {index}"),
        None => location.to_string(),
    }
}

/// What the records say about one article, gathered in pack order.
#[derive(Debug, Default)]
struct ArticleSeen {
    revisions: u32,
    last: Option<RevisionId>,
    observations: u32,
    events: u32,
    gone_since: Option<Millis>,
    first_seen: Option<Millis>,
    last_seen: Option<Millis>,
    /// The newest revision in time: its time, seq, URL and title.
    newest: Option<(Millis, u32, String, Option<String>)>,
}

impl ArticleSeen {
    fn seen(&mut self, at: Millis) {
        self.first_seen = Some(self.first_seen.map_or(at, |first| first.min(at)));
        self.last_seen = Some(self.last_seen.map_or(at, |last| last.max(at)));
    }
}

/// How many entries each index should hold.
#[derive(Debug, Default)]
struct Implied {
    counts: HashMap<u8, u64>,
}

impl Implied {
    fn add(&mut self, prefix: u8) {
        *self.counts.entry(prefix).or_default() += 1;
    }
}

struct Walk<'a> {
    store: &'a Store,
    sink: &'a mut dyn FnMut(Finding),
    report: VerifyReport,
    articles: HashMap<ArticleKey, ArticleSeen>,
    urls: HashMap<String, Digest>,
    dictionaries: HashMap<String, Digest>,
    implied: Implied,
    log_len: u64,
    /// The log's entries, read in step with the packs (both are in the
    /// order the store learnt things): one scan instead of a lookup each.
    log: std::iter::Peekable<
        Box<dyn Iterator<Item = Result<crate::engine::Entry, crate::engine::EngineError>> + 'a>,
    >,
    /// Documents of the commit being read: a revision naming one needs no
    /// lookup.
    commit_documents: std::collections::HashSet<Digest>,
    /// Every pack's length when the walk began.
    pack_lengths: HashMap<u32, u64>,
    observations: u64,
    attempts: u64,
    raw_bytes: u64,
    /// Where the last commit ended: frames after it are a tail.
    committed: Option<Location>,
    /// Documents whose frame (or whose delta base's or dictionary's frame)
    /// is damaged: few, so memory stays flat.
    damaged: std::collections::HashSet<Digest>,
    /// Byte ranges that are no frame (a damaged header): what the index
    /// places there is lost. Few.
    damaged_ranges: Vec<(Location, u64)>,
    /// Document blocks whose payload (so whose directory) is damaged: the
    /// documents the index places in them are lost. Few.
    damaged_blocks: std::collections::HashSet<Location>,
    /// Batch frames read whole: one per commit, so few.
    batches: std::collections::HashSet<Location>,
    /// Documents a read cannot reach through the index (their entry is
    /// missing or points elsewhere, or their base's is) until `repair`.
    /// Few, as damage is.
    unindexed: std::collections::HashSet<Digest>,
}

impl Store {
    /// Checks the whole store; findings go to `sink` as they are found and
    /// `progress` gets the pack bytes read so far. Stops (reporting where)
    /// when `stop` turns true. Errors only when a file cannot be read at
    /// all; every damage is a finding.
    pub fn verify(
        &self,
        options: VerifyOptions,
        sink: &mut dyn FnMut(Finding),
        progress: &mut dyn FnMut(u64),
        stop: &AtomicBool,
    ) -> Result<VerifyReport, StoreError> {
        let _writers_out = self.hold_still()?;
        let mut walk = Walk {
            store: self,
            sink,
            report: VerifyReport::default(),
            articles: HashMap::new(),
            urls: HashMap::new(),
            dictionaries: HashMap::new(),
            implied: Implied::default(),
            log_len: 0,
            log: self.index.scan_prefix(&[keys::LOG]).peekable(),
            commit_documents: std::collections::HashSet::new(),
            pack_lengths: self.packs.lengths()?.into_iter().collect(),
            observations: 0,
            attempts: 0,
            raw_bytes: 0,
            committed: None,
            damaged: std::collections::HashSet::new(),
            batches: std::collections::HashSet::new(),
            damaged_ranges: Vec::new(),
            damaged_blocks: std::collections::HashSet::new(),
            unindexed: std::collections::HashSet::new(),
        };
        let scanner = self.packs.scan(None)?;
        let deep = options.deep;
        // One thread reads, checks and decodes the packs ahead while this
        // one checks the index against them; with `--deep` a third rebuilds
        // the documents in between, so the reading and the rebuilding share
        // the cores instead of queueing on one thread.
        let stopped = std::thread::scope(|scope| -> Result<bool, StoreError> {
            let (sender, read) =
                std::sync::mpsc::sync_channel(READ_AHEAD_FRAMES / FRAMES_PER_HANDOFF);
            scope.spawn(move || {
                let mut batch = Vec::with_capacity(FRAMES_PER_HANDOFF);
                for step in scanner {
                    let heavy = step.as_ref().is_ok_and(is_heavy);
                    batch.push(step.map(|step| {
                        let (step, records) = decoded_ahead(step, deep);
                        (step, records, None)
                    }));
                    // A failed send: the walk went away (it stopped, or
                    // failed).
                    if (heavy || batch.len() == FRAMES_PER_HANDOFF)
                        && sender.send(std::mem::take(&mut batch)).is_err()
                    {
                        return;
                    }
                }
                if !batch.is_empty() {
                    let _ = sender.send(batch);
                }
            });
            let receiver = if deep {
                let (sender, rebuilt) =
                    std::sync::mpsc::sync_channel(READ_AHEAD_FRAMES / FRAMES_PER_HANDOFF);
                scope.spawn(move || {
                    // Deltas name frames read shortly before: a few hundred
                    // documents decode every chain once.
                    let mut documents = document_cache(DEEP_CACHED_DOCUMENTS);
                    for mut batch in read {
                        for ahead in batch.iter_mut().flatten() {
                            let (Scanned::Frame(frame), _, rebuilt) = ahead else {
                                continue;
                            };
                            match frame.header.kind {
                                Kind::Document => {
                                    *rebuilt = Some(
                                        self.decode_frame(frame.clone(), &mut documents).map(drop),
                                    );
                                    frame.payload = Vec::new();
                                }
                                Kind::DocumentBlock => {
                                    *rebuilt = Some(rebuild_block(self, frame, &mut documents));
                                    keep_directory(frame);
                                }
                                Kind::Dictionary | Kind::Records => {}
                            }
                        }
                        if sender.send(batch).is_err() {
                            return;
                        }
                    }
                });
                rebuilt
            } else {
                read
            };
            for step in receiver.iter().flatten() {
                if stop.load(Ordering::Relaxed) {
                    return Ok(true);
                }
                let (step, batch, rebuilt) = step?;
                walk.step(step, batch, rebuilt)?;
                progress(walk.report.bytes);
            }
            Ok(false)
        })?;
        if stopped {
            walk.report.stopped_at = Some(format!("after {} bytes of packs", walk.report.bytes));
            return Ok(walk.report);
        }
        walk.index_counts()?;
        walk.articles()?;
        walk.counters()?;
        walk.witness()?;
        Ok(walk.report)
    }
}

impl Walk<'_> {
    fn find(
        &mut self,
        kind: FindingKind,
        id: impl ToString,
        expected: Option<String>,
        actual: Option<String>,
        detail: impl Into<String>,
    ) {
        self.report.findings += 1;
        (self.sink)(Finding {
            kind,
            id: id.to_string(),
            expected,
            actual,
            detail: detail.into(),
        });
    }

    fn get<T: serde::de::DeserializeOwned>(
        &mut self,
        key: &[u8],
        what: &'static str,
    ) -> Result<Option<T>, StoreError> {
        self.report.objects += 1;
        match self.store.index.get(key)? {
            Some(bytes) => match index::decode(&bytes, what, key) {
                Ok(value) => Ok(Some(value)),
                Err(err) => {
                    self.find(
                        FindingKind::DanglingIndex,
                        index::describe(key),
                        None,
                        None,
                        err.to_string(),
                    );
                    Ok(None)
                }
            },
            None => Ok(None),
        }
    }

    fn step(
        &mut self,
        step: Scanned,
        batch: Option<DecodedBatch>,
        rebuilt: Option<Result<(), StoreError>>,
    ) -> Result<(), StoreError> {
        match step {
            Scanned::Frame(frame) => {
                self.report.objects += 1;
                self.report.bytes += frame.header.frame_len();
                match frame.header.kind {
                    Kind::Document | Kind::Dictionary => self.document(&frame, rebuilt)?,
                    Kind::DocumentBlock => self.block(&frame, rebuilt)?,
                    Kind::Records => {
                        self.batches.insert(frame.location);
                        self.batch(&frame, batch)?;
                        self.commit_documents.clear();
                        self.committed = Some(Location {
                            pack: frame.location.pack,
                            offset: frame.location.offset + frame.header.frame_len(),
                        });
                    }
                }
            }
            Scanned::DamagedPayload { header, location } => {
                self.report.bytes += header.frame_len();
                match header.kind {
                    Kind::Document | Kind::Dictionary => {
                        // Its index entry and its bytes in the total
                        // stand: only its payload is lost.
                        self.damaged.insert(header.content);
                        self.implied.add(keys::DOCUMENT);
                        if header.kind == Kind::Document {
                            self.raw_bytes += u64::from(header.content_len);
                        }
                    }
                    Kind::DocumentBlock => {
                        // Its members' entries (counted when the index is)
                        // and bytes stand; which they are is lost with its
                        // directory.
                        self.damaged_blocks.insert(location);
                        self.raw_bytes += u64::from(header.content_len);
                    }
                    Kind::Records => {}
                }
                self.find(
                    FindingKind::CorruptFrame,
                    location,
                    None,
                    None,
                    format!(
                        "the payload of this {} frame ({}) does not check: what it holds is lost",
                        header.kind.as_str(),
                        header.content
                    ),
                );
            }
            Scanned::Damaged {
                location,
                reason,
                len,
            } => {
                self.report.bytes += len;
                self.damaged_ranges.push((location, len));
                self.find(
                    FindingKind::CorruptFrame,
                    location,
                    None,
                    None,
                    format!("{len} bytes are no frame: {reason}"),
                );
            }
            Scanned::Tail { location, len } => {
                self.report.bytes += len;
                self.find(
                    FindingKind::UnreferencedTail,
                    location,
                    None,
                    None,
                    format!("the last pack ends {len} bytes into a frame a crash cut short; nothing refers to it and `newsarc repair` cuts it off"),
                );
            }
        }
        Ok(())
    }

    /// True when a read reaches the document `digest` through the index:
    /// its entry is there and so is every base's before it.
    fn reaches(&mut self, digest: &Digest) -> Result<bool, StoreError> {
        if self.unindexed.contains(digest) {
            return Ok(false);
        }
        if self.commit_documents.contains(digest) {
            return Ok(true);
        }
        Ok(self
            .get::<DocumentValue>(&keys::document(digest), "document")?
            .is_some())
    }

    fn document(
        &mut self,
        frame: &Frame,
        rebuilt: Option<Result<(), StoreError>>,
    ) -> Result<(), StoreError> {
        let digest = frame.header.content;
        let is_document = frame.header.kind == Kind::Document;
        self.implied.add(keys::DOCUMENT);
        self.commit_documents.insert(digest);
        if is_document {
            self.raw_bytes += u64::from(frame.header.content_len);
        }
        if let Some(reference) = frame.header.reference.filter(|r| self.is_damaged(r)) {
            self.damaged.insert(digest);
            self.find(
                FindingKind::CorruptBlob,
                digest,
                None,
                None,
                format!(
                    "it is stored against {reference}, whose frame is damaged: it cannot be rebuilt"
                ),
            );
        }
        if let Some(reference) = frame.header.reference.filter(|r| !self.is_damaged(r))
            && !self.reaches(&reference)?
        {
            self.unindexed.insert(digest);
            self.find(
                FindingKind::BrokenChain,
                format!("document:{digest}"),
                Some(reference.to_string()),
                None,
                format!(
                    "it is stored against {reference}, which the document index cannot reach: \
                     it does not read until `newsarc repair` (or ever, if that frame is lost)"
                ),
            );
        }
        self.document_entry(
            &digest,
            frame.location,
            u64::from(frame.header.content_len),
            None,
        )?;
        if let Some(rebuilt) = rebuilt {
            self.rebuilt(digest, rebuilt)?;
        }
        Ok(())
    }

    /// A document block: its members are documents as a frame alone is,
    /// each indexed at its place in the block.
    fn block(
        &mut self,
        frame: &Frame,
        rebuilt: Option<Result<(), StoreError>>,
    ) -> Result<(), StoreError> {
        self.raw_bytes += u64::from(frame.header.content_len);
        let directory = match Directory::split(&frame.payload, frame.header.content_len) {
            Ok((directory, _)) => directory,
            Err(err) => {
                self.damaged_blocks.insert(frame.location);
                self.find(
                    FindingKind::CorruptFrame,
                    frame.location,
                    None,
                    None,
                    format!(
                        "the directory of this document block ({}) does not read: {err}; the \
                         documents it holds are lost",
                        frame.header.content
                    ),
                );
                return Ok(());
            }
        };
        for (index, member) in directory.members.iter().enumerate() {
            self.implied.add(keys::DOCUMENT);
            self.commit_documents.insert(member.digest);
            self.document_entry(
                &member.digest,
                frame.location,
                u64::from(member.len),
                Some(index as u32),
            )?;
        }
        if let Some(rebuilt) = rebuilt {
            self.rebuilt(frame.header.content, rebuilt)?;
        }
        Ok(())
    }

    /// Checks the document index places `digest` where its frame is (and
    /// at `member` of a block).
    fn document_entry(
        &mut self,
        digest: &Digest,
        location: Location,
        size: u64,
        member: Option<u32>,
    ) -> Result<(), StoreError> {
        let digest = *digest;
        let entry = self.get::<DocumentValue>(&keys::document(&digest), "document")?;
        let indexed = entry.as_ref().is_some_and(|value| {
            value.location() == location && value.size == size && value.member == member
        });
        if !indexed {
            self.unindexed.insert(digest);
        }
        match entry {
            _ if indexed => {}
            Some(value) => self.find(
                FindingKind::DanglingIndex,
                format!("document:{digest}"),
                Some(describe_place(location, member)),
                Some(describe_place(value.location(), value.member)),
                "the document index points elsewhere than its frame",
            ),
            None => self.find(
                FindingKind::MissingIndex,
                format!("document:{digest}"),
                Some(describe_place(location, member)),
                None,
                "a frame the document index does not know",
            ),
        }
        Ok(())
    }

    /// Reports what rebuilding the frame of `digest` (a document, or a
    /// block's content) found.
    fn rebuilt(
        &mut self,
        digest: Digest,
        rebuilt: Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        match rebuilt {
            Ok(()) => {}
            Err(StoreError::CorruptBlob {
                digest: bad,
                actual,
                reason,
            }) => self.find(
                FindingKind::CorruptBlob,
                digest,
                Some(digest.to_string()),
                actual.map(|a| a.to_string()),
                if bad == digest {
                    reason
                } else {
                    format!("its delta base {bad} is damaged: {reason}")
                },
            ),
            Err(StoreError::MissingBlob { digest: missing }) => self.find(
                FindingKind::MissingBlob,
                missing,
                None,
                None,
                format!("{digest} needs it"),
            ),
            Err(err) => return Err(err),
        }
        Ok(())
    }

    fn batch(&mut self, frame: &Frame, batch: Option<DecodedBatch>) -> Result<(), StoreError> {
        let records = match batch {
            Some(Ok(records)) => records,
            Some(Err(reason)) => {
                self.find(
                    FindingKind::CorruptFrame,
                    frame.location,
                    None,
                    None,
                    format!("the batch of records does not read: {reason}; its records are lost"),
                );
                return Ok(());
            }
            None => {
                return Err(StoreError::Internal(
                    "a batch came without its records".into(),
                ));
            }
        };
        for (index, (bytes, decoded)) in records.into_iter().enumerate() {
            let at = RecordRef {
                pack: frame.location.pack,
                offset: frame.location.offset,
                index: index as u32,
            };
            self.report.objects += 1;
            match decoded {
                Ok(record) => self.record(record, &bytes, at)?,
                Err(reason) => self.find(
                    FindingKind::CorruptRecord,
                    format!("{}#{index}", frame.location),
                    None,
                    None,
                    reason,
                ),
            }
        }
        Ok(())
    }

    fn record(
        &mut self,
        record: StoredRecord,
        bytes: &[u8],
        at: RecordRef,
    ) -> Result<(), StoreError> {
        match record {
            StoredRecord::Revision(record) => {
                self.revision(RevisionId::of_record(bytes), &record, at)
            }
            StoredRecord::Observation(record) => self.observation(&record, at),
            StoredRecord::Event(record) => self.event(Digest::of(bytes), &record, at),
            StoredRecord::Url(record) => {
                self.urls.insert(record.url.clone(), Digest::of(bytes));
                Ok(())
            }
            StoredRecord::Attempt(record) => {
                self.attempts += 1;
                self.implied.add(keys::ATTEMPT);
                match self
                    .get::<AttemptValue>(&keys::attempt(&record.url, self.attempts), "attempt")?
                {
                    Some(value) if value.record == at => {}
                    _ => self.find(
                        FindingKind::MissingIndex,
                        format!("attempt:{}#{}", record.url, self.attempts),
                        None,
                        None,
                        "a failed attempt the attempt index does not hold",
                    ),
                }
                Ok(())
            }
            StoredRecord::Dictionary(DictionaryRecord { outlet, digest, .. }) => {
                self.dictionaries.insert(outlet, digest);
                Ok(())
            }
        }
    }

    fn log_entry(&mut self, value: LogValue, id: Digest) -> Result<(), StoreError> {
        self.log_len += 1;
        self.implied.add(keys::LOG);
        let seq = self.log_len;
        self.report.objects += 1;
        // Entries before this one that the packs did not account for are
        // counted as dangling at the end.
        while let Some(Ok((key, _))) = self.log.peek() {
            if keys::parse_log(key).is_some_and(|found| found < seq) {
                self.log.next();
            } else {
                break;
            }
        }
        let found = match self.log.peek() {
            Some(Ok((key, _))) if keys::parse_log(key) == Some(seq) => match self.log.next() {
                Some(Ok((key, bytes))) => match index::decode::<LogValue>(&bytes, "log", &key) {
                    Ok(found) => Some(found),
                    Err(err) => {
                        self.find(
                            FindingKind::DanglingIndex,
                            format!("log#{seq}"),
                            None,
                            None,
                            err.to_string(),
                        );
                        return Ok(());
                    }
                },
                _ => None,
            },
            Some(Err(_)) => match self.log.next() {
                Some(Err(err)) => return Err(err.into()),
                _ => None,
            },
            _ => None,
        };
        match found {
            Some(found) if found == value => {}
            found => self.find(
                FindingKind::MissingIndex,
                format!("log#{seq}"),
                Some(format!("{id} (record {})", value.record.frame())),
                found.map(|found| format!("a record in {}", found.record.frame())),
                "the global log does not hold this entry at its place",
            ),
        }
        Ok(())
    }

    fn revision(
        &mut self,
        id: RevisionId,
        record: &RevisionRecord,
        at: RecordRef,
    ) -> Result<(), StoreError> {
        let key = &record.article;
        let seen = self.articles.entry(key.clone()).or_default();
        let (expected_parent, expected_seq) = (seen.last, seen.revisions + 1);
        seen.revisions += 1;
        seen.last = Some(id);
        seen.seen(record.fetched_at);
        if seen
            .newest
            .as_ref()
            .is_none_or(|(time, seq, _, _)| (record.fetched_at, record.seq) >= (*time, *seq))
        {
            seen.newest = Some((
                record.fetched_at,
                record.seq,
                record.canonical_url.clone(),
                record.meta.title.clone(),
            ));
        }
        if record.parent != expected_parent || record.seq != expected_seq {
            self.find(
                FindingKind::BrokenChain,
                id,
                Some(format!(
                    "{key}@{expected_seq} after {}",
                    expected_parent.map_or("none".into(), |p| p.to_string())
                )),
                Some(format!(
                    "{key}@{} after {}",
                    record.seq,
                    record.parent.map_or("none".into(), |p| p.to_string())
                )),
                "the revision does not follow the previous one of its article in the chain",
            );
        }
        self.implied.add(keys::HISTORY);
        self.implied.add(keys::REVISION);
        let history_key = keys::history(key, record.fetched_at, record.seq);
        match self.get::<HistoryValue>(&history_key, "history")? {
            Some(value)
                if value.id == id
                    && value.record == at
                    && value.blob == record.blob
                    && value.size == record.size
                    && value.title == record.meta.title => {}
            Some(value) => self.find(
                FindingKind::DanglingIndex,
                format!("{key}@{}", record.seq),
                Some(id.to_string()),
                Some(value.id.to_string()),
                "the history entry disagrees with its revision record",
            ),
            None => self.find(
                FindingKind::MissingIndex,
                id,
                Some(format!("{key}@{}", record.seq)),
                None,
                "the revision has no history entry",
            ),
        }
        match self.get::<RevisionValue>(&keys::revision(&id), "revision")? {
            Some(value)
                if value.article == key.as_str()
                    && value.seq == record.seq
                    && value.fetched_at == record.fetched_at => {}
            _ => self.find(
                FindingKind::MissingIndex,
                id,
                None,
                None,
                "the revision index does not locate this revision",
            ),
        }
        self.log_entry(
            LogValue {
                event: false,
                record: at,
            },
            id.0,
        )?;
        if self.is_damaged(&record.blob) {
            self.find(
                FindingKind::CorruptBlob,
                id,
                Some(record.blob.to_string()),
                None,
                format!("the document of {key}@{} is in a damaged frame: this revision's bytes are lost", record.seq),
            );
        } else if self.unindexed.contains(&record.blob) {
            self.find(
                FindingKind::BrokenChain,
                id,
                Some(record.blob.to_string()),
                None,
                format!("the document of {key}@{} does not read: the index cannot reach it or a base it is stored against", record.seq),
            );
        } else if !self.commit_documents.contains(&record.blob) {
            match self.get::<DocumentValue>(&keys::document(&record.blob), "document")? {
                None => self.find(FindingKind::MissingBlob, record.blob, None, None, format!("revision {id} needs this document")),
                Some(value) if value.offset >= self.pack_lengths.get(&value.pack).copied().unwrap_or(0) => self.find(
                    FindingKind::MissingBlob,
                    id,
                    Some(record.blob.to_string()),
                    None,
                    format!("the document of {key}@{} was at {}, past the end of its pack: this revision's bytes are lost", record.seq, value.location()),
                ),
                Some(_) => {}
            }
        }
        Ok(())
    }

    fn observation(&mut self, record: &ObservationRecord, at: RecordRef) -> Result<(), StoreError> {
        self.observations += 1;
        self.implied.add(keys::OBSERVATION);
        let seen = self.articles.entry(record.article.clone()).or_default();
        seen.observations += 1;
        seen.seen(record.fetched_at);
        let number = self.observations;
        match self.get::<ObservationValue>(
            &keys::observation(&record.article, record.fetched_at, number),
            "observation",
        )? {
            Some(value)
                if value.record == at
                    && value.revision == record.revision
                    && value.blob == record.blob => {}
            _ => self.find(
                FindingKind::MissingIndex,
                format!("{}#observation{number}", record.article),
                None,
                None,
                "the observation index does not hold this observation",
            ),
        }
        if self
            .get::<RevisionValue>(&keys::revision(&record.revision), "revision")?
            .is_none()
        {
            self.find(
                FindingKind::DanglingIndex,
                format!("{}#observation{number}", record.article),
                None,
                Some(record.revision.to_string()),
                "an observation of a revision the store does not hold",
            );
        }
        Ok(())
    }

    fn event(&mut self, id: Digest, record: &EventRecord, at: RecordRef) -> Result<(), StoreError> {
        let seen = self.articles.entry(record.article.clone()).or_default();
        seen.events += 1;
        let expected = seen.events;
        seen.gone_since = match record.kind {
            EventKind::Gone => Some(record.at),
            EventKind::Reappeared => None,
        };
        if record.number != expected {
            self.find(
                FindingKind::BrokenChain,
                id,
                Some(expected.to_string()),
                Some(record.number.to_string()),
                "the article's events have a gap or a repeat",
            );
        }
        self.implied.add(keys::ARTICLE_EVENT);
        self.implied.add(keys::EVENT);
        match self.get::<EventValue>(
            &keys::article_event(&record.article, record.number),
            "event",
        )? {
            Some(value) if value.id == id && value.record == at => {}
            _ => self.find(
                FindingKind::MissingIndex,
                id,
                None,
                None,
                "the event index does not hold this event",
            ),
        }
        match self.get::<EventLocator>(&keys::event(&id), "event")? {
            Some(value)
                if value.article == record.article.as_str() && value.number == record.number => {}
            _ => self.find(
                FindingKind::MissingIndex,
                id,
                None,
                None,
                "the event is not located by its id",
            ),
        }
        self.log_entry(
            LogValue {
                event: true,
                record: at,
            },
            id,
        )
    }

    /// Every index holds exactly the entries the records imply: all of
    /// them were found above, so any more are dangling.
    fn index_counts(&mut self) -> Result<(), StoreError> {
        self.implied
            .counts
            .insert(keys::ARTICLE, self.articles.len() as u64);
        self.implied
            .counts
            .insert(keys::URL, self.urls.len() as u64);
        self.implied.counts.insert(keys::DICTIONARY, 0);
        for (prefix, name) in [
            (keys::ARTICLE, "article"),
            (keys::HISTORY, "history"),
            (keys::REVISION, "revision"),
            (keys::OBSERVATION, "observation"),
            (keys::ARTICLE_EVENT, "event"),
            (keys::EVENT, "event id"),
            (keys::LOG, "log"),
            (keys::DOCUMENT, "document"),
            (keys::URL, "url"),
            (keys::ATTEMPT, "attempt"),
        ] {
            let mut count = 0u64;
            for entry in self.store.index.scan_prefix(&[prefix]) {
                let (key, value) = entry?;
                count += 1;
                if prefix == keys::HISTORY {
                    self.indexed_revision(&key, &value);
                }
                if prefix == keys::DOCUMENT && self.in_damaged_block(&key, &value) {
                    // A member of a block whose directory is lost: the
                    // block implies it, unread.
                    self.implied.add(keys::DOCUMENT);
                }
                if prefix == keys::URL {
                    let url = String::from_utf8_lossy(&key[1..]).into_owned();
                    if self.urls.get(&url) != Some(&Digest::of(&value)) {
                        self.find(
                            FindingKind::DanglingIndex,
                            format!("url:{url}"),
                            None,
                            None,
                            "the URL's state is not the last one its records hold",
                        );
                    }
                }
            }
            self.report.objects += count;
            let expected = self.implied.counts.get(&prefix).copied().unwrap_or(0);
            if count > expected {
                self.find(
                    FindingKind::DanglingIndex,
                    format!("{name} index"),
                    Some(expected.to_string()),
                    Some(count.to_string()),
                    match count - expected {
                        1 => format!("the {name} index holds 1 entry no record implies"),
                        extra => {
                            format!("the {name} index holds {extra} entries no record implies")
                        }
                    },
                );
            }
        }
        for (outlet, digest) in std::mem::take(&mut self.dictionaries) {
            let value: Option<index::DictionaryValue> =
                self.get(&keys::dictionary(&outlet), "dictionary")?;
            if value.and_then(|value| value.digest) != Some(digest) {
                self.find(
                    FindingKind::MissingIndex,
                    format!("dictionary:{outlet}"),
                    Some(digest.to_string()),
                    None,
                    "the outlet's current dictionary is not the last one trained",
                );
            }
        }
        Ok(())
    }

    /// True when the document index entry `key` places its document in a
    /// block whose directory is damaged.
    fn in_damaged_block(&self, key: &[u8], value: &[u8]) -> bool {
        !self.damaged_blocks.is_empty()
            && index::decode::<DocumentValue>(value, "document", key).is_ok_and(|value| {
                value.member.is_some() && self.damaged_blocks.contains(&value.location())
            })
    }

    /// True when the document `digest` is in a damaged frame (found by its
    /// header, or placed by the index in bytes that are no frame).
    fn is_damaged(&mut self, digest: &Digest) -> bool {
        if self.damaged.contains(digest) {
            return true;
        }
        if self.damaged_ranges.is_empty() && self.damaged_blocks.is_empty() {
            return false;
        }
        let Ok(Some(bytes)) = self.store.index.get(&keys::document(digest)) else {
            return false;
        };
        let Ok(value) = index::decode::<DocumentValue>(&bytes, "document", &keys::document(digest))
        else {
            return false;
        };
        let at = value.location();
        let lost = self.damaged_blocks.contains(&at)
            || self.damaged_ranges.iter().any(|(start, len)| {
                start.pack == at.pack && at.offset >= start.offset && at.offset < start.offset + len
            });
        if lost {
            self.damaged.insert(*digest);
        }
        lost
    }

    /// A revision the index holds whose record was not read whole (its
    /// batch is damaged or gone): named, so that no loss goes unreported.
    fn indexed_revision(&mut self, key: &[u8], value: &[u8]) {
        let Ok(entry) = index::decode::<HistoryValue>(value, "history", key) else {
            return;
        };
        if !self.batches.contains(&entry.record.frame()) {
            self.find(
                FindingKind::CorruptRecord,
                entry.id,
                Some(entry.record.frame().to_string()),
                None,
                format!(
                    "{} is in the index, but the frame holding its record is damaged or gone",
                    index::describe(key)
                ),
            );
        }
    }

    /// Every article summary against what the records say.
    fn articles(&mut self) -> Result<(), StoreError> {
        let articles = std::mem::take(&mut self.articles);
        for (key, seen) in articles {
            let value: Option<ArticleValue> = self.get(&keys::article(&key), "article")?;
            let Some(value) = value else {
                self.find(
                    FindingKind::MissingIndex,
                    &key,
                    None,
                    None,
                    "an article with records but no summary",
                );
                continue;
            };
            let url = seen.newest.map_or(String::new(), |(_, _, url, _)| url);
            let expected = value.revisions == seen.revisions
                && value.observations == seen.observations
                && value.events == seen.events
                && value.gone_since == seen.gone_since
                && Some(value.first_seen) == seen.first_seen.or(Some(value.first_seen))
                && Some(value.last_seen) == seen.last_seen.or(Some(value.last_seen))
                && (seen.revisions == 0 || value.url == url);
            if !expected {
                self.find(
                    FindingKind::StaleArticle,
                    &key,
                    Some(format!(
                        "{} revisions, {} observations, {} events, seen {:?}..{:?}",
                        seen.revisions,
                        seen.observations,
                        seen.events,
                        seen.first_seen,
                        seen.last_seen
                    )),
                    Some(format!(
                        "{} revisions, {} observations, {} events, seen {}..{}",
                        value.revisions,
                        value.observations,
                        value.events,
                        value.first_seen,
                        value.last_seen
                    )),
                    "the article's summary disagrees with its records",
                );
            }
        }
        Ok(())
    }

    fn counters(&mut self) -> Result<(), StoreError> {
        let stored = self.store.counters()?;
        let implied_articles = self
            .implied
            .counts
            .get(&keys::ARTICLE)
            .copied()
            .unwrap_or(0);
        let checks = [
            ("articles", stored.articles, implied_articles),
            (
                "revisions",
                stored.revisions,
                self.implied
                    .counts
                    .get(&keys::REVISION)
                    .copied()
                    .unwrap_or(0),
            ),
            (
                "events",
                stored.events,
                self.implied.counts.get(&keys::EVENT).copied().unwrap_or(0),
            ),
            ("observations", stored.observations, self.observations),
            ("failed_attempts", stored.failed_attempts, self.attempts),
            ("raw_bytes", stored.raw_bytes, self.raw_bytes),
        ];
        for (name, expected, found) in checks {
            if expected != found {
                self.find(
                    FindingKind::WrongCounter,
                    name,
                    Some(found.to_string()),
                    Some(expected.to_string()),
                    format!("the store counts {expected} {name} but holds {found}"),
                );
            }
        }
        Ok(())
    }

    /// The packs and the log against the head witness written at the last
    /// commit.
    fn witness(&mut self) -> Result<(), StoreError> {
        let head = match self.store.head_witness() {
            Ok(Some(head)) => head,
            Ok(None) => return Ok(()),
            Err(err) => {
                self.find(
                    FindingKind::CorruptRecord,
                    crate::WITNESS_FILE,
                    None,
                    None,
                    format!("{err}; `newsarc repair` writes it again"),
                );
                return Ok(());
            }
        };
        if head.log_len > self.log_len {
            self.find(
                FindingKind::LostEntries,
                format!("log#{}..#{}", self.log_len + 1, head.log_len),
                Some(head.log_len.to_string()),
                Some(self.log_len.to_string()),
                format!("the store had made {} log entries durable (head witness of {}) but its packs hold {}: restore from a backup", head.log_len, head.written_at, self.log_len),
            );
        }
        let lengths: HashMap<u32, u64> = self.store.packs.lengths()?.into_iter().collect();
        for (pack, length) in &head.packs {
            let now = lengths.get(pack).copied().unwrap_or(0);
            if now < *length {
                self.find(
                    FindingKind::LostEntries,
                    newsarc_pack::pack_file_name(*pack),
                    Some(length.to_string()),
                    Some(now.to_string()),
                    format!("the pack was {length} bytes at the last commit (head witness of {}) and is {now}: it was cut short", head.written_at),
                );
            }
        }
        if let Some(last) = head
            .last_entry
            .filter(|_| head.log_len > 0 && head.log_len <= self.log_len)
        {
            let found: Option<LogValue> = self.get(&keys::log(head.log_len), "log")?;
            let found = found.and_then(|value| self.store.logged_id(&value).ok());
            if found != Some(last) {
                self.find(
                    FindingKind::LostEntries,
                    format!("log#{}", head.log_len),
                    Some(last.to_string()),
                    found.map(|id| id.to_string()),
                    "the log entry acknowledged last is not the one stored under its number",
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! Damage to the index, which only the crate can reach.

    #![allow(clippy::unwrap_used)]

    use std::sync::atomic::AtomicBool;

    use newsarc_model::{ArticleKey, ArticleMeta, Digest, Millis};

    use super::{Finding, FindingKind, VerifyOptions};
    use crate::engine::{KvEngine, WriteBatch};
    use crate::{Fetch, Store, keys};

    fn fetch<'a>(key: &str, body: &'a [u8], at: i64) -> Fetch<'a> {
        Fetch {
            article: ArticleKey::new(key).unwrap(),
            bytes: body,
            fetched_at: Millis::from_millis(at),
            source: "a.html".into(),
            canonical_url: format!("https://{key}"),
            meta: ArticleMeta::default(),
            text_digest: Digest::of(body),
            http: None,
            charset: None,
        }
    }

    fn store_with_two_revisions() -> Store {
        let store = Store::in_memory().unwrap();
        let mut commit = store.begin().unwrap();
        for (at, body) in [(1, b"<p>one</p>".as_slice()), (2, b"<p>two</p>")] {
            commit.add_fetch(&fetch("example.org/a", body, at)).unwrap();
        }
        commit.finish().unwrap();
        store
    }

    fn findings(store: &Store) -> Vec<Finding> {
        let mut found: Vec<Finding> = Vec::new();
        store
            .verify(
                VerifyOptions::default(),
                &mut |finding| found.push(finding),
                &mut |_| {},
                &AtomicBool::new(false),
            )
            .unwrap();
        found
    }

    fn kinds(store: &Store) -> Vec<FindingKind> {
        let mut kinds: Vec<FindingKind> = findings(store).into_iter().map(|f| f.kind).collect();
        kinds.sort();
        kinds.dedup();
        kinds
    }

    fn change(store: &Store, edit: impl FnOnce(&mut WriteBatch)) {
        let mut batch = WriteBatch::default();
        edit(&mut batch);
        store.index.apply(batch).unwrap();
    }

    #[test]
    fn a_clean_index_has_no_findings() {
        assert!(kinds(&store_with_two_revisions()).is_empty());
    }

    #[test]
    fn a_removed_history_entry_is_missing_index() {
        let store = store_with_two_revisions();
        let key = ArticleKey::new("example.org/a").unwrap();
        change(&store, |batch| {
            batch.remove(keys::history(&key, Millis::from_millis(2), 2))
        });
        assert!(kinds(&store).contains(&FindingKind::MissingIndex));
    }

    #[test]
    fn an_entry_no_record_implies_is_dangling_index() {
        let store = store_with_two_revisions();
        let key = ArticleKey::new("example.org/b").unwrap();
        let entry = store
            .index
            .get(&keys::history(
                &ArticleKey::new("example.org/a").unwrap(),
                Millis::from_millis(1),
                1,
            ))
            .unwrap()
            .unwrap();
        change(&store, |batch| {
            batch.put(keys::history(&key, Millis::from_millis(1), 1), entry)
        });
        assert!(kinds(&store).contains(&FindingKind::DanglingIndex));
    }

    #[test]
    fn a_summary_or_counter_that_disagrees_is_found() {
        let store = store_with_two_revisions();
        let key = ArticleKey::new("example.org/a").unwrap();
        let mut article: crate::index::ArticleValue = crate::index::decode(
            &store.index.get(&keys::article(&key)).unwrap().unwrap(),
            "article",
            b"",
        )
        .unwrap();
        article.revisions = 7;
        let mut counters = store.counters().unwrap();
        counters.raw_bytes += 1;
        change(&store, |batch| {
            batch.put(keys::article(&key), crate::index::encode(&article).unwrap());
            batch.put(
                keys::COUNTERS.to_vec(),
                newsarc_model::codec::encode(&counters).unwrap(),
            );
        });
        let found = kinds(&store);
        assert!(found.contains(&FindingKind::StaleArticle), "{found:?}");
        assert!(found.contains(&FindingKind::WrongCounter), "{found:?}");
    }

    #[test]
    fn a_lost_document_entry_names_every_revision_stored_against_it() {
        let store = Store::in_memory().unwrap();
        let key = ArticleKey::new("example.org/chain").unwrap();
        let paragraph = "<p>The river bridge reopens after two years of repairs.</p>\n".repeat(40);
        let bodies: Vec<String> = (1..=3)
            .map(|at| format!("{paragraph}<p>Update {at}.</p>"))
            .collect();
        // A commit each: revisions of one commit share a block instead.
        for (at, body) in (1..).zip(&bodies) {
            let mut commit = store.begin().unwrap();
            commit
                .add_fetch(&fetch(key.as_str(), body.as_bytes(), at))
                .unwrap();
            commit.finish().unwrap();
        }
        let timeline = store.timeline(&key).unwrap();
        change(&store, |batch| {
            batch.remove(keys::document(&timeline[0].blob))
        });
        let found = findings(&store);
        let text = format!("{found:?}");
        let unreadable: Vec<_> = timeline
            .iter()
            .filter(|entry| store.blob(&entry.blob).is_err())
            .collect();
        assert_eq!(
            unreadable.len(),
            3,
            "the later two are deltas against the first"
        );
        for entry in unreadable {
            assert!(
                text.contains(&entry.id.to_string()) || text.contains(&entry.blob.to_string()),
                "revision {} is not named in {text}",
                entry.seq
            );
        }
    }
}
