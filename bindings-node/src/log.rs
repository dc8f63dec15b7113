//! The core's log records, delivered to the `logger` client option.
//!
//! The core calls a client's sink on whatever thread logs (often a runtime thread), which must
//! not block. So the sink only queues the record on a threadsafe function; Node calls the JS
//! side (`index.js`, which picks the logger's method for the level) on the thread that made the
//! client. The function is weak: a client with a logger never keeps the event loop alive.

use mixerlead::binding::{Level, LogSink};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use std::sync::Arc;

/// Records waiting for the JS thread; past it new ones are dropped rather than queued without
/// bound (a JS thread that is busy for long must not make a chatty client grow memory).
const QUEUE: usize = 4096;

/// What JS receives: the level's name (`debug`, `info`, `warn`, `error`) and the record.
pub(crate) type Deliver<'scope> = Function<'scope, FnArgs<(&'static str, String)>, Unknown<'static>>;

type Records =
    ThreadsafeFunction<(Level, String), Unknown<'static>, FnArgs<(&'static str, String)>, Status, false, true, QUEUE>;

/// The sink of a client whose records go to `deliver(level, text)` on the JS thread.
pub(crate) fn sink(deliver: &Deliver<'_>) -> Result<LogSink> {
    let records: Records = deliver
        .build_threadsafe_function::<(Level, String)>()
        .callee_handled::<false>()
        .weak::<true>()
        .max_queue_size::<QUEUE>()
        .build_callback(|ctx| {
            let (level, text) = ctx.value;
            Ok(FnArgs::from((level.name(), text)))
        })?;
    Ok(Arc::new(move |level, text: &str| {
        // A full queue or an environment shutting down drops the record: logging never blocks.
        let _ = records.call((level, text.to_string()), ThreadsafeFunctionCallMode::NonBlocking);
    }))
}
