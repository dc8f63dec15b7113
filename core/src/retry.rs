//! Which failures are retried, how long to wait, and `Retry-After` parsing.
//!
//! Retried: 429 for any call; 408, 500, 502, 503, 504 for idempotent calls (`GET`); 502, 503,
//! 504 for a create (`POST`: a 500 or a reset after sending may mean the message was recorded
//! and billed); connection failures before anything was sent, for any call; timeouts and resets
//! after sending, for idempotent calls only. Never retried: any other 4xx. The wait is what the
//! server asked for (`retry-after-ms`, else `Retry-After` as seconds or an HTTP-date), else
//! `0.5 s × 2^retry` capped at 8 s with jitter; a requested wait above the client's longest
//! wait is not slept: the error is returned at once with its `retry_after`.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;

/// The kind of call being made: `GET`, `PATCH` and `DELETE` are idempotent, a `POST` is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Idempotency {
    /// `GET`, `PATCH`, `DELETE`: any transient failure may be retried.
    Get,
    /// `POST /chat`: the message may have been recorded and billed once sent; 502, 503 and 504
    /// (a gateway that never reached the service) are retried, 500 is not.
    Chat,
    /// Any other `POST` (a source, an agent, a run, an artifact): retried only when nothing can
    /// have been created (429, a connection that was never made).
    Create,
}

impl Idempotency {
    /// The class of a call with `method` (`POST /chat` is [`Idempotency::Chat`]).
    pub(crate) fn of(method: &reqwest::Method) -> Idempotency {
        if method == reqwest::Method::POST {
            Idempotency::Create
        } else {
            Idempotency::Get
        }
    }
}

/// What went wrong in one attempt, as far as retrying cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// A response with this status arrived.
    Status(u16),
    /// The connection could not be made: nothing was sent.
    ConnectFailed,
    /// A timeout, reset or broken body after the request was (maybe) sent.
    AfterSend,
    /// A failure no retry can mend (a refused redirect, an unreadable success body).
    Fatal,
}

/// Whether `failure` may be retried for a call of this idempotency.
#[allow(clippy::manual_range_patterns)] // status lists read as the spec's table
pub(crate) fn is_retryable(failure: Failure, call: Idempotency) -> bool {
    match (failure, call) {
        (Failure::Status(429), _) => true,
        (Failure::Status(408 | 500 | 502 | 503 | 504), Idempotency::Get) => true,
        (Failure::Status(502 | 503 | 504), Idempotency::Chat) => true,
        (Failure::Status(_), _) => false,
        (Failure::ConnectFailed, _) => true,
        (Failure::AfterSend, Idempotency::Get) => true,
        (Failure::AfterSend, Idempotency::Chat | Idempotency::Create) => false,
        (Failure::Fatal, _) => false,
    }
}

/// The wait the server asked for, in seconds: `retry-after-ms`, else `Retry-After` as
/// delta-seconds, decimal seconds or an HTTP-date. `None` when absent or unreadable.
pub(crate) fn retry_after_seconds(headers: &HeaderMap) -> Option<f64> {
    if let Some(ms) = header_str(headers, "retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok()) {
        if ms.is_finite() && ms >= 0.0 {
            return Some(ms / 1000.0);
        }
    }
    parse_retry_after(header_str(headers, "retry-after")?, SystemTime::now())
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok()
}

/// Parses a `Retry-After` value against the clock `now`.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<f64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then_some(seconds);
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).map(|d| d.as_secs_f64()).unwrap_or(0.0))
}

/// The wait before retry number `retry` (0 for the first retry) when the server named none:
/// `0.5 s × 2^retry`, capped at 8 s, times a random factor in [0.75, 1.0].
pub(crate) fn backoff(retry: u32) -> Duration {
    let base = (0.5 * 2f64.powi(retry.min(16) as i32)).min(8.0);
    let jitter = 0.75 + 0.25 * fastrand::f64();
    Duration::from_secs_f64(base * jitter)
}

