//! `newsarc repair`: rebuild the indexes from the records, saying every
//! change, and list what cannot be recovered. Never deletes a revision.

use std::io::Write;
use std::path::Path;

use newsarc_store::{RepairOpening, RepairReport, Store};
use serde::Serialize;

use crate::report::{FindingJson, finding_json, write_finding};
use crate::{Archive, ArchiveError, Progress, json};

/// What `repair` is asked to do.
#[derive(Debug, Clone, Default)]
pub struct RepairOptions {
    /// Report what would change and write nothing.
    pub dry_run: bool,
    /// One JSON document instead of text.
    pub json: bool,
}

#[derive(Serialize)]
struct ChangeJson<'a> {
    action: &'static str,
    index: &'static str,
    entry: &'a str,
}

#[derive(Serialize)]
struct RepairJson<'a> {
    applied: bool,
    records: u64,
    backup: Option<String>,
    set_aside: Option<String>,
    changes: Vec<ChangeJson<'a>>,
    unrecoverable: Vec<FindingJson<'a>>,
}

impl Archive {
    /// Opens the archive in `dir` for repair (see
    /// [`Store::open_for_repair`]): a copy of its files goes to
    /// `aside/before-repair` when `backup` is set, and a damaged sled config
    /// file to `aside`.
    pub fn open_for_repair(
        dir: &Path,
        cache_bytes: u64,
        aside: &Path,
        backup: bool,
    ) -> Result<(Self, RepairOpening), ArchiveError> {
        let (store, opening) = Store::open_for_repair(dir, cache_bytes, aside, backup)?;
        Ok((Self::with_store(store), opening))
    }

    /// Rebuilds the indexes and writes what changed, what could not be
    /// recovered, and what `opening` copied or moved.
    pub fn repair(
        &self,
        options: &RepairOptions,
        opening: &RepairOpening,
        out: &mut dyn Write,
        progress: &mut dyn Progress,
    ) -> Result<RepairReport, ArchiveError> {
        progress.start(0);
        let report = self
            .store
            .repair(options.dry_run, &mut |done| progress.set(done))?;
        progress.finish();
        if options.json {
            json::write_document(
                out,
                &RepairJson {
                    applied: report.applied,
                    records: report.records,
                    backup: opening.backup.as_ref().map(|p| p.display().to_string()),
                    set_aside: opening
                        .config_set_aside
                        .as_ref()
                        .map(|p| p.display().to_string()),
                    changes: report
                        .changes
                        .iter()
                        .map(|change| ChangeJson {
                            action: change.action.as_str(),
                            index: change.index,
                            entry: &change.entry,
                        })
                        .collect(),
                    unrecoverable: report.unrecoverable.iter().map(finding_json).collect(),
                },
            )?;
            return Ok(report);
        }
        if let Some(path) = &opening.backup {
            writeln!(out, "copy before     {}", path.display())?;
        }
        if let Some(path) = &opening.config_set_aside {
            writeln!(out, "set aside       {}", path.display())?;
        }
        let verb = if report.applied { "" } else { "would be " };
        for change in &report.changes {
            writeln!(
                out,
                "{verb}{:<8} {:<8} {}",
                change.action.as_str(),
                change.index,
                change.entry
            )?;
        }
        for finding in &report.unrecoverable {
            write!(out, "unrecoverable   ")?;
            write_finding(out, finding)?;
        }
        writeln!(
            out,
            "{}: {} records read, {} index entries {}changed, {} unrecoverable",
            match (report.applied, report.unrecoverable.is_empty()) {
                (false, _) => "dry run",
                (true, true) => "repaired",
                (true, false) => "PARTLY REPAIRED",
            },
            report.records,
            report.changes.len(),
            verb,
            report.unrecoverable.len()
        )?;
        Ok(report)
    }
}
