//! verify through the binary on stores damaged through the storage seam:
//! exit 1 and the right finding kinds.

use std::path::Path;

use newsarc_model::codec;
use newsarc_model::record::{BlobRecord, RevisionRecord};
use newsarc_model::{ArticleKey, RevisionId};
use newsarc_store::engine::WriteBatch;
use newsarc_store::{Store, keys};
use serde_json::Value;

use crate::{example_store, newsarc, stderr, stdout};

const BRIDGE_KEY: &str = "example.org/news/2026/02/10/river-bridge-reopens";

/// Damages the store with `damage`, then runs `verify --json`.
fn verify_after(
    damage: impl FnOnce(&Store, &[(RevisionId, RevisionRecord)]) -> WriteBatch,
) -> (Option<i32>, Vec<String>) {
    let dir = example_store();
    damage_store(dir.path(), damage);
    let output = newsarc(dir.path(), &["verify", "--json"]);
    let report: Value =
        serde_json::from_str(&stdout(&output)).unwrap_or_else(|_| panic!("{}", stderr(&output)));
    let kinds = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap().to_owned())
        .collect();
    (output.status.code(), kinds)
}

fn damage_store(
    dir: &Path,
    damage: impl FnOnce(&Store, &[(RevisionId, RevisionRecord)]) -> WriteBatch,
) {
    let store = Store::open(dir).unwrap();
    let history = store
        .history(&ArticleKey::new(BRIDGE_KEY).unwrap())
        .unwrap();
    let batch = damage(&store, &history);
    store.engine().apply(batch).unwrap();
    store.flush().unwrap();
}

#[test]
fn a_flipped_byte_inside_a_blob() {
    let (code, kinds) = verify_after(|store, history| {
        let digest = history[1].1.blob;
        let mut record: BlobRecord =
            codec::decode(&store.engine().get(&keys::blob(&digest)).unwrap().unwrap()).unwrap();
        record.data[10] ^= 0x08;
        let mut batch = WriteBatch::default();
        batch.put(keys::blob(&digest), codec::encode(&record).unwrap());
        batch
    });
    assert_eq!(code, Some(1));
    assert!(kinds.contains(&"corrupt_blob".to_owned()), "{kinds:?}");
}

#[test]
fn a_removed_blob() {
    let (code, kinds) = verify_after(|_, history| {
        let mut batch = WriteBatch::default();
        batch.remove(keys::blob(&history[0].1.blob));
        batch
    });
    assert_eq!(code, Some(1));
    assert!(kinds.contains(&"missing_blob".to_owned()), "{kinds:?}");
}

#[test]
fn a_tampered_revision_record() {
    let (code, kinds) = verify_after(|_, history| {
        let (id, record) = &history[0];
        let mut forged = record.clone();
        forged.fetched_at = newsarc_model::Millis::from_millis(0);
        let mut batch = WriteBatch::default();
        batch.put(keys::revision(id), codec::encode(&forged).unwrap());
        batch
    });
    assert_eq!(code, Some(1));
    assert_eq!(kinds, ["corrupt_record"]);
}

#[test]
fn a_broken_parent_link() {
    let (code, kinds) = verify_after(|_, history| {
        let mut forged = history[2].1.clone();
        forged.parent = None;
        let bytes = codec::encode(&forged).unwrap();
        let id = RevisionId::of_record(&bytes);
        let mut batch = WriteBatch::default();
        batch.put(keys::revision(&id), bytes);
        batch.put(
            keys::history(&ArticleKey::new(BRIDGE_KEY).unwrap(), 3),
            id.0.as_bytes().to_vec(),
        );
        batch
    });
    assert_eq!(code, Some(1));
    assert!(kinds.contains(&"broken_chain".to_owned()), "{kinds:?}");
}

#[test]
fn a_missing_index_entry() {
    let (code, kinds) = verify_after(|_, history| {
        let (id, record) = &history[1];
        let mut batch = WriteBatch::default();
        batch.remove(keys::digest(&record.blob, id));
        batch
    });
    assert_eq!(code, Some(1));
    assert_eq!(kinds, ["missing_index"]);
}

#[test]
fn show_never_serves_a_damaged_blob() {
    let dir = example_store();
    damage_store(dir.path(), |store, history| {
        let digest = history[0].1.blob;
        let mut record: BlobRecord =
            codec::decode(&store.engine().get(&keys::blob(&digest)).unwrap().unwrap()).unwrap();
        let last = record.data.len() - 2;
        record.data[last] ^= 0x01;
        let mut batch = WriteBatch::default();
        batch.put(keys::blob(&digest), codec::encode(&record).unwrap());
        batch
    });
    let output = newsarc(dir.path(), &["show", "--raw", &format!("{BRIDGE_KEY}@1")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        output.stdout.is_empty(),
        "no byte of a damaged blob is written"
    );
    assert!(
        stderr(&output).contains("corrupt blob blake3:"),
        "{}",
        stderr(&output)
    );
}
