//! verify on stores damaged from outside: each kind of damage is found and
//! named, and damaged bytes are never served.

use std::sync::atomic::AtomicBool;

use newsarc_model::ArticleKey;
use newsarc_store::{FindingKind, StoreError, VerifyOptions};

use crate::backend::findings;
use crate::damage::{Damaged, frame_of};

fn kinds(findings: &[newsarc_store::Finding]) -> Vec<FindingKind> {
    let mut kinds: Vec<FindingKind> = findings.iter().map(|f| f.kind).collect();
    kinds.dedup();
    kinds
}

#[test]
fn a_clean_store_has_no_findings_fast_or_deep() {
    let damaged = Damaged::new();
    let store = damaged.open_read_only();
    let stop = AtomicBool::new(false);
    let mut progress = 0;
    let report = store
        .verify(
            VerifyOptions { deep: true },
            &mut |finding| panic!("{finding:?}"),
            &mut |done| progress = done,
            &stop,
        )
        .unwrap();
    assert!(report.ok());
    assert!(report.objects >= 6 * 5, "{report:?}");
    assert_eq!(report.bytes, store.pack_bytes().unwrap());
    assert_eq!(progress, report.bytes);
}

#[test]
fn a_flipped_byte_in_a_document_is_found_and_never_served() {
    let damaged = Damaged::new();
    let digest = damaged.added[0].blob;
    // Past the header (66 bytes from the digest's start covers it).
    damaged.flip(frame_of(&damaged.pack(), &digest) + 80);
    let store = damaged.open_read_only();
    let fast = findings(&store, false);
    assert!(
        fast.iter().any(|f| f.kind == FindingKind::CorruptFrame),
        "{fast:?}"
    );
    let deep = findings(&store, true);
    assert!(
        deep.iter().any(|f| f.kind == FindingKind::CorruptBlob),
        "{deep:?}"
    );
    let err = store.blob(&digest).unwrap_err();
    assert!(matches!(err, StoreError::CorruptBlob { .. }), "{err}");
    // The other article is whole.
    assert!(store.blob(&damaged.added[3].blob).is_ok());
}

#[test]
fn a_pack_cut_short_is_lost_entries_against_the_head_witness() {
    let damaged = Damaged::new();
    damaged.cut_pack(10);
    let store = damaged.open_read_only();
    let found = findings(&store, false);
    assert!(
        kinds(&found).contains(&FindingKind::LostEntries),
        "{found:?}"
    );
}

#[test]
fn an_unfinished_commit_is_an_unreferenced_tail_that_a_writer_cuts_off() {
    let damaged = Damaged::new();
    let pack = std::fs::read(damaged.pack()).unwrap();
    // The first 100 bytes of a document frame, as a crash leaves them.
    let start = frame_of(&damaged.pack(), &damaged.added[1].blob) as usize - 14;
    let mut cut = pack.clone();
    cut.extend_from_slice(&pack[start..start + 100]);
    std::fs::write(damaged.pack(), &cut).unwrap();

    let found = findings(&damaged.open_read_only(), false);
    assert_eq!(kinds(&found), [FindingKind::UnreferencedTail], "{found:?}");
    drop(damaged.open());
    assert_eq!(std::fs::read(damaged.pack()).unwrap(), pack);
    assert!(findings(&damaged.open_read_only(), true).is_empty());
}

#[test]
fn a_verify_asked_to_stop_says_where_it_stopped() {
    let damaged = Damaged::new();
    let store = damaged.open_read_only();
    let stop = AtomicBool::new(true);
    let report = store
        .verify(VerifyOptions::default(), &mut |_| {}, &mut |_| {}, &stop)
        .unwrap();
    assert!(!report.ok());
    assert!(report.stopped_at.is_some());
    // Nothing in the store changed by a verify.
    let key = ArticleKey::new("example.org/a").unwrap();
    assert_eq!(store.timeline(&key).unwrap().len(), 3);
}
