//! `export` and `import`: the whole store as one portable file, read and
//! written as a stream, so stores larger than memory move too. The file is
//! a sequence of frames, each a u32 big-endian length and one record
//! (`docs/FORMAT.md`, "Export files"): an `export` header, one
//! `export_entry` per key in key order, and an `export_end` trailer.

use std::io::{Read, Write};
use std::path::Path;

use newsarc_model::codec;
use newsarc_model::record::{ExportEntry, ExportHeader, ExportTrailer, Record};
use newsarc_model::{Digest, Millis};

use crate::engine::WriteBatch;
use crate::store::STORE_FORMAT;
use crate::{Store, StoreError};

/// The largest frame an import accepts: a document of the parser's largest
/// size, compressed or not, with room for its record.
const MAX_FRAME_BYTES: u32 = 64 * 1024 * 1024;

/// An export header is a few dozen bytes; a first frame longer than this
/// means the file is something else.
const MAX_HEADER_BYTES: u32 = 4096;

/// Entries applied per engine batch on import.
const ENTRIES_PER_BATCH: usize = 1024;

/// What an export or import moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Moved {
    /// Key-value entries.
    pub entries: u64,
    /// Bytes of the export file.
    pub bytes: u64,
}

impl Store {
    /// Writes every entry of the store to `out`. `progress` is called with
    /// the entries written so far.
    pub fn export(
        &self,
        out: &mut dyn Write,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Moved, StoreError> {
        let mut moved = Moved::default();
        let header = ExportHeader {
            store_format: STORE_FORMAT,
            exported_at: Millis::now(),
        };
        moved.bytes += write_frame(out, &header)?;
        for entry in self.engine().scan_prefix(b"") {
            let (key, value) = entry?;
            moved.bytes += write_frame(out, &ExportEntry::new(key, value))?;
            moved.entries += 1;
            if moved.entries % 1024 == 0 {
                progress(moved.entries);
            }
        }
        moved.bytes += write_frame(
            out,
            &ExportTrailer {
                entries: moved.entries,
            },
        )?;
        progress(moved.entries);
        Ok(moved)
    }

    /// Builds a new store at `target` (absent or an empty directory) from
    /// an export. The store is built beside it and moved into place only
    /// when the whole file has been read and checked, so a damaged or
    /// truncated export leaves nothing behind; the error names the record
    /// number (the header is record 0).
    pub fn import(
        target: &Path,
        input: &mut dyn Read,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Moved, StoreError> {
        let location = target.display().to_string();
        if target.exists() {
            let empty = std::fs::read_dir(target)
                .map(|mut entries| entries.next().is_none())
                .unwrap_or(false);
            if !empty {
                return Err(StoreError::ImportTarget {
                    location,
                    reason: "it exists and is not an empty directory".into(),
                });
            }
        }
        let name = target
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| "store".into());
        let staging = target.with_file_name(format!("{name}.importing"));
        // Only an interrupted import of ours leaves this behind.
        if staging.exists() {
            std::fs::remove_dir_all(&staging).map_err(|err| StoreError::ImportTarget {
                location: staging.display().to_string(),
                reason: format!("cannot remove a leftover of an interrupted import: {err}"),
            })?;
        }
        let result = Self::open(&staging).and_then(|store| {
            let moved = store.import_entries(input, progress)?;
            store.flush()?;
            Ok(moved)
        });
        let moved = match result {
            Ok(moved) => moved,
            Err(err) => {
                let _ = std::fs::remove_dir_all(&staging);
                return Err(err);
            }
        };
        let placed = if target.exists() {
            std::fs::remove_dir(target)
        } else {
            Ok(())
        }
        .and_then(|()| std::fs::rename(&staging, target));
        placed.map_err(|err| StoreError::ImportTarget {
            location,
            reason: format!(
                "the store was built at {} but cannot be moved into place: {err}",
                staging.display()
            ),
        })?;
        Ok(moved)
    }

    fn import_entries(
        &self,
        input: &mut dyn Read,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Moved, StoreError> {
        let mut moved = Moved::default();
        let mut number = 0u64;
        let damaged = |record: u64, reason: String| StoreError::DamagedExport { record, reason };
        // Whatever does not open with an export header is another kind of
        // file, not a damaged export.
        let not_an_export = |reason: String| StoreError::NotAnExport { reason };
        let header_bytes = match read_frame(input, number, MAX_HEADER_BYTES) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return Err(not_an_export("the file is empty".into())),
            Err(StoreError::DamagedExport { reason, .. }) => return Err(not_an_export(reason)),
            Err(err) => return Err(err),
        };
        moved.bytes += 4 + header_bytes.len() as u64;
        let header: ExportHeader = codec::decode(&header_bytes)
            .map_err(|_| not_an_export("it does not begin with an export header".into()))?;
        if header.store_format != STORE_FORMAT {
            return Err(damaged(
                0,
                format!(
                    "it holds a store of format {}; this newsarc imports format {STORE_FORMAT}",
                    header.store_format
                ),
            ));
        }
        let mut batch = WriteBatch::default();
        let mut in_batch = 0;
        loop {
            number += 1;
            let frame = read_frame(input, number, MAX_FRAME_BYTES)?.ok_or_else(|| {
                damaged(number, "the file ends before its export_end record".into())
            })?;
            moved.bytes += 4 + frame.len() as u64;
            if let Ok(trailer) = codec::decode::<ExportTrailer>(&frame) {
                if trailer.entries != moved.entries {
                    return Err(damaged(
                        number,
                        format!(
                            "the trailer counts {} entries but {} came before it",
                            trailer.entries, moved.entries
                        ),
                    ));
                }
                let mut rest = [0u8; 1];
                if input
                    .read(&mut rest)
                    .map_err(|err| damaged(number, err.to_string()))?
                    != 0
                {
                    return Err(damaged(
                        number + 1,
                        "bytes follow the export_end record".into(),
                    ));
                }
                break;
            }
            let entry: ExportEntry =
                codec::decode(&frame).map_err(|err| damaged(number, err.to_string()))?;
            let actual: Digest = ExportEntry::digest_of(&entry.key, &entry.value);
            if actual != entry.digest {
                return Err(damaged(
                    number,
                    format!(
                        "the entry hashes to {actual}, not to its digest {}",
                        entry.digest
                    ),
                ));
            }
            batch.put(entry.key, entry.value);
            moved.entries += 1;
            in_batch += 1;
            if in_batch == ENTRIES_PER_BATCH {
                self.engine().apply(std::mem::take(&mut batch))?;
                in_batch = 0;
                progress(moved.entries);
            }
        }
        self.engine().apply(batch)?;
        progress(moved.entries);
        Ok(moved)
    }
}

fn write_frame<R: Record>(out: &mut dyn Write, record: &R) -> Result<u64, StoreError> {
    let bytes = codec::encode(record).map_err(|err| StoreError::CorruptRecord {
        kind: R::KIND,
        id: "(export)".into(),
        reason: err.to_string(),
    })?;
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
            "a frame of {length} bytes is larger than any newsarc writes"
        )));
    }
    let mut bytes = vec![0u8; length as usize];
    input.read_exact(&mut bytes).map_err(|err| {
        damaged(if err.kind() == std::io::ErrorKind::UnexpectedEof {
            "the file ends inside a record".into()
        } else {
            err.to_string()
        })
    })?;
    Ok(Some(bytes))
}
