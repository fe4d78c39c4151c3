//! The scale run: ingest synthetic news revisions (`benches/synth.rs`) into
//! a sled store up to NewsEdits scale, and report the ingest rate per chunk,
//! history latency as the store grows, store size, peak RSS, and verify
//! throughput at the end. Prints markdown, a row per chunk as it goes.
//!
//! Run: `cargo bench -p newsarc --bench scale -- [--quick] [--revisions N]
//! [--chunk N] [--cache-mib N] [--seed N] [--dir DIR]`, or
//! `-- --verify-only --dir DIR [--verify-rounds N]` on a kept store
//! (default 1,000,000 revisions in chunks of 100,000; `--quick` is 100,000
//! in chunks of 10,000; the index's cache defaults to 256 MiB).

#[path = "measure.rs"]
mod measure;
#[path = "synth.rs"]
mod synth;

use std::io::Write;
use std::time::Instant;

use measure::{machine, percentile};
use newsarc::Archive;
use newsarc::{Outcome, StoreConfig};
use newsarc_model::Millis;
use newsarc_parse::DocumentHint;
use rand::{RngExt, SeedableRng};

/// The allocator the `newsarc` binary uses, so that RSS is what a user sees.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Revisions are committed in groups, as `newsarc ingest` does.
const COMMIT_EVERY: u64 = newsarc::ingest::FILES_PER_COMMIT as u64;
/// Articles kept to time histories of.
const SAMPLED_ARTICLES: usize = 50_000;
/// History lookups timed after each chunk.
const HISTORY_SAMPLES: usize = 200;

struct Options {
    revisions: u64,
    chunk: u64,
    cache_mib: u64,
    seed: u64,
    dir: Option<std::path::PathBuf>,
    /// Only verify the store at `dir` (fast, then deep), in a process of
    /// its own so that its peak RSS is verify's alone.
    verify_only: bool,
    /// How many times `--verify-only` runs each kind of verify.
    verify_rounds: u64,
}

fn options() -> Options {
    let mut options = Options {
        revisions: 1_000_000,
        chunk: 100_000,
        cache_mib: 256,
        seed: 1,
        dir: None,
        verify_only: false,
        verify_rounds: 3,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |name: &str| -> u64 {
            args.next()
                .and_then(|value| value.parse().ok())
                .unwrap_or_else(|| panic!("{name} takes a number"))
        };
        match arg.as_str() {
            "--quick" => {
                options.revisions = 100_000;
                options.chunk = 10_000;
            }
            "--verify-only" => options.verify_only = true,
            "--verify-rounds" => options.verify_rounds = number("--verify-rounds"),
            "--revisions" => options.revisions = number("--revisions"),
            "--chunk" => options.chunk = number("--chunk"),
            "--cache-mib" => options.cache_mib = number("--cache-mib"),
            "--seed" => options.seed = number("--seed"),
            "--dir" => options.dir = args.next().map(Into::into),
            // cargo bench passes --bench to every bench binary.
            "--bench" => {}
            other => panic!("unknown argument {other}"),
        }
    }
    options
}

