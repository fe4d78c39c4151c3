//! verify and repair through the binary on stores damaged from outside, as
//! disks and crashes damage them: bytes flipped in the packs, a pack cut
//! short, sled's files damaged or deleted.

use std::path::{Path, PathBuf};

use newsarc_model::{ArticleKey, Digest};
use newsarc_store::{Store, StoreConfig};
use serde_json::Value;

use crate::{example_store, newsarc, stderr, stdout};

const BRIDGE_KEY: &str = "example.org/news/2026/02/10/river-bridge-reopens";

fn pack(dir: &Path) -> PathBuf {
    dir.join("packs/00000001.pack")
}

/// The documents of the bridge article, oldest first.
fn bridge_documents(dir: &Path) -> Vec<Digest> {
    let store = Store::open(dir, &StoreConfig::default()).unwrap();
    store
        .timeline(&ArticleKey::new(BRIDGE_KEY).unwrap())
        .unwrap()
        .into_iter()
        .map(|entry| entry.blob)
        .collect()
}

/// Flips a byte of the payload of the frame holding `digest` (its header
/// carries the digest 14 bytes in; the payload starts at most 98 in).
fn flip_document(dir: &Path, digest: &Digest) {
    let mut bytes = std::fs::read(pack(dir)).unwrap();
    let at = bytes
        .windows(32)
        .position(|window| window == digest.as_bytes())
        .unwrap();
    bytes[at - 14 + 100] ^= 0x08;
    std::fs::write(pack(dir), bytes).unwrap();
}

