//! repair on deliberately damaged stores: derived entries come back from the
//! records, every change is reported, what cannot come back is listed, and
//! no record is ever removed.

use std::collections::BTreeMap;

use newsarc_model::{ArticleKey, Digest, RevisionId};
use newsarc_store::engine::WriteBatch;
use newsarc_store::{FindingKind, RepairAction, RepairReport, Store, keys};

use crate::backend::{Backend, document, fetch};
use crate::verify::{populated, put, remove, with_gone_event};

/// Every entry of the store, to compare before and after.
fn snapshot(store: &Store) -> BTreeMap<Vec<u8>, Vec<u8>> {
    store
        .engine()
        .scan_prefix(b"")
        .map(|entry| entry.unwrap())
        .collect()
}

/// Entries under the record prefixes repair must never touch.
fn records(store: &Store) -> BTreeMap<Vec<u8>, Vec<u8>> {
    snapshot(store)
        .into_iter()
        .filter(|(key, _)| {
            [
                keys::REVISION,
                keys::BLOB,
                keys::EVENT,
                keys::OBSERVATION,
                keys::URL,
                keys::ATTEMPT,
            ]
            .contains(&key[0])
                || key == keys::INFO
        })
        .collect()
}

fn repair(store: &Store) -> RepairReport {
    let report = store.repair(false, &mut |_| {}).unwrap();
    assert!(report.applied);
    report
}

/// A store with a gone event and an observation besides its revisions.
fn full(backend: &Backend) -> Store {
    let (store, _) = with_gone_event(backend);
    let body = [b"example.org/b".as_slice(), &document(2)].concat();
    store
        .add_fetch(&fetch("example.org/b", &body, 20, "T"))
        .unwrap();
    store.flush().unwrap();
    assert!(store.verify(&mut |_| {}).unwrap().ok());
    store
}

fn a_sound_store_is_left_exactly_as_it_is(backend: &Backend) {
    let store = full(backend);
    let before = snapshot(&store);
    let report = repair(&store);
    assert_eq!(report.changes, []);
    assert_eq!(report.unrecoverable, []);
    assert!(report.records > 0);
    assert_eq!(snapshot(&store), before);
}

fn every_derived_entry_comes_back_from_the_records(backend: &Backend) {
    let store = full(backend);
    let before = snapshot(&store);
    let mut batch = WriteBatch::default();
    for prefix in [
        keys::HISTORY,
        keys::TIMELINE,
        keys::CAPTURE,
        keys::ARTICLE_EVENT,
        keys::ARTICLE,
        keys::LOG,
        keys::TIME,
        keys::DIGEST,
    ] {
        for entry in store.engine().scan_prefix(&[prefix]) {
            batch.remove(entry.unwrap().0);
        }
    }
    batch.remove(keys::COUNTERS);
    store.engine().apply(batch).unwrap();
    assert!(!store.verify(&mut |_| {}).unwrap().ok());

    let report = repair(&store);
    assert_eq!(report.unrecoverable, []);
    assert!(
        report
            .changes
            .iter()
            .all(|change| change.action == RepairAction::Added || change.index == "counters")
    );
    assert_eq!(report.changes.len(), before.len() - records(&store).len());
    assert!(store.verify(&mut |_| {}).unwrap().ok());
    // A log rebuilt from nothing is ordered by fetch time, which here
    // interleaves the two articles; everything else is byte for byte what
    // it was.
    let without_order = |entries: BTreeMap<Vec<u8>, Vec<u8>>| -> (BTreeMap<_, _>, Vec<Vec<u8>>) {
        let (order, rest): (BTreeMap<_, _>, BTreeMap<_, _>) = entries
            .into_iter()
            .partition(|(key, _)| [keys::LOG, keys::TIME].contains(&key[0]));
        let mut logged: Vec<_> = order
            .into_iter()
            .filter(|(key, _)| key[0] == keys::LOG)
            .map(|(_, value)| value)
            .collect();
        logged.sort();
        (rest, logged)
    };
    assert_eq!(without_order(snapshot(&store)), without_order(before));
}

