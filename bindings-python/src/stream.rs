//! `ChatStream`: the sync iterator (pieces served from a local batch, one crossing into the
//! runtime per batch) and the primitives `AsyncChatStream` is built on in Python.

use std::sync::{Mutex, MutexGuard};

use mixerlead::bridge::SharedStream;
use mixerlead::{Batch, BatchReader};
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::wait::{into_asyncio, wait};

/// The batch fetched from the core, being handed to Python piece by piece.
#[derive(Default)]
struct Local {
    batch: BatchReader,
    /// Bytes of a batch left unserved when the stream was closed.
    withheld: usize,
    done: bool,
}

impl Local {
    /// Bytes the core handed over that Python has not been given.
    fn unserved(&self) -> usize {
        self.withheld + self.batch.rest().len()
    }
}

/// A batch for `AsyncChatStream`: an iterator that makes each piece's `str` only when it is
/// reached, so a batch waiting to be served holds its text once (not one object per piece).
#[pyclass(frozen, module = "mixerlead")]
pub struct BatchPieces {
    batch: Mutex<BatchReader>,
}

impl BatchPieces {
    fn new(batch: Batch) -> Self {
        BatchPieces { batch: Mutex::new(BatchReader::new(batch)) }
    }

    fn batch(&self) -> MutexGuard<'_, BatchReader> {
        self.batch.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[pymethods]
impl BatchPieces {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyString>> {
        self.batch().next_piece().map(|piece| PyString::new(py, piece))
    }

    /// Pieces not handed out yet.
    fn __len__(&self) -> usize {
        self.batch().remaining()
    }

    /// Characters (code points) of the pieces not handed out yet.
    fn unserved_chars(&self) -> usize {
        self.batch().rest().chars().count()
    }

    /// Counts every piece as handed out.
    fn skip(&self) {
        self.batch().skip_rest();
    }
}

/// A streamed chat reply: iterate it for `str` pieces in arrival order.
#[pyclass(frozen, module = "mixerlead")]
pub struct ChatStream {
    shared: SharedStream,
    local: Mutex<Local>,
}

impl ChatStream {
    pub fn new(stream: mixerlead::ChatStream) -> Self {
        ChatStream { shared: SharedStream::new(stream), local: Mutex::default() }
    }

    fn local(&self) -> MutexGuard<'_, Local> {
        self.local.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores a fetched batch; `false` when the stream has ended.
    fn store(&self, batch: Option<Batch>) -> bool {
        let mut local = self.local();
        match batch {
            Some(batch) => {
                local.batch = BatchReader::new(batch);
                true
            }
            None => {
                local.done = true;
                false
            }
        }
    }

    /// Counts every local piece as handed out.
    fn drain_local(&self) {
        self.local().batch.skip_rest();
    }

    fn pop_local<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyString>> {
        self.local().batch.next_piece().map(|piece| PyString::new(py, piece))
    }
}

#[pymethods]
impl ChatStream {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyString>>> {
        loop {
            if let Some(piece) = self.pop_local(py) {
                return Ok(Some(piece));
            }
            if self.local().done {
                return Ok(None);
            }
            let batch = wait(py, self.shared.next_batch()).inspect_err(|_| self.close())?;
            if !self.store(batch) {
                return Ok(None);
            }
        }
    }

    /// An asyncio future of the next batch (`None` at the end), for `AsyncChatStream`, which
    /// keeps the batch itself (this object's own buffer is the sync iterator's).
    fn _afetch<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let shared = self.shared.clone();
        into_asyncio(py, async move { Ok(shared.next_batch().await?.map(BatchPieces::new)) })
    }

    /// The next batch if it is already decoded, without a trip through the runtime: its
    /// pieces, `None` at the end, or no pieces when `_afetch` must wait for them.
    fn _try_take(&self, py: Python<'_>) -> PyResult<Option<BatchPieces>> {
        match self.shared.try_next_batch() {
            None => Ok(Some(BatchPieces::new(Batch::default()))),
            Some(Ok(batch)) => Ok(batch.map(BatchPieces::new)),
            Some(Err(error)) => Err(crate::errors::to_py_err(py, error)),
        }
    }

    /// Consumes the rest and returns the whole reply.
    fn read(&self, py: Python<'_>) -> PyResult<String> {
        loop {
            self.drain_local();
            if self.local().done {
                return Ok(self.text());
            }
            let batch = wait(py, self.shared.next_batch()).inspect_err(|_| self.close())?;
            self.store(batch);
        }
    }

    /// Aborts the request (the connection is closed); iteration then ends.
    fn close(&self) {
        self.shared.cancel();
        let mut local = self.local();
        local.withheld += local.batch.rest().len();
        (local.batch, local.done) = (BatchReader::default(), true);
    }

    /// The conversation id, once the service named it; `None` until then.
    #[getter]
    fn conversation_id(&self) -> Option<String> {
        self.shared.info().conversation_id()
    }

    /// All the text handed out so far.
    #[getter]
    fn text(&self) -> String {
        let unserved = self.local().unserved();
        let mut text = self.shared.info().text();
        text.truncate(text.len() - unserved);
        text
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, pyo3::types::PyTuple>) {
        self.close();
    }

    fn __repr__(&self) -> String {
        format!("<mixerlead.ChatStream conversation_id={:?}>", self.shared.info().conversation_id())
    }

    /// Renders the reply as it arrives: progressively as Markdown in a notebook, as plain
    /// printing elsewhere. Returns the whole text.
    fn display(slf: Py<Self>, py: Python<'_>) -> PyResult<Py<PyAny>> {
        py.import("mixerlead._display")?.getattr("display_stream")?.call1((slf,)).map(Bound::unbind)
    }
}
