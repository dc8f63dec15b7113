//! Interrupted streams, the three timeouts, and cancellation seen by the server.

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures_util::StreamExt;
use mixerlead::{ChatRequest, ErrorKind};

#[tokio::test]
async fn a_cut_connection_keeps_the_partial_text() {
    let emu = emulator().await;
    for format in ["sse", "ndjson", "text", "json"] {
        let url = emu.scenario_url(&format!("format={format};disconnect_after=4;delay_ms=5"));
        let mut stream = client(&url).chat(ChatRequest::new("x")).await.unwrap();
        let (pieces, error) = collect(&mut stream).await;
        let error = error.unwrap_or_else(|| panic!("{format}: a cut stream must not end cleanly"));
        assert_eq!(error.kind(), ErrorKind::StreamInterrupted, "{format}: {error}");
        if format != "json" {
            assert_eq!(pieces.concat(), "Hello! You said: \u{201c}x\u{201d}. ", "{format}");
        }
        assert_eq!(error.partial_text(), Some(pieces.concat().as_str()), "{format}");
    }
}

#[tokio::test]
async fn a_stalled_stream_is_a_read_timeout_after_its_pieces() {
    let emu = emulator().await;
    let client = builder(&emu.scenario_url("id=st;stall_after=3")).read_timeout_secs(0.3).build().unwrap();
    let mut stream = client.chat(ChatRequest::new("x")).await.unwrap();
    let started = Instant::now();
    let (pieces, error) = collect(&mut stream).await;
    let error = error.expect("timeout");
    assert_eq!(error.kind(), ErrorKind::Timeout);
    assert_eq!(pieces.len(), 3);
    assert_eq!(error.partial_text(), Some(pieces.concat().as_str()));
    assert!(started.elapsed() < Duration::from_secs(2));
    let stats = emu.wait_for_disconnects("st", 1, Duration::from_secs(1)).await;
    assert_eq!(stats.client_disconnects, 1, "the timed-out request is closed");
}

#[tokio::test]
async fn slow_headers_are_a_timeout_retried_only_for_get() {
    let emu = emulator().await;
    let url = emu.scenario_url("id=g;header_delay_ms=1500");
    let client = builder(&url).timeout_secs(0.2).max_retry_wait_secs(0.0).build().unwrap();
    let started = Instant::now();
    let err = client.list_models().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(emu.stats("g").requests, 3);
    let url = emu.scenario_url("id=p;header_delay_ms=1500");
    let client = builder(&url).timeout_secs(0.2).max_retry_wait_secs(0.0).build().unwrap();
    assert_eq!(client.chat(ChatRequest::new("x")).await.unwrap_err().kind(), ErrorKind::Timeout);
    assert_eq!(emu.stats("p").requests, 1);
}

#[tokio::test]
async fn connect_timeout_is_a_timeout() {
    // A listener whose accept queue is full: further SYNs are dropped, so connects hang.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..8 {
        if let Ok(Ok(s)) = tokio::time::timeout(Duration::from_millis(100), tokio::net::TcpStream::connect(addr)).await
        {
            fillers.push(s);
        }
    }
    let client = builder(&format!("http://{addr}/api")).connect_timeout_secs(0.2).max_retries(0).build().unwrap();
    let started = Instant::now();
    let err = client.list_models().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
    drop(listener);
}

#[tokio::test]
async fn dropping_a_stream_closes_the_connection_within_a_second() {
    let emu = emulator().await;
    let client = client(&emu.scenario_url("id=d;pieces=1000;delay_ms=20"));
    let mut stream = client.chat(ChatRequest::new("x")).await.unwrap();
    stream.next().await.unwrap().unwrap();
    stream.next().await.unwrap().unwrap();
    drop(stream);
    let dropped = Instant::now();
    let stats = emu.wait_for_disconnects("d", 1, Duration::from_secs(1)).await;
    assert_eq!(stats.client_disconnects, 1, "seen after {:?}", dropped.elapsed());
    assert_eq!(stats.streams_completed, 0);
}

#[tokio::test]
async fn dropping_a_stalled_stream_and_abort_close_the_connection() {
    let emu = emulator().await;
    let client = client(&emu.scenario_url("id=s;stall_after=1"));
    let mut stream = client.chat(ChatRequest::new("x")).await.unwrap();
    stream.next().await.unwrap().unwrap();
    drop(stream);
    assert_eq!(emu.wait_for_disconnects("s", 1, Duration::from_secs(1)).await.client_disconnects, 1);
    let mut stream = client.chat(ChatRequest::new("x")).await.unwrap();
    stream.abort();
    assert!(stream.next().await.is_none());
    assert_eq!(emu.wait_for_disconnects("s", 2, Duration::from_secs(1)).await.client_disconnects, 2);
}

#[tokio::test]
async fn many_concurrent_streams_on_one_client() {
    let emu = emulator().await;
    let client = client(&emu.scenario_url("id=c;pieces=200;delay_ms=1"));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { chat_text(&client, "x").await.unwrap() })
        })
        .collect();
    let expected: String = (0..200).map(|i| if i % 20 == 19 { format!("é{i} ") } else { format!("w{i} ") }).collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), expected);
    }
    assert_eq!(emu.stats("c").streams_completed, 50);
}

#[tokio::test]
async fn a_dripping_body_is_bounded_by_the_request_timeout() {
    let emu = emulator().await;
    // ~300 bytes a byte every 50 ms (15 s in all): the read timeout alone never fires.
    let client = builder(&emu.scenario_url("id=drip;drip_ms=50")).timeout_secs(0.5).max_retries(0).build().unwrap();
    let started = Instant::now();
    let err = client.list_models().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());

    // An error body that drips: the status error still arrives within the timeout.
    let client =
        builder(&emu.scenario_url("id=drip2;fail=400;drip_ms=50")).timeout_secs(0.5).max_retries(0).build().unwrap();
    let started = Instant::now();
    let err = client.list_models().await.unwrap_err();
    assert_eq!(err.status_code(), Some(400), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
}

#[tokio::test]
async fn control_characters_from_the_service_are_escaped_in_messages() {
    let emu = emulator().await;
    let url = emu.scenario_url("fail=400;error_text=%1b[31mred%1b[0m%0aforged%20line%07");
    let err = client(&url).list_models().await.unwrap_err();
    assert_eq!(err.status_code(), Some(400));
    assert!(!err.message().chars().any(char::is_control), "{:?}", err.message());
    assert!(!err.to_string().chars().any(char::is_control), "{err}");
    assert!(err.message().contains("\\u{1b}[31mred"), "{:?}", err.message());
    // The body keeps what the service sent.
    match err.body() {
        Some(mixerlead::ErrorBody::Json(json)) => assert!(json["error"].as_str().unwrap().contains('\u{1b}')),
        other => panic!("{other:?}"),
    }
}
