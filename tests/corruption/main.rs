//! The corruption campaign: damage copies of a store's files — the packs,
//! the index's files (its sorted run and sled's), the header and the head witness — by single-byte
//! flips at random places, truncations and deletions, and run the real
//! `newsarc verify` on each copy. Every outcome must be one of:
//!
//! - exit 2, the store cannot be opened, with a message naming it; then
//!   `newsarc repair --rebuild-index` either brings the whole store back
//!   from the packs, lists what it cannot (exit 1), or fails without
//!   changing a file;
//! - exit 1, `verify` reports findings, and every revision whose bytes can
//!   no longer be read is named in them;
//! - exit 0, and the copy still exports exactly what the undamaged store
//!   exports (the damage hit bytes nothing reads again).
//!
//! A panic, a signal, or exit 0 with different contents fails the test.
//! The salvage test then damages only the index's files (100 flips, one per
//! copy, and each file deleted): `repair --rebuild-index` must bring every
//! copy back whole from the packs.
//!
//! `NEWSARC_CORRUPTION_FLIPS` flips (default 40, what `.ci/run` runs),
//! `NEWSARC_CORRUPTION_ARTICLES` corpus articles in the store (default 60;
//! `all` for the whole corpus), `NEWSARC_CORRUPTION_SEED` for the places, `NEWSARC_CORRUPTION_TRUNCATIONS`
//! random truncations per file (default 5).
//! The full run and its figures are in `docs/RELIABILITY.md`.

// A test that meets an unexpected value should stop right there.
#![allow(clippy::unwrap_used)]

#[path = "../support/cli.rs"]
mod support_cli;
#[path = "../support/corpus.rs"]
mod support_corpus;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use rand::{RngExt, SeedableRng};
use support_cli::{env_number, newsarc};

/// An export without its header frame (which carries the export's time):
/// two stores with the same contents give the same bytes.
fn export_body(store: &Path, scratch: &Path) -> Option<Vec<u8>> {
    let file = scratch.join("export.nae");
    let _ = std::fs::remove_file(&file);
    let output = newsarc(store, &["export", file.to_str().unwrap()]);
    if !output.status.success() {
        return None;
    }
    Some(support_cli::export_body(&file))
}

/// A pristine store made from corpus articles, in two states, and what it
/// exports.
struct Pristine {
    _dir: tempfile::TempDir,
    /// The store as `ingest` left it, and the same store after it was
    /// read again.
    states: [PathBuf; 2],
    body: Vec<u8>,
    /// Every file of each state with its size, relative to the store.
    files: [Vec<(PathBuf, u64)>; 2],
}

fn pristine(corpus: &Path) -> Pristine {
    let dir = tempfile::tempdir().unwrap();
    let articles = dir.path().join("articles");
    let limit = match std::env::var("NEWSARC_CORRUPTION_ARTICLES").as_deref() {
        Ok("all") => usize::MAX,
        Ok(number) => number.parse().unwrap(),
        Err(_) => 60,
    };
    let mut names: Vec<_> = std::fs::read_dir(corpus.join("articles"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    names.sort();
    for source in names.iter().take(limit) {
        let target = articles.join(source.file_name().unwrap());
        std::fs::create_dir_all(&target).unwrap();
        for file in std::fs::read_dir(source).unwrap() {
            let file = file.unwrap().path();
            std::fs::copy(&file, target.join(file.file_name().unwrap())).unwrap();
        }
    }
    let store = dir.path().join("store");
    let ingest = newsarc(&store, &["ingest", articles.to_str().unwrap()]);
    assert!(ingest.status.success(), "{ingest:?}");
    let fresh = dir.path().join("fresh");
    copy_store(&store, &fresh);
    let body = export_body(&store, dir.path()).unwrap();
    let files = [store_files(&fresh), store_files(&store)];
    Pristine {
        _dir: dir,
        states: [fresh, store],
        body,
        files,
    }
}

fn store_files(store: &Path) -> Vec<(PathBuf, u64)> {
    let mut files = Vec::new();
    let mut pending = vec![store.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                let relative = entry.path().strip_prefix(store).unwrap().to_owned();
                files.push((relative, meta.len()));
            }
        }
    }
    files.sort();
    files
}

