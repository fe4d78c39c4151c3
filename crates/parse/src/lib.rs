//! Documents to articles: a mirrored news post (YAML front matter, an
//! `<!--epoch-ms-->` comment, a `[title](url)` header, the article as HTML)
//! or a plain HTML page becomes an [`Article`]; its URL becomes an
//! [`ArticleKey`] through [`KeyRules`].
//!
//! ```
//! use newsarc_parse::{parse_document, DocumentHint, KeyRules};
//!
//! let post = "---\ntitle: \"Hello\"\ndate: 2022-05-24T01:36:00.000Z\nfrom: https://www.dw.com/zh/slug/a-123\n---\n\
//!             <!--1653356160000-->\n[Hello](https://www.dw.com/zh/slug/a-123)\n------\n\n<p>Body.</p>\n";
//! let article = parse_document(post.as_bytes(), &DocumentHint::default())?;
//! assert_eq!(article.meta.title.as_deref(), Some("Hello"));
//! assert_eq!(article.paragraphs, ["Body."]);
//! let key = KeyRules::builtin().key_for(&article.meta.url)?;
//! assert_eq!(key.as_str(), "dw.com/a-123");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod encoding;
mod front_matter;
mod html;
mod key;

use newsarc_model::{Article, ArticleMeta, Charset, PublishedTime, TimeSource};
use scraper::Html;

pub use encoding::charset_of_content_type;
pub use key::{KeyError, KeyRules, canonical_url};

/// Documents larger than this are refused before parsing: no news article is
/// near it, and it bounds the memory one document can take.
pub const MAX_DOCUMENT_BYTES: u64 = 32 * 1024 * 1024;

/// What the caller knows about a document besides its bytes.
#[derive(Debug, Clone, Default)]
pub struct DocumentHint {
    /// The URL it was fetched from, used when the document names none, and
    /// to resolve a relative canonical link.
    pub url: Option<String>,
    /// A charset label the transport declared (the `charset` of an HTTP
    /// `Content-Type`), or the one the archive recorded when it parses a
    /// stored document again.
    pub declared_charset: Option<String>,
}

/// A parsed document: the article and how its bytes were decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The article.
    pub article: Article,
    /// The encoding its bytes were read in.
    pub charset: Charset,
}

/// Why a document could not be parsed. Positions are 1-based lines.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Bigger than [`MAX_DOCUMENT_BYTES`].
    #[error("the document has {size} bytes, over the limit of {MAX_DOCUMENT_BYTES}")]
    TooLarge {
        /// The document's size.
        size: u64,
    },
    /// Holds NUL characters: a binary file, not a text document.
    #[error("line {line}: NUL byte: this is a binary file, not a news document")]
    Binary {
        /// The line of the first NUL character.
        line: usize,
    },
    /// Front matter opened with `---` but never closed.
    #[error("line 1: front matter opened with '---' is never closed")]
    UnterminatedFrontMatter,
    /// The front matter is not valid YAML or not a mapping.
    #[error("line {line}: front matter: {reason}")]
    FrontMatter {
        /// The line in the document.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A post whose lines end in a bare carriage return (classic Mac OS):
    /// without line feeds its front matter cannot be told from its body.
    #[error(
        "line 1: lines end in a bare carriage return (classic Mac OS line endings); convert them to LF or CRLF"
    )]
    CarriageReturnLines,
    /// No URL in the front matter, header, canonical link or hint.
    #[error("no article URL: the document has no 'from:', header link or canonical link")]
    NoUrl,
    /// No text and no image in the body.
    #[error("the article body is empty: no paragraph and no image")]
    EmptyBody,
    /// A page that is no article at all, such as a web server's listing of
    /// a directory.
    #[error("not an article: {reason}")]
    NotAnArticle {
        /// What it is instead.
        reason: String,
    },
    /// HTML nested so deeply that building its tree would take minutes.
    #[error("line {line}: HTML nested {depth} elements deep, too deep to parse in bounded time")]
    TooDeep {
        /// The deepest nesting seen.
        depth: u64,
        /// Where it was reached.
        line: u64,
    },
}

/// Parses a document. The raw bytes are never altered here: decoding and
/// normalisation only shape the [`Article`] used for comparison and display.
pub fn parse_document(bytes: &[u8], hint: &DocumentHint) -> Result<Article, ParseError> {
    parse(bytes, hint).map(|parsed| parsed.article)
}

