//! Errors of the archive's jobs.
//!
//! Policy: add the context a user needs (the file, the ref they typed, the
//! store's location) and keep the cause; never turn damage into "not found";
//! a failure of one file in a batch is reported for that file and the batch
//! goes on.

use std::path::PathBuf;

use newsarc_model::Millis;
use newsarc_parse::{KeyError, ParseError};
use newsarc_store::StoreError;

/// Why a job failed as a whole.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveError {
    /// The store failed or holds damage.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A `--rules` file could not be read.
    #[error("cannot read rules file {path}: {source}")]
    ReadRules {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A `--rules` file is not valid.
    #[error(transparent)]
    Rules(#[from] KeyError),
    /// No article matches what was typed.
    #[error("no article '{spec}' in the store")]
    ArticleNotFound {
        /// What was typed.
        spec: String,
    },
    /// No revision matches what was typed.
    #[error("no revision '{spec}' in the store")]
    RevisionNotFound {
        /// What was typed.
        spec: String,
    },
    /// A revision id prefix matches several revisions.
    #[error("revision prefix '{prefix}' matches {count} revisions; type more digits")]
    AmbiguousPrefix {
        /// The prefix.
        prefix: String,
        /// How many revisions it matches.
        count: usize,
    },
    /// A revision ref that is not one of the accepted shapes.
    #[error(
        "'{spec}' is not a revision: {reason} (use an id, an id prefix of 8+ hex digits, ARTICLE (its latest), ARTICLE@N, ARTICLE@latest, ARTICLE@2020-10-02 or ARTICLE@<RFC 3339 time>)"
    )]
    BadRef {
        /// What was typed.
        spec: String,
        /// What is wrong.
        reason: String,
    },
    /// `ARTICLE@N` beyond the article's history.
    #[error("article {article} has {revisions} revisions: there is no revision {seq}{}", year_hint(*seq))]
    NoSuchSeq {
        /// The article.
        article: String,
        /// The number asked for.
        seq: u32,
        /// How many it has.
        revisions: u32,
    },
    /// `ARTICLE@time` before the article's first revision.
    #[error(
        "article {article} has no revision at or before {at}; its first was fetched at {first}"
    )]
    NoRevisionAt {
        /// The article.
        article: String,
        /// The time asked for.
        at: Millis,
        /// Its first revision's fetch time.
        first: Millis,
    },
    /// `diff REF` where REF is its article's first revision in time.
    #[error(
        "revision {revision} is the first of article {article}: nothing before it to compare it with (`newsarc show` prints it)"
    )]
    NothingToCompare {
        /// The article.
        article: String,
        /// The revision.
        revision: String,
    },
    /// A stored document no longer parses (parser changed since ingest).
    #[error("stored document of revision {revision} does not parse: {source}")]
    StoredDocument {
        /// The revision.
        revision: String,
        /// Why.
        source: ParseError,
    },
    /// A URL to fetch is not one, or the HTTP client cannot start.
    #[error(transparent)]
    Fetch(#[from] newsarc_fetch::FetchError),
    /// A `--feeds` file could not be read.
    #[error("cannot read feeds file {path}: {source}")]
    ReadFeeds {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A line of a `--feeds` file is not an http(s) URL.
    #[error("{path}:{line}: '{text}' is not an http or https URL")]
    BadFeedLine {
        /// The file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
        /// The line's text.
        text: String,
    },
    /// A fetch time (`--fetched-at`, a gRPC `fetched_at`) in the future.
    #[error(
        "the fetch time {at} is in the future (it is {now} now): give the time the page was fetched, with its zone"
    )]
    FutureTime {
        /// The time given.
        at: Millis,
        /// The time now.
        now: Millis,
    },
    /// `ingest --url` with several files or a directory.
    #[error(
        "--url names the URL of one saved page, but the arguments hold {files} files: ingest that page alone"
    )]
    UrlForOneFile {
        /// How many files the arguments hold.
        files: usize,
    },
    /// Writing the output failed.
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
}

/// A number that looks like a year was probably meant as one.
fn year_hint(seq: u32) -> String {
    if (1990..2100).contains(&seq) {
        format!(" (for the state at the end of {seq}, write @{seq}-12-31)")
    } else {
        String::new()
    }
}

/// Why one file of an ingest batch was not stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FileError {
    /// The file could not be read.
    #[error("cannot read: {0}")]
    Read(std::io::Error),
    /// The file does not parse as a news document.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// Its URL gives no article key.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A `PATH` argument that does not exist.
    #[error("no such file or directory")]
    Missing,
    /// A FIFO, socket or device: reading it could block or never end.
    #[error("not a regular file (a pipe, socket or device is never read)")]
    NotAFile,
    /// Its fetch time (its modification time, or the one given) lies in
    /// the future.
    #[error(
        "its fetch time {at} is in the future (it is {now} now); give the real one with --fetched-at"
    )]
    FutureTime {
        /// The fetch time.
        at: Millis,
        /// The time now.
        now: Millis,
    },
}
