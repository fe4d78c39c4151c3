//! `newsarc ingest`: put files into the archive.

use std::io::Write;
use std::path::{Path, PathBuf};

use newsarc_model::Millis;
use newsarc_model::record::HttpFacts;
use newsarc_parse::{DocumentHint, MAX_DOCUMENT_BYTES, ParseError, canonical_url, parse};
use newsarc_store::{Added, Fetch, Outcome};
use serde::Serialize;

use crate::{Archive, ArchiveError, FileError, Progress};

/// File name endings `ingest` picks up inside directories.
pub const DOCUMENT_EXTENSIONS: &[&str] = &["md", "html", "htm"];

/// Files are acknowledged in groups: one flush (one `sync_file_range`) per
/// group instead of per file keeps ingest fast, and nothing is reported
/// before the flush that makes it durable.
pub const FILES_PER_FLUSH: usize = 256;

/// How far in the future a fetch time may lie: clocks disagree a little,
/// but a time beyond this is a mistake (a wrong year, a wrong zone).
pub const MAX_CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

/// What `ingest` does.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Files, or directories searched recursively for `*.md`, `*.html`,
    /// `*.htm`.
    pub paths: Vec<PathBuf>,
    /// The fetch time of every file; default: each file's modification time.
    pub fetched_at: Option<Millis>,
    /// The URL a single saved page was fetched from, for a page that names
    /// none itself.
    pub url: Option<String>,
    /// One JSON object per file (JSON Lines) instead of a summary.
    pub json: bool,
}

/// Totals of an ingest run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IngestSummary {
    /// Files read (including failed ones).
    pub files: u64,
    /// Files that made a new article.
    pub new_articles: u64,
    /// Files that made a new revision of a known article.
    pub new_revisions: u64,
    /// Files equal to the revision current at their fetch time.
    pub unchanged: u64,
    /// Files whose bytes and fetch time were already recorded: nothing was
    /// written for them.
    pub already_archived: u64,
    /// Files that could not be stored.
    pub failed: u64,
}

/// One file's JSON line.
#[derive(Debug, Serialize)]
struct FileLine {
    path: String,
    article: Option<String>,
    revision: Option<String>,
    outcome: &'static str,
    error: Option<String>,
}

/// The result of storing one document.
#[derive(Debug, Clone)]
pub struct Stored {
    /// The article's key.
    pub article: String,
    /// What happened in the store.
    pub added: Added,
}

impl Archive {
    /// Parses one document and stores it as a revision or an observation of
    /// its article. Not yet durable: call [`newsarc_store::Store::flush`]
    /// before reporting it.
    pub fn ingest_document(
        &self,
        bytes: &[u8],
        source: &str,
        fetched_at: Millis,
        hint: &DocumentHint,
        http: Option<HttpFacts>,
    ) -> Result<Result<Stored, FileError>, ArchiveError> {
        let (article, charset) = match parse(bytes, hint) {
            Ok(parsed) => (parsed.article, parsed.charset),
            Err(err) => return Ok(Err(err.into())),
        };
        let (key, canonical) = match self
            .rules
            .key_for(&article.meta.url)
            .and_then(|key| Ok((key, canonical_url(&article.meta.url)?)))
        {
            Ok(found) => found,
            Err(err) => return Ok(Err(err.into())),
        };
        let added = self.store.add_fetch(&Fetch {
            article: key.clone(),
            bytes,
            fetched_at,
            source: source.to_owned(),
            canonical_url: canonical.into(),
            text_digest: article.text_digest(),
            meta: article.meta,
            http,
            charset: Some(charset),
        })?;
        Ok(Ok(Stored {
            article: key.to_string(),
            added,
        }))
    }

    /// Ingests every file under `options.paths`, writing JSON Lines or a
    /// summary to `out`. Per-file failures are reported and counted; the
    /// run goes on. Each file is reported only after the flush that makes it
    /// durable.
    pub fn ingest(
        &self,
        options: &IngestOptions,
        out: &mut dyn Write,
        progress: &mut dyn Progress,
    ) -> Result<IngestSummary, ArchiveError> {
        if let Some(at) = options.fetched_at {
            check_fetch_time(at)?;
        }
        let files = collect_files(&options.paths);
        let hint = match &options.url {
            Some(url) => {
                crate::fetch::check_url(url)?;
                if files.len() != 1 || options.paths.len() != 1 {
                    return Err(ArchiveError::UrlForOneFile { files: files.len() });
                }
                DocumentHint {
                    url: Some(url.clone()),
                    ..DocumentHint::default()
                }
            }
            None => DocumentHint::default(),
        };
        progress.start(files.len() as u64);
        let mut summary = IngestSummary::default();
        let mut pending: Vec<(PathBuf, Result<Stored, FileError>)> = Vec::new();
        for (done, file) in files.into_iter().enumerate() {
            let result = match file {
                Ok(path) => {
                    let result = self.ingest_file(&path, options.fetched_at, &hint)?;
                    (path, result)
                }
                Err(path) => (path, Err(FileError::Missing)),
            };
            pending.push(result);
            if pending.len() >= FILES_PER_FLUSH {
                self.acknowledge(&mut pending, options.json, &mut summary, out)?;
            }
            progress.set(done as u64 + 1);
        }
        self.acknowledge(&mut pending, options.json, &mut summary, out)?;
        progress.finish();
        if !options.json {
            write!(
                out,
                "{} files: {} new articles, {} new revisions, {} unchanged, ",
                summary.files, summary.new_articles, summary.new_revisions, summary.unchanged,
            )?;
            if summary.already_archived > 0 {
                write!(out, "{} already archived, ", summary.already_archived)?;
            }
            writeln!(out, "{} failed", summary.failed)?;
        }
        Ok(summary)
    }

