//! The archive's jobs as library calls: options in, text or JSON out, no
//! process spawned. Runs on the example articles the project ships.

// A test that meets an unexpected value should stop right there.
#![allow(clippy::unwrap_used)]

mod concurrency;
mod fetch;
mod ingest;
mod read;
#[path = "../../../../tests/support/site.rs"]
mod site;
#[path = "../../../../benches/synth.rs"]
mod synth;
mod synthetic;
mod watch;

use std::path::PathBuf;

use newsarc::ingest::IngestOptions;
use newsarc::{Archive, NoProgress};
use newsarc_model::Millis;

fn examples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/articles")
}

fn parse_fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../parse/tests/fixtures")
        .join(name)
}

/// Ingests `paths` at `fetched_at` and returns the output.
fn ingest(archive: &Archive, paths: Vec<PathBuf>, fetched_at: &str, json: bool) -> String {
    let mut out = Vec::new();
    archive
        .ingest(
            &IngestOptions {
                paths,
                fetched_at: Some(fetched_at.parse::<Millis>().unwrap()),
                json,
                ..IngestOptions::default()
            },
            &mut out,
            &mut NoProgress,
        )
        .unwrap();
    String::from_utf8(out).unwrap()
}

/// The example articles, each revision ingested a day after the previous
/// one (01.md on day 1, 02.md on day 2, …).
fn example_archive() -> Archive {
    let archive = Archive::in_memory().unwrap();
    for (day, name) in ["01.md", "02.md", "03.md"].iter().enumerate() {
        let paths = ["library-renovation", "river-bridge"]
            .iter()
            .map(|article| examples().join(article).join(name))
            .collect();
        ingest(
            &archive,
            paths,
            &format!("2026-03-0{}T12:00:00Z", day + 1),
            false,
        );
    }
    archive
}

fn run(job: impl FnOnce(&mut Vec<u8>) -> Result<(), newsarc::ArchiveError>) -> String {
    let mut out = Vec::new();
    job(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}
