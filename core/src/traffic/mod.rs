//! Traffic control, consulted by the request loop before each attempt and told its outcome
//! after it. A *scope* is an API key + base URL + project in the whole process: every client of
//! it, derived or not, shares its 429 gate, its pacing and its retry budget.
//!
//! - The 429 gate: after a 429 with `Retry-After`, no request of the scope goes before then;
//!   waiters are then released at the paced rate, not all at once.
//! - Pacing: none until the scope's first 429, then an adaptive rate that follows the service
//!   (see [`pacer`]); from the start at `rate_limit` when one is set.
//! - `max_concurrency`: at most N requests of a client (and the clients derived from it) in
//!   flight, first come first served; a stream holds its slot until it ends.
//! - The retry budget (see [`budget`]) for retries after 5xx and connection failures.
//!
//! Waiting sends nothing and is cancelled by dropping the call's future; a wait longer than
//! `max_retry_wait` fails at once with a `RateLimitError` naming it.

mod budget;
mod pacer;
mod redis;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{Error, Result};
use crate::log::Log;
use budget::RetryBudget;
pub(crate) use pacer::Limit;
use pacer::Pacer;

/// A client's traffic control: its scope's shared state and its own concurrency slots.
#[derive(Clone)]
pub(crate) struct Traffic {
    /// Off with `rate_limit=0`: no gate, no pacing (the retry budget still holds).
    paced: bool,
    /// The client's `rate_limit`, as a limit.
    fixed: Option<Limit>,
    /// `max_concurrency`, and the slots shared with the clients derived from this one.
    slots: Option<(usize, Arc<Semaphore>)>,
    scope: Arc<Scope>,
    redis: Option<Arc<redis::Backend>>,
}

/// The state every client of one scope shares.
struct Scope {
    /// `first 16 hex of sha256(key, base URL, project)`: names the scope in Redis and in logs.
    id: String,
    state: Mutex<ScopeState>,
}

struct ScopeState {
    pacer: Pacer,
    budget: RetryBudget,
}

/// The concurrency slot a call holds, released when dropped (a stream keeps it to its end).
pub(crate) struct Slot(#[allow(dead_code)] Option<OwnedSemaphorePermit>);

/// Seconds on the process's monotonic clock.
pub(crate) fn now() -> f64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_secs_f64()
}

impl Traffic {
    /// Checks the traffic options and joins the client's scope. Every bad value is a
    /// configuration error naming the option, before anything is sent.
    pub(crate) fn resolve(
        rate_limit: Option<f64>,
        burst: Option<i64>,
        redis_url: Option<String>,
        max_concurrency: Option<i64>,
        scope: (&str, &str, Option<&str>),
    ) -> Result<Traffic> {
        let paced = rate_limit != Some(0.0);
        let fixed = match rate_limit {
            Some(per_minute) if !(per_minute.is_finite() && per_minute >= 0.0) => {
                return Err(Error::config(format!(
                    "rate_limit must be zero or more requests per minute, got {per_minute}"
                )))
            }
            Some(per_minute) if per_minute > 0.0 => {
                let per_second = per_minute / 60.0;
                let burst = match burst {
                    Some(b) if b < 1 => {
                        return Err(Error::config(format!("rate_limit_burst must be at least 1, got {b}")))
                    }
                    Some(b) => b as f64,
                    None => per_second.floor().max(1.0),
                };
                Some(Limit { per_second, burst })
            }
            _ => {
                if let Some(b) = burst {
                    return Err(Error::config(format!(
                        "rate_limit_burst ({b}) needs a rate_limit above 0 requests per minute"
                    )));
                }
                None
            }
        };
        let slots = match max_concurrency {
            None => None,
            Some(n) if n < 1 => {
                return Err(Error::config(format!("max_concurrency must be at least 1, got {n}")));
            }
            Some(n) => {
                let n = usize::try_from(n).unwrap_or(usize::MAX).min(Semaphore::MAX_PERMITS);
                Some((n, Arc::new(Semaphore::new(n))))
            }
        };
        let redis = match redis_url {
            Some(url) => Some(redis::Backend::get(&url)?),
            None => None,
        };
        Ok(Traffic { paced, fixed, slots, scope: Scope::get(scope), redis })
    }