fn a_dry_run_reports_and_writes_nothing(backend: &Backend) {
    let (store, added) = populated(backend);
    remove(
        &store,
        keys::history(&ArticleKey::new("example.org/a").unwrap(), 2),
    );
    let before = snapshot(&store);
    let report = store.repair(true, &mut |_| {}).unwrap();
    assert!(!report.applied);
    assert_eq!(report.changes.len(), 1);
    assert_eq!(report.changes[0].entry, "example.org/a@2");
    assert_eq!(report.changes[0].action, RepairAction::Added);
    assert_eq!(snapshot(&store), before);
    let _ = added;
}

fn entries_pointing_at_nothing_are_removed_and_named(backend: &Backend) {
    let (store, added) = populated(backend);
    let nowhere = RevisionId(Digest::of(b"no such revision"));
    put(&store, keys::digest(&added[0].blob, &nowhere), Vec::new());
    put(&store, keys::log(99), nowhere.0.as_bytes().to_vec());
    let report = repair(&store);
    let removed: Vec<_> = report
        .changes
        .iter()
        .map(|change| (change.index, change.entry.as_str(), change.action))
        .collect();
    let nowhere = nowhere.to_string();
    assert_eq!(
        removed,
        [
            ("log", "log#99", RepairAction::Removed),
            ("digest", nowhere.as_str(), RepairAction::Removed),
        ]
    );
    assert!(store.verify(&mut |_| {}).unwrap().ok());
}

fn a_stale_article_record_is_rewritten(backend: &Backend) {
    use newsarc_model::codec;
    use newsarc_model::record::ArticleRecord;
    let (store, _) = with_gone_event(backend);
    let key = ArticleKey::new("example.org/a").unwrap();
    let sound = store.article(&key).unwrap().unwrap();
    let stale = ArticleRecord {
        gone_since: None,
        revisions: 1,
        ..sound.clone()
    };
    put(&store, keys::article(&key), codec::encode(&stale).unwrap());
    let report = repair(&store);
    assert_eq!(report.changes.len(), 1);
    assert_eq!(report.changes[0].action, RepairAction::Replaced);
    assert_eq!(store.article(&key).unwrap(), Some(sound));
    assert!(store.verify(&mut |_| {}).unwrap().ok());
}

fn a_log_with_a_hole_is_renumbered_keeping_its_order(backend: &Backend) {
    let store = full(backend);
    let before: Vec<_> = store
        .log_from(1, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|(_, entry)| entry)
        .collect();
    remove(&store, keys::log(3));
    let report = repair(&store);
    assert!(report.changes.iter().any(|c| c.index == "log"));
    assert!(store.verify(&mut |_| {}).unwrap().ok());
    let after: Vec<_> = store
        .log_from(1, usize::MAX)
        .unwrap()
        .into_iter()
        .map(|(_, entry)| entry)
        .collect();
    assert_eq!(after.len(), before.len());
    // The lost entry goes to the end; the others keep their order.
    let mut expected = before.clone();
    let lost = expected.remove(2);
    expected.push(lost);
    assert_eq!(after, expected);
}

fn damaged_records_are_listed_and_kept(backend: &Backend) {
    let (store, added) = populated(backend);
    let tampered = added[1].revision;
    let mut bytes = store
        .engine()
        .get(&keys::revision(&tampered))
        .unwrap()
        .unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    put(&store, keys::revision(&tampered), bytes);
    remove(&store, keys::blob(&added[4].blob));
    let kept = records(&store);

    let report = repair(&store);
    let lost: Vec<_> = report
        .unrecoverable
        .iter()
        .map(|finding| (finding.kind, finding.id.clone()))
        .collect();
    assert!(lost.contains(&(FindingKind::CorruptRecord, tampered.to_string())));
    assert!(lost.contains(&(FindingKind::MissingIndex, "example.org/a@2".into())));
    assert!(lost.contains(&(FindingKind::MissingBlob, added[4].blob.to_string())));
    assert_eq!(records(&store), kept, "repair removed or rewrote a record");
    // What is left is indexed: the sound revisions are all reachable.
    let key = ArticleKey::new("example.org/b").unwrap();
    assert_eq!(store.history(&key).unwrap().len(), 3);
}

