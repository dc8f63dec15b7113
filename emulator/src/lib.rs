//! # mixerlead-emulator
//!
//! A local server that speaks MixerLead's Workspace API (models list, streamed chat with
//! conversations, all four wire formats, per-key rate limits) and fails on request, for tests
//! and offline development. Start it on port 0 from a test:
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let emulator = mixerlead_emulator::Emulator::start(Default::default()).await?;
//! let base_url = emulator.scenario_url("id=t1;fail=429;times=1;retry_after=0.1");
//! // … point a client at base_url, then:
//! assert_eq!(emulator.stats("t1").requests, 2);
//! # Ok(()) }
//! ```
//!
//! Faults are scripted per request through the base URL (see [`Scenario`]), so every language's
//! client can ask for them with nothing but its `base_url` option. A script's `times=N` and its
//! stats count the requests of that script alone: those of its `id=`, or, without one, of the
//! same script string. `GET /_emulator/stats?id=…` reports what the emulator saw, as JSON.
//!
//! Given a cassette ([`EmulatorConfig::cassette`], recorded by a client's `record` option) it
//! serves that instead: every request is answered by the next unused recorded exchange with the
//! same method, path and body, at the recorded pace divided by [`EmulatorConfig::speed`].
//!
//! With TLS it speaks HTTP/2 to clients that negotiate `h2` (HTTP/1.1 otherwise, and always over
//! plain http), with the same replies and faults; every response names the protocol in its
//! `x-emulator-protocol` header (`HTTP/2` or `HTTP/1.1`).

mod cassette;
mod http;
mod http2;
mod reply;
mod scenario;
mod server;
mod sink;
mod tls;
mod workspace;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use cassette::CASSETTE_VERSION;
pub use scenario::Scenario;

/// The wire format of a chat reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// `text/event-stream`, `data: {"text": …}` events, then `data: [DONE]`.
    #[default]
    Sse,
    /// `application/x-ndjson`, one `{"text": …}` a line, then `{"type":"done"}`.
    Ndjson,
    /// The same lines as `application/jsonl`.
    Jsonl,
    /// `application/json`: the whole reply as `{"reply": …}`.
    Json,
    /// `text/plain; charset=utf-8`: the raw text.
    Text,
    /// Raw text with no `Content-Type` at all.
    Untyped,
}

impl Format {
    /// Parses `sse`, `ndjson`, `jsonl`, `json`, `text` or `none`.
    pub fn parse(name: &str) -> Result<Format, String> {
        Ok(match name {
            "sse" => Format::Sse,
            "ndjson" => Format::Ndjson,
            "jsonl" => Format::Jsonl,
            "json" => Format::Json,
            "text" => Format::Text,
            "none" => Format::Untyped,
            other => return Err(format!("unknown format {other:?} (sse, ndjson, jsonl, json, text, none)")),
        })
    }

    fn content_type(self) -> Option<&'static str> {
        match self {
            Format::Sse => Some("text/event-stream"),
            Format::Ndjson => Some("application/x-ndjson"),
            Format::Jsonl => Some("application/jsonl"),
            Format::Json => Some("application/json"),
            Format::Text => Some("text/plain; charset=utf-8"),
            Format::Untyped => None,
        }
    }
}

/// How the emulator behaves when a request does not script otherwise.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Port on 127.0.0.1 (0: any free port).
    pub port: u16,
    /// Default wire format of chat replies.
    pub format: Format,
    /// Default delay between pieces.
    pub token_delay: Duration,
    /// Requests a second allowed per key (`None`: no limit).
    pub rate_limit: Option<u32>,
    /// Serve https with a certificate for `127.0.0.1` and `localhost` made at start, instead of
    /// plain http. HTTP/2 when the client negotiates it (ALPN `h2`), else HTTP/1.1.
    pub tls: bool,
    /// With `tls`: offer HTTP/1.1 alone (no `h2` in ALPN), for clients to fall back to.
    pub http1_only: bool,
    /// With `tls`: where the binaries write that certificate (PEM), for clients to trust.
    pub tls_ca_out: Option<std::path::PathBuf>,
    /// How long a knowledge source stays `indexing`.
    pub index_delay: Duration,
    /// The largest upload (whole request body, bytes) taken; larger ones get 413.
    pub max_upload: usize,
    /// Agent runs a workspace may make (then 403, the daily quota).
    pub agent_runs_per_day: u32,
    /// A cassette to replay instead of the emulated service (see the crate's documentation).
    pub cassette: Option<std::path::PathBuf>,
    /// How fast a cassette replays: recorded times are divided by it (`0`: every chunk at once).
    pub speed: f64,
}

