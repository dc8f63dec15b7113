//! `ChatStream`: the sync iterator, and the primitives `AsyncChatStream` is built on in Python.
//!
//! Pieces come from the core's bridge a batch at a time ([`SharedStream::pull`], or
//! [`SharedStream::try_pull`] when the batch is already decoded) and are served to Python one by
//! one from [`Local`]. The core counts the text: the binding only says how many pieces of the
//! last batch it served (`text(served)`, `close(served)`).

use std::sync::{Arc, Mutex, MutexGuard};

use mixerlead::binding::{BatchReader, Pull, SharedStream};
use mixerlead::{Batch, Error};
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::errors::to_py_err;
use crate::wait::{into_asyncio, wait};

/// The core's last batch, being served to Python piece by piece; shared by a stream and the
/// tasks that pull for `AsyncChatStream`.
#[derive(Default)]
struct Local {
    batch: BatchReader,
    /// Pieces in `batch`.
    len: usize,
    /// A pull is under way: `batch` was served to its end, and the core may have moved on to
    /// the next batch before the puller took it (so a `close()` meanwhile is left to the puller).
    pulling: bool,
    /// Iteration is over: the reply ended or failed, or the stream was closed.
    done: bool,
    closed: bool,
}

impl Local {
    /// Pieces of the core's last batch served to Python.
    fn served(&self) -> usize {
        self.len - self.batch.remaining()
    }

    fn serve(&mut self, batch: Batch) {
        self.len = batch.len();
        self.batch = BatchReader::new(batch);
    }

    /// Takes what a pull gave: `Ok(true)` with pieces to serve (none yet for `Pending`, which
    /// leaves a pull under way alone), `Ok(false)` at the end.
    fn settle(&mut self, shared: &SharedStream, pull: Pull) -> Result<bool, Error> {
        if matches!(pull, Pull::Pending) {
            return Ok(true);
        }
        self.pulling = false;
        if self.closed {
            if let Pull::Ready(_) = pull {
                shared.close(0); // closed while this batch was on its way: none of it was served
            }
            return Ok(false);
        }
        match pull {
            Pull::Ready(batch) => {
                self.serve(batch);
                Ok(true)
            }
            Pull::Pending => Ok(true),
            Pull::End => {
                self.done = true;
                Ok(false)
            }
            Pull::Failed(error) => {
                self.close(shared);
                Err(error)
            }
        }
    }

    /// Ends iteration and aborts the request, the text counting only the pieces served.
    fn close(&mut self, shared: &SharedStream) {
        self.done = true;
        if std::mem::replace(&mut self.closed, true) {
            return;
        }
        if self.pulling {
            // The puller settles it: its batch, if the core already handed one out, was not served.
            shared.cancel();
        } else {
            shared.close(self.served());
            self.serve(Batch::default());
        }
    }
}

type Shared = Arc<Mutex<Local>>;

fn lock(local: &Shared) -> MutexGuard<'_, Local> {
    local.lock().unwrap_or_else(|p| p.into_inner())
}

/// The pieces of the batch being served, for `AsyncChatStream` (an iterator that makes each
/// piece's `str` only when it is reached, and stops at the end of the batch).
#[pyclass(frozen, module = "mixerlead._native")]
pub struct BatchPieces {
    local: Shared,
}

#[pymethods]
impl BatchPieces {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyString>> {
        lock(&self.local).batch.next_piece().map(|piece| PyString::new(py, piece))
    }

    /// Pieces not handed out yet.
    fn __len__(&self) -> usize {
        lock(&self.local).batch.remaining()
    }
}

/// `ChatStream.chunks()`: an iterator of the reply's text, a chunk per batch that arrived.
#[pyclass(frozen, module = "mixerlead")]
pub struct Chunks {
    stream: Py<ChatStream>,
}

#[pymethods]
impl Chunks {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
        self.stream.get()._next_chunk(py)
    }
}

/// A streamed chat reply: iterate it for `str` pieces in arrival order.
#[pyclass(frozen, module = "mixerlead")]
pub struct ChatStream {
    shared: SharedStream,
    local: Shared,
}

impl ChatStream {
    pub fn new(stream: mixerlead::ChatStream) -> Self {
        ChatStream { shared: SharedStream::new(stream), local: Shared::default() }
    }

