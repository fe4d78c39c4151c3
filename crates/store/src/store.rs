//! The store: packs (the source of truth) and an index over them, opened
//! together. Reading is in `read.rs`, writing in `write.rs`, documents in
//! `documents.rs`, rebuilding the index in `rebuild.rs`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use newsarc_model::Digest;
use newsarc_pack::{PackSet, PackWriter};
use zstd::dict::{DecoderDictionary, EncoderDictionary};

use crate::blocks::BlockCache;
use crate::engine::{EngineError, KvEngine, LayeredEngine, MemoryEngine};
use crate::index::{self, INDEX_VERSION, IndexState};
use crate::index_layers::{self, Live};
use crate::layout::{self, Found};
use crate::records::BatchCache;
use crate::witness::Witness;
use crate::{StoreError, keys, serving};

/// Why the index of the store in `dir` did not open: held by another
/// process (and which server, if one said so), or the engine's reason.
pub(crate) fn index_open_error(dir: &Path, reason: EngineError) -> StoreError {
    let location = dir.display().to_string();
    match reason {
        EngineError::Locked(_) => StoreError::InUse {
            location,
            server: serving::announced(dir),
        },
        reason => StoreError::Open { location, reason },
    }
}

/// How a store is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// The index's caches, in bytes: half for the sorted run's decoded
    /// blocks, half for sled's page cache.
    pub cache_bytes: u64,
    /// A new pack is started once the current one is this long.
    pub pack_limit: u64,
    /// Open without writing anything: no store is created, no index entry
    /// written (on read-only media the index is rebuilt in memory).
    pub read_only: bool,
    /// A writer compacts the index's live layer into its sorted run once
    /// the live layer took this many entries and an eighth of the run's.
    pub compact_after: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            cache_bytes: crate::engine::DEFAULT_CACHE_BYTES,
            pack_limit: newsarc_pack::DEFAULT_PACK_LIMIT,
            read_only: false,
            compact_after: crate::index_layers::LIVE_ENTRIES,
        }
    }
}

/// The writer's side of a store: the pack being appended to, and the
/// prepared dictionaries documents are compressed with.
pub(crate) struct Writer {
    pub(crate) packs: Option<PackWriter>,
    pub(crate) encoders: HashMap<Digest, Arc<EncoderDictionary<'static>>>,
}

/// A newsarc store (format 2): see `docs/FORMAT.md`.
pub struct Store {
    pub(crate) location: String,
    pub(crate) dir: PathBuf,
    pub(crate) index: LayeredEngine,
    /// Which engine the index's live layer is.
    pub(crate) live: Live,
    pub(crate) cache_bytes: u64,
    pub(crate) compact_after: u64,
    pub(crate) packs: PackSet,
    /// One writer at a time keeps every history a single chain.
    pub(crate) writer: Mutex<Writer>,
    pub(crate) batches: BatchCache,
    /// Recently read document blocks, decoded.
    pub(crate) blocks: BlockCache,
    pub(crate) decoders: Mutex<HashMap<Digest, Arc<DecoderDictionary<'static>>>>,
    pub(crate) witness: Witness,
    pub(crate) read_only: bool,
    /// Where a throwaway store lives, removed with it.
    _scratch: Option<tempfile::TempDir>,
}

impl Store {
    /// Opens the store in `dir`, creating it when `dir` is absent or empty
    /// (unless read-only). A store of format 1 is refused with the command
    /// that upgrades it; a directory holding anything else is refused.
    pub fn open(dir: &Path, config: &StoreConfig) -> Result<Self, StoreError> {
        let location = dir.display().to_string();
        match layout::probe(dir) {
            Found::Store => {}
            Found::Nothing if !config.read_only => {
                layout::create(dir)?;
            }
            Found::Nothing => return Err(StoreError::NoStore { location }),
            Found::FormatOne => return Err(StoreError::FormatOne { location }),
            Found::Other => return Err(StoreError::NotAStore { location }),
        }
        layout::read_header(dir)?;
        let media_read_only = layout::is_read_only(dir);
        let read_only = config.read_only || media_read_only;
        let (index, live) = index_layers::open(dir, config.cache_bytes, read_only, media_read_only)
            .map_err(|reason| index_open_error(dir, reason))?;
        let store = Self::assemble(dir, index, live, config, read_only, None)?;
        store.drop_stale_live()?;
        store.catch_up()?;
        store.witness.opened_with(store.counters()?.log_len());
        if !read_only {
            // This process holds the lock: no server does, whatever a file
            // left by a killed one says.
            serving::withdraw(dir);
        }
        Ok(store)
    }

