//! Options, their environment fallbacks and defaults, and the base-URL safety check.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use crate::error::{Error, Result};

/// The service's production base URL.
pub const DEFAULT_BASE_URL: &str = "https://ai.mixerlead.com/api";
/// Environment variable holding the API key.
pub const ENV_API_KEY: &str = "MIXERLEAD_API_KEY";
/// Environment variable overriding the base URL.
pub const ENV_BASE_URL: &str = "MIXERLEAD_BASE_URL";
/// Environment variable holding the project id (`X-Project-Id`).
pub const ENV_PROJECT_ID: &str = "MIXERLEAD_PROJECT_ID";
/// Environment variable overriding the retry count.
pub const ENV_MAX_RETRIES: &str = "MIXERLEAD_MAX_RETRIES";
/// Environment variable that, set to `1`, allows plain `http://` to any host.
pub const ENV_ALLOW_INSECURE_HTTP: &str = "MIXERLEAD_ALLOW_INSECURE_HTTP";
/// Environment variable naming the Redis server (`redis://…`, `rediss://…`) that holds a
/// fleet's shared rate limit.
pub const ENV_RATE_LIMIT_REDIS: &str = "MIXERLEAD_RATE_LIMIT_REDIS";

/// Default seconds until response headers, per attempt.
pub const DEFAULT_TIMEOUT: f64 = 60.0;
/// Default seconds to establish a connection.
pub const DEFAULT_CONNECT_TIMEOUT: f64 = 10.0;
/// Default longest silence, in seconds, between body bytes of a stream.
pub const DEFAULT_READ_TIMEOUT: f64 = 120.0;
/// Default number of retries after the first attempt.
pub const DEFAULT_MAX_RETRIES: u32 = 2;
/// Default longest single wait, in seconds, the client sleeps before a retry.
pub const DEFAULT_MAX_RETRY_WAIT: f64 = 60.0;

/// Builds a [`crate::Client`]. Every option falls back to its environment variable, then to
/// its default; values are checked in [`ClientBuilder::build`], before any network use.
#[derive(Clone, Default)]
pub struct ClientBuilder {
    pub(crate) api_key: Option<String>,
    pub(crate) base_url: Option<String>,
    pub(crate) project_id: Option<String>,
    pub(crate) timeout: Option<f64>,
    pub(crate) connect_timeout: Option<f64>,
    pub(crate) read_timeout: Option<f64>,
    pub(crate) max_retries: Option<i64>,
    pub(crate) max_retry_wait: Option<f64>,
    pub(crate) allow_insecure_http: Option<bool>,
    pub(crate) ca_file: Option<String>,
    pub(crate) proxy: Option<String>,
    pub(crate) rate_limit: Option<f64>,
    pub(crate) rate_limit_burst: Option<i64>,
    pub(crate) rate_limit_redis: Option<String>,
    pub(crate) max_concurrency: Option<i64>,
    pub(crate) record: Option<String>,
    pub(crate) surface: Option<&'static str>,
    pub(crate) runtime: Option<String>,
    pub(crate) platform: Option<(String, String)>,
    pub(crate) log: crate::log::Log,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api_key", &self.api_key.as_deref().map(redact_key))
            .field("base_url", &self.base_url)
            .field("project_id", &self.project_id)
            .finish_non_exhaustive()
    }
}

/// A client option's value as a binding receives it from its language (see
/// [`ClientBuilder::set`]).
#[derive(Debug, Clone, PartialEq)]
pub enum OptionValue {
    /// A string (a key, a URL, a path).
    Text(String),
    /// A number (seconds, a count).
    Number(f64),
    /// A true/false flag.
    Flag(bool),
}

/// The value as a user wrote it in their language: `"text"` quoted, `1.5`, `true`.
impl std::fmt::Display for OptionValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OptionValue::Text(text) => write!(f, "{text:?}"),
            OptionValue::Number(n) => write!(f, "{n}"),
            OptionValue::Flag(flag) => write!(f, "{flag}"),
        }
    }
}

