//! `newsarc watch`: poll feeds for new article URLs and recheck every known
//! URL on its schedule, politely. The schedule lives in the store, so a
//! restarted watch goes on where it stopped.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use newsarc_fetch::polite::{HostGate, for_each_polite};
use newsarc_fetch::{Answer, Clock, Fetcher, Validators, WatchConfig, feed};
use newsarc_model::Millis;
use newsarc_model::record::UrlRecord;
use serde::Serialize;

use crate::fetch::{FetchReport, FetchSummary, Recheck, check_url};
use crate::{Archive, ArchiveError, Progress, json};

/// What `watch` does.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// The file listing feed URLs, one per line (`#` starts a comment).
    pub feeds: PathBuf,
    /// Rounds to run; `None`: until stopped. `--once` is `Some(1)`.
    pub rounds: Option<u64>,
    /// Schedule, politeness and HTTP limits.
    pub config: WatchConfig,
    /// JSON Lines instead of human lines.
    pub json: bool,
}

/// What one round did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RoundSummary {
    /// The round's number, from 1.
    pub round: u64,
    /// Feeds polled.
    pub feeds: u64,
    /// Feeds that could not be fetched or read.
    pub feed_errors: u64,
    /// URLs the feeds listed that the archive did not know.
    pub discovered: u64,
    /// The fetches made.
    pub fetches: FetchSummary,
    /// When the next URL is due, if any is.
    pub next_check: Option<String>,
}

/// One feed poll's JSON line.
#[derive(Debug, Serialize)]
struct FeedLine<'a> {
    feed: &'a str,
    discovered: usize,
    error: Option<String>,
}

/// Reads a feeds file: one http(s) URL per line; blank lines and lines
/// starting with `#` are skipped.
pub fn read_feeds(path: &Path) -> Result<Vec<String>, ArchiveError> {
    let text = std::fs::read_to_string(path).map_err(|source| ArchiveError::ReadFeeds {
        path: path.to_owned(),
        source,
    })?;
    let mut feeds = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if check_url(line).is_err() {
            return Err(ArchiveError::BadFeedLine {
                path: path.to_owned(),
                line: index + 1,
                text: line.to_owned(),
            });
        }
        feeds.push(line.to_owned());
    }
    Ok(feeds)
}

/// Where a round's results go as they come in.
struct RoundSink<'a> {
    fetches: FetchSummary,
    /// The first error that stops the round (the store failing).
    failure: Option<ArchiveError>,
    out: &'a mut dyn Write,
    progress: &'a mut dyn Progress,
}

impl RoundSink<'_> {
    /// Counts and writes one result; returns the wait its server asked for.
    fn take(
        &mut self,
        report: Result<FetchReport, ArchiveError>,
        json_output: bool,
    ) -> Option<std::time::Duration> {
        let report = match report {
            Ok(report) => report,
            Err(err) => {
                self.failure.get_or_insert(err);
                return None;
            }
        };
        self.fetches.add(&report);
        if let Err(err) = report.write(json_output, &mut *self.out) {
            self.failure.get_or_insert(err.into());
        }
        self.progress.set(self.fetches.urls);
        report.retry_after
    }
}

/// A feed's validators and next poll, kept for the life of the process.
#[derive(Debug, Default)]
struct FeedState {
    validators: Validators,
    next_poll: Option<Millis>,
}

impl Archive {
    /// Runs `options.rounds` rounds (or forever): each polls the feeds that
    /// are due, schedules the article URLs they list, and fetches every URL
    /// whose next check has come, one request at a time per host. Each URL's
    /// result is written after it is durable.
    pub async fn watch<C: Clock>(
        &self,
        fetcher: &Fetcher,
        clock: &C,
        options: &WatchOptions,
        out: &mut dyn Write,
        progress: &mut dyn Progress,
    ) -> Result<Vec<RoundSummary>, ArchiveError> {
        let feeds = read_feeds(&options.feeds)?;
        let config = &options.config;
        let recheck = Recheck {
            policy: config.recheck.clone(),
            backoff: config.backoff,
        };
        let gate = HostGate::new(config.min_host_delay);
        let mut feed_states: HashMap<String, FeedState> = HashMap::new();
        let mut rounds = Vec::new();
        for round in 1.. {
            let summary = self
                .watch_round(
                    fetcher,
                    clock,
                    &gate,
                    (&feeds, &mut feed_states),
                    &recheck,
                    options,
                    round,
                    out,
                    progress,
                )
                .await?;
            let next_feed = feed_states
                .values()
                .filter_map(|state| state.next_poll)
                .min();
            let next_url = self.next_due()?;
            rounds.push(summary);
            if options.rounds.is_some_and(|limit| round >= limit) {
                break;
            }
            let wake = [next_feed, next_url].into_iter().flatten().min();
            match wake {
                Some(at) => clock.sleep_until(at).await,
                // Nothing will ever be due: no feeds and no URL to recheck.
                None => break,
            }
        }
        Ok(rounds)
    }

