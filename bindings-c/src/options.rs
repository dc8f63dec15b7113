//! Per-request options (`ml_request_options`), and the helpers of every options struct with a
//! leading `size` (`ml_request_options`, `ml_client_options`), so that fields can be appended
//! without breaking programs built against an older header.

use std::ffi::{c_char, c_int};
use std::mem::{offset_of, size_of};

use mixerlead::{ErrorKind, RequestOptions};

use crate::status::{fail_with, guard_or, ml_status};
use crate::strings::optional;

/// Options of one call, overriding the client's for that call only (the `_with` functions and
/// ml_request). Initialize it with ml_request_options_init(&options), then set what you need.
///
/// `size` is the size of the struct the caller was built with: ml_request_options_init sets it.
/// Fields are only ever appended: a library that knows more fields than `size` covers uses its
/// defaults for the others, and one that knows fewer ignores the rest.
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct ml_request_options {
    /// sizeof(ml_request_options) as the caller knows it (ml_request_options_init sets it).
    pub size: usize,
    /// Seconds until response headers for this call (and for a non-streamed body), per attempt;
    /// <= 0: the client's. NaN or infinite: ML_ERR_INVALID_ARGUMENT.
    pub timeout: f64,
    /// Retries after the first attempt for this call (0: one attempt); < 0: the client's.
    pub max_retries: c_int,
    /// Extra headers as name, value pairs: 2 * header_count strings (UTF-8), e.g.
    /// `{"X-Trace", "abc", "X-Other", "1"}`. Any header but `Authorization`; a name given twice
    /// keeps the last. NULL when header_count is 0. An invalid name, a value with a newline or
    /// another control character, or `Authorization` is ML_ERR_CONFIG naming the header.
    pub headers: *const *const c_char,
    /// How many name, value pairs `headers` holds.
    pub header_count: usize,
}

// put/get and init_sized find `size` at offset 0.
const _: () = assert!(offset_of!(ml_request_options, size) == 0);

/// Sets `options` to the defaults (the client's options) and its `size` field, writing no more
/// than `size` bytes: `size` is the caller's sizeof(ml_request_options). Use the
/// ml_request_options_init(&options) macro, which passes it (call this function directly only
/// from a language that cannot expand C macros). NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn ml_request_options_init_size(options: *mut ml_request_options, size: usize) {
    guard_or((), || {
        // SAFETY: NULL, or the caller's struct with `size` writable bytes (its sizeof).
        if !unsafe { init_sized(options, size) } {
            return;
        }
        // SAFETY: as above; `put` writes only fields within `size`.
        unsafe {
            put(options, size, offset_of!(ml_request_options, timeout), 0.0f64);
            put(options, size, offset_of!(ml_request_options, max_retries), -1 as c_int);
            put(options, size, offset_of!(ml_request_options, headers), std::ptr::null::<*const c_char>());
            put(options, size, offset_of!(ml_request_options, header_count), 0usize);
        }
    })
}

/// Whether the field of type `T` at `offset` lies within a struct of `size` bytes.
fn fits<T>(offset: usize, size: usize) -> bool {
    offset.checked_add(size_of::<T>()).is_some_and(|end| end <= size)
}

/// Writes the field at `offset` of the caller's struct `S` when it fits in its `size` bytes.
///
/// # Safety
/// `options` has `size` writable bytes; `offset` is the offset of a field of type `T` in `S`.
pub(crate) unsafe fn put<S, T>(options: *mut S, size: usize, offset: usize, value: T) {
    if fits::<T>(offset, size) {
        // SAFETY: within the caller's struct, at the field's (aligned) offset.
        unsafe { options.cast::<u8>().add(offset).cast::<T>().write(value) };
    }
}

/// Reads the field at `offset` of the caller's struct `S` when it fits in its `size` bytes.
///
/// # Safety
/// `options` has `size` readable bytes; `offset` is the offset of a field of type `T` in `S`,
/// and `T` has no invalid bit patterns (read a C `bool` as `u8`).
pub(crate) unsafe fn get<S, T: Copy>(options: *const S, size: usize, offset: usize) -> Option<T> {
    // SAFETY: within the caller's struct, at the field's (aligned) offset.
    fits::<T>(offset, size).then(|| unsafe { options.cast::<u8>().add(offset).cast::<T>().read() })
}

