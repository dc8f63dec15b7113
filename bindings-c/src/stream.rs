//! Pull streaming: ml_chat_stream / ml_stream_next / ml_stream_free.

use std::ffi::{c_char, CString};
use std::sync::OnceLock;

use mixerlead::bridge::SharedStream;
use mixerlead::runtime::block_on;
use mixerlead::BatchReader;

use crate::client::{chat_request, ml_chat_request, ml_client};
use crate::status::{fail, guard, ml_status};
use crate::strings::{cleared, live, nul_terminated, null};

/// A streamed reply being read with ml_stream_next.
#[allow(non_camel_case_types)]
pub struct ml_stream {
    /// Shared with the runtime, which decodes the next batch while this one is handed out.
    stream: SharedStream,
    /// The batch being handed out (one crossing into the runtime per batch).
    batch: BatchReader,
    /// The piece last handed out, NUL-terminated.
    current: Vec<u8>,
    conversation_id: OnceLock<CString>,
    ended: bool,
}

/// Sends a message and waits for the response headers (blocking the calling thread); on success
/// `*out` holds the stream (free it with ml_stream_free).
#[no_mangle]
pub unsafe extern "C" fn ml_chat_stream(
    client: *mut ml_client,
    request: *const ml_chat_request,
    out: *mut *mut ml_stream,
) -> ml_status {
    guard(|| {
        // SAFETY: as documented.
        let (out, client, request) = unsafe { (cleared(out)?, live(client, "client")?, chat_request(request)?) };
        let stream = block_on(client.inner.chat(request)).map_err(|e| fail(&e))?;
        let stream = ml_stream {
            stream: SharedStream::new(stream),
            batch: BatchReader::default(),
            current: Vec::new(),
            conversation_id: OnceLock::new(),
            ended: false,
        };
        *out = Box::into_raw(Box::new(stream));
        Ok(ml_status::ML_OK)
    })
}

/// The next piece: ML_OK with `*text` (UTF-8, NUL-terminated, valid until the next call) and
/// `*len` (bytes, without the NUL); ML_DONE at the end; a failure status otherwise (the pieces
/// before it were delivered). Blocks the calling thread until a piece arrives.
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
        // SAFETY: NULL or a live stream, used by one thread at a time.
        let s = unsafe { stream.as_mut() }.ok_or_else(|| null("stream"))?;
        while s.batch.remaining() == 0 {
            if s.ended {
                return Ok(ml_status::ML_DONE);
            }
            match block_on(s.stream.next_batch()) {
                Ok(Some(batch)) => s.batch = BatchReader::new(batch),
                Err(e) => {
                    s.ended = true;
                    return Err(fail(&e));
                }
                Ok(None) => s.ended = true,
            }
        }
        let piece = s.batch.next_piece().unwrap_or_default();
        nul_terminated(piece, &mut s.current);
        // SAFETY: checked non-NULL; `current` lives until the next call or the free.
        unsafe {
            *text = s.current.as_ptr().cast();
            *len = piece.len();
        }
        Ok(ml_status::ML_OK)
    })
}

/// The conversation id, or NULL until the service named it. Valid until the stream is freed.
#[no_mangle]
pub unsafe extern "C" fn ml_stream_conversation_id(stream: *const ml_stream) -> *const c_char {
    // SAFETY: NULL or a live stream.
    let Some(s) = (unsafe { stream.as_ref() }) else {
        return std::ptr::null();
    };
    if let Some(id) = s.conversation_id.get() {
        return id.as_ptr();
    }
    match s.stream.info().conversation_id() {
        Some(id) => s.conversation_id.get_or_init(|| CString::new(id).unwrap_or_default()).as_ptr(),
        None => std::ptr::null(),
    }
}

/// Frees a stream (NULL is ignored); an unfinished stream's request is aborted.
#[no_mangle]
pub unsafe extern "C" fn ml_stream_free(stream: *mut ml_stream) {
    if !stream.is_null() {
        // SAFETY: a pointer from ml_chat_stream, freed once.
        let stream = unsafe { Box::from_raw(stream) };
        // Dropping the body needs no runtime, but do it inside one so any cleanup task lands.
        let _context = mixerlead::runtime::runtime().enter();
        drop(stream);
    }
}
