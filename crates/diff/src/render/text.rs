//! Terminal and unified text renderers.

use std::io::Write;

use crate::render::context;
use crate::{ArticleDiff, InlinePart, Op, OpKind};

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

fn header(diff: &ArticleDiff, out: &mut dyn Write, prefix: &str) -> std::io::Result<()> {
    writeln!(out, "{prefix}{}", super::summary(diff))?;
    for change in &diff.metadata {
        writeln!(
            out,
            "{prefix}{}: {} -> {}",
            change.field,
            change.old.as_deref().unwrap_or("(none)"),
            change.new.as_deref().unwrap_or("(none)")
        )?;
    }
    Ok(())
}

/// Marks for the terminal: colours, or git word-diff brackets without them.
struct Marks {
    color: bool,
}

/// Wraps `text` in `open`/`close`, leaving a paragraph break outside.
fn wrap(text: &str, open: &str, close: &str) -> String {
    match text.strip_suffix('\n') {
        Some(line) => format!("{open}{line}{close}\n"),
        None => format!("{open}{text}{close}"),
    }
}

impl Marks {
    fn deleted(&self, text: &str) -> String {
        if self.color {
            wrap(text, RED, RESET)
        } else {
            wrap(text, "[-", "-]")
        }
    }

    fn inserted(&self, text: &str) -> String {
        if self.color {
            wrap(text, GREEN, RESET)
        } else {
            wrap(text, "{+", "+}")
        }
    }

    fn moved(&self, text: &str) -> String {
        if self.color {
            format!("{CYAN}{text}{RESET}")
        } else {
            text.to_owned()
        }
    }

    fn inline(&self, parts: &[InlinePart]) -> String {
        parts
            .iter()
            .map(|part| match part.kind {
                OpKind::Delete => self.deleted(&part.text),
                OpKind::Insert => self.inserted(&part.text),
                _ => part.text.clone(),
            })
            .collect()
    }
}

fn is_change(op: Option<&Op>) -> bool {
    op.is_some_and(|op| op.kind != OpKind::Equal)
}

/// The inline diff for a terminal: changed sentences marked in place, with
/// a sentence of context around each change. `color` uses ANSI colours;
/// without it, `[-deleted-]` and `{+inserted+}` as git's word diff writes.
pub fn write_term(diff: &ArticleDiff, color: bool, out: &mut dyn Write) -> std::io::Result<()> {
    let marks = Marks { color };
    if let (Some(from), Some(to)) = (&diff.from, &diff.to) {
        let (bold, reset) = if color { (BOLD, RESET) } else { ("", "") };
        writeln!(out, "{bold}from {from}{reset}\n{bold}to   {to}{reset}")?;
    }
    header(diff, out, "")?;
    if diff.ops.is_empty() {
        writeln!(out, "(the body text is the same)")?;
        return Ok(());
    }
    writeln!(out)?;
    let mut body = String::new();
    for (index, op) in diff.ops.iter().enumerate() {
        let old = op.old.as_deref().unwrap_or("");
        let new = op.new.as_deref().unwrap_or("");
        match op.kind {
            OpKind::Equal => {
                let before = is_change(index.checked_sub(1).and_then(|i| diff.ops.get(i)));
                let after = is_change(diff.ops.get(index + 1));
                let text = match (before, after) {
                    (true, true) => {
                        let (cut_head, head) = context(new, false);
                        let (cut_tail, tail) = context(new, true);
                        if cut_head && cut_tail && head != tail {
                            format!("{head}\n…\n{tail}")
                        } else {
                            new.to_owned()
                        }
                    }
                    (true, false) => {
                        let (cut, head) = context(new, false);
                        if cut { format!("{head}…\n") } else { head }
                    }
                    (false, true) => {
                        let (cut, tail) = context(new, true);
                        if cut { format!("…\n{tail}") } else { tail }
                    }
                    (false, false) => new.to_owned(),
                };
                body.push_str(&text);
            }
            OpKind::Insert => body.push_str(&marks.inserted(new)),
            OpKind::Delete => body.push_str(&marks.deleted(old)),
            OpKind::Replace => body.push_str(&marks.inline(&op.inline)),
            OpKind::Move if op.new.is_none() => {
                body.push_str(&marks.moved(&format!("⟨moved below: {}⟩", old.trim_end())));
                if old.ends_with('\n') {
                    body.push('\n');
                }
            }
            OpKind::Move => {
                let text = if op.inline.is_empty() {
                    new.to_owned()
                } else {
                    marks.inline(&op.inline)
                };
                body.push_str(&marks.moved("⟨moved here⟩"));
                body.push_str(&text);
            }
        }
    }
    write!(out, "{body}")?;
    if !body.ends_with('\n') {
        writeln!(out)?;
    }
    Ok(())
}

fn lines(prefix: char, text: &str, note: &str, out: &mut dyn Write) -> std::io::Result<()> {
    let mut all = text.trim_end_matches('\n').split('\n').peekable();
    while let Some(line) = all.next() {
        if all.peek().is_none() && !note.is_empty() {
            writeln!(out, "{prefix}{line}  {note}")?;
        } else {
            writeln!(out, "{prefix}{line}")?;
        }
    }
    Ok(())
}

/// A unified diff at sentence grain, for email and issue comments: `-` and
/// `+` lines, one sentence of ` ` context, `@@` between separate changes,
/// metadata as `#` lines.
pub fn write_unified(diff: &ArticleDiff, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "--- {}", diff.from.as_deref().unwrap_or("old"))?;
    writeln!(out, "+++ {}", diff.to.as_deref().unwrap_or("new"))?;
    header(diff, out, "# ")?;
    let mut change_number = 0;
    for (index, op) in diff.ops.iter().enumerate() {
        let old = op.old.as_deref().unwrap_or("");
        let new = op.new.as_deref().unwrap_or("");
        match op.kind {
            OpKind::Equal => {
                let after = is_change(diff.ops.get(index + 1));
                let before = is_change(index.checked_sub(1).and_then(|i| diff.ops.get(i)));
                let short = crate::split_sentences(new).len() <= 2 * super::CONTEXT_SENTENCES;
                if before && after && short {
                    // Too little between two changes to split them.
                    lines(' ', new, "", out)?;
                    continue;
                }
                if before {
                    lines(' ', &context(new, false).1, "", out)?;
                }
                if after {
                    change_number += 1;
                    writeln!(out, "@@ change {change_number} @@")?;
                    lines(' ', &context(new, true).1, "", out)?;
                }
            }
            _ if index == 0 => {
                change_number += 1;
                writeln!(out, "@@ change {change_number} @@")?;
            }
            _ => {}
        }
        match op.kind {
            OpKind::Equal => {}
            OpKind::Insert => lines('+', new, "", out)?,
            OpKind::Delete => lines('-', old, "", out)?,
            OpKind::Replace => {
                lines('-', old, "", out)?;
                lines('+', new, "", out)?;
            }
            OpKind::Move if op.new.is_none() => lines('-', old, "(moved below)", out)?,
            OpKind::Move => lines('+', new, "(moved from above)", out)?,
        }
    }
    Ok(())
}
