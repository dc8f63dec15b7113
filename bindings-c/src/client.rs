//! Client options, the client handle, and the models list.

use std::ffi::{c_char, c_int, CString};

use mixerlead::binding::{block_on, OptionValue};
use mixerlead::{ChatRequest, Client, ClientBuilder};

use crate::context::{keep_forever, not_in_callback, ours, runtime};
use crate::options::{ml_request_options, request_options};
use crate::status::{c_string, fail, guard, guard_or, ml_status};
use crate::strings::{cleared, live, null, optional};

/// Options of ml_client_new. Call ml_client_options_init first: it sets every field to
/// "default" (NULL strings: environment or default; numbers <= 0 / < 0: default).
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct ml_client_options {
    /// The API key; NULL: MIXERLEAD_API_KEY.
    pub api_key: *const c_char,
    /// The base URL; NULL: MIXERLEAD_BASE_URL, else https://ai.mixerlead.com/api.
    pub base_url: *const c_char,
    /// Sent as X-Project-Id; NULL: MIXERLEAD_PROJECT_ID, else none.
    pub project_id: *const c_char,
    /// Seconds until response headers, per attempt; <= 0: 60.
    pub timeout: f64,
    /// Seconds to connect; <= 0: 10.
    pub connect_timeout: f64,
    /// Longest silence in seconds between body bytes of a stream; <= 0: 120.
    pub read_timeout: f64,
    /// Longest single wait in seconds before a retry; <= 0: 60.
    pub max_retry_wait: f64,
    /// Retries after the first attempt; < 0: MIXERLEAD_MAX_RETRIES, else 2.
    pub max_retries: c_int,
    /// Allow plain http:// to non-loopback hosts (false: MIXERLEAD_ALLOW_INSECURE_HTTP decides).
    pub allow_insecure_http: bool,
    /// A PEM file of certificates trusted in addition to the system's roots (and SSL_CERT_FILE /
    /// SSL_CERT_DIR), e.g. a company proxy's; NULL: none. A file that cannot be read or holds no
    /// certificate is ML_ERR_CONFIG naming ca_file.
    pub ca_file: *const c_char,
    /// The proxy every request goes through (`http://host:port`, `https://…`, `socks5://…`);
    /// NULL: HTTPS_PROXY / ALL_PROXY / NO_PROXY from the environment. A malformed URL, or a
    /// proxy with a plain-http base URL, is ML_ERR_CONFIG naming proxy.
    pub proxy: *const c_char,
}

/// A message and its options; NULL model / conversation_id are omitted.
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct ml_chat_request {
    /// The message (UTF-8, required).
    pub message: *const c_char,
    /// The model id; NULL: Auto.
    pub model: *const c_char,
    /// The conversation to continue; NULL: start a new one.
    pub conversation_id: *const c_char,
}

/// A client. Thread-safe: one client may serve many threads at once. A client inherited by a
/// child process across fork() keeps working there (the child gets its own connections).
#[allow(non_camel_case_types)]
pub struct ml_client {
    pub(crate) inner: Client,
    /// The process that made the client.
    pid: u32,
}

/// The models list of ml_models_list.
#[allow(non_camel_case_types)]
pub struct ml_model_list {
    models: Vec<[CString; 3]>,
    paid: Vec<bool>,
    request_id: Option<CString>,
}

/// Sets every field of `options` to "default".
#[no_mangle]
pub unsafe extern "C" fn ml_client_options_init(options: *mut ml_client_options) {
    guard_or((), || {
        // SAFETY: NULL or a pointer to writable options, as documented.
        if let Some(options) = unsafe { options.as_mut() } {
            *options = ml_client_options {
                api_key: std::ptr::null(),
                base_url: std::ptr::null(),
                project_id: std::ptr::null(),
                timeout: 0.0,
                connect_timeout: 0.0,
                read_timeout: 0.0,
                max_retry_wait: 0.0,
                max_retries: -1,
                allow_insecure_http: false,
                ca_file: std::ptr::null(),
                proxy: std::ptr::null(),
            };
        }
    })
}