impl OptionValue {
    fn text(self, name: &str) -> Result<String> {
        match self {
            OptionValue::Text(text) => Ok(text),
            other => Err(Error::invalid(format!("{name} must be a string, got {other}"))),
        }
    }

    pub(crate) fn seconds(self, name: &str) -> Result<f64> {
        match self {
            OptionValue::Number(n) => Ok(n),
            other => Err(Error::invalid(format!("{name} must be a number of seconds, got {other}"))),
        }
    }

    fn number(self, name: &str) -> Result<f64> {
        match self {
            OptionValue::Number(n) => Ok(n),
            other => Err(Error::invalid(format!("{name} must be a number, got {other}"))),
        }
    }

    pub(crate) fn count(self, name: &str) -> Result<i64> {
        match self {
            OptionValue::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => Ok(n as i64),
            other => Err(Error::invalid(format!("{name} must be a whole number, got {other}"))),
        }
    }

    fn flag(self, name: &str) -> Result<bool> {
        match self {
            OptionValue::Flag(flag) => Ok(flag),
            other => Err(Error::invalid(format!("{name} must be true or false, got {other}"))),
        }
    }
}

impl ClientBuilder {
    /// Sets the option `name` (snake_case, or the camelCase the Node surface uses) from a
    /// binding's value: the one place options are named, typed and checked. An unknown name is
    /// a configuration error naming it; a value of the wrong type, an invalid-argument error.
    #[doc(hidden)]
    pub fn set(mut self, name: &str, value: OptionValue) -> Result<Self> {
        match name {
            "api_key" | "apiKey" => self.api_key = Some(value.text("api_key")?),
            "base_url" | "baseUrl" => self.base_url = Some(value.text("base_url")?),
            "project_id" | "projectId" => self.project_id = Some(value.text("project_id")?),
            "timeout" => self.timeout = Some(value.seconds("timeout")?),
            "connect_timeout" | "connectTimeout" => self.connect_timeout = Some(value.seconds("connect_timeout")?),
            "read_timeout" | "readTimeout" => self.read_timeout = Some(value.seconds("read_timeout")?),
            "max_retries" | "maxRetries" => self.max_retries = Some(value.count("max_retries")?),
            "max_retry_wait" | "maxRetryWait" => self.max_retry_wait = Some(value.seconds("max_retry_wait")?),
            "allow_insecure_http" | "allowInsecureHttp" => {
                self.allow_insecure_http = Some(value.flag("allow_insecure_http")?)
            }
            "ca_file" | "caFile" => self.ca_file = Some(value.text("ca_file")?),
            "proxy" => self.proxy = Some(value.text("proxy")?),
            "rate_limit" | "rateLimit" => self.rate_limit = Some(value.number("rate_limit")?),
            "rate_limit_burst" | "rateLimitBurst" => self.rate_limit_burst = Some(value.count("rate_limit_burst")?),
            "rate_limit_redis" | "rateLimitRedis" => self.rate_limit_redis = Some(value.text("rate_limit_redis")?),
            "max_concurrency" | "maxConcurrency" => self.max_concurrency = Some(value.count("max_concurrency")?),
            "record" => self.record = Some(value.text("record")?),
            other => return Err(Error::config(format!("unknown client option {other:?}"))),
        }
        Ok(self)
    }

    /// A PEM file of certificates to trust in addition to the system's roots (which also
    /// honour `SSL_CERT_FILE` and `SSL_CERT_DIR`), e.g. a company proxy's or a test server's.
    pub fn ca_file(mut self, path: impl Into<String>) -> Self {
        self.ca_file = Some(path.into());
        self
    }

