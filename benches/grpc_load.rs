//! A bounded load test of the gRPC server on loopback, after ingesting the
//! public corpus: `ListHistory` for random articles with 1, 4 and 16
//! concurrent clients, side by side in the same run with the health `Check`
//! RPC (the transport's own limit), and `git log -- <file>` on a git
//! repository holding the same revisions the way git-backed trackers store
//! them (one file per article, one commit per revision, in fetch order).
//!
//! Run: `cargo bench -p newsarc-cli --bench grpc_load`
//! (`NEWSARC_BENCH_REQUESTS` per run, default 2000; 3 rounds). Prints markdown.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use newsarc::Archive;
use newsarc_model::Millis;
use newsarc_parse::DocumentHint;
use newsarc_server::pb;
use tonic::transport::Channel;

#[derive(serde::Deserialize)]
struct Manifest {
    articles: Vec<ManifestArticle>,
}

#[derive(serde::Deserialize)]
struct ManifestArticle {
    id: String,
    revisions: Vec<ManifestRevision>,
}

#[derive(serde::Deserialize)]
struct ManifestRevision {
    file: String,
    commit_time_utc: String,
}

/// A small deterministic generator, so every run asks for the same articles.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % bound
    }
}

#[path = "measure.rs"]
mod measure;

use measure::{median, percentile};

