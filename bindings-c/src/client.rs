//! Client options, the client handle, and the models list.

use std::ffi::{c_char, c_int, CString};
use std::mem::offset_of;

use mixerlead::binding::{block_on, OptionValue};
use mixerlead::{ChatRequest, Client, ClientBuilder};

use crate::context::{keep_forever, not_in_callback, ours, runtime};
use crate::options::{caller_size, get, init_sized, ml_request_options, put, request_options};
use crate::status::{c_string, fail, guard, guard_or, ml_status};
use crate::strings::{cleared, live, null, optional};

/// Options of ml_client_new. Initialize them with ml_client_options_init(&options), which sets
/// every field to "default" (NULL strings: environment or default; numbers <= 0 / < 0: default),
/// then set what you need.
///
/// `size` is the size of the struct the caller was built with: ml_client_options_init sets it.
/// Fields are only ever appended: a library that knows more fields than `size` covers uses its
/// defaults for the others, and one that knows fewer ignores the rest.
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct ml_client_options {
    /// sizeof(ml_client_options) as the caller knows it (ml_client_options_init sets it).
    pub size: usize,
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
    /// Requests per minute for the client's scope (its key, base URL and project, shared by
    /// every client of the process with that scope), paced from the first request on; < 0
    /// (ml_client_options_init sets -1): none, the scope is paced from its first 429 on at a
    /// rate that follows the service; 0: no shared 429 gate and no pacing at all.
    pub rate_limit: f64,
    /// Requests rate_limit lets through at once after an idle spell; < 0 (ml_client_options_init
    /// sets -1): one second's worth, at least 1. 0 is ML_ERR_CONFIG naming rate_limit_burst.
    pub rate_limit_burst: c_int,
    /// A Redis server (`redis://host:port/db`, `rediss://…`) holding the scope's pacing and 429
    /// gate, so that every process and machine of a fleet shares one limit; NULL:
    /// MIXERLEAD_RATE_LIMIT_REDIS, else none. When Redis is down or slow the client paces itself
    /// alone (and logs one warning): a request never fails because of Redis. A malformed URL is
    /// ML_ERR_CONFIG naming rate_limit_redis.
    pub rate_limit_redis: *const c_char,
    /// At most this many requests of the client (and the clients derived from it) in flight; the
    /// others wait, first come first served (a stream holds its slot until it ends or is freed).
    /// < 0 (ml_client_options_init sets -1): no cap. 0 is ML_ERR_CONFIG naming max_concurrency.
    pub max_concurrency: c_int,
    /// A cassette file every exchange is appended to (one JSON line each, with its body chunks
    /// and their times; the key is never written), for the emulator to replay; NULL:
    /// MIXERLEAD_RECORD, else no recording. A path that cannot be opened for appending is
    /// ML_ERR_CONFIG naming it.
    pub record: *const c_char,
}

// put/get and init_sized find `size` at offset 0.
const _: () = assert!(offset_of!(ml_client_options, size) == 0);

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

/// Sets `options` to the defaults and its `size` field, writing no more than `size` bytes:
/// `size` is the caller's sizeof(ml_client_options). Use the ml_client_options_init(&options)
/// macro, which passes it (call this function directly only from a language that cannot expand
/// C macros). NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn ml_client_options_init_size(options: *mut ml_client_options, size: usize) {
    guard_or((), || {
        // SAFETY: NULL, or the caller's struct with `size` writable bytes (its sizeof).
        if !unsafe { init_sized(options, size) } {
            return;
        }
        // SAFETY: as above; `put` writes only fields within `size`. The zeroed fields (NULL
        // strings, 0 seconds, false) are already their defaults.
        unsafe {
            put(options, size, offset_of!(ml_client_options, max_retries), -1 as c_int);
            put(options, size, offset_of!(ml_client_options, rate_limit), -1.0f64);
            put(options, size, offset_of!(ml_client_options, rate_limit_burst), -1 as c_int);
            put(options, size, offset_of!(ml_client_options, max_concurrency), -1 as c_int);
        }
    })
}

/// The client builder for `options`: each option the struct sets goes through the core's
/// [`ClientBuilder::set`], which names, types and checks options for every binding. Only a
/// field that differs from its default is passed, and only the fields within the caller's
/// `size` are read.
///
/// # Safety
/// `options` is NULL or points to `options->size` readable bytes laid out as ml_client_options,
/// with NULL or NUL-terminated strings.
unsafe fn builder(options: *const ml_client_options) -> Result<ClientBuilder, ml_status> {
    let mut builder = Client::builder().surface("c");
    if options.is_null() {
        return Ok(builder);
    }
    // SAFETY: every ml_client_options starts with its size.
    let size = unsafe { caller_size(options, "ml_client_options_init")? };
    macro_rules! field {
        ($name:ident: $t:ty) => {
            // SAFETY: the caller's struct has `size` bytes; `get` reads the field only within them.
            unsafe { get::<_, $t>(options, size, offset_of!(ml_client_options, $name)) }
        };
    }
    let set = |builder: ClientBuilder, name: &str, value| builder.set(name, value).map_err(|e| fail(&e));
    let texts = [
        ("api_key", field!(api_key: *const c_char)),
        ("base_url", field!(base_url: *const c_char)),
        ("project_id", field!(project_id: *const c_char)),
        ("ca_file", field!(ca_file: *const c_char)),
        ("proxy", field!(proxy: *const c_char)),
        ("rate_limit_redis", field!(rate_limit_redis: *const c_char)),
        ("record", field!(record: *const c_char)),
    ];
    for (name, pointer) in texts {
        // SAFETY: the string fields are NULL or NUL-terminated.
        if let Some(text) = unsafe { optional(pointer.unwrap_or(std::ptr::null()), name)? } {
            builder = set(builder, name, OptionValue::Text(text))?;
        }
    }
    let seconds = [
        ("timeout", field!(timeout: f64)),
        ("connect_timeout", field!(connect_timeout: f64)),
        ("read_timeout", field!(read_timeout: f64)),
        ("max_retry_wait", field!(max_retry_wait: f64)),
    ];
    for (name, value) in seconds {
        // Only a positive value (or NaN, which the core refuses) counts; <= 0 means default.
        if let Some(value) = value.filter(|v| v.is_nan() || *v > 0.0) {
            builder = set(builder, name, OptionValue::Number(value))?;
        }
    }
    // rate_limit 0 turns traffic control off: only < 0 means default (NaN reaches the core).
    if let Some(rate) = field!(rate_limit: f64).filter(|v| v.is_nan() || *v >= 0.0) {
        builder = set(builder, "rate_limit", OptionValue::Number(rate))?;
    }
    let counts = [
        ("max_retries", field!(max_retries: c_int)),
        ("rate_limit_burst", field!(rate_limit_burst: c_int)),
        ("max_concurrency", field!(max_concurrency: c_int)),
    ];
    for (name, value) in counts {
        // < 0 means default; 0 reaches the core (which refuses a zero burst or concurrency).
        if let Some(value) = value.filter(|n| *n >= 0) {
            builder = set(builder, name, OptionValue::Number(value.into()))?;
        }
    }
    // A C bool is read as its byte: any non-zero value is true.
    if field!(allow_insecure_http: u8).is_some_and(|b| b != 0) {
        builder = set(builder, "allow_insecure_http", OptionValue::Flag(true))?;
    }
    Ok(builder)
}

/// Creates a client from `options` (NULL: all defaults, from the environment). On success
/// `*out` holds it; free it with ml_client_free. Options whose `size` is smaller than the field
/// itself (not initialized with ml_client_options_init) are ML_ERR_INVALID_ARGUMENT.
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
