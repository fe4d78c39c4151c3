//! A parsed article: what the parser extracts from a document's bytes, and
//! how two revisions' articles compare.

use serde::{Deserialize, Serialize};

use crate::{Digest, Millis};

/// Where a published time was read from; a document can give several, and
/// they are all kept when they disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeSource {
    /// The front matter's `date:` line.
    FrontMatterDate,
    /// The `<!--epoch-ms-->` comment under the front matter.
    EpochComment,
    /// An HTML `<meta>` tag such as `article:published_time`.
    HtmlMeta,
}

impl TimeSource {
    /// The snake_case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FrontMatterDate => "front_matter_date",
            Self::EpochComment => "epoch_comment",
            Self::HtmlMeta => "html_meta",
        }
    }
}

/// One published time and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedTime {
    /// Where the time was read.
    pub source: TimeSource,
    /// The instant.
    pub at: Millis,
}

/// An image in the article body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    /// The image URL (`src`, or `data-src` for lazily loaded images).
    pub src: String,
    /// The alternative text, empty when there is none.
    pub alt: String,
}

/// The metadata a document states about its article.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleMeta {
    /// The headline.
    pub title: Option<String>,
    /// The article's URL as the document gives it (`from:`, the canonical
    /// link, or the URL it was fetched from).
    pub url: String,
    /// Published times, in the order the document gives them.
    pub published: Vec<PublishedTime>,
    /// Author or outlet (`author:`, or `<meta name=author>`).
    pub author: Option<String>,
    /// Tags, in document order.
    pub tags: Vec<String>,
    /// Categories, in document order.
    pub categories: Vec<String>,
}

/// How a document's bytes were turned into text: the encoding (its WHATWG
/// name, such as `GBK`, `Big5`, `Shift_JIS`, `UTF-16LE`) and what said so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charset {
    /// The encoding's WHATWG name.
    pub name: String,
    /// Where the parser learnt it.
    pub from: CharsetSource,
}

impl Charset {
    /// The name of the encoding documents are in when nothing says otherwise.
    pub const UTF_8: &'static str = "UTF-8";

    /// True for UTF-8, which records leave out.
    pub fn is_utf8(&self) -> bool {
        self.name == Self::UTF_8
    }
}

/// What told the parser a document's encoding, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CharsetSource {
    /// A byte order mark at the start of the bytes.
    Bom,
    /// The `charset` of the HTTP `Content-Type` the document came with.
    Http,
    /// A `<meta charset>` or `<meta http-equiv="Content-Type">` tag.
    Meta,
    /// Nothing declared one: the bytes are UTF-8 (a damaged sequence among
    /// many sound ones reads as U+FFFD).
    Utf8,
    /// Nothing declared one: guessed from the bytes (chardetng).
    Sniffed,
}

impl CharsetSource {
    /// The snake_case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bom => "bom",
            Self::Http => "http",
            Self::Meta => "meta",
            Self::Utf8 => "utf8",
            Self::Sniffed => "sniffed",
        }
    }
}

/// A parsed article: metadata plus the normalised body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Article {
    /// What the document says about the article.
    pub meta: ArticleMeta,
    /// Body paragraphs in order (paragraphs, headings, list items, captions),
    /// whitespace-normalised.
    pub paragraphs: Vec<String>,
    /// Images in body order.
    pub images: Vec<Image>,
}

impl Article {
    /// The normalised text: each paragraph followed by `\n`, then each image
    /// as `![alt](src)\n`. Its BLAKE3 is the revision's `text_digest`.
    pub fn normalised_text(&self) -> String {
        let mut text = String::new();
        for paragraph in &self.paragraphs {
            text.push_str(paragraph);
            text.push('\n');
        }
        for image in &self.images {
            text.push_str(&format!("![{}]({})\n", image.alt, image.src));
        }
        text
    }

    /// BLAKE3 of [`Article::normalised_text`].
    pub fn text_digest(&self) -> Digest {
        Digest::of(self.normalised_text().as_bytes())
    }
}

/// How a revision differs from its parent, most significant first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// The article's first revision.
    New,
    /// The body text or its images changed.
    Body,
    /// The body is the same; the title changed.
    Title,
    /// Only other metadata changed (published time, author, tags, URL…).
    Metadata,
    /// Only whitespace or markup noise changed: the parsed article is equal.
    Whitespace,
    /// The same bytes as the revision it is compared with. Never stored: a
    /// diff of a revision with itself says it, and so does a history for a
    /// revision archived late whose bytes equal the one before it in time.
    Unchanged,
}

impl ChangeKind {
    /// Classifies `current` against its parent; `parent` is `None` for a
    /// first revision. Body wins over title, title over other metadata.
    pub fn between(
        parent: Option<(&ArticleMeta, Digest)>,
        current: (&ArticleMeta, Digest),
    ) -> Self {
        let Some((parent_meta, parent_text)) = parent else {
            return Self::New;
        };
        let (meta, text) = current;
        if parent_text != text {
            Self::Body
        } else if parent_meta.title != meta.title {
            Self::Title
        } else if parent_meta != meta {
            Self::Metadata
        } else {
            Self::Whitespace
        }
    }

    /// The lower-case name used in output and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Body => "body",
            Self::Title => "title",
            Self::Metadata => "metadata",
            Self::Whitespace => "whitespace",
            Self::Unchanged => "unchanged",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(title: &str, date: i64) -> ArticleMeta {
        ArticleMeta {
            title: Some(title.into()),
            url: "https://example.org/a".into(),
            published: vec![PublishedTime {
                source: TimeSource::FrontMatterDate,
                at: Millis::from_millis(date),
            }],
            ..ArticleMeta::default()
        }
    }

    #[test]
    fn change_kinds_rank_body_over_title_over_metadata() {
        let (a, b) = (Digest::of(b"a"), Digest::of(b"b"));
        let base = meta("t", 1);
        assert_eq!(ChangeKind::between(None, (&base, a)), ChangeKind::New);
        assert_eq!(
            ChangeKind::between(Some((&base, a)), (&meta("u", 2), b)),
            ChangeKind::Body
        );
        assert_eq!(
            ChangeKind::between(Some((&base, a)), (&meta("u", 2), a)),
            ChangeKind::Title
        );
        assert_eq!(
            ChangeKind::between(Some((&base, a)), (&meta("t", 2), a)),
            ChangeKind::Metadata
        );
        assert_eq!(
            ChangeKind::between(Some((&base, a)), (&meta("t", 1), a)),
            ChangeKind::Whitespace
        );
    }

    #[test]
    fn normalised_text_lists_paragraphs_then_images() {
        let article = Article {
            paragraphs: vec!["一".into(), "two".into()],
            images: vec![Image {
                src: "https://i/x.jpg".into(),
                alt: "x".into(),
            }],
            ..Article::default()
        };
        assert_eq!(
            article.normalised_text(),
            "一\ntwo\n![x](https://i/x.jpg)\n"
        );
    }
}
