//! Hostile and malformed input through the real binary: every fixture in
//! `tests/hostile/fixtures/` and `crates/parse/tests/fixtures/bad/`, plus
//! inputs too big to commit (made here: a 100 MB single line, a 12 MB one,
//! 100,000 and 2,000 nested elements, a 10 MB attribute, a FIFO and a directory named
//! `.md`, an article with 10,000 revisions).
//!
//! For each: `newsarc ingest --json FILE` either stores a revision whose
//! exact bytes `show --raw` gives back, or reports an error naming the file,
//! after which `stats` is unchanged and `verify` is clean. Every run has a
//! time limit and its peak memory (sampled from `/proc`) has a bound.
//! `NEWSARC_HOSTILE_REVISIONS` sets the long article's length (default
//! 10,000).

// A test that meets an unexpected value should stop right there.
#![allow(clippy::unwrap_used)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// What a fixture must give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// A stored revision (its bytes come back exactly).
    Revision,
    /// An error whose message contains this text.
    Error(&'static str),
}

/// Every committed fixture and what it must give. A fixture missing here,
/// or listed but missing, fails the test.
const FIXTURES: &[(&str, Expect)] = &[
    // Encoding: bytes that are not UTF-8 are read in the encoding a guess
    // gives (and kept exactly as they are); UTF-16 by its byte order mark.
    ("utf8-invalid-in-title.md", Expect::Revision),
    ("utf8-invalid-in-body.md", Expect::Revision),
    ("utf8-overlong-slash.md", Expect::Revision),
    ("utf8-encoded-surrogate.md", Expect::Revision),
    ("utf8-truncated-sequence-at-eof.md", Expect::Revision),
    ("utf16le-with-bom.md", Expect::Revision),
    ("utf8-bom.md", Expect::Revision),
    // Front matter.
    (
        "front-matter-never-closed.md",
        Expect::Error("never closed"),
    ),
    (
        "front-matter-closed-at-eof.md",
        Expect::Error("body is empty"),
    ),
    (
        "front-matter-only-dashes.md",
        Expect::Error("no article URL"),
    ),
    (
        "front-matter-indented-closing.md",
        Expect::Error("never closed"),
    ),
    ("front-matter-scalar.md", Expect::Error("front matter")),
    ("front-matter-null.md", Expect::Error("no article URL")),
    (
        "unterminated-front-matter.md",
        Expect::Error("never closed"),
    ),
    ("broken-yaml.md", Expect::Error("front matter")),
    ("front-matter-list.md", Expect::Error("front matter")),
    (
        "yaml-billion-laughs.md",
        Expect::Error("repetition limit exceeded"),
    ),
    // Found by fuzzing: the YAML scanner's time grows with brackets × depth.
    (
        "yaml-deep-nesting.md",
        Expect::Error("brackets nested more than 128 deep"),
    ),
    ("yaml-tab-indentation.md", Expect::Error("front matter")),
    (
        "yaml-duplicate-keys.md",
        Expect::Error("duplicate entry with key \"from\""),
    ),
    (
        "yaml-from-is-a-list.md",
        Expect::Error("'from' must be one URL, found a list"),
    ),
    (
        "yaml-from-is-a-mapping.md",
        Expect::Error("found a mapping"),
    ),
    ("yaml-from-is-empty.md", Expect::Error("no article URL")),
    (
        "yaml-from-is-a-number.md",
        Expect::Error("'12345' is not an absolute http(s) URL"),
    ),
    ("yaml-title-is-a-number.md", Expect::Revision),
    ("yaml-custom-tags.md", Expect::Revision),
    ("yaml-many-keys.md", Expect::Revision),
    ("yaml-huge-title.md", Expect::Revision),
    // NUL bytes and binary files.
    ("nul-in-body.md", Expect::Error("NUL byte")),
    ("nul-in-front-matter.md", Expect::Error("NUL byte")),
    ("png-named-md.md", Expect::Error("NUL byte")),
    ("gzip-named-md.md", Expect::Error("NUL byte")),
    ("binary.md", Expect::Error("NUL byte")),
    ("empty.md", Expect::Error("no article URL")),
    ("whitespace-only.md", Expect::Error("no article URL")),
    ("newlines-only.md", Expect::Error("no article URL")),
    ("empty-body.md", Expect::Error("body is empty")),
    // URLs.
    ("url-missing-everywhere.md", Expect::Error("no article URL")),
    ("no-url.md", Expect::Error("no article URL")),
    ("url-conflicting.md", Expect::Revision),
    (
        "url-javascript-scheme.md",
        Expect::Error("javascript:alert(1)"),
    ),
    ("url-data-scheme.md", Expect::Error("data:text/html")),
    ("url-relative.md", Expect::Error("/news/relative")),
    ("url-with-credentials.md", Expect::Revision),
    ("url-huge.md", Expect::Revision),
    ("url-idn.md", Expect::Revision),
    ("url-ipv6.md", Expect::Revision),
    ("url-with-spaces.md", Expect::Revision),
    ("url-tracking-and-fragment.md", Expect::Revision),
    ("url-no-host.md", Expect::Revision),
    ("url-control-characters.md", Expect::Revision),
    ("bad-url.md", Expect::Error("ftp://example.org/file")),
    // Dates.
    ("epoch-far-future.md", Expect::Revision),
    ("epoch-negative.md", Expect::Revision),
    ("epoch-not-a-number.md", Expect::Revision),
    ("date-year-99999.md", Expect::Revision),
    ("date-year-zero.md", Expect::Revision),
    ("date-garbage.md", Expect::Revision),
    // HTML.
    ("html-unclosed-tags.md", Expect::Revision),
    ("html-script-only.md", Expect::Error("body is empty")),
    ("html-entity-soup.md", Expect::Revision),
    ("html-unterminated-comment.md", Expect::Revision),
    ("html-cdata-and-svg.md", Expect::Revision),
    ("html-bidi-and-zero-width.md", Expect::Revision),
    ("html-crlf-line-endings.md", Expect::Revision),
    // Without a line feed there are no lines: refused, saying why.
    (
        "html-cr-only-line-endings.md",
        Expect::Error("bare carriage return"),
    ),
    ("html-chinese-no-spaces.md", Expect::Revision),
];

