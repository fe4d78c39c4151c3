//! Tests on the public corpus of real mirrored news revisions
//! (`$NEWSARC_CORPUS`, default `../shared/corpus/news-revisions` beside the
//! repository). The text belongs to its publishers and stays out of this
//! repository. Under `CI=true` a missing corpus fails the run; elsewhere
//! these tests are skipped with a message saying why.

// A test that meets an unexpected value should stop right there.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use newsarc::Archive;
use newsarc::show::{ShowFormat, ShowOptions};
use newsarc_model::{Millis, RevisionId};
use newsarc_parse::DocumentHint;
use serde::Deserialize;

#[derive(Deserialize)]
struct Manifest {
    articles: Vec<ManifestArticle>,
}

#[derive(Deserialize)]
struct ManifestArticle {
    key: String,
    revisions: Vec<ManifestRevision>,
}

#[derive(Deserialize)]
struct ManifestRevision {
    file: String,
    commit_time_utc: String,
    changed_vs_previous: Option<Vec<String>>,
}

/// One corpus revision after ingest.
struct Ingested {
    file: PathBuf,
    manifest_key: String,
    result: Result<(String, RevisionId), String>,
}

struct Corpus {
    archive: Archive,
    revisions: Vec<Ingested>,
    _store: tempfile::TempDir,
}

#[path = "../support/corpus.rs"]
mod support_corpus;
use support_corpus::corpus_dir;

/// The corpus folder and its manifest, read once.
fn manifest() -> Option<&'static (PathBuf, Manifest)> {
    static MANIFEST: OnceLock<Option<(PathBuf, Manifest)>> = OnceLock::new();
    MANIFEST
        .get_or_init(|| {
            let dir = corpus_dir()?;
            let manifest = serde_json::from_slice(
                &std::fs::read(dir.join("manifest.json")).expect("read manifest"),
            )
            .expect("parse manifest");
            Some((dir, manifest))
        })
        .as_ref()
}

/// Ingests the whole corpus once, in fetch order, into a sled store.
fn corpus() -> Option<&'static Corpus> {
    static CORPUS: OnceLock<Option<Corpus>> = OnceLock::new();
    CORPUS
        .get_or_init(|| {
            let (dir, manifest) = manifest()?;
            let mut plan: Vec<(Millis, PathBuf, String)> = manifest
                .articles
                .iter()
                .flat_map(|article| {
                    article.revisions.iter().map(|revision| {
                        let time = revision.commit_time_utc.parse().expect("commit time");
                        (time, dir.join(&revision.file), article.key.clone())
                    })
                })
                .collect();
            plan.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));

            let store = tempfile::tempdir().expect("temp dir");
            let archive =
                Archive::open(store.path(), &newsarc::StoreConfig::default()).expect("open store");
            let revisions = plan
                .into_iter()
                .map(|(fetched_at, file, manifest_key)| {
                    let bytes = std::fs::read(&file).expect("read corpus file");
                    let result = archive
                        .ingest_document(
                            &bytes,
                            &file.display().to_string(),
                            fetched_at,
                            &DocumentHint::default(),
                            None,
                        )
                        .expect("the store accepts every write")
                        .map(|stored| (stored.article, stored.added.revision))
                        .map_err(|err| err.to_string());
                    Ingested {
                        file,
                        manifest_key,
                        result,
                    }
                })
                .collect();
            archive.store().flush().expect("flush");
            Some(Corpus {
                archive,
                revisions,
                _store: store,
            })
        })
        .as_ref()
}

