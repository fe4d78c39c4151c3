//! Pack files on disk: the writer that appends frames and syncs them, and
//! the set of packs that reads them back from any thread.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use crate::frame::{HEADER_WITH_REFERENCE_LEN, Header};
use crate::{Frame, FrameError, Location, PackError};

/// The 8 bytes every pack file starts with.
const FILE_MAGIC: &[u8; 8] = b"NEWSPACK";
/// The pack file layout this build writes and reads.
const FILE_VERSION: u32 = 1;
/// A pack file's header: magic, version (u32 BE), pack number (u32 BE).
pub const FILE_HEADER_LEN: u64 = 16;
/// A new pack is started once the current one is this long.
pub const DEFAULT_PACK_LIMIT: u64 = 256 * 1024 * 1024;

/// The file name of pack `number`.
pub fn pack_file_name(number: u32) -> String {
    format!("{number:08}.pack")
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> PackError + '_ {
    move |source| PackError::Io {
        path: path.to_owned(),
        source,
    }
}

fn file_header(number: u32) -> [u8; 16] {
    let mut header = [0; 16];
    header[..8].copy_from_slice(FILE_MAGIC);
    header[8..12].copy_from_slice(&FILE_VERSION.to_be_bytes());
    header[12..].copy_from_slice(&number.to_be_bytes());
    header
}

/// Checks that `file` starts with pack `number`'s header.
fn check_file_header(file: &File, path: &Path, number: u32) -> Result<(), PackError> {
    let mut header = [0; 16];
    file.read_exact_at(&mut header, 0)
        .map_err(|err| PackError::NotAPack {
            path: path.to_owned(),
            reason: format!("its header cannot be read: {err}"),
        })?;
    let not_a_pack = |reason: String| PackError::NotAPack {
        path: path.to_owned(),
        reason,
    };
    if &header[..8] != FILE_MAGIC {
        return Err(not_a_pack("it does not start with NEWSPACK".into()));
    }
    let version = u32::from_be_bytes([header[8], header[9], header[10], header[11]]);
    if version != FILE_VERSION {
        return Err(not_a_pack(format!(
            "pack layout version {version}; this newsarc reads {FILE_VERSION}"
        )));
    }
    let found = u32::from_be_bytes([header[12], header[13], header[14], header[15]]);
    if found != number {
        return Err(not_a_pack(format!("it says it is pack {found}")));
    }
    Ok(())
}

/// The pack numbers in `dir`, in order.
fn pack_numbers(dir: &Path) -> Result<Vec<u32>, PackError> {
    let mut numbers = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(numbers),
        Err(err) => return Err(io(dir)(err)),
    };
    for entry in entries {
        let entry = entry.map_err(io(dir))?;
        let name = entry.file_name();
        if let Some(number) = name
            .to_str()
            .and_then(|name| name.strip_suffix(".pack"))
            .filter(|stem| stem.len() == 8)
            .and_then(|stem| stem.parse().ok())
        {
            numbers.push(number);
        }
    }
    numbers.sort_unstable();
    Ok(numbers)
}

/// Every pack of a store, read from any thread. Packs a writer starts later
/// are opened when first read.
#[derive(Debug)]
pub struct PackSet {
    dir: PathBuf,
    files: RwLock<HashMap<u32, Arc<File>>>,
}

impl PackSet {
    /// The packs in `dir` (none yet is fine). Headers are checked when a
    /// pack is first read.
    pub fn open(dir: &Path) -> Result<Self, PackError> {
        Ok(Self {
            dir: dir.to_owned(),
            files: RwLock::default(),
        })
    }

    /// The packs' directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The pack numbers there are, in order.
    pub fn numbers(&self) -> Result<Vec<u32>, PackError> {
        pack_numbers(&self.dir)
    }

    /// Every pack's number and length, in order.
    pub fn lengths(&self) -> Result<Vec<(u32, u64)>, PackError> {
        self.numbers()?
            .into_iter()
            .map(|number| Ok((number, self.len(number)?)))
            .collect()
    }

    /// Pack `number`'s length.
    pub fn len(&self, number: u32) -> Result<u64, PackError> {
        let file = self.file(number)?;
        let path = self.dir.join(pack_file_name(number));
        Ok(file.metadata().map_err(io(&path))?.len())
    }

