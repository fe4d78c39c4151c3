//! A reader of store format 1 (one sled keyspace holding records, indexes
//! and compressed documents; `docs/FORMAT.md`, "Format 1"), for `upgrade`
//! and for imports of format-1 export files. It reads the records in the
//! order that store learnt them — the global log's revisions and events,
//! then observations, URL states and failed attempts — and hands them byte
//! for byte to a format-2 commit, so every id stays the same.

use newsarc_model::record::{BlobEncoding, BlobRecord, Record, RevisionRecord};
use newsarc_model::{Digest, RevisionId, codec};

use crate::StoreError;
use crate::engine::KvEngine;
use crate::export::{Moved, RECORDS_PER_COMMIT};
use crate::store::Store;
use crate::write::Commit;

/// `B` + digest: a compressed document.
const BLOB: u8 = b'B';
/// `R` + revision id: a revision record.
const REVISION: u8 = b'R';
/// `O` + article key + NUL + number (u64 BE): an observation record.
const OBSERVATION: u8 = b'O';
/// `L` + sequence (u64 BE): a revision id, or `V` + an event id.
const LOG: u8 = b'L';
/// `V` + event id: an event record.
const EVENT: u8 = b'V';
/// `U` + URL: the fetcher's state for it.
const URL: u8 = b'U';
/// `F` + URL + NUL + number (u64 BE): a failed attempt.
const ATTEMPT: u8 = b'F';

/// Format 1 never chained more deltas than this.
const MAX_DELTA_DEPTH: usize = 16;

/// Decoded documents kept while copying: a revision's base is nearly
/// always one of the last few.
const CACHED_DOCUMENTS: usize = 32;

/// A format-1 keyspace.
pub(crate) struct FormatOne<'a> {
    engine: &'a dyn KvEngine,
    cache: Vec<(Digest, Vec<u8>)>,
}

impl<'a> FormatOne<'a> {
    pub(crate) fn new(engine: &'a dyn KvEngine) -> Self {
        Self {
            engine,
            cache: Vec::new(),
        }
    }

