//! newsarc-store's integration tests, through its public face only: store
//! behaviour on disk and in memory, export and import, and what verify and
//! repair make of stores damaged from outside. The engine conformance
//! suite and model test are in the crate (`src/engine/tests`).

// A test that meets an unexpected value should stop right there.
#![allow(clippy::unwrap_used)]

mod backend;
mod blocks;
mod compaction;
mod damage;
mod repair;
mod store;
mod verify;
