//! `newsarc log` and `newsarc articles`: what the archive holds over time.

use std::io::Write;

use newsarc_diff::EditStats;
use newsarc_model::record::{ArticleRecord, EventRecord, RevisionRecord};
use newsarc_model::{Charset, Digest, Millis, RevisionId};
pub use newsarc_store::HistoryEntry;
use serde::Serialize;

use crate::timeline::TimelineEntry;
use crate::{Archive, ArchiveError, json};

/// How many hex digits of an id the human views print: enough to be unique
/// in any real archive, and accepted by `show` as a prefix.
pub const SHORT_ID_DIGITS: usize = 16;

/// What `log` shows.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    /// A URL or an article key.
    pub article: String,
    /// A JSON array instead of a table.
    pub json: bool,
    /// Each revision's edit statistics against its parent.
    pub stat: bool,
}

#[derive(Debug, Serialize)]
struct RevisionLine<'a> {
    kind: &'static str,
    seq: u32,
    id: String,
    fetched_at: String,
    blob: String,
    size: u64,
    title: Option<String>,
    change: &'static str,
    charset: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    stats: Option<EditStats>,
}

#[derive(Debug, Serialize)]
struct EventLine {
    kind: &'static str,
    id: String,
    at: String,
    status: u16,
    url: String,
}

/// One `log` entry: revisions and events in one time line.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum LogLine<'a> {
    Revision(RevisionLine<'a>),
    Event(EventLine),
}

/// What `articles` lists.
#[derive(Debug, Clone, Default)]
pub struct ArticlesOptions {
    /// Only articles seen at or after this time.
    pub since: Option<Millis>,
    /// A JSON array instead of a table.
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct ArticleEntry {
    key: String,
    url: String,
    revisions: u32,
    first_seen: String,
    last_seen: String,
    title: Option<String>,
}

/// `blake3:` and the first [`SHORT_ID_DIGITS`] hex digits.
pub(crate) fn short(id: &impl ToString) -> String {
    let full = id.to_string();
    let hex = full
        .strip_prefix(newsarc_model::DIGEST_LABEL)
        .unwrap_or(&full);
    hex.chars().take(SHORT_ID_DIGITS).collect()
}

/// One entry of a history: a revision as its history entry holds it (what
/// a log line shows, read from the index alone: no record is decoded), or
/// an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryItem {
    /// A revision.
    Revision(HistoryEntry),
    /// A `gone` or `reappeared` event, by its id.
    Event(Digest, EventRecord),
}

impl HistoryItem {
    /// When it happened: a revision's fetch, an event's time.
    pub fn at(&self) -> Millis {
        match self {
            Self::Revision(revision) => revision.fetched_at,
            Self::Event(_, event) => event.at,
        }
    }

    /// Order among entries of the same moment, as in a timeline: a
    /// reappearance before the page that showed it.
    fn rank(&self) -> u8 {
        match self {
            Self::Event(..) => 0,
            Self::Revision(_) => 1,
        }
    }

    /// The history item of a timeline entry; none for an observation.
    pub fn of_timeline(entry: &TimelineEntry) -> Option<Self> {
        match entry {
            TimelineEntry::Revision(revision) => {
                let record = &revision.record;
                Some(Self::Revision(HistoryEntry {
                    id: revision.id,
                    seq: record.seq,
                    fetched_at: record.fetched_at,
                    blob: record.blob,
                    size: record.size,
                    change: revision.change,
                    title: record.meta.title.clone(),
                    charset: record.charset.as_ref().map(|charset| charset.name.clone()),
                }))
            }
            TimelineEntry::Event(id, event) => Some(Self::Event(*id, event.clone())),
            TimelineEntry::Observation(_) => None,
        }
    }
}

/// An article's history as `log` prints it: the article, its revisions and
/// events in fetch-time order, and (for `--stat`) each revision's
/// statistics against the revision before it in time. Both the local and
/// the remote `log` fill one of these.
#[derive(Debug, Clone)]
pub struct History {
    /// The article.
    pub article: ArticleRecord,
    /// Its revisions and events, oldest fetch first.
    pub entries: Vec<HistoryItem>,
    /// One entry per revision when statistics were asked for.
    pub stats: Option<Vec<EditStats>>,
}

impl History {
    /// The revisions, in fetch-time order.
    pub fn revisions(&self) -> impl Iterator<Item = &HistoryEntry> {
        self.entries.iter().filter_map(|entry| match entry {
            HistoryItem::Revision(revision) => Some(revision),
            HistoryItem::Event(..) => None,
        })
    }

    fn lines(&self) -> Vec<LogLine<'_>> {
        let mut stats = self.stats.iter().flatten();
        self.entries
            .iter()
            .map(|entry| match entry {
                HistoryItem::Revision(revision) => LogLine::Revision(RevisionLine {
                    kind: "revision",
                    seq: revision.seq,
                    id: revision.id.to_string(),
                    fetched_at: revision.fetched_at.to_string(),
                    blob: revision.blob.to_string(),
                    size: revision.size,
                    title: revision.title.clone(),
                    change: revision.change.as_str(),
                    charset: revision.charset.as_deref().unwrap_or(Charset::UTF_8),
                    stats: stats.next().copied(),
                }),
                HistoryItem::Event(id, event) => event_line(id, event),
            })
            .collect()
    }
}

/// The encoding a revision's bytes were read in (UTF-8 when the record
/// names none).
pub(crate) fn charset_name(record: &RevisionRecord) -> &str {
    record
        .charset
        .as_ref()
        .map_or(newsarc_model::Charset::UTF_8, |charset| &charset.name)
}

