//! newsarc's diff engine: what changed between two revisions of an article,
//! readably, in Chinese as in English.
//!
//! Paragraphs are aligned first, then sentences inside changed paragraphs,
//! then words (Latin) or characters (CJK) inside edited sentences. Moved
//! sentences are reported as moves; metadata changes are listed field by
//! field; edit statistics count sentences and characters as NewsEdits does.
//!
//! ```
//! use newsarc_diff::{diff_articles, apply, body_text, OpKind};
//! use newsarc_model::Article;
//!
//! let old = Article { paragraphs: vec!["市政府昨天宣布，工程将在下月动工。".into()], ..Article::default() };
//! let new = Article { paragraphs: vec!["市政府昨天宣布，工程将在四月动工。".into()], ..Article::default() };
//! let diff = diff_articles(&old, &new);
//! assert_eq!(diff.stats.sentences_edited, 1);
//! assert_eq!((diff.stats.chars_removed, diff.stats.chars_added), (1, 1));
//! assert_eq!(diff.ops[0].kind, OpKind::Replace);
//! assert_eq!(apply(&body_text(&old), &diff.ops)?, body_text(&new));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod body;
mod inline;
mod metadata;
mod raw;
pub mod render;
mod sentence;

use newsarc_model::{Article, ChangeKind};
use serde::Serialize;

pub use raw::diff_raw;
pub use sentence::split_sentences;

/// What an op or an inline part does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    /// Text in both revisions.
    Equal,
    /// Text only in the new revision.
    Insert,
    /// Text only in the old revision.
    Delete,
    /// A sentence edited in place: `old` became `new`.
    Replace,
    /// A sentence that moved. The op at the old place has `old` only; the
    /// op at the new place has `old` and `new` (they differ when the sentence
    /// was also edited); `pair` links the two.
    Move,
}

/// A piece of an edited sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InlinePart {
    /// `equal`, `insert` or `delete`.
    pub kind: OpKind,
    /// The text.
    pub text: String,
}

/// One step of the body diff. Texts include the `\n` that ends a paragraph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Op {
    /// What the step does.
    pub kind: OpKind,
    /// The old text (absent for inserts and at a move's destination… see
    /// [`OpKind::Move`]).
    pub old: Option<String>,
    /// The new text.
    pub new: Option<String>,
    /// For replaces and edited moves: the word- or character-level parts.
    pub inline: Vec<InlinePart>,
    /// For moves: the index of the other half of the move in `ops`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pair: Option<usize>,
}

/// Edit statistics, NewsEdits-style.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EditStats {
    /// Sentences only in the new revision.
    pub sentences_added: u32,
    /// Sentences only in the old revision.
    pub sentences_deleted: u32,
    /// Sentences edited in place.
    pub sentences_edited: u32,
    /// Sentences moved (edited or not).
    pub sentences_moved: u32,
    /// Characters added: whole inserted sentences, plus the minimal
    /// character edit of edited and moved ones (paragraph breaks not
    /// counted).
    pub chars_added: u64,
    /// Characters removed, counted the same way.
    pub chars_removed: u64,
}

/// A metadata field that changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MetadataChange {
    /// `title`, `url`, `published`, `author`, `tags`, `categories` or `image`.
    pub field: &'static str,
    /// The old value (absent when added).
    pub old: Option<String>,
    /// The new value (absent when removed).
    pub new: Option<String>,
}

/// The structured diff of two revisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArticleDiff {
    /// The old revision's id, filled in by the caller.
    pub from: Option<String>,
    /// The new revision's id, filled in by the caller.
    pub to: Option<String>,
    /// Edit statistics of the body.
    pub stats: EditStats,
    /// The change kind, as the store records it.
    pub change: ChangeKind,
    /// Metadata changes, field by field.
    pub metadata: Vec<MetadataChange>,
    /// The body diff; empty when the body text is the same.
    pub ops: Vec<Op>,
}

