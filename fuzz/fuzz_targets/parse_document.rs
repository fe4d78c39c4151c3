//! Any bytes, as a post or as a page: a parse result or an error, never a
//! panic, and a parsed article always has a URL and some content.
#![no_main]

use libfuzzer_sys::fuzz_target;
use newsarc_parse::{DocumentHint, parse_document};

fuzz_target!(|bytes: &[u8]| {
    for hint in [
        DocumentHint::default(),
        DocumentHint {
            url: Some("https://example.org/fuzz/page".into()),
            ..DocumentHint::default()
        },
        DocumentHint {
            url: Some("https://example.com.tw/fuzz/page".into()),
            declared_charset: Some("big5".into()),
        },
    ] {
        if let Ok(article) = parse_document(bytes, &hint) {
            assert!(!article.meta.url.is_empty());
            assert!(!article.paragraphs.is_empty() || !article.images.is_empty());
        }
    }
});
