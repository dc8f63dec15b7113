//! Per-request options (timeout, retries, extra headers) and response metadata.

mod common;

use std::time::{Duration, Instant};

use common::*;
use mixerlead::{ChatRequest, ErrorKind, RequestOptions};

#[tokio::test]
async fn a_per_request_timeout_shorter_than_the_clients_fires() {
    let emu = emulator().await;
    let client = builder(&emu.scenario_url("id=pt;header_delay_ms=1500")).timeout_secs(30.0).build().unwrap();
    let started = Instant::now();
    let options = RequestOptions::new().timeout_secs(0.2).max_retries(0);
    let err = client.chat_with(ChatRequest::new("x"), &options).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
}

#[tokio::test]
async fn max_retries_zero_on_one_call_leaves_the_clients_other_calls_retrying() {
    let emu = emulator().await;
    let client = builder(&emu.scenario_url("id=one;fail=503;times=1")).max_retry_wait_secs(0.0).build().unwrap();
    let err = client.list_models_with(&RequestOptions::new().max_retries(0)).await.unwrap_err();
    assert_eq!(err.status_code(), Some(503));
    assert_eq!(emu.stats("one").requests, 1, "one attempt");
    let client = builder(&emu.scenario_url("id=two;fail=503;times=1")).max_retry_wait_secs(0.0).build().unwrap();
    client.list_models().await.expect("the client's own calls still retry");
    assert_eq!(emu.stats("two").requests, 2);
}

#[tokio::test]
async fn extra_headers_reach_the_server_and_cannot_replace_authorization() {
    let emu = emulator().await;
    let client = client(&emu.scenario_url("id=h"));
    let options = RequestOptions::new().header("X-Trace", "t-1").header("User-Agent", "mine/1");
    client.send_with(ChatRequest::new("x"), &options).await.unwrap();
    let stats = emu.stats("h");
    assert_eq!(stats.last_headers.get("x-trace").map(String::as_str), Some("t-1"));
    assert_eq!(stats.last_headers.get("user-agent").map(String::as_str), Some("mine/1"));
    assert!(stats.last_authorized);

    let options = RequestOptions::new().header("Authorization", "Bearer ml_stolen");
    let err = client.list_models_with(&options).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration);
    assert!(err.message().contains("Authorization"), "{err}");
    let err = client.list_models_with(&RequestOptions::new().header("x-a", "1\nx-b: 2")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
    assert_eq!(emu.stats("h").requests, 1, "nothing sent for bad options");
}

#[tokio::test]
async fn request_id_and_headers_on_success() {
    let emu = emulator().await;
    let client = client(&emu.base_url());
    let models = client.list_models().await.unwrap();
    let id = models.request_id().expect("the emulator sends X-Request-Id").to_string();
    assert!(id.starts_with("req_"), "{id}");
    assert_eq!(models.headers().get("x-request-id").unwrap(), id.as_str());
    assert!(!models.is_empty());

    let stream = client.chat(ChatRequest::new("x")).await.unwrap();
    let stream_id = stream.request_id().unwrap().to_string();
    assert_ne!(stream_id, id);
    assert!(stream.headers().get("content-type").is_some());
    assert_eq!(stream.info().request_id(), Some(stream_id.as_str()));
    let reply = stream.into_reply().await.unwrap();
    assert_eq!(reply.request_id.as_deref(), Some(stream_id.as_str()));
    assert!(reply.headers.contains_key("x-conversation-id"));
}

#[tokio::test]
async fn with_options_changes_options_and_shares_the_pool() {
    let emu = emulator().await;
    let base = builder(&emu.scenario_url("id=wo;fail=503;times=1")).max_retry_wait_secs(0.0).build().unwrap();
    let strict = base.with_options(|b| Ok(b.max_retries(0))).unwrap();
    assert!(strict.shares_pool_with(&base));
    assert_eq!(strict.list_models().await.unwrap_err().status_code(), Some(503));
    assert_eq!(emu.stats("wo").requests, 1);
    base.list_models().await.expect("the original client keeps its retries");
    let other_pool = base.with_options(|b| Ok(b.connect_timeout_secs(3.0))).unwrap();
    assert!(!other_pool.shares_pool_with(&base));
    let named = base.with_options(|b| b.set("maxRetries", mixerlead::OptionValue::Number(1.0))).unwrap();
    assert!(named.shares_pool_with(&base));
    let err = base.with_options(|b| b.set("nope", mixerlead::OptionValue::Flag(true))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration);
}
