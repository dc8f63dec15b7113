//! A batch's text as a JS string that keeps its bytes outside the JS heap when Node allows it.
//!
//! With many streams open at once, every stream's current batch is alive at the same time; as
//! ordinary strings they survive young-generation collections and make V8 grow its heap (1000
//! streams: ~44 MB of heap). Node (>= 18.18 / 20.4) can wrap native Latin-1 bytes as an external
//! string instead. The function is looked up at run time, so older Nodes, and text outside
//! Latin-1, get an ordinary string.

use std::ffi::{c_char, c_void};
use std::mem::ManuallyDrop;
use std::sync::OnceLock;

use napi::bindgen_prelude::{ToNapiValue, TypeName};
use napi::{sys, Result, ValueType};

type CreateExternalLatin1 = unsafe extern "C" fn(
    sys::napi_env,
    *mut c_char,
    isize,
    sys::napi_finalize,
    *mut c_void,
    *mut sys::napi_value,
    *mut bool,
) -> sys::napi_status;

/// `node_api_create_external_string_latin1`, when this Node has it.
fn create_external_latin1() -> Option<CreateExternalLatin1> {
    static FUNCTION: OnceLock<Option<CreateExternalLatin1>> = OnceLock::new();
    *FUNCTION.get_or_init(|| {
        // SAFETY: looking up a symbol of the running process by a NUL-terminated name.
        let symbol = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"node_api_create_external_string_latin1".as_ptr()) };
        // SAFETY: the symbol, when present, is the Node-API function of this signature.
        (!symbol.is_null()).then(|| unsafe { std::mem::transmute::<*mut c_void, CreateExternalLatin1>(symbol) })
    })
}

/// The text of a batch, converted to a JS string by [`ToNapiValue`].
pub struct BatchText(pub String);

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
        match (create_external_latin1(), latin1(&text)) {
            (Some(create), Some(bytes)) => {
                let bytes = bytes.unwrap_or_else(|| text.into_bytes());
                // SAFETY: `env` is valid (caller's contract); `create` is the Node-API function.
                unsafe { external_latin1(env, create, bytes) }
            }
            // SAFETY: as above.
            _ => unsafe { String::to_napi_value(env, text) },
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

/// Hands `bytes` to V8 as an external string; V8 frees them through [`free_bytes`].
unsafe fn external_latin1(env: sys::napi_env, create: CreateExternalLatin1, bytes: Vec<u8>) -> Result<sys::napi_value> {
    let mut bytes = ManuallyDrop::new(bytes);
    let hint = Box::into_raw(Box::new((bytes.len(), bytes.capacity())));
    let mut value = std::ptr::null_mut();
    let mut copied = false;
    // SAFETY: the bytes stay alive until V8 calls `free_bytes` (at once when it copied them).
    let status = unsafe {
        create(
            env,
            bytes.as_mut_ptr().cast(),
            bytes.len() as isize,
            Some(free_bytes),
            hint.cast(),
            &mut value,
            &mut copied,
        )
    };
    if status == sys::Status::napi_ok {
        return Ok(value);
    }
    // On failure V8 never calls the finalizer: free here and fall back to a copy.
    // SAFETY: `hint` came from Box::into_raw above and was not handed over.
    drop(unsafe { Box::from_raw(hint) });
    let text: String = ManuallyDrop::into_inner(bytes).into_iter().map(char::from).collect();
    // SAFETY: as in `to_napi_value`.
    unsafe { String::to_napi_value(env, text) }
}

unsafe extern "C" fn free_bytes(_env: sys::napi_env, data: *mut c_void, hint: *mut c_void) {
    // SAFETY: `hint` and `data` are the Box and the Vec buffer given up in `external_latin1`.
    unsafe {
        let (len, capacity) = *Box::from_raw(hint.cast::<(usize, usize)>());
        drop(Vec::from_raw_parts(data.cast::<u8>(), len, capacity));
    }
}
