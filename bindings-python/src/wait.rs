//! Blocking on the core runtime from Python: without the GIL, waking every 50 ms to let Ctrl-C
//! through; and handing a future to asyncio, settled on the loop's own thread.

use std::future::Future;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mixerlead::runtime;
use pyo3::prelude::*;
use pyo3::types::PyCFunction;
use pyo3::BoundObject;

use crate::errors::to_py_err;

/// How often a blocked call looks for a pending signal (KeyboardInterrupt).
const SIGNAL_CHECK: Duration = Duration::from_millis(50);

/// Runs `future` on the core runtime with the GIL released; a signal handler raising (Ctrl-C)
/// drops the future, which aborts its request, and the exception propagates.
pub fn wait<F, T>(py: Python<'_>, future: F) -> PyResult<T>
where
    F: Future<Output = mixerlead::Result<T>> + Send,
    T: Send,
{
    let outcome =
        py.detach(|| runtime::block_on_interruptible(future, SIGNAL_CHECK, || Python::attach(|py| py.check_signals())));
    match outcome {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(to_py_err(py, error)),
        Err(interrupted) => Err(interrupted),
    }
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

/// One per event loop: an eventfd the loop watches with `add_reader`, and the completions to
/// settle. Runtime threads push and write the eventfd; the loop's thread drains and settles.
/// So no runtime thread ever takes the GIL, which could otherwise kill it mid-call while the
/// interpreter shuts down (CPython ends threads that ask for the GIL during finalization).
struct LoopWaker {
    fd: OwnedFd,
    /// The process that made it: after a fork, the child leaves the parent's wakers alone.
    pid: u32,
    /// Locked only for a push or a take (pure Rust, never with Python running).
    queue: Mutex<Vec<Completion>>,
}

impl LoopWaker {
    fn new() -> std::io::Result<Self> {
        // SAFETY: plain eventfd creation; the result is checked.
        let raw = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if raw < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        Ok(LoopWaker { fd, pid: std::process::id(), queue: Mutex::new(Vec::new()) })
    }

    fn push(&self, completion: Completion) {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).push(completion);
        let one: u64 = 1;
        // SAFETY: writing 8 bytes from a valid u64 to our eventfd.
        unsafe { libc::write(self.fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }

    /// Settles every completion waiting, even when one of them fails: the first failure is
    /// returned (asyncio hands it to the loop's exception handler), any further one goes to
    /// `sys.unraisablehook`.
    fn drain(&self, py: Python<'_>) -> PyResult<()> {
        if self.pid != std::process::id() {
            // A loop inherited through fork: the eventfd and the queue are the parent's (a
            // runtime thread of the parent may even have held the queue's lock at the fork).
            return Ok(());
        }
        let mut counter: u64 = 0;
        // SAFETY: reading 8 bytes into a valid u64 from our non-blocking eventfd.
        unsafe { libc::read(self.fd.as_raw_fd(), (&mut counter as *mut u64).cast(), 8) };
        let completions = std::mem::take(&mut *self.queue.lock().unwrap_or_else(|p| p.into_inner()));
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

fn wakers() -> std::sync::MutexGuard<'static, Vec<(usize, u32, Arc<LoopWaker>)>> {
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
    let waker = Arc::new(LoopWaker::new()?);
    // Forget the waker when the loop is garbage-collected (its address may then be reused).
    let forget = PyCFunction::new_closure(py, None, None, move |_, _| -> PyResult<()> {
        let forgotten = take_stale(&mut wakers(), |k, p| k == key && p == pid);
        drop(forgotten);
        Ok(())
    })?;
    py.import("weakref")?.call_method1("finalize", (event_loop, forget))?;
    let drainer = waker.clone();
    let drain = PyCFunction::new_closure(py, None, None, move |args, _| drainer.drain(args.py()))?;
    event_loop.call_method1("add_reader", (waker.fd.as_raw_fd(), drain))?;
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
