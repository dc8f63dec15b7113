//! `Client`: the two calls of the Workspace API, with headers, timeouts and the retry loop.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use reqwest::{Method, Response};
use serde::{Deserialize, Serialize};

use crate::config::{redact_key, ClientBuilder, Config};
use crate::error::{Error, ErrorBody, ErrorKind, Result};
use crate::retry::{self, Decision, Failure, Idempotency};
use crate::stream::{ChatReply, ChatStream};
use crate::{log, VERSION};

/// Most bytes of an error body (or a models list) read into memory.
const MAX_SMALL_BODY: usize = 1 << 20;
/// Most bytes of an error body quoted in the error message when it has no `error` field.
const MAX_MESSAGE_BODY: usize = 1024;
/// Most redirects followed.
const MAX_REDIRECTS: usize = 5;

/// One model of the service, as [`Client::list_models`] returns it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Model {
    /// The id to pass as `model` (e.g. `ml-auto`).
    pub id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// What the model is for.
    #[serde(default)]
    pub task: String,
    /// Whether the model needs a paid plan.
    #[serde(default)]
    pub requires_paid: bool,
}

/// A chat message and its options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatRequest {
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    #[serde(rename = "conversationId", skip_serializing_if = "Option::is_none")]
    conversation_id: Option<String>,
}

impl ChatRequest {
    /// A message to the default (Auto) model, starting a new conversation.
    pub fn new(message: impl Into<String>) -> Self {
        ChatRequest { message: message.into(), model: None, conversation_id: None }
    }

    /// A message with optional model and conversation (`None`: Auto / a new conversation), as
    /// the bindings receive them.
    pub fn from_parts(message: impl Into<String>, model: Option<String>, conversation_id: Option<String>) -> Self {
        ChatRequest { message: message.into(), model, conversation_id }
    }

    /// The model to use (see [`Client::list_models`]); omit for Auto.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Continue this conversation instead of starting a new one.
    pub fn conversation_id(mut self, id: impl Into<String>) -> Self {
        self.conversation_id = Some(id.into());
        self
    }

    fn check(&self) -> Result<()> {
        if self.message.trim().is_empty() {
            return Err(Error::invalid("message must not be empty"));
        }
        for (name, value) in [
            ("message", Some(&self.message)),
            ("model", self.model.as_ref()),
            ("conversation_id", self.conversation_id.as_ref()),
        ] {
            if value.is_some_and(|v| v.contains('\0')) {
                return Err(Error::invalid(format!("{name} must not contain a NUL character")));
            }
        }
        if self.model.as_ref().is_some_and(|m| m.is_empty()) {
            return Err(Error::invalid("model must not be empty (omit it for Auto)"));
        }
        if self.conversation_id.as_ref().is_some_and(|c| c.is_empty()) {
            return Err(Error::invalid("conversation_id must not be empty (omit it to start a conversation)"));
        }
        Ok(())
    }
}

/// A client of the Workspace API. Cheap to clone (clones share the connection pool); safe to
/// use from many tasks and threads at once.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    headers: HeaderMap,
    /// The connection pool, with the pid it belongs to: a forked child builds its own.
    http: Mutex<(u32, reqwest::Client)>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.inner.config;
        f.debug_struct("Client")
            .field("base_url", &c.base_url)
            .field("api_key", &redact_key(&c.api_key))
            .field("project_id", &c.project_id)
            .field("max_retries", &c.max_retries)
            .finish_non_exhaustive()
    }
}

/// The part of the attempt loop's outcome that decides a retry.
struct AttemptError {
    failure: Failure,
    error: Error,
}

impl Client {
    /// A builder for a client with explicit options.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from the environment (`MIXERLEAD_API_KEY`, …) and defaults.
    pub fn from_env() -> Result<Client> {
        ClientBuilder::default().build()
    }

