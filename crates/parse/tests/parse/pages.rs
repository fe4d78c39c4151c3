use newsarc_model::TimeSource;
use newsarc_parse::{DocumentHint, KeyRules, parse_document};

use crate::{fixture, parse};

#[test]
fn plain_html_page() {
    let article = parse("good/page.html").unwrap();
    let meta = &article.meta;
    assert_eq!(
        meta.title.as_deref(),
        Some("Harbour ferry timetable changes")
    );
    assert_eq!(
        meta.url,
        "https://www.example.net/transport/ferry-timetable?utm_campaign=x"
    );
    assert_eq!(meta.author.as_deref(), Some("A. Reporter"));
    assert_eq!(meta.tags, ["ferries", "transport"]);
    assert_eq!(meta.categories, ["Local"]);
    assert_eq!(meta.published[0].source, TimeSource::HtmlMeta);
    assert_eq!(meta.published[0].at.to_string(), "2026-06-01T05:00:00.000Z");
    // Only the <article>: no navigation, footer or script.
    assert_eq!(
        article.paragraphs,
        [
            "Harbour ferry timetable changes",
            "From Monday the first ferry leaves at 6:10 instead of 6:00.",
            "Evening services are unchanged.",
        ]
    );
    assert_eq!(article.images[0].alt, "The harbour ferry");
    let key = KeyRules::builtin().key_for(&meta.url).unwrap();
    assert_eq!(key.as_str(), "example.net/transport/ferry-timetable");
}

#[test]
fn a_page_without_a_canonical_link_takes_the_fetch_url() {
    let page = String::from_utf8(fixture("good/page.html"))
        .unwrap()
        .lines()
        .filter(|line| !line.contains("canonical") && !line.contains("og:url"))
        .collect::<Vec<_>>()
        .join("\n");
    let hint = DocumentHint {
        url: Some("https://example.net/fetched".into()),
        ..DocumentHint::default()
    };
    let article = parse_document(page.as_bytes(), &hint).unwrap();
    assert_eq!(article.meta.url, "https://example.net/fetched");
}
