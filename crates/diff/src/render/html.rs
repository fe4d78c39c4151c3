//! One self-contained HTML page: inline CSS, no scripts, every piece of
//! article text escaped.

use std::io::Write;

use crate::{ArticleDiff, InlinePart, OpKind};

const STYLE: &str = "body{font:16px/1.7 system-ui,sans-serif;max-width:46em;margin:2em auto;padding:0 1em;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}\
del{background:#fdd;color:#900;text-decoration:line-through}ins{background:#dfd;color:#060;text-decoration:none}\
.move{background:#def;border-left:3px solid #48c;padding-left:.3em}.stats{color:#555}p{margin:.6em 0}";

/// Escapes text for HTML element content and attribute values.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(ch),
        }
    }
    escaped
}

/// Text with paragraph breaks as `<br>`.
fn body_text(text: &str) -> String {
    escape(text).replace('\n', "<br>\n")
}

fn inline(parts: &[InlinePart]) -> String {
    parts
        .iter()
        .map(|part| match part.kind {
            OpKind::Delete => format!("<del>{}</del>", body_text(&part.text)),
            OpKind::Insert => format!("<ins>{}</ins>", body_text(&part.text)),
            _ => body_text(&part.text),
        })
        .collect()
}

/// Writes the diff as a page: metadata changes, statistics, then the whole
/// body with deletions, insertions and moves marked inline.
pub fn write_html(diff: &ArticleDiff, out: &mut dyn Write) -> std::io::Result<()> {
    let title = format!(
        "newsarc diff {} → {}",
        diff.from.as_deref().unwrap_or("old"),
        diff.to.as_deref().unwrap_or("new")
    );
    writeln!(
        out,
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>",
        escape(&title)
    )?;
    writeln!(out, "<h1>{}</h1>", escape(&title))?;
    writeln!(
        out,
        "<p class=\"stats\">{}</p>",
        escape(&super::summary(diff))
    )?;
    if !diff.metadata.is_empty() {
        writeln!(
            out,
            "<table><tr><th>field</th><th>old</th><th>new</th></tr>"
        )?;
        for change in &diff.metadata {
            writeln!(
                out,
                "<tr><td>{}</td><td><del>{}</del></td><td><ins>{}</ins></td></tr>",
                escape(change.field),
                escape(change.old.as_deref().unwrap_or("")),
                escape(change.new.as_deref().unwrap_or(""))
            )?;
        }
        writeln!(out, "</table>")?;
    }
    writeln!(out, "<div class=\"body\"><p>")?;
    for op in &diff.ops {
        let old = op.old.as_deref().unwrap_or("");
        let new = op.new.as_deref().unwrap_or("");
        let html = match op.kind {
            OpKind::Equal => body_text(new),
            OpKind::Insert => format!("<ins>{}</ins>", body_text(new)),
            OpKind::Delete => format!("<del>{}</del>", body_text(old)),
            OpKind::Replace => inline(&op.inline),
            OpKind::Move if op.new.is_none() => {
                format!(
                    "<del class=\"move\" title=\"moved below\">{}</del>",
                    body_text(old)
                )
            }
            OpKind::Move if op.inline.is_empty() => {
                format!(
                    "<ins class=\"move\" title=\"moved from above\">{}</ins>",
                    body_text(new)
                )
            }
            OpKind::Move => format!(
                "<span class=\"move\" title=\"moved from above\">{}</span>",
                inline(&op.inline)
            ),
        };
        write!(out, "{html}")?;
    }
    writeln!(out, "</p></div></body></html>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<script>alert(\"x\")</script>&'"),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"
        );
    }
}