    /// The proxy every request goes through (`http://host:port`, `https://…`, `socks5://…`),
    /// instead of `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY` from the environment; `NO_PROXY` still
    /// applies. Not allowed with a plain-http base URL, whose requests never use a proxy.
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = Some(url.into());
        self
    }

    /// Paces every request of this client's scope (its key, base URL and project, in the whole
    /// process) to `per_minute` requests a minute from the start, with bursts of
    /// [`ClientBuilder::rate_limit_burst`]: a known plan limit is never hit. `0` turns traffic
    /// control off (no shared 429 gate, no adaptive pacing). Without it, the scope is paced only
    /// from its first 429 on, at a rate that follows the service.
    pub fn rate_limit(mut self, per_minute: f64) -> Self {
        self.rate_limit = Some(per_minute);
        self
    }

    /// Requests [`ClientBuilder::rate_limit`] lets through at once after an idle spell
    /// (default: one second's worth, at least 1).
    pub fn rate_limit_burst(mut self, burst: i64) -> Self {
        self.rate_limit_burst = Some(burst);
        self
    }

    /// A Redis server (`redis://host:port/db`, `rediss://…`) holding the scope's pacing and
    /// 429 gate, so that every process and machine of a fleet shares one limit; else
    /// `MIXERLEAD_RATE_LIMIT_REDIS`. When Redis is down or slow the client paces itself alone
    /// (and says so once); a request never fails because of Redis.
    pub fn rate_limit_redis(mut self, url: impl Into<String>) -> Self {
        self.rate_limit_redis = Some(url.into());
        self
    }

    /// At most `n` requests of this client (and the clients derived from it) in flight; the
    /// others wait their turn, first come first served. A stream holds its place until it
    /// ends, is closed or dropped.
    pub fn max_concurrency(mut self, n: i64) -> Self {
        self.max_concurrency = Some(n);
        self
    }

    /// Records every exchange (every attempt of every call, with its body chunks and their
    /// times) into the cassette at `path`, appending one JSON line each; else
    /// `MIXERLEAD_RECORD`. The emulator replays such a file. The key is never written. A path
    /// that cannot be opened for appending is a configuration error when the client is built.
    pub fn record(mut self, path: impl Into<String>) -> Self {
        self.record = Some(path.into());
        self
    }

    /// Where this client's log records go besides the `log` facade and `MIXERLEAD_LOG`'s
    /// stderr; bindings set it.
    #[doc(hidden)]
    pub fn log_sink(mut self, sink: crate::log::LogSink) -> Self {
        self.log = crate::log::Log::new(Some(sink));
        self
    }

    /// The language runtime named at the end of the `User-Agent` (e.g. `CPython/3.11.7`);
    /// bindings set it.
    #[doc(hidden)]
    pub fn runtime(mut self, runtime: impl Into<String>) -> Self {
        self.runtime = Some(runtime.into());
        self
    }

    /// The operating system and architecture named in the `User-Agent`, as the binding's
    /// language spells them (Node: `linux`, `x64`); else Rust's (`linux`, `x86_64`).
    #[doc(hidden)]
    pub fn platform(mut self, os: impl Into<String>, arch: impl Into<String>) -> Self {
        self.platform = Some((os.into(), arch.into()));
        self
    }

    /// The API key (`ml_live_…`); else `MIXERLEAD_API_KEY`.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// The base URL; else `MIXERLEAD_BASE_URL`, else `https://ai.mixerlead.com/api`.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The project id sent as `X-Project-Id`; else `MIXERLEAD_PROJECT_ID`, else none.
    pub fn project_id(mut self, id: impl Into<String>) -> Self {
        self.project_id = Some(id.into());
        self
    }

    /// Time until response headers, per attempt (default 60 s).
    pub fn timeout(self, timeout: Duration) -> Self {
        self.timeout_secs(timeout.as_secs_f64())
    }

    /// [`ClientBuilder::timeout`] in seconds, as the bindings take it.
    pub fn timeout_secs(mut self, seconds: f64) -> Self {
        self.timeout = Some(seconds);
        self
    }

    /// Time to establish a connection (default 10 s).
    pub fn connect_timeout(self, timeout: Duration) -> Self {
        self.connect_timeout_secs(timeout.as_secs_f64())
    }

    /// [`ClientBuilder::connect_timeout`] in seconds.
    pub fn connect_timeout_secs(mut self, seconds: f64) -> Self {
        self.connect_timeout = Some(seconds);
        self
    }

    /// Longest silence between body bytes of a stream (default 120 s).
    pub fn read_timeout(self, timeout: Duration) -> Self {
        self.read_timeout_secs(timeout.as_secs_f64())
    }

    /// [`ClientBuilder::read_timeout`] in seconds.
    pub fn read_timeout_secs(mut self, seconds: f64) -> Self {
        self.read_timeout = Some(seconds);
        self
    }

    /// Retries after the first attempt (default 2; `MIXERLEAD_MAX_RETRIES`). `0` disables them:
    /// use it when your application already retries, or attempts multiply.
    pub fn max_retries(mut self, retries: i64) -> Self {
        self.max_retries = Some(retries);
        self
    }

    /// Longest single wait before a retry (default 60 s). A server asking for a longer wait
    /// gets its error raised at once, with `retry_after` set.
    pub fn max_retry_wait(self, wait: Duration) -> Self {
        self.max_retry_wait_secs(wait.as_secs_f64())
    }

    /// [`ClientBuilder::max_retry_wait`] in seconds.
    pub fn max_retry_wait_secs(mut self, seconds: f64) -> Self {
        self.max_retry_wait = Some(seconds);
        self
    }

    /// Allow plain `http://` to a non-loopback host (else `MIXERLEAD_ALLOW_INSECURE_HTTP=1`).
    /// Your key then crosses the network in clear text.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = Some(allow);
        self
    }

    /// The surface named in the `User-Agent` (`rust`, `python`, `node`, `c`); bindings set it.
    #[doc(hidden)]
    pub fn surface(mut self, surface: &'static str) -> Self {
        self.surface = Some(surface);
        self
    }

    /// Checks every option and builds the client. Fails with a configuration error (no key,
    /// bad URL, insecure http) or an invalid-argument error (a bad number).
    pub fn build(self) -> Result<crate::Client> {
        crate::Client::from_config(Config::resolve(self, &|name| std::env::var(name).ok())?)
    }
}

