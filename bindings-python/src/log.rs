//! The core's log records, delivered to `logging.getLogger("mixerlead")`.
//!
//! The core calls a client's sink on whatever thread logs, often a runtime thread, which must
//! never take the GIL (nor block). So the sink only queues the record, and records are handed
//! to the Python logger on a Python thread that holds the GIL anyway: whenever a call into the
//! binding returns or yields (a blocking call before it returns, an asyncio loop when it takes
//! its completions, a stream between two batches). The logger's effective level filters them
//! then, so level changes made at any time count.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, OnceLock};

use mixerlead::binding::{Level, LogSink};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

/// Records waiting for a Python thread; past it, the oldest new ones are dropped (and counted).
const CAPACITY: usize = 4096;

struct Queue {
    sender: SyncSender<(Level, String)>,
    /// Taken only by Python threads, with `try_lock`: a delivery already under way (on another
    /// thread, or re-entered from a logging handler) takes this one's records too.
    receiver: Mutex<Receiver<(Level, String)>>,
}

static QUEUE: OnceLock<Queue> = OnceLock::new();
/// Set after a record is queued, cleared before the queue is drained: lets a delivery with
/// nothing to deliver cost one atomic load.
static PENDING: AtomicBool = AtomicBool::new(false);
/// Records dropped because the queue was full.
static DROPPED: AtomicUsize = AtomicUsize::new(0);

fn queue() -> &'static Queue {
    QUEUE.get_or_init(|| {
        let (sender, receiver) = sync_channel(CAPACITY);
        Queue { sender, receiver: Mutex::new(receiver) }
    })
}

/// The sink every client of this module gets: queues the record, never blocks, never takes
/// the GIL.
pub fn sink() -> LogSink {
    Arc::new(|level, text| match queue().sender.try_send((level, text.to_string())) {
        Ok(()) => PENDING.store(true, Ordering::Release),
        Err(TrySendError::Full(_)) => {
            DROPPED.fetch_add(1, Ordering::Relaxed);
            PENDING.store(true, Ordering::Release);
        }
        Err(TrySendError::Disconnected(_)) => {}
    })
}

/// `logging` level numbers.
fn level_number(level: Level) -> i32 {
    match level {
        Level::Debug => 10,
        Level::Info => 20,
        Level::Warn => 30,
        Level::Error => 40,
    }
}

/// The `mixerlead` logger; on first use it gets a `NullHandler`, as a library's logger should,
/// so that records are never printed by `logging`'s last-resort handler when the application
/// configured no logging (`MIXERLEAD_LOG` is the way to print them without configuring it).
fn logger(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    static LOGGER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    LOGGER
        .get_or_try_init(py, || {
            let logging = py.import("logging")?;
            let logger = logging.call_method1("getLogger", ("mixerlead",))?;
            logger.call_method1("addHandler", (logging.call_method0("NullHandler")?,))?;
            Ok::<_, PyErr>(logger.unbind())
        })
        .map(|logger| logger.bind(py))
}

/// Hands the queued records to the `mixerlead` logger (which filters them by its level now).
/// Errors are not raised into the call that happens to deliver: `logging` reports a failing
/// handler itself, and anything else goes to `sys.unraisablehook`.
pub fn deliver(py: Python<'_>) {
    crate::report::deliver(py);
    if !PENDING.load(Ordering::Acquire) {
        return;
    }
    let records: Vec<(Level, String)> = {
        let Ok(receiver) = queue().receiver.try_lock() else { return };
        PENDING.store(false, Ordering::Release);
        receiver.try_iter().collect()
    };
    let dropped = DROPPED.swap(0, Ordering::Relaxed);
    if let Err(error) = log_records(py, records, dropped) {
        error.write_unraisable(py, None);
    }
}

fn log_records(py: Python<'_>, records: Vec<(Level, String)>, dropped: usize) -> PyResult<()> {
    let logger = logger(py)?;
    if dropped > 0 {
        let text = format!("{dropped} log records were dropped: more were logged than a Python thread took");
        logger.call_method1("log", (level_number(Level::Warn), text))?;
    }
    let mut enabled: [Option<bool>; 4] = [None; 4];
    for (level, text) in records {
        let slot = &mut enabled[level as usize];
        let on = match *slot {
            Some(on) => on,
            None => *slot.insert(logger.call_method1("isEnabledFor", (level_number(level),))?.is_truthy()?),
        };
        if on {
            // No arguments: the text is not %-formatted, so a `%` in it stays as it is.
            logger.call_method1("log", (level_number(level), text))?;
        }
    }
    Ok(())
}

/// `_native._deliver_logs()`: delivers what is queued now (for tests, and for code that wants
/// the records of work still running).
#[pyfunction]
pub fn _deliver_logs(py: Python<'_>) {
    deliver(py)
}
