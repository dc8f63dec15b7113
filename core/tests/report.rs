//! One report per call: what the Python and Node bindings build their OpenTelemetry spans and
//! metrics from, and the `tracing` span every call has in Rust. (Its own binary: the `tracing`
//! subscriber is process-wide.)

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::*;
use futures_util::StreamExt;
use mixerlead::{CallReport, ChatRequest, Method, Outcome, ReportHook, RequestOptions};

/// Reports delivered to a hook, and the hook.
fn reports() -> (Arc<Mutex<Vec<CallReport>>>, RequestOptions) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let into = seen.clone();
    let options = RequestOptions::new().on_report(ReportHook::new(move |r| into.lock().unwrap().push(r.clone())));
    (seen, options)
}

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn every_call_reports_once_and_has_a_tracing_span() {
    let out = Buffer::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::DEBUG)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let emu = emulator().await;
    // A chat retried once after a 503, read to its end.
    let client =
        builder(&emu.scenario_url("id=rep1;fail=503;times=1;pieces=5")).max_retry_wait_secs(1.0).build().unwrap();
    let (seen, options) = reports();
    let options = options.header("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    let request = ChatRequest::new("a secret message").model("ml-auto");
    let mut stream = client.chat_with(request, &options).await.unwrap();
    assert!(seen.lock().unwrap().is_empty(), "the report waits for the stream's end");
    let (pieces, error) = collect(&mut stream).await;
    assert!(error.is_none());
    let r = seen.lock().unwrap().pop().expect("a report");
    assert_eq!(
        (r.span_name().as_str(), r.outcome, r.attempts, r.resend_count()),
        ("chat ml-auto", Outcome::Succeeded, 2, 1)
    );
    assert_eq!((r.status_code, r.pieces), (Some(200), pieces.len() as u64));
    assert!(r.request_id.is_some() && r.conversation_id.is_some(), "{r:?}");
    assert_eq!((r.server_address.as_str(), r.server_port), ("127.0.0.1", emu.addr().port()));
    assert_eq!(
        r.events.iter().map(|e| (e.name, e.reason)).collect::<Vec<_>>(),
        [("mixerlead.retry", "InternalServerError")]
    );
    assert!(r.time_to_first_chunk().unwrap() <= r.duration() && r.time_per_output_chunk().is_some());
    let traceparent = emu.stats("rep1").last_headers.get("traceparent").cloned();
    assert_eq!(traceparent.as_deref(), Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
    drop(stream);
    assert!(seen.lock().unwrap().is_empty(), "delivered once");

    // A stream dropped half-read ends its report, as closed.
    let client = client.with_options(|b| Ok(b.base_url(emu.scenario_url("id=rep2;pieces=50;delay_ms=5")))).unwrap();
    let (seen, options) = reports();
    let mut stream = client.chat_with(ChatRequest::new("Hi"), &options).await.unwrap();
    stream.next().await.unwrap().unwrap();
    drop(stream);
    let r = seen.lock().unwrap().pop().expect("a report for a dropped stream");
    assert_eq!((r.span_name().as_str(), r.outcome, r.pieces, r.error_type), ("chat", Outcome::Closed, 1, None));

    // A failing JSON call: its status and error class.
    let client = client.with_options(|b| Ok(b.base_url(emu.scenario_url("id=rep3;fail=404")))).unwrap();
    let (seen, options) = reports();
    client.list_models_with(&options).await.unwrap_err();
    let r = seen.lock().unwrap().pop().expect("a report");
    assert_eq!(r.span_name(), "GET /ai/models");
    assert_eq!((r.outcome, r.status_code, r.error_type), (Outcome::Failed, Some(404), Some("NotFoundError")));

    // Paths are templates.
    let client = mixerlead::Client::builder().api_key(KEY).base_url(emu.base_url()).build().unwrap();
    let (seen, options) = reports();
    client.request(Method::DELETE, "/knowledge/kb_nope", None, &options).await.ok();
    assert_eq!(seen.lock().unwrap().pop().expect("a report").span_name(), "DELETE /knowledge/{id}");

    // A cancelled call (its future dropped before the response) reports as cancelled.
    let client = client.with_options(|b| Ok(b.base_url(emu.scenario_url("id=rep4;header_delay_ms=2000")))).unwrap();
    let (seen, options) = reports();
    let call = client.chat_with(ChatRequest::new("Hi"), &options);
    assert!(tokio::time::timeout(std::time::Duration::from_millis(100), call).await.is_err());
    let r = seen.lock().unwrap().pop().expect("a report for a cancelled call");
    assert_eq!((r.outcome, r.error_type), (Outcome::Cancelled, Some("AbortError")));

    // The tracing spans: named as the OpenTelemetry ones, with their fields; no text, no key.
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains(r#"otel.name="chat ml-auto""#), "{text}");
    assert!(text.contains("gen_ai.request.model=\"ml-auto\""), "{text}");
    assert!(text.contains("http.request.resend_count=1"), "{text}");
    assert!(text.contains("mixerlead.retry"), "{text}");
    assert!(text.contains(r#"otel.name="GET /ai/models""#) && text.contains("error.type=\"NotFoundError\""), "{text}");
    assert!(text.contains(r#"otel.name="DELETE /knowledge/{id}""#), "{text}");
    assert!(!text.contains("secret message") && !text.contains(KEY), "{text}");
}
