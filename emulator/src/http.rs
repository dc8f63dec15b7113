//! Just enough HTTP/1.1 for the emulator: read a request, write a response or a chunked stream.
//! Written by hand (not with a server framework) so that faults can be byte-exact: split
//! writes, a cut connection mid-chunk, a stall with the socket left open.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

use crate::sink::{gone, Sink};

/// The read side of a connection, plain or TLS.
pub type Reader = BufReader<Box<dyn AsyncRead + Send + Unpin>>;
/// The write side of a connection, plain or TLS.
pub type WriteHalf = Box<dyn AsyncWrite + Send + Unpin>;

/// Largest request body accepted (a larger one gets 413).
pub const MAX_BODY: usize = 1024 * 1024;
const MAX_HEAD: usize = 64 * 1024;

/// One request.
pub struct Request {
    pub method: String,
    /// The request target, e.g. `/s/id=x/api/chat?y=1`.
    pub target: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    /// The body; for an upload over [`MAX_BODY`], only its first [`UPLOAD_PREFIX`] bytes.
    pub body: Vec<u8>,
    /// The body's whole length in bytes.
    pub body_len: usize,
}

/// Bytes of a large upload's body kept (for its part headers); the rest is read and dropped.
pub const UPLOAD_PREFIX: usize = 64 * 1024;

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn wants_close(&self) -> bool {
        self.header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }
}

/// Why no request could be read.
pub enum ReadError {
    /// The client closed the connection (or it broke) between requests.
    Closed,
    /// The request is not HTTP we understand.
    Malformed,
    /// The body is over [`MAX_BODY`].
    TooLarge,
}

