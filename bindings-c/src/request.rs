//! The generic JSON call: every endpoint of the Workspace API besides the models list
//! and chat (knowledge, skills, agents, artifacts) goes through `ml_request`, so the C ABI does
//! not grow with the API.

use std::ffi::{c_char, CString};
use std::fmt::Display;
use std::str::FromStr;

use mixerlead::binding::block_on;
use mixerlead::{ErrorKind, Method};

use crate::client::ml_client;
use crate::context::{not_in_callback, runtime};
use crate::options::{ml_request_options, request_options};
use crate::status::{c_string, fail, fail_with, guard, guard_or, ml_status};
use crate::strings::{cleared, live, null, optional};

/// The response of ml_request: its JSON text and request id.
#[allow(non_camel_case_types)]
pub struct ml_response {
    json: CString,
    request_id: Option<CString>,
}

/// JSON text as the core takes it (serde_json's `Value`, named through its `FromStr`).
fn json<T: FromStr>(text: &str) -> Result<T, ml_status>
where
    T::Err: Display,
{
    text.parse().map_err(|e| fail_with(ErrorKind::InvalidArgument, &format!("json_body is not valid JSON: {e}")))
}

/// Sends `method path` with an optional JSON body and, on success, stores the response in
/// `*out` (free it with ml_response_free). Blocks the calling thread: not from inside an
/// on_text / on_done callback (ML_ERR_INVALID_ARGUMENT).
///
/// - `method`: `GET`, `POST`, `PATCH`, `DELETE`, … (any case).
/// - `path`: relative to the base URL, starting with `/`, e.g. `/knowledge` or
///   `/knowledge/kb_1/reindex`; an id put in it must be percent-encoded by the caller. A query
///   (`?…`) may follow.
/// - `json_body`: the request's JSON text (UTF-8), sent with `Content-Type: application/json`;
///   NULL: no body. Text that is not valid JSON is ML_ERR_INVALID_ARGUMENT, and nothing is sent.
/// - `options`: this call's timeout, retries and extra headers (NULL: the client's).
///
/// Retries, errors and metadata are those of every call: `GET`, `PATCH` and `DELETE` are
/// retried like the models list (429, 408, 5xx, connection failures, timeouts); a `POST` only
/// where nothing can have been created (429, a connection never made), never after a 5xx. A
/// non-2xx answer is ML_ERR_STATUS with the service's message, status code and request id in
/// the ml_last_error_ functions; a 2xx body that is not JSON is ML_ERR_DECODE.
#[no_mangle]
pub unsafe extern "C" fn ml_request(
    client: *mut ml_client,
    method: *const c_char,
    path: *const c_char,
    json_body: *const c_char,
    options: *const ml_request_options,
    out: *mut *mut ml_response,
) -> ml_status {
    guard(|| {
        // SAFETY: as documented.
        let (out, client) = unsafe { (cleared(out)?, live(client, "client")?) };
        // SAFETY: NULL or NUL-terminated strings, as documented.
        let (method, path, body, options) = unsafe {
            (
                optional(method, "method")?.ok_or_else(|| null("method"))?,
                optional(path, "path")?.ok_or_else(|| null("path"))?,
                optional(json_body, "json_body")?,
                request_options(options)?,
            )
        };
        let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
            .map_err(|_| fail_with(ErrorKind::InvalidArgument, &format!("method {method:?} is not an HTTP method")))?;
        let body = body.map(|text| json(&text)).transpose()?;
        not_in_callback("ml_request")?;
        runtime()?;
        let response = block_on(client.inner.request(method, &path, body.as_ref(), &options)).map_err(|e| fail(&e))?;
        let text = response.json.map(|json| json.to_string()).unwrap_or_default();
        *out = Box::into_raw(Box::new(ml_response {
            json: c_string(&text), // serde_json escapes control characters: no NUL inside
            request_id: response.meta.request_id.as_deref().map(c_string),
        }));
        Ok(ml_status::ML_OK)
    })
}

/// The response's JSON text (UTF-8, compact), "" when the body was empty; NULL for NULL. Valid
/// until the response is freed.
#[no_mangle]
pub unsafe extern "C" fn ml_response_json(response: *const ml_response) -> *const c_char {
    // SAFETY: NULL or a live response.
    guard_or(std::ptr::null(), || unsafe { response.as_ref() }.map_or(std::ptr::null(), |r| r.json.as_ptr()))
}

/// The response's request id (`X-Request-Id`, else `Request-Id`); NULL if the service sent
/// none, or for NULL. Valid until the response is freed.
#[no_mangle]
pub unsafe extern "C" fn ml_response_request_id(response: *const ml_response) -> *const c_char {
    guard_or(std::ptr::null(), || {
        // SAFETY: NULL or a live response.
        unsafe { response.as_ref() }.and_then(|r| r.request_id.as_ref()).map_or(std::ptr::null(), |id| id.as_ptr())
    })
}

/// Frees a response (NULL is ignored).
#[no_mangle]
pub unsafe extern "C" fn ml_response_free(response: *mut ml_response) {
    guard_or((), || {
        if !response.is_null() {
            // SAFETY: a pointer from ml_request, freed once.
            drop(unsafe { Box::from_raw(response) });
        }
    })
}
