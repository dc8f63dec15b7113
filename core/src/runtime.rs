//! The process's one tokio runtime: built on first use, threads named `mixerlead-rt`, and built
//! anew in a forked child (whose copy of the parent's runtime has no threads behind it).

use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicPtr, AtomicU32, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

/// The runtime's type (tokio's), re-exported for bindings that name it.
#[doc(no_inline)]
pub use tokio::runtime::Runtime;

use crate::error::{Error, ErrorKind};

/// Name of every thread of the runtime.
pub const THREAD_NAME: &str = "mixerlead-rt";

struct ProcessRuntime {
    pid: u32,
    runtime: Runtime,
    /// The runtime of the process this one was forked from (or null): leaked, but kept
    /// reachable so that leak checkers in a forked child do not report it.
    _parent: *mut ProcessRuntime,
}

/// The current process's runtime. Runtimes of earlier processes (before a fork) are leaked on
/// purpose: dropping one would join threads that do not exist in the child.
static CURRENT: AtomicPtr<ProcessRuntime> = AtomicPtr::new(std::ptr::null_mut());

thread_local! {
    /// On a runtime's thread: the pid of the process whose runtime it is (0 elsewhere). A pid,
    /// not a flag, so that a child forked from inside a callback is not taken for a runtime
    /// thread.
    static RUNTIME_OF_THREAD: Cell<u32> = const { Cell::new(0) };
}

/// The process's runtime, built on first use (and again in a forked child).
///
/// # Panics
/// When the runtime cannot be started (the OS refuses threads or file descriptors). Callers
/// that can report an error use [`try_runtime`].
pub fn runtime() -> &'static Runtime {
    match try_runtime() {
        Ok(runtime) => runtime,
        Err(error) => panic!("mixerlead: {error}"),
    }
}

/// The process's runtime, built on first use (and again in a forked child); an error of kind
/// [`ErrorKind::Internal`] when it cannot be started (out of threads or file descriptors).
/// Once this returned `Ok`, [`runtime`] and [`handle`] do not fail in this process.
pub fn try_runtime() -> Result<&'static Runtime, Error> {
    let pid = process_id();
    loop {
        let current = CURRENT.load(Ordering::Acquire);
        // SAFETY: every pointer stored in CURRENT comes from Box::into_raw and is never freed.
        if let Some(rt) = unsafe { current.as_ref() } {
            if rt.pid == pid {
                return Ok(&rt.runtime);
            }
        }
        let runtime = build(pid)?;
        let fresh = Box::into_raw(Box::new(ProcessRuntime { pid, runtime, _parent: current }));
        match CURRENT.compare_exchange(current, fresh, Ordering::AcqRel, Ordering::Acquire) {
            // SAFETY: just stored; never freed.
            Ok(_) => return Ok(unsafe { &(*fresh).runtime }),
            Err(_) => {
                // Another thread built one first: use theirs, stop ours (its threads are ours).
                // SAFETY: `fresh` was never published.
                let unused = unsafe { Box::from_raw(fresh) };
                unused.runtime.shutdown_background();
            }
        }
    }
}

/// The handle of [`runtime`], for bindings that spawn onto it.
///
/// # Panics
/// As [`runtime`].
pub fn handle() -> tokio::runtime::Handle {
    runtime().handle().clone()
}

/// Whether the calling thread is one of this process's runtime threads (a worker, where
/// bindings run their callbacks, or its blocking pool). Blocking there on the runtime can wait
/// on a task parked behind the blocked thread itself: bindings refuse blocking calls there.
/// A thread-local read, cheap enough for every call.
pub fn on_runtime_thread() -> bool {
    let owner = RUNTIME_OF_THREAD.try_with(Cell::get).unwrap_or(0);
    owner != 0 && owner == process_id()
}

fn build(pid: u32) -> Result<Runtime, Error> {
    let built = std::panic::catch_unwind(|| {
        tokio::runtime::Builder::new_multi_thread()
            .thread_name(THREAD_NAME)
            .on_thread_start(move || RUNTIME_OF_THREAD.with(|owner| owner.set(pid)))
            .enable_all()
            .build()
    });
    let why = match built {
        Ok(Ok(runtime)) => return Ok(runtime),
        Ok(Err(e)) => e.to_string(),
        // tokio panics when the OS refuses a worker thread.
        Err(panic) => panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic".to_string()),
    };
    Err(Error::new(
        ErrorKind::Internal,
        format!("cannot start the mixerlead runtime (out of threads or file descriptors?): {why}"),
    ))
}