/// (current, peak) resident set size in MiB, from /proc.
fn rss_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
            .map_or(f64::NAN, |kib| kib / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// p50 and p99 of `samples` history lookups of random stored articles.
fn history_latency(archive: &Archive, keys: &[String], samples: usize, seed: u64) -> (f64, f64) {
    let mut random = rand_pcg::Pcg64::seed_from_u64(seed);
    let mut millis: Vec<f64> = (0..samples)
        .map(|_| {
            let key = &keys[random.random_range(0..keys.len())];
            let started = Instant::now();
            let history = archive.history_of(key, false).expect("history");
            assert!(history.revisions().next().is_some());
            started.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    (percentile(&mut millis, 0.5), percentile(&mut millis, 0.99))
}

fn main() {
    let options = options();
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = options
        .dir
        .clone()
        .unwrap_or_else(|| temp.path().join("store"));
    let config = StoreConfig {
        cache_bytes: options.cache_mib * 1024 * 1024,
        read_only: options.verify_only,
        ..StoreConfig::default()
    };
    let archive = Archive::open(&dir, &config).expect("open the store");
    if options.verify_only {
        return verify_only(&archive, options.verify_rounds);
    }

    println!(
        "Scale run: {} synthetic revisions (seed {}), chunks of {}, index cache {} MiB; {}; {}",
        options.revisions,
        options.seed,
        options.chunk,
        options.cache_mib,
        machine(),
        Millis::now()
    );
    println!();
    println!(
        "| revisions | chunk rev/s | chunk MB/s | store MiB | RSS MiB | history p50 ms | history p99 ms |"
    );
    println!("|---|---|---|---|---|---|---|");
    // A uniform sample of the stored articles (reservoir sampling): a list
    // of every key would be the bench's own memory, some 100 MiB at 5M
    // revisions, counted in the RSS it reports.
    let mut keys: Vec<String> = Vec::new();
    let mut articles_seen = 0u64;
    let mut sampling = rand_pcg::Pcg64::seed_from_u64(options.seed);
    let (mut chunk_started, mut chunk_bytes, mut chunk_first) = (Instant::now(), 0u64, 0u64);
    let mut rates = Vec::new();
    let started = Instant::now();
    let mut raw_bytes = 0u64;
    let mut pending: Vec<synth::SynthRevision> = Vec::new();
    for (index, revision) in synth::Synth::new(options.seed)
        .take(options.revisions as usize)
        .enumerate()
    {
        let done = index as u64 + 1;
        chunk_bytes += revision.bytes.len() as u64;
        raw_bytes += revision.bytes.len() as u64;
        pending.push(revision);
        let chunk_done = done.is_multiple_of(options.chunk) || done == options.revisions;
        if pending.len() as u64 == COMMIT_EVERY || chunk_done {
            // Commits of `FILES_PER_COMMIT`, as `newsarc ingest` makes them.
            let documents: Vec<_> = pending.iter().map(synth::SynthRevision::document).collect();
            let stored = archive
                .ingest_documents(&documents, &DocumentHint::default())
                .expect("the store takes them");
            pending.clear();
            for stored in stored {
                let stored = stored.expect("every synthetic page parses");
                if stored.added.outcome != Outcome::NewArticle {
                    continue;
                }
                articles_seen += 1;
                if keys.len() < SAMPLED_ARTICLES {
                    keys.push(stored.article);
                } else {
                    let slot = sampling.random_range(0..articles_seen);
                    if let Some(kept) = keys.get_mut(slot as usize) {
                        *kept = stored.article;
                    }
                }
            }
        }
        if chunk_done {
            let seconds = chunk_started.elapsed().as_secs_f64();
            let rate = (done - chunk_first) as f64 / seconds;
            rates.push(rate);
            let (p50, p99) = history_latency(&archive, &keys, HISTORY_SAMPLES, done);
            let store_mib = archive.store().disk_bytes().expect("size") as f64 / 1048576.0;
            println!(
                "| {done} | {rate:.0} | {:.1} | {store_mib:.0} | {:.0} | {p50:.3} | {p99:.3} |",
                chunk_bytes as f64 / seconds / 1e6,
                rss_mib().0,
            );
            std::io::stdout().flush().expect("stdout");
            chunk_started = Instant::now();
            chunk_bytes = 0;
            chunk_first = done;
        }
    }
    let ingest_seconds = started.elapsed().as_secs_f64();

    let (p50, p99) = history_latency(&archive, &keys, 2_000, 99);
    let verify_started = Instant::now();
    let report = measure::verify_clean(&archive, false);
    let verify_seconds = verify_started.elapsed().as_secs_f64();
    let counters = archive.store().counters().expect("counters");
    let disk = archive.store().disk_bytes().expect("size");
    let (_, peak) = rss_mib();

    println!();
    println!("| at the end | figure |");
    println!("|---|---|");
    println!(
        "| revisions, articles | {} revisions of {} articles ({:.2} per article) |",
        counters.revisions,
        counters.articles,
        counters.revisions as f64 / counters.articles as f64
    );
    println!(
        "| fetched bytes (observations included) | {:.1} MB; distinct documents {:.1} MB |",
        raw_bytes as f64 / 1e6,
        counters.raw_bytes as f64 / 1e6
    );
    println!(
        "| whole ingest | {ingest_seconds:.0} s, {:.0} rev/s |",
        options.revisions as f64 / ingest_seconds
    );
    if let (Some(first), Some(last)) = (rates.first(), rates.last()) {
        println!(
            "| last chunk's rate / first chunk's | {:.2} |",
            last / first
        );
    }
    println!(
        "| store on disk | {:.0} MiB ({:.3}× the distinct documents) |",
        disk as f64 / 1048576.0,
        disk as f64 / counters.raw_bytes as f64
    );
    println!("| peak RSS | {peak:.0} MiB |");
    println!("| history p50 / p99 (2,000 random articles) | {p50:.3} / {p99:.3} ms |");
    println!(
        "| verify | {verify_seconds:.0} s: {:.0} objects/s, {:.1} MB/s of stored values, {:.1} MB/s of documents |",
        report.objects as f64 / verify_seconds,
        report.bytes as f64 / verify_seconds / 1e6,
        counters.raw_bytes as f64 / verify_seconds / 1e6
    );
}

/// `--verify-only`: verify, fast and deep, of the store opened read-only;
/// the peak RSS is this process's, so verify's alone.
fn verify_only(archive: &Archive, rounds: u64) {
    let counters = archive.store().counters().expect("counters");
    println!(
        "| verify of {} revisions | seconds | MB/s of documents | peak RSS MiB |",
        counters.revisions
    );
    println!("|---|---|---|---|");
    let kinds = (0..rounds).map(|_| false).chain((0..rounds).map(|_| true));
    for deep in kinds {
        let started = Instant::now();
        measure::verify_clean(archive, deep);
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "| {} | {seconds:.3} | {:.1} | {:.0} |",
            if deep { "--deep" } else { "fast" },
            counters.raw_bytes as f64 / seconds / 1e6,
            rss_mib().1
        );
    }
}
