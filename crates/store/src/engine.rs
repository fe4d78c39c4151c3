//! The storage seam: the few operations the index needs from a key-value
//! engine. The index is a [`LayeredEngine`]: a sorted run of what was
//! compacted, under a live engine — sled in [`SledEngine`], or
//! [`MemoryEngine`] for throwaway stores, readers and read-only media. Crate-private: nothing outside the
//! store sees an engine, a key or an engine's file.

mod layered;
mod memory;
mod run;
mod sled_engine;
#[cfg(test)]
mod tests;

pub(crate) use layered::{LayeredEngine, staging};
pub(crate) use memory::MemoryEngine;
pub(crate) use run::Run;
pub use sled_engine::DEFAULT_CACHE_BYTES;
pub(crate) use sled_engine::SledEngine;

/// A key and its value.
pub(crate) type Entry = (Vec<u8>, Vec<u8>);

/// An engine failure, described in the engine's own words.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The engine's files could not be read or written.
    #[error("storage engine I/O failed: {0}")]
    Io(String),
    /// The engine found its own files damaged.
    #[error("storage engine found its files corrupted: {0}")]
    Corrupted(String),
    /// Another process holds the store (sled allows one process per store).
    #[error("the store at {0} is in use by another process (one process per store)")]
    Locked(String),
    /// Another engine-level failure.
    #[error("storage engine failed: {0}")]
    Other(String),
}

/// Writes applied all together or not at all.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct WriteBatch {
    ops: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl WriteBatch {
    /// Sets `key` to `value`.
    pub(crate) fn put(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.push((key.into(), Some(value.into())));
    }

    /// Removes `key`. Only tests remove: they damage an index on purpose.
    #[cfg(test)]
    pub(crate) fn remove(&mut self, key: impl Into<Vec<u8>>) {
        self.ops.push((key.into(), None));
    }
}

/// An ordered key-value engine.
pub(crate) trait KvEngine: Send + Sync {
    /// The value under `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError>;

    /// Every entry whose key starts with `prefix`, in key order.
    fn scan_prefix<'a>(
        &'a self,
        prefix: &[u8],
    ) -> Box<dyn Iterator<Item = Result<Entry, EngineError>> + 'a>;

    /// Every entry whose key starts with `prefix` and is at least `start`,
    /// in key order.
    fn scan_from<'a>(
        &'a self,
        prefix: &[u8],
        start: &[u8],
    ) -> Box<dyn Iterator<Item = Result<Entry, EngineError>> + 'a>;

    /// The entry with the greatest key that starts with `prefix` and is at
    /// most `upto` (which starts with `prefix`): "the last one at or
    /// before", one seek.
    fn last_at_or_before(&self, prefix: &[u8], upto: &[u8]) -> Result<Option<Entry>, EngineError>;

    /// Applies `batch` atomically: after a crash either all of it or none of
    /// it is visible.
    fn apply(&self, batch: WriteBatch) -> Result<(), EngineError>;

    /// Makes everything applied so far survive a killed process.
    fn flush(&self) -> Result<(), EngineError>;
}
