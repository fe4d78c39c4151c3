//! The `newsarc.v1.Archive` service over the archive facade. Store work is
//! blocking (sled, parsing, diffing), so every call runs it on tokio's
//! blocking pool.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use newsarc::Archive;
use newsarc::refs::RevisionRef;
use newsarc::timeline::TimelineEntry;
use newsarc_diff::render::{write_html, write_unified};
use newsarc_model::record::RevisionRecord;
use newsarc_model::{Digest, Millis, RevisionId};
use newsarc_parse::DocumentHint;
use newsarc_store::{LogEntry, Outcome};
use tokio::sync::{broadcast, mpsc, watch};
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::history_cache::{History, HistoryCache};
use crate::status::{RequestError, archive_status, document_status, store_status};
use crate::{convert, page, pb};

/// Page size when a request names none, and the largest it may name.
pub const DEFAULT_PAGE: usize = 100;
/// The largest page a request may ask for.
pub const MAX_PAGE: usize = 1000;
/// `GetBlob` chunk size when the request names none.
pub const DEFAULT_CHUNK: usize = 64 * 1024;
/// How many log entries `Watch` reads from the store at a time.
const WATCH_BATCH: usize = 256;
/// A verify reports progress every this many pack bytes.
const VERIFY_PROGRESS_BYTES: u64 = 4 * 1024 * 1024;

/// Settings that shape what the service accepts.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Refuse `Ingest`.
    pub read_only: bool,
    /// The bearer token `Ingest` must carry, when set.
    pub token: Option<String>,
    /// The largest document `Ingest` takes.
    pub max_message_bytes: usize,
    /// How long a shutdown waits for calls still running (a client that
    /// never reads its stream would otherwise hold it forever).
    pub drain_grace: std::time::Duration,
}

/// The service. Clones share the archive and the change feed.
#[derive(Clone)]
pub struct ArchiveService {
    archive: Arc<Archive>,
    histories: Arc<HistoryCache>,
    settings: Arc<Settings>,
    changes: broadcast::Sender<()>,
    shutdown: watch::Receiver<bool>,
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

async fn blocking<T: Send + 'static>(
    job: impl FnOnce() -> Result<T, Status> + Send + 'static,
) -> Result<T, Status> {
    tokio::task::spawn_blocking(job)
        .await
        .map_err(|err| Status::internal(format!("a worker failed: {err}")))?
}

/// Runs a short read on the calling task: an article's history is a few
/// cached reads, cheaper than a hop to the blocking pool and back.
fn quick<T>(job: impl FnOnce() -> Result<T, Status>) -> Result<T, Status> {
    job()
}

fn time_field(
    field: &'static str,
    time: Option<&prost_types::Timestamp>,
) -> Result<Option<Millis>, Status> {
    time.map(|t| convert::millis(field, t))
        .transpose()
        .map_err(Status::from)
}

/// Finds the revision a `RevisionRef` names, through the facade's one
/// parser of references.
fn resolve(
    archive: &Archive,
    field: &'static str,
    reference: Option<&pb::RevisionRef>,
) -> Result<(RevisionId, RevisionRecord), Status> {
    use pb::revision_ref::Target;
    let target = reference
        .and_then(|r| r.target.as_ref())
        .ok_or_else(|| RequestError::invalid(field, "no revision named"))?;
    let reference = match target {
        Target::Id(spec) => RevisionRef::parse(spec).map_err(archive_status)?,
        Target::ArticleSeq(at) if at.seq == 0 => RevisionRef::Latest(at.article.clone()),
        Target::ArticleSeq(at) => RevisionRef::Seq(at.article.clone(), at.seq),
        Target::AsOf(at) => {
            let time = time_field(field, at.time.as_ref())?
                .ok_or_else(|| RequestError::invalid(field, "as_of needs a time"))?;
            RevisionRef::AsOf(at.article.clone(), time)
        }
    };
    archive.resolve(&reference).map_err(archive_status)
}

/// A revision as the protocol sends it, with its change in the timeline.
fn revision_message(
    archive: &Archive,
    id: RevisionId,
    record: RevisionRecord,
) -> Result<pb::Revision, Status> {
    let revision = archive
        .timeline_revision(id, record)
        .map_err(archive_status)?;
    Ok(convert::timeline_revision(&revision))
}

