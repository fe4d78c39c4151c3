//! What users type to name things: articles (a URL or a key) and revisions
//! ([`RevisionRef`]), parsed once here for the CLI, gRPC and any other
//! front end.

use std::fmt;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime};
use newsarc_model::record::{ArticleRecord, RevisionRecord};
use newsarc_model::{ArticleKey, Digest, Millis, RevisionId};

use crate::{Archive, ArchiveError};

/// The fewest hex digits accepted as a revision id prefix.
pub const MIN_PREFIX_DIGITS: usize = 8;

/// A revision, as a user names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevisionRef {
    /// A whole id (`blake3:` and 64 hex digits, or the digits alone).
    Id(RevisionId),
    /// The first hex digits of an id (at least [`MIN_PREFIX_DIGITS`]).
    Prefix(String),
    /// An article's latest revision in time: `ARTICLE`, `ARTICLE@latest`
    /// or `ARTICLE@0`.
    Latest(String),
    /// An article's revision by its number in the archive's chain:
    /// `ARTICLE@N`.
    Seq(String, u32),
    /// The revision of an article current at a time: `ARTICLE@<RFC 3339>`,
    /// or a date or timestamp prefix meaning the end of that period in UTC
    /// (`@2020-10-02`, `@2020-10`, `@2020-10-02T08`, `@20201002`,
    /// `@20201002083000`).
    AsOf(String, Millis),
}

impl fmt::Display for RevisionRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Id(id) => write!(f, "{id}"),
            Self::Prefix(prefix) => f.write_str(prefix),
            Self::Latest(article) => write!(f, "{article}@latest"),
            Self::Seq(article, seq) => write!(f, "{article}@{seq}"),
            Self::AsOf(article, at) => write!(f, "{article}@{at}"),
        }
    }
}

impl RevisionRef {
    /// Reads what a user typed.
    pub fn parse(spec: &str) -> Result<Self, ArchiveError> {
        let spec = spec.trim();
        let bad = |reason: String| ArchiveError::BadRef {
            spec: spec.to_owned(),
            reason,
        };
        if spec.is_empty() {
            return Err(bad("it is empty".into()));
        }
        // A selector never holds a '/': in `https://medium.com/@someone/a`
        // the '@' is part of the URL.
        if let Some((article, selector)) = spec.rsplit_once('@')
            && !selector.contains('/')
        {
            if article.trim().is_empty() {
                return Err(bad("no article before the '@'".into()));
            }
            let article = article.trim().to_owned();
            return Self::selector(article, selector).map_err(bad);
        }
        let hex = spec
            .strip_prefix(newsarc_model::DIGEST_LABEL)
            .unwrap_or(spec);
        let all_hex = hex.chars().all(|c| c.is_ascii_hexdigit());
        match hex.len() {
            64 if all_hex => hex
                .parse::<Digest>()
                .map(|digest| Self::Id(RevisionId(digest)))
                .map_err(|err| bad(err.to_string())),
            n if all_hex && (MIN_PREFIX_DIGITS..64).contains(&n) => {
                Ok(Self::Prefix(hex.to_ascii_lowercase()))
            }
            n if all_hex && n < MIN_PREFIX_DIGITS && !spec.contains('.') => Err(bad(format!(
                "an id prefix needs at least {MIN_PREFIX_DIGITS} hex digits"
            ))),
            _ if spec.starts_with(newsarc_model::DIGEST_LABEL) => {
                Err(bad("an id has 64 hex digits after 'blake3:'".into()))
            }
            _ => Ok(Self::Latest(spec.to_owned())),
        }
    }

    fn selector(article: String, selector: &str) -> Result<Self, String> {
        let selector = selector.trim();
        if selector == "latest" || selector == "0" {
            return Ok(Self::Latest(article));
        }
        if selector.chars().all(|c| c.is_ascii_digit()) && !selector.is_empty() {
            return match selector.len() {
                1..=7 => selector
                    .parse::<u32>()
                    .map(|seq| Self::Seq(article, seq))
                    .map_err(|err| err.to_string()),
                8 | 10 | 12 | 14 => wayback_end(selector)
                    .map(|at| Self::AsOf(article, at))
                    .ok_or_else(|| format!("'{selector}' is not a date and time")),
                _ => Err(format!(
                    "'{selector}' is neither a revision number (up to 7 digits) nor a timestamp (YYYYMMDD[hh[mm[ss]]])"
                )),
            };
        }
        if let Ok(at) = selector.parse::<Millis>() {
            return Ok(Self::AsOf(article, at));
        }
        period_end(selector)
            .map(|at| Self::AsOf(article, at))
            .ok_or_else(|| {
                format!("'{selector}' is not a number, 'latest', a date (2020-10-02) or an RFC 3339 time")
            })
    }
}

