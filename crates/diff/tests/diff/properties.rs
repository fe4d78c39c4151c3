use newsarc_diff::{apply, body_text, diff_articles};
use proptest::prelude::*;

use crate::article;

/// Sentence shapes; `#` becomes a number unique within the article, as
/// real articles rarely repeat a sentence word for word (where they do,
/// equally short alignments may be chosen differently in each direction,
/// see docs/DIFF.md).
const SENTENCES: &[&str] = &[
    "市政府昨天宣布，第#期工程将在下月动工。",
    "图书馆在施工期间将暂停开放#天。",
    "他说：“我们会在#月完成。”",
    "预算为#亿元！",
    "The bridge will reopen on Friday, # days late. ",
    "Repairs cost # million dollars. ",
    "\"It is a good day,\" said # people. ",
    "Buses return on Monday at #",
];

fn numbered(shape: usize, number: usize) -> String {
    SENTENCES[shape % SENTENCES.len()].replace('#', &number.to_string())
}

/// Articles of 0 to 6 paragraphs of 1 to 4 distinct sentences.
fn paragraphs() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(prop::collection::vec(0..SENTENCES.len(), 1..4), 0..6).prop_map(
        |shapes| {
            let mut number = 0;
            shapes
                .into_iter()
                .map(|paragraph| {
                    paragraph
                        .into_iter()
                        .map(|shape| {
                            number += 1;
                            numbered(shape, number)
                        })
                        .collect()
                })
                .collect()
        },
    )
}

/// Edits of the kinds newsrooms make: a character changed, a sentence
/// added, a paragraph dropped, a paragraph moved.
fn edited(paragraphs: Vec<String>, edits: Vec<(u8, usize, char)>) -> Vec<String> {
    let mut result = paragraphs;
    for (kind, at, ch) in edits {
        if result.is_empty() {
            result.push(numbered(at, 1_000));
            continue;
        }
        let index = at % result.len();
        match kind % 4 {
            0 => {
                let mut chars: Vec<char> = result[index].chars().collect();
                let position = at % chars.len().max(1);
                if position < chars.len() {
                    chars[position] = ch;
                }
                result[index] = chars.into_iter().collect();
            }
            1 => result[index].push_str(&numbered(at, 2_000 + index)),
            2 => {
                result.remove(index);
            }
            _ => {
                let moved = result.remove(index);
                result.insert(at % (result.len() + 1), moved);
            }
        }
    }
    result
}

fn edit() -> impl Strategy<Value = (u8, usize, char)> {
    (
        any::<u8>(),
        any::<usize>(),
        prop::sample::select(vec!['前', '后', 'x', ' ', '。', 'Z']),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn applying_the_ops_to_the_old_text_gives_the_new_text(
        old in paragraphs(),
        edits in prop::collection::vec(edit(), 0..4),
    ) {
        let new = edited(old.clone(), edits);
        let (old, new) = (article_of(old), article_of(new));
        let diff = diff_articles(&old, &new);
        prop_assert_eq!(apply(&body_text(&old), &diff.ops).unwrap(), body_text(&new));
    }

    #[test]
    fn a_text_against_itself_has_no_changes(text in paragraphs()) {
        let article = article_of(text);
        let diff = diff_articles(&article, &article);
        prop_assert!(diff.ops.is_empty());
        prop_assert!(diff.metadata.is_empty());
        prop_assert_eq!(diff.stats, Default::default());
    }

    #[test]
    fn added_and_deleted_swap_when_the_arguments_swap(
        old in paragraphs(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let new = edited(old.clone(), edits);
        let (old, new) = (article_of(old), article_of(new));
        let forward = diff_articles(&old, &new).stats;
        let backward = diff_articles(&new, &old).stats;
        prop_assert_eq!(forward.sentences_added, backward.sentences_deleted);
        prop_assert_eq!(forward.sentences_deleted, backward.sentences_added);
        prop_assert_eq!(forward.chars_added, backward.chars_removed);
        prop_assert_eq!(forward.chars_removed, backward.chars_added);
        prop_assert_eq!(forward.sentences_edited, backward.sentences_edited);
        prop_assert_eq!(forward.sentences_moved, backward.sentences_moved);
    }
}

fn article_of(paragraphs: Vec<String>) -> newsarc_model::Article {
    let borrowed: Vec<&str> = paragraphs.iter().map(String::as_str).collect();
    article(&borrowed)
}