struct Run {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// `requests` calls spread over `clients` connections, each its own task.
async fn load(channels: &[Channel], requests: usize, keys: Arc<Vec<String>>, health: bool) -> Run {
    let clients = channels.len();
    let start = Instant::now();
    let tasks: Vec<_> = channels
        .iter()
        .enumerate()
        .map(|(n, channel)| {
            let channel = channel.clone();
            let keys = Arc::clone(&keys);
            tokio::spawn(async move {
                let mut archive = pb::archive_client::ArchiveClient::new(channel.clone());
                let mut checker = tonic_health::pb::health_client::HealthClient::new(channel);
                let mut random = Lcg(n as u64 + 1);
                let mut latencies = Vec::new();
                for _ in 0..requests / clients {
                    let started = Instant::now();
                    if health {
                        checker
                            .check(tonic_health::pb::HealthCheckRequest {
                                service: String::new(),
                            })
                            .await
                            .expect("health check");
                    } else {
                        let article = keys[random.next(keys.len())].clone();
                        archive
                            .list_history(pb::ListHistoryRequest {
                                article,
                                ..Default::default()
                            })
                            .await
                            .expect("list history");
                    }
                    latencies.push(started.elapsed().as_secs_f64() * 1e3);
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("client task"));
    }
    let elapsed = start.elapsed().as_secs_f64();
    Run {
        per_second: latencies.len() as f64 / elapsed,
        p50_ms: percentile(&mut latencies, 0.5),
        p99_ms: percentile(&mut latencies, 0.99),
    }
}

/// Builds the git repository with `git fast-import`; returns the file of
/// each article.
fn git_repository(
    dir: &std::path::Path,
    corpus: &std::path::Path,
    manifest: &Manifest,
) -> Vec<String> {
    let mut revisions: Vec<(Millis, &str, &str)> = manifest
        .articles
        .iter()
        .flat_map(|a| {
            a.revisions.iter().map(move |r| {
                (
                    r.commit_time_utc.parse::<Millis>().expect("time"),
                    a.id.as_str(),
                    r.file.as_str(),
                )
            })
        })
        .collect();
    revisions.sort();
    let git = |args: &[&str]| {
        Command::new("git")
            .current_dir(dir)
            .args(args)
            .status()
            .expect("git")
    };
    git(&["init", "-q"]);
    let mut import = Command::new("git")
        .current_dir(dir)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("git fast-import");
    let mut stream = import.stdin.take().expect("stdin");
    // Consecutive commits to one branch in one stream chain up by themselves.
    for (time, id, file) in &revisions {
        let bytes = std::fs::read(corpus.join(file)).expect("read corpus file");
        let seconds = time.as_millis() / 1000;
        write!(
            stream,
            "commit refs/heads/master\ncommitter bench <bench@example.invalid> {seconds} +0000\ndata 6\nupdate\n"
        )
        .expect("write");
        writeln!(
            stream,
            "M 644 inline articles/{id}.md\ndata {}",
            bytes.len()
        )
        .expect("write");
        stream.write_all(&bytes).expect("write");
        writeln!(stream).expect("write");
    }
    drop(stream);
    assert!(import.wait().expect("fast-import").success());
    git(&["checkout", "-q", "master"]);
    manifest
        .articles
        .iter()
        .map(|a| format!("articles/{}.md", a.id))
        .collect()
}

fn main() {
    let dir = std::env::var_os("NEWSARC_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../../shared/corpus/news-revisions")
        });
    let Ok(manifest_bytes) = std::fs::read(dir.join("manifest.json")) else {
        eprintln!(
            "the public corpus is not at {} (set NEWSARC_CORPUS): nothing to measure",
            dir.display()
        );
        return;
    };
    let manifest: Manifest = serde_json::from_slice(&manifest_bytes).expect("manifest");
    let requests: usize = std::env::var("NEWSARC_BENCH_REQUESTS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(2000);

    let store = tempfile::tempdir().expect("temp dir");
    let archive = Archive::open(store.path()).expect("store");
    let mut plan: Vec<(Millis, std::path::PathBuf)> = manifest
        .articles
        .iter()
        .flat_map(|a| {
            a.revisions
                .iter()
                .map(|r| (r.commit_time_utc.parse().expect("time"), dir.join(&r.file)))
        })
        .collect();
    plan.sort();
    for (time, path) in &plan {
        let bytes = std::fs::read(path).expect("read");
        archive
            .ingest_document(
                &bytes,
                &path.display().to_string(),
                *time,
                &DocumentHint::default(),
                None,
            )
            .expect("store")
            .expect("parse");
    }
    archive.store().flush().expect("flush");
    let keys: Arc<Vec<String>> = Arc::new(
        archive
            .store()
            .articles()
            .map(|a| a.expect("article").key.to_string())
            .collect(),
    );

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut rows = Vec::new();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let settings = newsarc_server::Settings {
            read_only: true,
            token: None,
            max_message_bytes: newsarc_server::DEFAULT_MAX_MESSAGE_BYTES,
        };
        tokio::spawn(newsarc_server::serve(
            Arc::new(archive),
            settings,
            listener,
            async {
                let _ = stopped.await;
            },
        ));
        tokio::time::sleep(Duration::from_millis(200)).await;
        for clients in [1usize, 4, 16] {
            let mut channels = Vec::new();
            for _ in 0..clients {
                channels.push(
                    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
                        .expect("endpoint")
                        .connect()
                        .await
                        .expect("connect"),
                );
            }
            let (mut history, mut health) = (Vec::new(), Vec::new());
            for round in 0..3 {
                if round % 2 == 0 {
                    history.push(load(&channels, requests, Arc::clone(&keys), false).await);
                    health.push(load(&channels, requests, Arc::clone(&keys), true).await);
                } else {
                    health.push(load(&channels, requests, Arc::clone(&keys), true).await);
                    history.push(load(&channels, requests, Arc::clone(&keys), false).await);
                }
            }
            let summarise = |runs: &[Run]| {
                let pick = |f: fn(&Run) -> f64| median(&mut runs.iter().map(f).collect::<Vec<_>>());
                (
                    pick(|r| r.per_second),
                    pick(|r| r.p50_ms),
                    pick(|r| r.p99_ms),
                )
            };
            rows.push((clients, summarise(&history), summarise(&health)));
        }
    });
    let _ = stop.send(());

    let repo = tempfile::tempdir().expect("temp dir");
    let files = git_repository(repo.path(), &dir, &manifest);
    let mut random = Lcg(7);
    let mut git_ms: Vec<f64> = (0..20)
        .map(|_| {
            let file = &files[random.next(files.len())];
            let started = Instant::now();
            let status = Command::new("git")
                .current_dir(repo.path())
                .args(["log", "--format=%H %ct %s", "--", file])
                .stdout(Stdio::null())
                .status()
                .expect("git log");
            assert!(status.success());
            started.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    let git_median = median(&mut git_ms);

    println!(
        "gRPC load on loopback: {} articles, {requests} requests per run, medians of 3 rounds",
        keys.len()
    );
    println!();
    println!(
        "| clients | ListHistory req/s | p50 ms | p99 ms | health Check req/s | p50 ms | p99 ms | ListHistory / Check |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (clients, (h_rps, h50, h99), (c_rps, c50, c99)) in &rows {
        println!(
            "| {clients} | {h_rps:.0} | {h50:.3} | {h99:.3} | {c_rps:.0} | {c50:.3} | {c99:.3} | {:.2} |",
            h_rps / c_rps
        );
    }
    let one_client_p50 = rows[0].1.1;
    println!();
    println!("| one article's history | ms | ratio |");
    println!("|---|---|---|");
    println!("| `ListHistory`, 1 client, p50 | {one_client_p50:.3} | 1 |");
    println!(
        "| `git log -- <file>` (median of 20, whole process) | {git_median:.1} | {:.0}× slower |",
        git_median / one_client_p50
    );
}
