//! The client side of `newsarc --remote URL …`: the same records the local
//! jobs read, fetched from a running server, so the facade's renderers print
//! the same output. (sled allows one process per store: this is how people
//! query a store that a server holds open.)

use newsarc::diff::DiffOptions;
use newsarc::history::{History, HistoryItem};
use newsarc::report::Stats;
use newsarc::show::{Content, ShowFormat, Shown};
use newsarc::timeline::TimelineEntry;
use newsarc_diff::{ArticleDiff, EditStats};
use newsarc_model::record::ArticleRecord;
use tonic::transport::Channel;

use crate::convert::{self, MalformedAnswer};
use crate::pb::{self, archive_client::ArchiveClient, revision_ref::Target};

/// Why a remote job failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteError {
    /// The address is not one a client can connect to.
    #[error(
        "'{url}' is not a server address: {reason} (e.g. http://127.0.0.1:50051 or 127.0.0.1:50051)"
    )]
    BadAddress {
        /// What was given.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The server could not be reached.
    #[error("cannot reach the newsarc server at {url}: {reason}")]
    Connect {
        /// The URL connected to.
        url: String,
        /// The transport's reason, in a few words.
        reason: String,
    },
    /// The server answered with an error (the status is the whole of the
    /// message: no cause follows it).
    #[error("the server says: {} ({:?})", .0.message(), .0.code())]
    Status(tonic::Status),
    /// The answer could not be read.
    #[error(transparent)]
    Malformed(#[from] MalformedAnswer),
}

impl From<tonic::Status> for RemoteError {
    fn from(status: tonic::Status) -> Self {
        Self::Status(status)
    }
}

/// A connection to a `newsarc serve`.
pub struct Remote {
    client: ArchiveClient<Channel>,
    url: String,
}

fn id_ref(spec: &str) -> Option<pb::RevisionRef> {
    Some(pb::RevisionRef {
        target: Some(Target::Id(spec.to_owned())),
    })
}

/// `host:port` as people type it, or a full `http://` URL.
pub fn server_url(given: &str) -> Result<String, RemoteError> {
    let given = given.trim();
    let url = if given.contains("://") {
        given.to_owned()
    } else {
        format!("http://{given}")
    };
    let bad = |reason: &str| RemoteError::BadAddress {
        url: given.to_owned(),
        reason: reason.to_owned(),
    };
    let parsed: tonic::codegen::http::Uri = url.parse().map_err(|_| bad("it is not a URL"))?;
    match parsed.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err(bad("the scheme must be http or https")),
    }
    if parsed.host().is_none_or(str::is_empty) {
        return Err(bad("it names no host"));
    }
    Ok(url)
}

