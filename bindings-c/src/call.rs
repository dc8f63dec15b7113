//! Push streaming: ml_chat_start runs the chat on the runtime and calls back with each piece.

use std::ffi::{c_char, c_int, c_void, CString};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::ThreadId;

use futures_util::FutureExt;
use mixerlead::bridge::Cancellation;
use mixerlead::{Error, ErrorKind};

use crate::client::{chat_request, ml_chat_request, ml_client};
use crate::status::{fail, guard, ml_status};
use crate::strings::{cleared, live, nul_terminated, null};

/// Called with each piece (UTF-8, NUL-terminated; `len` bytes without the NUL) on a runtime
/// thread. Return 0 to go on, non-zero to cancel the call.
#[allow(non_camel_case_types)]
pub type ml_on_text = Option<unsafe extern "C" fn(text: *const c_char, len: usize, user_data: *mut c_void) -> c_int>;

/// Called exactly once when the call ends: ML_OK, or the failure (ml_last_error_message() tells
/// it inside the callback), with the conversation id (NULL if the service named none).
#[allow(non_camel_case_types)]
pub type ml_on_done =
    Option<unsafe extern "C" fn(status: ml_status, conversation_id: *const c_char, user_data: *mut c_void)>;

/// A chat running on the library's threads (see ml_chat_start).
#[allow(non_camel_case_types)]
pub struct ml_call {
    state: Arc<CallState>,
}

struct CallState {
    cancellation: Cancellation,
    /// Set once on_done has returned.
    done: Mutex<bool>,
    done_signal: Condvar,
    /// The thread running on_done, so that ml_call_free inside on_done does not wait for itself.
    finishing_on: Mutex<Option<ThreadId>>,
}

/// Raw pointers the task carries to its thread; the caller keeps user_data valid until on_done.
struct Callbacks {
    on_text: ml_on_text,
    on_done: ml_on_done,
    user_data: *mut c_void,
}

// SAFETY: the API contract makes user_data usable from the runtime's threads; one task uses
// the callbacks, one call at a time.
unsafe impl Send for Callbacks {}
// SAFETY: as above; shared only between the task's own futures.
unsafe impl Sync for Callbacks {}

impl Callbacks {
    /// Hands a NUL-terminated piece of `len` bytes to on_text.
    fn text(&self, nul_terminated: &[u8], len: usize) -> c_int {
        let on_text = self.on_text.expect("checked non-NULL");
        // SAFETY: the caller's callback, with a NUL-terminated buffer.
        unsafe { on_text(nul_terminated.as_ptr().cast(), len, self.user_data) }
    }
}

fn cancelled_error() -> Error {
    Error::new(ErrorKind::Cancelled, "the call was cancelled")
}

/// Starts a chat whose pieces are pushed to `on_text` on the runtime's threads; `on_done` runs
/// exactly once at the end. Returns at once; `*out` holds the call (free it with ml_call_free,
/// which waits for on_done). user_data must stay valid until on_done has run.
#[no_mangle]
pub unsafe extern "C" fn ml_chat_start(
    client: *mut ml_client,
    request: *const ml_chat_request,
    on_text: ml_on_text,
    on_done: ml_on_done,
    user_data: *mut c_void,
    out: *mut *mut ml_call,
) -> ml_status {
    guard(|| {
        // SAFETY: as documented.
        let (out, client) = unsafe { (cleared(out)?, live(client, "client")?) };
        if on_text.is_none() || on_done.is_none() {
            return Err(null(if on_text.is_none() { "on_text" } else { "on_done" }));
        }
        // SAFETY: as documented.
        let request = unsafe { chat_request(request)? };
        let state = Arc::new(CallState {
            cancellation: Cancellation::new(),
            done: Mutex::new(false),
            done_signal: Condvar::new(),
            finishing_on: Mutex::new(None),
        });
        let callbacks = Callbacks { on_text, on_done, user_data };
        let client = client.inner.clone();
        let task_state = state.clone();
        mixerlead::runtime::handle().spawn(async move {
            let callbacks = callbacks;
            let work = async {
                let mut stream = client.chat(request).await?;
                let mut buffer = Vec::new();
                while let Some(batch) = stream.next_batch().await {
                    for piece in &batch? {
                        nul_terminated(piece, &mut buffer);
                        if callbacks.text(&buffer, piece.len()) != 0 {
                            return Err(cancelled_error());
                        }
                    }
                }
                Ok(stream.conversation_id())
            };
            let outcome = match task_state.cancellation.run(AssertUnwindSafe(work).catch_unwind()).await {
                None => Err(cancelled_error()),
                Some(Ok(result)) => result,
                Some(Err(_panic)) => {
                    Err(Error::new(ErrorKind::Internal, "internal error: a panic was caught in the mixerlead library"))
                }
            };
            finish(&task_state, &callbacks, outcome);
        });
        *out = Box::into_raw(Box::new(ml_call { state }));
        Ok(ml_status::ML_OK)
    })
}

/// Calls on_done once (with this thread's last error set to the call's) and marks the call done.
fn finish(state: &CallState, callbacks: &Callbacks, outcome: Result<Option<String>, Error>) {
    *state.finishing_on.lock().unwrap_or_else(|p| p.into_inner()) = Some(std::thread::current().id());
    let (status, conversation) = match outcome {
        Ok(id) => (ml_status::ML_OK, id),
        Err(e) => (fail(&e), None),
    };
    let conversation = conversation.and_then(|id| CString::new(id).ok());
    let id_ptr = conversation.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
    let on_done = callbacks.on_done.expect("checked non-NULL");
    // SAFETY: the caller's callback; a panic cannot unwind out of C.
    let _ = std::panic::catch_unwind(AssertUnwindSafe(|| unsafe { on_done(status, id_ptr, callbacks.user_data) }));
    *state.finishing_on.lock().unwrap_or_else(|p| p.into_inner()) = None;
    *state.done.lock().unwrap_or_else(|p| p.into_inner()) = true;
    state.done_signal.notify_all();
}

/// Cancels the call: its request is aborted and on_done runs with ML_ERR_CANCELLED (unless it
/// already ended). NULL is ignored.
#[no_mangle]
pub unsafe extern "C" fn ml_call_cancel(call: *mut ml_call) {
    // SAFETY: NULL or a live call.
    if let Some(call) = unsafe { call.as_ref() } {
        call.state.cancellation.cancel();
    }
}

/// Frees the call (NULL is ignored). If on_done has not run yet, the call is cancelled first
/// and this waits for on_done; after it returns no callback of this call runs again.
#[no_mangle]
pub unsafe extern "C" fn ml_call_free(call: *mut ml_call) {
    if call.is_null() {
        return;
    }
    // SAFETY: a pointer from ml_chat_start, freed once.
    let call = unsafe { Box::from_raw(call) };
    let state = &call.state;
    let done = state.done.lock().unwrap_or_else(|p| p.into_inner());
    if *done {
        return;
    }
    let on_this_thread =
        *state.finishing_on.lock().unwrap_or_else(|p| p.into_inner()) == Some(std::thread::current().id());
    if on_this_thread {
        return; // freed from inside on_done: it is ending right now.
    }
    state.cancellation.cancel();
    let _done = state.done_signal.wait_while(done, |done| !*done).unwrap_or_else(|p| p.into_inner());
}
