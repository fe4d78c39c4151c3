//! Store behaviour, run on each engine.

use newsarc_model::codec;
use newsarc_model::record::{BlobEncoding, RevisionRecord, StoreInfo};
use newsarc_model::{ChangeKind, Digest, Millis, RevisionId};
use newsarc_store::engine::WriteBatch;
use newsarc_store::{MAX_DELTA_DEPTH, Outcome, Store, StoreError, keys};

use crate::backend::{Backend, document, fetch};

fn revisions_observations_and_articles_are_recorded(backend: &Backend) {
    let store = backend.store();
    let (one, two) = (document(1), document(2));
    let first = store
        .add_fetch(&fetch("example.org/a", &one, 1_000, "A"))
        .unwrap();
    let seen = store
        .add_fetch(&fetch("example.org/a", &one, 2_000, "A"))
        .unwrap();
    let second = store
        .add_fetch(&fetch("example.org/a", &two, 3_000, "A"))
        .unwrap();
    store.flush().unwrap();

    assert_eq!(first.outcome, Outcome::NewArticle);
    assert_eq!(
        (seen.outcome, seen.revision),
        (Outcome::Unchanged, first.revision)
    );
    assert_eq!((second.outcome, second.seq), (Outcome::NewRevision, 2));
    assert_eq!(second.change, Some(ChangeKind::Body));

    let key = newsarc_model::ArticleKey::new("example.org/a").unwrap();
    let history = store.history(&key).unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].1.parent, None);
    assert_eq!(history[1].1.parent, Some(first.revision));
    assert_eq!(store.observations(&key).unwrap().len(), 1);

    let article = store.article(&key).unwrap().unwrap();
    assert_eq!((article.revisions, article.observations), (2, 1));
    assert_eq!(article.latest, second.revision);
    assert_eq!(
        (article.first_seen, article.last_seen),
        (Millis::from_millis(1_000), Millis::from_millis(3_000))
    );
    let counters = store.counters().unwrap();
    assert_eq!(
        (counters.articles, counters.revisions, counters.observations),
        (1, 2, 1)
    );
    assert_eq!(counters.raw_bytes, (one.len() + two.len()) as u64);
}

fn gone_and_reappeared_events_join_the_history_and_the_log(backend: &Backend) {
    use newsarc_model::record::{EventKind, HttpFacts, ObservationKind};
    use newsarc_store::{BodilessFetch, LogEntry};

    let store = backend.store();
    let key = newsarc_model::ArticleKey::new("example.org/a").unwrap();
    let body = document(1);
    let first = store
        .add_fetch(&fetch("example.org/a", &body, 1_000, "A"))
        .unwrap();
    let bodiless = |at: i64, status: u16| BodilessFetch {
        article: key.clone(),
        fetched_at: Millis::from_millis(at),
        http: HttpFacts {
            url: "https://example.org/a".into(),
            final_url: "https://example.org/a".into(),
            status,
            ..HttpFacts::default()
        },
    };
    let gone = store.add_gone(&bodiless(2_000, 404)).unwrap().unwrap();
    // Gone twice is one event.
    assert_eq!(store.add_gone(&bodiless(3_000, 410)).unwrap(), None);
    let article = store.article(&key).unwrap().unwrap();
    assert_eq!(
        (article.events, article.gone_since),
        (1, Some(Millis::from_millis(2_000)))
    );
    // A 304 after gone: back, and seen unchanged.
    let back = store.add_not_modified(&bodiless(4_000, 304)).unwrap();
    assert_eq!(
        (back.outcome, back.reappeared),
        (Outcome::NotModified, true)
    );
    assert_eq!(back.revision, first.revision);
    let second = store
        .add_fetch(&fetch("example.org/a", &document(2), 5_000, "A"))
        .unwrap();
    assert!(!second.reappeared);
    store.flush().unwrap();

    let events = store.events(&key).unwrap();
    let kinds: Vec<_> = events.iter().map(|(_, event)| event.kind).collect();
    assert_eq!(kinds, [EventKind::Gone, EventKind::Reappeared]);
    assert_eq!(events[0].0, gone);
    assert_eq!(events[0].1.latest, first.revision);
    assert_eq!(
        store.observations(&key).unwrap()[0].kind,
        ObservationKind::NotModified
    );
    let log: Vec<LogEntry> = store
        .log_from(1, 10)
        .unwrap()
        .into_iter()
        .map(|(_, entry)| entry)
        .collect();
    assert_eq!(
        log,
        [
            LogEntry::Revision(first.revision),
            LogEntry::Event(gone),
            LogEntry::Event(events[1].0),
            LogEntry::Revision(second.revision),
        ]
    );
    let counters = store.counters().unwrap();
    assert_eq!(
        (counters.revisions, counters.events, counters.log_len()),
        (2, 2, 4)
    );
    let report = store.verify(&mut |_| {}).unwrap();
    assert!(report.ok(), "{:?}", report.findings);
}

