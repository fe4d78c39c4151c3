//! `fetch` against a site on 127.0.0.1 that the tests start and steer.

use std::time::Duration;

use newsarc::Archive;
use newsarc::diff::{DiffFormat, DiffOptions};
use newsarc::fetch::{FetchOutcome, FetchReport, Recheck};
use newsarc::history::LogOptions;
use newsarc_fetch::{FetchSettings, Fetcher};
use newsarc_model::Millis;
use newsarc_model::record::{EventKind, ObservationKind};

use crate::site::{Route, Site};

const T0: i64 = 1_780_000_000_000;
const MINUTE: i64 = 60_000;

fn fetcher() -> Fetcher {
    Fetcher::new(FetchSettings {
        timeout: Duration::from_millis(500),
        connect_timeout: Duration::from_millis(500),
        max_redirects: 3,
        max_body_bytes: 64 * 1024,
        ..FetchSettings::default()
    })
    .unwrap()
}

async fn fetch(archive: &Archive, url: &str, minute: i64) -> FetchReport {
    archive
        .fetch_url(
            &fetcher(),
            url,
            Millis::from_millis(T0 + minute * MINUTE),
            &Recheck::default(),
        )
        .await
        .unwrap()
}

fn log(archive: &Archive, article: &str) -> String {
    let mut out = Vec::new();
    archive
        .log(
            &LogOptions {
                article: article.into(),
                ..Default::default()
            },
            &mut out,
        )
        .unwrap();
    String::from_utf8(out).unwrap()
}

fn clean(archive: &Archive) {
    let report = archive
        .check(
            true,
            &Default::default(),
            &mut |f| panic!("{f:?}"),
            &mut |_| {},
        )
        .unwrap();
    assert!(report.ok());
}

