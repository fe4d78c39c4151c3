//! `export` and `import`: the whole store as one portable, logical file —
//! its records byte for byte and the documents its revisions name, not the
//! engine's keys — read and written as a stream. A file is a sequence of
//! frames, each a u32 big-endian length and one record (`docs/FORMAT.md`,
//! "Export files"): an `export` header, the entries, an `export_end`
//! trailer. Exports of format 2 hold `export_record` entries in the order
//! the store learnt them; exports of format 1 hold that store's key-value
//! entries, which are read through the format-1 reader (`format1.rs`).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use newsarc_model::record::{ExportEntry, ExportHeader, ExportRecord, ExportTrailer, Record};
use newsarc_model::{Millis, codec};
use newsarc_pack::{Kind, Scanned};

use crate::engine::{KvEngine, SledEngine, WriteBatch};
use crate::format1::FormatOne;
use crate::read::{CACHED_DOCUMENTS, document_cache};
use crate::records::{StoredRecord, batch_content, split_batch};
use crate::store::{Store, StoreConfig};
use crate::{StoreError, layout};

/// The largest frame an import accepts: a document of the parser's largest
/// size with room for its record.
const MAX_FRAME_BYTES: u32 = 64 * 1024 * 1024;

/// An export header is a few dozen bytes; a first frame longer than this
/// means the file is something else.
const MAX_HEADER_BYTES: u32 = 4096;

/// Records taken in per commit on import.
pub(crate) const RECORDS_PER_COMMIT: usize = 256;

/// Key-value entries applied per engine batch when a format-1 export is
/// loaded.
const ENTRIES_PER_BATCH: usize = 1024;

/// What an export or import moved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Moved {
    /// Records (revisions, observations, events, URL states, attempts).
    pub records: u64,
    /// Documents, counted with the revisions that carry them.
    pub documents: u64,
    /// Bytes of the export file.
    pub bytes: u64,
    /// Damaged frames of the packs an export passed over, by location:
    /// what they held is not in the file (`newsarc verify` names it).
    pub skipped: Vec<String>,
}

impl Store {
    /// Writes every record of the store to `out`, with the document of
    /// every revision, in the order the store learnt them. `progress` gets
    /// the records written so far. A damaged frame is passed over and
    /// named in [`Moved::skipped`].
    pub fn export(
        &self,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Moved, StoreError> {
        let _writers_out = self.hold_still()?;
        let mut moved = Moved::default();
        moved.bytes += write_frame(
            out,
            &ExportHeader {
                store_format: layout::STORE_FORMAT,
                exported_at: Millis::now(),
            },
        )?;
        let mut documents = document_cache(CACHED_DOCUMENTS);
        for step in self.packs.scan(None)? {
            let frame = match step? {
                Scanned::Frame(frame) if frame.header.kind == Kind::Records => frame,
                Scanned::Frame(_) | Scanned::Tail { .. } => continue,
                Scanned::DamagedPayload { location, .. } | Scanned::Damaged { location, .. } => {
                    moved.skipped.push(location.to_string());
                    continue;
                }
            };
            let Ok(content) = batch_content(&frame) else {
                moved.skipped.push(frame.location.to_string());
                continue;
            };
            let Ok(records) = split_batch(&content) else {
                moved.skipped.push(frame.location.to_string());
                continue;
            };
            for bytes in records {
                let document = match StoredRecord::decode(bytes) {
                    Ok(StoredRecord::Dictionary(_)) => continue,
                    Ok(StoredRecord::Revision(revision)) => {
                        moved.documents += 1;
                        Some(self.decode_document(&revision.blob, &mut documents)?)
                    }
                    Ok(_) => None,
                    Err(_) => {
                        moved.skipped.push(format!("{} (a record)", frame.location));
                        continue;
                    }
                };
                moved.bytes += write_frame(out, &ExportRecord::new(bytes.to_vec(), document))?;
                moved.records += 1;
                if moved.records.is_multiple_of(256) {
                    progress(moved.records);
                }
            }
        }
        moved.bytes += write_frame(
            out,
            &ExportTrailer {
                entries: moved.records,
            },
        )?;
        progress(moved.records);
        Ok(moved)
    }

    /// Builds a new store at `target` (absent or an empty directory) from
    /// an export of either format. The store is built beside it and moved
    /// into place only when the whole file has been read and checked, so a
    /// damaged or truncated export leaves nothing behind; the error names
    /// the entry (the header is entry 0).
    pub fn import(
        target: &Path,
        input: &mut dyn Read,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Moved, StoreError> {
        let location = target.display().to_string();
        if layout::probe(target) != layout::Found::Nothing {
            return Err(StoreError::ImportTarget {
                location,
                reason: "it exists and is not an empty directory".into(),
            });
        }
        let staging = sibling(target, "importing");
        clear_leftover(&staging)?;
        let result = Store::open(&staging, &StoreConfig::default())
            .and_then(|store| import_into(&store, &staging, input, progress));
        let moved = match result {
            Ok(moved) => moved,
            Err(err) => {
                let _ = std::fs::remove_dir_all(&staging);
                return Err(err);
            }
        };
        place(&staging, target)?;
        Ok(moved)
    }
}

/// `dir` with `.suffix` after its name: where a store is built before it
/// is renamed into place.
pub(crate) fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let name = dir
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "store".into());
    dir.with_file_name(format!("{name}.{suffix}"))
}

