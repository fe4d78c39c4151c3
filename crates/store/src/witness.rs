//! The head witness: a small file beside the engine's files saying how long
//! the global log was at the last flush. sled, opened on a log that lost its
//! tail and has no snapshot to contradict it, serves the older store without
//! a word; the witness lets `verify` say so.
//!
//! Written after the engine's flush (so it never claims more than is
//! durable), replaced by rename, not fsynced: after a power cut it can lag
//! behind the store, which is harmless, or be damaged, which `verify`
//! reports and `repair` rewrites.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use newsarc_model::record::{HeadWitness, Record};
use newsarc_model::{Digest, codec};

use crate::StoreError;

/// The witness's file name in the store directory.
pub const WITNESS_FILE: &str = "newsarc-head";

/// The witness file of one store.
pub(crate) struct Witness {
    path: PathBuf,
    /// The longest log the file claims; a flush writes only a longer one.
    claimed: Mutex<u64>,
}

impl Witness {
    /// The witness in `dir`; `log_len` is the store's log as opened. When
    /// the file claims a longer log, it is never overwritten: it is the
    /// evidence that entries were lost.
    pub(crate) fn open(dir: &Path, log_len: u64) -> Self {
        let witness = Self {
            path: dir.join(WITNESS_FILE),
            claimed: Mutex::new(0),
        };
        if let Ok(Some(head)) = witness.read() {
            *witness.lock() = if head.log_len > log_len {
                u64::MAX
            } else {
                head.log_len
            };
        }
        witness
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, u64> {
        self.claimed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The file's contents; `None` when there is no file.
    pub(crate) fn read(&self) -> Result<Option<HeadWitness>, StoreError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(self.damaged(err.to_string())),
        };
        // The file is the BLAKE3 of the record, then the record: a flipped
        // bit must read as a damaged witness, never as a different claim.
        let (check, record) = bytes
            .split_at_checked(32)
            .ok_or_else(|| self.damaged(format!("{} bytes is too short", bytes.len())))?;
        if Digest::of(record).as_bytes() != check {
            return Err(self.damaged("its checksum does not match".into()));
        }
        codec::decode(record)
            .map(Some)
            .map_err(|err| self.damaged(err.to_string()))
    }

    fn damaged(&self, reason: String) -> StoreError {
        StoreError::CorruptRecord {
            kind: HeadWitness::KIND,
            id: self.path.display().to_string(),
            reason,
        }
    }

    /// Replaces the file with `head` when it claims a longer log than the
    /// file does.
    pub(crate) fn record(&self, head: &HeadWitness) -> Result<(), StoreError> {
        let mut claimed = self.lock();
        if head.log_len <= *claimed {
            return Ok(());
        }
        let record = codec::encode(head).map_err(|err| self.damaged(err.to_string()))?;
        let bytes = [Digest::of(&record).as_bytes().as_slice(), &record].concat();
        let staging = self.path.with_extension("writing");
        std::fs::write(&staging, bytes)
            .and_then(|()| std::fs::rename(&staging, &self.path))
            .map_err(|source| StoreError::Witness {
                path: self.path.clone(),
                source,
            })?;
        *claimed = head.log_len;
        Ok(())
    }
}
