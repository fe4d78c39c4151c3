//! An engine over a shared `BTreeMap`, for tests and dry runs.

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};

use super::{EngineError, Entry, KvEngine, WriteBatch};

/// A memory engine; clones share one map, so a clone acts as a "reopened"
/// handle in tests.
#[derive(Debug, Clone, Default)]
pub(crate) struct MemoryEngine {
    map: Arc<RwLock<BTreeMap<Vec<u8>, Vec<u8>>>>,
}

impl MemoryEngine {
    /// An empty engine.
    pub(crate) fn new() -> Self {
        Self::default()
    }
}

impl KvEngine for MemoryEngine {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        Ok(map.get(key).cloned())
    }

    fn scan_prefix<'a>(
        &'a self,
        prefix: &[u8],
    ) -> Box<dyn Iterator<Item = Result<Entry, EngineError>> + 'a> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        let entries: Vec<_> = map
            .range(prefix.to_vec()..)
            .take_while(|(key, _)| key.starts_with(prefix))
            .map(|(key, value)| Ok((key.clone(), value.clone())))
            .collect();
        Box::new(entries.into_iter())
    }

    fn scan_from<'a>(
        &'a self,
        prefix: &[u8],
        start: &[u8],
    ) -> Box<dyn Iterator<Item = Result<Entry, EngineError>> + 'a> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        let from = start.max(prefix).to_vec();
        let entries: Vec<_> = map
            .range(from..)
            .take_while(|(key, _)| key.starts_with(prefix))
            .map(|(key, value)| Ok((key.clone(), value.clone())))
            .collect();
        Box::new(entries.into_iter())
    }

    fn last_at_or_before(&self, prefix: &[u8], upto: &[u8]) -> Result<Option<Entry>, EngineError> {
        let map = self.map.read().unwrap_or_else(PoisonError::into_inner);
        if upto < prefix {
            return Ok(None);
        }
        Ok(map
            .range(prefix.to_vec()..=upto.to_vec())
            .next_back()
            .filter(|(key, _)| key.starts_with(prefix))
            .map(|(key, value)| (key.clone(), value.clone())))
    }

    fn apply(&self, batch: WriteBatch) -> Result<(), EngineError> {
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        for (key, value) in batch.ops {
            match value {
                Some(value) => map.insert(key, value),
                None => map.remove(&key),
            };
        }
        Ok(())
    }

    fn flush(&self) -> Result<(), EngineError> {
        Ok(())
    }
}
