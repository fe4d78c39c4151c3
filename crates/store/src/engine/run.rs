//! A sorted run: an immutable file of key-value entries in key order, in
//! zstd-compressed blocks, with a directory of the blocks at its end
//! (`docs/FORMAT.md`, "The index"). The index keeps what it has compacted
//! here, so a read needs no database open and the bulk of the index takes
//! a compressed file instead of sled's log.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use lru::LruCache;
use newsarc_model::Digest;

use super::{EngineError, Entry};

/// The eight bytes a run starts and ends with.
const MAGIC: &[u8; 8] = b"NEWSRUN\0";
/// The run layout this build writes and reads.
pub(crate) const RUN_VERSION: u32 = 1;
/// Magic and layout version.
const FILE_HEADER_LEN: u64 = 12;
/// Directory offset (8), stored length (4), content length (4), entries
/// (8), directory hash (16), trailer check (4), magic (8).
const TRAILER_LEN: usize = 52;
/// A block is closed once its entries take this many bytes. Small, because
/// a lookup in a run bigger than its cache decodes a whole block: at 64 KiB
/// that was about 70 µs of zstd a lookup, at 8 KiB it is about 10 µs
/// (`docs/PERFORMANCE.md`, the scale run); zstd finds less to share in a
/// small block, which costs the corpus's index about 7 % (mostly digests,
/// which do not compress anyway).
const BLOCK_TARGET: usize = 8 * 1024;
/// zstd's level for blocks: the run is written once per compaction and
/// read often.
const LEVEL: i32 = 6;
/// Blocks, lengths and keys above this are damage, not data.
const MAX_LEN: u32 = 256 * 1024 * 1024;

/// The first 16 bytes of BLAKE3: what a block's or the directory's stored
/// bytes are checked with.
fn short_hash(bytes: &[u8]) -> [u8; 16] {
    let mut hash = [0; 16];
    hash.copy_from_slice(&Digest::of(bytes).as_bytes()[..16]);
    hash
}

fn io_error(path: &Path, err: &std::io::Error) -> EngineError {
    EngineError::Io(format!("{err} ({})", path.display()))
}

/// Appends a length-prefixed field.
fn put_field(out: &mut Vec<u8>, field: &[u8]) {
    out.extend_from_slice(&u32::try_from(field.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(field);
}

/// Reads fields back from a block's or the directory's content.
struct Fields<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Fields<'a> {
    fn done(&self) -> bool {
        self.at == self.bytes.len()
    }

    fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(len)?;
        let slice = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(slice)
    }

    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
    }

    fn u64(&mut self) -> Option<u64> {
        self.take(8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_be_bytes)
    }

    fn field(&mut self) -> Option<&'a [u8]> {
        let len = self.u32()?;
        self.take(usize::try_from(len).ok()?)
    }
}

/// Writes a new run, entries in strictly increasing key order; nothing is
/// readable until [`RunWriter::finish`] has synced it.
pub(crate) struct RunWriter {
    file: BufWriter<File>,
    path: PathBuf,
    offset: u64,
    block: Vec<u8>,
    block_first_key: Option<Vec<u8>>,
    last_key: Option<Vec<u8>>,
    directory: Vec<u8>,
    entries: u64,
}

impl RunWriter {
    /// Creates (or truncates) the file at `path`.
    pub(crate) fn create(path: &Path) -> Result<Self, EngineError> {
        let file = File::create(path).map_err(|err| io_error(path, &err))?;
        let mut file = BufWriter::new(file);
        file.write_all(MAGIC)
            .and_then(|()| file.write_all(&RUN_VERSION.to_be_bytes()))
            .map_err(|err| io_error(path, &err))?;
        Ok(Self {
            file,
            path: path.to_owned(),
            offset: FILE_HEADER_LEN,
            block: Vec::new(),
            block_first_key: None,
            last_key: None,
            directory: Vec::new(),
            entries: 0,
        })
    }

    /// Adds one entry; its key must be greater than the one before.
    pub(crate) fn add(&mut self, key: &[u8], value: &[u8]) -> Result<(), EngineError> {
        if self.last_key.as_deref().is_some_and(|last| last >= key) {
            return Err(EngineError::Other(format!(
                "index run {}: keys out of order",
                self.path.display()
            )));
        }
        if self.block_first_key.is_none() {
            self.block_first_key = Some(key.to_vec());
        }
        put_field(&mut self.block, key);
        put_field(&mut self.block, value);
        self.last_key = Some(key.to_vec());
        self.entries += 1;
        if self.block.len() >= BLOCK_TARGET {
            self.close_block()?;
        }
        Ok(())
    }

