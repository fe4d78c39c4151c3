//! Inline changes inside an edited sentence: words for Latin text,
//! characters for CJK text, cleaned up for reading.

use similar::{Algorithm, DiffOp, capture_diff_slices};
use unicode_segmentation::UnicodeSegmentation;

use crate::{InlinePart, OpKind};

/// When more than this share of a sentence's characters changed, the
/// sentence is shown replaced whole: a patchwork of tiny equal pieces reads
/// worse than the two versions one after the other. Two thirds, as the diff
/// issue suggests; the share is (removed + added) / (old + new), the same
/// in both directions.
pub const WHOLE_REPLACE_SHARE: f64 = 2.0 / 3.0;

/// Tokens: UAX #29 word boundaries, which give whole words for Latin
/// scripts and single characters for Han, kana and other scripts written
/// without spaces (see `docs/DIFF.md` for why characters, not a segmenter).
pub fn tokens(text: &str) -> Vec<&str> {
    text.split_word_bounds().collect()
}

fn char_len(text: &str) -> usize {
    text.chars().count()
}

/// The inline parts turning `old` into `new`.
pub fn inline_parts(old: &str, new: &str) -> Vec<InlinePart> {
    let (old_tokens, new_tokens) = (tokens(old), tokens(new));
    let mut parts: Vec<InlinePart> = Vec::new();
    let mut push = |kind: OpKind, pieces: &[&str]| {
        let text: String = pieces.concat();
        if !text.is_empty() {
            parts.push(InlinePart { kind, text });
        }
    };
    for op in capture_diff_slices(Algorithm::Myers, &old_tokens, &new_tokens) {
        match op {
            DiffOp::Equal { old_index, len, .. } => {
                push(OpKind::Equal, &old_tokens[old_index..old_index + len]);
            }
            DiffOp::Delete {
                old_index, old_len, ..
            } => push(OpKind::Delete, &old_tokens[old_index..old_index + old_len]),
            DiffOp::Insert {
                new_index, new_len, ..
            } => push(OpKind::Insert, &new_tokens[new_index..new_index + new_len]),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                push(OpKind::Delete, &old_tokens[old_index..old_index + old_len]);
                push(OpKind::Insert, &new_tokens[new_index..new_index + new_len]);
            }
        }
    }
    let parts = semantic_cleanup(parts);
    let changed: usize = parts
        .iter()
        .filter(|p| p.kind != OpKind::Equal)
        .map(|p| char_len(&p.text))
        .sum();
    let total = char_len(old) + char_len(new);
    if total > 0 && changed as f64 / total as f64 > WHOLE_REPLACE_SHARE {
        return [(OpKind::Delete, old), (OpKind::Insert, new)]
            .into_iter()
            .filter(|(_, text)| !text.is_empty())
            .map(|(kind, text)| InlinePart {
                kind,
                text: text.to_owned(),
            })
            .collect();
    }
    parts
}

/// A run of the inline diff: unchanged text, or an edit (everything
/// deleted, then everything inserted).
enum Segment {
    Equal(String),
    Edit { deleted: String, inserted: String },
}

/// diff-match-patch's semantic clean-up: an equality no longer than the
/// edits on both sides of it is folded into them ("[-a b-]{+c d+}" rather
/// than "[-a-]{+c+} [-b-]{+d+}"). Repeats until nothing changes.
fn semantic_cleanup(parts: Vec<InlinePart>) -> Vec<InlinePart> {
    let mut segments: Vec<Segment> = Vec::new();
    for part in parts {
        match (part.kind, segments.last_mut()) {
            (OpKind::Equal, Some(Segment::Equal(text))) => text.push_str(&part.text),
            (OpKind::Equal, _) => segments.push(Segment::Equal(part.text)),
            (kind, Some(Segment::Edit { deleted, inserted })) => {
                if kind == OpKind::Delete {
                    deleted.push_str(&part.text);
                } else {
                    inserted.push_str(&part.text);
                }
            }
            (kind, _) => segments.push(if kind == OpKind::Delete {
                Segment::Edit {
                    deleted: part.text,
                    inserted: String::new(),
                }
            } else {
                Segment::Edit {
                    deleted: String::new(),
                    inserted: part.text,
                }
            }),
        }
    }
    let edit_len = |segment: &Segment| match segment {
        Segment::Edit { deleted, inserted } => Some(char_len(deleted).max(char_len(inserted))),
        Segment::Equal(_) => None,
    };
    'merge: loop {
        for i in 1..segments.len().saturating_sub(1) {
            let (Some(before), Segment::Equal(equal), Some(after)) = (
                edit_len(&segments[i - 1]),
                &segments[i],
                edit_len(&segments[i + 1]),
            ) else {
                continue;
            };
            if char_len(equal) > before || char_len(equal) > after {
                continue;
            }
            let merged: Vec<Segment> = segments.drain(i - 1..=i + 1).collect();
            let (mut deleted, mut inserted) = (String::new(), String::new());
            for segment in merged {
                match segment {
                    Segment::Equal(text) => {
                        deleted.push_str(&text);
                        inserted.push_str(&text);
                    }
                    Segment::Edit {
                        deleted: d,
                        inserted: n,
                    } => {
                        deleted.push_str(&d);
                        inserted.push_str(&n);
                    }
                }
            }
            segments.insert(i - 1, Segment::Edit { deleted, inserted });
            continue 'merge;
        }
        break;
    }
    let mut parts = Vec::new();
    for segment in segments {
        let pieces = match segment {
            Segment::Equal(text) => vec![(OpKind::Equal, text)],
            Segment::Edit { deleted, inserted } => {
                vec![(OpKind::Delete, deleted), (OpKind::Insert, inserted)]
            }
        };
        parts.extend(
            pieces
                .into_iter()
                .filter(|(_, text)| !text.is_empty())
                .map(|(kind, text)| InlinePart { kind, text }),
        );
    }
    parts
}

