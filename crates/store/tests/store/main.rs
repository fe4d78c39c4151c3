//! newsarc-store's integration tests: one conformance suite run on every
//! engine, a model test against a `BTreeMap`, store behaviour, and verify's
//! findings on deliberately damaged stores and what repair makes of them.

// A test that meets an unexpected value should stop right there.
#![allow(clippy::unwrap_used)]

mod backend;
mod conformance;
mod model;
mod repair;
mod store;
mod verify;
