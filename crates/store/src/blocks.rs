//! Document blocks read back: a block decoded once serves every member
//! read after it, so reading a commit's documents in turn (an export, a
//! diff of neighbours) decompresses each block once.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use newsarc_model::Digest;
use newsarc_pack::block::Directory;
use newsarc_pack::{Frame, Kind, Location, PackSet};

use crate::StoreError;
use crate::documents;

/// How many decoded blocks the cache keeps: reads go through a block's
/// members in turn, seldom back and forth between many blocks.
const CACHED_BLOCKS: usize = 4;

/// A document block's directory and content, decoded.
pub(crate) struct DecodedBlock {
    pub directory: Directory,
    pub content: Vec<u8>,
}

impl DecodedBlock {
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

/// A document block frame's directory and content, the content checked
/// against the frame's digest.
pub(crate) fn decode(frame: &Frame) -> Result<DecodedBlock, String> {
    if frame.header.kind != Kind::DocumentBlock {
        return Err(format!(
            "it is a {} frame, not a document block",
            frame.header.kind.as_str()
        ));
    }
    let (directory, compressed) = Directory::split(&frame.payload, frame.header.content_len)
        .map_err(|err| format!("its directory does not read: {err}"))?;
    let content = documents::decompress(compressed, frame.header.content_len, None)
        .map_err(|err| format!("it does not decompress: {err}"))?;
    if Digest::of(&content) != frame.header.content {
        return Err("its content does not hash to its digest".into());
    }
    Ok(DecodedBlock { directory, content })
}

/// Recently read blocks, decoded.
#[derive(Default)]
pub(crate) struct BlockCache {
    blocks: Mutex<VecDeque<(Location, Arc<DecodedBlock>)>>,
}

impl BlockCache {
    /// The block at `at`, from the cache or read and decoded.
    pub(crate) fn block(
        &self,
        packs: &PackSet,
        at: Location,
        digest: &Digest,
    ) -> Result<Arc<DecodedBlock>, StoreError> {
        let mut blocks = self.blocks.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, block)) = blocks.iter().find(|(location, _)| *location == at) {
            return Ok(Arc::clone(block));
        }
        drop(blocks);
        let lost = |reason: String| StoreError::CorruptBlob {
            digest: *digest,
            actual: None,
            reason: format!("its document block at {at} is damaged: {reason}"),
        };
        let frame = packs.read(at).map_err(|err| match err {
            newsarc_pack::PackError::Damaged { reason, .. } => lost(reason.to_string()),
            other => other.into(),
        })?;
        let block = Arc::new(decode(&frame).map_err(lost)?);
        blocks = self.blocks.lock().unwrap_or_else(PoisonError::into_inner);
        if blocks.len() == CACHED_BLOCKS {
            blocks.pop_front();
        }
        blocks.push_back((at, Arc::clone(&block)));
        Ok(block)
    }
}
