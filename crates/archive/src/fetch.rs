//! `newsarc fetch`: download pages and archive what they say, including a
//! `304` (seen unchanged), a `404`/`410` (gone) and failures (kept as
//! attempts, never as revisions).

use std::io::Write;
use std::time::Duration;

use newsarc_fetch::schedule::{Backoff, RecheckPolicy};
use newsarc_fetch::{Answer, FetchError, Fetcher, Validators};
use newsarc_model::record::{AttemptRecord, HttpFacts, UrlRecord};
use newsarc_model::{ArticleKey, Millis};
use newsarc_parse::{DocumentHint, charset_of_content_type};
use newsarc_store::{BodilessFetch, Commit, Outcome};
use serde::Serialize;

use crate::history::short;
use crate::{Archive, ArchiveError, Progress, json};

/// What one fetch did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FetchOutcome {
    /// A page of an article the archive did not hold.
    NewArticle,
    /// A page whose bytes differ from its article's latest revision.
    NewRevision,
    /// A page equal to its article's latest revision.
    Unchanged,
    /// `304 Not Modified` to a conditional request.
    NotModified,
    /// `404` or `410`.
    Gone,
    /// A page whose bytes this article already holds for this very moment:
    /// nothing was written.
    AlreadyArchived,
    /// No page: a timeout, a 5xx, a TLS error, a body over the limit, a page
    /// that does not parse.
    Failed,
}

impl FetchOutcome {
    /// The snake_case name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NewArticle => "new_article",
            Self::NewRevision => "new_revision",
            Self::Unchanged => "unchanged",
            Self::NotModified => "not_modified",
            Self::Gone => "gone",
            Self::AlreadyArchived => "already_archived",
            Self::Failed => "failed",
        }
    }
}

/// One URL's result, as `fetch` and `watch` print it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FetchReport {
    /// The URL asked for.
    pub url: String,
    /// What happened.
    pub outcome: FetchOutcome,
    /// The article's key, when the URL belongs to one.
    pub article: Option<String>,
    /// The new revision, or the latest one for `unchanged`, `not_modified`
    /// and `gone`.
    pub revision: Option<String>,
    /// The `gone` event recorded, if any (none when it was already gone).
    pub event: Option<String>,
    /// The article had been gone and is back.
    pub reappeared: bool,
    /// The HTTP status, when the server answered.
    pub status: Option<u16>,
    /// The URL that answered, after redirects.
    pub final_url: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// The wait the server asked for (`Retry-After`), in seconds.
    #[serde(skip)]
    pub retry_after: Option<Duration>,
}

impl FetchReport {
    fn new(url: &str, outcome: FetchOutcome) -> Self {
        Self {
            url: url.to_owned(),
            outcome,
            article: None,
            revision: None,
            event: None,
            reappeared: false,
            status: None,
            final_url: None,
            error: None,
            retry_after: None,
        }
    }

    fn with_facts(mut self, facts: &HttpFacts) -> Self {
        self.status = Some(facts.status);
        self.final_url = Some(facts.final_url.clone());
        self
    }

    /// Writes the report as a JSON line or a human line.
    pub fn write(&self, json_output: bool, out: &mut dyn Write) -> std::io::Result<()> {
        if json_output {
            return json::write_line(out, self);
        }
        let id = self.revision.as_deref().map_or("-".into(), |id| short(&id));
        write!(
            out,
            "{:<12}  {:<16}  {}",
            self.outcome.as_str(),
            id,
            self.url
        )?;
        if self.reappeared {
            write!(out, "  (reappeared)")?;
        }
        if let Some(error) = &self.error {
            write!(out, "  error: {error}")?;
        }
        writeln!(out)
    }
}

/// Totals of a batch of fetches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FetchSummary {
    /// URLs fetched.
    pub urls: u64,
    /// New articles.
    pub new_articles: u64,
    /// New revisions of known articles.
    pub new_revisions: u64,
    /// Pages equal to the latest revision.
    pub unchanged: u64,
    /// `304` answers.
    pub not_modified: u64,
    /// `404`/`410` answers.
    pub gone: u64,
    /// Pages already recorded for the same moment.
    pub already_archived: u64,
    /// Fetches that produced no page.
    pub failed: u64,
}

impl FetchSummary {
    /// Counts one report.
    pub fn add(&mut self, report: &FetchReport) {
        self.urls += 1;
        *match report.outcome {
            FetchOutcome::NewArticle => &mut self.new_articles,
            FetchOutcome::NewRevision => &mut self.new_revisions,
            FetchOutcome::Unchanged => &mut self.unchanged,
            FetchOutcome::NotModified => &mut self.not_modified,
            FetchOutcome::Gone => &mut self.gone,
            FetchOutcome::AlreadyArchived => &mut self.already_archived,
            FetchOutcome::Failed => &mut self.failed,
        } += 1;
    }

