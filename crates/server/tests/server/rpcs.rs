//! Every unary RPC on its happy path.

use newsarc_server::pb::{self, revision_ref::Target};

use crate::{ARTICLE, at, ingest_revisions, post, settings, start};

fn by_seq(seq: u32) -> Option<pb::RevisionRef> {
    Some(pb::RevisionRef {
        target: Some(Target::ArticleSeq(pb::ArticleSeq {
            article: ARTICLE.into(),
            seq,
        })),
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn ingest_reports_new_articles_revisions_and_unchanged_fetches() {
    let server = start(settings()).await;
    let mut client = server.client().await;
    let responses = ingest_revisions(&mut client, 2).await;
    assert_eq!(responses[0].outcome, pb::IngestOutcome::NewArticle as i32);
    assert_eq!(responses[1].outcome, pb::IngestOutcome::NewRevision as i32);
    assert_eq!(responses[1].seq, 2);
    assert_eq!(responses[0].article_key, "example.org/news/service-test");
    let digest = responses[1].blob_digest.clone().unwrap();
    assert_eq!(digest.value.len(), 32);
    assert!(digest.text.starts_with("blake3:"));

    let again = client
        .ingest(pb::IngestRequest {
            document: post("Service test", "Version 1 of the text."),
            fetched_at: at(1_000),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.outcome, pb::IngestOutcome::Unchanged as i32);
    assert_eq!(again.revision_id, responses[1].revision_id);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn get_revision_by_id_seq_and_time_with_text_and_raw_bytes() {
    let server = start(settings()).await;
    let mut client = server.client().await;
    let responses = ingest_revisions(&mut client, 3).await;
    let id = responses[1].revision_id.clone().unwrap();

    let by_id = client
        .get_revision(pb::GetRevisionRequest {
            revision: Some(pb::RevisionRef {
                target: Some(Target::Id(id.text[7..19].into())),
            }),
            include_text: true,
            include_raw: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_id.id, Some(id.clone()));
    assert_eq!(by_id.seq, 2);
    assert_eq!(by_id.raw, post("Service test", "Version 1 of the text."));
    assert_eq!(by_id.text, "Version 1 of the text.\n");
    assert_eq!(by_id.parent, responses[0].revision_id);
    assert_eq!(by_id.change, "body");

    let latest = client
        .get_revision(pb::GetRevisionRequest {
            revision: by_seq(0),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(latest.seq, 3);
    assert!(
        latest.raw.is_empty() && latest.text.is_empty(),
        "only when asked"
    );

    let as_of = client
        .get_revision(pb::GetRevisionRequest {
            revision: Some(pb::RevisionRef {
                target: Some(Target::AsOf(pb::ArticleTime {
                    article: ARTICLE.into(),
                    time: at(150),
                })),
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(as_of.seq, 2, "fetched at 120 s, current at 150 s");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn get_closest_gives_the_current_revision_and_its_neighbours() {
    let server = start(settings()).await;
    let mut client = server.client().await;
    ingest_revisions(&mut client, 4).await;
    let closest = |seconds| {
        let mut client = client.clone();
        async move {
            client
                .get_closest(pb::GetClosestRequest {
                    article: ARTICLE.into(),
                    time: at(seconds),
                })
                .await
                .unwrap()
                .into_inner()
        }
    };
    let middle = closest(130).await;
    assert_eq!(middle.current.unwrap().seq, 2);
    assert_eq!(middle.prev.unwrap().seq, 1);
    assert_eq!(middle.next.unwrap().seq, 3);
    assert_eq!(
        (middle.first.unwrap().seq, middle.last.unwrap().seq),
        (1, 4)
    );

    let before = closest(10).await;
    assert_eq!(
        before.current.unwrap().seq,
        1,
        "before the first: the first"
    );
    assert!(before.prev.is_none());
    let after = closest(10_000).await;
    assert_eq!(after.current.unwrap().seq, 4);
    assert!(after.next.is_none());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn list_history_is_basic_by_default_and_full_when_asked() {
    let server = start(settings()).await;
    let mut client = server.client().await;
    ingest_revisions(&mut client, 2).await;
    let stored = client
        .get_revision(pb::GetRevisionRequest {
            revision: by_seq(2),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(stored.parent.is_some() && !stored.url.is_empty());
    let second = |view: pb::RevisionView| {
        let mut client = client.clone();
        async move {
            let page = client
                .list_history(pb::ListHistoryRequest {
                    article: ARTICLE.into(),
                    view: view.into(),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            match page.entries[1].entry.clone().unwrap() {
                pb::history_entry::Entry::Revision(revision) => revision,
                other => panic!("not a revision: {other:?}"),
            }
        }
    };

    assert_eq!(second(pb::RevisionView::Full).await, stored);
    let basic = second(pb::RevisionView::Unspecified).await;
    assert_eq!(basic, second(pb::RevisionView::Basic).await);
    assert_eq!(
        basic,
        pb::Revision {
            id: stored.id.clone(),
            seq: 2,
            fetched_at: stored.fetched_at,
            blob: stored.blob.clone(),
            size: stored.size,
            change: stored.change.clone(),
            title: stored.title.clone(),
            ..Default::default()
        }
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn list_history_pages_through_a_long_history_with_observations() {
    let server = start(settings()).await;
    let mut client = server.client().await;
    ingest_revisions(&mut client, 5).await;
    client
        .ingest(pb::IngestRequest {
            document: post("Service test", "Version 4 of the text."),
            fetched_at: at(400),
            ..Default::default()
        })
        .await
        .unwrap();

    let mut seen = Vec::new();
    let mut token = String::new();
    let mut pages = 0;
    loop {
        let page = client
            .list_history(pb::ListHistoryRequest {
                article: ARTICLE.into(),
                limit: 2,
                page_token: token.clone(),
                include_observations: true,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        pages += 1;
        for entry in page.entries {
            seen.push(match entry.entry.unwrap() {
                pb::history_entry::Entry::Revision(r) => format!("r{}", r.seq),
                pb::history_entry::Entry::Observation(o) => {
                    format!("o{}", o.fetched_at.unwrap().seconds)
                }
                pb::history_entry::Entry::Event(e) => format!("{}{}", e.kind, e.number),
            });
        }
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ["r1", "r2", "r3", "r4", "r5", "o400"]);

    let window = client
        .list_history(pb::ListHistoryRequest {
            article: ARTICLE.into(),
            from: at(120),
            to: at(180),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(window.entries.len(), 2);
    assert!(window.next_page_token.is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn list_articles_filters_by_prefix_and_pages() {
    let server = start(settings()).await;
    let mut client = server.client().await;
    for n in 0..3 {
        let url = format!("https://www.example.net/a/{n}");
        let document = format!("---\ntitle: \"A{n}\"\nfrom: {url}\n---\n<p>Text {n}.</p>\n");
        client
            .ingest(pb::IngestRequest {
                document: document.into_bytes(),
                fetched_at: at(60),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    ingest_revisions(&mut client, 1).await;

    let first = client
        .list_articles(pb::ListArticlesRequest {
            prefix: "https://www.example.net/".into(),
            limit: 2,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.articles.len(), 2);
    let second = client
        .list_articles(pb::ListArticlesRequest {
            prefix: "https://www.example.net/".into(),
            limit: 2,
            page_token: first.next_page_token.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let keys: Vec<_> = first
        .articles
        .iter()
        .chain(&second.articles)
        .map(|a| a.key.clone())
        .collect();
    assert_eq!(
        keys,
        ["example.net/a/0", "example.net/a/1", "example.net/a/2"]
    );
    assert!(second.next_page_token.is_empty());

    let by_host = client
        .list_articles(pb::ListArticlesRequest {
            prefix: "example.org".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_host.articles.len(), 1);
    let recent = client
        .list_articles(pb::ListArticlesRequest {
            changed_since: at(61),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(recent.articles.is_empty());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn diff_returns_the_structured_diff_and_renderings() {
    let server = start(settings()).await;
    let mut client = server.client().await;
    ingest_revisions(&mut client, 2).await;
    let diff = client
        .diff(pb::DiffRequest {
            from: by_seq(1),
            to: by_seq(2),
            format: pb::DiffRendering::Unified as i32,
            raw: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(diff.change, "body");
    assert_eq!(diff.stats.unwrap().sentences_edited, 1);
    let replace = diff.ops.iter().find(|op| op.kind == "replace").unwrap();
    let changed: Vec<_> = replace
        .inline
        .iter()
        .filter(|p| p.kind != "equal")
        .map(|p| p.text.as_str())
        .collect();
    assert_eq!(changed, ["0", "1"]);
    assert!(
        diff.rendered.contains("-Version 0 of the text."),
        "{}",
        diff.rendered
    );

    let html = client
        .diff(pb::DiffRequest {
            from: by_seq(1),
            to: by_seq(2),
            format: pb::DiffRendering::Html as i32,
            raw: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(html.rendered.starts_with("<!DOCTYPE html>"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn stats_count_the_store() {
    let server = start(settings()).await;
    let mut client = server.client().await;
    ingest_revisions(&mut client, 3).await;
    let stats = client
        .stats(pb::StatsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (stats.articles, stats.revisions, stats.observations),
        (1, 3, 0)
    );
    assert!(stats.raw_bytes > 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_health_service_reports_serving() {
    let server = start(settings()).await;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", server.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    let status = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "newsarc.v1.Archive".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        status.status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn list_history_sees_a_revision_ingested_after_it_was_asked() {
    let server = start(settings()).await;
    let mut client = server.client().await;
    ingest_revisions(&mut client, 1).await;
    let list = |mut client: pb::archive_client::ArchiveClient<tonic::transport::Channel>| async move {
        client
            .list_history(pb::ListHistoryRequest {
                article: ARTICLE.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .entries
            .len()
    };
    // Asked twice: the second answer comes from the server's history cache.
    assert_eq!(list(client.clone()).await, 1);
    assert_eq!(list(client.clone()).await, 1);
    client
        .ingest(pb::IngestRequest {
            document: post("Service test", "A later version of the text."),
            fetched_at: at(3600),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(list(client.clone()).await, 2);
    server.stop().await;
}

/// A capture archived late takes its place in time: the history lists it
/// first, and the time gate finds it.
#[tokio::test(flavor = "multi_thread")]
async fn histories_and_the_time_gate_follow_fetch_time_not_arrival() {
    let server = start(settings()).await;
    let mut client = server.client().await;
    for (seconds, body) in [(600, "The later text."), (60, "The earlier text.")] {
        client
            .ingest(pb::IngestRequest {
                document: post("Service test", body),
                fetched_at: at(seconds),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let history = client
        .list_history(pb::ListHistoryRequest {
            article: ARTICLE.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let listed: Vec<(u32, &str)> = history
        .entries
        .iter()
        .filter_map(|entry| match &entry.entry {
            Some(pb::history_entry::Entry::Revision(revision)) => {
                Some((revision.seq, revision.change.as_str()))
            }
            _ => None,
        })
        .collect();
    // Chain numbers say the order of arrival; changes follow time.
    assert_eq!(listed, [(2, "new"), (1, "body")]);

    let closest = client
        .get_closest(pb::GetClosestRequest {
            article: ARTICLE.into(),
            time: at(300),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(closest.current.unwrap().seq, 2);
    assert_eq!(closest.next.unwrap().seq, 1);
    assert!(closest.prev.is_none());

    let again = client
        .ingest(pb::IngestRequest {
            document: post("Service test", "The earlier text."),
            fetched_at: at(60),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.outcome, pb::IngestOutcome::AlreadyArchived as i32);
    let future = client
        .ingest(pb::IngestRequest {
            document: post("Service test", "From the future."),
            fetched_at: at(4_102_444_800),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(future.code(), tonic::Code::InvalidArgument, "{future:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unwatch_answers_for_each_url_given() {
    let server = start(settings()).await;
    let mut client = server.client().await;
    let answer = client
        .unwatch(pb::UnwatchRequest {
            urls: vec!["https://example.org/never-fetched".into()],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(answer.results.len(), 1);
    assert!(answer.results[0].urls.is_empty());
    assert!(
        answer.results[0].error.contains("never-fetched"),
        "{:?}",
        answer.results
    );
    server.stop().await;
}
