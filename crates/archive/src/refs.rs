//! What users type to name things: articles (a URL or a key) and revisions
//! (an id, an id prefix, `ARTICLE@N`, `ARTICLE@latest`, `ARTICLE@<time>`).

use newsarc_model::record::{ArticleRecord, RevisionRecord};
use newsarc_model::{ArticleKey, Digest, Millis, RevisionId};

use crate::{Archive, ArchiveError};

/// The fewest hex digits accepted as a revision id prefix.
pub const MIN_PREFIX_DIGITS: usize = 8;

impl Archive {
    /// Finds an article by URL (canonicalised like ingest does) or by key.
    pub fn resolve_article(&self, spec: &str) -> Result<ArticleRecord, ArchiveError> {
        let spec = spec.trim();
        // A key is tried as it is first; only then canonicalised as a URL.
        if !spec.contains("://")
            && let Ok(key) = ArticleKey::new(spec)
            && let Some(article) = self.store.article(&key)?
        {
            return Ok(article);
        }
        let url = if spec.contains("://") {
            spec.to_owned()
        } else {
            format!("https://{spec}")
        };
        if let Ok(key) = self.rules.key_for(&url)
            && let Some(article) = self.store.article(&key)?
        {
            return Ok(article);
        }
        Err(ArchiveError::ArticleNotFound {
            spec: spec.to_owned(),
        })
    }

    /// Finds a revision from what the user typed.
    pub fn resolve_revision(
        &self,
        spec: &str,
    ) -> Result<(RevisionId, RevisionRecord), ArchiveError> {
        let spec = spec.trim();
        if let Some((article, selector)) = spec.rsplit_once('@') {
            return self.resolve_in_article(spec, article, selector);
        }
        let hex = spec
            .strip_prefix(newsarc_model::DIGEST_LABEL)
            .unwrap_or(spec);
        let bad = |reason: &str| ArchiveError::BadRef {
            spec: spec.to_owned(),
            reason: reason.to_owned(),
        };
        if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad("it is not hex digits"));
        }
        if hex.len() == 64 {
            let id = RevisionId(hex.parse::<Digest>().map_err(|err| bad(&err.to_string()))?);
            return match self.store.revision(&id) {
                Ok(record) => Ok((id, record)),
                Err(newsarc_store::StoreError::MissingRevision { .. }) => {
                    Err(ArchiveError::RevisionNotFound {
                        spec: spec.to_owned(),
                    })
                }
                Err(err) => Err(err.into()),
            };
        }
        if hex.len() < MIN_PREFIX_DIGITS {
            return Err(bad("an id prefix needs at least 8 hex digits"));
        }
        if hex.len() > 64 {
            return Err(bad("an id has 64 hex digits"));
        }
        let found = self.store.revisions_with_prefix(hex)?;
        match found.as_slice() {
            [] => Err(ArchiveError::RevisionNotFound {
                spec: spec.to_owned(),
            }),
            [id] => Ok((*id, self.store.revision(id)?)),
            many => Err(ArchiveError::AmbiguousPrefix {
                prefix: hex.to_owned(),
                count: many.len(),
            }),
        }
    }

    fn resolve_in_article(
        &self,
        spec: &str,
        article: &str,
        selector: &str,
    ) -> Result<(RevisionId, RevisionRecord), ArchiveError> {
        let article = self.resolve_article(article)?;
        let history = self.store.history(&article.key)?;
        let not_found = || ArchiveError::RevisionNotFound {
            spec: spec.to_owned(),
        };
        if selector == "latest" {
            return history.into_iter().last().ok_or_else(not_found);
        }
        if let Ok(seq) = selector.parse::<u32>() {
            return history
                .into_iter()
                .find(|(_, record)| record.seq == seq)
                .ok_or_else(not_found);
        }
        let at: Millis = selector.parse().map_err(|_| ArchiveError::BadRef {
            spec: spec.to_owned(),
            reason: format!("'{selector}' is not a number, 'latest' or an RFC 3339 time"),
        })?;
        let first = history
            .iter()
            .map(|(_, record)| record.fetched_at)
            .min()
            .ok_or_else(not_found)?;
        // Memento TimeGate: the revision current at `at` is the latest one
        // fetched at or before it (the later revision on a tie).
        history
            .into_iter()
            .filter(|(_, record)| record.fetched_at <= at)
            .max_by_key(|(_, record)| (record.fetched_at, record.seq))
            .ok_or(ArchiveError::NoRevisionAt {
                article: article.key.to_string(),
                at,
                first,
            })
    }
}
