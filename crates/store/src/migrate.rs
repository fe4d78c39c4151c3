//! Indexes added to format-1 stores after they were first written, built
//! in place from the records when an older store is opened. Only derived
//! entries are added; no record is touched.

use newsarc_model::codec;
use newsarc_model::record::{ObservationRecord, StoreInfo};
use newsarc_model::{Digest, RevisionId};

use crate::derived::{self, Index};
use crate::engine::{KvEngine, WriteBatch};
use crate::store::{decode_revision, encode};
use crate::{StoreError, keys};

/// The index generation this build writes: 2 added the timeline (an
/// article's revisions by fetch time) and the captures (what recorded each
/// fetch, for re-runs that must not add anything).
pub(crate) const INDEXES: u32 = 2;

/// Entries written per batch while building.
const ENTRIES_PER_BATCH: usize = 4096;

/// Adds the indexes a store of an older generation lacks, then records the
/// generation in its header. A record that does not decode is skipped
/// (`verify` reports it); the build is idempotent, so one cut short runs
/// again at the next open.
pub(crate) fn add_missing_indexes(
    engine: &dyn KvEngine,
    mut info: StoreInfo,
) -> Result<StoreInfo, StoreError> {
    let mut batch = WriteBatch::default();
    let mut pending = 0;
    let mut put = |batch: &mut WriteBatch, key: Vec<u8>, value: Vec<u8>| {
        batch.put(key, value);
        pending += 1;
        if pending >= ENTRIES_PER_BATCH {
            pending = 0;
            engine.apply(std::mem::take(batch))
        } else {
            Ok(())
        }
    };
    for entry in engine.scan_prefix(&[keys::REVISION]) {
        let (key, value) = entry?;
        let Ok(id) = Digest::from_slice(&key[1..]).map(RevisionId) else {
            continue;
        };
        if let Ok(record) = decode_revision(&id, &value) {
            for entry in derived::of_revision(&id, &record) {
                if matches!(entry.index, Index::Timeline | Index::Capture) {
                    put(&mut batch, entry.key, entry.value)?;
                }
            }
        }
    }
    for entry in engine.scan_prefix(&[keys::OBSERVATION]) {
        let (key, value) = entry?;
        let number = key
            .len()
            .checked_sub(8)
            .and_then(|at| <[u8; 8]>::try_from(&key[at..]).ok())
            .map(u64::from_be_bytes);
        if let (Some(number), Ok(observation)) =
            (number, codec::decode::<ObservationRecord>(&value))
        {
            for entry in derived::of_observation(number, &observation) {
                put(&mut batch, entry.key, entry.value)?;
            }
        }
    }
    info.indexes = INDEXES;
    batch.put(keys::INFO, encode(&info)?);
    engine.apply(batch)?;
    engine.flush()?;
    Ok(info)
}
