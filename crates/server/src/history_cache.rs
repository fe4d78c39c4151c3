//! Verified histories of recently asked articles, for `ListHistory`.
//!
//! A server holds its store alone (sled allows one process per store) and
//! every write in it goes through `Ingest`, which calls
//! [`HistoryCache::invalidate`] once its write is applied: an entry read
//! before a write is never kept after it. The records were checked against
//! their ids when they were read; the cache only spares reading, hashing
//! decoding and converting them again, which is most of a `ListHistory`'s
//! cost.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use newsarc_model::{ArticleKey, Millis};

use crate::pb;

/// How many articles' histories are kept; the cache empties when full.
const CAPACITY: usize = 4096;

/// One article's revisions (in the FULL view) and events as `ListHistory`
/// sends them, each with its time and kind (0 revision, 1 event) for
/// ordering.
pub(crate) struct History {
    pub(crate) key: ArticleKey,
    pub(crate) entries: Vec<(Millis, u8, pb::HistoryEntry)>,
}

#[derive(Default)]
struct State {
    /// Bumped by every write: an entry read under an older one is stale.
    generation: u64,
    /// By the article as the client named it.
    entries: HashMap<String, Arc<History>>,
}

/// See the module's documentation.
#[derive(Default)]
pub(crate) struct HistoryCache {
    state: Mutex<State>,
}

impl HistoryCache {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The current generation, to be read before reading the store.
    pub(crate) fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// The history kept for `article`, if any.
    pub(crate) fn get(&self, article: &str) -> Option<Arc<History>> {
        self.lock().entries.get(article).cloned()
    }

    /// Keeps `history`, read from the store after [`HistoryCache::generation`]
    /// gave `generation`, unless a write came since.
    pub(crate) fn insert(&self, article: &str, generation: u64, history: Arc<History>) {
        let mut state = self.lock();
        if state.generation != generation {
            return;
        }
        if state.entries.len() >= CAPACITY {
            state.entries.clear();
        }
        state.entries.insert(article.to_owned(), history);
    }

    /// Forgets everything: the store has changed.
    pub(crate) fn invalidate(&self) {
        let mut state = self.lock();
        state.generation += 1;
        state.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history() -> Arc<History> {
        Arc::new(History {
            key: ArticleKey::new("example.org/a").unwrap(),
            entries: Vec::new(),
        })
    }

    #[test]
    fn a_history_read_before_a_write_is_not_kept_after_it() {
        let cache = HistoryCache::default();
        let before = cache.generation();
        cache.insert("a", before, history());
        assert!(cache.get("a").is_some());
        cache.invalidate();
        assert!(cache.get("a").is_none());
        // Read before the write, stored after it: dropped.
        cache.insert("a", before, history());
        assert!(cache.get("a").is_none());
        cache.insert("a", cache.generation(), history());
        assert!(cache.get("a").is_some());
    }
}
