//! Reading every frame of a store's packs in order, also past damage: what
//! `verify` checks and what an index is rebuilt from.

use crate::file::FILE_HEADER_LEN;
use crate::frame::{HEADER_WITH_REFERENCE_LEN, Header, MAGIC};
use crate::{Frame, FrameError, Location, PackError, PackSet};

/// One step of a scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scanned {
    /// A sound frame.
    Frame(Frame),
    /// A frame whose header reads but whose payload does not check: what
    /// it held is lost, the frames after it are not.
    DamagedPayload {
        /// The frame's header.
        header: Header,
        /// Where it is.
        location: Location,
    },
    /// Bytes that are no frame, from `location` to `resumes` (the next
    /// frame found, or the end of the pack).
    Damaged {
        /// Where the damage starts.
        location: Location,
        /// Why those bytes are no frame.
        reason: FrameError,
        /// How many bytes were skipped.
        len: u64,
    },
    /// The last pack ends inside a frame: a write a crash cut short.
    Tail {
        /// Where the incomplete frame starts.
        location: Location,
        /// How many of its bytes are there.
        len: u64,
    },
}

/// A scan reads the packs this many bytes at a time: one read per many
/// frames.
const READ_AHEAD: usize = 1 << 20;

/// Every frame from a location on, across packs, in order.
pub struct Scanner<'a> {
    packs: &'a PackSet,
    remaining: std::vec::IntoIter<u32>,
    current: Option<(u32, u64)>,
    offset: u64,
    /// Bytes read ahead: pack, offset of the first, the bytes.
    window: (u32, u64, Vec<u8>),
}

impl PackSet {
    /// Scans every frame from `from` on (`None`: from the first pack's
    /// start).
    pub fn scan(&self, from: Option<Location>) -> Result<Scanner<'_>, PackError> {
        let numbers: Vec<u32> = self
            .numbers()?
            .into_iter()
            .filter(|number| from.is_none_or(|from| *number >= from.pack))
            .collect();
        let mut scanner = Scanner {
            packs: self,
            remaining: numbers.into_iter(),
            current: None,
            offset: FILE_HEADER_LEN,
            window: (0, 0, Vec::new()),
        };
        scanner.next_pack()?;
        if let (Some(from), Some((number, _))) = (from, scanner.current)
            && number == from.pack
        {
            scanner.offset = from.offset.max(FILE_HEADER_LEN);
        }
        Ok(scanner)
    }
}

impl Scanner<'_> {
    fn next_pack(&mut self) -> Result<(), PackError> {
        self.current = match self.remaining.next() {
            Some(number) => Some((number, self.packs.len(number)?)),
            None => None,
        };
        self.offset = FILE_HEADER_LEN;
        Ok(())
    }

    /// Up to `len` bytes of pack `number` from `offset` (fewer at its end),
    /// from the bytes read ahead.
    fn read(&mut self, number: u32, offset: u64, len: usize) -> Result<&[u8], PackError> {
        let (pack, start, bytes) = &self.window;
        let inside = *pack == number
            && offset >= *start
            && offset + len as u64 <= start + bytes.len() as u64;
        if !inside {
            let bytes = self.packs.read_at(number, offset, len.max(READ_AHEAD))?;
            self.window = (number, offset, bytes);
        }
        let (_, start, bytes) = &self.window;
        let from = (offset - start) as usize;
        Ok(&bytes[from..(from + len).min(bytes.len())])
    }

    fn is_last_pack(&self) -> bool {
        self.remaining.as_slice().is_empty()
    }

    /// The next offset after `from` in pack `number` where a sound header
    /// starts, or the pack's end.
    fn resync(&self, number: u32, from: u64, len: u64) -> Result<u64, PackError> {
        const CHUNK: usize = 1 << 20;
        let mut at = from + 1;
        while at < len {
            let window = self
                .packs
                .read_at(number, at, CHUNK + HEADER_WITH_REFERENCE_LEN)?;
            let searched = window.len().min(CHUNK);
            for i in 0..searched {
                if window[i..].starts_with(&MAGIC)
                    && let Ok(header) = Header::decode(&window[i..])
                    && at + i as u64 + header.frame_len() <= len
                {
                    return Ok(at + i as u64);
                }
            }
            at += searched.max(1) as u64;
        }
        Ok(len)
    }

    fn step(&mut self) -> Result<Option<Scanned>, PackError> {
        loop {
            let Some((number, len)) = self.current else {
                return Ok(None);
            };
            if self.offset >= len {
                self.next_pack()?;
                continue;
            }
            let location = Location {
                pack: number,
                offset: self.offset,
            };
            let offset = self.offset;
            let bytes = self.read(number, offset, HEADER_WITH_REFERENCE_LEN)?;
            let header = match Header::decode(bytes) {
                Ok(header) if self.offset + header.frame_len() <= len => header,
                Ok(_) | Err(FrameError::Truncated { .. }) if self.is_last_pack() => {
                    let tail = len - self.offset;
                    self.offset = len;
                    return Ok(Some(Scanned::Tail {
                        location,
                        len: tail,
                    }));
                }
                Ok(header) => {
                    let resumes = self.resync(number, self.offset, len)?;
                    self.offset = resumes;
                    return Ok(Some(Scanned::Damaged {
                        location,
                        reason: FrameError::Truncated {
                            needed: header.frame_len(),
                            found: len - location.offset,
                        },
                        len: resumes - location.offset,
                    }));
                }
                Err(reason) => {
                    let resumes = self.resync(number, self.offset, len)?;
                    self.offset = resumes;
                    return Ok(Some(Scanned::Damaged {
                        location,
                        reason,
                        len: resumes - location.offset,
                    }));
                }
            };
            self.offset += header.frame_len();
            let payload = self
                .read(
                    number,
                    offset + header.len() as u64,
                    header.payload_len as usize,
                )?
                .to_vec();
            return Ok(Some(if header.checks(&payload) {
                Scanned::Frame(Frame {
                    location,
                    header,
                    payload,
                })
            } else {
                Scanned::DamagedPayload { header, location }
            }));
        }
    }
}

impl Iterator for Scanner<'_> {
    type Item = Result<Scanned, PackError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.step() {
            Ok(step) => step.map(Ok),
            Err(err) => {
                self.current = None;
                Some(Err(err))
            }
        }
    }
}
