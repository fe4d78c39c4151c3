//! A store of format 1, made by newsarc before store format 2
//! (`tests/fixtures/format1/make.sh` says how and with which commit):
//! refused by every command with the command that upgrades it, upgraded
//! beside itself, and read back exactly as the old binary read it — its
//! revisions, observation, gone event, URL states and failed attempt. Its
//! export file imports into format 2 the same way.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::{newsarc, repo, stderr, stdout};

const BRIDGE: &str = "example.org/news/2026/02/10/river-bridge-reopens";
const LIBRARY: &str = "news.example.com/zh/city/library-renovation-1001.html";

fn fixtures() -> PathBuf {
    repo().join("tests/fixtures/format1")
}

/// The fixture store, unpacked into a fresh directory.
fn format1_store() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(fixtures().join("store-format1.tar.gz"))
        .arg("-C")
        .arg(dir.path())
        .status()
        .expect("tar runs");
    assert!(status.success());
    let store = dir.path().join("store");
    (dir, store)
}

fn ferry_url() -> String {
    std::fs::read_to_string(fixtures().join("ferry-url"))
        .unwrap()
        .trim()
        .to_owned()
}

fn expected(name: &str) -> Value {
    serde_json::from_slice(&std::fs::read(fixtures().join(name)).unwrap()).unwrap()
}

fn json(store: &Path, args: &[&str]) -> Value {
    let output = newsarc(store, args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{args:?}: {}",
        stderr(&output)
    );
    serde_json::from_str(&stdout(&output)).unwrap()
}

/// Everything the old binary said about the store, said again by this one.
fn reads_as_the_old_binary_did(store: &Path) {
    let mut stats = json(store, &["stats", "--json"]);
    let mut old = expected("expected-stats.json");
    stats.as_object_mut().unwrap().remove("stored_bytes");
    old.as_object_mut().unwrap().remove("stored_bytes");
    assert_eq!(stats, old);
    assert_eq!(stats["observations"], 1);
    assert_eq!(stats["events"], 1);
    assert_eq!(stats["failed_attempts"], 1);
    let ferry = ferry_url();
    for (article, file) in [
        (BRIDGE, "expected-log-bridge.json"),
        (LIBRARY, "expected-log-library.json"),
        (ferry.as_str(), "expected-log-ferry.json"),
    ] {
        assert_eq!(
            json(store, &["log", "--json", article]),
            expected(file),
            "{article}"
        );
    }
    let verify = newsarc(store, &["verify", "--deep"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
    let archive = newsarc::Archive::open(
        store,
        &newsarc::StoreConfig {
            read_only: true,
            ..newsarc::StoreConfig::default()
        },
    )
    .unwrap();
    let down = ferry.replace("/ferry", "/down");
    assert_eq!(archive.store().failed_attempts(&down).unwrap().len(), 1);
    let state = archive
        .store()
        .url_state(&ferry)
        .unwrap()
        .expect("the URL's state");
    assert!(state.gone && state.article.is_some(), "{state:?}");
}

#[test]
fn a_format_1_store_is_refused_by_every_command_naming_upgrade() {
    let (_dir, store) = format1_store();
    let files = || -> Vec<(PathBuf, Vec<u8>)> {
        let mut files: Vec<_> = std::fs::read_dir(&store)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .map(|path| {
                let bytes = std::fs::read(&path).unwrap_or_default();
                (path, bytes)
            })
            .collect();
        files.sort();
        files
    };
    let before = files();
    let export = store.with_file_name("out.export");
    let examples = crate::examples();
    for args in [
        vec!["log", BRIDGE],
        vec!["verify"],
        vec!["stats"],
        vec!["repair"],
        vec!["export", export.to_str().unwrap()],
        vec!["ingest", examples.to_str().unwrap()],
    ] {
        let output = newsarc(&store, &args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let message = stderr(&output);
        assert!(
            message.contains("has format 1")
                && message.contains(&format!("newsarc --store {} upgrade", store.display())),
            "{args:?}: {message}"
        );
    }
    assert!(before == files(), "a refused command changed the store");
}

#[test]
fn upgrade_builds_format_2_beside_it_keeps_the_old_one_and_reads_the_same() {
    let (_dir, store) = format1_store();
    let upgrade = newsarc(&store, &["upgrade", "--json"]);
    assert_eq!(upgrade.status.code(), Some(0), "{}", stderr(&upgrade));
    let report: Value = serde_json::from_str(&stdout(&upgrade)).unwrap();
    let kept = store.with_file_name("store.format1");
    assert_eq!(report["kept_at"], kept.display().to_string());
    assert!(kept.join("db").is_file() && kept.join("conf").is_file());
    assert!(!store.with_file_name("store.upgrading").exists());
    // 7 revisions, 1 observation, 1 event, 2 URL states, 1 attempt.
    assert_eq!(
        (report["records"].as_u64(), report["documents"].as_u64()),
        (Some(12), Some(7))
    );
    reads_as_the_old_binary_did(&store);

    let again = newsarc(&store, &["upgrade"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("nothing to upgrade"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn a_format_1_export_imports_into_format_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("format1.export");
    let gunzip = std::process::Command::new("gzip")
        .arg("-dc")
        .arg(fixtures().join("export-format1.gz"))
        .output()
        .expect("gzip runs");
    assert!(gunzip.status.success());
    std::fs::write(&file, gunzip.stdout).unwrap();
    let store = dir.path().join("store");
    let import = newsarc(&store, &["import", file.to_str().unwrap()]);
    assert_eq!(import.status.code(), Some(0), "{}", stderr(&import));
    reads_as_the_old_binary_did(&store);
}