#[test]
#[cfg_attr(
    newsarc_no_corpus,
    ignore = "the public corpus is missing: set NEWSARC_CORPUS (README: Tests and the public corpus)"
)]
fn every_public_revision_parses_and_is_stored() {
    let Some(corpus) = corpus() else { return };
    let failures: Vec<String> = corpus
        .revisions
        .iter()
        .filter_map(|r| {
            r.result
                .as_ref()
                .err()
                .map(|e| format!("{}: {e}", r.file.display()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(corpus.revisions.len(), 2723);
    let stats = corpus.archive.stats().unwrap();
    assert_eq!(stats.revisions + stats.observations, 2723);
}

#[test]
#[cfg_attr(
    newsarc_no_corpus,
    ignore = "the public corpus is missing: set NEWSARC_CORPUS (README: Tests and the public corpus)"
)]
fn every_revision_comes_back_byte_identical() {
    let Some(corpus) = corpus() else { return };
    for revision in &corpus.revisions {
        let Ok((_, id)) = &revision.result else {
            continue;
        };
        let mut raw = Vec::new();
        corpus
            .archive
            .show(
                &ShowOptions {
                    revision: id.to_string(),
                    format: ShowFormat::Raw,
                },
                &mut raw,
            )
            .unwrap();
        assert!(
            raw == std::fs::read(&revision.file).unwrap(),
            "{} differs after a round trip",
            revision.file.display()
        );
    }
}

/// The most common value of `to` for each `from`.
fn majority<'a>(pairs: impl Iterator<Item = (&'a str, &'a str)>) -> HashMap<&'a str, &'a str> {
    let mut counts: HashMap<&str, HashMap<&str, usize>> = HashMap::new();
    for (from, to) in pairs {
        *counts.entry(from).or_default().entry(to).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(from, tos)| {
            let best = tos
                .into_iter()
                .max_by_key(|(to, n)| (*n, std::cmp::Reverse(*to)))
                .map(|(to, _)| to)
                .unwrap_or_default();
            (from, best)
        })
        .collect()
}

#[test]
#[cfg_attr(
    newsarc_no_corpus,
    ignore = "the public corpus is missing: set NEWSARC_CORPUS (README: Tests and the public corpus)"
)]
fn grouping_into_articles_agrees_with_the_manifest() {
    let Some(corpus) = corpus() else { return };
    let pairs: Vec<(&str, &str)> = corpus
        .revisions
        .iter()
        .filter_map(|r| Some((r.result.as_ref().ok()?.0.as_str(), r.manifest_key.as_str())))
        .collect();
    let ours_to_theirs = majority(pairs.iter().copied());
    let theirs_to_ours = majority(pairs.iter().map(|(ours, theirs)| (*theirs, *ours)));
    let disagreeing: Vec<_> = pairs
        .iter()
        .filter(|(ours, theirs)| ours_to_theirs[ours] != *theirs || theirs_to_ours[theirs] != *ours)
        .collect();
    let agreement = 1.0 - disagreeing.len() as f64 / corpus.revisions.len() as f64;
    eprintln!(
        "grouping agrees for {:.2}% of revisions; disagreeing: {:?}",
        agreement * 100.0,
        disagreeing.iter().take(10).collect::<Vec<_>>()
    );
    assert!(agreement >= 0.99, "only {:.2}% agree", agreement * 100.0);
}

#[test]
#[cfg_attr(
    newsarc_no_corpus,
    ignore = "the public corpus is missing: set NEWSARC_CORPUS (README: Tests and the public corpus)"
)]
fn the_corpus_store_verifies_clean() {
    let Some(corpus) = corpus() else { return };
    let mut findings = Vec::new();
    let report = corpus
        .archive
        .check(
            true,
            &Default::default(),
            &mut |f| findings.push(f),
            &mut |_| {},
        )
        .unwrap();
    assert!(report.ok(), "{:?}", &findings[..findings.len().min(10)]);
    assert!(report.bytes > 0);
}

#[test]
#[cfg_attr(
    newsarc_no_corpus,
    ignore = "the public corpus is missing: set NEWSARC_CORPUS (README: Tests and the public corpus)"
)]
fn every_consecutive_pair_diffs_and_body_changes_show() {
    let Some((dir, manifest)) = manifest() else {
        return;
    };
    let parse = |file: &str| {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        newsarc_parse::parse_document(&bytes, &DocumentHint::default()).unwrap()
    };
    let (mut pairs, mut body_pairs, mut date_only_pairs) = (0, 0, 0);
    let mut silent_body_changes = Vec::new();
    let mut noisy_date_changes = Vec::new();
    for article in &manifest.articles {
        for pair in article.revisions.windows(2) {
            let (old, new) = (parse(&pair[0].file), parse(&pair[1].file));
            let diff = newsarc_diff::diff_articles(&old, &new);
            pairs += 1;
            let changed = pair[1].changed_vs_previous.clone().unwrap_or_default();
            if changed.iter().any(|c| c == "body") {
                body_pairs += 1;
                if diff.ops.is_empty() && diff.metadata.is_empty() {
                    silent_body_changes.push(pair[1].file.clone());
                }
            }
            if !changed.is_empty() && changed.iter().all(|c| c == "date" || c == "ts-comment") {
                date_only_pairs += 1;
                if !diff.ops.is_empty() {
                    noisy_date_changes.push(pair[1].file.clone());
                }
            }
        }
    }
    eprintln!("{pairs} pairs: {body_pairs} with body changes, {date_only_pairs} date-only");
    assert_eq!(pairs, 2723 - 1221);
    assert!(
        silent_body_changes.is_empty(),
        "body changed, diff empty: {silent_body_changes:?}"
    );
    assert!(
        noisy_date_changes.is_empty(),
        "date-only change, body diff: {noisy_date_changes:?}"
    );
}

/// Without the corpus the tests above are compiled as ignored, and this one
/// says so by its name in the summary; under `CI=true` it fails the run.
#[cfg(newsarc_no_corpus)]
#[test]
fn the_public_corpus_is_missing_so_its_tests_are_ignored() {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI requires the public corpus: set NEWSARC_CORPUS to its folder"
    );
}
