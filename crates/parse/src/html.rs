//! Article text from HTML, through html5ever (via scraper): paragraphs in
//! order, images, and nothing of scripts, frames or ad slots.

use std::cell::Cell;

use ego_tree::iter::Edge;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use newsarc_model::Image;
use scraper::{ElementRef, Html, Node, Selector};

use crate::ParseError;

/// Elements whose start and end break a paragraph.
const BLOCK_ELEMENTS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "center",
    "dd",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "td",
    "th",
    "tr",
    "ul",
];

/// Elements whose content is never article text.
const SKIPPED_ELEMENTS: &[&str] = &[
    "script", "style", "iframe", "noscript", "template", "svg", "object", "embed", "video",
    "audio", "form", "button", "input", "select", "textarea", "head", "canvas", "map",
];

/// Characters that render as nothing and only get in the way of comparing.
const ZERO_WIDTH: &[char] = &['\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}'];

/// Paragraphs and images collected from a part of a document.
#[derive(Debug, Default)]
pub(crate) struct Body {
    pub paragraphs: Vec<String>,
    pub images: Vec<Image>,
}

/// True for id or class values that mark an ad slot (`dfp-ad-imu1`,
/// `adslot_pcBox`, `gpt-ad-slot-1`, `innity-in-post`, `ArticleBody-ad-slot`).
fn looks_like_ad(value: &str) -> bool {
    value.split_whitespace().any(|token| {
        let token = token.to_ascii_lowercase();
        token == "ad"
            || token == "ads"
            || token.starts_with("ad-")
            || token.starts_with("ad_")
            || token.starts_with("dfp")
            || token.starts_with("gpt-ad")
            || token.starts_with("innity")
            || token.contains("adslot")
            || token.contains("-ad-")
            || token.ends_with("-ad")
    })
}

fn is_skipped(element: &scraper::node::Element) -> bool {
    SKIPPED_ELEMENTS.contains(&element.name())
        || element.attr("id").is_some_and(looks_like_ad)
        || element.attr("class").is_some_and(looks_like_ad)
}

/// Folds whitespace runs (NBSP, U+2028, ideographic space included) to one
/// space, drops zero-width characters, trims.
pub(crate) fn normalise_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for ch in text.chars() {
        if ZERO_WIDTH.contains(&ch) {
            continue;
        }
        if ch.is_whitespace() {
            pending_space = true;
            continue;
        }
        if pending_space && !out.is_empty() {
            out.push(' ');
        }
        pending_space = false;
        out.push(ch);
    }
    out
}

fn image(element: &scraper::node::Element) -> Option<Image> {
    let src = [element.attr("src"), element.attr("data-src")]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|src| !src.is_empty() && !src.starts_with("data:"))?;
    let alt = element
        .attr("alt")
        .or(element.attr("title"))
        .unwrap_or_default();
    Some(Image {
        src: src.to_owned(),
        alt: normalise_text(alt),
    })
}

fn flush(current: &mut String, body: &mut Body) {
    let text = normalise_text(current);
    if !text.is_empty() {
        body.paragraphs.push(text);
    }
    current.clear();
}

/// Collects the article text under `root`. Iterative, so deeply nested
/// markup cannot exhaust the stack.
pub(crate) fn collect_body(root: ElementRef<'_>) -> Body {
    let mut body = Body::default();
    let mut current = String::new();
    let mut skipping: Option<ego_tree::NodeId> = None;
    for edge in root.traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Text(text) => current.push_str(text),
                    Node::Element(element) => {
                        if is_skipped(element) {
                            skipping = Some(node.id());
                        } else if element.name() == "img" {
                            body.images.extend(image(element));
                        } else if element.name() == "br" || BLOCK_ELEMENTS.contains(&element.name())
                        {
                            flush(&mut current, &mut body);
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if skipping == Some(node.id()) {
                    skipping = None;
                } else if skipping.is_none()
                    && let Node::Element(element) = node.value()
                    && BLOCK_ELEMENTS.contains(&element.name())
                {
                    flush(&mut current, &mut body);
                }
            }
        }
    }
    flush(&mut current, &mut body);
    body
}

/// What a plain HTML page says about itself.
#[derive(Debug, Default)]
pub(crate) struct PageMeta {
    pub title: Option<String>,
    pub url: Option<String>,
    pub published: Option<String>,
    pub author: Option<String>,
    pub tags: Vec<String>,
    pub categories: Vec<String>,
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("selectors in this module are constant and tested")
}