/// The resolved, checked options of one client.
#[derive(Clone)]
pub(crate) struct Config {
    pub api_key: String,
    /// Without a trailing slash, so that `base + "/chat"` never has `//`.
    pub base_url: String,
    pub project_id: Option<String>,
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    pub max_retries: u32,
    pub max_retry_wait: Duration,
    /// Certificates trusted besides the system's roots (from `ca_file`), and its path.
    pub ca_file: Option<(String, Vec<reqwest::Certificate>)>,
    /// The proxy option's URL (checked by [`proxy_of`]).
    pub proxy: Option<String>,
    /// The `User-Agent` header's value.
    pub user_agent: String,
    /// Traffic control: the scope's shared gate and pacing, the concurrency slots.
    pub traffic: crate::traffic::Traffic,
    /// What this was resolved from, for [`crate::Client::with_options`].
    pub source: ClientBuilder,
    /// Where the client's log records go.
    pub log: crate::log::Log,
    /// The cassette every exchange is recorded into (the `record` option).
    pub record: Option<crate::record::Recorder>,
}

impl Config {
    pub fn resolve(b: ClientBuilder, env: &dyn Fn(&str) -> Option<String>) -> Result<Config> {
        let source = b.clone();
        let api_key = match b.api_key.or_else(|| env(ENV_API_KEY)) {
            Some(key) if !key.trim().is_empty() => key,
            _ => {
                return Err(Error::config(format!(
                    "no API key: pass api_key or set the {ENV_API_KEY} environment variable"
                )))
            }
        };
        check_header_value("api_key", &api_key)?;
        let project_id = b.project_id.or_else(|| env(ENV_PROJECT_ID).filter(|p| !p.is_empty()));
        if let Some(id) = &project_id {
            check_header_value("project_id", id)?;
        }
        let allow_insecure = match b.allow_insecure_http {
            Some(allow) => allow,
            None => env(ENV_ALLOW_INSECURE_HTTP).is_some_and(|v| v.trim() == "1"),
        };
        let base_url = b
            .base_url
            .or_else(|| env(ENV_BASE_URL).filter(|u| !u.is_empty()))
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
        let base_url = check_base_url(&base_url, allow_insecure)?;
        let max_retries = match b.max_retries {
            Some(n) => n,
            None => match env(ENV_MAX_RETRIES) {
                Some(text) => text
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| Error::config(format!("{ENV_MAX_RETRIES} must be a whole number, got {text:?}")))?,
                None => DEFAULT_MAX_RETRIES.into(),
            },
        };
        let max_retries = u32::try_from(max_retries).map_err(|_| {
            Error::invalid(format!("max_retries must be between 0 and {}, got {max_retries}", u32::MAX))
        })?;
        let ca_file = match b.ca_file {
            Some(path) => Some(read_ca_file(&path).map(|certs| (path, certs))?),
            None => None,
        };
        let proxy = match b.proxy.filter(|p| !p.trim().is_empty()) {
            Some(_) if base_url.starts_with("http://") => {
                return Err(Error::config(
                    "proxy cannot be used with a plain-http base URL: the proxy would see the API key in clear",
                ))
            }
            Some(url) => {
                proxy_of(&url)?;
                Some(url)
            }
            None => None,
        };
        let (os, arch) = match &b.platform {
            Some((os, arch)) => (os.as_str(), arch.as_str()),
            None => (std::env::consts::OS, std::env::consts::ARCH),
        };
        let mut user_agent = crate::transport::user_agent(b.surface.unwrap_or("rust"), os, arch);
        if let Some(runtime) = b.runtime.filter(|r| !r.is_empty()) {
            user_agent.push(' ');
            user_agent.push_str(&runtime);
        }
        check_header_value("the User-Agent", &user_agent)?;
        let traffic = crate::traffic::Traffic::resolve(
            b.rate_limit,
            b.rate_limit_burst,
            b.rate_limit_redis.or_else(|| env(ENV_RATE_LIMIT_REDIS).filter(|u| !u.trim().is_empty())),
            b.max_concurrency,
            (&api_key, &base_url, project_id.as_deref()),
        )?;
        let record = match b.record.clone().or_else(|| env(crate::record::ENV_RECORD)).filter(|p| !p.is_empty()) {
            Some(path) => Some(crate::record::Recorder::open(&path, &api_key)?),
            None => None,
        };
        Ok(Config {
            record,
            api_key,
            base_url,
            project_id,
            timeout: positive_secs("timeout", b.timeout.unwrap_or(DEFAULT_TIMEOUT))?,
            connect_timeout: positive_secs("connect_timeout", b.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT))?,
            read_timeout: positive_secs("read_timeout", b.read_timeout.unwrap_or(DEFAULT_READ_TIMEOUT))?,
            max_retries,
            max_retry_wait: non_negative_secs("max_retry_wait", b.max_retry_wait.unwrap_or(DEFAULT_MAX_RETRY_WAIT))?,
            ca_file,
            proxy,
            user_agent,
            traffic,
            log: source.log.clone(),
            source,
        })
    }
}

