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
