//! What makes two stores the same archive: every article's chain of
//! revision ids, its observations, the global log and the counters; and, for
//! stores built in different orders, every article's timeline.
// Each test binary uses a part of this module.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use newsarc::Archive;
use newsarc::timeline::TimelineEntry;
use newsarc_model::record::Counters;
use newsarc_model::{ChangeKind, Digest, Millis, RevisionId};

/// One article: its revision ids in chain order and its observations (time
/// and bytes seen).
pub type ArticleContents = (Vec<RevisionId>, Vec<(Millis, Digest)>);

/// A store's contents, id for id.
#[derive(Debug, PartialEq, Eq)]
pub struct Fingerprint {
    pub articles: BTreeMap<String, ArticleContents>,
    /// The global log, as printed ids.
    pub log: Vec<String>,
    pub counters: Counters,
}

/// Reads the fingerprint of the store in `dir`.
pub fn fingerprint(dir: &Path) -> Fingerprint {
    let archive = Archive::open(dir, &newsarc::StoreConfig::default()).expect("open the store");
    let store = archive.store();
    let mut articles = BTreeMap::new();
    for article in store.articles() {
        let article = article.expect("an article record");
        // The hash chain: the order the archive learnt the revisions in.
        let mut timeline = store.timeline(&article.key).expect("a timeline");
        timeline.sort_by_key(|entry| entry.seq);
        let chain = timeline.into_iter().map(|entry| entry.id).collect();
        let observations = store
            .observations(&article.key)
            .expect("observations")
            .into_iter()
            .map(|observation| (observation.fetched_at, observation.blob))
            .collect();
        articles.insert(article.key.to_string(), (chain, observations));
    }
    let log = store
        .log_from(1, usize::MAX)
        .expect("the log")
        .into_iter()
        .map(|(_, entry)| format!("{entry:?}"))
        .collect();
    Fingerprint {
        articles,
        log,
        counters: store.counters().expect("counters"),
    }
}

/// One timeline entry, without what depends on the order of archiving
/// (revision ids and chain numbers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    Revision(Millis, Digest, ChangeKind),
    Observation(Millis, Digest),
    Event(Millis, &'static str),
}

/// Every article's timeline in the store in `dir`.
pub fn timelines(dir: &Path) -> BTreeMap<String, Vec<Seen>> {
    let archive = Archive::open(dir, &newsarc::StoreConfig::default()).expect("open the store");
    let articles: Vec<_> = archive
        .store()
        .articles()
        .collect::<Result<_, _>>()
        .expect("article records");
    articles
        .into_iter()
        .map(|article| {
            let key = article.key.to_string();
            let timeline = archive.timeline(article, true).expect("a timeline");
            let seen = timeline
                .entries
                .into_iter()
                .map(|entry| match entry {
                    TimelineEntry::Revision(revision) => Seen::Revision(
                        revision.record.fetched_at,
                        revision.record.blob,
                        revision.change,
                    ),
                    TimelineEntry::Observation(observation) => {
                        Seen::Observation(observation.fetched_at, observation.blob)
                    }
                    TimelineEntry::Event(_, event) => Seen::Event(event.at, event.kind.as_str()),
                })
                .collect();
            (key, seen)
        })
        .collect()
}
