//! `mixerlead.node`: the Rust core for Node.js. Type conversion and error mapping only. Every
//! promise is settled from a task on the core's runtime (no second runtime: napi's own tokio
//! runtime is not enabled). Errors reject with a JSON description that `errors.js` turns into
//! the typed classes.
//!
//! No panic unwinds into Node: every export is `#[napi(catch_unwind)]` (what napi's own argument
//! and return-value conversions might raise becomes a plain `Error`), its body runs in [`guard`]
//! and its async work in [`promise`] under `catch_unwind` (a panic there becomes an `internal`
//! error, a `MixerLeadError` in JS).

mod batch_text;

use std::any::Any;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};

use futures_util::FutureExt;
use mixerlead::bridge::{Cancellation, SharedStream};
use mixerlead::{Batch, ChatRequest, Client, ClientOptions, Error, ErrorBody, ErrorKind};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::batch_text::BatchText;

/// The prefix of a rejection reason that describes a core error as JSON.
const ERROR_MARK: &str = "mixerlead-error:";

/// What an invalid argument becomes in JS: `TypeError` for strings, `RangeError` for numbers.
#[derive(Clone, Copy)]
enum InvalidAs {
    Type,
    Range,
}

fn kind_name(kind: ErrorKind, invalid_as: InvalidAs) -> &'static str {
    match (kind, invalid_as) {
        (ErrorKind::InvalidArgument, InvalidAs::Type) => "type",
        (ErrorKind::InvalidArgument, InvalidAs::Range) => "range",
        (kind, _) => kind.name(),
    }
}

/// The napi error for a core error: its fields as JSON behind [`ERROR_MARK`].
fn to_napi(error: Error, invalid_as: InvalidAs) -> napi::Error {
    let body = match error.body() {
        Some(ErrorBody::Json(json)) => json.clone(),
        Some(ErrorBody::Text(text)) => serde_json::Value::String(text.clone()),
        None => serde_json::Value::Null,
    };
    let described = serde_json::json!({
        "kind": kind_name(error.kind(), invalid_as),
        "message": error.message(),
        "status": error.status_code(),
        "body": body,
        "requestId": error.request_id(),
        "retryAfter": error.retry_after(),
        "partialText": error.partial_text(),
    });
    napi::Error::new(Status::GenericFailure, format!("{ERROR_MARK}{described}"))
}

/// The error a caught panic becomes: `internal`, with the panic's message.
fn internal(payload: Box<dyn Any + Send>) -> napi::Error {
    let what = match (payload.downcast_ref::<&str>(), payload.downcast_ref::<String>()) {
        (Some(text), _) => text,
        (None, Some(text)) => text.as_str(),
        (None, None) => "a panic",
    };
    let message = format!("internal error in mixerlead (a bug, please report it): {what}");
    to_napi(Error::new(ErrorKind::Internal, message), InvalidAs::Type)
}

/// Runs the body of an export: a panic becomes an `internal` error instead of unwinding.
fn guard<T>(body: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| Err(internal(payload)))
}

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
fn promise<'env, T, F>(env: &'env Env, invalid_as: InvalidAs, future: F) -> Result<Object<'env>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = mixerlead::Result<T>> + Send + 'static,
{
    let (deferred, promise) = env.create_deferred()?;
    mixerlead::runtime::handle().spawn(async move {
        match AssertUnwindSafe(future).catch_unwind().await {
            Ok(Ok(value)) => deferred.resolve(move |_| Ok(Guarded(value))),
            Ok(Err(error)) => deferred.reject(to_napi(error, invalid_as)),
            Err(payload) => deferred.reject(internal(payload)),
        }
    });
    Ok(promise)
}

/// Client options as the JS layer passes them (seconds for times).
#[napi(object)]
pub struct NativeOptions {
    pub api_key: Option<String>,
    pub base_url: Option<String>,
    pub project_id: Option<String>,
    pub timeout: Option<f64>,
    pub connect_timeout: Option<f64>,
    pub read_timeout: Option<f64>,
    pub max_retries: Option<i64>,
    pub max_retry_wait: Option<f64>,
    pub allow_insecure_http: Option<bool>,
}

