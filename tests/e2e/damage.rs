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

/// A batch that flips one bit inside the compressed bytes of a blob.
fn flip_blob_byte(store: &Store, digest: &newsarc_model::Digest) -> WriteBatch {
    let mut record: BlobRecord =
        codec::decode(&store.engine().get(&keys::blob(digest)).unwrap().unwrap()).unwrap();
    record.data[10] ^= 0x08;
    let mut batch = WriteBatch::default();
    batch.put(keys::blob(digest), codec::encode(&record).unwrap());
    batch
}

#[test]
fn a_flipped_byte_inside_a_blob() {
    let (code, kinds) = verify_after(|store, history| flip_blob_byte(store, &history[1].1.blob));
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

#[test]
fn repair_rebuilds_lost_indexes_then_verify_is_clean() {
    let dir = example_store();
    damage_store(dir.path(), |store, history| {
        let mut batch = WriteBatch::default();
        batch.remove(keys::history(
            &ArticleKey::new(BRIDGE_KEY).unwrap(),
            history[1].1.seq,
        ));
        for entry in store.engine().scan_prefix(&[keys::TIME]) {
            batch.remove(entry.unwrap().0);
        }
        batch
    });
    assert_eq!(newsarc(dir.path(), &["verify"]).status.code(), Some(1));

    let dry = newsarc(dir.path(), &["repair", "--dry-run"]);
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    assert!(stdout(&dry).contains(&format!("would be added    history  {BRIDGE_KEY}@2")));
    assert_eq!(newsarc(dir.path(), &["verify"]).status.code(), Some(1));

    let repair = newsarc(dir.path(), &["repair", "--json"]);
    assert_eq!(repair.status.code(), Some(0), "{}", stderr(&repair));
    let report: Value = serde_json::from_str(&stdout(&repair)).unwrap();
    assert_eq!(report["applied"], true);
    assert_eq!(report["unrecoverable"].as_array().unwrap().len(), 0);
    // One history entry and the six time index entries.
    assert_eq!(report["changes"].as_array().unwrap().len(), 7);
    assert!(
        report["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|change| change["action"] == "added")
    );
    let verify = newsarc(dir.path(), &["verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
}

#[test]
fn repair_lists_a_damaged_blob_exits_1_and_keeps_it() {
    let dir = example_store();
    let mut damaged = None;
    damage_store(dir.path(), |store, history| {
        damaged = Some(history[2].1.blob);
        flip_blob_byte(store, &history[2].1.blob)
    });
    let digest = damaged.unwrap();
    let repair = newsarc(dir.path(), &["repair"]);
    assert_eq!(repair.status.code(), Some(1), "{}", stderr(&repair));
    let text = stdout(&repair);
    assert!(
        text.contains(&format!("unrecoverable   corrupt_blob    {digest}")),
        "{text}"
    );
    assert!(text.contains("PARTLY REPAIRED"), "{text}");
    let store = Store::open(dir.path()).unwrap();
    assert!(store.engine().get(&keys::blob(&digest)).unwrap().is_some());
}

#[test]
fn repair_sets_a_damaged_sled_config_aside() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let ingest = newsarc(&store, &["ingest", crate::examples().to_str().unwrap()]);
    assert_eq!(ingest.status.code(), Some(0), "{}", stderr(&ingest));
    std::fs::OpenOptions::new()
        .write(true)
        .open(store.join("conf"))
        .unwrap()
        .set_len(10)
        .unwrap();
    let verify = newsarc(&store, &["verify"]);
    assert_eq!(verify.status.code(), Some(2));
    assert!(stderr(&verify).contains(&store.display().to_string()));

    let repair = newsarc(&store, &["repair", "--json"]);
    assert_eq!(repair.status.code(), Some(0), "{}", stderr(&repair));
    let report: Value = serde_json::from_str(&stdout(&repair)).unwrap();
    let aside = std::path::PathBuf::from(report["set_aside"].as_str().unwrap());
    assert_eq!(std::fs::read(&aside).unwrap().len(), 10);
    assert!(aside.starts_with(dir.path()) && !aside.starts_with(&store));
    assert_eq!(newsarc(&store, &["verify"]).status.code(), Some(0));
}

#[test]
fn a_log_that_lost_its_tail_is_caught_by_the_head_witness() {
    // With no snapshot yet (one ingest, never reopened), sled takes a
    // truncated log for a torn write and opens the older store: only the
    // head witness tells.
    let dir = tempfile::tempdir().unwrap();
    let ingest = newsarc(dir.path(), &["ingest", crate::examples().to_str().unwrap()]);
    assert_eq!(ingest.status.code(), Some(0), "{}", stderr(&ingest));
    let log = dir.path().join("db");
    let length = std::fs::metadata(&log).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(length / 2)
        .unwrap();
    let verify = newsarc(dir.path(), &["verify", "--json"]);
    assert_eq!(verify.status.code(), Some(1), "{}", stderr(&verify));
    let report: Value = serde_json::from_str(&stdout(&verify)).unwrap();
    assert_eq!(report["findings"][0]["kind"], "lost_entries");
    let repair = newsarc(dir.path(), &["repair", "--json"]);
    assert_eq!(repair.status.code(), Some(1), "{}", stderr(&repair));
    let report: Value = serde_json::from_str(&stdout(&repair)).unwrap();
    assert_eq!(report["unrecoverable"][0]["kind"], "lost_entries");
}

#[test]
fn repair_of_a_store_sled_cannot_read_exits_2_and_changes_nothing() {
    let dir = example_store();
    // Opening it again makes sled write its snapshot.
    assert_eq!(newsarc(dir.path(), &["verify"]).status.code(), Some(0));
    let snapshot = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| {
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("snap.")
        })
        .expect("sled wrote a snapshot");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&snapshot)
        .unwrap()
        .set_len(100)
        .unwrap();
    let files = || -> Vec<_> {
        let mut files: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.is_file())
            .map(|path| (path.clone(), std::fs::read(path).unwrap()))
            .collect();
        files.sort();
        files
    };
    let before = files();
    let repair = newsarc(dir.path(), &["repair"]);
    assert_eq!(repair.status.code(), Some(2));
    assert!(
        stderr(&repair).contains("cannot open the store"),
        "{}",
        stderr(&repair)
    );
    assert!(
        before == files(),
        "a failed repair changed the store's files"
    );
}
