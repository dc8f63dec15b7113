//! HTTP/2 against the emulator's TLS listener, which offers `h2` by ALPN and says in
//! `x-emulator-protocol` which protocol each request came over: streamed replies and their
//! faults arrive as over HTTP/1.1, many streams share one connection, and a server without
//! `h2` gets HTTP/1.1.

mod common;

use std::time::Duration;

use common::*;
use mixerlead::{ChatRequest, Client, ErrorKind};
use mixerlead_emulator::{Emulator, EmulatorConfig};

const PROTOCOL: &str = "x-emulator-protocol";

/// A client of `emu` (TLS) trusting its certificate, with the requests scripted by `script`.
fn tls_client(emu: &Emulator, ca: &tempfile_path::TempPath, script: &str) -> Client {
    builder(&emu.scenario_url(script)).ca_file(ca.as_str()).build().expect("client builds")
}

fn protocol(headers: &reqwest::header::HeaderMap) -> &str {
    headers.get(PROTOCOL).and_then(|v| v.to_str().ok()).unwrap_or("none")
}

#[tokio::test]
async fn a_streamed_chat_over_http2_arrives_whole() {
    let (emu, ca) = tls_emulator().await;
    let mut stream = tls_client(&emu, &ca, "id=whole").chat(ChatRequest::new("over h2")).await.unwrap();
    assert_eq!(protocol(stream.headers()), "HTTP/2");
    assert!(stream.request_id().is_some_and(|id| id.starts_with("req_")));
    let (pieces, error) = collect(&mut stream).await;
    assert!(error.is_none(), "{error:?}");
    // The same reply, piece for piece, as a fresh plain-http emulator gives over HTTP/1.1.
    let plain = emulator().await;
    let mut over_http1 = client(&plain.base_url()).chat(ChatRequest::new("over h2")).await.unwrap();
    assert_eq!(protocol(over_http1.headers()), "HTTP/1.1");
    let (expected, error) = collect(&mut over_http1).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(pieces, expected);
    assert!(pieces.concat().ends_with("— done."), "{pieces:?}");
    assert_eq!(emu.stats("whole").streams_completed, 1);
}