impl ArchiveService {
    /// A service over `archive`; `shutdown` turning true ends live streams.
    pub fn new(archive: Arc<Archive>, settings: Settings, shutdown: watch::Receiver<bool>) -> Self {
        let (changes, _) = broadcast::channel(64);
        Self {
            archive,
            histories: Arc::default(),
            settings: Arc::new(settings),
            changes,
            shutdown,
        }
    }

    fn check_write_access<T>(&self, request: &Request<T>) -> Result<(), Status> {
        if self.settings.read_only {
            return Err(RequestError::ReadOnly.into());
        }
        if let Some(token) = &self.settings.token {
            let header = request
                .metadata()
                .get("authorization")
                .ok_or(RequestError::Unauthenticated)?;
            let given = header
                .to_str()
                .ok()
                .and_then(|value| value.strip_prefix("Bearer "))
                .ok_or(RequestError::Unauthenticated)?;
            if given != token {
                return Err(RequestError::PermissionDenied.into());
            }
        }
        Ok(())
    }

    fn check_ingest(&self, request: &Request<pb::IngestRequest>) -> Result<(), Status> {
        self.check_write_access(request)?;
        let size = request.get_ref().document.len();
        if size > self.settings.max_message_bytes {
            return Err(RequestError::TooLarge {
                size,
                limit: self.settings.max_message_bytes,
            }
            .into());
        }
        Ok(())
    }
}

#[tonic::async_trait]
impl pb::archive_server::Archive for ArchiveService {
    async fn ingest(
        &self,
        request: Request<pb::IngestRequest>,
    ) -> Result<Response<pb::IngestResponse>, Status> {
        self.check_ingest(&request)?;
        let request = request.into_inner();
        let fetched_at =
            time_field("fetched_at", request.fetched_at.as_ref())?.unwrap_or_else(Millis::now);
        newsarc::ingest::check_fetch_time(fetched_at)
            .map_err(|err| RequestError::invalid("fetched_at", err.to_string()))?;
        let archive = Arc::clone(&self.archive);
        let histories = Arc::clone(&self.histories);
        let response = blocking(move || {
            let source = [&request.source_name, &request.source_url]
                .into_iter()
                .find(|s| !s.is_empty())
                .map_or("grpc", String::as_str)
                .to_owned();
            let hint = DocumentHint {
                url: (!request.source_url.is_empty()).then(|| request.source_url.clone()),
                ..DocumentHint::default()
            };
            let stored = archive
                .ingest_document(&request.document, &source, fetched_at, &hint, None)
                .map_err(archive_status)?
                .map_err(|err| document_status(&err))?;
            histories.invalidate();
            // Acknowledged only once durable.
            archive.store().flush().map_err(|err| store_status(&err))?;
            Ok(pb::IngestResponse {
                article_key: stored.article,
                revision_id: Some(convert::revision_id(&stored.added.revision)),
                outcome: match stored.added.outcome {
                    Outcome::NewArticle => pb::IngestOutcome::NewArticle,
                    Outcome::NewRevision => pb::IngestOutcome::NewRevision,
                    Outcome::Unchanged | Outcome::NotModified => pb::IngestOutcome::Unchanged,
                    Outcome::AlreadyArchived => pb::IngestOutcome::AlreadyArchived,
                } as i32,
                blob_digest: Some(convert::digest(&stored.added.blob)),
                seq: stored.added.seq,
            })
        })
        .await?;
        if matches!(
            pb::IngestOutcome::try_from(response.outcome),
            Ok(pb::IngestOutcome::NewArticle | pb::IngestOutcome::NewRevision)
        ) {
            // Nobody listening is fine.
            let _ = self.changes.send(());
        }
        Ok(Response::new(response))
    }

    async fn get_revision(
        &self,
        request: Request<pb::GetRevisionRequest>,
    ) -> Result<Response<pb::Revision>, Status> {
        let archive = Arc::clone(&self.archive);
        let request = request.into_inner();
        blocking(move || {
            let (id, record) = resolve(&archive, "revision", request.revision.as_ref())?;
            let blob = record.blob;
            let mut revision = revision_message(&archive, id, record)?;
            if request.include_text || request.include_raw {
                let bytes = archive
                    .store()
                    .blob(&blob)
                    .map_err(|err| store_status(&err))?;
                if request.include_text {
                    revision.text = archive
                        .article_of(&id)
                        .map_err(archive_status)?
                        .normalised_text();
                }
                if request.include_raw {
                    revision.raw = bytes;
                }
            }
            Ok(Response::new(revision))
        })
        .await
    }