    fn local(&self) -> MutexGuard<'_, Local> {
        lock(&self.local)
    }

    /// With the batch served to its end: fetches the next one, waiting for it (without the
    /// GIL) when it is not decoded yet. `false` at the end.
    fn fetch<'a>(
        &'a self,
        py: Python<'_>,
        mut local: MutexGuard<'a, Local>,
    ) -> PyResult<(bool, MutexGuard<'a, Local>)> {
        if local.done {
            crate::log::deliver(py);
            return Ok((false, local));
        }
        let pulled = match self.shared.try_pull() {
            Pull::Pending => {
                local.pulling = true;
                drop(local);
                let shared = self.shared.clone();
                let pulled = wait(py, async move { Ok(shared.pull().await) });
                local = self.local();
                match pulled {
                    Ok(pull) => pull,
                    Err(interrupted) => {
                        // The pull was dropped before the core handed out a batch.
                        local.pulling = false;
                        local.close(&self.shared);
                        return Err(interrupted);
                    }
                }
            }
            pull => pull,
        };
        let settled = local.settle(&self.shared, pulled);
        if !matches!(settled, Ok(true)) {
            crate::log::deliver(py); // the stream's end, or its failure
        }
        match settled {
            Ok(more) => Ok((more, local)),
            Err(error) => Err(to_py_err(py, error)),
        }
    }

    fn take_rest<'py>(py: Python<'py>, local: &mut Local) -> Bound<'py, PyString> {
        let text = PyString::new(py, local.batch.rest());
        local.batch.skip_rest();
        text
    }
}