/// The length of a longest common subsequence of the two texts' characters
/// (Myers' diff is minimal, so this does not depend on which of several
/// equally short alignments it picks, nor on the order of the arguments).
pub fn common_chars(a: &[char], b: &[char]) -> usize {
    capture_diff_slices(Algorithm::Myers, a, b)
        .iter()
        .map(|op| match op {
            DiffOp::Equal { len, .. } => *len,
            _ => 0,
        })
        .sum()
}

/// A text prepared for many similarity checks.
pub struct Profile {
    chars: Vec<char>,
    sorted: Vec<char>,
}

impl Profile {
    /// Prepares `text`.
    pub fn new(text: &str) -> Self {
        let chars: Vec<char> = text.chars().collect();
        let mut sorted = chars.clone();
        sorted.sort_unstable();
        Self { chars, sorted }
    }
}

/// [`similarity`] when it is at least `threshold`, else `None`. Two cheap
/// upper bounds (the shorter length, then the characters the texts have in
/// common regardless of order) rule most pairs out before the diff runs:
/// dissimilar sentences are the slowest case for Myers' algorithm.
pub fn similarity_at_least(a: &Profile, b: &Profile, threshold: f64) -> Option<f64> {
    let total = a.chars.len() + b.chars.len();
    if total == 0 {
        return Some(1.0);
    }
    let bound = |common: usize| 2.0 * common as f64 / total as f64;
    if bound(a.chars.len().min(b.chars.len())) < threshold {
        return None;
    }
    let (mut i, mut j, mut shared) = (0, 0, 0);
    while i < a.sorted.len() && j < b.sorted.len() {
        match a.sorted[i].cmp(&b.sorted[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += 1;
                i += 1;
                j += 1;
            }
        }
    }
    if bound(shared) < threshold {
        return None;
    }
    let score = bound(common_chars(&a.chars, &b.chars));
    (score >= threshold).then_some(score)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(parts: &[InlinePart]) -> String {
        parts
            .iter()
            .map(|p| match p.kind {
                OpKind::Delete => format!("[-{}-]", p.text),
                OpKind::Insert => format!("{{+{}+}}", p.text),
                _ => p.text.clone(),
            })
            .collect()
    }

    #[test]
    fn one_changed_chinese_character_is_all_that_is_marked() {
        let old = "联合国人权事务高级专员巴切莱特昨天在广州与中国国务委员兼外交部长王毅会晤。";
        let new = "联合国人权事务高级专员巴切莱特前天在广州与中国国务委员兼外交部长王毅会晤。";
        assert_eq!(
            render(&inline_parts(old, new)),
            "联合国人权事务高级专员巴切莱特[-昨-]{+前+}天在广州与中国国务委员兼外交部长王毅会晤。"
        );
    }

    #[test]
    fn english_edits_are_whole_words_and_small_gaps_fold_in() {
        assert_eq!(
            render(&inline_parts(
                "It will reopen on Friday, the city said.",
                "It will reopen on Saturday, the city said."
            )),
            "It will reopen on [-Friday-]{+Saturday+}, the city said."
        );
        assert_eq!(
            render(&inline_parts(
                "the red big dog ran",
                "the blue small dog ran"
            )),
            "the [-red big-]{+blue small+} dog ran"
        );
    }

    #[test]
    fn a_mostly_rewritten_sentence_is_replaced_whole() {
        let parts = inline_parts(
            "Officials declined to comment.",
            "The mayor was unavailable yesterday.",
        );
        assert_eq!(
            render(&parts),
            "[-Officials declined to comment.-]{+The mayor was unavailable yesterday.+}"
        );
    }

    #[test]
    fn similarity_is_symmetric_and_cut_at_the_threshold() {
        let at_least =
            |a: &str, b: &str, t| similarity_at_least(&Profile::new(a), &Profile::new(b), t);
        assert_eq!(at_least("abc", "abc", 1.0), Some(1.0));
        assert_eq!(at_least("abc", "xyz", 0.1), None);
        assert_eq!(at_least("abcd", "abxd", 0.5), Some(0.75));
        assert_eq!(at_least("abxd", "abcd", 0.5), Some(0.75));
        assert_eq!(at_least("abcd", "abxd", 0.8), None);
        assert_eq!(
            at_least("abcd", "dcba", 0.9),
            None,
            "same characters, other order"
        );
    }
}
