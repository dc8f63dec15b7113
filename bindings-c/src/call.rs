//! Push streaming: ml_chat_start runs the chat on the runtime and calls back with each piece.

use std::ffi::{c_char, c_int, c_void, CString};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};

use futures_util::FutureExt;
use mixerlead::binding::Cancellation;
use mixerlead::runtime::{on_runtime_thread, process_id, Runtime};
use mixerlead::{Batch, ChatRequest, ChatStream, Client, Error, ErrorKind, RequestOptions};

use crate::client::{chat_request, ml_chat_request, ml_client};
use crate::context::{ours, runtime};
use crate::options::{ml_request_options, request_options};
use crate::status::{c_string, fail, fail_in, guard, guard_or, ml_status};
use crate::strings::{cleared, live, nul_terminated, null};

/// Called with each piece on one of the library's threads: `text` is UTF-8 and NUL-terminated,
/// `len` its bytes without the NUL. `text` is valid only until the callback returns: copy what
/// you keep. Return 0 to go on, non-zero to cancel the call (on_done then reports
/// ML_ERR_CANCELLED). A call's callbacks never run concurrently with each other.
#[allow(non_camel_case_types)]
pub type ml_on_text = Option<unsafe extern "C" fn(text: *const c_char, len: usize, user_data: *mut c_void) -> c_int>;

/// Called exactly once when the call ends, on one of the library's threads: ML_OK, or the
/// failure (ml_last_error_message() and the other ml_last_error_ functions tell it inside the
/// callback), with the conversation id (NULL if the service named none). `conversation_id` is
/// valid only until the callback returns: copy it to keep it.
#[allow(non_camel_case_types)]
pub type ml_on_done =
    Option<unsafe extern "C" fn(status: ml_status, conversation_id: *const c_char, user_data: *mut c_void)>;

/// A chat running on the library's threads (see ml_chat_start).
#[allow(non_camel_case_types)]
pub struct ml_call {
    state: Arc<CallState>,
    /// The process that started the call (a forked child must not wait for it).
    pid: u32,
}

