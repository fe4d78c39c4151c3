//! `newsarc fetch` and `newsarc watch` as a user runs them, against a site
//! on 127.0.0.1 that the test starts (it stops with the test's runtime).

use std::process::Command;

use crate::site::{Route, Site};
use crate::{newsarc, stderr, stdout};

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn fetch_records_revisions_and_a_gone_page_that_log_shows_locally_and_remotely() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let site = runtime.block_on(Site::start());
    let store = tempfile::tempdir().unwrap();
    let url = site.url("/news/1");

    site.article("/news/1", "Flood", "The river rose.", Some("\"a\""));
    let output = newsarc(store.path(), &["fetch", "--json", &url]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let first = &json_lines(&stdout(&output))[0];
    assert_eq!(first["outcome"], "new_article");
    assert_eq!(first["status"], 200);

    // Unchanged: the ETag makes it a 304.
    let output = newsarc(store.path(), &["fetch", "--json", &url]);
    assert_eq!(json_lines(&stdout(&output))[0]["outcome"], "not_modified");

    site.article(
        "/news/1",
        "Flood",
        "The river rose by two metres.",
        Some("\"b\""),
    );
    let output = newsarc(store.path(), &["fetch", &url]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let human = stdout(&output);
    assert!(human.starts_with("new_revision"), "{human}");
    assert!(human.contains("1 new revisions"), "{human}");

    site.route("/news/1", Route::Status(404, None));
    let output = newsarc(store.path(), &["fetch", "--json", &url]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(json_lines(&stdout(&output))[0]["outcome"], "gone");

    let log = stdout(&newsarc(store.path(), &["log", &url]));
    assert!(log.contains("gone since"), "{log}");
    assert!(log.lines().last().unwrap().contains("HTTP 404"), "{log}");
    let log_json: serde_json::Value =
        serde_json::from_slice(&newsarc(store.path(), &["log", "--json", &url]).stdout).unwrap();
    let kinds: Vec<&str> = log_json
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["revision", "revision", "gone"]);
    let stats: serde_json::Value =
        serde_json::from_slice(&newsarc(store.path(), &["stats", "--json"]).stdout).unwrap();
    assert_eq!(
        (stats["revisions"].as_u64(), stats["events"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(newsarc(store.path(), &["verify"]).status.code(), Some(0));

    // The same history over gRPC, byte for byte.
    let jobs = [
        vec!["log", url.as_str()],
        vec!["log", "--json", url.as_str()],
    ];
    let local: Vec<Vec<u8>> = jobs
        .iter()
        .map(|args| newsarc(store.path(), args).stdout)
        .collect();
    let (mut server, remote) = crate::server::start_server(store.path());
    for (args, local) in jobs.iter().zip(local) {
        let far = Command::new(env!("CARGO_BIN_EXE_newsarc"))
            .args(["--remote", &remote])
            .args(args)
            .env_remove("NEWSARC_STORE")
            .output()
            .unwrap();
        assert_eq!(far.status.code(), Some(0), "{}", stderr(&far));
        assert!(
            far.stdout == local,
            "{args:?}:\n{}\n---\n{}",
            String::from_utf8_lossy(&local),
            String::from_utf8_lossy(&far.stdout)
        );
    }
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn a_failed_fetch_exits_1_and_stores_no_revision() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let site = runtime.block_on(Site::start());
    let store = tempfile::tempdir().unwrap();
    site.route("/slow", Route::Hang);
    let config = store.path().join("watch.toml");
    std::fs::write(&config, "[fetch]\ntimeout = \"300ms\"\n").unwrap();
    let output = newsarc(
        store.path().join("s").as_path(),
        &[
            "fetch",
            "--json",
            "--config",
            config.to_str().unwrap(),
            &site.url("/slow"),
        ],
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let line = &json_lines(&stdout(&output))[0];
    assert_eq!(line["outcome"], "failed");
    assert!(
        line["error"].as_str().unwrap().contains("timed out"),
        "{line}"
    );
    let stats: serde_json::Value = serde_json::from_slice(
        &newsarc(store.path().join("s").as_path(), &["stats", "--json"]).stdout,
    )
    .unwrap();
    assert_eq!(
        (
            stats["revisions"].as_u64(),
            stats["failed_attempts"].as_u64()
        ),
        (Some(0), Some(1))
    );

    let fresh = store.path().join("never-created");
    let output = newsarc(&fresh, &["fetch", "not-a-url"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("not-a-url is not an http or https URL"),
        "{}",
        stderr(&output)
    );
    assert!(!fresh.exists(), "a refused URL must not create a store");
}

#[test]
fn watch_once_polls_the_feed_and_fetches_its_articles() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let site = runtime.block_on(Site::start());
    let dir = tempfile::tempdir().unwrap();
    let urls: Vec<String> = ["/x", "/y"].iter().map(|p| site.url(p)).collect();
    site.article("/x", "X", "Story x.", None);
    site.article("/y", "Y", "Story y.", None);
    site.feed("/rss", &urls);
    let feeds = dir.path().join("feeds.txt");
    std::fs::write(&feeds, format!("{}\n", site.url("/rss"))).unwrap();
    let config = dir.path().join("watch.toml");
    std::fs::write(&config, "min_host_delay = \"10ms\"\n").unwrap();
    let store = dir.path().join("store");
    let args = [
        "watch",
        "--once",
        "--json",
        "--max-concurrency",
        "2",
        "--feeds",
        feeds.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ];
    let output = newsarc(&store, &args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let lines = json_lines(&stdout(&output));
    assert_eq!(lines[0]["discovered"], 2);
    assert_eq!(lines[1]["outcome"], "new_article");
    assert_eq!(lines[2]["outcome"], "new_article");
    assert_eq!(lines[3]["fetches"]["new_articles"], 2);
    // Not a terminal: structured logs on stderr, one JSON object a line.
    let logs = stderr(&output);
    assert!(
        logs.lines()
            .any(|line| line.contains("\"message\":\"fetched\"")),
        "{logs}"
    );

    // A second run at once finds nothing due.
    let output = newsarc(&store, &args);
    let lines = json_lines(&stdout(&output));
    assert_eq!(lines.last().unwrap()["fetches"]["urls"], 0, "{lines:?}");
}