/// The last millisecond of the period a 8, 10, 12 or 14-digit Wayback
/// timestamp prefix names.
fn wayback_end(digits: &str) -> Option<Millis> {
    let field = |range: std::ops::Range<usize>| digits.get(range)?.parse::<u32>().ok();
    let date = NaiveDate::from_ymd_opt(field(0..4)? as i32, field(4..6)?, field(6..8)?)?;
    let parts: Vec<u32> = [8..10, 10..12, 12..14]
        .into_iter()
        .take((digits.len() - 8) / 2)
        .map(field)
        .collect::<Option<_>>()?;
    end_of(date, &parts)
}

/// The last millisecond of the period a dashed date names: `YYYY-MM`,
/// `YYYY-MM-DD`, `YYYY-MM-DDTHH`, `YYYY-MM-DDTHH:MM`,
/// `YYYY-MM-DDTHH:MM:SS` (a trailing `Z` allowed), all in UTC.
fn period_end(text: &str) -> Option<Millis> {
    let text = text.strip_suffix('Z').unwrap_or(text);
    let (date, time) = match text.split_once(['T', 't']) {
        Some((date, time)) => (date, Some(time)),
        None => (text, None),
    };
    let numbers = |text: &str, separator: char| -> Option<Vec<u32>> {
        text.split(separator)
            .map(|part| {
                (!part.is_empty() && part.len() <= 4 && part.chars().all(|c| c.is_ascii_digit()))
                    .then(|| part.parse().ok())
                    .flatten()
            })
            .collect()
    };
    let date_parts = numbers(date, '-')?;
    let time_parts = match time {
        Some(time) => numbers(time, ':')?,
        None => Vec::new(),
    };
    match (date_parts.as_slice(), time_parts.len()) {
        ([year, month], 0) => {
            let first = NaiveDate::from_ymd_opt(*year as i32, *month, 1)?;
            let next = if *month == 12 {
                NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)?
            } else {
                NaiveDate::from_ymd_opt(first.year(), month + 1, 1)?
            };
            Some(Millis::from_millis(
                next.and_time(NaiveTime::MIN).and_utc().timestamp_millis() - 1,
            ))
        }
        ([year, month, day], 0..=3) => end_of(
            NaiveDate::from_ymd_opt(*year as i32, *month, *day)?,
            &time_parts,
        ),
        _ => None,
    }
}

/// The last millisecond of the day `date`, or of its hour, minute or second
/// when `parts` gives them.
fn end_of(date: NaiveDate, parts: &[u32]) -> Option<Millis> {
    let [hour, minute, second] = [0, 1, 2].map(|i| parts.get(i).copied());
    let start = NaiveDateTime::new(
        date,
        NaiveTime::from_hms_opt(hour.unwrap_or(0), minute.unwrap_or(0), second.unwrap_or(0))?,
    );
    let length_ms: i64 = match parts.len() {
        0 => 86_400_000,
        1 => 3_600_000,
        2 => 60_000,
        _ => 1_000,
    };
    Some(Millis::from_millis(
        start.and_utc().timestamp_millis() + length_ms - 1,
    ))
}

impl Archive {
    /// Finds an article by URL (canonicalised like ingest does), by key, or
    /// by a URL the fetcher asked for (a redirect's start).
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
        if let Ok(key) = self.rules().key_for(&url)
            && let Some(article) = self.store.article(&key)?
        {
            return Ok(article);
        }
        // A URL that answered with another one's page (a redirect, or a
        // canonical link elsewhere) is known to the fetcher.
        for asked in [spec.to_owned(), url] {
            if let Some(state) = self.store.url_state(&asked)?
                && let Some(key) = state.article
                && let Some(article) = self.store.article(&key)?
            {
                return Ok(article);
            }
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
        self.resolve(&RevisionRef::parse(spec)?)
    }

