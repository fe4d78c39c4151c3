//! The index on disk: `index/sorted.run`, what the last compaction wrote,
//! and `index/live/`, sled holding what was written since. Opening picks
//! the layers a job needs — a reader of a compacted store opens no
//! database at all — and [`Store::compact_index`] folds the live layer into
//! a new run.

use std::path::Path;
use std::sync::PoisonError;

use crate::engine::{EngineError, KvEngine, LayeredEngine, MemoryEngine, Run, SledEngine, staging};
use crate::index::{self, IndexState};
use crate::store::Store;
use crate::{StoreError, keys, layout};

/// By default, the least number of entries the live layer takes before a
/// writer compacts it while it runs (about 40,000 revisions).
pub(crate) const LIVE_ENTRIES: u64 = 200_000;

/// The sorted run's share of the index's cache: half, sled taking the
/// other half, so that the two together stay within what the caller gave.
fn run_cache(cache_bytes: u64) -> u64 {
    cache_bytes / 2
}

/// sled's share of the index's cache (see [`run_cache`]).
fn live_cache(cache_bytes: u64) -> u64 {
    cache_bytes - run_cache(cache_bytes)
}

/// How the index was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Live {
    /// sled in `index/live/`: the writer's layer, holding the store's lock.
    Sled,
    /// Memory: a reader's, or a throwaway store's.
    Memory,
}

fn engine_error(location: &str, reason: EngineError) -> StoreError {
    StoreError::Open {
        location: location.to_owned(),
        reason,
    }
}

fn decoded_state(bytes: Option<Vec<u8>>) -> Result<Option<IndexState>, StoreError> {
    bytes
        .map(|bytes| index::decode::<IndexState>(&bytes, "indexed", keys::INDEXED))
        .transpose()
}

/// Opens the index of the store in `dir`. A writer opens sled (and with it
/// the store's lock); a reader of a store with a run takes the run alone
/// and brings it up to the packs in memory; a reader of a store without
/// one opens sled as a writer would, or, on read-only media, rebuilds in
/// memory. An index in the layout before runs (sled's files at the top of
/// `index/`) is removed by a writer and rebuilt from the packs.
pub(crate) fn open(
    dir: &Path,
    cache_bytes: u64,
    read_only: bool,
    media_read_only: bool,
) -> Result<(LayeredEngine, Live), EngineError> {
    let index_dir = layout::index(dir);
    let run_path = layout::index_run(dir);
    let earlier_layout = layout::holds_engine_files(&index_dir);
    let run = if run_path.exists() && !earlier_layout {
        Some(Run::open(&run_path, run_cache(cache_bytes))?)
    } else {
        None
    };
    let live_name = layout::index_live(dir).display().to_string();
    if read_only && (run.is_some() || media_read_only || earlier_layout) {
        let live: Box<dyn KvEngine> = Box::new(MemoryEngine::new());
        let run = if media_read_only && earlier_layout {
            None
        } else {
            run
        };
        return Ok((LayeredEngine::new(run, live, live_name), Live::Memory));
    }
    if earlier_layout {
        std::fs::remove_dir_all(&index_dir)
            .map_err(|err| EngineError::Io(format!("{err} ({})", index_dir.display())))?;
    }
    let live = SledEngine::open(&layout::index_live(dir), live_cache(cache_bytes))?;
    Ok((
        LayeredEngine::new(run, Box::new(live), live_name),
        Live::Sled,
    ))
}

impl Store {
    /// Starts the live layer anew when everything in it is in the run
    /// already: a compaction wrote the run and stopped before it could.
    pub(crate) fn drop_stale_live(&self) -> Result<(), StoreError> {
        let Some(run_state) = decoded_state(self.index.run_get(keys::INDEXED)?)? else {
            return Ok(());
        };
        let live_state = decoded_state(self.index.live_get(keys::INDEXED)?)?;
        let stale = live_state.is_none_or(|live| live.position() <= run_state.position());
        if stale && !self.index.live_is_empty() {
            self.new_live_layer()?;
        }
        Ok(())
    }

    /// Replaces the live layer by an empty one.
    fn new_live_layer(&self) -> Result<(), StoreError> {
        let live: Box<dyn KvEngine> = match self.live {
            Live::Memory => Box::new(MemoryEngine::new()),
            Live::Sled => {
                // sled's handle goes first: it holds the files.
                self.index.replace_live(Box::new(MemoryEngine::new()));
                let live_dir = layout::index_live(&self.dir);
                std::fs::remove_dir_all(&live_dir).map_err(|source| StoreError::Io {
                    path: live_dir.clone(),
                    source,
                })?;
                Box::new(
                    SledEngine::open(&live_dir, live_cache(self.cache_bytes))
                        .map_err(|reason| engine_error(&self.location, reason))?,
                )
            }
        };
        self.index.replace_live(live);
        Ok(())
    }

