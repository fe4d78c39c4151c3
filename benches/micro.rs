//! Criterion micro benchmarks of each step a revision goes through, on
//! synthetic news pages (`benches/synth.rs`), so they run without the
//! public corpus: BLAKE3 on revision-sized inputs, storing one revision
//! (compression against its parent included), reconstructing a blob, record
//! encode and decode, parse + store of one revision, one history lookup, one
//! diff, and verify per object.
//!
//! Run: `cargo bench -p newsarc --bench micro`

#[path = "synth.rs"]
mod synth;

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use newsarc::Archive;
use newsarc_model::codec;
use newsarc_model::record::RevisionRecord;
use newsarc_model::{ArticleKey, Digest, Millis, RevisionId};
use newsarc_parse::{DocumentHint, parse_document};
use newsarc_store::{Fetch, Store};

/// The first `n` synthetic revisions.
fn revisions(n: usize) -> Vec<synth::SynthRevision> {
    synth::Synth::with_block(3, 100).take(n).collect()
}

/// Two consecutive revisions of one article (a typical one-edit pair).
fn pair() -> (Vec<u8>, Vec<u8>) {
    let all = revisions(400);
    let first = &all[0];
    let second = all
        .iter()
        .find(|r| r.url == first.url && r.seq == 2)
        .expect("the first article has a second revision");
    (first.bytes.clone(), second.bytes.clone())
}

fn fetch_of<'a>(bytes: &'a [u8], at: i64) -> Fetch<'a> {
    let article = parse_document(bytes, &DocumentHint::default()).expect("parses");
    Fetch {
        article: ArticleKey::new("news.synthetic.example/bench").expect("key"),
        bytes,
        fetched_at: Millis::from_millis(at),
        source: "bench".into(),
        canonical_url: "https://news.synthetic.example/bench".into(),
        text_digest: article.text_digest(),
        meta: article.meta,
        http: None,
        charset: None,
    }
}

fn hashing(c: &mut Criterion) {
    let mut group = c.benchmark_group("blake3");
    for size in [1024usize, 4 * 1024, 16 * 1024, 64 * 1024, 1024 * 1024] {
        let input: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_function(format!("{} KiB", size / 1024), |b| {
            b.iter(|| Digest::of(black_box(&input)))
        });
    }
    group.finish();
}

/// Stores one fetch in a commit of its own (durable, as ingest's are).
fn add_one(store: &Store, fetch: &newsarc_store::Fetch<'_>) -> newsarc_store::Added {
    let mut commit = store.begin().expect("begin");
    let added = commit.add_fetch(fetch).expect("store");
    commit.finish().expect("commit");
    added
}

