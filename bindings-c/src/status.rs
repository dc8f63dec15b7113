//! `ml_status`, the thread's last error, and the guard every entry point runs in.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use mixerlead::{Error, ErrorKind};

/// The outcome of a call: `ML_OK`, `ML_DONE` (a stream's end), or a negative failure.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
pub enum ml_status {
    /// Success.
    ML_OK = 0,
    /// The stream has ended; no piece was returned.
    ML_DONE = 1,
    /// A NULL handle or out-pointer, invalid UTF-8, an empty message, a bad option value.
    ML_ERR_INVALID_ARGUMENT = -1,
    /// No API key, a malformed base URL, or plain http to a non-loopback host.
    ML_ERR_CONFIG = -2,
    /// The service could not be reached, or the connection broke before the response.
    ML_ERR_CONNECTION = -3,
    /// The connect, response-headers or read (stalled stream) timeout elapsed.
    ML_ERR_TIMEOUT = -4,
    /// The service answered with a non-2xx status: see ml_last_error_status_code().
    ML_ERR_STATUS = -5,
    /// The connection was lost or the body cut short after the stream started.
    ML_ERR_STREAM = -6,
    /// The reply could not be decoded, or the service reported an error inside the stream.
    ML_ERR_DECODE = -7,
    /// The caller cancelled the call.
    ML_ERR_CANCELLED = -8,
    /// The library's runtime could not start (the OS refused threads or file descriptors), or a
    /// bug in the library (it was caught; please report it): see ml_last_error_message().
    ML_ERR_INTERNAL = -9,
}

/// An `ml_status` as C passes it in: any `int`, as C does not keep an enum to its values (a
/// Rust enum must never hold another). The header names it `ml_status` (cbindgen.toml).
#[allow(non_camel_case_types)]
pub type ml_status_value = c_int;

impl ml_status {
    /// Every status, for reading one from C.
    const ALL: [ml_status; 11] = [
        ml_status::ML_OK,
        ml_status::ML_DONE,
        ml_status::ML_ERR_INVALID_ARGUMENT,
        ml_status::ML_ERR_CONFIG,
        ml_status::ML_ERR_CONNECTION,
        ml_status::ML_ERR_TIMEOUT,
        ml_status::ML_ERR_STATUS,
        ml_status::ML_ERR_STREAM,
        ml_status::ML_ERR_DECODE,
        ml_status::ML_ERR_CANCELLED,
        ml_status::ML_ERR_INTERNAL,
    ];

    /// The enumerator's name, as C spells it.
    fn name(self) -> &'static std::ffi::CStr {
        match self {
            ml_status::ML_OK => c"ML_OK",
            ml_status::ML_DONE => c"ML_DONE",
            ml_status::ML_ERR_INVALID_ARGUMENT => c"ML_ERR_INVALID_ARGUMENT",
            ml_status::ML_ERR_CONFIG => c"ML_ERR_CONFIG",
            ml_status::ML_ERR_CONNECTION => c"ML_ERR_CONNECTION",
            ml_status::ML_ERR_TIMEOUT => c"ML_ERR_TIMEOUT",
            ml_status::ML_ERR_STATUS => c"ML_ERR_STATUS",
            ml_status::ML_ERR_STREAM => c"ML_ERR_STREAM",
            ml_status::ML_ERR_DECODE => c"ML_ERR_DECODE",
            ml_status::ML_ERR_CANCELLED => c"ML_ERR_CANCELLED",
            ml_status::ML_ERR_INTERNAL => c"ML_ERR_INTERNAL",
        }
    }
}

/// This thread's last failure.
struct LastError {
    message: CString,
    status_code: c_int,
    retry_after: f64,
    request_id: Option<CString>,
}

thread_local! {
    static LAST_ERROR: RefCell<LastError> = RefCell::new(LastError {
        message: CString::default(),
        status_code: 0,
        retry_after: -1.0,
        request_id: None,
    });
}

pub(crate) fn status_of(kind: ErrorKind) -> ml_status {
    match kind {
        ErrorKind::InvalidArgument => ml_status::ML_ERR_INVALID_ARGUMENT,
        ErrorKind::Configuration => ml_status::ML_ERR_CONFIG,
        ErrorKind::Connection => ml_status::ML_ERR_CONNECTION,
        ErrorKind::Timeout => ml_status::ML_ERR_TIMEOUT,
        ErrorKind::Status => ml_status::ML_ERR_STATUS,
        ErrorKind::StreamInterrupted => ml_status::ML_ERR_STREAM,
        ErrorKind::Decode => ml_status::ML_ERR_DECODE,
        ErrorKind::Cancelled => ml_status::ML_ERR_CANCELLED,
        _ => ml_status::ML_ERR_INTERNAL,
    }
}

/// Records `error` as this thread's last failure and returns its status.
pub(crate) fn fail(error: &Error) -> ml_status {
    fail_in(error, None)
}

