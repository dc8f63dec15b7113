#![no_main]
//! The C ABI (`include/mixerlead.h`) with hostile arguments, through the built library
//! (`target/c/lib/libmixerlead.so`, `make lib-c`; another with `MIXERLEAD_C_LIB`), loaded with
//! dlopen: the library is not instrumented, so libFuzzer sees only this harness's branches.
//!
//! The input is a list of operations: client options with hostile strings (not UTF-8, empty),
//! numbers (NaN, infinities, negatives, huge) and a CA file of hostile bytes; NULL handles and
//! out-pointers everywhere the header says they are ML_ERR_INVALID_ARGUMENT or ignored;
//! hostile requests and per-call headers; out-of-range indexes. Requests that pass validation
//! go to a closed loopback port (no retries), never elsewhere.
//!
//! Checked: nothing crashes; every status is one of ml_status; NULL out-pointers and handles
//! give ML_ERR_INVALID_ARGUMENT; on a failure ml_last_error_message() is a non-NULL UTF-8
//! string; functions documented to give NULL / 0 / false for NULL do.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::ptr::{null, null_mut};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

type Status = c_int;
const OK: Status = 0;
const DONE: Status = 1;
const INVALID: Status = -1;

#[repr(C)]
struct ClientOptions {
    size: usize,
    api_key: *const c_char,
    base_url: *const c_char,
    project_id: *const c_char,
    timeout: f64,
    connect_timeout: f64,
    read_timeout: f64,
    max_retry_wait: f64,
    max_retries: c_int,
    allow_insecure_http: bool,
    ca_file: *const c_char,
    proxy: *const c_char,
    rate_limit: f64,
    rate_limit_burst: c_int,
    rate_limit_redis: *const c_char,
    max_concurrency: c_int,
}

#[repr(C)]
struct ChatRequest {
    message: *const c_char,
    model: *const c_char,
    conversation_id: *const c_char,
}

#[repr(C)]
struct RequestOptions {
    size: usize,
    timeout: f64,
    max_retries: c_int,
    headers: *const *const c_char,
    header_count: usize,
}

type OnText = extern "C" fn(*const c_char, usize, *mut c_void) -> c_int;
type OnDone = extern "C" fn(Status, *const c_char, *mut c_void);

/// The library's functions, looked up once.
struct Api {
    client_options_init_size: unsafe extern "C" fn(*mut ClientOptions, usize),
    client_new: unsafe extern "C" fn(*const ClientOptions, *mut *mut c_void) -> Status,
    client_free: unsafe extern "C" fn(*mut c_void),
    models_list: unsafe extern "C" fn(*mut c_void, *mut *mut c_void) -> Status,
    model_list_len: unsafe extern "C" fn(*const c_void) -> usize,
    model_list_id: unsafe extern "C" fn(*const c_void, usize) -> *const c_char,
    model_list_requires_paid: unsafe extern "C" fn(*const c_void, usize) -> bool,
    model_list_free: unsafe extern "C" fn(*mut c_void),
    request_options_init_size: unsafe extern "C" fn(*mut RequestOptions, usize),
    chat_stream_with:
        unsafe extern "C" fn(*mut c_void, *const ChatRequest, *const RequestOptions, *mut *mut c_void) -> Status,
    stream_next: unsafe extern "C" fn(*mut c_void, *mut *const c_char, *mut usize) -> Status,
    stream_conversation_id: unsafe extern "C" fn(*const c_void) -> *const c_char,
    stream_free: unsafe extern "C" fn(*mut c_void),
    chat_start: unsafe extern "C" fn(
        *mut c_void,
        *const ChatRequest,
        Option<OnText>,
        Option<OnDone>,
        *mut c_void,
        *mut *mut c_void,
    ) -> Status,
    call_cancel: unsafe extern "C" fn(*mut c_void),
    call_free: unsafe extern "C" fn(*mut c_void),
    call_request_id: unsafe extern "C" fn(*const c_void) -> *const c_char,
    request: unsafe extern "C" fn(
        *mut c_void,
        *const c_char,
        *const c_char,
        *const c_char,
        *const RequestOptions,
        *mut *mut c_void,
    ) -> Status,
    response_free: unsafe extern "C" fn(*mut c_void),
    last_error_message: unsafe extern "C" fn() -> *const c_char,
    status_str: unsafe extern "C" fn(Status) -> *const c_char,
    version: unsafe extern "C" fn() -> *const c_char,
}

