//! One report per call, for whoever observes calls: the `tracing` span every call has in Rust,
//! and the hook a binding registers per call ([`crate::RequestOptions::on_report`]) to build
//! its host's OpenTelemetry span and metrics from. The core measures everything (start, first
//! piece, end, waits, attempts); observers only map the report to their API.
//!
//! When nothing observes a call (no hook, and no `tracing` subscriber interested in the
//! `mixerlead` target) no report is made: the call costs what it cost before.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use reqwest::Method;
use tracing::field::Empty;

use crate::error::{Error, ErrorKind};

/// What is called with a call's [`CallReport`] once the call is over: a JSON call when its
/// response was read (or it failed, or its future was dropped), a chat stream when it ended,
/// failed, was closed or was dropped. Called on whatever thread ends the call (often one of the
/// runtime's), exactly once per call; it must not block.
#[derive(Clone)]
pub struct ReportHook(Arc<dyn Fn(&CallReport) + Send + Sync>);

impl ReportHook {
    /// A hook calling `f` with each report.
    pub fn new(f: impl Fn(&CallReport) + Send + Sync + 'static) -> ReportHook {
        ReportHook(Arc::new(f))
    }
}

impl fmt::Debug for ReportHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReportHook")
    }
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It succeeded (a stream: read to its end).
    Succeeded,
    /// It failed: see [`CallReport::error_type`].
    Failed,
    /// A stream closed, cancelled or dropped by the caller before its end (not a failure).
    Closed,
    /// The call was cancelled (its future dropped) before a response arrived.
    Cancelled,
}

impl Outcome {
    /// `succeeded`, `failed`, `closed` or `cancelled`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::Closed => "closed",
            Outcome::Cancelled => "cancelled",
        }
    }
}

/// Something that happened during a call: a wait of traffic control or a retry.
#[derive(Debug, Clone, PartialEq)]
pub struct CallEvent {
    /// `mixerlead.wait` (traffic control held the request: `reason` is `concurrency` or
    /// `rate_limit`) or `mixerlead.retry` (an attempt failed and is retried after `seconds`;
    /// `reason` is the failed attempt's error type).
    pub name: &'static str,
    /// When it started.
    pub at: SystemTime,
    /// Why: see `name`.
    pub reason: &'static str,
    /// How long the wait was (the retry's sleep, for a retry).
    pub seconds: f64,
    /// The attempt it came before (1 for the first).
    pub attempt: u32,
}

/// Everything an observer needs about one call: what it was, how it went, and when.
#[derive(Debug, Clone, PartialEq)]
pub struct CallReport {
    /// The HTTP method.
    pub method: Method,
    /// The path with ids replaced by `{id}` (`/knowledge/{id}`), without the query.
    pub path_template: String,
    /// Whether this is a chat (`POST /chat`).
    pub chat: bool,
    /// The chat's model; `None` for Auto and for other calls.
    pub model: Option<String>,
    /// The chat's conversation id: the one sent, else the one the service named.
    pub conversation_id: Option<String>,
    /// The base URL's host.
    pub server_address: String,
    /// The base URL's port (the scheme's default when it names none).
    pub server_port: u16,
    /// Attempts sent (1 without retries).
    pub attempts: u32,
    /// The last response's status code, if one arrived.
    pub status_code: Option<u16>,
    /// The last response's request id, if it had one.
    pub request_id: Option<String>,
    /// How the call ended.
    pub outcome: Outcome,
    /// The failure's kind, when it failed.
    pub error_kind: Option<ErrorKind>,
    /// The failure's class name as Python and Node name it (`RateLimitError`,
    /// `APITimeoutError`, …; `AbortError` when cancelled), when it failed or was cancelled.
    pub error_type: Option<&'static str>,
    /// When the call started (before any wait).
    pub start: SystemTime,
    /// When the first piece of a chat's reply was decoded.
    pub first_piece: Option<SystemTime>,
    /// Pieces of the reply handed out.
    pub pieces: u64,
    /// When the call ended.
    pub end: SystemTime,
    /// Waits and retries, in order.
    pub events: Vec<CallEvent>,
}

impl CallReport {
    /// The span name: `chat <model>` (`chat` for Auto), else `<METHOD> <path template>`.
    pub fn span_name(&self) -> String {
        match (&self.model, self.chat) {
            (Some(model), true) => format!("chat {model}"),
            (None, true) => "chat".to_string(),
            _ => format!("{} {}", self.method, self.path_template),
        }
    }

    /// Retries: attempts after the first.
    pub fn resend_count(&self) -> u32 {
        self.attempts.saturating_sub(1)
    }