    fn close_block(&mut self) -> Result<(), EngineError> {
        let Some(first_key) = self.block_first_key.take() else {
            return Ok(());
        };
        let stored =
            zstd::bulk::compress(&self.block, LEVEL).map_err(|err| io_error(&self.path, &err))?;
        self.directory.extend_from_slice(&self.offset.to_be_bytes());
        self.directory.extend_from_slice(
            &u32::try_from(stored.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        self.directory.extend_from_slice(
            &u32::try_from(self.block.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        self.directory.extend_from_slice(&short_hash(&stored));
        put_field(&mut self.directory, &first_key);
        self.file
            .write_all(&stored)
            .map_err(|err| io_error(&self.path, &err))?;
        self.offset += stored.len() as u64;
        self.block.clear();
        Ok(())
    }

    /// Writes the last block, the directory and the trailer, and syncs the
    /// file.
    pub(crate) fn finish(mut self) -> Result<(), EngineError> {
        self.close_block()?;
        let stored = zstd::bulk::compress(&self.directory, LEVEL)
            .map_err(|err| io_error(&self.path, &err))?;
        let mut trailer = Vec::with_capacity(TRAILER_LEN);
        trailer.extend_from_slice(&self.offset.to_be_bytes());
        trailer.extend_from_slice(
            &u32::try_from(stored.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        trailer.extend_from_slice(
            &u32::try_from(self.directory.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        trailer.extend_from_slice(&self.entries.to_be_bytes());
        trailer.extend_from_slice(&short_hash(&stored));
        let check = short_hash(&trailer);
        trailer.extend_from_slice(&check[..4]);
        trailer.extend_from_slice(MAGIC);
        let path = self.path.clone();
        self.file
            .write_all(&stored)
            .and_then(|()| self.file.write_all(&trailer))
            .and_then(|()| self.file.flush())
            .map_err(|err| io_error(&path, &err))?;
        self.file
            .get_ref()
            .sync_all()
            .map_err(|err| io_error(&path, &err))
    }
}

/// Where a block is, and its first key.
struct BlockRef {
    offset: u64,
    stored: u32,
    content: u32,
    hash: [u8; 16],
    first_key: Vec<u8>,
}

/// A block's content and where each of its entries starts.
struct Block {
    content: Vec<u8>,
    /// Per entry: the key's and the value's ranges in `content`.
    entries: Vec<(u32, u32, u32, u32)>,
}

impl Block {
    fn parse(content: Vec<u8>) -> Option<Self> {
        // A block's content is at most MAX_LEN long, so offsets fit u32.
        let offset = |at: usize| u32::try_from(at).ok();
        let mut entries = Vec::new();
        let mut fields = Fields {
            bytes: &content,
            at: 0,
        };
        while !fields.done() {
            let key_len = usize::try_from(fields.u32()?).ok()?;
            let key_at = fields.at;
            fields.take(key_len)?;
            let value_len = usize::try_from(fields.u32()?).ok()?;
            let value_at = fields.at;
            fields.take(value_len)?;
            entries.push((
                offset(key_at)?,
                offset(key_at + key_len)?,
                offset(value_at)?,
                offset(value_at + value_len)?,
            ));
        }
        Some(Self { content, entries })
    }

    /// The bytes it takes in memory, as the cache counts them.
    fn footprint(&self) -> usize {
        self.content.capacity()
            + self.entries.capacity() * std::mem::size_of::<(u32, u32, u32, u32)>()
            + std::mem::size_of::<Self>()
    }

    fn range(&self, start: u32, end: u32) -> &[u8] {
        &self.content[start as usize..end as usize]
    }

    fn key(&self, index: usize) -> &[u8] {
        let (start, end, _, _) = self.entries[index];
        self.range(start, end)
    }

    fn entry(&self, index: usize) -> Entry {
        let (key_start, key_end, value_start, value_end) = self.entries[index];
        (
            self.range(key_start, key_end).to_vec(),
            self.range(value_start, value_end).to_vec(),
        )
    }

    /// The first entry whose key is at least `key`.
    fn seek(&self, key: &[u8]) -> usize {
        self.entries
            .partition_point(|&(start, end, _, _)| self.range(start, end) < key)
    }
}

/// Decoded blocks, least recently used first out, held to a byte budget
/// (a count of blocks would let the cache grow with their entries).
struct BlockCache {
    blocks: LruCache<usize, Arc<Block>>,
    bytes: usize,
    budget: usize,
}

impl BlockCache {
    fn new(budget: usize) -> Self {
        Self {
            blocks: LruCache::unbounded(),
            bytes: 0,
            budget,
        }
    }

    fn get(&mut self, index: usize) -> Option<Arc<Block>> {
        self.blocks.get(&index).cloned()
    }

    fn put(&mut self, index: usize, block: Arc<Block>) {
        self.bytes += block.footprint();
        if let Some(old) = self.blocks.put(index, block) {
            self.bytes -= old.footprint();
        }
        while self.bytes > self.budget {
            match self.blocks.pop_lru() {
                Some((_, evicted)) => self.bytes -= evicted.footprint(),
                None => break,
            }
        }
    }
}

/// An open run: its directory in memory, blocks read on demand and kept in
/// a small cache.
pub(crate) struct Run {
    path: PathBuf,
    file: File,
    blocks: Vec<BlockRef>,
    entries: u64,
    cache: Mutex<BlockCache>,
}

impl Run {
    /// Opens the run at `path`, checking its trailer and directory; a cache
    /// of about `cache_bytes` of decoded blocks.
    pub(crate) fn open(path: &Path, cache_bytes: u64) -> Result<Self, EngineError> {
        let damaged = |what: String| {
            EngineError::Corrupted(format!(
                "the index run {} is damaged: {what}",
                path.display()
            ))
        };
        let file = File::open(path).map_err(|err| io_error(path, &err))?;
        let len = file.metadata().map_err(|err| io_error(path, &err))?.len();
        if len < FILE_HEADER_LEN + TRAILER_LEN as u64 {
            return Err(damaged(format!("it is {len} bytes long")));
        }
        let mut header = [0; FILE_HEADER_LEN as usize];
        file.read_exact_at(&mut header, 0)
            .map_err(|err| io_error(path, &err))?;
        if &header[..8] != MAGIC {
            return Err(damaged("it does not start with a run's magic".into()));
        }
        let version = u32::from_be_bytes([header[8], header[9], header[10], header[11]]);
        if version != RUN_VERSION {
            return Err(EngineError::Other(format!(
                "the index run {} has layout {version}; this newsarc reads layout {RUN_VERSION}",
                path.display()
            )));
        }
        let trailer_at = len - TRAILER_LEN as u64;
        let mut trailer = [0; TRAILER_LEN];
        file.read_exact_at(&mut trailer, trailer_at)
            .map_err(|err| io_error(path, &err))?;
        if &trailer[44..] != MAGIC || short_hash(&trailer[..40])[..4] != trailer[40..44] {
            return Err(damaged(format!(
                "its trailer at byte {trailer_at} does not check"
            )));
        }
        let mut fields = Fields {
            bytes: &trailer,
            at: 0,
        };
        let (directory_at, stored, content, entries) = (
            fields.u64().unwrap_or(0),
            fields.u32().unwrap_or(0),
            fields.u32().unwrap_or(0),
            fields.u64().unwrap_or(0),
        );
        let hash = fields.take(16).unwrap_or_default();
        if directory_at < FILE_HEADER_LEN
            || directory_at + u64::from(stored) != trailer_at
            || content > MAX_LEN
        {
            return Err(damaged(format!(
                "its trailer at byte {trailer_at} gives no directory"
            )));
        }
        let mut stored_bytes = vec![0; stored as usize];
        file.read_exact_at(&mut stored_bytes, directory_at)
            .map_err(|err| io_error(path, &err))?;
        if short_hash(&stored_bytes)[..] != *hash {
            return Err(damaged(format!(
                "its directory at byte {directory_at} does not check"
            )));
        }
        let directory = zstd::bulk::decompress(&stored_bytes, content as usize)
            .map_err(|err| damaged(format!("its directory does not decode: {err}")))?;
        let blocks = parse_directory(&directory, directory_at).ok_or_else(|| {
            damaged(format!(
                "its directory at byte {directory_at} does not parse"
            ))
        })?;
        Ok(Self {
            path: path.to_owned(),
            file,
            blocks,
            entries,
            cache: Mutex::new(BlockCache::new(
                usize::try_from(cache_bytes).unwrap_or(usize::MAX),
            )),
        })
    }

    /// How many entries it holds.
    pub(crate) fn len(&self) -> u64 {
        self.entries
    }

    fn block(&self, index: usize) -> Result<Arc<Block>, EngineError> {
        if let Some(block) = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(index)
        {
            return Ok(block);
        }
        let at = &self.blocks[index];
        let damaged = |what: &str| {
            EngineError::Corrupted(format!(
                "the index run {} is damaged: block {index} at byte {} {what}",
                self.path.display(),
                at.offset
            ))
        };
        let mut stored = vec![0; at.stored as usize];
        // Positional reads, as the packs are read: no lock on the file.
        self.file
            .read_exact_at(&mut stored, at.offset)
            .map_err(|err| io_error(&self.path, &err))?;
        if short_hash(&stored) != at.hash {
            return Err(damaged("does not check"));
        }
        let content = crate::documents::decompress(&stored, at.content, None)
            .map_err(|_| damaged("does not decode"))?;
        let block = Arc::new(Block::parse(content).ok_or_else(|| damaged("does not parse"))?);
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .put(index, Arc::clone(&block));
        Ok(block)
    }

    /// The block that would hold `key`: the last one starting at or
    /// before it.
    fn block_for(&self, key: &[u8]) -> Option<usize> {
        self.blocks
            .partition_point(|block| block.first_key.as_slice() <= key)
            .checked_sub(1)
    }

    /// The value under `key`.
    pub(crate) fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        let Some(index) = self.block_for(key) else {
            return Ok(None);
        };
        let block = self.block(index)?;
        let at = block.seek(key);
        Ok((at < block.entries.len() && block.key(at) == key).then(|| block.entry(at).1))
    }

    /// The entry with the greatest key that starts with `prefix` and is at
    /// most `upto`.
    pub(crate) fn last_at_or_before(
        &self,
        prefix: &[u8],
        upto: &[u8],
    ) -> Result<Option<Entry>, EngineError> {
        if upto < prefix {
            return Ok(None);
        }
        let Some(index) = self.block_for(upto) else {
            return Ok(None);
        };
        let block = self.block(index)?;
        let after = block.seek(upto);
        let at = if after < block.entries.len() && block.key(after) == upto {
            after
        } else if after > 0 {
            after - 1
        } else {
            return Ok(None);
        };
        let entry = block.entry(at);
        Ok((entry.0.starts_with(prefix)).then_some(entry))
    }

    /// Every entry from the first whose key is at least `start`, in key
    /// order.
    pub(crate) fn scan_from(&self, start: &[u8]) -> RunScan<'_> {
        let block = self.block_for(start).unwrap_or(0);
        RunScan {
            run: self,
            block,
            current: None,
            at: 0,
            start: Some(start.to_vec()),
            failed: false,
        }
    }
}

/// The run's entries in key order, from a starting key on.
pub(crate) struct RunScan<'a> {
    run: &'a Run,
    block: usize,
    current: Option<Arc<Block>>,
    at: usize,
    /// Where to seek in the first block read.
    start: Option<Vec<u8>>,
    failed: bool,
}

impl Iterator for RunScan<'_> {
    type Item = Result<Entry, EngineError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.failed {
                return None;
            }
            if let Some(block) = &self.current {
                if self.at < block.entries.len() {
                    let entry = block.entry(self.at);
                    self.at += 1;
                    return Some(Ok(entry));
                }
                self.current = None;
                self.block += 1;
            }
            if self.block >= self.run.blocks.len() {
                return None;
            }
            match self.run.block(self.block) {
                Ok(block) => {
                    self.at = self.start.take().map_or(0, |start| block.seek(&start));
                    self.current = Some(block);
                }
                Err(err) => {
                    self.failed = true;
                    return Some(Err(err));
                }
            }
        }
    }
}

fn parse_directory(directory: &[u8], directory_at: u64) -> Option<Vec<BlockRef>> {
    let mut fields = Fields {
        bytes: directory,
        at: 0,
    };
    let mut blocks: Vec<BlockRef> = Vec::new();
    let mut expected_offset = FILE_HEADER_LEN;
    while !fields.done() {
        let offset = fields.u64()?;
        let stored = fields.u32()?;
        let content = fields.u32()?;
        let hash = fields.take(16)?.try_into().ok()?;
        let first_key = fields.field()?.to_vec();
        let ordered = blocks.last().is_none_or(|last| last.first_key < first_key);
        if offset != expected_offset || content > MAX_LEN || !ordered {
            return None;
        }
        expected_offset = offset + u64::from(stored);
        blocks.push(BlockRef {
            offset,
            stored,
            content,
            hash,
            first_key,
        });
    }
    (expected_offset == directory_at).then_some(blocks)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    fn written(entries: &BTreeMap<Vec<u8>, Vec<u8>>) -> (tempfile::TempDir, Run) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("test.run");
        let mut writer = RunWriter::create(&path).unwrap();
        for (key, value) in entries {
            writer.add(key, value).unwrap();
        }
        writer.finish().unwrap();
        let run = Run::open(&path, 1 << 20).unwrap();
        (dir, run)
    }

    fn key_strategy() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            prop::sample::select(vec![b'A', b'H', b'R', 0, 1, 255]),
            0..6,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Every read of a run answers as the map it was written from does.
        #[test]
        fn a_run_reads_back_as_the_map_it_was_written_from(
            entries in prop::collection::btree_map(key_strategy(), prop::collection::vec(any::<u8>(), 0..40_000), 0..40),
            probes in prop::collection::vec((key_strategy(), key_strategy()), 1..20),
        ) {
            let (_dir, run) = written(&entries);
            prop_assert_eq!(run.len(), entries.len() as u64);
            let all: Vec<Entry> = run.scan_from(b"").map(Result::unwrap).collect();
            let expected: Vec<Entry> = entries.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            prop_assert_eq!(all, expected);
            for (prefix, key) in probes {
                prop_assert_eq!(run.get(&key).unwrap(), entries.get(&key).cloned());
                let from: Vec<Entry> = run.scan_from(&key).map(Result::unwrap).collect();
                let expected: Vec<Entry> = entries.range(key.clone()..).map(|(k, v)| (k.clone(), v.clone())).collect();
                prop_assert_eq!(from, expected);
                let last = if key < prefix {
                    None
                } else {
                    entries
                        .range(prefix.clone()..=key.clone())
                        .next_back()
                        .filter(|(k, _)| k.starts_with(&prefix))
                        .map(|(k, v)| (k.clone(), v.clone()))
                };
                prop_assert_eq!(run.last_at_or_before(&prefix, &key).unwrap(), last);
            }
        }
    }

