//! The public corpus through the binary, laid out as a mirror folder with
//! each file's modification time the time it was fetched: running an
//! ingest again adds nothing, and the order in which files are ingested
//! changes no article's timeline.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde_json::Value;

use newsarc_model::ChangeKind;

use crate::fingerprint::{Seen, fingerprint, timelines};
use crate::support_corpus::{corpus_dir, mirror_with_fetch_times};
use crate::{newsarc, stderr, stdout};

const REVISIONS: usize = 2723;

#[test]
#[cfg_attr(
    newsarc_no_corpus,
    ignore = "the public corpus is missing: set NEWSARC_CORPUS (README: Tests and the public corpus)"
)]
fn running_an_ingest_of_the_corpus_again_changes_nothing() {
    let Some(corpus) = corpus_dir() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mirror = dir.path().join("mirror");
    mirror_with_fetch_times(&corpus, &mirror);
    let articles = mirror.join("articles");
    let store = dir.path().join("store");
    let first = newsarc(&store, &["ingest", articles.to_str().unwrap()]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let once = fingerprint(&store);
    assert_eq!(once.counters.revisions, REVISIONS as u64);
    for run in 2..=3 {
        let again = newsarc(&store, &["ingest", articles.to_str().unwrap()]);
        assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
        assert_eq!(
            stdout(&again),
            format!(
                "{REVISIONS} files: 0 new articles, 0 new revisions, 0 unchanged, {REVISIONS} already archived, 0 failed\n"
            ),
            "run {run}"
        );
        assert!(fingerprint(&store) == once, "run {run} changed the store");
    }
}

#[test]
#[cfg_attr(
    newsarc_no_corpus,
    ignore = "the public corpus is missing: set NEWSARC_CORPUS (README: Tests and the public corpus)"
)]
fn the_order_files_are_ingested_in_changes_no_timeline() {
    let Some(corpus) = corpus_dir() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mirror = dir.path().join("mirror");
    let mut files = mirror_with_fetch_times(&corpus, &mirror);
    let ingest = |store: &std::path::Path, files: &[std::path::PathBuf]| {
        let mut args = vec!["ingest".to_owned()];
        args.extend(files.iter().map(|file| file.display().to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = newsarc(store, &args);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    };
    let in_order = dir.path().join("in-order");
    ingest(&in_order, &files);
    files.shuffle(&mut rand_pcg::Pcg64::seed_from_u64(13));
    let shuffled = dir.path().join("shuffled");
    ingest(&shuffled, &files);

    let expected = timelines(&in_order);
    let found = timelines(&shuffled);
    assert_eq!(expected.len(), found.len());
    let differing: Vec<_> = expected
        .iter()
        .filter(|(key, timeline)| {
            found
                .get(*key)
                .is_none_or(|other| !same_up_to_ties(timeline, other))
        })
        .map(|(key, _)| key)
        .take(5)
        .collect();
    assert!(differing.is_empty(), "timelines differ: {differing:?}");
    // And `log` shows it so: the articles with the longest histories, whose
    // chains the shuffle reordered most, list the same revisions.
    let mut longest: Vec<_> = expected.iter().collect();
    longest.sort_by_key(|(key, timeline)| (std::cmp::Reverse(timeline.len()), *key));
    for (key, _) in longest.into_iter().take(20) {
        let shown = |store: &std::path::Path| -> Vec<(Value, Value, Value)> {
            let log: Value =
                serde_json::from_slice(&newsarc(store, &["log", "--json", key]).stdout).unwrap();
            log.as_array()
                .unwrap()
                .iter()
                .map(|entry| {
                    (
                        entry["fetched_at"].clone(),
                        entry["blob"].clone(),
                        entry["change"].clone(),
                    )
                })
                .collect()
        };
        assert_eq!(shown(&in_order), shown(&shuffled), "log {key}");
    }
    let verify = newsarc(&shuffled, &["verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
}

/// Two timelines with the same entries in fetch-time order. Revisions
/// fetched at the very same moment (the corpus has three articles with two
/// revisions in one commit) have no order in time: the archive puts them in
/// the order it learnt them, so only their set is compared, and the change
/// kind of a revision only where neither it nor the one before it shares
/// its moment.
fn same_up_to_ties(a: &[Seen], b: &[Seen]) -> bool {
    let at = |seen: &Seen| match seen {
        Seen::Revision(at, ..) | Seen::Observation(at, _) | Seen::Event(at, _) => *at,
    };
    let groups = |timeline: &[Seen]| -> Vec<Vec<Seen>> {
        let mut groups: Vec<Vec<Seen>> = Vec::new();
        for seen in timeline {
            match groups.last_mut() {
                Some(group) if at(&group[0]) == at(seen) => group.push(seen.clone()),
                _ => groups.push(vec![seen.clone()]),
            }
        }
        groups
    };
    let without_change = |seen: &Seen| match seen {
        Seen::Revision(at, blob, _) => Seen::Revision(*at, *blob, ChangeKind::New),
        other => other.clone(),
    };
    let (a, b) = (groups(a), groups(b));
    a.len() == b.len()
        && a.iter().zip(&b).enumerate().all(|(index, (x, y))| {
            let tied = x.len() > 1 || index > 0 && a[index - 1].len() > 1;
            if tied {
                let mut x: Vec<String> = x
                    .iter()
                    .map(|s| format!("{:?}", without_change(s)))
                    .collect();
                let mut y: Vec<String> = y
                    .iter()
                    .map(|s| format!("{:?}", without_change(s)))
                    .collect();
                x.sort();
                y.sort();
                x == y
            } else {
                x == y
            }
        })
}