fn event_line(id: &Digest, event: &EventRecord) -> LogLine<'static> {
    LogLine::Event(EventLine {
        kind: event.kind.as_str(),
        id: id.to_string(),
        at: event.at.to_string(),
        status: event.http.status,
        url: event.http.final_url.clone(),
    })
}

/// Writes a history as a table or a JSON array.
pub fn write_log(
    history: &History,
    json_output: bool,
    out: &mut dyn Write,
) -> Result<(), ArchiveError> {
    let lines = history.lines();
    if json_output {
        json::write_document(out, &lines)?;
        return Ok(());
    }
    let article = &history.article;
    writeln!(out, "article {}  {}", article.key, article.url)?;
    write!(
        out,
        "{} revisions, {} unchanged fetches, seen {} .. {}",
        article.revisions, article.observations, article.first_seen, article.last_seen
    )?;
    match article.gone_since {
        Some(since) => writeln!(out, "; gone since {since}")?,
        None => writeln!(out)?,
    }
    write!(
        out,
        "{:>3}  {:<16}  {:<24}  {:<16}  {:>7}  {:<10}  ",
        "seq", "id", "fetched_at", "blob", "size", "change"
    )?;
    if history.stats.is_some() {
        write!(out, "{:<21}  ", "+a -d ~e >m  chars")?;
    }
    writeln!(out, "title")?;
    for line in &lines {
        match line {
            LogLine::Revision(entry) => {
                write!(
                    out,
                    "{:>3}  {:<16}  {:<24}  {:<16}  {:>7}  {:<10}  ",
                    entry.seq,
                    short(&entry.id),
                    entry.fetched_at,
                    short(&entry.blob),
                    entry.size,
                    entry.change,
                )?;
                if let Some(stats) = &entry.stats {
                    let figures = format!(
                        "+{} -{} ~{} >{}  +{}/-{}",
                        stats.sentences_added,
                        stats.sentences_deleted,
                        stats.sentences_edited,
                        stats.sentences_moved,
                        stats.chars_added,
                        stats.chars_removed
                    );
                    write!(out, "{figures:<21}  ")?;
                }
                writeln!(out, "{}", entry.title.as_deref().unwrap_or(""))?;
            }
            LogLine::Event(event) => {
                write!(
                    out,
                    "{:>3}  {:<16}  {:<24}  {:<16}  {:>7}  {:<10}  ",
                    "-",
                    short(&event.id),
                    event.at,
                    "-",
                    "-",
                    event.kind,
                )?;
                if history.stats.is_some() {
                    write!(out, "{:<21}  ", "")?;
                }
                writeln!(out, "HTTP {} {}", event.status, event.url)?;
            }
        }
    }
    Ok(())
}

/// Writes articles (those seen since `since`) as a table or a JSON array.
pub fn write_articles(
    articles: impl IntoIterator<Item = ArticleRecord>,
    options: &ArticlesOptions,
    out: &mut dyn Write,
) -> Result<(), ArchiveError> {
    let entries: Vec<ArticleEntry> = articles
        .into_iter()
        .filter(|article| options.since.is_none_or(|since| article.last_seen >= since))
        .map(|article| ArticleEntry {
            key: article.key.to_string(),
            url: article.url,
            revisions: article.revisions,
            first_seen: article.first_seen.to_string(),
            last_seen: article.last_seen.to_string(),
            title: article.title,
        })
        .collect();
    if options.json {
        json::write_document(out, &entries)?;
        return Ok(());
    }
    writeln!(
        out,
        "{:>4}  {:<24}  {:<40}  title",
        "revs", "last_seen", "article"
    )?;
    for entry in &entries {
        writeln!(
            out,
            "{:>4}  {:<24}  {:<40}  {}",
            entry.revisions,
            entry.last_seen,
            entry.key,
            entry.title.as_deref().unwrap_or("")
        )?;
    }
    Ok(())
}

impl Archive {
    /// An article's history, with statistics when `stat` is set.
    /// One range scan of its history entries (and its events): no
    /// revision record is read.
    pub fn history_of(&self, article: &str, stat: bool) -> Result<History, ArchiveError> {
        let article = self.resolve_article(article)?;
        let mut entries: Vec<HistoryItem> = self
            .store
            .timeline(&article.key)?
            .into_iter()
            .map(HistoryItem::Revision)
            .collect();
        // The summary counts the article's events: with none, the history
        // reads one part of the index less (on a big store, one block).
        if article.events > 0 {
            entries.extend(
                self.store
                    .events(&article.key)?
                    .into_iter()
                    .map(|(id, event)| HistoryItem::Event(id, event)),
            );
        }
        // Stable: revisions keep the history index's order at equal times.
        entries.sort_by_key(|entry| (entry.at(), entry.rank()));
        let mut history = History {
            article,
            entries,
            stats: None,
        };
        if stat {
            let mut all = Vec::new();
            let mut previous: Option<&RevisionId> = None;
            for revision in history.revisions() {
                all.push(match previous {
                    Some(previous) => self.diff_revisions(previous, &revision.id, false)?.stats,
                    None => EditStats::default(),
                });
                previous = Some(&revision.id);
            }
            history.stats = Some(all);
        }
        Ok(history)
    }

    /// Writes an article's revisions and events, oldest fetch first.
    pub fn log(&self, options: &LogOptions, out: &mut dyn Write) -> Result<(), ArchiveError> {
        write_log(
            &self.history_of(&options.article, options.stat)?,
            options.json,
            out,
        )
    }

    /// Writes every article (seen since `options.since`), in key order.
    pub fn articles(
        &self,
        options: &ArticlesOptions,
        out: &mut dyn Write,
    ) -> Result<(), ArchiveError> {
        let articles = self.store.articles().collect::<Result<Vec<_>, _>>()?;
        write_articles(articles, options, out)
    }
}
