//! The stores under test: on disk (sled index, reopenable) and throwaway
//! (memory index), and fetches to put in them.

use newsarc_model::{ArticleKey, ArticleMeta, Digest, Millis};
use newsarc_store::{Added, Fetch, Store, StoreConfig};

pub enum Backend {
    Disk(tempfile::TempDir),
    Memory,
}

impl Backend {
    pub fn disk() -> Self {
        Self::Disk(tempfile::tempdir().expect("temp dir"))
    }

    pub fn memory() -> Self {
        Self::Memory
    }

    /// A store over the backend's data (on disk: the same each time; drop
    /// the previous handle first).
    pub fn store(&self) -> Store {
        match self {
            Self::Disk(dir) => {
                Store::open(&dir.path().join("store"), &StoreConfig::default()).expect("open")
            }
            Self::Memory => Store::in_memory().unwrap(),
        }
    }
}

/// Generates one `#[test]` per backend for each listed function.
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod disk {
            $(#[test] fn $name() { super::$name(&$crate::backend::Backend::disk()) })*
        }
        mod memory {
            $(#[test] fn $name() { super::$name(&$crate::backend::Backend::memory()) })*
        }
    };
}

/// A fetch of `body` for `article` at `time` ms.
pub fn fetch<'a>(article: &str, body: &'a [u8], time: i64, title: &str) -> Fetch<'a> {
    Fetch {
        article: ArticleKey::new(article).expect("key"),
        bytes: body,
        fetched_at: Millis::from_millis(time),
        source: format!("{article}.md"),
        canonical_url: format!("https://{article}"),
        meta: ArticleMeta {
            title: Some(title.to_owned()),
            url: format!("https://{article}"),
            ..ArticleMeta::default()
        },
        text_digest: Digest::of(body),
        http: None,
        charset: None,
    }
}

/// Stores one fetch in a commit of its own.
pub fn add(store: &Store, fetch: &Fetch<'_>) -> Added {
    let mut commit = store.begin().expect("begin");
    let added = commit.add_fetch(fetch).expect("add");
    commit.finish().expect("finish");
    added
}

/// A document of a few KiB that differs from its neighbours in one place.
pub fn document(version: u32) -> Vec<u8> {
    let mut text = String::from("<html><body>");
    for paragraph in 0..60 {
        text.push_str(&format!(
            "<p>Paragraph {paragraph} of the article says something. </p>"
        ));
    }
    text.push_str(&format!("<p>Edit number {version}.</p></body></html>"));
    text.into_bytes()
}

/// Checks the whole store; the findings' kinds.
pub fn findings(store: &Store, deep: bool) -> Vec<newsarc_store::Finding> {
    let mut found = Vec::new();
    let stop = std::sync::atomic::AtomicBool::new(false);
    store
        .verify(
            newsarc_store::VerifyOptions { deep },
            &mut |finding| found.push(finding),
            &mut |_| {},
            &stop,
        )
        .expect("verify runs");
    found
}