    /// Removes the whole index (one of another layout), run and live layer.
    pub(crate) fn clear_index(&self) -> Result<(), StoreError> {
        self.index.drop_run();
        if self.live == Live::Sled {
            let run = layout::index_run(&self.dir);
            if run.exists() {
                std::fs::remove_file(&run)
                    .map_err(|source| StoreError::Io { path: run, source })?;
            }
        }
        self.new_live_layer()
    }

    /// Folds the live layer into a new sorted run: written beside the old
    /// one, synced, renamed over it, and only then the live layer started
    /// anew — a crash at any point leaves an index that reads the same.
    /// Readers go on reading meanwhile. Returns whether there was anything
    /// to fold. Nothing is done for a store opened read-only or held in
    /// memory.
    pub fn compact_index(&self) -> Result<bool, StoreError> {
        let _writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        self.compact_held()
    }

    /// Compacts when the live layer has taken more than
    /// `StoreConfig::compact_after` entries and an eighth of the run's since
    /// it was started, so that
    /// sled stays small and a long-running writer's store stays cheap to
    /// open for readers, while each entry is rewritten a bounded number of
    /// times. The caller holds the writer.
    pub(crate) fn compact_if_large(&self) -> Result<bool, StoreError> {
        let threshold = self.compact_after.max(self.index.run_len() / 8);
        if self.index.live_writes() < threshold {
            return Ok(false);
        }
        self.compact_held()
    }

    /// Says on stderr that a compaction failed: nothing is lost (the live
    /// layer stays and is read as before), so it is no error of the call
    /// that set it off.
    pub(crate) fn report_uncompacted(&self, err: &StoreError) {
        eprintln!(
            "newsarc: the index of {} was left uncompacted: {err}",
            self.location
        );
    }

    /// [`Store::compact_index`] for a caller that holds the writer.
    fn compact_held(&self) -> Result<bool, StoreError> {
        if self.read_only || self.live != Live::Sled || self.index.live_is_empty() {
            return Ok(false);
        }
        self.flush()?;
        let path = layout::index_run(&self.dir);
        let writing = staging(&path);
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| StoreError::Io { path, source }
        };
        let run = match self.index.write_run(&writing, run_cache(self.cache_bytes)) {
            Ok(run) => run,
            Err(reason) => {
                let _ = std::fs::remove_file(&writing);
                return Err(engine_error(&self.location, reason));
            }
        };
        std::fs::rename(&writing, &path).map_err(io(&path))?;
        let index_dir = layout::index(&self.dir);
        std::fs::File::open(&index_dir)
            .and_then(|handle| handle.sync_all())
            .map_err(io(&index_dir))?;
        self.index.install(run, Box::new(MemoryEngine::new()));
        self.new_live_layer()?;
        Ok(true)
    }
}

impl Store {
    /// Keeps writers out while a reader walks the whole store (`verify`,
    /// `export`): a reader of the sorted run opens no sled, so without this
    /// it could meet a commit a writer is appending. Holds a shared lock on
    /// the file sled locks; fails as in use while a writer holds it, and
    /// a writer that starts meanwhile waits, as it waits for another
    /// writer. A writer's own store holds sled's lock already.
    pub(crate) fn hold_still(&self) -> Result<Option<std::fs::File>, StoreError> {
        if self.live != Live::Memory || !self.read_only {
            return Ok(None);
        }
        let Ok(file) = std::fs::File::open(layout::engine_lock_file(&self.dir)) else {
            // No live layer: no writer has opened the store since it was
            // compacted or rebuilt.
            return Ok(None);
        };
        match file.try_lock_shared() {
            Ok(()) => Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::InUse {
                location: self.location.clone(),
                server: crate::serving::announced(&self.dir),
            }),
            // A file system without locks cannot hold a writer out either;
            // read on.
            Err(std::fs::TryLockError::Error(_)) => Ok(None),
        }
    }
}

impl Drop for Store {
    /// A writer folds what it wrote into the run as it closes the store, so
    /// that the next reader opens no database. A failure here loses
    /// nothing — the live layer stays and is read as before — so it is only
    /// logged to stderr.
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        if let Err(err) = self.compact_index() {
            self.report_uncompacted(&err);
        }
    }
}
