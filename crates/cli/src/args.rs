//! The command line, as clap types. Nothing here does any work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use newsarc_model::Millis;

/// newsarc: a content-addressed, versioned archive of news articles.
#[derive(Debug, Parser)]
#[command(name = "newsarc", version, about, max_term_width = 100)]
pub struct Cli {
    /// The store directory [default: the platform data directory + newsarc].
    #[arg(long, global = true, env = "NEWSARC_STORE", value_name = "DIR")]
    pub store: Option<PathBuf>,

    /// Ask a running `newsarc serve` at URL instead of opening a store
    /// (log, show, diff, articles and stats).
    #[arg(long, global = true, env = "NEWSARC_REMOTE", value_name = "URL")]
    pub remote: Option<String>,

    /// sled's page cache, in MiB: memory against speed on big stores
    /// (docs/PERFORMANCE.md).
    #[arg(long, global = true, env = "NEWSARC_CACHE_MIB", value_name = "MIB", default_value_t = 256,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub cache_mib: u64,

    #[command(subcommand)]
    pub command: Command,
}

/// The jobs.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Put files or directories of news posts and HTML pages into the archive.
    Ingest(IngestArgs),
    /// Show an article's revisions, oldest first.
    Log(LogArgs),
    /// Write one revision: metadata and text, its normalised text, or its exact bytes.
    Show(ShowArgs),
    /// Show what changed between two revisions, or an article's last two.
    Diff(DiffArgs),
    /// List the archived articles.
    Articles(ArticlesArgs),
    /// Show the store's figures.
    Stats(JsonArg),
    /// Re-hash every frame and record and check every link and index; exit 1 on findings.
    Verify(VerifyArgs),
    /// Rebuild the index from the packs, cut off an unfinished commit, list what cannot be recovered; exit 1 if anything cannot.
    Repair(RepairArgs),
    /// Build a format-2 store from a format-1 one, beside it, and swap it in when complete.
    Upgrade(JsonArg),
    /// Serve the store over gRPC (newsarc.v1.Archive, health, reflection).
    Serve(ServeArgs),
    /// Write the whole archive to one portable file (backup, migration).
    Export(FileArg),
    /// Build a new store (--store, absent or empty) from an export file.
    Import(FileArg),
    /// Download pages and archive them (conditional GET; 404/410 recorded as gone).
    Fetch(FetchArgs),
    /// Poll RSS/Atom feeds and recheck every known URL on its schedule.
    Watch(WatchArgs),
    /// Take URLs (or every URL of an article) off the watch schedule.
    Unwatch(UnwatchArgs),
}

/// `unwatch`.
#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  newsarc unwatch https://www.example.org/news/2026/02/10/story\n\nThe URL's history stays; `newsarc fetch URL` puts it back on the schedule."
)]
pub struct UnwatchArgs {
    /// URLs the fetcher knows, or articles (a URL or key): all their URLs.
    #[arg(required = true, value_name = "URL")]
    pub urls: Vec<String>,
    /// One JSON object per URL or article given.
    #[arg(long)]
    pub json: bool,
}

/// `verify`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  newsarc verify\n  newsarc verify --deep --json > report.json\n\nFindings are written as they are found; Ctrl-C stops cleanly and says how\nfar the check got. Exit 0 clean, 1 findings, 2 could not run."
)]
pub struct VerifyArgs {
    /// Also decode every document and check its BLAKE3 (slower).
    #[arg(long)]
    pub deep: bool,
    /// One JSON document (findings, then totals) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `repair`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  newsarc repair --dry-run\n  newsarc repair --rebuild-index   # sled's files are damaged or gone\n\nThe packs are never rewritten: the index is built anew from them and\nswapped in when complete; the old one is kept beside the store\n(STORE.before-repair-MILLIS) unless --no-backup."
)]
pub struct RepairArgs {
    /// Say what would change and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not read the old index at all (its files are damaged or missing).
    #[arg(long)]
    pub rebuild_index: bool,
    /// Delete the old index instead of keeping it beside the store.
    #[arg(long)]
    pub no_backup: bool,
    /// One JSON document instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `fetch`.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// The pages' URLs (http or https).
    #[arg(required = true, value_name = "URL")]
    pub urls: Vec<String>,
    #[command(flatten)]
    pub setup: FetchSetup,
}

/// `watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// A file of feed URLs, one per line (# starts a comment).
    #[arg(long, value_name = "FILE")]
    pub feeds: PathBuf,
    /// Run one round (poll the feeds, fetch what is due) and exit: for cron.
    #[arg(long)]
    pub once: bool,
    /// Requests in flight at once, to different hosts [default: 4, or the config's].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub max_concurrency: Option<u16>,
    #[command(flatten)]
    pub setup: FetchSetup,
}

/// What `fetch` and `watch` share.
#[derive(Debug, Args)]
pub struct FetchSetup {
    /// Schedule, politeness and HTTP limits (TOML; docs/FETCH.md).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Extra article-key rules (TOML), tried before the built-in ones.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// JSON Lines: one object per URL (and, for watch, per feed and round).
    #[arg(long)]
    pub json: bool,
}

/// `ingest`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  newsarc ingest examples/articles\n  newsarc ingest --fetched-at 2022-05-24T09:36:00+08:00 post.md\n  newsarc ingest --url https://www.example.org/news/1 saved-page.html\n\nRe-running an ingest adds nothing: a file whose bytes and fetch time the\narchive already holds is reported as already_archived."
)]
pub struct IngestArgs {
    /// Files, or directories searched recursively for *.md, *.html, *.htm.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The fetch time of every file [default: each file's modification time].
    #[arg(long, value_name = "RFC3339")]
    pub fetched_at: Option<Millis>,
    /// The URL one saved page was fetched from, for a page that names none.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Extra article-key rules (TOML), tried before the built-in ones.
    #[arg(long, value_name = "FILE")]
    pub rules: Option<PathBuf>,
    /// One JSON object per file (JSON Lines).
    #[arg(long)]
    pub json: bool,
}

