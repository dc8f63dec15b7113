//! The HTTP side of one attempt: the connection pool, the headers every request carries,
//! redirects, and turning reqwest failures and non-2xx responses into [`Error`]s.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION, USER_AGENT};
use reqwest::{Method, Response, StatusCode, Url};

use crate::response::Received;

use crate::attempt::AttemptError;
use crate::config::Config;
use crate::error::{printable, Error, ErrorBody, ErrorKind, Result};
use crate::request_options::CallSettings;
use crate::retry::{self, Failure};
use crate::VERSION;

/// Most bytes of a non-streamed body (a JSON response, an error body) read into memory: the
/// same 16 MiB as one streamed event, so a large knowledge-base list still fits.
const MAX_SMALL_BODY: usize = 16 << 20;
/// Most bytes of an error body quoted in the error message when it has no `error` field.
const MAX_MESSAGE_BODY: usize = 1024;
/// Most redirects followed.
const MAX_REDIRECTS: usize = 5;

/// What a request sends.
pub(crate) enum Body {
    /// No body.
    None,
    /// A JSON body.
    Json(Bytes),
    /// A `multipart/form-data` body with a file streamed from disk (opened anew per attempt).
    Upload(crate::api::upload::Upload),
}

/// What a request accepts in return.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Accept {
    /// A JSON document.
    Json,
    /// A streamed reply in any of the wire formats.
    Stream,
}

impl Accept {
    fn header(self) -> &'static str {
        match self {
            Accept::Json => "application/json",
            Accept::Stream => "text/event-stream, application/x-ndjson, application/json, text/plain",
        }
    }
}

/// The pool and the headers of one client.
pub(crate) struct Transport {
    /// Sent to the base URL's origin only: `Authorization`, `X-Project-Id`, `User-Agent`.
    private_headers: HeaderMap,
    /// Sent after a redirect to another origin: `User-Agent` alone.
    public_headers: HeaderMap,
    /// How the pool is built, kept so that a forked child can build its own.
    pool: PoolSettings,
    /// The connection pool, with the pid it belongs to: a forked child builds its own. Shared
    /// by the clients `with_options` derives when their pool settings are the same.
    http: Arc<Mutex<(u32, reqwest::Client)>>,
}

/// What a connection pool is built from.
#[derive(Clone)]
struct PoolSettings {
    /// The `ca_file` the extra roots came from.
    ca_file: Option<String>,
    connect_timeout: Duration,
    /// No proxy: plain-http base URLs never go through one (see [`PoolSettings::of`]).
    direct: bool,
    /// Trusted besides the system's roots.
    extra_roots: Vec<reqwest::Certificate>,
    /// The proxy option's URL (else the environment's).
    proxy: Option<String>,
}

impl Transport {
    /// The transport of a client with `config`; it shares `like`'s pool when that was built the
    /// same way.
    pub(crate) fn new(config: &Config, like: Option<&Transport>) -> Result<Transport> {
        let mut public_headers = HeaderMap::new();
        let user_agent = HeaderValue::try_from(config.user_agent.as_str())
            .map_err(|_| Error::invalid("the User-Agent has characters not allowed in an HTTP header"))?;
        public_headers.insert(USER_AGENT, user_agent);
        let mut private_headers = public_headers.clone();
        let mut auth = HeaderValue::try_from(format!("Bearer {}", config.api_key))
            .map_err(|_| Error::invalid("api_key contains characters not allowed in an HTTP header"))?;
        auth.set_sensitive(true);
        private_headers.insert(AUTHORIZATION, auth);
        if let Some(project) = &config.project_id {
            let value = HeaderValue::try_from(project.as_str())
                .map_err(|_| Error::invalid("project_id contains characters not allowed in an HTTP header"))?;
            private_headers.insert("x-project-id", value);
        }
        let pool = PoolSettings::of(config);
        let http = match like.filter(|t| t.pool.same_as(&pool)) {
            Some(shared) => shared.http.clone(),
            None => Arc::new(Mutex::new((crate::runtime::process_id(), pool.build()?))),
        };
        Ok(Transport { private_headers, public_headers, pool, http })
    }

