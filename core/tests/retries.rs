//! The retry rules (see `src/retry.rs`), observed through the attempts the emulator counts.

mod common;

use std::time::{Duration, Instant};

use common::*;
use mixerlead::{ChatRequest, ErrorKind};

async fn models_attempts(script: &str) -> (Result<mixerlead::ModelList, mixerlead::Error>, u64) {
    let emu = emulator().await;
    let result = client(&emu.scenario_url(&format!("id=t;{script}"))).list_models().await;
    (result, emu.stats("t").requests)
}

async fn chat_attempts(script: &str) -> (Result<String, mixerlead::Error>, u64) {
    let emu = emulator().await;
    let result = chat_text(&client(&emu.scenario_url(&format!("id=t;{script}"))), "x").await;
    (result, emu.stats("t").requests)
}

#[tokio::test]
async fn rate_limit_then_success_honours_retry_after() {
    let emu = emulator().await;
    let client = client(&emu.scenario_url("id=r;fail=429;times=2;retry_after=0.2"));
    let text = chat_text(&client, "x").await.unwrap();
    assert!(text.contains("You said"));
    let stats = emu.stats("r");
    assert_eq!(stats.requests, 3);
    for gap in gaps(&stats.request_times) {
        assert!(gap >= Duration::from_millis(195) && gap < Duration::from_millis(600), "{gap:?}");
    }
}

#[tokio::test]
async fn exhaustion_raises_the_last_status_with_retry_after() {
    let (result, attempts) = models_attempts("fail=429;retry_after=0.05").await;
    let err = result.unwrap_err();
    assert_eq!(attempts, 3, "max_retries 2 means 3 attempts");
    assert_eq!((err.kind(), err.status_code(), err.retry_after()), (ErrorKind::Status, Some(429), Some(0.05)));
    let emu = emulator().await;
    let none = builder(&emu.scenario_url("id=z;fail=429;retry_after=0")).max_retries(0).build().unwrap();
    assert_eq!(none.list_models().await.unwrap_err().status_code(), Some(429));
    assert_eq!(emu.stats("z").requests, 1);
    let five = builder(&emu.scenario_url("id=f;fail=503;retry_after=0")).max_retries(5).build().unwrap();
    five.chat(ChatRequest::new("x")).await.unwrap_err();
    assert_eq!(emu.stats("f").requests, 6);
}

#[tokio::test]
async fn retry_after_forms_all_work() {
    // retry-after-ms, decimal seconds, and an HTTP-date in the past (no wait).
    for script in ["fail=429;times=1;retry_after_ms=150", "fail=429;times=1;retry_after=0.15"] {
        let emu = emulator().await;
        chat_text(&client(&emu.scenario_url(&format!("id=a;{script}"))), "x").await.unwrap();
        let gap = gaps(&emu.stats("a").request_times)[0];
        assert!(gap >= Duration::from_millis(145) && gap < Duration::from_millis(500), "{script}: {gap:?}");
    }
    let date = "Wed,%2021%20Oct%202015%2007:28:00%20GMT";
    let (result, attempts) = chat_attempts(&format!("fail=503;times=1;retry_after={date}")).await;
    assert!(result.is_ok());
    assert_eq!(attempts, 2);
}

#[tokio::test]
async fn a_wait_longer_than_max_retry_wait_is_not_slept() {
    let emu = emulator().await;
    let client = builder(&emu.scenario_url("id=w;fail=429;retry_after=30")).max_retry_wait_secs(5.0).build().unwrap();
    let started = Instant::now();
    let err = client.chat(ChatRequest::new("x")).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!((err.status_code(), err.retry_after()), (Some(429), Some(30.0)));
    assert_eq!(emu.stats("w").requests, 1);
}

#[tokio::test]
async fn backoff_without_retry_after_is_jittered_exponential() {
    let emu = emulator().await;
    let client = client(&emu.scenario_url("id=b;fail=503;times=2"));
    client.list_models().await.unwrap();
    let gaps = gaps(&emu.stats("b").request_times);
    assert!(gaps[0] >= Duration::from_millis(370) && gaps[0] <= Duration::from_millis(700), "{gaps:?}");
    assert!(gaps[1] >= Duration::from_millis(745) && gaps[1] <= Duration::from_millis(1200), "{gaps:?}");
}

