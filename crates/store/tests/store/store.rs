//! Store behaviour, on disk and in memory.

use newsarc_model::record::{EventKind, HttpFacts, ObservationKind};
use newsarc_model::{ArticleKey, ChangeKind, Digest, Millis};
use newsarc_store::{
    BodilessFetch, LogEntry, MAX_DELTA_DEPTH, Outcome, Store, StoreConfig, StoreError,
};

use crate::backend::{Backend, add, document, fetch, findings};

fn revisions_observations_and_articles_are_recorded(backend: &Backend) {
    let store = backend.store();
    let (one, two) = (document(1), document(2));
    let first = add(&store, &fetch("example.org/a", &one, 1_000, "A"));
    let seen = add(&store, &fetch("example.org/a", &one, 2_000, "A"));
    let second = add(&store, &fetch("example.org/a", &two, 3_000, "A"));

    assert_eq!(first.outcome, Outcome::NewArticle);
    assert_eq!(
        (seen.outcome, seen.revision),
        (Outcome::Unchanged, first.revision)
    );
    assert_eq!((second.outcome, second.seq), (Outcome::NewRevision, 2));
    assert_eq!(second.change, Some(ChangeKind::Body));

    let key = ArticleKey::new("example.org/a").unwrap();
    let timeline = store.timeline(&key).unwrap();
    assert_eq!(timeline.len(), 2);
    assert_eq!(store.revision(&timeline[0].id).unwrap().parent, None);
    assert_eq!(
        store.revision(&timeline[1].id).unwrap().parent,
        Some(first.revision)
    );
    assert_eq!(timeline[1].change, ChangeKind::Body);
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

fn a_commit_sees_its_own_writes_and_others_see_them_when_finished(backend: &Backend) {
    let store = backend.store();
    let body = document(1);
    let mut commit = store.begin().unwrap();
    let first = commit
        .add_fetch(&fetch("example.org/a", &body, 1_000, "A"))
        .unwrap();
    let again = commit
        .add_fetch(&fetch("example.org/a", &body, 1_000, "A"))
        .unwrap();
    assert_eq!(
        (first.outcome, again.outcome),
        (Outcome::NewArticle, Outcome::AlreadyArchived)
    );
    assert_eq!(store.counters().unwrap().revisions, 0, "not yet finished");
    commit.finish().unwrap();
    assert_eq!(store.counters().unwrap().revisions, 1);

    // A commit dropped unfinished leaves nothing.
    let mut commit = store.begin().unwrap();
    commit
        .add_fetch(&fetch("example.org/b", &body, 1_000, "B"))
        .unwrap();
    drop(commit);
    assert_eq!(store.counters().unwrap().articles, 1);
    assert!(findings(&store, true).is_empty());
}

fn gone_and_reappeared_events_join_the_history_and_the_log(backend: &Backend) {
    let store = backend.store();
    let key = ArticleKey::new("example.org/a").unwrap();
    let body = document(1);
    let first = add(&store, &fetch("example.org/a", &body, 1_000, "A"));
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
    let mut commit = store.begin().unwrap();
    let gone = commit.add_gone(&bodiless(2_000, 404)).unwrap().unwrap();
    // Gone twice is one event.
    assert_eq!(commit.add_gone(&bodiless(3_000, 410)).unwrap(), None);
    commit.finish().unwrap();
    let article = store.article(&key).unwrap().unwrap();
    assert_eq!(
        (article.events, article.gone_since),
        (1, Some(Millis::from_millis(2_000)))
    );
    // A 304 after gone: back, and seen unchanged.
    let mut commit = store.begin().unwrap();
    let back = commit.add_not_modified(&bodiless(4_000, 304)).unwrap();
    commit.finish().unwrap();
    assert_eq!(
        (back.outcome, back.reappeared),
        (Outcome::NotModified, true)
    );
    assert_eq!(back.revision, first.revision);
    let second = add(&store, &fetch("example.org/a", &document(2), 5_000, "A"));
    assert!(!second.reappeared);

    let events = store.events(&key).unwrap();
    let kinds: Vec<_> = events.iter().map(|(_, event)| event.kind).collect();
    assert_eq!(kinds, [EventKind::Gone, EventKind::Reappeared]);
    assert_eq!(events[0].0, gone);
    assert_eq!(events[0].1.latest, first.revision);
    assert_eq!(store.event(&gone).unwrap(), events[0].1);
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
    assert!(findings(&store, true).is_empty());
}

fn a_bodiless_fetch_of_an_unknown_article_is_refused(backend: &Backend) {
    let store = backend.store();
    let key = ArticleKey::new("example.org/none").unwrap();
    let mut commit = store.begin().unwrap();
    let err = commit
        .add_gone(&BodilessFetch {
            article: key,
            fetched_at: Millis::from_millis(0),
            http: Default::default(),
        })
        .unwrap_err();
    assert!(err.to_string().contains("example.org/none"), "{err}");
    commit.finish().unwrap();
    assert_eq!(store.counters().unwrap().events, 0);
}

fn article_pages_resume_after_a_key(backend: &Backend) {
    let store = backend.store();
    for name in ["a", "b", "b2", "c"] {
        add(
            &store,
            &fetch(&format!("example.org/{name}"), &document(1), 0, "T"),
        );
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

fn revision_ids_are_found_by_prefix(backend: &Backend) {
    let store = backend.store();
    let body = document(1);
    let added = add(&store, &fetch("example.org/a", &body, 0, "A"));
    let record = store.revision(&added.revision).unwrap();
    assert_eq!(record.blob, Digest::of(&body));
    let hex = added.revision.to_string();
    let hex = hex.trim_start_matches(newsarc_model::DIGEST_LABEL);
    assert_eq!(
        store.revisions_with_prefix(&hex[..8]).unwrap(),
        [added.revision]
    );
}

fn later_revisions_are_stored_as_deltas_and_read_back_exactly(backend: &Backend) {
    let store = backend.store();
    let documents: Vec<Vec<u8>> = (0..u32::from(MAX_DELTA_DEPTH) + 5).map(document).collect();
    add(&store, &fetch("example.org/long", &documents[0], 0, "L"));
    let after_first = store.pack_bytes().unwrap();
    for (i, body) in documents.iter().enumerate().skip(1) {
        add(&store, &fetch("example.org/long", body, i as i64, "L"));
    }
    let per_later = (store.pack_bytes().unwrap() - after_first) / (documents.len() as u64 - 1);
    assert!(
        per_later * 5 < documents[1].len() as u64,
        "a later revision costs {per_later} bytes of a {}-byte document",
        documents[1].len()
    );
    for body in &documents {
        assert_eq!(&store.blob(&Digest::of(body)).unwrap(), body);
    }
    assert!(findings(&store, true).is_empty());
}

fn flip_flopping_content_makes_revisions_but_stores_the_blob_once(backend: &Backend) {
    let store = backend.store();
    let (one, two) = (document(1), document(2));
    for (i, body) in [&one, &two, &one].into_iter().enumerate() {
        let added = add(&store, &fetch("example.org/f", body, i as i64, "F"));
        assert_ne!(added.outcome, Outcome::Unchanged);
    }
    let counters = store.counters().unwrap();
    assert_eq!(counters.revisions, 3);
    assert_eq!(counters.raw_bytes, (one.len() + two.len()) as u64);
}

fn an_outlets_first_revisions_in_one_commit_read_back(backend: &Backend) {
    let store = backend.store();
    let bodies: Vec<Vec<u8>> = (0..40u32)
        .map(|i| {
            let mut body = document(i);
            body.extend(format!("<footer>outlet footer {}</footer>", i * 7).into_bytes());
            body
        })
        .collect();
    let mut commit = store.begin().unwrap();
    for (i, body) in bodies.iter().enumerate() {
        commit
            .add_fetch(&fetch(&format!("example.org/n{i}"), body, i as i64, "N"))
            .unwrap();
    }
    commit.finish().unwrap();
    for body in &bodies {
        assert_eq!(&store.blob(&Digest::of(body)).unwrap(), body);
    }
    assert!(findings(&store, true).is_empty());
}

crate::on_every_backend!(
    revisions_observations_and_articles_are_recorded,
    a_commit_sees_its_own_writes_and_others_see_them_when_finished,
    article_pages_resume_after_a_key,
    gone_and_reappeared_events_join_the_history_and_the_log,
    a_bodiless_fetch_of_an_unknown_article_is_refused,
    revision_ids_are_found_by_prefix,
    later_revisions_are_stored_as_deltas_and_read_back_exactly,
    flip_flopping_content_makes_revisions_but_stores_the_blob_once,
    an_outlets_first_revisions_in_one_commit_read_back,
);

#[test]
fn everything_survives_reopening_and_a_lost_index_is_rebuilt_from_the_packs() {
    let backend = Backend::disk();
    let Backend::Disk(dir) = &backend else {
        unreachable!()
    };
    let (first, timeline) = {
        let store = backend.store();
        let first = add(&store, &fetch("example.org/a", &document(1), 0, "A"));
        add(&store, &fetch("example.org/a", &document(2), 1, "A"));
        add(&store, &fetch("example.org/a", &document(2), 2, "A"));
        let key = ArticleKey::new("example.org/a").unwrap();
        (first, store.timeline(&key).unwrap())
    };
    let store = backend.store();
    assert_eq!(store.revision(&first.revision).unwrap().seq, 1);
    assert!(findings(&store, true).is_empty());
    drop(store);

    std::fs::remove_dir_all(dir.path().join("store/index")).unwrap();
    let store = backend.store();
    let key = ArticleKey::new("example.org/a").unwrap();
    assert_eq!(store.timeline(&key).unwrap(), timeline);
    assert_eq!(store.counters().unwrap().observations, 1);
    assert!(findings(&store, true).is_empty());
}

#[test]
fn a_directory_that_is_not_a_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let Err(err) = Store::open(dir.path(), &StoreConfig::default()) else {
        panic!("a foreign directory must not open as a store");
    };
    assert!(matches!(err, StoreError::NotAStore { .. }), "{err}");
}

#[test]
fn a_read_only_open_creates_nothing_and_refuses_writes() {
    let dir = tempfile::tempdir().unwrap();
    let read_only = StoreConfig {
        read_only: true,
        ..StoreConfig::default()
    };
    let Err(err) = Store::open(&dir.path().join("none"), &read_only) else {
        panic!("no store to open");
    };
    assert!(matches!(err, StoreError::NoStore { .. }), "{err}");
    assert!(!dir.path().join("none").exists());

    let path = dir.path().join("store");
    add(
        &Store::open(&path, &StoreConfig::default()).unwrap(),
        &fetch("example.org/a", &document(1), 0, "A"),
    );
    let store = Store::open(&path, &read_only).unwrap();
    assert!(store.is_read_only());
    assert!(matches!(store.begin(), Err(StoreError::ReadOnly { .. })));
    assert_eq!(store.counters().unwrap().revisions, 1);
}

#[test]
fn a_store_held_by_another_handle_is_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let _held = Store::open(dir.path(), &StoreConfig::default()).unwrap();
    let Err(err) = Store::open(dir.path(), &StoreConfig::default()) else {
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

#[test]
fn a_newer_store_format_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    drop(Store::open(dir.path(), &StoreConfig::default()).unwrap());
    // The header is a BLAKE3 of the record, then the record: write one
    // claiming format 99 with a matching checksum.
    let info = newsarc_model::record::StoreInfo {
        format: 99,
        created_at: Millis::from_millis(0),
        indexes: 1,
    };
    let record = newsarc_model::codec::encode(&info).unwrap();
    let bytes = [Digest::of(&record).as_bytes().as_slice(), &record].concat();
    std::fs::write(dir.path().join("newsarc-store"), bytes).unwrap();
    let Err(err) = Store::open(dir.path(), &StoreConfig::default()) else {
        panic!("a store of format 99 must not open");
    };
    assert!(
        matches!(err, StoreError::UnsupportedFormat { found: 99, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("format 99"), "{err}");
}

/// A store with revisions, an observation, a gone event, URL states and a
/// failed attempt.
fn exported_store(dir: &std::path::Path) -> Vec<u8> {
    let store = Store::open(dir, &StoreConfig::default()).unwrap();
    for (version, time) in [(1, 1_000), (1, 2_000), (2, 3_000)] {
        add(
            &store,
            &fetch("example.org/a", &document(version), time, "A"),
        );
    }
    add(&store, &fetch("example.org/b", &document(9), 4_000, "B"));
    let mut commit = store.begin().unwrap();
    commit
        .add_gone(&BodilessFetch {
            article: ArticleKey::new("example.org/b").unwrap(),
            fetched_at: Millis::from_millis(5_000),
            http: Default::default(),
        })
        .unwrap();
    commit
        .put_url_state(&newsarc_model::record::UrlRecord::new(
            "https://example.org/a",
            None,
            Millis::from_millis(6_000),
        ))
        .unwrap();
    commit
        .add_failed_attempt(&newsarc_model::record::AttemptRecord {
            url: "https://example.org/c".into(),
            at: Millis::from_millis(7_000),
            status: Some(503),
            error: "unavailable".into(),
        })
        .unwrap();
    commit.finish().unwrap();
    let mut file = Vec::new();
    let moved = store.export(&mut file, &mut |_| {}).unwrap();
    assert_eq!(moved.bytes, file.len() as u64);
    assert_eq!((moved.records, moved.documents), (7, 3));
    file
}

/// What a store holds, read through its public face.
fn contents(store: &Store) -> String {
    let mut out = format!("{:?}\n", store.counters().unwrap());
    for article in store.articles() {
        let article = article.unwrap();
        out += &format!("{article:?}\n{:?}\n", store.timeline(&article.key).unwrap());
        out += &format!("{:?}\n", store.observations(&article.key).unwrap());
        out += &format!("{:?}\n", store.events(&article.key).unwrap());
    }
    for state in store.url_states() {
        out += &format!("{:?}\n", state.unwrap());
    }
    out += &format!(
        "{:?}\n",
        store.failed_attempts("https://example.org/c").unwrap()
    );
    out += &format!("{:?}\n", store.log_from(1, 100).unwrap());
    out
}

#[test]
fn an_export_imports_into_the_same_records_and_a_clean_store() {
    let dir = tempfile::tempdir().unwrap();
    let file = exported_store(&dir.path().join("from"));
    let target = dir.path().join("to");
    let moved = Store::import(&target, &mut file.as_slice(), &mut |_| {}).unwrap();
    assert_eq!(moved.records, 7);
    let from = Store::open(&dir.path().join("from"), &StoreConfig::default()).unwrap();
    let to = Store::open(&target, &StoreConfig::default()).unwrap();
    assert_eq!(contents(&from), contents(&to));
    assert!(findings(&to, true).is_empty());
    assert!(!dir.path().join("to.importing").exists());
}

#[test]
fn a_damaged_or_truncated_export_names_the_record_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = exported_store(&dir.path().join("from"));
    let target = dir.path().join("to");

    // A flipped byte in the last entry (just before the trailer).
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
