//! Running the real `newsarc` binary from the cli crate's test binaries.
// Each test binary uses a part of this module.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs `newsarc --store STORE ARGS…` with a clean environment.
pub fn newsarc(store: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_newsarc"))
        .arg("--store")
        .arg(store)
        .args(args)
        .env_remove("NEWSARC_STORE")
        .env("NO_COLOR", "1")
        .output()
        .expect("run newsarc")
}

/// A number from the environment, or `default`.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// An export file's bytes without its header frame, which carries the
/// export's time: two exports of the same contents give the same bytes.
pub fn export_body(file: &Path) -> Vec<u8> {
    let bytes = std::fs::read(file).expect("read the export");
    let header = u32::from_be_bytes(bytes[..4].try_into().expect("a frame length")) as usize;
    bytes[4 + header..].to_vec()
}
