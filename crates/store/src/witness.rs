//! The head witness: a small file beside the packs and the index saying how
//! long the global log and every pack were at the last commit. A pack cut
//! short, or an index that lost its tail, is then noticed by `verify`.
//!
//! Written after the commit is durable (so it never claims more than is),
//! replaced by rename after an fsync. A witness that claims more than the
//! store holds is never overwritten: it is the evidence of a loss.

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
    /// The longest log the file claims; a commit writes only a longer one.
    claimed: Mutex<Option<u64>>,
    read_only: bool,
}

impl Witness {
    /// The witness in `dir`.
    pub(crate) fn open(dir: &Path, read_only: bool) -> Self {
        let witness = Self {
            path: dir.join(WITNESS_FILE),
            claimed: Mutex::new(None),
            read_only,
        };
        if let Ok(Some(head)) = witness.read() {
            *witness.lock() = Some(head.log_len);
        }
        witness
    }

    /// The store as opened holds `log_len` entries: a witness that claims
    /// more is never overwritten, so the evidence of the loss stays until
    /// someone restores the store.
    pub(crate) fn opened_with(&self, log_len: u64) {
        let mut claimed = self.lock();
        if claimed.is_some_and(|claimed| claimed > log_len) {
            *claimed = Some(u64::MAX);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<u64>> {
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

    /// Replaces the file with `head` unless the file claims a longer log.
    pub(crate) fn record(&self, head: &HeadWitness) -> Result<(), StoreError> {
        if self.read_only {
            return Ok(());
        }
        let mut claimed = self.lock();
        if claimed.is_some_and(|claimed| head.log_len < claimed) {
            return Ok(());
        }
        let record = codec::encode(head).map_err(|err| self.damaged(err.to_string()))?;
        let bytes = [Digest::of(&record).as_bytes().as_slice(), &record].concat();
        let staging = self.path.with_extension("writing");
        std::fs::write(&staging, bytes)
            .and_then(|()| std::fs::File::open(&staging)?.sync_all())
            .and_then(|()| std::fs::rename(&staging, &self.path))
            .map_err(|source| StoreError::Witness {
                path: self.path.clone(),
                source,
            })?;
        *claimed = Some(head.log_len);
        Ok(())
    }
}
