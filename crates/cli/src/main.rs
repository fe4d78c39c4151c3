//! The `newsarc` binary: parse arguments, run one library job, turn its
//! result into an exit code (0 ok, 1 problems found, 2 could not run).

mod args;
mod progress;

use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::{Context, bail};
use clap::Parser;
use newsarc::diff::{DiffFormat, DiffOptions};
use newsarc::fetch::{FetchOptions, Recheck};
use newsarc::history::{ArticlesOptions, LogOptions};
use newsarc::ingest::IngestOptions;
use newsarc::repair::RepairOptions;
use newsarc::report::VerifyOptions;
use newsarc::show::{ShowFormat, ShowOptions};
use newsarc::watch::{WatchOptions, WatchVerdict};
use newsarc::{Archive, Progress, StoreConfig};
use newsarc_fetch::{Fetcher, SystemClock, WatchConfig};

use args::{Cli, Command, DiffFormatArg, FetchArgs, RepairArgs, ServeArgs, WatchArgs};
use progress::Bar;

/// mimalloc, not glibc's allocator: see `docs/PERFORMANCE.md` ("The
/// allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What a finished job says about the data.
enum Verdict {
    Clean,
    ProblemsFound,
    /// The job ran but could do none of its work (every fetch failed).
    NothingDone(&'static str),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = run(cli, &mut out).and_then(|verdict| {
        out.flush().context("cannot write output")?;
        Ok(verdict)
    });
    match result {
        Ok(Verdict::Clean) => ExitCode::SUCCESS,
        Ok(Verdict::ProblemsFound) => ExitCode::from(1),
        Ok(Verdict::NothingDone(why)) => {
            drop(out);
            eprintln!("newsarc: {why}");
            ExitCode::from(2)
        }
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            drop(out);
            eprintln!("newsarc: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// A reader that closed the pipe (`newsarc log … | head`) is not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || matches!(
                cause.downcast_ref::<newsarc::ArchiveError>(),
                Some(newsarc::ArchiveError::Output(io)) if io.kind() == std::io::ErrorKind::BrokenPipe
            )
    })
}

fn default_store() -> anyhow::Result<PathBuf> {
    let dirs = directories::BaseDirs::new()
        .context("no home directory to put the default store in: pass --store DIR")?;
    Ok(dirs.data_dir().join("newsarc"))
}

/// How a job that only reads opens the store: it must exist, and nothing
/// is written to it (on read-only media too).
fn reading(cache_bytes: u64) -> StoreConfig {
    StoreConfig {
        cache_bytes,
        read_only: true,
        ..StoreConfig::default()
    }
}

/// How a job that writes opens the store (creating it).
fn writing(cache_bytes: u64) -> StoreConfig {
    StoreConfig {
        cache_bytes,
        ..StoreConfig::default()
    }
}

/// Opens a store that must already exist, for reading.
fn open_existing(dir: &Path, cache_bytes: u64) -> anyhow::Result<Archive> {
    Ok(Archive::open(dir, &reading(cache_bytes))?)
}

/// Colour only on a terminal, and never when NO_COLOR is set (no-color.org).
fn wants_color() -> bool {
    color_wanted(
        std::io::stdout().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    )
}

/// no-color.org: a NO_COLOR that is present and not empty turns colour off.
fn color_wanted(terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    terminal && no_color.is_none_or(|value| value.is_empty())
}

