//! Criterion bench of the structured diff on the public corpus: all
//! consecutive revision pairs per iteration, and the median pair alone.

use criterion::{Criterion, criterion_group, criterion_main};

#[path = "corpus_pairs.rs"]
mod corpus_pairs;

fn bench(c: &mut Criterion) {
    let Some(dir) = corpus_pairs::corpus_dir() else {
        return;
    };
    let pairs = corpus_pairs::parsed_pairs(&dir);
    c.bench_function(
        &format!("diff_articles/all {} corpus pairs", pairs.len()),
        |b| {
            b.iter(|| {
                for (old, new) in &pairs {
                    std::hint::black_box(newsarc_diff::diff_articles(old, new));
                }
            })
        },
    );
    // The pair whose body diff is of median size stands for a typical edit.
    let mut by_size: Vec<_> = pairs
        .iter()
        .map(|(old, new)| (newsarc_diff::diff_articles(old, new).ops.len(), old, new))
        .collect();
    by_size.sort_by_key(|(ops, _, _)| *ops);
    let (_, old, new) = by_size[by_size.len() / 2];
    c.bench_function("diff_articles/median-size pair", |b| {
        b.iter(|| std::hint::black_box(newsarc_diff::diff_articles(old, new)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
