//! `mixerlead-bench IMPL CASE URL N [EACH]`: one run of one case, printed as JSON.
//! IMPL: `mixerlead` (the crate, piece by piece through `Stream`), `mixerlead-batches` (the
//! crate's `next_batch`, pieces lent out of one buffer) or `ceiling` (a few lines of reqwest splitting SSE lines: the
//! least any Rust client must do).

use std::time::Instant;

use futures_util::StreamExt;
use mixerlead::{ChatRequest, Client};
use serde_json::json;

const KEY: &str = "ml_test_bench_key";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [implementation, case, url, n, rest @ ..] = args.as_slice() else {
        eprintln!("usage: mixerlead-bench IMPL CASE URL N [EACH]");
        std::process::exit(2);
    };
    let n: usize = n.parse().expect("N is a number");
    let each: usize = rest.first().map_or(1000, |e| e.parse().expect("EACH is a number"));
    let out = match implementation.as_str() {
        "mixerlead" => with_mixerlead(case, url, n, each).await,
        "mixerlead-batches" => with_batches(case, url).await,
        "mixerlead-upload" => upload(url, n).await,
        "ceiling-keep" => ceiling_keeping_text(url).await,
        "ceiling" => ceiling(case, url, n).await,
        other => panic!("unknown implementation {other}"),
    };
    println!("{out}");
}

/// Uploads a file of `mebibytes` MiB as a knowledge source: how much the process's peak RSS grew
/// (the file is streamed from disk, so it should not).
async fn upload(url: &str, mebibytes: usize) -> serde_json::Value {
    use std::io::Write;
    let path = std::env::temp_dir().join(format!("mixerlead-bench-upload-{}.bin", std::process::id()));
    {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("temp file"));
        let block = vec![b'x'; 1 << 20];
        for _ in 0..mebibytes {
            file.write_all(&block).expect("write");
        }
    }
    let client = Client::builder().api_key(KEY).base_url(url).project_id("bench-upload").build().expect("client");
    client.list_models().await.expect("warm up");
    let before = peak_rss_kib();
    let start = Instant::now();
    let added = client.knowledge().add(mixerlead::NewSource::file(&path), Some("bench")).await;
    let seconds = start.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&path);
    added.expect("upload");
    let grown_mib = (peak_rss_kib().saturating_sub(before)) as f64 / 1024.0;
    json!({"seconds": seconds, "mebibytes": mebibytes, "rss_growth_mib": grown_mib})
}

/// This process's peak resident set (VmHWM), in KiB; 0 where /proc is not there.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

async fn with_mixerlead(case: &str, url: &str, n: usize, each: usize) -> serde_json::Value {
    let client = Client::builder().api_key(KEY).base_url(url).build().expect("client");
    match case {
        "sse" | "text" => {
            let start = Instant::now();
            let mut stream = client.chat(ChatRequest::new("bench")).await.expect("chat");
            let (mut pieces, mut bytes) = (0usize, 0usize);
            while let Some(piece) = stream.next().await {
                let piece = piece.expect("piece");
                pieces += 1;
                bytes += piece.len();
            }
            json!({"seconds": start.elapsed().as_secs_f64(), "pieces": pieces, "bytes": bytes})
        }
        "models" => {
            let start = Instant::now();
            for _ in 0..n {
                client.list_models().await.expect("models");
            }
            json!({"seconds": start.elapsed().as_secs_f64(), "calls": n})
        }
        "first" => {
            let mut times = Vec::with_capacity(n);
            for _ in 0..n {
                let start = Instant::now();
                let mut stream = client.chat(ChatRequest::new("bench")).await.expect("chat");
                stream.next().await.expect("a piece").expect("piece");
                times.push(start.elapsed().as_secs_f64());
            }
            times.sort_by(f64::total_cmp);
            json!({"seconds": times[times.len() / 2]})
        }
        "concurrent" => {
            let start = Instant::now();
            let tasks: Vec<_> = (0..n)
                .map(|_| {
                    let client = client.clone();
                    tokio::spawn(async move {
                        let mut stream = client.chat(ChatRequest::new("bench")).await.expect("chat");
                        let mut count = 0usize;
                        while let Some(piece) = stream.next().await {
                            piece.expect("piece");
                            count += 1;
                        }
                        count
                    })
                })
                .collect();
            let mut pieces = 0;
            for task in tasks {
                pieces += task.await.expect("task");
            }
            json!({"seconds": start.elapsed().as_secs_f64(), "pieces": pieces, "expected": n * each})
        }
        other => panic!("unknown case {other}"),
    }
}