    pub(crate) fn from_config(config: Config) -> Result<Client> {
        let mut headers = HeaderMap::new();
        let mut auth = HeaderValue::try_from(format!("Bearer {}", config.api_key))
            .map_err(|_| Error::invalid("api_key contains characters not allowed in an HTTP header"))?;
        auth.set_sensitive(true);
        headers.insert(AUTHORIZATION, auth);
        headers.insert(USER_AGENT, HeaderValue::try_from(user_agent(config.surface)).expect("ASCII user agent"));
        if let Some(project) = &config.project_id {
            let value = HeaderValue::try_from(project.as_str())
                .map_err(|_| Error::invalid("project_id contains characters not allowed in an HTTP header"))?;
            headers.insert("x-project-id", value);
        }
        let http = build_http(&config)?;
        Ok(Client { inner: Arc::new(Inner { config, headers, http: Mutex::new((std::process::id(), http)) }) })
    }

    /// The base URL requests go to (without a trailing slash).
    pub fn base_url(&self) -> &str {
        &self.inner.config.base_url
    }

    /// The models the service offers (`GET /ai/models`).
    pub async fn list_models(&self) -> Result<Vec<Model>> {
        self.with_retries(Method::GET, "/ai/models", Idempotency::Get, || async {
            let response = self.attempt(Method::GET, "/ai/models", None).await?;
            let body = read_small_body(response, self.inner.config.read_timeout)
                .await
                .map_err(|error| AttemptError { failure: Failure::AfterSend, error })?;
            parse_models(&body).map_err(|error| AttemptError { failure: Failure::Fatal, error })
        })
        .await
    }

    /// Sends a chat message and returns the reply as a stream of text pieces, once the response
    /// headers arrived (status errors are returned here, after retries).
    pub async fn chat(&self, request: ChatRequest) -> Result<ChatStream> {
        request.check()?;
        let body =
            serde_json::to_vec(&request).map_err(|e| Error::invalid(format!("cannot encode the request: {e}")))?;
        let body = bytes::Bytes::from(body);
        let response = self
            .with_retries(Method::POST, "/chat", Idempotency::Create, || {
                self.attempt(Method::POST, "/chat", Some(body.clone()))
            })
            .await?;
        Ok(ChatStream::new(response, self.inner.config.read_timeout))
    }

    /// Sends a chat message and waits for the whole reply.
    pub async fn send(&self, request: ChatRequest) -> Result<ChatReply> {
        self.chat(request).await?.into_reply().await
    }

    async fn with_retries<T, F, Fut>(&self, method: Method, path: &str, call: Idempotency, attempt: F) -> Result<T>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, AttemptError>>,
    {
        let config = &self.inner.config;
        let mut retry = 0;
        loop {
            log::debug(format_args!("{method} {path}: attempt {} of {}", retry + 1, config.max_retries + 1));
            let AttemptError { failure, error } = match attempt().await {
                Ok(value) => return Ok(value),
                Err(e) => e,
            };
            if !retry::is_retryable(failure, call) {
                log::info(format_args!("{method} {path}: failed, not retryable: {error}"));
                return Err(error);
            }
            match retry::decide(retry, config.max_retries, error.retry_after(), config.max_retry_wait) {
                Decision::RetryAfter(wait) => {
                    log::info(format_args!(
                        "{method} {path}: {error}; retry {} of {} in {:.3} s",
                        retry + 1,
                        config.max_retries,
                        wait.as_secs_f64()
                    ));
                    tokio::time::sleep(wait).await;
                    retry += 1;
                }
                Decision::GiveUp => {
                    log::info(format_args!("{method} {path}: giving up after {} attempt(s): {error}", retry + 1));
                    return Err(error);
                }
            }
        }
    }

