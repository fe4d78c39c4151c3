//! `newsarc stats` and `newsarc verify`: what the store holds, and proof
//! that it is intact.

use std::io::Write;
use std::sync::atomic::AtomicBool;

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
struct TotalsJson<'a> {
    ok: bool,
    deep: bool,
    objects: u64,
    bytes: u64,
    count: u64,
    stopped_at: Option<&'a str>,
}

/// How `verify` checks and reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Also decode every document and check its BLAKE3.
    pub deep: bool,
    /// One JSON document instead of text.
    pub json: bool,
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

    /// Checks the whole store, handing each finding to `sink` as it is
    /// found and the pack bytes read so far to `progress`; stops when
    /// `stop` turns true. What `verify` and the gRPC `Verify` stream show.
    pub fn check(
        &self,
        deep: bool,
        stop: &AtomicBool,
        sink: &mut dyn FnMut(Finding),
        progress: &mut dyn FnMut(u64),
    ) -> Result<VerifyReport, ArchiveError> {
        Ok(self
            .store
            .verify(newsarc_store::VerifyOptions { deep }, sink, progress, stop)?)
    }

    /// Checks the whole store, writing each finding as it is found and
    /// then the totals; the report's `ok()` decides the exit code. Stops
    /// when `stop` turns true (Ctrl-C), saying how far it got.
    pub fn verify(
        &self,
        options: &VerifyOptions,
        stop: &AtomicBool,
        out: &mut dyn Write,
        progress: &mut dyn Progress,
    ) -> Result<VerifyReport, ArchiveError> {
        progress.start(self.store.pack_bytes()?);
        if options.json {
            // One JSON document, written as it goes: the findings first.
            write!(out, "{{\"findings\":[")?;
        }
        let mut written: std::io::Result<()> = Ok(());
        let mut first = true;
        let report = self.check(
            options.deep,
            stop,
            &mut |finding| {
                if written.is_err() {
                    return;
                }
                written = if options.json {
                    let separator = if first { "" } else { "," };
                    first = false;
                    serde_json::to_string(&finding_json(&finding))
                        .map_err(std::io::Error::other)
                        .and_then(|line| write!(out, "{separator}\n{line}"))
                } else {
                    write_finding(out, &finding)
                };
            },
            &mut |done| progress.set(done),
        )?;
        written?;
        progress.finish();
        if options.json {
            let totals = serde_json::to_string(&TotalsJson {
                ok: report.ok(),
                deep: options.deep,
                objects: report.objects,
                bytes: report.bytes,
                count: report.findings,
                stopped_at: report.stopped_at.as_deref(),
            })
            .map_err(std::io::Error::other)?;
            // The totals' fields follow the findings in the same object.
            writeln!(out, "\n],{}", &totals[1..])?;
            return Ok(report);
        }
        if let Some(at) = &report.stopped_at {
            writeln!(
                out,
                "stopped {at}: what came before was checked, nothing after"
            )?;
        }
        writeln!(
            out,
            "{}: {} objects, {} bytes read, {} findings{}",
            match (report.ok(), &report.stopped_at) {
                (_, Some(_)) => "STOPPED",
                (true, None) => "ok",
                (false, None) => "DAMAGED",
            },
            report.objects,
            report.bytes,
            report.findings,
            if options.deep {
                " (deep: every document decoded)"
            } else {
                ""
            }
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
