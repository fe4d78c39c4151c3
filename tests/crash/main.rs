//! The crash test: `newsarc ingest --json` on the public corpus, killed with
//! SIGKILL at a random moment, again and again on one store. After each kill
//! the store must open, `verify` must be clean, and every revision the
//! killed process acknowledged (printed) must be there, byte for byte.
//!
//! `NEWSARC_CRASH_KILLS` kills (default 20, what `.ci/run` runs; the full
//! run of 200 is in `docs/RELIABILITY.md`), `NEWSARC_CRASH_SEED` for the
//! moments. Prints the counts it checked.

// A test that meets an unexpected value should stop right there.
#![allow(clippy::unwrap_used)]

#[path = "../support/fingerprint.rs"]
mod fingerprint;
#[path = "../support/cli.rs"]
mod support_cli;
#[path = "../support/corpus.rs"]
mod support_corpus;
#[path = "../support/server.rs"]
mod support_server;

use support_cli::{env_number, export_body};
use support_server::start_server;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use newsarc::Archive;
use rand::{RngExt, SeedableRng};

/// One acknowledged file: its path and the revision printed for it.
struct Acknowledged {
    path: PathBuf,
    revision: String,
}

/// Runs one ingest and kills it after `after`; returns what it printed.
fn ingest_and_kill(store: &Path, corpus: &Path, after: Duration) -> (Vec<Acknowledged>, bool) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_newsarc"))
        .arg("--store")
        .arg(store)
        .args(["ingest", "--json"])
        .arg(corpus)
        .env_remove("NEWSARC_STORE")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (lines, received) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    std::thread::sleep(after);
    // Child::kill is SIGKILL on Unix: no chance to clean up.
    let finished_first = child.try_wait().unwrap().is_some();
    let _ = child.kill();
    child.wait().unwrap();
    reader.join().unwrap();
    let acknowledged = received
        .try_iter()
        .filter_map(|line| {
            let value: serde_json::Value = serde_json::from_str(&line).ok()?;
            Some(Acknowledged {
                path: PathBuf::from(value["path"].as_str()?),
                revision: value["revision"].as_str()?.to_owned(),
            })
        })
        .collect();
    (acknowledged, finished_first)
}

/// Opens the store a killed process left, requires a clean `verify`, and
/// checks every revision the process acknowledged byte for byte against its
/// file; what is missing or differs goes to `losses`. Returns how many were
/// checked.
fn check_acknowledged(
    store: &Path,
    kill: &str,
    acknowledged: &[Acknowledged],
    losses: &mut Vec<String>,
) -> u64 {
    let archive = Archive::open(store, &newsarc::StoreConfig::default())
        .unwrap_or_else(|err| panic!("{kill}: the store does not open: {err}"));
    let report = archive
        .check(
            true,
            &Default::default(),
            &mut |f| panic!("{kill}: verify found {f:?}"),
            &mut |_| {},
        )
        .unwrap();
    assert!(report.ok());
    for ack in acknowledged {
        let stored = ack
            .revision
            .parse()
            .map_err(|err| format!("{err}"))
            .and_then(|id| archive.store().revision(&id).map_err(|err| err.to_string()))
            .and_then(|record| {
                archive
                    .store()
                    .blob(&record.blob)
                    .map_err(|err| err.to_string())
            });
        match stored {
            Ok(bytes) if bytes == std::fs::read(&ack.path).unwrap() => {}
            Ok(_) => losses.push(format!("{kill}: {} differs", ack.revision)),
            Err(err) => losses.push(format!("{kill}: {}: {err}", ack.revision)),
        }
    }
    acknowledged.len() as u64
}

#[test]
#[cfg_attr(
    newsarc_no_corpus,
    ignore = "the public corpus is missing: set NEWSARC_CORPUS (README: Tests and the public corpus)"
)]
fn nothing_acknowledged_is_lost_when_ingest_is_killed() {
    let Some(corpus) = support_corpus::corpus_dir() else {
        return;
    };
    let kills = env_number("NEWSARC_CRASH_KILLS", 20);
    let mut random = rand_pcg::Pcg64::seed_from_u64(env_number("NEWSARC_CRASH_SEED", 1));
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let (mut checked, mut killed_mid_run, mut losses) = (0u64, 0u64, Vec::new());
    for kill in 0..kills {
        // Up to about one whole ingest of the corpus in a debug build.
        let after = Duration::from_millis(random.random_range(20..4_000));
        let (acknowledged, finished_first) = ingest_and_kill(&store, &corpus, after);
        if !finished_first {
            killed_mid_run += 1;
        }
        if !store.exists() {
            // Killed before sled made the directory: nothing was promised.
            assert!(acknowledged.is_empty());
            continue;
        }
        checked += check_acknowledged(
            &store,
            &format!("kill {kill} (after {after:?})"),
            &acknowledged,
            &mut losses,
        );
    }
    println!(
        "crash test: {kills} kills ({killed_mid_run} while ingesting), {checked} acknowledged revisions checked, {} lost",
        losses.len()
    );
    assert!(losses.is_empty(), "{losses:#?}");
    assert!(
        killed_mid_run > 0,
        "no kill landed while ingesting: the test proved nothing"
    );
}

