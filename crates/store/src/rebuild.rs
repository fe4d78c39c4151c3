//! The index made from the packs: every commit's frames replayed in order
//! through [`crate::apply`], the same functions a commit indexes itself
//! with. Used when a store opens (to take in commits a crash left in the
//! packs but not in the index), by `repair --rebuild-index`, and for stores
//! on read-only media.

use newsarc_pack::block::Directory;
use newsarc_pack::{Codec, Frame, Kind, Location, Scanned};

use crate::apply::{Indexer, RecordSource};
use crate::engine::KvEngine;
use crate::index::{self, DocumentValue, INDEX_VERSION, IndexState, RecordRef};
use crate::overlay::Overlay;
use crate::records::{batch_content, split_batch};
use crate::store::Store;
use crate::{StoreError, keys};

/// The index is flushed every this many commits of a long replay.
const REPLAYED_PER_FLUSH: u64 = 256;

/// What a replay met that it could not take in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lost {
    /// A frame whose payload is damaged (its header still says what it was).
    Frame { location: Location, what: String },
    /// Bytes that are no frame.
    Bytes {
        location: Location,
        len: u64,
        reason: String,
    },
    /// A batch whose records do not read.
    Batch { location: Location, reason: String },
    /// One record of a batch that does not decode or index.
    Record { at: RecordRef, reason: String },
}

/// How a replay ended.
#[derive(Debug, Default)]
pub(crate) struct Replayed {
    /// Where frames begin that belong to no complete commit (a crash cut
    /// the commit short): a tail to cut off.
    pub(crate) tail: Option<Location>,
    /// What could not be taken in (only when replaying past damage).
    pub(crate) lost: Vec<Lost>,
    /// Commits taken in.
    pub(crate) commits: u64,
}

/// Reads records through the packs.
struct FromPacks<'s> {
    store: &'s Store,
}

impl RecordSource for FromPacks<'_> {
    fn record_bytes(&self, at: RecordRef) -> Result<Vec<u8>, StoreError> {
        self.store.batches.record(&self.store.packs, at)
    }
}

impl Store {
    /// Takes into the index every complete commit in the packs from `from`
    /// on (`None`: from the start); stops at damage (which `verify` reports
    /// and `repair` handles). Returns where an unfinished commit starts.
    pub(crate) fn replay_from(
        &self,
        from: Option<Location>,
    ) -> Result<Option<Location>, StoreError> {
        let replayed = self.replay(&self.index, from, false)?;
        Ok(replayed.tail)
    }

    /// Replays the packs from `from` into `engine`. With `past_damage`, a
    /// damaged frame or record is listed and skipped; without, the replay
    /// stops before it.
    pub(crate) fn replay(
        &self,
        engine: &dyn KvEngine,
        from: Option<Location>,
        past_damage: bool,
    ) -> Result<Replayed, StoreError> {
        let mut replayed = Replayed::default();
        // The document and dictionary frames of the commit being read.
        let mut documents: Vec<Frame> = Vec::new();
        let mut group_start: Option<Location> = None;
        for step in self.packs.scan(from)? {
            match step? {
                Scanned::Frame(frame) => {
                    group_start.get_or_insert(frame.location);
                    if frame.header.kind != Kind::Records {
                        documents.push(frame);
                        continue;
                    }
                    let end = Location {
                        pack: frame.location.pack,
                        offset: frame.location.offset + frame.header.frame_len(),
                    };
                    self.replay_commit(
                        engine,
                        &documents,
                        &frame,
                        end,
                        past_damage,
                        &mut replayed,
                    )?;
                    documents.clear();
                    group_start = None;
                    replayed.commits += 1;
                    if replayed.commits.is_multiple_of(REPLAYED_PER_FLUSH) {
                        engine.flush()?;
                    }
                }
                Scanned::Tail { location, .. } => {
                    replayed.tail = Some(group_start.unwrap_or(location));
                    engine.flush()?;
                    return Ok(replayed);
                }
                Scanned::DamagedPayload { header, location } if past_damage => {
                    replayed.lost.push(Lost::Frame {
                        location,
                        what: format!("{} {}", header.kind.as_str(), header.content),
                    });
                }
                Scanned::Damaged {
                    location,
                    len,
                    reason,
                } if past_damage => {
                    replayed.lost.push(Lost::Bytes {
                        location,
                        len,
                        reason: reason.to_string(),
                    });
                }
                Scanned::DamagedPayload { .. } | Scanned::Damaged { .. } => {
                    engine.flush()?;
                    return Ok(replayed);
                }
            }
        }
        if !documents.is_empty() {
            replayed.tail = group_start;
        }
        engine.flush()?;
        Ok(replayed)
    }

