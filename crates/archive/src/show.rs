//! `newsarc show`: one revision, as metadata, normalised text or raw bytes.

use std::io::Write;

use newsarc_model::record::RevisionRecord;
use newsarc_model::{Article, ChangeKind, PublishedTime, RevisionId};
use newsarc_parse::{DocumentHint, parse_document};
use serde::Serialize;

use crate::{Archive, ArchiveError, json};

/// What `show` writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ShowFormat {
    /// Metadata, then the normalised text.
    #[default]
    Summary,
    /// The exact stored bytes.
    Raw,
    /// The normalised text exactly as hashed into `text_digest`.
    Text,
    /// Metadata and text as one JSON object.
    Json,
}

/// What `show` shows.
#[derive(Debug, Clone, Default)]
pub struct ShowOptions {
    /// A revision ref (see [`crate::refs::RevisionRef`]).
    pub revision: String,
    /// The output form.
    pub format: ShowFormat,
}

#[derive(Debug, Serialize)]
struct ShowJson<'a> {
    id: String,
    article: &'a str,
    seq: u32,
    parent: Option<String>,
    fetched_at: String,
    source: &'a str,
    blob: String,
    size: u64,
    change: &'static str,
    charset: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    charset_from: Option<&'static str>,
    text_digest: String,
    title: Option<&'a str>,
    url: &'a str,
    canonical_url: &'a str,
    published: Vec<PublishedJson>,
    author: Option<&'a str>,
    tags: &'a [String],
    categories: &'a [String],
    text: String,
}

#[derive(Debug, Serialize)]
struct PublishedJson {
    source: String,
    at: String,
}

fn published_json(times: &[PublishedTime]) -> Vec<PublishedJson> {
    times
        .iter()
        .map(|time| PublishedJson {
            source: time.source.as_str().to_owned(),
            at: time.at.to_string(),
        })
        .collect()
}

/// Parses a stored document again (the store keeps bytes, not articles).
pub(crate) fn parsed(
    id: &RevisionId,
    record: &RevisionRecord,
    bytes: &[u8],
) -> Result<Article, ArchiveError> {
    parse_document(
        bytes,
        &DocumentHint {
            url: Some(record.meta.url.clone()),
            declared_charset: record.charset.as_ref().map(|charset| charset.name.clone()),
        },
    )
    .map_err(|source| ArchiveError::StoredDocument {
        revision: id.to_string(),
        source,
    })
}

impl Archive {
    /// A revision's parsed article.
    pub fn article_of(&self, id: &RevisionId) -> Result<Article, ArchiveError> {
        let record = self.store.revision(id)?;
        parsed(id, &record, &self.store.blob(&record.blob)?)
    }

    /// A revision with what `format` needs of its content.
    pub fn shown(&self, revision: &str, format: ShowFormat) -> Result<Shown, ArchiveError> {
        let (id, record) = self.resolve_revision(revision)?;
        let bytes = self.store.blob(&record.blob)?;
        let content = match format {
            ShowFormat::Raw => Content::Raw(bytes),
            _ => Content::Text(parsed(&id, &record, &bytes)?.normalised_text()),
        };
        let change = self.timeline_revision(id, record.clone())?.change;
        Ok(Shown {
            id,
            record,
            change,
            content,
        })
    }

    /// Writes one revision.
    pub fn show(&self, options: &ShowOptions, out: &mut dyn Write) -> Result<(), ArchiveError> {
        write_shown(
            &self.shown(&options.revision, options.format)?,
            options.format,
            out,
        )
    }
}

/// What `show` writes of a revision's content.
#[derive(Debug, Clone)]
pub enum Content {
    /// The exact stored bytes (for `--raw`).
    Raw(Vec<u8>),
    /// The normalised text (for every other form).
    Text(String),
}

/// A revision as `show` writes it; the local and the remote `show` both
/// fill one.
#[derive(Debug, Clone)]
pub struct Shown {
    /// The revision id.
    pub id: RevisionId,
    /// Its record.
    pub record: RevisionRecord,
    /// How it differs from the revision before it in time.
    pub change: ChangeKind,
    /// Its content.
    pub content: Content,
}

/// Writes a revision in `format`.
pub fn write_shown(
    shown: &Shown,
    format: ShowFormat,
    out: &mut dyn Write,
) -> Result<(), ArchiveError> {
    let Shown {
        id,
        record,
        change,
        content,
    } = shown;
    let text = match content {
        Content::Raw(bytes) => {
            out.write_all(bytes)?;
            return Ok(());
        }
        Content::Text(text) => text.clone(),
    };
    {
        match format {
            ShowFormat::Raw | ShowFormat::Text => out.write_all(text.as_bytes())?,
            ShowFormat::Json => json::write_document(
                out,
                &ShowJson {
                    id: id.to_string(),
                    article: record.article.as_str(),
                    seq: record.seq,
                    parent: record.parent.map(|p| p.to_string()),
                    fetched_at: record.fetched_at.to_string(),
                    source: &record.source,
                    blob: record.blob.to_string(),
                    size: record.size,
                    change: change.as_str(),
                    charset: crate::history::charset_name(record),
                    charset_from: record.charset.as_ref().map(|charset| charset.from.as_str()),
                    text_digest: record.text_digest.to_string(),
                    title: record.meta.title.as_deref(),
                    url: &record.meta.url,
                    canonical_url: &record.canonical_url,
                    published: published_json(&record.meta.published),
                    author: record.meta.author.as_deref(),
                    tags: &record.meta.tags,
                    categories: &record.meta.categories,
                    text,
                },
            )?,
            ShowFormat::Summary => {
                let meta = &record.meta;
                writeln!(out, "revision    {id}")?;
                writeln!(out, "article     {} @{}", record.article, record.seq)?;
                if let Some(parent) = record.parent {
                    writeln!(out, "parent      {parent}")?;
                }
                writeln!(out, "fetched_at  {}", record.fetched_at)?;
                writeln!(out, "source      {}", record.source)?;
                writeln!(out, "blob        {} ({} bytes)", record.blob, record.size)?;
                writeln!(out, "change      {}", change.as_str())?;
                if let Some(charset) = &record.charset {
                    writeln!(
                        out,
                        "charset     {} ({})",
                        charset.name,
                        charset.from.as_str()
                    )?;
                }
                writeln!(out, "title       {}", meta.title.as_deref().unwrap_or(""))?;
                writeln!(out, "url         {}", meta.url)?;
                for time in published_json(&meta.published) {
                    writeln!(out, "published   {} ({})", time.at, time.source)?;
                }
                if let Some(author) = &meta.author {
                    writeln!(out, "author      {author}")?;
                }
                if !meta.tags.is_empty() {
                    writeln!(out, "tags        {}", meta.tags.join(", "))?;
                }
                if !meta.categories.is_empty() {
                    writeln!(out, "categories  {}", meta.categories.join(", "))?;
                }
                writeln!(out)?;
                out.write_all(text.as_bytes())?;
            }
        }
    }
    Ok(())
}