impl EmulatorConfig {
    fn limits(&self) -> workspace::Limits {
        workspace::Limits {
            index_delay: self.index_delay,
            max_upload: self.max_upload,
            agent_runs_per_day: self.agent_runs_per_day,
        }
    }
}

impl EmulatorConfig {
    /// Reads `--port P --format F --token-delay-ms N --rate-limit N --tls --tls-ca-out PATH
    /// --http1-only --index-delay-ms N --max-upload-bytes N --agent-runs-per-day N
    /// --cassette FILE --speed X`
    /// (the command line of `mixerlead emulator` and `mixerlead-emulator`).
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<EmulatorConfig, String> {
        let mut config = EmulatorConfig::default();
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
            let number =
                |text: String| text.parse::<u64>().map_err(|_| format!("{flag} needs a whole number, got {text:?}"));
            match flag.as_str() {
                "--port" => {
                    config.port = number(value()?)?.try_into().map_err(|_| "--port is at most 65535".to_string())?
                }
                "--format" => config.format = Format::parse(&value()?)?,
                "--token-delay-ms" => config.token_delay = Duration::from_millis(number(value()?)?),
                "--rate-limit" => config.rate_limit = Some(number(value()?)?.try_into().unwrap_or(u32::MAX)),
                "--tls" => config.tls = true,
                "--http1-only" => config.http1_only = true,
                "--index-delay-ms" => config.index_delay = Duration::from_millis(number(value()?)?),
                "--max-upload-bytes" => config.max_upload = number(value()?)?.try_into().unwrap_or(usize::MAX),
                "--agent-runs-per-day" => config.agent_runs_per_day = number(value()?)?.try_into().unwrap_or(u32::MAX),
                "--tls-ca-out" => config.tls_ca_out = Some(value()?.into()),
                "--cassette" => config.cassette = Some(value()?.into()),
                "--speed" => {
                    let text = value()?;
                    config.speed = text
                        .parse::<f64>()
                        .ok()
                        .filter(|s| s.is_finite() && *s >= 0.0)
                        .ok_or_else(|| format!("--speed needs a number, zero or more, got {text:?}"))?;
                }
                other => {
                    return Err(format!(
                    "unknown option {other:?} (--port, --format, --token-delay-ms, --rate-limit, --tls, --tls-ca-out, \
                         --http1-only, --index-delay-ms, --max-upload-bytes, --agent-runs-per-day, --cassette, --speed)"
                ))
                }
            }
        }
        Ok(config)
    }
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            port: 0,
            format: Format::Sse,
            token_delay: Duration::ZERO,
            rate_limit: None,
            tls: false,
            http1_only: false,
            tls_ca_out: None,
            index_delay: Duration::from_millis(300),
            max_upload: 8 << 20,
            agent_runs_per_day: 5,
            cassette: None,
            speed: 1.0,
        }
    }
}

/// What the emulator saw for one scenario id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    /// Requests (attempts) received.
    pub requests: u64,
    /// Chat replies that began streaming.
    pub streams_started: u64,
    /// Chat replies sent to the end.
    pub streams_completed: u64,
    /// Replies the client abandoned: it closed the connection mid-reply.
    pub client_disconnects: u64,
    /// When each request arrived, in seconds since the emulator started.
    pub request_times: Vec<f64>,
    /// When each client disconnect was seen, in seconds since the emulator started.
    pub disconnect_times: Vec<f64>,
    /// Headers of the last request (without `authorization`), names lower-case.
    pub last_headers: HashMap<String, String>,
    /// Path of the last request, as sent.
    pub last_path: String,
    /// Body of the last request.
    pub last_body: String,
    /// Whether the last request carried an `Authorization` header (its value is never kept).
    pub last_authorized: bool,
    /// With a cassette: requests answered from it.
    pub replayed: u64,
    /// With a cassette: requests no recorded exchange matched (answered with 404).
    pub unmatched: u64,
}

impl Stats {
    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "requests": self.requests,
            "streams_started": self.streams_started,
            "streams_completed": self.streams_completed,
            "client_disconnects": self.client_disconnects,
            "request_times": self.request_times,
            "disconnect_times": self.disconnect_times,
            "last_headers": self.last_headers,
            "last_path": self.last_path,
            "last_body": self.last_body,
            "last_authorized": self.last_authorized,
            "replayed": self.replayed,
            "unmatched": self.unmatched,
        })
    }
}

/// State shared by every connection.
pub(crate) struct State {
    config: EmulatorConfig,
    started: Instant,
    stats: Mutex<HashMap<String, Stats>>,
    conversations: Mutex<HashMap<String, usize>>,
    next_conversation: Mutex<u64>,
    rate_windows: Mutex<HashMap<String, (Instant, u32)>>,
    workspaces: workspace::Workspaces,
    /// The cassette replayed instead of the emulated service.
    cassette: Option<cassette::Cassette>,
    /// Connections accepted, of any protocol.
    connections: std::sync::atomic::AtomicU64,
}

