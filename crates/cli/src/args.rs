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
    /// Re-hash every blob and record and check every link; exit 1 on findings.
    Verify(JsonArg),
    /// Rebuild the indexes from the records, list what cannot be recovered; exit 1 if anything cannot.
    Repair(RepairArgs),
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
}

/// `repair`.
#[derive(Debug, Args)]
pub struct RepairArgs {
    /// Say what would change and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not copy the store aside first (for stores too big to copy; sled
    /// may then rewrite its log even when it cannot open the store).
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
pub struct IngestArgs {
    /// Files, or directories searched recursively for *.md, *.html, *.htm.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The fetch time of every file [default: each file's modification time].
    #[arg(long, value_name = "RFC3339")]
    pub fetched_at: Option<Millis>,
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
pub struct DiffArgs {
    /// The old revision (as for show), or an article: its last two revisions.
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
pub struct ShowArgs {
    /// An id, an id prefix (8+ hex digits), ARTICLE@N, ARTICLE@latest or ARTICLE@<RFC3339 time>.
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
    /// Address to listen on (port 0: any free port; the chosen address is printed).
    #[arg(long, default_value = "127.0.0.1:50051")]
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
