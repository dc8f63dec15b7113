//! Blocking on the core runtime from Python: without the GIL, waking every 50 ms to let Ctrl-C
//! through; and handing a future to asyncio, settled on the loop's own thread.
//!
//! How a finished task reaches its event loop, without any runtime thread taking the GIL:
//! - on unix, a loop with `add_reader` (the selector loop, uvloop) watches a descriptor the
//!   runtime thread writes to: an eventfd on Linux, a socket pair on the other unixes;
//! - a loop without it (Windows' proactor loop, the default there), and any loop on Windows,
//!   gets a waker thread: a Python thread (daemon, named `mixerlead-waker`) running
//!   `mixerlead/_waker.py`, which waits on a socket the runtime threads write to and hands the
//!   completions to the loop with `call_soon_threadsafe`. It holds the loop weakly and ends
//!   when the loop is collected (or found closed). The thread has no Rust frame on its stack:
//!   CPython ends a daemon thread that takes the GIL during finalization with `pthread_exit`,
//!   and that forced unwinding through a pyo3 function aborts the process.

use std::future::Future;
use std::io::Write;
use std::net::Shutdown;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use mixerlead::{runtime, Error};
use pyo3::exceptions::{PyAttributeError, PyNotImplementedError};
use pyo3::prelude::*;
use pyo3::types::PyCFunction;
use pyo3::BoundObject;

use crate::errors::to_py_err;

/// How often a blocked call looks for a pending signal (KeyboardInterrupt).
const SIGNAL_CHECK: Duration = Duration::from_millis(50);

