use newsarc::Archive;
use serde_json::Value;

use crate::{example_archive, examples, ingest, parse_fixture};

#[test]
fn a_directory_is_ingested_recursively_with_a_summary() {
    let archive = Archive::in_memory().unwrap();
    let out = ingest(&archive, vec![examples()], "2026-03-01T00:00:00Z", false);
    assert_eq!(
        out,
        "6 files: 2 new articles, 4 new revisions, 0 unchanged, 0 failed\n"
    );
}

#[test]
fn json_lines_give_one_object_per_file() {
    let archive = Archive::in_memory().unwrap();
    let out = ingest(&archive, vec![examples()], "2026-03-01T00:00:00Z", true);
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6);
    let outcomes: Vec<&str> = lines
        .iter()
        .map(|l| l["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        [
            "new_article",
            "new_revision",
            "new_revision",
            "new_article",
            "new_revision",
            "new_revision"
        ]
    );
    for line in &lines {
        assert!(line["path"].as_str().unwrap().ends_with(".md"));
        assert!(line["revision"].as_str().unwrap().starts_with("blake3:"));
        assert!(line["error"].is_null());
    }
    assert_eq!(
        lines[0]["article"],
        "news.example.com/zh/city/library-renovation-1001.html"
    );
}

#[test]
fn the_same_bytes_again_are_observations_not_revisions() {
    let archive = example_archive();
    let latest = vec![
        examples().join("library-renovation/03.md"),
        examples().join("river-bridge/03.md"),
    ];
    let out = ingest(&archive, latest, "2026-03-09T00:00:00Z", false);
    assert_eq!(
        out,
        "2 files: 0 new articles, 0 new revisions, 2 unchanged, 0 failed\n"
    );
    let stats = archive.stats().unwrap();
    assert_eq!((stats.revisions, stats.observations), (6, 2));
}

#[test]
fn bytes_that_differ_from_the_latest_revision_are_a_new_revision_even_if_seen_before() {
    let archive = example_archive();
    let before = archive.stats().unwrap();
    let out = ingest(
        &archive,
        vec![examples().join("river-bridge/01.md")],
        "2026-03-09T00:00:00Z",
        false,
    );
    assert_eq!(
        out,
        "1 files: 0 new articles, 1 new revisions, 0 unchanged, 0 failed\n"
    );
    let after = archive.stats().unwrap();
    assert_eq!(after.revisions, before.revisions + 1);
    assert_eq!(after.raw_bytes, before.raw_bytes, "the blob is stored once");
}

#[test]
fn bad_files_are_reported_by_name_stored_nowhere_and_the_batch_goes_on() {
    let archive = example_archive();
    let before = archive.stats().unwrap();
    let bad = [
        "bad/binary.md",
        "bad/broken-yaml.md",
        "bad/no-url.md",
        "bad/empty-body.md",
        "bad/bad-url.md",
        "bad/unterminated-front-matter.md",
    ];
    let mut paths: Vec<_> = bad.iter().map(|name| parse_fixture(name)).collect();
    paths.push(parse_fixture("good/english.md"));
    paths.push(parse_fixture("bad/no-such-file.md"));
    let out = ingest(&archive, paths, "2026-03-09T00:00:00Z", true);
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 8);
    for line in lines.iter().filter(|l| l["outcome"] == "error") {
        assert!(line["article"].is_null() && line["revision"].is_null());
        assert!(!line["error"].as_str().unwrap().is_empty());
    }
    assert_eq!(lines.iter().filter(|l| l["outcome"] == "error").count(), 7);
    assert_eq!(lines[6]["outcome"], "new_article");
    assert!(lines[0]["error"].as_str().unwrap().contains("line 3"));
    assert!(lines[7]["error"].as_str().unwrap().contains("no such file"));

    let after = archive.stats().unwrap();
    assert_eq!(
        after.revisions,
        before.revisions + 1,
        "only the good file is stored"
    );
    assert_eq!(
        after.raw_bytes,
        before.raw_bytes
            + std::fs::metadata(parse_fixture("good/english.md"))
                .unwrap()
                .len()
    );
}

#[test]
fn human_output_names_each_failed_file() {
    let archive = Archive::in_memory().unwrap();
    let out = ingest(
        &archive,
        vec![parse_fixture("bad/no-url.md")],
        "2026-03-09T00:00:00Z",
        false,
    );
    assert!(out.starts_with("error: "), "{out}");
    assert!(out.contains("no-url.md: no article URL"), "{out}");
    assert!(out.ends_with("1 files: 0 new articles, 0 new revisions, 0 unchanged, 1 failed\n"));
}

#[test]
fn user_rules_file_comes_before_the_built_in_rules() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nname = 'news-example'\nhosts = ['news.example.com']\npath = '-(\\d+)\\.html$'\nkey = 'news.example.com/$1'\n",
    )
    .unwrap();
    let mut archive = Archive::in_memory().unwrap();
    archive.add_rules_file(&rules).unwrap();
    let out = ingest(
        &archive,
        vec![examples().join("library-renovation")],
        "2026-03-01T00:00:00Z",
        true,
    );
    assert!(
        out.contains("\"article\":\"news.example.com/1001\""),
        "{out}"
    );
    let err = Archive::in_memory()
        .unwrap()
        .add_rules_file(&dir.path().join("missing.toml"))
        .unwrap_err();
    assert!(err.to_string().contains("missing.toml"));
}