/// A transport failure in a few plain words: the innermost cause says what
/// happened ("Connection refused"), the layers above it only that
/// something did.
fn transport_reason(err: &(dyn std::error::Error + 'static)) -> String {
    let mut innermost = err;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    let text = innermost.to_string();
    let lower = text.to_ascii_lowercase();
    if text.contains("frame") || text.contains("h2") || text.contains("HTTP/2") {
        "it does not speak gRPC (HTTP/2); is that the address `newsarc serve` printed?".into()
    } else if [
        "broken pipe",
        "connection closed",
        "connection reset",
        "connection was not ready",
    ]
    .iter()
    .any(|closed| lower.contains(closed))
    {
        // What a server that is not HTTP/2 does to an HTTP/2 client, unless
        // it answers first. hyper says "not ready" when the close comes
        // before the HTTP/2 handshake has finished.
        "it closed the connection without speaking gRPC (HTTP/2); is that the address `newsarc serve` printed?".into()
    } else {
        text
    }
}

impl Remote {
    /// Connects to `url` (`http://127.0.0.1:50051`, or `127.0.0.1:50051`).
    pub async fn connect(url: &str) -> Result<Self, RemoteError> {
        let url = server_url(url)?;
        let client =
            ArchiveClient::connect(url.clone())
                .await
                .map_err(|err| RemoteError::Connect {
                    url: url.clone(),
                    reason: transport_reason(&err),
                })?;
        Ok(Self {
            client: client.max_decoding_message_size(usize::MAX),
            url,
        })
    }

    /// A call's failure: a transport failure (the server went, or never
    /// spoke gRPC) reads as one plain line.
    fn failed(&self, status: tonic::Status) -> RemoteError {
        // A status the server sent carries no source; one the client made
        // up from a failed connection does.
        if let Some(source) = std::error::Error::source(&status) {
            return RemoteError::Connect {
                url: self.url.clone(),
                reason: transport_reason(source),
            };
        }
        // An HTTP/2 server that is not a gRPC one answers without a status.
        if status.message().contains("grpc-status header missing") {
            return RemoteError::Connect {
                url: self.url.clone(),
                reason: format!(
                    "it answered HTTP but is no gRPC server ({}); is that the address `newsarc serve` printed?",
                    status
                        .message()
                        .trim_start_matches("grpc-status header missing, ")
                ),
            };
        }
        RemoteError::Status(status)
    }

    /// An article's revisions and events in the server's timeline order.
    async fn all_entries(&mut self, article: &str) -> Result<Vec<TimelineEntry>, RemoteError> {
        let mut entries = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = self
                .client
                .list_history(pb::ListHistoryRequest {
                    article: article.to_owned(),
                    limit: crate::service::MAX_PAGE as u32,
                    page_token,
                    view: pb::RevisionView::Full.into(),
                    ..Default::default()
                })
                .await
                .map_err(|status| self.failed(status))?
                .into_inner();
            for entry in page.entries {
                match entry.entry {
                    Some(pb::history_entry::Entry::Revision(revision)) => {
                        entries.push(TimelineEntry::Revision(Box::new(
                            convert::timeline_revision_back(&revision)?,
                        )))
                    }
                    Some(pb::history_entry::Entry::Event(event)) => {
                        let (id, event) = convert::event_back(&event)?;
                        entries.push(TimelineEntry::Event(id, event));
                    }
                    _ => {}
                }
            }
            if page.next_page_token.is_empty() {
                return Ok(entries);
            }
            page_token = page.next_page_token;
        }
    }

    /// Every article, in key order.
    pub async fn articles(&mut self) -> Result<Vec<ArticleRecord>, RemoteError> {
        self.articles_with_prefix("").await
    }

    async fn articles_with_prefix(
        &mut self,
        prefix: &str,
    ) -> Result<Vec<ArticleRecord>, RemoteError> {
        let mut articles = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = self
                .client
                .list_articles(pb::ListArticlesRequest {
                    prefix: prefix.to_owned(),
                    limit: crate::service::MAX_PAGE as u32,
                    page_token,
                    ..Default::default()
                })
                .await
                .map_err(|status| self.failed(status))?
                .into_inner();
            for article in &page.articles {
                articles.push(convert::article_back(article)?);
            }
            if page.next_page_token.is_empty() {
                return Ok(articles);
            }
            page_token = page.next_page_token;
        }
    }

    /// An article's history, as `log` shows it.
    pub async fn history(&mut self, article: &str, stat: bool) -> Result<History, RemoteError> {
        let entries = self.all_entries(article).await?;
        let key = entries
            .iter()
            .find_map(|entry| match entry {
                TimelineEntry::Revision(revision) => Some(revision.record.article.to_string()),
                _ => None,
            })
            .ok_or_else(|| tonic::Status::not_found(format!("no article '{article}'")))?;
        let record = self
            .articles_with_prefix(&key)
            .await?
            .into_iter()
            .find(|a| a.key.as_str() == key)
            .ok_or_else(|| tonic::Status::not_found(format!("no article '{key}'")))?;
        let stats = if stat {
            let mut all = Vec::new();
            let mut previous: Option<String> = None;
            for entry in &entries {
                if let TimelineEntry::Revision(revision) = entry {
                    let id = revision.id.to_string();
                    all.push(match &previous {
                        Some(previous) => self.diff_ids(previous, Some(&id), false).await?.stats,
                        None => EditStats::default(),
                    });
                    previous = Some(id);
                }
            }
            Some(all)
        } else {
            None
        };
        Ok(History {
            article: record,
            entries: entries
                .iter()
                .filter_map(HistoryItem::of_timeline)
                .collect(),
            stats,
        })
    }

    /// A revision with what `format` needs.
    pub async fn shown(
        &mut self,
        revision: &str,
        format: ShowFormat,
    ) -> Result<Shown, RemoteError> {
        let raw = format == ShowFormat::Raw;
        let answer = self
            .client
            .get_revision(pb::GetRevisionRequest {
                revision: id_ref(revision),
                include_text: !raw,
                include_raw: raw,
            })
            .await
            .map_err(|status| self.failed(status))?
            .into_inner();
        let revision = convert::timeline_revision_back(&answer)?;
        Ok(Shown {
            id: revision.id,
            record: revision.record,
            change: revision.change,
            content: if raw {
                Content::Raw(answer.raw)
            } else {
                Content::Text(answer.text)
            },
        })
    }

    async fn diff_ids(
        &mut self,
        from: &str,
        to: Option<&str>,
        raw: bool,
    ) -> Result<ArticleDiff, RemoteError> {
        let answer = self
            .client
            .diff(pb::DiffRequest {
                from: id_ref(from),
                to: to.and_then(id_ref),
                format: pb::DiffRendering::Unspecified as i32,
                raw,
            })
            .await
            .map_err(|status| self.failed(status))?
            .into_inner();
        Ok(convert::diff_back(answer)?)
    }

    /// The diff `newsarc diff` would compute.
    pub async fn diff(&mut self, options: &DiffOptions) -> Result<ArticleDiff, RemoteError> {
        self.diff_ids(&options.from, options.to.as_deref(), options.raw)
            .await
    }

    /// Takes URLs off the server's watch schedule.
    pub async fn unwatch(
        &mut self,
        urls: &[String],
    ) -> Result<Vec<newsarc::watch::Unwatched>, RemoteError> {
        let answer = self
            .client
            .unwatch(pb::UnwatchRequest {
                urls: urls.to_vec(),
            })
            .await
            .map_err(|status| self.failed(status))?
            .into_inner();
        Ok(answer
            .results
            .into_iter()
            .map(|result| newsarc::watch::Unwatched {
                given: result.given,
                urls: result.urls,
                error: (!result.error.is_empty()).then_some(result.error),
            })
            .collect())
    }

    /// The store's figures.
    pub async fn stats(&mut self) -> Result<Stats, RemoteError> {
        let stats = self
            .client
            .stats(pb::StatsRequest {})
            .await
            .map_err(|status| self.failed(status))?
            .into_inner();
        Ok(Stats {
            articles: stats.articles,
            revisions: stats.revisions,
            observations: stats.observations,
            events: stats.events,
            failed_attempts: stats.failed_attempts,
            raw_bytes: stats.raw_bytes,
            stored_bytes: stats.stored_bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_people_type() {
        assert_eq!(
            server_url("127.0.0.1:50051").unwrap(),
            "http://127.0.0.1:50051"
        );
        assert_eq!(server_url("localhost:1").unwrap(), "http://localhost:1");
        assert_eq!(
            server_url("https://archive.example:443").unwrap(),
            "https://archive.example:443"
        );
        assert!(server_url("ftp://x:1").is_err());
        assert!(server_url("").is_err());
    }

    #[derive(Debug, thiserror::Error)]
    #[error("{0}")]
    struct Cause(&'static str);

    #[test]
    fn a_connection_closed_before_or_during_the_handshake_reads_as_no_grpc_server() {
        for cause in [
            "connection reset by peer",
            "Broken pipe",
            "connection closed before message completed",
            "connection was not ready",
        ] {
            let reason = transport_reason(&Cause(cause));
            assert!(reason.contains("gRPC (HTTP/2)"), "{cause}: {reason}");
        }
        assert_eq!(
            transport_reason(&Cause("Connection refused")),
            "Connection refused"
        );
    }
}
