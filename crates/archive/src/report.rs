//! `newsarc stats` and `newsarc verify`: what the store holds, and proof
//! that it is intact.

use std::io::Write;

use newsarc_store::{Finding, VerifyReport};
use serde::Serialize;

use crate::{Archive, ArchiveError, Progress, json};

/// Whole-store figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Articles stored.
    pub articles: u64,
    /// Revisions stored.
    pub revisions: u64,
    /// Unchanged fetches recorded.
    pub observations: u64,
    /// Article events (gone, reappeared) recorded.
    pub events: u64,
    /// Fetches that produced no page.
    pub failed_attempts: u64,
    /// Total size of the distinct documents.
    pub raw_bytes: u64,
    /// Bytes the whole store directory takes on disk.
    pub stored_bytes: u64,
}

#[derive(Debug, Serialize)]
pub(crate) struct FindingJson<'a> {
    kind: &'static str,
    id: &'a str,
    expected: Option<&'a str>,
    actual: Option<&'a str>,
    detail: &'a str,
}

#[derive(Debug, Serialize)]
struct ReportJson<'a> {
    ok: bool,
    objects: u64,
    bytes: u64,
    findings: Vec<FindingJson<'a>>,
}

/// Writes store figures as text or JSON (local and remote `stats`).
pub fn write_stats(
    stats: &Stats,
    json_output: bool,
    out: &mut dyn Write,
) -> Result<(), ArchiveError> {
    if json_output {
        json::write_document(out, stats)?;
        return Ok(());
    }
    for (label, figure) in [
        ("articles", stats.articles),
        ("revisions", stats.revisions),
        ("observations", stats.observations),
        ("events", stats.events),
        ("failed_attempts", stats.failed_attempts),
        ("raw_bytes", stats.raw_bytes),
    ] {
        writeln!(out, "{label:<16} {figure}")?;
    }
    write!(out, "{:<16} {}", "stored_bytes", stats.stored_bytes)?;
    if stats.raw_bytes > 0 {
        write!(
            out,
            " ({:.3}x raw)",
            stats.stored_bytes as f64 / stats.raw_bytes as f64
        )?;
    }
    writeln!(out)?;
    Ok(())
}

pub(crate) fn finding_json(finding: &Finding) -> FindingJson<'_> {
    FindingJson {
        kind: finding.kind.as_str(),
        id: &finding.id,
        expected: finding.expected.as_deref(),
        actual: finding.actual.as_deref(),
        detail: &finding.detail,
    }
}

impl Archive {
    /// The store's figures.
    pub fn stats(&self) -> Result<Stats, ArchiveError> {
        let counters = self.store.counters()?;
        Ok(Stats {
            articles: counters.articles,
            revisions: counters.revisions,
            observations: counters.observations,
            events: counters.events,
            failed_attempts: counters.failed_attempts,
            raw_bytes: counters.raw_bytes,
            stored_bytes: self.store.disk_bytes()?,
        })
    }

    /// Writes the store's figures.
    pub fn write_stats(&self, json_output: bool, out: &mut dyn Write) -> Result<(), ArchiveError> {
        write_stats(&self.stats()?, json_output, out)
    }

    /// Checks the whole store and writes the report; the report's `ok()`
    /// decides the exit code.
    pub fn verify(
        &self,
        json_output: bool,
        out: &mut dyn Write,
        progress: &mut dyn Progress,
    ) -> Result<VerifyReport, ArchiveError> {
        progress.start(self.store.counters().map_or(0, |c| c.revisions));
        let report = self.store.verify(&mut |done| progress.set(done))?;
        progress.finish();
        if json_output {
            json::write_document(
                out,
                &ReportJson {
                    ok: report.ok(),
                    objects: report.objects,
                    bytes: report.bytes,
                    findings: report.findings.iter().map(finding_json).collect(),
                },
            )?;
            return Ok(report);
        }
        for finding in &report.findings {
            write_finding(out, finding)?;
        }
        writeln!(
            out,
            "{}: {} objects, {} bytes read, {} findings",
            if report.ok() { "ok" } else { "DAMAGED" },
            report.objects,
            report.bytes,
            report.findings.len()
        )?;
        Ok(report)
    }
}

/// One finding as a line of text: kind, id, what was expected and found.
pub(crate) fn write_finding(out: &mut dyn Write, finding: &Finding) -> std::io::Result<()> {
    write!(out, "{:<15} {}", finding.kind.as_str(), finding.id)?;
    if let Some(expected) = &finding.expected {
        write!(out, " expected {expected}")?;
    }
    if let Some(actual) = &finding.actual {
        write!(out, " actual {actual}")?;
    }
    writeln!(out, ": {}", finding.detail)
}
