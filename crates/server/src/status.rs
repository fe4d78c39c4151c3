//! The one place where errors become gRPC status codes. A user's mistake
//! (a malformed ref, an unknown id, a bad page token) is never INTERNAL;
//! damage found while reading is DATA_LOSS.

use newsarc::{ArchiveError, FileError, StoreError};
use tonic::Status;

/// Why a request was refused before it reached the archive.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// A field is malformed or missing.
    #[error("{field}: {reason}")]
    Invalid {
        /// The request field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A write to a server started with --read-only.
    #[error("this server is read-only: Ingest is refused")]
    ReadOnly,
    /// No bearer token where one is required.
    #[error("Ingest needs 'authorization: Bearer <token>'")]
    Unauthenticated,
    /// A bearer token that is not the server's.
    #[error("the bearer token is not accepted")]
    PermissionDenied,
    /// A document over the server's message limit.
    #[error("the document has {size} bytes, over this server's limit of {limit}")]
    TooLarge {
        /// The document's size.
        size: usize,
        /// The limit.
        limit: usize,
    },
}

impl RequestError {
    /// An invalid-argument error for `field`.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

impl From<RequestError> for Status {
    fn from(err: RequestError) -> Self {
        let message = err.to_string();
        match err {
            RequestError::Invalid { .. } => Status::invalid_argument(message),
            RequestError::ReadOnly => Status::failed_precondition(message),
            RequestError::Unauthenticated => Status::unauthenticated(message),
            RequestError::PermissionDenied => Status::permission_denied(message),
            RequestError::TooLarge { .. } => Status::resource_exhausted(message),
        }
    }
}

/// The status for a store error.
pub fn store_status(err: &StoreError) -> Status {
    let message = err.to_string();
    if err.is_corruption() {
        return Status::data_loss(message);
    }
    match err {
        StoreError::InUse { .. } => Status::unavailable(message),
        _ => Status::internal(message),
    }
}

/// The status for an archive error.
pub fn archive_status(err: ArchiveError) -> Status {
    let message = err.to_string();
    match err {
        ArchiveError::Store(store) => store_status(&store),
        ArchiveError::ArticleNotFound { .. }
        | ArchiveError::RevisionNotFound { .. }
        | ArchiveError::NoRevisionAt { .. } => Status::not_found(message),
        ArchiveError::AmbiguousPrefix { .. }
        | ArchiveError::BadRef { .. }
        | ArchiveError::Rules(_)
        | ArchiveError::ReadRules { .. } => Status::invalid_argument(message),
        ArchiveError::NothingToCompare { .. } => Status::failed_precondition(message),
        _ => Status::internal(message),
    }
}

/// The status for a document that could not be stored.
pub fn document_status(err: &FileError) -> Status {
    Status::invalid_argument(format!("document refused: {err}"))
}

/// tonic refuses a message over its decoding limit with OUT_OF_RANGE; the
/// protocol promises RESOURCE_EXHAUSTED. The refusal travels in the
/// response's headers or trailers; both are rewritten.
pub fn size_limit_is_resource_exhausted(
    response: tonic::codegen::http::Response<tonic::body::Body>,
) -> tonic::codegen::http::Response<tonic::body::Body> {
    let mut response =
        response.map(|body| tonic::body::Body::new(RewriteSizeLimit { inner: body }));
    rewrite_size_limit(response.headers_mut());
    response
}

fn rewrite_size_limit(headers: &mut tonic::codegen::http::HeaderMap) {
    let out_of_range = headers
        .get("grpc-status")
        .is_some_and(|code| code.as_bytes() == b"11");
    // grpc-message is percent-encoded on the wire.
    let too_large = headers.get("grpc-message").is_some_and(|message| {
        String::from_utf8_lossy(message.as_bytes())
            .replace("%20", " ")
            .contains("message length too large")
    });
    if out_of_range && too_large {
        headers.insert(
            "grpc-status",
            tonic::codegen::http::HeaderValue::from_static("8"),
        );
    }
}

/// A response body whose trailers get [`rewrite_size_limit`].
struct RewriteSizeLimit {
    inner: tonic::body::Body,
}

impl http_body::Body for RewriteSizeLimit {
    type Data = bytes::Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_frame(cx);
        polled.map(|frame| {
            frame.map(|frame| {
                frame.map(|mut frame| {
                    if let Some(trailers) = frame.trailers_mut() {
                        rewrite_size_limit(trailers);
                    }
                    frame
                })
            })
        })
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
