//! The scale run's generator (`benches/synth.rs`): deterministic, parsable,
//! and shaped like the corpus it claims to imitate.

use std::collections::{BTreeMap, BTreeSet};

use newsarc::Archive;

use crate::synth::Synth;

#[test]
fn the_same_seed_gives_the_same_revisions() {
    let one: Vec<_> = Synth::new(7).take(300).map(|r| (r.url, r.bytes)).collect();
    let two: Vec<_> = Synth::new(7).take(300).map(|r| (r.url, r.bytes)).collect();
    let other: Vec<_> = Synth::new(8).take(300).map(|r| (r.url, r.bytes)).collect();
    assert_eq!(one, two);
    assert_ne!(one, other);
}

#[test]
fn revisions_parse_group_by_article_and_have_the_corpus_shape() {
    let archive = Archive::in_memory().unwrap();
    let mut sizes = Vec::new();
    let mut per_article: BTreeMap<String, u32> = BTreeMap::new();
    let mut changes = BTreeSet::new();
    let mut per_unchanged: BTreeMap<String, u32> = BTreeMap::new();
    let mut last_time = 0;
    for revision in Synth::with_block(42, 100).take(1_500) {
        assert!(revision.fetched_at > last_time, "fetch order");
        last_time = revision.fetched_at;
        sizes.push(revision.bytes.len());
        let stored = revision.ingest(&archive);
        // An edit may change nothing (a word replaced by itself): then the
        // fetch is an observation of the previous revision.
        match stored.added.change {
            Some(change) => {
                assert_eq!(
                    stored.added.seq,
                    revision.seq - unchanged_fetches(&per_unchanged, &stored.article)
                );
                changes.insert(change.as_str());
            }
            None => *per_unchanged.entry(stored.article.clone()).or_default() += 1,
        }
        *per_article.entry(stored.article).or_default() += 1;
    }
    let unchanged: u32 = per_unchanged.values().sum();
    assert!(
        unchanged < 4_000 / 50,
        "{unchanged} of 4000 fetches changed nothing"
    );
    sizes.sort_unstable();
    let median = sizes[sizes.len() / 2];
    assert!((5_000..7_500).contains(&median), "median size {median}");
    // Whole blocks only, so that every article has all its revisions.
    let complete: Vec<u32> = per_article.values().copied().collect();
    let mean = f64::from(complete.iter().sum::<u32>()) / complete.len() as f64;
    assert!((3.0..4.2).contains(&mean), "mean revisions {mean}");
    assert!(complete.iter().all(|n| (1..=8).contains(n)));
    // The headline is also the page's <h1>, so a new title is a body change.
    for kind in ["new", "body", "metadata"] {
        assert!(changes.contains(kind), "{kind} missing from {changes:?}");
    }
}

fn unchanged_fetches(counts: &BTreeMap<String, u32>, article: &str) -> u32 {
    counts.get(article).copied().unwrap_or(0)
}