/// Writes `path` through a temporary file in the same directory, renamed
/// over it only once everything was written: a failure leaves no
/// half-written file.
fn write_replacing(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    // Named after its target, so that what a killed run leaves behind says
    // what it was: `.NAME.XXXXXX.partial`, safe to delete.
    let name = path
        .file_name()
        .map_or_else(|| "output".into(), |name| name.to_string_lossy());
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".partial")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))?;
    {
        let mut writer = BufWriter::new(temp.as_file_mut());
        write(&mut writer)?;
        writer
            .flush()
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    // On disk before it takes the name: a backup must survive a power cut.
    temp.as_file()
        .sync_all()
        .with_context(|| format!("cannot write {}", path.display()))?;
    temp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn show_format(args: &args::ShowArgs) -> ShowFormat {
    if args.raw {
        ShowFormat::Raw
    } else if args.text {
        ShowFormat::Text
    } else if args.json {
        ShowFormat::Json
    } else {
        ShowFormat::Summary
    }
}

fn diff_options(args: &args::DiffArgs) -> DiffOptions {
    DiffOptions {
        from: args.from.clone(),
        to: args.to.clone(),
        format: match args.format {
            DiffFormatArg::Term => DiffFormat::Term,
            DiffFormatArg::Unified => DiffFormat::Unified,
            DiffFormatArg::Json => DiffFormat::Json,
            DiffFormatArg::Html => DiffFormat::Html,
        },
        raw: args.raw,
        color: false,
    }
}

/// The read jobs against a running server: the records come over gRPC, the
/// output is written by the same functions as for a local store.
fn run_remote(url: &str, command: Command, out: &mut dyn Write) -> anyhow::Result<Verdict> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let mut remote = newsarc_server::remote::Remote::connect(url).await?;
        match command {
            Command::Log(args) => {
                let history = remote.history(&args.article, args.stat).await?;
                newsarc::history::write_log(&history, args.json, out)?;
            }
            Command::Show(args) => {
                let format = show_format(&args);
                let shown = remote.shown(&args.revision, format).await?;
                newsarc::show::write_shown(&shown, format, out)?;
            }
            Command::Diff(args) => {
                let mut options = diff_options(&args);
                let diff = remote.diff(&options).await?;
                match &args.output {
                    Some(path) => write_replacing(path, |file| {
                        Ok(newsarc::diff::write_diff(&diff, &options, file)?)
                    })?,
                    None => {
                        options.color = wants_color();
                        newsarc::diff::write_diff(&diff, &options, out)?;
                    }
                }
            }
            Command::Articles(args) => {
                let options = ArticlesOptions {
                    since: args.since,
                    json: args.json,
                };
                newsarc::history::write_articles(remote.articles().await?, &options, out)?;
            }
            Command::Stats(args) => {
                newsarc::report::write_stats(&remote.stats().await?, args.json, out)?;
            }
            Command::Unwatch(args) => {
                let results = remote.unwatch(&args.urls).await?;
                newsarc::watch::write_unwatched(&results, args.json, out)?;
                return Ok(unwatch_verdict(&results));
            }
            Command::Ingest(_)
            | Command::Export(_)
            | Command::Import(_)
            | Command::Verify(_)
            | Command::Repair(_)
            | Command::Upgrade(_)
            | Command::Serve(_)
            | Command::Fetch(_)
            | Command::Watch(_) => bail!(
                "--remote covers log, show, diff, articles, stats and unwatch; ingest, verify, repair, upgrade and serve work on a local store (over gRPC use the Ingest and Verify RPCs)"
            ),
        }
        anyhow::Ok(Verdict::Clean)
    })
}

/// Runs the gRPC server until SIGINT or SIGTERM, then drains and flushes.
fn serve(
    store: &Path,
    cache_bytes: u64,
    args: ServeArgs,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let token = match &args.token_file {
        Some(path) => {
            let token = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the token file {}", path.display()))?;
            let token = token.trim().to_owned();
            if token.is_empty() {
                bail!("the token file {} is empty", path.display());
            }
            Some(token)
        }
        None => None,
    };
    let settings = newsarc_server::Settings {
        read_only: args.read_only,
        token,
        max_message_bytes: args.max_message_bytes,
        drain_grace: std::time::Duration::from_secs(args.drain_seconds),
    };
    newsarc_server::check_exposure(args.addr, &settings)?;
    let archive = Arc::new(Archive::open(store, &writing(cache_bytes))?);
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("cannot listen on {}", args.addr))?;
        let local = listener.local_addr()?;
        // Commands refused by the store's lock say where to ask instead.
        archive
            .store()
            .announce_server(&format!("http://{local}"))?;
        writeln!(out, "newsarc: serving {} on {local}", store.display())?;
        out.flush()?;
        let served =
            newsarc_server::serve(Arc::clone(&archive), settings, listener, shutdown_signal())
                .await;
        archive.store().withdraw_server();
        served?;
        anyhow::Ok(())
    })
}

/// The watch configuration from `--config`, or the defaults.
fn watch_config(path: Option<&Path>) -> anyhow::Result<WatchConfig> {
    match path {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the config file {}", path.display()))?;
            Ok(WatchConfig::from_toml(&text, &path.display().to_string())?)
        }
        None => Ok(WatchConfig::default()),
    }
}

/// Opens (creating) the store with the extra key rules, for fetching.
fn open_for_fetching(
    store: &Path,
    cache_bytes: u64,
    rules: Option<&Path>,
) -> anyhow::Result<Archive> {
    let mut archive = Archive::open(store, &writing(cache_bytes))?;
    if let Some(rules) = rules {
        archive.add_rules_file(rules)?;
    }
    Ok(archive)
}