fn api() -> Option<&'static Api> {
    static API: OnceLock<Option<Api>> = OnceLock::new();
    API.get_or_init(|| {
        // Requests that pass validation go to a closed port on loopback, and no variable of the
        // environment adds a key, a base URL, retries or a proxy.
        for name in [
            "MIXERLEAD_API_KEY",
            "MIXERLEAD_BASE_URL",
            "MIXERLEAD_MAX_RETRIES",
            "MIXERLEAD_PROJECT_ID",
            "MIXERLEAD_RATE_LIMIT_REDIS",
        ] {
            std::env::remove_var(name);
        }
        for name in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
            std::env::remove_var(name);
        }
        let path = std::env::var("MIXERLEAD_C_LIB").unwrap_or_else(|_| "target/c/lib/libmixerlead.so".into());
        let c_path = CString::new(path.clone()).ok()?;
        // SAFETY: dlopen of a path; symbols are looked up by name and typed as the header says.
        unsafe {
            let lib = libc::dlopen(c_path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
            if lib.is_null() {
                eprintln!("c_abi: cannot load {path} (make lib-c, or set MIXERLEAD_C_LIB): nothing fuzzed");
                return None;
            }
            macro_rules! sym {
                ($name:literal) => {{
                    let symbol = libc::dlsym(lib, concat!($name, "\0").as_ptr().cast());
                    assert!(!symbol.is_null(), "{} missing from {path}", $name);
                    std::mem::transmute::<*mut c_void, _>(symbol)
                }};
            }
            Some(Api {
                client_options_init_size: sym!("ml_client_options_init_size"),
                client_new: sym!("ml_client_new"),
                client_free: sym!("ml_client_free"),
                models_list: sym!("ml_models_list"),
                model_list_len: sym!("ml_model_list_len"),
                model_list_id: sym!("ml_model_list_id"),
                model_list_requires_paid: sym!("ml_model_list_requires_paid"),
                model_list_free: sym!("ml_model_list_free"),
                request_options_init_size: sym!("ml_request_options_init_size"),
                chat_stream_with: sym!("ml_chat_stream_with"),
                stream_next: sym!("ml_stream_next"),
                stream_conversation_id: sym!("ml_stream_conversation_id"),
                stream_free: sym!("ml_stream_free"),
                chat_start: sym!("ml_chat_start"),
                call_cancel: sym!("ml_call_cancel"),
                call_free: sym!("ml_call_free"),
                call_request_id: sym!("ml_call_request_id"),
                request: sym!("ml_request"),
                response_free: sym!("ml_response_free"),
                last_error_message: sym!("ml_last_error_message"),
                status_str: sym!("ml_status_str"),
                version: sym!("ml_version"),
            })
        }
    })
    .as_ref()
}

/// Reads the input front to back; past its end every read is zero / empty.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        b
    }

    fn f64(&mut self) -> f64 {
        // Mostly the values that matter (NaN, infinities, zero, negatives, huge), else any bits.
        match self.byte() % 8 {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            3 => 0.0,
            4 => -1.0,
            5 => 1e300,
            6 => 0.5,
            _ => f64::from_le_bytes(std::array::from_fn(|_| self.byte())),
        }
    }

    fn int(&mut self) -> c_int {
        c_int::from_le_bytes(std::array::from_fn(|_| self.byte()))
    }

    /// A NUL-terminated string of up to 31 input bytes (cut at a NUL), or `None` (a NULL).
    fn string(&mut self) -> Option<CString> {
        let len = self.byte();
        if len == 0xff {
            return None;
        }
        let len = usize::from(len % 32).min(self.0.len());
        let (bytes, rest) = self.0.split_at(len);
        self.0 = rest;
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        Some(CString::new(&bytes[..end]).unwrap())
    }
}

fn ptr(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(null(), |s| s.as_ptr())
}

fn check_status(api: &Api, status: Status, what: &str) {
    assert!((-9..=1).contains(&status), "{what}: status {status} is not an ml_status");
    if status < 0 {
        // SAFETY: the header: the message of this thread's last failure, a C string.
        let message = unsafe { (api.last_error_message)() };
        assert!(!message.is_null(), "{what}: failed ({status}) with no ml_last_error_message");
        let message = unsafe { CStr::from_ptr(message) };
        assert!(message.to_str().is_ok(), "{what}: the error message is not UTF-8: {message:?}");
    }
}

fn check_c_str(p: *const c_char, what: &str) {
    if !p.is_null() {
        // SAFETY: a non-NULL string from the library is NUL-terminated.
        let s = unsafe { CStr::from_ptr(p) };
        assert!(s.to_str().is_ok(), "{what}: not UTF-8: {s:?}");
    }
}

const LOOPBACK: &CStr = c"http://127.0.0.1:1";