/// Removes what an interrupted import or upgrade of ours left at `staging`.
pub(crate) fn clear_leftover(staging: &Path) -> Result<(), StoreError> {
    if staging.exists() {
        std::fs::remove_dir_all(staging).map_err(|err| StoreError::ImportTarget {
            location: staging.display().to_string(),
            reason: format!("cannot remove a leftover of an interrupted run: {err}"),
        })?;
    }
    Ok(())
}

/// Renames the finished store at `staging` to `target` (absent or empty).
pub(crate) fn place(staging: &Path, target: &Path) -> Result<(), StoreError> {
    let placed = if target.exists() {
        std::fs::remove_dir(target)
    } else {
        Ok(())
    }
    .and_then(|()| std::fs::rename(staging, target));
    placed.map_err(|err| StoreError::ImportTarget {
        location: target.display().to_string(),
        reason: format!(
            "the store was built at {} but cannot be moved into place: {err}",
            staging.display()
        ),
    })
}

fn import_into(
    store: &Store,
    staging: &Path,
    input: &mut dyn Read,
    progress: &mut dyn FnMut(u64),
) -> Result<Moved, StoreError> {
    // Whatever does not open with an export header is another kind of
    // file, not a damaged export.
    let not_an_export = |reason: String| StoreError::NotAnExport { reason };
    let header_bytes = match read_frame(input, 0, MAX_HEADER_BYTES) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Err(not_an_export("the file is empty".into())),
        Err(StoreError::DamagedExport { reason, .. }) => return Err(not_an_export(reason)),
        Err(err) => return Err(err),
    };
    let header: ExportHeader = codec::decode(&header_bytes)
        .map_err(|_| not_an_export("it does not begin with an export header".into()))?;
    let mut reader = Entries {
        input,
        number: 0,
        bytes: 4 + header_bytes.len() as u64,
        seen: 0,
    };
    match header.store_format {
        1 => {
            // A format-1 export is that store's keys: they are loaded into
            // a scratch index and read as the store they came from.
            let scratch_dir = staging.join("format1-import");
            let scratch = SledEngine::open(&scratch_dir, crate::engine::DEFAULT_CACHE_BYTES)
                .map_err(|reason| StoreError::Open {
                    location: scratch_dir.display().to_string(),
                    reason,
                })?;
            reader.load_entries(&scratch)?;
            let mut moved = FormatOne::new(&scratch).copy_into(store, progress)?;
            drop(scratch);
            let _ = std::fs::remove_dir_all(&scratch_dir);
            moved.bytes = reader.bytes;
            store.flush()?;
            Ok(moved)
        }
        2 => {
            let moved = reader.import_records(store, progress)?;
            store.flush()?;
            Ok(moved)
        }
        other => Err(StoreError::DamagedExport {
            record: 0,
            reason: format!(
                "it holds a store of format {other}; this newsarc imports formats 1 and {}",
                layout::STORE_FORMAT
            ),
        }),
    }
}

/// The entries of an export file after its header.
struct Entries<'a> {
    input: &'a mut dyn Read,
    number: u64,
    bytes: u64,
    /// Entries read so far, for the trailer's check.
    seen: u64,
}

