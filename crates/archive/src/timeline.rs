//! An article's timeline: its revisions, observations and events in the
//! order they were fetched, each revision with its change against the one
//! before it in time. The hash chain keeps the order the archive learnt
//! things in (that is what a revision id attests); every view of a history
//! — `log`, `@time`, `diff`, gRPC — reads this one instead.

use newsarc_model::record::{ArticleRecord, EventRecord, ObservationRecord, RevisionRecord};
use newsarc_model::{ChangeKind, Digest, Millis, RevisionId};

use crate::{Archive, ArchiveError};

/// A revision in a timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineRevision {
    /// Its id.
    pub id: RevisionId,
    /// Its record.
    pub record: RevisionRecord,
    /// How it differs from the revision before it in time.
    pub change: ChangeKind,
}

/// One entry of a timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimelineEntry {
    /// A new text.
    Revision(Box<TimelineRevision>),
    /// A fetch that saw a revision's bytes again.
    Observation(ObservationRecord),
    /// The URL went away or came back.
    Event(Digest, EventRecord),
}

impl TimelineEntry {
    /// When it was fetched.
    pub fn at(&self) -> Millis {
        match self {
            Self::Revision(revision) => revision.record.fetched_at,
            Self::Observation(observation) => observation.fetched_at,
            Self::Event(_, event) => event.at,
        }
    }

    /// Order among entries of the same moment: a reappearance is recorded
    /// before the page that showed it, an observation after the revision
    /// it saw.
    fn rank(&self) -> u8 {
        match self {
            Self::Event(..) => 0,
            Self::Revision(_) => 1,
            Self::Observation(_) => 2,
        }
    }
}

/// An article and its entries, oldest fetch first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeline {
    /// The article.
    pub article: ArticleRecord,
    /// Its entries in fetch-time order.
    pub entries: Vec<TimelineEntry>,
}

impl Timeline {
    /// The revisions, in time order.
    pub fn revisions(&self) -> impl Iterator<Item = &TimelineRevision> {
        revisions_of(&self.entries)
    }
}

/// The revisions among `entries`, in their order.
pub fn revisions_of(entries: &[TimelineEntry]) -> impl Iterator<Item = &TimelineRevision> {
    entries.iter().filter_map(|entry| match entry {
        TimelineEntry::Revision(revision) => Some(revision.as_ref()),
        _ => None,
    })
}

/// The revision current at a time and its neighbours, as a Memento
/// TimeGate answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closest {
    /// The revision current at the time (the first one when the time is
    /// earlier than any).
    pub current: TimelineRevision,
    /// The article's first revision in time.
    pub first: TimelineRevision,
    /// The one before `current`.
    pub prev: Option<TimelineRevision>,
    /// The one after `current`.
    pub next: Option<TimelineRevision>,
    /// The last one.
    pub last: TimelineRevision,
}

impl Archive {
    /// An article's timeline; observations only when asked for.
    pub fn timeline(
        &self,
        article: ArticleRecord,
        with_observations: bool,
    ) -> Result<Timeline, ArchiveError> {
        let mut entries = Vec::new();
        for entry in self.store.timeline(&article.key)? {
            entries.push(TimelineEntry::Revision(Box::new(TimelineRevision {
                id: entry.id,
                record: self.store.revision(&entry.id)?,
                change: entry.change,
            })));
        }
        if with_observations {
            entries.extend(
                self.store
                    .observations(&article.key)?
                    .into_iter()
                    .map(TimelineEntry::Observation),
            );
        }
        entries.extend(
            self.store
                .events(&article.key)?
                .into_iter()
                .map(|(id, event)| TimelineEntry::Event(id, event)),
        );
        // Stable: revisions keep the timeline index's order at equal times.
        entries.sort_by_key(|entry| (entry.at(), entry.rank()));
        Ok(Timeline { article, entries })
    }

    /// A revision with its change against the revision before it in time.
    pub fn timeline_revision(
        &self,
        id: RevisionId,
        record: RevisionRecord,
    ) -> Result<TimelineRevision, ArchiveError> {
        let change = match self.store.revision_entry(&id)? {
            Some((_, entry)) => entry.change,
            None => return Err(newsarc_store::StoreError::MissingRevision { id }.into()),
        };
        Ok(TimelineRevision { id, record, change })
    }

    /// The revision before `record` in its article's timeline.
    pub fn previous_in_time(
        &self,
        record: &RevisionRecord,
    ) -> Result<Option<(RevisionId, RevisionRecord)>, ArchiveError> {
        match self
            .store
            .previous_in_time(&record.article, record.fetched_at, record.seq)?
        {
            Some(entry) => Ok(Some((entry.id, self.store.revision(&entry.id)?))),
            None => Ok(None),
        }
    }

    /// The revision of `article` current at `at`, with its neighbours.
    pub fn closest(&self, article: &str, at: Millis) -> Result<Closest, ArchiveError> {
        let article = self.resolve_article(article)?;
        let key = article.key.to_string();
        let timeline = self.timeline(article, false)?;
        let revisions: Vec<&TimelineRevision> = timeline.revisions().collect();
        let current = revisions
            .iter()
            .rposition(|revision| revision.record.fetched_at <= at)
            .unwrap_or(0);
        let (Some(first), Some(last), Some(found)) =
            (revisions.first(), revisions.last(), revisions.get(current))
        else {
            return Err(ArchiveError::ArticleNotFound { spec: key });
        };
        Ok(Closest {
            current: (*found).clone(),
            first: (*first).clone(),
            prev: current
                .checked_sub(1)
                .and_then(|i| revisions.get(i))
                .map(|r| (*r).clone()),
            next: revisions.get(current + 1).map(|r| (*r).clone()),
            last: (*last).clone(),
        })
    }
}