/// Like [`parse_document`], also saying which encoding the bytes were in.
pub fn parse(bytes: &[u8], hint: &DocumentHint) -> Result<Parsed, ParseError> {
    if bytes.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(ParseError::TooLarge {
            size: bytes.len() as u64,
        });
    }
    let tld = hint.url.as_deref().and_then(top_level_domain);
    let decoded = encoding::decode(bytes, hint.declared_charset.as_deref(), tld.as_deref());
    let text = decoded.text.as_str();
    if let Some(offset) = text.find('\0') {
        return Err(ParseError::Binary {
            line: line_of(text, offset),
        });
    }
    if text.starts_with("---\r") && !text.contains('\n') {
        return Err(ParseError::CarriageReturnLines);
    }
    let article = if front_matter::starts_with_front_matter(text) {
        front_matter::parse_post(text, hint)?
    } else {
        parse_page(text, hint)?
    };
    if article.paragraphs.is_empty() && article.images.is_empty() {
        return Err(ParseError::EmptyBody);
    }
    Ok(Parsed {
        article,
        charset: decoded.charset,
    })
}

/// The last label of a URL's host, lower case, for the encoding guess.
fn top_level_domain(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    let host = url.host_str()?;
    Some(host.rsplit('.').next()?.to_ascii_lowercase())
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// A plain HTML page as a fetcher gets it.
fn parse_page(text: &str, hint: &DocumentHint) -> Result<Article, ParseError> {
    html::check_nesting(text, 1)?;
    let page = Html::parse_document(text);
    if let Some(reason) = html::not_an_article(&page) {
        return Err(ParseError::NotAnArticle { reason });
    }
    let meta = html::page_meta(&page);
    let url = match (&meta.url, &hint.url) {
        (Some(url), Some(base)) => url::Url::parse(base)
            .and_then(|base| base.join(url))
            .map(String::from)
            .unwrap_or_else(|_| url.clone()),
        (Some(url), None) => url.clone(),
        (None, Some(base)) => base.clone(),
        (None, None) => return Err(ParseError::NoUrl),
    };
    let published = meta
        .published
        .as_deref()
        .and_then(front_matter::parse_time)
        .map(|at| PublishedTime {
            source: TimeSource::HtmlMeta,
            at,
        })
        .into_iter()
        .collect();
    let body = html::collect_body(html::main_content(&page));
    Ok(Article {
        meta: ArticleMeta {
            title: meta.title,
            url,
            published,
            author: meta.author,
            tags: meta.tags,
            categories: meta.categories,
        },
        paragraphs: body.paragraphs,
        images: body.images,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_pages_use_og_and_canonical_links() {
        let page = r#"<html><head><title>Site | Story</title>
            <meta property="og:title" content="Story">
            <link rel="canonical" href="/news/1">
            <meta property="article:published_time" content="2024-01-02T03:04:05Z">
            <meta name="author" content="Reporter"></head>
            <body><nav>Menu</nav><article><h1>Story</h1><p>Text.</p></article></body></html>"#;
        let hint = DocumentHint {
            url: Some("https://example.org/x?utm_source=feed".into()),
            ..DocumentHint::default()
        };
        let article = parse_document(page.as_bytes(), &hint).unwrap();
        assert_eq!(article.meta.title.as_deref(), Some("Story"));
        assert_eq!(article.meta.url, "https://example.org/news/1");
        assert_eq!(article.meta.author.as_deref(), Some("Reporter"));
        assert_eq!(article.meta.published.len(), 1);
        assert_eq!(article.paragraphs, ["Story", "Text."]);
    }

    #[test]
    fn pages_without_any_url_are_refused() {
        let err = parse_document(b"<p>text</p>", &DocumentHint::default()).unwrap_err();
        assert_eq!(err, ParseError::NoUrl);
    }

    #[test]
    fn posts_with_carriage_return_lines_are_refused_by_name() {
        let post = "---\rfrom: https://example.org/a\r---\r<p>Text.</p>\r";
        assert_eq!(
            parse_document(post.as_bytes(), &DocumentHint::default()),
            Err(ParseError::CarriageReturnLines)
        );
        // A one-line page with a stray carriage return is still a page.
        let page = "<link rel=\"canonical\" href=\"https://example.org/b\"><p>a\rb</p>";
        assert!(parse_document(page.as_bytes(), &DocumentHint::default()).is_ok());
    }

    #[test]
    fn binary_input_names_the_line() {
        assert_eq!(
            parse_document(b"a\nb\0", &DocumentHint::default()),
            Err(ParseError::Binary { line: 2 })
        );
    }

    #[test]
    fn directory_listings_are_not_articles() {
        for page in [
            "<html><head><title>Index of /news</title></head><body><h1>Index of /news</h1><ul><li><a href=\"a.html\">a.html</a></li></ul></body></html>",
            "<html><title>Directory listing for /</title><body><h1>Directory listing for /</h1><hr><ul><li><a href=\"x/\">x/</a></li></ul></body></html>",
        ] {
            let hint = DocumentHint {
                url: Some("http://127.0.0.1/news/".into()),
                ..DocumentHint::default()
            };
            assert!(
                matches!(
                    parse_document(page.as_bytes(), &hint),
                    Err(ParseError::NotAnArticle { .. })
                ),
                "{page}"
            );
        }
    }
}