    /// A throwaway store: its index in memory, its packs in a temporary
    /// directory removed when it is dropped. Fails when no temporary
    /// directory can be made (`TMPDIR` unwritable, disk full).
    pub fn in_memory() -> Result<Self, StoreError> {
        let scratch = tempfile::tempdir().map_err(|source| StoreError::Io {
            path: std::env::temp_dir(),
            source,
        })?;
        let dir = scratch.path().to_owned();
        layout::create(&dir)?;
        Self::assemble(
            &dir,
            LayeredEngine::new(None, Box::new(MemoryEngine::new()), "memory".into()),
            Live::Memory,
            &StoreConfig::default(),
            false,
            Some(scratch),
        )
    }

    /// The store in `dir` over `index`, as it is: the index is not brought
    /// up to the packs (`open` does that; `repair` builds one anew).
    pub(crate) fn assemble(
        dir: &Path,
        index: LayeredEngine,
        live: Live,
        config: &StoreConfig,
        read_only: bool,
        scratch: Option<tempfile::TempDir>,
    ) -> Result<Self, StoreError> {
        let packs = PackSet::open(&layout::packs(dir))?;
        let writer = if read_only {
            None
        } else {
            Some(PackWriter::open(&layout::packs(dir), config.pack_limit)?)
        };
        let witness = Witness::open(dir, read_only);
        let store = Self {
            location: if scratch.is_some() {
                "memory".into()
            } else {
                dir.display().to_string()
            },
            dir: dir.to_owned(),
            index,
            live,
            cache_bytes: config.cache_bytes,
            compact_after: config.compact_after,
            packs,
            writer: Mutex::new(Writer {
                packs: writer,
                encoders: HashMap::new(),
            }),
            batches: BatchCache::default(),
            blocks: BlockCache::default(),
            decoders: Mutex::default(),
            witness,
            read_only,
            _scratch: scratch,
        };
        Ok(store)
    }

    /// Where the store lives, for messages.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// True when the store was opened without writing.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The index's state: how far into the packs it goes.
    pub(crate) fn index_state(&self) -> Result<Option<IndexState>, StoreError> {
        self.index
            .get(keys::INDEXED)?
            .map(|bytes| index::decode(&bytes, "indexed", keys::INDEXED))
            .transpose()
    }

    /// Brings the index up to the packs: an index of another layout (or
    /// none) is rebuilt from them; commits a crash left in the packs but
    /// not in the index are added; an unfinished commit at the end of the
    /// last pack is cut off (it was never acknowledged).
    fn catch_up(&self) -> Result<(), StoreError> {
        let state = self.index_state()?;
        let from = match state {
            Some(state) if state.version == INDEX_VERSION => Some(state.position()),
            Some(_) => {
                self.clear_index()?;
                None
            }
            None => {
                if self.index.scan_prefix(b"").next().is_some() {
                    self.clear_index()?;
                }
                None
            }
        };
        let tail = self.replay_from(from)?;
        if let Some(tail) = tail
            && !self.read_only
        {
            let mut writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(packs) = writer.packs.as_mut()
                && tail.pack == packs.end().pack
            {
                packs.truncate(tail)?;
            }
        }
        Ok(())
    }

    /// Bytes the store occupies on disk.
    pub fn disk_bytes(&self) -> Result<u64, StoreError> {
        layout::directory_bytes(&self.dir).map_err(|source| StoreError::Io {
            path: self.dir.clone(),
            source,
        })
    }

    /// Bytes of all packs' frames: what `verify` reads.
    pub fn pack_bytes(&self) -> Result<u64, StoreError> {
        Ok(self
            .packs
            .lengths()?
            .iter()
            .map(|(_, length)| length.saturating_sub(newsarc_pack::FILE_HEADER_LEN))
            .sum())
    }

    /// Says, in the store directory, that a server at `address` holds the
    /// store (removed again by [`Store::withdraw_server`]).
    pub fn announce_server(&self, address: &str) -> Result<(), StoreError> {
        serving::announce(&self.dir, address).map_err(|source| StoreError::Announce {
            path: self.dir.join(serving::SERVING_FILE),
            source,
        })
    }