/// `log`.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// A URL or an article key.
    pub article: String,
    /// A JSON array.
    #[arg(long)]
    pub json: bool,
    /// Each revision's edit statistics against its parent.
    #[arg(long)]
    pub stat: bool,
}

/// `diff`.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  newsarc diff ARTICLE          its latest revision against the one before it\n  newsarc diff ARTICLE@3        revision 3 against the one before it in time\n  newsarc diff ARTICLE@1 ARTICLE@latest\n  newsarc diff --format html --output diff.html ARTICLE@2020-10-01 ARTICLE@2020-10-02"
)]
pub struct DiffArgs {
    /// The old revision (as for show); alone, the revision compared with
    /// the one before it in time.
    #[arg(value_name = "A")]
    pub from: String,
    /// The new revision.
    #[arg(value_name = "B")]
    pub to: Option<String>,
    /// Output form.
    #[arg(long, value_enum, default_value_t = DiffFormatArg::Term)]
    pub format: DiffFormatArg,
    /// Diff the stored bytes (HTML source) by lines and tokens.
    #[arg(long)]
    pub raw: bool,
    /// Write to FILE (replaced whole, never left half-written) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `diff --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormatArg {
    /// Inline, coloured on a terminal (NO_COLOR honoured).
    Term,
    /// Unified text for email and issue comments.
    Unified,
    /// Structured JSON (docs/DIFF.md).
    Json,
    /// One self-contained HTML page.
    Html,
}

/// `show`.
#[derive(Debug, Args)]
#[command(
    after_help = "REV is one of:\n  blake3:<64 hex> or an id prefix of 8+ hex digits\n  ARTICLE            its latest revision (ARTICLE is a URL or an article key)\n  ARTICLE@N          its revision number N (the seq column of `newsarc log`)\n  ARTICLE@latest     also ARTICLE@0\n  ARTICLE@2020-10-02 the revision current at the end of that day (UTC); also\n                     @2020-10, @2020-10-02T08, @20201002083000, @<RFC 3339 time>\n\nExample:\n  newsarc show --text https://www.dw.com/zh/story/a-18670177@2020-10-02"
)]
pub struct ShowArgs {
    /// A revision (see below).
    #[arg(value_name = "REV")]
    pub revision: String,
    /// The exact stored bytes.
    #[arg(long, conflicts_with_all = ["text", "json"])]
    pub raw: bool,
    /// The normalised text, exactly as hashed into text_digest.
    #[arg(long, conflicts_with = "json")]
    pub text: bool,
    /// Metadata and text as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `articles`.
#[derive(Debug, Args)]
pub struct ArticlesArgs {
    /// Only articles seen at or after this time.
    #[arg(long, value_name = "RFC3339")]
    pub since: Option<Millis>,
    /// A JSON array.
    #[arg(long)]
    pub json: bool,
}

/// `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on, such as 127.0.0.1:50051 or localhost:50051
    /// (port 0: any free port; the chosen address is printed).
    #[arg(long, default_value = "127.0.0.1:50051", value_parser = listen_address)]
    pub addr: std::net::SocketAddr,
    /// Refuse Ingest.
    #[arg(long)]
    pub read_only: bool,
    /// A file holding the bearer token that Ingest must carry.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// The largest message accepted or sent, in bytes.
    #[arg(long, value_name = "N", default_value_t = newsarc_server::DEFAULT_MAX_MESSAGE_BYTES)]
    pub max_message_bytes: usize,
    /// On SIGINT/SIGTERM, how long to let running calls finish before closing
    /// the connections that still hold them.
    #[arg(long, value_name = "SECONDS", default_value_t = newsarc_server::DEFAULT_DRAIN_GRACE.as_secs())]
    pub drain_seconds: u64,
}

/// `export` and `import`.
#[derive(Debug, Args)]
pub struct FileArg {
    /// The export file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// Commands whose only option is `--json`.
#[derive(Debug, Args)]
pub struct JsonArg {
    /// JSON output.
    #[arg(long)]
    pub json: bool,
}

/// A listening address: `IP:PORT`, or a host name such as `localhost:PORT`
/// resolved to its addresses (a loopback one first).
fn listen_address(text: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::ToSocketAddrs;
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    let addrs: Vec<std::net::SocketAddr> = text
        .to_socket_addrs()
        .map_err(|err| format!("'{text}' is not HOST:PORT ({err}); e.g. 127.0.0.1:50051"))?
        .collect();
    addrs
        .iter()
        .find(|addr| addr.ip().is_loopback() && addr.is_ipv4())
        .or_else(|| addrs.iter().find(|addr| addr.ip().is_loopback()))
        .or_else(|| addrs.first())
        .copied()
        .ok_or_else(|| format!("'{text}' resolves to no address"))
}

#[cfg(test)]
mod tests {
    use super::listen_address;

    #[test]
    fn listen_addresses_take_host_names() {
        assert_eq!(
            listen_address("localhost:50065").unwrap(),
            "127.0.0.1:50065".parse().unwrap()
        );
        assert_eq!(
            listen_address("[::1]:7").unwrap(),
            "[::1]:7".parse().unwrap()
        );
        assert!(listen_address("localhost").is_err());
    }
}
