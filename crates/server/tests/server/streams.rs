//! Streaming RPCs and concurrent writers.

use std::collections::HashSet;

use newsarc_server::pb;
use tokio_stream::StreamExt;

use crate::{ARTICLE, at, ingest_revisions, post, settings, start};

#[tokio::test(flavor = "multi_thread")]
async fn get_blob_streams_chunks_that_reassemble_exactly() {
    let server = start(settings()).await;
    let mut client = server.client().await;
    let body = "长".repeat(40_000);
    let document = post("Big", &body);
    let response = client
        .ingest(pb::IngestRequest {
            document: document.clone(),
            fetched_at: at(1),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut stream = client
        .get_blob(pb::GetBlobRequest {
            digest: response.blob_digest.unwrap().text,
            chunk_size: 16 * 1024,
        })
        .await
        .unwrap()
        .into_inner();
    let mut bytes = Vec::new();
    let mut chunks = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        assert_eq!(chunk.offset as usize, bytes.len());
        assert_eq!(chunk.total_size as usize, document.len());
        bytes.extend(chunk.data);
        chunks += 1;
    }
    assert_eq!(bytes, document);
    assert_eq!(chunks, document.len().div_ceil(16 * 1024));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn watch_resumes_after_a_disconnect_without_missing_a_revision() {
    let server = start(settings()).await;
    let mut client = server.client().await;
    ingest_revisions(&mut client, 2).await;

    let mut first = client
        .watch(pb::WatchRequest { since_seq: 0 })
        .await
        .unwrap()
        .into_inner();
    let mut seen = Vec::new();
    for _ in 0..2 {
        seen.push(first.next().await.unwrap().unwrap().seq);
    }
    drop(first); // the client disconnects

    // Revisions committed while nobody watches…
    for n in 10..12 {
        client
            .ingest(pb::IngestRequest {
                document: post("Service test", &format!("Offline edit {n}.")),
                fetched_at: at(1_000 + n),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    // …come first on reconnecting from the last seen sequence number, and
    // live ones follow.
    let mut resumed = client
        .watch(pb::WatchRequest {
            since_seq: *seen.last().unwrap(),
        })
        .await
        .unwrap()
        .into_inner();
    for _ in 0..2 {
        seen.push(resumed.next().await.unwrap().unwrap().seq);
    }
    let mut live_client = client.clone();
    let live = tokio::spawn(async move {
        live_client
            .ingest(pb::IngestRequest {
                document: post("Service test", "Live edit."),
                fetched_at: at(5_000),
                ..Default::default()
            })
            .await
            .unwrap()
    });
    let event = tokio::time::timeout(std::time::Duration::from_secs(10), resumed.next())
        .await
        .expect("a live event arrives")
        .unwrap()
        .unwrap();
    live.await.unwrap();
    seen.push(event.seq);
    assert_eq!(seen, [1, 2, 3, 4, 5]);
    assert_eq!(event.revision.unwrap().seq, 5);
    drop(resumed);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_streams_progress_and_a_clean_summary() {
    let server = start(settings()).await;
    let mut client = server.client().await;
    ingest_revisions(&mut client, 3).await;
    let mut stream = client
        .verify(pb::VerifyRequest { deep: true })
        .await
        .unwrap()
        .into_inner();
    let mut summary = None;
    let mut findings = 0;
    let mut progress = None;
    while let Some(event) = stream.next().await {
        match event.unwrap().event.unwrap() {
            pb::verify_event::Event::Summary(s) => summary = Some(s),
            pb::verify_event::Event::Finding(_) => findings += 1,
            pb::verify_event::Event::Progress(p) => progress = Some(p),
        }
    }
    let summary = summary.unwrap();
    assert!(summary.ok && summary.objects > 0 && summary.bytes > 0);
    assert_eq!(summary.stopped_at, None);
    assert_eq!(findings, 0);
    let progress = progress.expect("progress is reported");
    assert_eq!(progress.bytes_checked, progress.bytes_total);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn eight_concurrent_ingesters_on_the_same_articles_keep_one_chain_each() {
    let server = start(settings()).await;
    let client = server.client().await;
    let writers: Vec<_> = (0..8)
        .map(|writer| {
            let mut client = client.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for n in 0..6 {
                    let article = format!("https://example.org/shared/{}", n % 3);
                    let document = format!(
                        "---\ntitle: \"Shared\"\nfrom: {article}\n---\n<p>Writer {writer} edit {n}.</p>\n"
                    );
                    let response = client
                        .ingest(pb::IngestRequest {
                            document: document.into_bytes(),
                            fetched_at: at(writer * 100 + n),
                            ..Default::default()
                        })
                        .await
                        .unwrap()
                        .into_inner();
                    ids.push(response.revision_id.unwrap().text);
                }
                ids
            })
        })
        .collect();
    let mut acknowledged = HashSet::new();
    for writer in writers {
        acknowledged.extend(writer.await.unwrap());
    }
    assert_eq!(
        acknowledged.len(),
        48,
        "every acknowledged revision is distinct"
    );

    let store = server.archive.store();
    let report = server
        .archive
        .check(
            true,
            &Default::default(),
            &mut |f| panic!("{f:?}"),
            &mut |_| {},
        )
        .unwrap();
    assert!(report.ok());
    let mut stored = HashSet::new();
    for n in 0..3 {
        let key = newsarc_model::ArticleKey::new(format!("example.org/shared/{n}")).unwrap();
        let mut chain = store.timeline(&key).unwrap();
        chain.sort_by_key(|entry| entry.seq);
        for (index, entry) in chain.iter().enumerate() {
            let record = store.revision(&entry.id).unwrap();
            assert_eq!(record.seq as usize, index + 1);
            assert_eq!(record.parent, index.checked_sub(1).map(|i| chain[i].id));
            stored.insert(entry.id.to_string());
        }
    }
    assert_eq!(stored, acknowledged, "nothing acknowledged is lost");
    let _ = ARTICLE;
    server.stop().await;
}

/// An article of two revisions whose URL then answered 404.
async fn gone_article(
    server: &crate::Running,
) -> newsarc_server::pb::archive_client::ArchiveClient<tonic::transport::Channel> {
    let mut client = server.client().await;
    ingest_revisions(&mut client, 2).await;
    let article = server.archive.resolve_article(ARTICLE).unwrap();
    let mut commit = server.archive.store().begin().unwrap();
    commit
        .add_gone(&newsarc_store::BodilessFetch {
            article: article.key,
            fetched_at: newsarc_model::Millis::from_millis(5_000_000),
            http: newsarc_model::record::HttpFacts {
                url: ARTICLE.into(),
                final_url: ARTICLE.into(),
                status: 410,
                ..Default::default()
            },
        })
        .unwrap()
        .unwrap();
    commit.finish().unwrap();
    client
}

#[tokio::test(flavor = "multi_thread")]
async fn list_history_and_watch_carry_gone_events() {
    let server = start(settings()).await;
    let mut client = gone_article(&server).await;

    let history = client
        .list_history(pb::ListHistoryRequest {
            article: ARTICLE.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let last = history.entries.last().unwrap().entry.clone().unwrap();
    let pb::history_entry::Entry::Event(event) = last else {
        panic!("the history should end with the gone event: {last:?}");
    };
    assert_eq!((event.kind.as_str(), event.number), ("gone", 1));
    assert_eq!(event.http.unwrap().status, 410);

    let mut watch = client
        .watch(pb::WatchRequest { since_seq: 0 })
        .await
        .unwrap()
        .into_inner();
    let mut entries = Vec::new();
    for _ in 0..3 {
        let entry = watch.next().await.unwrap().unwrap();
        entries.push((
            entry.seq,
            entry.revision.is_some(),
            entry.event.map(|event| event.kind),
        ));
    }
    assert_eq!(
        entries,
        [
            (1, true, None),
            (2, true, None),
            (3, false, Some("gone".into()))
        ]
    );
    server.stop().await;
}