fn verify_json(dir: &Path, extra: &[&str]) -> (Option<i32>, Vec<String>) {
    let output = newsarc(dir, &[&["verify", "--json"], extra].concat());
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

#[test]
fn a_flipped_byte_in_a_document_is_found_fast_and_deep() {
    let dir = example_store();
    let documents = bridge_documents(dir.path());
    flip_document(dir.path(), &documents[0]);
    let (code, kinds) = verify_json(dir.path(), &[]);
    assert_eq!(code, Some(1));
    assert!(kinds.contains(&"corrupt_frame".to_owned()), "{kinds:?}");
    let (code, kinds) = verify_json(dir.path(), &["--deep"]);
    assert_eq!(code, Some(1));
    assert!(kinds.contains(&"corrupt_blob".to_owned()), "{kinds:?}");
}

#[test]
fn show_never_serves_a_damaged_document() {
    let dir = example_store();
    let documents = bridge_documents(dir.path());
    flip_document(dir.path(), &documents[0]);
    let output = newsarc(dir.path(), &["show", "--raw", &format!("{BRIDGE_KEY}@1")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        output.stdout.is_empty(),
        "no byte of a damaged document is written"
    );
    assert!(
        stderr(&output).contains("corrupt blob blake3:"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn repair_lists_a_damaged_document_exits_1_and_keeps_the_rest() {
    let dir = example_store();
    let documents = bridge_documents(dir.path());
    flip_document(dir.path(), &documents[2]);
    let repair = newsarc(dir.path(), &["repair"]);
    assert_eq!(repair.status.code(), Some(1), "{}", stderr(&repair));
    let text = stdout(&repair);
    assert!(text.contains("unrecoverable   corrupt_frame"), "{text}");
    assert!(text.contains("PARTLY REPAIRED"), "{text}");
    let show = newsarc(dir.path(), &["show", "--raw", &format!("{BRIDGE_KEY}@2")]);
    assert_eq!(show.status.code(), Some(0), "{}", stderr(&show));
}

#[test]
fn a_deleted_sled_log_is_named_missing_and_left_alone_until_repair() {
    let dir = example_store();
    let db = dir.path().join("index/live/db");
    std::fs::remove_file(&db).unwrap();
    // A reader of a compacted store reads the sorted run and opens no sled.
    let verify = newsarc(dir.path(), &["verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
    let writer = newsarc(dir.path(), &["unwatch", "https://example.org/none"]);
    assert_eq!(writer.status.code(), Some(2), "{}", stderr(&writer));
    assert!(
        stderr(&writer).contains("is missing"),
        "{}",
        stderr(&writer)
    );
    assert!(stderr(&writer).contains("repair --rebuild-index"));
    assert!(
        !db.exists(),
        "a writer must not start an empty log in a damaged store"
    );
    let repair = newsarc(dir.path(), &["repair", "--rebuild-index"]);
    assert_eq!(repair.status.code(), Some(0), "{}", stderr(&repair));
    let verify = newsarc(dir.path(), &["verify", "--deep"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
}

#[test]
fn a_damaged_index_is_rebuilt_from_the_packs_and_verify_is_clean() {
    let dir = example_store();
    let log_before = stdout(&newsarc(dir.path(), &["log", "--json", BRIDGE_KEY]));
    let run = dir.path().join("index/sorted.run");
    let mut bytes = std::fs::read(&run).unwrap();
    for at in (0..bytes.len().min(60_000)).step_by(509) {
        bytes[at] ^= 0x5a;
    }
    std::fs::write(&run, bytes).unwrap();
    let verify = newsarc(dir.path(), &["verify"]);
    if verify.status.code() == Some(2) {
        assert!(
            stderr(&verify).contains("repair --rebuild-index"),
            "{}",
            stderr(&verify)
        );
    }
    let repair = newsarc(dir.path(), &["repair", "--rebuild-index", "--json"]);
    assert_eq!(repair.status.code(), Some(0), "{}", stderr(&repair));
    let report: Value = serde_json::from_str(&stdout(&repair)).unwrap();
    assert_eq!(report["old_index"], "not_read");
    assert_eq!(report["unrecoverable"].as_array().unwrap().len(), 0);
    let backup = PathBuf::from(report["backup"].as_str().unwrap());
    assert!(backup.join("index/sorted.run").is_file());
    let verify = newsarc(dir.path(), &["verify", "--deep"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
    assert_eq!(
        stdout(&newsarc(dir.path(), &["log", "--json", BRIDGE_KEY])),
        log_before
    );
}

#[test]
fn a_deleted_index_is_made_anew_and_a_dry_run_writes_nothing() {
    let dir = example_store();
    let log_before = stdout(&newsarc(dir.path(), &["log", BRIDGE_KEY]));
    std::fs::remove_dir_all(dir.path().join("index")).unwrap();
    let dry = newsarc(dir.path(), &["repair", "--dry-run"]);
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    assert!(
        stdout(&dry).contains("would be changed  history"),
        "{}",
        stdout(&dry)
    );
    assert!(!dir.path().join("index.rebuilding").exists());
    // Any command finds the index gone and builds it from the packs.
    assert_eq!(
        stdout(&newsarc(dir.path(), &["log", BRIDGE_KEY])),
        log_before
    );
    assert_eq!(newsarc(dir.path(), &["verify"]).status.code(), Some(0));
}

#[test]
fn a_pack_cut_short_is_caught_by_the_head_witness() {
    let dir = example_store();
    let length = std::fs::metadata(pack(dir.path())).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(pack(dir.path()))
        .unwrap()
        .set_len(length - 40)
        .unwrap();
    let (code, kinds) = verify_json(dir.path(), &[]);
    assert_eq!(code, Some(1));
    assert!(kinds.contains(&"lost_entries".to_owned()), "{kinds:?}");
    let repair = newsarc(dir.path(), &["repair", "--json"]);
    assert_eq!(repair.status.code(), Some(1), "{}", stderr(&repair));
    let report: Value = serde_json::from_str(&stdout(&repair)).unwrap();
    assert!(
        report["unrecoverable"]
            .as_array()
            .unwrap()
            .iter()
            .any(|finding| finding["kind"] == "lost_entries"),
        "{report}"
    );
}
