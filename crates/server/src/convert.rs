//! Conversions between newsarc's types and the protocol's.

use newsarc::timeline::TimelineRevision;
use newsarc_model::record::{
    ArticleRecord, EventKind, EventRecord, HttpFacts, ObservationRecord, RevisionRecord,
};
use newsarc_model::{ChangeKind, Charset, CharsetSource, Digest, Millis, RevisionId};
use prost_types::Timestamp;

use crate::pb;
use crate::status::RequestError;

/// A time as a protobuf timestamp.
pub fn timestamp(time: Millis) -> Timestamp {
    let millis = time.as_millis();
    Timestamp {
        seconds: millis.div_euclid(1000),
        nanos: (millis.rem_euclid(1000) * 1_000_000) as i32,
    }
}

/// A protobuf timestamp as a time (sub-millisecond precision is dropped).
pub fn millis(field: &'static str, time: &Timestamp) -> Result<Millis, RequestError> {
    if !(0..1_000_000_000).contains(&time.nanos) {
        return Err(RequestError::invalid(field, "nanos must be within 0..1e9"));
    }
    time.seconds
        .checked_mul(1000)
        .and_then(|ms| ms.checked_add(i64::from(time.nanos / 1_000_000)))
        .ok_or_else(|| RequestError::invalid(field, "the time is out of range"))
        .and_then(|ms| {
            Millis::checked_from_millis(ms)
                .map_err(|err| RequestError::invalid(field, err.to_string()))
        })
}

/// A digest in both forms.
pub fn digest(digest: &Digest) -> pb::Digest {
    pb::Digest {
        value: digest.as_bytes().to_vec(),
        text: digest.to_string(),
    }
}

/// A revision id in both forms.
pub fn revision_id(id: &RevisionId) -> pb::Digest {
    digest(&id.0)
}

/// A revision in a timeline, with its change against the one before it in
/// time (text and raw bytes are added by the caller).
pub fn timeline_revision(revision: &TimelineRevision) -> pb::Revision {
    self::revision(&revision.id, &revision.record, revision.change)
}

/// A revision's metadata, with `change` as its timeline says (text and raw
/// bytes are added by the caller).
pub fn revision(id: &RevisionId, record: &RevisionRecord, change: ChangeKind) -> pb::Revision {
    let meta = &record.meta;
    pb::Revision {
        id: Some(revision_id(id)),
        article_key: record.article.to_string(),
        seq: record.seq,
        parent: record.parent.as_ref().map(revision_id),
        fetched_at: Some(timestamp(record.fetched_at)),
        source: record.source.clone(),
        blob: Some(digest(&record.blob)),
        size: record.size,
        change: change.as_str().to_owned(),
        title: meta.title.clone().unwrap_or_default(),
        url: meta.url.clone(),
        canonical_url: record.canonical_url.clone(),
        published: meta
            .published
            .iter()
            .map(|time| pb::PublishedTime {
                source: time.source.as_str().to_owned(),
                time: Some(timestamp(time.at)),
            })
            .collect(),
        author: meta.author.clone().unwrap_or_default(),
        tags: meta.tags.clone(),
        categories: meta.categories.clone(),
        text_digest: Some(digest(&record.text_digest)),
        text: String::new(),
        raw: Vec::new(),
        http: record.http.as_ref().map(http),
        charset: record
            .charset
            .as_ref()
            .map_or(Charset::UTF_8, |charset| &charset.name)
            .to_owned(),
        charset_from: record
            .charset
            .as_ref()
            .map(|charset| charset.from.as_str().to_owned())
            .unwrap_or_default(),
    }
}

/// The fields of a revision that `ListHistory`'s BASIC view keeps.
pub fn basic_revision(full: &pb::Revision) -> pb::Revision {
    pb::Revision {
        id: full.id.clone(),
        seq: full.seq,
        fetched_at: full.fetched_at,
        blob: full.blob.clone(),
        size: full.size,
        change: full.change.clone(),
        title: full.title.clone(),
        ..pb::Revision::default()
    }
}

/// HTTP response facts.
pub fn http(facts: &HttpFacts) -> pb::HttpFacts {
    pb::HttpFacts {
        url: facts.url.clone(),
        final_url: facts.final_url.clone(),
        status: u32::from(facts.status),
        content_type: facts.content_type.clone().unwrap_or_default(),
        etag: facts.etag.clone().unwrap_or_default(),
        last_modified: facts.last_modified.clone().unwrap_or_default(),
    }
}

