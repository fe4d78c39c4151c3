//! Document blocks read back: a block decoded once serves every member
//! read after it. A later revision is stored against its article's newest,
//! usually a first revision of a recent commit, so the writer (reading its
//! bases), `verify --deep` and readers of neighbouring revisions find the
//! blocks they need among the recently decoded ones.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::{Arc, Mutex, PoisonError};

use newsarc_model::Digest;
use newsarc_pack::block::Directory;
use newsarc_pack::{Frame, Kind, Location, PackSet};

use crate::StoreError;
use crate::documents;

/// How much decoded content the cache keeps: decoding a block for one
/// member decodes every member before it too, hundreds of them in an
/// 8 MiB block (`docs/PERFORMANCE.md`), so the last few blocks read stay
/// decoded.
const CACHED_BLOCK_BYTES: usize = 32 * 1024 * 1024;

/// How far past the member asked for a block is decoded.
const DECODED_BEYOND: usize = 256 * 1024;

/// A document block's directory and content, decoded: all of it, or (read
/// for one member) as far as that member's end.
pub(crate) struct DecodedBlock {
    pub directory: Directory,
    pub content: Vec<u8>,
}

impl DecodedBlock {
    /// True when member `index`'s bytes are decoded.
    fn covers(&self, index: u32) -> bool {
        self.directory
            .range(index as usize)
            .is_some_and(|range| range.end <= self.content.len())
    }

    /// Member `index`'s bytes, checked against `digest`.
    pub(crate) fn member(&self, index: u32, digest: &Digest) -> Result<&[u8], StoreError> {
        let named = self.directory.members.get(index as usize).map(|m| m.digest);
        if named != Some(*digest) {
            return Err(StoreError::CorruptBlob {
                digest: *digest,
                actual: None,
                reason: format!(
                    "the index places it at member {index} of a document block whose directory \
                     does not name it there"
                ),
            });
        }
        let bytes = self
            .directory
            .range(index as usize)
            .and_then(|range| self.content.get(range))
            .unwrap_or_default();
        let actual = Digest::of(bytes);
        if actual != *digest {
            return Err(StoreError::CorruptBlob {
                digest: *digest,
                actual: Some(actual),
                reason: "its bytes in its document block do not hash to its digest".into(),
            });
        }
        Ok(bytes)
    }
}

/// A document block frame's directory and its compressed content.
fn split(frame: &Frame) -> Result<(Directory, &[u8]), String> {
    if frame.header.kind != Kind::DocumentBlock {
        return Err(format!(
            "it is a {} frame, not a document block",
            frame.header.kind.as_str()
        ));
    }
    Directory::split(&frame.payload, frame.header.content_len)
        .map_err(|err| format!("its directory does not read: {err}"))
}

/// A document block frame's directory and its content up to member
/// `index`'s end, and at least `at_least` bytes: a read of one member
/// decodes half a block on average instead of all 8 MiB of it.
fn decode_through(frame: &Frame, index: u32, at_least: usize) -> Result<DecodedBlock, String> {
    let (directory, compressed) = split(frame)?;
    // A member the directory does not have decodes nothing: reading it
    // says the index is wrong, not the block. A read of one revision is
    // often followed by its neighbour's, the next member: decoding a little
    // further spares decoding the start again.
    let end = directory.range(index as usize).map_or(0, |range| {
        (range.end + DECODED_BEYOND)
            .max(at_least)
            .min(frame.header.content_len as usize)
    });
    let mut content = Vec::with_capacity(end);
    zstd::stream::read::Decoder::with_buffer(compressed)
        .and_then(|decoder| decoder.take(end as u64).read_to_end(&mut content))
        .map_err(|err| format!("it does not decompress: {err}"))?;
    if content.len() != end {
        return Err(format!(
            "it decodes to {} bytes, its directory says at least {end}",
            content.len()
        ));
    }
    Ok(DecodedBlock { directory, content })
}

/// A document block frame's directory and content. The content is not
/// hashed whole: the members cover it, and each is checked against its
/// digest when it is read ([`DecodedBlock::member`]); hashing 8 MiB again
/// to read one member cost about as much as decompressing them.
pub(crate) fn decode(frame: &Frame) -> Result<DecodedBlock, String> {
    let (directory, compressed) = split(frame)?;
    let content = documents::decompress(compressed, frame.header.content_len, None)
        .map_err(|err| format!("it does not decompress: {err}"))?;
    Ok(DecodedBlock { directory, content })
}

/// Recently read blocks, decoded, the oldest dropped first.
#[derive(Default)]
pub(crate) struct BlockCache {
    blocks: Mutex<Cached>,
}

#[derive(Default)]
struct Cached {
    blocks: VecDeque<(Location, Arc<DecodedBlock>)>,
    bytes: usize,
}

impl Cached {
    /// Keeps `block`, in place of a shorter decoding of the same block.
    fn insert(&mut self, at: Location, block: Arc<DecodedBlock>) {
        if let Some(place) = self.blocks.iter().position(|(location, _)| *location == at) {
            if self.blocks[place].1.content.len() >= block.content.len() {
                return;
            }
            if let Some((_, shorter)) = self.blocks.remove(place) {
                self.bytes -= shorter.content.len();
            }
        }
        self.bytes += block.content.len();
        self.blocks.push_back((at, block));
        while self.bytes > CACHED_BLOCK_BYTES
            && let Some((_, oldest)) = self.blocks.pop_front()
        {
            self.bytes -= oldest.content.len();
        }
    }
}

impl BlockCache {
    /// The block at `at`, decoded at least through member `index`, from
    /// the cache or read and decoded.
    pub(crate) fn block(
        &self,
        packs: &PackSet,
        at: Location,
        index: u32,
        digest: &Digest,
    ) -> Result<Arc<DecodedBlock>, StoreError> {
        let cached = self.blocks.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, block)) = cached
            .blocks
            .iter()
            .find(|(location, block)| *location == at && block.covers(index))
        {
            return Ok(Arc::clone(block));
        }
        // Reading on past what is decoded decodes twice as far, so a block
        // read member by member is decoded about twice, not once a member.
        let at_least = cached
            .blocks
            .iter()
            .find(|(location, _)| *location == at)
            .map_or(0, |(_, block)| block.content.len() * 2);
        drop(cached);
        let lost = |reason: String| StoreError::CorruptBlob {
            digest: *digest,
            actual: None,
            reason: format!("its document block at {at} is damaged: {reason}"),
        };
        let frame = packs.read(at).map_err(|err| match err {
            newsarc_pack::PackError::Damaged { reason, .. } => lost(reason.to_string()),
            other => other.into(),
        })?;
        let block = Arc::new(decode_through(&frame, index, at_least).map_err(lost)?);
        self.insert(at, Arc::clone(&block));
        Ok(block)
    }

    /// Keeps a block decoded elsewhere (`verify --deep` decodes them all).
    pub(crate) fn insert(&self, at: Location, block: Arc<DecodedBlock>) {
        self.blocks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(at, block);
    }
}