    async fn get_closest(
        &self,
        request: Request<pb::GetClosestRequest>,
    ) -> Result<Response<pb::GetClosestResponse>, Status> {
        let archive = Arc::clone(&self.archive);
        let request = request.into_inner();
        quick(move || {
            let time = time_field("time", request.time.as_ref())?
                .ok_or_else(|| RequestError::invalid("time", "a time is required"))?;
            let closest = archive
                .closest(&request.article, time)
                .map_err(archive_status)?;
            Ok(Response::new(pb::GetClosestResponse {
                current: Some(convert::timeline_revision(&closest.current)),
                first: Some(convert::link(&closest.first)),
                prev: closest.prev.as_ref().map(convert::link),
                next: closest.next.as_ref().map(convert::link),
                last: Some(convert::link(&closest.last)),
            }))
        })
    }

    async fn list_history(
        &self,
        request: Request<pb::ListHistoryRequest>,
    ) -> Result<Response<pb::ListHistoryResponse>, Status> {
        let archive = Arc::clone(&self.archive);
        let histories = Arc::clone(&self.histories);
        let request = request.into_inner();
        quick(move || {
            let from = time_field("from", request.from.as_ref())?;
            let to = time_field("to", request.to.as_ref())?;
            if let (Some(from), Some(to)) = (from, to)
                && from > to
            {
                return Err(
                    RequestError::invalid("from", "the time range ends before it starts").into(),
                );
            }
            let limit = page_limit(request.limit);
            let full = match pb::RevisionView::try_from(request.view) {
                Ok(pb::RevisionView::Full) => true,
                Ok(pb::RevisionView::Basic | pb::RevisionView::Unspecified) => false,
                Err(_) => {
                    return Err(RequestError::invalid(
                        "view",
                        format!("{} is not a view (1 BASIC, 2 FULL)", request.view),
                    )
                    .into());
                }
            };
            let history = match histories.get(&request.article) {
                Some(history) => history,
                None => {
                    let generation = histories.generation();
                    let article = archive
                        .resolve_article(&request.article)
                        .map_err(archive_status)?;
                    let timeline = archive.timeline(article, false).map_err(archive_status)?;
                    let entries = timeline
                        .entries
                        .iter()
                        .filter_map(|entry| {
                            let message = match entry {
                                TimelineEntry::Revision(revision) => {
                                    pb::history_entry::Entry::Revision(convert::timeline_revision(
                                        revision,
                                    ))
                                }
                                TimelineEntry::Event(id, event) => {
                                    pb::history_entry::Entry::Event(convert::event(id, event))
                                }
                                TimelineEntry::Observation(_) => return None,
                            };
                            Some((
                                entry.at(),
                                history_rank(entry),
                                pb::HistoryEntry {
                                    entry: Some(message),
                                },
                            ))
                        })
                        .collect();
                    let history = Arc::new(History {
                        key: timeline.article.key,
                        entries,
                    });
                    histories.insert(&request.article, generation, Arc::clone(&history));
                    history
                }
            };
            let filter = format!(
                "history|{}|{from:?}|{to:?}|{}",
                history.key, request.include_observations
            );
            let offset = parse_offset(page::position(&filter, &request.page_token)?)?;

            let store = archive.store();
            let in_range = |t: Millis| from.is_none_or(|f| t >= f) && to.is_none_or(|e| t <= e);
            let mut entries: Vec<(Millis, u8, pb::HistoryEntry)> = history
                .entries
                .iter()
                .filter(|(time, _, _)| in_range(*time))
                .map(|(time, kind, entry)| {
                    let entry = match &entry.entry {
                        Some(pb::history_entry::Entry::Revision(revision)) if !full => {
                            pb::HistoryEntry {
                                entry: Some(pb::history_entry::Entry::Revision(
                                    convert::basic_revision(revision),
                                )),
                            }
                        }
                        _ => entry.clone(),
                    };
                    (*time, *kind, entry)
                })
                .collect();
            if request.include_observations {
                for observation in store
                    .observations(&history.key)
                    .map_err(|err| store_status(&err))?
                {
                    if in_range(observation.fetched_at) {
                        entries.push((
                            observation.fetched_at,
                            history_rank(&TimelineEntry::Observation(observation.clone())),
                            pb::HistoryEntry {
                                entry: Some(pb::history_entry::Entry::Observation(
                                    convert::observation(&observation),
                                )),
                            },
                        ));
                    }
                }
            }
            // Stable: the timeline's order at equal times, observations
            // after the revisions they saw.
            entries.sort_by_key(|(time, rank, _)| (*time, *rank));
            let total = entries.len();
            let page: Vec<pb::HistoryEntry> = entries
                .into_iter()
                .skip(offset)
                .take(limit)
                .map(|(_, _, entry)| entry)
                .collect();
            let end = offset + page.len();
            Ok(Response::new(pb::ListHistoryResponse {
                entries: page,
                next_page_token: if end < total {
                    page::token(&filter, &end.to_string())
                } else {
                    String::new()
                },
            }))
        })
    }