/// What the handle and the task share; it goes when both are gone.
struct CallState {
    /// Set by ml_call_cancel, ml_call_free or a non-zero on_text: stops the request, and every
    /// piece not yet handed out.
    cancellation: Cancellation,
    /// Held while a callback of the call runs (a batch of on_text calls, or on_done), so that
    /// ml_call_cancel can wait for a callback running right now.
    delivering: Mutex<()>,
    /// The response's request id, once its headers arrived.
    request_id: OnceLock<CString>,
    /// Set once the task has ended (after on_done returned).
    done: Mutex<bool>,
    done_signal: Condvar,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl CallState {
    /// Cancels; off the runtime's threads, also waits for a callback running right now. On a
    /// runtime thread (inside a callback) it does not wait: a callback of this call is the
    /// caller itself, and waiting on another call's could wait in a cycle.
    fn cancel(&self) {
        self.cancellation.cancel();
        if !on_runtime_thread() {
            drop(lock(&self.delivering));
        }
    }

    fn is_done(&self) -> bool {
        *lock(&self.done)
    }

    fn wait_done(&self) {
        let done = lock(&self.done);
        drop(self.done_signal.wait_while(done, |done| !*done).unwrap_or_else(|p| p.into_inner()));
    }
}

/// Marks the call done when the task ends, however it ends (after on_done, or dropped).
struct DoneOnDrop(Arc<CallState>);

impl Drop for DoneOnDrop {
    fn drop(&mut self) {
        *lock(&self.0.done) = true;
        self.0.done_signal.notify_all();
    }
}

/// Raw pointers the task carries to its thread; the caller keeps user_data valid until on_done.
struct Callbacks {
    on_text: unsafe extern "C" fn(*const c_char, usize, *mut c_void) -> c_int,
    on_done: unsafe extern "C" fn(ml_status, *const c_char, *mut c_void),
    user_data: *mut c_void,
}

// SAFETY: the API contract makes user_data usable from the runtime's threads; one task uses
// the callbacks, one call at a time.
unsafe impl Send for Callbacks {}
// SAFETY: as above; shared only between the task's own futures.
unsafe impl Sync for Callbacks {}

/// Starts a chat whose pieces are pushed to `on_text` on the library's threads; `on_done` runs
/// exactly once at the end. Returns at once, with `*out` holding the call; `*out` is set before
/// any callback can run, so the callbacks may read it. Free the call with ml_call_free.
/// user_data must stay valid until on_done has run.
///
/// A request that cannot be sent (NULL or empty message, an empty model or conversation_id,
/// text that is not UTF-8, a bad option) fails here, with its status returned and no call
/// started: on_done runs only for calls that were started (ML_OK returned).
///
/// Callbacks: they run on the library's threads, one callback of a call at a time. Inside them
/// you may call ml_chat_start, ml_call_cancel, ml_call_free (of this call or another; it does
/// not wait there), ml_call_request_id, ml_stream_free, ml_stream_conversation_id and the
/// ml_last_error_ functions; the blocking functions (ml_chat_stream, ml_stream_next,
/// ml_models_list, ml_request, and their _with forms) fail there with ML_ERR_INVALID_ARGUMENT,
/// as they could wait on the thread they block.
#[no_mangle]
pub unsafe extern "C" fn ml_chat_start(
    client: *mut ml_client,
    request: *const ml_chat_request,
    on_text: ml_on_text,
    on_done: ml_on_done,
    user_data: *mut c_void,
    out: *mut *mut ml_call,
) -> ml_status {
    // SAFETY: as documented.
    unsafe { ml_chat_start_with(client, request, std::ptr::null(), on_text, on_done, user_data, out) }
}

/// ml_chat_start with options for this call (NULL: the client's).
#[no_mangle]
pub unsafe extern "C" fn ml_chat_start_with(
    client: *mut ml_client,
    request: *const ml_chat_request,
    options: *const ml_request_options,
    on_text: ml_on_text,
    on_done: ml_on_done,
    user_data: *mut c_void,
    out: *mut *mut ml_call,
) -> ml_status {
    guard(|| {
        // SAFETY: as documented.
        let (out, client) = unsafe { (cleared(out)?, live(client, "client")?) };
        let (Some(on_text), Some(on_done)) = (on_text, on_done) else {
            return Err(null(if on_text.is_none() { "on_text" } else { "on_done" }));
        };
        // SAFETY: as documented.
        let (request, options) = unsafe { (chat_request(request)?, request_options(options)?) };
        let runtime = runtime()?;
        let headers = start_chat(runtime, &client.inner, request, options).map_err(|e| fail(&e))?;
        let state = Arc::new(CallState {
            cancellation: Cancellation::new(),
            delivering: Mutex::new(()),
            request_id: OnceLock::new(),
            done: Mutex::new(false),
            done_signal: Condvar::new(),
        });
        let callbacks = Callbacks { on_text, on_done, user_data };
        let task = run(headers, state.clone(), callbacks);
        // Published before the task exists: its callbacks may run before spawn returns.
        *out = Box::into_raw(Box::new(ml_call { state, pid: process_id() }));
        runtime.spawn(task);
        Ok(ml_status::ML_OK)
    })
}

/// The chat until its response headers arrive.
type Headers = Pin<Box<dyn Future<Output = Result<ChatStream, Error>> + Send>>;

/// Runs the chat here up to its first wait, and returns the rest for the call's task. The core
/// checks the request and the options before it sends anything (before its first wait), so a
/// request that cannot be sent (an invalid-argument or configuration error) fails the caller's
/// ml_chat_start instead of reaching on_done. Any other outcome ready already (a refused
/// connection can be; so can a response, when the runtime's threads are quick) goes to the task
/// like a later one: a started call always ends in on_done.
///
/// The first step runs in the runtime's context (connecting spawns onto it) with a waker that
/// does nothing: the task polls the rest at once, with its own.
fn start_chat(
    runtime: &Runtime,
    client: &Client,
    request: ChatRequest,
    options: RequestOptions,
) -> Result<Headers, Error> {
    let client = client.clone();
    let mut headers: Headers = Box::pin(async move { client.chat_with(request, &options).await });
    let _context = runtime.enter();
    match headers.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Pending => Ok(headers),
        Poll::Ready(Err(e)) if matches!(e.kind(), ErrorKind::InvalidArgument | ErrorKind::Configuration) => Err(e),
        Poll::Ready(outcome) => Ok(Box::pin(std::future::ready(outcome))),
    }
}

/// The call's task: the chat, then on_done (no panic escapes it; the call is marked done
/// however it ends).
async fn run(headers: Headers, state: Arc<CallState>, callbacks: Callbacks) {
    let _done = DoneOnDrop(state.clone());
    let work = AssertUnwindSafe(chat(headers, &state, &callbacks)).catch_unwind();
    let outcome = match state.cancellation.run(work).await {
        None => Err(Error::cancelled()),
        Some(Ok(result)) => result,
        Some(Err(_panic)) => Err(Error::internal()),
    };
    guard_or((), || finish(&state, &callbacks, outcome));
}

async fn chat(headers: Headers, state: &CallState, callbacks: &Callbacks) -> Result<Option<String>, Error> {
    let mut stream = headers.await?;
    if let Some(id) = stream.request_id() {
        let _ = state.request_id.set(c_string(id));
    }
    let mut buffer = Vec::new();
    while let Some(batch) = stream.next_batch().await {
        deliver(&batch?, state, callbacks, &mut buffer)?;
    }
    Ok(stream.conversation_id())
}

