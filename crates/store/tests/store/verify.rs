//! verify on deliberately damaged stores: each kind of damage, made through
//! the storage seam, is found and named.

use std::collections::BTreeSet;

use newsarc_model::codec;
use newsarc_model::record::{BlobRecord, RevisionRecord};
use newsarc_model::{ArticleKey, Digest, RevisionId};
use newsarc_store::engine::WriteBatch;
use newsarc_store::{Added, FindingKind, Store, StoreError, keys};

use crate::backend::{Backend, document, fetch};

/// Two articles of three revisions each.
pub(crate) fn populated(backend: &Backend) -> (Store, Vec<Added>) {
    let store = backend.store();
    let mut added = Vec::new();
    for article in ["example.org/a", "example.org/b"] {
        for version in 0..3 {
            let body = [article.as_bytes(), &document(version)].concat();
            added.push(
                store
                    .add_fetch(&fetch(article, &body, i64::from(version), "T"))
                    .unwrap(),
            );
        }
    }
    store.flush().unwrap();
    (store, added)
}

fn kinds(store: &Store) -> BTreeSet<&'static str> {
    let report = store.verify(&mut |_| {}).unwrap();
    assert!(report.objects > 0 && report.bytes > 0);
    report.findings.iter().map(|f| f.kind.as_str()).collect()
}

pub(crate) fn put(store: &Store, key: Vec<u8>, value: Vec<u8>) {
    let mut batch = WriteBatch::default();
    batch.put(key, value);
    store.engine().apply(batch).unwrap();
}

pub(crate) fn remove(store: &Store, key: Vec<u8>) {
    let mut batch = WriteBatch::default();
    batch.remove(key);
    store.engine().apply(batch).unwrap();
}

fn a_clean_store_has_no_findings(backend: &Backend) {
    let (store, _) = populated(backend);
    let report = store.verify(&mut |_| {}).unwrap();
    assert!(report.ok(), "{:?}", report.findings);
    assert!(report.objects >= 6 * 5);
}

fn a_flipped_byte_inside_a_blob_is_corrupt_blob(backend: &Backend) {
    let (store, added) = populated(backend);
    let digest = added[0].blob;
    let mut record: BlobRecord =
        codec::decode(&store.engine().get(&keys::blob(&digest)).unwrap().unwrap()).unwrap();
    let middle = record.data.len() / 2;
    record.data[middle] ^= 0x01;
    put(&store, keys::blob(&digest), codec::encode(&record).unwrap());

    let report = store.verify(&mut |_| {}).unwrap();
    let finding = report
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::CorruptBlob && f.id == digest.to_string())
        .expect("the damaged blob is named");
    assert_eq!(
        finding.expected.as_deref(),
        Some(digest.to_string().as_str())
    );
    match store.blob(&digest) {
        Err(StoreError::CorruptBlob { digest: named, .. }) => assert_eq!(named, digest),
        other => panic!("a damaged blob must not be served: {other:?}"),
    }
}

fn a_flipped_byte_in_a_stored_value_is_never_served(backend: &Backend) {
    let (store, added) = populated(backend);
    let digest = added[4].blob;
    let mut raw = store.engine().get(&keys::blob(&digest)).unwrap().unwrap();
    let last = raw.len() - 1;
    raw[last] ^= 0x40;
    put(&store, keys::blob(&digest), raw);
    assert!(kinds(&store).contains("corrupt_blob"));
    assert!(store.blob(&digest).is_err());
}

fn a_removed_blob_is_missing_blob(backend: &Backend) {
    let (store, added) = populated(backend);
    remove(&store, keys::blob(&added[2].blob));
    assert!(kinds(&store).contains("missing_blob"));
}

fn a_tampered_revision_record_is_corrupt_record(backend: &Backend) {
    let (store, added) = populated(backend);
    let id = added[1].revision;
    let mut record: RevisionRecord =
        codec::decode(&store.engine().get(&keys::revision(&id)).unwrap().unwrap()).unwrap();
    record.meta.title = Some("Rewritten history".into());
    put(&store, keys::revision(&id), codec::encode(&record).unwrap());
    assert_eq!(kinds(&store), BTreeSet::from(["corrupt_record"]));
    assert!(matches!(
        store.revision(&id),
        Err(StoreError::CorruptRecord { .. })
    ));
}