    /// Seconds from start to end.
    pub fn duration(&self) -> f64 {
        secs_between(self.start, self.end)
    }

    /// Seconds from start to the first piece (chats that got one).
    pub fn time_to_first_chunk(&self) -> Option<f64> {
        self.first_piece.map(|first| secs_between(self.start, first))
    }

    /// Mean seconds per piece after the first (chats with two pieces or more).
    pub fn time_per_output_chunk(&self) -> Option<f64> {
        let first = self.first_piece?;
        (self.pieces > 1).then(|| secs_between(first, self.end) / (self.pieces - 1) as f64)
    }
}

fn secs_between(from: SystemTime, to: SystemTime) -> f64 {
    to.duration_since(from).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

/// The path with ids replaced by `{id}` and the query left out: a segment that is not one of
/// the API's words is an id.
pub(crate) fn path_template(path: &str) -> String {
    const WORDS: [&str; 13] = [
        "ai",
        "models",
        "chat",
        "knowledge",
        "crawl",
        "reindex",
        "skills",
        "exec",
        "agents",
        "run",
        "artifacts",
        "upload",
        "files",
    ];
    let path = path.split(['?', '#']).next().unwrap_or("");
    let mut template = String::with_capacity(path.len());
    for segment in path.split('/').skip(1) {
        template.push('/');
        template.push_str(if segment.is_empty() || WORDS.contains(&segment) { segment } else { "{id}" });
    }
    template
}

/// The report of one call being made; a no-op (`None`) when nothing observes the call. Clones
/// share the report, which is delivered when the last clone is dropped if it was not before.
#[derive(Clone, Default)]
pub(crate) struct Recorder(Option<Arc<Mutex<Recording>>>);

struct Recording {
    report: CallReport,
    started: Instant,
    /// Whether a response arrived (a stream then ends as closed, not cancelled, when dropped).
    responded: bool,
    delivered: bool,
    hook: Option<ReportHook>,
    span: tracing::Span,
}

impl Recorder {
    /// Starts the report of a call to `method path` (a chat when `chat` is given: its model and
    /// conversation) on `base_url`, delivered to `hook` and to `tracing`; a no-op when neither
    /// listens.
    pub(crate) fn start(
        hook: Option<&ReportHook>,
        base_url: &str,
        method: &Method,
        path: &str,
        chat: Option<(Option<&str>, Option<&str>)>,
    ) -> Recorder {
        let template = path_template(path);
        let (model, conversation) = chat.unwrap_or((None, None));
        let span = match chat {
            Some(_) => tracing::info_span!(
                target: "mixerlead",
                "chat",
                otel.name = Empty,
                otel.kind = "client",
                otel.status_code = Empty,
                gen_ai.operation.name = "chat",
                gen_ai.provider.name = "mixerlead",
                gen_ai.request.model = model,
                gen_ai.conversation.id = Empty,
                server.address = Empty,
                server.port = Empty,
                http.request.method = "POST",
                http.response.status_code = Empty,
                http.request.resend_count = Empty,
                mixerlead.request_id = Empty,
                mixerlead.pieces = Empty,
                mixerlead.outcome = Empty,
                "error.type" = Empty,
            ),
            None => tracing::info_span!(
                target: "mixerlead",
                "request",
                otel.name = Empty,
                otel.kind = "client",
                otel.status_code = Empty,
                server.address = Empty,
                server.port = Empty,
                http.request.method = %method,
                url.template = %template,
                http.response.status_code = Empty,
                http.request.resend_count = Empty,
                mixerlead.request_id = Empty,
                mixerlead.outcome = Empty,
                "error.type" = Empty,
            ),
        };
        if hook.is_none() && span.is_disabled() {
            return Recorder(None);
        }
        let url = url::Url::parse(base_url).ok();
        let server_address = url.as_ref().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default();
        let server_port = url.as_ref().and_then(|u| u.port_or_known_default()).unwrap_or(0);
        let now = SystemTime::now();
        let report = CallReport {
            method: method.clone(),
            path_template: template,
            chat: chat.is_some(),
            model: model.map(str::to_string),
            conversation_id: conversation.map(str::to_string),
            server_address,
            server_port,
            attempts: 0,
            status_code: None,
            request_id: None,
            outcome: Outcome::Cancelled,
            error_kind: None,
            error_type: None,
            start: now,
            first_piece: None,
            pieces: 0,
            end: now,
            events: Vec::new(),
        };
        span.record("otel.name", report.span_name());
        span.record("server.address", report.server_address.as_str());
        span.record("server.port", report.server_port);
        let recording = Recording {
            report,
            started: Instant::now(),
            responded: false,
            delivered: false,
            hook: hook.cloned(),
            span,
        };
        Recorder(Some(Arc::new(Mutex::new(recording))))
    }

    /// Whether anything observes this call.
    pub(crate) fn is_on(&self) -> bool {
        self.0.is_some()
    }

    fn with(&self, f: impl FnOnce(&mut Recording)) {
        if let Some(recording) = &self.0 {
            f(&mut recording.lock().unwrap_or_else(|p| p.into_inner()));
        }
    }

    /// An attempt is being sent.
    pub(crate) fn attempt(&self) {
        self.with(|r| r.report.attempts += 1)
    }

    /// A response arrived (any status).
    pub(crate) fn response(&self, status: u16, request_id: Option<String>) {
        self.with(|r| {
            r.report.status_code = Some(status);
            r.report.request_id = request_id;
        })
    }

    /// The chat's response arrived: from now on dropping the stream closes it.
    pub(crate) fn responded(&self, conversation_id: Option<String>) {
        self.with(|r| {
            r.responded = true;
            if conversation_id.is_some() {
                r.report.conversation_id = conversation_id;
            }
        })
    }

    /// Traffic control held the request `seconds` (`reason`: `concurrency`, `rate_limit`).
    pub(crate) fn waited(&self, reason: &'static str, seconds: f64) {
        self.with(|r| {
            let at = r.now() - Duration::from_secs_f64(seconds.max(0.0));
            let attempt = r.report.attempts + 1;
            let span = r.span.id();
            tracing::debug!(target: "mixerlead", parent: span, { mixerlead.wait.reason = reason, mixerlead.wait.seconds = seconds }, "mixerlead.wait");
            r.report.events.push(CallEvent { name: "mixerlead.wait", at, reason, seconds, attempt });
        })
    }

    /// The attempt failed with `error` and is retried after `seconds`.
    pub(crate) fn retrying(&self, error: &Error, seconds: f64) {
        self.with(|r| {
            let reason = type_name(error);
            let attempt = r.report.attempts + 1;
            let span = r.span.id();
            tracing::info!(target: "mixerlead", parent: span, { "error.type" = reason, mixerlead.wait.seconds = seconds, attempt }, "mixerlead.retry");
            let at = r.now();
            r.report.events.push(CallEvent { name: "mixerlead.retry", at, reason, seconds, attempt });
        })
    }

    /// The first piece of the reply was decoded.
    pub(crate) fn first_piece(&self) {
        self.with(|r| {
            if r.report.first_piece.is_none() {
                r.report.first_piece = Some(r.now());
            }
        })
    }

    /// The conversation id the service named in the stream.
    pub(crate) fn conversation(&self, id: Option<String>) {
        if id.is_some() {
            self.with(|r| r.report.conversation_id = id)
        }
    }

    /// A call without a stream is over with `result`.
    pub(crate) fn finish_result<T>(&self, result: &crate::Result<T>) {
        match result {
            Ok(_) => self.finish(Outcome::Succeeded, None, 0),
            Err(e) => self.finish(Outcome::Failed, Some(e), 0),
        }
    }

    /// The call is over: delivers the report (once; later calls do nothing).
    pub(crate) fn finish(&self, outcome: Outcome, error: Option<&Error>, pieces: u64) {
        self.with(|r| r.deliver(outcome, error, pieces))
    }
}

impl Recording {
    fn now(&self) -> SystemTime {
        self.report.start + self.started.elapsed()
    }

    fn deliver(&mut self, outcome: Outcome, error: Option<&Error>, pieces: u64) {
        if std::mem::replace(&mut self.delivered, true) {
            return;
        }
        let report = &mut self.report;
        report.end = report.start + self.started.elapsed();
        report.outcome = outcome;
        report.pieces = pieces;
        match (outcome, error) {
            (_, Some(e)) => {
                report.error_kind = Some(e.kind());
                report.error_type = Some(type_name(e));
                if report.status_code.is_none() {
                    report.status_code = e.status_code();
                }
                if report.request_id.is_none() {
                    report.request_id = e.request_id().map(str::to_string);
                }
            }
            (Outcome::Cancelled, None) => {
                report.error_kind = Some(ErrorKind::Cancelled);
                report.error_type = Some("AbortError");
            }
            _ => {}
        }
        let span = &self.span;
        if !span.is_disabled() {
            if let Some(status) = report.status_code {
                span.record("http.response.status_code", status);
            }
            if let Some(id) = &report.request_id {
                span.record("mixerlead.request_id", id.as_str());
            }
            if report.attempts > 1 {
                span.record("http.request.resend_count", report.resend_count());
            }
            if let Some(id) = &report.conversation_id {
                span.record("gen_ai.conversation.id", id.as_str());
            }
            if report.chat {
                span.record("mixerlead.pieces", report.pieces);
            }
            span.record("mixerlead.outcome", outcome.as_str());
            if let Some(kind) = report.error_type {
                span.record("error.type", kind);
                span.record("otel.status_code", "ERROR");
            }
        }
        if let Some(hook) = &self.hook {
            (hook.0)(report);
        }
        // The span closes here (not when the last clone of the recorder goes).
        self.span = tracing::Span::none();
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        let outcome = if self.responded { Outcome::Closed } else { Outcome::Cancelled };
        let pieces = self.report.pieces;
        self.deliver(outcome, None, pieces);
    }
}

/// The class name Python and Node give `error` (`RateLimitError`, `APITimeoutError`, …).
pub fn type_name(error: &Error) -> &'static str {
    match error.kind() {
        ErrorKind::Configuration => "ConfigurationError",
        ErrorKind::InvalidArgument => "InvalidArgumentError",
        ErrorKind::Connection => "APIConnectionError",
        ErrorKind::Timeout => "APITimeoutError",
        ErrorKind::StreamInterrupted => "StreamInterruptedError",
        ErrorKind::Decode => "APIResponseError",
        ErrorKind::Cancelled => "AbortError",
        ErrorKind::Indexing => "IndexingError",
        ErrorKind::Internal => "MixerLeadError",
        ErrorKind::Status => match error.status_code().unwrap_or(0) {
            400 => "BadRequestError",
            401 => "AuthenticationError",
            403 => "PermissionDeniedError",
            404 => "NotFoundError",
            409 => "ConflictError",
            413 => "PayloadTooLargeError",
            429 => "RateLimitError",
            s if s >= 500 => "InternalServerError",
            _ => "APIStatusError",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_templates_hide_ids_and_queries() {
        assert_eq!(path_template("/ai/models"), "/ai/models");
        assert_eq!(path_template("/knowledge/kb_1"), "/knowledge/{id}");
        assert_eq!(path_template("/knowledge/kb%201/reindex?x=1"), "/knowledge/{id}/reindex");
        assert_eq!(path_template("/agents/a1/run"), "/agents/{id}/run");
        assert_eq!(path_template("/knowledge/crawl"), "/knowledge/crawl");
    }

    #[test]
    fn a_report_is_delivered_once_with_its_times() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let into = seen.clone();
        let hook = ReportHook::new(move |r| into.lock().unwrap().push(r.clone()));
        let recorder =
            Recorder::start(Some(&hook), "http://127.0.0.1:8080/api", &Method::POST, "/chat", Some((Some("m1"), None)));
        recorder.attempt();
        recorder.retrying(&Error::status(503, "busy".into(), None, None, None), 0.5);
        recorder.attempt();
        recorder.response(200, Some("req_1".into()));
        recorder.responded(Some("conv_1".into()));
        recorder.first_piece();
        let copy = recorder.clone();
        drop(recorder);
        assert!(seen.lock().unwrap().is_empty(), "a clone still holds the report");
        copy.finish(Outcome::Succeeded, None, 3);
        copy.finish(Outcome::Failed, None, 9);
        drop(copy);
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), 1);
        let r = &seen[0];
        assert_eq!((r.span_name().as_str(), r.attempts, r.resend_count()), ("chat m1", 2, 1));
        assert_eq!((r.status_code, r.request_id.as_deref(), r.pieces), (Some(200), Some("req_1"), 3));
        assert_eq!((r.server_address.as_str(), r.server_port), ("127.0.0.1", 8080));
        assert_eq!(r.events[0].reason, "InternalServerError");
        assert!(r.time_to_first_chunk().is_some() && r.time_per_output_chunk().is_some());
    }

    #[test]
    fn dropped_before_a_response_is_cancelled_and_nothing_is_made_without_observers() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let into = seen.clone();
        let hook = ReportHook::new(move |r| into.lock().unwrap().push((r.outcome, r.error_type, r.span_name())));
        drop(Recorder::start(Some(&hook), "https://h.example/api", &Method::GET, "/knowledge/kb_9", None));
        assert_eq!(seen.lock().unwrap()[0], (Outcome::Cancelled, Some("AbortError"), "GET /knowledge/{id}".into()));
        assert!(!Recorder::start(None, "https://h.example/api", &Method::GET, "/ai/models", None).is_on());
    }
}
