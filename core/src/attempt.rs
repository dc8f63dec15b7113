//! The request loop: attempts, and the retries between them.

use std::future::Future;

use reqwest::Method;

use crate::error::{Error, Result};
use crate::request_options::CallSettings;
use crate::retry::{self, Decision, Failure, Idempotency};

/// How one attempt failed: what retrying needs to know, and the error to report.
pub(crate) struct AttemptError {
    pub failure: Failure,
    pub error: Error,
}

/// Runs `attempt` until it succeeds, fails in a way a call of this idempotency does not retry, or
/// the retry budget runs out; sleeps between attempts as the server asked, else with backoff.
pub(crate) async fn with_retries<T, F, Fut>(
    call: &CallSettings<'_>,
    method: &Method,
    path: &str,
    idempotency: Idempotency,
    attempt: F,
) -> Result<T>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, AttemptError>>,
{
    let mut retry = 0;
    loop {
        call.config.log.debug(format_args!("{method} {path}: attempt {} of {}", retry + 1, call.max_retries + 1));
        let AttemptError { failure, error } = match attempt().await {
            Ok(value) => return Ok(value),
            Err(e) => e,
        };
        if !retry::is_retryable(failure, idempotency) {
            call.config.log.info(format_args!("{method} {path}: failed, not retryable: {error}"));
            return Err(error);
        }
        match retry::decide(retry, call.max_retries, error.retry_after(), call.config.max_retry_wait) {
            Decision::RetryAfter(wait) => {
                call.config.log.info(format_args!(
                    "{method} {path}: {error}; retry {} of {} in {:.3} s",
                    retry + 1,
                    call.max_retries,
                    wait.as_secs_f64()
                ));
                tokio::time::sleep(wait).await;
                retry += 1;
            }
            Decision::GiveUp => {
                call.config
                    .log
                    .info(format_args!("{method} {path}: giving up after {} attempt(s): {error}", retry + 1));
                return Err(error);
            }
        }
    }
}
