//! Blocking on the core runtime from Python: without the GIL, waking every 50 ms to let Ctrl-C
//! through; and handing a future to asyncio, resolved from the runtime.

use std::future::Future;
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

/// An asyncio future of the running loop, resolved with `future`'s outcome. Cancelling it (a
/// cancelled task) aborts the work on the runtime, and so the request.
pub fn into_asyncio<'py, F, T>(py: Python<'py>, future: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = mixerlead::Result<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    let event_loop = py.import("asyncio")?.call_method0("get_running_loop")?;
    let py_future = event_loop.call_method0("create_future")?;
    let (loop_ref, future_ref) = (event_loop.unbind(), py_future.clone().unbind());
    let task = runtime::handle().spawn(async move {
        let result = future.await;
        Python::attach(|py| {
            let (ok, value) = match result {
                Ok(value) => match value.into_pyobject(py) {
                    Ok(object) => (true, object.into_bound().into_any().unbind()),
                    Err(e) => (false, Into::<PyErr>::into(e).into_value(py).into_any()),
                },
                Err(error) => (false, to_py_err(py, error).into_value(py).into_any()),
            };
            let resolve = PyCFunction::new_closure(py, None, None, move |args, _| -> PyResult<()> {
                let fut = args.get_item(0)?;
                if fut.call_method0("done")?.is_truthy()? {
                    return Ok(());
                }
                let value = args.get_item(1)?;
                if ok {
                    fut.call_method1("set_result", (value,))?;
                } else {
                    fut.call_method1("set_exception", (value,))?;
                }
                Ok(())
            });
            // The loop may be closed already: then nobody waits for the result.
            if let Ok(resolve) = resolve {
                let _ = loop_ref.call_method1(py, "call_soon_threadsafe", (resolve, future_ref, value));
            }
        });
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