    /// Copies every record into `store`, in commits of
    /// [`RECORDS_PER_COMMIT`]; `progress` gets the records copied so far.
    pub(crate) fn copy_into(
        mut self,
        store: &Store,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Moved, StoreError> {
        let mut copy = Copy {
            store,
            commit: Some(store.begin()?),
            in_commit: 0,
            moved: Moved::default(),
            progress,
        };
        for entry in self.engine.scan_prefix(&[LOG]) {
            let (key, value) = entry?;
            match value.split_first() {
                Some((&EVENT, id)) if id.len() == 32 => {
                    let record = self.get(&[&[EVENT], id].concat(), "event", &key)?;
                    copy.record(&record)?;
                }
                _ => {
                    let id = RevisionId(
                        Digest::from_slice(&value)
                            .map_err(|err| corrupt("log entry", &key, err.to_string()))?,
                    );
                    let record_key = [&[REVISION], id.0.as_bytes().as_slice()].concat();
                    let record = self.get(&record_key, "revision", &key)?;
                    if RevisionId::of_record(&record) != id {
                        return Err(corrupt(
                            RevisionRecord::KIND,
                            &record_key,
                            "its bytes do not hash to its id".into(),
                        ));
                    }
                    let revision: RevisionRecord = codec::decode(&record).map_err(|err| {
                        corrupt(RevisionRecord::KIND, &record_key, err.to_string())
                    })?;
                    let document = self.document(&revision.blob)?;
                    copy.revision(&record, &document)?;
                }
            }
        }
        for prefix in [OBSERVATION, URL, ATTEMPT] {
            for entry in self.engine.scan_prefix(&[prefix]) {
                let (_, value) = entry?;
                copy.record(&value)?;
            }
        }
        if let Some(commit) = copy.commit.take() {
            commit.finish()?;
        }
        (copy.progress)(copy.moved.records);
        Ok(copy.moved)
    }

    fn get(&self, key: &[u8], what: &'static str, named_by: &[u8]) -> Result<Vec<u8>, StoreError> {
        self.engine.get(key)?.ok_or_else(|| {
            corrupt(
                what,
                key,
                format!("it is missing (named by {})", describe(named_by)),
            )
        })
    }

    /// A document's bytes, its delta chain decoded and every step checked.
    fn document(&mut self, digest: &Digest) -> Result<Vec<u8>, StoreError> {
        let mut chain: Vec<(Digest, BlobRecord)> = Vec::new();
        let mut next = *digest;
        let mut base: Option<Vec<u8>> = None;
        loop {
            if let Some((_, bytes)) = self.cache.iter().find(|(cached, _)| *cached == next) {
                base = Some(bytes.clone());
                break;
            }
            if chain.len() > MAX_DELTA_DEPTH {
                return Err(damaged_blob(
                    *digest,
                    "its delta chain is longer than format 1 writes",
                ));
            }
            let key = [&[BLOB], next.as_bytes().as_slice()].concat();
            let bytes = self
                .engine
                .get(&key)?
                .ok_or(StoreError::MissingBlob { digest: next })?;
            let record: BlobRecord =
                codec::decode(&bytes).map_err(|err| damaged_blob(next, &err.to_string()))?;
            let reference = record
                .base
                .filter(|_| record.encoding == BlobEncoding::ZstdDelta);
            chain.push((next, record));
            match reference {
                Some(reference) => next = reference,
                None => break,
            }
        }
        while let Some((step, record)) = chain.pop() {
            let capacity = usize::try_from(record.size).unwrap_or(usize::MAX);
            let decoded = match (record.encoding, &base) {
                (BlobEncoding::Zstd, _) => zstd::bulk::decompress(&record.data, capacity),
                (BlobEncoding::ZstdDelta, Some(base)) => {
                    zstd::bulk::Decompressor::with_dictionary(base).and_then(|mut decompressor| {
                        decompressor.decompress(&record.data, capacity)
                    })
                }
                (BlobEncoding::ZstdDelta, None) => {
                    return Err(damaged_blob(step, "its delta base did not decode"));
                }
            }
            .map_err(|err| damaged_blob(step, &format!("it does not decompress: {err}")))?;
            let actual = Digest::of(&decoded);
            if actual != step {
                return Err(StoreError::CorruptBlob {
                    digest: step,
                    actual: Some(actual),
                    reason: "its bytes do not hash to its digest".into(),
                });
            }
            if self.cache.len() == CACHED_DOCUMENTS {
                self.cache.remove(0);
            }
            self.cache.push((step, decoded.clone()));
            base = Some(decoded);
        }
        base.ok_or(StoreError::MissingBlob { digest: *digest })
    }
}

/// Records going into the new store, a commit at a time.
struct Copy<'s, 'p> {
    store: &'s Store,
    /// Always `Some` between calls.
    commit: Option<Commit<'s>>,
    in_commit: usize,
    moved: Moved,
    progress: &'p mut dyn FnMut(u64),
}

impl<'s> Copy<'s, '_> {
    fn commit(&mut self) -> Result<&mut Commit<'s>, StoreError> {
        self.commit
            .as_mut()
            .ok_or_else(|| StoreError::Internal("a copy goes on after its last commit".into()))
    }

    fn revision(&mut self, record: &[u8], document: &[u8]) -> Result<(), StoreError> {
        self.commit()?.import_revision(record, document)?;
        self.moved.documents += 1;
        self.counted()
    }

    fn record(&mut self, record: &[u8]) -> Result<(), StoreError> {
        self.commit()?.import_record(record)?;
        self.counted()
    }

    fn counted(&mut self) -> Result<(), StoreError> {
        self.moved.records += 1;
        self.in_commit += 1;
        if self.in_commit == RECORDS_PER_COMMIT {
            if let Some(done) = self.commit.take() {
                done.finish()?;
            }
            self.commit = Some(self.store.begin()?);
            self.in_commit = 0;
            (self.progress)(self.moved.records);
        }
        Ok(())
    }
}

fn describe(key: &[u8]) -> String {
    String::from_utf8_lossy(key).into_owned()
}

fn corrupt(kind: &'static str, key: &[u8], reason: String) -> StoreError {
    StoreError::CorruptRecord {
        kind,
        id: format!("format-1 key {}", describe(key)),
        reason,
    }
}

fn damaged_blob(digest: Digest, reason: &str) -> StoreError {
    StoreError::CorruptBlob {
        digest,
        actual: None,
        reason: reason.to_owned(),
    }
}
