//! newsarc's gRPC service: `newsarc.v1.Archive` (see
//! `proto/newsarc/v1/archive.proto`), with the standard health service and
//! server reflection (v1 and v1alpha) so that generic clients work without
//! our `.proto`.
//!
//! [`serve`] runs it on a listener until a shutdown signal, then drains
//! in-flight calls and flushes the store.

mod convert;
mod history_cache;
mod page;
pub mod remote;
mod service;
pub mod status;
mod transport;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use newsarc::Archive;
use tokio::net::TcpListener;
use tokio_stream::StreamExt;
use tonic::transport::server::TcpIncoming;

pub use service::{ArchiveService, Settings};

/// The generated protocol types, client and server.
#[allow(missing_docs, clippy::all, clippy::pedantic)]
pub mod pb {
    tonic::include_proto!("newsarc.v1");

    /// The encoded descriptors of the protocol, for server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/newsarc_v1_descriptor.bin"));
}

/// Default limit on a message's size: 16 MiB.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;
/// How long a shutdown waits for in-flight calls by default.
pub const DEFAULT_DRAIN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);
/// The largest `GetBlob` chunk a client may ask for.
pub const MAX_CHUNK: usize = 4 * 1024 * 1024;

/// Why the server did not start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// Bound beyond loopback with writes open to anyone.
    #[error(
        "refusing to serve on {addr}: beyond loopback, Ingest must be protected by --token-file, or use --read-only"
    )]
    Exposed {
        /// The address.
        addr: SocketAddr,
    },
    /// The reflection service could not be built from our descriptors.
    #[error("cannot build the reflection service: {0}")]
    Reflection(String),
    /// The transport failed.
    #[error("the gRPC transport failed: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// The final flush failed.
    #[error("cannot flush the store at shutdown: {0}")]
    Flush(#[from] newsarc::StoreError),
}

/// Refuses a non-loopback address unless writes are closed or guarded.
pub fn check_exposure(addr: SocketAddr, settings: &Settings) -> Result<(), ServeError> {
    if addr.ip().is_loopback() || settings.read_only || settings.token.is_some() {
        Ok(())
    } else {
        Err(ServeError::Exposed { addr })
    }
}

/// Serves `archive` on `listener` until `shutdown` completes, then lets
/// in-flight calls finish (for at most `settings.drain_grace`), ends live
/// streams, and flushes the store.
pub async fn serve(
    archive: Arc<Archive>,
    settings: Settings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let addr = listener
        .local_addr()
        .map_err(|err| ServeError::Reflection(err.to_string()))?;
    check_exposure(addr, &settings)?;
    let limit = settings.max_message_bytes;
    let drain_grace = settings.drain_grace;
    let (stop_streams, streams_stopped) = tokio::sync::watch::channel(false);
    let service = ArchiveService::new(Arc::clone(&archive), settings, streams_stopped);

    let (health_reporter, health) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<pb::archive_server::ArchiveServer<ArchiveService>>()
        .await;
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|err| ServeError::Reflection(err.to_string()))?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .map_err(|err| ServeError::Reflection(err.to_string()))?;

    // The transport's own limit sits a little above ours so that a document
    // just over it gets our RESOURCE_EXHAUSTED with its size named; beyond
    // that, the transport's refusal is rewritten to the same code.
    let transport_limit = limit.saturating_add(64 * 1024);
    let archive_server = pb::archive_server::ArchiveServer::new(service)
        .max_decoding_message_size(transport_limit)
        .max_encoding_message_size(transport_limit);

    let (signalled, signalled_rx) = tokio::sync::oneshot::channel();
    let serving = tonic::transport::Server::builder()
        .layer(tower::util::MapResponseLayer::new(
            status::size_limit_is_resource_exhausted,
        ))
        .add_service(health)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(archive_server)
        // Small replies must not wait for Nagle's algorithm and the peer's
        // delayed ACK (about 40 ms a call on Linux).
        .serve_with_incoming_shutdown(
            TcpIncoming::from(listener)
                .with_nodelay(Some(true))
                .map(|accepted| accepted.map(transport::CoalescingStream::new)),
            async move {
                shutdown.await;
                let _ = stop_streams.send(true);
                let _ = signalled.send(());
            },
        );
    // A graceful shutdown waits for every call to end, and a client that
    // never reads its stream (or never finishes its handshake) would hold
    // it forever: after the grace period the remaining connections go.
    tokio::select! {
        served = serving => served?,
        () = async {
            if signalled_rx.await.is_err() {
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(drain_grace).await;
        } => {
            tracing::warn!(
                grace_seconds = drain_grace.as_secs_f64(),
                "calls still running after the drain grace period; closing their connections"
            );
        }
    }
    archive.store().flush()?;
    Ok(())
}
