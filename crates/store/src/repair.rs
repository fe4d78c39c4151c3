//! `repair`: the index made anew from the packs (their records are the
//! truth), compared with the index there was, swapped in only when whole;
//! a tail a crash left cut off. Nothing in the packs is rewritten, so a
//! repair never loses a revision: what it cannot bring back (a frame whose
//! bytes are damaged, and what needed it) it lists.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use newsarc_model::Millis;
use newsarc_pack::PackWriter;

use crate::engine::{EngineError, KvEngine, LayeredEngine, SledEngine};
use crate::export::sibling;
use crate::index_layers::{self, Live};
use crate::layout::{self, Found};
use crate::store::{Store, StoreConfig};
use crate::verify::{Finding, FindingKind, VerifyOptions};
use crate::{StoreError, index, serving};

/// What `repair` is asked to do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RepairOptions {
    /// Say what would change and write nothing.
    pub dry_run: bool,
    /// Do not read the old index at all (its files are damaged or gone):
    /// build the new one from the packs without comparing.
    pub rebuild_index: bool,
    /// Keep the old index (and any tail cut off) beside the store, in
    /// `NAME.before-repair-MILLIS`.
    pub backup: bool,
}

/// How one index differs between the old and the rebuilt index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexChange {
    /// The index's name.
    pub index: &'static str,
    /// Entries the rebuilt index has and the old one lacked.
    pub added: u64,
    /// Entries the old index had that no record implies.
    pub removed: u64,
    /// Entries both have, with other values.
    pub changed: u64,
    /// The first few entries concerned, for people.
    pub examples: Vec<String>,
}

/// What became of the old index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OldIndex {
    /// It was read and compared: these indexes differ.
    Compared(Vec<IndexChange>),
    /// It did not open (the reason): the rebuilt one replaces it.
    Unreadable(String),
    /// It was not read (`rebuild_index`).
    NotRead,
}

/// What `repair` did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepairReport {
    /// False in a dry run.
    pub applied: bool,
    /// Commits read from the packs.
    pub commits: u64,
    /// The old index against the rebuilt one.
    pub old_index: OldIndex,
    /// Bytes at the end of the last pack no commit refers to, and where
    /// they start: cut off.
    pub tail: Option<(String, u64)>,
    /// Where the old index (and the tail's bytes) were kept.
    pub backup: Option<PathBuf>,
    /// What the packs no longer hold, as `verify` finds it after the
    /// repair: damaged frames and what needed them.
    pub unrecoverable: Vec<Finding>,
}

/// Changes listed per index.
const EXAMPLES: usize = 5;

