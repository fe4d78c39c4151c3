//! Every error code the service promises, each from a user's mistake or
//! from damage, never INTERNAL for a mistake.

use newsarc_server::pb::{self, revision_ref::Target};
use tonic::Code;

use crate::{ARTICLE, at, ingest_revisions, post, settings, start};

fn id_ref(id: &str) -> Option<pb::RevisionRef> {
    Some(pb::RevisionRef {
        target: Some(Target::Id(id.into())),
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_requests_are_invalid_argument() {
    let server = start(settings()).await;
    let mut client = server.client().await;
    ingest_revisions(&mut client, 3).await;

    let bad_id = client
        .get_revision(pb::GetRevisionRequest {
            revision: id_ref("abc1"),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(bad_id.code(), Code::InvalidArgument, "{bad_id:?}");
    let no_ref = client
        .get_revision(pb::GetRevisionRequest::default())
        .await
        .unwrap_err();
    assert_eq!(no_ref.code(), Code::InvalidArgument);
    let bad_digest = client
        .get_blob(pb::GetBlobRequest {
            digest: "blake3:123".into(),
            chunk_size: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(bad_digest.code(), Code::InvalidArgument);
    let backwards = client
        .list_history(pb::ListHistoryRequest {
            article: ARTICLE.into(),
            from: at(500),
            to: at(100),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(backwards.code(), Code::InvalidArgument);
    let unknown_view = client
        .list_history(pb::ListHistoryRequest {
            article: ARTICLE.into(),
            view: 99,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(unknown_view.code(), Code::InvalidArgument);
    assert!(unknown_view.message().contains("view"));
    let forged = client
        .list_history(pb::ListHistoryRequest {
            article: ARTICLE.into(),
            page_token: "00ff".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(forged.code(), Code::InvalidArgument);

    // A token from one query is refused for another.
    let page = client
        .list_history(pb::ListHistoryRequest {
            article: ARTICLE.into(),
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let other = client
        .list_history(pb::ListHistoryRequest {
            article: ARTICLE.into(),
            limit: 1,
            include_observations: true,
            page_token: page.next_page_token,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(other.code(), Code::InvalidArgument);

    let bad_time = client
        .get_closest(pb::GetClosestRequest {
            article: ARTICLE.into(),
            time: Some(prost_types::Timestamp {
                seconds: 0,
                nanos: -5,
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(bad_time.code(), Code::InvalidArgument);
    let not_a_document = client
        .ingest(pb::IngestRequest {
            document: b"\x00\x01binary".to_vec(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(not_a_document.code(), Code::InvalidArgument);
    assert!(
        not_a_document.message().contains("binary"),
        "{not_a_document:?}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_things_are_not_found() {
    let server = start(settings()).await;
    let mut client = server.client().await;
    ingest_revisions(&mut client, 1).await;
    let article = client
        .list_history(pb::ListHistoryRequest {
            article: "https://nowhere.example/x".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(article.code(), Code::NotFound);
    let revision = client
        .get_revision(pb::GetRevisionRequest {
            revision: id_ref("deadbeefdeadbeef"),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(revision.code(), Code::NotFound);
    let blob = client
        .get_blob(pb::GetBlobRequest {
            digest: newsarc_model::Digest::of(b"nothing").to_string(),
            chunk_size: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(blob.code(), Code::NotFound);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_damaged_blob_is_data_loss() {
    let server = start(settings()).await;
    let mut client = server.client().await;
    let responses = ingest_revisions(&mut client, 1).await;
    let digest: newsarc_model::Digest = responses[0]
        .blob_digest
        .clone()
        .unwrap()
        .text
        .parse()
        .unwrap();
    // A byte of the document's frame flips on disk (its header carries
    // the digest 14 bytes in; the payload follows the 66-byte header).
    let pack = server.archive.store().dir().join("packs/00000001.pack");
    let mut bytes = std::fs::read(&pack).unwrap();
    let at = bytes
        .windows(32)
        .position(|window| window == digest.as_bytes())
        .unwrap();
    bytes[at - 14 + 70] ^= 0x10;
    std::fs::write(&pack, bytes).unwrap();

    let read = client
        .get_revision(pb::GetRevisionRequest {
            revision: id_ref(&responses[0].revision_id.clone().unwrap().text),
            include_raw: true,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(read.code(), Code::DataLoss, "{read:?}");
    assert!(read.message().contains(&digest.to_string()));
    let blob = client
        .get_blob(pb::GetBlobRequest {
            digest: digest.to_string(),
            chunk_size: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(blob.code(), Code::DataLoss);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_document_over_the_limit_is_resource_exhausted() {
    let mut limited = settings();
    limited.max_message_bytes = 2_000;
    let server = start(limited).await;
    let mut client = server.client().await;
    let big = client
        .ingest(pb::IngestRequest {
            document: post("Big", &"x".repeat(5_000)),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(big.code(), Code::ResourceExhausted, "{big:?}");
    let huge = client
        .ingest(pb::IngestRequest {
            document: vec![b'a'; 200_000],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(huge.code(), Code::ResourceExhausted, "{huge:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ingest_needs_the_bearer_token_when_one_is_set() {
    let mut guarded = settings();
    guarded.token = Some("s3cret".into());
    let server = start(guarded).await;
    let mut client = server.client().await;
    let request = |token: Option<&str>| {
        let mut request = tonic::Request::new(pb::IngestRequest {
            document: post("Guarded", "Text."),
            fetched_at: at(1),
            ..Default::default()
        });
        if let Some(token) = token {
            request
                .metadata_mut()
                .insert("authorization", token.parse().unwrap());
        }
        request
    };
    assert_eq!(
        client.ingest(request(None)).await.unwrap_err().code(),
        Code::Unauthenticated
    );
    assert_eq!(
        client
            .ingest(request(Some("Bearer wrong")))
            .await
            .unwrap_err()
            .code(),
        Code::PermissionDenied
    );
    client.ingest(request(Some("Bearer s3cret"))).await.unwrap();
    // Reads need no token.
    client.stats(pb::StatsRequest {}).await.unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_only_server_refuses_ingest_with_failed_precondition() {
    let mut read_only = settings();
    read_only.read_only = true;
    let server = start(read_only).await;
    let mut client = server.client().await;
    let refused = client
        .ingest(pb::IngestRequest {
            document: post("RO", "Text."),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    server.stop().await;
}

#[test]
fn beyond_loopback_writes_must_be_guarded() {
    let exposed: std::net::SocketAddr = "0.0.0.0:50051".parse().unwrap();
    let loopback: std::net::SocketAddr = "127.0.0.1:50051".parse().unwrap();
    assert!(newsarc_server::check_exposure(exposed, &settings()).is_err());
    assert!(newsarc_server::check_exposure(loopback, &settings()).is_ok());
    let mut guarded = settings();
    guarded.token = Some("t".into());
    assert!(newsarc_server::check_exposure(exposed, &guarded).is_ok());
    let mut read_only = settings();
    read_only.read_only = true;
    assert!(newsarc_server::check_exposure(exposed, &read_only).is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_deadline_is_honoured() {
    let server = start(settings()).await;
    let mut client = server.client().await;
    // Two long revisions, so that their diff takes far longer than the
    // deadline below.
    let long = |edit: usize| -> String {
        (0..3_000)
            .map(|n| {
                if n % 3 == 0 {
                    format!("Paragraph {n} was edited {edit} times.")
                } else {
                    format!("Paragraph {n} stays as it was.")
                }
            })
            .collect::<Vec<_>>()
            .join("</p><p>")
    };
    for edit in 0..2 {
        client
            .ingest(pb::IngestRequest {
                document: post("Long", &long(edit)),
                fetched_at: at(60 + edit as i64),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let by_seq = |seq| {
        Some(pb::RevisionRef {
            target: Some(Target::ArticleSeq(pb::ArticleSeq {
                article: ARTICLE.into(),
                seq,
            })),
        })
    };
    let mut request = tonic::Request::new(pb::DiffRequest {
        from: by_seq(1),
        to: by_seq(2),
        format: pb::DiffRendering::Html as i32,
        raw: false,
    });
    request.set_timeout(std::time::Duration::from_millis(2));
    let started = std::time::Instant::now();
    let expired = client.diff(request).await.unwrap_err();
    assert!(
        matches!(expired.code(), Code::DeadlineExceeded | Code::Cancelled),
        "{expired:?}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "the answer does not wait for the diff"
    );
    // The server goes on serving.
    client.stats(pb::StatsRequest {}).await.unwrap();
    server.stop().await;
}
