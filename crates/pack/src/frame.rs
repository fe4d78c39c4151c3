//! One frame: a fixed header that says what the payload is and how to check
//! it, then the payload. `docs/FORMAT.md` ("Pack files") gives the layout
//! byte by byte.

use newsarc_model::Digest;

use crate::FrameError;

/// The two bytes every frame starts with.
pub const MAGIC: [u8; 2] = *b"NF";
/// The frame layout this build writes and reads.
pub const VERSION: u8 = 1;
/// The header without a reference.
pub const HEADER_LEN: usize = 66;
/// The header with a reference.
pub const HEADER_WITH_REFERENCE_LEN: usize = HEADER_LEN + 32;
/// The largest payload or content a frame may carry: more than any document
/// newsarc accepts, so a damaged length is never believed.
pub const MAX_LEN: u32 = 256 * 1024 * 1024;

/// What a frame holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A fetched document; `content` is its BLAKE3.
    Document,
    /// A zstd dictionary documents are compressed with; `content` is its
    /// BLAKE3.
    Dictionary,
    /// A batch of records, each a length (u32 BE) and its CBOR bytes;
    /// `content` is the BLAKE3 of the batch.
    Records,
    /// Several documents compressed together ([`crate::block`]): a
    /// directory of their digests and lengths, then one zstd frame of their
    /// bytes one after the other; `content` is the BLAKE3 of those bytes.
    DocumentBlock,
}

impl Kind {
    fn byte(self) -> u8 {
        match self {
            Self::Document => 1,
            Self::Dictionary => 2,
            Self::Records => 3,
            Self::DocumentBlock => 4,
        }
    }

    fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            1 => Some(Self::Document),
            2 => Some(Self::Dictionary),
            3 => Some(Self::Records),
            4 => Some(Self::DocumentBlock),
            _ => None,
        }
    }

    /// The lower-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Document => "document",
            Self::Dictionary => "dictionary",
            Self::Records => "records",
            Self::DocumentBlock => "document block",
        }
    }
}

/// How the payload turns into the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// The payload is the content.
    Stored,
    /// One zstd frame.
    Zstd,
    /// One zstd frame compressed with the dictionary frame whose content
    /// digest is the reference.
    ZstdDictionary,
    /// One zstd frame compressed with the document whose digest is the
    /// reference as a raw-content dictionary (a delta against it).
    ZstdDelta,
}

impl Codec {
    fn byte(self) -> u8 {
        match self {
            Self::Stored => 0,
            Self::Zstd => 1,
            Self::ZstdDictionary => 2,
            Self::ZstdDelta => 3,
        }
    }

    fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            0 => Some(Self::Stored),
            1 => Some(Self::Zstd),
            2 => Some(Self::ZstdDictionary),
            3 => Some(Self::ZstdDelta),
            _ => None,
        }
    }

    /// True for the codecs that name another frame's content.
    pub fn has_reference(self) -> bool {
        matches!(self, Self::ZstdDictionary | Self::ZstdDelta)
    }

    /// The lower-case name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stored => "stored",
            Self::Zstd => "zstd",
            Self::ZstdDictionary => "zstd_dictionary",
            Self::ZstdDelta => "zstd_delta",
        }
    }
}

/// A frame's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// What the frame holds.
    pub kind: Kind,
    /// How its payload decodes.
    pub codec: Codec,
    /// The content's length once decoded.
    pub content_len: u32,
    /// The payload's length.
    pub payload_len: u32,
    /// BLAKE3 of the decoded content.
    pub content: Digest,
    /// The dictionary or delta base the codec needs.
    pub reference: Option<Digest>,
    /// The first 16 bytes of BLAKE3 of the payload: checked without
    /// decoding.
    pub payload_hash: [u8; 16],
}

/// The first 16 bytes of BLAKE3 of `payload`.
pub fn payload_hash(payload: &[u8]) -> [u8; 16] {
    let mut hash = [0; 16];
    hash.copy_from_slice(&blake3::hash(payload).as_bytes()[..16]);
    hash
}

impl Header {
    /// The header of a frame holding `payload` for `content`.
    pub fn new(
        kind: Kind,
        codec: Codec,
        content: Digest,
        content_len: u32,
        reference: Option<Digest>,
        payload: &[u8],
    ) -> Result<Self, FrameError> {
        let payload_len = u32::try_from(payload.len())
            .ok()
            .filter(|len| *len <= MAX_LEN)
            .ok_or(FrameError::TooLarge {
                len: payload.len() as u64,
            })?;
        if codec.has_reference() != reference.is_some() {
            return Err(FrameError::Reference { codec });
        }
        Ok(Self {
            kind,
            codec,
            content_len,
            payload_len,
            content,
            reference,
            payload_hash: payload_hash(payload),
        })
    }

    /// The header's length on disk.
    pub fn len(&self) -> usize {
        if self.reference.is_some() {
            HEADER_WITH_REFERENCE_LEN
        } else {
            HEADER_LEN
        }
    }

