//! A plain-http base URL never goes through a proxy: the proxy would see the key in clear.
//! (Its own test binary: it sets the proxy variables of the whole process.)

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn plain_http_is_never_sent_through_a_proxy() {
    let emu = emulator().await;
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = proxy.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let mut buffer = [0u8; 4096];
            let _ = socket.read(&mut buffer).await;
            let _ = socket.write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n").await;
        }
    });
    for name in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy"] {
        std::env::set_var(name, &proxy_url);
    }
    for name in ["NO_PROXY", "no_proxy"] {
        std::env::remove_var(name);
    }
    let client = client(&emu.scenario_url("id=direct"));
    let models = client.list_models().await.expect("the request goes straight to the emulator");
    assert!(!models.is_empty());
    let text = chat_text(&client, "hi").await.unwrap();
    assert!(text.contains("You said"));
    assert_eq!(seen.load(Ordering::SeqCst), 0, "the proxy received a plain-http request (and the key)");
    assert_eq!(emu.stats("direct").requests, 2);
}
