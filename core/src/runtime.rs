//! The process's one tokio runtime: built on first use, threads named `mixerlead-rt`, and built
//! anew in a forked child (whose copy of the parent's runtime has no threads behind it).

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use tokio::runtime::Runtime;

/// Name of every thread of the runtime.
pub const THREAD_NAME: &str = "mixerlead-rt";

struct ProcessRuntime {
    pid: u32,
    runtime: Runtime,
}

/// The current process's runtime. Runtimes of earlier processes (before a fork) are leaked on
/// purpose: dropping one would join threads that do not exist in the child.
static CURRENT: AtomicPtr<ProcessRuntime> = AtomicPtr::new(std::ptr::null_mut());

/// The process's runtime, built on first use (and again in a forked child).
pub fn runtime() -> &'static Runtime {
    let pid = std::process::id();
    loop {
        let current = CURRENT.load(Ordering::Acquire);
        // SAFETY: every pointer stored in CURRENT comes from Box::into_raw and is never freed.
        if let Some(rt) = unsafe { current.as_ref() } {
            if rt.pid == pid {
                return &rt.runtime;
            }
        }
        let fresh = Box::into_raw(Box::new(ProcessRuntime { pid, runtime: build() }));
        match CURRENT.compare_exchange(current, fresh, Ordering::AcqRel, Ordering::Acquire) {
            // SAFETY: just stored; never freed.
            Ok(_) => return unsafe { &(*fresh).runtime },
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
pub fn handle() -> tokio::runtime::Handle {
    runtime().handle().clone()
}

fn build() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .thread_name(THREAD_NAME)
        .enable_all()
        .build()
        .expect("mixerlead: cannot start the tokio runtime (out of threads or file descriptors?)")
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
pub fn block_on<F: Future>(future: F) -> F::Output {
    match block_on_interruptible(future, Duration::from_secs(3600), || Ok::<(), ()>(())) {
        Ok(out) => out,
        Err(()) => unreachable!("the check never fails"),
    }
}

/// Like [`block_on`], but calls `check` at least every `every` while waiting; when `check` fails
/// the future is dropped (which aborts its request) and the check's error returned. Bindings
/// use it to notice Ctrl-C while a call blocks.
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
