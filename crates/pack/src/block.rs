//! A document block's payload: a directory of the documents it holds, then
//! their bytes compressed together. Documents compressed together share
//! what they repeat across articles (an outlet's boilerplate, its
//! vocabulary), which one document compressed alone cannot
//! (`docs/PERFORMANCE.md`). The directory is stored as it is, so the
//! documents a block holds are known without decompressing it.
//!
//! Layout (`docs/FORMAT.md`, "Document blocks"): the member count (u32 BE),
//! then per member its BLAKE3 (32 bytes) and length (u32 BE), then the rest
//! of the payload: the members' bytes one after the other, compressed as
//! the frame's codec says.

use std::ops::Range;

use newsarc_model::Digest;

/// One directory entry's length.
const ENTRY_LEN: usize = 32 + 4;

/// A document in a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    /// Its BLAKE3.
    pub digest: Digest,
    /// Its length.
    pub len: u32,
}

/// Why a block's payload does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// The payload is shorter than its directory says.
    #[error("its directory needs {needed} bytes, the payload has {found}")]
    Truncated {
        /// Bytes the directory needs.
        needed: u64,
        /// Bytes in the payload.
        found: u64,
    },
    /// The members' lengths do not add up to the frame's content length.
    #[error("its members' lengths add up to {sum}, its header says {content_len}")]
    Lengths {
        /// The sum of the members' lengths.
        sum: u64,
        /// The frame header's content length.
        content_len: u32,
    },
}

/// A block's directory: its members in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directory {
    /// The members, in the order their bytes follow each other.
    pub members: Vec<Member>,
}

impl Directory {
    /// The directory's bytes, which start the payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(4 + ENTRY_LEN * self.members.len());
        bytes.extend_from_slice(&(self.members.len() as u32).to_be_bytes());
        for member in &self.members {
            bytes.extend_from_slice(member.digest.as_bytes());
            bytes.extend_from_slice(&member.len.to_be_bytes());
        }
        bytes
    }

    /// Reads the directory at the start of `payload`, checked against the
    /// frame's `content_len`; returns it and the compressed rest.
    pub fn split(payload: &[u8], content_len: u32) -> Result<(Self, &[u8]), BlockError> {
        let truncated = |needed: u64| BlockError::Truncated {
            needed,
            found: payload.len() as u64,
        };
        let (count, rest) = payload.split_first_chunk::<4>().ok_or(truncated(4))?;
        let count = u32::from_be_bytes(*count) as usize;
        let needed = count
            .checked_mul(ENTRY_LEN)
            .filter(|len| *len <= rest.len())
            .ok_or(truncated(4 + count as u64 * ENTRY_LEN as u64))?;
        let (entries, compressed) = rest.split_at(needed);
        let members: Vec<Member> = entries
            .chunks_exact(ENTRY_LEN)
            .map(|entry| {
                let (digest, len) = entry.split_at(32);
                let mut raw = [0; 32];
                raw.copy_from_slice(digest);
                Member {
                    digest: Digest::from_bytes(raw),
                    len: u32::from_be_bytes([len[0], len[1], len[2], len[3]]),
                }
            })
            .collect();
        let sum: u64 = members.iter().map(|member| u64::from(member.len)).sum();
        if sum != u64::from(content_len) {
            return Err(BlockError::Lengths { sum, content_len });
        }
        Ok((Self { members }, compressed))
    }

    /// How many bytes of `payload` its directory takes, at most all of
    /// them: what a reader that needs no member's bytes keeps.
    pub fn len_in(payload: &[u8]) -> usize {
        let count = payload
            .first_chunk::<4>()
            .map_or(0, |count| u32::from_be_bytes(*count) as usize);
        count
            .saturating_mul(ENTRY_LEN)
            .saturating_add(4)
            .min(payload.len())
    }

    /// Where member `index`'s bytes are in the block's content.
    pub fn range(&self, index: usize) -> Option<Range<usize>> {
        let start: usize = self
            .members
            .get(..index)?
            .iter()
            .map(|member| member.len as usize)
            .sum();
        let member = self.members.get(index)?;
        Some(start..start + member.len as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory() -> Directory {
        Directory {
            members: vec![
                Member {
                    digest: Digest::of(b"one"),
                    len: 3,
                },
                Member {
                    digest: Digest::of(b"three"),
                    len: 5,
                },
            ],
        }
    }

    #[test]
    fn a_directory_round_trips_and_says_where_each_member_is() {
        let mut payload = directory().encode();
        payload.extend_from_slice(b"compressed");
        let (read, rest) = Directory::split(&payload, 8).unwrap();
        assert_eq!(read, directory());
        assert_eq!(rest, b"compressed");
        let directory_len = Directory::len_in(&payload);
        assert_eq!(directory_len, payload.len() - b"compressed".len());
        assert_eq!(
            Directory::split(&payload[..directory_len], 8).unwrap().0,
            read
        );
        assert_eq!(read.range(0), Some(0..3));
        assert_eq!(read.range(1), Some(3..8));
        assert_eq!(read.range(2), None);
    }

    #[test]
    fn a_short_payload_or_lengths_that_do_not_add_up_are_refused() {
        let payload = directory().encode();
        for cut in 0..payload.len() {
            assert!(
                matches!(
                    Directory::split(&payload[..cut], 8),
                    Err(BlockError::Truncated { .. })
                ),
                "cut at {cut}"
            );
        }
        assert_eq!(
            Directory::split(&payload, 9),
            Err(BlockError::Lengths {
                sum: 8,
                content_len: 9
            })
        );
        assert_eq!(Directory::len_in(&payload[..10]), 10);
        assert_eq!(Directory::len_in(&[]), 0);
        let huge = u32::MAX.to_be_bytes();
        assert!(matches!(
            Directory::split(&huge, 0),
            Err(BlockError::Truncated { .. })
        ));
    }
}