/// Peak memory allowed for one `ingest` of a file of `size` bytes: the
/// process's own footprint plus a few copies of the document (its bytes,
/// its text, its parse tree, its compressed form).
fn memory_bound_kib(size: u64) -> u64 {
    256 * 1024 + 8 * size / 1024
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// What one run of the binary did.
struct Run {
    code: Option<i32>,
    /// Standard output as written (`show --raw` of a legacy encoding is
    /// not UTF-8).
    raw_stdout: Vec<u8>,
    stdout: String,
    stderr: String,
    peak_kib: u64,
}

/// Runs `newsarc --store STORE ARGS…`, killing it after `limit`, and
/// samples its peak resident memory (`VmHWM` in `/proc`, a high-water mark,
/// read every few milliseconds until the process exits).
fn run(store: &Path, args: &[&str], limit: Duration) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_newsarc"))
        .arg("--store")
        .arg(store)
        .args(["--cache-mib", "16"])
        .args(args)
        .env_remove("NEWSARC_STORE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).unwrap();
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let status_file = format!("/proc/{}/status", child.id());
    let started = Instant::now();
    let mut peak_kib = 0;
    let status = loop {
        if let Ok(status) = std::fs::read_to_string(&status_file)
            && let Some(kib) = status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        {
            peak_kib = peak_kib.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("newsarc {args:?} ran longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let raw_stdout = stdout.join().unwrap();
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&raw_stdout).into_owned(),
        raw_stdout,
        stderr: String::from_utf8_lossy(&stderr.join().unwrap()).into_owned(),
        peak_kib,
    }
}

const LIMIT: Duration = Duration::from_secs(120);

/// A store with the example articles, checked clean.
fn base_store() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let examples = repo().join("examples/articles");
    let ingest = run(dir.path(), &["ingest", examples.to_str().unwrap()], LIMIT);
    assert_eq!(ingest.code, Some(0), "{}", ingest.stderr);
    dir
}

fn stats(store: &Path) -> String {
    let stats = run(store, &["stats", "--json"], LIMIT);
    assert_eq!(stats.code, Some(0), "{}", stats.stderr);
    // The directory's size moves with sled's housekeeping; the counts must not.
    let mut value: Value = serde_json::from_str(&stats.stdout).unwrap();
    value.as_object_mut().unwrap().remove("stored_bytes");
    value.to_string()
}

/// Ingests `file` and checks the contract; returns the outcome line.
fn check(store: &Path, file: &Path, expect: Expect) -> Value {
    let name = file.display().to_string();
    let before = stats(store);
    let size = std::fs::metadata(file).map_or(0, |meta| meta.len());
    let ingest = run(store, &["ingest", "--json", &name], LIMIT);
    assert!(
        !ingest.stderr.contains("panicked"),
        "{name}: ingest panicked: {}",
        ingest.stderr
    );
    assert!(
        ingest.peak_kib <= memory_bound_kib(size),
        "{name}: peak memory {} KiB over the bound of {} KiB",
        ingest.peak_kib,
        memory_bound_kib(size)
    );
    let line: Value = serde_json::from_str(ingest.stdout.trim())
        .unwrap_or_else(|_| panic!("{name}: no JSON line: {}{}", ingest.stdout, ingest.stderr));
    assert_eq!(line["path"], name.as_str(), "the line names the file");
    match expect {
        Expect::Revision => {
            assert_eq!(ingest.code, Some(0), "{name}: {line}");
            let revision = line["revision"].as_str().unwrap();
            let raw = run(store, &["show", "--raw", revision], LIMIT);
            assert_eq!(raw.code, Some(0), "{name}: {}", raw.stderr);
            let bytes = std::fs::read(file).unwrap();
            assert!(
                raw.raw_stdout == bytes,
                "{name}: show --raw did not give the file's bytes back"
            );
        }
        Expect::Error(text) => {
            assert_eq!(ingest.code, Some(1), "{name}: {line}");
            assert_eq!(line["outcome"], "error", "{name}: {line}");
            let error = line["error"].as_str().unwrap();
            assert!(error.contains(text), "{name}: {error:?} lacks {text:?}");
            assert_eq!(
                stats(store),
                before,
                "{name}: a failed file changed the store"
            );
        }
    }
    let verify = run(store, &["verify"], LIMIT);
    assert_eq!(verify.code, Some(0), "{name}: {}", verify.stdout);
    println!(
        "{:<40} {:>10} bytes  peak {:>7} KiB  {}",
        file.file_name().unwrap().to_string_lossy(),
        size,
        ingest.peak_kib,
        line["error"].as_str().unwrap_or("revision stored")
    );
    line
}

#[test]
fn every_committed_fixture_gives_its_revision_or_a_clear_error() {
    let dirs = [
        repo().join("tests/hostile/fixtures"),
        repo().join("crates/parse/tests/fixtures/bad"),
    ];
    let mut found: Vec<PathBuf> = dirs
        .iter()
        .flat_map(|dir| std::fs::read_dir(dir).unwrap())
        .map(|entry| entry.unwrap().path())
        .collect();
    found.sort();
    let mut listed: Vec<&str> = FIXTURES.iter().map(|(name, _)| *name).collect();
    listed.sort_unstable();
    let mut names: Vec<String> = found
        .iter()
        .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names, listed,
        "every fixture has an expectation, and only those"
    );
    assert!(found.len() >= 50, "{} fixtures", found.len());

    let store = base_store();
    for path in &found {
        let name = path.file_name().unwrap().to_string_lossy();
        let expect = FIXTURES
            .iter()
            .find(|(listed, _)| *listed == name)
            .unwrap()
            .1;
        check(store.path(), path, expect);
    }
}