    /// One attempt: send, wait for the headers, and turn a non-2xx status into its error.
    async fn attempt(&self, method: Method, path: &str, body: Option<bytes::Bytes>) -> Result<Response, AttemptError> {
        let config = &self.inner.config;
        let mut request =
            self.http().request(method, format!("{}{path}", config.base_url)).headers(self.inner.headers.clone());
        request = match body {
            Some(body) => request
                .header(CONTENT_TYPE, "application/json")
                .header(ACCEPT, "text/event-stream, application/x-ndjson, application/json, text/plain")
                .body(body),
            None => request.header(ACCEPT, "application/json"),
        };
        let response = match tokio::time::timeout(config.timeout, request.send()).await {
            Err(_) => {
                return Err(AttemptError {
                    failure: Failure::AfterSend,
                    error: Error::new(
                        ErrorKind::Timeout,
                        format!("timeout: no response headers within {:?}", config.timeout),
                    ),
                })
            }
            Ok(Err(e)) => return Err(classify(&e)),
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        log::debug(format_args!("{path}: HTTP {}", status.as_u16()));
        if status.is_success() {
            return Ok(response);
        }
        let error = status_error(response, config.read_timeout).await;
        Err(AttemptError { failure: Failure::Status(status.as_u16()), error })
    }

    /// The connection pool of this process (a forked child gets a fresh one).
    fn http(&self) -> reqwest::Client {
        let mut http = self.inner.http.lock().unwrap_or_else(|p| p.into_inner());
        let pid = std::process::id();
        if http.0 != pid {
            if let Ok(fresh) = build_http(&self.inner.config) {
                // The parent's pool holds sockets and tasks of a runtime that does not exist here.
                std::mem::forget(std::mem::replace(&mut *http, (pid, fresh)));
            }
        }
        http.1.clone()
    }
}

/// `mixerlead-<surface>/<version> (<os>; <arch>)`.
pub(crate) fn user_agent(surface: &str) -> String {
    format!("mixerlead-{surface}/{VERSION} ({}; {})", std::env::consts::OS, std::env::consts::ARCH)
}

fn build_http(config: &Config) -> Result<reqwest::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(config.connect_timeout)
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(90))
        .redirect(redirect_policy())
        .build()
        .map_err(|e| Error::config(format!("cannot build the HTTP client: {}", describe(&e))))
}

/// At most 5 redirects, never from https to http. (reqwest drops `Authorization` on its own
/// when a redirect leaves the origin.)
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let downgrade =
            attempt.previous().last().is_some_and(|prev| prev.scheme() == "https") && attempt.url().scheme() != "https";
        if downgrade {
            attempt.error("refusing a redirect from https to http")
        } else if attempt.previous().len() > MAX_REDIRECTS {
            attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
        } else {
            attempt.follow()
        }
    })
}

/// Classifies a failure to get a response.
fn classify(e: &reqwest::Error) -> AttemptError {
    let failure = if e.is_connect() { Failure::ConnectFailed } else { Failure::AfterSend };
    let kind = if e.is_timeout() { ErrorKind::Timeout } else { ErrorKind::Connection };
    let failure = if e.is_redirect() { Failure::Fatal } else { failure };
    AttemptError { failure, error: Error::new(kind, describe(e)) }
}

/// The error and its causes on one line, e.g. `error sending request: connection refused`.
pub(crate) fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Reads a body of bounded size, with the read timeout between chunks.
async fn read_small_body(response: Response, read_timeout: Duration) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    let mut chunks = response.bytes_stream();
    loop {
        match tokio::time::timeout(read_timeout, chunks.next()).await {
            Err(_) => {
                return Err(Error::new(ErrorKind::Timeout, format!("read timeout: body silent for {read_timeout:?}")))
            }
            Ok(None) => return Ok(body),
            Ok(Some(Err(e))) => {
                let kind = if e.is_timeout() { ErrorKind::Timeout } else { ErrorKind::Connection };
                return Err(Error::new(kind, format!("reading the response body: {}", describe(&e))));
            }
            Ok(Some(Ok(chunk))) => {
                if body.len() + chunk.len() > MAX_SMALL_BODY {
                    return Err(Error::decode(format!("response body larger than {MAX_SMALL_BODY} bytes")));
                }
                body.extend_from_slice(&chunk);
            }
        }
    }
}

