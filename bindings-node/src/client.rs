//! `NativeClient`: the core client, built from a JS options object, and its calls. The API key
//! lives only here, in native memory.

use mixerlead::binding::OptionValue;
use mixerlead::{ChatRequest, Client, ClientBuilder, ModelList};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::{guard, to_napi, InvalidAs};
use crate::log::{self, Deliver};
use crate::meta::header_pairs;
use crate::options;
use crate::stream::NativeStream;
use crate::wait::{cancellable, promise, NativeCancel};

/// One model.
#[napi(object, object_from_js = false)]
pub struct NativeModel {
    pub id: String,
    pub name: String,
    pub task: String,
    pub requires_paid: bool,
}

/// The models and the response's metadata.
#[napi(object, object_from_js = false)]
pub struct NativeModelList {
    pub models: Vec<NativeModel>,
    pub request_id: Option<String>,
    /// `[name0, value0, name1, value1, …]`.
    pub headers: Vec<String>,
}

impl NativeModelList {
    fn new(list: ModelList) -> NativeModelList {
        let request_id = list.request_id().map(str::to_string);
        let headers = header_pairs(list.headers());
        let models = list
            .into_iter()
            .map(|m| NativeModel { id: m.id, name: m.name, task: m.task, requires_paid: m.requires_paid })
            .collect();
        NativeModelList { models, request_id, headers }
    }
}

/// What the `User-Agent` says of where the client runs, as Node names it:
/// `mixerlead-node/0.1.0 (<os>; <arch>) <runtime>`.
#[napi(object, object_to_js = false)]
pub struct NativeAgent {
    /// `process.platform` (`linux`, `darwin`, `win32`).
    pub os: String,
    /// `process.arch` (`x64`, `arm64`).
    pub arch: String,
    /// `node/<process.versions.node>`.
    pub runtime: String,
}

/// An option's value as `util.inspect` shows it.
type ShownValue = Either3<String, f64, bool>;

/// `max_retries` as Node spells it: `maxRetries`.
fn camel_case(name: &str) -> String {
    let mut parts = name.split('_');
    let mut camel = parts.next().unwrap_or_default().to_string();
    for part in parts {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            camel.extend(first.to_uppercase());
            camel.push_str(chars.as_str());
        }
    }
    camel
}

/// The core client. The API key lives only here, in native memory.
#[napi]
pub struct NativeClient {
    pub(crate) inner: Client,
}

#[napi]
impl NativeClient {
    /// A client from a JS options object: each property with a value is set by its name
    /// (`apiKey`, `timeout`, …; see the core's `ClientBuilder::set`). `agent` names the
    /// platform and the runtime in the User-Agent. `log(level, text)`, when given, receives the
    /// client's log records on this thread (the `logger` option, which JS keeps out of
    /// `options`).
    #[napi(constructor, catch_unwind)]
    pub fn new(options: Object, agent: Option<NativeAgent>, log: Option<Deliver<'_>>) -> Result<Self> {
        guard(|| {
            let values = options::values(&options, "client option")?;
            let mut builder = Client::builder().surface("node");
            if let Some(NativeAgent { os, arch, runtime }) = agent {
                builder = builder.platform(os, arch).runtime(runtime);
            }
            if let Some(log) = &log {
                builder = builder.log_sink(log::sink(log)?);
            }
            let builder = options::apply(builder, values).map_err(|(error, invalid_as)| to_napi(error, invalid_as))?;
            builder.build().map(|inner| NativeClient { inner }).map_err(|e| to_napi(e, InvalidAs::Range))
        })
    }

    /// A client with this one's options changed by those of `options`, sharing its connection
    /// pool (the core's `Client::with_options`); its log records go to `log` when given, else
    /// where this client's go.
    #[napi(catch_unwind)]
    pub fn with_options(&self, options: Object, log: Option<Deliver<'_>>) -> Result<NativeClient> {
        guard(|| {
            let values = options::values(&options, "client option")?;
            let sink = log.as_ref().map(log::sink).transpose()?;
            // An error from setting an option says how JS sees it; later ones are the
            // resolved options' checks (numbers out of range).
            let mut invalid_as = InvalidAs::Range;
            let set = |builder: ClientBuilder| {
                let builder = options::apply(builder, values).map_err(|(error, how)| {
                    invalid_as = how;
                    error
                })?;
                Ok(match sink {
                    Some(sink) => builder.log_sink(sink),
                    None => builder,
                })
            };
            let inner = self.inner.with_options(set);
            inner.map(|inner| NativeClient { inner }).map_err(|e| to_napi(e, invalid_as))
        })
    }

    /// The options `util.inspect` shows, as `[name, value]` pairs with camelCase names; the key
    /// as its last 4 characters at most.
    #[napi(catch_unwind)]
    pub fn shown_options(&self) -> Result<Vec<(String, ShownValue)>> {
        guard(|| {
            let shown = self.inner.shown_options().into_iter().map(|(name, value)| {
                let value = match value {
                    OptionValue::Text(text) => Either3::A(text),
                    OptionValue::Number(n) => Either3::B(n),
                    OptionValue::Flag(flag) => Either3::C(flag),
                };
                (camel_case(name), value)
            });
            Ok(shown.collect())
        })
    }

    /// A promise of the models list (`NativeModelList`).
    #[napi(catch_unwind)]
    pub fn list_models<'env>(
        &self,
        env: &'env Env,
        options: Option<Object>,
        cancel: Option<&NativeCancel>,
    ) -> Result<Object<'env>> {
        guard(|| {
            let client = self.inner.clone();
            let options = options::request_options(options.as_ref())?;
            let cancel = cancel.map(NativeCancel::cancellation);
            // Only the call's numbers can be invalid here.
            promise(env, InvalidAs::Range, async move {
                let list = cancellable(cancel, client.list_models_with(&options)).await?;
                Ok(NativeModelList::new(list))
            })
        })
    }

    /// A promise of the reply's stream, once its response headers arrived.
    #[napi(catch_unwind)]
    pub fn chat<'env>(
        &self,
        env: &'env Env,
        message: String,
        model: Option<String>,
        conversation_id: Option<String>,
        options: Option<Object>,
        cancel: Option<&NativeCancel>,
    ) -> Result<Object<'env>> {
        guard(|| {
            let client = self.inner.clone();
            let request = ChatRequest::from_parts(message, model, conversation_id);
            let options = options::request_options(options.as_ref())?;
            let cancel = cancel.map(NativeCancel::cancellation);
            promise(env, InvalidAs::Call, async move {
                let stream = cancellable(cancel, client.chat_with(request, &options)).await?;
                Ok(NativeStream::new(stream))
            })
        })
    }
}