#[tokio::test]
async fn a_page_that_changes_makes_two_revisions_and_a_diff() {
    let site = Site::start().await;
    let archive = Archive::in_memory().unwrap();
    site.article("/a", "Bridge opens", "The bridge opens on Monday.", None);
    let first = fetch(&archive, &site.url("/a"), 0).await;
    assert_eq!(first.outcome, FetchOutcome::NewArticle);
    assert_eq!(first.status, Some(200));
    site.article("/a", "Bridge opens", "The bridge opens on Tuesday.", None);
    let second = fetch(&archive, &site.url("/a"), 15).await;
    assert_eq!(second.outcome, FetchOutcome::NewRevision);
    assert_eq!(second.article, first.article);

    let key = first.article.clone().unwrap();
    let timeline = archive
        .timeline(archive.resolve_article(&key).unwrap(), false)
        .unwrap();
    assert_eq!(timeline.revisions().count(), 2);
    let http = timeline
        .revisions()
        .nth(1)
        .unwrap()
        .record
        .http
        .clone()
        .unwrap();
    assert_eq!(http.status, 200);
    assert_eq!(http.final_url, site.url("/a"));
    assert_eq!(
        http.content_type.as_deref(),
        Some("text/html; charset=utf-8")
    );

    let mut out = Vec::new();
    archive
        .diff(
            &DiffOptions {
                from: first.revision.clone().unwrap(),
                to: second.revision.clone(),
                format: DiffFormat::Unified,
                ..Default::default()
            },
            &mut out,
        )
        .unwrap();
    let diff = String::from_utf8(out).unwrap();
    assert!(
        diff.contains("Monday") && diff.contains("Tuesday"),
        "{diff}"
    );

    let agent = site.seen()[0].headers["user-agent"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(agent.starts_with("newsarc/"), "{agent}");
    clean(&archive);
}

#[tokio::test]
async fn an_unchanged_page_is_an_observation() {
    let site = Site::start().await;
    let archive = Archive::in_memory().unwrap();
    site.article("/a", "Title", "Same text.", None);
    fetch(&archive, &site.url("/a"), 0).await;
    let again = fetch(&archive, &site.url("/a"), 15).await;
    assert_eq!(again.outcome, FetchOutcome::Unchanged);
    let key = newsarc_model::ArticleKey::new(again.article.unwrap()).unwrap();
    let observations = archive.store().observations(&key).unwrap();
    assert_eq!(observations.len(), 1);
    assert_eq!(observations[0].kind, ObservationKind::Unchanged);
    assert_eq!(archive.store().counters().unwrap().revisions, 1);
    clean(&archive);
}

#[tokio::test]
async fn an_etag_makes_the_next_fetch_conditional_and_a_304_an_observation() {
    let site = Site::start().await;
    let archive = Archive::in_memory().unwrap();
    site.article("/a", "Title", "Text.", Some("\"v1\""));
    fetch(&archive, &site.url("/a"), 0).await;
    let again = fetch(&archive, &site.url("/a"), 15).await;
    assert_eq!(again.outcome, FetchOutcome::NotModified);
    assert_eq!(again.status, Some(304));
    let requests = site.seen_at("/a");
    assert!(!requests[0].headers.contains_key("if-none-match"));
    assert_eq!(requests[1].headers["if-none-match"], "\"v1\"");

    let key = newsarc_model::ArticleKey::new(again.article.clone().unwrap()).unwrap();
    let observation = &archive.store().observations(&key).unwrap()[0];
    assert_eq!(observation.kind, ObservationKind::NotModified);
    assert_eq!(
        observation.http.as_ref().unwrap().etag.as_deref(),
        Some("\"v1\"")
    );
    assert_eq!(Some(observation.revision.to_string()), again.revision);

    // Last-Modified works the same way.
    site.route(
        "/b",
        Route::Page {
            body: crate::site::article_html("B", "Text b.").into_bytes(),
            content_type: "text/html",
            etag: None,
            last_modified: Some("Wed, 21 Oct 2026 07:28:00 GMT".into()),
        },
    );
    fetch(&archive, &site.url("/b"), 0).await;
    assert_eq!(
        fetch(&archive, &site.url("/b"), 15).await.outcome,
        FetchOutcome::NotModified
    );
    assert_eq!(
        site.seen_at("/b")[1].headers["if-modified-since"],
        "Wed, 21 Oct 2026 07:28:00 GMT"
    );
    clean(&archive);
}

#[tokio::test]
async fn a_404_is_a_gone_event_and_a_later_page_a_reappearance() {
    let site = Site::start().await;
    let archive = Archive::in_memory().unwrap();
    site.article("/a", "Title", "Text.", None);
    let first = fetch(&archive, &site.url("/a"), 0).await;
    let key = first.article.clone().unwrap();

    site.route("/a", Route::Status(404, None));
    let gone = fetch(&archive, &site.url("/a"), 15).await;
    assert_eq!(gone.outcome, FetchOutcome::Gone);
    assert_eq!(gone.status, Some(404));
    assert!(gone.event.is_some());
    assert_eq!(gone.revision, first.revision);
    // Still gone: no second event.
    site.route("/a", Route::Status(410, None));
    let still = fetch(&archive, &site.url("/a"), 30).await;
    assert_eq!(still.outcome, FetchOutcome::Gone);
    assert_eq!(still.event, None);

    site.article("/a", "Title", "Text.", None);
    let back = fetch(&archive, &site.url("/a"), 45).await;
    assert_eq!(back.outcome, FetchOutcome::Unchanged);
    assert!(back.reappeared);

    let article_key = newsarc_model::ArticleKey::new(key.clone()).unwrap();
    let events = archive.store().events(&article_key).unwrap();
    let kinds: Vec<EventKind> = events.iter().map(|(_, e)| e.kind).collect();
    assert_eq!(kinds, [EventKind::Gone, EventKind::Reappeared]);
    assert_eq!(events[0].1.http.status, 404);
    assert_eq!(
        archive
            .store()
            .article(&article_key)
            .unwrap()
            .unwrap()
            .gone_since,
        None
    );

    let text = log(&archive, &key);
    let gone_line = text.lines().position(|l| l.contains("gone")).unwrap();
    let back_line = text.lines().position(|l| l.contains("reappeared")).unwrap();
    assert!(gone_line < back_line, "{text}");
    assert!(text.contains("HTTP 404"), "{text}");
    clean(&archive);
}

#[tokio::test]
async fn a_404_for_an_unknown_url_stores_nothing_but_its_state() {
    let site = Site::start().await;
    let archive = Archive::in_memory().unwrap();
    let report = fetch(&archive, &site.url("/never"), 0).await;
    assert_eq!(report.outcome, FetchOutcome::Gone);
    assert_eq!(report.article, None);
    let counters = archive.store().counters().unwrap();
    assert_eq!((counters.articles, counters.events), (0, 0));
    assert!(
        archive
            .store()
            .url_state(&site.url("/never"))
            .unwrap()
            .unwrap()
            .gone
    );
}

#[tokio::test]
async fn a_redirect_chain_is_followed_and_its_end_recorded() {
    let site = Site::start().await;
    let archive = Archive::in_memory().unwrap();
    site.route("/old", Route::Redirect("/older".into()));
    site.route("/older", Route::Redirect("/final".into()));
    site.article("/final", "Moved", "It moved twice.", None);
    let report = fetch(&archive, &site.url("/old"), 0).await;
    assert_eq!(report.outcome, FetchOutcome::NewArticle);
    assert_eq!(
        report.final_url.as_deref(),
        Some(site.url("/final").as_str())
    );
    let key = report.article.unwrap();
    let timeline = archive
        .timeline(archive.resolve_article(&key).unwrap(), false)
        .unwrap();
    let http = timeline
        .revisions()
        .next()
        .unwrap()
        .record
        .http
        .clone()
        .unwrap();
    assert_eq!(
        (http.url, http.final_url),
        (site.url("/old"), site.url("/final"))
    );

    // Past the limit of 3 redirects: a failed attempt.
    for step in 0..5 {
        site.route(
            &format!("/loop{step}"),
            Route::Redirect(format!("/loop{}", step + 1)),
        );
    }
    let looped = fetch(&archive, &site.url("/loop0"), 0).await;
    assert_eq!(looped.outcome, FetchOutcome::Failed);
    assert!(looped.error.unwrap().contains("more than 3 redirects"));
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_and_nothing_is_stored() {
    let site = Site::start().await;
    let archive = Archive::in_memory().unwrap();
    let huge = "word ".repeat(30_000);
    site.article("/big", "Big", &huge, None);
    let report = fetch(&archive, &site.url("/big"), 0).await;
    assert_eq!(report.outcome, FetchOutcome::Failed);
    let error = report.error.unwrap();
    assert!(
        error.contains("larger than the limit of 65536 bytes"),
        "{error}"
    );
    let counters = archive.store().counters().unwrap();
    assert_eq!((counters.revisions, counters.raw_bytes), (0, 0));
    assert_eq!(counters.failed_attempts, 1);
    let attempts = archive.store().failed_attempts(&site.url("/big")).unwrap();
    assert_eq!(attempts.len(), 1);
    assert!(attempts[0].error.contains("larger than the limit"));
    clean(&archive);
}

#[tokio::test]
async fn a_server_that_never_answers_is_a_timed_out_attempt() {
    let site = Site::start().await;
    let archive = Archive::in_memory().unwrap();
    site.route("/slow", Route::Hang);
    let report = fetch(&archive, &site.url("/slow"), 0).await;
    assert_eq!(report.outcome, FetchOutcome::Failed);
    assert!(
        report.error.as_deref().unwrap().contains("timed out"),
        "{report:?}"
    );
    assert_eq!(archive.store().counters().unwrap().revisions, 0);
    let attempts = archive.store().failed_attempts(&site.url("/slow")).unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].status, None);
    // Tried again after the first back-off step (a minute).
    let state = archive
        .store()
        .url_state(&site.url("/slow"))
        .unwrap()
        .unwrap();
    assert_eq!(state.failures, 1);
    assert_eq!(state.next_check, Some(Millis::from_millis(T0 + MINUTE)));
}

