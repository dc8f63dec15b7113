//! A response as the calls read it: its status, its headers and its body as a stream of network
//! reads. When the client records, the body is tapped here — the same bytes the decoders read —
//! and the exchange's line is written when the body ends, fails or is dropped.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;

use crate::record::Exchange;

/// The body of a response: its reads, after any decompression.
pub(crate) type BodyStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// A response whose headers arrived.
pub(crate) struct Received {
    status: StatusCode,
    headers: HeaderMap,
    body: BodyStream,
}

impl Received {
    /// `response`, its body recorded into `exchange` when there is one.
    pub(crate) fn new(response: reqwest::Response, exchange: Option<Exchange>) -> Received {
        let status = response.status();
        let headers = response.headers().clone();
        let body: BodyStream = Box::pin(response.bytes_stream());
        let body: BodyStream = match exchange {
            Some(mut exchange) => {
                exchange.response(status.as_u16(), &headers);
                Box::pin(Tap { inner: body, exchange })
            }
            None => body,
        };
        Received { status, headers, body }
    }

    /// The status code.
    pub(crate) fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    pub(crate) fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body, read by read.
    pub(crate) fn bytes_stream(self) -> BodyStream {
        self.body
    }
}

/// A body whose reads are recorded as they pass. Dropped early (a stream closed, or ended by
/// its `[DONE]`), it records what the network already delivered — often the body's end.
struct Tap {
    inner: BodyStream,
    exchange: Exchange,
}

impl Stream for Tap {
    type Item = reqwest::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let read = this.inner.as_mut().poll_next(cx);
        match &read {
            Poll::Ready(Some(Ok(bytes))) => this.exchange.chunk(bytes),
            Poll::Ready(Some(Err(e))) => this.exchange.finish("cut", Some(crate::transport::describe(e))),
            Poll::Ready(None) => this.exchange.finish("complete", None),
            Poll::Pending => {}
        }
        read
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
        for _ in 0..64 {
            match self.inner.as_mut().poll_next(&mut cx) {
                Poll::Ready(Some(Ok(bytes))) => self.exchange.chunk(&bytes),
                Poll::Ready(Some(Err(e))) => return self.exchange.finish("cut", Some(crate::transport::describe(&e))),
                Poll::Ready(None) => return self.exchange.finish("complete", None),
                Poll::Pending => return,
            }
        }
    }
}
