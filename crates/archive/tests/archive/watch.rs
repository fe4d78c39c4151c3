//! `watch` with an injected clock: feeds, the recheck schedule, politeness
//! and resuming from the schedule in the store. No real sleeping.

use std::path::Path;
use std::time::Duration;

use newsarc::watch::{RoundSummary, WatchOptions};
use newsarc::{Archive, NoProgress};
use newsarc_fetch::{Clock, FetchSettings, Fetcher, ManualClock, WatchConfig};
use newsarc_model::Millis;

use crate::site::Site;

const T0: i64 = 1_780_000_000_000;
const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

fn config(min_host_delay: Duration) -> WatchConfig {
    WatchConfig {
        min_host_delay,
        fetch: FetchSettings {
            timeout: Duration::from_secs(5),
            ..FetchSettings::default()
        },
        ..WatchConfig::default()
    }
}

fn feeds_file(dir: &Path, feeds: &[String]) -> std::path::PathBuf {
    let path = dir.join("feeds.txt");
    std::fs::write(&path, format!("# test feeds\n\n{}\n", feeds.join("\n"))).unwrap();
    path
}

/// Runs one `watch --once` round at the clock's time.
async fn once(
    archive: &Archive,
    clock: &ManualClock,
    feeds: &Path,
    config: &WatchConfig,
) -> (RoundSummary, String) {
    let fetcher = Fetcher::new(config.fetch.clone()).unwrap();
    let mut out = Vec::new();
    let mut rounds = archive
        .watch(
            &fetcher,
            clock,
            &WatchOptions {
                feeds: feeds.to_owned(),
                rounds: Some(1),
                config: config.clone(),
                json: true,
            },
            &mut out,
            &mut NoProgress,
        )
        .await
        .unwrap();
    (rounds.remove(0), String::from_utf8(out).unwrap())
}

fn next_check(archive: &Archive, url: &str) -> Option<i64> {
    archive
        .store()
        .url_state(url)
        .unwrap()
        .unwrap()
        .next_check
        .map(Millis::as_millis)
}

#[tokio::test]
async fn a_feed_of_three_makes_three_articles_and_a_change_one_revision() {
    let site = Site::start().await;
    let dir = tempfile::tempdir().unwrap();
    let urls: Vec<String> = ["/a", "/b", "/c"].iter().map(|p| site.url(p)).collect();
    for (path, title) in [("/a", "A"), ("/b", "B"), ("/c", "C")] {
        site.article(path, title, &format!("Story {title}."), None);
    }
    site.feed("/feed.xml", &urls);
    let feeds = feeds_file(dir.path(), &[site.url("/feed.xml")]);
    let config = config(Duration::ZERO);
    let clock = ManualClock::new(Millis::from_millis(T0));
    let archive =
        Archive::open(&dir.path().join("store"), &newsarc::StoreConfig::default()).unwrap();

    let (first, out) = once(&archive, &clock, &feeds, &config).await;
    assert_eq!((first.feeds, first.discovered), (1, 3), "{out}");
    assert_eq!(first.fetches.new_articles, 3, "{out}");
    assert_eq!(archive.store().counters().unwrap().articles, 3);
    // JSON lines: the feed, three URLs, the round.
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert_eq!(lines[1]["outcome"], "new_article");

    // One article changes; the next round is due 15 minutes later.
    site.article("/b", "B", "Story B, corrected.", None);
    clock.advance(15 * MINUTE);
    drop(archive);
    let archive =
        Archive::open(&dir.path().join("store"), &newsarc::StoreConfig::default()).unwrap();
    let (second, out) = once(&archive, &clock, &feeds, &config).await;
    assert_eq!(second.discovered, 0, "{out}");
    assert_eq!(second.fetches.urls, 3, "{out}");
    assert_eq!(second.fetches.new_revisions, 1, "{out}");
    assert_eq!(second.fetches.unchanged, 2, "{out}");
    assert_eq!(archive.store().counters().unwrap().revisions, 4);
}

