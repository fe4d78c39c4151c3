//! Shared by the diff benches: every consecutive revision pair of the public
//! corpus (`$NEWSARC_CORPUS`, default `../shared/corpus/news-revisions`),
//! parsed, in manifest order; and where the corpus is.

#![allow(dead_code)] // each bench uses part of it

use std::path::PathBuf;

use newsarc_model::Article;

#[derive(serde::Deserialize)]
struct Manifest {
    articles: Vec<ManifestArticle>,
}

#[derive(serde::Deserialize)]
struct ManifestArticle {
    revisions: Vec<ManifestRevision>,
}

#[derive(serde::Deserialize)]
struct ManifestRevision {
    file: String,
}

/// The corpus folder, or `None` (with a message) when it is absent.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("NEWSARC_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/news-revisions")
        });
    if dir.join("manifest.json").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "the public corpus is not at {} (set NEWSARC_CORPUS): nothing to measure",
            dir.display()
        );
        None
    }
}

/// (old file, new file) of every consecutive pair.
pub fn pair_files(dir: &std::path::Path) -> Vec<(PathBuf, PathBuf)> {
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).expect("read manifest"))
            .expect("parse manifest");
    manifest
        .articles
        .iter()
        .flat_map(|article| {
            article
                .revisions
                .windows(2)
                .map(|pair| (dir.join(&pair[0].file), dir.join(&pair[1].file)))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Every consecutive pair, parsed.
pub fn parsed_pairs(dir: &std::path::Path) -> Vec<(Article, Article)> {
    let parse = |path: &PathBuf| {
        let bytes = std::fs::read(path).expect("read corpus file");
        newsarc_parse::parse_document(&bytes, &Default::default()).expect("corpus parses")
    };
    pair_files(dir)
        .iter()
        .map(|(old, new)| (parse(old), parse(new)))
        .collect()
}
