//! The engines under test, each able to "reopen" the same data.

use newsarc_model::{ArticleKey, ArticleMeta, Digest, Millis};
use newsarc_store::engine::{KvEngine, MemoryEngine, SledEngine};
use newsarc_store::{Fetch, Store};

pub enum Backend {
    Sled(tempfile::TempDir),
    Memory(MemoryEngine),
}

impl Backend {
    pub fn sled() -> Self {
        Self::Sled(tempfile::tempdir().expect("temp dir"))
    }

    pub fn memory() -> Self {
        Self::Memory(MemoryEngine::new())
    }

    /// Opens the backend's data; drop the previous handle first.
    pub fn engine(&self) -> Box<dyn KvEngine> {
        match self {
            Self::Sled(dir) => {
                Box::new(SledEngine::open(dir.path(), 16 << 20).expect("reopen sled"))
            }
            Self::Memory(engine) => Box::new(engine.clone()),
        }
    }

    pub fn store(&self) -> Store {
        Store::with_engine(self.engine(), "test".into()).expect("open store")
    }
}

/// Generates one `#[test]` per backend for each listed function.
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod sled {
            $(#[test] fn $name() { super::$name(&$crate::backend::Backend::sled()) })*
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