#[tokio::test]
async fn split_utf8_and_dripped_bodies_arrive_intact_over_http2() {
    let (emu, ca) = tls_emulator().await;
    let mut stream = tls_client(&emu, &ca, "split_utf8").chat(ChatRequest::new("x")).await.unwrap();
    assert_eq!(protocol(stream.headers()), "HTTP/2");
    let (pieces, error) = collect(&mut stream).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(pieces.concat(), "héllo wörld — 世界 👋🏽 naïve ∑ ok");

    let models = tls_client(&emu, &ca, "drip_ms=1").list_models().await.unwrap();
    assert_eq!(protocol(models.headers()), "HTTP/2");
    assert_eq!(models.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["ml-auto", "ml-fast", "ml-writer", "ml-pro"]);

    let client = builder(&emu.scenario_url("id=slow;pieces=30;delay_ms=10")).ca_file(ca.as_str()).build().unwrap();
    let started = std::time::Instant::now();
    let mut stream = client.chat(ChatRequest::new("x")).await.unwrap();
    let (pieces, error) = collect(&mut stream).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(pieces.len(), 30);
    assert!(started.elapsed() >= Duration::from_millis(290), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_cut_stream_over_http2_is_interrupted_with_its_partial_text() {
    let (emu, ca) = tls_emulator().await;
    // Without a delay the pieces and the cut leave at once: the reset must not overtake them.
    for (format, delay) in ["sse", "ndjson", "text", "json"].into_iter().flat_map(|f| [(f, 5), (f, 0)]) {
        let script = format!("format={format};disconnect_after=4;delay_ms={delay}");
        let mut stream = tls_client(&emu, &ca, &script).chat(ChatRequest::new("x")).await.unwrap();
        assert_eq!(protocol(stream.headers()), "HTTP/2");
        let (pieces, error) = collect(&mut stream).await;
        let error = error.unwrap_or_else(|| panic!("{format}: a cut stream must not end cleanly"));
        assert_eq!(error.kind(), ErrorKind::StreamInterrupted, "{format} {delay}: {error}");
        if format != "json" {
            assert_eq!(pieces.concat(), "Hello! You said: \u{201c}x\u{201d}. ", "{format} {delay}");
        }
        assert_eq!(error.partial_text(), Some(pieces.concat().as_str()), "{format} {delay}");
    }
}

#[tokio::test]
async fn a_stalled_stream_over_http2_times_out_and_the_server_sees_it_go() {
    let (emu, ca) = tls_emulator().await;
    let client = builder(&emu.scenario_url("id=st;stall_after=3")).ca_file(ca.as_str()).read_timeout_secs(0.3);
    let mut stream = client.build().unwrap().chat(ChatRequest::new("x")).await.unwrap();
    let (pieces, error) = collect(&mut stream).await;
    assert_eq!(error.expect("a stall is an error").kind(), ErrorKind::Timeout);
    assert_eq!(pieces.len(), 3);
    drop(stream);
    assert_eq!(emu.wait_for_disconnects("st", 1, Duration::from_secs(2)).await.client_disconnects, 1);
}

#[tokio::test]
async fn a_dropped_request_over_http2_is_retried_when_idempotent() {
    let (emu, ca) = tls_emulator().await;
    let models = tls_client(&emu, &ca, "id=d;drop;times=1").list_models().await.unwrap();
    assert_eq!(protocol(models.headers()), "HTTP/2");
    assert_eq!(emu.stats("d").requests, 2);
}

#[tokio::test]
async fn a_429_with_retry_after_is_retried_over_http2() {
    let (emu, ca) = tls_emulator().await;
    let client = tls_client(&emu, &ca, "id=r;fail=429;times=2;retry_after=0.2");
    let mut stream = client.chat(ChatRequest::new("x")).await.unwrap();
    assert_eq!(protocol(stream.headers()), "HTTP/2");
    let (pieces, error) = collect(&mut stream).await;
    assert!(error.is_none() && pieces.concat().contains("You said"), "{error:?}");
    let stats = emu.stats("r");
    assert_eq!(stats.requests, 3);
    for gap in gaps(&stats.request_times) {
        assert!(gap >= Duration::from_millis(195) && gap < Duration::from_millis(600), "{gap:?}");
    }
    assert_eq!(emu.connections(), 1, "the retries reuse the HTTP/2 connection");
}

#[tokio::test]
async fn the_models_list_over_http2() {
    let (emu, ca) = tls_emulator().await;
    let models = tls_client(&emu, &ca, "id=m").list_models().await.unwrap();
    assert_eq!(protocol(models.headers()), "HTTP/2");
    assert!(models.request_id().is_some_and(|id| id.starts_with("req_")));
    assert_eq!(models.len(), 4);
    assert!(models.iter().any(|m| m.id == "ml-pro" && m.requires_paid));
    assert_eq!(emu.stats("m").requests, 1);
}

#[tokio::test]
async fn fifty_concurrent_streams_share_one_http2_connection() {
    let (emu, ca) = tls_emulator().await;
    let client = tls_client(&emu, &ca, "id=many;pieces=200;delay_ms=2");
    // The first request opens the connection; the fifty then find it in the pool.
    assert_eq!(protocol(client.list_models().await.unwrap().headers()), "HTTP/2");
    let streams = (0..50).map(|_| {
        let client = client.clone();
        tokio::spawn(async move {
            let mut stream = client.chat(ChatRequest::new("x")).await.unwrap();
            assert_eq!(protocol(stream.headers()), "HTTP/2");
            collect(&mut stream).await
        })
    });
    for stream in streams.collect::<Vec<_>>() {
        let (pieces, error) = stream.await.unwrap();
        assert!(error.is_none(), "{error:?}");
        assert_eq!(pieces.len(), 200);
    }
    let stats = emu.stats("many");
    assert_eq!((stats.streams_started, stats.streams_completed), (50, 50));
    assert_eq!(emu.connections(), 1);
}

#[tokio::test]
async fn dropping_a_stream_over_http2_is_seen_by_the_server() {
    let (emu, ca) = tls_emulator().await;
    let client = tls_client(&emu, &ca, "id=gone;pieces=500;delay_ms=20");
    let mut stream = client.chat(ChatRequest::new("x")).await.unwrap();
    futures_util::StreamExt::next(&mut stream).await.unwrap().unwrap();
    drop(stream);
    let stats = emu.wait_for_disconnects("gone", 1, Duration::from_secs(2)).await;
    assert_eq!((stats.client_disconnects, stats.streams_completed), (1, 0));
    // The connection outlives the reset stream: the next call goes over it.
    assert_eq!(protocol(client.list_models().await.unwrap().headers()), "HTTP/2");
    assert_eq!(emu.connections(), 1);
}

#[tokio::test]
async fn without_h2_on_offer_the_client_speaks_http1() {
    let config = EmulatorConfig { tls: true, http1_only: true, ..EmulatorConfig::default() };
    let emu = Emulator::start(config).await.unwrap();
    let ca = tempfile_path::TempPath::write("ca.pem", emu.ca_pem().unwrap());
    let client = tls_client(&emu, &ca, "id=old;pieces=50;delay_ms=5");
    assert_eq!(protocol(client.list_models().await.unwrap().headers()), "HTTP/1.1");
    let streams = (0..5).map(|_| {
        let client = client.clone();
        tokio::spawn(async move {
            let mut stream = client.chat(ChatRequest::new("x")).await.unwrap();
            assert_eq!(protocol(stream.headers()), "HTTP/1.1");
            collect(&mut stream).await
        })
    });
    for stream in streams.collect::<Vec<_>>() {
        let (pieces, error) = stream.await.unwrap();
        assert!(error.is_none() && pieces.len() == 50, "{error:?}");
    }
    assert!(emu.connections() >= 5, "HTTP/1.1 needs a connection per concurrent stream");
}

#[tokio::test]
async fn plain_http_stays_http1() {
    let emu = emulator().await;
    let models = client(&emu.base_url()).list_models().await.unwrap();
    assert_eq!(protocol(models.headers()), "HTTP/1.1");
}
