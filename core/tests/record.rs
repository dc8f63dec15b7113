//! Record and replay: exchanges recorded against the emulator's scripted faults,
//! then replayed by an emulator serving the cassette — same pieces, ids, errors, retries and
//! pacing; the key never in a cassette; several processes appending whole lines.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::*;
use futures_util::StreamExt;
use mixerlead::{ChatRequest, Client, ErrorKind, NewSource};
use mixerlead_emulator::{Emulator, EmulatorConfig};
use serde_json::Value;

/// A path in the temporary directory, removed when dropped (the file need not exist).
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let path = std::env::temp_dir().join(format!("mixerlead-record-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        Scratch(path)
    }

    fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn lines(path: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(!text.contains(KEY), "the key is in the cassette");
    assert!(!text.to_ascii_lowercase().contains("authorization"), "an Authorization header is in the cassette");
    assert!(text.ends_with('\n'));
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a whole JSON line ({e}): {l}")))
        .collect()
}

fn recorder(url: &str, cassette: &str) -> Client {
    builder(url).record(cassette).build().unwrap()
}

async fn replayer(cassette: &str, speed: f64) -> Emulator {
    let config = EmulatorConfig { cassette: Some(cassette.into()), speed, ..EmulatorConfig::default() };
    Emulator::start(config).await.expect("the cassette loads")
}

/// A reply's pieces, each with its time since the response headers, and its ids.
struct Timed {
    pieces: Vec<(Duration, String)>,
    conversation_id: Option<String>,
    request_id: Option<String>,
}

async fn timed_chat(client: &Client, message: &str) -> Timed {
    let mut stream = client.chat(ChatRequest::new(message)).await.unwrap();
    let start = Instant::now();
    let mut pieces = Vec::new();
    while let Some(piece) = stream.next().await {
        pieces.push((start.elapsed(), piece.unwrap()));
    }
    Timed { pieces, conversation_id: stream.conversation_id(), request_id: stream.request_id().map(str::to_string) }
}

#[tokio::test]
async fn record_the_scripted_faults_then_replay_them() {
    let config = EmulatorConfig { index_delay: Duration::from_millis(50), ..EmulatorConfig::default() };
    let live = Emulator::start(config).await.unwrap();
    let cassette = Scratch::new("faults.jsonl");
    let upload = tempfile_path::TempPath::write("notes.md", "# Notes\nCassettes keep the timing.\n");

    // Recording: a paced stream, a 429 then success, a cut connection, an upload, the models.
    let paced = timed_chat(&recorder(&live.scenario_url("delay_ms=60"), cassette.path()), "tell me slowly").await;
    assert!(paced.pieces.len() >= 4, "a reply of several pieces");
    let throttled = recorder(&live.scenario_url("fail=429;times=1;retry_after=0.2"), cassette.path());
    let retried = throttled.send(ChatRequest::new("after a 429")).await.unwrap();
    let cut_client = recorder(&live.scenario_url("disconnect_after=3"), cassette.path());
    let mut cut = cut_client.chat(ChatRequest::new("cut me off")).await.unwrap();
    let (cut_pieces, cut_error) = collect(&mut cut).await;
    assert_eq!(cut_error.unwrap().kind(), ErrorKind::StreamInterrupted);
    let plain = recorder(&live.base_url(), cassette.path());
    let source = plain.knowledge().add(NewSource::file(upload.path()), Some("Notes")).await.unwrap();
    let models = plain.list_models().await.unwrap();

    let recorded = lines(cassette.path());
    assert_eq!(recorded[0], serde_json::json!({"mixerlead_cassette": 1}));
    let exchanges = &recorded[1..];
    let statuses: Vec<_> = exchanges.iter().map(|l| l["status"].as_u64().unwrap()).collect();
    assert_eq!(statuses, [200, 429, 200, 200, 201, 200], "every attempt, in order");
    assert_eq!(exchanges[1]["response_headers"]["retry-after"], "0.2");
    assert_eq!(exchanges[3]["end"], "cut");
    // An SSE reply ends at its `[DONE]`: the client stops reading there, before the body's end.
    assert!(["complete", "closed"].contains(&exchanges[0]["end"].as_str().unwrap()));
    assert_eq!(exchanges[4]["end"], "complete");
    assert_eq!(exchanges[4]["path"], "/knowledge");
    assert_eq!(
        exchanges[4]["request"],
        serde_json::json!({"name": "Notes", "file": {"name": upload.path().file_name().unwrap().to_str().unwrap(), "size": 35}})
    );
    assert_eq!(exchanges[0]["request"], serde_json::json!({"message": "tell me slowly"}));
    assert!(exchanges[0]["request_headers"]["user-agent"].as_str().unwrap().starts_with("mixerlead-rust/"));
    assert!(exchanges[0]["chunks"].as_array().unwrap().len() >= paced.pieces.len());

    // Replaying at the recorded speed, from a client that does not record.
    let replay = replayer(cassette.path(), 1.0).await;
    let client = builder(&replay.base_url()).build().unwrap();
    let again = timed_chat(&client, "tell me slowly").await;
    let texts = |t: &Timed| t.pieces.iter().map(|(_, p)| p.clone()).collect::<Vec<_>>();
    assert_eq!(texts(&again), texts(&paced));
    assert_eq!(again.conversation_id, paced.conversation_id);
    assert_eq!(again.request_id, paced.request_id);
    for ((then, _), (now, _)) in paced.pieces.iter().zip(&again.pieces) {
        let (then, now) = (then.as_secs_f64(), now.as_secs_f64());
        assert!((now - then).abs() <= 0.2 * then + 0.015, "piece at {now:.3} s, recorded at {then:.3} s");
    }

    let started = Instant::now();
    let reply = client.send(ChatRequest::new("after a 429")).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(190), "the recorded Retry-After was honoured again");
    assert_eq!((reply.text.as_str(), &reply.request_id), (retried.text.as_str(), &retried.request_id));

    let mut cut_again = client.chat(ChatRequest::new("cut me off")).await.unwrap();
    let (pieces, error) = collect(&mut cut_again).await;
    assert_eq!(pieces, cut_pieces);
    let error = error.expect("the cut replays as a cut");
    assert_eq!(error.kind(), ErrorKind::StreamInterrupted);
    assert_eq!(error.partial_text(), Some(cut_pieces.concat().as_str()));

    let again = client.knowledge().add(NewSource::file(upload.path()), Some("Notes")).await.unwrap();
    assert_eq!(again.id, source.id);
    assert_eq!(
        client.list_models().await.unwrap().iter().map(|m| &m.id).collect::<Vec<_>>(),
        models.iter().map(|m| &m.id).collect::<Vec<_>>()
    );
    let stats = replay.stats("");
    assert_eq!((stats.requests, stats.replayed, stats.unmatched), (6, 6, 0));

    // Each recorded exchange answers once; then the request is unmatched.
    let unmatched = client.send(ChatRequest::new("tell me slowly")).await.unwrap_err();
    assert_eq!(unmatched.status_code(), Some(404));
    assert!(
        unmatched.message().starts_with("no recorded exchange for POST /chat {\"message\":\"tell me slowly\"}"),
        "{}",
        unmatched.message()
    );
    assert_eq!(replay.stats("").unmatched, 1);

    // At speed 0 the paced reply comes at once.
    let fast = replayer(cassette.path(), 0.0).await;
    let at_once = timed_chat(&builder(&fast.base_url()).build().unwrap(), "tell me slowly").await;
    assert_eq!(texts(&at_once), texts(&paced));
    let last = at_once.pieces.last().unwrap().0;
    assert!(
        last < Duration::from_millis(40),
        "speed 0 took {last:?}, the recording {:?}",
        paced.pieces.last().unwrap().0
    );
}