fn a_bodiless_fetch_of_an_unknown_article_is_refused(backend: &Backend) {
    let store = backend.store();
    let key = newsarc_model::ArticleKey::new("example.org/none").unwrap();
    let err = store
        .add_gone(&newsarc_store::BodilessFetch {
            article: key,
            fetched_at: Millis::from_millis(0),
            http: Default::default(),
        })
        .unwrap_err();
    assert!(err.to_string().contains("example.org/none"), "{err}");
    assert_eq!(store.counters().unwrap().events, 0);
}

fn article_pages_resume_after_a_key(backend: &Backend) {
    let store = backend.store();
    for name in ["a", "b", "b2", "c"] {
        let article = format!("example.org/{name}");
        store
            .add_fetch(&fetch(&article, &document(1), 0, "T"))
            .unwrap();
    }
    let after = |key: Option<&str>| -> Vec<String> {
        store
            .articles_after(key)
            .map(|a| a.unwrap().key.to_string())
            .collect()
    };
    assert_eq!(after(None).len(), 4);
    assert_eq!(
        after(Some("example.org/b")),
        ["example.org/b2", "example.org/c"]
    );
    assert!(after(Some("example.org/c")).is_empty());
}

fn revision_ids_hash_the_stored_record(backend: &Backend) {
    let store = backend.store();
    let body = document(1);
    let added = store
        .add_fetch(&fetch("example.org/a", &body, 0, "A"))
        .unwrap();
    let bytes = store
        .engine()
        .get(&keys::revision(&added.revision))
        .unwrap()
        .unwrap();
    assert_eq!(RevisionId::of_record(&bytes), added.revision);
    let record: RevisionRecord = codec::decode(&bytes).unwrap();
    assert_eq!(record.blob, Digest::of(&body));
}

fn later_revisions_are_stored_as_deltas_and_read_back_exactly(backend: &Backend) {
    let store = backend.store();
    let documents: Vec<Vec<u8>> = (0..MAX_DELTA_DEPTH + 5).map(document).collect();
    for (i, body) in documents.iter().enumerate() {
        store
            .add_fetch(&fetch("example.org/long", body, i as i64, "L"))
            .unwrap();
    }
    store.flush().unwrap();
    let second = store.blob_record(&Digest::of(&documents[1])).unwrap();
    assert_eq!(second.encoding, BlobEncoding::ZstdDelta);
    assert!(
        second.data.len() * 5 < documents[1].len(),
        "a delta stays small"
    );
    let cut = store
        .blob_record(&Digest::of(&documents[MAX_DELTA_DEPTH as usize + 1]))
        .unwrap();
    assert_eq!(
        cut.encoding,
        BlobEncoding::Zstd,
        "the chain is cut at the depth limit"
    );
    for body in &documents {
        assert_eq!(&store.blob(&Digest::of(body)).unwrap(), body);
    }
}

fn flip_flopping_content_makes_revisions_but_stores_the_blob_once(backend: &Backend) {
    let store = backend.store();
    let (one, two) = (document(1), document(2));
    for (i, body) in [&one, &two, &one].into_iter().enumerate() {
        let added = store
            .add_fetch(&fetch("example.org/f", body, i as i64, "F"))
            .unwrap();
        assert_ne!(added.outcome, Outcome::Unchanged);
    }
    let counters = store.counters().unwrap();
    assert_eq!(counters.revisions, 3);
    assert_eq!(counters.raw_bytes, (one.len() + two.len()) as u64);
}

fn everything_survives_reopening(backend: &Backend) {
    let first = {
        let store = backend.store();
        let added = store
            .add_fetch(&fetch("example.org/a", &document(1), 0, "A"))
            .unwrap();
        store.flush().unwrap();
        added
    };
    let store = backend.store();
    assert_eq!(store.revision(&first.revision).unwrap().seq, 1);
    assert!(store.verify(&mut |_| {}).unwrap().ok());
}

fn a_newer_store_format_is_refused_by_name(backend: &Backend) {
    let engine = backend.engine();
    let info = StoreInfo {
        format: 99,
        created_at: Millis::from_millis(0),
        indexes: 1,
    };
    let mut batch = WriteBatch::default();
    batch.put(keys::INFO.to_vec(), codec::encode(&info).unwrap());
    engine.apply(batch).unwrap();
    engine.flush().unwrap();
    drop(engine);
    let Err(err) = Store::with_engine(backend.engine(), "old-store".into()) else {
        panic!("a store of format 99 must not open");
    };
    assert!(matches!(
        err,
        StoreError::UnsupportedFormat { found: 99, .. }
    ));
    let message = err.to_string();
    assert!(
        message.contains("old-store") && message.contains("format 99"),
        "{message}"
    );
}

