//! `NativeClient`: the core client, its options and the models it lists. The API key lives only
//! here, in native memory.

use mixerlead::{ChatRequest, Client};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::{guard, to_napi, InvalidAs};
use crate::options;
use crate::stream::NativeStream;
use crate::wait::{cancellable, promise, NativeCancel};

/// One model.
#[napi(object)]
pub struct NativeModel {
    pub id: String,
    pub name: String,
    pub task: String,
    pub requires_paid: bool,
}

/// The core client. The API key lives only here, in native memory.
#[napi]
pub struct NativeClient {
    inner: Client,
}

#[napi]
impl NativeClient {
    /// A client from a JS options object: each property with a value is set by its name
    /// (`apiKey`, `timeout`, …; see the core's `ClientBuilder::set`).
    #[napi(constructor, catch_unwind)]
    pub fn new(options: Object) -> Result<Self> {
        guard(|| {
            let values = options::values(&options, "client option")?;
            let builder = options::apply(Client::builder().surface("node"), values)
                .map_err(|(error, invalid_as)| to_napi(error, invalid_as))?;
            builder.build().map(|inner| NativeClient { inner }).map_err(|e| to_napi(e, InvalidAs::Range))
        })
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
            let cancel = cancel.map(NativeCancel::cancellation);
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
            let cancel = cancel.map(NativeCancel::cancellation);
            promise(env, InvalidAs::Type, async move {
                let stream = cancellable(cancel, client.chat(request)).await?;
                Ok(NativeStream::new(stream))
            })
        })
    }
}