/// An article event.
pub fn event(id: &Digest, record: &EventRecord) -> pb::ArticleEvent {
    pb::ArticleEvent {
        id: Some(digest(id)),
        article_key: record.article.to_string(),
        number: record.number,
        kind: record.kind.as_str().to_owned(),
        at: Some(timestamp(record.at)),
        latest: Some(revision_id(&record.latest)),
        http: Some(http(&record.http)),
    }
}

/// An observation.
pub fn observation(record: &ObservationRecord) -> pb::Observation {
    pb::Observation {
        revision_id: Some(revision_id(&record.revision)),
        blob: Some(digest(&record.blob)),
        fetched_at: Some(timestamp(record.fetched_at)),
        source: record.source.clone(),
        kind: record.kind.as_str().to_owned(),
        http: record.http.as_ref().map(http),
    }
}

/// An article's summary.
pub fn article(record: &ArticleRecord) -> pb::ArticleSummary {
    pb::ArticleSummary {
        key: record.key.to_string(),
        url: record.url.clone(),
        title: record.title.clone().unwrap_or_default(),
        revisions: record.revisions,
        observations: record.observations,
        first_seen: Some(timestamp(record.first_seen)),
        last_seen: Some(timestamp(record.last_seen)),
        latest: Some(revision_id(&record.latest)),
        events: record.events,
        gone_since: record.gone_since.map(timestamp),
    }
}

/// A link to a revision.
pub fn link(revision: &TimelineRevision) -> pb::RevisionLink {
    pb::RevisionLink {
        id: Some(revision_id(&revision.id)),
        seq: revision.record.seq,
        fetched_at: Some(timestamp(revision.record.fetched_at)),
    }
}

/// The structured diff in protocol form.
pub fn diff(
    diff: newsarc_diff::ArticleDiff,
    rendered: String,
) -> Result<pb::DiffResponse, RequestError> {
    let parse_id = |text: Option<String>| -> Option<pb::Digest> {
        text.and_then(|t| t.parse::<Digest>().ok())
            .map(|d| digest(&d))
    };
    let kind = |kind: newsarc_diff::OpKind| -> String {
        match kind {
            newsarc_diff::OpKind::Equal => "equal",
            newsarc_diff::OpKind::Insert => "insert",
            newsarc_diff::OpKind::Delete => "delete",
            newsarc_diff::OpKind::Replace => "replace",
            newsarc_diff::OpKind::Move => "move",
        }
        .to_owned()
    };
    let stats = diff.stats;
    Ok(pb::DiffResponse {
        from: parse_id(diff.from),
        to: parse_id(diff.to),
        stats: Some(pb::DiffStats {
            sentences_added: stats.sentences_added,
            sentences_deleted: stats.sentences_deleted,
            sentences_edited: stats.sentences_edited,
            sentences_moved: stats.sentences_moved,
            chars_added: stats.chars_added,
            chars_removed: stats.chars_removed,
        }),
        change: diff.change.as_str().to_owned(),
        metadata: diff
            .metadata
            .into_iter()
            .map(|change| pb::MetadataChange {
                field: change.field.to_owned(),
                old: change.old,
                new: change.new,
            })
            .collect(),
        ops: diff
            .ops
            .into_iter()
            .map(|op| pb::DiffOp {
                kind: kind(op.kind),
                old: op.old,
                new: op.new,
                inline: op
                    .inline
                    .into_iter()
                    .map(|part| pb::InlinePart {
                        kind: kind(part.kind),
                        text: part.text,
                    })
                    .collect(),
                pair: op.pair.and_then(|p| u32::try_from(p).ok()),
            })
            .collect(),
        rendered,
    })
}

/// Why a server's answer could not be read back into newsarc's types.
#[derive(Debug, thiserror::Error)]
#[error("the server's answer is malformed: {0}")]
pub struct MalformedAnswer(pub String);

fn malformed(what: impl Into<String>) -> MalformedAnswer {
    MalformedAnswer(what.into())
}

fn digest_back(field: &str, digest: Option<&pb::Digest>) -> Result<Digest, MalformedAnswer> {
    let digest = digest.ok_or_else(|| malformed(format!("{field} is missing")))?;
    Digest::from_slice(&digest.value).map_err(|err| malformed(format!("{field}: {err}")))
}

