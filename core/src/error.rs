//! The one error classification of the SDK, mapped once per language by the bindings.

use std::fmt;
use std::sync::Arc;

/// What kind of failure an [`Error`] is. Every binding maps these, and only these, to its own
/// exception classes or status codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// No API key, a malformed base URL, or plain `http://` to a non-loopback host.
    Configuration,
    /// A bad argument: empty message, NUL in a string, a negative timeout or retry count.
    InvalidArgument,
    /// The connection could not be made or broke before the response headers arrived.
    Connection,
    /// The connect, headers or read (silence between body bytes) timeout elapsed.
    Timeout,
    /// The service answered with a non-2xx status (after retries).
    Status,
    /// The connection was lost or the body truncated after the stream started.
    StreamInterrupted,
    /// The body could not be decoded: malformed JSON where JSON is required, an over-size
    /// event, or an in-band `error` payload.
    Decode,
    /// The caller cancelled the call.
    Cancelled,
    /// A knowledge source failed to index (see [`Error::last_error`]).
    Indexing,
    /// A bug in the SDK (a caught panic); please report it.
    Internal,
}

impl ErrorKind {
    /// A stable snake_case name (`"stream_interrupted"`, …), the key bindings map to their own
    /// exception classes.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Configuration => "configuration",
            ErrorKind::InvalidArgument => "invalid_argument",
            ErrorKind::Connection => "connection",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Status => "status",
            ErrorKind::StreamInterrupted => "stream_interrupted",
            ErrorKind::Decode => "decode",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Indexing => "indexing",
            ErrorKind::Internal => "internal",
        }
    }
}

/// The body of an error response: parsed JSON when it was JSON, else its text.
#[derive(Debug, Clone, PartialEq)]
pub enum ErrorBody {
    /// The body parsed as JSON.
    Json(serde_json::Value),
    /// The body as (lossily decoded) text.
    Text(String),
}

/// An error from the SDK. [`Error::kind`] says what happened; the accessors carry the details
/// the service sent. The API key never appears in any of it.
#[derive(Clone)]
pub struct Error {
    inner: Box<Inner>,
}

/// Boxed so that `Result<String, Error>`, returned per piece, stays small.
#[derive(Clone)]
struct Inner {
    kind: ErrorKind,
    message: String,
    status_code: Option<u16>,
    body: Option<ErrorBody>,
    request_id: Option<String>,
    retry_after: Option<f64>,
    partial_text: Option<String>,
    /// For indexing errors: the source and why it failed.
    source_id: Option<String>,
    last_error: Option<String>,
    /// The lower-level failure this one comes from (a reqwest or I/O error), for `source()`.
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

/// `Result` with the SDK's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A new error of `kind` with a human-readable message.
    #[doc(hidden)]
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                status_code: None,
                body: None,
                request_id: None,
                retry_after: None,
                partial_text: None,
                source_id: None,
                last_error: None,
                source: None,
            }),
        }
    }

    /// The error of a call the caller cancelled.
    #[doc(hidden)]
    pub fn cancelled() -> Self {
        Self::new(ErrorKind::Cancelled, "the call was cancelled")
    }

    /// The error that stands for a panic caught at a language boundary (a bug in the SDK).
    #[doc(hidden)]
    pub fn internal() -> Self {
        Self::new(ErrorKind::Internal, "internal error: a panic was caught in the mixerlead library; please report it")
    }

    /// A knowledge source that failed to index (or is gone).
    pub(crate) fn indexing(source_id: &str, last_error: Option<String>, message: String) -> Self {
        let mut error = Self::new(ErrorKind::Indexing, printable(&message));
        error.inner.source_id = Some(source_id.to_string());
        error.inner.last_error = last_error;
        error
    }

    /// For [`ErrorKind::Indexing`]: the source that failed.
    pub fn source_id(&self) -> Option<&str> {
        self.inner.source_id.as_deref()
    }

    /// For [`ErrorKind::Indexing`]: why the service says it failed.
    pub fn last_error(&self) -> Option<&str> {
        self.inner.last_error.as_deref()
    }

    /// This error, caused by `source` (kept for [`std::error::Error::source`]).
    pub(crate) fn caused_by(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.inner.source = Some(Arc::new(source));
        self
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Configuration, message)
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }

    pub(crate) fn decode(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Decode, message)
    }

    /// A status error, as built from a non-2xx response.
    pub(crate) fn status(
        status_code: u16,
        message: String,
        body: Option<ErrorBody>,
        request_id: Option<String>,
        retry_after: Option<f64>,
    ) -> Self {
        Error {
            inner: Box::new(Inner {
                kind: ErrorKind::Status,
                message,
                status_code: Some(status_code),
                body,
                request_id,
                retry_after,
                partial_text: None,
                source_id: None,
                last_error: None,
                source: None,
            }),
        }
    }

    pub(crate) fn with_partial_text(mut self, text: String) -> Self {
        self.inner.partial_text = Some(text);
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The message: the service's `error` text for status errors, else a description.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The HTTP status of a [`ErrorKind::Status`] error.
    pub fn status_code(&self) -> Option<u16> {
        self.inner.status_code
    }

    /// The error response's body (parsed JSON, or text), for status errors.
    pub fn body(&self) -> Option<&ErrorBody> {
        self.inner.body.as_ref()
    }

    /// The `x-request-id` the service sent with the error, if any.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }

    /// Seconds the service asked to wait (`Retry-After` / `retry-after-ms`), if it said.
    pub fn retry_after(&self) -> Option<f64> {
        self.inner.retry_after
    }

    /// For errors raised mid-stream: all the text that arrived before the failure.
    pub fn partial_text(&self) -> Option<&str> {
        self.inner.partial_text.as_deref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inner.status_code {
            Some(code) => write!(f, "HTTP {code}: {}", self.inner.message),
            None => f.write_str(&self.inner.message),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind).field("message", &self.inner.message);
        if let Some(code) = self.inner.status_code {
            d.field("status_code", &code);
        }
        if let Some(id) = &self.inner.request_id {
            d.field("request_id", id);
        }
        if let Some(wait) = self.inner.retry_after {
            d.field("retry_after", &wait);
        }
        if let Some(text) = &self.inner.partial_text {
            d.field("partial_text_len", &text.len());
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// `text` with its control characters escaped (`\n`, `\u{1b}`, …), so that what a server sent
/// cannot move a terminal's cursor, colour it, or forge a log line.
pub(crate) fn printable(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_escapes_control_characters_only() {
        assert_eq!(printable("plain – ünïcode"), "plain – ünïcode");
        assert_eq!(
            printable("\u{1b}[31mred\u{1b}[0m\nnext\u{7f}\u{9b}"),
            "\\u{1b}[31mred\\u{1b}[0m\\nnext\\u{7f}\\u{9b}"
        );
    }
}
