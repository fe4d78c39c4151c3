//! Any string as a URL: canonicalising is idempotent, and the article key
//! of a URL is the key of its canonical form.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use newsarc_parse::{KeyRules, canonical_url};

/// Built once: compiling the rules' expressions dominates a run otherwise.
static RULES: LazyLock<KeyRules> = LazyLock::new(KeyRules::builtin);

fuzz_target!(|text: &str| {
    let Ok(url) = canonical_url(text) else {
        return;
    };
    let again = canonical_url(url.as_str()).expect("a canonical URL stays valid");
    assert_eq!(again, url, "canonicalising twice changed {text:?}");
    if let Ok(key) = RULES.key_for(text) {
        assert_eq!(RULES.key_for(url.as_str()).ok(), Some(key));
    }
});
