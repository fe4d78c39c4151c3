//! The sled 0.34 adapter: the only module that names a `sled::` type.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{EngineError, Entry, KvEngine, WriteBatch};

/// sled's page cache is a soft limit that defaults to 1 GiB; newsarc's reads
/// are mostly sequential scans, so a modest cache is enough and keeps RSS
/// predictable.
pub const DEFAULT_CACHE_BYTES: u64 = 256 * 1024 * 1024;

/// How long opening waits for the store's file lock. sled allows one process
/// per store, and a handle dropped in this process can keep the lock for a
/// moment while sled's I/O threads finish.
pub const LOCK_WAIT: Duration = Duration::from_secs(3);

/// A store directory opened with sled. sled takes a file lock: one process
/// per store.
pub struct SledEngine {
    db: sled::Db,
    path: PathBuf,
}

impl SledEngine {
    /// Opens (or creates) the sled database in `path`, waiting up to
    /// [`LOCK_WAIT`] for another holder of its file lock to let go.
    pub fn open(path: &Path, cache_bytes: u64) -> Result<Self, EngineError> {
        let deadline = Instant::now() + LOCK_WAIT;
        loop {
            let opened = sled::Config::new()
                .path(path)
                .cache_capacity(cache_bytes)
                // newsarc flushes explicitly before it acknowledges anything;
                // without a background flusher the lock goes with the handle.
                .flush_every_ms(None)
                .open();
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

    /// Opens a store that sled refuses because its config file (`conf`) is
    /// damaged. The config holds no data: sled writes it again with its
    /// defaults, which newsarc never changes. The damaged file is moved
    /// (never deleted) into `aside`, and its new path returned; when sled
    /// still refuses, it is moved back and sled's first error returned.
    ///
    /// The snapshot (`snap.*`) is not set aside even though sled could
    /// rebuild it from the log: without it sled takes a truncated log for
    /// a torn write and opens an older store without a word (the
    /// corruption campaign in `docs/RELIABILITY.md` caught exactly that).
    pub fn open_setting_aside_config(
        path: &Path,
        cache_bytes: u64,
        aside: &Path,
    ) -> Result<(Self, Option<PathBuf>), EngineError> {
        let refused = match Self::open(path, cache_bytes) {
            Ok(engine) => return Ok((engine, None)),
            Err(err @ (EngineError::Locked(_) | EngineError::Io(_))) => return Err(err),
            Err(err) => err,
        };
        let config = path.join("conf");
        if !config.exists() {
            return Err(refused);
        }
        let io = |err: std::io::Error| EngineError::Io(format!("{err} ({})", aside.display()));
        std::fs::create_dir_all(aside).map_err(io)?;
        let moved = aside.join("conf");
        std::fs::rename(&config, &moved).map_err(io)?;
        match Self::open(path, cache_bytes) {
            Ok(engine) => Ok((engine, Some(moved))),
            Err(_) => {
                std::fs::rename(&moved, &config).map_err(io)?;
                // Leave nothing behind: the directory was made for this file.
                let _ = std::fs::remove_dir(aside);
                Err(refused)
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
        self.db
            .get(key)
            .map(|value| value.map(|v| v.to_vec()))
            .map_err(|err| convert(&self.path, err))
    }

    fn scan_prefix<'a>(
        &'a self,
        prefix: &[u8],
    ) -> Box<dyn Iterator<Item = Result<Entry, EngineError>> + 'a> {
        Box::new(self.db.scan_prefix(prefix).map(|entry| {
            entry
                .map(|(key, value)| (key.to_vec(), value.to_vec()))
                .map_err(|err| convert(&self.path, err))
        }))
    }

    fn scan_from<'a>(
        &'a self,
        prefix: &[u8],
        start: &[u8],
    ) -> Box<dyn Iterator<Item = Result<Entry, EngineError>> + 'a> {
        let prefix = prefix.to_vec();
        let from = start.max(prefix.as_slice()).to_vec();
        Box::new(
            self.db
                .range(from..)
                .map(|entry| {
                    entry
                        .map(|(key, value)| (key.to_vec(), value.to_vec()))
                        .map_err(|err| convert(&self.path, err))
                })
                .take_while(move |entry| {
                    entry
                        .as_ref()
                        .map_or(true, |(key, _)| key.starts_with(&prefix))
                }),
        )
    }

    fn apply(&self, batch: WriteBatch) -> Result<(), EngineError> {
        let mut sled_batch = sled::Batch::default();
        for (key, value) in batch.ops {
            match value {
                Some(value) => sled_batch.insert(key, value),
                None => sled_batch.remove(key),
            }
        }
        self.db
            .apply_batch(sled_batch)
            .map_err(|err| convert(&self.path, err))
    }

    fn flush(&self) -> Result<(), EngineError> {
        self.db
            .flush()
            .map(|_| ())
            .map_err(|err| convert(&self.path, err))
    }

    fn disk_bytes(&self) -> Result<u64, EngineError> {
        directory_bytes(&self.path).map_err(|err| EngineError::Io(err.to_string()))
    }
}

/// The size of every file under `dir`: what the store really costs on disk,
/// where sled's own `size_on_disk` leaves out its config and snapshots.
fn directory_bytes(dir: &Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            directory_bytes(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}
