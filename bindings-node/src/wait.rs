//! Waiting on the core runtime from Node: a promise settled from a task on that runtime, and
//! the cancellation an AbortSignal triggers.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};

use futures_util::FutureExt;
use mixerlead::binding::{handle, Cancellation};
use mixerlead::Error;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::{guard, internal, to_napi, InvalidAs};

/// A value handed to JS whose conversion is guarded too: it runs in the promise's settle
/// callback on the JS thread, outside any generated `catch_unwind`.
struct Guarded<T>(T);

impl<T: ToNapiValue> ToNapiValue for Guarded<T> {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        // SAFETY: `env` is valid (the caller's contract).
        catch_unwind(AssertUnwindSafe(|| unsafe { T::to_napi_value(env, val.0) })).unwrap_or_else(|p| Err(internal(p)))
    }
}

/// A promise settled with `future`'s outcome, computed on the core runtime. A panic while
/// computing or converting it rejects the promise with an `internal` error (never a promise
/// left pending, never an abort).
pub(crate) fn promise<'env, T, F>(env: &'env Env, invalid_as: InvalidAs, future: F) -> Result<Object<'env>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = mixerlead::Result<T>> + Send + 'static,
{
    let (deferred, promise) = env.create_deferred()?;
    handle().spawn(async move {
        match AssertUnwindSafe(future).catch_unwind().await {
            Ok(Ok(value)) => deferred.resolve(move |_| Ok(Guarded(value))),
            Ok(Err(error)) => deferred.reject(to_napi(error, invalid_as)),
            Err(payload) => deferred.reject(internal(payload)),
        }
    });
    Ok(promise)
}

/// A cancellation the JS layer wires to an AbortSignal.
#[napi]
pub struct NativeCancel {
    inner: Cancellation,
}

#[napi]
impl NativeCancel {
    #[napi(constructor, catch_unwind)]
    pub fn new() -> Result<Self> {
        guard(|| Ok(NativeCancel { inner: Cancellation::new() }))
    }

    #[napi(catch_unwind)]
    pub fn cancel(&self) -> Result<()> {
        guard(|| {
            self.inner.cancel();
            Ok(())
        })
    }
}

impl NativeCancel {
    /// The core cancellation this one triggers, for work that outlives the JS call.
    pub(crate) fn cancellation(&self) -> Cancellation {
        self.inner.clone()
    }
}

/// Runs `work` until done or cancelled (then a `Cancelled` error).
pub(crate) async fn cancellable<T>(
    cancel: Option<Cancellation>,
    work: impl Future<Output = mixerlead::Result<T>>,
) -> mixerlead::Result<T> {
    match cancel {
        None => work.await,
        Some(cancel) => match cancel.run(work).await {
            Some(result) => result,
            None => Err(Error::cancelled()),
        },
    }
}
