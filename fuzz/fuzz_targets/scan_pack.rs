//! Any bytes as the frames of a pack file (after a sound file header): the
//! scanner yields frames, damage or a tail — never a panic, never a frame
//! whose payload does not check — and accounts for every byte; a document
//! block's directory reads or is refused, and every member it names lies
//! within the block's content.
#![no_main]

use libfuzzer_sys::fuzz_target;
use newsarc_pack::block::Directory;
use newsarc_pack::{FILE_HEADER_LEN, Kind, PackSet, Scanned, pack_file_name};

fuzz_target!(|bytes: &[u8]| {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut file = b"NEWSPACK".to_vec();
    file.extend_from_slice(&1u32.to_be_bytes());
    file.extend_from_slice(&1u32.to_be_bytes());
    file.extend_from_slice(bytes);
    std::fs::write(dir.path().join(pack_file_name(1)), &file).expect("write the pack");
    let packs = PackSet::open(dir.path()).expect("the pack opens");
    let mut covered = FILE_HEADER_LEN;
    for step in packs.scan(None).expect("a scan starts") {
        covered += match step.expect("reading a local file") {
            Scanned::Frame(frame) => {
                assert!(frame.header.checks(&frame.payload));
                if frame.header.kind == Kind::DocumentBlock
                    && let Ok((directory, _)) =
                        Directory::split(&frame.payload, frame.header.content_len)
                {
                    for index in 0..directory.members.len() {
                        let range = directory.range(index).expect("a member's range");
                        assert!(range.end <= frame.header.content_len as usize);
                    }
                }
                frame.header.frame_len()
            }
            Scanned::DamagedPayload { header, .. } => header.frame_len(),
            Scanned::Damaged { len, .. } | Scanned::Tail { len, .. } => len,
        };
    }
    assert_eq!(covered, file.len() as u64);
});