impl State {
    /// The state of an emulator with `config`; fails (naming the file and line) when its
    /// cassette cannot be read.
    fn new(config: EmulatorConfig) -> std::io::Result<State> {
        let cassette = match &config.cassette {
            Some(path) => Some(
                cassette::Cassette::load(path, config.speed)
                    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?,
            ),
            None => None,
        };
        Ok(State {
            cassette,
            config,
            started: Instant::now(),
            stats: Mutex::default(),
            conversations: Mutex::default(),
            next_conversation: Mutex::new(0),
            rate_windows: Mutex::default(),
            workspaces: workspace::Workspaces::default(),
            connections: Default::default(),
        })
    }

    fn now(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    /// The stats of `id`, else of `id` percent-decoded (how a script is its own id).
    fn stats_of(&self, id: &str) -> Stats {
        let stats = self.stats.lock().unwrap();
        stats.get(id).or_else(|| stats.get(&Scenario::id_of(id))).cloned().unwrap_or_default()
    }

    fn with_stats<T>(&self, id: &str, f: impl FnOnce(&mut Stats) -> T) -> T {
        let mut stats = self.stats.lock().unwrap();
        f(stats.entry(id.to_string()).or_default())
    }
}

/// A running emulator. Dropping it stops it.
pub struct Emulator {
    addr: SocketAddr,
    state: Arc<State>,
    /// With TLS: the certificate (PEM) clients must trust.
    ca_pem: Option<String>,
    task: tokio::task::JoinHandle<()>,
}

impl Emulator {
    /// Starts the emulator on 127.0.0.1 on the current tokio runtime. A cassette that cannot be
    /// replayed (missing, not JSON, of another version, cut mid-line) is an
    /// [`std::io::ErrorKind::InvalidData`] error naming the file and the line.
    pub async fn start(config: EmulatorConfig) -> std::io::Result<Emulator> {
        let state = State::new(config)?;
        let config = &state.config;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port)).await?;
        let addr = listener.local_addr()?;
        let tls = config.tls.then(|| tls::Tls::new(!config.http1_only)).transpose()?;
        let ca_pem = tls.as_ref().map(|t| t.ca_pem.clone());
        let state = Arc::new(state);
        let task = tokio::spawn(server::serve(listener, state.clone(), tls.map(|t| t.acceptor)));
        Ok(Emulator { addr, state, ca_pem, task })
    }

    /// With TLS, the certificate clients must trust (PEM); `None` for plain http.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    fn scheme(&self) -> &'static str {
        if self.ca_pem.is_some() {
            "https"
        } else {
            "http"
        }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL of the plain API: `http://127.0.0.1:PORT/api` (`https` with TLS).
    pub fn base_url(&self) -> String {
        format!("{}://{}/api", self.scheme(), self.addr)
    }

    /// The base URL that scripts every request with `script` (see [`Scenario`]).
    pub fn scenario_url(&self, script: &str) -> String {
        format!("{}://{}/s/{script}/api", self.scheme(), self.addr)
    }

    /// What the emulator saw for scenario id `id`: the `id=` of a script, or the whole script
    /// for a script without one (as given to [`Emulator::scenario_url`]), or `""` for the
    /// requests sent without a script. Percent-encoded and plain forms name the same id.
    pub fn stats(&self, id: &str) -> Stats {
        self.state.stats_of(id)
    }

    /// Connections accepted so far (over HTTP/2 many requests share one).
    pub fn connections(&self) -> u64 {
        self.state.connections.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Waits up to `within` for `id` to show `count` client disconnects; returns the stats.
    pub async fn wait_for_disconnects(&self, id: &str, count: u64, within: Duration) -> Stats {
        let deadline = Instant::now() + within;
        loop {
            let stats = self.stats(id);
            if stats.client_disconnects >= count || Instant::now() >= deadline {
                return stats;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Runs an emulator until the process ends (the binaries use this).
/// With `tls`, the certificate is written to `tls_ca_out` (if set) before `on_ready` runs.
pub async fn run(config: EmulatorConfig, on_ready: impl FnOnce(SocketAddr)) -> std::io::Result<()> {
    let state = State::new(config)?;
    let config = &state.config;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port)).await?;
    let tls = config.tls.then(|| tls::Tls::new(!config.http1_only)).transpose()?;
    if let (Some(tls), Some(path)) = (&tls, &config.tls_ca_out) {
        std::fs::write(path, &tls.ca_pem)?;
    }
    on_ready(listener.local_addr()?);
    server::serve(listener, Arc::new(state), tls.map(|t| t.acceptor)).await;
    Ok(())
}
