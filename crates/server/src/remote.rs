//! The client side of `newsarc --remote URL …`: the same records the local
//! jobs read, fetched from a running server, so the facade's renderers print
//! the same output. (sled allows one process per store: this is how people
//! query a store that a server holds open.)

use newsarc::diff::DiffOptions;
use newsarc::history::History;
use newsarc::report::Stats;
use newsarc::show::{Content, ShowFormat, Shown};
use newsarc_diff::{ArticleDiff, EditStats};
use newsarc_model::record::ArticleRecord;
use tonic::transport::Channel;

use crate::convert::{self, MalformedAnswer};
use crate::pb::{self, archive_client::ArchiveClient, revision_ref::Target};

/// Why a remote job failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RemoteError {
    /// The server could not be reached.
    #[error("cannot reach the newsarc server at {url}: {source}")]
    Connect {
        /// The URL given.
        url: String,
        /// The transport's reason.
        source: tonic::transport::Error,
    },
    /// The server answered with an error.
    #[error("the server says: {} ({:?})", .0.message(), .0.code())]
    Status(#[from] tonic::Status),
    /// The answer could not be read.
    #[error(transparent)]
    Malformed(#[from] MalformedAnswer),
    /// `diff ARTICLE` on an article with one revision.
    #[error("article {0} has only one revision: nothing to compare it with")]
    NothingToCompare(String),
}

/// A connection to a `newsarc serve`.
pub struct Remote {
    client: ArchiveClient<Channel>,
}

fn id_ref(spec: &str) -> Option<pb::RevisionRef> {
    Some(pb::RevisionRef {
        target: Some(Target::Id(spec.to_owned())),
    })
}

impl Remote {
    /// Connects to `url` (e.g. `http://127.0.0.1:50051`).
    pub async fn connect(url: &str) -> Result<Self, RemoteError> {
        let client = ArchiveClient::connect(url.to_owned())
            .await
            .map_err(|source| RemoteError::Connect {
                url: url.to_owned(),
                source,
            })?;
        Ok(Self {
            client: client.max_decoding_message_size(usize::MAX),
        })
    }

    async fn all_revisions(&mut self, article: &str) -> Result<Vec<pb::Revision>, RemoteError> {
        Ok(self.all_history(article).await?.0)
    }

    /// An article's revisions (in chain order) and events (in time order).
    async fn all_history(
        &mut self,
        article: &str,
    ) -> Result<(Vec<pb::Revision>, Vec<pb::ArticleEvent>), RemoteError> {
        let mut revisions = Vec::new();
        let mut events = Vec::new();
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
                .await?
                .into_inner();
            for entry in page.entries {
                match entry.entry {
                    Some(pb::history_entry::Entry::Revision(revision)) => revisions.push(revision),
                    Some(pb::history_entry::Entry::Event(event)) => events.push(event),
                    _ => {}
                }
            }
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
        // The server lists by time; `log` shows the chain's order.
        revisions.sort_by_key(|r| r.seq);
        Ok((revisions, events))
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
                .await?
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
        let (revisions, events) = self.all_history(article).await?;
        let key = revisions
            .first()
            .map(|r| r.article_key.clone())
            .ok_or_else(|| tonic::Status::not_found(format!("no article '{article}'")))?;
        let record = self
            .articles_with_prefix(&key)
            .await?
            .into_iter()
            .find(|a| a.key.as_str() == key)
            .ok_or_else(|| tonic::Status::not_found(format!("no article '{key}'")))?;
        let revisions = revisions
            .iter()
            .map(convert::revision_back)
            .collect::<Result<Vec<_>, _>>()?;
        let stats = if stat {
            let mut all = Vec::with_capacity(revisions.len());
            for (id, record) in &revisions {
                all.push(match record.parent {
                    Some(parent) => {
                        self.diff_ids(&parent.to_string(), &id.to_string(), false)
                            .await?
                            .stats
                    }
                    None => EditStats::default(),
                });
            }
            Some(all)
        } else {
            None
        };
        let events = events
            .iter()
            .map(convert::event_back)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(History {
            article: record,
            revisions,
            stats,
            events,
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
            .await?
            .into_inner();
        let (id, record) = convert::revision_back(&answer)?;
        Ok(Shown {
            id,
            record,
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
        to: &str,
        raw: bool,
    ) -> Result<ArticleDiff, RemoteError> {
        let answer = self
            .client
            .diff(pb::DiffRequest {
                from: id_ref(from),
                to: id_ref(to),
                format: pb::DiffRendering::Unspecified as i32,
                raw,
            })
            .await?
            .into_inner();
        Ok(convert::diff_back(answer)?)
    }

    /// The diff `newsarc diff` would compute.
    pub async fn diff(&mut self, options: &DiffOptions) -> Result<ArticleDiff, RemoteError> {
        match &options.to {
            Some(to) => self.diff_ids(&options.from, to, options.raw).await,
            None => {
                let revisions = self.all_revisions(&options.from).await?;
                match revisions.as_slice() {
                    [.., old, new] => {
                        let (old, new) = (old.id.clone(), new.id.clone());
                        let text = |d: Option<pb::Digest>| d.map(|d| d.text).unwrap_or_default();
                        self.diff_ids(&text(old), &text(new), options.raw).await
                    }
                    _ => Err(RemoteError::NothingToCompare(options.from.clone())),
                }
            }
        }
    }

    /// The store's figures.
    pub async fn stats(&mut self) -> Result<Stats, RemoteError> {
        let stats = self.client.stats(pb::StatsRequest {}).await?.into_inner();
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