/// Zeroes the caller's struct `S` of `size` bytes (fields this library does not know included)
/// and sets its leading `size`; false (nothing written) for NULL or a `size` too small for it.
/// The `_init_size` functions then `put` their defaults.
///
/// # Safety
/// `options` is NULL or has `size` writable bytes and starts with its `size` field.
pub(crate) unsafe fn init_sized<S>(options: *mut S, size: usize) -> bool {
    if options.is_null() || size < size_of::<usize>() {
        return false;
    }
    // SAFETY: the caller's struct has `size` writable bytes (its sizeof).
    unsafe {
        std::ptr::write_bytes(options.cast::<u8>(), 0, size);
        put(options, size, 0, size);
    }
    true
}

/// The `size` a caller's struct `S` starts with (the bytes the library may read); below the
/// size of that field, the invalid-argument failure telling to use the `init` macro.
///
/// # Safety
/// `options` is not NULL and starts with its `size` field.
pub(crate) unsafe fn caller_size<S>(options: *const S, init: &str) -> Result<usize, ml_status> {
    // SAFETY: every such struct starts with its size.
    let size = unsafe { options.cast::<usize>().read() };
    if size < size_of::<usize>() {
        return Err(fail_with(
            ErrorKind::InvalidArgument,
            &format!("options->size is {size}: initialize the options with {init}(&options)"),
        ));
    }
    Ok(size)
}

/// The core's options from C options (NULL: none). A missing `size`, a NULL header array or
/// string, or a string that is not UTF-8 fails here; the values themselves (timeout, header
/// names) are checked by the core, which names the option.
///
/// # Safety
/// `options` is NULL or points to `options->size` readable bytes laid out as ml_request_options.
pub(crate) unsafe fn request_options(options: *const ml_request_options) -> Result<RequestOptions, ml_status> {
    let mut out = RequestOptions::new();
    if options.is_null() {
        return Ok(out);
    }
    // SAFETY: every ml_request_options starts with its size.
    let size = unsafe { caller_size(options, "ml_request_options_init")? };
    // SAFETY: the caller's struct has `size` bytes; `get` reads only fields within them.
    let (timeout, max_retries, headers, count) = unsafe {
        (
            get::<_, f64>(options, size, offset_of!(ml_request_options, timeout)),
            get::<_, c_int>(options, size, offset_of!(ml_request_options, max_retries)),
            get::<_, *const *const c_char>(options, size, offset_of!(ml_request_options, headers)),
            get::<_, usize>(options, size, offset_of!(ml_request_options, header_count)),
        )
    };
    if let Some(seconds) = timeout.filter(|s| s.is_nan() || *s > 0.0) {
        out = out.timeout_secs(seconds); // NaN and infinity reach the core, which refuses them
    }
    if let Some(retries) = max_retries.filter(|n| *n >= 0) {
        out = out.max_retries(retries.into());
    }
    let count = if headers.is_some() { count.unwrap_or(0) } else { 0 };
    let headers = headers.unwrap_or(std::ptr::null());
    if count > 0 && headers.is_null() {
        return Err(fail_with(
            ErrorKind::InvalidArgument,
            &format!("options->headers is NULL but options->header_count is {count}"),
        ));
    }
    for i in 0..count {
        let name_at = format!("options->headers[{}]", 2 * i);
        let value_at = format!("options->headers[{}]", 2 * i + 1);
        // SAFETY: the caller promises 2 * header_count strings (NULL or NUL-terminated).
        let (name, value) = unsafe {
            let name = optional(*headers.add(2 * i), &name_at)?;
            (name, optional(*headers.add(2 * i + 1), &value_at)?)
        };
        let missing = |at: &str| fail_with(ErrorKind::InvalidArgument, &format!("{at} (a header) must not be NULL"));
        let name = name.ok_or_else(|| missing(&name_at))?;
        let value = value.ok_or_else(|| missing(&value_at))?;
        out = out.header(name, value);
    }
    Ok(out)
}
