//! JSON output helpers: one place decides how `--json` output is written.

use std::io::Write;

use serde::Serialize;

/// Writes `value` as one compact line (JSON Lines).
pub(crate) fn write_line(out: &mut dyn Write, value: &impl Serialize) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, value)?;
    writeln!(out)
}

/// Writes `value` as an indented document.
pub(crate) fn write_document(out: &mut dyn Write, value: &impl Serialize) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}
