use std::process::Command;

use serde_json::Value;

use crate::{example_store, examples, newsarc, repo, stderr, stdout};

const BRIDGE: &str = "https://example.org/news/2026/02/10/river-bridge-reopens";
const LIBRARY: &str = "news.example.com/zh/city/library-renovation-1001.html";

#[test]
fn ingest_prints_a_summary_and_json_lines() {
    let store = tempfile::tempdir().unwrap();
    let output = newsarc(store.path(), &["ingest", examples().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "6 files: 2 new articles, 4 new revisions, 0 unchanged, 0 failed\n"
    );

    let again = newsarc(
        store.path(),
        &[
            "ingest",
            "--json",
            examples().join("river-bridge/03.md").to_str().unwrap(),
        ],
    );
    assert_eq!(again.status.code(), Some(0));
    let line: Value = serde_json::from_str(stdout(&again).trim()).unwrap();
    // The same file at the same time (its modification time) is already
    // there; seen again later, it is an observation.
    assert_eq!(line["outcome"], "already_archived");
    let later = newsarc(
        store.path(),
        &[
            "ingest",
            "--json",
            "--fetched-at",
            &newsarc_model::Millis::now().to_string(),
            examples().join("river-bridge/03.md").to_str().unwrap(),
        ],
    );
    let line: Value = serde_json::from_str(stdout(&later).trim()).unwrap();
    assert_eq!(line["outcome"], "unchanged");
    assert_eq!(
        line["article"],
        "example.org/news/2026/02/10/river-bridge-reopens"
    );
}

#[test]
fn ingest_exits_1_when_a_file_fails_and_keeps_the_others() {
    let store = tempfile::tempdir().unwrap();
    let bad = repo().join("crates/parse/tests/fixtures/bad/no-url.md");
    let good = examples().join("river-bridge/01.md");
    let output = newsarc(
        store.path(),
        &[
            "ingest",
            "--json",
            bad.to_str().unwrap(),
            good.to_str().unwrap(),
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let lines: Vec<Value> = stdout(&output)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["outcome"], "error");
    assert!(lines[0]["path"].as_str().unwrap().ends_with("no-url.md"));
    assert_eq!(lines[1]["outcome"], "new_article");
}

#[test]
fn log_shows_the_history_as_a_table_and_as_json() {
    let store = example_store();
    let table = newsarc(store.path(), &["log", BRIDGE]);
    assert_eq!(table.status.code(), Some(0), "{}", stderr(&table));
    let text = stdout(&table);
    assert!(text.contains("3 revisions"), "{text}");
    assert!(text.contains("2026-03-02T12:00:00.000Z"), "{text}");
    assert!(text.contains("whitespace"), "{text}");

    let json = newsarc(store.path(), &["log", "--json", LIBRARY]);
    let entries: Vec<Value> = serde_json::from_str(&stdout(&json)).unwrap();
    let changes: Vec<&str> = entries
        .iter()
        .map(|e| e["change"].as_str().unwrap())
        .collect();
    assert_eq!(changes, ["new", "body", "metadata"]);
}

#[test]
fn show_gives_raw_bytes_text_and_json() {
    let store = example_store();
    let raw = newsarc(store.path(), &["show", "--raw", &format!("{LIBRARY}@2")]);
    assert_eq!(raw.status.code(), Some(0), "{}", stderr(&raw));
    assert_eq!(
        raw.stdout,
        std::fs::read(examples().join("library-renovation/02.md")).unwrap()
    );

    let json = newsarc(
        store.path(),
        &["show", "--json", &format!("{BRIDGE}@latest")],
    );
    let record: Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(record["seq"], 3);
    let id = record["id"].as_str().unwrap();

    let prefix = &id["blake3:".len().."blake3:".len() + 10];
    let text = newsarc(store.path(), &["show", "--text", prefix]);
    assert_eq!(text.status.code(), Some(0), "{}", stderr(&text));
    assert_eq!(
        newsarc_model::Digest::of(&text.stdout).to_string(),
        record["text_digest"].as_str().unwrap()
    );

    let summary = newsarc(
        store.path(),
        &["show", &format!("{BRIDGE}@2026-03-01T23:00:00Z")],
    );
    let summary = stdout(&summary);
    assert!(
        summary.contains("article     example.org/news/2026/02/10/river-bridge-reopens @1"),
        "{summary}"
    );
}

#[test]
fn show_of_an_unknown_revision_exits_2_and_says_why() {
    let store = example_store();
    let output = newsarc(store.path(), &["show", "deadbeefdeadbeef"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("no revision 'deadbeefdeadbeef'"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn articles_and_stats_as_json() {
    let store = example_store();
    let articles: Vec<Value> =
        serde_json::from_str(&stdout(&newsarc(store.path(), &["articles", "--json"]))).unwrap();
    assert_eq!(articles.len(), 2);
    assert_eq!(articles[1]["key"], LIBRARY);
    assert_eq!(articles[1]["revisions"], 3);
    let recent = newsarc(
        store.path(),
        &["articles", "--json", "--since", "2026-03-03T00:00:00Z"],
    );
    assert_eq!(
        serde_json::from_str::<Vec<Value>>(&stdout(&recent))
            .unwrap()
            .len(),
        2
    );

    let stats: Value =
        serde_json::from_str(&stdout(&newsarc(store.path(), &["stats", "--json"]))).unwrap();
    assert_eq!(stats["articles"], 2);
    assert_eq!(stats["revisions"], 6);
    let on_disk: u64 = walk_size(store.path());
    assert_eq!(stats["stored_bytes"].as_u64().unwrap(), on_disk);
}

fn walk_size(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                walk_size(&entry.path())
            } else {
                entry.metadata().unwrap().len()
            }
        })
        .sum()
}

#[test]
fn verify_a_clean_store_exits_0() {
    let store = example_store();
    let output = newsarc(store.path(), &["verify", "--json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["ok"], true);
    assert!(report["objects"].as_u64().unwrap() > 0);
}

#[test]
fn read_jobs_on_a_missing_store_exit_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing-here");
    for job in [
        &["log", BRIDGE][..],
        &["stats"],
        &["verify"],
        &["articles"],
        &["show", "x@1"],
    ] {
        let output = newsarc(&missing, job);
        assert_eq!(output.status.code(), Some(2), "{job:?}");
        assert!(
            stderr(&output).contains("nothing-here"),
            "{}",
            stderr(&output)
        );
        assert!(!missing.exists(), "a read job must not create a store");
    }
}

#[test]
fn the_store_can_come_from_newsarc_store() {
    let store = example_store();
    let output = Command::new(env!("CARGO_BIN_EXE_newsarc"))
        .args(["stats", "--json"])
        .env("NEWSARC_STORE", store.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("\"revisions\": 6"));
}

#[test]
fn a_directory_that_is_not_a_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    let output = newsarc(dir.path(), &["verify"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("is not a newsarc store"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn diff_writes_every_format_and_to_a_file() {
    let store = example_store();
    let (a, b) = (format!("{LIBRARY}@1"), format!("{LIBRARY}@2"));
    let term = newsarc(store.path(), &["diff", &a, &b]);
    assert_eq!(term.status.code(), Some(0), "{}", stderr(&term));
    let text = stdout(&term);
    assert!(
        !text.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
    assert!(
        text.contains("{+市图书馆馆长表示，翻新后的图书馆将增设自助借还书机。+}"),
        "{text}"
    );

    let json = newsarc(store.path(), &["diff", "--format", "json", &a, &b]);
    let diff: Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(diff["stats"]["sentences_added"], 1);
    assert_eq!(diff["change"], "body");

    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("diff.html");
    let html = newsarc(
        store.path(),
        &[
            "diff",
            "--format",
            "html",
            "--output",
            page.to_str().unwrap(),
            LIBRARY,
        ],
    );
    assert_eq!(html.status.code(), Some(0), "{}", stderr(&html));
    assert!(html.stdout.is_empty());
    let written = std::fs::read_to_string(&page).unwrap();
    assert!(written.starts_with("<!DOCTYPE html>") && written.contains("published"));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "no temporary file is left"
    );

    let unified = newsarc(
        store.path(),
        &["diff", "--format", "unified", "--raw", &a, &b],
    );
    assert!(
        stdout(&unified).starts_with("--- blake3:"),
        "{}",
        stdout(&unified)
    );
}

#[test]
fn a_failed_diff_leaves_no_output_file() {
    let store = example_store();
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("diff.html");
    let output = newsarc(
        store.path(),
        &[
            "diff",
            "--output",
            page.to_str().unwrap(),
            "deadbeefdeadbeef",
            "cafebabecafebabe",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn log_stat_adds_edit_statistics() {
    let store = example_store();
    let output = newsarc(store.path(), &["log", "--stat", "--json", BRIDGE]);
    let entries: Vec<Value> = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(entries[1]["stats"]["sentences_edited"], 2);
}

#[test]
fn the_cache_size_is_an_option_and_zero_is_refused() {
    let store = crate::example_store();
    let output = crate::newsarc(store.path(), &["--cache-mib", "8", "verify"]);
    assert_eq!(output.status.code(), Some(0), "{}", crate::stderr(&output));
    let output = crate::newsarc(store.path(), &["--cache-mib", "0", "verify"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        crate::stderr(&output).contains("--cache-mib"),
        "{}",
        crate::stderr(&output)
    );
}

#[test]
fn export_then_import_gives_the_same_archive() {
    let store = crate::example_store();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backup.newsarc");
    let output = crate::newsarc(store.path(), &["export", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", crate::stderr(&output));
    assert!(crate::stdout(&output).starts_with("exported "));

    let restored = dir.path().join("restored");
    let output = crate::newsarc(&restored, &["import", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", crate::stderr(&output));
    let bridge = "https://example.org/news/2026/02/10/river-bridge-reopens";
    for args in [vec!["log", "--json", bridge], vec!["articles"]] {
        assert_eq!(
            crate::newsarc(store.path(), &args).stdout,
            crate::newsarc(&restored, &args).stdout,
            "{args:?}"
        );
    }
    assert_eq!(
        crate::newsarc(&restored, &["verify"]).status.code(),
        Some(0)
    );

    // Importing again over a store is refused, and the store is untouched.
    let output = crate::newsarc(&restored, &["import", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(crate::stderr(&output).contains("not an empty directory"));
    assert_eq!(
        crate::newsarc(&restored, &["verify"]).status.code(),
        Some(0)
    );
}
