//! `ChatStream`: the sync iterator (pieces served from a local batch, one crossing into the
//! runtime per batch) and the primitives `AsyncChatStream` is built on in Python.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use mixerlead::{runtime, StreamInfo};
use pyo3::prelude::*;
use tokio::sync::Notify;

use crate::wait::{into_asyncio, wait};

type Shared = Arc<tokio::sync::Mutex<mixerlead::ChatStream>>;

/// Set once by `close()`; wakes a pending fetch so it gives up at once.
#[derive(Default)]
struct Closed {
    flag: AtomicBool,
    notify: Notify,
}

impl Closed {
    fn is_set(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }

    async fn wait(&self) {
        loop {
            let notified = self.notify.notified();
            if self.is_set() {
                return;
            }
            notified.await;
        }
    }
}

/// Pieces fetched from the core but not yet handed to Python.
#[derive(Default)]
struct Local {
    pieces: VecDeque<String>,
    bytes: usize,
    done: bool,
}

/// A streamed chat reply: iterate it for `str` pieces in arrival order.
#[pyclass(frozen, module = "mixerlead")]
pub struct ChatStream {
    stream: Shared,
    info: StreamInfo,
    closed: Arc<Closed>,
    local: Mutex<Local>,
}

/// The next batch from the core, or `None` at the end or once closed.
async fn fetch(stream: Shared, closed: Arc<Closed>) -> mixerlead::Result<Option<Vec<String>>> {
    if closed.is_set() {
        return Ok(None);
    }
    tokio::select! {
        biased;
        _ = closed.wait() => Ok(None),
        batch = async { stream.lock().await.next_batch().await } => batch.transpose(),
    }
}

impl ChatStream {
    pub fn new(stream: mixerlead::ChatStream) -> Self {
        ChatStream {
            info: stream.info(),
            stream: Arc::new(tokio::sync::Mutex::new(stream)),
            closed: Arc::default(),
            local: Mutex::default(),
        }
    }

    fn local(&self) -> MutexGuard<'_, Local> {
        self.local.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores a fetched batch; `false` when the stream has ended.
    fn store(&self, batch: Option<Vec<String>>) -> bool {
        let mut local = self.local();
        match batch {
            Some(pieces) => {
                local.bytes += pieces.iter().map(String::len).sum::<usize>();
                local.pieces.extend(pieces);
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
        let mut local = self.local();
        local.pieces.clear();
        local.bytes = 0;
    }

    fn pop_local(&self) -> Option<String> {
        let mut local = self.local();
        let piece = local.pieces.pop_front()?;
        local.bytes -= piece.len();
        Some(piece)
    }
}

#[pymethods]
impl ChatStream {
    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<String>> {
        loop {
            if let Some(piece) = self.pop_local() {
                return Ok(Some(piece));
            }
            if self.local().done {
                return Ok(None);
            }
            let batch = wait(py, fetch(self.stream.clone(), self.closed.clone())).inspect_err(|_| self.close())?;
            if !self.store(batch) {
                return Ok(None);
            }
        }
    }

    /// The next local piece, or `None` when a fetch is needed (`_afetch`) or the end came.
    fn _pop(&self) -> Option<String> {
        self.pop_local()
    }

    /// Whether the stream has ended (after the local pieces).
    #[getter]
    fn _done(&self) -> bool {
        self.local().done
    }

    /// An asyncio future of the next batch (`None` at the end), for `_store`.
    fn _afetch<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        into_asyncio(py, fetch(self.stream.clone(), self.closed.clone()))
    }

    /// Stores a batch `_afetch` returned; `False` when the stream has ended.
    fn _store(&self, batch: Option<Vec<String>>) -> bool {
        self.store(batch)
    }

    /// Consumes the rest and returns the whole reply.
    fn read(&self, py: Python<'_>) -> PyResult<String> {
        loop {
            self.drain_local();
            if self.local().done {
                return Ok(self.info.text());
            }
            let batch = wait(py, fetch(self.stream.clone(), self.closed.clone())).inspect_err(|_| self.close())?;
            self.store(batch);
        }
    }

    /// Aborts the request (the connection is closed); iteration then ends.
    fn close(&self) {
        self.closed.flag.store(true, Ordering::Release);
        self.closed.notify.notify_waiters();
        self.drain_local();
        self.local().done = true;
        match self.stream.clone().try_lock_owned() {
            Ok(mut stream) => stream.abort(),
            Err(_) => {
                let stream = self.stream.clone();
                runtime::handle().spawn(async move { stream.lock().await.abort() });
            }
        }
    }

    /// The conversation id, once the service named it; `None` until then.
    #[getter]
    fn conversation_id(&self) -> Option<String> {
        self.info.conversation_id()
    }

    /// All the text handed out so far.
    #[getter]
    fn text(&self) -> String {
        let unserved = self.local().bytes;
        let mut text = self.info.text();
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
        format!("<mixerlead.ChatStream conversation_id={:?}>", self.info.conversation_id())
    }

    /// Renders the reply as it arrives: progressively as Markdown in a notebook, as plain
    /// printing elsewhere. Returns the whole text.
    fn display(slf: Py<Self>, py: Python<'_>) -> PyResult<Py<PyAny>> {
        py.import("mixerlead._display")?.getattr("display_stream")?.call1((slf,)).map(Bound::unbind)
    }
}
