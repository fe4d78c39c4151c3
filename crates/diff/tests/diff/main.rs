//! newsarc-diff's tests: properties over generated articles, and fixtures
//! the project wrote for each behaviour users rely on.

// A test that meets an unexpected value should stop right there.
#![allow(clippy::unwrap_used)]

mod fixtures;
mod properties;

use newsarc_model::Article;

fn article(paragraphs: &[&str]) -> Article {
    Article {
        paragraphs: paragraphs.iter().map(|p| (*p).to_owned()).collect(),
        ..Article::default()
    }
}
