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
