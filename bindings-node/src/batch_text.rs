//! A batch's text as a JS string that keeps its characters outside the JS heap when Node allows
//! and when that pays.
//!
//! With many streams open at once, every stream's current batch is alive at the same time; as
//! ordinary strings they survive young-generation collections and make V8 grow its heap (1000
//! streams: ~44 MB of heap). Node (>= 18.18 / 20.4) can wrap native Latin-1 or UTF-16 text as an
//! external string instead: the same bytes V8 would hold (one per character for Latin-1, two
//! otherwise), freed by a finalizer. The functions are looked up at run time; a Node without
//! them gets an ordinary string.
//!
//! But V8 makes every external string in its old generation: a dead one, and its characters, go
//! only at a full mark-compact, never at a scavenge. A service that reads its streams as they
//! come makes small batches and hardly grows its JS heap, so V8 starts a mark-compact only once
//! the external bytes grew by ~64 MiB: until then the text of every finished stream stays
//! (issue 25: +0.85 MiB per 1 000 streams of 200 pieces, the Node soak's RSS +0.27 MiB/min, up
//! to ~95 MiB of dead batches between two mark-compacts). So a batch is external only
//! - when it has at least [`EXTERNAL_MIN_BYTES`]: smaller ones are ordinary strings, made in the
//!   young generation, gone at the next scavenge once served. Big batches come when the reader
//!   lags behind the network (many streams at once, a long reply read fast), where keeping them
//!   out of the heap pays (1000 streams of 1000 pieces: peak RSS ~150 MB, ~166 MB without);
//! - and while the external strings not yet finalized (alive, or dead and waiting for a
//!   mark-compact) hold less than [`EXTERNAL_MAX_PENDING_BYTES`]: past that, batches are
//!   ordinary strings until V8 frees some, so dead batches never pile up further.

use std::ffi::{c_char, c_void, CStr};
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use napi::bindgen_prelude::{ToNapiValue, TypeName};
use napi::{sys, Result, ValueType};

/// `node_api_create_external_string_latin1` / `_utf16`: (env, characters, length in
/// characters, finalizer, finalizer hint, result, copied).
type CreateExternal<C> = unsafe extern "C" fn(
    sys::napi_env,
    *mut C,
    isize,
    sys::napi_finalize,
    *mut c_void,
    *mut sys::napi_value,
    *mut bool,
) -> sys::napi_status;

/// The text of a batch, converted to a JS string by [`ToNapiValue`].
pub struct BatchText(pub String);

/// Bytes of UTF-8 from which a batch may cross as an external string (see the module's doc).
const EXTERNAL_MIN_BYTES: usize = 2048;

/// At most this many bytes of characters in external strings not yet finalized.
const EXTERNAL_MAX_PENDING_BYTES: usize = 16 << 20;

/// Bytes of characters handed to V8 as external strings whose finalizer has not run yet.
static PENDING_BYTES: AtomicUsize = AtomicUsize::new(0);

impl TypeName for BatchText {
    fn type_name() -> &'static str {
        "string"
    }

    fn value_type() -> ValueType {
        ValueType::String
    }
}

impl ToNapiValue for BatchText {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        let BatchText(text) = val;
        if text.len() < EXTERNAL_MIN_BYTES || PENDING_BYTES.load(Ordering::Relaxed) >= EXTERNAL_MAX_PENDING_BYTES {
            // Small, or enough external strings waiting for V8 already: an ordinary string.
            // SAFETY: `env` is valid (the caller's contract).
            return unsafe { String::to_napi_value(env, text) };
        }
        // SAFETY (every call below): `env` is valid (the caller's contract) and each `create` is
        // the Node-API function of its name.
        unsafe {
            match (latin1(&text), create_external_latin1(), create_external_utf16()) {
                (Some(bytes), Some(create), _) => {
                    external(env, create, bytes.unwrap_or_else(|| text.into_bytes()), Latin1::copy_to_js)
                }
                (None, _, Some(create)) => external(env, create, text.encode_utf16().collect(), Utf16::copy_to_js),
                _ => String::to_napi_value(env, text),
            }
        }
    }
}

/// `text` as Latin-1 bytes: `Some(None)` when it is ASCII (its own bytes will do), `None` when
/// a character is beyond U+00FF.
fn latin1(text: &str) -> Option<Option<Vec<u8>>> {
    if text.is_ascii() {
        return Some(None);
    }
    text.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect::<Option<Vec<u8>>>().map(Some)
}