crate::on_every_backend!(
    revisions_observations_and_articles_are_recorded,
    article_pages_resume_after_a_key,
    gone_and_reappeared_events_join_the_history_and_the_log,
    a_bodiless_fetch_of_an_unknown_article_is_refused,
    revision_ids_hash_the_stored_record,
    later_revisions_are_stored_as_deltas_and_read_back_exactly,
    flip_flopping_content_makes_revisions_but_stores_the_blob_once,
    everything_survives_reopening,
    a_newer_store_format_is_refused_by_name,
);

#[test]
fn a_directory_that_is_not_a_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let Err(err) = Store::open(dir.path()) else {
        panic!("a foreign directory must not open as a store");
    };
    assert!(matches!(err, StoreError::NotAStore { .. }), "{err}");
}

#[test]
fn a_store_held_by_another_handle_is_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let _held = Store::open(dir.path()).unwrap();
    let Err(err) = Store::open(dir.path()) else {
        panic!("sled allows one handle per store");
    };
    assert!(
        matches!(err, StoreError::InUse { server: None, .. })
            && err
                .to_string()
                .contains("in use by another newsarc process"),
        "{err}"
    );
}

/// A sled store with revisions, an observation and a gone event.
fn exported_store(dir: &std::path::Path) -> Vec<u8> {
    let store = Store::open(dir).unwrap();
    for (version, time) in [(1, 1_000), (1, 2_000), (2, 3_000)] {
        store
            .add_fetch(&fetch("example.org/a", &document(version), time, "A"))
            .unwrap();
    }
    store
        .add_fetch(&fetch("example.org/b", &document(9), 4_000, "B"))
        .unwrap();
    store
        .add_gone(&newsarc_store::BodilessFetch {
            article: newsarc_model::ArticleKey::new("example.org/b").unwrap(),
            fetched_at: Millis::from_millis(5_000),
            http: Default::default(),
        })
        .unwrap();
    store.flush().unwrap();
    let mut file = Vec::new();
    let moved = store.export(&mut file, &mut |_| {}).unwrap();
    assert_eq!(moved.bytes, file.len() as u64);
    file
}

fn all_entries(store: &Store) -> Vec<(Vec<u8>, Vec<u8>)> {
    store
        .engine()
        .scan_prefix(b"")
        .map(Result::unwrap)
        .collect()
}

#[test]
fn an_export_imports_into_the_same_entries_and_a_clean_store() {
    let dir = tempfile::tempdir().unwrap();
    let file = exported_store(&dir.path().join("from"));
    let target = dir.path().join("to");
    let moved = Store::import(&target, &mut file.as_slice(), &mut |_| {}).unwrap();
    let (from, to) = (
        Store::open(&dir.path().join("from")).unwrap(),
        Store::open(&target).unwrap(),
    );
    assert_eq!(all_entries(&from), all_entries(&to));
    assert_eq!(moved.entries, all_entries(&to).len() as u64);
    assert!(to.verify(&mut |_| {}).unwrap().ok());
    assert!(!dir.path().join("to.importing").exists());
}

#[test]
fn a_damaged_or_truncated_export_names_the_record_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = exported_store(&dir.path().join("from"));
    let target = dir.path().join("to");

    // A flipped byte in the last entry's value (just before the trailer).
    let mut flipped = file.clone();
    let at = flipped.len() - 60;
    flipped[at] ^= 0x10;
    let err = Store::import(&target, &mut flipped.as_slice(), &mut |_| {}).unwrap_err();
    assert!(
        matches!(err, StoreError::DamagedExport { record, .. } if record > 1),
        "{err}"
    );
    assert!(!target.exists() && !dir.path().join("to.importing").exists());

    let truncated = &file[..file.len() - 10];
    let err = Store::import(&target, &mut &truncated[..], &mut |_| {}).unwrap_err();
    assert!(err.to_string().contains("ends"), "{err}");
    assert!(!target.exists());

    let err = Store::import(&target, &mut &b"not an export"[..], &mut |_| {}).unwrap_err();
    assert!(matches!(err, StoreError::NotAnExport { .. }), "{err}");
    assert!(err.to_string().contains("not a newsarc export"), "{err}");

    // A store that is there already is never overwritten.
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("mine"), "x").unwrap();
    let err = Store::import(&target, &mut file.as_slice(), &mut |_| {}).unwrap_err();
    assert!(matches!(err, StoreError::ImportTarget { .. }), "{err}");
    assert!(target.join("mine").exists());
}