fn a_parent_link_to_the_wrong_revision_is_broken_chain(backend: &Backend) {
    let (store, added) = populated(backend);
    let key = ArticleKey::new("example.org/a").unwrap();
    let third = added[2].revision;
    let mut record: RevisionRecord = codec::decode(
        &store
            .engine()
            .get(&keys::revision(&third))
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    record.parent = Some(added[0].revision);
    let bytes = codec::encode(&record).unwrap();
    let forged = RevisionId::of_record(&bytes);
    put(&store, keys::revision(&forged), bytes);
    put(&store, keys::history(&key, 3), forged.0.as_bytes().to_vec());
    assert!(kinds(&store).contains("broken_chain"));
}

fn a_missing_index_entry_is_missing_index(backend: &Backend) {
    let (store, added) = populated(backend);
    let id = added[3].revision;
    let record = store.revision(&id).unwrap();
    remove(&store, keys::time(record.fetched_at, &id));
    assert_eq!(kinds(&store), BTreeSet::from(["missing_index"]));
}

fn an_index_entry_to_nothing_is_dangling_index(backend: &Backend) {
    let (store, added) = populated(backend);
    let nowhere = RevisionId(Digest::of(b"no such revision"));
    put(&store, keys::digest(&added[0].blob, &nowhere), Vec::new());
    assert_eq!(kinds(&store), BTreeSet::from(["dangling_index"]));
}

/// A store whose article `example.org/a` went gone at t=10.
pub(crate) fn with_gone_event(backend: &Backend) -> (Store, Digest) {
    let (store, _) = populated(backend);
    let event = store
        .add_gone(&newsarc_store::BodilessFetch {
            article: ArticleKey::new("example.org/a").unwrap(),
            fetched_at: newsarc_model::Millis::from_millis(10),
            http: newsarc_model::record::HttpFacts {
                status: 404,
                ..Default::default()
            },
        })
        .unwrap()
        .unwrap();
    assert!(store.verify(&mut |_| {}).unwrap().ok());
    (store, event)
}

fn a_tampered_event_is_corrupt_and_never_served(backend: &Backend) {
    let (store, event) = with_gone_event(backend);
    let mut bytes = store.engine().get(&keys::event(&event)).unwrap().unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    put(&store, keys::event(&event), bytes);
    assert!(kinds(&store).contains("corrupt_record"));
    let key = ArticleKey::new("example.org/a").unwrap();
    assert!(store.events(&key).unwrap_err().is_corruption());
}

fn a_removed_event_is_found_from_its_index_and_the_log(backend: &Backend) {
    let (store, event) = with_gone_event(backend);
    remove(&store, keys::event(&event));
    let found = kinds(&store);
    assert!(found.contains("dangling_index"), "{found:?}");
}

fn an_article_that_forgot_it_is_gone_is_stale(backend: &Backend) {
    use newsarc_model::record::ArticleRecord;
    let (store, _) = with_gone_event(backend);
    let key = ArticleKey::new("example.org/a").unwrap();
    let article = ArticleRecord {
        gone_since: None,
        ..store.article(&key).unwrap().unwrap()
    };
    put(
        &store,
        keys::article(&key),
        codec::encode(&article).unwrap(),
    );
    assert_eq!(kinds(&store), BTreeSet::from(["stale_article"]));
}

crate::on_every_backend!(
    a_tampered_event_is_corrupt_and_never_served,
    a_removed_event_is_found_from_its_index_and_the_log,
    an_article_that_forgot_it_is_gone_is_stale,
    a_clean_store_has_no_findings,
    a_flipped_byte_inside_a_blob_is_corrupt_blob,
    a_flipped_byte_in_a_stored_value_is_never_served,
    a_removed_blob_is_missing_blob,
    a_tampered_revision_record_is_corrupt_record,
    a_parent_link_to_the_wrong_revision_is_broken_chain,
    a_missing_index_entry_is_missing_index,
    an_index_entry_to_nothing_is_dangling_index,
);
