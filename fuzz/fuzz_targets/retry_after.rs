#![no_main]
//! `Retry-After` / `retry-after-ms` parsing and the retry decision on hostile header values.
//!
//! Input: byte 0 picks the header (even: `Retry-After`, odd: `retry-after-ms` beside a
//! `Retry-After: 5`); bytes 1..9 are the client's longest wait as an `f64` (taken as the client
//! takes it: `Duration::try_from_secs_f64`, skipped when refused); the rest is the header value.
//!
//! Checked: nothing panics; a wait is finite and never negative; a number is read as itself
//! (ms / 1000 for `retry-after-ms`), an HTTP-date as the seconds from now to it (0 when past);
//! the retry decision sleeps at most the longest wait, and gives up on a longer request.

use std::time::{Duration, SystemTime};

use http::HeaderValue;
use libfuzzer_sys::fuzz_target;
use mixerlead::decode_testing::{parse_retry_after, retry_after_seconds, retry_wait};
use mixerlead::HeaderMap;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Some((wait_bytes, value)) = rest.split_first_chunk::<8>() else {
        return;
    };
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);

    if let Ok(text) = std::str::from_utf8(value) {
        let parsed = parse_retry_after(text, now);
        check_wait(parsed);
        match text.trim().parse::<f64>() {
            Ok(n) if n.is_finite() && n >= 0.0 => assert_eq!(parsed, Some(n), "{text:?}"),
            Ok(_) => assert_eq!(parsed, None, "{text:?}"),
            Err(_) => match httpdate::parse_http_date(text.trim()) {
                Ok(date) => {
                    let expected = date.duration_since(now).map_or(0.0, |d| d.as_secs_f64());
                    assert_eq!(parsed, Some(expected), "{text:?}");
                }
                Err(_) => assert_eq!(parsed, None, "{text:?}"),
            },
        }
    }

    // The same bytes as a header value, as the client reads it off a response.
    let Ok(header) = HeaderValue::from_bytes(value) else {
        return;
    };
    let mut headers = HeaderMap::new();
    let requested = if which % 2 == 0 {
        headers.insert("retry-after", header);
        retry_after_seconds(&headers)
    } else {
        headers.insert("retry-after", HeaderValue::from_static("5"));
        headers.insert("retry-after-ms", header);
        let requested = retry_after_seconds(&headers);
        let ms = std::str::from_utf8(value).ok().and_then(|v| v.trim().parse::<f64>().ok());
        match ms {
            Some(ms) if ms.is_finite() && ms >= 0.0 => assert_eq!(requested, Some(ms / 1000.0)),
            _ => assert_eq!(requested, Some(5.0), "an unreadable retry-after-ms falls back to Retry-After"),
        }
        requested
    };
    check_wait(requested);

    let Ok(max_wait) = Duration::try_from_secs_f64(f64::from_le_bytes(*wait_bytes)) else {
        return;
    };
    for retry in [0, 1, 5, 40] {
        match retry_wait(retry, 100, requested, max_wait) {
            Some(wait) => {
                assert!(wait <= max_wait, "{wait:?} over the longest wait {max_wait:?}");
                if let Some(requested) = requested {
                    assert_eq!(wait, Duration::from_secs_f64(requested));
                }
            }
            None => assert!(requested.is_some_and(|r| r > max_wait.as_secs_f64()), "gave up on {requested:?}"),
        }
    }
    assert_eq!(retry_wait(2, 2, requested, max_wait), None, "the retry budget is spent");
});

fn check_wait(wait: Option<f64>) {
    if let Some(wait) = wait {
        assert!(wait.is_finite() && wait >= 0.0, "{wait}");
    }
}
