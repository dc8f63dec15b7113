//! `NativeClient`: the core client, its options and the models it lists. The API key lives only
//! here, in native memory.

use mixerlead::{ChatRequest, Client, ClientOptions};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::{guard, to_napi, InvalidAs};
use crate::stream::NativeStream;
use crate::wait::{cancellable, promise, NativeCancel};

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

/// The core client. The API key lives only here, in native memory.
#[napi]
pub struct NativeClient {
    inner: Client,
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