/// Structured logs on stderr when it is not a terminal (a terminal gets
/// progress bars and a live summary instead); `RUST_LOG` overrides both.
fn init_logs() {
    let filter = std::env::var("RUST_LOG").ok();
    if filter.is_none() && std::io::stderr().is_terminal() {
        return;
    }
    let filter = tracing_subscriber::EnvFilter::new(filter.as_deref().unwrap_or("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn fetch(
    store: &Path,
    cache_bytes: u64,
    args: FetchArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Verdict> {
    // A typo is refused before a store is created or opened.
    for url in &args.urls {
        newsarc::fetch::check_url(url)?;
    }
    let config = watch_config(args.setup.config.as_deref())?;
    let archive = open_for_fetching(store, cache_bytes, args.setup.rules.as_deref())?;
    let fetcher = Fetcher::new(config.fetch.clone())?;
    init_logs();
    let options = FetchOptions {
        urls: args.urls,
        json: args.setup.json,
    };
    let recheck = Recheck {
        policy: config.recheck,
        backoff: config.backoff,
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let summary = runtime.block_on(archive.fetch(
        &fetcher,
        &options,
        &recheck,
        out,
        &mut Bar::new("fetch"),
    ))?;
    Ok(if summary.failed > 0 {
        Verdict::ProblemsFound
    } else {
        Verdict::Clean
    })
}

/// Watches until the rounds are done or SIGINT/SIGTERM; everything
/// reported before the signal is durable.
fn watch(
    store: &Path,
    cache_bytes: u64,
    args: WatchArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Verdict> {
    let mut config = watch_config(args.setup.config.as_deref())?;
    if let Some(limit) = args.max_concurrency {
        config.max_concurrency = usize::from(limit);
    }
    let archive = open_for_fetching(store, cache_bytes, args.setup.rules.as_deref())?;
    let fetcher = Fetcher::new(config.fetch.clone())?;
    init_logs();
    let options = WatchOptions {
        feeds: args.feeds,
        rounds: args.once.then_some(1),
        config,
        json: args.setup.json,
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let mut bar = Bar::new("watch");
    let rounds = runtime.block_on(async {
        tokio::select! {
            rounds = archive.watch(&fetcher, &SystemClock, &options, out, &mut bar) => {
                anyhow::Ok(rounds?)
            }
            // What the rounds reported before the signal is durable; a
            // round cut short says nothing about failures.
            () = shutdown_signal() => anyhow::Ok(Vec::new()),
        }
    })?;
    bar.finish();
    Ok(match newsarc::watch::watch_verdict(&rounds) {
        WatchVerdict::Clean => Verdict::Clean,
        WatchVerdict::SomeFailed => Verdict::ProblemsFound,
        WatchVerdict::NothingFetched => {
            Verdict::NothingDone("nothing could be fetched: every feed and URL due failed")
        }
    })
}

fn unwatch_verdict(results: &[newsarc::watch::Unwatched]) -> Verdict {
    if results.iter().any(|result| result.error.is_some()) {
        Verdict::ProblemsFound
    } else {
        Verdict::Clean
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

fn run(cli: Cli, out: &mut dyn Write) -> anyhow::Result<Verdict> {
    if let Some(url) = cli.remote {
        return run_remote(&url, cli.command, out);
    }
    let store = match cli.store {
        Some(dir) => dir,
        None => default_store()?,
    };
    let cache = cli.cache_mib.saturating_mul(1024 * 1024);
    match cli.command {
        Command::Ingest(args) => {
            let mut archive = Archive::open(&store, &writing(cache))?;
            if let Some(rules) = &args.rules {
                archive.add_rules_file(rules)?;
            }
            let options = IngestOptions {
                paths: args.paths,
                fetched_at: args.fetched_at,
                url: args.url,
                json: args.json,
            };
            let summary = archive.ingest(&options, out, &mut Bar::new("ingest"))?;
            Ok(if summary.failed > 0 {
                Verdict::ProblemsFound
            } else {
                Verdict::Clean
            })
        }
        Command::Log(args) => {
            let options = LogOptions {
                article: args.article,
                json: args.json,
                stat: args.stat,
            };
            open_existing(&store, cache)?.log(&options, out)?;
            Ok(Verdict::Clean)
        }
        Command::Show(args) => {
            let options = ShowOptions {
                format: show_format(&args),
                revision: args.revision,
            };
            open_existing(&store, cache)?.show(&options, out)?;
            Ok(Verdict::Clean)
        }
        Command::Diff(args) => {
            let archive = open_existing(&store, cache)?;
            let mut options = diff_options(&args);
            match args.output {
                Some(path) => write_replacing(&path, |file| Ok(archive.diff(&options, file)?))?,
                None => {
                    options.color = wants_color();
                    archive.diff(&options, out)?;
                }
            }
            Ok(Verdict::Clean)
        }
        Command::Articles(args) => {
            let options = ArticlesOptions {
                since: args.since,
                json: args.json,
            };
            open_existing(&store, cache)?.articles(&options, out)?;
            Ok(Verdict::Clean)
        }
        Command::Stats(args) => {
            open_existing(&store, cache)?.write_stats(args.json, out)?;
            Ok(Verdict::Clean)
        }
        Command::Serve(args) => {
            serve(&store, cache, args, out)?;
            Ok(Verdict::Clean)
        }
        Command::Export(args) => {
            let archive = open_existing(&store, cache)?;
            let mut moved = None;
            write_replacing(&args.file, |file| {
                moved = Some(archive.export(file, &mut Bar::new("export"))?);
                Ok(())
            })?;
            if let Some(moved) = moved {
                writeln!(
                    out,
                    "exported {} records with {} documents ({} bytes) of {} to {}",
                    moved.records,
                    moved.documents,
                    moved.bytes,
                    store.display(),
                    args.file.display()
                )?;
                if !moved.skipped.is_empty() {
                    writeln!(
                        out,
                        "warning: {} damaged frames were passed over ({}): `newsarc verify` names what they held",
                        moved.skipped.len(),
                        moved.skipped.join(", ")
                    )?;
                    return Ok(Verdict::ProblemsFound);
                }
            }
            Ok(Verdict::Clean)
        }
        Command::Import(args) => {
            let file = std::fs::File::open(&args.file)
                .with_context(|| format!("cannot read {}", args.file.display()))?;
            let moved = Archive::import(
                &store,
                &mut std::io::BufReader::new(file),
                &mut Bar::new("import"),
            )
            .with_context(|| format!("cannot import {}", args.file.display()))?;
            writeln!(
                out,
                "imported {} records with {} documents from {} into {}; `newsarc verify` checks them",
                moved.records,
                moved.documents,
                args.file.display(),
                store.display()
            )?;
            Ok(Verdict::Clean)
        }
        Command::Fetch(args) => fetch(&store, cache, args, out),
        Command::Watch(args) => watch(&store, cache, args, out),
        Command::Repair(args) => repair(&store, cache, args, out),
        Command::Unwatch(args) => {
            let archive = Archive::open(&store, &writing(cache))?;
            let results = archive.unwatch(&args.urls, args.json, out)?;
            Ok(unwatch_verdict(&results))
        }
        Command::Upgrade(args) => {
            newsarc::repair::upgrade(
                &store,
                &writing(cache),
                args.json,
                out,
                &mut Bar::new("upgrade"),
            )?;
            Ok(Verdict::Clean)
        }
        Command::Verify(args) => {
            let stop = Arc::new(AtomicBool::new(false));
            signal_hook::flag::register(signal_hook::consts::SIGINT, Arc::clone(&stop))
                .context("cannot catch Ctrl-C")?;
            let options = VerifyOptions {
                deep: args.deep,
                json: args.json,
            };
            let report = open_existing(&store, cache)?.verify(
                &options,
                &stop,
                out,
                &mut Bar::new("verify"),
            )?;
            Ok(if report.ok() {
                Verdict::Clean
            } else {
                Verdict::ProblemsFound
            })
        }
    }
}

/// `repair`: see `newsarc repair --help`.
fn repair(
    store: &Path,
    cache: u64,
    args: RepairArgs,
    out: &mut dyn Write,
) -> anyhow::Result<Verdict> {
    let options = RepairOptions {
        dry_run: args.dry_run,
        rebuild_index: args.rebuild_index,
        backup: !args.no_backup,
        json: args.json,
    };
    let report = newsarc::repair::repair(
        store,
        &writing(cache),
        &options,
        out,
        &mut Bar::new("repair"),
    )?;
    Ok(if report.unrecoverable.is_empty() {
        Verdict::Clean
    } else {
        Verdict::ProblemsFound
    })
}

#[cfg(test)]
mod tests {
    use super::color_wanted;
    use std::ffi::OsStr;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(color_wanted(true, None));
        assert!(color_wanted(true, Some(OsStr::new(""))));
        assert!(!color_wanted(true, Some(OsStr::new("1"))));
        assert!(!color_wanted(false, None));
    }
}