fn parse_models(body: &[u8]) -> Result<Vec<Model>> {
    #[derive(Deserialize)]
    struct Models {
        models: Vec<Model>,
    }
    serde_json::from_slice::<Models>(body)
        .map(|m| m.models)
        .or_else(|_| serde_json::from_slice::<Vec<Model>>(body))
        .map_err(|e| Error::decode(format!("the models list is not valid JSON of the expected shape: {e}")))
}

/// Builds the status error of a non-2xx response from its headers and (capped) body.
async fn status_error(response: Response, read_timeout: Duration) -> Error {
    let status = response.status();
    let headers = response.headers();
    let request_id = headers.get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_string);
    let retry_after = retry::retry_after_seconds(headers);
    let reason = status.canonical_reason().unwrap_or("unknown status").to_string();
    let raw = read_small_body(response, read_timeout).await.unwrap_or_default();
    let body = if raw.is_empty() {
        None
    } else {
        Some(match serde_json::from_slice(&raw) {
            Ok(json) => ErrorBody::Json(json),
            Err(_) => ErrorBody::Text(String::from_utf8_lossy(&raw).into_owned()),
        })
    };
    let message = match &body {
        Some(ErrorBody::Json(json)) => json.get("error").and_then(service_message),
        _ => None,
    }
    .or_else(|| {
        let text = String::from_utf8_lossy(&raw[..raw.len().min(MAX_MESSAGE_BODY)]).trim().to_string();
        (!text.is_empty()).then_some(text)
    })
    .unwrap_or(reason);
    Error::status(status.as_u16(), message, body, request_id, retry_after)
}

fn service_message(error: &serde_json::Value) -> Option<String> {
    match error {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Object(o) => o.get("message").and_then(|m| m.as_str()).map(str::to_string),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agent_names_surface_version_os_arch() {
        let ua = user_agent("python");
        assert!(ua.starts_with(&format!("mixerlead-python/{VERSION} (")), "{ua}");
        assert!(ua.ends_with(&format!("{}; {})", std::env::consts::OS, std::env::consts::ARCH)), "{ua}");
    }

    #[test]
    fn chat_request_checks() {
        assert_eq!(ChatRequest::new("").check().unwrap_err().kind(), ErrorKind::InvalidArgument);
        assert_eq!(ChatRequest::new("  \n").check().unwrap_err().kind(), ErrorKind::InvalidArgument);
        assert_eq!(ChatRequest::new("a\0b").check().unwrap_err().kind(), ErrorKind::InvalidArgument);
        assert_eq!(ChatRequest::new("hi").model("m\0").check().unwrap_err().kind(), ErrorKind::InvalidArgument);
        ChatRequest::new("hi").model("ml-auto").conversation_id("c").check().unwrap();
        let json = serde_json::to_string(&ChatRequest::new("hi")).unwrap();
        assert_eq!(json, r#"{"message":"hi"}"#);
        let json = serde_json::to_string(&ChatRequest::new("hi").model("m").conversation_id("c")).unwrap();
        assert_eq!(json, r#"{"message":"hi","model":"m","conversationId":"c"}"#);
    }

    #[test]
    fn models_parse() {
        let body = br#"{"models":[{"id":"ml-auto","name":"Auto","task":"Automatic model selection","requiresPaid":false},{"id":"p","requiresPaid":true}]}"#;
        let models = parse_models(body).unwrap();
        assert_eq!(models[0].id, "ml-auto");
        assert_eq!(models[0].task, "Automatic model selection");
        assert!(models[1].requires_paid);
        assert_eq!(parse_models(b"{").unwrap_err().kind(), ErrorKind::Decode);
    }
}
