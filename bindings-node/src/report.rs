//! The core's call reports, delivered to the OpenTelemetry layer of `otel.js` on the JS thread.
//!
//! `otel.js` registers one function for the process (`setReportSink`) and tags each call it
//! traces with a number (the request option `observe`); the core reports on whatever thread ends
//! the call, so the report is queued on a threadsafe function (weak: it never keeps the event
//! loop alive, and unbounded: a report is never dropped, or its span would stay open) and
//! reaches JS as `(tag, json)`.

use std::sync::Mutex;

use mixerlead::{CallReport, ReportHook};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

type Reports = ThreadsafeFunction<(f64, String), Unknown<'static>, FnArgs<(f64, String)>, Status, false, true, 0>;

static SINK: Mutex<Option<Reports>> = Mutex::new(None);

/// Registers `deliver(tag, reportJson)`, called on this thread with each traced call's report.
#[napi(catch_unwind)]
pub fn set_report_sink(deliver: Function<'_, FnArgs<(f64, String)>, Unknown<'static>>) -> Result<()> {
    let reports: Reports = deliver
        .build_threadsafe_function::<(f64, String)>()
        .callee_handled::<false>()
        .weak::<true>()
        .build_callback(|ctx| Ok(FnArgs::from(ctx.value)))?;
    *SINK.lock().unwrap_or_else(|p| p.into_inner()) = Some(reports);
    Ok(())
}

/// The hook of a call tagged `tag`.
pub(crate) fn hook(tag: f64) -> ReportHook {
    ReportHook::new(move |report| {
        if let Some(sink) = SINK.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            let _ = sink.call((tag, json(report)), ThreadsafeFunctionCallMode::NonBlocking);
        }
    })
}

/// `[seconds, nanoseconds]` since the epoch: OpenTelemetry's `HrTime`.
fn hr_time(time: std::time::SystemTime) -> [u64; 2] {
    let since = time.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    [since.as_secs(), u64::from(since.subsec_nanos())]
}

fn json(r: &CallReport) -> String {
    let events: Vec<serde_json::Value> =
        r.events.iter().map(|e| serde_json::json!([e.name, hr_time(e.at), e.reason, e.seconds, e.attempt])).collect();
    serde_json::json!({
        "name": r.span_name(),
        "chat": r.chat,
        "model": r.model,
        "conversationId": r.conversation_id,
        "serverAddress": r.server_address,
        "serverPort": r.server_port,
        "attempts": r.attempts,
        "statusCode": r.status_code,
        "requestId": r.request_id,
        "outcome": r.outcome.as_str(),
        "errorType": r.error_type,
        "start": hr_time(r.start),
        "end": hr_time(r.end),
        "pieces": r.pieces,
        "duration": r.duration(),
        "timeToFirstChunk": r.time_to_first_chunk(),
        "timePerOutputChunk": r.time_per_output_chunk(),
        "events": events,
    })
    .to_string()
}
