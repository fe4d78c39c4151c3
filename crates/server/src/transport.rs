//! The server's connections: offered to h2 as unvectored and buffered, so
//! that a reply under 1 KiB leaves in one write instead of two.
//!
//! h2 (0.4) writes a DATA payload by itself, after its frame buffer, once
//! the payload reaches 256 bytes on a socket that does vectored writes, and
//! it flushes that before it buffers the next frame: every reply over 256
//! bytes takes two writes and two packets, the second carrying only the
//! trailers. On a socket that says it does not write vectored, h2 copies
//! payloads under 1 KiB into its buffer instead, so headers, data and
//! trailers go in one write; a larger payload comes as two plain writes,
//! which the buffer here (tokio's default, 8 KiB a connection) joins into
//! one before h2's flush sends it when they fit. A 16 KiB frame of a
//! `GetBlob` stream therefore takes two writes where a vectored socket took
//! one: 64 system calls more per megabyte streamed, for one packet fewer per
//! small answer. Measured on `ListHistory` (strace, one client, 40,000 calls): see
//! `docs/PERFORMANCE.md`.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, BufWriter, ReadBuf};
use tokio::net::TcpStream;
use tonic::transport::server::{Connected, TcpConnectInfo};

/// A TCP connection that offers h2 only plain (unvectored) writes, and
/// buffers them until h2 flushes.
pub(crate) struct CoalescingStream(BufWriter<TcpStream>);

impl CoalescingStream {
    pub(crate) fn new(stream: TcpStream) -> Self {
        Self(BufWriter::new(stream))
    }
}

impl AsyncRead for CoalescingStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for CoalescingStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }

    // `poll_write_vectored` keeps its default (the first non-empty slice) and
    // `is_write_vectored` stays false: that is what raises h2's threshold.
}

impl Connected for CoalescingStream {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.0.get_ref().connect_info()
    }
}
