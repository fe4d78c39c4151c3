//! `newsarc serve` as a process: it says where it listens, serves, and on
//! SIGTERM drains, flushes and exits 0.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::{examples, newsarc, stderr};

#[test]
fn serve_ingests_over_grpc_and_stops_cleanly_on_sigterm() {
    let store = tempfile::tempdir().unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_newsarc"))
        .arg("--store")
        .arg(store.path())
        .args(["serve", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(addr.starts_with("127.0.0.1:"), "{line}");

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let response = runtime.block_on(async {
        let mut client =
            newsarc_server::pb::archive_client::ArchiveClient::connect(format!("http://{addr}"))
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
