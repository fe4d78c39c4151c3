//! newsarc side by side with git, xz, b3sum and BLAKE3 itself on the public
//! corpus, every pair measured in the same run (medians of several rounds,
//! alternating which tool goes first):
//!
//! 1. ingest every revision in fetch order into a new store, durable at the
//!    end, against `git fast-import` building one file per article and one
//!    commit per revision;
//! 2. the store on disk against that repository's pack after
//!    `git gc --aggressive`, and against `xz -9` of all the revisions;
//! 3. one article's history: `newsarc log` (a process), the library call and
//!    `ListHistory` over gRPC, against `git log -- <file>`;
//! 4. verify of the whole store against `b3sum` over the same documents (and
//!    BLAKE3 in process, one thread: the hash's own limit);
//! 5. a sample of consecutive pairs: `newsarc diff` against
//!    `git diff --no-index --word-diff`.
//!
//! Run: `cargo bench -p newsarc-cli --bench compare`
//! (`NEWSARC_BENCH_ROUNDS`, default 3). Prints a markdown report.

#[path = "corpus_git.rs"]
mod corpus_git;
#[path = "corpus_pairs.rs"]
mod corpus_pairs;
#[path = "measure.rs"]
mod measure;

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use corpus_git::CorpusRevision;
use measure::{Lcg, machine, median, percentile};
use newsarc::Archive;
use newsarc_parse::DocumentHint;
use newsarc_server::pb;

const NEWSARC: &str = env!("CARGO_BIN_EXE_newsarc");

/// Runs both, `ours` first in even rounds, so that neither always has the
/// warmer caches.
fn alternate(round: usize, ours: &mut dyn FnMut(), theirs: &mut dyn FnMut()) {
    if round.is_multiple_of(2) {
        ours();
        theirs();
    } else {
        theirs();
        ours();
    }
}

/// How `newsarc verify`, `log` and the other reading commands open a store.
fn reading() -> newsarc::StoreConfig {
    newsarc::StoreConfig {
        read_only: true,
        ..newsarc::StoreConfig::default()
    }
}

/// Seconds `work` takes.
fn timed(work: impl FnOnce()) -> f64 {
    let started = Instant::now();
    work();
    started.elapsed().as_secs_f64()
}

fn run(command: &mut Command) {
    let status = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap_or_else(|err| panic!("{command:?}: {err}"));
    // git diff exits 1 when the files differ; anything else is a failure.
    assert!(
        status.code().is_some_and(|code| code <= 1),
        "{command:?} failed"
    );
}

fn walk_bytes(dir: &Path, keep: &dyn Fn(&Path) -> bool) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        let meta = entry.metadata().expect("metadata");
        if meta.is_dir() {
            total += walk_bytes(&path, keep);
        } else if keep(&path) {
            total += meta.len();
        }
    }
    total
}

struct Row {
    what: &'static str,
    newsarc: String,
    other: String,
    /// newsarc's figure against the other's, worded for the measure.
    ratio: String,
    target: &'static str,
    met: bool,
}