/// The key as it may be shown: its last 4 characters at most.
pub(crate) fn redact_key(key: &str) -> String {
    let tail: String = key.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    if key.chars().count() > 8 {
        format!("…{tail}")
    } else {
        "…".to_string()
    }
}

fn check_header_value(name: &str, value: &str) -> Result<()> {
    if value.bytes().any(|b| b < 0x20 && b != b'\t' || b == 0x7f) {
        return Err(Error::invalid(format!("{name} contains a control character")));
    }
    Ok(())
}

pub(crate) fn positive_secs(name: &str, seconds: f64) -> Result<Duration> {
    if !(seconds.is_finite() && seconds > 0.0) {
        return Err(Error::invalid(format!("{name} must be a positive number of seconds, got {seconds}")));
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| Error::invalid(format!("{name} is too large: {seconds}")))
}

fn non_negative_secs(name: &str, seconds: f64) -> Result<Duration> {
    if !(seconds.is_finite() && seconds >= 0.0) {
        return Err(Error::invalid(format!("{name} must be zero or more seconds, got {seconds}")));
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| Error::invalid(format!("{name} is too large: {seconds}")))
}

/// The certificates of a PEM file: a configuration error naming `ca_file` when it cannot be
/// read or holds none.
fn read_ca_file(path: &str) -> Result<Vec<reqwest::Certificate>> {
    let pem = std::fs::read(path).map_err(|e| Error::config(format!("ca_file {path:?} cannot be read: {e}")))?;
    let certs = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| Error::config(format!("ca_file {path:?} is not a PEM certificate bundle: {e}")))?;
    if certs.is_empty() {
        return Err(Error::config(format!("ca_file {path:?} holds no PEM certificate")));
    }
    Ok(certs)
}

