//! The body diff: paragraphs aligned first, sentences inside changed
//! paragraphs next, then moves across the article and edits in place.

use similar::{Algorithm, DiffOp, capture_diff_slices};

use crate::inline::{Profile, inline_parts, similarity_at_least};
use crate::sentence::split_sentences;
use crate::{Op, OpKind};

/// Two sentences count as one moved sentence when they are at least this
/// alike: NewsEdits' threshold for "the same sentence, edited" (word-level
/// similarity above 0.8).
pub const MOVE_SIMILARITY: f64 = 0.8;

/// A deleted and an inserted sentence in the same place count as one edited
/// sentence when they are at least this alike; below it they read better as
/// a deletion and an insertion. Half the characters shared, the cut-off
/// MediaWiki's diff uses for pairing changed lines.
pub const EDIT_SIMILARITY: f64 = 0.5;

/// Sentences shorter than this (in characters) are never called moves: a
/// lone "。" or "Yes." appearing elsewhere is not news.
pub const MIN_MOVE_CHARS: usize = 6;

/// Pairing compares every deleted with every inserted sentence of a change;
/// past this many comparisons (a rewritten article) sentences are left as
/// deletions and insertions rather than spend seconds on one diff.
pub const MAX_PAIRING_COMPARISONS: usize = 2_500;

/// A sentence-level step before moves and edits are found.
enum Step {
    Equal(String),
    /// A deleted sentence and the change block it belongs to.
    Delete(String, usize),
    /// An inserted sentence and its change block.
    Insert(String, usize),
}

fn with_breaks(paragraphs: &[String]) -> Vec<String> {
    paragraphs.iter().map(|p| format!("{p}\n")).collect()
}

/// One sentence of a changed region.
#[derive(Clone, Copy)]
enum Item<'a> {
    Equal(&'a str),
    Delete(&'a str),
    Insert(&'a str),
}

/// The sentence diff of a changed region, with every deletion and insertion
/// slid as far up as an equal copy of itself allows. Where a repeated
/// sentence makes several alignments equally short, this picks the same one
/// whichever revision comes first, so the statistics of A→B and B→A agree.
fn slid_sentence_diff<'a>(old: &[&'a str], new: &[&'a str]) -> Vec<Item<'a>> {
    let mut items = Vec::new();
    for op in capture_diff_slices(Algorithm::Patience, old, new) {
        if let DiffOp::Equal { old_index, len, .. } = op {
            items.extend(
                old[old_index..old_index + len]
                    .iter()
                    .map(|s| Item::Equal(s)),
            );
            continue;
        }
        items.extend(old[op.old_range()].iter().map(|s| Item::Delete(s)));
        items.extend(new[op.new_range()].iter().map(|s| Item::Insert(s)));
    }
    for start in 1..items.len() {
        let mut at = start;
        while at > 0 {
            let slides = match (items[at - 1], items[at]) {
                (Item::Equal(e), Item::Delete(t) | Item::Insert(t)) => e == t,
                _ => false,
            };
            if !slides {
                break;
            }
            items.swap(at - 1, at);
            at -= 1;
        }
    }
    items
}

/// Sentence steps of the whole body.
fn steps(old: &[String], new: &[String]) -> Vec<Step> {
    let (old, new) = (with_breaks(old), with_breaks(new));
    let mut steps = Vec::new();
    let mut block = 0;
    for op in capture_diff_slices(Algorithm::Patience, &old, &new) {
        match op {
            DiffOp::Equal { old_index, len, .. } => {
                steps.push(Step::Equal(old[old_index..old_index + len].concat()));
            }
            _ => {
                let (old_range, new_range) = (op.old_range(), op.new_range());
                let old_sentences: Vec<&str> = old[old_range]
                    .iter()
                    .flat_map(|p| split_sentences(p))
                    .collect();
                let new_sentences: Vec<&str> = new[new_range]
                    .iter()
                    .flat_map(|p| split_sentences(p))
                    .collect();
                block += 1;
                for item in slid_sentence_diff(&old_sentences, &new_sentences) {
                    match item {
                        Item::Equal(text) => {
                            steps.push(Step::Equal(text.to_owned()));
                            block += 1;
                        }
                        Item::Delete(text) => steps.push(Step::Delete(text.to_owned(), block)),
                        Item::Insert(text) => steps.push(Step::Insert(text.to_owned(), block)),
                    }
                }
                block += 1;
            }
        }
    }
    steps
}

/// How each deleted and inserted sentence ends up.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    Alone,
    /// Moved: paired with the step at this index.
    Moved(usize),
    /// Edited in place: paired with the step at this index.
    Edited(usize),
}

fn text(step: &Step) -> &str {
    match step {
        Step::Equal(text) | Step::Delete(text, _) | Step::Insert(text, _) => text,
    }
}

/// Pairs deletions and insertions of different blocks that are nearly the
/// same sentence, most alike first.
fn find_moves(steps: &[Step], fates: &mut [Fate]) {
    let deletes: Vec<(usize, usize)> = steps
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match s {
            Step::Delete(t, b) if t.trim().chars().count() >= MIN_MOVE_CHARS => Some((i, *b)),
            _ => None,
        })
        .collect();
    let inserts: Vec<(usize, usize)> = steps
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match s {
            Step::Insert(t, b) if t.trim().chars().count() >= MIN_MOVE_CHARS => Some((i, *b)),
            _ => None,
        })
        .collect();
    if deletes.len() * inserts.len() > MAX_PAIRING_COMPARISONS {
        return;
    }
    let profile = |step: usize| Profile::new(text(&steps[step]).trim());
    let insert_profiles: Vec<Profile> = inserts.iter().map(|&(i, _)| profile(i)).collect();
    let mut candidates = Vec::new();
    for &(d, d_block) in &deletes {
        let delete_profile = profile(d);
        for (&(i, i_block), insert_profile) in inserts.iter().zip(&insert_profiles) {
            if d_block == i_block {
                continue;
            }
            if let Some(score) =
                similarity_at_least(&delete_profile, insert_profile, MOVE_SIMILARITY)
            {
                candidates.push((score, d, i));
            }
        }
    }
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then((a.1, a.2).cmp(&(b.1, b.2))));
    for (_, d, i) in candidates {
        if fates[d] == Fate::Alone && fates[i] == Fate::Alone {
            fates[d] = Fate::Moved(i);
            fates[i] = Fate::Moved(d);
        }
    }
}

