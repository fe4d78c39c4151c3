//! Two texts (split at the first NUL) as two articles' paragraphs: the diff
//! never panics, applying its ops to the old body gives the new body, and
//! every renderer writes it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use newsarc_diff::{apply, body_text, diff_articles, render};
use newsarc_model::Article;

fn article(text: &str) -> Article {
    Article {
        paragraphs: text
            .split('\n')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect(),
        ..Article::default()
    }
}

fuzz_target!(|text: &str| {
    let (old, new) = text.split_once('\0').unwrap_or((text, ""));
    let (old, new) = (article(old), article(new));
    let diff = diff_articles(&old, &new);
    let rebuilt = apply(&body_text(&old), &diff.ops).expect("the ops match the old body");
    assert_eq!(rebuilt, body_text(&new));
    let mut out = Vec::new();
    render::write_json(&diff, &mut out).unwrap();
    render::write_unified(&diff, &mut out).unwrap();
    render::write_html(&diff, &mut out).unwrap();
    render::write_term(&diff, true, &mut out).unwrap();
});
