//! The `mixerlead` command against an emulator it starts itself (`mixerlead emulator`).

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mixerlead");
const KEY: &str = "ml_test_clisecretkey_Zz91";

struct Emulator {
    child: Child,
    base_url: String,
}

impl Emulator {
    fn start() -> Emulator {
        let mut child = Command::new(BIN)
            .args(["emulator", "--port", "0"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("emulator starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let base_url = line.trim().rsplit(' ').next().unwrap().to_string();
        assert!(base_url.starts_with("http://127.0.0.1:"), "{line}");
        Emulator { child, base_url }
    }

    fn scenario(&self, script: &str) -> String {
        self.base_url.replace("/api", &format!("/s/{script}/api"))
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(base_url: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BIN);
    command.args(args).env_clear().env("MIXERLEAD_API_KEY", KEY).env("MIXERLEAD_BASE_URL", base_url);
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("mixerlead runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn models_plain_and_json() {
    let emu = Emulator::start();
    let out = run(&emu.base_url, &["models"], &[]);
    assert!(out.status.success());
    assert!(text(&out.stdout).lines().any(|l| l.starts_with("ml-auto")), "{}", text(&out.stdout));
    let out = run(&emu.base_url, &["models", "--json"], &[]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["models"][0]["id"], "ml-auto");
    assert!(out.stderr.is_empty());
}

#[test]
fn chat_prints_exactly_the_reply_and_the_id_on_stderr() {
    let emu = Emulator::start();
    let out = run(&emu.base_url, &["chat", "Hi there", "--model", "ml-fast"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let reply = text(&out.stdout);
    assert!(reply.starts_with("Hello! You said: \u{201c}Hi there\u{201d}. This is reply 1 in conv_1."), "{reply}");
    assert!(reply.ends_with("— done."), "nothing added after the reply: {reply:?}");
    assert_eq!(text(&out.stderr), "conversation: conv_1\n");
    let out = run(&emu.base_url, &["chat", "More", "--conversation", "conv_1"], &[]);
    assert!(text(&out.stdout).contains("reply 2 in conv_1"));
    let out = run(&emu.base_url, &["chat", "x", "--json"], &[]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["conversationId"], "conv_2");
    assert!(json["text"].as_str().unwrap().contains("You said"));
}

#[test]
fn chat_streams_as_pieces_arrive() {
    let emu = Emulator::start();
    let mut child = Command::new(BIN)
        .args(["chat", "slow"])
        .env("MIXERLEAD_API_KEY", KEY)
        .env("MIXERLEAD_BASE_URL", emu.scenario("delay_ms=150"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut first = [0u8; 7];
    child.stdout.as_mut().unwrap().read_exact(&mut first).unwrap();
    assert_eq!(&first, b"Hello! ");
    assert!(child.try_wait().unwrap().is_none(), "the first piece is printed while the reply goes on");
    assert!(started.elapsed() < Duration::from_secs(2));
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn failures_are_one_line_with_a_nonzero_exit() {
    let emu = Emulator::start();
    let out = Command::new(BIN).args(["models"]).env_clear().output().unwrap();
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("MIXERLEAD_API_KEY"), "{err}");

    let out = run(&emu.scenario("disconnect_after=3"), &["chat", "x"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "Hello! You said: ", "text already streamed stays printed");
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("interrupted"), "{err}");

    let out = run(&emu.scenario("fail=404"), &["chat", "x"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr), "mixerlead: HTTP 404: scripted failure 404\n");
    let out = run(&emu.base_url, &["chat"], &[]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn logs_show_attempts_but_never_the_key() {
    let emu = Emulator::start();
    let url = emu.scenario("fail=429;times=1;retry_after=0.05");
    let out = run(&url, &["chat", "x"], &[("MIXERLEAD_LOG", "debug")]);
    assert!(out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("attempt 1 of 3") && err.contains("retry 1 of 2"), "{err}");
    assert!(!err.contains("clisecretkey"), "{err}");
    let out = run(&url, &["chat", "x"], &[]);
    assert_eq!(text(&out.stderr), format!("conversation: {}\n", "conv_2"), "silent without MIXERLEAD_LOG");
}
