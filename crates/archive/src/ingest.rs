//! `newsarc ingest`: put files into the archive.

use std::io::Write;
use std::path::{Path, PathBuf};

use newsarc_model::record::HttpFacts;
use newsarc_model::{ArticleKey, ArticleMeta, Charset, Digest, Millis};
use newsarc_parse::{DocumentHint, MAX_DOCUMENT_BYTES, ParseError, canonical_url, parse};
use newsarc_store::{Added, Commit, Fetch, Outcome};
use serde::Serialize;

use crate::{Archive, ArchiveError, FileError, Progress};

/// File name endings `ingest` picks up inside directories.
pub const DOCUMENT_EXTENSIONS: &[&str] = &["md", "html", "htm"];

/// Files are stored in commits of this many: one sync per commit instead of
/// per file keeps ingest fast, and nothing is reported before the commit
/// that makes it durable.
pub const FILES_PER_COMMIT: usize = 1024;

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

/// A document to ingest: its bytes, where it came from, when it was fetched.
#[derive(Debug, Clone, Copy)]
pub struct Document<'a> {
    /// The exact bytes.
    pub bytes: &'a [u8],
    /// Its source (a path or URL), kept with the revision.
    pub source: &'a str,
    /// When it was fetched.
    pub fetched_at: Millis,
}

