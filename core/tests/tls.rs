//! https against the emulator's TLS listener: trusting its certificate, refusing an untrusted
//! one and a redirect to plain http, and a CONNECT proxy carrying a streamed chat.

mod common;

use std::sync::atomic::Ordering;

use common::*;
use mixerlead::{ChatRequest, ErrorKind};

#[tokio::test]
async fn an_untrusted_certificate_is_a_connection_error_that_says_so() {
    let (emu, _ca) = tls_emulator().await;
    let client = builder(&emu.scenario_url("id=untrusted")).max_retries(0).build().unwrap();
    let err = client.list_models().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert!(err.message().to_lowercase().contains("certificate"), "{err}");
    assert_eq!(emu.stats("untrusted").requests, 0);
}

#[tokio::test]
async fn ca_file_trusts_the_servers_certificate() {
    let (emu, ca) = tls_emulator().await;
    let client = builder(&emu.base_url()).ca_file(ca.as_str()).build().unwrap();
    assert!(!client.list_models().await.unwrap().is_empty());
    let text = chat_text(&client, "over TLS").await.unwrap();
    assert!(text.contains("over TLS"), "{text}");
}

#[tokio::test]
async fn a_redirect_from_https_to_http_is_refused() {
    let (emu, ca) = tls_emulator().await;
    let client = builder(&emu.scenario_url("id=down;redirect=1;redirect_scheme=http")).ca_file(ca.as_str()).build();
    let err = client.unwrap().list_models().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection, "{err}");
    assert!(err.message().contains("https to http"), "{err}");
    assert_eq!(emu.stats("down").requests, 1, "the plain-http location is never asked");
}

#[tokio::test]
async fn bad_transport_options_name_the_option() {
    let (emu, _ca) = tls_emulator().await;
    let err = builder(&emu.base_url()).ca_file("/nonexistent/ca.pem").build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration);
    assert!(err.message().contains("ca_file"), "{err}");
    let not_pem = tempfile_path::TempPath::write("not.pem", "hello");
    let err = builder(&emu.base_url()).ca_file(not_pem.as_str()).build().unwrap_err();
    assert!(err.kind() == ErrorKind::Configuration && err.message().contains("ca_file"), "{err}");
    for bad in ["not a url", "ftp://proxy:1", "http://"] {
        let err = builder(&emu.base_url()).proxy(bad).build().unwrap_err();
        assert!(err.kind() == ErrorKind::Configuration && err.message().contains("proxy"), "{bad}: {err}");
    }
    let plain = emulator().await;
    let err = builder(&plain.base_url()).proxy("http://127.0.0.1:9").build().unwrap_err();
    assert!(err.kind() == ErrorKind::Configuration && err.message().contains("plain-http"), "{err}");
}

#[tokio::test]
async fn the_proxy_option_carries_a_streamed_chat_through_connect() {
    let (emu, ca) = tls_emulator().await;
    let (proxy, tunnels) = connect_proxy().await;
    let client = builder(&emu.scenario_url("id=viaproxy;pieces=200")).ca_file(ca.as_str()).proxy(&proxy).build();
    let mut stream = client.unwrap().chat(ChatRequest::new("x")).await.unwrap();
    let (pieces, error) = collect(&mut stream).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(pieces.len(), 200);
    assert_eq!(tunnels.load(Ordering::SeqCst), 1);
    assert_eq!(emu.stats("viaproxy").streams_completed, 1);
}