#[tokio::test]
async fn a_restarted_watch_fetches_only_what_is_due() {
    let site = Site::start().await;
    let dir = tempfile::tempdir().unwrap();
    site.article("/a", "A", "Story.", None);
    site.feed("/feed.xml", &[site.url("/a")]);
    let feeds = feeds_file(dir.path(), &[site.url("/feed.xml")]);
    let config = config(Duration::ZERO);
    let clock = ManualClock::new(Millis::from_millis(T0));
    {
        let archive =
            Archive::open(&dir.path().join("store"), &newsarc::StoreConfig::default()).unwrap();
        once(&archive, &clock, &feeds, &config).await;
    }
    // Restarted ten minutes later: the feed is polled again, the article
    // is not due for five more minutes.
    clock.advance(10 * MINUTE);
    let archive =
        Archive::open(&dir.path().join("store"), &newsarc::StoreConfig::default()).unwrap();
    let (round, _) = once(&archive, &clock, &feeds, &config).await;
    assert_eq!(round.fetches.urls, 0);
    assert_eq!(site.seen_at("/a").len(), 1);
    assert_eq!(
        round.next_check,
        Some(Millis::from_millis(T0 + 15 * MINUTE).to_string())
    );
}

#[tokio::test]
async fn the_schedule_follows_the_age_of_the_last_change() {
    let site = Site::start().await;
    let dir = tempfile::tempdir().unwrap();
    site.article("/a", "A", "Story.", None);
    let url = site.url("/a");
    // No feeds: the URL is known from an earlier fetch.
    let feeds = feeds_file(dir.path(), &[]);
    let config = config(Duration::ZERO);
    let clock = ManualClock::new(Millis::from_millis(T0));
    let archive = Archive::in_memory().unwrap();
    archive
        .fetch_url(
            &Fetcher::new(config.fetch.clone()).unwrap(),
            &url,
            clock.now(),
            &newsarc::fetch::Recheck::default(),
        )
        .await
        .unwrap();
    assert_eq!(next_check(&archive, &url), Some(T0 + 15 * MINUTE));

    // (time of the round since the change, the interval it schedules)
    let steps = [
        (2 * HOUR, Some(15 * MINUTE)),
        (5 * HOUR, Some(HOUR)),
        (2 * DAY, Some(3 * HOUR)),
        (10 * DAY, Some(3 * DAY)),
        (100 * DAY, Some(30 * DAY)),
        (400 * DAY, None),
    ];
    for (age, interval) in steps {
        clock.set(Millis::from_millis(T0 + age));
        let (round, _) = once(&archive, &clock, &feeds, &config).await;
        assert_eq!(round.fetches.unchanged, 1, "at {age}");
        assert_eq!(
            next_check(&archive, &url),
            interval.map(|every| T0 + age + every),
            "at age {age} ms"
        );
    }
    // Never again: a later round fetches nothing.
    clock.advance(1000 * DAY);
    let (round, _) = once(&archive, &clock, &feeds, &config).await;
    assert_eq!(round.fetches.urls, 0);
}

#[tokio::test]
async fn one_host_gets_one_request_at_a_time_with_the_least_delay() {
    let site = Site::start().await;
    let dir = tempfile::tempdir().unwrap();
    let paths = ["/a", "/b", "/c", "/d"];
    for path in paths {
        site.article(path, path, &format!("Story {path}."), None);
    }
    site.feed("/feed.xml", &paths.map(|p| site.url(p)));
    let feeds = feeds_file(dir.path(), &[site.url("/feed.xml")]);
    let mut config = config(Duration::from_secs(2));
    config.max_concurrency = 8;
    let clock = ManualClock::new(Millis::from_millis(T0));
    let archive = Archive::in_memory().unwrap();
    let (round, _) = once(&archive, &clock, &feeds, &config).await;
    assert_eq!(round.fetches.new_articles, 4);
    assert_eq!(site.most_in_flight(), 1);
    // The feed and four articles: four waits of two seconds between them.
    let waits: Vec<i64> = clock
        .sleeps()
        .iter()
        .map(|(from, until)| until.as_millis() - from.as_millis())
        .collect();
    assert_eq!(waits, [2_000; 4]);
}

#[tokio::test]
async fn a_bad_feeds_file_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feeds.txt");
    std::fs::write(&path, "https://example.org/feed\nnot a url\n").unwrap();
    let err = newsarc::watch::read_feeds(&path).unwrap_err();
    assert!(
        err.to_string().contains("feeds.txt:2: 'not a url'"),
        "{err}"
    );
}