/// `work` over `items` on as many threads as there are cores, results in
/// the items' order.
fn in_parallel<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let per_thread = items.len().div_ceil(threads).max(1);
    let work = &work;
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(per_thread)
            .map(|chunk| scope.spawn(move || chunk.iter().map(work).collect::<Vec<R>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| match worker.join() {
                Ok(done) => done,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

/// Runs `prepare` over `items` on a thread of its own while `consume`
/// handles the item before: reading and parsing the next commit's files
/// overlaps compressing and syncing this one's, so both cores work. At most
/// one prepared item waits, so memory stays a few groups' worth. An error
/// from `consume` stops the run; what was prepared after it is dropped.
fn overlapped<I, P: Send, E>(
    items: impl Iterator<Item = I> + Send,
    prepare: impl Fn(I) -> P + Sync,
    mut consume: impl FnMut(P) -> Result<(), E>,
) -> Result<(), E> {
    let prepare = &prepare;
    std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::sync_channel(1);
        let producer = scope.spawn(move || {
            for item in items {
                if sender.send(prepare(item)).is_err() {
                    break;
                }
            }
        });
        let mut result = Ok(());
        while let Ok(prepared) = receiver.recv() {
            if let Err(err) = consume(prepared) {
                result = Err(err);
                break;
            }
        }
        // A producer blocked on a full channel wakes up to a closed one.
        drop(receiver);
        if let Err(panic) = producer.join() {
            std::panic::resume_unwind(panic);
        }
        result
    })
}

/// A file read and parsed, before it is stored.
struct ReadFile {
    bytes: Vec<u8>,
    fetched_at: Millis,
    parsed: Parsed,
}

/// The result of storing one document.
#[derive(Debug, Clone)]
pub struct Stored {
    /// The article's key.
    pub article: String,
    /// What happened in the store.
    pub added: Added,
}

/// A document parsed and keyed, ready to be stored.
#[derive(Debug, Clone)]
pub struct Parsed {
    key: ArticleKey,
    canonical_url: String,
    text_digest: Digest,
    meta: ArticleMeta,
    charset: Charset,
}

impl Archive {
    /// Parses a document and finds its article's key: all of ingesting
    /// that needs no store, so it runs on several threads.
    pub fn parse_document(&self, bytes: &[u8], hint: &DocumentHint) -> Result<Parsed, FileError> {
        let parsed = parse(bytes, hint)?;
        let url = &parsed.article.meta.url;
        let key = self.rules().key_for(url)?;
        let canonical = canonical_url(url)?;
        Ok(Parsed {
            key,
            canonical_url: canonical.into(),
            text_digest: parsed.article.text_digest(),
            meta: parsed.article.meta,
            charset: parsed.charset,
        })
    }

    /// Stores a parsed document in `commit` as a revision or an
    /// observation of its article. Durable when the commit is finished.
    pub(crate) fn store_parsed(
        commit: &mut Commit<'_>,
        parsed: Parsed,
        bytes: &[u8],
        source: &str,
        fetched_at: Millis,
        http: Option<HttpFacts>,
    ) -> Result<Stored, ArchiveError> {
        let added = commit.add_fetch(&Fetch {
            article: parsed.key.clone(),
            bytes,
            fetched_at,
            source: source.to_owned(),
            canonical_url: parsed.canonical_url,
            text_digest: parsed.text_digest,
            meta: parsed.meta,
            http,
            charset: Some(parsed.charset),
        })?;
        Ok(Stored {
            article: parsed.key.to_string(),
            added,
        })
    }

    /// Parses documents on as many threads as there are cores and stores
    /// them, in order, in one commit: durable when this returns. A document
    /// that does not parse is reported in its place; the others are stored.
    pub fn ingest_documents(
        &self,
        documents: &[Document<'_>],
        hint: &DocumentHint,
    ) -> Result<Vec<Result<Stored, FileError>>, ArchiveError> {
        let mut results = Vec::with_capacity(documents.len());
        self.ingest_document_groups(std::iter::once(documents), hint, |stored| {
            results = stored;
            Ok(())
        })?;
        Ok(results)
    }

    /// Stores each group of documents in one commit, in order, as
    /// [`Archive::ingest_documents`] does, while the next group is parsed
    /// on the other cores. `durable` gets each group's results once its
    /// commit is durable; an error it returns stops the run there.
    pub fn ingest_document_groups<'d>(
        &self,
        groups: impl Iterator<Item = &'d [Document<'d>]> + Send,
        hint: &DocumentHint,
        mut durable: impl FnMut(Vec<Result<Stored, FileError>>) -> Result<(), ArchiveError>,
    ) -> Result<(), ArchiveError> {
        overlapped(
            groups,
            |group| {
                let parsed =
                    in_parallel(group, |document| self.parse_document(document.bytes, hint));
                (group, parsed)
            },
            |(group, parsed)| {
                let parsed = group.iter().zip(parsed).map(|(document, parsed)| {
                    parsed.map(|parsed| {
                        (parsed, document.bytes, document.source, document.fetched_at)
                    })
                });
                durable(self.store_group(parsed)?)
            },
        )
    }

    /// Stores a group of parsed documents in one commit, in order, and
    /// makes it durable; a document that did not parse is reported in its
    /// place.
    fn store_group<'s, B: AsRef<[u8]>>(
        &self,
        group: impl Iterator<Item = Result<(Parsed, B, &'s str, Millis), FileError>>,
    ) -> Result<Vec<Result<Stored, FileError>>, ArchiveError> {
        let mut commit = self.store.begin()?;
        let mut results = Vec::new();
        for document in group {
            results.push(match document {
                Ok((parsed, bytes, source, fetched_at)) => Ok(Self::store_parsed(
                    &mut commit,
                    parsed,
                    bytes.as_ref(),
                    source,
                    fetched_at,
                    None,
                )?),
                Err(err) => Err(err),
            });
        }
        commit.finish()?;
        Ok(results)
    }

    /// Parses one document and stores it, durably, in a commit of its own.
    pub fn ingest_document(
        &self,
        bytes: &[u8],
        source: &str,
        fetched_at: Millis,
        hint: &DocumentHint,
        http: Option<HttpFacts>,
    ) -> Result<Result<Stored, FileError>, ArchiveError> {
        let parsed = match self.parse_document(bytes, hint) {
            Ok(parsed) => parsed,
            Err(err) => return Ok(Err(err)),
        };
        let mut commit = self.store.begin()?;
        let stored = Self::store_parsed(&mut commit, parsed, bytes, source, fetched_at, http)?;
        commit.finish()?;
        Ok(Ok(stored))
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
        let mut done = 0;
        overlapped(
            files.chunks(FILES_PER_COMMIT),
            |group| self.read_group(group, options.fetched_at, &hint),
            |read| {
                let (paths, files): (Vec<PathBuf>, Vec<_>) = read.into_iter().unzip();
                let sources: Vec<String> = paths
                    .iter()
                    .map(|path| path.display().to_string())
                    .collect();
                let parsed = files.into_iter().zip(&sources).map(|(file, source)| {
                    file.map(|file| (file.parsed, file.bytes, source.as_str(), file.fetched_at))
                });
                let results: Vec<_> = paths.into_iter().zip(self.store_group(parsed)?).collect();
                done += results.len() as u64;
                Self::acknowledge(results, options.json, &mut summary, out)?;
                progress.set(done);
                Ok::<_, ArchiveError>(())
            },
        )?;
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

    /// Reads and parses a group of files on as many threads as there are
    /// cores, keeping their order.
    fn read_group(
        &self,
        group: &[Result<PathBuf, PathBuf>],
        fetched_at: Option<Millis>,
        hint: &DocumentHint,
    ) -> Vec<(PathBuf, Result<ReadFile, FileError>)> {
        in_parallel(group, |file| match file {
            Ok(path) => (path.clone(), self.read_file(path, fetched_at, hint)),
            Err(path) => (path.clone(), Err(FileError::Missing)),
        })
    }

    fn read_file(
        &self,
        path: &Path,
        fetched_at: Option<Millis>,
        hint: &DocumentHint,
    ) -> Result<ReadFile, FileError> {
        let metadata = std::fs::metadata(path).map_err(FileError::Read)?;
        if !metadata.is_file() {
            return Err(FileError::NotAFile);
        }
        if metadata.len() > MAX_DOCUMENT_BYTES {
            return Err(ParseError::TooLarge {
                size: metadata.len(),
            }
            .into());
        }
        let fetched_at = match fetched_at {
            Some(time) => time,
            None => Millis::from(chrono::DateTime::<chrono::Utc>::from(
                metadata.modified().map_err(FileError::Read)?,
            )),
        };
        if let Err(ArchiveError::FutureTime { at, now }) = check_fetch_time(fetched_at) {
            return Err(FileError::FutureTime { at, now });
        }
        let bytes = std::fs::read(path).map_err(FileError::Read)?;
        let parsed = self.parse_document(&bytes, hint)?;
        Ok(ReadFile {
            bytes,
            fetched_at,
            parsed,
        })
    }

    /// Reports and counts files whose commit is durable.
    fn acknowledge(
        results: Vec<(PathBuf, Result<Stored, FileError>)>,
        json: bool,
        summary: &mut IngestSummary,
        out: &mut dyn Write,
    ) -> Result<(), ArchiveError> {
        for (path, result) in results {
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::overlapped;

    #[test]
    fn overlapped_consumes_every_item_in_order() {
        let mut seen = Vec::new();
        let done: Result<(), ()> = overlapped(
            0..100,
            |n| n * 2,
            |doubled| {
                seen.push(doubled);
                Ok(())
            },
        );
        assert_eq!(done, Ok(()));
        assert_eq!(seen, (0..100).map(|n| n * 2).collect::<Vec<_>>());
    }

    #[test]
    fn an_error_stops_the_run_and_the_producer_with_it() {
        let prepared = AtomicUsize::new(0);
        let mut consumed = Vec::new();
        let done = overlapped(
            0..10_000,
            |n| {
                prepared.fetch_add(1, Ordering::SeqCst);
                n
            },
            |n| {
                consumed.push(n);
                if n == 3 {
                    Err(format!("failed at {n}"))
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(done, Err("failed at 3".to_owned()));
        assert_eq!(consumed, vec![0, 1, 2, 3]);
        // One item waits in the channel and one is being prepared when the
        // consumer stops; nothing more is made.
        assert!(prepared.load(Ordering::SeqCst) <= 6, "{prepared:?}");
    }

    #[test]
    #[should_panic(expected = "prepare panicked")]
    fn a_panic_while_preparing_reaches_the_caller() {
        let _ = overlapped(
            0..10,
            |n| {
                assert!(n != 5, "prepare panicked");
                n
            },
            |_| Ok::<_, ()>(()),
        );
    }
}
