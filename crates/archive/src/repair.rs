//! `newsarc repair`: the index made anew from the packs, saying what
//! changed and listing what cannot be recovered; and `newsarc upgrade`,
//! which builds a format-2 store from a format-1 one. Neither deletes a
//! revision.

use std::io::Write;
use std::path::Path;

use newsarc_store::{OldIndex, RepairReport, Store, StoreConfig, Upgraded};
use serde::Serialize;

use crate::report::{FindingJson, finding_json, write_finding};
use crate::{ArchiveError, Progress, json};

/// What `repair` is asked to do.
#[derive(Debug, Clone, Copy, Default)]
pub struct RepairOptions {
    /// Report what would change and write nothing.
    pub dry_run: bool,
    /// Do not read the old index (its files are damaged or gone).
    pub rebuild_index: bool,
    /// Keep the old index beside the store.
    pub backup: bool,
    /// One JSON document instead of text.
    pub json: bool,
}

#[derive(Serialize)]
struct ChangeJson<'a> {
    index: &'static str,
    added: u64,
    removed: u64,
    changed: u64,
    examples: &'a [String],
}

#[derive(Serialize)]
struct RepairJson<'a> {
    applied: bool,
    commits: u64,
    old_index: &'static str,
    old_index_error: Option<&'a str>,
    changes: Vec<ChangeJson<'a>>,
    tail: Option<TailJson<'a>>,
    backup: Option<String>,
    unrecoverable: Vec<FindingJson<'a>>,
}

#[derive(Serialize)]
struct TailJson<'a> {
    at: &'a str,
    bytes: u64,
}

#[derive(Serialize)]
struct UpgradeJson<'a> {
    records: u64,
    documents: u64,
    kept_at: &'a str,
}

/// Repairs the store in `dir` and writes what was done.
pub fn repair(
    dir: &Path,
    config: &StoreConfig,
    options: &RepairOptions,
    out: &mut dyn Write,
    progress: &mut dyn Progress,
) -> Result<RepairReport, ArchiveError> {
    progress.start(0);
    let report = Store::repair(
        dir,
        config,
        newsarc_store::RepairOptions {
            dry_run: options.dry_run,
            rebuild_index: options.rebuild_index,
            backup: options.backup,
        },
        &mut |done| progress.set(done),
    )?;
    progress.finish();
    let changes = match &report.old_index {
        OldIndex::Compared(changes) => changes.as_slice(),
        _ => &[],
    };
    if options.json {
        let (old_index, old_index_error) = match &report.old_index {
            OldIndex::Compared(_) => ("compared", None),
            OldIndex::Unreadable(reason) => ("unreadable", Some(reason.as_str())),
            OldIndex::NotRead => ("not_read", None),
        };
        json::write_document(
            out,
            &RepairJson {
                applied: report.applied,
                commits: report.commits,
                old_index,
                old_index_error,
                changes: changes
                    .iter()
                    .map(|change| ChangeJson {
                        index: change.index,
                        added: change.added,
                        removed: change.removed,
                        changed: change.changed,
                        examples: &change.examples,
                    })
                    .collect(),
                tail: report
                    .tail
                    .as_ref()
                    .map(|(at, bytes)| TailJson { at, bytes: *bytes }),
                backup: report.backup.as_ref().map(|p| p.display().to_string()),
                unrecoverable: report.unrecoverable.iter().map(finding_json).collect(),
            },
        )?;
        return Ok(report);
    }
    let verb = if report.applied { "" } else { "would be " };
    match &report.old_index {
        OldIndex::Compared(_) => {}
        OldIndex::Unreadable(reason) => {
            writeln!(out, "old index unreadable ({reason}): {verb}replaced")?;
        }
        OldIndex::NotRead => writeln!(out, "old index not read: {verb}replaced")?,
    }
    for change in changes {
        writeln!(
            out,
            "{verb}changed  {:<12} +{} -{} ~{}  e.g. {}",
            change.index,
            change.added,
            change.removed,
            change.changed,
            change.examples.join(", ")
        )?;
    }
    if let Some((at, bytes)) = &report.tail {
        writeln!(
            out,
            "{verb}cut off  {bytes} bytes of an unfinished commit at {at}"
        )?;
    }
    if let Some(path) = &report.backup {
        writeln!(out, "old index kept at {}", path.display())?;
    }
    for finding in &report.unrecoverable {
        write!(out, "unrecoverable   ")?;
        write_finding(out, finding)?;
    }
    let changed: u64 = changes
        .iter()
        .map(|change| change.added + change.removed + change.changed)
        .sum();
    writeln!(
        out,
        "{}: {} read from the packs, {} {}changed, {} unrecoverable",
        match (report.applied, report.unrecoverable.is_empty()) {
            (false, _) => "dry run",
            (true, true) => "repaired",
            (true, false) => "PARTLY REPAIRED",
        },
        counted(report.commits, "commit", "commits"),
        counted(changed, "index entry", "index entries"),
        verb,
        report.unrecoverable.len()
    )?;
    Ok(report)
}

/// "1 commit", "2 commits".
fn counted(count: u64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

/// Upgrades the format-1 store in `dir` and writes what was done.
pub fn upgrade(
    dir: &Path,
    config: &StoreConfig,
    json_output: bool,
    out: &mut dyn Write,
    progress: &mut dyn Progress,
) -> Result<Upgraded, ArchiveError> {
    progress.start(0);
    let upgraded = Store::upgrade(dir, config, &mut |done| progress.set(done))?;
    progress.finish();
    let kept_at = upgraded.kept_at.display().to_string();
    if json_output {
        json::write_document(
            out,
            &UpgradeJson {
                records: upgraded.moved.records,
                documents: upgraded.moved.documents,
                kept_at: &kept_at,
            },
        )?;
    } else {
        writeln!(
            out,
            "upgraded {} to format {}: {} records, {} documents; the format-1 store is kept at {kept_at} (delete it when you no longer need it)",
            dir.display(),
            newsarc_store::STORE_FORMAT,
            upgraded.moved.records,
            upgraded.moved.documents,
        )?;
    }
    Ok(upgraded)
}