#[test]
#[cfg_attr(
    newsarc_no_corpus,
    ignore = "the public corpus is missing: set NEWSARC_CORPUS (README: Tests and the public corpus)"
)]
fn an_ingest_killed_and_run_again_gives_the_store_of_one_run() {
    let Some(corpus) = support_corpus::corpus_dir() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mirror = dir.path().join("mirror");
    support_corpus::mirror_with_fetch_times(&corpus, &mirror);
    let articles = mirror.join("articles");
    let reference = dir.path().join("reference");
    let once = Command::new(env!("CARGO_BIN_EXE_newsarc"))
        .arg("--store")
        .arg(&reference)
        .arg("ingest")
        .arg(&articles)
        .env_remove("NEWSARC_STORE")
        .output()
        .unwrap();
    assert!(once.status.success(), "{once:?}");
    let expected = fingerprint::fingerprint(&reference);

    let kills = env_number("NEWSARC_CRASH_KILLS", 20) / 4;
    let mut random = rand_pcg::Pcg64::seed_from_u64(env_number("NEWSARC_CRASH_SEED", 1) + 3);
    let store = dir.path().join("store");
    let mut killed_mid_run = 0;
    for _ in 0..kills {
        let after = Duration::from_millis(random.random_range(20..3_000));
        if !ingest_and_kill(&store, &articles, after).1 {
            killed_mid_run += 1;
        }
    }
    let rest = Command::new(env!("CARGO_BIN_EXE_newsarc"))
        .arg("--store")
        .arg(&store)
        .arg("ingest")
        .arg(&articles)
        .env_remove("NEWSARC_STORE")
        .output()
        .unwrap();
    assert!(rest.status.success(), "{rest:?}");
    println!(
        "killed and resumed: {kills} kills ({killed_mid_run} while ingesting), then one run to the end"
    );
    assert!(killed_mid_run > 0, "no kill landed while ingesting");
    assert!(
        fingerprint::fingerprint(&store) == expected,
        "the resumed store differs from one uninterrupted ingest"
    );
}

/// The corpus files, in manifest order.
fn corpus_files(corpus: &Path) -> Vec<PathBuf> {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(corpus.join("manifest.json")).unwrap()).unwrap();
    manifest["articles"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|article| article["revisions"].as_array().unwrap().iter())
        .map(|revision| corpus.join(revision["file"].as_str().unwrap()))
        .collect()
}

#[test]
#[cfg_attr(
    newsarc_no_corpus,
    ignore = "the public corpus is missing: set NEWSARC_CORPUS (README: Tests and the public corpus)"
)]
fn nothing_acknowledged_is_lost_when_serve_is_killed() {
    use newsarc_server::pb;
    let Some(corpus) = support_corpus::corpus_dir() else {
        return;
    };
    let files = corpus_files(&corpus);
    let kills = env_number("NEWSARC_CRASH_KILLS", 20);
    let mut random = rand_pcg::Pcg64::seed_from_u64(env_number("NEWSARC_CRASH_SEED", 1) + 1);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (mut checked, mut losses) = (0u64, Vec::new());
    for kill in 0..kills {
        let (mut server, url) = start_server(&store);
        let after = Duration::from_millis(random.random_range(20..3_000));
        // Two clients ingest the corpus from different ends until the
        // server dies under them.
        let acknowledged: Vec<Acknowledged> = runtime.block_on(async {
            let clients: Vec<_> = [false, true]
                .into_iter()
                .map(|reversed| {
                    let url = url.clone();
                    let mut order = files.clone();
                    if reversed {
                        order.reverse();
                    }
                    tokio::spawn(async move {
                        let mut acked = Vec::new();
                        let Ok(mut client) = pb::archive_client::ArchiveClient::connect(url).await
                        else {
                            return acked;
                        };
                        for path in order {
                            let request = pb::IngestRequest {
                                document: std::fs::read(&path).unwrap(),
                                source_name: path.display().to_string(),
                                ..Default::default()
                            };
                            match client.ingest(request).await {
                                Ok(response) => acked.push(Acknowledged {
                                    path,
                                    revision: response.into_inner().revision_id.unwrap().text,
                                }),
                                Err(_) => break,
                            }
                        }
                        acked
                    })
                })
                .collect();
            tokio::time::sleep(after).await;
            server.kill().unwrap();
            let mut all = Vec::new();
            for client in clients {
                all.extend(client.await.unwrap());
            }
            all
        });
        server.wait().unwrap();
        checked += check_acknowledged(&store, &format!("kill {kill}"), &acknowledged, &mut losses);
    }
    println!(
        "crash test (serve): {kills} kills, {checked} acknowledged revisions checked, {} lost",
        losses.len()
    );
    assert!(losses.is_empty(), "{losses:#?}");
    assert!(
        checked > 0,
        "no Ingest was acknowledged: the test proved nothing"
    );
}