    fn replay_commit(
        &self,
        engine: &dyn KvEngine,
        documents: &[Frame],
        batch: &Frame,
        end: Location,
        past_damage: bool,
        replayed: &mut Replayed,
    ) -> Result<(), StoreError> {
        let mut overlay = Overlay::new(engine);
        let mut indexer = Indexer::new(&mut overlay)?;
        for frame in documents {
            let header = &frame.header;
            if header.kind == Kind::DocumentBlock {
                match Directory::split(&frame.payload, header.content_len) {
                    Ok((directory, _)) => {
                        for (index, member) in directory.members.iter().enumerate() {
                            indexer.document(
                                &member.digest,
                                frame.location,
                                u64::from(member.len),
                                0,
                                true,
                                Some(index as u32),
                            )?;
                        }
                    }
                    Err(err) if past_damage => replayed.lost.push(Lost::Frame {
                        location: frame.location,
                        what: format!("{} {} ({err})", header.kind.as_str(), header.content),
                    }),
                    Err(err) => {
                        return Err(StoreError::CorruptFrame {
                            location: frame.location.to_string(),
                            reason: format!("its directory does not read: {err}"),
                        });
                    }
                }
                continue;
            }
            let depth = match (header.codec, header.reference) {
                (Codec::ZstdDelta, Some(base)) => {
                    let key = keys::document(&base);
                    match indexer.overlay.get(&key)? {
                        Some(bytes) => {
                            index::decode::<DocumentValue>(&bytes, "document", &key)?.depth + 1
                        }
                        None => 1,
                    }
                }
                _ => 0,
            };
            indexer.document(
                &header.content,
                frame.location,
                u64::from(header.content_len),
                depth,
                header.kind == Kind::Document,
                None,
            )?;
        }
        let content = match batch_content(batch) {
            Ok(content) => content,
            Err(reason) if past_damage => {
                replayed.lost.push(Lost::Batch {
                    location: batch.location,
                    reason,
                });
                indexer.finish()?;
                return self.finish_replayed(engine, overlay, end);
            }
            Err(reason) => {
                return Err(StoreError::CorruptFrame {
                    location: batch.location.to_string(),
                    reason,
                });
            }
        };
        let source = FromPacks { store: self };
        let batch_records = split_batch(&content).map_err(|reason| StoreError::CorruptFrame {
            location: batch.location.to_string(),
            reason,
        })?;
        for (index, bytes) in batch_records.iter().enumerate() {
            let at = RecordRef {
                pack: batch.location.pack,
                offset: batch.location.offset,
                index: index as u32,
            };
            match indexer.record(bytes, at, &source) {
                Ok(()) => {}
                Err(err) if past_damage => replayed.lost.push(Lost::Record {
                    at,
                    reason: err.to_string(),
                }),
                Err(err) => return Err(err),
            }
        }
        indexer.finish()?;
        self.finish_replayed(engine, overlay, end)
    }

    fn finish_replayed(
        &self,
        engine: &dyn KvEngine,
        mut overlay: Overlay<'_>,
        end: Location,
    ) -> Result<(), StoreError> {
        overlay.put(
            keys::INDEXED.to_vec(),
            index::encode(&IndexState {
                version: INDEX_VERSION,
                pack: end.pack,
                offset: end.offset,
            })?,
        );
        engine.apply(overlay.into_batch())?;
        Ok(())
    }
}
