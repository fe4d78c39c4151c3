use newsarc_diff::render::{write_html, write_term, write_unified};
use newsarc_diff::{OpKind, diff_articles};
use newsarc_model::{ChangeKind, Image, Millis, PublishedTime, TimeSource};

use crate::article;

const LONG: &str = "联合国人权事务高级专员巴切莱特昨天（23日）在广州与中国国务委员兼外交部长王毅会晤，称希望双方携手促进中国和全球的人权发展，王毅则称，希望此访是正本清源之旅，并强调多边人权机构应成为合作对话的大舞台，而非分裂对抗的新战场";

fn term(diff: &newsarc_diff::ArticleDiff) -> String {
    let mut out = Vec::new();
    write_term(diff, false, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn one_changed_character_in_a_long_chinese_paragraph_marks_only_it() {
    let changed = LONG.replace("23日", "24日");
    let diff = diff_articles(&article(&[LONG]), &article(&[&changed]));
    assert_eq!(diff.stats.sentences_edited, 1);
    // One character changed; digits form one word (UAX #29), so "23" is
    // the marked unit.
    assert_eq!((diff.stats.chars_removed, diff.stats.chars_added), (1, 1));
    let marked: Vec<_> = diff.ops[0]
        .inline
        .iter()
        .filter(|p| p.kind != OpKind::Equal)
        .map(|p| p.text.as_str())
        .collect();
    assert_eq!(marked, ["23", "24"]);
    assert!(
        term(&diff).contains("（[-23-]{+24+}日）"),
        "{}",
        term(&diff)
    );
}

#[test]
fn a_moved_sentence_is_a_move() {
    let old = article(&[
        "第一段说了一件事。",
        "第二段讲的是另一件事情。",
        "第三段作了总结。",
    ]);
    let new = article(&[
        "第二段讲的是另一件事情。",
        "第一段说了一件事。",
        "第三段作了总结。",
    ]);
    let diff = diff_articles(&old, &new);
    assert_eq!(diff.stats.sentences_moved, 1, "{:#?}", diff.ops);
    assert_eq!(diff.stats.sentences_added + diff.stats.sentences_deleted, 0);
    let moves: Vec<_> = diff
        .ops
        .iter()
        .filter(|op| op.kind == OpKind::Move)
        .collect();
    assert_eq!(moves.len(), 2);
    assert!(moves.iter().all(|op| op.pair.is_some()));
}

#[test]
fn a_moved_and_edited_english_sentence_is_a_move_with_inline_edits() {
    let old = article(&[
        "The council met on Tuesday. It approved the plan by a wide margin.",
        "Builders have two years to adapt.",
        "Existing buildings are exempt from the new rules.",
    ]);
    let new = article(&[
        "Existing buildings are exempt from the new rule.",
        "The council met on Tuesday. It approved the plan by a wide margin.",
        "Builders have two years to adapt.",
    ]);
    let diff = diff_articles(&old, &new);
    assert_eq!(diff.stats.sentences_moved, 1, "{:#?}", diff.ops);
    let arrival = diff
        .ops
        .iter()
        .find(|op| op.kind == OpKind::Move && op.new.is_some())
        .unwrap();
    assert!(
        arrival
            .inline
            .iter()
            .any(|p| p.kind == OpKind::Delete && p.text == "rules")
    );
}

#[test]
fn a_metadata_only_change_has_an_empty_body_diff() {
    let old = article(&["Same body. Same words."]);
    let mut new = old.clone();
    new.meta.published = vec![PublishedTime {
        source: TimeSource::FrontMatterDate,
        at: Millis::from_millis(1_000),
    }];
    let diff = diff_articles(&old, &new);
    assert!(diff.ops.is_empty());
    assert_eq!(diff.change, ChangeKind::Metadata);
    assert_eq!(diff.metadata.len(), 1);
    assert_eq!(diff.metadata[0].field, "published");
    assert!(term(&diff).contains("(the body text is the same)"));
}

#[test]
fn english_edits_are_marked_by_word() {
    let old =
        article(&["The Mill Street bridge will reopen to traffic on Friday, the department said."]);
    let new = article(&[
        "The Mill Street bridge will reopen to traffic on Saturday, the department said.",
    ]);
    let diff = diff_articles(&old, &new);
    assert!(
        term(&diff).contains("on [-Friday-]{+Saturday+}, the"),
        "{}",
        term(&diff)
    );
    // The statistics count the minimal character edit: "Friday" and
    // "Saturday" share "rday".
    assert_eq!((diff.stats.chars_removed, diff.stats.chars_added), (2, 4));
}

#[test]
fn added_and_removed_sentences_are_counted() {
    let old = article(&["One sentence here. Two sentences here."]);
    let new = article(&["One sentence here. Two sentences here. A third one arrives."]);
    let diff = diff_articles(&old, &new);
    assert_eq!(diff.stats.sentences_added, 1, "{:#?}", diff.ops);
    assert_eq!(diff.stats.sentences_deleted, 0);
}

#[test]
fn image_changes_are_metadata() {
    let mut old = article(&["Text."]);
    old.images = vec![Image {
        src: "a.jpg".into(),
        alt: "A".into(),
    }];
    let mut new = old.clone();
    new.images = vec![Image {
        src: "b.jpg".into(),
        alt: "A".into(),
    }];
    let fields: Vec<_> = diff_articles(&old, &new)
        .metadata
        .iter()
        .map(|c| (c.old.clone(), c.new.clone()))
        .collect();
    assert_eq!(
        fields,
        [
            (Some("a.jpg (A)".into()), None),
            (None, Some("b.jpg (A)".into()))
        ]
    );
}

#[test]
fn html_escapes_hostile_article_text() {
    let old = article(&["<script>alert('x')</script> said \"hi\"."]);
    let new = article(&["<script>alert('y')</script> said \"hi\" & left."]);
    let mut diff = diff_articles(&old, &new);
    diff.metadata.push(newsarc_diff::MetadataChange {
        field: "title",
        old: Some("<img src=x onerror=alert(1)>".into()),
        new: Some("\"quoted\"".into()),
    });
    let mut out = Vec::new();
    write_html(&diff, &mut out).unwrap();
    let html = String::from_utf8(out).unwrap();
    assert!(!html.contains("<script>"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(html.contains("&lt;script&gt;"));
    assert!(html.contains("&quot;quoted&quot;"));
    assert!(
        !html.to_lowercase().contains("<script"),
        "no script of our own either"
    );
}

#[test]
fn unified_output_has_minus_plus_lines_and_metadata() {
    let mut old = article(&[
        "First paragraph stays. Second sentence stays too.",
        "Old ending here.",
    ]);
    old.meta.title = Some("Old".into());
    let mut new = article(&[
        "First paragraph stays. Second sentence stays too.",
        "New ending here.",
    ]);
    new.meta.title = Some("New".into());
    let mut out = Vec::new();
    write_unified(&diff_articles(&old, &new), &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("# title: Old -> New"), "{text}");
    assert!(text.contains("@@ change 1 @@"), "{text}");
    assert!(
        text.contains("\n Second sentence stays too.\n-Old ending here.\n+New ending here.\n"),
        "{text}"
    );
}

#[test]
fn the_terminal_form_colours_only_when_asked() {
    let old = article(&["The bridge reopens on Friday."]);
    let new = article(&["The bridge reopens on Saturday."]);
    let diff = diff_articles(&old, &new);
    let mut coloured = Vec::new();
    write_term(&diff, true, &mut coloured).unwrap();
    let coloured = String::from_utf8(coloured).unwrap();
    assert!(coloured.contains("\x1b[31mFriday\x1b[0m"), "{coloured:?}");
    assert!(coloured.contains("\x1b[32mSaturday\x1b[0m"), "{coloured:?}");
    assert!(!term(&diff).contains('\x1b'));
}