    /// Never empty: present for clippy's sake next to [`Header::len`].
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The whole frame's length on disk.
    pub fn frame_len(&self) -> u64 {
        self.len() as u64 + u64::from(self.payload_len)
    }

    /// The header's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(self.len());
        bytes.extend_from_slice(&MAGIC);
        bytes.push(VERSION);
        bytes.push(self.kind.byte());
        bytes.push(self.codec.byte());
        bytes.push(0);
        bytes.extend_from_slice(&self.content_len.to_be_bytes());
        bytes.extend_from_slice(&self.payload_len.to_be_bytes());
        bytes.extend_from_slice(self.content.as_bytes());
        if let Some(reference) = &self.reference {
            bytes.extend_from_slice(reference.as_bytes());
        }
        bytes.extend_from_slice(&self.payload_hash);
        let check = blake3::hash(&bytes);
        bytes.extend_from_slice(&check.as_bytes()[..4]);
        bytes
    }

    /// Reads a header from the start of `bytes` (which may hold more).
    pub fn decode(bytes: &[u8]) -> Result<Self, FrameError> {
        let short = || FrameError::Truncated {
            needed: HEADER_LEN as u64,
            found: bytes.len() as u64,
        };
        let fixed = bytes.get(..14).ok_or_else(short)?;
        if fixed[..2] != MAGIC {
            return Err(FrameError::NoMagic);
        }
        if fixed[2] != VERSION {
            return Err(FrameError::Version { found: fixed[2] });
        }
        let codec = Codec::from_byte(fixed[4]).ok_or(FrameError::Unknown {
            what: "codec",
            byte: fixed[4],
        })?;
        let len = if codec.has_reference() {
            HEADER_WITH_REFERENCE_LEN
        } else {
            HEADER_LEN
        };
        let header = bytes.get(..len).ok_or(FrameError::Truncated {
            needed: len as u64,
            found: bytes.len() as u64,
        })?;
        let (body, check) = header.split_at(len - 4);
        if blake3::hash(body).as_bytes()[..4] != *check {
            return Err(FrameError::HeaderCheck);
        }
        // Checked: a damaged kind byte or length is caught above.
        let kind = Kind::from_byte(fixed[3]).ok_or(FrameError::Unknown {
            what: "kind",
            byte: fixed[3],
        })?;
        let number =
            |at: usize| u32::from_be_bytes([body[at], body[at + 1], body[at + 2], body[at + 3]]);
        let (content_len, payload_len) = (number(6), number(10));
        if content_len > MAX_LEN || payload_len > MAX_LEN {
            return Err(FrameError::TooLarge {
                len: u64::from(content_len.max(payload_len)),
            });
        }
        let digest = |at: usize| {
            let mut raw = [0; 32];
            raw.copy_from_slice(&body[at..at + 32]);
            Digest::from_bytes(raw)
        };
        let content = digest(14);
        let reference = codec.has_reference().then(|| digest(46));
        let hash_at = if codec.has_reference() { 78 } else { 46 };
        let mut payload_hash = [0; 16];
        payload_hash.copy_from_slice(&body[hash_at..hash_at + 16]);
        Ok(Self {
            kind,
            codec,
            content_len,
            payload_len,
            content,
            reference,
            payload_hash,
        })
    }

    /// True when `payload` is the one this header was written for.
    pub fn checks(&self, payload: &[u8]) -> bool {
        payload.len() as u64 == u64::from(self.payload_len)
            && payload_hash(payload) == self.payload_hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip_and_every_flipped_bit_is_caught() {
        for (codec, reference) in [
            (Codec::Zstd, None),
            (Codec::ZstdDelta, Some(Digest::of(b"base"))),
        ] {
            let payload = b"compressed bytes";
            let header = Header::new(
                Kind::Document,
                codec,
                Digest::of(b"doc"),
                99,
                reference,
                payload,
            )
            .unwrap();
            let bytes = header.encode();
            assert_eq!(bytes.len(), header.len());
            assert_eq!(Header::decode(&bytes).unwrap(), header);
            assert!(header.checks(payload));
            assert!(!header.checks(b"other bytes"));
            for bit in 0..bytes.len() * 8 {
                let mut flipped = bytes.clone();
                flipped[bit / 8] ^= 1 << (bit % 8);
                assert!(
                    Header::decode(&flipped).map_or(true, |h| h != header),
                    "bit {bit}"
                );
            }
        }
    }

    #[test]
    fn a_codec_that_needs_a_reference_must_have_one() {
        assert!(
            Header::new(
                Kind::Document,
                Codec::ZstdDelta,
                Digest::of(b"x"),
                1,
                None,
                b"p"
            )
            .is_err()
        );
        assert!(
            Header::new(
                Kind::Document,
                Codec::Zstd,
                Digest::of(b"x"),
                1,
                Some(Digest::of(b"y")),
                b"p"
            )
            .is_err()
        );
    }
}