    /// Shares `parent`'s concurrency slots when this client (derived from it) has the same
    /// `max_concurrency`: the cap counts the requests of both.
    pub(crate) fn share_slots_with(&mut self, parent: &Traffic) {
        if let (Some((n, _)), Some((parent_n, shared))) = (&self.slots, &parent.slots) {
            if n == parent_n {
                self.slots = Some((*n, shared.clone()));
            }
        }
    }

    /// Whether 429s close the scope's gate (else they are slept out per call, as without
    /// traffic control).
    pub(crate) fn gates(&self) -> bool {
        self.paced
    }

    /// Waits for a concurrency slot, first come first served; a wait longer than `max_wait`
    /// fails with a `RateLimitError`. Returns the slot and the seconds waited for it.
    pub(crate) async fn slot(&self, max_wait: Duration, log: &Log) -> Result<(Slot, f64)> {
        let Some((n, slots)) = &self.slots else {
            return Ok((Slot(None), 0.0));
        };
        if let Ok(permit) = slots.clone().try_acquire_owned() {
            return Ok((Slot(Some(permit)), 0.0));
        }
        log.debug(format_args!("waiting for one of the {n} concurrency slots (max_concurrency)"));
        let started = Instant::now();
        match tokio::time::timeout(max_wait, slots.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok((Slot(Some(permit)), started.elapsed().as_secs_f64())),
            Ok(Err(_)) => Ok((Slot(None), 0.0)), // never closed
            Err(_) => Err(too_long(
                &format!("all {n} concurrency slots (max_concurrency) stayed busy"),
                max_wait.as_secs_f64(),
                max_wait,
            )),
        }
    }

    /// Waits until the scope's gate and pacing let a request go, then counts it as sent. A
    /// wait longer than `max_wait` fails at once with a `RateLimitError`, sending nothing.
    /// Returns the seconds it waited.
    pub(crate) async fn admit(&self, max_wait: Duration, log: &Log, first_attempt: bool) -> Result<f64> {
        let mut waited = 0.0;
        // A gate closed by a 429 while this request slept holds it again: nothing is sent
        // before the gate opens.
        while self.gates() {
            let wait = match &self.redis {
                // Redis holds the fleet's schedule at the fleet's rate (`rate_limit`) and its
                // gate. The adaptive rate is this process's own share, so without a
                // `rate_limit` it paces here, on top of the shared gate.
                Some(redis) => match redis.reserve(&self.scope.id, self.fixed, max_wait, log).await {
                    Some(Ok(shared)) if self.fixed.is_none() => {
                        self.reserve_locally(max_wait).map(|local| local.max(shared))
                    }
                    Some(reserved) => reserved,
                    None => self.reserve_locally(max_wait),
                },
                None => self.reserve_locally(max_wait),
            }
            .map_err(|wait| too_long("the service's rate limit (429) and the pacing", wait, max_wait))?;
            if wait <= 0.0 {
                break;
            }
            log.debug(format_args!("rate limit: waiting {wait:.3} s before sending (scope {})", self.scope.id));
            tokio::time::sleep(Duration::from_secs_f64(wait)).await;
            waited += wait;
            if self.scope.lock().pacer.gate(now()).is_none() {
                break;
            }
        }
        let now = now();
        let mut state = self.scope.lock();
        state.pacer.sent(now);
        if first_attempt {
            state.budget.deposit(now);
        }
        Ok(waited)
    }

    fn reserve_locally(&self, max_wait: Duration) -> std::result::Result<f64, f64> {
        self.scope.lock().pacer.reserve(now(), self.fixed, max_wait.as_secs_f64())
    }

    /// An attempt was refused with 429: the gate closes for `retry_after`, the rate is cut.
    pub(crate) fn throttled(&self, sent_at: f64, retry_after: Option<f64>, log: &Log) {
        if !self.paced {
            return;
        }
        self.scope.lock().pacer.throttled(now(), sent_at, retry_after);
        if let (Some(redis), Some(wait)) = (&self.redis, retry_after) {
            redis.close_gate(&self.scope.id, wait, log);
        }
    }

    /// An attempt got a response that was not a 429.
    pub(crate) fn succeeded(&self) {
        if self.paced {
            self.scope.lock().pacer.succeeded(now());
        }
    }

    /// Takes a retry after a 5xx or a connection failure from the scope's budget: `false` when
    /// the budget is spent.
    pub(crate) fn may_retry(&self) -> bool {
        self.scope.lock().budget.withdraw(now())
    }
}

