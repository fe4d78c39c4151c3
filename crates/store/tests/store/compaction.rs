//! The index's live layer folded into its sorted run while a writer runs:
//! nothing read changes, a reader in another thread goes on reading, and a
//! reader of the closed store opens no sled.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use newsarc_model::ArticleKey;
use newsarc_store::{Store, StoreConfig};

use crate::backend::{add, document, fetch, findings};

const ARTICLES: u32 = 40;

fn run_size(store: &std::path::Path) -> u64 {
    std::fs::metadata(store.join("index/sorted.run")).map_or(0, |meta| meta.len())
}

#[test]
fn a_writer_compacts_as_it_goes_and_readers_see_every_commit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let config = StoreConfig {
        compact_after: 20,
        ..StoreConfig::default()
    };
    let store = Arc::new(Store::open(&path, &config).unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (store, stop) = (Arc::clone(&store), Arc::clone(&stop));
        std::thread::spawn(move || {
            let mut scans = 0;
            while !stop.load(Ordering::Relaxed) {
                // Whatever a compaction does meanwhile, what was committed
                // stays there, in order.
                let articles = store.counters().unwrap().articles;
                let listed = store.articles().map(Result::unwrap).count() as u64;
                assert!(
                    listed >= articles,
                    "{listed} articles listed, {articles} counted"
                );
                scans += 1;
            }
            scans
        })
    };
    let mut sizes = Vec::new();
    for version in 0..3 {
        for article in 0..ARTICLES {
            let key = format!("example.org/{article}");
            let body = [key.as_bytes(), &document(version)].concat();
            add(
                &store,
                &fetch(&key, &body, i64::from(version * 100 + article), "T"),
            );
        }
        sizes.push(run_size(&path));
    }
    stop.store(true, Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);
    assert!(
        sizes.windows(2).all(|pair| pair[0] < pair[1]) && sizes[0] > 0,
        "the run was not rewritten while the writer ran: {sizes:?}"
    );
    for article in 0..ARTICLES {
        let key = ArticleKey::new(format!("example.org/{article}")).unwrap();
        assert_eq!(store.timeline(&key).unwrap().len(), 3);
    }
    assert!(findings(&store, true).is_empty());
    drop(store);

    let reader = Store::open(
        &path,
        &StoreConfig {
            read_only: true,
            ..StoreConfig::default()
        },
    )
    .unwrap();
    assert_eq!(
        reader.counters().unwrap().revisions,
        u64::from(ARTICLES) * 3
    );
    assert!(findings(&reader, true).is_empty());
}

#[test]
fn readers_read_beside_a_writer_and_whole_store_walks_wait_for_it_to_go() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let body = document(1);
    drop({
        let store = Store::open(&path, &StoreConfig::default()).unwrap();
        add(&store, &fetch("example.org/a", &body, 1, "T"));
        store
    });
    let writer = Store::open(&path, &StoreConfig::default()).unwrap();
    add(&writer, &fetch("example.org/b", &body, 2, "T"));
    let read_only = StoreConfig {
        read_only: true,
        ..StoreConfig::default()
    };
    let reader = Store::open(&path, &read_only).unwrap();
    // The run has the first commit; the second is taken in from the packs.
    assert_eq!(reader.counters().unwrap().revisions, 2);
    let stop = AtomicBool::new(false);
    let verified = reader.verify(
        newsarc_store::VerifyOptions::default(),
        &mut |_| {},
        &mut |_| {},
        &stop,
    );
    assert!(
        matches!(verified, Err(newsarc_store::StoreError::InUse { .. })),
        "{verified:?}"
    );
    let exported = reader.export(&mut Vec::new(), &mut |_| {});
    assert!(matches!(
        exported,
        Err(newsarc_store::StoreError::InUse { .. })
    ));
    drop(writer);
    assert!(findings(&reader, true).is_empty());
}
