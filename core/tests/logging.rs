//! The client's log records through the `log` facade (target `mixerlead`) and a binding's
//! sink: attempts, retries, responses and stream ends; never the key, the message or the reply.
//! (Its own binary: a `log` logger is process-wide.)

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use mixerlead::log::Level;
use mixerlead::ChatRequest;

struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target() == "mixerlead"
    }
    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            self.0.lock().unwrap().push(format!("{} {}", record.level(), record.args()));
        }
    }
    fn flush(&self) {}
}

static CAPTURE: Capture = Capture(Mutex::new(Vec::new()));

#[tokio::test]
async fn records_name_attempts_retries_responses_and_stream_ends_but_no_secrets() {
    log::set_logger(&CAPTURE).unwrap();
    log::set_max_level(log::LevelFilter::Debug);
    let emu = emulator().await;
    let sunk = Arc::new(Mutex::new(Vec::<(Level, String)>::new()));
    let into = sunk.clone();
    let client = builder(&emu.scenario_url("id=log;fail=503;times=1"))
        .max_retry_wait_secs(0.0)
        .log_sink(Arc::new(move |level, text: &str| into.lock().unwrap().push((level, text.to_string()))))
        .build()
        .unwrap();
    let secret_message = "my very private question";
    let reply = client.send(ChatRequest::new(secret_message)).await.unwrap();
    let broken = client.with_options(|b| Ok(b.base_url(emu.scenario_url("disconnect_after=2;delay_ms=5")))).unwrap();
    assert!(chat_text(&broken, "x").await.is_err());

    let records = CAPTURE.0.lock().unwrap().clone();
    let all = records.join("\n");
    for expected in [
        "DEBUG POST /chat: attempt 1 of 3",
        "retry 1 of 2",
        "HTTP 503",
        "HTTP 200",
        "request id req_",
        "stream ended:",
        "WARN stream failed after 2 pieces",
    ] {
        assert!(all.contains(expected), "no {expected:?} in:\n{all}");
    }
    for secret in [KEY, &KEY[KEY.len() - 8..], secret_message, &reply.text[..20]] {
        assert!(!all.contains(secret), "{secret:?} logged:\n{all}");
    }
    let sunk = sunk.lock().unwrap();
    assert!(sunk.iter().any(|(level, text)| *level == Level::Info && text.contains("retry 1 of 2")), "{sunk:?}");
    assert!(sunk.iter().any(|(_, text)| text.contains("stream failed")), "the derived client keeps the sink");
}