    /// One attempt: send (following redirects), wait for the headers, and turn a non-2xx
    /// status into its error.
    pub(crate) async fn send(
        &self,
        call: &CallSettings<'_>,
        method: Method,
        path: &str,
        body: &Body,
        accept: Accept,
    ) -> Result<Received, AttemptError> {
        let (config, timeout) = (call.config, call.timeout);
        let fatal = |error: Error| AttemptError { failure: Failure::Fatal, error };
        let origin = Url::parse(&config.base_url).map_err(|e| fatal(Error::config(e.to_string())))?.origin();
        let mut url = Url::parse(&format!("{}{path}", config.base_url))
            .map_err(|e| fatal(Error::invalid(format!("invalid request path {path:?}: {e}"))))?;
        let mut method = method;
        let mut send_body = !matches!(body, Body::None);
        let mut redirects = 0;
        loop {
            // Only the base URL's origin gets the key, the project and the call's extra headers.
            let mut request = self.http().request(method.clone(), url.clone());
            request = match url.origin() == origin {
                true => request.headers(self.private_headers.clone()).headers(call.headers.clone()),
                false => request.headers(self.public_headers.clone()),
            };
            request = request.header(ACCEPT, accept.header());
            request = match body {
                _ if !send_body => request,
                Body::None => request,
                Body::Json(bytes) => request.header(CONTENT_TYPE, "application/json").body(bytes.clone()),
                Body::Upload(upload) => request.multipart(upload.form().await.map_err(fatal)?),
            };
            let request = request.build().map_err(classify)?;
            let mut exchange = config.record.as_ref().map(|recorder| {
                let shown = url.as_str().strip_prefix(config.base_url.as_str()).unwrap_or(url.as_str());
                recorder.exchange(method.as_str(), shown, &request, if send_body { body } else { &Body::None })
            });
            let started = std::time::Instant::now();
            let failed = |e: AttemptError, exchange: Option<&mut crate::record::Exchange>| {
                if let Some(exchange) = exchange {
                    exchange.finish("failed", Some(e.error.message().to_string()));
                }
                e
            };
            let response = match tokio::time::timeout(timeout, self.http().execute(request)).await {
                Err(_) => {
                    let error = AttemptError {
                        failure: Failure::AfterSend,
                        error: Error::new(
                            ErrorKind::Timeout,
                            format!("timeout: no response headers within {timeout:?}"),
                        ),
                    };
                    return Err(failed(error, exchange.as_mut()));
                }
                Ok(Err(e)) => return Err(failed(classify(e), exchange.as_mut())),
                Ok(Ok(response)) => response,
            };
            let status = response.status();
            if call.report.is_on() {
                call.report.response(status.as_u16(), crate::meta::request_id(response.headers()));
            }
            config.log.debug(format_args!(
                "{method} {path}: HTTP {} in {:.1} ms (request id {})",
                status.as_u16(),
                started.elapsed().as_secs_f64() * 1000.0,
                crate::meta::request_id(response.headers()).as_deref().unwrap_or("none")
            ));
            let redirect = redirect_target(&response);
            let response = Received::new(response, exchange);
            if status.is_success() {
                return Ok(response);
            }
            if let Some(next) = redirect {
                if redirects == MAX_REDIRECTS {
                    return Err(fatal(Error::new(
                        ErrorKind::Connection,
                        format!("more than {MAX_REDIRECTS} redirects"),
                    )));
                }
                if url.scheme() == "https" && next.scheme() != "https" {
                    return Err(fatal(Error::new(ErrorKind::Connection, "refusing a redirect from https to http")));
                }
                if !matches!(next.scheme(), "http" | "https") {
                    return Err(fatal(Error::new(ErrorKind::Connection, "refusing a redirect to a non-HTTP URL")));
                }
                // 303, and 301/302 after a POST, turn into a GET without the body (as browsers do).
                if status == StatusCode::SEE_OTHER
                    || (matches!(status, StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND) && method == Method::POST)
                {
                    method = Method::GET;
                    send_body = false;
                }
                config.log.debug(format_args!("{method} {path}: redirected ({})", status.as_u16()));
                url = next;
                redirects += 1;
                continue;
            }
            let error = status_error(response, timeout, config.read_timeout).await;
            return Err(AttemptError { failure: Failure::Status(status.as_u16()), error });
        }
    }

    pub(crate) fn shares_pool_with(&self, other: &Transport) -> bool {
        Arc::ptr_eq(&self.http, &other.http)
    }

    /// The connection pool of this process (a forked child gets a fresh one).
    fn http(&self) -> reqwest::Client {
        let mut http = self.http.lock().unwrap_or_else(|p| p.into_inner());
        let pid = crate::runtime::process_id();
        if http.0 != pid {
            if let Ok(fresh) = self.pool.build() {
                // The parent's pool holds sockets and tasks of a runtime that does not exist here.
                std::mem::forget(std::mem::replace(&mut *http, (pid, fresh)));
            }
        }
        http.1.clone()
    }
}

