//! `mixerlead.node`: the Rust core for Node.js. Type conversion and error mapping only. Every
//! promise is settled from a task on the core's runtime (no second runtime: napi's own tokio
//! runtime is not enabled). Errors reject with a JSON description that `errors.js` turns into
//! the typed classes.

mod batch_text;

use std::future::Future;

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

/// A promise settled with `future`'s outcome, computed on the core runtime.
fn promise<'env, T, F>(env: &'env Env, invalid_as: InvalidAs, future: F) -> Result<Object<'env>>
where
    T: ToNapiValue + Send + 'static,
    F: Future<Output = mixerlead::Result<T>> + Send + 'static,
{
    let (deferred, promise) = env.create_deferred()?;
    mixerlead::runtime::handle().spawn(async move {
        match future.await {
            Ok(value) => deferred.resolve(move |_| Ok(value)),
            Err(error) => deferred.reject(to_napi(error, invalid_as)),
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
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        NativeCancel { inner: Cancellation::new() }
    }

    #[napi]
    pub fn cancel(&self) {
        self.inner.cancel();
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
    #[napi(constructor)]
    pub fn new(options: NativeOptions) -> Result<Self> {
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
    #[napi]
    pub fn describe(&self) -> String {
        format!("{:?}", self.inner)
    }

    #[napi]
    pub fn list_models<'env>(&self, env: &'env Env, cancel: Option<&NativeCancel>) -> Result<Object<'env>> {
        let client = self.inner.clone();
        let cancel = cancel.map(|c| c.inner.clone());
        promise(env, InvalidAs::Type, async move {
            let models = cancellable(cancel, client.list_models()).await?;
            Ok(models
                .into_iter()
                .map(|m| NativeModel { id: m.id, name: m.name, task: m.task, requires_paid: m.requires_paid })
                .collect::<Vec<_>>())
        })
    }

    #[napi]
    pub fn chat<'env>(
        &self,
        env: &'env Env,
        message: String,
        model: Option<String>,
        conversation_id: Option<String>,
        cancel: Option<&NativeCancel>,
    ) -> Result<Object<'env>> {
        let client = self.inner.clone();
        let request = ChatRequest::from_parts(message, model, conversation_id);
        let cancel = cancel.map(|c| c.inner.clone());
        promise(env, InvalidAs::Type, async move {
            let stream = cancellable(cancel, client.chat(request)).await?;
            Ok(NativeStream { shared: SharedStream::new(stream) })
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
    #[napi]
    pub fn next_batch<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        let shared = self.shared.clone();
        promise(env, InvalidAs::Type, async move { Ok(shared.next_batch().await?.map(NativeBatch::from_batch)) })
    }

    /// The next batch if it is already decoded, without a trip through the runtime: `null` when
    /// it is not (ask `nextBatch`), a batch of no pieces at the end.
    #[napi]
    pub fn try_next_batch(&self) -> Result<Option<NativeBatch>> {
        match self.shared.try_next_batch() {
            None => Ok(None),
            Some(Ok(batch)) => Ok(Some(NativeBatch::from_batch(batch.unwrap_or_default()))),
            Some(Err(error)) => Err(to_napi(error, InvalidAs::Type)),
        }
    }

    /// Aborts the request; a pending `nextBatch` resolves with `null`.
    #[napi]
    pub fn cancel(&self) {
        self.shared.cancel();
    }

    #[napi(getter)]
    pub fn conversation_id(&self) -> Option<String> {
        self.shared.info().conversation_id()
    }

    /// The text of every batch handed to JS so far.
    #[napi(getter)]
    pub fn text(&self) -> String {
        self.shared.info().text()
    }
}
