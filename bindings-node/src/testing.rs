//! `mixerlead/testing`: the emulator (the `mixerlead-emulator` crate) started in-process on the
//! core runtime, for users' own tests.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use mixerlead::{Error, ErrorKind};
use mixerlead_emulator::{Emulator, EmulatorConfig, Format, Stats};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::{guard, to_napi, InvalidAs};
use crate::wait::promise;

/// How the emulator behaves when a request does not script otherwise.
#[napi(object)]
#[derive(Default)]
pub struct NativeEmulatorOptions {
    /// Port on 127.0.0.1 (default 0: a free port).
    pub port: Option<u32>,
    /// Serve https with a certificate made at start (see `caPem`).
    pub tls: Option<bool>,
    /// Wire format of replies: `sse` (default), `ndjson`, `jsonl`, `json`, `text`, `none`.
    pub format: Option<String>,
    /// Milliseconds between the pieces of a reply (default 0).
    pub token_delay_ms: Option<f64>,
    /// Requests a second allowed per key (default: no limit).
    pub rate_limit: Option<u32>,
    /// Milliseconds a knowledge source stays `indexing` (default 300).
    pub index_delay_ms: Option<f64>,
    /// The largest upload taken, in bytes of the whole request body (then 413; default 8 MiB).
    pub max_upload_bytes: Option<f64>,
    /// Agent runs a workspace may make (then 403, the daily quota; default 5).
    pub agent_runs_per_day: Option<u32>,
    /// A cassette (recorded with a client's `record` option) to replay instead of the service.
    pub cassette: Option<String>,
    /// With `cassette`: recorded times are divided by it (default 1; 0: at once).
    pub speed: Option<f64>,
}

/// What the emulator saw for one scenario id.
#[napi(object, object_from_js = false)]
pub struct NativeEmulatorStats {
    pub requests: f64,
    pub streams_started: f64,
    pub streams_completed: f64,
    pub client_disconnects: f64,
    pub request_times: Vec<f64>,
    pub disconnect_times: Vec<f64>,
    pub last_headers: std::collections::HashMap<String, String>,
    pub last_path: String,
    pub last_body: String,
    pub last_authorized: bool,
    pub replayed: f64,
    pub unmatched: f64,
}

impl From<Stats> for NativeEmulatorStats {
    fn from(s: Stats) -> Self {
        NativeEmulatorStats {
            requests: s.requests as f64,
            streams_started: s.streams_started as f64,
            streams_completed: s.streams_completed as f64,
            client_disconnects: s.client_disconnects as f64,
            request_times: s.request_times,
            disconnect_times: s.disconnect_times,
            last_headers: s.last_headers,
            last_path: s.last_path,
            last_body: s.last_body,
            last_authorized: s.last_authorized,
            replayed: s.replayed as f64,
            unmatched: s.unmatched as f64,
        }
    }
}

/// A running emulator; `stop` (or garbage collection) stops it.
#[napi]
pub struct NativeEmulator {
    inner: Mutex<Option<Arc<Emulator>>>,
    base_url: String,
    ca_pem: Option<String>,
}

fn invalid(message: String) -> napi::Error {
    to_napi(Error::new(ErrorKind::InvalidArgument, message), InvalidAs::Range)
}