    #[allow(clippy::too_many_arguments)]
    async fn watch_round<C: Clock>(
        &self,
        fetcher: &Fetcher,
        clock: &C,
        gate: &HostGate,
        (feeds, feed_states): (&[String], &mut HashMap<String, FeedState>),
        recheck: &Recheck,
        options: &WatchOptions,
        round: u64,
        out: &mut dyn Write,
        progress: &mut dyn Progress,
    ) -> Result<RoundSummary, ArchiveError> {
        let config = &options.config;
        let mut summary = RoundSummary {
            round,
            ..RoundSummary::default()
        };

        // Feeds first, so that what they list is fetched in this round.
        let now = clock.now();
        let due_feeds: Vec<(String, Validators)> = feeds
            .iter()
            .filter(|feed| {
                feed_states
                    .get(*feed)
                    .and_then(|state| state.next_poll)
                    .is_none_or(|at| at <= now)
            })
            .map(|feed| {
                let validators = feed_states
                    .get(feed)
                    .map(|state| state.validators.clone())
                    .unwrap_or_default();
                (feed.clone(), validators)
            })
            .collect();
        let polled = Mutex::new(Vec::new());
        for_each_polite(
            clock,
            gate,
            due_feeds,
            config.max_concurrency,
            |feed, validators| {
                let polled = &polled;
                async move {
                    let answer = fetcher.fetch(&feed, &validators).await;
                    let retry_after = answer.as_ref().err().and_then(|err| err.retry_after());
                    polled
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push((feed, answer));
                    retry_after
                }
            },
        )
        .await;
        let polled = polled
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = clock.now();
        for (feed, answer) in polled {
            summary.feeds += 1;
            let state = feed_states.entry(feed.clone()).or_default();
            state.next_poll = Some(newsarc_fetch::schedule::after(now, config.feed_interval));
            let listed = match answer {
                Ok(Answer::Page { facts, body }) => {
                    state.validators = Validators {
                        etag: facts.etag,
                        last_modified: facts.last_modified,
                    };
                    feed::article_urls(&body, &feed).map_err(|err| err.to_string())
                }
                Ok(Answer::NotModified { .. }) => Ok(Vec::new()),
                Ok(Answer::Gone { facts }) => {
                    Err(format!("{feed}: the server answered {}", facts.status))
                }
                Err(err) => Err(err.to_string()),
            };
            let line = match listed {
                Ok(urls) => {
                    let discovered = self.schedule_new(&urls, &feed, now)?;
                    summary.discovered += discovered as u64;
                    FeedLine {
                        feed: &feed,
                        discovered,
                        error: None,
                    }
                }
                Err(error) => {
                    summary.feed_errors += 1;
                    tracing::warn!(feed, error, "feed poll failed");
                    FeedLine {
                        feed: &feed,
                        discovered: 0,
                        error: Some(error),
                    }
                }
            };
            if options.json {
                json::write_line(out, &line)?;
            } else if let Some(error) = &line.error {
                writeln!(out, "feed {}  error: {error}", line.feed)?;
            } else {
                writeln!(out, "feed {}  {} new URLs", line.feed, line.discovered)?;
            }
        }

        // Then every URL whose time has come, oldest due first.
        let mut due: Vec<UrlRecord> = self
            .store
            .url_states()
            .filter(|state| {
                state
                    .as_ref()
                    .map_or(true, |s| s.next_check.is_some_and(|at| at <= now))
            })
            .collect::<Result<_, _>>()?;
        due.sort_by_key(|state| state.next_check);
        progress.start(due.len() as u64);
        let jobs = due.into_iter().map(|state| (state.url, ())).collect();
        // Each result is counted and written as soon as it is durable.
        let sink = Mutex::new(RoundSink {
            fetches: FetchSummary::default(),
            failure: None,
            out: &mut *out,
            progress: &mut *progress,
        });
        for_each_polite(clock, gate, jobs, config.max_concurrency, |url, ()| {
            let sink = &sink;
            async move {
                let report = self.fetch_url(fetcher, &url, clock.now(), recheck).await;
                sink.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .take(report, options.json)
            }
        })
        .await;
        let sink = sink
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        sink.progress.finish();
        if let Some(err) = sink.failure {
            return Err(err);
        }
        summary.fetches = sink.fetches;
        summary.next_check = self.next_due()?.map(|at| at.to_string());
        if options.json {
            json::write_line(out, &summary)?;
        } else {
            write!(out, "round {round}: ")?;
            summary.fetches.write(out)?;
        }
        tracing::info!(
            round,
            fetched = summary.fetches.urls,
            failed = summary.fetches.failed,
            discovered = summary.discovered,
            "round done"
        );
        Ok(summary)
    }

