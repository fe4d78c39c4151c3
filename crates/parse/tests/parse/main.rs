//! newsarc-parse's tests on fixtures the project wrote itself
//! (`tests/fixtures/`): good posts and pages, and each kind of bad input.

// A test that meets an unexpected value should stop right there.
#![allow(clippy::unwrap_used)]

mod bad_input;
mod pages;
mod posts;

use newsarc_model::Article;
use newsarc_parse::{DocumentHint, ParseError, parse_document};

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

fn parse(name: &str) -> Result<Article, ParseError> {
    parse_document(&fixture(name), &DocumentHint::default())
}