/// Where a redirect response points, resolved against the request's URL.
fn redirect_target(response: &Response) -> Option<Url> {
    if !matches!(response.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = response.headers().get(LOCATION)?.to_str().ok()?;
    response.url().join(location).ok()
}

/// `mixerlead-<surface>/<version> (<os>; <arch>)`.
pub(crate) fn user_agent(surface: &str, os: &str, arch: &str) -> String {
    format!("mixerlead-{surface}/{VERSION} ({os}; {arch})")
}

impl PoolSettings {
    /// Plain-http base URLs never go through a proxy: the loopback exemption of the
    /// insecure-http check assumes a direct connection, and a proxy would see the key in clear.
    fn of(config: &Config) -> PoolSettings {
        PoolSettings {
            ca_file: config.ca_file.as_ref().map(|(path, _)| path.clone()),
            connect_timeout: config.connect_timeout,
            direct: config.base_url.starts_with("http://"),
            extra_roots: config.ca_file.as_ref().map(|(_, certs)| certs.clone()).unwrap_or_default(),
            proxy: config.proxy.clone(),
        }
    }

    /// Whether a pool built from `other` is the same as one from these settings.
    fn same_as(&self, other: &PoolSettings) -> bool {
        (self.connect_timeout, self.direct, &self.ca_file, &self.proxy)
            == (other.connect_timeout, other.direct, &other.ca_file, &other.proxy)
    }

    fn build(&self) -> Result<reqwest::Client> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(90))
            .redirect(reqwest::redirect::Policy::none());
        if self.direct {
            builder = builder.no_proxy();
        } else if let Some(url) = &self.proxy {
            builder = builder.proxy(crate::config::proxy_of(url)?);
        }
        // reqwest builds the TLS config itself (extra roots merged, not a preconfigured
        // config), so ALPN offers `h2` and `http/1.1`: HTTP/2 whenever the server agrees.
        if !self.extra_roots.is_empty() {
            builder = builder.tls_certs_merge(self.extra_roots.iter().cloned());
        }
        builder.build().map_err(|e| Error::config(format!("cannot build the HTTP client: {}", describe(&e))))
    }
}

/// Classifies a failure to get a response.
fn classify(e: reqwest::Error) -> AttemptError {
    let failure = if e.is_connect() { Failure::ConnectFailed } else { Failure::AfterSend };
    let kind = if e.is_timeout() { ErrorKind::Timeout } else { ErrorKind::Connection };
    AttemptError { failure, error: Error::new(kind, describe(&e)).caused_by(e) }
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

/// Reads a body of bounded size: at most `timeout` in all (a server dripping bytes cannot hold
/// the call for longer) and the read timeout between chunks.
pub(crate) async fn read_small_body(response: Received, total: Duration, read_timeout: Duration) -> Result<Vec<u8>> {
    match tokio::time::timeout(total, read_capped(response, read_timeout)).await {
        Ok(body) => body,
        Err(_) => Err(Error::new(ErrorKind::Timeout, format!("timeout: the response body took longer than {total:?}"))),
    }
}

async fn read_capped(response: Received, read_timeout: Duration) -> Result<Vec<u8>> {
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
                return Err(Error::new(kind, format!("reading the response body: {}", describe(&e))).caused_by(e));
            }
            Ok(Some(Ok(chunk))) => {
                if body.len() + chunk.len() > MAX_SMALL_BODY {
                    return Err(Error::decode(format!("response body larger than {} MiB", MAX_SMALL_BODY >> 20)));
                }
                body.extend_from_slice(&chunk);
            }
        }
    }
}

/// Builds the status error of a non-2xx response from its headers and (capped) body. The
/// message is made printable: a server's control characters never reach a terminal or a log.
async fn status_error(response: Received, timeout: Duration, read_timeout: Duration) -> Error {
    let status = response.status();
    let headers = response.headers();
    let request_id = crate::meta::request_id(headers);
    let retry_after = retry::retry_after_seconds(headers);
    let reason = status.canonical_reason().unwrap_or("unknown status").to_string();
    let raw = read_small_body(response, timeout, read_timeout).await.unwrap_or_default();
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
    Error::status(status.as_u16(), printable(&message), body, request_id, retry_after)
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
        let ua = user_agent("python", std::env::consts::OS, std::env::consts::ARCH);
        assert!(ua.starts_with(&format!("mixerlead-python/{VERSION} (")), "{ua}");
        assert!(ua.ends_with(&format!("{}; {})", std::env::consts::OS, std::env::consts::ARCH)), "{ua}");
    }
}
