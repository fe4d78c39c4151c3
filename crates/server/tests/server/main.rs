//! The gRPC service in process: a real tonic server on 127.0.0.1:0 and the
//! generated client, for every RPC and every error code.

// A test that meets an unexpected value should stop right there.
#![allow(clippy::unwrap_used)]

mod abuse;
mod errors;
mod rpcs;
mod streams;

use std::net::SocketAddr;
use std::sync::Arc;

use newsarc::Archive;
use newsarc_server::pb::archive_client::ArchiveClient;
use newsarc_server::{Settings, pb};
use tokio::sync::oneshot;
use tonic::transport::Channel;

pub(crate) const ARTICLE: &str = "https://example.org/news/service-test";

/// A running server; dropping it stops the server.
pub(crate) struct Running {
    pub(crate) addr: SocketAddr,
    pub(crate) archive: Arc<Archive>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), newsarc_server::ServeError>>>,
}

impl Running {
    pub(crate) async fn client(&self) -> ArchiveClient<Channel> {
        ArchiveClient::connect(format!("http://{}", self.addr))
            .await
            .unwrap()
    }

    /// Stops the server and waits for it to drain.
    pub(crate) async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).unwrap();
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub(crate) fn settings() -> Settings {
    Settings {
        read_only: false,
        token: None,
        max_message_bytes: newsarc_server::DEFAULT_MAX_MESSAGE_BYTES,
        // Short: the abuse tests wait for it with clients that never read.
        drain_grace: std::time::Duration::from_secs(2),
    }
}

pub(crate) async fn start(settings: Settings) -> Running {
    let archive = Arc::new(Archive::in_memory().unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel();
    let task = tokio::spawn(newsarc_server::serve(
        Arc::clone(&archive),
        settings,
        listener,
        async {
            let _ = stopped.await;
        },
    ));
    Running {
        addr,
        archive,
        stop: Some(stop),
        task: Some(task),
    }
}

/// A mirror post of `ARTICLE` whose body says `body`.
pub(crate) fn post(title: &str, body: &str) -> Vec<u8> {
    format!(
        "---\ntitle: \"{title}\"\ndate: 2026-03-01T08:00:00.000Z\nfrom: {ARTICLE}\n---\n<!--1772352000000-->\n[{title}]({ARTICLE})\n------\n\n<div><p>{body}</p></div>\n"
    )
    .into_bytes()
}

pub(crate) fn at(seconds: i64) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp { seconds, nanos: 0 })
}

/// Ingests `count` revisions of `ARTICLE`, one a minute from t = 60 s.
pub(crate) async fn ingest_revisions(
    client: &mut ArchiveClient<Channel>,
    count: usize,
) -> Vec<pb::IngestResponse> {
    let mut responses = Vec::new();
    for n in 0..count {
        let response = client
            .ingest(pb::IngestRequest {
                document: post("Service test", &format!("Version {n} of the text.")),
                fetched_at: at(60 * (n as i64 + 1)),
                source_url: String::new(),
                source_name: format!("test-{n}"),
            })
            .await
            .unwrap()
            .into_inner();
        responses.push(response);
    }
    responses
}