#[tokio::test]
async fn which_statuses_are_retried_for_get_and_chat() {
    for code in [408, 500, 502, 503, 504] {
        let (result, attempts) = models_attempts(&format!("fail={code};times=1;retry_after=0")).await;
        assert!(result.is_ok(), "GET after {code}");
        assert_eq!(attempts, 2, "GET {code}");
    }
    for code in [502, 503, 504] {
        let (result, attempts) = chat_attempts(&format!("fail={code};times=1;retry_after=0")).await;
        assert!(result.is_ok(), "chat after {code}");
        assert_eq!(attempts, 2, "chat {code}");
    }
    for code in [408, 500] {
        let (result, attempts) = chat_attempts(&format!("fail={code};times=1;retry_after=0")).await;
        assert_eq!(result.unwrap_err().status_code(), Some(code));
        assert_eq!(attempts, 1, "a chat {code} is not retried: the message may be billed");
    }
    for code in [400, 401, 403, 404, 409, 413, 422] {
        let (result, attempts) = models_attempts(&format!("fail={code};times=1;retry_after=0")).await;
        assert_eq!(result.unwrap_err().status_code(), Some(code));
        assert_eq!(attempts, 1, "GET {code}");
        let (result, attempts) = chat_attempts(&format!("fail={code};times=1;retry_after=0")).await;
        assert_eq!(result.unwrap_err().status_code(), Some(code));
        assert_eq!(attempts, 1, "chat {code}");
    }
}

#[tokio::test]
async fn a_reset_after_sending_is_retried_only_for_get() {
    let (result, attempts) = models_attempts("drop;times=1").await;
    assert!(result.is_ok(), "{result:?}");
    assert_eq!(attempts, 2);
    let (result, attempts) = chat_attempts("drop;times=1").await;
    assert_eq!(result.unwrap_err().kind(), ErrorKind::Connection);
    assert_eq!(attempts, 1);
}

#[tokio::test]
async fn a_refused_connection_is_retried_for_any_call() {
    // A port with nothing listening: each attempt is refused before anything is sent.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = builder(&format!("http://127.0.0.1:{port}/api")).max_retry_wait_secs(0.0).build().unwrap();
    let err = client.chat(ChatRequest::new("x")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection);
    assert!(err.message().to_lowercase().contains("refused"), "{err}");
    // The cause chain is kept for callers who walk it, down to the operating system's error.
    let mut chain = Vec::new();
    let mut cause = std::error::Error::source(&err);
    while let Some(c) = cause {
        chain.push(c.to_string());
        cause = c.source();
    }
    assert!(!chain.is_empty(), "no source()");
    assert!(chain.iter().any(|c| c.to_lowercase().contains("refused")), "{chain:?}");
}

#[tokio::test]
async fn nothing_is_retried_once_the_stream_started() {
    let emu = emulator().await;
    let client = client(&emu.scenario_url("id=s;disconnect_after=3"));
    let err = chat_text(&client, "x").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::StreamInterrupted);
    assert_eq!(emu.stats("s").requests, 1);
}

#[tokio::test]
async fn per_key_rate_limit_is_waited_out() {
    let emu = emulator().await;
    let url = emu.scenario_url("id=k;rate_limit=2");
    let strict = builder(&url).max_retries(0).build().unwrap();
    strict.list_models().await.unwrap();
    strict.list_models().await.unwrap();
    let err = strict.list_models().await.unwrap_err();
    assert_eq!((err.status_code(), err.retry_after()), (Some(429), Some(1.0)));
    let patient = client(&url);
    let started = Instant::now();
    patient.list_models().await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(900), "waited out the window");
}

#[tokio::test]
async fn times_counts_the_requests_of_its_script_alone() {
    // Six other calls (no script, other scripts) first: none of them counts toward the script's
    // `times=1`, whose first request must still fail.
    let emu = emulator().await;
    for _ in 0..3 {
        client(&emu.base_url()).list_models().await.unwrap();
        chat_text(&client(&emu.scenario_url("pieces=2")), "x").await.unwrap();
    }
    let script = "fail=429;times=1;retry_after=0";
    let once = builder(&emu.scenario_url(script)).max_retries(0).build().unwrap();
    let err = once.chat(ChatRequest::new("x")).await.unwrap_err();
    assert_eq!(err.status_code(), Some(429), "{err}");
    chat_text(&once, "x").await.expect("the second request of the script is past times=1");
    assert_eq!(emu.stats(script).requests, 2, "stats of the script string");
    assert_eq!(emu.stats("pieces=2").requests, 3);
    assert_eq!(emu.stats("").requests, 3, "requests without a script");
    // The same script as a client may send it, percent-encoded, is the same id.
    assert_eq!(emu.stats("fail=429;times=1;retry_after%3D0").requests, 2);
    // Redirect hops rewrite the script (one redirect fewer) but count under the one given.
    chat_text(&client(&emu.scenario_url("redirect=2;pieces=1")), "x").await.unwrap();
    assert_eq!(emu.stats("redirect=2;pieces=1").requests, 3);
    assert_eq!(emu.stats("redirect=1;pieces=1").requests, 0);
}
