//! The index as two layers: a sorted run on disk holding everything up to
//! its last compaction, and a live engine (sled, or memory) holding what
//! was written since. Reads look in the live layer first; compaction merges
//! both into a new run and starts the live layer anew.
//!
//! Live values carry a one-byte tag, so that a removal can hide an entry
//! the run still holds: `0` and the value, or `1` alone for a removed key.

use std::iter::Peekable;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::run::{Run, RunScan, RunWriter};
use super::{EngineError, Entry, KvEngine, WriteBatch};

const VALUE: u8 = 0;
const REMOVED: u8 = 1;

/// A live value as stored: `None` for a removed key.
fn untag(path: &str, key: &[u8], stored: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
    match stored.split_first() {
        Some((&VALUE, value)) => Ok(Some(value.to_vec())),
        Some((&REMOVED, [])) => Ok(None),
        _ => Err(EngineError::Corrupted(format!(
            "the live index in {path} holds a value of no known form under key {}",
            String::from_utf8_lossy(key)
        ))),
    }
}

/// The two layers.
struct Layers {
    run: Option<Run>,
    live: Box<dyn KvEngine>,
}

/// How many entries a scan takes from the layers at a time: between two
/// takes the layers may be swapped by a compaction, which changes nothing
/// a scan can see.
const SCAN_CHUNK: usize = 256;

/// The index's two layers, swappable while readers use them.
pub(crate) struct LayeredEngine {
    layers: RwLock<Layers>,
    /// Entries written to the live layer since it was started (or opened).
    live_writes: AtomicU64,
    /// Where the live layer is named in messages.
    live_name: String,
}

impl LayeredEngine {
    /// The layers as they are.
    pub(crate) fn new(run: Option<Run>, live: Box<dyn KvEngine>, live_name: String) -> Self {
        Self {
            layers: RwLock::new(Layers { run, live }),
            live_writes: AtomicU64::new(0),
            live_name,
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Layers> {
        self.layers.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Layers> {
        self.layers.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// The sorted run's value under `key`, ignoring the live layer.
    pub(crate) fn run_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        self.read()
            .run
            .as_ref()
            .map_or(Ok(None), |run| run.get(key))
    }

    /// The live layer's value under `key`, ignoring the run.
    pub(crate) fn live_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        match self.read().live.get(key)? {
            Some(stored) => untag(&self.live_name, key, &stored),
            None => Ok(None),
        }
    }

    /// True when nothing was written to the live layer.
    pub(crate) fn live_is_empty(&self) -> bool {
        self.read().live.scan_prefix(b"").next().is_none()
    }

    /// Entries written to the live layer by this process since it started.
    pub(crate) fn live_writes(&self) -> u64 {
        self.live_writes.load(Ordering::Relaxed)
    }

    /// Entries in the run.
    pub(crate) fn run_len(&self) -> u64 {
        self.read().run.as_ref().map_or(0, Run::len)
    }

    /// Replaces the live layer (one left from before a compaction that
    /// finished, or an index to be thrown away); the old one is dropped
    /// before this returns, so its files are free.
    pub(crate) fn replace_live(&self, live: Box<dyn KvEngine>) {
        let old = std::mem::replace(&mut self.write().live, live);
        drop(old);
        self.live_writes.store(0, Ordering::Relaxed);
    }

    /// Drops the run (an index to be made anew).
    pub(crate) fn drop_run(&self) {
        self.write().run = None;
    }

    /// Writes every entry of both layers into a new run at `path` (synced),
    /// and returns it opened. The caller renames it into place and then
    /// starts a new live layer; nothing may write meanwhile.
    pub(crate) fn write_run(&self, path: &Path, cache_bytes: u64) -> Result<Run, EngineError> {
        let mut writer = RunWriter::create(path)?;
        for entry in self.scan_prefix(b"") {
            let (key, value) = entry?;
            writer.add(&key, &value)?;
        }
        writer.finish()?;
        Run::open(path, cache_bytes)
    }

    /// Takes `run` as the new run, with `live` (empty) as the live layer.
    pub(crate) fn install(&self, run: Run, live: Box<dyn KvEngine>) {
        let mut layers = self.write();
        layers.run = Some(run);
        let old = std::mem::replace(&mut layers.live, live);
        drop(layers);
        drop(old);
        self.live_writes.store(0, Ordering::Relaxed);
    }
}

impl Layers {
    fn merged<'a>(&'a self, prefix: &[u8], from: &[u8], live_name: &'a str) -> Merged<'a> {
        let live = self.live.scan_from(prefix, from).peekable();
        let run = self.run.as_ref().map(|run| run.scan_from(from).peekable());
        Merged {
            live,
            run,
            prefix: prefix.to_vec(),
            live_name,
        }
    }
}

/// A scan over the layers, taken [`SCAN_CHUNK`] entries at a time so that
/// no lock is held between two calls of `next`.
struct ChunkedScan<'a> {
    engine: &'a LayeredEngine,
    prefix: Vec<u8>,
    /// Where the next take starts; `None` once the layers ran out.
    from: Option<Vec<u8>>,
    taken: std::vec::IntoIter<Result<Entry, EngineError>>,
}

impl Iterator for ChunkedScan<'_> {
    type Item = Result<Entry, EngineError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(entry) = self.taken.next() {
            return Some(entry);
        }
        let from = self.from.take()?;
        let layers = self.engine.read();
        let taken: Vec<_> = layers
            .merged(&self.prefix, &from, &self.engine.live_name)
            .take(SCAN_CHUNK)
            .collect();
        drop(layers);
        if taken.len() == SCAN_CHUNK
            && let Some(Ok((key, _))) = taken.last()
        {
            // The least key after the last one taken.
            let mut next = key.clone();
            next.push(0);
            self.from = Some(next);
        }
        self.taken = taken.into_iter();
        self.taken.next()
    }
}