/// Cases (a) and (b) through `ChatStream::next_batch`.
async fn with_batches(case: &str, url: &str) -> serde_json::Value {
    assert!(matches!(case, "sse" | "text"), "batches are measured on sse and text only");
    let client = Client::builder().api_key(KEY).base_url(url).build().expect("client");
    let start = Instant::now();
    let mut stream = client.chat(ChatRequest::new("bench")).await.expect("chat");
    let (mut pieces, mut bytes) = (0usize, 0usize);
    while let Some(batch) = stream.next_batch().await {
        for piece in &batch.expect("batch") {
            pieces += 1;
            bytes += piece.len();
        }
    }
    json!({"seconds": start.elapsed().as_secs_f64(), "pieces": pieces, "bytes": bytes})
}

/// Case (b) doing the least a client that keeps the reply must: check each chunk's UTF-8 (a
/// character split across chunks is carried over) and append it to one string.
async fn ceiling_keeping_text(url: &str) -> serde_json::Value {
    let _ = rustls_default();
    let http = reqwest::Client::new();
    let start = Instant::now();
    let response = http.post(format!("{url}/chat")).bearer_auth(KEY).body(r#"{"message":"bench"}"#).send();
    let mut body = response.await.expect("send").bytes_stream();
    let (mut text, mut carry) = (String::new(), Vec::new());
    while let Some(chunk) = body.next().await {
        carry.extend_from_slice(&chunk.expect("chunk"));
        let valid = match std::str::from_utf8(&carry) {
            Ok(all) => all.len(),
            Err(e) => e.valid_up_to(),
        };
        text.push_str(std::str::from_utf8(&carry[..valid]).expect("checked"));
        carry.drain(..valid);
    }
    json!({"seconds": start.elapsed().as_secs_f64(), "bytes": text.len()})
}

/// Reads the body and splits it into lines, counting `data:` payloads (or raw text chars).
async fn ceiling(case: &str, url: &str, n: usize) -> serde_json::Value {
    let _ = rustls_default();
    let http = reqwest::Client::new();
    let post = || http.post(format!("{url}/chat")).bearer_auth(KEY).body(r#"{"message":"bench"}"#);
    match case {
        "sse" => {
            let start = Instant::now();
            let mut body = post().send().await.expect("send").bytes_stream();
            let (mut pieces, mut rest) = (0usize, Vec::new());
            while let Some(chunk) = body.next().await {
                rest.extend_from_slice(&chunk.expect("chunk"));
                let mut consumed = 0;
                while let Some(end) = memchr::memchr(b'\n', &rest[consumed..]) {
                    let line = &rest[consumed..consumed + end];
                    if line.starts_with(b"data: ") && line != b"data: [DONE]" {
                        pieces += 1;
                    }
                    consumed += end + 1;
                }
                rest.drain(..consumed);
            }
            json!({"seconds": start.elapsed().as_secs_f64(), "pieces": pieces})
        }
        "text" => {
            let start = Instant::now();
            let mut body = post().send().await.expect("send").bytes_stream();
            let mut bytes = 0usize;
            while let Some(chunk) = body.next().await {
                bytes += chunk.expect("chunk").len();
            }
            json!({"seconds": start.elapsed().as_secs_f64(), "bytes": bytes})
        }
        "models" => {
            let start = Instant::now();
            for _ in 0..n {
                let body = http.get(format!("{url}/ai/models")).bearer_auth(KEY).send().await.expect("send");
                let _: serde_json::Value = serde_json::from_slice(&body.bytes().await.expect("body")).expect("json");
            }
            json!({"seconds": start.elapsed().as_secs_f64(), "calls": n})
        }
        "first" => {
            let mut times = Vec::with_capacity(n);
            for _ in 0..n {
                let start = Instant::now();
                let mut body = post().send().await.expect("send").bytes_stream();
                body.next().await.expect("a chunk").expect("chunk");
                times.push(start.elapsed().as_secs_f64());
            }
            times.sort_by(f64::total_cmp);
            json!({"seconds": times[times.len() / 2]})
        }
        other => panic!("the ceiling has no case {other}"),
    }
}

fn rustls_default() -> bool {
    // The ceiling uses plain http to the emulator; building a client still needs a provider.
    mixerlead::Client::builder().api_key(KEY).base_url("http://127.0.0.1:1").build().is_ok()
}