    async fn list_articles(
        &self,
        request: Request<pb::ListArticlesRequest>,
    ) -> Result<Response<pb::ListArticlesResponse>, Status> {
        let archive = Arc::clone(&self.archive);
        let request = request.into_inner();
        blocking(move || {
            let since = time_field("changed_since", request.changed_since.as_ref())?;
            let limit = page_limit(request.limit);
            let prefix = url_prefix(&request.prefix);
            let filter = format!("articles|{prefix}|{since:?}");
            let after = page::position(&filter, &request.page_token)?;
            let mut articles = Vec::new();
            let mut more = false;
            for article in archive.store().articles_after(after.as_deref()) {
                let article = article.map_err(|err| store_status(&err))?;
                let key = article.key.as_str();
                let url = url_prefix(&article.url);
                if !(key.starts_with(&prefix) || url.starts_with(&prefix)) {
                    continue;
                }
                if since.is_some_and(|since| article.last_seen < since) {
                    continue;
                }
                if articles.len() == limit {
                    more = true;
                    break;
                }
                articles.push(convert::article(&article));
            }
            let next_page_token = match (more, articles.last()) {
                (true, Some(last)) => page::token(&filter, &last.key),
                _ => String::new(),
            };
            Ok(Response::new(pb::ListArticlesResponse {
                articles,
                next_page_token,
            }))
        })
        .await
    }

    async fn diff(
        &self,
        request: Request<pb::DiffRequest>,
    ) -> Result<Response<pb::DiffResponse>, Status> {
        let archive = Arc::clone(&self.archive);
        let request = request.into_inner();
        blocking(move || {
            let (from, from_record) = resolve(&archive, "from", request.from.as_ref())?;
            let (from, to) = match request.to.as_ref() {
                Some(to) => (from, resolve(&archive, "to", Some(to))?.0),
                None => archive
                    .with_previous(from, &from_record)
                    .map_err(archive_status)?,
            };
            let diff = archive
                .diff_revisions(&from, &to, request.raw)
                .map_err(archive_status)?;
            let mut rendered = Vec::new();
            let written = match pb::DiffRendering::try_from(request.format) {
                Ok(pb::DiffRendering::Unified) => write_unified(&diff, &mut rendered),
                Ok(pb::DiffRendering::Html) => write_html(&diff, &mut rendered),
                Ok(pb::DiffRendering::Unspecified) => Ok(()),
                Err(_) => return Err(RequestError::invalid("format", "unknown rendering").into()),
            };
            written.map_err(|err| Status::internal(format!("rendering failed: {err}")))?;
            let rendered = String::from_utf8(rendered)
                .map_err(|err| Status::internal(format!("rendering is not UTF-8: {err}")))?;
            Ok(Response::new(convert::diff(diff, rendered)?))
        })
        .await
    }

    type GetBlobStream = BoxStream<pb::BlobChunk>;

