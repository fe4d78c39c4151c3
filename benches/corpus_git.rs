//! Shared by the side-by-side benches: the public corpus's revisions in
//! fetch order, and the git repository that git-backed trackers would keep
//! of them (one file per article, one commit per revision, in fetch order),
//! built with `git fast-import`. (Where the corpus is: `corpus_pairs.rs`.)

#![allow(dead_code)] // each bench uses part of it

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use newsarc::Archive;
use newsarc_model::Millis;
use newsarc_parse::DocumentHint;

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

/// One revision of the corpus.
pub struct CorpusRevision {
    /// When the mirror fetched it.
    pub fetched_at: Millis,
    /// The manifest's article id (the git file name).
    pub article: String,
    /// The file.
    pub path: PathBuf,
}

/// Every revision, in fetch order.
pub fn revisions_in_fetch_order(dir: &Path) -> Vec<CorpusRevision> {
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("read manifest"))
            .expect("parse manifest");
    let mut revisions: Vec<CorpusRevision> = manifest
        .articles
        .iter()
        .flat_map(|article| {
            article.revisions.iter().map(|revision| CorpusRevision {
                fetched_at: revision.commit_time_utc.parse().expect("manifest time"),
                article: article.id.clone(),
                path: dir.join(&revision.file),
            })
        })
        .collect();
    revisions.sort_by(|a, b| (a.fetched_at, &a.path).cmp(&(b.fetched_at, &b.path)));
    revisions
}

/// The git file of an article.
pub fn git_file(article: &str) -> String {
    format!("articles/{article}.md")
}

/// Builds the git repository in `repo` with `git fast-import`, one commit
/// per revision, and checks out the result.
pub fn git_repository(repo: &Path, revisions: &[CorpusRevision]) {
    let git = |args: &[&str]| {
        let status = Command::new("git")
            .current_dir(repo)
            .args(args)
            .status()
            .expect("git");
        assert!(status.success(), "git {args:?}");
    };
    git(&["init", "-q"]);
    let mut import = Command::new("git")
        .current_dir(repo)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("git fast-import");
    let mut stream = import.stdin.take().expect("stdin");
    // Consecutive commits to one branch in one stream chain up by themselves.
    for revision in revisions {
        let bytes = std::fs::read(&revision.path).expect("read corpus file");
        let seconds = revision.fetched_at.as_millis() / 1000;
        write!(
            stream,
            "commit refs/heads/master\ncommitter bench <bench@example.invalid> {seconds} +0000\ndata 6\nupdate\n"
        )
        .expect("write");
        writeln!(
            stream,
            "M 644 inline {}\ndata {}",
            git_file(&revision.article),
            bytes.len()
        )
        .expect("write");
        stream.write_all(&bytes).expect("write");
        writeln!(stream).expect("write");
    }
    drop(stream);
    assert!(import.wait().expect("fast-import").success());
    git(&["checkout", "-q", "master"]);
}

/// Ingests every revision in fetch order into a new store at `dir`, read
/// from its file and stored in commits of `FILES_PER_COMMIT` as `newsarc
/// ingest` does (parsed on every core while the commit before is stored,
/// durable at the end).
pub fn ingest(dir: &Path, revisions: &[CorpusRevision]) -> Archive {
    let archive = Archive::open(dir, &newsarc::StoreConfig::default()).expect("store");
    let read: Vec<(Vec<u8>, String)> = revisions
        .iter()
        .map(|revision| {
            let bytes = std::fs::read(&revision.path).expect("read");
            (bytes, revision.path.display().to_string())
        })
        .collect();
    let documents: Vec<newsarc::ingest::Document<'_>> = read
        .iter()
        .zip(revisions)
        .map(|((bytes, source), revision)| newsarc::ingest::Document {
            bytes,
            source,
            fetched_at: revision.fetched_at,
        })
        .collect();
    archive
        .ingest_document_groups(
            documents.chunks(newsarc::ingest::FILES_PER_COMMIT),
            &DocumentHint::default(),
            |stored| {
                for result in stored {
                    result.expect("corpus parses");
                }
                Ok(())
            },
        )
        .expect("store");
    archive
}
