//! `newsarc serve` as a process: it says where it listens, serves, and on
//! SIGTERM drains, flushes and exits 0.

use std::process::Command;

use crate::server::start_server;
use crate::{examples, newsarc, stderr};

#[test]
fn serve_ingests_over_grpc_and_stops_cleanly_on_sigterm() {
    let store = tempfile::tempdir().unwrap();
    let (mut server, url) = start_server(store.path());
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let response = runtime.block_on(async {
        let mut client = newsarc_server::pb::archive_client::ArchiveClient::connect(url)
            .await
            .unwrap();
        client
            .ingest(newsarc_server::pb::IngestRequest {
                document: std::fs::read(examples().join("river-bridge/01.md")).unwrap(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
    });
    assert_eq!(response.seq, 1);

    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = server.wait().unwrap();
    assert_eq!(status.code(), Some(0));

    // The acknowledged revision is in the store, which verifies clean.
    let verify = newsarc(store.path(), &["verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stderr(&verify));
    let log = newsarc(
        store.path(),
        &[
            "log",
            "--json",
            "example.org/news/2026/02/10/river-bridge-reopens",
        ],
    );
    assert!(String::from_utf8_lossy(&log.stdout).contains(&response.revision_id.unwrap().text));
}

#[test]
fn serve_refuses_an_open_address_without_a_token_or_read_only() {
    let store = tempfile::tempdir().unwrap();
    let output = newsarc(store.path(), &["serve", "--addr", "0.0.0.0:0"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--token-file"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn remote_read_jobs_print_what_local_ones_print() {
    let store = crate::example_store();
    let library = "news.example.com/zh/city/library-renovation-1001.html";
    let bridge = "https://example.org/news/2026/02/10/river-bridge-reopens";
    let jobs: Vec<Vec<String>> = [
        vec!["log", bridge],
        vec!["log", "--json", "--stat", library],
        vec!["log", "--stat", library],
        vec!["show", &format!("{library}@2")],
        vec!["show", "--json", &format!("{bridge}@latest")],
        vec!["show", "--text", &format!("{bridge}@2026-03-02T13:00:00Z")],
        vec!["show", "--raw", &format!("{library}@1")],
        vec!["diff", library],
        vec![
            "diff",
            "--format",
            "json",
            &format!("{library}@1"),
            &format!("{library}@2"),
        ],
        vec![
            "diff",
            "--format",
            "unified",
            "--raw",
            &format!("{bridge}@2"),
            &format!("{bridge}@3"),
        ],
        vec![
            "diff",
            "--format",
            "html",
            &format!("{bridge}@1"),
            &format!("{bridge}@2"),
        ],
        vec!["articles"],
        vec!["articles", "--json", "--since", "2026-03-02T00:00:00Z"],
    ]
    .iter()
    .map(|job| job.iter().map(|arg| arg.to_string()).collect())
    .collect();
    let local: Vec<Vec<u8>> = jobs
        .iter()
        .map(|job| {
            let args: Vec<&str> = job.iter().map(String::as_str).collect();
            let output = newsarc(store.path(), &args);
            assert_eq!(
                output.status.code(),
                Some(0),
                "{job:?}: {}",
                stderr(&output)
            );
            output.stdout
        })
        .collect();
    let local_stats: serde_json::Value =
        serde_json::from_slice(&newsarc(store.path(), &["stats", "--json"]).stdout).unwrap();

    let (mut server, url) = start_server(store.path());
    for (job, expected) in jobs.iter().zip(&local) {
        let output = Command::new(env!("CARGO_BIN_EXE_newsarc"))
            .args(["--remote", &url])
            .args(job)
            .env_remove("NEWSARC_STORE")
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{job:?}: {}",
            stderr(&output)
        );
        assert!(
            &output.stdout == expected,
            "{job:?} differs:\n--- local\n{}\n--- remote\n{}",
            String::from_utf8_lossy(expected),
            String::from_utf8_lossy(&output.stdout)
        );
    }
    let remote_stats = Command::new(env!("CARGO_BIN_EXE_newsarc"))
        .args(["--remote", &url, "stats", "--json"])
        .output()
        .unwrap();
    let mut remote_stats: serde_json::Value = serde_json::from_slice(&remote_stats.stdout).unwrap();
    // The bytes on disk are a live figure: the serving process holds the
    // store open. Everything else must match.
    remote_stats["stored_bytes"] = local_stats["stored_bytes"].clone();
    assert_eq!(remote_stats, local_stats);

    let refused = Command::new(env!("CARGO_BIN_EXE_newsarc"))
        .args(["--remote", &url, "verify"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let missing = Command::new(env!("CARGO_BIN_EXE_newsarc"))
        .args(["--remote", &url, "show", "deadbeefdeadbeef"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("not found") || stderr(&missing).contains("NotFound"),
        "{}",
        stderr(&missing)
    );

    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(server.wait().unwrap().code(), Some(0));
}