crate::on_every_backend!(
    a_sound_store_is_left_exactly_as_it_is,
    every_derived_entry_comes_back_from_the_records,
    a_dry_run_reports_and_writes_nothing,
    entries_pointing_at_nothing_are_removed_and_named,
    a_stale_article_record_is_rewritten,
    a_log_with_a_hole_is_renumbered_keeping_its_order,
    damaged_records_are_listed_and_kept,
);

/// A store in a directory (so it keeps a head witness) with two revisions.
fn witnessed() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    for version in 0..2 {
        store
            .add_fetch(&fetch(
                "example.org/w",
                &document(version),
                i64::from(version),
                "T",
            ))
            .unwrap();
    }
    store.flush().unwrap();
    assert!(dir.path().join(newsarc_store::WITNESS_FILE).is_file());
    (dir, store)
}

#[test]
fn a_log_that_lost_its_tail_is_reported_and_not_hidden_by_repair() {
    use newsarc_model::codec;
    use newsarc_model::record::Counters;
    let (dir, store) = witnessed();
    // What sled does with a truncated log and no snapshot: the last write
    // (revision 2 with its entries) is gone, consistently.
    let key = ArticleKey::new("example.org/w").unwrap();
    let history = store.history(&key).unwrap();
    let (second, record) = &history[1];
    let mut batch = WriteBatch::default();
    for key in [
        keys::revision(second),
        keys::history(&key, 2),
        keys::log(2),
        keys::time(record.fetched_at, second),
        keys::digest(&record.blob, second),
        keys::timeline(&key, record.fetched_at, record.seq),
        keys::capture(&key, record.fetched_at, &record.blob),
        keys::blob(&record.blob),
    ] {
        batch.remove(key);
    }
    let counters = Counters {
        revisions: 1,
        raw_bytes: store.counters().unwrap().raw_bytes - record.size,
        ..store.counters().unwrap()
    };
    batch.put(keys::COUNTERS, codec::encode(&counters).unwrap());
    let article = newsarc_model::record::ArticleRecord {
        latest: history[0].0,
        revisions: 1,
        last_seen: history[0].1.fetched_at,
        ..store.article(&key).unwrap().unwrap()
    };
    batch.put(keys::article(&key), codec::encode(&article).unwrap());
    store.engine().apply(batch).unwrap();
    drop(store);

    let store = Store::open(dir.path()).unwrap();
    let report = store.verify(&mut |_| {}).unwrap();
    let kinds: Vec<_> = report.findings.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, [FindingKind::LostEntries], "{:?}", report.findings);
    assert_eq!(report.findings[0].id, "log#2..#2");

    let repaired = repair(&store);
    assert_eq!(repaired.unrecoverable.len(), 1);
    assert_eq!(repaired.unrecoverable[0].kind, FindingKind::LostEntries);
    // The flush at the end of repair must not move the witness back.
    let verified = store.verify(&mut |_| {}).unwrap();
    assert_eq!(verified.findings.len(), 1);
    assert_eq!(verified.findings[0].kind, FindingKind::LostEntries);
}

#[test]
fn a_damaged_witness_is_reported_and_written_again_by_repair() {
    let (dir, store) = witnessed();
    let file = dir.path().join(newsarc_store::WITNESS_FILE);
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x10;
    std::fs::write(&file, bytes).unwrap();
    let report = store.verify(&mut |_| {}).unwrap();
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].kind, FindingKind::CorruptRecord);
    assert_eq!(report.findings[0].id, newsarc_store::WITNESS_FILE);
    drop(store);

    let store = Store::open(dir.path()).unwrap();
    let repaired = repair(&store);
    assert_eq!(repaired.unrecoverable, []);
    assert_eq!(repaired.changes.len(), 1);
    assert_eq!(repaired.changes[0].index, "witness");
    assert_eq!(repaired.changes[0].action, RepairAction::Replaced);
    assert!(store.verify(&mut |_| {}).unwrap().ok());
    assert_eq!(store.head_witness().unwrap().unwrap().log_len, 2);
}