    /// Removes what [`Store::announce_server`] wrote.
    pub fn withdraw_server(&self) {
        serving::withdraw(&self.dir);
    }

    /// Makes everything committed survive a killed process (commits do
    /// this already; servers call it once more when they stop).
    pub fn flush(&self) -> Result<(), StoreError> {
        Ok(self.index.flush()?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use newsarc_model::{ArticleKey, ArticleMeta, Digest, Millis};

    use super::{Store, StoreConfig};
    use crate::engine::{KvEngine, LayeredEngine, MemoryEngine, WriteBatch};
    use crate::index::{self, DocumentValue, IndexState};
    use crate::index_layers::Live;
    use crate::{Fetch, keys};

    fn fetch(article: &str, body: &'static [u8]) -> Fetch<'static> {
        Fetch {
            article: ArticleKey::new(article).unwrap(),
            bytes: body,
            fetched_at: Millis::from_millis(1),
            source: format!("{article}.html"),
            canonical_url: format!("https://{article}"),
            meta: ArticleMeta::default(),
            text_digest: Digest::of(body),
            http: None,
            charset: None,
        }
    }

    /// An index of layout 2 has no `member` in its document entries: read
    /// as a later layout, a block's members would be taken for frames of
    /// their own. It is rebuilt from the packs when the store opens (as is
    /// every layout but this build's).
    #[test]
    fn an_index_of_an_older_layout_is_rebuilt_never_misread() {
        let dir = tempfile::tempdir().unwrap();
        let bodies: [&'static [u8]; 2] = [b"<p>first article</p>", b"<p>second article</p>"];
        {
            let store = Store::open(dir.path(), &StoreConfig::default()).unwrap();
            let mut commit = store.begin().unwrap();
            commit
                .add_fetch(&fetch("example.org/a", bodies[0]))
                .unwrap();
            commit
                .add_fetch(&fetch("example.org/b", bodies[1]))
                .unwrap();
            commit.finish().unwrap();
            // What layout 2 wrote: the same entries without `member`.
            let mut batch = WriteBatch::default();
            for body in bodies {
                let key = keys::document(&Digest::of(body));
                let mut value: DocumentValue =
                    index::decode(&store.index.get(&key).unwrap().unwrap(), "document", &key)
                        .unwrap();
                assert!(value.member.is_some(), "both share a block");
                value.member = None;
                batch.put(key, index::encode(&value).unwrap());
            }
            let state = IndexState {
                version: 2,
                ..store.index_state().unwrap().unwrap()
            };
            batch.put(keys::INDEXED.to_vec(), index::encode(&state).unwrap());
            store.index.apply(batch).unwrap();
            store.index.flush().unwrap();
        }
        let store = Store::open(dir.path(), &StoreConfig::default()).unwrap();
        assert_eq!(
            store.index_state().unwrap().unwrap().version,
            index::INDEX_VERSION
        );
        for body in bodies {
            assert_eq!(store.blob(&Digest::of(body)).unwrap(), body);
        }
    }

    /// On read-only media sled cannot open its files: the store reads
    /// through an index made in memory from the packs, and writes nothing.
    #[test]
    fn a_store_on_read_only_media_reads_through_an_index_made_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let body = b"<p>kept</p>";
        {
            let store = Store::open(dir.path(), &StoreConfig::default()).unwrap();
            let mut commit = store.begin().unwrap();
            commit.add_fetch(&fetch("example.org/a", body)).unwrap();
            commit.finish().unwrap();
        }
        let before = crate::layout::directory_bytes(dir.path()).unwrap();
        let config = StoreConfig {
            read_only: true,
            ..StoreConfig::default()
        };
        let store = Store::assemble(
            dir.path(),
            LayeredEngine::new(None, Box::new(MemoryEngine::new()), "memory".into()),
            Live::Memory,
            &config,
            true,
            None,
        )
        .unwrap();
        store.catch_up().unwrap();
        assert_eq!(store.counters().unwrap().revisions, 1);
        assert_eq!(store.blob(&Digest::of(body)).unwrap(), body);
        assert!(store.begin().is_err());
        drop(store);
        assert_eq!(crate::layout::directory_bytes(dir.path()).unwrap(), before);
    }
}
