//! Document blocks: the first revisions a commit stores, and the later
//! revisions stored against them, are compressed together in one frame;
//! each still reads, rebuilds and is lost alone.

use std::collections::BTreeSet;

use newsarc_model::Digest;
use newsarc_pack::{Codec, Frame, Kind, PackSet, Scanned};
use newsarc_store::{Added, FindingKind, RepairOptions, Store, StoreConfig, StoreError};

use crate::backend::{add, document, fetch, findings};

/// Articles in the commit of first revisions.
const ARTICLES: u32 = 20;

/// A store with one commit of `ARTICLES` first revisions and, in the same
/// commit, a second revision of the first article (a block member too);
/// then an article of its own commit.
struct Blocked {
    dir: tempfile::TempDir,
    /// The commit's first revisions, in order.
    firsts: Vec<Added>,
    second: Added,
    later: Added,
}

/// Every frame in the packs of the store at `path`.
fn frames_of(path: &std::path::Path) -> Vec<Frame> {
    PackSet::open(&path.join("packs"))
        .unwrap()
        .scan(None)
        .unwrap()
        .map(|step| match step.unwrap() {
            Scanned::Frame(frame) => frame,
            other => panic!("{other:?}"),
        })
        .collect()
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
        frames_of(&self.path())
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
    // In article key order, an article's revisions in the order they came.
    let mut keyed: Vec<(String, Digest)> = (0..ARTICLES)
        .map(|article| format!("example.org/{article}"))
        .zip(blocked.firsts.iter().map(|first| first.blob))
        .collect();
    keyed.insert(1, ("example.org/0".into(), blocked.second.blob));
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        members,
        keyed.iter().map(|(_, blob)| *blob).collect::<Vec<_>>()
    );
    assert!(
        !frames
            .iter()
            .any(|frame| frame.header.codec == Codec::ZstdDelta),
        "the second revision's base was in its commit: no delta"
    );
    blocked.reads_back_whole();

    // A revision whose neighbour is in an older commit is a delta.
    let store = blocked.open();
    let third = add(&store, &fetch("example.org/0", &body(0, 2), 3, "T"));
    drop(store);
    let frames = blocked.frames();
    let delta = frames
        .iter()
        .find(|frame| frame.header.content == third.blob)
        .unwrap();
    assert_eq!(delta.header.codec, Codec::ZstdDelta);
    assert_eq!(delta.header.reference, Some(blocked.second.blob));
    assert_eq!(blocked.open().blob(&third.blob).unwrap(), body(0, 2));
}

/// An outlet's dictionary is trained when a document of it is first stored
/// alone in its frame, not while its documents go into blocks.
#[test]
fn a_dictionary_is_trained_when_a_lone_document_first_needs_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let store = Store::open(&path, &StoreConfig::default()).unwrap();
    let outlet_body = |article: u32| {
        [
            body(article, 0),
            format!("<footer>outlet footer {}</footer>", article * 7).into_bytes(),
        ]
        .concat()
    };
    let mut commit = store.begin().unwrap();
    for article in 0..60 {
        let key = format!("example.org/{article}");
        commit
            .add_fetch(&fetch(&key, &outlet_body(article), 0, "D"))
            .unwrap();
    }
    commit.finish().unwrap();
    assert!(
        !frames_of(&path)
            .iter()
            .any(|frame| frame.header.kind == Kind::Dictionary),
        "documents in blocks need no dictionary"
    );

    let lone = add(&store, &fetch("example.org/lone", &outlet_body(99), 1, "D"));
    let frames = frames_of(&path);
    let dictionary = frames
        .iter()
        .find(|frame| frame.header.kind == Kind::Dictionary)
        .expect("the lone document's outlet has a dictionary now");
    let document = frames
        .iter()
        .find(|frame| frame.header.content == lone.blob)
        .unwrap();
    assert_eq!(document.header.codec, Codec::ZstdDictionary);
    assert_eq!(document.header.reference, Some(dictionary.header.content));
    assert_eq!(store.blob(&lone.blob).unwrap(), outlet_body(99));
    assert!(findings(&store, true).is_empty());
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
    let members: BTreeSet<Digest> = blocked
        .firsts
        .iter()
        .chain([&blocked.second])
        .map(|added| added.blob)
        .collect();
    assert_eq!(needed, members, "{:?}", report.unrecoverable);
    assert_eq!(
        blocked.open().blob(&blocked.later.blob).unwrap(),
        blocked.expected(&blocked.later)
    );
}

/// A read of one member decodes its block only so far: a later member read
/// after it decodes further, and every member still reads back exactly.
#[test]
fn members_far_apart_in_one_block_read_back_in_any_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let store = Store::open(&path, &StoreConfig::default()).unwrap();
    // About 1.2 MB of content that does not compress away: the block is
    // decoded in pieces.
    let noise = |article: u32| -> Vec<u8> {
        let mut state = u64::from(article).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        (0..12_000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                b'a' + (state % 26) as u8
            })
            .collect()
    };
    let mut commit = store.begin().unwrap();
    let added: Vec<Added> = (0..100)
        .map(|article| {
            commit
                .add_fetch(&fetch(
                    &format!("example.org/{article:03}"),
                    &noise(article),
                    0,
                    "P",
                ))
                .unwrap()
        })
        .collect();
    commit.finish().unwrap();
    drop(store);
    let store = Store::open(&path, &StoreConfig::default()).unwrap();
    for article in [0, 99, 50, 0, 98] {
        assert_eq!(
            store.blob(&added[article as usize].blob).unwrap(),
            noise(article)
        );
    }
}
