//! repair: the index made anew from the packs; what it cannot bring back
//! is listed, nothing in the packs is rewritten.

use newsarc_model::ArticleKey;
use newsarc_store::{FindingKind, OldIndex, RepairOptions, Store, StoreConfig};

use crate::backend::findings;
use crate::damage::{Damaged, flip, frame_of};

fn repair(damaged: &Damaged, options: RepairOptions) -> newsarc_store::RepairReport {
    Store::repair(
        &damaged.path(),
        &StoreConfig::default(),
        options,
        &mut |_| {},
    )
    .unwrap()
}

fn timelines(store: &Store) -> String {
    ["example.org/a", "example.org/b"]
        .iter()
        .map(|key| {
            format!(
                "{:?}",
                store.timeline(&ArticleKey::new(*key).unwrap()).unwrap()
            )
        })
        .collect()
}

#[test]
fn a_sound_store_is_left_as_it_is() {
    let damaged = Damaged::new();
    let before = timelines(&damaged.open());
    let pack = std::fs::read(damaged.pack()).unwrap();
    let report = repair(&damaged, RepairOptions::default());
    assert_eq!(report.old_index, OldIndex::Compared(Vec::new()));
    assert!(report.unrecoverable.is_empty() && report.tail.is_none());
    assert_eq!(std::fs::read(damaged.pack()).unwrap(), pack);
    assert_eq!(timelines(&damaged.open()), before);
}

#[test]
fn a_damaged_or_missing_index_is_rebuilt_from_the_packs_alone() {
    let damaged = Damaged::new();
    let before = timelines(&damaged.open());
    let db = damaged.path().join("index/sorted.run");
    let length = std::fs::metadata(&db).unwrap().len();
    for offset in (0..length.min(60_000)).step_by(997) {
        flip(&db, offset);
    }
    let report = repair(
        &damaged,
        RepairOptions {
            rebuild_index: true,
            ..RepairOptions::default()
        },
    );
    assert_eq!(report.old_index, OldIndex::NotRead);
    assert!(
        report.unrecoverable.is_empty(),
        "{:?}",
        report.unrecoverable
    );
    let store = damaged.open();
    assert_eq!(timelines(&store), before);
    assert!(findings(&store, true).is_empty());
    drop(store);

    std::fs::remove_dir_all(damaged.path().join("index")).unwrap();
    let report = repair(&damaged, RepairOptions::default());
    assert!(
        report.unrecoverable.is_empty(),
        "{:?}",
        report.unrecoverable
    );
    assert_eq!(timelines(&damaged.open()), before);
}

#[test]
fn a_dry_run_reports_and_writes_nothing() {
    let damaged = Damaged::new();
    std::fs::remove_dir_all(damaged.path().join("index")).unwrap();
    let report = repair(
        &damaged,
        RepairOptions {
            dry_run: true,
            ..RepairOptions::default()
        },
    );
    assert!(!report.applied);
    let OldIndex::Compared(changes) = &report.old_index else {
        panic!("{:?}", report.old_index);
    };
    assert!(
        changes
            .iter()
            .any(|change| change.index == "history" && change.added == 6)
    );
    assert!(!damaged.path().join("index.rebuilding").exists());
}

#[test]
fn a_damaged_document_frame_is_listed_with_what_needed_it_and_the_rest_kept() {
    let damaged = Damaged::new();
    let digest = damaged.added[4].blob;
    damaged.flip(frame_of(&damaged.pack(), &digest) + 80);
    std::fs::remove_dir_all(damaged.path().join("index")).unwrap();
    let report = repair(&damaged, RepairOptions::default());
    let kinds: Vec<FindingKind> = report.unrecoverable.iter().map(|f| f.kind).collect();
    assert!(kinds.contains(&FindingKind::CorruptFrame), "{kinds:?}");
    assert!(
        report
            .unrecoverable
            .iter()
            .any(|f| f.id == digest.to_string() || f.detail.contains(&digest.to_string())),
        "{:?}",
        report.unrecoverable
    );
    let store = damaged.open();
    for added in &damaged.added[..4] {
        assert!(store.blob(&added.blob).is_ok());
    }
}

#[test]
fn a_damaged_witness_is_written_again() {
    let damaged = Damaged::new();
    flip(&damaged.path().join("newsarc-head"), 40);
    let found = findings(&damaged.open_read_only(), false);
    assert!(
        found.iter().any(|f| f.kind == FindingKind::CorruptRecord),
        "{found:?}"
    );
    let report = repair(&damaged, RepairOptions::default());
    assert!(
        report.unrecoverable.is_empty(),
        "{:?}",
        report.unrecoverable
    );
    assert!(findings(&damaged.open_read_only(), false).is_empty());
}

#[test]
fn a_pack_cut_short_is_reported_and_not_hidden_by_repair() {
    let damaged = Damaged::new();
    damaged.cut_pack(10);
    let report = repair(&damaged, RepairOptions::default());
    assert!(
        report
            .unrecoverable
            .iter()
            .any(|f| f.kind == FindingKind::LostEntries),
        "{:?}",
        report.unrecoverable
    );
    assert!(
        findings(&damaged.open_read_only(), false)
            .iter()
            .any(|f| f.kind == FindingKind::LostEntries)
    );
}
