//! Memory stays flat on a hostile reply: a small gzip body that expands to 2 GiB of text, read
//! piece by piece and discarded. (Its own test binary, so that its peak RSS is its own.)
#![cfg(target_os = "linux")]

use mixerlead::{ChatRequest, Client, ErrorKind, MAX_REPLY_BYTES};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Bits written least significant first, as DEFLATE packs them.
#[derive(Default)]
struct Bits {
    bytes: Vec<u8>,
    used: u32,
}

impl Bits {
    fn push(&mut self, value: u32, count: u32) {
        for i in 0..count {
            if self.used % 8 == 0 {
                self.bytes.push(0);
            }
            let last = self.bytes.last_mut().unwrap();
            *last |= (((value >> i) & 1) as u8) << (self.used % 8);
            self.used += 1;
        }
    }

    /// A Huffman code, sent most significant bit first.
    fn code(&mut self, code: u32, len: u32) {
        self.push(code.reverse_bits() >> (32 - len), len);
    }
}

/// A gzip member whose text is `expanded` bytes of `a` (one fixed-Huffman block: a literal,
/// then copies of 258 bytes at distance 1): ~160:1. The trailer is left off: the client must
/// give up before the end.
fn gzip_of_a(expanded: u64) -> Vec<u8> {
    let mut bits = Bits::default();
    bits.push(1, 1); // last block
    bits.push(1, 2); // fixed Huffman codes
    bits.code(0x30 + u32::from(b'a'), 8);
    for _ in 0..(expanded - 1) / 258 {
        bits.code(0b1100_0101, 8); // length 258 (symbol 285)
        bits.code(0, 5); // distance 1
    }
    let mut body = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    body.extend_from_slice(&bits.bytes);
    body
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_bomb_is_read_in_flat_memory_and_cut_at_the_reply_limit() {
    let body = gzip_of_a(2 << 30);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}/api", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 4096];
        let _ = socket.read(&mut request).await;
        let head = "HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-encoding: gzip\r\n\
                    connection: close\r\n\r\n";
        socket.write_all(head.as_bytes()).await.unwrap();
        let _ = socket.write_all(&body).await;
    });
    let client = Client::builder().api_key("ml_test_k").base_url(&base_url).build().unwrap();
    let mut stream = client.chat(ChatRequest::new("x")).await.unwrap();
    let before = peak_rss_kib();
    let mut read: u64 = 0;
    let mut at_quarter = None;
    let mut near_end = None;
    let error = loop {
        if read >= MAX_REPLY_BYTES / 4 && at_quarter.is_none() {
            at_quarter = Some(peak_rss_kib());
        }
        if read >= MAX_REPLY_BYTES / 16 * 15 && near_end.is_none() {
            near_end = Some(peak_rss_kib());
        }
        match stream.next_batch().await {
            Some(Ok(batch)) => read += batch.text().len() as u64,
            Some(Err(e)) => break e,
            None => panic!("a body without its gzip trailer cannot end cleanly"),
        }
    };
    assert_eq!(error.kind(), ErrorKind::Decode, "{error}");
    assert!(error.to_string().contains("larger than"), "{error}");
    assert!(read > MAX_REPLY_BYTES / 2 && read <= MAX_REPLY_BYTES, "{read} bytes read");
    // The first 64 MiB of text are kept (MAX_KEPT_TEXT); past that, reading grows nothing. The
    // failure copies the kept text into its partial_text once.
    let (grown, flat) = (peak_rss_kib() - before, near_end.unwrap() - at_quarter.unwrap());
    eprintln!("read {} MiB; peak RSS grew {} MiB in all, {} KiB from 256 to 960 MiB", read >> 20, grown >> 10, flat);
    assert!(grown < 160 << 10, "peak RSS grew by {} MiB", grown >> 10);
    assert!(flat < 8 << 10, "peak RSS grew by {flat} KiB while reading 256 to 960 MiB");
    assert!(stream.read().await.is_err(), "read() must not return a cut reply");
}