impl Store {
    /// Repairs the store in `dir` (see the module's doc); `progress` gets
    /// the commits read so far.
    pub fn repair(
        dir: &Path,
        config: &StoreConfig,
        options: RepairOptions,
        progress: &mut dyn FnMut(u64),
    ) -> Result<RepairReport, StoreError> {
        let location = dir.display().to_string();
        match layout::probe(dir) {
            Found::Store => {}
            Found::FormatOne => return Err(StoreError::FormatOne { location }),
            Found::Nothing => return Err(StoreError::NoStore { location }),
            Found::Other => return Err(StoreError::NotAStore { location }),
        }
        layout::read_header(dir)?;
        let in_use = |location: &str| StoreError::InUse {
            location: location.to_owned(),
            server: serving::announced(dir),
        };
        let old = if options.rebuild_index {
            if serving::announced(dir).is_some() {
                return Err(in_use(&location));
            }
            Err(None)
        } else if layout::holds_engine_files(&layout::index(dir)) {
            Err(Some("it is in the layout before sorted runs".to_owned()))
        } else {
            match index_layers::open(dir, config.cache_bytes, false, false) {
                Ok((engine, _)) => Ok(engine),
                Err(EngineError::Locked(_)) => return Err(in_use(&location)),
                Err(reason) => Err(Some(reason.to_string())),
            }
        };

        // Every pack must at least open: nothing is changed otherwise.
        newsarc_pack::PackSet::open(&layout::packs(dir))?.lengths()?;
        let rebuilding = layout::index_rebuilding(dir);
        remove_dir(&rebuilding)?;
        let built = SledEngine::open(&layout::live_in(&rebuilding), config.cache_bytes)
            .map_err(|reason| StoreError::Open {
                location: rebuilding.display().to_string(),
                reason,
            })
            .and_then(|new_index| {
                let index = LayeredEngine::new(None, Box::new(new_index), "rebuilding".into());
                let rebuilt = Store::assemble(dir, index, Live::Sled, config, true, None)?;
                let replayed = rebuilt.replay(&rebuilt.index, None, true)?;
                Ok((rebuilt, replayed))
            });
        let (rebuilt, replayed) = match built {
            Ok(built) => built,
            Err(err) => {
                let _ = std::fs::remove_dir_all(&rebuilding);
                return Err(err);
            }
        };
        progress(replayed.commits);
        let old_index = match &old {
            Ok(engine) => OldIndex::Compared(compare(engine, &rebuilt.index)?),
            Err(Some(reason)) => OldIndex::Unreadable(reason.clone()),
            Err(None) => OldIndex::NotRead,
        };
        let tail = match replayed.tail {
            Some(start) => {
                let length = rebuilt.packs.len(start.pack)?;
                Some((start, length.saturating_sub(start.offset)))
            }
            None => None,
        };
        let stop = AtomicBool::new(false);
        let mut unrecoverable = Vec::new();
        rebuilt.verify(
            VerifyOptions::default(),
            &mut |finding| {
                // A tail is cut off by this repair, and a witness written again.
                let mended = matches!(finding.kind, FindingKind::UnreferencedTail)
                    || (finding.kind == FindingKind::CorruptRecord
                        && finding.id == crate::WITNESS_FILE);
                if !mended || options.dry_run {
                    unrecoverable.push(finding);
                }
            },
            &mut |_| {},
            &stop,
        )?;
        let witness_damaged = rebuilt.head_witness().is_err();
        drop(rebuilt);
        drop(old);

        let mut report = RepairReport {
            applied: !options.dry_run,
            commits: replayed.commits,
            old_index,
            tail: tail.map(|(start, len)| (start.to_string(), len)),
            backup: None,
            unrecoverable,
        };
        if options.dry_run {
            remove_dir(&rebuilding)?;
            return Ok(report);
        }
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| StoreError::Io { path, source }
        };
        let index_dir = layout::index(dir);
        if options.backup {
            let backup = sibling(dir, &format!("before-repair-{}", Millis::now().as_millis()));
            std::fs::create_dir_all(&backup).map_err(io(&backup))?;
            if index_dir.exists() {
                std::fs::rename(&index_dir, backup.join(layout::INDEX_DIR))
                    .map_err(io(&index_dir))?;
            }
            if let Some((start, len)) = tail {
                let bytes = read_range(
                    &layout::packs(dir).join(newsarc_pack::pack_file_name(start.pack)),
                    start.offset,
                    len,
                )
                .map_err(io(&layout::packs(dir)))?;
                let file = backup.join(format!("tail-{}-{}", start.pack, start.offset));
                std::fs::write(&file, bytes).map_err(io(&file))?;
            }
            report.backup = Some(backup);
        } else {
            remove_dir(&index_dir)?;
        }
        std::fs::rename(&rebuilding, &index_dir).map_err(io(&rebuilding))?;
        std::fs::File::open(dir)
            .and_then(|handle| handle.sync_all())
            .map_err(io(dir))?;
        if let Some((start, _)) = tail {
            let mut packs = PackWriter::open(&layout::packs(dir), config.pack_limit)?;
            if packs.end().pack == start.pack {
                packs.truncate(start)?;
            }
        }
        if witness_damaged {
            let witness = dir.join(crate::WITNESS_FILE);
            std::fs::remove_file(&witness).map_err(io(&witness))?;
        }
        let store = Store::open(dir, config)?;
        if witness_damaged {
            store.record_witness()?;
        }
        store.compact_index()?;
        Ok(report)
    }
}

fn remove_dir(dir: &Path) -> Result<(), StoreError> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(StoreError::Io {
            path: dir.to_owned(),
            source,
        }),
    }
}

fn read_range(path: &Path, offset: u64, len: u64) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut bytes = Vec::new();
    file.take(len).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The old index against the rebuilt one, entry by entry in key order.
fn compare(old: &dyn KvEngine, new: &dyn KvEngine) -> Result<Vec<IndexChange>, StoreError> {
    let mut changes: BTreeMap<&'static str, IndexChange> = BTreeMap::new();
    let mut note = |key: &[u8], what: fn(&mut IndexChange)| {
        let name = index::index_name(key);
        let change = changes.entry(name).or_insert_with(|| IndexChange {
            index: name,
            ..IndexChange::default()
        });
        what(change);
        if change.examples.len() < EXAMPLES {
            change.examples.push(index::describe(key));
        }
    };
    let mut old_entries = old.scan_prefix(b"").peekable();
    let mut new_entries = new.scan_prefix(b"").peekable();
    loop {
        let order = match (old_entries.peek(), new_entries.peek()) {
            (None, None) => break,
            (Some(Err(_)), _) => {
                return Err(old_entries.next().and_then(Result::err).map_or_else(
                    || StoreError::Internal("an index read failed".into()),
                    StoreError::from,
                ));
            }
            (_, Some(Err(_))) => {
                return Err(new_entries.next().and_then(Result::err).map_or_else(
                    || StoreError::Internal("an index read failed".into()),
                    StoreError::from,
                ));
            }
            (Some(Ok((old_key, _))), Some(Ok((new_key, _)))) => old_key.cmp(new_key),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
        };
        match order {
            std::cmp::Ordering::Less => {
                if let Some(Ok((key, _))) = old_entries.next() {
                    note(&key, |change| change.removed += 1);
                }
            }
            std::cmp::Ordering::Greater => {
                if let Some(Ok((key, _))) = new_entries.next() {
                    note(&key, |change| change.added += 1);
                }
            }
            std::cmp::Ordering::Equal => {
                if let (Some(Ok((key, old_value))), Some(Ok((_, new_value)))) =
                    (old_entries.next(), new_entries.next())
                    && old_value != new_value
                {
                    note(&key, |change| change.changed += 1);
                }
            }
        }
    }
    Ok(changes.into_values().collect())
}