/// The client builder for `options`: each option the struct sets goes through the core's
/// [`ClientBuilder::set`], which names, types and checks options for every binding.
///
/// # Safety
/// `options` is NULL or valid options with NULL or NUL-terminated strings.
unsafe fn builder(options: *const ml_client_options) -> Result<ClientBuilder, ml_status> {
    let mut builder = Client::builder().surface("c");
    // SAFETY: as documented for ml_client_new.
    let Some(o) = (unsafe { options.as_ref() }) else {
        return Ok(builder);
    };
    let set = |builder: ClientBuilder, name: &str, value| builder.set(name, value).map_err(|e| fail(&e));
    let texts = [
        ("api_key", o.api_key),
        ("base_url", o.base_url),
        ("project_id", o.project_id),
        ("ca_file", o.ca_file),
        ("proxy", o.proxy),
    ];
    for (name, pointer) in texts {
        // SAFETY: the string fields are NULL or NUL-terminated.
        if let Some(text) = unsafe { optional(pointer, name)? } {
            builder = set(builder, name, OptionValue::Text(text))?;
        }
    }
    let seconds = [
        ("timeout", o.timeout),
        ("connect_timeout", o.connect_timeout),
        ("read_timeout", o.read_timeout),
        ("max_retry_wait", o.max_retry_wait),
    ];
    for (name, value) in seconds {
        // Only a positive value (or NaN, which the core refuses) counts; <= 0 means default.
        if value.is_nan() || value > 0.0 {
            builder = set(builder, name, OptionValue::Number(value))?;
        }
    }
    if o.max_retries >= 0 {
        builder = set(builder, "max_retries", OptionValue::Number(o.max_retries.into()))?;
    }
    if o.allow_insecure_http {
        builder = set(builder, "allow_insecure_http", OptionValue::Flag(true))?;
    }
    Ok(builder)
}

/// Creates a client from `options` (NULL: all defaults, from the environment). On success
/// `*out` holds it; free it with ml_client_free.
#[no_mangle]
pub unsafe extern "C" fn ml_client_new(options: *const ml_client_options, out: *mut *mut ml_client) -> ml_status {
    guard(|| {
        // SAFETY: as documented.
        let (out, builder) = unsafe { (cleared(out)?, builder(options)?) };
        let inner = builder.build().map_err(|e| fail(&e))?;
        *out = Box::into_raw(Box::new(ml_client { inner, pid: mixerlead::runtime::process_id() }));
        Ok(ml_status::ML_OK)
    })
}

/// Frees a client (NULL is ignored). Streams and calls already started keep working. May be
/// called from inside a callback. In a child process forked after the client was made, it is
/// let go without being dropped (that would touch the parent's runtime, whose threads are not
/// in the child): its memory is not reclaimed, and connections it opened in the child close
/// when idle or at exit.
#[no_mangle]
pub unsafe extern "C" fn ml_client_free(client: *mut ml_client) {
    guard_or((), || {
        if client.is_null() {
            return;
        }
        // SAFETY: a pointer from ml_client_new, freed once.
        let client = unsafe { Box::from_raw(client) };
        if !ours(client.pid) {
            // Dropping it would wake connection tasks of the parent's runtime (its pool's channels
            // close), which takes scheduler locks a parent's thread may have held at the fork:
            // that thread does not exist here to release them.
            keep_forever(client.inner);
        }
    })
}

/// Builds the core request from a C request.
///
/// # Safety
/// `request` is NULL or valid, with NULL or NUL-terminated strings.
pub(crate) unsafe fn chat_request(request: *const ml_chat_request) -> Result<ChatRequest, ml_status> {
    // SAFETY: as documented.
    let Some(r) = (unsafe { request.as_ref() }) else {
        return Err(null("request"));
    };
    // SAFETY: the string fields are NULL or NUL-terminated.
    let (message, model, conversation) = unsafe {
        (optional(r.message, "message")?, optional(r.model, "model")?, optional(r.conversation_id, "conversation_id")?)
    };
    let Some(message) = message else {
        return Err(null("request->message"));
    };
    Ok(ChatRequest::from_parts(message, model, conversation))
}