#[napi]
impl NativeEmulator {
    /// A promise of an emulator listening on 127.0.0.1, started on the core runtime.
    #[napi(catch_unwind)]
    pub fn start(env: &Env, options: Option<NativeEmulatorOptions>) -> Result<Object<'_>> {
        guard(|| {
            let o = options.unwrap_or_default();
            let mut config = EmulatorConfig::default();
            if let Some(port) = o.port {
                config.port =
                    u16::try_from(port).map_err(|_| invalid(format!("port must be at most 65535, got {port}")))?;
            }
            config.tls = o.tls.unwrap_or(false);
            if let Some(format) = o.format {
                config.format = Format::parse(&format).map_err(invalid)?;
            }
            if let Some(ms) = o.token_delay_ms {
                config.token_delay = Duration::try_from_secs_f64(ms / 1000.0)
                    .map_err(|_| invalid(format!("tokenDelayMs must be zero or more milliseconds, got {ms}")))?;
            }
            config.rate_limit = o.rate_limit;
            if let Some(ms) = o.index_delay_ms {
                config.index_delay = Duration::try_from_secs_f64(ms / 1000.0)
                    .map_err(|_| invalid(format!("indexDelayMs must be zero or more milliseconds, got {ms}")))?;
            }
            if let Some(bytes) = o.max_upload_bytes {
                if !(bytes >= 0.0 && bytes.fract() == 0.0) {
                    return Err(invalid(format!("maxUploadBytes must be a whole number of bytes, got {bytes}")));
                }
                // Past usize::MAX (or 2^53): no limit, as the flag of the emulator's command line.
                config.max_upload = if bytes < usize::MAX as f64 { bytes as usize } else { usize::MAX };
            }
            if let Some(runs) = o.agent_runs_per_day {
                config.agent_runs_per_day = runs;
            }
            config.cassette = o.cassette.map(Into::into);
            if let Some(speed) = o.speed {
                if !(speed.is_finite() && speed >= 0.0) {
                    return Err(invalid(format!("speed must be zero or more, got {speed}")));
                }
                config.speed = speed;
            }
            promise(env, InvalidAs::Type, async move {
                let emulator = Emulator::start(config)
                    .await
                    .map_err(|e| Error::new(ErrorKind::Configuration, format!("the emulator could not start: {e}")))?;
                Ok(NativeEmulator {
                    base_url: emulator.base_url(),
                    ca_pem: emulator.ca_pem().map(str::to_string),
                    inner: Mutex::new(Some(Arc::new(emulator))),
                })
            })
        })
    }

    fn emulator(&self) -> Result<Arc<Emulator>> {
        let inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner
            .clone()
            .ok_or_else(|| to_napi(Error::new(ErrorKind::Configuration, "the emulator was stopped"), InvalidAs::Type))
    }

    /// `http://127.0.0.1:PORT/api` (`https` with TLS).
    #[napi(getter, catch_unwind)]
    pub fn base_url(&self) -> Result<String> {
        guard(|| Ok(self.base_url.clone()))
    }

    /// With TLS, the certificate (PEM) clients must trust; else `null`.
    #[napi(getter, catch_unwind)]
    pub fn ca_pem(&self) -> Result<Option<String>> {
        guard(|| Ok(self.ca_pem.clone()))
    }

    /// The base URL that scripts every request with `script` (`id=t1;fail=429;times=2`).
    #[napi(catch_unwind)]
    pub fn scenario_url(&self, script: String) -> Result<String> {
        guard(|| Ok(self.emulator()?.scenario_url(&script)))
    }

    /// What the emulator saw for scenario id `id` (`""`: requests without one).
    #[napi(catch_unwind)]
    pub fn stats(&self, id: String) -> Result<NativeEmulatorStats> {
        guard(|| Ok(self.emulator()?.stats(&id).into()))
    }

    /// A promise of the stats of `id` once they show `count` client disconnects, or after
    /// `within_ms` milliseconds.
    #[napi(catch_unwind)]
    pub fn wait_for_disconnects<'env>(
        &self,
        env: &'env Env,
        id: String,
        count: u32,
        within_ms: f64,
    ) -> Result<Object<'env>> {
        guard(|| {
            let emulator = self.emulator()?;
            let within = Duration::try_from_secs_f64(within_ms / 1000.0)
                .map_err(|_| invalid(format!("within must be zero or more milliseconds, got {within_ms}")))?;
            promise(env, InvalidAs::Type, async move {
                Ok(NativeEmulatorStats::from(emulator.wait_for_disconnects(&id, count.into(), within).await))
            })
        })
    }

    /// Stops listening (connections already open finish on their own). Idempotent.
    #[napi(catch_unwind)]
    pub fn stop(&self) -> Result<()> {
        guard(|| {
            let stopped = self.inner.lock().unwrap_or_else(|p| p.into_inner()).take();
            drop(stopped);
            Ok(())
        })
    }
}