fn create_external_latin1() -> Option<CreateExternal<u8>> {
    static FUNCTION: OnceLock<Option<CreateExternal<u8>>> = OnceLock::new();
    *FUNCTION.get_or_init(|| node_api(c"node_api_create_external_string_latin1"))
}

fn create_external_utf16() -> Option<CreateExternal<u16>> {
    static FUNCTION: OnceLock<Option<CreateExternal<u16>>> = OnceLock::new();
    *FUNCTION.get_or_init(|| node_api(c"node_api_create_external_string_utf16"))
}

/// The external-string function `name` of the running Node, when it has it.
#[cfg(unix)]
fn node_api<C>(name: &CStr) -> Option<CreateExternal<C>> {
    // SAFETY: looks up a symbol of the running process by a NUL-terminated name.
    let symbol = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
    // SAFETY: the symbol, when present, is that Node-API function, whose signature matches
    // `CreateExternal<C>` (a `char *` for Latin-1 is a byte pointer).
    (!symbol.is_null()).then(|| unsafe { std::mem::transmute::<*mut c_void, CreateExternal<C>>(symbol) })
}

/// Elsewhere (Windows) the symbol is not looked up: batches cross as ordinary strings.
#[cfg(not(unix))]
fn node_api<C>(_name: &CStr) -> Option<CreateExternal<C>> {
    None
}

struct Latin1;
struct Utf16;

impl Latin1 {
    unsafe fn copy_to_js(env: sys::napi_env, chars: Vec<u8>) -> Result<sys::napi_value> {
        let text: String = chars.into_iter().map(char::from).collect();
        // SAFETY: `env` is valid (the caller's contract).
        unsafe { String::to_napi_value(env, text) }
    }
}

impl Utf16 {
    unsafe fn copy_to_js(env: sys::napi_env, chars: Vec<u16>) -> Result<sys::napi_value> {
        // SAFETY: `env` is valid (the caller's contract).
        unsafe { String::to_napi_value(env, String::from_utf16_lossy(&chars)) }
    }
}

/// Hands `chars` to V8 as an external string, which V8 frees through [`free_chars`] (at once
/// when it chose to copy them), counted in [`PENDING_BYTES`] until then. If Node refuses, an
/// ordinary copy made by `fallback`.
///
/// # Safety
/// `env` must be valid and `create` the Node-API function for characters of type `C`.
unsafe fn external<C>(
    env: sys::napi_env,
    create: CreateExternal<C>,
    chars: Vec<C>,
    fallback: unsafe fn(sys::napi_env, Vec<C>) -> Result<sys::napi_value>,
) -> Result<sys::napi_value> {
    let mut chars = ManuallyDrop::new(chars);
    let hint = Box::into_raw(Box::new((chars.len(), chars.capacity())));
    // Counted before the call: V8 may copy the characters and run the finalizer within it.
    let bytes = chars.capacity() * std::mem::size_of::<C>();
    PENDING_BYTES.fetch_add(bytes, Ordering::Relaxed);
    let mut value = std::ptr::null_mut();
    let mut copied = false;
    // SAFETY: the buffer stays alive until V8 calls `free_chars::<C>` with `hint`.
    let status = unsafe {
        create(
            env,
            chars.as_mut_ptr(),
            chars.len() as isize,
            Some(free_chars::<C>),
            hint.cast(),
            &mut value,
            &mut copied,
        )
    };
    if status == sys::Status::napi_ok {
        return Ok(value);
    }
    // On failure V8 never calls the finalizer: the buffer and the hint are still ours.
    PENDING_BYTES.fetch_sub(bytes, Ordering::Relaxed);
    // SAFETY: `hint` came from Box::into_raw above and was not handed over.
    drop(unsafe { Box::from_raw(hint) });
    // SAFETY: `env` is valid (this function's contract).
    unsafe { fallback(env, ManuallyDrop::into_inner(chars)) }
}

unsafe extern "C" fn free_chars<C>(_env: sys::napi_env, data: *mut c_void, hint: *mut c_void) {
    // SAFETY: `data` and `hint` are the Vec buffer and the Box given up in `external`.
    unsafe {
        let (len, capacity) = *Box::from_raw(hint.cast::<(usize, usize)>());
        drop(Vec::from_raw_parts(data.cast::<C>(), len, capacity));
        PENDING_BYTES.fetch_sub(capacity * std::mem::size_of::<C>(), Ordering::Relaxed);
    }
}

// `c_char` is `i8` or `u8` by platform; the Latin-1 function takes a `char *` of bytes.
const _: () = assert!(std::mem::size_of::<c_char>() == std::mem::size_of::<u8>());
