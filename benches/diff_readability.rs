//! How readable are the inline changes? For every sentence the diff engine
//! calls edited in the public corpus, compares what three ways of marking
//! would show: newsarc's (UAX #29 words, so single CJK characters, with the
//! semantic clean-up and whole-sentence replacement), diffengine's
//! (tokens split at whitespace) and bare characters. Prints a markdown table
//! for `docs/DIFF.md`.
//!
//! - "marked / minimal": characters shown as changed, over the fewest that
//!   must change (1.0 marks nothing unchanged).
//! - "runs": separate changed stretches per sentence (fewer reads easier).

use newsarc_diff::{OpKind, diff_articles};
use similar::{Algorithm, DiffOp, capture_diff_slices};

#[path = "corpus_pairs.rs"]
mod corpus_pairs;

#[derive(Default)]
struct Tally {
    sentences: usize,
    marked: usize,
    minimal: usize,
    runs: usize,
}

impl Tally {
    fn add(&mut self, marked: usize, minimal: usize, runs: usize) {
        self.sentences += 1;
        self.marked += marked;
        self.minimal += minimal;
        self.runs += runs;
    }

    fn row(&self, script: &str, way: &str) -> String {
        format!(
            "| {script} | {way} | {} | {:.2} | {:.2} |",
            self.sentences,
            self.marked as f64 / self.minimal.max(1) as f64,
            self.runs as f64 / self.sentences.max(1) as f64
        )
    }
}

/// Marked characters and changed runs when `old` and `new` are diffed as
/// these token lists.
fn token_marking(old: &[&str], new: &[&str]) -> (usize, usize) {
    let (mut marked, mut runs, mut in_run) = (0, 0, false);
    for op in capture_diff_slices(Algorithm::Myers, old, new) {
        match op {
            DiffOp::Equal { .. } => in_run = false,
            _ => {
                marked += old[op.old_range()]
                    .iter()
                    .chain(&new[op.new_range()])
                    .map(|t| t.chars().count())
                    .sum::<usize>();
                if !in_run {
                    runs += 1;
                }
                in_run = true;
            }
        }
    }
    (marked, runs)
}

fn is_cjk(text: &str) -> bool {
    let han = text
        .chars()
        .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
        .count();
    han * 2 > text.chars().filter(|c| !c.is_whitespace()).count()
}

fn main() {
    let Some(dir) = corpus_pairs::corpus_dir() else {
        return;
    };
    let mut tallies: [[Tally; 3]; 2] = Default::default();
    for (old, new) in corpus_pairs::parsed_pairs(&dir) {
        for op in diff_articles(&old, &new).ops {
            if op.kind != OpKind::Replace {
                continue;
            }
            let (Some(a), Some(b)) = (op.old.as_deref(), op.new.as_deref()) else {
                continue;
            };
            let (a, b) = (a.trim_end_matches('\n'), b.trim_end_matches('\n'));
            let a_chars: Vec<String> = a.chars().map(String::from).collect();
            let b_chars: Vec<String> = b.chars().map(String::from).collect();
            let a_chars: Vec<&str> = a_chars.iter().map(String::as_str).collect();
            let b_chars: Vec<&str> = b_chars.iter().map(String::as_str).collect();
            let (minimal, char_runs) = token_marking(&a_chars, &b_chars);
            let script = usize::from(!is_cjk(a));

            let ours = op.inline.iter().filter(|p| p.kind != OpKind::Equal);
            let marked: usize = ours
                .clone()
                .map(|p| p.text.trim_end_matches('\n').chars().count())
                .sum();
            let mut runs = 0;
            let mut previous_equal = true;
            for part in &op.inline {
                let equal = part.kind == OpKind::Equal;
                if !equal && previous_equal {
                    runs += 1;
                }
                previous_equal = equal;
            }
            tallies[script][0].add(marked, minimal, runs);

            let a_words: Vec<&str> = a.split_inclusive(char::is_whitespace).collect();
            let b_words: Vec<&str> = b.split_inclusive(char::is_whitespace).collect();
            let (word_marked, word_runs) = token_marking(&a_words, &b_words);
            tallies[script][1].add(word_marked, minimal, word_runs);

            tallies[script][2].add(minimal, minimal, char_runs);
        }
    }
    println!("| script | marking | edited sentences | marked / minimal | runs per sentence |");
    println!("|---|---|---|---|---|");
    for (script, name) in [(0, "Chinese"), (1, "Latin")] {
        let ways = [
            "newsarc (words / CJK characters, cleaned up)",
            "whitespace tokens (diffengine)",
            "bare characters",
        ];
        for (way, label) in ways.iter().enumerate() {
            println!("{}", tallies[script][way].row(name, label));
        }
    }
}
