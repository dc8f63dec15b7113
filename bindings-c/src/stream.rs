//! Pull streaming: ml_chat_stream / ml_stream_next / ml_stream_free.

use std::cell::UnsafeCell;
use std::ffi::{c_char, CString};
use std::sync::OnceLock;

use mixerlead::binding::{block_on, BatchReader, Pull as Pulled, SharedStream};
use mixerlead::runtime::{process_id, try_runtime};

use crate::client::{chat_request, ml_chat_request, ml_client};
use crate::context::{keep_forever, not_in_callback, ours, runtime, this_process};
use crate::options::{ml_request_options, request_options};
use crate::status::{c_string, fail, fail_in, guard, guard_or, ml_status};
use crate::strings::{cleared, live, nul_terminated, null};

/// A streamed reply being read with ml_stream_next.
///
/// Threads: one thread at a time reads a stream with ml_stream_next (calls must not overlap;
/// which thread makes the next call does not matter). ml_stream_conversation_id may be called
/// from any thread at any time, also while another thread is inside ml_stream_next.
#[allow(non_camel_case_types)]
pub struct ml_stream {
    /// Shared with the runtime, which decodes the next batch while this one is handed out.
    stream: SharedStream,
    /// What only the reading thread touches (ml_stream_next's contract: one thread at a time);
    /// the rest of the stream is shared, so ml_stream_conversation_id can read it meanwhile.
    pull: UnsafeCell<Pull>,
    /// The conversation id once known, kept so its pointer stays valid until the free.
    conversation_id: OnceLock<CString>,
    /// The response's request id (known with the headers).
    request_id: Option<CString>,
    /// The process that made the stream (a forked child must not wait on it).
    pid: u32,
}

/// The reading thread's state.
struct Pull {
    /// The batch being handed out (one crossing into the runtime per batch).
    batch: BatchReader,
    /// The piece last handed out, NUL-terminated.
    current: Vec<u8>,
    ended: bool,
}

impl ml_stream {
    /// The conversation id, from the cache or (when first known) from the stream. Only in the
    /// process that made the stream: in a forked child, the stream's shared state may be locked
    /// by a parent's thread that does not exist there.
    fn conversation_id(&self) -> *const c_char {
        if let Some(id) = self.conversation_id.get() {
            return id.as_ptr();
        }
        if !ours(self.pid) {
            return std::ptr::null();
        }
        match self.stream.info().conversation_id() {
            Some(id) => {
                self.conversation_id.get_or_init(|| CString::new(id.replace('\0', "")).unwrap_or_default()).as_ptr()
            }
            None => std::ptr::null(),
        }
    }
}

/// Sends a message and waits for the response headers (blocking the calling thread); on success
/// `*out` holds the stream (free it with ml_stream_free).
///
/// Blocking: it cannot be called from inside an on_text / on_done callback
/// (ML_ERR_INVALID_ARGUMENT: the callbacks run on the library's threads, where waiting could
/// wait on itself).
#[no_mangle]
pub unsafe extern "C" fn ml_chat_stream(
    client: *mut ml_client,
    request: *const ml_chat_request,
    out: *mut *mut ml_stream,
) -> ml_status {
    // SAFETY: as documented.
    unsafe { ml_chat_stream_with(client, request, std::ptr::null(), out) }
}

/// ml_chat_stream with options for this call (NULL: the client's).
#[no_mangle]
pub unsafe extern "C" fn ml_chat_stream_with(
    client: *mut ml_client,
    request: *const ml_chat_request,
    options: *const ml_request_options,
    out: *mut *mut ml_stream,
) -> ml_status {
    guard(|| {
        // SAFETY: as documented.
        let (out, client, request, options) =
            unsafe { (cleared(out)?, live(client, "client")?, chat_request(request)?, request_options(options)?) };
        not_in_callback("ml_chat_stream")?;
        runtime()?;
        let stream = block_on(client.inner.chat_with(request, &options)).map_err(|e| fail(&e))?;
        let request_id = stream.request_id().map(c_string);
        let stream = ml_stream {
            stream: SharedStream::new(stream),
            pull: UnsafeCell::new(Pull { batch: BatchReader::default(), current: Vec::new(), ended: false }),
            conversation_id: OnceLock::new(),
            request_id,
            pid: process_id(),
        };
        stream.conversation_id(); // usually known from the headers: cached now
        *out = Box::into_raw(Box::new(stream));
        Ok(ml_status::ML_OK)
    })
}