fn copy_store(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.metadata().unwrap().is_dir() {
            copy_store(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// What `verify` (and, for a store that does not open, `repair`) made of
/// one damaged copy.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    /// Exit 2: the store cannot be opened, and the message says why;
    /// `repair` cannot open it either and leaves its files as they were.
    Refused,
    /// Exit 2, then `repair --rebuild-index` made the index anew from the
    /// packs and the store verifies clean with all its contents.
    RefusedThenRepaired,
    /// Exit 2, then `repair --rebuild-index` listed what it cannot bring
    /// back (exit 1).
    RefusedThenListed,
    /// Exit 1: findings reported, of these kinds.
    Detected(Vec<String>),
    /// Exit 0 and the same contents as the undamaged store.
    Harmless,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Refused => "refused to open (exit 2), repair cannot",
            Self::RefusedThenRepaired => "refused to open (exit 2), repaired whole",
            Self::RefusedThenListed => "refused to open (exit 2), repair lists losses",
            Self::Detected(_) => "damage reported (exit 1)",
            Self::Harmless => "undetected, contents unchanged (exit 0)",
        })
    }
}

/// Every file's bytes, to see whether a failed repair changed anything.
fn file_contents(store: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    store_files(store)
        .into_iter()
        .map(|(file, _)| {
            let bytes = std::fs::read(store.join(&file)).unwrap();
            (file, bytes)
        })
        .collect()
}

/// Runs `verify` on a damaged copy; the error says what went wrong when the
/// outcome is not an acceptable one.
fn judge(copy: &Path, pristine: &Pristine, scratch: &Path) -> Result<Outcome, String> {
    let verify = newsarc(copy, &["verify", "--json"]);
    let stderr = String::from_utf8_lossy(&verify.stderr);
    if stderr.contains("panicked") {
        return Err(format!("verify panicked: {stderr}"));
    }
    match verify.status.code() {
        Some(2) if stderr.contains(&copy.display().to_string()) => {
            judge_repair(copy, pristine, scratch)
        }
        Some(2) => Err(format!("exit 2 without naming the store: {stderr}")),
        Some(1) if verify.stdout.is_empty() => Err("exit 1 without findings".into()),
        Some(1) => {
            let report: serde_json::Value = serde_json::from_slice(&verify.stdout)
                .map_err(|err| format!("verify --json printed no JSON: {err}"))?;
            if let Some(unnamed) = unnamed_damage(copy, &report) {
                return Err(unnamed);
            }
            let mut kinds: Vec<String> = report["findings"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|finding| Some(finding["kind"].as_str()?.to_owned()))
                .collect();
            kinds.sort();
            kinds.dedup();
            Ok(Outcome::Detected(kinds))
        }
        Some(0) => match export_body(copy, scratch) {
            Some(body) if body == pristine.body => Ok(Outcome::Harmless),
            Some(_) => Err("verify was clean but the store's contents changed".into()),
            None => Err("verify was clean but the store does not export".into()),
        },
        other => Err(format!("verify ended with {other:?}: {stderr}")),
    }
}

/// `repair` on a store `verify` could not open: either it opens the store
/// and everything is back, or it fails and changes nothing.
fn judge_repair(copy: &Path, pristine: &Pristine, scratch: &Path) -> Result<Outcome, String> {
    let before = file_contents(copy);
    let repair = newsarc(copy, &["repair", "--rebuild-index", "--json"]);
    let stderr = String::from_utf8_lossy(&repair.stderr);
    if stderr.contains("panicked") {
        return Err(format!("repair panicked: {stderr}"));
    }
    match repair.status.code() {
        Some(2) if file_contents(copy) == before => Ok(Outcome::Refused),
        Some(2) => Err(format!(
            "a failed repair changed the store's files: {stderr}"
        )),
        Some(1) if repair.stdout.is_empty() => Err("repair exit 1 without a report".into()),
        Some(1) => Ok(Outcome::RefusedThenListed),
        Some(0) => {
            let verify = newsarc(copy, &["verify"]);
            match export_body(copy, scratch) {
                Some(body) if verify.status.success() && body == pristine.body => {
                    Ok(Outcome::RefusedThenRepaired)
                }
                _ => Err(format!(
                    "repair succeeded but the store is not whole: {}",
                    String::from_utf8_lossy(&verify.stdout)
                )),
            }
        }
        other => Err(format!(
            "repair ended with {other:?}: {}{stderr}",
            String::from_utf8_lossy(&repair.stdout)
        )),
    }
}

/// The revisions of a damaged copy whose document no longer reads, each
/// of which verify's report must name (by revision id or document digest);
/// `Some(what is missing)` when one is not named.
fn unnamed_damage(copy: &Path, report: &serde_json::Value) -> Option<String> {
    let config = newsarc_store::StoreConfig {
        read_only: true,
        ..newsarc_store::StoreConfig::default()
    };
    // A copy whose index cannot be read is judged by its findings alone.
    let store = newsarc_store::Store::open(copy, &config).ok()?;
    let text = report["findings"].to_string();
    let mut unnamed = Vec::new();
    for article in store.articles() {
        let Ok(article) = article else { continue };
        let Ok(timeline) = store.timeline(&article.key) else {
            continue;
        };
        for entry in timeline {
            if store.blob(&entry.blob).is_err()
                && !text.contains(&entry.id.to_string())
                && !text.contains(&entry.blob.to_string())
            {
                unnamed.push(format!("{}@{} ({})", article.key, entry.seq, entry.id));
            }
        }
    }
    (!unnamed.is_empty()).then(|| format!("damaged revisions verify did not name: {unnamed:?}"))
}

