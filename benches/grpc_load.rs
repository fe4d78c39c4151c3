//! A bounded load test of the gRPC server on loopback, after ingesting the
//! public corpus: `ListHistory` for random articles in its default (basic)
//! and full views with 1, 4 and 16 concurrent clients, side by side in the
//! same run with the health `Check` RPC (the transport's own limit), the
//! mean size of an answer in each view, and `git log -- <file>` on a git
//! repository holding the same revisions the way git-backed trackers store
//! them (one file per article, one commit per revision, in fetch order).
//!
//! Run: `cargo bench -p newsarc-cli --bench grpc_load`
//! (`NEWSARC_BENCH_REQUESTS` per run, default 5000; 3 rounds). Prints markdown.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use newsarc_server::pb;
use tonic::transport::Channel;

#[path = "corpus_git.rs"]
mod corpus_git;
#[path = "corpus_pairs.rs"]
mod corpus_pairs;
#[path = "measure.rs"]
mod measure;

use measure::{Lcg, median, percentile};

/// Rounds of each load; the table shows their medians.
const ROUNDS: usize = 3;

struct Run {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// What a load run calls.
#[derive(Clone, Copy)]
enum Call {
    /// The health `Check`: the transport's own limit.
    Check,
    /// `ListHistory` for a random article, in this view.
    History(pb::RevisionView),
}

/// `requests` calls spread over `clients` connections, each its own task.
async fn load(channels: &[Channel], requests: usize, keys: Arc<Vec<String>>, call: Call) -> Run {
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
                    match call {
                        Call::Check => {
                            checker
                                .check(tonic_health::pb::HealthCheckRequest {
                                    service: String::new(),
                                })
                                .await
                                .expect("health check");
                        }
                        Call::History(view) => {
                            let article = keys[random.next(keys.len())].clone();
                            archive
                                .list_history(pb::ListHistoryRequest {
                                    article,
                                    view: view.into(),
                                    ..Default::default()
                                })
                                .await
                                .expect("list history");
                        }
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

/// A new connection to the server at `addr`.
async fn connect(addr: SocketAddr) -> Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect")
}

/// The mean encoded size of every article's `ListHistory` answer, in the
/// basic and the full view.
async fn mean_answer_bytes(addr: SocketAddr, keys: &[String]) -> (f64, f64) {
    let mut archive = pb::archive_client::ArchiveClient::new(connect(addr).await);
    let mut totals = [0usize; 2];
    for key in keys {
        for (total, view) in totals
            .iter_mut()
            .zip([pb::RevisionView::Basic, pb::RevisionView::Full])
        {
            let answer = archive
                .list_history(pb::ListHistoryRequest {
                    article: key.clone(),
                    view: view.into(),
                    ..Default::default()
                })
                .await
                .expect("list history")
                .into_inner();
            *total += prost::Message::encoded_len(&answer);
        }
    }
    let mean = |total: usize| total as f64 / keys.len() as f64;
    (mean(totals[0]), mean(totals[1]))
}

fn main() {
    let Some(dir) = corpus_pairs::corpus_dir() else {
        return;
    };
    let revisions = corpus_git::revisions_in_fetch_order(&dir);
    let requests: usize = std::env::var("NEWSARC_BENCH_REQUESTS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5000);

    let store = tempfile::tempdir().expect("temp dir");
    let archive = corpus_git::ingest(store.path(), &revisions);
    let keys: Arc<Vec<String>> = Arc::new(
        archive
            .store()
            .articles()
            .map(|a| a.expect("article").key.to_string())
            .collect(),
    );

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut rows = Vec::new();
    let mut answer_bytes = (0.0, 0.0);
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
            drain_grace: newsarc_server::DEFAULT_DRAIN_GRACE,
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
                channels.push(connect(addr).await);
            }
            // Side by side: each round runs the three calls, in an order
            // that rotates so that none always goes first.
            let calls = [
                Call::History(pb::RevisionView::Unspecified),
                Call::History(pb::RevisionView::Full),
                Call::Check,
            ];
            let mut runs: [Vec<Run>; 3] = Default::default();
            for round in 0..ROUNDS {
                for turn in 0..calls.len() {
                    let which = (round + turn) % calls.len();
                    runs[which]
                        .push(load(&channels, requests, Arc::clone(&keys), calls[which]).await);
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
            rows.push((
                clients,
                summarise(&runs[0]),
                summarise(&runs[1]),
                summarise(&runs[2]),
            ));
        }
        answer_bytes = mean_answer_bytes(addr, &keys).await;
    });
    let _ = stop.send(());

    let repo = tempfile::tempdir().expect("temp dir");
    corpus_git::git_repository(repo.path(), &revisions);
    let mut files: Vec<String> = revisions
        .iter()
        .map(|revision| corpus_git::git_file(&revision.article))
        .collect();
    files.sort();
    files.dedup();
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
        "gRPC load on loopback: {} articles, {requests} requests per run, medians of {ROUNDS} rounds",
        keys.len()
    );
    println!();
    println!(
        "| clients | ListHistory (basic, the default) req/s | p50 ms | p99 ms | ListHistory (full) req/s | p50 ms | p99 ms | health Check req/s | p50 ms | p99 ms | basic / Check | full / Check |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (clients, (b_rps, b50, b99), (f_rps, f50, f99), (c_rps, c50, c99)) in &rows {
        println!(
            "| {clients} | {b_rps:.0} | {b50:.3} | {b99:.3} | {f_rps:.0} | {f50:.3} | {f99:.3} | {c_rps:.0} | {c50:.3} | {c99:.3} | {:.2} | {:.2} |",
            b_rps / c_rps,
            f_rps / c_rps
        );
    }
    println!();
    println!(
        "Mean answer: {:.0} bytes in the basic view, {:.0} in the full view (h2 sends an answer under 1 KiB in one write).",
        answer_bytes.0, answer_bytes.1
    );
    let one_client_p50 = rows[0].1.1;
    println!();
    println!("| one article's history | ms | ratio |");
    println!("|---|---|---|");
    println!("| `ListHistory` (basic), 1 client, p50 | {one_client_p50:.3} | 1 |");
    println!(
        "| `git log -- <file>` (median of 20, whole process) | {git_median:.1} | {:.0}× slower |",
        git_median / one_client_p50
    );
}