/// A post around `body`, for the generated inputs.
fn post(url: &str, body: &[u8]) -> Vec<u8> {
    [
        format!("---\ntitle: \"Generated\"\nfrom: {url}\n---\n<!--1767225600000-->\n------\n\n")
            .as_bytes(),
        body,
        b"\n",
    ]
    .concat()
}

#[test]
fn inputs_too_big_to_commit_are_stored_or_refused_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let store = base_store();
    let made = |name: &str, bytes: Vec<u8>| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    let line = |length: usize| -> Vec<u8> {
        let mut body = b"<p>".to_vec();
        body.extend(std::iter::repeat_n(b'a', length));
        body.extend_from_slice(b"</p>");
        body
    };
    let url = "https://example.org/hostile/generated";
    let cases = [
        (
            made("line-100mb.md", post(url, &line(100 << 20))),
            Expect::Error("over the limit"),
        ),
        (
            made("line-12mb.md", post(&format!("{url}/12"), &line(12 << 20))),
            Expect::Revision,
        ),
        (
            made(
                "nested-100k.md",
                post(
                    &format!("{url}/nested"),
                    &[
                        "<div>".repeat(100_000),
                        "<p>deep</p>".into(),
                        "</div>".repeat(100_000),
                    ]
                    .concat()
                    .into_bytes(),
                ),
            ),
            // html5ever would take about 40 s on it (tags × depth).
            Expect::Error("too deep to parse in bounded time"),
        ),
        (
            made(
                "nested-2000.md",
                post(
                    &format!("{url}/nested-2000"),
                    &[
                        "<div>".repeat(2_000),
                        "<p>deep</p>".into(),
                        "</div>".repeat(2_000),
                    ]
                    .concat()
                    .into_bytes(),
                ),
            ),
            Expect::Revision,
        ),
        (
            made(
                "attribute-10mb.md",
                post(
                    &format!("{url}/attribute"),
                    &[
                        b"<p title=\"".as_slice(),
                        &vec![b'x'; 10 << 20],
                        b"\">text</p>",
                    ]
                    .concat(),
                ),
            ),
            Expect::Revision,
        ),
    ];
    for (path, expect) in &cases {
        check(store.path(), path, *expect);
    }
}

