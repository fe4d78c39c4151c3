//! The record as a new user finds it (the ingest-fidelity issue): re-runs add
//! nothing, late captures take their place in time, refs read the way people
//! type them, fetches keep what they fetched, and every message says what,
//! where and what to do, once.

use std::process::Command;

use serde_json::Value;

use crate::server::start_server;
use crate::site::{Route, Site, article_html};
use crate::{example_store, examples, newsarc, stderr, stdout};

const LIBRARY: &str = "news.example.com/zh/city/library-renovation-1001.html";
const BRIDGE: &str = "example.org/news/2026/02/10/river-bridge-reopens";

fn json(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("{err}: {}{}", stdout(output), stderr(output)))
}

fn example(name: &str) -> String {
    examples().join(name).display().to_string()
}

#[test]
fn running_an_ingest_again_adds_nothing() {
    let store = tempfile::tempdir().unwrap();
    let examples = examples();
    let first = newsarc(store.path(), &["ingest", examples.to_str().unwrap()]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let log_before = stdout(&newsarc(store.path(), &["log", "--json", LIBRARY]));
    let again = newsarc(store.path(), &["ingest", examples.to_str().unwrap()]);
    assert_eq!(
        stdout(&again),
        "6 files: 0 new articles, 0 new revisions, 0 unchanged, 6 already archived, 0 failed\n"
    );
    assert_eq!(
        stdout(&newsarc(store.path(), &["log", "--json", LIBRARY])),
        log_before
    );
    let stats = json(&newsarc(store.path(), &["stats", "--json"]));
    assert_eq!(
        (stats["revisions"].as_u64(), stats["observations"].as_u64()),
        (Some(6), Some(0))
    );
}

#[test]
fn a_capture_archived_late_takes_its_place_in_time() {
    let store = tempfile::tempdir().unwrap();
    for (file, time) in [
        ("library-renovation/02.md", "2026-03-02T12:00:00Z"),
        ("library-renovation/01.md", "2026-03-01T12:00:00Z"),
        ("library-renovation/03.md", "2026-03-03T12:00:00Z"),
        // The same bytes seen again between the first two: an observation
        // of the revision current then.
        ("library-renovation/01.md", "2026-03-01T18:00:00Z"),
    ] {
        let output = newsarc(
            store.path(),
            &["ingest", "--fetched-at", time, &example(file)],
        );
        assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    }
    let log = json(&newsarc(store.path(), &["log", "--json", LIBRARY]));
    let entries = log.as_array().unwrap();
    let times: Vec<&str> = entries
        .iter()
        .map(|e| e["fetched_at"].as_str().unwrap())
        .collect();
    assert_eq!(
        times,
        [
            "2026-03-01T12:00:00.000Z",
            "2026-03-02T12:00:00.000Z",
            "2026-03-03T12:00:00.000Z"
        ]
    );
    let changes: Vec<&str> = entries
        .iter()
        .map(|e| e["change"].as_str().unwrap())
        .collect();
    assert_eq!(changes, ["new", "body", "metadata"]);
    // The chain keeps the order the archive learnt things in.
    let seqs: Vec<u64> = entries.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [2, 1, 3]);
    let stats = json(&newsarc(store.path(), &["stats", "--json"]));
    assert_eq!(stats["observations"], 1);
    // The article's summary names the last revision in time.
    let articles = json(&newsarc(store.path(), &["articles", "--json"]));
    assert_eq!(articles[0]["title"], "市图书馆翻新工程将于四月动工");
    let first_in_time = newsarc(store.path(), &["diff", &format!("{LIBRARY}@2")]);
    assert_eq!(first_in_time.status.code(), Some(2));
    assert!(
        stderr(&first_in_time).contains("nothing before it"),
        "{}",
        stderr(&first_in_time)
    );
    let verify = newsarc(store.path(), &["verify"]);
    assert_eq!(verify.status.code(), Some(0), "{}", stdout(&verify));
}

