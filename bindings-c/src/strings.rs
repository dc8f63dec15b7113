//! C strings in and out.

use std::ffi::{c_char, CStr};

use mixerlead::ErrorKind;

use crate::status::{fail_with, ml_status};

/// An optional argument: NULL is `None`; invalid UTF-8 is an invalid-argument failure.
///
/// # Safety
/// `ptr` is NULL or a NUL-terminated string valid for the call.
pub(crate) unsafe fn optional(ptr: *const c_char, name: &str) -> Result<Option<String>, ml_status> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: the caller promises a NUL-terminated string.
    let bytes = unsafe { CStr::from_ptr(ptr) };
    match bytes.to_str() {
        Ok(text) => Ok(Some(text.to_string())),
        Err(_) => Err(fail_with(ErrorKind::InvalidArgument, &format!("{name} is not valid UTF-8"))),
    }
}

/// A NUL-terminated copy of `text` for handing out (an inner NUL stays: `len` is exact).
pub(crate) fn nul_terminated(text: &str, buffer: &mut Vec<u8>) {
    buffer.clear();
    buffer.extend_from_slice(text.as_bytes());
    buffer.push(0);
}

/// Fails with `ML_ERR_INVALID_ARGUMENT` naming the NULL argument.
pub(crate) fn null(name: &str) -> ml_status {
    fail_with(ErrorKind::InvalidArgument, &format!("{name} must not be NULL"))
}

/// Checks an out-pointer and sets `*out` to NULL until there is a result to store.
///
/// # Safety
/// `out` is NULL or valid for writes.
pub(crate) unsafe fn cleared<'a, T>(out: *mut *mut T) -> Result<&'a mut *mut T, ml_status> {
    // SAFETY: NULL or valid for writes, as documented.
    let out = unsafe { out.as_mut() }.ok_or_else(|| null("out"))?;
    *out = std::ptr::null_mut();
    Ok(out)
}

/// A handle the caller passed in, or the invalid-argument failure naming it.
///
/// # Safety
/// `handle` is NULL or points to a live object.
pub(crate) unsafe fn live<'a, T>(handle: *const T, name: &str) -> Result<&'a T, ml_status> {
    // SAFETY: as documented.
    unsafe { handle.as_ref() }.ok_or_else(|| null(name))
}
