//! Core errors as napi errors: a JSON description behind [`ERROR_MARK`], which `errors.js` turns
//! into the typed classes; and panics caught on their way to Node.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use mixerlead::{Error, ErrorBody, ErrorKind};
use napi::{Result, Status};

/// The prefix of a rejection reason that describes a core error as JSON.
const ERROR_MARK: &str = "mixerlead-error:";

/// What an invalid argument becomes in JS: `TypeError` for strings, `RangeError` for numbers.
#[derive(Clone, Copy)]
pub(crate) enum InvalidAs {
    Type,
    Range,
    /// A call with options: `RangeError` when the core refused one of the call's numeric
    /// options (`timeout`, `max_retries`, which its message names first), else `TypeError`
    /// (the message, the model, the conversation id; an id, a skill id, a name, a file).
    /// The core checks those options' ranges only when the call starts, with the arguments.
    Call,
}

/// The core's names of the numeric per-call options, as its messages start.
const NUMERIC_CALL_OPTIONS: [&str; 2] = ["timeout ", "max_retries "];

fn kind_name(error: &Error, invalid_as: InvalidAs) -> &'static str {
    match (error.kind(), invalid_as) {
        (ErrorKind::InvalidArgument, InvalidAs::Type) => "type",
        (ErrorKind::InvalidArgument, InvalidAs::Range) => "range",
        (ErrorKind::InvalidArgument, InvalidAs::Call) => {
            match NUMERIC_CALL_OPTIONS.iter().any(|name| error.message().starts_with(name)) {
                true => "range",
                false => "type",
            }
        }
        (kind, _) => kind.name(),
    }
}

/// The napi error for a core error: its fields as JSON behind [`ERROR_MARK`].
pub(crate) fn to_napi(error: Error, invalid_as: InvalidAs) -> napi::Error {
    describe(&error, invalid_as, error.message())
}

/// [`to_napi`] with `message` shown instead of the error's own.
fn describe(error: &Error, invalid_as: InvalidAs, message: &str) -> napi::Error {
    let body = match error.body() {
        Some(ErrorBody::Json(json)) => json.clone(),
        Some(ErrorBody::Text(text)) => serde_json::Value::String(text.clone()),
        None => serde_json::Value::Null,
    };
    let described = serde_json::json!({
        "kind": kind_name(error, invalid_as),
        "message": message,
        "status": error.status_code(),
        "body": body,
        "requestId": error.request_id(),
        "retryAfter": error.retry_after(),
        "partialText": error.partial_text(),
        "sourceId": error.source_id(),
        "lastError": error.last_error(),
        "causes": causes(error),
    });
    napi::Error::new(Status::GenericFailure, format!("{ERROR_MARK}{described}"))
}

/// The messages of the errors `error` comes from (its `source()` chain), nearest first: they
/// become the JS error's `cause` chain.
fn causes(error: &Error) -> Vec<String> {
    let mut causes = Vec::new();
    let mut next = std::error::Error::source(error);
    while let Some(cause) = next {
        causes.push(cause.to_string());
        next = cause.source();
    }
    causes
}

/// The error a caught panic becomes: the core's `internal` error, followed by the panic's
/// message (what a bug report needs).
pub(crate) fn internal(payload: Box<dyn Any + Send>) -> napi::Error {
    let what = match (payload.downcast_ref::<&str>(), payload.downcast_ref::<String>()) {
        (Some(text), _) => text,
        (None, Some(text)) => text.as_str(),
        (None, None) => "a panic",
    };
    let error = Error::internal();
    describe(&error, InvalidAs::Type, &format!("{}: {what}", error.message()))
}

/// Runs the body of an export: a panic becomes an `internal` error instead of unwinding.
pub(crate) fn guard<T>(body: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| Err(internal(payload)))
}