/// Inside each block, pairs the remaining deletions and insertions in order,
/// maximising total similarity (an order-keeping alignment, so edits never
/// cross).
fn pair_edits(steps: &[Step], fates: &mut [Fate]) {
    let mut start = 0;
    while start < steps.len() {
        let block = match &steps[start] {
            Step::Delete(_, b) | Step::Insert(_, b) => *b,
            Step::Equal(_) => {
                start += 1;
                continue;
            }
        };
        let mut end = start;
        while end < steps.len()
            && matches!(&steps[end], Step::Delete(_, b) | Step::Insert(_, b) if *b == block)
        {
            end += 1;
        }
        let free = |kind_delete: bool| -> Vec<usize> {
            (start..end)
                .filter(|&i| fates[i] == Fate::Alone)
                .filter(|&i| matches!(steps[i], Step::Delete(..)) == kind_delete)
                .collect()
        };
        let (deletes, inserts) = (free(true), free(false));
        if !deletes.is_empty()
            && !inserts.is_empty()
            && deletes.len() * inserts.len() <= MAX_PAIRING_COMPARISONS
        {
            for (d, i) in align(steps, &deletes, &inserts) {
                fates[d] = Fate::Edited(i);
                fates[i] = Fate::Edited(d);
            }
        }
        start = end;
    }
}

/// Order-keeping alignment of `deletes` with `inserts` maximising the sum of
/// similarities at or above [`EDIT_SIMILARITY`].
fn align(steps: &[Step], deletes: &[usize], inserts: &[usize]) -> Vec<(usize, usize)> {
    let (n, m) = (deletes.len(), inserts.len());
    let insert_profiles: Vec<Profile> = inserts
        .iter()
        .map(|&i| Profile::new(text(&steps[i])))
        .collect();
    let score: Vec<Vec<f64>> = deletes
        .iter()
        .map(|&d| {
            let delete_profile = Profile::new(text(&steps[d]));
            insert_profiles
                .iter()
                .map(|insert_profile| {
                    similarity_at_least(&delete_profile, insert_profile, EDIT_SIMILARITY)
                        .unwrap_or(0.0)
                })
                .collect()
        })
        .collect();
    // best[a][b]: the best total for deletes[a..] and inserts[b..].
    let mut best = vec![vec![0.0f64; m + 1]; n + 1];
    for a in (0..n).rev() {
        for b in (0..m).rev() {
            let pair = if score[a][b] > 0.0 {
                score[a][b] + best[a + 1][b + 1]
            } else {
                0.0
            };
            best[a][b] = pair.max(best[a + 1][b]).max(best[a][b + 1]);
        }
    }
    let (mut a, mut b, mut pairs) = (0, 0, Vec::new());
    while a < n && b < m {
        if score[a][b] > 0.0 && best[a][b] == score[a][b] + best[a + 1][b + 1] {
            pairs.push((deletes[a], inserts[b]));
            a += 1;
            b += 1;
        } else if best[a][b] == best[a + 1][b] {
            a += 1;
        } else {
            b += 1;
        }
    }
    pairs
}