/// The body text a diff's ops cover: every paragraph followed by `\n`.
pub fn body_text(article: &Article) -> String {
    article
        .paragraphs
        .iter()
        .flat_map(|p| [p.as_str(), "\n"])
        .collect()
}

/// Diffs two parsed articles.
pub fn diff_articles(old: &Article, new: &Article) -> ArticleDiff {
    let ops = if old.paragraphs == new.paragraphs {
        Vec::new()
    } else {
        body::diff_paragraphs(&old.paragraphs, &new.paragraphs)
    };
    ArticleDiff {
        from: None,
        to: None,
        stats: stats_of(&ops),
        change: ChangeKind::between(
            Some((&old.meta, old.text_digest())),
            (&new.meta, new.text_digest()),
        ),
        metadata: metadata::changes(old, new),
        ops,
    }
}

fn visible_chars(text: &str) -> u64 {
    text.chars().filter(|&c| c != '\n').count() as u64
}

/// Counts sentences and characters over `ops`.
pub(crate) fn stats_of(ops: &[Op]) -> EditStats {
    let mut stats = EditStats::default();
    // Edited sentences count the minimal character edit (what a longest
    // common subsequence leaves out), not the cleaned-up display: the figure
    // is then the same whichever of several equal alignments was shown, and
    // swaps exactly when the revisions swap.
    let edited_chars = |op: &Op| -> (u64, u64) {
        let visible = |text: Option<&str>| -> Vec<char> {
            text.unwrap_or_default()
                .chars()
                .filter(|&c| c != '\n')
                .collect()
        };
        let (old, new) = (visible(op.old.as_deref()), visible(op.new.as_deref()));
        let common = inline::common_chars(&old, &new);
        ((new.len() - common) as u64, (old.len() - common) as u64)
    };
    for op in ops {
        match op.kind {
            OpKind::Equal => {}
            OpKind::Insert => {
                stats.sentences_added += 1;
                stats.chars_added += op.new.as_deref().map_or(0, visible_chars);
            }
            OpKind::Delete => {
                stats.sentences_deleted += 1;
                stats.chars_removed += op.old.as_deref().map_or(0, visible_chars);
            }
            OpKind::Replace => {
                stats.sentences_edited += 1;
                let (added, removed) = edited_chars(op);
                stats.chars_added += added;
                stats.chars_removed += removed;
            }
            OpKind::Move if op.new.is_some() => {
                stats.sentences_moved += 1;
                let (added, removed) = edited_chars(op);
                stats.chars_added += added;
                stats.chars_removed += removed;
            }
            OpKind::Move => {}
        }
    }
    stats
}

/// Why ops do not apply to a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyError {
    /// The op that did not match.
    pub op: usize,
}

impl std::fmt::Display for ApplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "op {} does not match the old text", self.op)
    }
}

impl std::error::Error for ApplyError {}

/// Applies `ops` to `old` (no ops: nothing changed): every op's old side must match the old text in
/// order (a move's source where it was), and the new sides, in order, make
/// the result.
pub fn apply(old: &str, ops: &[Op]) -> Result<String, ApplyError> {
    if ops.is_empty() {
        // No ops: the body did not change.
        return Ok(old.to_owned());
    }
    let mut rest = old;
    let mut result = String::with_capacity(old.len());
    for (index, op) in ops.iter().enumerate() {
        let consumes = match op.kind {
            OpKind::Equal | OpKind::Delete | OpKind::Replace => op.old.as_deref(),
            OpKind::Move if op.new.is_none() => op.old.as_deref(),
            OpKind::Insert | OpKind::Move => None,
        };
        if let Some(text) = consumes {
            rest = rest.strip_prefix(text).ok_or(ApplyError { op: index })?;
        }
        if let (OpKind::Equal | OpKind::Insert | OpKind::Replace | OpKind::Move, Some(text)) =
            (op.kind, op.new.as_deref())
        {
            result.push_str(text);
        }
    }
    if rest.is_empty() {
        Ok(result)
    } else {
        Err(ApplyError { op: ops.len() })
    }
}