    /// Finds the revision a reference names.
    pub fn resolve(
        &self,
        reference: &RevisionRef,
    ) -> Result<(RevisionId, RevisionRecord), ArchiveError> {
        let not_found = || ArchiveError::RevisionNotFound {
            spec: reference.to_string(),
        };
        match reference {
            RevisionRef::Id(id) => match self.store.revision(id) {
                Ok(record) => Ok((*id, record)),
                Err(newsarc_store::StoreError::MissingRevision { .. }) => Err(not_found()),
                Err(err) => Err(err.into()),
            },
            RevisionRef::Prefix(hex) => {
                let found = self.store.revisions_with_prefix(hex)?;
                match found.as_slice() {
                    [] => Err(not_found()),
                    [id] => Ok((*id, self.store.revision(id)?)),
                    many => Err(ArchiveError::AmbiguousPrefix {
                        prefix: hex.clone(),
                        count: many.len(),
                    }),
                }
            }
            RevisionRef::Latest(article) => {
                let article = self.resolve_article(article)?;
                let entry = self
                    .store
                    .revision_at(&article.key, Millis::from_millis(i64::MAX))?
                    .ok_or_else(not_found)?;
                Ok((entry.id, self.store.revision(&entry.id)?))
            }
            RevisionRef::Seq(spec, seq) => {
                let article = self.resolve_article(spec)?;
                match self.store.history_entry(&article.key, *seq)? {
                    Some(found) => Ok((found.id, self.store.revision(&found.id)?)),
                    None => Err(ArchiveError::NoSuchSeq {
                        article: article.key.to_string(),
                        seq: *seq,
                        revisions: article.revisions,
                    }),
                }
            }
            RevisionRef::AsOf(spec, at) => {
                let article = self.resolve_article(spec)?;
                match self.store.revision_at(&article.key, *at)? {
                    Some(found) => Ok((found.id, self.store.revision(&found.id)?)),
                    None => Err(ArchiveError::NoRevisionAt {
                        article: article.key.to_string(),
                        at: *at,
                        first: article.first_seen,
                    }),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Millis {
        text.parse().unwrap()
    }

    #[test]
    fn refs_people_type() {
        let article = || "dw.com/a-1".to_owned();
        assert_eq!(
            RevisionRef::parse("dw.com/a-1").unwrap(),
            RevisionRef::Latest(article())
        );
        for latest in ["dw.com/a-1@latest", "dw.com/a-1@0"] {
            assert_eq!(
                RevisionRef::parse(latest).unwrap(),
                RevisionRef::Latest(article())
            );
        }
        assert_eq!(
            RevisionRef::parse("dw.com/a-1@3").unwrap(),
            RevisionRef::Seq(article(), 3)
        );
        assert_eq!(
            RevisionRef::parse("deadbeefcafe").unwrap(),
            RevisionRef::Prefix("deadbeefcafe".into())
        );
        assert!(RevisionRef::parse("deadbee").is_err());
        assert_eq!(
            RevisionRef::parse("https://medium.com/@someone/story").unwrap(),
            RevisionRef::Latest("https://medium.com/@someone/story".into())
        );
    }

    #[test]
    fn date_prefixes_mean_the_end_of_their_period_in_utc() {
        let cases = [
            ("2020-10-02", "2020-10-02T23:59:59.999Z"),
            ("2020-10", "2020-10-31T23:59:59.999Z"),
            ("2020-12", "2020-12-31T23:59:59.999Z"),
            ("2020-02", "2020-02-29T23:59:59.999Z"),
            ("2020-10-02T08", "2020-10-02T08:59:59.999Z"),
            ("2020-10-02T08:30", "2020-10-02T08:30:59.999Z"),
            ("2020-10-02T08:30:15", "2020-10-02T08:30:15.999Z"),
            ("2020-10-02T08:30:15Z", "2020-10-02T08:30:15.000Z"),
            ("20201002", "2020-10-02T23:59:59.999Z"),
            ("2020100208", "2020-10-02T08:59:59.999Z"),
            ("20201002083015", "2020-10-02T08:30:15.999Z"),
            ("2020-10-02T08:30:15+08:00", "2020-10-02T00:30:15.000Z"),
        ];
        for (typed, end) in cases {
            assert_eq!(
                RevisionRef::parse(&format!("a.org/x@{typed}")).unwrap(),
                RevisionRef::AsOf("a.org/x".into(), at(end)),
                "{typed}"
            );
        }
        for bad in [
            "2020-13",
            "2020-02-30",
            "202010021",
            "yesterday",
            "2020-10-02T25",
        ] {
            assert!(
                RevisionRef::parse(&format!("a.org/x@{bad}")).is_err(),
                "{bad}"
            );
        }
    }
}
