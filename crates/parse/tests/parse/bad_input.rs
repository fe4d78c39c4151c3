use newsarc_parse::{KeyRules, ParseError};

use crate::parse;

#[test]
fn a_binary_file_is_refused() {
    assert_eq!(parse("bad/binary.md"), Err(ParseError::Binary { line: 3 }));
}

#[test]
fn unterminated_front_matter() {
    assert_eq!(
        parse("bad/unterminated-front-matter.md"),
        Err(ParseError::UnterminatedFrontMatter)
    );
}

#[test]
fn broken_yaml_names_a_line_inside_the_front_matter() {
    let Err(ParseError::FrontMatter { line, reason }) = parse("bad/broken-yaml.md") else {
        panic!("broken YAML must be refused");
    };
    assert!((2..=5).contains(&line), "line {line}: {reason}");
}

#[test]
fn front_matter_that_is_not_a_mapping() {
    assert!(matches!(
        parse("bad/front-matter-list.md"),
        Err(ParseError::FrontMatter { line: 2, .. })
    ));
}

#[test]
fn no_url_anywhere() {
    assert_eq!(parse("bad/no-url.md"), Err(ParseError::NoUrl));
}

#[test]
fn an_empty_body() {
    assert_eq!(parse("bad/empty-body.md"), Err(ParseError::EmptyBody));
}

#[test]
fn a_url_that_is_not_http_gives_no_key() {
    let article = parse("bad/bad-url.md").unwrap();
    let err = KeyRules::builtin().key_for(&article.meta.url).unwrap_err();
    assert!(err.to_string().contains("ftp://example.org/file"), "{err}");
}

#[test]
fn an_oversized_document_is_refused_before_parsing() {
    let huge = vec![b'a'; newsarc_parse::MAX_DOCUMENT_BYTES as usize + 1];
    assert!(matches!(
        newsarc_parse::parse_document(&huge, &Default::default()),
        Err(ParseError::TooLarge { .. })
    ));
}

fn parse_text(text: &str) -> Result<newsarc_model::Article, ParseError> {
    newsarc_parse::parse_document(text.as_bytes(), &Default::default())
}

#[test]
fn a_from_that_is_a_list_names_its_line() {
    let post =
        "---\ntitle: x\nfrom: [https://example.org/a, https://example.org/b]\n---\n<p>x</p>\n";
    assert_eq!(
        parse_text(post),
        Err(ParseError::FrontMatter {
            line: 3,
            reason: "'from' must be one URL, found a list".into()
        })
    );
}

#[test]
fn an_epoch_comment_that_is_no_time_is_skipped_not_taken_for_the_body() {
    for epoch in ["yesterday", "99999999999999999999", "9223372036854775807"] {
        let post = format!(
            "---\nfrom: https://example.org/a\n---\n<!--{epoch}-->\n------\n\n<p>Body.</p>\n"
        );
        let article = parse_text(&post).unwrap();
        assert_eq!(article.paragraphs, ["Body."], "{epoch}");
        assert!(article.meta.published.is_empty(), "{epoch}");
    }
}

#[test]
fn credentials_never_reach_the_canonical_url() {
    let url = newsarc_parse::canonical_url("https://user:secret@Example.org/a#top").unwrap();
    assert_eq!(url.as_str(), "https://example.org/a");
}

/// Found by fuzzing (`canonical_url`): a host with two folded prefixes
/// needed two passes, so a canonical URL was not canonical.
#[test]
fn fuzz_stacked_host_prefixes_fold_in_one_pass() {
    let once = newsarc_parse::canonical_url(
        "https://www.wap.ao.com/realtcmei#hin!/sTory1ww20524-1\u{12}.ava1",
    )
    .unwrap();
    assert_eq!(once.as_str(), "https://ao.com/realtcmei");
    assert_eq!(newsarc_parse::canonical_url(once.as_str()).unwrap(), once);
}