/// The next piece: ML_OK with `*text` (UTF-8, NUL-terminated, valid until the next call on this
/// stream or its free) and `*len` (bytes, without the NUL); ML_DONE at the end; a failure status
/// otherwise (the pieces before it were delivered). Blocks the calling thread until a piece
/// arrives.
///
/// One thread at a time reads a stream (calls must not overlap). Not from inside an on_text /
/// on_done callback (ML_ERR_INVALID_ARGUMENT). In a child process forked after the stream was
/// made: ML_ERR_INVALID_ARGUMENT at once (the stream belongs to the parent).
#[no_mangle]
pub unsafe extern "C" fn ml_stream_next(
    stream: *mut ml_stream,
    text: *mut *const c_char,
    len: *mut usize,
) -> ml_status {
    guard(|| {
        if text.is_null() || len.is_null() {
            return Err(null(if text.is_null() { "text" } else { "len" }));
        }
        // SAFETY: checked non-NULL.
        unsafe {
            *text = std::ptr::null();
            *len = 0;
        }
        // SAFETY: NULL or a live stream.
        let s = unsafe { live(stream.cast_const(), "stream")? };
        this_process(s.pid, "ml_stream_next", "stream")?;
        not_in_callback("ml_stream_next")?;
        // SAFETY: only the reading thread touches `pull`, and one thread at a time reads (the
        // documented contract); nothing else borrows it.
        let pull = unsafe { &mut *s.pull.get() };
        while pull.batch.remaining() == 0 {
            if pull.ended {
                return Ok(ml_status::ML_DONE);
            }
            let next = block_on(s.stream.pull());
            s.conversation_id(); // cached while this process can still read it (see fork)
            match next {
                Pulled::Ready(batch) => pull.batch = BatchReader::new(batch),
                Pulled::Failed(e) => {
                    pull.ended = true;
                    return Err(fail_in(&e, s.request_id.as_deref().and_then(|id| id.to_str().ok())));
                }
                Pulled::End | Pulled::Pending => pull.ended = true,
            }
        }
        let piece = pull.batch.next_piece().unwrap_or_default();
        nul_terminated(piece, &mut pull.current);
        // SAFETY: checked non-NULL; `current` lives until the next call or the free.
        unsafe {
            *text = pull.current.as_ptr().cast();
            *len = piece.len();
        }
        Ok(ml_status::ML_OK)
    })
}

/// The conversation id, or NULL until the service named it. Valid until the stream is freed.
/// May be called from any thread, also while another thread is inside ml_stream_next. In a
/// forked child: the id if it was known before the fork, else NULL.
#[no_mangle]
pub unsafe extern "C" fn ml_stream_conversation_id(stream: *const ml_stream) -> *const c_char {
    guard_or(std::ptr::null(), || {
        // SAFETY: NULL or a live stream; only its shared parts are read.
        unsafe { stream.as_ref() }.map_or(std::ptr::null(), ml_stream::conversation_id)
    })
}

/// The request id of the stream's response (`X-Request-Id`, else `Request-Id`); NULL if the
/// service sent none, or for NULL. Valid until the stream is freed; any thread.
#[no_mangle]
pub unsafe extern "C" fn ml_stream_request_id(stream: *const ml_stream) -> *const c_char {
    guard_or(std::ptr::null(), || {
        // SAFETY: NULL or a live stream; the id is set when it is made and never changes.
        unsafe { stream.as_ref() }.and_then(|s| s.request_id.as_ref()).map_or(std::ptr::null(), |id| id.as_ptr())
    })
}

/// Frees a stream (NULL is ignored); an unfinished stream's request is aborted. Not while
/// another thread is inside ml_stream_next or ml_stream_conversation_id on it. May be called
/// from inside a callback. In a forked child, a stream of the parent is let go without being
/// dropped (that would touch the parent's runtime, whose threads are not in the child); its
/// memory is not reclaimed.
#[no_mangle]
pub unsafe extern "C" fn ml_stream_free(stream: *mut ml_stream) {
    guard_or((), || {
        if stream.is_null() {
            return;
        }
        // SAFETY: a pointer from ml_chat_stream, freed once.
        let stream = unsafe { Box::from_raw(stream) };
        if !ours(stream.pid) {
            // Dropping it would abort and wake a read-ahead task of the parent's runtime, which
            // takes scheduler locks a parent's thread may have held at the fork: that thread
            // does not exist here to release them.
            let ml_stream { stream, .. } = *stream;
            keep_forever(stream);
            return;
        }
        // Dropping the body needs no runtime, but do it inside one so any cleanup task lands.
        let _context = try_runtime().ok().map(|runtime| runtime.enter());
        drop(stream);
    })
}