#[test]
fn a_fetch_time_in_the_future_is_refused_naming_it() {
    let store = tempfile::tempdir().unwrap();
    let output = newsarc(
        store.path(),
        &[
            "ingest",
            "--fetched-at",
            "2099-01-01T00:00:00Z",
            &example("river-bridge/01.md"),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("2099-01-01T00:00:00.000Z is in the future"),
        "{}",
        stderr(&output)
    );

    // A file whose modification time lies ahead is refused by name.
    let dir = tempfile::tempdir().unwrap();
    let post = dir.path().join("ahead.md");
    std::fs::copy(examples().join("river-bridge/01.md"), &post).unwrap();
    let ahead = std::time::SystemTime::now() + std::time::Duration::from_secs(86_400);
    std::fs::File::options()
        .write(true)
        .open(&post)
        .unwrap()
        .set_modified(ahead)
        .unwrap();
    let output = newsarc(store.path(), &["ingest", post.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains("is in the future"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn refs_read_the_way_people_type_them() {
    let store = example_store();
    let bytes = |name: &str| std::fs::read(examples().join(name)).unwrap();
    for latest in [
        BRIDGE.to_owned(),
        format!("{BRIDGE}@0"),
        format!("https://{BRIDGE}"),
    ] {
        let raw = newsarc(store.path(), &["show", "--raw", &latest]);
        assert_eq!(raw.status.code(), Some(0), "{latest}: {}", stderr(&raw));
        assert_eq!(raw.stdout, bytes("river-bridge/03.md"), "{latest}");
    }
    // A date alone: the state at the end of that day, UTC.
    let raw = newsarc(
        store.path(),
        &["show", "--raw", &format!("{BRIDGE}@2026-03-02")],
    );
    assert_eq!(raw.stdout, bytes("river-bridge/02.md"));
    let raw = newsarc(
        store.path(),
        &["show", "--raw", &format!("{BRIDGE}@20260301")],
    );
    assert_eq!(raw.stdout, bytes("river-bridge/01.md"));

    // One revision alone is compared with the one before it.
    let alone = newsarc(
        store.path(),
        &["diff", "--format", "json", &format!("{LIBRARY}@2")],
    );
    assert_eq!(alone.status.code(), Some(0), "{}", stderr(&alone));
    let both = newsarc(
        store.path(),
        &[
            "diff",
            "--format",
            "json",
            &format!("{LIBRARY}@1"),
            &format!("{LIBRARY}@2"),
        ],
    );
    assert_eq!(alone.stdout, both.stdout);
    assert_eq!(json(&alone)["change"], "body");

    let same = newsarc(
        store.path(),
        &["diff", &format!("{LIBRARY}@2"), &format!("{LIBRARY}@2")],
    );
    assert_eq!(same.status.code(), Some(0), "{}", stderr(&same));
    assert!(stdout(&same).contains("no change"), "{}", stdout(&same));
    assert!(!stdout(&same).contains("whitespace"), "{}", stdout(&same));

    let year = newsarc(store.path(), &["show", &format!("{BRIDGE}@2026")]);
    assert_eq!(year.status.code(), Some(2));
    assert!(
        stderr(&year).contains("write @2026-12-31"),
        "{}",
        stderr(&year)
    );
}

#[test]
fn a_saved_page_without_a_url_ingests_with_url() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("saved.html");
    std::fs::write(&page, article_html("Saved", "A page saved from a browser.")).unwrap();
    let store = dir.path().join("store");
    let without = newsarc(&store, &["ingest", page.to_str().unwrap()]);
    assert_eq!(without.status.code(), Some(1));
    assert!(
        stdout(&without).contains("no article URL"),
        "{}",
        stdout(&without)
    );
    let url = "https://example.org/saved/story";
    let with = newsarc(&store, &["ingest", "--url", url, page.to_str().unwrap()]);
    assert_eq!(with.status.code(), Some(0), "{}", stdout(&with));
    let log = newsarc(&store, &["log", url]);
    assert_eq!(log.status.code(), Some(0), "{}", stderr(&log));
    let many = newsarc(
        &store,
        &[
            "ingest",
            "--url",
            url,
            page.to_str().unwrap(),
            page.to_str().unwrap(),
        ],
    );
    assert_eq!(many.status.code(), Some(2));
    assert!(
        stderr(&many).contains("one saved page"),
        "{}",
        stderr(&many)
    );
}

#[test]
fn fetches_keep_what_they_fetched() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let site = runtime.block_on(Site::start());
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");

    // A redirect: the URL asked for and the one that answered both find it.
    site.route("/news", Route::Redirect("/news/".into()));
    site.article("/news/", "Front", "The story behind the redirect.", None);
    let asked = site.url("/news");
    let fetched = newsarc(&store, &["fetch", "--json", &asked]);
    assert_eq!(fetched.status.code(), Some(0), "{}", stderr(&fetched));
    for url in [asked.clone(), site.url("/news/")] {
        let log = newsarc(&store, &["log", &url]);
        assert_eq!(log.status.code(), Some(0), "{url}: {}", stderr(&log));
    }

    // A directory listing is a failed attempt with that reason.
    site.route(
        "/files/",
        Route::Page {
            body: b"<html><head><title>Directory listing for /files/</title></head><body><h1>Directory listing for /files/</h1><ul><li><a href=\"a.txt\">a.txt</a></li></ul></body></html>".to_vec(),
            content_type: "text/html; charset=utf-8",
            etag: None,
            last_modified: None,
        },
    );
    let listing = newsarc(&store, &["fetch", "--json", &site.url("/files/")]);
    assert_eq!(listing.status.code(), Some(1));
    let line: Value = serde_json::from_str(stdout(&listing).trim()).unwrap();
    assert_eq!(line["outcome"], "failed");
    assert!(
        line["error"]
            .as_str()
            .unwrap()
            .contains("directory listing"),
        "{line}"
    );

    // A URL fetched by hand can be taken off the schedule.
    let unwatch = newsarc(&store, &["unwatch", &asked]);
    assert_eq!(unwatch.status.code(), Some(0), "{}", stderr(&unwatch));
    assert_eq!(stdout(&unwatch), format!("unwatched  {asked}\n"));
    let unknown = newsarc(&store, &["unwatch", "https://example.org/never-seen"]);
    assert_eq!(unknown.status.code(), Some(1));
    let archive = newsarc::Archive::open(&store, &newsarc::StoreConfig::default()).unwrap();
    assert_eq!(
        archive
            .store()
            .url_state(&asked)
            .unwrap()
            .unwrap()
            .next_check,
        None
    );
}

#[test]
fn watch_says_in_its_exit_code_whether_fetching_failed() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let site = runtime.block_on(Site::start());
    let dir = tempfile::tempdir().unwrap();
    let watch = |store: &std::path::Path, feeds: &[String]| {
        let file = dir.path().join("feeds.txt");
        std::fs::write(&file, feeds.join("\n")).unwrap();
        newsarc(
            store,
            &["watch", "--once", "--feeds", file.to_str().unwrap()],
        )
    };
    // Nothing answers: exit 2.
    let nothing = watch(&dir.path().join("a"), &["http://127.0.0.1:9/rss".into()]);
    assert_eq!(nothing.status.code(), Some(2), "{}", stdout(&nothing));
    assert!(
        stderr(&nothing).contains("nothing could be fetched"),
        "{}",
        stderr(&nothing)
    );
    // Some of it fails: exit 1.
    site.article("/ok", "OK", "A story.", None);
    site.route("/broken", Route::Status(500, None));
    site.feed("/rss", &[site.url("/ok"), site.url("/broken")]);
    let some = watch(&dir.path().join("b"), &[site.url("/rss")]);
    assert_eq!(some.status.code(), Some(1), "{}", stdout(&some));
}

#[test]
fn messages_say_what_where_and_what_to_do_once() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let site = runtime.block_on(Site::start());
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");

    let url = "http://127.0.0.1:9/refused";
    let failed = newsarc(&store, &["fetch", url]);
    let line = stdout(&failed);
    let line = line.lines().next().unwrap();
    assert_eq!(line.matches(url).count(), 1, "{line}");

    // --remote without a scheme, and at something that is no gRPC server.
    let (mut server, remote) = start_server(&dir.path().join("served"));
    let host_port = remote.trim_start_matches("http://");
    let stats = Command::new(env!("CARGO_BIN_EXE_newsarc"))
        .args(["--remote", host_port, "stats"])
        .env_remove("NEWSARC_STORE")
        .output()
        .unwrap();
    assert_eq!(stats.status.code(), Some(0), "{}", stderr(&stats));
    let served_store = dir.path().join("served");
    let held = newsarc(&served_store, &["log", "example.org/x"]);
    assert_eq!(held.status.code(), Some(2));
    let message = stderr(&held);
    assert!(
        message.contains(&format!("--remote {remote}"))
            && message.contains("held by `newsarc serve`"),
        "{message}"
    );
    server.kill().unwrap();
    server.wait().unwrap();
    let plain = Command::new(env!("CARGO_BIN_EXE_newsarc"))
        .args(["--remote", site.url("/").trim_end_matches('/'), "stats"])
        .env_remove("NEWSARC_STORE")
        .output()
        .unwrap();
    assert_eq!(plain.status.code(), Some(2));
    let message = stderr(&plain);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(
        message.contains("is no gRPC server") && !message.contains("hyper"),
        "{message}"
    );

    // A plain HTTP/1.1 server, which cannot even start an HTTP/2 exchange.
    let http1 = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let http1_addr = http1.local_addr().unwrap();
    // It answers for a while rather than for a number of connections: the
    // client reconnects as it likes (in one CI run a connection after the
    // fourth was refused), and the server stops by itself.
    http1.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::time::Instant::now() < until {
            match http1.accept() {
                Ok((mut stream, _)) => {
                    use std::io::Write;
                    let _ = stream.set_nonblocking(false);
                    let _ =
                        stream.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
                }
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
            }
        }
    });
    let old_web = Command::new(env!("CARGO_BIN_EXE_newsarc"))
        .args(["--remote", &http1_addr.to_string(), "stats"])
        .env_remove("NEWSARC_STORE")
        .output()
        .unwrap();
    assert_eq!(old_web.status.code(), Some(2));
    let message = stderr(&old_web);
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(
        // It answers before or after it closes the connection: either
        // reads as a server that is not newsarc's.
        message.contains("gRPC (HTTP/2)") && !message.contains("hyper"),
        "{message}"
    );

    // A listening address by host name.
    let (mut local, local_url) = {
        let mut child = Command::new(env!("CARGO_BIN_EXE_newsarc"))
            .arg("--store")
            .arg(dir.path().join("local"))
            .args(["serve", "--addr", "localhost:0"])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        (child, line)
    };
    assert!(local_url.contains("on 127.0.0.1:"), "{local_url}");
    local.kill().unwrap();
    local.wait().unwrap();

    // A file that is no export.
    let not_export = dir.path().join("notes.txt");
    std::fs::write(&not_export, "shopping list\n").unwrap();
    let import = newsarc(
        &dir.path().join("imported"),
        &["import", not_export.to_str().unwrap()],
    );
    assert_eq!(import.status.code(), Some(2));
    assert!(
        stderr(&import).contains("not a newsarc export"),
        "{}",
        stderr(&import)
    );
}

#[test]
fn provenance_keeps_the_path_as_given() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("posts")).unwrap();
    std::fs::copy(
        examples().join("river-bridge/01.md"),
        dir.path().join("posts/01.md"),
    )
    .unwrap();
    let ingest = Command::new(env!("CARGO_BIN_EXE_newsarc"))
        .current_dir(dir.path())
        .args(["--store", "store", "ingest", "posts"])
        .env_remove("NEWSARC_STORE")
        .output()
        .unwrap();
    assert_eq!(ingest.status.code(), Some(0), "{}", stderr(&ingest));
    let store = dir.path().join("store");
    let first = format!("{BRIDGE}@1");
    let shown = json(&newsarc(&store, &["show", "--json", &first]));
    assert_eq!(shown["source"], "posts/01.md");
    let (mut server, remote) = start_server(&store);
    let far = Command::new(env!("CARGO_BIN_EXE_newsarc"))
        .args(["--remote", &remote, "show", "--json", &first])
        .env_remove("NEWSARC_STORE")
        .output()
        .unwrap();
    assert_eq!(json(&far)["source"], "posts/01.md");
    server.kill().unwrap();
    server.wait().unwrap();
}
