//! Batches of records: every record a commit writes — revisions,
//! observations, events, URL states, attempts, dictionaries — in one frame,
//! in the order they happened. The packs' batches, read in order, are the
//! store's whole history; the index is rebuilt from them.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use newsarc_model::record::{
    AttemptRecord, DictionaryRecord, EventRecord, ObservationRecord, Record, RevisionRecord,
    UrlRecord,
};
use newsarc_model::{Digest, codec};
use newsarc_pack::{Codec, Frame, Header, Kind, Location, PackSet};

use crate::index::RecordRef;
use crate::{StoreError, documents};

/// One record of a batch, decoded by its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StoredRecord {
    Revision(Box<RevisionRecord>),
    Observation(ObservationRecord),
    Event(EventRecord),
    Url(UrlRecord),
    Attempt(AttemptRecord),
    Dictionary(DictionaryRecord),
}

impl StoredRecord {
    /// Decodes one record's bytes by the kind its envelope names.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Self, codec::CodecError> {
        Ok(match codec::kind_of(bytes)?.as_str() {
            RevisionRecord::KIND => Self::Revision(Box::new(codec::decode(bytes)?)),
            ObservationRecord::KIND => Self::Observation(codec::decode(bytes)?),
            EventRecord::KIND => Self::Event(codec::decode(bytes)?),
            UrlRecord::KIND => Self::Url(codec::decode(bytes)?),
            AttemptRecord::KIND => Self::Attempt(codec::decode(bytes)?),
            DictionaryRecord::KIND => Self::Dictionary(codec::decode(bytes)?),
            other => {
                return Err(codec::CodecError::WrongKind {
                    expected: "a record of a batch",
                    found: other.to_owned(),
                });
            }
        })
    }
}

/// A batch's content: each record's length (u32 BE), then its bytes.
pub(crate) fn encode_batch(records: &[Vec<u8>]) -> Vec<u8> {
    let mut content = Vec::with_capacity(records.iter().map(|r| r.len() + 4).sum());
    for record in records {
        content.extend_from_slice(&(record.len() as u32).to_be_bytes());
        content.extend_from_slice(record);
    }
    content
}

/// Splits a batch's content into its records' bytes.
pub(crate) fn split_batch(content: &[u8]) -> Result<Vec<&[u8]>, String> {
    let mut records = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (len, tail) = rest.split_first_chunk::<4>().ok_or_else(|| {
            format!(
                "{} bytes after record {} are no length",
                rest.len(),
                records.len()
            )
        })?;
        let len = u32::from_be_bytes(*len) as usize;
        let (record, tail) = tail.split_at_checked(len).ok_or_else(|| {
            format!(
                "record {} claims {len} bytes, {} are left",
                records.len(),
                tail.len()
            )
        })?;
        records.push(record);
        rest = tail;
    }
    Ok(records)
}

/// The frame header and payload of a batch.
pub(crate) fn batch_frame(content: &[u8]) -> Result<(Header, Vec<u8>), StoreError> {
    let payload = documents::compress(content, None)?;
    let header = Header::new(
        Kind::Records,
        Codec::Zstd,
        Digest::of(content),
        content.len() as u32,
        None,
        &payload,
    )
    .map_err(|err| StoreError::Internal(err.to_string()))?;
    Ok((header, payload))
}

/// A batch frame's content, decoded and checked against its digest.
pub(crate) fn batch_content(frame: &Frame) -> Result<Vec<u8>, String> {
    if frame.header.kind != Kind::Records {
        return Err(format!(
            "it is a {} frame, not a batch of records",
            frame.header.kind.as_str()
        ));
    }
    let content = match frame.header.codec {
        Codec::Stored => frame.payload.clone(),
        Codec::Zstd => documents::decompress(&frame.payload, frame.header.content_len, None)
            .map_err(|err| format!("it does not decompress: {err}"))?,
        other => return Err(format!("a batch is never {}", other.as_str())),
    };
    if Digest::of(&content) != frame.header.content {
        return Err("its content does not hash to its digest".into());
    }
    Ok(content)
}

/// How many decoded batches the cache keeps: a history's records usually
/// sit in a few.
const CACHED_BATCHES: usize = 8;

/// Recently read batches, decoded, so that reading a history's records
/// decompresses each batch once.
#[derive(Default)]
pub(crate) struct BatchCache {
    batches: Mutex<VecDeque<(Location, Arc<Vec<u8>>)>>,
}

impl BatchCache {
    /// The bytes of the record `at` names, checked.
    pub(crate) fn record(&self, packs: &PackSet, at: RecordRef) -> Result<Vec<u8>, StoreError> {
        let content = self.content(packs, at.frame())?;
        let records = split_batch(&content).map_err(|reason| StoreError::CorruptFrame {
            location: at.frame().to_string(),
            reason,
        })?;
        records
            .get(at.index as usize)
            .map(|record| record.to_vec())
            .ok_or_else(|| StoreError::CorruptFrame {
                location: at.frame().to_string(),
                reason: format!("it holds {} records, not {}", records.len(), at.index + 1),
            })
    }

    fn content(&self, packs: &PackSet, at: Location) -> Result<Arc<Vec<u8>>, StoreError> {
        let mut batches = self.batches.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, content)) = batches.iter().find(|(location, _)| *location == at) {
            return Ok(Arc::clone(content));
        }
        drop(batches);
        let frame = packs.read(at)?;
        let content =
            Arc::new(
                batch_content(&frame).map_err(|reason| StoreError::CorruptFrame {
                    location: at.to_string(),
                    reason,
                })?,
            );
        batches = self.batches.lock().unwrap_or_else(PoisonError::into_inner);
        if batches.len() == CACHED_BATCHES {
            batches.pop_front();
        }
        batches.push_back((at, Arc::clone(&content)));
        Ok(content)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_split_back_into_their_records() {
        let records = vec![b"one".to_vec(), Vec::new(), b"three".to_vec()];
        let content = encode_batch(&records);
        assert_eq!(
            split_batch(&content).unwrap(),
            [b"one".as_slice(), b"", b"three"]
        );
        assert!(split_batch(&content[..content.len() - 1]).is_err());
    }
}
