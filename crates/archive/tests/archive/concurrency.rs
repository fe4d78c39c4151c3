//! Eight writers on one archive, ingesting overlapping articles at once:
//! nothing is lost and every article's history stays one chain.

use std::collections::HashSet;
use std::sync::Arc;

use newsarc::Archive;

use crate::synth::Synth;

#[test]
fn eight_writers_on_overlapping_articles_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let archive = Arc::new(Archive::open(dir.path(), &newsarc::StoreConfig::default()).unwrap());
    // Small blocks, so that all eight threads touch the same articles.
    let revisions: Arc<Vec<_>> = Arc::new(Synth::with_block(5, 20).take(800).collect());
    let writers: Vec<_> = (0..8)
        .map(|writer| {
            let (archive, revisions) = (Arc::clone(&archive), Arc::clone(&revisions));
            std::thread::spawn(move || {
                // Every writer stores every eighth revision, and a few of
                // the others' too, so that the same bytes race as well.
                revisions
                    .iter()
                    .enumerate()
                    .filter(|(index, _)| index % 8 == writer || index % 97 == 0)
                    .map(|(_, revision)| revision.ingest(&archive).added.revision)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut acknowledged = HashSet::new();
    for writer in writers {
        acknowledged.extend(writer.join().unwrap());
    }
    let report = archive
        .check(
            true,
            &Default::default(),
            &mut |f| panic!("{f:?}"),
            &mut |_| {},
        )
        .unwrap();
    assert!(report.ok());
    for id in &acknowledged {
        archive.store().revision(id).unwrap();
    }
    // Every distinct page is stored: as many bytes as they add up to, and
    // at least one revision each.
    let distinct: HashSet<&[u8]> = revisions.iter().map(|r| r.bytes.as_slice()).collect();
    let counters = archive.store().counters().unwrap();
    let distinct_bytes: usize = distinct.iter().map(|bytes| bytes.len()).sum();
    assert_eq!(counters.raw_bytes, distinct_bytes as u64);
    assert!(counters.revisions as usize >= distinct.len());
}
