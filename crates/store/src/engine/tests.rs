//! The engine conformance suite, run on every engine, and a model test of
//! each against a `BTreeMap`. In the crate because the engines are private
//! to it.

// A test that meets an unexpected value should stop right there.
#![allow(clippy::unwrap_used)]

use std::cell::RefCell;

use super::{KvEngine, LayeredEngine, MemoryEngine, Run, SledEngine, staging};

/// Generates one `#[test]` per engine for each listed function.
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod sled {
            $(#[test] fn $name() { super::$name(&super::Backend::sled()) })*
        }
        mod memory {
            $(#[test] fn $name() { super::$name(&super::Backend::memory()) })*
        }
        mod layered {
            $(#[test] fn $name() { super::$name(&super::Backend::layered()) })*
        }
    };
}

mod conformance;
mod model;

/// The engines under test, each able to "reopen" the same data.
enum Backend {
    Sled(tempfile::TempDir),
    Memory(MemoryEngine),
    /// A sorted run in the directory under a memory live layer; each
    /// "reopen" compacts the live layer into a new run.
    Layered(tempfile::TempDir, RefCell<MemoryEngine>),
}

impl Backend {
    fn sled() -> Self {
        Self::Sled(tempfile::tempdir().expect("temp dir"))
    }

    fn memory() -> Self {
        Self::Memory(MemoryEngine::new())
    }

    fn layered() -> Self {
        Self::Layered(
            tempfile::tempdir().expect("temp dir"),
            RefCell::new(MemoryEngine::new()),
        )
    }

    /// Opens the backend's data; drop the previous handle first.
    fn engine(&self) -> Box<dyn KvEngine> {
        match self {
            Self::Sled(dir) => {
                Box::new(SledEngine::open(dir.path(), 16 << 20).expect("reopen sled"))
            }
            Self::Memory(engine) => Box::new(engine.clone()),
            Self::Layered(dir, live) => {
                let path = dir.path().join("sorted.run");
                let run = path
                    .exists()
                    .then(|| Run::open(&path, 1 << 20).expect("open run"));
                let before =
                    LayeredEngine::new(run, Box::new(live.borrow().clone()), "live".into());
                if before.live_is_empty() {
                    return Box::new(before);
                }
                before
                    .write_run(&staging(&path), 1 << 20)
                    .expect("write run");
                drop(before);
                std::fs::rename(staging(&path), &path).expect("rename run");
                let fresh = MemoryEngine::new();
                *live.borrow_mut() = fresh.clone();
                let run = Run::open(&path, 1 << 20).expect("open run");
                Box::new(LayeredEngine::new(
                    Some(run),
                    Box::new(fresh),
                    "live".into(),
                ))
            }
        }
    }
}