#[pymethods]
impl ChatStream {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
        let mut local = self.local();
        loop {
            if let Some(piece) = local.batch.next_piece() {
                return Ok(Some(PyString::new(py, piece)));
            }
            let (more, relocked) = self.fetch(py, local)?;
            if !more {
                return Ok(None);
            }
            local = relocked;
        }
    }

    /// Consumes the rest and returns the whole reply. A reply longer than the text the core
    /// keeps (64 MiB) raises `APIResponseError` rather than return it cut: iterate over it.
    fn read(&self, py: Python<'_>) -> PyResult<String> {
        let mut local = self.local();
        loop {
            local.batch.skip_rest();
            let (more, relocked) = self.fetch(py, local)?;
            if !more {
                break;
            }
            local = relocked;
        }
        self._whole_text(py)
    }

    /// The whole reply once read to its end (`APIResponseError` past the 64 MiB the core
    /// keeps); after `close()` or a failure, the text served (the core counts what a close
    /// withheld).
    fn _whole_text(&self, py: Python<'_>) -> PyResult<String> {
        self.shared.info().whole_text().map_err(|e| to_py_err(py, e))
    }

    /// For `display()`: the text of every piece that can be had without waiting (they count as
    /// served); `""` when the next piece must be waited for; `None` at the end.
    fn _ready_text<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
        let mut local = self.local();
        if local.batch.remaining() > 0 {
            return Ok(Some(Self::take_rest(py, &mut local)));
        }
        if local.done {
            crate::log::deliver(py);
            return Ok(None);
        }
        match self.shared.try_pull() {
            Pull::Pending => Ok(Some(PyString::new(py, ""))),
            pull => match local.settle(&self.shared, pull) {
                Ok(true) => Ok(Some(Self::take_rest(py, &mut local))),
                Ok(false) => {
                    crate::log::deliver(py);
                    Ok(None)
                }
                Err(error) => {
                    crate::log::deliver(py);
                    Err(to_py_err(py, error))
                }
            },
        }
    }

    /// For `AsyncChatStream`: the pieces of the batch being served, fetching the next batch
    /// when it is already decoded (no trip through the runtime); empty when `_afetch` must
    /// wait for it; `None` at the end.
    fn _try_take(&self, py: Python<'_>) -> PyResult<Option<BatchPieces>> {
        let mut local = self.local();
        let pieces = Some(BatchPieces { local: self.local.clone() });
        if local.batch.remaining() > 0 {
            return Ok(pieces);
        }
        if local.done {
            crate::log::deliver(py);
            return Ok(None);
        }
        let pull = self.shared.try_pull();
        match local.settle(&self.shared, pull) {
            Ok(true) => Ok(pieces),
            Ok(false) => {
                crate::log::deliver(py);
                Ok(None)
            }
            Err(error) => {
                crate::log::deliver(py);
                Err(to_py_err(py, error))
            }
        }
    }

    /// For `AsyncChatStream`, once `_try_take` came back empty: an asyncio future of the next
    /// batch's pieces (`None` at the end). Cancelling it aborts the pull.
    fn _afetch<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let shared = self.shared.clone();
        let local = self.local.clone();
        lock(&local).pulling = true;
        into_asyncio(py, async move {
            let pull = shared.pull().await;
            let more = lock(&local).settle(&shared, pull)?;
            Ok(more.then_some(BatchPieces { local }))
        })
    }

    /// Counts the rest of the batch being served as served, without making its `str`s.
    fn _skip(&self) {
        self.local().batch.skip_rest();
    }

    /// Aborts the request (the connection is closed); iteration then ends.
    fn close(&self) {
        self.local().close(&self.shared);
    }

    /// The conversation id, once the service named it; `None` until then.
    #[getter]
    fn conversation_id(&self) -> Option<String> {
        self.shared.info().conversation_id()
    }

    /// All the text handed out so far.
    #[getter]
    fn text(&self) -> String {
        let local = self.local();
        self.shared.text(local.served())
    }

    /// The response's request id (`X-Request-Id`, else `Request-Id`), if it had one.
    #[getter]
    fn request_id(&self) -> Option<String> {
        self.shared.info().request_id().map(str::to_string)
    }

    /// The response headers: a case-insensitive mapping.
    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        crate::client::headers(py, self.shared.info().headers())
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, pyo3::types::PyTuple>) {
        self.close();
    }

    /// `<mixerlead.ChatStream conversation_id='…', request_id='…', state='open'>`.
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let info = self.shared.info();
        let conversation_id = info.conversation_id().into_pyobject(py)?.repr()?;
        let request_id = info.request_id().into_pyobject(py)?.repr()?;
        Ok(format!(
            "<mixerlead.ChatStream conversation_id={conversation_id}, request_id={request_id}, state='{}'>",
            info.state().as_str()
        ))
    }

    /// `open`, `finished` (read to its end), `failed` or `closed`.
    #[getter]
    fn _state(&self) -> &'static str {
        self.shared.info().state().as_str()
    }

    /// The reply in chunks: each every piece that has arrived and not been handed out yet,
    /// joined; never empty, never a piece split. Mixes with iterating piece by piece: each
    /// continues where the other stopped. The fastest way to relay a reply.
    fn chunks(slf: Py<Self>) -> Chunks {
        Chunks { stream: slf }
    }

    /// The next chunk for `chunks()`, waiting for it; `None` at the end.
    fn _next_chunk<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
        let mut local = self.local();
        loop {
            if local.batch.remaining() > 0 {
                return Ok(Some(Self::take_rest(py, &mut local)));
            }
            let (more, relocked) = self.fetch(py, local)?;
            if !more {
                return Ok(None);
            }
            local = relocked;
        }
    }

    /// For `AsyncChatStream.chunks()`: the text of every piece that can be had without waiting
    /// (they count as served); `""` when `_afetch_chunk` must wait; `None` at the end.
    fn _try_chunk<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
        self._ready_text(py)
    }

    /// For `AsyncChatStream.chunks()`, once `_try_chunk` came back empty: an asyncio future of
    /// the next batch's text (`None` at the end). Cancelling it aborts the pull.
    fn _afetch_chunk<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let shared = self.shared.clone();
        let local = self.local.clone();
        lock(&local).pulling = true;
        into_asyncio(py, async move {
            let pull = shared.pull().await;
            let mut local = lock(&local);
            if !local.settle(&shared, pull)? {
                return Ok(None);
            }
            Ok(Some(local.batch.take_rest_owned()))
        })
    }

    /// Renders the reply as it arrives: as Markdown in a notebook, updated at most 20 times a
    /// second and once at the end; as plain printing elsewhere. Returns the whole text.
    fn display(slf: Py<Self>, py: Python<'_>) -> PyResult<Py<PyAny>> {
        py.import("mixerlead._display")?.getattr("display_stream")?.call1((slf,)).map(Bound::unbind)
    }
}