/// Runs `newsarc ARGS…` against `store` and kills it after `after`; true when
/// it had already finished.
fn run_and_kill(store: &Path, args: &[&str], after: Duration) -> bool {
    let mut child = Command::new(env!("CARGO_BIN_EXE_newsarc"))
        .arg("--store")
        .arg(store)
        .args(args)
        .env_remove("NEWSARC_STORE")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + after;
    while std::time::Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let finished_first = child.try_wait().unwrap().is_some();
    let _ = child.kill();
    child.wait().unwrap();
    finished_first
}

#[test]
#[cfg_attr(
    newsarc_no_corpus,
    ignore = "the public corpus is missing: set NEWSARC_CORPUS (README: Tests and the public corpus)"
)]
fn an_export_or_import_killed_midway_leaves_nothing_half_written() {
    let Some(corpus) = support_corpus::corpus_dir() else {
        return;
    };
    let kills = env_number("NEWSARC_CRASH_KILLS", 20) / 2;
    let mut random = rand_pcg::Pcg64::seed_from_u64(env_number("NEWSARC_CRASH_SEED", 1) + 2);
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let ingest = Command::new(env!("CARGO_BIN_EXE_newsarc"))
        .arg("--store")
        .arg(&store)
        .arg("ingest")
        .arg(corpus.join("articles"))
        .env_remove("NEWSARC_STORE")
        .output()
        .unwrap();
    assert!(ingest.status.success(), "{ingest:?}");
    let reference = dir.path().join("reference.nae");
    let started = std::time::Instant::now();
    assert!(run_and_kill(
        &store,
        &["export", reference.to_str().unwrap()],
        Duration::from_secs(60)
    ));
    let export_time = started.elapsed();
    let reference_body = export_body(&reference);

    let exports = dir.path().join("exports");
    std::fs::create_dir(&exports).unwrap();
    let mut killed_mid_run = 0;
    let mut partial_files = 0;
    for kill in 0..kills {
        let target = exports.join("backup.nae");
        let _ = std::fs::remove_file(&target);
        let after = export_time.mul_f64(random.random_range(0.0..1.2));
        if !run_and_kill(&store, &["export", target.to_str().unwrap()], after) {
            killed_mid_run += 1;
        }
        // The export is there whole, or not at all.
        if target.exists() {
            assert_eq!(export_body(&target), reference_body, "kill {kill}");
        }
        // And the store it was read from is untouched.
        let archive = Archive::open(&store, &newsarc::StoreConfig::default()).unwrap();
        assert!(
            archive
                .check(false, &Default::default(), &mut |_| {}, &mut |_| {})
                .unwrap()
                .ok(),
            "kill {kill}"
        );
    }

    // A killed export leaves its temporary file, named for what it was.
    for entry in std::fs::read_dir(&exports).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name != "backup.nae" {
            assert!(name.starts_with(".backup.nae.") && name.ends_with(".partial"));
            partial_files += 1;
        }
    }

    let imported = dir.path().join("imported");
    for kill in 0..kills {
        let after = export_time.mul_f64(random.random_range(0.0..3.0));
        run_and_kill(&imported, &["import", reference.to_str().unwrap()], after);
        // The store is there whole, or not at all (a staging directory may
        // be left; the next import clears it).
        if imported.exists() {
            let archive = Archive::open(&imported, &newsarc::StoreConfig::default()).unwrap();
            assert!(
                archive
                    .check(false, &Default::default(), &mut |_| {}, &mut |_| {})
                    .unwrap()
                    .ok(),
                "kill {kill}"
            );
            let check = dir.path().join("check.nae");
            drop(archive);
            assert!(run_and_kill(
                &imported,
                &["export", check.to_str().unwrap()],
                Duration::from_secs(60)
            ));
            assert_eq!(export_body(&check), reference_body, "kill {kill}");
            std::fs::remove_dir_all(&imported).unwrap();
        }
    }
    println!(
        "export/import crash test: {kills} exports killed ({killed_mid_run} mid-run, {partial_files} `.partial` files left), {kills} imports killed; none half-written"
    );
    assert!(killed_mid_run > 0, "no kill landed while exporting");
}