/// Lists the models; on success `*out` holds the list (free it with ml_model_list_free).
/// Blocks the calling thread: not from inside an on_text / on_done callback
/// (ML_ERR_INVALID_ARGUMENT).
#[no_mangle]
pub unsafe extern "C" fn ml_models_list(client: *mut ml_client, out: *mut *mut ml_model_list) -> ml_status {
    // SAFETY: as documented.
    unsafe { ml_models_list_with(client, std::ptr::null(), out) }
}

/// ml_models_list with options for this call (NULL: the client's).
#[no_mangle]
pub unsafe extern "C" fn ml_models_list_with(
    client: *mut ml_client,
    options: *const ml_request_options,
    out: *mut *mut ml_model_list,
) -> ml_status {
    guard(|| {
        // SAFETY: as documented.
        let (out, client, options) = unsafe { (cleared(out)?, live(client, "client")?, request_options(options)?) };
        not_in_callback("ml_models_list")?;
        runtime()?;
        let models = block_on(client.inner.list_models_with(&options)).map_err(|e| fail(&e))?;
        let mut list =
            ml_model_list { models: Vec::new(), paid: Vec::new(), request_id: models.request_id().map(c_string) };
        for m in models {
            let c = |s: String| CString::new(s.replace('\0', "")).unwrap_or_default();
            list.paid.push(m.requires_paid);
            list.models.push([c(m.id), c(m.name), c(m.task)]);
        }
        *out = Box::into_raw(Box::new(list));
        Ok(ml_status::ML_OK)
    })
}

/// The request id of the models list's response (`X-Request-Id`, else `Request-Id`); NULL if
/// the service sent none, or for NULL. Valid until the list is freed.
#[no_mangle]
pub unsafe extern "C" fn ml_model_list_request_id(list: *const ml_model_list) -> *const c_char {
    guard_or(std::ptr::null(), || {
        // SAFETY: NULL or a live list.
        unsafe { list.as_ref() }.and_then(|l| l.request_id.as_ref()).map_or(std::ptr::null(), |id| id.as_ptr())
    })
}

/// How many models the list holds (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn ml_model_list_len(list: *const ml_model_list) -> usize {
    // SAFETY: NULL or a live list.
    guard_or(0, || unsafe { list.as_ref() }.map_or(0, |l| l.models.len()))
}

fn field(list: *const ml_model_list, i: usize, which: usize) -> *const c_char {
    guard_or(std::ptr::null(), || {
        // SAFETY: NULL or a live list.
        match unsafe { list.as_ref() }.and_then(|l| l.models.get(i)) {
            Some(model) => model[which].as_ptr(),
            None => std::ptr::null(),
        }
    })
}

/// The id of model `i` (NULL when out of range); valid until the list is freed.
#[no_mangle]
pub unsafe extern "C" fn ml_model_list_id(list: *const ml_model_list, i: usize) -> *const c_char {
    field(list, i, 0)
}

/// The display name of model `i` (NULL when out of range).
#[no_mangle]
pub unsafe extern "C" fn ml_model_list_name(list: *const ml_model_list, i: usize) -> *const c_char {
    field(list, i, 1)
}

/// What model `i` is for (NULL when out of range).
#[no_mangle]
pub unsafe extern "C" fn ml_model_list_task(list: *const ml_model_list, i: usize) -> *const c_char {
    field(list, i, 2)
}

/// Whether model `i` needs a paid plan (false when out of range).
#[no_mangle]
pub unsafe extern "C" fn ml_model_list_requires_paid(list: *const ml_model_list, i: usize) -> bool {
    // SAFETY: NULL or a live list.
    guard_or(false, || unsafe { list.as_ref() }.and_then(|l| l.paid.get(i).copied()).unwrap_or(false))
}

/// Frees a models list (NULL is ignored).
#[no_mangle]
pub unsafe extern "C" fn ml_model_list_free(list: *mut ml_model_list) {
    guard_or((), || {
        if !list.is_null() {
            // SAFETY: a pointer from ml_models_list, freed once.
            drop(unsafe { Box::from_raw(list) });
        }
    })
}
