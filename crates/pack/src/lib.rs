//! newsarc's pack files: the documents and records of a store (format 2),
//! appended once and never rewritten, each in a self-describing frame that
//! can be checked on its own (`docs/FORMAT.md`, "Pack files").
//!
//! A store's packs are the source of truth; its index (sled) is rebuilt from
//! them. A pack is a 16-byte file header and then frames, one after the
//! other. Appends are made durable by [`PackWriter::sync`] before anything
//! that refers to them is written elsewhere, so a crash leaves at most an
//! unreferenced tail.
//!
//! ```
//! use newsarc_model::Digest;
//! use newsarc_pack::{Codec, Header, Kind, PackSet, PackWriter};
//!
//! let dir = tempfile::tempdir()?;
//! let mut writer = PackWriter::open(dir.path(), newsarc_pack::DEFAULT_PACK_LIMIT)?;
//! let payload = b"<p>hello</p>";
//! let header = Header::new(Kind::Document, Codec::Stored, Digest::of(payload), 12, None, payload)?;
//! let at = writer.append(&header, payload)?;
//! writer.sync()?;
//! let packs = PackSet::open(dir.path())?;
//! assert_eq!(packs.read(at)?.payload, payload);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod block;
mod file;
mod frame;
mod scan;

pub use file::{DEFAULT_PACK_LIMIT, FILE_HEADER_LEN, PackSet, PackWriter, pack_file_name};
pub use frame::{
    Codec, HEADER_LEN, HEADER_WITH_REFERENCE_LEN, Header, Kind, MAGIC, MAX_LEN, VERSION,
    payload_hash,
};
pub use scan::{Scanned, Scanner};

use std::fmt;

/// Where a frame starts: a pack's number and the byte offset in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// The pack's number (its file is `NNNNNNNN.pack`).
    pub pack: u32,
    /// The frame's first byte in that file.
    pub offset: u64,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", pack_file_name(self.pack), self.offset)
    }
}

/// A frame read back: its header and payload, checked against each other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Where it is.
    pub location: Location,
    /// What it says about itself.
    pub header: Header,
    /// Its payload.
    pub payload: Vec<u8>,
}

/// Why a frame's bytes are not a sound frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// Fewer bytes than the frame needs (a torn write at the end of a pack).
    #[error("the frame needs {needed} bytes, {found} are there")]
    Truncated {
        /// Bytes needed.
        needed: u64,
        /// Bytes there.
        found: u64,
    },
    /// The bytes do not start with a frame's magic.
    #[error("no frame starts here")]
    NoMagic,
    /// Written by a newer newsarc.
    #[error("frame layout version {found} is not one this newsarc reads (it reads {VERSION})")]
    Version {
        /// The version found.
        found: u8,
    },
    /// A kind or codec byte newsarc does not know.
    #[error("unknown {what} {byte}")]
    Unknown {
        /// `kind` or `codec`.
        what: &'static str,
        /// The byte.
        byte: u8,
    },
    /// The header's check does not match: it is damaged.
    #[error("the frame header is damaged (its check does not match)")]
    HeaderCheck,
    /// The payload does not hash to what its header says.
    #[error("the payload is damaged (it does not hash to what its header says)")]
    PayloadCheck,
    /// A length beyond any frame newsarc writes.
    #[error("a frame of {len} bytes is larger than any newsarc writes")]
    TooLarge {
        /// The length.
        len: u64,
    },
    /// A codec without the reference it needs, or one with a reference it
    /// has no use for (a bug in the writer).
    #[error("the {} codec and the frame's reference disagree", codec.as_str())]
    Reference {
        /// The codec.
        codec: Codec,
    },
}

/// Why a pack operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PackError {
    /// A pack file could not be read, written or synced.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A pack file does not start with a pack header.
    #[error("{path} is not a newsarc pack file: {reason}")]
    NotAPack {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// No pack with this number.
    #[error("there is no pack {}", pack_file_name(*pack))]
    MissingPack {
        /// The pack's number.
        pack: u32,
    },
    /// Only the last pack's tail can be cut.
    #[error("{location} is not in the last pack's frames: only the last pack can be cut back")]
    NotTheLastPack {
        /// Where the cut was asked for.
        location: Location,
    },
    /// The frame at a location is damaged.
    #[error("frame at {location}: {reason}")]
    Damaged {
        /// Where.
        location: Location,
        /// What is wrong.
        reason: FrameError,
    },
}