    fn file(&self, number: u32) -> Result<Arc<File>, PackError> {
        if let Some(file) = self
            .files
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&number)
        {
            return Ok(Arc::clone(file));
        }
        let path = self.dir.join(pack_file_name(number));
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err(PackError::MissingPack { pack: number });
            }
            Err(err) => return Err(io(&path)(err)),
        };
        check_file_header(&file, &path, number)?;
        let file = Arc::new(file);
        self.files
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(number, Arc::clone(&file));
        Ok(file)
    }

    /// Reads `len` bytes at `offset` of pack `number`; fewer at the end of
    /// the file.
    pub(crate) fn read_at(
        &self,
        number: u32,
        offset: u64,
        len: usize,
    ) -> Result<Vec<u8>, PackError> {
        let file = self.file(number)?;
        let path = self.dir.join(pack_file_name(number));
        let mut bytes = vec![0; len];
        let mut filled = 0;
        while filled < len {
            match file.read_at(&mut bytes[filled..], offset + filled as u64) {
                Ok(0) => break,
                Ok(read) => filled += read,
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Err(err) => return Err(io(&path)(err)),
            }
        }
        bytes.truncate(filled);
        Ok(bytes)
    }

    /// The header of the frame at `location`.
    pub fn read_header(&self, location: Location) -> Result<Header, PackError> {
        let bytes = self.read_at(location.pack, location.offset, HEADER_WITH_REFERENCE_LEN)?;
        Header::decode(&bytes).map_err(|reason| PackError::Damaged { location, reason })
    }

    /// The frame at `location`, its payload checked against its header.
    pub fn read(&self, location: Location) -> Result<Frame, PackError> {
        let header = self.read_header(location)?;
        let damaged = |reason| PackError::Damaged { location, reason };
        let payload = self.read_at(
            location.pack,
            location.offset + header.len() as u64,
            header.payload_len as usize,
        )?;
        if payload.len() < header.payload_len as usize {
            return Err(damaged(FrameError::Truncated {
                needed: header.frame_len(),
                found: (header.len() + payload.len()) as u64,
            }));
        }
        if !header.checks(&payload) {
            return Err(damaged(FrameError::PayloadCheck));
        }
        Ok(Frame {
            location,
            header,
            payload,
        })
    }
}

/// Appends frames to a store's last pack, starting a new pack when it is
/// full. One writer per store (the store's lock keeps it so).
#[derive(Debug)]
pub struct PackWriter {
    dir: PathBuf,
    limit: u64,
    number: u32,
    file: File,
    len: u64,
    /// Pack files created since the last sync: their directory entry must
    /// be made durable too.
    created: bool,
    /// Bytes written since the last sync.
    dirty: bool,
}

impl PackWriter {
    /// The writer of the packs in `dir` (created when absent), appending to
    /// the last pack.
    pub fn open(dir: &Path, limit: u64) -> Result<Self, PackError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        match pack_numbers(dir)?.last() {
            Some(&number) => {
                let path = dir.join(pack_file_name(number));
                let file = File::options()
                    .read(true)
                    .append(true)
                    .open(&path)
                    .map_err(io(&path))?;
                check_file_header(&file, &path, number)?;
                let len = file.metadata().map_err(io(&path))?.len();
                Ok(Self {
                    dir: dir.to_owned(),
                    limit,
                    number,
                    file,
                    len,
                    created: false,
                    dirty: false,
                })
            }
            None => {
                let (file, len) = Self::create(dir, 1)?;
                Ok(Self {
                    dir: dir.to_owned(),
                    limit,
                    number: 1,
                    file,
                    len,
                    created: true,
                    dirty: true,
                })
            }
        }
    }

    fn create(dir: &Path, number: u32) -> Result<(File, u64), PackError> {
        let path = dir.join(pack_file_name(number));
        let mut file = File::options()
            .read(true)
            .append(true)
            .create_new(true)
            .open(&path)
            .map_err(io(&path))?;
        file.write_all(&file_header(number)).map_err(io(&path))?;
        Ok((file, FILE_HEADER_LEN))
    }

    /// Where the next frame will go (in the current pack).
    pub fn end(&self) -> Location {
        Location {
            pack: self.number,
            offset: self.len,
        }
    }

    /// Appends a frame; it is durable only after [`PackWriter::sync`].
    pub fn append(&mut self, header: &Header, payload: &[u8]) -> Result<Location, PackError> {
        let frame_len = header.frame_len();
        if self.len > FILE_HEADER_LEN && self.len + frame_len > self.limit {
            // The full pack is synced before the next is begun, so packs
            // are always whole but for the last one's tail.
            self.sync()?;
            let (file, len) = Self::create(&self.dir, self.number + 1)?;
            self.number += 1;
            self.file = file;
            self.len = len;
            self.created = true;
        }
        let at = self.end();
        let path = self.dir.join(pack_file_name(self.number));
        let mut bytes = header.encode();
        bytes.extend_from_slice(payload);
        self.file.write_all(&bytes).map_err(io(&path))?;
        self.len += bytes.len() as u64;
        self.dirty = true;
        Ok(at)
    }

    /// Makes every frame appended so far survive a power cut: the pack's
    /// data, and a new pack's directory entry.
    pub fn sync(&mut self) -> Result<(), PackError> {
        if self.dirty {
            let path = self.dir.join(pack_file_name(self.number));
            self.file.sync_data().map_err(io(&path))?;
            self.dirty = false;
        }
        if self.created {
            File::open(&self.dir)
                .and_then(|dir| dir.sync_all())
                .map_err(io(&self.dir))?;
            self.created = false;
        }
        Ok(())
    }

    /// Cuts the last pack back to `offset` (what a crash left after the
    /// last durable frame), and syncs. Only the last pack can be cut.
    pub fn truncate(&mut self, location: Location) -> Result<(), PackError> {
        if location.pack != self.number || location.offset < FILE_HEADER_LEN {
            return Err(PackError::NotTheLastPack { location });
        }
        let path = self.dir.join(pack_file_name(self.number));
        self.file.set_len(location.offset).map_err(io(&path))?;
        self.file.sync_all().map_err(io(&path))?;
        self.len = location.offset;
        self.dirty = false;
        Ok(())
    }
}