fn time_back(field: &'static str, time: Option<&Timestamp>) -> Result<Millis, MalformedAnswer> {
    let time = time.ok_or_else(|| malformed(format!("{field} is missing")))?;
    millis(field, time).map_err(|err| malformed(err.to_string()))
}

fn optional(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

fn change_back(text: &str) -> Result<ChangeKind, MalformedAnswer> {
    [
        ChangeKind::New,
        ChangeKind::Body,
        ChangeKind::Title,
        ChangeKind::Metadata,
        ChangeKind::Whitespace,
        ChangeKind::Unchanged,
    ]
    .into_iter()
    .find(|kind| kind.as_str() == text)
    .ok_or_else(|| malformed(format!("unknown change kind '{text}'")))
}

fn charset_back(revision: &pb::Revision) -> Result<Option<Charset>, MalformedAnswer> {
    if revision.charset.is_empty() || revision.charset == Charset::UTF_8 {
        return Ok(None);
    }
    let from = [
        CharsetSource::Bom,
        CharsetSource::Http,
        CharsetSource::Meta,
        CharsetSource::Utf8,
        CharsetSource::Sniffed,
    ]
    .into_iter()
    .find(|from| from.as_str() == revision.charset_from)
    .ok_or_else(|| {
        malformed(format!(
            "unknown charset source '{}'",
            revision.charset_from
        ))
    })?;
    Ok(Some(Charset {
        name: revision.charset.clone(),
        from,
    }))
}

/// A revision read back from the protocol, with its change against the one
/// before it in time.
pub fn timeline_revision_back(
    revision: &pb::Revision,
) -> Result<TimelineRevision, MalformedAnswer> {
    let (id, record) = revision_back(revision)?;
    Ok(TimelineRevision {
        id,
        change: record.change,
        record,
    })
}

/// A revision read back from the protocol (its `change` is the one the
/// server's timeline gives).
pub fn revision_back(
    revision: &pb::Revision,
) -> Result<(RevisionId, RevisionRecord), MalformedAnswer> {
    use newsarc_model::{ArticleKey, ArticleMeta, PublishedTime, TimeSource};
    let change = change_back(&revision.change)?;
    let published = revision
        .published
        .iter()
        .map(|time| {
            let source = match time.source.as_str() {
                "front_matter_date" => TimeSource::FrontMatterDate,
                "epoch_comment" => TimeSource::EpochComment,
                "html_meta" => TimeSource::HtmlMeta,
                other => return Err(malformed(format!("unknown time source '{other}'"))),
            };
            Ok(PublishedTime {
                source,
                at: time_back("published.time", time.time.as_ref())?,
            })
        })
        .collect::<Result<_, _>>()?;
    let record = RevisionRecord {
        article: ArticleKey::new(revision.article_key.clone())
            .map_err(|err| malformed(err.to_string()))?,
        seq: revision.seq,
        blob: digest_back("blob", revision.blob.as_ref())?,
        size: revision.size,
        parent: revision
            .parent
            .as_ref()
            .map(|parent| digest_back("parent", Some(parent)).map(RevisionId))
            .transpose()?,
        fetched_at: time_back("fetched_at", revision.fetched_at.as_ref())?,
        source: revision.source.clone(),
        meta: ArticleMeta {
            title: optional(&revision.title),
            url: revision.url.clone(),
            published,
            author: optional(&revision.author),
            tags: revision.tags.clone(),
            categories: revision.categories.clone(),
        },
        canonical_url: revision.canonical_url.clone(),
        text_digest: digest_back("text_digest", revision.text_digest.as_ref())?,
        change,
        http: revision.http.as_ref().map(http_back).transpose()?,
        charset: charset_back(revision)?,
    };
    Ok((RevisionId(digest_back("id", revision.id.as_ref())?), record))
}

/// An article summary read back as the article record it was made from.
pub fn article_back(
    article: &pb::ArticleSummary,
) -> Result<newsarc_model::record::ArticleRecord, MalformedAnswer> {
    Ok(newsarc_model::record::ArticleRecord {
        key: newsarc_model::ArticleKey::new(article.key.clone())
            .map_err(|err| malformed(err.to_string()))?,
        url: article.url.clone(),
        title: optional(&article.title),
        first_seen: time_back("first_seen", article.first_seen.as_ref())?,
        last_seen: time_back("last_seen", article.last_seen.as_ref())?,
        latest: RevisionId(digest_back("latest", article.latest.as_ref())?),
        revisions: article.revisions,
        observations: article.observations,
        events: article.events,
        gone_since: article
            .gone_since
            .as_ref()
            .map(|time| time_back("gone_since", Some(time)))
            .transpose()?,
    })
}

/// HTTP facts read back from the protocol.
pub fn http_back(facts: &pb::HttpFacts) -> Result<HttpFacts, MalformedAnswer> {
    Ok(HttpFacts {
        url: facts.url.clone(),
        final_url: facts.final_url.clone(),
        status: u16::try_from(facts.status)
            .map_err(|_| malformed(format!("HTTP status {} is out of range", facts.status)))?,
        content_type: optional(&facts.content_type),
        etag: optional(&facts.etag),
        last_modified: optional(&facts.last_modified),
    })
}

/// An article event read back from the protocol.
pub fn event_back(event: &pb::ArticleEvent) -> Result<(Digest, EventRecord), MalformedAnswer> {
    let kind = match event.kind.as_str() {
        "gone" => EventKind::Gone,
        "reappeared" => EventKind::Reappeared,
        other => return Err(malformed(format!("unknown event kind '{other}'"))),
    };
    let record = EventRecord {
        article: newsarc_model::ArticleKey::new(event.article_key.clone())
            .map_err(|err| malformed(err.to_string()))?,
        number: event.number,
        kind,
        at: time_back("at", event.at.as_ref())?,
        latest: RevisionId(digest_back("latest", event.latest.as_ref())?),
        http: event
            .http
            .as_ref()
            .map(http_back)
            .transpose()?
            .unwrap_or_default(),
    };
    Ok((digest_back("id", event.id.as_ref())?, record))
}

/// A diff read back from the protocol.
pub fn diff_back(response: pb::DiffResponse) -> Result<newsarc_diff::ArticleDiff, MalformedAnswer> {
    use newsarc_diff::{ArticleDiff, EditStats, InlinePart, MetadataChange, Op, OpKind};
    let kind = |text: &str| -> Result<OpKind, MalformedAnswer> {
        Ok(match text {
            "equal" => OpKind::Equal,
            "insert" => OpKind::Insert,
            "delete" => OpKind::Delete,
            "replace" => OpKind::Replace,
            "move" => OpKind::Move,
            other => return Err(malformed(format!("unknown op kind '{other}'"))),
        })
    };
    const FIELDS: &[&str] = &[
        "title",
        "url",
        "published",
        "author",
        "tags",
        "categories",
        "image",
    ];
    let stats = response.stats.unwrap_or_default();
    Ok(ArticleDiff {
        from: response.from.map(|d| d.text),
        to: response.to.map(|d| d.text),
        stats: EditStats {
            sentences_added: stats.sentences_added,
            sentences_deleted: stats.sentences_deleted,
            sentences_edited: stats.sentences_edited,
            sentences_moved: stats.sentences_moved,
            chars_added: stats.chars_added,
            chars_removed: stats.chars_removed,
        },
        change: change_back(&response.change)?,
        metadata: response
            .metadata
            .into_iter()
            .map(|change| {
                let field = FIELDS.iter().find(|f| **f == change.field).ok_or_else(|| {
                    malformed(format!("unknown metadata field '{}'", change.field))
                })?;
                Ok(MetadataChange {
                    field,
                    old: change.old,
                    new: change.new,
                })
            })
            .collect::<Result<_, _>>()?,
        ops: response
            .ops
            .into_iter()
            .map(|op| {
                Ok(Op {
                    kind: kind(&op.kind)?,
                    old: op.old,
                    new: op.new,
                    inline: op
                        .inline
                        .into_iter()
                        .map(|part| {
                            Ok(InlinePart {
                                kind: kind(&part.kind)?,
                                text: part.text,
                            })
                        })
                        .collect::<Result<_, MalformedAnswer>>()?,
                    pair: op.pair.map(|p| p as usize),
                })
            })
            .collect::<Result<_, MalformedAnswer>>()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_round_trip_across_the_epoch() {
        for ms in [-1_500, -1, 0, 1, 1_653_356_160_123] {
            let time = Millis::from_millis(ms);
            assert_eq!(millis("t", &timestamp(time)).unwrap(), time);
        }
        assert!(
            millis(
                "t",
                &Timestamp {
                    seconds: 0,
                    nanos: -1
                }
            )
            .is_err()
        );
    }
}
