//! The environment's transport settings: SSL_CERT_FILE, HTTPS_PROXY and NO_PROXY. One test in
//! its own binary, since it sets variables for the whole process.

mod common;

use std::sync::atomic::Ordering;

use common::*;

#[tokio::test]
async fn ssl_cert_file_https_proxy_and_no_proxy_from_the_environment() {
    let (emu, ca) = tls_emulator().await;
    for name in
        ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"]
    {
        std::env::remove_var(name);
    }
    std::env::set_var("SSL_CERT_FILE", ca.path());
    let trusting = client(&emu.base_url());
    assert!(!trusting.list_models().await.expect("SSL_CERT_FILE is trusted").is_empty());

    let (proxy, tunnels) = connect_proxy().await;
    std::env::set_var("HTTPS_PROXY", &proxy);
    let text = chat_text(&client(&emu.base_url()), "via env proxy").await.unwrap();
    assert!(text.contains("via env proxy"));
    assert_eq!(tunnels.load(Ordering::SeqCst), 1, "HTTPS_PROXY carried the request");

    std::env::set_var("NO_PROXY", "127.0.0.1");
    chat_text(&client(&emu.base_url()), "direct").await.unwrap();
    assert_eq!(tunnels.load(Ordering::SeqCst), 1, "NO_PROXY bypassed the proxy");

    // The proxy option beats the environment, and NO_PROXY still applies to it.
    std::env::remove_var("NO_PROXY");
    std::env::set_var("HTTPS_PROXY", "http://127.0.0.1:9");
    let client = builder(&emu.base_url()).proxy(&proxy).build().unwrap();
    chat_text(&client, "option").await.unwrap();
    assert_eq!(tunnels.load(Ordering::SeqCst), 2);
}
