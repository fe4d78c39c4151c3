//! Renderers of a structured diff: terminal, unified text, JSON and HTML.

mod html;
mod text;

use std::io::Write;

pub use html::write_html;
pub use text::{write_term, write_unified};

use crate::ArticleDiff;

/// The JSON form: the [`ArticleDiff`] fields, schema in `docs/DIFF.md`.
pub fn write_json(diff: &ArticleDiff, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, diff)?;
    writeln!(out)
}

/// The one-line summary every renderer opens with.
pub(crate) fn summary(diff: &ArticleDiff) -> String {
    if diff.change == newsarc_model::ChangeKind::Unchanged {
        return "no change: both revisions hold the same bytes".into();
    }
    let s = &diff.stats;
    format!(
        "change: {} | sentences: {} added, {} deleted, {} edited, {} moved | chars: +{} -{}",
        diff.change.as_str(),
        s.sentences_added,
        s.sentences_deleted,
        s.sentences_edited,
        s.sentences_moved,
        s.chars_added,
        s.chars_removed
    )
}

/// How many sentences of unchanged text to show around a change.
pub const CONTEXT_SENTENCES: usize = 1;

/// The unchanged sentences shown before (`leading`) and after a change.
pub(crate) fn context(text: &str, leading: bool) -> (bool, String) {
    let sentences = crate::split_sentences(text);
    if sentences.len() <= CONTEXT_SENTENCES {
        return (false, text.to_owned());
    }
    let shown = if leading {
        &sentences[sentences.len() - CONTEXT_SENTENCES..]
    } else {
        &sentences[..CONTEXT_SENTENCES]
    };
    (true, shown.concat())
}
