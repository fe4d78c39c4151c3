//! The pack against a model: random appends (across several packs),
//! syncs, reopens and reads, then crashes made by cutting the last pack at
//! every byte of its last frame.

// A test that meets an unexpected value should stop right there.
#![allow(clippy::unwrap_used)]

use std::path::Path;

use newsarc_model::Digest;
use newsarc_pack::{Codec, Header, Kind, Location, PackSet, PackWriter, Scanned};
use proptest::prelude::*;

fn frame_of(payload: &[u8], delta: bool) -> Header {
    let reference = delta.then(|| Digest::of(b"a base"));
    let codec = if delta {
        Codec::ZstdDelta
    } else {
        Codec::Stored
    };
    Header::new(
        Kind::Document,
        codec,
        Digest::of(payload),
        payload.len() as u32,
        reference,
        payload,
    )
    .unwrap()
}

/// Every sound frame a scan of `dir` finds, and whatever else it met.
fn scan(dir: &Path) -> (Vec<(Location, Vec<u8>)>, Vec<Scanned>) {
    let packs = PackSet::open(dir).unwrap();
    let mut frames = Vec::new();
    let mut other = Vec::new();
    for step in packs.scan(None).unwrap() {
        match step.unwrap() {
            Scanned::Frame(frame) => frames.push((frame.location, frame.payload)),
            damaged => other.push(damaged),
        }
    }
    (frames, other)
}

#[derive(Debug, Clone)]
enum Op {
    Append(Vec<u8>, bool),
    Sync,
    Reopen,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (proptest::collection::vec(any::<u8>(), 0..600), any::<bool>()).prop_map(|(p, d)| Op::Append(p, d)),
        2 => Just(Op::Sync),
        1 => Just(Op::Reopen),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn packs_hold_what_was_appended(ops in proptest::collection::vec(op(), 1..60)) {
        let dir = tempfile::tempdir().unwrap();
        // Small packs, so that appends cross into new ones.
        let limit = 2_000;
        let mut writer = PackWriter::open(dir.path(), limit).unwrap();
        let mut model: Vec<(Location, Vec<u8>)> = Vec::new();
        for op in ops {
            match op {
                Op::Append(payload, delta) => {
                    let at = writer.append(&frame_of(&payload, delta), &payload).unwrap();
                    model.push((at, payload));
                }
                Op::Sync => writer.sync().unwrap(),
                Op::Reopen => {
                    writer.sync().unwrap();
                    writer = PackWriter::open(dir.path(), limit).unwrap();
                }
            }
            let packs = PackSet::open(dir.path()).unwrap();
            for (at, payload) in &model {
                prop_assert_eq!(&packs.read(*at).unwrap().payload, payload);
            }
        }
        writer.sync().unwrap();
        let (frames, other) = scan(dir.path());
        prop_assert_eq!(frames, model);
        prop_assert!(other.is_empty(), "{:?}", other);
    }
}

#[test]
fn a_crash_at_any_byte_of_the_last_frame_loses_that_frame_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = PackWriter::open(dir.path(), newsarc_pack::DEFAULT_PACK_LIMIT).unwrap();
    let payloads: Vec<Vec<u8>> = (0..5u8).map(|i| vec![i; 100 + usize::from(i)]).collect();
    let mut at = Vec::new();
    for (i, payload) in payloads.iter().enumerate() {
        at.push(
            writer
                .append(&frame_of(payload, i % 2 == 1), payload)
                .unwrap(),
        );
    }
    writer.sync().unwrap();
    drop(writer);
    let pack = dir.path().join(newsarc_pack::pack_file_name(1));
    let whole = std::fs::read(&pack).unwrap();
    let last = at.last().unwrap().offset as usize;
    for cut in last..whole.len() {
        let copy = tempfile::tempdir().unwrap();
        std::fs::write(
            copy.path().join(newsarc_pack::pack_file_name(1)),
            &whole[..cut],
        )
        .unwrap();
        let (frames, other) = scan(copy.path());
        assert_eq!(frames.len(), 4, "cut at {cut}");
        for ((location, payload), (expected_at, expected)) in
            frames.iter().zip(at.iter().zip(&payloads))
        {
            assert_eq!((location, payload), (expected_at, expected));
        }
        if cut == last {
            assert!(other.is_empty(), "cut at {cut}: {other:?}");
        } else {
            assert_eq!(
                other,
                [Scanned::Tail {
                    location: at[4],
                    len: (cut - last) as u64
                }],
                "cut at {cut}"
            );
        }
        // A writer reopened there goes on; cutting the tail makes it whole.
        let mut writer = PackWriter::open(copy.path(), newsarc_pack::DEFAULT_PACK_LIMIT).unwrap();
        writer.truncate(at[4]).unwrap();
        let again = writer
            .append(&frame_of(&payloads[4], false), &payloads[4])
            .unwrap();
        writer.sync().unwrap();
        assert_eq!(again, at[4]);
        assert_eq!(scan(copy.path()).0.len(), 5);
    }
}

#[test]
fn a_flipped_byte_loses_only_the_frame_it_hit() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = PackWriter::open(dir.path(), newsarc_pack::DEFAULT_PACK_LIMIT).unwrap();
    let payloads: Vec<Vec<u8>> = (0..6u8).map(|i| vec![i.wrapping_mul(37); 80]).collect();
    let at: Vec<Location> = payloads
        .iter()
        .map(|payload| writer.append(&frame_of(payload, false), payload).unwrap())
        .collect();
    writer.sync().unwrap();
    drop(writer);
    let pack = dir.path().join(newsarc_pack::pack_file_name(1));
    let whole = std::fs::read(&pack).unwrap();
    let hit = 2;
    let start = at[hit].offset as usize;
    let end = at[hit + 1].offset as usize;
    for byte in start..end {
        let mut flipped = whole.clone();
        flipped[byte] ^= 0x40;
        std::fs::write(&pack, &flipped).unwrap();
        let (frames, other) = scan(dir.path());
        let kept: Vec<usize> = frames
            .iter()
            .map(|(location, _)| at.iter().position(|a| a == location).unwrap())
            .collect();
        assert_eq!(kept, [0, 1, 3, 4, 5], "byte {byte}: {other:?}");
        assert_eq!(other.len(), 1, "byte {byte}: {other:?}");
    }
}
