//! Where a response goes: an HTTP/1.1 connection or one HTTP/2 stream. The routes and the
//! scripted faults write through this, so both protocols send the same bytes at the same times.

use std::future::Future;
use std::time::Duration;

/// One response being written.
///
/// Body data is gathered by [`Sink::chunk`] and goes out at [`Sink::flush`] as one piece: one
/// HTTP/1.1 chunk, or one HTTP/2 DATA frame (more only when flow control or the frame size
/// splits it).
pub(crate) trait Sink: Send {
    /// The protocol the request came over, as `x-emulator-protocol` echoes it.
    fn protocol(&self) -> &'static str;

    /// The status and headers of a response (sent at the next flush). With a `length`, the
    /// response says `content-length`; without, its body follows in chunks.
    fn head(&mut self, status: u16, headers: &[(&str, String)], length: Option<usize>);

    /// A whole response with a `content-length` body.
    fn respond(
        &mut self,
        status: u16,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> impl Future<Output = std::io::Result<()>> + Send {
        async move {
            self.head(status, headers, Some(body.len()));
            self.chunk(body);
            self.last_chunk();
            self.flush().await
        }
    }

    /// A whole response whose body is written one byte every `gap` (a slow, dripping server).
    fn respond_dripping(
        &mut self,
        status: u16,
        headers: &[(&str, String)],
        body: &[u8],
        gap: Duration,
    ) -> impl Future<Output = std::io::Result<()>> + Send {
        async move {
            self.head(status, headers, Some(body.len()));
            if body.is_empty() {
                self.last_chunk();
            }
            self.flush().await?;
            for (i, byte) in body.iter().enumerate() {
                tokio::time::sleep(gap).await;
                self.chunk(std::slice::from_ref(byte));
                if i + 1 == body.len() {
                    self.last_chunk();
                }
                self.flush().await?;
            }
            Ok(())
        }
    }

    /// Body data, sent at the next flush.
    fn chunk(&mut self, data: &[u8]);

    /// Marks the end of the body (sent at the next flush).
    fn last_chunk(&mut self);

    /// Bytes gathered and not yet sent.
    fn buffered(&self) -> usize;

    /// Sends what was gathered. Fails with `ConnectionReset` when the client went away.
    fn flush(&mut self) -> impl Future<Output = std::io::Result<()>> + Send;

    /// Waits `duration` with nothing to send. Fails with `ConnectionReset` as soon as the
    /// client goes away.
    fn pause(&mut self, duration: Duration) -> impl Future<Output = std::io::Result<()>> + Send;
}

/// The error of a client that went away.
pub(crate) fn gone() -> std::io::Error {
    std::io::ErrorKind::ConnectionReset.into()
}
