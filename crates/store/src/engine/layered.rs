//! The index as two layers: a sorted run on disk holding everything up to
//! its last compaction, and a live engine (sled, or memory) holding what
//! was written since. Reads look in the live layer first; compaction merges
//! both into a new run and starts the live layer anew.
//!
//! Live values carry a one-byte tag, so that a removal can hide an entry
//! the run still holds: `0` and the value, or `1` alone for a removed key.

use std::iter::Peekable;
use std::path::{Path, PathBuf};

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
pub(crate) struct LayeredEngine {
    run: Option<Run>,
    live: Box<dyn KvEngine>,
    /// Where the live layer is named in messages.
    live_name: String,
}

impl LayeredEngine {
    /// The layers as they are.
    pub(crate) fn new(run: Option<Run>, live: Box<dyn KvEngine>, live_name: String) -> Self {
        Self {
            run,
            live,
            live_name,
        }
    }

    /// The sorted run's value under `key`, ignoring the live layer.
    pub(crate) fn run_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        self.run.as_ref().map_or(Ok(None), |run| run.get(key))
    }

    /// The live layer's value under `key`, ignoring the run.
    pub(crate) fn live_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        match self.live.get(key)? {
            Some(stored) => untag(&self.live_name, key, &stored),
            None => Ok(None),
        }
    }

    /// True when nothing was written to the live layer.
    pub(crate) fn live_is_empty(&self) -> bool {
        self.live.scan_prefix(b"").next().is_none()
    }

    /// Replaces the live layer (one left from before a compaction that
    /// finished, or an index to be thrown away).
    pub(crate) fn replace_live(&mut self, live: Box<dyn KvEngine>) {
        self.live = live;
    }

    /// Drops the run (an index to be made anew).
    pub(crate) fn drop_run(&mut self) {
        self.run = None;
    }

    /// Writes every entry of both layers into a new run at `path` (synced),
    /// and returns it opened. The caller renames it into place and then
    /// starts a new live layer.
    pub(crate) fn write_run(&self, path: &Path, cache_bytes: u64) -> Result<Run, EngineError> {
        let mut writer = RunWriter::create(path)?;
        for entry in self.scan_prefix(b"") {
            let (key, value) = entry?;
            writer.add(&key, &value)?;
        }
        writer.finish()?;
        Run::open(path, cache_bytes)
    }

    /// Takes `run` as the new run, with an empty live layer.
    pub(crate) fn install(&mut self, run: Run, live: Box<dyn KvEngine>) {
        self.run = Some(run);
        self.live = live;
    }

    fn merged<'a>(
        &'a self,
        prefix: &[u8],
        start: &[u8],
    ) -> Box<dyn Iterator<Item = Result<Entry, EngineError>> + 'a> {
        let from = start.max(prefix).to_vec();
        let live = self.live.scan_from(prefix, &from).peekable();
        let run = self.run.as_ref().map(|run| run.scan_from(&from).peekable());
        Box::new(Merged {
            live,
            run,
            prefix: prefix.to_vec(),
            live_name: &self.live_name,
        })
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
        match self.live.get(key)? {
            Some(stored) => untag(&self.live_name, key, &stored),
            None => self.run_get(key),
        }
    }

    fn scan_prefix<'a>(
        &'a self,
        prefix: &[u8],
    ) -> Box<dyn Iterator<Item = Result<Entry, EngineError>> + 'a> {
        self.merged(prefix, prefix)
    }

    fn scan_from<'a>(
        &'a self,
        prefix: &[u8],
        start: &[u8],
    ) -> Box<dyn Iterator<Item = Result<Entry, EngineError>> + 'a> {
        self.merged(prefix, start)
    }

    fn last_at_or_before(&self, prefix: &[u8], upto: &[u8]) -> Result<Option<Entry>, EngineError> {
        let live = self.live.last_at_or_before(prefix, upto)?;
        let run = match &self.run {
            Some(run) => run.last_at_or_before(prefix, upto)?,
            None => None,
        };
        let (key, stored) = match (live, run) {
            (None, None) => return Ok(None),
            (Some(live), None) => live,
            (Some(live), Some(run)) if live.0 >= run.0 => live,
            (_, Some((key, value))) => match self.live.get(&key)? {
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
        for entry in self.merged(b"", prefix) {
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
        for (key, value) in batch.ops {
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
        self.live.apply(tagged)
    }

    fn flush(&self) -> Result<(), EngineError> {
        self.live.flush()
    }
}

/// The path a new run is written to before it is renamed into place.
pub(crate) fn staging(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".writing");
    PathBuf::from(name)
}