    async fn get_blob(
        &self,
        request: Request<pb::GetBlobRequest>,
    ) -> Result<Response<Self::GetBlobStream>, Status> {
        let archive = Arc::clone(&self.archive);
        let request = request.into_inner();
        let chunks = blocking(move || {
            let digest: Digest =
                request
                    .digest
                    .parse()
                    .map_err(|err: newsarc_model::IdError| {
                        RequestError::invalid("digest", err.to_string())
                    })?;
            let store = archive.store();
            let present = store.has_blob(&digest).map_err(|err| store_status(&err))?;
            if !present {
                return Err(Status::not_found(format!("no blob {digest} in the store")));
            }
            let bytes = store.blob(&digest).map_err(|err| store_status(&err))?;
            let size = match request.chunk_size {
                0 => DEFAULT_CHUNK,
                n => (n as usize).min(crate::MAX_CHUNK),
            };
            let total = bytes.len() as u64;
            let mut chunks: Vec<Result<pb::BlobChunk, Status>> = bytes
                .chunks(size)
                .enumerate()
                .map(|(i, data)| {
                    Ok(pb::BlobChunk {
                        data: data.to_vec(),
                        offset: (i * size) as u64,
                        total_size: total,
                    })
                })
                .collect();
            if chunks.is_empty() {
                chunks.push(Ok(pb::BlobChunk {
                    data: Vec::new(),
                    offset: 0,
                    total_size: 0,
                }));
            }
            Ok(chunks)
        })
        .await?;
        Ok(Response::new(Box::pin(tokio_stream::iter(chunks))))
    }

    type WatchStream = BoxStream<pb::RevisionEvent>;

    async fn watch(
        &self,
        request: Request<pb::WatchRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        // Subscribe before reading the log, so nothing committed in between
        // is missed.
        let mut changes = self.changes.subscribe();
        let mut shutdown = self.shutdown.clone();
        let archive = Arc::clone(&self.archive);
        let (sender, receiver) = mpsc::channel(64);
        let mut next = request.into_inner().since_seq.saturating_add(1);
        tokio::spawn(async move {
            loop {
                let reader = Arc::clone(&archive);
                let batch = blocking(move || {
                    let store = reader.store();
                    let entries = store
                        .log_from(next, WATCH_BATCH)
                        .map_err(|err| store_status(&err))?;
                    entries
                        .into_iter()
                        .map(|(seq, entry)| {
                            Ok(match entry {
                                LogEntry::Revision(id) => {
                                    let record =
                                        store.revision(&id).map_err(|err| store_status(&err))?;
                                    pb::RevisionEvent {
                                        seq,
                                        revision: Some(revision_message(&reader, id, record)?),
                                        event: None,
                                    }
                                }
                                LogEntry::Event(id) => {
                                    let record =
                                        store.event(&id).map_err(|err| store_status(&err))?;
                                    pb::RevisionEvent {
                                        seq,
                                        revision: None,
                                        event: Some(convert::event(&id, &record)),
                                    }
                                }
                            })
                        })
                        .collect::<Result<Vec<_>, Status>>()
                })
                .await;
                let events = match batch {
                    Ok(events) => events,
                    Err(status) => {
                        let _ = sender.send(Err(status)).await;
                        return;
                    }
                };
                let full = events.len() == WATCH_BATCH;
                for event in events {
                    next = event.seq + 1;
                    if sender.send(Ok(event)).await.is_err() {
                        return; // the client went away
                    }
                }
                if full {
                    continue;
                }
                tokio::select! {
                    change = changes.recv() => {
                        if let Err(broadcast::error::RecvError::Closed) = change {
                            return;
                        }
                    }
                    _ = shutdown.changed() => return,
                    _ = sender.closed() => return,
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(receiver))))
    }

    type VerifyStream = BoxStream<pb::VerifyEvent>;

    async fn verify(
        &self,
        request: Request<pb::VerifyRequest>,
    ) -> Result<Response<Self::VerifyStream>, Status> {
        use pb::verify_event::Event;
        let deep = request.into_inner().deep;
        let archive = Arc::clone(&self.archive);
        let (sender, receiver) = mpsc::channel(64);
        let shutdown = self.shutdown.clone();
        tokio::task::spawn_blocking(move || {
            let total = archive.store().pack_bytes().unwrap_or(0);
            let stop = AtomicBool::new(false);
            let progress_sender = sender.clone();
            let finding_sender = sender.clone();
            let mut last_sent = 0;
            let report = archive.check(
                deep,
                &stop,
                &mut |finding| {
                    let event = Event::Finding(pb::Finding {
                        kind: finding.kind.as_str().to_owned(),
                        id: finding.id,
                        expected: finding.expected,
                        actual: finding.actual,
                        detail: finding.detail,
                    });
                    // A client that went away stops the walk.
                    if finding_sender
                        .blocking_send(Ok(pb::VerifyEvent { event: Some(event) }))
                        .is_err()
                    {
                        stop.store(true, Ordering::Relaxed);
                    }
                },
                &mut |done| {
                    if *shutdown.borrow() || progress_sender.is_closed() {
                        stop.store(true, Ordering::Relaxed);
                    }
                    if done == total || done >= last_sent + VERIFY_PROGRESS_BYTES {
                        last_sent = done;
                        #[allow(deprecated)]
                        let progress = pb::VerifyProgress {
                            revisions_checked: 0,
                            revisions_total: 0,
                            bytes_checked: done,
                            bytes_total: total,
                        };
                        let _ = progress_sender.blocking_send(Ok(pb::VerifyEvent {
                            event: Some(Event::Progress(progress)),
                        }));
                    }
                },
            );
            let report = match report {
                Ok(report) => report,
                Err(err) => {
                    let _ = sender.blocking_send(Err(archive_status(err)));
                    return;
                }
            };
            let _ = sender.blocking_send(Ok(pb::VerifyEvent {
                event: Some(Event::Summary(pb::VerifySummary {
                    ok: report.ok(),
                    objects: report.objects,
                    bytes: report.bytes,
                    findings: u32::try_from(report.findings).unwrap_or(u32::MAX),
                    stopped_at: report.stopped_at,
                })),
            }));
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(receiver))))
    }