/// Runs `future` on the core runtime with the GIL released; a signal handler raising (Ctrl-C)
/// drops the future, which aborts its request, and the exception propagates.
/// The log records the work queued meanwhile are delivered before it returns.
pub fn wait<F, T>(py: Python<'_>, future: F) -> PyResult<T>
where
    F: Future<Output = mixerlead::Result<T>> + Send,
    T: Send,
{
    let future = guarded(future);
    let outcome =
        py.detach(|| runtime::block_on_interruptible(future, SIGNAL_CHECK, || Python::attach(|py| py.check_signals())));
    crate::log::deliver(py);
    match outcome {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(to_py_err(py, error)),
        Err(interrupted) => Err(interrupted),
    }
}

/// `future`, with a panic in it turned into the core's internal error (a `MixerLeadError`),
/// so that it neither unwinds through the runtime nor leaves an asyncio future unsettled.
fn guarded<F, T>(future: F) -> impl Future<Output = mixerlead::Result<T>>
where
    F: Future<Output = mixerlead::Result<T>>,
{
    use futures_util::FutureExt;
    std::panic::AssertUnwindSafe(future)
        .catch_unwind()
        .map(|outcome| outcome.unwrap_or_else(|_| Err(Error::internal())))
}

/// Builds a result's Python value on the event loop's thread (runtime threads never take the GIL).
type Outcome = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

/// A finished task waiting to settle its asyncio future.
struct Completion {
    future: Py<PyAny>,
    outcome: Outcome,
}

impl Completion {
    /// Settles the future (unless it is already done, e.g. cancelled). When that fails (a
    /// future or loop of the user's that raises), the future is settled with that failure
    /// instead, so its awaiter is not left waiting; the error is returned only when even that
    /// fails.
    fn settle(self, py: Python<'_>) -> PyResult<()> {
        let future = self.future.into_bound(py);
        let outcome = self.outcome;
        let settled = (|| {
            if future.call_method0("done")?.is_truthy()? {
                return Ok(());
            }
            match outcome(py) {
                Ok(value) => future.call_method1("set_result", (value,))?,
                Err(error) => future.call_method1("set_exception", (error.into_value(py),))?,
            };
            Ok(())
        })();
        settled.or_else(|error: PyErr| {
            match future.call_method1("set_exception", (error.clone_ref(py).into_value(py),)) {
                Ok(_) => Ok(()),
                Err(_) => Err(error),
            }
        })
    }
}

/// A descriptor an event loop watches with `add_reader`: set by runtime threads with a plain
/// write (no GIL), cleared by the loop's thread before it takes the completions.
#[cfg(target_os = "linux")]
mod signal {
    use std::io;
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

    /// An eventfd: one descriptor, one 8-byte counter.
    pub struct Signal(OwnedFd);

    impl Signal {
        pub fn new() -> io::Result<Self> {
            // SAFETY: plain eventfd creation; the result is checked.
            let raw = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
            if raw < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: a fresh descriptor we own.
            Ok(Signal(unsafe { OwnedFd::from_raw_fd(raw) }))
        }

        pub fn fd(&self) -> i32 {
            self.0.as_raw_fd()
        }

        pub fn set(&self) {
            let one: u64 = 1;
            // SAFETY: writing 8 bytes from a valid u64 to our eventfd.
            unsafe { libc::write(self.0.as_raw_fd(), (&one as *const u64).cast(), 8) };
        }

        pub fn clear(&self) {
            let mut counter: u64 = 0;
            // SAFETY: reading 8 bytes into a valid u64 from our non-blocking eventfd.
            unsafe { libc::read(self.0.as_raw_fd(), (&mut counter as *mut u64).cast(), 8) };
        }
    }
}

/// A descriptor an event loop watches with `add_reader` (see the Linux one): macOS and the
/// BSDs have no eventfd, so a non-blocking socket pair.
#[cfg(all(unix, not(target_os = "linux")))]
mod signal {
    use std::io::{self, Read, Write};
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    pub struct Signal {
        reader: UnixStream,
        writer: UnixStream,
    }

    impl Signal {
        pub fn new() -> io::Result<Self> {
            let (reader, writer) = UnixStream::pair()?;
            reader.set_nonblocking(true)?;
            writer.set_nonblocking(true)?;
            Ok(Signal { reader, writer })
        }

        pub fn fd(&self) -> i32 {
            self.reader.as_raw_fd()
        }

        pub fn set(&self) {
            // A full buffer (WouldBlock) means a wake-up is pending already.
            let _ = (&self.writer).write(&[1]);
        }

        pub fn clear(&self) {
            let mut bytes = [0u8; 64];
            while matches!((&self.reader).read(&mut bytes), Ok(n) if n == bytes.len()) {}
        }
    }
}

/// No descriptor a loop could watch (Windows): every loop gets a waker thread.
#[cfg(not(unix))]
mod signal {
    pub enum Signal {}

    impl Signal {
        pub fn new() -> std::io::Result<Self> {
            Err(std::io::ErrorKind::Unsupported.into())
        }

        pub fn fd(&self) -> i32 {
            match *self {}
        }

        pub fn set(&self) {
            match *self {}
        }

        pub fn clear(&self) {
            match *self {}
        }
    }
}

use signal::Signal;

/// What a waker guards: the completions to settle, and the waker thread's bookkeeping.
#[derive(Default)]
struct State {
    completions: Vec<Completion>,
    /// The loop is gone (collected or closed): completions are dropped, the thread ends.
    closed: bool,
}

/// The write end of the socket pair a waker thread reads (`socket.socketpair()`, made in
/// Python, so a connected TCP pair on Windows): non-blocking, owned here once detached from its
/// Python object.
#[cfg(unix)]
type WakeupSocket = std::os::unix::net::UnixStream;
#[cfg(windows)]
type WakeupSocket = std::net::TcpStream;

/// Takes ownership of the socket whose descriptor `socket.detach()` returned.
fn wakeup_socket(raw: i64) -> WakeupSocket {
    // SAFETY: `raw` is a connected socket Python gave up with `detach()`: nothing else owns it.
    #[cfg(unix)]
    unsafe {
        std::os::fd::FromRawFd::from_raw_fd(raw as std::os::fd::RawFd)
    }
    #[cfg(windows)]
    unsafe {
        std::os::windows::io::FromRawSocket::from_raw_socket(raw as std::os::windows::io::RawSocket)
    }
}

/// One per event loop: the completions to settle, and how the loop hears of them (`signal`
/// when it watches one, else a waker thread reading `wakeups`). Runtime threads push; the
/// loop's thread drains and settles. So no runtime thread ever takes the GIL, which could
/// otherwise kill it mid-call while the interpreter shuts down (CPython ends threads that ask
/// for the GIL during finalization).
struct LoopWaker {
    /// The process that made it: after a fork, the child leaves the parent's wakers alone.
    pid: u32,
    signal: Option<Signal>,
    /// For a loop without `add_reader`: a byte written here wakes its waker thread; shutting it
    /// down ends the thread.
    wakeups: Option<WakeupSocket>,
    /// Locked only for a push, a take or a flag (pure Rust, never with Python running).
    state: Mutex<State>,
}

impl LoopWaker {
    fn new(signal: Option<Signal>, wakeups: Option<WakeupSocket>) -> Self {
        LoopWaker { pid: std::process::id(), signal, wakeups, state: Mutex::default() }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Called by runtime threads: queues the completion and, when the queue was empty, wakes
    /// the loop (a queue already holding some has its wake-up pending).
    fn push(&self, completion: Completion) {
        let mut state = self.state();
        if state.closed {
            drop(state);
            return; // nobody will settle it; dropping a Py without the GIL only queues a decref
        }
        state.completions.push(completion);
        let first = state.completions.len() == 1;
        drop(state);
        if first {
            if let Some(signal) = &self.signal {
                signal.set();
            }
            if let Some(socket) = &self.wakeups {
                // Non-blocking: a full buffer (WouldBlock) means a wake-up is pending already.
                let _ = (&*socket).write(&[1]);
            }
        }
    }

    /// Settles every completion waiting, even when one of them fails: the first failure is
    /// returned (asyncio hands it to the loop's exception handler), any further one goes to
    /// `sys.unraisablehook`.
    fn drain(&self, py: Python<'_>) -> PyResult<()> {
        if self.pid != std::process::id() {
            // A loop inherited through fork: the signal and the queue are the parent's (a
            // runtime thread of the parent may even have held the queue's lock at the fork).
            return Ok(());
        }
        if let Some(signal) = &self.signal {
            signal.clear();
        }
        // The records of the work that finished go out before its results.
        crate::log::deliver(py);
        let completions = std::mem::take(&mut self.state().completions);
        let mut first_error = None;
        for completion in completions {
            if let Err(error) = completion.settle(py) {
                match first_error {
                    None => first_error = Some(error),
                    Some(_) => error.write_unraisable(py, None),
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// The loop is gone: ends the waker thread; returns the completions nobody will settle (to
    /// be dropped by the caller, outside the lock).
    fn close(&self) -> Vec<Completion> {
        let mut state = self.state();
        state.closed = true;
        let dropped = std::mem::take(&mut state.completions);
        drop(state);
        if let Some(socket) = &self.wakeups {
            let _ = socket.shutdown(Shutdown::Write); // the thread reads the end of the stream
        }
        dropped
    }
}

/// The wakers of this process's event loops, by loop address.
///
/// Its lock is held only for a lookup, an insert or a removal: pure Rust, never while Python
/// runs. Python code could otherwise re-enter it on the same thread (a garbage-collected loop's
/// finalizer), block it while holding the GIL (a thread switch in Python code), or be forked
/// with it held. Since every holder holds the GIL and never lets it go inside, a fork (which
/// needs the GIL) never happens with it held either. Entries are dropped after the lock is
/// released, as dropping a waker may drop Python objects and so run Python code.
static WAKERS: Mutex<Vec<(usize, u32, Arc<LoopWaker>)>> = Mutex::new(Vec::new());

fn wakers() -> MutexGuard<'static, Vec<(usize, u32, Arc<LoopWaker>)>> {
    WAKERS.lock().unwrap_or_else(|p| p.into_inner())
}

/// Takes the entries `stale` selects out of the registry (to be dropped by the caller, after
/// the lock is released).
fn take_stale(
    wakers: &mut Vec<(usize, u32, Arc<LoopWaker>)>,
    stale: impl Fn(usize, u32) -> bool,
) -> Vec<Arc<LoopWaker>> {
    let mut taken = Vec::new();
    let mut i = 0;
    while i < wakers.len() {
        if stale(wakers[i].0, wakers[i].1) {
            taken.push(wakers.swap_remove(i).2);
        } else {
            i += 1;
        }
    }
    taken
}

/// The waker of `event_loop`, registering it with the loop on first use.
fn waker_for(py: Python<'_>, event_loop: &Bound<'_, PyAny>) -> PyResult<Arc<LoopWaker>> {
    let key = event_loop.as_ptr() as usize;
    let pid = std::process::id();
    let found = wakers().iter().find(|(k, p, _)| *k == key && *p == pid).map(|(_, _, waker)| waker.clone());
    if let Some(waker) = found {
        return Ok(waker);
    }
    // Registration calls Python, so the lock is not held here.
    // Forget the waker when the loop is garbage-collected (its address may then be reused).
    let forget = PyCFunction::new_closure(py, None, None, move |_, _| -> PyResult<()> {
        let forgotten = take_stale(&mut wakers(), |k, p| k == key && p == pid);
        let dropped: Vec<_> = forgotten.iter().map(|waker| waker.close()).collect();
        drop((dropped, forgotten));
        Ok(())
    })?;
    py.import("weakref")?.call_method1("finalize", (event_loop, forget))?;
    let waker = register(py, event_loop)?;
    let stale = {
        let mut wakers = wakers();
        // The parent's wakers, after a fork, are of no use here.
        let stale = take_stale(&mut wakers, |_, p| p != pid);
        wakers.push((key, pid, waker.clone()));
        stale
    };
    drop(stale);
    Ok(waker)
}

/// A Python callable settling `waker`'s completions on the loop's thread.
fn drain_function<'py>(py: Python<'py>, waker: &Arc<LoopWaker>) -> PyResult<Bound<'py, PyCFunction>> {
    let waker = waker.clone();
    PyCFunction::new_closure(py, None, None, move |args, _| waker.drain(args.py()))
}

/// A new waker for `event_loop`: watched with `add_reader` when the loop has it, else served
/// by a waker thread.
fn register(py: Python<'_>, event_loop: &Bound<'_, PyAny>) -> PyResult<Arc<LoopWaker>> {
    if let Ok(signal) = Signal::new() {
        let fd = signal.fd();
        let waker = Arc::new(LoopWaker::new(Some(signal), None));
        match event_loop.call_method1("add_reader", (fd, drain_function(py, &waker)?)) {
            Ok(_) => return Ok(waker),
            // The proactor loop's add_reader raises NotImplementedError.
            Err(e) if e.is_instance_of::<PyNotImplementedError>(py) || e.is_instance_of::<PyAttributeError>(py) => {}
            Err(e) => return Err(e),
        }
    }
    let (reader, writer): (Bound<'_, PyAny>, Bound<'_, PyAny>) =
        py.import("socket")?.call_method0("socketpair")?.extract()?;
    writer.call_method1("setblocking", (false,))?;
    let raw: i64 = writer.call_method0("detach")?.extract()?;
    let waker = Arc::new(LoopWaker::new(None, Some(wakeup_socket(raw))));
    start_waker_thread(py, event_loop, &waker, reader)?;
    Ok(waker)
}

/// Starts the waker thread of a loop without `add_reader`: a Python thread running
/// `mixerlead._waker.serve`, which waits (in Python, without the GIL) on `reader` and asks the
/// loop to drain. It holds the loop only weakly, and ends when the loop is collected (`close`
/// from the finalizer shuts the socket down) or found closed.
fn start_waker_thread(
    py: Python<'_>,
    event_loop: &Bound<'_, PyAny>,
    waker: &Arc<LoopWaker>,
    reader: Bound<'_, PyAny>,
) -> PyResult<()> {
    let loop_ref = py.import("weakref")?.getattr("ref")?.call1((event_loop,))?;
    let drain = drain_function(py, waker)?;
    let closing = waker.clone();
    let close = PyCFunction::new_closure(py, None, None, move |_, _| -> PyResult<()> {
        drop(closing.close());
        Ok(())
    })?;
    let serve = py.import("mixerlead._waker")?.getattr("serve")?;
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("target", serve)?;
    kwargs.set_item("args", (loop_ref, reader, drain, close))?;
    kwargs.set_item("name", "mixerlead-waker")?;
    kwargs.set_item("daemon", true)?;
    py.import("threading")?.getattr("Thread")?.call((), Some(&kwargs))?.call_method0("start")?;
    Ok(())
}

/// An asyncio future of the running loop, settled with `future`'s outcome. Cancelling it (a
/// cancelled task) aborts the work on the runtime, and so the request.
pub fn into_asyncio<'py, F, T>(py: Python<'py>, future: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = mixerlead::Result<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    let event_loop = py.import("asyncio")?.call_method0("get_running_loop")?;
    let waker = waker_for(py, &event_loop)?;
    let py_future = event_loop.call_method0("create_future")?;
    let future_ref = py_future.clone().unbind();
    let future = guarded(future);
    let task = runtime::handle().spawn(async move {
        let outcome: Outcome = match future.await {
            Ok(value) => Box::new(move |py| {
                value.into_pyobject(py).map(|v| v.into_bound().into_any().unbind()).map_err(Into::into)
            }),
            Err(error) => Box::new(move |py| Err(to_py_err(py, error))),
        };
        waker.push(Completion { future: future_ref, outcome });
    });
    let abort = task.abort_handle();
    let on_done = PyCFunction::new_closure(py, None, None, move |args, _| -> PyResult<()> {
        if args.get_item(0)?.call_method0("cancelled")?.is_truthy()? {
            abort.abort();
        }
        Ok(())
    })?;
    py_future.call_method1("add_done_callback", (on_done,))?;
    Ok(py_future)
}