/// [`fail`] for a failure of a response whose request id is `response_id` (a stream that broke
/// after its headers): the error's own request id, else that one.
pub(crate) fn fail_in(error: &Error, response_id: Option<&str>) -> ml_status {
    let request_id = error.request_id().or(response_id);
    record(
        &error.to_string(),
        error.status_code().map_or(0, c_int::from),
        error.retry_after().unwrap_or(-1.0),
        request_id,
    );
    status_of(error.kind())
}

/// Records a failure of `kind` with `message`.
pub(crate) fn fail_with(kind: ErrorKind, message: &str) -> ml_status {
    fail(&Error::new(kind, message))
}

fn record(message: &str, status_code: c_int, retry_after: f64, request_id: Option<&str>) {
    let message = c_string(message);
    let request_id = request_id.map(c_string);
    // Not during the thread's exit (its thread-locals are gone), nor while borrowed: no panic.
    let _ = LAST_ERROR.try_with(|last| {
        if let Ok(mut last) = last.try_borrow_mut() {
            *last = LastError { message, status_code, retry_after, request_id };
        }
    });
}

/// A C copy of `text` (an inner NUL, which C could not see past, becomes a space).
pub(crate) fn c_string(text: &str) -> CString {
    CString::new(text.replace('\0', " ")).unwrap_or_default()
}

/// Runs an entry point (an early failure is its `Err`); a panic becomes `ML_ERR_INTERNAL`
/// instead of crossing into C.
pub(crate) fn guard(body: impl FnOnce() -> Result<ml_status, ml_status>) -> ml_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(status) | Err(status)) => status,
        Err(_) => caught_panic(),
    }
}

/// Runs an entry point that returns no status (a `_free`, an accessor, a task's last steps);
/// after a panic it returns `fallback` (and the thread's last error says what happened).
pub(crate) fn guard_or<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(out) => out,
        Err(_) => {
            caught_panic();
            fallback
        }
    }
}

/// Records a caught panic as this thread's last error; itself never panics.
fn caught_panic() -> ml_status {
    let _ = catch_unwind(|| fail(&Error::internal()));
    ml_status::ML_ERR_INTERNAL
}

/// The message of this thread's last failure ("" if none). Inside an `on_done` callback: that
/// call's failure. Valid until the next failure on this thread.
#[no_mangle]
pub extern "C" fn ml_last_error_message() -> *const c_char {
    guard_or(c"".as_ptr(), || {
        LAST_ERROR
            .try_with(|last| last.try_borrow().map_or(c"".as_ptr(), |last| last.message.as_ptr()))
            .unwrap_or(c"".as_ptr())
    })
}

/// The HTTP status of this thread's last failure; 0 when it was not an HTTP status.
#[no_mangle]
pub extern "C" fn ml_last_error_status_code() -> c_int {
    guard_or(0, || LAST_ERROR.try_with(|last| last.try_borrow().map_or(0, |last| last.status_code)).unwrap_or(0))
}

/// Seconds the service asked to wait (Retry-After) with this thread's last failure; < 0 if none.
#[no_mangle]
pub extern "C" fn ml_last_error_retry_after() -> f64 {
    guard_or(-1.0, || {
        LAST_ERROR.try_with(|last| last.try_borrow().map_or(-1.0, |last| last.retry_after)).unwrap_or(-1.0)
    })
}

/// The request id (response header `X-Request-Id`, else `Request-Id`) of the response behind
/// this thread's last failure: a status error's, or for a stream that broke after its headers
/// arrived, that stream's. NULL when the failure had none (no response, or the service sent no
/// id). Inside an `on_done` callback: that call's. Valid until the next failure on this thread.
#[no_mangle]
pub extern "C" fn ml_last_error_request_id() -> *const c_char {
    guard_or(std::ptr::null(), || {
        LAST_ERROR
            .try_with(|last| {
                last.try_borrow().map_or(std::ptr::null(), |last| {
                    last.request_id.as_ref().map_or(std::ptr::null(), |id| id.as_ptr())
                })
            })
            .unwrap_or(std::ptr::null())
    })
}

/// A stable name for `status`: "ML_OK", "ML_DONE", "ML_ERR_INVALID_ARGUMENT", … (the
/// enumerator's own name), or "ML_UNKNOWN" for a value that is not an ml_status. Static: never
/// freed. For a failure's details, see ml_last_error_message().
#[no_mangle]
pub extern "C" fn ml_status_str(status: ml_status_value) -> *const c_char {
    ml_status::ALL.iter().find(|s| **s as c_int == status).map_or(c"ML_UNKNOWN", |s| s.name()).as_ptr()
}

/// The library's version, as in its User-Agent `mixerlead-c/<version>`.
#[no_mangle]
pub extern "C" fn ml_version() -> *const c_char {
    guard_or(c"".as_ptr(), || concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast())
}
