//! Where the public corpus is: `$NEWSARC_CORPUS`, default
//! `../shared/corpus/news-revisions` beside the repository. Its text belongs
//! to its publishers and is never copied here. Under `CI=true` a missing
//! corpus fails the run; elsewhere the tests that need it say so and skip.

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