fn main() {
    let Some(dir) = corpus_pairs::corpus_dir() else {
        return;
    };
    let rounds: usize = std::env::var("NEWSARC_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let revisions = corpus_git::revisions_in_fetch_order(&dir);
    let documents: Vec<Vec<u8>> = revisions
        .iter()
        .map(|r| std::fs::read(&r.path).expect("read"))
        .collect();
    let raw: u64 = documents.iter().map(|d| d.len() as u64).sum();
    let mut rows = Vec::new();

    // 1. Ingest, alternating which goes first.
    let (mut newsarc_s, mut git_s) = (Vec::new(), Vec::new());
    let mut kept = None;
    for round in 0..rounds {
        let store = tempfile::tempdir().expect("temp dir");
        let repo = tempfile::tempdir().expect("temp dir");
        let mut ours = || {
            let seconds = timed(|| drop(corpus_git::ingest(store.path(), &revisions)));
            newsarc_s.push(seconds);
        };
        let mut theirs = || {
            git_s.push(timed(|| {
                corpus_git::git_repository(repo.path(), &revisions)
            }))
        };
        alternate(round, &mut ours, &mut theirs);
        kept = Some((store, repo));
    }
    let (store, repo) = kept.expect("at least one round");
    let n = revisions.len() as f64;
    let every = |seconds: &[f64]| -> String {
        seconds
            .iter()
            .map(|s| format!("{:.0}", n / s))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (newsarc_runs, git_runs) = (every(&newsarc_s), every(&git_s));
    let (ours, theirs) = (n / median(&mut newsarc_s), n / median(&mut git_s));
    rows.push(Row {
        what: "ingest, revisions/s (durable at the end)",
        newsarc: format!("{ours:.0} (runs: {newsarc_runs})"),
        other: format!("{theirs:.0} (`git fast-import`; runs: {git_runs})"),
        ratio: format!("{:.2}× as fast", ours / theirs),
        target: "≥ 2.0×",
        met: ours >= 2.0 * theirs,
    });

    // 2. Storage: the store at rest, opened as every reading command opens it.
    let archive = Archive::open(store.path(), &reading()).expect("store");
    let stored = archive.store().disk_bytes().expect("size");
    let packed = archive.store().pack_bytes().expect("size");
    run(Command::new("git")
        .current_dir(repo.path())
        .args(["gc", "--aggressive", "--quiet"]));
    let pack = walk_bytes(&repo.path().join(".git/objects"), &|path| {
        path.extension().is_some_and(|e| e == "pack")
    });
    let mut xz = Command::new("xz")
        .args(["-9", "-c"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("xz");
    let mut input = xz.stdin.take().expect("stdin");
    let feeder = std::thread::spawn(move || {
        use std::io::Write;
        for document in &documents {
            input.write_all(document).expect("write to xz");
        }
        documents
    });
    let xz_bytes = xz.wait_with_output().expect("xz").stdout.len() as u64;
    let documents = feeder.join().expect("feeder");
    let mib = |bytes: u64| bytes as f64 / 1048576.0;
    rows.push(Row {
        what: "storage, MiB (× raw)",
        newsarc: format!(
            "{:.2} ({:.3}×): packs {:.2}, index and the rest {:.2}",
            mib(stored),
            stored as f64 / raw as f64,
            mib(packed),
            mib(stored - packed)
        ),
        other: format!(
            "{:.2} ({:.3}×) git pack after `gc --aggressive`; {:.2} ({:.3}×) `xz -9`",
            mib(pack),
            pack as f64 / raw as f64,
            mib(xz_bytes),
            xz_bytes as f64 / raw as f64
        ),
        ratio: format!("{:.2}× the size of git's pack", stored as f64 / pack as f64),
        target: "≤ 0.8× git's pack",
        met: stored as f64 <= 0.8 * pack as f64,
    });

    // 3. History: 20 random articles, each tool on the same ones.
    let mut articles: Vec<(String, String)> = revisions
        .iter()
        .map(|r| (r.article.clone(), r.path.display().to_string()))
        .collect();
    articles.sort();
    articles.dedup_by(|a, b| a.0 == b.0);
    let mut random = Lcg(11);
    let sample: Vec<&(String, String)> = (0..20)
        .map(|_| &articles[random.next(articles.len())])
        .collect();
    // newsarc log takes a URL or key; the file's own URL resolves it.
    let keys: Vec<String> = sample
        .iter()
        .map(|(_, path)| {
            let bytes = std::fs::read(path).expect("read");
            let article =
                newsarc_parse::parse_document(&bytes, &DocumentHint::default()).expect("parse");
            archive
                .rules()
                .key_for(&article.meta.url)
                .expect("key")
                .to_string()
        })
        .collect();
    let mut library_ms: Vec<f64> = (0..rounds * 200)
        .map(|i| {
            let key = &keys[i % keys.len()];
            timed(|| drop(archive.history_of(key, false).expect("history"))) * 1e3
        })
        .collect();
    let library_p50 = percentile(&mut library_ms, 0.5);
    let grpc_p50 = grpc_history_p50(archive, &keys, rounds * 200);
    let (mut log_ms, mut git_log_ms) = (Vec::new(), Vec::new());
    for (index, ((id, _), key)) in sample.iter().zip(&keys).enumerate() {
        let mut ours = || {
            log_ms.push(
                timed(|| {
                    run(Command::new(NEWSARC)
                        .arg("--store")
                        .arg(store.path())
                        .args(["log", key]))
                }) * 1e3,
            )
        };
        let mut theirs = || {
            git_log_ms.push(
                timed(|| {
                    run(Command::new("git").current_dir(repo.path()).args([
                        "log",
                        "--format=%H %ct %s",
                        "--",
                        &corpus_git::git_file(id),
                    ]))
                }) * 1e3,
            )
        };
        alternate(index, &mut ours, &mut theirs);
    }
    let (log_p50, git_log_p50) = (median(&mut log_ms), median(&mut git_log_ms));
    for (what, figure, target) in [
        ("history: `newsarc log` (process), ms", log_p50, Some(20.0)),
        ("history: `ListHistory` over gRPC, ms", grpc_p50, None),
        ("history: library call, ms", library_p50, None),
    ] {
        rows.push(Row {
            what,
            newsarc: format!("{figure:.3}"),
            other: format!("{git_log_p50:.1} (`git log -- <file>`)"),
            ratio: format!("{:.0}× as fast", git_log_p50 / figure),
            target: if target.is_some() {
                "≥ 20× faster"
            } else {
                "(reported)"
            },
            met: target.is_none_or(|times| git_log_p50 / figure >= times),
        });
    }

    // 4. Verify against the hash itself, each round alternating which of
    // verify, verify --deep and b3sum goes first.
    let archive = Archive::open(store.path(), &reading()).expect("store");
    let verify_seconds = |deep: bool| timed(|| drop(measure::verify_clean(&archive, deep)));
    let files: Vec<String> = revisions
        .iter()
        .map(|r| r.path.display().to_string())
        .collect();
    let b3sum = Command::new("b3sum").arg("--version").output().is_ok();
    let (mut fast_s, mut deep_s, mut b3sum_s) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let mut ours = || {
            fast_s.push(verify_seconds(false));
            deep_s.push(verify_seconds(true));
        };
        let mut theirs = || {
            if b3sum {
                b3sum_s.push(timed(|| run(Command::new("b3sum").args(&files))));
            }
        };
        alternate(round, &mut ours, &mut theirs);
    }
    let mbps = |seconds: &mut Vec<f64>| -> (f64, String) {
        let runs = seconds
            .iter()
            .map(|s| format!("{:.1}", raw as f64 / s / 1e6))
            .collect::<Vec<_>>()
            .join(", ");
        (raw as f64 / median(seconds) / 1e6, runs)
    };
    let (fast_mbps, fast_runs) = mbps(&mut fast_s);
    let (deep_mbps, deep_runs) = mbps(&mut deep_s);
    let b3sum_mbps = b3sum.then(|| mbps(&mut b3sum_s));
    let mut hash_s: Vec<f64> = (0..rounds)
        .map(|_| {
            timed(|| {
                for document in &documents {
                    std::hint::black_box(blake3::hash(document));
                }
            })
        })
        .collect();
    let hash_mbps = raw as f64 / median(&mut hash_s) / 1e6;
    let reference = b3sum_mbps.as_ref().map_or(hash_mbps, |(b3, _)| *b3);
    for (what, mbps, runs, target, times) in [
        (
            "verify, MB/s of documents",
            fast_mbps,
            fast_runs,
            "≥ 1.5× b3sum",
            1.5,
        ),
        (
            "verify --deep, MB/s of documents",
            deep_mbps,
            deep_runs,
            "≥ 0.8× b3sum",
            0.8,
        ),
    ] {
        rows.push(Row {
            what,
            newsarc: format!("{mbps:.1} (runs: {runs})"),
            other: match &b3sum_mbps {
                Some((b3, b3_runs)) => format!(
                    "{b3:.1} (`b3sum`; runs: {b3_runs}); {hash_mbps:.1} (BLAKE3 in process, 1 thread)"
                ),
                None => {
                    format!("`b3sum` not installed; {hash_mbps:.1} (BLAKE3 in process, 1 thread)")
                }
            },
            ratio: format!("{:.2}× as fast", mbps / reference),
            target,
            met: mbps / reference >= times,
        });
    }

    // 5. Diff: every 15th consecutive pair, as whole processes.
    let pairs: Vec<(&CorpusRevision, &CorpusRevision)> = {
        let mut by_article: Vec<&CorpusRevision> = revisions.iter().collect();
        by_article.sort_by(|a, b| (&a.article, a.fetched_at).cmp(&(&b.article, b.fetched_at)));
        by_article
            .windows(2)
            .filter(|w| w[0].article == w[1].article)
            .map(|w| (w[0], w[1]))
            .step_by(15)
            .collect()
    };
    let refs: Vec<(String, String)> = pairs
        .iter()
        .map(|(old, new)| {
            (
                format!("{}@{}", key_of(&archive, old), old.fetched_at),
                format!("{}@{}", key_of(&archive, new), new.fetched_at),
            )
        })
        .collect();
    // The store takes one process at a time.
    drop(archive);
    let (mut diff_ms, mut git_diff_ms) = (Vec::new(), Vec::new());
    for (index, ((old, new), (old_ref, new_ref))) in pairs.iter().zip(&refs).enumerate() {
        let mut ours = || {
            diff_ms.push(
                timed(|| {
                    run(Command::new(NEWSARC)
                        .arg("--store")
                        .arg(store.path())
                        .args(["diff", "--format", "unified", old_ref, new_ref]))
                }) * 1e3,
            )
        };
        let mut theirs = || {
            git_diff_ms.push(
                timed(|| {
                    run(Command::new("git")
                        .args(["diff", "--no-index", "--word-diff"])
                        .arg(&old.path)
                        .arg(&new.path))
                }) * 1e3,
            )
        };
        alternate(index, &mut ours, &mut theirs);
    }
    let (diff_p50, git_diff_p50) = (median(&mut diff_ms), median(&mut git_diff_ms));
    rows.push(Row {
        what: "diff of one pair (process), ms",
        newsarc: format!("{diff_p50:.2}"),
        other: format!("{git_diff_p50:.2} (`git diff --no-index --word-diff`)"),
        ratio: format!("{:.2}× as fast", git_diff_p50 / diff_p50),
        target: "(reported)",
        met: true,
    });

    println!(
        "Side by side on the public corpus: {} revisions, {:.1} MB; {}; {}; medians of {rounds} rounds ({} history queries, {} diff pairs)",
        revisions.len(),
        raw as f64 / 1e6,
        machine(),
        newsarc_model::Millis::now(),
        sample.len(),
        pairs.len()
    );
    println!();
    println!("| measure | newsarc | other | newsarc against the other | target | met |");
    println!("|---|---|---|---|---|---|");
    for row in rows {
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            row.what,
            row.newsarc,
            row.other,
            row.ratio,
            row.target,
            if row.met { "yes" } else { "**no**" }
        );
    }
}

/// The article key of a corpus file, through the parser and the rules.
fn key_of(archive: &Archive, revision: &CorpusRevision) -> String {
    let bytes = std::fs::read(&revision.path).expect("read");
    let article = newsarc_parse::parse_document(&bytes, &DocumentHint::default()).expect("parse");
    archive
        .rules()
        .key_for(&article.meta.url)
        .expect("key")
        .to_string()
}

/// p50 of `calls` `ListHistory` calls over keys, one client, in process, in
/// the full view (the larger answer; the figures in `docs/PERFORMANCE.md`
/// were taken with it).
fn grpc_history_p50(archive: Archive, keys: &[String], calls: usize) -> f64 {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let settings = newsarc_server::Settings {
            read_only: true,
            token: None,
            max_message_bytes: newsarc_server::DEFAULT_MAX_MESSAGE_BYTES,
            drain_grace: newsarc_server::DEFAULT_DRAIN_GRACE,
        };
        let server = tokio::spawn(newsarc_server::serve(
            Arc::new(archive),
            settings,
            listener,
            async {
                let _ = stopped.await;
            },
        ));
        let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
            .expect("endpoint")
            .connect()
            .await
            .expect("connect");
        let mut client = pb::archive_client::ArchiveClient::new(channel);
        let mut millis = Vec::with_capacity(calls);
        for i in 0..calls {
            let started = Instant::now();
            client
                .list_history(pb::ListHistoryRequest {
                    article: keys[i % keys.len()].clone(),
                    view: pb::RevisionView::Full.into(),
                    ..Default::default()
                })
                .await
                .expect("list history");
            millis.push(started.elapsed().as_secs_f64() * 1e3);
        }
        drop(client);
        let _ = stop.send(());
        server.await.expect("server task").expect("server");
        percentile(&mut millis, 0.5)
    })
}
