//! Where the public corpus is: `$NEWSARC_CORPUS`, default
//! `../shared/corpus/news-revisions` beside the repository. Its text belongs
//! to its publishers and is never copied here. Under `CI=true` a missing
//! corpus fails the run; elsewhere the tests that need it say so and skip.
// Each test binary uses a part of this module.
#![allow(dead_code)]

use std::path::PathBuf;

/// The corpus folder, or `None` after saying why it is skipped.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("NEWSARC_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/news-revisions")
        });
    if dir.join("manifest.json").is_file() {
        return Some(dir);
    }
    let message = format!(
        "the public corpus is not at {} (set NEWSARC_CORPUS to its folder)",
        dir.display()
    );
    if std::env::var("CI").is_ok_and(|ci| ci == "true") {
        panic!("{message}: CI requires it");
    }
    eprintln!("skipped: {message}");
    None
}

/// Copies the corpus into `into` laid out as a mirror folder
/// (`articles/<id>/NNNN.md`), each file's modification time set to the time
/// the mirror's bot fetched it (the manifest's commit time), so that
/// `newsarc ingest DIR` records the real fetch times. Returns the files in
/// fetch order.
pub fn mirror_with_fetch_times(corpus: &std::path::Path, into: &std::path::Path) -> Vec<PathBuf> {
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(corpus.join("manifest.json")).expect("read the manifest"),
    )
    .expect("parse the manifest");
    let mut files = Vec::new();
    for article in manifest["articles"].as_array().expect("articles") {
        for revision in article["revisions"].as_array().expect("revisions") {
            let relative = revision["file"].as_str().expect("file");
            let fetched: newsarc_model::Millis = revision["commit_time_utc"]
                .as_str()
                .expect("commit time")
                .parse()
                .expect("an RFC 3339 commit time");
            let modified = std::time::UNIX_EPOCH
                + std::time::Duration::from_millis(fetched.as_millis() as u64);
            let target = into.join(relative);
            std::fs::create_dir_all(target.parent().expect("a parent")).expect("mkdir");
            std::fs::copy(corpus.join(relative), &target).expect("copy");
            std::fs::File::options()
                .write(true)
                .open(&target)
                .and_then(|file| file.set_modified(modified))
                .expect("set the modification time");
            files.push((fetched, target));
        }
    }
    files.sort();
    files.into_iter().map(|(_, path)| path).collect()
}