/// The id of the calling process, like [`std::process::id`] but cached (a forked child sees its
/// own): cheap enough to check on every call whether an object was made in another process.
pub fn process_id() -> u32 {
    let cached = PROCESS_ID.load(Ordering::Relaxed);
    if cached != 0 {
        return cached;
    }
    // Cache only once the fork handler that clears the cache is in place.
    let cacheable = fork_handler_installed();
    let pid = std::process::id();
    if cacheable {
        PROCESS_ID.store(pid, Ordering::Relaxed);
    }
    pid
}

/// The cached pid; 0 until known, and again in a freshly forked child.
static PROCESS_ID: AtomicU32 = AtomicU32::new(0);

/// 0: not installed, 1: being installed, 2: installed (3: cannot be installed).
#[cfg(unix)]
static FORK_HANDLER: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

#[cfg(unix)]
fn fork_handler_installed() -> bool {
    extern "C" {
        fn pthread_atfork(
            prepare: Option<unsafe extern "C" fn()>,
            parent: Option<unsafe extern "C" fn()>,
            child: Option<unsafe extern "C" fn()>,
        ) -> std::ffi::c_int;
    }
    /// Runs in the child right after fork(): async-signal-safe (one atomic store).
    unsafe extern "C" fn forget_pid() {
        PROCESS_ID.store(0, Ordering::Relaxed);
    }
    match FORK_HANDLER.compare_exchange(0, 1, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => {
            // SAFETY: registers a handler that only stores to an atomic.
            let installed = unsafe { pthread_atfork(None, None, Some(forget_pid)) } == 0;
            FORK_HANDLER.store(if installed { 2 } else { 3 }, Ordering::Release);
            installed
        }
        // No lock is taken while another thread installs it (a fork meanwhile must not leave
        // a child waiting on it): this call just does not cache.
        Err(state) => state == 2,
    }
}

#[cfg(not(unix))]
fn fork_handler_installed() -> bool {
    true // no fork()
}

struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` to completion on the calling thread, inside the runtime's context (its timers
/// and sockets are driven by the runtime's threads). Unlike `Runtime::block_on` it may be called
/// from inside another runtime, at the cost of blocking that thread.
#[doc(hidden)]
pub fn block_on<F: Future>(future: F) -> F::Output {
    match block_on_interruptible(future, Duration::from_secs(3600), || Ok::<(), ()>(())) {
        Ok(out) => out,
        Err(()) => unreachable!("the check never fails"),
    }
}

/// Like [`block_on`], but calls `check` at least every `every` while waiting; when `check` fails
/// the future is dropped (which aborts its request) and the check's error returned. Bindings
/// use it to notice Ctrl-C while a call blocks.
#[doc(hidden)]
pub fn block_on_interruptible<F: Future, E>(
    future: F,
    every: Duration,
    mut check: impl FnMut() -> Result<(), E>,
) -> Result<F::Output, E> {
    let _context = runtime().enter();
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    let mut last_check = std::time::Instant::now();
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return Ok(out);
        }
        std::thread::park_timeout(every.saturating_sub(last_check.elapsed()));
        if last_check.elapsed() >= every {
            check()?;
            last_check = std::time::Instant::now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_runtime_with_named_threads() {
        let a = runtime() as *const Runtime;
        let b = runtime() as *const Runtime;
        assert_eq!(a, b);
        let name =
            block_on(async { runtime().spawn(async { std::thread::current().name().map(str::to_string) }).await });
        assert_eq!(name.unwrap().as_deref(), Some(THREAD_NAME));
    }

    #[test]
    fn runtime_threads_know_they_are() {
        assert!(!on_runtime_thread());
        let inside = block_on(async { runtime().spawn(async { on_runtime_thread() }).await });
        assert_eq!(inside.ok(), Some(true));
        assert!(try_runtime().is_ok());
        assert_eq!(process_id(), std::process::id());
        assert_eq!(process_id(), std::process::id());
    }

    #[test]
    fn block_on_drives_timers() {
        let out = block_on(async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            7
        });
        assert_eq!(out, 7);
    }

    #[test]
    fn interruptible_wait_stops_on_check() {
        let mut checks = 0;
        let started = std::time::Instant::now();
        let out = block_on_interruptible(std::future::pending::<()>(), Duration::from_millis(20), || {
            checks += 1;
            if checks == 3 {
                Err("interrupted")
            } else {
                Ok(())
            }
        });
        assert_eq!(out, Err("interrupted"));
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
