//! Index writes that are not in the engine yet: a commit's entries, read
//! back by the commit itself before they are applied in one batch.

use std::collections::BTreeMap;

use crate::StoreError;
use crate::engine::{Entry, KvEngine, WriteBatch};

/// The engine's entries with this commit's writes laid over them.
pub(crate) struct Overlay<'a> {
    engine: &'a dyn KvEngine,
    writes: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl<'a> Overlay<'a> {
    pub(crate) fn new(engine: &'a dyn KvEngine) -> Self {
        Self {
            engine,
            writes: BTreeMap::new(),
        }
    }

    /// The value under `key`, written or stored.
    pub(crate) fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match self.writes.get(key) {
            Some(value) => Ok(Some(value.clone())),
            None => Ok(self.engine.get(key)?),
        }
    }

    /// Sets `key` to `value` for this commit.
    pub(crate) fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.writes.insert(key, value);
    }

    /// Every entry under `prefix`, written or stored, in key order.
    pub(crate) fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<Entry>, StoreError> {
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        for entry in self.engine.scan_prefix(prefix) {
            let (key, value) = entry?;
            merged.insert(key, value);
        }
        for (key, value) in self
            .writes
            .range(prefix.to_vec()..)
            .take_while(|(key, _)| key.starts_with(prefix))
        {
            merged.insert(key.clone(), value.clone());
        }
        Ok(merged.into_iter().collect())
    }

    /// The entry with the greatest key under `prefix` that is at most
    /// `upto`, written or stored.
    pub(crate) fn last_at_or_before(
        &self,
        prefix: &[u8],
        upto: &[u8],
    ) -> Result<Option<Entry>, StoreError> {
        let stored = self.engine.last_at_or_before(prefix, upto)?;
        let written = if upto < prefix {
            None
        } else {
            self.writes
                .range(prefix.to_vec()..=upto.to_vec())
                .next_back()
                .filter(|(key, _)| key.starts_with(prefix))
                .map(|(key, value)| (key.clone(), value.clone()))
        };
        Ok(match (stored, written) {
            (Some(stored), Some(written)) => Some(if written.0 >= stored.0 {
                written
            } else {
                stored
            }),
            (stored, written) => stored.or(written),
        })
    }

    /// The entry with the smallest key under `prefix` that is greater than
    /// `after`, written or stored.
    pub(crate) fn first_after(
        &self,
        prefix: &[u8],
        after: &[u8],
    ) -> Result<Option<Entry>, StoreError> {
        let mut start = after.to_vec();
        start.push(0);
        let stored = self.engine.scan_from(prefix, &start).next().transpose()?;
        let written = self
            .writes
            .range(start..)
            .next()
            .filter(|(key, _)| key.starts_with(prefix))
            .map(|(key, value)| (key.clone(), value.clone()));
        Ok(match (stored, written) {
            (Some(stored), Some(written)) => Some(if written.0 <= stored.0 {
                written
            } else {
                stored
            }),
            (stored, written) => stored.or(written),
        })
    }

    /// True when nothing was written.
    pub(crate) fn is_empty(&self) -> bool {
        self.writes.is_empty()
    }

    /// The writes, as one batch for the engine.
    pub(crate) fn into_batch(self) -> WriteBatch {
        let mut batch = WriteBatch::default();
        for (key, value) in self.writes {
            batch.put(key, value);
        }
        batch
    }

    /// The writes so far, keys and values (for a commit that must rewrite
    /// what it wrote before it knew where its records would go).
    pub(crate) fn writes_mut(&mut self) -> &mut BTreeMap<Vec<u8>, Vec<u8>> {
        &mut self.writes
    }
}
