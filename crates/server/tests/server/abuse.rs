//! Clients that misbehave: streams opened and never read, many connections
//! at once, connections that never speak. The server keeps answering
//! everyone else, and still stops when asked. Bounded in requests and time.

use std::time::Duration;

use newsarc_server::pb;
use tokio::time::timeout;

use crate::{ARTICLE, at, ingest_revisions, post, settings, start};

/// Every call below must finish in this time, or the test fails.
const PATIENCE: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread")]
async fn streams_nobody_reads_do_not_hold_up_other_clients_or_shutdown() {
    let server = start(settings()).await;
    let mut writer = server.client().await;
    // A 3 MB document: far more than HTTP/2 lets through unread.
    let document = post("Big", &"长".repeat(1_000_000));
    let digest = writer
        .ingest(pb::IngestRequest {
            document,
            fetched_at: at(1),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .blob_digest
        .unwrap()
        .text;

    // Eight connections each open a blob stream and a watch, then never read.
    let mut stalled = Vec::new();
    for _ in 0..8 {
        let mut client = server.client().await;
        let blob = client
            .get_blob(pb::GetBlobRequest {
                digest: digest.clone(),
                chunk_size: 64 * 1024,
            })
            .await
            .unwrap()
            .into_inner();
        let watch = client
            .watch(pb::WatchRequest { since_seq: 0 })
            .await
            .unwrap()
            .into_inner();
        stalled.push((client, blob, watch));
    }

    // Everyone else is served, including writes that the watches would see.
    let mut other = server.client().await;
    ingest_revisions(&mut other, 3).await;
    for _ in 0..50 {
        let history = timeout(
            PATIENCE,
            other.list_history(pb::ListHistoryRequest {
                article: ARTICLE.into(),
                ..Default::default()
            }),
        )
        .await
        .expect("ListHistory waited on stalled streams")
        .unwrap()
        .into_inner();
        assert_eq!(history.entries.len(), 4);
    }

    timeout(PATIENCE, server.stop())
        .await
        .expect("shutdown waited for clients that never read");
    drop(stalled);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hundred_connections_at_once_are_all_served() {
    let server = start(settings()).await;
    ingest_revisions(&mut server.client().await, 2).await;
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..200 {
        let addr = server.addr;
        calls.spawn(async move {
            let mut client = pb::archive_client::ArchiveClient::connect(format!("http://{addr}"))
                .await
                .unwrap();
            client
                .list_history(pb::ListHistoryRequest {
                    article: ARTICLE.into(),
                    ..Default::default()
                })
                .await
                .map(|history| history.into_inner().entries.len())
        });
    }
    let answers = timeout(PATIENCE, calls.join_all())
        .await
        .expect("200 connections were not all served in time");
    assert_eq!(answers.len(), 200);
    for answer in answers {
        assert_eq!(answer.unwrap(), 2);
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_that_never_speak_do_not_block_the_rest() {
    let server = start(settings()).await;
    let mut silent = Vec::new();
    for _ in 0..100 {
        silent.push(tokio::net::TcpStream::connect(server.addr).await.unwrap());
    }
    // Half-spoken: the HTTP/2 preface cut off in the middle.
    for socket in silent.iter_mut().take(50) {
        use tokio::io::AsyncWriteExt;
        socket.write_all(b"PRI * HTTP/2.0\r\n").await.unwrap();
    }
    let mut client = server.client().await;
    let stats = timeout(PATIENCE, client.stats(pb::StatsRequest {}))
        .await
        .expect("a silent connection blocked the server")
        .unwrap()
        .into_inner();
    assert_eq!(stats.revisions, 0);
    timeout(PATIENCE, server.stop())
        .await
        .expect("shutdown waited for silent connections");
    drop(silent);
}