/// One model.
#[napi(object)]
pub struct NativeModel {
    pub id: String,
    pub name: String,
    pub task: String,
    pub requires_paid: bool,
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

/// The core client. The API key lives only here, in native memory.
#[napi]
pub struct NativeClient {
    inner: Client,
}

/// Runs `work` until done or cancelled (then a `Cancelled` error).
async fn cancellable<T>(
    cancel: Option<Cancellation>,
    work: impl Future<Output = mixerlead::Result<T>>,
) -> mixerlead::Result<T> {
    match cancel {
        None => work.await,
        Some(cancel) => match cancel.run(work).await {
            Some(result) => result,
            None => Err(Error::new(ErrorKind::Cancelled, "the request was aborted")),
        },
    }
}

#[napi]
impl NativeClient {
    #[napi(constructor, catch_unwind)]
    pub fn new(options: NativeOptions) -> Result<Self> {
        guard(|| Self::build(options))
    }

    fn build(options: NativeOptions) -> Result<Self> {
        let o = options;
        let options = ClientOptions {
            api_key: o.api_key,
            base_url: o.base_url,
            project_id: o.project_id,
            timeout: o.timeout,
            connect_timeout: o.connect_timeout,
            read_timeout: o.read_timeout,
            max_retries: o.max_retries,
            max_retry_wait: o.max_retry_wait,
            allow_insecure_http: o.allow_insecure_http,
        };
        let b = Client::builder().surface("node").options(options);
        b.build().map(|inner| NativeClient { inner }).map_err(|e| to_napi(e, InvalidAs::Range))
    }

    /// The client without its key (at most the key's last 4 characters).
    #[napi(catch_unwind)]
    pub fn describe(&self) -> Result<String> {
        guard(|| Ok(format!("{:?}", self.inner)))
    }

    #[napi(catch_unwind)]
    pub fn list_models<'env>(&self, env: &'env Env, cancel: Option<&NativeCancel>) -> Result<Object<'env>> {
        guard(|| {
            let client = self.inner.clone();
            let cancel = cancel.map(|c| c.inner.clone());
            promise(env, InvalidAs::Type, async move {
                let models = cancellable(cancel, client.list_models()).await?;
                Ok(models
                    .into_iter()
                    .map(|m| NativeModel { id: m.id, name: m.name, task: m.task, requires_paid: m.requires_paid })
                    .collect::<Vec<_>>())
            })
        })
    }

    #[napi(catch_unwind)]
    pub fn chat<'env>(
        &self,
        env: &'env Env,
        message: String,
        model: Option<String>,
        conversation_id: Option<String>,
        cancel: Option<&NativeCancel>,
    ) -> Result<Object<'env>> {
        guard(|| {
            let client = self.inner.clone();
            let request = ChatRequest::from_parts(message, model, conversation_id);
            let cancel = cancel.map(|c| c.inner.clone());
            promise(env, InvalidAs::Type, async move {
                let stream = cancellable(cancel, client.chat(request)).await?;
                Ok(NativeStream { shared: SharedStream::new(stream) })
            })
        })
    }
}

/// A batch of pieces as one string and the UTF-16 length of each piece: two values cross into
/// JS per batch instead of one string per piece. The lengths take one byte each when every
/// piece is shorter than 256 units (nearly always: pieces are tokens).
#[napi(object, object_from_js = false)]
pub struct NativeBatch {
    pub text: BatchText,
    pub lengths: Either<Uint8Array, Uint32Array>,
}

impl NativeBatch {
    fn from_batch(batch: Batch) -> NativeBatch {
        let lengths: Vec<u32> = batch.iter().map(utf16_len).collect();
        let lengths = match lengths.iter().map(|&l| u8::try_from(l)).collect::<std::result::Result<Vec<u8>, _>>() {
            Ok(short) => Either::A(Uint8Array::new(short)),
            Err(_) => Either::B(Uint32Array::new(lengths)),
        };
        NativeBatch { text: BatchText(batch.into_text()), lengths }
    }
}

