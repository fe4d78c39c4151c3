//! `newsarc diff` and `newsarc log --stat`: what changed between revisions.

use std::io::Write;

use newsarc_diff::render::{write_html, write_json, write_term, write_unified};
use newsarc_diff::{ArticleDiff, diff_articles, diff_raw};
use newsarc_model::record::RevisionRecord;
use newsarc_model::{ChangeKind, RevisionId};

use crate::{Archive, ArchiveError};

/// How `diff` writes its result.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum DiffFormat {
    /// Inline, for a terminal.
    #[default]
    Term,
    /// A unified diff for email and issue comments.
    Unified,
    /// The structured diff as JSON (schema in `docs/DIFF.md`).
    Json,
    /// One self-contained HTML page.
    Html,
}

/// What `diff` compares.
#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    /// The old revision, or, with `to` absent, the revision compared with
    /// the one before it in time (an article alone: its latest).
    pub from: String,
    /// The new revision.
    pub to: Option<String>,
    /// The output form.
    pub format: DiffFormat,
    /// Diff the stored bytes (HTML source) instead of the article text.
    pub raw: bool,
    /// Colour the terminal form.
    pub color: bool,
}

impl Archive {
    /// The structured diff between two revisions (any two, of any articles).
    pub fn diff_revisions(
        &self,
        from: &RevisionId,
        to: &RevisionId,
        raw: bool,
    ) -> Result<ArticleDiff, ArchiveError> {
        let (old_record, new_record) = (self.store.revision(from)?, self.store.revision(to)?);
        let old_bytes = self.store.blob(&old_record.blob)?;
        let new_bytes = self.store.blob(&new_record.blob)?;
        let old = crate::show::parsed(from, &old_record, &old_bytes)?;
        let new = crate::show::parsed(to, &new_record, &new_bytes)?;
        let mut diff = diff_articles(&old, &new);
        if raw {
            (diff.ops, diff.stats) = diff_raw(&old_bytes, &new_bytes);
        }
        if old_record.blob == new_record.blob {
            diff.change = ChangeKind::Unchanged;
        }
        diff.from = Some(from.to_string());
        diff.to = Some(to.to_string());
        Ok(diff)
    }

    /// The two revisions `diff FROM [TO]` compares: both named, or FROM
    /// and the revision before it in time.
    pub fn diff_pair(
        &self,
        from: &str,
        to: Option<&str>,
    ) -> Result<(RevisionId, RevisionId), ArchiveError> {
        let (from_id, from_record) = self.resolve_revision(from)?;
        match to {
            Some(to) => Ok((from_id, self.resolve_revision(to)?.0)),
            None => self.with_previous(from_id, &from_record),
        }
    }

    /// A revision and the one before it in time, as (old, new).
    pub fn with_previous(
        &self,
        id: RevisionId,
        record: &RevisionRecord,
    ) -> Result<(RevisionId, RevisionId), ArchiveError> {
        match self.previous_in_time(record)? {
            Some((previous, _)) => Ok((previous, id)),
            None => Err(ArchiveError::NothingToCompare {
                article: record.article.to_string(),
                revision: id.to_string(),
            }),
        }
    }

    /// Resolves the options' refs, diffs, and writes the result.
    pub fn diff(&self, options: &DiffOptions, out: &mut dyn Write) -> Result<(), ArchiveError> {
        let (from, to) = self.diff_pair(&options.from, options.to.as_deref())?;
        let diff = self.diff_revisions(&from, &to, options.raw)?;
        write_diff(&diff, options, out)
    }
}

/// Writes a diff in the options' format (local and remote `diff`).
pub fn write_diff(
    diff: &ArticleDiff,
    options: &DiffOptions,
    out: &mut dyn Write,
) -> Result<(), ArchiveError> {
    match options.format {
        DiffFormat::Term => write_term(diff, options.color, out)?,
        DiffFormat::Unified => write_unified(diff, out)?,
        DiffFormat::Json => write_json(diff, out)?,
        DiffFormat::Html => write_html(diff, out)?,
    }
    Ok(())
}