pub async fn read_request(reader: &mut Reader) -> Result<Request, ReadError> {
    let mut line = String::new();
    let mut head_len = 0;
    let mut request_line = String::new();
    match reader.read_line(&mut request_line).await {
        Ok(0) | Err(_) => return Err(ReadError::Closed),
        Ok(n) => head_len += n,
    }
    let mut parts = request_line.split_whitespace();
    let (Some(method), Some(target), Some(_version)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(ReadError::Malformed);
    };
    let (method, target) = (method.to_string(), target.to_string());
    let mut headers = Vec::new();
    loop {
        line.clear();
        match reader.read_line(&mut line).await {
            Ok(0) | Err(_) => return Err(ReadError::Closed),
            Ok(n) => head_len += n,
        }
        if head_len > MAX_HEAD {
            return Err(ReadError::Malformed);
        }
        let trimmed = line.trim_end_matches(['\r', '\n']);
        if trimmed.is_empty() {
            break;
        }
        let Some((name, value)) = trimmed.split_once(':') else {
            return Err(ReadError::Malformed);
        };
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .map(|(_, v)| v.parse::<usize>().map_err(|_| ReadError::Malformed))
        .transpose()?
        .unwrap_or(0);
    let multipart = headers.iter().any(|(n, v)| n == "content-type" && v.starts_with("multipart/form-data"));
    if length > MAX_BODY && !multipart {
        return Err(ReadError::TooLarge);
    }
    let mut body = vec![0; length.min(if multipart { UPLOAD_PREFIX.max(MAX_BODY) } else { MAX_BODY })];
    reader.read_exact(&mut body).await.map_err(|_| ReadError::Closed)?;
    // An upload larger than that is read to its end and counted, not kept.
    let mut rest = (length - body.len()) as u64;
    let mut sink = vec![0u8; 64 * 1024];
    while rest > 0 {
        let want = rest.min(sink.len() as u64) as usize;
        let got = reader.read(&mut sink[..want]).await.map_err(|_| ReadError::Closed)?;
        if got == 0 {
            return Err(ReadError::Closed);
        }
        rest -= got as u64;
    }
    Ok(Request { method, target, headers, body, body_len: length })
}

/// Writes one response; buffers writes until [`Writer::flush`], which sends the body data
/// gathered since the last flush (as one HTTP chunk when the body is chunked).
pub struct Writer {
    socket: WriteHalf,
    buffer: Vec<u8>,
    body: Vec<u8>,
    chunked: bool,
}

impl Writer {
    pub fn new(socket: WriteHalf) -> Writer {
        Writer { socket, buffer: Vec::with_capacity(32 * 1024), body: Vec::with_capacity(32 * 1024), chunked: false }
    }

    /// Status line and headers: `content-length` when the `length` is known, else
    /// `transfer-encoding: chunked`.
    pub fn head(&mut self, status: u16, headers: &[(&str, String)], length: Option<usize>) {
        let reason = reason(status);
        self.buffer.extend_from_slice(format!("HTTP/1.1 {status} {reason}\r\n").as_bytes());
        for (name, value) in headers {
            self.buffer.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        match length {
            Some(length) => self.buffer.extend_from_slice(format!("content-length: {length}\r\n").as_bytes()),
            None => self.buffer.extend_from_slice(b"transfer-encoding: chunked\r\n"),
        }
        self.chunked = length.is_none();
        self.buffer.extend_from_slice(b"\r\n");
    }

    /// Body data (sent at the next flush, as one chunk of a chunked body).
    pub fn chunk(&mut self, data: &[u8]) {
        self.body.extend_from_slice(data);
    }

    /// The end of the body: the last chunk of a chunked body; nothing more for a
    /// `content-length` one.
    pub fn last_chunk(&mut self) {
        self.frame_body();
        if self.chunked {
            self.buffer.extend_from_slice(b"0\r\n\r\n");
        }
    }

    pub fn buffered(&self) -> usize {
        self.buffer.len() + self.body.len()
    }

    fn frame_body(&mut self) {
        if !self.chunked {
            self.buffer.append(&mut self.body);
        } else if !self.body.is_empty() {
            self.buffer.extend_from_slice(format!("{:x}\r\n", self.body.len()).as_bytes());
            self.buffer.extend_from_slice(&self.body);
            self.buffer.extend_from_slice(b"\r\n");
            self.body.clear();
        }
    }

    pub async fn flush(&mut self) -> std::io::Result<()> {
        self.frame_body();
        if !self.buffer.is_empty() {
            self.socket.write_all(&self.buffer).await?;
            self.buffer.clear();
        }
        Ok(())
    }
}

/// One HTTP/1.1 connection: requests are read from `reader`, responses written to `writer`.
pub struct Http1 {
    pub reader: Reader,
    pub writer: Writer,
}

impl Http1 {
    /// Resolves when the client closes its side of the connection.
    async fn client_gone(reader: &mut Reader) {
        match reader.fill_buf().await {
            Ok([]) | Err(_) => {}
            // The client sent more (it may not pipeline, but it is not gone): keep waiting forever.
            Ok(_) => std::future::pending().await,
        }
    }
}

impl Sink for Http1 {
    fn protocol(&self) -> &'static str {
        "HTTP/1.1"
    }

    fn head(&mut self, status: u16, headers: &[(&str, String)], length: Option<usize>) {
        self.writer.head(status, headers, length);
    }

    fn chunk(&mut self, data: &[u8]) {
        self.writer.chunk(data);
    }

    fn last_chunk(&mut self) {
        self.writer.last_chunk();
    }

    fn buffered(&self) -> usize {
        self.writer.buffered()
    }

    async fn flush(&mut self) -> std::io::Result<()> {
        tokio::select! {
            result = self.writer.flush() => result,
            _ = Self::client_gone(&mut self.reader) => Err(gone()),
        }
    }

    async fn pause(&mut self, duration: Duration) -> std::io::Result<()> {
        tokio::select! {
            _ = tokio::time::sleep(duration) => Ok(()),
            _ = Self::client_gone(&mut self.reader) => Err(gone()),
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        307 => "Temporary Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}
