//! Helpers shared by the integration tests: an emulator on port 0 and clients pointed at it.
#![allow(dead_code)]

use std::time::Duration;

use futures_util::StreamExt;
use mixerlead::{ChatRequest, ChatStream, Client, ClientBuilder, Error};
use mixerlead_emulator::{Emulator, EmulatorConfig};

pub const KEY: &str = "ml_test_supersecretkey_7g4Q";

pub async fn emulator() -> Emulator {
    Emulator::start(EmulatorConfig::default()).await.expect("emulator starts")
}

/// A builder with the test key and short waits, pointed at `base_url`.
pub fn builder(base_url: &str) -> ClientBuilder {
    Client::builder().api_key(KEY).base_url(base_url)
}

pub fn client(base_url: &str) -> Client {
    builder(base_url).build().expect("client builds")
}

/// Streams `message` and collects every piece (or the first error, with the pieces before it).
pub async fn collect(stream: &mut ChatStream) -> (Vec<String>, Option<Error>) {
    let mut pieces = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(piece) => {
                assert!(!piece.is_empty(), "empty piece");
                pieces.push(piece);
            }
            Err(e) => {
                assert!(stream.next().await.is_none(), "stream goes on after its error");
                return (pieces, Some(e));
            }
        }
    }
    (pieces, None)
}

pub async fn chat_text(client: &Client, message: &str) -> Result<String, Error> {
    let mut stream = client.chat(ChatRequest::new(message)).await?;
    let (pieces, error) = collect(&mut stream).await;
    match error {
        Some(e) => Err(e),
        None => Ok(pieces.concat()),
    }
}

/// The gaps between consecutive request arrival times.
pub fn gaps(times: &[f64]) -> Vec<Duration> {
    times.windows(2).map(|w| Duration::from_secs_f64(w[1] - w[0])).collect()
}

/// An emulator serving https with a certificate made at start, and that certificate in a file.
pub async fn tls_emulator() -> (Emulator, tempfile_path::TempPath) {
    let emu = Emulator::start(EmulatorConfig { tls: true, ..EmulatorConfig::default() }).await.expect("emulator");
    let path = tempfile_path::TempPath::write("ca.pem", emu.ca_pem().expect("a TLS emulator has a certificate"));
    (emu, path)
}

/// A file removed when dropped.
pub mod tempfile_path {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};

    pub struct TempPath(PathBuf);

    impl TempPath {
        pub fn write(name: &str, contents: &str) -> TempPath {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let path = std::env::temp_dir().join(format!("mixerlead-test-{}-{n}-{name}", std::process::id()));
            std::fs::write(&path, contents).expect("write a temporary file");
            TempPath(path)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }

        pub fn as_str(&self) -> &str {
            self.0.to_str().expect("a UTF-8 temporary path")
        }
    }

    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

/// A CONNECT proxy on loopback: tunnels each `CONNECT host:port` and counts the tunnels.
pub async fn connect_proxy() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let tunnels = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = tunnels.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut client = BufReader::new(client);
                let mut line = String::new();
                if client.read_line(&mut line).await.is_err() {
                    return;
                }
                let target = match line.split_whitespace().collect::<Vec<_>>()[..] {
                    ["CONNECT", target, _] => target.to_string(),
                    _ => {
                        let _ = client.get_mut().write_all(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n").await;
                        return;
                    }
                };
                loop {
                    line.clear();
                    if client.read_line(&mut line).await.unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                }
                let Ok(mut upstream) = tokio::net::TcpStream::connect(&target).await else {
                    let _ = client.get_mut().write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n").await;
                    return;
                };
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = client.get_mut().write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await;
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    (url, tunnels)
}