/// The length of `text` in UTF-16 code units (a JS string's length), without encoding it.
fn utf16_len(text: &str) -> u32 {
    if text.is_ascii() {
        return text.len() as u32;
    }
    text.chars().map(char::len_utf16).sum::<usize>() as u32
}

/// A streamed reply: the JS layer pulls batches and serves pieces from them.
#[napi]
pub struct NativeStream {
    shared: SharedStream,
}

#[napi]
impl NativeStream {
    /// A promise of the next batch, `null` at the end (or once cancelled).
    #[napi(catch_unwind)]
    pub fn next_batch<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        guard(|| {
            let shared = self.shared.clone();
            promise(env, InvalidAs::Type, async move { Ok(shared.next_batch().await?.map(NativeBatch::from_batch)) })
        })
    }

    /// The next batch if it is already decoded, without a trip through the runtime: `null` when
    /// it is not (ask `nextBatch`), a batch of no pieces at the end.
    #[napi(catch_unwind)]
    pub fn try_next_batch(&self) -> Result<Option<NativeBatch>> {
        guard(|| match self.shared.try_next_batch() {
            None => Ok(None),
            Some(Ok(batch)) => Ok(Some(NativeBatch::from_batch(batch.unwrap_or_default()))),
            Some(Err(error)) => Err(to_napi(error, InvalidAs::Type)),
        })
    }

    /// Aborts the request; a pending `nextBatch` resolves with `null`.
    #[napi(catch_unwind)]
    pub fn cancel(&self) -> Result<()> {
        guard(|| {
            self.shared.cancel();
            Ok(())
        })
    }

    #[napi(getter, catch_unwind)]
    pub fn conversation_id(&self) -> Result<Option<String>> {
        guard(|| Ok(self.shared.info().conversation_id()))
    }

    /// The text of every batch handed to JS so far.
    #[napi(getter, catch_unwind)]
    pub fn text(&self) -> Result<String> {
        guard(|| Ok(self.shared.info().text()))
    }
}

/// Test-only: panics on purpose so the Node suite can prove that a panic becomes an exception
/// and the process lives on. `place` says where: `"sync"` in the export's body, `"async"` in its
/// work on the runtime, `"settle"` while a promise's value becomes a JS value, `"return"` while
/// the export's own return value does (napi's conversion, under its `catch_unwind`). Inert — it
/// throws a plain `Error` — unless `MIXERLEAD_NODE_TEST_PANICS=1` when it is called. Not part of
/// the JS API: `index.js` does not hand it out.
#[napi(js_name = "__testPanic", catch_unwind)]
pub fn test_panic<'env>(env: &'env Env, place: String) -> Result<Either<Object<'env>, PanicsWhenConverted>> {
    if std::env::var_os("MIXERLEAD_NODE_TEST_PANICS").is_none_or(|v| v != "1") {
        return Err(napi::Error::from_reason("__testPanic needs MIXERLEAD_NODE_TEST_PANICS=1"));
    }
    guard(|| match place.as_str() {
        "sync" => panic!("test panic in the export's body"),
        "async" => {
            promise(env, InvalidAs::Type, async { panic!("test panic on the runtime") as mixerlead::Result<()> })
                .map(Either::A)
        }
        "settle" => promise(env, InvalidAs::Type, async { Ok(PanicsWhenConverted) }).map(Either::A),
        "return" => Ok(Either::B(PanicsWhenConverted)),
        other => Err(napi::Error::from_reason(format!("unknown place {other:?}"))),
    })
}

/// Test-only (see [`test_panic`]): a value whose conversion to JS panics.
#[doc(hidden)]
pub struct PanicsWhenConverted;

impl ToNapiValue for PanicsWhenConverted {
    unsafe fn to_napi_value(_env: sys::napi_env, _val: Self) -> Result<sys::napi_value> {
        panic!("test panic while converting a value to JS")
    }
}
