//! The fleet's shared limit in Redis: one hash per scope, `mixerlead:rl:<scope id>`, holding the
//! GCRA schedule (`tat`) and the 429 gate (`gate`), updated by one Lua script per request —
//! atomic, one round trip, on the server's clock. When Redis is unreachable or slower than
//! [`DEADLINE`], the caller paces itself alone (one warning), and Redis is tried again after
//! [`RETRY_AFTER`]; a request never fails because of Redis.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;

use super::Limit;
use crate::error::{Error, Result};
use crate::log::Log;

/// Longest a Redis round trip (connecting included) may take before the local limiter is used.
const DEADLINE: Duration = Duration::from_millis(50);
/// How long Redis is left alone after it failed.
const RETRY_AFTER: Duration = Duration::from_secs(5);

/// Reserves the next moment of the scope's schedule, or sets its gate. Times in ms on the
/// server's clock. ARGV: mode (`reserve` | `gate`), then for `reserve` the interval (0: not
/// paced, only the gate holds), the burst tolerance and the longest wait; for `gate` the wait.
/// Returns `{allowed, wait in µs}`: a wait past the longest reserves nothing (`allowed` 0).
const SCRIPT: &str = r"
local key = KEYS[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local state = redis.call('HMGET', key, 'tat', 'gate')
local tat = tonumber(state[1]) or now
local gate = tonumber(state[2]) or 0
if ARGV[1] == 'gate' then
  local open = now + tonumber(ARGV[2])
  if open > gate then
    redis.call('HSET', key, 'gate', open)
    gate = open
  end
  redis.call('PEXPIRE', key, math.floor(math.max(tat, gate) - now) + 60000)
  return {1, 0}
end
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local longest = tonumber(ARGV[4])
if interval <= 0 then
  local wait = math.max(0, gate - now)
  return {wait <= longest and 1 or 0, math.floor(wait * 1000)}
end
if tat < now then tat = now end
if gate > now and tat < gate + tolerance then tat = gate + tolerance end
local wait = math.max(0, tat - tolerance - now)
if wait > longest then return {0, math.floor(wait * 1000)} end
redis.call('HSET', key, 'tat', tat + interval)
redis.call('PEXPIRE', key, math.floor(math.max(tat + interval, gate) - now) + 60000)
return {1, math.floor(wait * 1000)}
";

/// One Redis server, shared by every scope that names it.
pub(crate) struct Backend {
    /// The URL without its password, for messages.
    shown: String,
    client: redis::Client,
    script: redis::Script,
    /// The connection, with the pid it was made in (a forked child makes its own).
    connection: Mutex<Option<(u32, MultiplexedConnection)>>,
    /// While Redis is left alone after a failure.
    down_until: Mutex<Option<Instant>>,
    /// Whether the fallback was announced since Redis last worked.
    warned: AtomicBool,
}

impl Backend {
    /// The backend of `url` (`redis://…`, `rediss://…`), shared per URL: a configuration error
    /// naming `rate_limit_redis` when the URL is malformed. Nothing is connected yet.
    pub(crate) fn get(url: &str) -> Result<Arc<Backend>> {
        static BACKENDS: OnceLock<Mutex<HashMap<String, Arc<Backend>>>> = OnceLock::new();
        let url = url.trim();
        let shown = shown(url);
        let parsed =
            url::Url::parse(url).map_err(|e| Error::config(format!("rate_limit_redis {shown:?} is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "redis" | "rediss") || parsed.host_str().is_none_or(str::is_empty) {
            return Err(Error::config(format!(
                "rate_limit_redis {shown:?} must be a redis:// or rediss:// URL with a host"
            )));
        }
        let mut backends = BACKENDS.get_or_init(Mutex::default).lock().unwrap_or_else(|p| p.into_inner());
        if let Some(backend) = backends.get(url) {
            return Ok(backend.clone());
        }
        let client = redis::Client::open(url)
            .map_err(|e| Error::config(format!("rate_limit_redis {shown:?} is not a Redis URL: {e}")))?;
        let backend = Arc::new(Backend {
            shown,
            client,
            script: redis::Script::new(SCRIPT),
            connection: Mutex::new(None),
            down_until: Mutex::new(None),
            warned: AtomicBool::new(false),
        });
        backends.insert(url.to_string(), backend.clone());
        Ok(backend)
    }

    /// Reserves the scope's next moment in Redis at the fleet's `limit` (only the shared gate
    /// when `None`): `Ok(wait)` or `Err(wait)` past `max_wait`, in seconds; `None` when Redis
    /// cannot answer now (then the caller paces locally).
    pub(crate) async fn reserve(
        &self,
        scope: &str,
        limit: Option<Limit>,
        max_wait: Duration,
        log: &Log,
    ) -> Option<std::result::Result<f64, f64>> {
        let (interval, tolerance) = match limit {
            Some(l) => (1000.0 / l.per_second, (l.burst.max(1.0) - 1.0) * 1000.0 / l.per_second),
            None => (0.0, 0.0),
        };
        let longest = max_wait.as_secs_f64() * 1000.0;
        let args = ["reserve".to_string(), interval.to_string(), tolerance.to_string(), longest.to_string()];
        let (allowed, wait_us): (i64, i64) = self.run(scope, &args, log).await?;
        let wait = wait_us.max(0) as f64 / 1e6;
        Some(if allowed == 1 { Ok(wait) } else { Err(wait) })
    }

    /// Closes the scope's gate in Redis for `wait` seconds (in the background: the caller does
    /// not wait for it).
    pub(crate) fn close_gate(self: &Arc<Self>, scope: &str, wait: f64, log: &Log) {
        let Ok(runtime) = crate::runtime::try_runtime() else {
            return;
        };
        let (backend, scope, log) = (self.clone(), scope.to_string(), log.clone());
        let args = ["gate".to_string(), (wait * 1000.0).to_string()];
        runtime.spawn(async move {
            let _: Option<(i64, i64)> = backend.run(&scope, &args, &log).await;
        });
    }

    /// Runs the script for `scope` within [`DEADLINE`]; `None` (and the fallback announced once)
    /// when Redis is down, slow or answers an error.
    async fn run<T: redis::FromRedisValue>(&self, scope: &str, args: &[String], log: &Log) -> Option<T> {
        if self.down_until.lock().unwrap_or_else(|p| p.into_inner()).is_some_and(|until| Instant::now() < until) {
            return None;
        }
        let key = format!("mixerlead:rl:{scope}");
        let attempt = async {
            let mut connection = self.connection().await?;
            let mut invocation = self.script.key(&key);
            for arg in args {
                invocation.arg(arg);
            }
            invocation.invoke_async::<T>(&mut connection).await.map_err(|e| e.to_string())
        };
        let failure = match tokio::time::timeout(DEADLINE, attempt).await {
            Ok(Ok(value)) => {
                if self.warned.swap(false, Ordering::AcqRel) {
                    log.info(format_args!("rate_limit_redis {}: Redis answers again; the limit is shared", self.shown));
                }
                return Some(value);
            }
            Ok(Err(error)) => error,
            Err(_) => format!("no answer within {} ms", DEADLINE.as_millis()),
        };
        *self.down_until.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now() + RETRY_AFTER);
        *self.connection.lock().unwrap_or_else(|p| p.into_inner()) = None;
        if !self.warned.swap(true, Ordering::AcqRel) {
            log.warn(format_args!(
                "rate_limit_redis {}: {failure}; pacing this process alone, trying Redis again in {} s",
                self.shown,
                RETRY_AFTER.as_secs()
            ));
        }
        None
    }

    /// The connection of this process, made on first use (two callers may both make one; the
    /// last is kept).
    async fn connection(&self) -> std::result::Result<MultiplexedConnection, String> {
        let pid = crate::runtime::process_id();
        if let Some((owner, connection)) = self.connection.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            if *owner == pid {
                return Ok(connection.clone());
            }
        }
        let connection = self.client.get_multiplexed_async_connection().await.map_err(|e| e.to_string())?;
        *self.connection.lock().unwrap_or_else(|p| p.into_inner()) = Some((pid, connection.clone()));
        Ok(connection)
    }
}

/// `url` as it may be shown: a password replaced by `***`.
fn shown(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(_) => url.to_string(),
        Err(_) => "(not a URL)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_urls_are_configuration_errors_that_hide_the_password() {
        for url in ["not a url", "http://h:6379", "redis://", "redis://:hunter2@/0"] {
            let e = Backend::get(url).err().unwrap_or_else(|| panic!("{url}"));
            assert_eq!(e.kind(), crate::ErrorKind::Configuration, "{e}");
            assert!(e.message().contains("rate_limit_redis") && !e.message().contains("hunter2"), "{e}");
        }
        Backend::get("redis://127.0.0.1:1/0").unwrap();
        assert_eq!(shown("redis://u:hunter2@h:1/0"), "redis://u:***@h:1/0");
    }
}