    /// One human line.
    pub fn write(&self, out: &mut dyn Write) -> std::io::Result<()> {
        write!(
            out,
            "{} URLs: {} new articles, {} new revisions, {} unchanged, {} not modified, {} gone, ",
            self.urls,
            self.new_articles,
            self.new_revisions,
            self.unchanged,
            self.not_modified,
            self.gone,
        )?;
        if self.already_archived > 0 {
            write!(out, "{} already archived, ", self.already_archived)?;
        }
        writeln!(out, "{} failed", self.failed)
    }
}

/// When fetched URLs are checked again.
#[derive(Debug, Clone, Default)]
pub struct Recheck {
    /// After a success (or gone), by the article's age.
    pub policy: RecheckPolicy,
    /// After failures.
    pub backoff: Backoff,
}

/// What `fetch` does.
#[derive(Debug, Clone, Default)]
pub struct FetchOptions {
    /// The URLs, fetched in order.
    pub urls: Vec<String>,
    /// One JSON object per URL (JSON Lines) instead of lines and a summary.
    pub json: bool,
}

impl Archive {
    /// Fetches `url` once and records the result: a revision or an
    /// observation of its article, a `gone` event, or a failed attempt; then
    /// the URL's validators and next check. Durable when it returns.
    pub async fn fetch_url(
        &self,
        fetcher: &Fetcher,
        url: &str,
        now: Millis,
        recheck: &Recheck,
    ) -> Result<FetchReport, ArchiveError> {
        let mut state = self
            .store
            .url_state(url)?
            .unwrap_or_else(|| UrlRecord::new(url, None, now));
        // Validators only make sense while the archive holds the article
        // they were the answer for.
        let known_article = match &state.article {
            Some(key) if self.store.article(key)?.is_some() => Some(key.clone()),
            _ => None,
        };
        let validators = match known_article {
            Some(_) => Validators {
                etag: state.etag.clone(),
                last_modified: state.last_modified.clone(),
            },
            None => Validators::default(),
        };
        state.last_attempt = Some(now);
        let answer = fetcher.fetch(url, &validators).await;
        let mut commit = self.store.begin()?;
        let report = match answer {
            Ok(Answer::Page { facts, body }) => {
                self.record_page(&mut commit, url, &body, facts, now, &mut state)?
            }
            Ok(Answer::NotModified { facts }) => match known_article {
                Some(article) => {
                    let added = commit.add_not_modified(&BodilessFetch {
                        article: article.clone(),
                        fetched_at: now,
                        http: facts.clone(),
                    })?;
                    state.failures = 0;
                    state.gone = false;
                    let mut report =
                        FetchReport::new(url, FetchOutcome::NotModified).with_facts(&facts);
                    report.article = Some(article.to_string());
                    report.revision = Some(added.revision.to_string());
                    report.reappeared = added.reappeared;
                    report
                }
                None => Self::record_failure(
                    &mut commit,
                    url,
                    now,
                    Some(facts.status),
                    "the server answered 304 to a request that was not conditional".into(),
                    None,
                    &mut state,
                )?,
            },
            Ok(Answer::Gone { facts }) => {
                let article = match known_article {
                    Some(key) => Some(key),
                    None => self.article_of_url(url)?,
                };
                let mut report = FetchReport::new(url, FetchOutcome::Gone).with_facts(&facts);
                if let Some(article) = article {
                    let event = commit.add_gone(&BodilessFetch {
                        article: article.clone(),
                        fetched_at: now,
                        http: facts,
                    })?;
                    report.event = event.map(|id| id.to_string());
                    report.revision = commit
                        .article(&article)?
                        .map(|record| record.latest.to_string());
                    report.article = Some(article.to_string());
                    state.article = Some(article);
                }
                state.failures = 0;
                state.gone = true;
                report
            }
            Err(err) => {
                let status = err.status();
                let retry_after = err.retry_after();
                Self::record_failure(
                    &mut commit,
                    url,
                    now,
                    status,
                    err.to_string(),
                    retry_after,
                    &mut state,
                )?
            }
        };
        state.next_check = match report.outcome {
            FetchOutcome::Failed => Some(recheck.backoff.retry_at(
                state.failures,
                now,
                report.retry_after,
            )),
            _ => recheck
                .policy
                .next_check(state.last_change.unwrap_or(state.added_at), now),
        };
        commit.put_url_state(&state)?;
        commit.finish()?;
        tracing::info!(
            url,
            outcome = report.outcome.as_str(),
            status = report.status,
            revision = report.revision.as_deref(),
            error = report.error.as_deref(),
            "fetched"
        );
        Ok(report)
    }

