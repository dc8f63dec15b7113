//! The core's call reports, handed to the Python callback a call registered (the OpenTelemetry
//! layer, `mixerlead/_otel.py`, passes one as the call option `observe`).
//!
//! A report is made on whatever thread ends the call. A Python thread (a stream dropped by
//! Python, or closed) calls the callback at once; a runtime thread must never take the GIL, so
//! it queues the report, and the queue is delivered with the log records
//! (see [`crate::log::deliver`]): when a call into the binding returns or yields, or else when
//! the interpreter's main thread runs its pending calls.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use mixerlead::{CallReport, ReportHook};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

type Queued = (Arc<Py<PyAny>>, CallReport);

static QUEUE: Mutex<Vec<Queued>> = Mutex::new(Vec::new());
/// Set after a report is queued: lets a delivery with nothing to deliver cost one atomic load.
static PENDING: AtomicBool = AtomicBool::new(false);

/// The hook calling `callback(report_tuple)` once the call is over.
pub fn hook(callback: Py<PyAny>) -> ReportHook {
    let callback = Arc::new(callback);
    ReportHook::new(move |report| {
        let runtime_thread =
            std::thread::current().name().is_some_and(|name| name.starts_with(mixerlead::runtime::THREAD_NAME));
        if !runtime_thread {
            Python::attach(|py| call(py, &callback, report));
        } else {
            QUEUE.lock().unwrap_or_else(|p| p.into_inner()).push((callback.clone(), report.clone()));
            PENDING.store(true, Ordering::Release);
            if !SCHEDULED.swap(true, Ordering::AcqRel) {
                // SAFETY: Py_AddPendingCall needs no thread state; the function it is given is a
                // plain `extern "C" fn` that lives as long as the module.
                if unsafe { pyo3::ffi::Py_AddPendingCall(Some(pending_call), std::ptr::null_mut()) } != 0 {
                    SCHEDULED.store(false, Ordering::Release); // the queue is full: a later delivery takes it
                }
            }
        }
    })
}

/// Whether a pending call to deliver the queue is scheduled with the interpreter.
static SCHEDULED: AtomicBool = AtomicBool::new(false);

/// Run by the interpreter's main thread at its next chance (Py_AddPendingCall): a stream
/// dropped, or a call ended, on a runtime thread ends its span promptly even when no other call
/// into the binding follows.
extern "C" fn pending_call(_: *mut std::ffi::c_void) -> std::ffi::c_int {
    SCHEDULED.store(false, Ordering::Release);
    Python::attach(deliver);
    0
}

/// Calls the callbacks of the queued reports.
pub fn deliver(py: Python<'_>) {
    if !PENDING.swap(false, Ordering::AcqRel) {
        return;
    }
    let queued = std::mem::take(&mut *QUEUE.lock().unwrap_or_else(|p| p.into_inner()));
    for (callback, report) in queued {
        call(py, &callback, &report);
    }
}

fn call(py: Python<'_>, callback: &Py<PyAny>, report: &CallReport) {
    let result = tuple(py, report).and_then(|t| callback.call1(py, (t,)));
    if let Err(error) = result {
        error.write_unraisable(py, None);
    }
}

fn nanos(time: std::time::SystemTime) -> u64 {
    time.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

/// `(span_name, chat, model, conversation_id, server_address, server_port, attempts,
/// status_code, request_id, outcome, error_type, start_ns, end_ns, pieces, duration,
/// time_to_first_chunk, time_per_output_chunk, events)`, each event
/// `(name, at_ns, reason, seconds, attempt)`.
fn tuple<'py>(py: Python<'py>, r: &CallReport) -> PyResult<Bound<'py, PyTuple>> {
    let events: Vec<(&str, u64, &str, f64, u32)> =
        r.events.iter().map(|e| (e.name, nanos(e.at), e.reason, e.seconds, e.attempt)).collect();
    let values: Vec<Bound<'py, PyAny>> = vec![
        r.span_name().into_pyobject(py)?.into_any(),
        r.chat.into_pyobject(py)?.to_owned().into_any(),
        r.model.as_deref().into_pyobject(py)?.into_any(),
        r.conversation_id.as_deref().into_pyobject(py)?.into_any(),
        r.server_address.as_str().into_pyobject(py)?.into_any(),
        r.server_port.into_pyobject(py)?.into_any(),
        r.attempts.into_pyobject(py)?.into_any(),
        r.status_code.into_pyobject(py)?.into_any(),
        r.request_id.as_deref().into_pyobject(py)?.into_any(),
        r.outcome.as_str().into_pyobject(py)?.into_any(),
        r.error_type.into_pyobject(py)?.into_any(),
        nanos(r.start).into_pyobject(py)?.into_any(),
        nanos(r.end).into_pyobject(py)?.into_any(),
        r.pieces.into_pyobject(py)?.into_any(),
        r.duration().into_pyobject(py)?.into_any(),
        r.time_to_first_chunk().into_pyobject(py)?.into_any(),
        r.time_per_output_chunk().into_pyobject(py)?.into_any(),
        events.into_pyobject(py)?.into_any(),
    ];
    PyTuple::new(py, values)
}
