//! The engine conformance suite, run on every engine, and a model test of
//! each against a `BTreeMap`. In the crate because the engines are private
//! to it.

// A test that meets an unexpected value should stop right there.
#![allow(clippy::unwrap_used)]

use super::{KvEngine, MemoryEngine, SledEngine};

/// Generates one `#[test]` per engine for each listed function.
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod sled {
            $(#[test] fn $name() { super::$name(&super::Backend::sled()) })*
        }
        mod memory {
            $(#[test] fn $name() { super::$name(&super::Backend::memory()) })*
        }
    };
}

mod conformance;
mod model;

/// The engines under test, each able to "reopen" the same data.
enum Backend {
    Sled(tempfile::TempDir),
    Memory(MemoryEngine),
}

impl Backend {
    fn sled() -> Self {
        Self::Sled(tempfile::tempdir().expect("temp dir"))
    }

    fn memory() -> Self {
        Self::Memory(MemoryEngine::new())
    }

    /// Opens the backend's data; drop the previous handle first.
    fn engine(&self) -> Box<dyn KvEngine> {
        match self {
            Self::Sled(dir) => {
                Box::new(SledEngine::open(dir.path(), 16 << 20).expect("reopen sled"))
            }
            Self::Memory(engine) => Box::new(engine.clone()),
        }
    }
}
