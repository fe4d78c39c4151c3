//! What is in a store's directory, by name, and what a directory holds:
//! nothing, a store of this format, a store of the first format, or
//! something else. The only module that knows the engine's file names.

use std::path::{Path, PathBuf};

use newsarc_model::record::StoreInfo;
use newsarc_model::{Digest, Millis, codec};

use crate::StoreError;

/// The store format this build writes and reads.
pub const STORE_FORMAT: u32 = 2;

/// The store's header file.
pub(crate) const HEADER_FILE: &str = "newsarc-store";
/// The packs' directory.
pub(crate) const PACKS_DIR: &str = "packs";
/// The index's directory: the sorted run and the live layer's directory.
pub(crate) const INDEX_DIR: &str = "index";
/// The index's sorted run, in its directory.
const INDEX_RUN: &str = "sorted.run";
/// The live layer's directory (a sled database), in the index's.
const INDEX_LIVE: &str = "live";

/// The files sled 0.34 keeps in its directory; a directory holding them at
/// its top is a store of format 1.
const SLED_FILES: &[&str] = &["conf", "db"];

/// What a directory holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Found {
    /// Nothing (absent, or an empty directory): a store can be made there.
    Nothing,
    /// A store of this format.
    Store,
    /// A store of format 1 (sled's files at the top, no header file).
    FormatOne,
    /// Anything else.
    Other,
}

/// Looks at `dir` without changing anything.
pub(crate) fn probe(dir: &Path) -> Found {
    if dir.join(HEADER_FILE).is_file() {
        return Found::Store;
    }
    if SLED_FILES.iter().all(|file| dir.join(file).exists()) {
        return Found::FormatOne;
    }
    match std::fs::read_dir(dir) {
        Err(_) => Found::Nothing,
        Ok(mut entries) => {
            if entries.next().is_none() {
                Found::Nothing
            } else {
                Found::Other
            }
        }
    }
}

/// The packs' directory of the store in `dir`.
pub(crate) fn packs(dir: &Path) -> PathBuf {
    dir.join(PACKS_DIR)
}

/// The index's directory of the store in `dir`.
pub(crate) fn index(dir: &Path) -> PathBuf {
    dir.join(INDEX_DIR)
}

/// The sorted run of the store in `dir`.
pub(crate) fn index_run(dir: &Path) -> PathBuf {
    index(dir).join(INDEX_RUN)
}

/// The live layer's directory inside the index directory `index_dir`.
pub(crate) fn live_in(index_dir: &Path) -> PathBuf {
    index_dir.join(INDEX_LIVE)
}

/// The live layer's directory of the store in `dir`.
pub(crate) fn index_live(dir: &Path) -> PathBuf {
    live_in(&index(dir))
}

/// The file sled locks for its one writing process, in the live layer of
/// the store in `dir`: a reader that must see the store hold still takes a
/// shared lock on it.
pub(crate) fn engine_lock_file(dir: &Path) -> PathBuf {
    index_live(dir).join("db")
}

/// True when sled's files are at the top of `index_dir`: the index layout
/// before sorted runs, which is rebuilt.
pub(crate) fn holds_engine_files(index_dir: &Path) -> bool {
    SLED_FILES.iter().any(|file| index_dir.join(file).exists())
}

/// Where `repair` builds a new index before it replaces the old one.
pub(crate) fn index_rebuilding(dir: &Path) -> PathBuf {
    dir.join(format!("{INDEX_DIR}.rebuilding"))
}

/// Writes a new store's header in `dir` (created if absent): to a
/// temporary file, synced, then renamed, so a store is never half-made.
pub(crate) fn create(dir: &Path) -> Result<StoreInfo, StoreError> {
    let io = |source| StoreError::Io {
        path: dir.to_owned(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let info = StoreInfo {
        format: STORE_FORMAT,
        created_at: Millis::now(),
        indexes: 1,
    };
    let record = codec::encode(&info).map_err(|err| StoreError::Internal(err.to_string()))?;
    let bytes = [Digest::of(&record).as_bytes().as_slice(), &record].concat();
    let staging = dir.join(format!("{HEADER_FILE}.writing"));
    std::fs::write(&staging, bytes)
        .and_then(|()| std::fs::File::open(&staging)?.sync_all())
        .and_then(|()| std::fs::rename(&staging, dir.join(HEADER_FILE)))
        .map_err(io)?;
    Ok(info)
}

/// Reads the store's header in `dir`, refusing another format by name.
pub(crate) fn read_header(dir: &Path) -> Result<StoreInfo, StoreError> {
    let path = dir.join(HEADER_FILE);
    let location = dir.display().to_string();
    let damaged = |reason: String| StoreError::DamagedHeader {
        location: location.clone(),
        reason,
    };
    let bytes = std::fs::read(&path).map_err(|source| StoreError::Io {
        path: path.clone(),
        source,
    })?;
    let (check, record) = bytes
        .split_at_checked(32)
        .ok_or_else(|| damaged(format!("{} is {} bytes long", path.display(), bytes.len())))?;
    if Digest::of(record).as_bytes() != check {
        return Err(damaged(format!(
            "{}: its checksum does not match",
            path.display()
        )));
    }
    let info: StoreInfo = codec::decode(record).map_err(|err| damaged(err.to_string()))?;
    if info.format != STORE_FORMAT {
        return Err(StoreError::UnsupportedFormat {
            location,
            found: info.format,
            supported: STORE_FORMAT,
        });
    }
    Ok(info)
}

/// The size of every file under `dir`: what the store costs on disk.
pub(crate) fn directory_bytes(dir: &Path) -> std::io::Result<u64> {
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

/// True when `dir` cannot be written (read-only media, or no permission).
pub(crate) fn is_read_only(dir: &Path) -> bool {
    let probe = dir.join(format!(".newsarc-write-probe-{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            false
        }
        Err(_) => true,
    }
}