/// The proxy option as reqwest takes it, with `NO_PROXY` from the environment.
pub(crate) fn proxy_of(url: &str) -> Result<reqwest::Proxy> {
    let shown = redact_credentials(url);
    let parsed =
        reqwest::Url::parse(url.trim()).map_err(|e| Error::config(format!("invalid proxy URL {shown:?}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https" | "socks5" | "socks5h") || parsed.host_str().is_none() {
        return Err(Error::config(format!("invalid proxy URL {shown:?}: it needs http(s):// and a host")));
    }
    let proxy = reqwest::Proxy::all(parsed).map_err(|e| Error::config(format!("invalid proxy URL {shown:?}: {e}")))?;
    Ok(proxy.no_proxy(reqwest::NoProxy::from_env()))
}

/// `url` as it may be shown: any `user:password@` replaced by `***@`.
fn redact_credentials(url: &str) -> String {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[authority_start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_len].rfind('@') {
        Some(at) => format!("{}***{}", &url[..authority_start], &rest[at..]),
        None => url.to_string(),
    }
}

/// Parses and checks the base URL; returns it without a trailing slash.
fn check_base_url(raw: &str, allow_insecure: bool) -> Result<String> {
    let shown = redact_credentials(raw);
    let url = reqwest::Url::parse(raw.trim()).map_err(|e| Error::config(format!("invalid base URL {shown:?}: {e}")))?;
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::config(format!("invalid base URL {shown:?}: it must not have a query or fragment")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::config("invalid base URL: it must not carry credentials"));
    }
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure || is_loopback(&url) => {}
        "http" => {
            return Err(Error::config(format!(
                "refusing plain http:// to {}: the API key would cross the network unencrypted; \
                 use https://, or allow_insecure_http / {ENV_ALLOW_INSECURE_HTTP}=1",
                url.host_str().unwrap_or("")
            )))
        }
        other => return Err(Error::config(format!("invalid base URL {shown:?}: scheme {other:?} is not http(s)"))),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::config(format!("invalid base URL {shown:?}: no host")));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(b: ClientBuilder, env: &[(&str, &str)]) -> Result<Config> {
        let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::resolve(b, &move |name| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    fn kind(r: Result<Config>) -> crate::ErrorKind {
        r.err().expect("expected an error").kind()
    }

    #[test]
    fn missing_key_names_the_variable() {
        let err = resolve(ClientBuilder::default(), &[]).err().unwrap();
        assert_eq!(err.kind(), crate::ErrorKind::Configuration);
        assert!(err.message().contains("MIXERLEAD_API_KEY"));
    }

    #[test]
    fn arguments_beat_environment_beats_defaults() {
        let env = [
            ("MIXERLEAD_API_KEY", "ml_live_env"),
            ("MIXERLEAD_BASE_URL", "https://env.example/api/"),
            ("MIXERLEAD_PROJECT_ID", "p_env"),
            ("MIXERLEAD_MAX_RETRIES", "5"),
        ];
        let c = resolve(ClientBuilder::default(), &env).unwrap();
        assert_eq!(c.api_key, "ml_live_env");
        assert_eq!(c.base_url, "https://env.example/api");
        assert_eq!(c.project_id.as_deref(), Some("p_env"));
        assert_eq!(c.max_retries, 5);
        assert_eq!(c.timeout, Duration::from_secs(60));
        assert_eq!(c.connect_timeout, Duration::from_secs(10));
        assert_eq!(c.read_timeout, Duration::from_secs(120));
        assert_eq!(c.max_retry_wait, Duration::from_secs(60));
        let b = ClientBuilder::default()
            .api_key("ml_live_arg")
            .base_url("https://arg.example/api")
            .project_id("p_arg")
            .max_retries(0);
        let c = resolve(b, &env).unwrap();
        assert_eq!(c.api_key, "ml_live_arg");
        assert_eq!(c.base_url, "https://arg.example/api");
        assert_eq!(c.project_id.as_deref(), Some("p_arg"));
        assert_eq!(c.max_retries, 0);
        let c = resolve(ClientBuilder::default().api_key("k"), &[]).unwrap();
        assert_eq!(c.base_url, DEFAULT_BASE_URL);
        assert_eq!(c.project_id, None);
    }

    #[test]
    fn trailing_slash_is_dropped() {
        for url in ["https://h.example/api", "https://h.example/api/", "https://h.example/api//"] {
            let c = resolve(ClientBuilder::default().api_key("k").base_url(url), &[]).unwrap();
            assert_eq!(c.base_url, "https://h.example/api");
        }
    }

    #[test]
    fn insecure_http_is_refused_except_loopback() {
        use crate::ErrorKind::Configuration;
        let b = |u: &str| ClientBuilder::default().api_key("k").base_url(u);
        assert_eq!(kind(resolve(b("http://example.com/api"), &[])), Configuration);
        assert_eq!(kind(resolve(b("http://10.0.0.1/api"), &[])), Configuration);
        for ok in ["http://localhost:1/api", "http://127.0.0.1/api", "http://127.8.9.1/", "http://[::1]:9/api"] {
            resolve(b(ok), &[]).unwrap();
        }
        resolve(b("http://example.com/api").allow_insecure_http(true), &[]).unwrap();
        resolve(b("http://example.com/api"), &[("MIXERLEAD_ALLOW_INSECURE_HTTP", "1")]).unwrap();
        assert_eq!(
            kind(resolve(b("http://example.com/api"), &[("MIXERLEAD_ALLOW_INSECURE_HTTP", "0")])),
            Configuration
        );
    }

    #[test]
    fn bad_values_fail_before_network_use() {
        use crate::ErrorKind::{Configuration, InvalidArgument};
        let b = || ClientBuilder::default().api_key("k");
        assert_eq!(kind(resolve(b().base_url("not a url"), &[])), Configuration);
        assert_eq!(kind(resolve(b().base_url("ftp://h/api"), &[])), Configuration);
        assert_eq!(kind(resolve(b().timeout_secs(-1.0), &[])), InvalidArgument);
        assert_eq!(kind(resolve(b().timeout_secs(f64::NAN), &[])), InvalidArgument);
        assert_eq!(kind(resolve(b().connect_timeout_secs(0.0), &[])), InvalidArgument);
        assert_eq!(kind(resolve(b().read_timeout_secs(-0.5), &[])), InvalidArgument);
        assert_eq!(kind(resolve(b().max_retry_wait_secs(-1.0), &[])), InvalidArgument);
        assert_eq!(kind(resolve(b().max_retries(-1), &[])), InvalidArgument);
        assert_eq!(kind(resolve(b(), &[("MIXERLEAD_MAX_RETRIES", "many")])), Configuration);
        assert_eq!(kind(resolve(b().project_id("a\nb"), &[])), InvalidArgument);
        resolve(b().max_retry_wait_secs(0.0), &[]).unwrap();
    }

    #[test]
    fn credentials_in_a_base_url_are_never_echoed() {
        let b = |u: &str| ClientBuilder::default().api_key("k").base_url(u);
        for url in [
            "https://user:hunter2@h.example/api",
            "ftp://user:hunter2@h.example/api",
            "https://user:hunter2@h.example/api?x=1",
            "user:hunter2@h.example/api",
            "https://user:hunter2@[::1/api",
        ] {
            let err = resolve(b(url), &[]).err().expect(url);
            assert_eq!(err.kind(), crate::ErrorKind::Configuration);
            assert!(!err.message().contains("hunter2"), "{url}: {}", err.message());
        }
        assert_eq!(redact_credentials("https://a:b@h/p@q"), "https://***@h/p@q");
        assert_eq!(redact_credentials("https://h/p"), "https://h/p");
    }

    #[test]
    fn options_by_name_in_either_spelling() {
        use OptionValue::*;
        let b = ClientBuilder::default()
            .set("api_key", Text("ml_k".into()))
            .and_then(|b| b.set("baseUrl", Text("https://h.example/api".into())))
            .and_then(|b| b.set("timeout", Number(2.5)))
            .and_then(|b| b.set("maxRetries", Number(0.0)))
            .and_then(|b| b.set("allow_insecure_http", Flag(false)))
            .unwrap();
        let c = resolve(b, &[]).unwrap();
        assert_eq!(
            (c.base_url.as_str(), c.timeout, c.max_retries),
            ("https://h.example/api", Duration::from_millis(2500), 0)
        );
        let unknown = ClientBuilder::default().set("tiemout", Number(1.0)).err().unwrap();
        assert_eq!(unknown.kind(), crate::ErrorKind::Configuration);
        assert!(unknown.message().contains("tiemout"), "{unknown}");
        for (name, value) in [("timeout", Text("1".into())), ("max_retries", Number(1.5)), ("api_key", Flag(true))] {
            let e = ClientBuilder::default().set(name, value).err().unwrap();
            assert!(e.kind() == crate::ErrorKind::InvalidArgument && e.message().contains(name), "{e}");
        }
    }

    #[test]
    fn user_agent_names_the_runtime_when_given() {
        let b = ClientBuilder::default().api_key("k").surface("python").runtime("CPython/3.11.7");
        let c = resolve(b, &[]).unwrap();
        assert!(c.user_agent.starts_with("mixerlead-python/"), "{}", c.user_agent);
        assert!(c.user_agent.ends_with(") CPython/3.11.7"), "{}", c.user_agent);
        let b = ClientBuilder::default().api_key("k").surface("node").platform("linux", "x64").runtime("node/20.20.2");
        let c = resolve(b, &[]).unwrap();
        assert_eq!(c.user_agent, format!("mixerlead-node/{} (linux; x64) node/20.20.2", crate::VERSION));
    }

    #[test]
    fn key_is_redacted_to_last_four() {
        assert_eq!(redact_key("ml_live_abcdef123456"), "…3456");
        assert_eq!(redact_key("short"), "…");
        let dbg = format!("{:?}", ClientBuilder::default().api_key("ml_live_secretsecret9999"));
        assert!(!dbg.contains("secretsecret"), "{dbg}");
    }
}