/// The `RateLimitError` of a wait longer than `max_retry_wait`.
fn too_long(what: &str, wait: f64, max_wait: Duration) -> Error {
    Error::status(
        429,
        format!(
            "rate limited: {what} would hold this request {wait:.1} s, longer than max_retry_wait ({:.1} s); nothing was sent",
            max_wait.as_secs_f64()
        ),
        None,
        None,
        Some(wait),
    )
}

impl Scope {
    /// The process's scope of `(key, base URL, project)`, made on first use and kept while a
    /// client of it lives.
    fn get((key, base_url, project): (&str, &str, Option<&str>)) -> Arc<Scope> {
        static SCOPES: OnceLock<Mutex<HashMap<String, Weak<Scope>>>> = OnceLock::new();
        let id = scope_id(key, base_url, project);
        let mut scopes = SCOPES.get_or_init(Mutex::default).lock().unwrap_or_else(|p| p.into_inner());
        if let Some(scope) = scopes.get(&id).and_then(Weak::upgrade) {
            return scope;
        }
        scopes.retain(|_, scope| scope.strong_count() > 0);
        let now = now();
        let scope = Arc::new(Scope {
            id: id.clone(),
            state: Mutex::new(ScopeState { pacer: Pacer::new(now), budget: RetryBudget::new(now) }),
        });
        scopes.insert(id, Arc::downgrade(&scope));
        scope
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ScopeState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The first 16 hex digits of sha256 over the key, the base URL and the project (each ended by
/// a NUL, so that no two triples collide): names a scope without holding the key.
fn scope_id(key: &str, base_url: &str, project: Option<&str>) -> String {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    for part in [key, base_url, project.unwrap_or("")] {
        context.update(part.as_bytes());
        context.update(&[0]);
    }
    context.finish().as_ref()[..8].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(rate: Option<f64>, burst: Option<i64>, concurrency: Option<i64>) -> Result<Traffic> {
        Traffic::resolve(rate, burst, None, concurrency, ("ml_test_k", "http://127.0.0.1:1/api", None))
    }

    #[test]
    fn bad_values_are_configuration_errors_naming_the_option() {
        for (rate, burst, concurrency, name) in [
            (Some(-1.0), None, None, "rate_limit"),
            (Some(f64::NAN), None, None, "rate_limit"),
            (Some(60.0), Some(0), None, "rate_limit_burst"),
            (None, Some(5), None, "rate_limit_burst"),
            (None, None, Some(0), "max_concurrency"),
            (None, None, Some(-3), "max_concurrency"),
        ] {
            let e = resolve(rate, burst, concurrency).err().expect(name);
            assert_eq!(e.kind(), crate::ErrorKind::Configuration, "{e}");
            assert!(e.message().contains(name), "{e}");
        }
        let t = resolve(Some(3000.0), None, Some(4)).unwrap();
        assert_eq!(t.fixed, Some(Limit { per_second: 50.0, burst: 50.0 }));
        assert!(resolve(Some(0.0), None, None).map(|t| !t.gates()).unwrap());
        assert_eq!(resolve(Some(30.0), None, None).unwrap().fixed.unwrap().burst, 1.0);
    }

    #[test]
    fn one_scope_per_key_url_and_project_and_the_id_hides_the_key() {
        let a = scope_id("ml_live_secret", "https://h/api", None);
        assert_eq!(a.len(), 16);
        assert!(!a.contains("secret"));
        assert_ne!(a, scope_id("ml_live_secret", "https://h/api", Some("p")));
        assert_ne!(a, scope_id("ml_live_other", "https://h/api", None));
        let one = Scope::get(("k1", "https://h/api", None));
        assert!(Arc::ptr_eq(&one, &Scope::get(("k1", "https://h/api", None))));
        assert!(!Arc::ptr_eq(&one, &Scope::get(("k1", "https://h/api", Some("p")))));
    }

    #[test]
    fn a_wait_past_max_retry_wait_is_a_rate_limit_error_naming_it() {
        let e = too_long("the service's rate limit (429) and the pacing", 7.0, Duration::from_secs(2));
        assert_eq!((e.status_code(), e.retry_after()), (Some(429), Some(7.0)));
        assert!(e.message().contains("max_retry_wait") && e.message().contains("7.0 s"), "{e}");
    }
}