fn storing(c: &mut Criterion) {
    let (old, new) = pair();
    let mut group = c.benchmark_group("store");
    group.throughput(Throughput::Bytes(new.len() as u64));
    // A fresh in-memory store holding the parent each time, so every
    // iteration compresses `new` against it.
    group.bench_function("add one revision (delta against its parent)", |b| {
        b.iter_batched(
            || {
                let store = Store::in_memory().expect("a throwaway store");
                add_one(&store, &fetch_of(&old, 1));
                store
            },
            |store| add_one(&store, &fetch_of(&new, 2)),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("parse + add one revision (ingest_document)", |b| {
        b.iter_batched(
            || {
                let archive = Archive::in_memory().expect("a throwaway store");
                archive
                    .ingest_document(
                        &old,
                        "a",
                        Millis::from_millis(1),
                        &DocumentHint::default(),
                        None,
                    )
                    .expect("store")
                    .expect("parse");
                archive
            },
            |archive| {
                archive
                    .ingest_document(
                        &new,
                        "b",
                        Millis::from_millis(2),
                        &DocumentHint::default(),
                        None,
                    )
                    .expect("store")
                    .expect("parse")
            },
            BatchSize::SmallInput,
        )
    });

    // Reconstruction: a whole blob, and one at the end of a delta chain.
    let store = Store::in_memory().expect("a throwaway store");
    let all = revisions(2_000);
    let longest = all
        .iter()
        .max_by_key(|r| r.seq)
        .map(|r| r.url.clone())
        .expect("revisions");
    let chain: Vec<_> = all.into_iter().filter(|r| r.url == longest).collect();
    let mut last = None;
    for (at, revision) in chain.iter().enumerate() {
        last = Some(add_one(&store, &fetch_of(&revision.bytes, at as i64)));
    }
    let first_blob = Digest::of(&chain[0].bytes);
    let last = last.expect("a chain");
    let revisions = chain.len();
    group.bench_function("read a whole blob", |b| {
        b.iter(|| store.blob(black_box(&first_blob)).expect("blob"))
    });
    group.bench_function(
        format!("read the last blob of a {revisions}-revision chain"),
        |b| b.iter(|| store.blob(black_box(&last.blob)).expect("blob")),
    );
    group.finish();
}

fn records(c: &mut Criterion) {
    let (old, _) = pair();
    let store = Store::in_memory().expect("a throwaway store");
    let added = add_one(&store, &fetch_of(&old, 1));
    let record = store.revision(&added.revision).expect("record");
    let bytes = codec::encode(&record).expect("encode");
    let mut group = c.benchmark_group("revision record");
    group.bench_function("encode", |b| b.iter(|| codec::encode(black_box(&record))));
    group.bench_function("decode", |b| {
        b.iter(|| codec::decode::<RevisionRecord>(black_box(&bytes)))
    });
    group.bench_function("hash-check and decode (what every read does)", |b| {
        b.iter(|| {
            let id = RevisionId::of_record(black_box(&bytes));
            (id, codec::decode::<RevisionRecord>(&bytes))
        })
    });
    group.finish();
}

fn reading(c: &mut Criterion) {
    // A sled store of 3,000 synthetic revisions.
    let dir = tempfile::tempdir().expect("temp dir");
    let archive = Archive::open(dir.path(), &newsarc::StoreConfig::default()).expect("store");
    let mut longest: Option<(u32, String)> = None;
    let all = revisions(3_000);
    let documents: Vec<_> = all.iter().map(synth::SynthRevision::document).collect();
    let mut stored_all = Vec::new();
    for group in documents.chunks(newsarc::ingest::FILES_PER_COMMIT) {
        stored_all.extend(
            archive
                .ingest_documents(group, &DocumentHint::default())
                .expect("store"),
        );
    }
    for stored in stored_all {
        let stored = stored.expect("parse");
        if longest
            .as_ref()
            .is_none_or(|(seq, _)| stored.added.seq > *seq)
        {
            longest = Some((stored.added.seq, stored.article));
        }
    }
    let (seq, key) = longest.expect("an article");
    let mut group = c.benchmark_group("read");
    group.bench_function(format!("history of a {seq}-revision article (sled)"), |b| {
        b.iter(|| archive.history_of(black_box(&key), false).expect("history"))
    });
    let history = archive.history_of(&key, false).expect("history");
    let ids: Vec<_> = history.revisions().map(|revision| revision.id).collect();
    let (from, to) = (ids[0], ids[1]);
    group.bench_function("diff of one pair (parse both + diff)", |b| {
        b.iter(|| {
            archive
                .diff_revisions(black_box(&from), &to, false)
                .expect("diff")
        })
    });
    let (old, new) = pair();
    let (old, new) = (
        parse_document(&old, &DocumentHint::default()).expect("parse"),
        parse_document(&new, &DocumentHint::default()).expect("parse"),
    );
    group.bench_function("diff of one parsed pair", |b| {
        b.iter(|| newsarc_diff::diff_articles(black_box(&old), &new))
    });
    group.finish();

    let objects = archive
        .check(false, &Default::default(), &mut |_| {}, &mut |_| {})
        .expect("verify")
        .objects;
    let mut group = c.benchmark_group("verify");
    group.sample_size(10);
    group.throughput(Throughput::Elements(objects));
    group.bench_function(format!("whole store ({objects} objects)"), |b| {
        b.iter(|| {
            archive
                .check(false, &Default::default(), &mut |_| {}, &mut |_| {})
                .expect("verify")
        })
    });
    group.finish();
}

criterion_group!(benches, hashing, storing, records, reading);
criterion_main!(benches);