/// Counts outcomes per damaged file and collects failures.
#[derive(Default)]
struct Tally {
    outcomes: BTreeMap<(String, Outcome), u64>,
    /// In how many reported copies each kind of finding appeared.
    finding_kinds: BTreeMap<String, u64>,
    failures: Vec<String>,
}

impl Tally {
    fn record(&mut self, what: &str, file: &Path, result: Result<Outcome, String>) {
        let group = file
            .to_str()
            .unwrap()
            .split(['/', '.'])
            .next()
            .unwrap()
            .to_owned();
        match result {
            Ok(Outcome::Detected(kinds)) => {
                for kind in kinds {
                    *self.finding_kinds.entry(kind).or_default() += 1;
                }
                *self
                    .outcomes
                    .entry((group, Outcome::Detected(Vec::new())))
                    .or_default() += 1;
            }
            Ok(outcome) => *self.outcomes.entry((group, outcome)).or_default() += 1,
            Err(reason) => self.failures.push(format!("{what}: {reason}")),
        }
    }

    fn print_and_check(&self, title: &str) {
        println!("{title}");
        for ((file, outcome), count) in &self.outcomes {
            println!("  {file:<12} {outcome:<44} {count}");
        }
        if !self.finding_kinds.is_empty() {
            let kinds: Vec<String> = self
                .finding_kinds
                .iter()
                .map(|(kind, copies)| format!("{kind} in {copies}"))
                .collect();
            println!(
                "  verify's findings in the reported copies: {}",
                kinds.join(", ")
            );
        }
        assert!(
            self.failures.is_empty(),
            "{} unacceptable outcomes:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
    }
}

fn rng() -> rand_pcg::Pcg64 {
    rand_pcg::Pcg64::seed_from_u64(env_number("NEWSARC_CORRUPTION_SEED", 7))
}

/// Picks a byte of the store uniformly: bigger files get more flips.
fn pick_byte(files: &[(PathBuf, u64)], rng: &mut impl RngExt) -> (PathBuf, u64) {
    let total: u64 = files.iter().map(|(_, size)| size).sum();
    let mut at = rng.random_range(0..total);
    for (file, size) in files {
        if at < *size {
            return (file.clone(), at);
        }
        at -= size;
    }
    unreachable!("the offset is below the total size")
}

#[test]
#[cfg_attr(
    newsarc_no_corpus,
    ignore = "the public corpus is missing: set NEWSARC_CORPUS (README: Tests and the public corpus)"
)]
fn single_byte_flips_are_refused_reported_or_harmless() {
    let Some(corpus) = support_corpus::corpus_dir() else {
        return;
    };
    let pristine = pristine(&corpus);
    let flips = env_number("NEWSARC_CORRUPTION_FLIPS", 40);
    let mut rng = rng();
    let mut tally = Tally::default();
    for flip in 0..flips {
        let state = (flip % 2) as usize;
        let scratch = tempfile::tempdir().unwrap();
        let copy = scratch.path().join("store");
        copy_store(&pristine.states[state], &copy);
        let (file, offset) = pick_byte(&pristine.files[state], &mut rng);
        let bit = 1u8 << rng.random_range(0..8u32);
        let path = copy.join(&file);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[offset as usize] ^= bit;
        std::fs::write(&path, bytes).unwrap();
        let what = format!(
            "flip {flip}: bit {bit:#04x} of {} byte {offset}",
            file.display()
        );
        tally.record(&what, &file, judge(&copy, &pristine, scratch.path()));
    }
    let total: u64 = pristine.files[1].iter().map(|(_, size)| size).sum();
    tally.print_and_check(&format!(
        "{flips} single-byte flips, half on the store as ingest left it, half after a reopen ({} files, {total} bytes):",
        pristine.files[1].len()
    ));
}

