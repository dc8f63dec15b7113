//! HTTP/2, when a TLS client negotiates `h2`: each stream's request is read whole and answered
//! by the same routes as HTTP/1.1, through [`Http2Stream`]. Body data goes out as DATA frames at
//! the same flushes as HTTP/1.1 chunks; a reply the scenario cuts ends in `RST_STREAM`.

use std::future::poll_fn;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use h2::server::SendResponse;
use h2::{Reason, RecvStream, SendStream};
use http::{HeaderName, HeaderValue, StatusCode};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::http::{ReadError, Request, MAX_BODY, UPLOAD_PREFIX};
use crate::sink::{gone, Sink};
use crate::State;

/// Streams a client may have open at once on one connection.
const MAX_STREAMS: u32 = 256;
/// How long a cut reply waits before its `RST_STREAM`, which discards any of its data still
/// queued in the connection: long enough for the connection to write what was flushed.
const DRAIN: Duration = Duration::from_millis(20);

/// Serves one HTTP/2 connection until the client closes it.
pub(crate) async fn serve<T>(io: T, state: Arc<State>)
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = h2::server::Builder::new();
    builder.max_concurrent_streams(MAX_STREAMS);
    let Ok(mut connection) = builder.handshake::<_, Bytes>(io).await else {
        return;
    };
    while let Some(Ok((request, respond))) = connection.accept().await {
        tokio::spawn(stream(request, respond, state.clone()));
    }
}

/// Answers one stream.
async fn stream(request: http::Request<RecvStream>, respond: SendResponse<Bytes>, state: Arc<State>) {
    let mut sink = Http2Stream { respond, head: None, stream: None, body: Vec::new(), ending: false, ended: false };
    match read_request(request).await {
        Ok(request) => {
            let _ = crate::server::handle(&state, request, &mut sink).await;
        }
        Err(ReadError::TooLarge) => {
            let _ = crate::server::too_large(&mut sink).await;
        }
        Err(ReadError::Closed | ReadError::Malformed) => {}
    }
    if !sink.ended {
        sink.reset().await;
    }
}

/// The request's head and body, the body kept up to the same limits as over HTTP/1.1.
async fn read_request(request: http::Request<RecvStream>) -> Result<Request, ReadError> {
    let (parts, mut body) = request.into_parts();
    let mut headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(name, value)| (name.as_str().to_string(), String::from_utf8_lossy(value.as_bytes()).trim().to_string()))
        .collect();
    if let Some(authority) = parts.uri.authority().filter(|_| !headers.iter().any(|(n, _)| n == "host")) {
        headers.insert(0, ("host".to_string(), authority.to_string()));
    }
    let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let multipart = header("content-type").is_some_and(|v| v.starts_with("multipart/form-data"));
    let declared = header("content-length").and_then(|v| v.parse::<usize>().ok()).unwrap_or(0);
    if declared > MAX_BODY && !multipart {
        return Err(ReadError::TooLarge);
    }
    let keep = if multipart { UPLOAD_PREFIX.max(MAX_BODY) } else { MAX_BODY };
    let (mut kept, mut length) = (Vec::new(), 0);
    while let Some(data) = body.data().await {
        let data = data.map_err(|_| ReadError::Closed)?;
        let _ = body.flow_control().release_capacity(data.len());
        length += data.len();
        if length > MAX_BODY && !multipart {
            return Err(ReadError::TooLarge);
        }
        let room = keep - kept.len();
        kept.extend_from_slice(&data[..data.len().min(room)]);
    }
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
    Ok(Request { method: parts.method.to_string(), target, headers, body: kept, body_len: length })
}

/// The response to one HTTP/2 stream.
pub(crate) struct Http2Stream {
    respond: SendResponse<Bytes>,
    /// Status and headers not yet sent.
    head: Option<http::Response<()>>,
    /// The body's stream, once the head went out.
    stream: Option<SendStream<Bytes>>,
    /// Body data not yet sent.
    body: Vec<u8>,
    /// The body ends at the next flush.
    ending: bool,
    /// `END_STREAM` went out.
    ended: bool,
}

impl Http2Stream {
    /// Ends the stream abruptly with `RST_STREAM`, after giving its flushed data time to leave.
    async fn reset(&mut self) {
        match &mut self.stream {
            Some(stream) => {
                tokio::time::sleep(DRAIN).await;
                stream.send_reset(Reason::INTERNAL_ERROR);
            }
            None => self.respond.send_reset(Reason::INTERNAL_ERROR),
        }
    }

    /// Resolves when the client resets the stream or the connection breaks.
    async fn client_gone(&mut self) {
        let _ = poll_fn(|cx| match &mut self.stream {
            Some(stream) => stream.poll_reset(cx),
            None => self.respond.poll_reset(cx),
        })
        .await;
    }
}

/// Waits until `stream` may send data; fails when the client went away.
async fn capacity(stream: &mut SendStream<Bytes>) -> std::io::Result<usize> {
    poll_fn(|cx| {
        if stream.poll_reset(cx).is_ready() {
            return Poll::Ready(Err(gone()));
        }
        match stream.poll_capacity(cx) {
            Poll::Ready(Some(Ok(room))) => Poll::Ready(Ok(room)),
            Poll::Ready(Some(Err(e))) => Poll::Ready(Err(broken(e))),
            Poll::Ready(None) => Poll::Ready(Err(gone())),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

fn broken(e: h2::Error) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::ConnectionReset, e)
}

impl Sink for Http2Stream {
    fn protocol(&self) -> &'static str {
        "HTTP/2"
    }

    fn head(&mut self, status: u16, headers: &[(&str, String)], length: Option<usize>) {
        let mut response = http::Response::new(());
        *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        for (name, value) in headers {
            // A value HTTP/2 cannot carry (say, a control character from a script) is left out.
            if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_str(value)) {
                response.headers_mut().append(name, value);
            }
        }
        if let Some(length) = length {
            response.headers_mut().insert(http::header::CONTENT_LENGTH, HeaderValue::from(length));
        }
        self.head = Some(response);
    }

    fn chunk(&mut self, data: &[u8]) {
        self.body.extend_from_slice(data);
    }

    fn last_chunk(&mut self) {
        self.ending = true;
    }

    fn buffered(&self) -> usize {
        self.body.len()
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        if let Some(head) = self.head.take() {
            let end = self.ending && self.body.is_empty();
            self.stream = Some(self.respond.send_response(head, end).map_err(broken)?);
            self.ended = end;
        }
        if self.ended || (self.body.is_empty() && !self.ending) {
            return Ok(());
        }
        let stream = self.stream.as_mut().ok_or_else(|| std::io::Error::other("body before the head"))?;
        let mut data = Bytes::from(std::mem::take(&mut self.body));
        if data.is_empty() {
            stream.send_data(Bytes::new(), true).map_err(broken)?;
        }
        // Only as much as flow control allows is handed over, so a client that stops reading
        // holds the server back as a full socket does over HTTP/1.1.
        while !data.is_empty() {
            stream.reserve_capacity(data.len());
            let room = match stream.capacity() {
                0 => capacity(stream).await?,
                room => room,
            };
            let part = data.split_to(room.min(data.len()));
            stream.send_data(part, self.ending && data.is_empty()).map_err(broken)?;
        }
        self.ended = self.ending;
        Ok(())
    }

    async fn pause(&mut self, duration: Duration) -> std::io::Result<()> {
        if self.ended {
            tokio::time::sleep(duration).await;
            return Ok(());
        }
        tokio::select! {
            _ = tokio::time::sleep(duration) => Ok(()),
            _ = self.client_gone() => Err(gone()),
        }
    }
}