extern "C" fn on_text(_: *const c_char, _: usize, user_data: *mut c_void) -> c_int {
    // Cancel after the first piece half the time (user_data carries the choice).
    (user_data as usize & 1) as c_int
}

extern "C" fn on_done(status: Status, conversation_id: *const c_char, _: *mut c_void) {
    assert!((-9..=1).contains(&status) && status != DONE, "on_done with {status}");
    check_c_str(conversation_id, "on_done conversation id");
}

fuzz_target!(|data: &[u8]| {
    let Some(api) = api() else {
        return;
    };
    let mut input = Bytes(data);
    // The client made so far, and whether it may send requests (its base URL is the closed
    // loopback port, no proxy, no retries).
    let mut client: *mut c_void = null_mut();
    let mut networked = false;
    let ca_path = std::env::temp_dir().join(format!("mixerlead-fuzz-ca-{}.pem", std::process::id()));
    // SAFETY throughout: every call passes what the header allows (NULL where it says NULL is
    // handled, live handles otherwise), with hostile values.
    unsafe {
        for _ in 0..16 {
            if input.0.is_empty() {
                break;
            }
            match input.byte() % 8 {
                // A client from hostile options.
                0 => {
                    let mut options = std::mem::zeroed::<ClientOptions>();
                    (api.client_options_init_size)(&mut options, std::mem::size_of::<ClientOptions>());
                    let api_key = input.string();
                    let base = input.byte() % 3;
                    let base_url = input.string();
                    let project_id = input.string();
                    let proxy = input.string();
                    let ca = input.string();
                    options.api_key = ptr(&api_key);
                    options.project_id = ptr(&project_id);
                    options.timeout = input.f64();
                    options.connect_timeout = input.f64();
                    options.read_timeout = input.f64();
                    options.max_retry_wait = input.f64();
                    options.allow_insecure_http = input.byte() & 1 == 1;
                    let may_send = base == 0;
                    if may_send {
                        options.base_url = LOOPBACK.as_ptr();
                        options.max_retries = 0;
                    } else {
                        options.base_url = if base == 1 { null() } else { ptr(&base_url) };
                        options.max_retries = input.int();
                        options.proxy = ptr(&proxy);
                        // Traffic control only on a client that sends nothing (a hostile rate
                        // could make a request wait); never a Redis server (it would be reached).
                        options.rate_limit = input.f64();
                        options.rate_limit_burst = input.int();
                        options.max_concurrency = input.int();
                    }
                    // A program built against an older header (the fields up to proxy), or a
                    // size too small for the size field itself (ML_ERR_INVALID_ARGUMENT).
                    match input.byte() % 4 {
                        0 => options.size = std::mem::offset_of!(ClientOptions, rate_limit),
                        1 => options.size = usize::from(input.byte() % 8),
                        _ => {}
                    }
                    // A CA file of hostile bytes (a file of ours: never a path from the input).
                    let ca_file = CString::new(ca_path.as_os_str().as_encoded_bytes()).unwrap();
                    if let Some(ca) = &ca {
                        std::fs::write(&ca_path, ca.as_bytes()).unwrap();
                        options.ca_file = ca_file.as_ptr();
                    }
                    let mut out: *mut c_void = null_mut();
                    let status = (api.client_new)(&options, &mut out);
                    check_status(api, status, "ml_client_new");
                    assert_eq!(status == OK, !out.is_null(), "ml_client_new: {status} with out {out:?}");
                    assert_eq!((api.client_new)(&options, null_mut()), INVALID, "ml_client_new(NULL out)");
                    if !out.is_null() {
                        (api.client_free)(client);
                        client = out;
                        networked = may_send;
                    }
                }
                // NULL handles and out-pointers.
                1 => {
                    let mut handle: *mut c_void = null_mut();
                    assert_eq!((api.models_list)(null_mut(), &mut handle), INVALID);
                    assert_eq!((api.models_list)(client, null_mut()), INVALID);
                    let i = usize::from(input.byte()) * 1_000_003;
                    assert_eq!((api.model_list_len)(null()), 0);
                    assert!((api.model_list_id)(null(), i).is_null());
                    assert!(!(api.model_list_requires_paid)(null(), i));
                    (api.model_list_free)(null_mut());
                    let (mut text, mut len) = (null(), 0usize);
                    assert_eq!((api.stream_next)(null_mut(), &mut text, &mut len), INVALID);
                    check_c_str((api.stream_conversation_id)(null()), "ml_stream_conversation_id(NULL)");
                    (api.stream_free)(null_mut());
                    (api.call_cancel)(null_mut());
                    (api.call_free)(null_mut());
                    assert!((api.call_request_id)(null()).is_null());
                    (api.response_free)(null_mut());
                    let request = ChatRequest { message: c"hi".as_ptr(), model: null(), conversation_id: null() };
                    assert_eq!((api.chat_stream_with)(null_mut(), &request, null(), &mut handle), INVALID);
                    if !client.is_null() {
                        assert_eq!((api.chat_stream_with)(client, null(), null(), &mut handle), INVALID);
                        assert_eq!((api.chat_stream_with)(client, &request, null(), null_mut()), INVALID);
                        let status = (api.request)(client, null(), null(), null(), null(), &mut handle);
                        assert_eq!(status, INVALID, "ml_request with NULL method and path");
                    }
                    check_c_str((api.version)(), "ml_version");
                    let name = (api.status_str)(input.int());
                    assert!(!name.is_null(), "ml_status_str is never NULL");
                    check_c_str(name, "ml_status_str");
                }
                // A hostile chat request (and per-call options) on a blocking stream.
                2..=4 => {
                    if client.is_null() {
                        continue;
                    }
                    let (message, model, conversation) = (input.string(), input.string(), input.string());
                    let request =
                        ChatRequest { message: ptr(&message), model: ptr(&model), conversation_id: ptr(&conversation) };
                    let header_strings: Vec<Option<CString>> =
                        (0..input.byte() % 5 * 2).map(|_| input.string()).collect();
                    let headers: Vec<*const c_char> = header_strings.iter().map(ptr).collect();
                    let mut options = std::mem::zeroed::<RequestOptions>();
                    (api.request_options_init_size)(&mut options, std::mem::size_of::<RequestOptions>());
                    options.timeout = input.f64();
                    options.max_retries = if networked { 0 } else { input.int() };
                    options.header_count = headers.len() / 2;
                    options.headers = if headers.is_empty() { null() } else { headers.as_ptr() };
                    let with_options = input.byte() & 1 == 1;
                    if !networked && message.as_ref().is_some_and(|m| !m.as_bytes().is_empty()) {
                        // Only a client that can send nowhere but the closed port gets a request
                        // that may pass validation.
                        continue;
                    }
                    let mut stream: *mut c_void = null_mut();
                    let status = (api.chat_stream_with)(
                        client,
                        &request,
                        if with_options { &options } else { null() },
                        &mut stream,
                    );
                    check_status(api, status, "ml_chat_stream_with");
                    assert_eq!(status == OK, !stream.is_null(), "ml_chat_stream_with: {status}");
                    if !stream.is_null() {
                        for _ in 0..4 {
                            let (mut text, mut len) = (null(), 0usize);
                            let status = (api.stream_next)(stream, &mut text, &mut len);
                            check_status(api, status, "ml_stream_next");
                            if status != OK {
                                break;
                            }
                        }
                        check_c_str((api.stream_conversation_id)(stream), "ml_stream_conversation_id");
                        (api.stream_free)(stream);
                    }
                }
                // A hostile chat started with callbacks, cancelled or freed at once.
                5 => {
                    if client.is_null() {
                        continue;
                    }
                    let (message, model) = (input.string(), input.string());
                    if !networked && message.as_ref().is_some_and(|m| !m.as_bytes().is_empty()) {
                        continue;
                    }
                    let request = ChatRequest { message: ptr(&message), model: ptr(&model), conversation_id: null() };
                    let mut call: *mut c_void = null_mut();
                    let user_data = usize::from(input.byte()) as *mut c_void;
                    let status = (api.chat_start)(client, &request, Some(on_text), Some(on_done), user_data, &mut call);
                    check_status(api, status, "ml_chat_start");
                    assert_eq!(
                        (api.chat_start)(client, &request, Some(on_text), Some(on_done), user_data, null_mut()),
                        INVALID
                    );
                    if !call.is_null() {
                        check_c_str((api.call_request_id)(call), "ml_call_request_id");
                        if input.byte() & 1 == 1 {
                            (api.call_cancel)(call);
                        }
                        (api.call_free)(call);
                    }
                }
                // Frees the client (streams and calls already ended).
                6 => {
                    (api.client_free)(client);
                    client = null_mut();
                    networked = false;
                }
                // The models list on the closed port: a connection failure, with its message.
                _ => {
                    if networked {
                        let mut list: *mut c_void = null_mut();
                        let status = (api.models_list)(client, &mut list);
                        check_status(api, status, "ml_models_list");
                        if !list.is_null() {
                            let len = (api.model_list_len)(list);
                            check_c_str((api.model_list_id)(list, len), "ml_model_list_id past the end");
                            (api.model_list_free)(list);
                        }
                    }
                }
            }
        }
        (api.client_free)(client);
    }
});