#[test]
fn a_fifo_or_a_directory_named_md_is_refused_without_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let store = base_store();
    let fifo = dir.path().join("pipe.md");
    let mkfifo = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(mkfifo.success());
    let before = stats(store.path());
    let ingest = run(
        store.path(),
        &["ingest", "--json", fifo.to_str().unwrap()],
        Duration::from_secs(30),
    );
    assert_eq!(ingest.code, Some(1), "{}{}", ingest.stdout, ingest.stderr);
    assert!(
        ingest.stdout.contains("not a regular file"),
        "{}",
        ingest.stdout
    );
    assert_eq!(stats(store.path()), before);

    // A directory is walked, not read: one named `.md` holding nothing
    // ingests nothing.
    let folder = dir.path().join("folder.md");
    std::fs::create_dir(&folder).unwrap();
    let ingest = run(
        store.path(),
        &["ingest", folder.to_str().unwrap()],
        Duration::from_secs(30),
    );
    assert_eq!(ingest.code, Some(0), "{}", ingest.stderr);
    assert_eq!(stats(store.path()), before);
}

#[test]
fn an_article_with_ten_thousand_revisions() {
    let revisions: usize = std::env::var("NEWSARC_HOSTILE_REVISIONS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let posts = dir.path().join("posts");
    std::fs::create_dir(&posts).unwrap();
    let url = "https://example.org/hostile/long-history";
    for number in 0..revisions {
        let body = format!("<p>Revision {number} of a story edited all day.</p><p>Unchanged.</p>");
        std::fs::write(
            posts.join(format!("{number:05}.md")),
            post(url, body.as_bytes()),
        )
        .unwrap();
    }
    let store = tempfile::tempdir().unwrap();
    let ingest = run(
        store.path(),
        &["ingest", posts.to_str().unwrap()],
        Duration::from_secs(600),
    );
    assert_eq!(ingest.code, Some(0), "{}", ingest.stderr);
    assert!(
        ingest.peak_kib <= memory_bound_kib(0),
        "peak memory {} KiB",
        ingest.peak_kib
    );
    let log = run(store.path(), &["log", "--json", url], LIMIT);
    assert_eq!(log.code, Some(0), "{}", log.stderr);
    let entries: Value = serde_json::from_str(&log.stdout).unwrap();
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), revisions);
    let verify = run(store.path(), &["verify"], LIMIT);
    assert_eq!(verify.code, Some(0), "{}", verify.stdout);
    println!(
        "{revisions} revisions of one article: ingest peak {} KiB, verify peak {} KiB",
        ingest.peak_kib, verify.peak_kib
    );
}