fn first_attr(page: &Html, css: &str, attr: &str) -> Option<String> {
    page.select(&selector(css))
        .filter_map(|element| element.value().attr(attr))
        .map(normalise_text)
        .find(|value| !value.is_empty())
}

fn all_attrs(page: &Html, css: &str, attr: &str) -> Vec<String> {
    page.select(&selector(css))
        .filter_map(|element| element.value().attr(attr))
        .map(normalise_text)
        .filter(|value| !value.is_empty())
        .collect()
}

/// Reads a page's metadata from its head.
pub(crate) fn page_meta(page: &Html) -> PageMeta {
    let title_element = page
        .select(&selector("title"))
        .next()
        .map(|title| normalise_text(&title.text().collect::<String>()))
        .filter(|title| !title.is_empty());
    PageMeta {
        title: first_attr(page, r#"meta[property="og:title"]"#, "content").or(title_element),
        url: first_attr(page, r#"link[rel="canonical"]"#, "href")
            .or_else(|| first_attr(page, r#"meta[property="og:url"]"#, "content")),
        published: first_attr(
            page,
            r#"meta[property="article:published_time"]"#,
            "content",
        )
        .or_else(|| first_attr(page, r#"meta[itemprop="datePublished"]"#, "content"))
        .or_else(|| first_attr(page, "article time[datetime]", "datetime")),
        author: first_attr(page, r#"meta[name="author"]"#, "content")
            .or_else(|| first_attr(page, r#"meta[property="og:site_name"]"#, "content")),
        tags: all_attrs(page, r#"meta[property="article:tag"]"#, "content"),
        categories: all_attrs(page, r#"meta[property="article:section"]"#, "content"),
    }
}

/// Headings a web server puts on its listing of a directory (Apache, nginx
/// and lighttpd say "Index of /…", Python's http.server "Directory listing
/// for /…").
const LISTING_HEADINGS: &[&str] = &["Index of /", "Directory listing for /"];

/// Why a page is no article, when it is plainly something else: a web
/// server's listing of a directory.
pub(crate) fn not_an_article(page: &Html) -> Option<String> {
    let heading = |css: &str| {
        page.select(&selector(css))
            .next()
            .map(|element| normalise_text(&element.text().collect::<String>()))
    };
    [heading("title"), heading("h1")]
        .into_iter()
        .flatten()
        .find(|text| LISTING_HEADINGS.iter().any(|start| text.starts_with(start)))
        .map(|text| format!("it is a web server's directory listing (\"{text}\")"))
}

/// The element holding a page's article: `<article>`, else `<main>`, else
/// `[role=main]`, else `<body>`.
pub(crate) fn main_content(page: &Html) -> ElementRef<'_> {
    ["article", "main", r#"[role="main"]"#, "body"]
        .iter()
        .find_map(|css| page.select(&selector(css)).next())
        .unwrap_or_else(|| page.root_element())
}

/// A bound on html5ever's tree-building work. Its tree builder walks the
/// stack of open elements for most start tags, so its time grows with tags
/// × depth: 100,000 nested `<div>`s (1 MB) took 43 s. A real article stays
/// orders of magnitude below this (see the test on the public corpus).
const MAX_TREE_WORK: u64 = 50_000_000;

/// Estimates, in one linear tokenizer pass, the tree builder's work on
/// `html` (the sum of the nesting depth at each start tag) and refuses the
/// document when it is over [`MAX_TREE_WORK`]. `first_line` is the line of
/// `html`'s first line in the document, for the message.
pub(crate) fn check_nesting(html: &str, first_line: u64) -> Result<(), ParseError> {
    let probe = NestingProbe::default();
    let tokenizer = Tokenizer::new(probe, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let probe = tokenizer.sink;
    if probe.work.get() > MAX_TREE_WORK {
        let (depth, line) = probe.deepest.get();
        return Err(ParseError::TooDeep {
            depth,
            line: first_line + line.saturating_sub(1),
        });
    }
    Ok(())
}

/// Counts open elements as the tokenizer sees them.
#[derive(Default)]
struct NestingProbe {
    depth: Cell<u64>,
    work: Cell<u64>,
    /// The greatest depth and the line where it was reached.
    deepest: Cell<(u64, u64)>,
}

impl TokenSink for NestingProbe {
    type Handle = ();

    fn process_token(&self, token: Token, line: u64) -> TokenSinkResult<()> {
        if let Token::TagToken(tag) = token {
            // Void elements and those whose end tag is optional do not stay
            // open for long; counting them would take `<p>a<p>b` for nesting.
            let stays_open = !tag.self_closing
                && !matches!(
                    &*tag.name,
                    "area"
                        | "base"
                        | "br"
                        | "col"
                        | "embed"
                        | "hr"
                        | "img"
                        | "input"
                        | "link"
                        | "meta"
                        | "source"
                        | "track"
                        | "wbr"
                        | "p"
                        | "li"
                        | "dt"
                        | "dd"
                        | "option"
                        | "optgroup"
                        | "tr"
                        | "td"
                        | "th"
                        | "rt"
                        | "rp"
                );
            match tag.kind {
                TagKind::StartTag => {
                    if stays_open {
                        self.depth.set(self.depth.get() + 1);
                        if self.depth.get() > self.deepest.get().0 {
                            self.deepest.set((self.depth.get(), line));
                        }
                    }
                    self.work
                        .set(self.work.get().saturating_add(self.depth.get()));
                }
                TagKind::EndTag if stays_open => self.depth.set(self.depth.get().saturating_sub(1)),
                TagKind::EndTag => {}
            }
        }
        TokenSinkResult::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(html: &str) -> Body {
        let fragment = Html::parse_fragment(html);
        collect_body(fragment.root_element())
    }

    #[test]
    fn paragraphs_come_in_order_without_scripts_frames_or_ads() {
        let body = body_of(
            "<div><h2>Head</h2><p>One&amp;\u{a0}two</p><script>x()</script>\
             <section id=\"imu\"><div id=\"dfp-ad-imu1\">AD</div></section><div></div>\
             <iframe src=x>frame</iframe><ul><li>item</li></ul><figure><img data-src=\"a.jpg\" alt=\"A\">\
             <figcaption>cap</figcaption></figure>text<br>after</div>",
        );
        assert_eq!(
            body.paragraphs,
            ["Head", "One& two", "item", "cap", "text", "after"]
        );
        assert_eq!(
            body.images,
            [Image {
                src: "a.jpg".into(),
                alt: "A".into()
            }]
        );
    }

    #[test]
    fn whitespace_and_invisible_characters_fold() {
        assert_eq!(normalise_text("  a\u{2028}\u{200b}b \u{3000} c\n"), "a b c");
    }

    #[test]
    fn ad_markers_are_recognised_but_words_containing_ad_are_not() {
        for ad in [
            "dfp-ad-imu1",
            "adslot_pcBox_EndAd2",
            "gpt-ad-slot-1",
            "ArticleBody-ad-slot-83sCj",
            "dotcom-ad",
        ] {
            assert!(looks_like_ad(ad), "{ad}");
        }
        for not_ad in [
            "header",
            "lazyload-wrapper",
            "story-body__crosshead",
            "shadow",
        ] {
            assert!(!looks_like_ad(not_ad), "{not_ad}");
        }
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let html = format!("{}deep{}", "<div>".repeat(20_000), "</div>".repeat(20_000));
        assert_eq!(body_of(&html).paragraphs, ["deep"]);
    }

    #[test]
    fn nesting_that_would_take_minutes_is_refused_and_real_markup_is_not() {
        let deep = [
            "<div>".repeat(100_000),
            "<p>x</p>".into(),
            "</div>".repeat(100_000),
        ]
        .concat();
        assert!(matches!(
            check_nesting(&format!("<p>a</p>\n{deep}"), 10),
            Err(ParseError::TooDeep {
                depth: 100_000,
                line: 11
            })
        ));
        // Unclosed paragraphs and list items are closed by the parser, not
        // nested: old markup full of them is fine.
        let unclosed = "<p>para<li>item<br>".repeat(50_000);
        assert_eq!(check_nesting(&unclosed, 1), Ok(()));
        let modest = [
            "<div>".repeat(500),
            "<p>x</p>".repeat(1000),
            "</div>".repeat(500),
        ]
        .concat();
        assert_eq!(check_nesting(&modest, 1), Ok(()));
    }
}