    async fn unwatch(
        &self,
        request: Request<pb::UnwatchRequest>,
    ) -> Result<Response<pb::UnwatchResponse>, Status> {
        self.check_write_access(&request)?;
        let archive = Arc::clone(&self.archive);
        let urls = request.into_inner().urls;
        blocking(move || {
            let results = archive
                .unwatch(&urls, false, &mut std::io::sink())
                .map_err(archive_status)?;
            Ok(Response::new(pb::UnwatchResponse {
                results: results
                    .into_iter()
                    .map(|result| pb::Unwatched {
                        given: result.given,
                        urls: result.urls,
                        error: result.error.unwrap_or_default(),
                    })
                    .collect(),
            }))
        })
        .await
    }

    async fn stats(
        &self,
        _request: Request<pb::StatsRequest>,
    ) -> Result<Response<pb::StatsResponse>, Status> {
        let archive = Arc::clone(&self.archive);
        blocking(move || {
            let stats = archive.stats().map_err(archive_status)?;
            Ok(Response::new(pb::StatsResponse {
                articles: stats.articles,
                revisions: stats.revisions,
                observations: stats.observations,
                raw_bytes: stats.raw_bytes,
                stored_bytes: stats.stored_bytes,
                events: stats.events,
                failed_attempts: stats.failed_attempts,
            }))
        })
        .await
    }
}

/// Order among history entries of one moment, as the facade's timeline
/// has them: an event, revisions, then observations.
fn history_rank(entry: &TimelineEntry) -> u8 {
    match entry {
        TimelineEntry::Event(..) => 0,
        TimelineEntry::Revision(_) => 1,
        TimelineEntry::Observation(_) => 2,
    }
}

fn page_limit(limit: u32) -> usize {
    match limit as usize {
        0 => DEFAULT_PAGE,
        n => n.min(MAX_PAGE),
    }
}

fn parse_offset(position: Option<String>) -> Result<usize, Status> {
    position
        .map(|p| p.parse::<usize>())
        .transpose()
        .map(Option::unwrap_or_default)
        .map_err(|_| RequestError::invalid("page_token", "not a token this server issued").into())
}

/// A host or URL prefix in the form keys and canonical URLs compare in:
/// no scheme, no `www.`, lower-case host.
fn url_prefix(text: &str) -> String {
    let rest = text
        .trim()
        .split_once("://")
        .map_or(text.trim(), |(_, rest)| rest);
    let rest = rest.strip_prefix("www.").unwrap_or(rest);
    match rest.split_once('/') {
        Some((host, path)) => format!("{}/{path}", host.to_lowercase()),
        None => rest.to_lowercase(),
    }
}
