//! Damage done to a store's files from outside, the way disks and crashes
//! do it: bytes flipped or cut in the packs, sled's files damaged or gone.

use std::path::{Path, PathBuf};

use newsarc_model::Digest;
use newsarc_store::{Added, Store, StoreConfig};

use crate::backend::{add, document, fetch};

/// A store on disk with two articles of three revisions each.
pub struct Damaged {
    pub dir: tempfile::TempDir,
    pub added: Vec<Added>,
}

impl Damaged {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store"), &StoreConfig::default()).unwrap();
        let mut added = Vec::new();
        for article in ["example.org/a", "example.org/b"] {
            for version in 0..3 {
                let body = [article.as_bytes(), &document(version)].concat();
                added.push(add(&store, &fetch(article, &body, i64::from(version), "T")));
            }
        }
        Self { dir, added }
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    pub fn pack(&self) -> PathBuf {
        self.path().join("packs/00000001.pack")
    }

    /// Cuts `bytes` off the end of the pack, as a lost tail would.
    pub fn cut_pack(&self, bytes: u64) {
        let length = std::fs::metadata(self.pack()).unwrap().len();
        std::fs::File::options()
            .write(true)
            .open(self.pack())
            .unwrap()
            .set_len(length - bytes)
            .unwrap();
    }

    pub fn open(&self) -> Store {
        Store::open(&self.path(), &StoreConfig::default()).unwrap()
    }

    pub fn open_read_only(&self) -> Store {
        let config = StoreConfig {
            read_only: true,
            ..StoreConfig::default()
        };
        Store::open(&self.path(), &config).unwrap()
    }

    /// Flips one byte of the pack at `offset`.
    pub fn flip(&self, offset: u64) {
        flip(&self.pack(), offset);
    }
}

pub fn flip(path: &Path, offset: u64) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[offset as usize] ^= 0x40;
    std::fs::write(path, bytes).unwrap();
}

/// Where in the pack the frame holding `digest`'s document is: found by
/// its digest, which every document frame's header carries.
pub fn frame_of(pack: &Path, digest: &Digest) -> u64 {
    let bytes = std::fs::read(pack).unwrap();
    let needle = digest.as_bytes();
    let at = bytes
        .windows(needle.len())
        .position(|window| window == needle)
        .expect("the digest is in a frame header");
    at as u64
}