/// Builds ops from the steps and their fates.
struct Emitter<'a> {
    steps: &'a [Step],
    fates: &'a [Fate],
    ops: Vec<Op>,
    op_of_step: Vec<usize>,
}

impl Emitter<'_> {
    fn push(&mut self, step: usize, kind: OpKind, old: Option<&str>, new: Option<&str>) {
        let inline = match (kind, old, new) {
            (OpKind::Replace | OpKind::Move, Some(old), Some(new)) if old != new => {
                inline_parts(old, new)
            }
            _ => Vec::new(),
        };
        self.op_of_step[step] = self.ops.len();
        self.ops.push(Op {
            kind,
            old: old.map(str::to_owned),
            new: new.map(str::to_owned),
            inline,
            pair: None,
        });
    }

    fn equal(&mut self, text: &str) {
        match self.ops.last_mut() {
            Some(last) if last.kind == OpKind::Equal => {
                for side in [&mut last.old, &mut last.new].into_iter().flatten() {
                    side.push_str(text);
                }
            }
            _ => self.ops.push(Op {
                kind: OpKind::Equal,
                old: Some(text.to_owned()),
                new: Some(text.to_owned()),
                inline: Vec::new(),
                pair: None,
            }),
        }
    }

    /// One change block: deletions consumed in old order, insertions in new
    /// order, edits where both halves meet (the alignment never crosses).
    fn block(&mut self, deletes: &[usize], inserts: &[usize]) {
        let (steps, fates) = (self.steps, self.fates);
        let (mut p, mut q) = (0, 0);
        loop {
            let d = deletes.get(p).copied();
            let i = inserts.get(q).copied();
            let moved_from = i.and_then(|i| match fates[i] {
                Fate::Moved(source) => Some(source),
                _ => None,
            });
            match (d, i) {
                (Some(d), _) if matches!(fates[d], Fate::Moved(_)) => {
                    self.push(d, OpKind::Move, Some(text(&steps[d])), None);
                    p += 1;
                }
                (_, Some(i)) if moved_from.is_some() => {
                    let source = moved_from.unwrap_or(i);
                    self.push(
                        i,
                        OpKind::Move,
                        Some(text(&steps[source])),
                        Some(text(&steps[i])),
                    );
                    q += 1;
                }
                (Some(d), Some(i)) if fates[d] == Fate::Edited(i) => {
                    self.push(
                        i,
                        OpKind::Replace,
                        Some(text(&steps[d])),
                        Some(text(&steps[i])),
                    );
                    self.op_of_step[d] = self.op_of_step[i];
                    p += 1;
                    q += 1;
                }
                (Some(d), _) if fates[d] == Fate::Alone => {
                    self.push(d, OpKind::Delete, Some(text(&steps[d])), None);
                    p += 1;
                }
                (_, Some(i)) => {
                    self.push(i, OpKind::Insert, None, Some(text(&steps[i])));
                    q += 1;
                }
                (Some(d), None) => {
                    self.push(d, OpKind::Delete, Some(text(&steps[d])), None);
                    p += 1;
                }
                (None, None) => break,
            }
        }
    }
}

/// The body diff of two paragraph lists.
pub fn diff_paragraphs(old: &[String], new: &[String]) -> Vec<Op> {
    let steps = steps(old, new);
    let mut fates = vec![Fate::Alone; steps.len()];
    find_moves(&steps, &mut fates);
    pair_edits(&steps, &mut fates);

    let mut emitter = Emitter {
        steps: &steps,
        fates: &fates,
        ops: Vec::new(),
        op_of_step: vec![usize::MAX; steps.len()],
    };
    let mut index = 0;
    while index < steps.len() {
        let block = match &steps[index] {
            Step::Equal(text) => {
                emitter.equal(text);
                index += 1;
                continue;
            }
            Step::Delete(_, block) | Step::Insert(_, block) => *block,
        };
        let (mut deletes, mut inserts) = (Vec::new(), Vec::new());
        while index < steps.len() {
            match &steps[index] {
                Step::Delete(_, b) if *b == block => deletes.push(index),
                Step::Insert(_, b) if *b == block => inserts.push(index),
                _ => break,
            }
            index += 1;
        }
        emitter.block(&deletes, &inserts);
    }
    let Emitter {
        mut ops,
        op_of_step,
        ..
    } = emitter;
    for (step, fate) in fates.iter().enumerate() {
        if let Fate::Moved(other) = fate {
            ops[op_of_step[step]].pair = Some(op_of_step[*other]);
        }
    }
    ops
}