/// Both layers' entries in key order, the live one winning a tie.
struct Merged<'a> {
    live: Peekable<Box<dyn Iterator<Item = Result<Entry, EngineError>> + 'a>>,
    run: Option<Peekable<RunScan<'a>>>,
    prefix: Vec<u8>,
    live_name: &'a str,
}

impl Iterator for Merged<'_> {
    type Item = Result<Entry, EngineError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let run_key = match self.run.as_mut().and_then(Peekable::peek) {
                Some(Ok((key, _))) if key.starts_with(&self.prefix) => Some(key.clone()),
                Some(Ok(_)) => {
                    self.run = None;
                    None
                }
                Some(Err(_)) => return self.run.as_mut().and_then(Iterator::next),
                None => None,
            };
            let live_key = match self.live.peek() {
                Some(Ok((key, _))) => Some(key.clone()),
                Some(Err(_)) => return self.live.next(),
                None => None,
            };
            let take_live = match (&live_key, &run_key) {
                (None, None) => return None,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(live), Some(run)) => {
                    if live == run {
                        // The live entry replaces the run's.
                        self.run.as_mut().and_then(Iterator::next);
                    }
                    live <= run
                }
            };
            if !take_live {
                return self.run.as_mut().and_then(Iterator::next);
            }
            let (key, stored) = match self.live.next() {
                Some(Ok(entry)) => entry,
                other => return other,
            };
            match untag(self.live_name, &key, &stored) {
                Ok(Some(value)) => return Some(Ok((key, value))),
                Ok(None) => {}
                Err(err) => return Some(Err(err)),
            }
        }
    }
}

impl KvEngine for LayeredEngine {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        let layers = self.read();
        match layers.live.get(key)? {
            Some(stored) => untag(&self.live_name, key, &stored),
            None => layers.run.as_ref().map_or(Ok(None), |run| run.get(key)),
        }
    }

    fn scan_prefix<'a>(
        &'a self,
        prefix: &[u8],
    ) -> Box<dyn Iterator<Item = Result<Entry, EngineError>> + 'a> {
        self.scan_from(prefix, prefix)
    }

    fn scan_from<'a>(
        &'a self,
        prefix: &[u8],
        start: &[u8],
    ) -> Box<dyn Iterator<Item = Result<Entry, EngineError>> + 'a> {
        Box::new(ChunkedScan {
            engine: self,
            prefix: prefix.to_vec(),
            from: Some(start.max(prefix).to_vec()),
            taken: Vec::new().into_iter(),
        })
    }

    fn last_at_or_before(&self, prefix: &[u8], upto: &[u8]) -> Result<Option<Entry>, EngineError> {
        let layers = self.read();
        let live = layers.live.last_at_or_before(prefix, upto)?;
        let run = match &layers.run {
            Some(run) => run.last_at_or_before(prefix, upto)?,
            None => None,
        };
        let (key, stored) = match (live, run) {
            (None, None) => return Ok(None),
            (Some(live), None) => live,
            (Some(live), Some(run)) if live.0 >= run.0 => live,
            (_, Some((key, value))) => match layers.live.get(&key)? {
                Some(stored) => (key, stored),
                None => return Ok(Some((key, value))),
            },
        };
        if let Some(value) = untag(&self.live_name, &key, &stored)? {
            return Ok(Some((key, value)));
        }
        // A removal hid the nearest entry: walk the range (only after a
        // removal, which only tests make).
        let mut last = None;
        for entry in layers.merged(b"", prefix, &self.live_name) {
            let entry = entry?;
            if entry.0.as_slice() > upto {
                break;
            }
            last = Some(entry);
        }
        Ok(last.filter(|(key, _)| key.starts_with(prefix)))
    }

    fn apply(&self, batch: WriteBatch) -> Result<(), EngineError> {
        let mut tagged = WriteBatch::default();
        let mut writes = 0;
        for (key, value) in batch.ops {
            writes += 1;
            match value {
                Some(value) => {
                    let mut stored = Vec::with_capacity(value.len() + 1);
                    stored.push(VALUE);
                    stored.extend_from_slice(&value);
                    tagged.put(key, stored);
                }
                None => tagged.put(key, vec![REMOVED]),
            }
        }
        self.read().live.apply(tagged)?;
        self.live_writes.fetch_add(writes, Ordering::Relaxed);
        Ok(())
    }

    fn flush(&self) -> Result<(), EngineError> {
        self.read().live.flush()
    }
}

/// The path a new run is written to before it is renamed into place.
pub(crate) fn staging(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".writing");
    PathBuf::from(name)
}
