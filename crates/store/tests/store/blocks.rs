//! Document blocks: the first revisions a commit stores are compressed
//! together in one frame; each still reads, rebuilds and is lost alone.

use std::collections::BTreeSet;

use newsarc_model::Digest;
use newsarc_pack::{Frame, Kind, PackSet, Scanned};
use newsarc_store::{Added, FindingKind, RepairOptions, Store, StoreConfig, StoreError};

use crate::backend::{add, document, fetch, findings};

/// Articles in the commit of first revisions.
const ARTICLES: u32 = 20;

/// A store with one commit of `ARTICLES` first revisions and, in the same
/// commit, a second revision of the first article (a delta against a block
/// member); then an article of its own commit.
struct Blocked {
    dir: tempfile::TempDir,
    /// The commit's first revisions, in order.
    firsts: Vec<Added>,
    second: Added,
    later: Added,
}

fn body(article: u32, version: u32) -> Vec<u8> {
    [
        format!("article {article}\n").as_bytes(),
        &document(version),
    ]
    .concat()
}

impl Blocked {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store"), &StoreConfig::default()).unwrap();
        let mut commit = store.begin().unwrap();
        let firsts = (0..ARTICLES)
            .map(|article| {
                let key = format!("example.org/{article}");
                commit
                    .add_fetch(&fetch(&key, &body(article, 0), 0, "T"))
                    .unwrap()
            })
            .collect();
        let second = commit
            .add_fetch(&fetch("example.org/0", &body(0, 1), 1, "T"))
            .unwrap();
        commit.finish().unwrap();
        let later = add(&store, &fetch("example.org/later", &body(99, 0), 2, "T"));
        Self {
            dir,
            firsts,
            second,
            later,
        }
    }

    fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("store")
    }

    fn open(&self) -> Store {
        Store::open(&self.path(), &StoreConfig::default()).unwrap()
    }

    /// Every frame in the packs.
    fn frames(&self) -> Vec<Frame> {
        let packs = PackSet::open(&self.path().join("packs")).unwrap();
        packs
            .scan(None)
            .unwrap()
            .map(|step| match step.unwrap() {
                Scanned::Frame(frame) => frame,
                other => panic!("{other:?}"),
            })
            .collect()
    }

    fn expected(&self, added: &Added) -> Vec<u8> {
        if added.blob == self.second.blob {
            return body(0, 1);
        }
        if added.blob == self.later.blob {
            return body(99, 0);
        }
        let article = self
            .firsts
            .iter()
            .position(|first| first.blob == added.blob);
        body(article.unwrap() as u32, 0)
    }

    /// Every document reads back, and `verify --deep` finds nothing.
    fn reads_back_whole(&self) {
        let store = self.open();
        for added in self.all() {
            assert_eq!(store.blob(&added.blob).unwrap(), self.expected(added));
        }
        assert!(findings(&store, true).is_empty());
    }

    fn all(&self) -> Vec<&Added> {
        self.firsts
            .iter()
            .chain([&self.second, &self.later])
            .collect()
    }
}

#[test]
fn a_commits_first_revisions_share_one_block_and_each_reads_back() {
    let blocked = Blocked::new();
    let frames = blocked.frames();
    let blocks: Vec<&Frame> = frames
        .iter()
        .filter(|frame| frame.header.kind == Kind::DocumentBlock)
        .collect();
    assert_eq!(
        blocks.len(),
        1,
        "one block for the commit's first revisions"
    );
    let (directory, _) =
        newsarc_pack::block::Directory::split(&blocks[0].payload, blocks[0].header.content_len)
            .unwrap();
    let members: Vec<Digest> = directory.members.iter().map(|m| m.digest).collect();
    let firsts: Vec<Digest> = blocked.firsts.iter().map(|first| first.blob).collect();
    assert_eq!(members, firsts);
    // The delta comes after the block it is stored against.
    let delta = frames
        .iter()
        .position(|frame| frame.header.content == blocked.second.blob)
        .unwrap();
    let block = frames
        .iter()
        .position(|frame| frame.header.kind == Kind::DocumentBlock)
        .unwrap();
    assert!(block < delta);
    assert_eq!(frames[delta].header.reference, Some(blocked.firsts[0].blob));

    blocked.reads_back_whole();
}

#[test]
fn an_index_rebuilt_from_the_packs_finds_every_member_again() {
    let blocked = Blocked::new();
    std::fs::remove_dir_all(blocked.path().join("index")).unwrap();
    let report = Store::repair(
        &blocked.path(),
        &StoreConfig::default(),
        RepairOptions {
            rebuild_index: true,
            ..RepairOptions::default()
        },
        &mut |_| {},
    )
    .unwrap();
    assert!(
        report.unrecoverable.is_empty(),
        "{:?}",
        report.unrecoverable
    );
    blocked.reads_back_whole();
}

#[test]
fn a_flipped_byte_in_a_block_loses_its_members_and_what_is_stored_against_them_only() {
    let blocked = Blocked::new();
    let block = blocked
        .frames()
        .into_iter()
        .find(|frame| frame.header.kind == Kind::DocumentBlock)
        .unwrap();
    let pack = blocked
        .path()
        .join("packs")
        .join(newsarc_pack::pack_file_name(block.location.pack));
    crate::damage::flip(&pack, block.location.offset + block.header.frame_len() - 20);
    let lost: BTreeSet<String> = blocked
        .firsts
        .iter()
        .chain([&blocked.second])
        .map(|added| added.revision.to_string())
        .collect();

    let store = blocked.open();
    for deep in [false, true] {
        let found = findings(&store, deep);
        assert!(
            found
                .iter()
                .any(|f| f.kind == FindingKind::CorruptFrame && f.id == block.location.to_string()),
            "{found:?}"
        );
        let revisions: BTreeSet<String> = found
            .iter()
            .filter(|f| f.kind == FindingKind::CorruptBlob)
            .map(|f| f.id.clone())
            .filter(|id| lost.contains(id))
            .collect();
        assert_eq!(revisions, lost, "deep: {deep}: {found:?}");
        assert!(
            !found.iter().any(
                |f| f.kind == FindingKind::DanglingIndex || f.kind == FindingKind::MissingIndex
            ),
            "deep: {deep}: {found:?}"
        );
    }
    for added in blocked.firsts.iter().chain([&blocked.second]) {
        let err = store.blob(&added.blob).unwrap_err();
        assert!(matches!(err, StoreError::CorruptBlob { .. }), "{err}");
    }
    assert_eq!(
        store.blob(&blocked.later.blob).unwrap(),
        blocked.expected(&blocked.later)
    );
    drop(store);

    let report = Store::repair(
        &blocked.path(),
        &StoreConfig::default(),
        RepairOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    let needed: BTreeSet<Digest> = report
        .unrecoverable
        .iter()
        .filter(|f| f.kind == FindingKind::MissingBlob)
        .filter_map(|f| f.id.parse().ok())
        .collect();
    let members: BTreeSet<Digest> = blocked.firsts.iter().map(|first| first.blob).collect();
    assert_eq!(needed, members, "{:?}", report.unrecoverable);
    assert_eq!(
        blocked.open().blob(&blocked.later.blob).unwrap(),
        blocked.expected(&blocked.later)
    );
}