/// Hands a batch to on_text piece by piece, checking before each piece that the call was not
/// cancelled.
fn deliver(batch: &Batch, state: &CallState, callbacks: &Callbacks, buffer: &mut Vec<u8>) -> Result<(), Error> {
    let _delivering = lock(&state.delivering);
    for piece in batch {
        if state.cancellation.is_cancelled() {
            return Err(Error::cancelled());
        }
        nul_terminated(piece, buffer);
        // SAFETY: the caller's callback, with a NUL-terminated buffer valid during the call.
        if unsafe { (callbacks.on_text)(buffer.as_ptr().cast(), piece.len(), callbacks.user_data) } != 0 {
            state.cancellation.cancel();
            return Err(Error::cancelled());
        }
    }
    Ok(())
}

/// Calls on_done once, with this thread's last error set to the call's failure. A cancel that
/// returned before on_done started wins over the outcome.
fn finish(state: &CallState, callbacks: &Callbacks, outcome: Result<Option<String>, Error>) {
    let _delivering = lock(&state.delivering);
    let outcome = if state.cancellation.is_cancelled() { Err(Error::cancelled()) } else { outcome };
    let (status, conversation) = match outcome {
        Ok(id) => (ml_status::ML_OK, id),
        Err(e) => (fail_in(&e, state.request_id.get().and_then(|id| id.to_str().ok())), None),
    };
    let conversation = conversation.and_then(|id| CString::new(id).ok());
    let id_ptr = conversation.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
    // SAFETY: the caller's callback; the id lives until it returns.
    unsafe { (callbacks.on_done)(status, id_ptr, callbacks.user_data) };
}

/// The request id of the call's response (`X-Request-Id`, else `Request-Id`) once its headers
/// arrived; NULL before that, if the service sent none, or for NULL. Valid until the call is
/// freed; any thread, also inside the call's own callbacks (e.g. on_done).
#[no_mangle]
pub unsafe extern "C" fn ml_call_request_id(call: *const ml_call) -> *const c_char {
    guard_or(std::ptr::null(), || {
        // SAFETY: NULL or a live call.
        unsafe { call.as_ref() }.and_then(|c| c.state.request_id.get()).map_or(std::ptr::null(), |id| id.as_ptr())
    })
}

/// Cancels the call: its request is aborted, no further on_text runs, and on_done runs with
/// ML_ERR_CANCELLED, unless on_done had already started. NULL is ignored.
///
/// Called outside the callbacks, it returns only once a callback of this call that is running
/// right now on a library thread has returned: after it returns, no on_text of the call runs,
/// and on_done, if it has not run yet, reports ML_ERR_CANCELLED. (So do not call it while
/// holding a lock your callbacks take.) Called from inside a callback it does not wait: from
/// this call's own on_text, no further on_text runs after that callback returns; from another
/// call's callback, a piece being handed out on another thread right now may still be, but no
/// further one.
///
/// In a child process forked after the call was started it does nothing (the call is the
/// parent's).
#[no_mangle]
pub unsafe extern "C" fn ml_call_cancel(call: *mut ml_call) {
    guard_or((), || {
        // SAFETY: NULL or a live call.
        if let Some(call) = unsafe { call.as_ref() } {
            if ours(call.pid) {
                call.state.cancel();
            }
        }
    })
}

/// Frees the call (NULL is ignored).
///
/// Outside the callbacks: if on_done has not run yet, the call is cancelled first (as by
/// ml_call_cancel) and this waits for on_done; after it returns no callback of this call runs
/// again and user_data may be released.
///
/// Inside a callback (of this call or another) it does not wait: it cancels the call and
/// returns; the call's state is released when its task ends, and on_done still runs once,
/// later (with ML_ERR_CANCELLED if the call had not finished): keep user_data valid until then.
///
/// In a child process forked after the call was started, it releases the handle without
/// cancelling or waiting (the call runs in the parent; its memory is not reclaimed).
#[no_mangle]
pub unsafe extern "C" fn ml_call_free(call: *mut ml_call) {
    guard_or((), || {
        if call.is_null() {
            return;
        }
        // SAFETY: a pointer from ml_chat_start, freed once.
        let call = unsafe { Box::from_raw(call) };
        if !ours(call.pid) {
            return; // the parent's task holds the state; it cannot run here
        }
        let state = &call.state;
        if on_runtime_thread() {
            state.cancellation.cancel(); // its task releases the state when it ends
        } else if !state.is_done() {
            state.cancel();
            state.wait_done();
        }
    })
}
