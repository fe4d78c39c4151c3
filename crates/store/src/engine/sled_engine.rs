//! The sled 0.34 adapter: the only module that names a `sled::` type.

use std::cell::Cell;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Once;
use std::time::{Duration, Instant};

use super::{EngineError, Entry, KvEngine, WriteBatch};

/// sled's page cache is a soft limit that defaults to 1 GiB; newsarc's reads
/// are mostly sequential scans, so a modest cache is enough and keeps RSS
/// predictable.
pub const DEFAULT_CACHE_BYTES: u64 = 256 * 1024 * 1024;

/// How long opening waits for the store's file lock. sled allows one process
/// per store, and a handle dropped in this process can keep the lock for a
/// moment while sled's I/O threads finish.
pub(crate) const LOCK_WAIT: Duration = Duration::from_secs(3);

/// A store directory opened with sled. sled takes a file lock: one process
/// per store.
pub(crate) struct SledEngine {
    db: sled::Db,
    path: PathBuf,
}

impl SledEngine {
    /// Opens (or creates) the sled database in `path`, waiting up to
    /// [`LOCK_WAIT`] for another holder of its file lock to let go.
    pub(crate) fn open(path: &Path, cache_bytes: u64) -> Result<Self, EngineError> {
        // sled would start an empty log beside its other files and then
        // report damage at an offset of a file that is not there.
        let log = path.join("db");
        if path.join("conf").exists() && !log.exists() {
            return Err(EngineError::Corrupted(format!(
                "sled's log file {} is missing",
                log.display()
            )));
        }
        let deadline = Instant::now() + LOCK_WAIT;
        loop {
            let opened = guarded(path, || {
                Ok(sled::Config::new()
                    .path(path)
                    .cache_capacity(cache_bytes)
                    // newsarc flushes explicitly before it acknowledges
                    // anything; without a background flusher the lock goes
                    // with the handle.
                    .flush_every_ms(None)
                    .open())
            })?;
            match opened {
                Ok(db) => {
                    return Ok(Self {
                        db,
                        path: path.to_owned(),
                    });
                }
                Err(err) if is_lock_conflict(&err) => {
                    if Instant::now() >= deadline {
                        return Err(EngineError::Locked(path.display().to_string()));
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(err) => return Err(convert(path, err)),
            }
        }
    }
}

thread_local! {
    /// Set while this thread is inside [`guarded`]: its panics are caught
    /// and reported as damage, so the panic hook stays quiet for them.
    static GUARDED: Cell<bool> = const { Cell::new(false) };
}

/// Runs a sled call, turning a panic into [`EngineError::Corrupted`]. sled
/// 0.34 panics on some damaged files (opening a store whose log has a
/// flipped byte and no snapshot ends in "tried to serialize
/// Uninitialized"); a damaged store must give an error, never a crash.
fn guarded<T>(dir: &Path, call: impl FnOnce() -> Result<T, EngineError>) -> Result<T, EngineError> {
    static QUIET_HOOK: Once = Once::new();
    QUIET_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !GUARDED.get() {
                previous(info);
            }
        }));
    });
    let was_guarded = GUARDED.replace(true);
    let result = std::panic::catch_unwind(AssertUnwindSafe(call));
    GUARDED.set(was_guarded);
    result.unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|text| (*text).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no message".to_owned());
        Err(EngineError::Corrupted(format!(
            "sled failed on its files in {}: {message}",
            dir.display()
        )))
    })
}

/// A sled iterator whose every step is [`guarded`].
struct GuardedScan<'a, I> {
    inner: I,
    dir: &'a Path,
    failed: bool,
}

impl<I: Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> Iterator for GuardedScan<'_, I> {
    type Item = Result<Entry, EngineError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let dir = self.dir;
        let step = guarded(dir, || {
            Ok(self.inner.next().map(|entry| {
                entry
                    .map(|(key, value)| (key.to_vec(), value.to_vec()))
                    .map_err(|err| convert(dir, err))
            }))
        });
        match step {
            Ok(item) => item,
            Err(err) => {
                // sled's state after a panic is unknown: stop here.
                self.failed = true;
                Some(Err(err))
            }
        }
    }
}