    #[test]
    fn every_flipped_byte_is_refused_at_open_or_at_the_block_it_hits() {
        let entries: BTreeMap<Vec<u8>, Vec<u8>> = (0..3000u32)
            .map(|n| (format!("H{n:06}").into_bytes(), n.to_be_bytes().repeat(20)))
            .collect();
        let (dir, _) = written(&entries);
        let path = dir.path().join("test.run");
        let original = std::fs::read(&path).unwrap();
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..200 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let at = (state >> 33) as usize % original.len();
            let mut damaged = original.clone();
            damaged[at] ^= 1 << (state % 8);
            std::fs::write(&path, &damaged).unwrap();
            let read: Result<Vec<Entry>, EngineError> =
                Run::open(&path, 1 << 20).and_then(|run| run.scan_from(b"").collect());
            assert!(read.is_err(), "a flip at byte {at} went unnoticed");
        }
    }

    #[test]
    fn the_block_cache_keeps_to_its_byte_budget_and_reads_stay_right() {
        let entries: BTreeMap<Vec<u8>, Vec<u8>> = (0..5000u32)
            .map(|n| (format!("H{n:06}").into_bytes(), n.to_be_bytes().repeat(30)))
            .collect();
        let (dir, _) = written(&entries);
        let budget = 3 * BLOCK_TARGET;
        let run = Run::open(&dir.path().join("test.run"), budget as u64).unwrap();
        assert!(run.blocks.len() > 20, "the test needs more blocks than fit");
        let mut state = 7_u64;
        for _ in 0..2000 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let n = (state >> 33) as u32 % 5000;
            let key = format!("H{n:06}").into_bytes();
            assert_eq!(run.get(&key).unwrap(), entries.get(&key).cloned());
            let cache = run.cache.lock().unwrap();
            assert!(cache.bytes <= budget, "{} cached bytes", cache.bytes);
            let counted: usize = cache
                .blocks
                .iter()
                .map(|(_, block)| block.footprint())
                .sum();
            assert_eq!(cache.bytes, counted);
        }
    }

    #[test]
    fn keys_out_of_order_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = RunWriter::create(&dir.path().join("test.run")).unwrap();
        writer.add(b"b", b"1").unwrap();
        assert!(writer.add(b"a", b"2").is_err());
        assert!(writer.add(b"b", b"2").is_err());
    }
}