    fn record_page(
        &self,
        commit: &mut Commit<'_>,
        url: &str,
        body: &[u8],
        facts: HttpFacts,
        now: Millis,
        state: &mut UrlRecord,
    ) -> Result<FetchReport, ArchiveError> {
        let hint = DocumentHint {
            url: Some(facts.final_url.clone()),
            declared_charset: facts
                .content_type
                .as_deref()
                .and_then(charset_of_content_type)
                .map(str::to_owned),
        };
        let source = facts.final_url.clone();
        let report = FetchReport::new(url, FetchOutcome::Failed).with_facts(&facts);
        let (etag, last_modified) = (facts.etag.clone(), facts.last_modified.clone());
        let stored = match self.parse_document(body, &hint) {
            Ok(parsed) => Ok(Self::store_parsed(
                commit,
                parsed,
                body,
                &source,
                now,
                Some(facts),
            )?),
            Err(err) => Err(err),
        };
        match stored {
            Ok(stored) => {
                let outcome = match stored.added.outcome {
                    Outcome::NewArticle => FetchOutcome::NewArticle,
                    Outcome::NewRevision => FetchOutcome::NewRevision,
                    Outcome::Unchanged => FetchOutcome::Unchanged,
                    Outcome::NotModified => FetchOutcome::NotModified,
                    Outcome::AlreadyArchived => FetchOutcome::AlreadyArchived,
                };
                if matches!(
                    outcome,
                    FetchOutcome::NewArticle | FetchOutcome::NewRevision
                ) {
                    state.last_change = Some(now);
                }
                state.article = ArticleKey::new(stored.article.clone()).ok();
                if let Some(article) = &state.article {
                    Self::remember_final_url(commit, url, &report, article, now)?;
                }
                state.etag = etag;
                state.last_modified = last_modified;
                state.failures = 0;
                state.gone = false;
                Ok(FetchReport {
                    outcome,
                    article: Some(stored.article),
                    revision: Some(stored.added.revision.to_string()),
                    reappeared: stored.added.reappeared,
                    ..report
                })
            }
            Err(err) => {
                let status = report.status;
                let failed = Self::record_failure(
                    commit,
                    url,
                    now,
                    status,
                    format!("the page was not archived: {err}"),
                    None,
                    state,
                )?;
                Ok(FetchReport {
                    final_url: report.final_url,
                    ..failed
                })
            }
        }
    }

    /// After a redirect, keeps the URL that answered as one more name of
    /// the article (never scheduled: the URL asked for is), so that both
    /// find it.
    fn remember_final_url(
        commit: &mut Commit<'_>,
        url: &str,
        report: &FetchReport,
        article: &ArticleKey,
        now: Millis,
    ) -> Result<(), ArchiveError> {
        let Some(final_url) = report
            .final_url
            .as_deref()
            .filter(|final_url| *final_url != url)
        else {
            return Ok(());
        };
        if commit.url_state(final_url)?.is_none() {
            let mut alias = UrlRecord::new(final_url, None, now);
            alias.article = Some(article.clone());
            alias.next_check = None;
            commit.put_url_state(&alias)?;
        }
        Ok(())
    }

    fn record_failure(
        commit: &mut Commit<'_>,
        url: &str,
        now: Millis,
        status: Option<u16>,
        error: String,
        retry_after: Option<Duration>,
        state: &mut UrlRecord,
    ) -> Result<FetchReport, ArchiveError> {
        commit.add_failed_attempt(&AttemptRecord {
            url: url.to_owned(),
            at: now,
            status,
            error: error.clone(),
        })?;
        state.failures = state.failures.saturating_add(1);
        let mut report = FetchReport::new(url, FetchOutcome::Failed);
        report.article = state.article.as_ref().map(ToString::to_string);
        report.status = status;
        report.error = Some(error);
        report.retry_after = retry_after;
        Ok(report)
    }

    /// The stored article a URL names by the key rules, if any.
    fn article_of_url(&self, url: &str) -> Result<Option<ArticleKey>, ArchiveError> {
        let Ok(key) = self.rules().key_for(url) else {
            return Ok(None);
        };
        Ok(self.store.article(&key)?.map(|_| key))
    }

    /// Fetches `options.urls` in order and writes a line per URL (after it
    /// is durable) and, in human mode, a summary.
    pub async fn fetch(
        &self,
        fetcher: &Fetcher,
        options: &FetchOptions,
        recheck: &Recheck,
        out: &mut dyn Write,
        progress: &mut dyn Progress,
    ) -> Result<FetchSummary, ArchiveError> {
        // A typo is refused before anything is fetched or recorded.
        for url in &options.urls {
            check_url(url)?;
        }
        progress.start(options.urls.len() as u64);
        let mut summary = FetchSummary::default();
        for (done, url) in options.urls.iter().enumerate() {
            let report = self.fetch_url(fetcher, url, Millis::now(), recheck).await?;
            summary.add(&report);
            report.write(options.json, out)?;
            progress.set(done as u64 + 1);
        }
        progress.finish();
        if !options.json {
            summary.write(out)?;
        }
        Ok(summary)
    }
}

/// Refuses what is not an absolute http(s) URL.
pub fn check_url(url: &str) -> Result<(), FetchError> {
    match url::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(()),
        _ => Err(FetchError::BadUrl { url: url.into() }),
    }
}
