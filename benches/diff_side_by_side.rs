//! The diff side by side, in one run, on every consecutive revision pair of
//! the public corpus:
//!
//! 1. the structured diff in process (`newsarc_diff::diff_articles` on parsed
//!    articles): median and p99 per pair, against wikidiff2's published
//!    0.15 ms per Chinese revision pair;
//! 2. `newsarc diff A B` as a whole process against
//!    `git diff --no-index --word-diff A B` as a whole process, alternating
//!    which goes first, medians of several rounds.
//!
//! Run: `cargo bench -p newsarc-cli --bench diff_side_by_side`
//! (`NEWSARC_BENCH_ROUNDS`, default 3). Prints a markdown report.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use newsarc::Archive;
use newsarc_model::Millis;
use newsarc_parse::DocumentHint;

#[path = "corpus_pairs.rs"]
mod corpus_pairs;

#[path = "measure.rs"]
mod measure;

use measure::{machine, median, percentile};

fn run_quietly(command: &mut Command) {
    let status = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("start process");
    // git diff exits 1 when the files differ; anything else is a failure.
    assert!(
        status.code().is_some_and(|code| code <= 1),
        "{command:?} failed"
    );
}

fn main() {
    let Some(dir) = corpus_pairs::corpus_dir() else {
        return;
    };
    let rounds: usize = std::env::var("NEWSARC_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let files = corpus_pairs::pair_files(&dir);
    let pairs = corpus_pairs::parsed_pairs(&dir);

    // 1. In process: per pair, the median of `rounds` timings.
    let mut per_pair: Vec<f64> = pairs
        .iter()
        .map(|(old, new)| {
            let mut times: Vec<f64> = (0..rounds.max(5))
                .map(|_| {
                    let start = Instant::now();
                    std::hint::black_box(newsarc_diff::diff_articles(old, new));
                    start.elapsed().as_secs_f64() * 1e3
                })
                .collect();
            median(&mut times)
        })
        .collect();
    let (in_median, in_p99) = (median(&mut per_pair), percentile(&mut per_pair, 0.99));

    // 2. Whole processes. Each file is ingested once, so both tools diff the
    // same bytes.
    let store = tempfile::tempdir().expect("temp dir");
    let revision_of = {
        let archive =
            Archive::open(store.path(), &newsarc::StoreConfig::default()).expect("open store");
        let mut ids = std::collections::HashMap::new();
        for (index, path) in files.iter().flat_map(|(a, b)| [a, b]).enumerate() {
            if ids.contains_key(path) {
                continue;
            }
            let bytes = std::fs::read(path).expect("read corpus file");
            let stored = archive
                .ingest_document(
                    &bytes,
                    &path.display().to_string(),
                    Millis::from_millis(index as i64),
                    &DocumentHint::default(),
                    None,
                )
                .expect("store")
                .expect("corpus file parses");
            ids.insert(path.clone(), stored.added.revision.to_string());
        }
        archive.store().flush().expect("flush");
        ids
    };
    let newsarc = |old: &Path, new: &Path| {
        run_quietly(
            Command::new(env!("CARGO_BIN_EXE_newsarc"))
                .arg("--store")
                .arg(store.path())
                .args(["diff", "--format", "unified"])
                .arg(&revision_of[old])
                .arg(&revision_of[new]),
        )
    };
    let git = |old: &Path, new: &Path| {
        run_quietly(
            Command::new("git")
                .args(["diff", "--no-index", "--word-diff"])
                .arg(old)
                .arg(new),
        )
    };
    let time_all = |tool: &dyn Fn(&Path, &Path)| {
        let start = Instant::now();
        for (old, new) in &files {
            tool(old, new);
        }
        start.elapsed()
    };
    let (mut ours, mut theirs): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let (a, b): (Duration, Duration) = if round % 2 == 0 {
            let a = time_all(&newsarc);
            (a, time_all(&git))
        } else {
            let b = time_all(&git);
            (time_all(&newsarc), b)
        };
        ours.push(a.as_secs_f64());
        theirs.push(b.as_secs_f64());
    }
    let (ours, theirs) = (median(&mut ours), median(&mut theirs));
    let per = |total: f64| total * 1e3 / files.len() as f64;

    println!(
        "Diff side by side, {} consecutive pairs, {rounds} rounds",
        files.len()
    );
    println!("machine: {}; {}", machine(), chrono_free_date());
    println!();
    println!("| measure | figure |");
    println!("|---|---|");
    println!("| structured diff in process, median per pair | {in_median:.3} ms |");
    println!("| structured diff in process, p99 per pair | {in_p99:.3} ms |");
    println!("| wikidiff2 (published, C++) per Chinese pair | 0.15 ms |");
    println!();
    println!("| whole process, per pair (median of rounds) | ms | ratio |");
    println!("|---|---|---|");
    println!(
        "| `newsarc diff --format unified` | {:.2} | 1.00 |",
        per(ours)
    );
    println!(
        "| `git diff --no-index --word-diff` | {:.2} | {:.2} |",
        per(theirs),
        theirs / ours
    );
}

/// Today's date from the system (`date -u +%F`), without a date crate.
fn chrono_free_date() -> String {
    Command::new("date")
        .args(["-u", "+%F"])
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map_or_else(|| "date unknown".into(), |d| d.trim().to_owned())
}