#[test]
#[cfg_attr(
    newsarc_no_corpus,
    ignore = "the public corpus is missing: set NEWSARC_CORPUS (README: Tests and the public corpus)"
)]
fn truncated_and_deleted_files_are_refused_reported_or_harmless() {
    let Some(corpus) = support_corpus::corpus_dir() else {
        return;
    };
    let pristine = pristine(&corpus);
    let mut rng = rng();
    let mut tally = Tally::default();
    let truncations = env_number("NEWSARC_CORRUPTION_TRUNCATIONS", 5);
    let mut damages: Vec<(usize, PathBuf, Option<u64>)> = Vec::new();
    for (state, files) in pristine.files.iter().enumerate() {
        for (file, size) in files {
            damages.push((state, file.clone(), None));
            damages.push((state, file.clone(), Some(0)));
            for _ in 0..truncations {
                damages.push((
                    state,
                    file.clone(),
                    Some(rng.random_range(0..(*size).max(1))),
                ));
            }
        }
    }
    for (state, file, length) in &damages {
        let scratch = tempfile::tempdir().unwrap();
        let copy = scratch.path().join("store");
        copy_store(&pristine.states[*state], &copy);
        let path = copy.join(file);
        let what = match length {
            None => {
                std::fs::remove_file(&path).unwrap();
                format!("{} deleted", file.display())
            }
            Some(length) => {
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .unwrap()
                    .set_len(*length)
                    .unwrap();
                format!("{} truncated to {length} bytes", file.display())
            }
        };
        tally.record(&what, file, judge(&copy, &pristine, scratch.path()));
    }
    tally.print_and_check(&format!(
        "{} truncated or deleted files, in both states:",
        damages.len()
    ));
}

/// The index's files of a store (its sorted run and sled's), which the packs rebuild.
fn index_files(files: &[(PathBuf, u64)]) -> Vec<(PathBuf, u64)> {
    files
        .iter()
        .filter(|(file, _)| file.starts_with("index"))
        .cloned()
        .collect()
}

/// Brings a copy whose index files were damaged back with `repair
/// --rebuild-index`: whole, byte for byte, and verifying clean.
fn salvage(copy: &Path, pristine: &Pristine, scratch: &Path) -> Result<(), String> {
    let repair = newsarc(copy, &["repair", "--rebuild-index", "--json"]);
    if !repair.status.success() {
        return Err(format!(
            "repair --rebuild-index ended with {:?}: {}{}",
            repair.status.code(),
            String::from_utf8_lossy(&repair.stdout),
            String::from_utf8_lossy(&repair.stderr)
        ));
    }
    let verify = newsarc(copy, &["verify", "--deep"]);
    if !verify.status.success() {
        return Err(format!(
            "verify --deep after repair: {}",
            String::from_utf8_lossy(&verify.stdout)
        ));
    }
    match export_body(copy, scratch) {
        Some(body) if body == pristine.body => Ok(()),
        Some(_) => Err("the repaired store exports other contents".into()),
        None => Err("the repaired store does not export".into()),
    }
}

#[test]
#[cfg_attr(
    newsarc_no_corpus,
    ignore = "the public corpus is missing: set NEWSARC_CORPUS (README: Tests and the public corpus)"
)]
fn every_copy_with_damaged_index_files_is_salvaged_from_the_packs() {
    let Some(corpus) = support_corpus::corpus_dir() else {
        return;
    };
    let pristine = pristine(&corpus);
    let flips = env_number("NEWSARC_SALVAGE_FLIPS", 100);
    let mut rng = rng();
    let mut failures = Vec::new();
    let mut damages = Vec::new();
    for flip in 0..flips {
        let state = (flip % 2) as usize;
        let (file, offset) = pick_byte(&index_files(&pristine.files[state]), &mut rng);
        damages.push((state, file, Some(offset)));
    }
    for state in 0..2 {
        for (file, _) in index_files(&pristine.files[state]) {
            damages.push((state, file, None));
        }
        damages.push((state, PathBuf::from("index"), None));
    }
    for (state, file, offset) in &damages {
        let scratch = tempfile::tempdir().unwrap();
        let copy = scratch.path().join("store");
        copy_store(&pristine.states[*state], &copy);
        let path = copy.join(file);
        let what = match offset {
            Some(offset) => {
                let mut bytes = std::fs::read(&path).unwrap();
                bytes[*offset as usize] ^= 1 << rng.random_range(0..8u32);
                std::fs::write(&path, bytes).unwrap();
                format!("{} byte {offset} flipped", file.display())
            }
            None if path.is_dir() => {
                std::fs::remove_dir_all(&path).unwrap();
                format!("{} deleted", file.display())
            }
            None => {
                std::fs::remove_file(&path).unwrap();
                format!("{} deleted", file.display())
            }
        };
        if let Err(reason) = salvage(&copy, &pristine, scratch.path()) {
            failures.push(format!("{what}: {reason}"));
        }
    }
    println!(
        "{} copies with damaged index files, every one salvaged from the packs: {}",
        damages.len(),
        failures.is_empty()
    );
    assert!(
        failures.is_empty(),
        "{} copies not salvaged:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
