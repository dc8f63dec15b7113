//! Where an entry point is called from: which process (objects made before a fork() belong to
//! the parent, whose runtime has no threads in the child) and which thread (callbacks run on the
//! runtime's threads, where blocking on the runtime can wait on itself).

use std::sync::atomic::{AtomicPtr, Ordering};

use mixerlead::runtime::{on_runtime_thread, process_id, try_runtime, Runtime};
use mixerlead::ErrorKind;

use crate::status::{fail, fail_with, ml_status};

/// Refuses a blocking `function` on a runtime thread (inside on_text / on_done).
pub(crate) fn not_in_callback(function: &str) -> Result<(), ml_status> {
    if on_runtime_thread() {
        return Err(fail_with(
            ErrorKind::InvalidArgument,
            &format!(
                "{function} cannot be called from inside a mixerlead callback: on_text and on_done run on the \
                 library's threads, where a blocking call could wait on itself; call it from another thread"
            ),
        ));
    }
    Ok(())
}

/// Whether an object made by process `pid` belongs to this process (not to a parent we were
/// forked from).
pub(crate) fn ours(pid: u32) -> bool {
    pid == process_id()
}

/// Refuses to use in a forked child an `object` (e.g. "stream") that its parent made.
pub(crate) fn this_process(pid: u32, function: &str, object: &str) -> Result<(), ml_status> {
    if !ours(pid) {
        return Err(fail_with(
            ErrorKind::InvalidArgument,
            &format!(
                "{function}: this {object} belongs to the parent process (it was made before fork()) and cannot \
                 be used in the child; free it (that does not wait) and make a new one"
            ),
        ));
    }
    Ok(())
}

/// The process's runtime, or the failure to start it.
pub(crate) fn runtime() -> Result<&'static Runtime, ml_status> {
    try_runtime().map_err(|e| fail(&e))
}

/// Keeps `object` (a parent's, let go in a forked child without dropping it) reachable for the
/// rest of the process, so leak checkers do not report it. Lock-free: a child may have been
/// forked while a parent's thread held any lock.
pub(crate) fn keep_forever<T: 'static>(object: T) {
    struct Kept {
        _object: Box<dyn std::any::Any>,
        next: *mut Kept,
    }
    static KEPT: AtomicPtr<Kept> = AtomicPtr::new(std::ptr::null_mut());
    let node = Box::into_raw(Box::new(Kept { _object: Box::new(object), next: std::ptr::null_mut() }));
    let mut head = KEPT.load(Ordering::Acquire);
    loop {
        // SAFETY: `node` is ours until published.
        unsafe { (*node).next = head };
        match KEPT.compare_exchange_weak(head, node, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return,
            Err(now) => head = now,
        }
    }
}