/// sled reports a held file lock as an I/O error with this text.
fn is_lock_conflict(err: &sled::Error) -> bool {
    matches!(err, sled::Error::Io(io) if io.to_string().contains("could not acquire lock"))
}

/// Turns a sled error into ours; damage names the file in `dir`.
fn convert(dir: &Path, err: sled::Error) -> EngineError {
    match err {
        sled::Error::Io(io) => EngineError::Io(format!("{} ({})", io, dir.display())),
        sled::Error::Corruption { at, .. } => EngineError::Corrupted(match at {
            Some(sled::DiskPtr::Inline(offset)) => format!(
                "sled's log file {} is damaged at byte offset {offset}",
                dir.join("db").display()
            ),
            Some(sled::DiskPtr::Blob(_, blob)) => format!(
                "sled's value file {} is damaged",
                dir.join("blobs").join(blob.to_string()).display()
            ),
            None => format!("sled's files in {} are damaged", dir.display()),
        }),
        other => EngineError::Other(format!("{other} ({})", dir.display())),
    }
}

impl KvEngine for SledEngine {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        guarded(&self.path, || {
            self.db
                .get(key)
                .map(|value| value.map(|v| v.to_vec()))
                .map_err(|err| convert(&self.path, err))
        })
    }

    fn scan_prefix<'a>(
        &'a self,
        prefix: &[u8],
    ) -> Box<dyn Iterator<Item = Result<Entry, EngineError>> + 'a> {
        match guarded(&self.path, || Ok(self.db.scan_prefix(prefix))) {
            Ok(inner) => Box::new(GuardedScan {
                inner,
                dir: &self.path,
                failed: false,
            }),
            Err(err) => Box::new(std::iter::once(Err(err))),
        }
    }

    fn scan_from<'a>(
        &'a self,
        prefix: &[u8],
        start: &[u8],
    ) -> Box<dyn Iterator<Item = Result<Entry, EngineError>> + 'a> {
        let prefix = prefix.to_vec();
        let from = start.max(prefix.as_slice()).to_vec();
        match guarded(&self.path, || Ok(self.db.range(from..))) {
            Ok(inner) => Box::new(
                GuardedScan {
                    inner,
                    dir: &self.path,
                    failed: false,
                }
                .take_while(move |entry| {
                    entry
                        .as_ref()
                        .map_or(true, |(key, _)| key.starts_with(&prefix))
                }),
            ),
            Err(err) => Box::new(std::iter::once(Err(err))),
        }
    }

    fn last_at_or_before(&self, prefix: &[u8], upto: &[u8]) -> Result<Option<Entry>, EngineError> {
        if upto < prefix {
            return Ok(None);
        }
        guarded(&self.path, || {
            match self.db.range(prefix.to_vec()..=upto.to_vec()).next_back() {
                Some(Ok((key, value))) if key.starts_with(prefix) => {
                    Ok(Some((key.to_vec(), value.to_vec())))
                }
                Some(Ok(_)) | None => Ok(None),
                Some(Err(err)) => Err(convert(&self.path, err)),
            }
        })
    }

    fn apply(&self, batch: WriteBatch) -> Result<(), EngineError> {
        let mut sled_batch = sled::Batch::default();
        for (key, value) in batch.ops {
            match value {
                Some(value) => sled_batch.insert(key, value),
                None => sled_batch.remove(key),
            }
        }
        guarded(&self.path, || {
            self.db
                .apply_batch(sled_batch)
                .map_err(|err| convert(&self.path, err))
        })
    }

    fn flush(&self) -> Result<(), EngineError> {
        guarded(&self.path, || {
            self.db
                .flush()
                .map(|_| ())
                .map_err(|err| convert(&self.path, err))
        })
    }
}
