//! The request loop: attempts, and the retries between them.

use std::future::Future;
use std::time::Duration;

use reqwest::Method;

use crate::error::{Error, Result};
use crate::request_options::CallSettings;
use crate::retry::{self, Decision, Failure, Idempotency};
use crate::traffic::Slot;

/// How one attempt failed: what retrying needs to know, and the error to report.
pub(crate) struct AttemptError {
    pub failure: Failure,
    pub error: Error,
}

/// Runs `attempt` until it succeeds, fails in a way a call of this idempotency does not retry, or
/// the retries run out; sleeps between attempts as the server asked, else with backoff. Before
/// each attempt the scope's traffic control may hold it (a concurrency slot, the 429 gate, the
/// pacing); retries after a 5xx or a connection failure come out of the scope's retry budget.
/// Returns the value with the call's concurrency slot, for a stream to hold to its end.
pub(crate) async fn with_retries<T, F, Fut>(
    call: &CallSettings<'_>,
    method: &Method,
    path: &str,
    idempotency: Idempotency,
    attempt: F,
) -> Result<(T, Slot)>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, AttemptError>>,
{
    let (log, traffic) = (&call.config.log, &call.config.traffic);
    let max_wait = call.config.max_retry_wait;
    let report = &call.report;
    let (slot, waited) = traffic.slot(max_wait, log).await?;
    if waited > 0.0 {
        report.waited("concurrency", waited);
    }
    let mut retry = 0;
    loop {
        let waited = traffic.admit(max_wait, log, retry == 0).await?;
        if waited > 0.0 {
            report.waited("rate_limit", waited);
        }
        report.attempt();
        let sent_at = crate::traffic::now();
        log.debug(format_args!("{method} {path}: attempt {} of {}", retry + 1, call.max_retries + 1));
        let AttemptError { failure, error } = match attempt().await {
            Ok(value) => {
                traffic.succeeded();
                return Ok((value, slot));
            }
            Err(e) => e,
        };
        let throttled = failure == Failure::Status(429);
        match throttled {
            true => traffic.throttled(sent_at, error.retry_after(), log),
            false if matches!(failure, Failure::Status(_)) => traffic.succeeded(),
            false => {}
        }
        if !retry::is_retryable(failure, idempotency) {
            log.info(format_args!("{method} {path}: failed, not retryable: {error}"));
            return Err(error);
        }
        match retry::decide(retry, call.max_retries, error.retry_after(), max_wait) {
            Decision::RetryAfter(_) if !throttled && !traffic.may_retry() => {
                log.info(format_args!("{method} {path}: {error}; not retried: the retry budget is spent"));
                return Err(error);
            }
            Decision::RetryAfter(wait) => {
                // After a 429 with Retry-After the scope's gate holds the retry (and every other
                // request of the scope) until then.
                let gated = throttled && traffic.gates() && error.retry_after().is_some();
                let wait = if gated { Duration::ZERO } else { wait };
                log.info(format_args!(
                    "{method} {path}: {error}; retry {} of {} in {:.3} s",
                    retry + 1,
                    call.max_retries,
                    if gated { error.retry_after().unwrap_or(0.0) } else { wait.as_secs_f64() }
                ));
                report.retrying(&error, if gated { 0.0 } else { wait.as_secs_f64() });
                tokio::time::sleep(wait).await;
                retry += 1;
            }
            Decision::GiveUp => {
                log.info(format_args!("{method} {path}: giving up after {} attempt(s): {error}", retry + 1));
                return Err(error);
            }
        }
    }
}