    /// Schedules, for a fetch now, every URL of `urls` the archive does not
    /// know yet; returns how many.
    fn schedule_new(
        &self,
        urls: &[String],
        feed: &str,
        now: Millis,
    ) -> Result<usize, ArchiveError> {
        let mut added = 0;
        let mut commit = self.store.begin()?;
        for url in urls {
            if commit.url_state(url)?.is_none() {
                commit.put_url_state(&UrlRecord::new(url, Some(feed), now))?;
                added += 1;
            }
        }
        commit.finish()?;
        Ok(added)
    }

    /// The earliest next check of any URL.
    fn next_due(&self) -> Result<Option<Millis>, ArchiveError> {
        let mut next = None;
        for state in self.store.url_states() {
            if let Some(at) = state?.next_check {
                next = Some(next.map_or(at, |n: Millis| n.min(at)));
            }
        }
        Ok(next)
    }
}

/// What `unwatch` did to one URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unwatched {
    /// The URL or article as given.
    pub given: String,
    /// The URLs taken off the schedule (an article may have several).
    pub urls: Vec<String>,
    /// Why nothing was taken off, when nothing was.
    pub error: Option<String>,
}

/// How a `watch` run went, for its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchVerdict {
    /// Every feed and fetch answered.
    Clean,
    /// Some feeds or fetches failed.
    SomeFailed,
    /// Something was due but nothing could be fetched at all.
    NothingFetched,
}

/// The verdict on the rounds a `watch` ran.
pub fn watch_verdict(rounds: &[RoundSummary]) -> WatchVerdict {
    let attempts: u64 = rounds.iter().map(|r| r.feeds + r.fetches.urls).sum();
    let failures: u64 = rounds
        .iter()
        .map(|r| r.feed_errors + r.fetches.failed)
        .sum();
    match failures {
        0 => WatchVerdict::Clean,
        _ if failures == attempts => WatchVerdict::NothingFetched,
        _ => WatchVerdict::SomeFailed,
    }
}

impl Archive {
    /// Takes URLs off the watch schedule: each is a URL the fetcher knows,
    /// or an article (a URL or key) whose every known URL goes. Their
    /// records and history stay; a later `fetch` of one puts it back.
    pub fn unwatch(
        &self,
        given: &[String],
        json_output: bool,
        out: &mut dyn Write,
    ) -> Result<Vec<Unwatched>, ArchiveError> {
        let mut results = Vec::new();
        let mut commit = self.store.begin()?;
        for spec in given {
            let mut states = Vec::new();
            if let Some(state) = self.store.url_state(spec)? {
                states.push(state);
            } else if let Ok(article) = self.resolve_article(spec) {
                for state in self.store.url_states() {
                    let state = state?;
                    if state.article.as_ref() == Some(&article.key) {
                        states.push(state);
                    }
                }
            }
            let mut urls = Vec::new();
            for mut state in states {
                if state.next_check.is_some() {
                    state.next_check = None;
                    commit.put_url_state(&state)?;
                }
                urls.push(state.url);
            }
            let error = urls.is_empty().then(|| {
                format!("no URL or article '{spec}' is known to the fetcher (`newsarc fetch` or `watch` adds URLs)")
            });
            results.push(Unwatched {
                given: spec.clone(),
                urls,
                error,
            });
        }
        commit.finish()?;
        write_unwatched(&results, json_output, out)?;
        Ok(results)
    }
}

/// Writes what `unwatch` did (local and remote).
pub fn write_unwatched(
    results: &[Unwatched],
    json_output: bool,
    out: &mut dyn Write,
) -> Result<(), ArchiveError> {
    for result in results {
        if json_output {
            json::write_line(out, result)?;
        } else if let Some(error) = &result.error {
            writeln!(out, "error: {error}")?;
        } else {
            for url in &result.urls {
                writeln!(out, "unwatched  {url}")?;
            }
        }
    }
    Ok(())
}