/// What to do after a retryable failure.
#[derive(Debug, PartialEq)]
pub(crate) enum Decision {
    /// Sleep this long, then try again.
    RetryAfter(Duration),
    /// Give up and report the failure.
    GiveUp,
}

/// Decides the next step after retryable failure number `retry` (0-based), given the wait
/// the server asked for (if any), the retry budget and the longest wait the client sleeps.
pub(crate) fn decide(retry: u32, max_retries: u32, requested: Option<f64>, max_wait: Duration) -> Decision {
    if retry >= max_retries {
        return Decision::GiveUp;
    }
    match requested {
        Some(seconds) if seconds > max_wait.as_secs_f64() => Decision::GiveUp,
        Some(seconds) => Decision::RetryAfter(Duration::from_secs_f64(seconds)),
        None => Decision::RetryAfter(backoff(retry).min(max_wait)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use Failure::*;
    use Idempotency::*;

    #[test]
    fn retry_table_matches_the_rules() {
        for call in [Get, Chat, Create] {
            assert!(is_retryable(Status(429), call) && is_retryable(ConnectFailed, call), "{call:?}");
            assert!(!is_retryable(Fatal, call), "{call:?}");
            for code in [400, 401, 403, 404, 409, 413, 422, 501, 505] {
                assert!(!is_retryable(Status(code), call), "{code} {call:?}");
            }
        }
        for code in [408, 500] {
            assert!(is_retryable(Status(code), Get), "{code}");
            assert!(!is_retryable(Status(code), Chat) && !is_retryable(Status(code), Create), "{code}");
        }
        for code in [502, 503, 504] {
            assert!(is_retryable(Status(code), Get) && is_retryable(Status(code), Chat), "{code}");
            assert!(!is_retryable(Status(code), Create), "{code}: a create is never sent twice after a 5xx");
        }
        assert!(is_retryable(AfterSend, Get));
        assert!(!is_retryable(AfterSend, Chat) && !is_retryable(AfterSend, Create));
        assert_eq!(Idempotency::of(&reqwest::Method::POST), Create);
        for method in [reqwest::Method::GET, reqwest::Method::PATCH, reqwest::Method::DELETE] {
            assert_eq!(Idempotency::of(&method), Get);
        }
    }

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("3", now), Some(3.0));
        assert_eq!(parse_retry_after(" 1.5 ", now), Some(1.5));
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        let later = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(parse_retry_after(&later, now), Some(7.0));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(parse_retry_after(&earlier, now), Some(0.0));
    }

    #[test]
    fn retry_after_ms_wins() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("5"));
        assert_eq!(retry_after_seconds(&h), Some(5.0));
        h.insert("retry-after-ms", HeaderValue::from_static("250"));
        assert_eq!(retry_after_seconds(&h), Some(0.25));
        assert_eq!(retry_after_seconds(&HeaderMap::new()), None);
    }

    #[test]
    fn backoff_doubles_with_jitter_and_caps() {
        for _ in 0..200 {
            for (retry, base) in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (40, 8.0)] {
                let wait = backoff(retry).as_secs_f64();
                assert!(wait >= base * 0.75 - 1e-9 && wait <= base + 1e-9, "retry {retry}: {wait}");
            }
        }
    }

    #[test]
    fn decisions() {
        let max = Duration::from_secs(60);
        assert_eq!(decide(0, 2, Some(1.0), max), Decision::RetryAfter(Duration::from_secs(1)));
        assert_eq!(decide(2, 2, Some(1.0), max), Decision::GiveUp);
        assert_eq!(decide(0, 0, None, max), Decision::GiveUp);
        assert_eq!(decide(0, 2, Some(61.0), max), Decision::GiveUp);
        assert_eq!(decide(0, 2, None, Duration::ZERO), Decision::RetryAfter(Duration::ZERO));
        match decide(1, 2, None, max) {
            Decision::RetryAfter(d) => assert!(d >= Duration::from_millis(750) && d <= Duration::from_secs(1)),
            other => panic!("{other:?}"),
        }
    }
}