    fn ingest_file(
        &self,
        path: &Path,
        fetched_at: Option<Millis>,
        hint: &DocumentHint,
    ) -> Result<Result<Stored, FileError>, ArchiveError> {
        let metadata = match std::fs::metadata(path) {
            Ok(metadata) => metadata,
            Err(err) => return Ok(Err(FileError::Read(err))),
        };
        if !metadata.is_file() {
            return Ok(Err(FileError::NotAFile));
        }
        if metadata.len() > MAX_DOCUMENT_BYTES {
            return Ok(Err(ParseError::TooLarge {
                size: metadata.len(),
            }
            .into()));
        }
        let fetched_at = match fetched_at {
            Some(time) => time,
            None => match metadata.modified() {
                Ok(modified) => Millis::from(chrono::DateTime::<chrono::Utc>::from(modified)),
                Err(err) => return Ok(Err(FileError::Read(err))),
            },
        };
        if let Err(ArchiveError::FutureTime { at, now }) = check_fetch_time(fetched_at) {
            return Ok(Err(FileError::FutureTime { at, now }));
        }
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(err) => return Ok(Err(FileError::Read(err))),
        };
        // The path as the user gave it: a relative path stays relative.
        self.ingest_document(&bytes, &path.display().to_string(), fetched_at, hint, None)
    }

    /// Flushes the store, then reports and counts the pending files.
    fn acknowledge(
        &self,
        pending: &mut Vec<(PathBuf, Result<Stored, FileError>)>,
        json: bool,
        summary: &mut IngestSummary,
        out: &mut dyn Write,
    ) -> Result<(), ArchiveError> {
        if pending.is_empty() {
            return Ok(());
        }
        self.store.flush()?;
        for (path, result) in pending.drain(..) {
            summary.files += 1;
            let line = match result {
                Ok(stored) => {
                    match stored.added.outcome {
                        Outcome::NewArticle => summary.new_articles += 1,
                        Outcome::NewRevision => summary.new_revisions += 1,
                        Outcome::Unchanged | Outcome::NotModified => summary.unchanged += 1,
                        Outcome::AlreadyArchived => summary.already_archived += 1,
                    }
                    FileLine {
                        path: path.display().to_string(),
                        article: Some(stored.article),
                        revision: Some(stored.added.revision.to_string()),
                        outcome: stored.added.outcome.as_str(),
                        error: None,
                    }
                }
                Err(err) => {
                    summary.failed += 1;
                    if !json {
                        writeln!(out, "error: {}: {err}", path.display())?;
                    }
                    FileLine {
                        path: path.display().to_string(),
                        article: None,
                        revision: None,
                        outcome: "error",
                        error: Some(err.to_string()),
                    }
                }
            };
            if json {
                crate::json::write_line(out, &line)?;
            }
        }
        Ok(())
    }
}

/// Refuses a fetch time someone gave (a file's, `--fetched-at`, a gRPC
/// request's) that lies more than [`MAX_CLOCK_SKEW_MS`] ahead of now.
pub fn check_fetch_time(at: Millis) -> Result<(), ArchiveError> {
    let now = Millis::now();
    if at.as_millis() > now.as_millis().saturating_add(MAX_CLOCK_SKEW_MS) {
        return Err(ArchiveError::FutureTime { at, now });
    }
    Ok(())
}

/// Expands the arguments: files as given, directories walked in name order
/// for document files. A missing argument comes back as `Err(path)`.
fn collect_files(paths: &[PathBuf]) -> Vec<Result<PathBuf, PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let walk = walkdir::WalkDir::new(path).sort_by_file_name();
            for entry in walk {
                match entry {
                    Ok(entry) if entry.file_type().is_file() && is_document(entry.path()) => {
                        files.push(Ok(entry.into_path()));
                    }
                    Ok(_) => {}
                    Err(err) => {
                        files.push(Err(err.path().map_or_else(|| path.clone(), Path::to_owned)))
                    }
                }
            }
        } else if path.exists() {
            files.push(Ok(path.clone()));
        } else {
            files.push(Err(path.clone()));
        }
    }
    files
}

fn is_document(path: &Path) -> bool {
    path.extension()
        .and_then(|ext| ext.to_str())
        .is_some_and(|ext| DOCUMENT_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()))
}