#[tokio::test]
async fn a_503_with_retry_after_waits_at_least_that_long() {
    let site = Site::start().await;
    let archive = Archive::in_memory().unwrap();
    site.route("/busy", Route::Status(503, Some(7200)));
    let report = fetch(&archive, &site.url("/busy"), 0).await;
    assert_eq!(report.outcome, FetchOutcome::Failed);
    assert_eq!(report.status, Some(503));
    let state = archive
        .store()
        .url_state(&site.url("/busy"))
        .unwrap()
        .unwrap();
    assert_eq!(
        state.next_check,
        Some(Millis::from_millis(T0 + 120 * MINUTE))
    );
    assert_eq!(archive.store().counters().unwrap().revisions, 0);
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[tokio::test]
async fn a_gzip_page_is_stored_decoded_and_a_gzip_bomb_is_refused() {
    let site = Site::start().await;
    let archive = Archive::in_memory().unwrap();
    let html = crate::site::article_html("Packed", "Sent compressed.");
    site.route(
        "/gz",
        Route::Encoded {
            body: gzip(html.as_bytes()),
            encoding: "gzip",
        },
    );
    let report = fetch(&archive, &site.url("/gz"), 0).await;
    assert_eq!(report.outcome, FetchOutcome::NewArticle);
    let sent = &site.seen_at("/gz")[0].headers["accept-encoding"];
    assert!(sent.to_str().unwrap().contains("gzip"), "{sent:?}");
    let revision = report.revision.unwrap();
    let record = archive
        .store()
        .revision(&revision.parse().unwrap())
        .unwrap();
    assert_eq!(archive.store().blob(&record.blob).unwrap(), html.as_bytes());

    // 1 MB of zeros is 1 KB on the wire: the limit counts decoded bytes.
    site.route(
        "/bomb",
        Route::Encoded {
            body: gzip(&vec![0u8; 1024 * 1024]),
            encoding: "gzip",
        },
    );
    let bomb = fetch(&archive, &site.url("/bomb"), 0).await;
    assert_eq!(bomb.outcome, FetchOutcome::Failed);
    assert!(bomb.error.unwrap().contains("larger than the limit"));
}

#[tokio::test]
async fn a_tls_handshake_that_fails_is_a_failed_attempt() {
    let site = Site::start().await;
    let archive = Archive::in_memory().unwrap();
    site.article("/a", "T", "Text.", None);
    // The site speaks plain HTTP: a TLS client's handshake cannot succeed.
    let url = site.url("/a").replacen("http://", "https://", 1);
    let report = fetch(&archive, &url, 0).await;
    assert_eq!(report.outcome, FetchOutcome::Failed);
    let error = report.error.unwrap();
    // The report names the URL; its error does not say it again.
    assert!(!error.contains(&url), "{error}");
    // The causes are kept, not only reqwest's "error sending request".
    assert!(error.contains("Connect"), "{error}");
    assert_eq!(archive.store().counters().unwrap().revisions, 0);
    assert_eq!(archive.store().failed_attempts(&url).unwrap().len(), 1);
}

#[tokio::test]
async fn a_page_that_is_not_an_article_is_a_failed_attempt() {
    let site = Site::start().await;
    let archive = Archive::in_memory().unwrap();
    site.route(
        "/logo.png",
        Route::Page {
            body: b"\x89PNG\r\n\x1a\n\0\0\0".to_vec(),
            content_type: "image/png",
            etag: None,
            last_modified: None,
        },
    );
    let report = fetch(&archive, &site.url("/logo.png"), 0).await;
    assert_eq!(report.outcome, FetchOutcome::Failed);
    assert!(report.error.unwrap().contains("not archived"));
    assert_eq!(archive.store().counters().unwrap().revisions, 0);
}

#[tokio::test]
async fn fetch_refuses_a_non_url_before_fetching_anything() {
    let site = Site::start().await;
    let archive = Archive::in_memory().unwrap();
    site.article("/a", "T", "Text.", None);
    let mut out = Vec::new();
    let err = archive
        .fetch(
            &fetcher(),
            &newsarc::fetch::FetchOptions {
                urls: vec![site.url("/a"), "ftp://example.org/x".into()],
                json: true,
            },
            &Recheck::default(),
            &mut out,
            &mut newsarc::NoProgress,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("ftp://example.org/x"), "{err}");
    assert!(site.seen().is_empty());
}
