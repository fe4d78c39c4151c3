//! Build script of the crates whose tests read the public corpus: when it is
//! not there, those tests are compiled as ignored (`cfg(newsarc_no_corpus)`),
//! so `cargo test` lists them as "ignored, …" with the reason instead of
//! passing them silently.

use std::path::PathBuf;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(newsarc_no_corpus)");
    println!("cargo::rerun-if-env-changed=NEWSARC_CORPUS");
    let dir = std::env::var_os("NEWSARC_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default())
                .join("../../../shared/corpus/news-revisions")
        });
    let manifest = dir.join("manifest.json");
    // Watched whether it exists or not, so that its arrival is noticed.
    println!("cargo::rerun-if-changed={}", manifest.display());
    if !manifest.is_file() {
        println!("cargo::rustc-cfg=newsarc_no_corpus");
        println!(
            "cargo::warning=the public corpus is not at {}: its tests are ignored (set NEWSARC_CORPUS)",
            dir.display()
        );
    }
}
