//! End-to-end tests: the real `newsarc` binary, run as a user runs it, on
//! the example articles the project ships.

// A test that meets an unexpected value should stop right there.
#![allow(clippy::unwrap_used)]

mod corpus;
mod damage;
mod encodings;
mod fetch;
mod fidelity;
#[path = "../support/fingerprint.rs"]
mod fingerprint;
mod jobs;
mod serve;
#[path = "../support/server.rs"]
mod server;
#[path = "../support/site.rs"]
mod site;
#[path = "../support/cli.rs"]
mod support_cli;
#[path = "../support/corpus.rs"]
mod support_corpus;
mod upgrade;

use std::path::PathBuf;

use std::process::Output;
use support_cli::newsarc;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn examples() -> PathBuf {
    repo().join("examples/articles")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A store holding the example articles, each revision a day apart.
fn example_store() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (day, name) in ["01.md", "02.md", "03.md"].iter().enumerate() {
        let time = format!("2026-03-0{}T12:00:00Z", day + 1);
        let library = examples().join("library-renovation").join(name);
        let bridge = examples().join("river-bridge").join(name);
        let output = newsarc(
            dir.path(),
            &[
                "ingest",
                "--fetched-at",
                &time,
                library.to_str().unwrap(),
                bridge.to_str().unwrap(),
            ],
        );
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    }
    dir
}