#[tokio::test]
async fn a_closed_stream_records_what_arrived() {
    let live = emulator().await;
    let cassette = Scratch::new("closed.jsonl");
    let client = recorder(&live.scenario_url("delay_ms=30;pieces=50"), cassette.path());
    let mut stream = client.chat(ChatRequest::new("hi")).await.unwrap();
    let first = stream.next().await.unwrap().unwrap();
    drop(stream);
    let recorded = lines(cassette.path());
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[1]["end"], "closed");
    let chunks = recorded[1]["chunks"].as_array().unwrap();
    assert!(!chunks.is_empty() && chunks.len() < 50, "{} chunks", chunks.len());
    assert!(chunks[0][1].as_str().unwrap().contains(first.trim()));
}

#[test]
fn a_path_that_cannot_be_recorded_into_is_a_configuration_error() {
    let err = builder("http://127.0.0.1:9/api").record("/nonexistent-dir/x/c.jsonl").build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration);
    assert!(err.message().contains("/nonexistent-dir/x/c.jsonl"), "{}", err.message());
    let other = tempfile_path::TempPath::write("notes.txt", "not a cassette\n");
    let err = builder("http://127.0.0.1:9/api").record(other.path().to_str().unwrap()).build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration);
    assert_eq!(std::fs::read_to_string(other.path()).unwrap(), "not a cassette\n", "left as it was");
}

