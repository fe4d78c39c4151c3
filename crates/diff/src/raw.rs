//! Raw mode: the stored bytes (HTML source) by lines, and inside changed
//! lines by tokens, for users who need to see markup or image URL changes.

use similar::{Algorithm, DiffOp, capture_diff_slices};

use crate::inline::inline_parts;
use crate::{EditStats, Op, OpKind, stats_of};

/// Diffs two documents' bytes (invalid UTF-8 shown as U+FFFD). In the
/// statistics, "sentences" are lines.
pub fn diff_raw(old: &[u8], new: &[u8]) -> (Vec<Op>, EditStats) {
    let (old, new) = (String::from_utf8_lossy(old), String::from_utf8_lossy(new));
    let old_lines: Vec<&str> = old.split_inclusive('\n').collect();
    let new_lines: Vec<&str> = new.split_inclusive('\n').collect();
    let mut ops: Vec<Op> = Vec::new();
    let plain = |kind, old: Option<String>, new: Option<String>| Op {
        kind,
        old,
        new,
        inline: Vec::new(),
        pair: None,
    };
    for op in capture_diff_slices(Algorithm::Patience, &old_lines, &new_lines) {
        let old_part = &old_lines[op.old_range()];
        let new_part = &new_lines[op.new_range()];
        match op {
            DiffOp::Equal { .. } => {
                let text = old_part.concat();
                ops.push(plain(OpKind::Equal, Some(text.clone()), Some(text)));
            }
            DiffOp::Delete { .. } => {
                ops.extend(
                    old_part
                        .iter()
                        .map(|l| plain(OpKind::Delete, Some((*l).into()), None)),
                );
            }
            DiffOp::Insert { .. } => {
                ops.extend(
                    new_part
                        .iter()
                        .map(|l| plain(OpKind::Insert, None, Some((*l).into()))),
                );
            }
            DiffOp::Replace { .. } => {
                // Lines pair up in order; the longer side's rest is deleted or
                // inserted.
                for index in 0..old_part.len().max(new_part.len()) {
                    match (old_part.get(index), new_part.get(index)) {
                        (Some(o), Some(n)) => ops.push(Op {
                            kind: OpKind::Replace,
                            old: Some((*o).into()),
                            new: Some((*n).into()),
                            inline: inline_parts(o, n),
                            pair: None,
                        }),
                        (Some(o), None) => ops.push(plain(OpKind::Delete, Some((*o).into()), None)),
                        (None, Some(n)) => ops.push(plain(OpKind::Insert, None, Some((*n).into()))),
                        (None, None) => {}
                    }
                }
            }
        }
    }
    let stats = stats_of(&ops);
    (ops, stats)
}