impl Entries<'_> {
    fn damaged(&self, reason: String) -> StoreError {
        StoreError::DamagedExport {
            record: self.number,
            reason,
        }
    }

    /// The next entry's bytes; `None` after a checked trailer.
    fn next(&mut self) -> Result<Option<Vec<u8>>, StoreError> {
        self.number += 1;
        let frame = read_frame(self.input, self.number, MAX_FRAME_BYTES)?
            .ok_or_else(|| self.damaged("the file ends before its export_end record".into()))?;
        self.bytes += 4 + frame.len() as u64;
        if let Ok(trailer) = codec::decode::<ExportTrailer>(&frame) {
            if trailer.entries != self.seen {
                return Err(self.damaged(format!(
                    "the trailer counts {} entries but {} came before it",
                    trailer.entries, self.seen
                )));
            }
            let mut rest = [0u8; 1];
            if self
                .input
                .read(&mut rest)
                .map_err(|err| self.damaged(err.to_string()))?
                != 0
            {
                self.number += 1;
                return Err(self.damaged("bytes follow the export_end record".into()));
            }
            return Ok(None);
        }
        self.seen += 1;
        Ok(Some(frame))
    }

    fn import_records(
        &mut self,
        store: &Store,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Moved, StoreError> {
        let mut moved = Moved::default();
        let mut commit = store.begin()?;
        let mut in_commit = 0;
        while let Some(frame) = self.next()? {
            let entry: ExportRecord =
                codec::decode(&frame).map_err(|err| self.damaged(err.to_string()))?;
            let document = entry.document.as_deref().map(|bytes| bytes.as_ref());
            let actual = ExportRecord::digest_of(&entry.record, document);
            if actual != entry.digest {
                return Err(self.damaged(format!(
                    "the entry hashes to {actual}, not to its digest {}",
                    entry.digest
                )));
            }
            let taken = match document {
                Some(document) => {
                    moved.documents += 1;
                    commit.import_revision(&entry.record, document).map(drop)
                }
                None => commit.import_record(&entry.record),
            };
            taken.map_err(|err| self.damaged(err.to_string()))?;
            moved.records += 1;
            in_commit += 1;
            if in_commit == RECORDS_PER_COMMIT {
                commit.finish()?;
                commit = store.begin()?;
                in_commit = 0;
                progress(moved.records);
            }
        }
        commit.finish()?;
        progress(moved.records);
        moved.bytes = self.bytes;
        Ok(moved)
    }

    fn load_entries(&mut self, engine: &dyn KvEngine) -> Result<(), StoreError> {
        let mut batch = WriteBatch::default();
        let mut in_batch = 0;
        while let Some(frame) = self.next()? {
            let entry: ExportEntry =
                codec::decode(&frame).map_err(|err| self.damaged(err.to_string()))?;
            let actual = ExportEntry::digest_of(&entry.key, &entry.value);
            if actual != entry.digest {
                return Err(self.damaged(format!(
                    "the entry hashes to {actual}, not to its digest {}",
                    entry.digest
                )));
            }
            batch.put(entry.key, entry.value);
            in_batch += 1;
            if in_batch == ENTRIES_PER_BATCH {
                engine.apply(std::mem::take(&mut batch))?;
                in_batch = 0;
            }
        }
        engine.apply(batch)?;
        Ok(())
    }
}

fn write_frame<R: Record>(out: &mut dyn Write, record: &R) -> Result<u64, StoreError> {
    let bytes = codec::encode(record).map_err(|err| StoreError::Internal(err.to_string()))?;
    let length = u32::try_from(bytes.len()).map_err(|_| StoreError::CorruptRecord {
        kind: R::KIND,
        id: "(export)".into(),
        reason: "the record is larger than 4 GiB".into(),
    })?;
    out.write_all(&length.to_be_bytes())
        .and_then(|()| out.write_all(&bytes))
        .map_err(|source| StoreError::ExportOutput { source })?;
    Ok(4 + bytes.len() as u64)
}

/// The next frame's record bytes (at most `limit` of them), or `None` at a
/// clean end of the file.
fn read_frame(
    input: &mut dyn Read,
    number: u64,
    limit: u32,
) -> Result<Option<Vec<u8>>, StoreError> {
    let damaged = |reason: String| StoreError::DamagedExport {
        record: number,
        reason,
    };
    let mut length = [0u8; 4];
    let mut filled = 0;
    while filled < 4 {
        match input.read(&mut length[filled..]) {
            Ok(0) if filled == 0 => return Ok(None),
            Ok(0) => return Err(damaged("the file ends inside a frame's length".into())),
            Ok(read) => filled += read,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => return Err(damaged(err.to_string())),
        }
    }
    let length = u32::from_be_bytes(length);
    if length > limit {
        return Err(damaged(format!(
            "a frame of {length} bytes is larger than any export holds"
        )));
    }
    let mut bytes = vec![0u8; length as usize];
    input
        .read_exact(&mut bytes)
        .map_err(|_| damaged("the file ends inside a frame".into()))?;
    Ok(Some(bytes))
}