#[tokio::test]
async fn a_bad_cassette_is_an_error_naming_file_and_line() {
    let missing = Scratch::new("missing.jsonl");
    let cut = tempfile_path::TempPath::write("cut.jsonl", "{\"mixerlead_cassette\": 1}\n{\"method\": \"GET\", \"pa");
    let newer = tempfile_path::TempPath::write("v9.jsonl", "{\"mixerlead_cassette\": 9}\n");
    for (path, says) in [
        (Path::new(missing.path()), "cannot be read".to_string()),
        (cut.path(), "line 2: the line is cut short".to_string()),
        (newer.path(), "line 1: cassette version 9".to_string()),
    ] {
        let config = EmulatorConfig { cassette: Some(path.into()), ..EmulatorConfig::default() };
        let err = Emulator::start(config).await.err().expect("refused");
        let message = err.to_string();
        assert!(message.contains(&path.display().to_string()) && message.contains(&says), "{message}");
    }
}

/// Run by [`two_processes_append_whole_lines`] in child processes: records `CHILD_CHATS` long
/// replies into `MIXERLEAD_TEST_CASSETTE`.
#[tokio::test]
async fn child_records_into_the_shared_cassette() {
    let (Ok(cassette), Ok(url)) = (std::env::var("MIXERLEAD_TEST_CASSETTE"), std::env::var("MIXERLEAD_TEST_URL"))
    else {
        return; // only as a child
    };
    let client = recorder(&url, &cassette);
    let chats = (0..CHILD_CHATS).map(|i| {
        let client = client.clone();
        async move { client.send(ChatRequest::new(format!("message {i}"))).await.unwrap() }
    });
    futures_util::future::join_all(chats).await;
}

const CHILD_CHATS: usize = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_append_whole_lines() {
    let live = emulator().await;
    let cassette = Scratch::new("shared.jsonl");
    let children: Vec<_> = (0..2)
        .map(|_| {
            std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "child_records_into_the_shared_cassette", "--test-threads=1"])
                .env("MIXERLEAD_TEST_CASSETTE", cassette.path())
                .env("MIXERLEAD_TEST_URL", live.scenario_url("pieces=3000"))
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let recorded = lines(cassette.path());
    assert_eq!(recorded[0], serde_json::json!({"mixerlead_cassette": 1}));
    let exchanges: Vec<_> = recorded.iter().filter(|l| l.get("mixerlead_cassette").is_none()).collect();
    assert_eq!(exchanges.len(), 2 * CHILD_CHATS);
    assert!(exchanges.iter().all(|l| l["end"] != "cut" && l["status"] == 200));
    let text = std::fs::read_to_string(cassette.path()).unwrap();
    assert!(text.len() > 2 * CHILD_CHATS * 20_000, "lines long enough to need more than one pipe buffer");
}
