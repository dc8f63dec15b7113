//! The `mixerlead` command against an emulator it starts itself (`mixerlead emulator`).

use std::io::{BufRead, BufReader, Read, Write};
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

#[test]
fn help_on_the_command_and_every_subcommand() {
    for sub in [None, Some("models"), Some("chat"), Some("emulator")] {
        for flag in ["--help", "-h"] {
            let args: Vec<&str> = sub.into_iter().chain([flag]).collect();
            let out = Command::new(BIN).args(&args).env_clear().output().unwrap();
            assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
            let help = text(&out.stdout);
            let usage = format!("Usage: mixerlead {}", sub.unwrap_or("<COMMAND>"));
            assert!(help.contains(&usage), "{args:?}: {help}");
            assert!(out.stderr.is_empty(), "{args:?}: {}", text(&out.stderr));
        }
    }
    let chat = text(&Command::new(BIN).args(["help", "chat"]).output().unwrap().stdout);
    for option in ["--model <M>", "--conversation <ID>", "--json", "[MESSAGE]", "`-` reads it from stdin"] {
        assert!(chat.contains(option), "{option}: {chat}");
    }
    let emulator = text(&Command::new(BIN).args(["emulator", "--help"]).output().unwrap().stdout);
    for option in ["--port <P>", "--format <FORMAT>", "--token-delay-ms <N>", "--rate-limit <N>", "ndjson"] {
        assert!(emulator.contains(option), "{option}: {emulator}");
    }
}

#[test]
fn version() {
    for flag in ["--version", "-V"] {
        let out = Command::new(BIN).arg(flag).env_clear().output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(text(&out.stdout), format!("mixerlead {}\n", env!("CARGO_PKG_VERSION")));
    }
}

#[test]
fn usage_errors_exit_2_and_name_the_problem() {
    for args in [&[][..], &["nonsense"], &["chat", "--bogus", "x"], &["chat", "a", "b"], &["models", "--jsn"]] {
        let out = Command::new(BIN).args(args).env_clear().stdin(Stdio::null()).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(text(&out.stderr).contains("Usage: mixerlead"), "{args:?}: {}", text(&out.stderr));
    }
    let out = Command::new(BIN).args(["emulator", "--format", "xml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("possible values: sse, ndjson"), "{}", text(&out.stderr));
    // No MESSAGE and stdin not a terminal: a usage error, before the key is even looked for.
    let out = Command::new(BIN).args(["chat"]).env_clear().stdin(Stdio::null()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("a MESSAGE is needed"), "{}", text(&out.stderr));
}

/// Runs `mixerlead ARGS` with `input` on its stdin.
fn run_with_stdin(base_url: &str, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env_clear()
        .env("MIXERLEAD_API_KEY", KEY)
        .env("MIXERLEAD_BASE_URL", base_url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn chat_dash_reads_the_message_from_stdin() {
    let emu = Emulator::start();
    let out = run_with_stdin(&emu.base_url, &["chat", "-"], "Hi from\nstdin\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let reply = text(&out.stdout);
    assert!(reply.starts_with("Hello! You said: \u{201c}Hi from\nstdin\u{201d}."), "{reply}");
    assert!(reply.ends_with("— done."), "stdout is exactly the reply: {reply:?}");
    assert_eq!(text(&out.stderr), "conversation: conv_1\n");
    let out = run_with_stdin(&emu.base_url, &["chat", "-", "--conversation", "conv_1", "--json"], "again");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["text"].as_str().unwrap().contains("\u{201c}again\u{201d}. This is reply 2 in conv_1"), "{json}");
    let out = run_with_stdin(&emu.base_url, &["chat", "-"], "\n");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("empty"), "{}", text(&out.stderr));
    // `--` makes a message that starts with a hyphen an argument like any other.
    let out = run(&emu.base_url, &["chat", "--", "-5 degrees"], &[]);
    assert!(text(&out.stdout).contains("\u{201c}-5 degrees\u{201d}"), "{}", text(&out.stdout));
}

#[test]
fn the_conversation_note_starts_its_own_line_when_both_streams_go_to_one_place() {
    let emu = Emulator::start();
    let command = format!("'{BIN}' chat 'Hi' 2>&1");
    let out = Command::new("sh")
        .args(["-c", &command])
        .env("MIXERLEAD_API_KEY", KEY)
        .env("MIXERLEAD_BASE_URL", &emu.base_url)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(text(&out.stdout).ends_with("— done.\nconversation: conv_1\n"), "{:?}", text(&out.stdout));
    let out = Command::new("sh")
        .args(["-c", &command])
        .env("MIXERLEAD_API_KEY", KEY)
        .env("MIXERLEAD_BASE_URL", emu.scenario("disconnect_after=3"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let all = text(&out.stdout);
    assert!(all.starts_with("Hello! You said: \nmixerlead: "), "{all:?}");
    assert_eq!(all.lines().count(), 2, "{all:?}");
}

/// Runs `mixerlead ARGS` on a pseudo-terminal (util-linux `script`) with `input` typed into it:
/// its stdin, stdout and stderr are all that terminal. `None` when `script` is not installed.
#[cfg(target_os = "linux")]
fn run_on_a_terminal(base_url: &str, args: &str, input: &str) -> Option<(Option<i32>, String)> {
    let spawned = Command::new("script")
        .args(["-qec", &format!("'{BIN}' {args}"), "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("MIXERLEAD_API_KEY", KEY)
        .env("MIXERLEAD_BASE_URL", base_url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("skipped: `script` (util-linux) is not installed");
            return None;
        }
        Err(e) => panic!("script: {e}"),
    };
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    // The terminal ends lines with \r\n; the input typed ahead is echoed at the start.
    Some((out.status.code(), text(&out.stdout).replace("\r\n", "\n")))
}

#[cfg(target_os = "linux")]
#[test]
fn on_a_terminal_the_reply_ends_its_line() {
    let emu = Emulator::start();
    let Some((code, all)) = run_on_a_terminal(&emu.base_url, "chat 'Hi there'", "") else { return };
    assert_eq!(code, Some(0), "{all}");
    assert!(all.ends_with("— done.\nconversation: conv_1\n"), "{all:?}");
    let url = emu.scenario("disconnect_after=3");
    let Some((code, all)) = run_on_a_terminal(&url, "chat x", "") else { return };
    assert_eq!(code, Some(1), "{all}");
    assert!(all.starts_with("Hello! You said: \nmixerlead: "), "text kept, the error on a line of its own: {all:?}");
}

#[cfg(target_os = "linux")]
#[test]
fn with_no_message_on_a_terminal_chat_is_a_session_of_one_conversation() {
    let emu = Emulator::start();
    let input = "Hi\n\nMore\nAnd more\n";
    let Some((code, all)) = run_on_a_terminal(&emu.base_url, "chat --model ml-fast", input) else { return };
    assert_eq!(code, Some(0), "{all}");
    let session = all.split_once("ends the session.\n").map(|(_, rest)| rest).unwrap_or_else(|| panic!("{all:?}"));
    // A prompt before each line read: the blank line only gets a second prompt.
    let replies: Vec<&str> =
        session.lines().map(|l| l.trim_start_matches("> ")).filter(|l| l.starts_with("Hello!")).collect();
    assert_eq!(replies.len(), 3, "{all}");
    for (n, (reply, message)) in replies.iter().zip(["Hi", "More", "And more"]).enumerate() {
        let expected = format!("Hello! You said: \u{201c}{message}\u{201d}. This is reply {} in conv_1.", n + 1);
        assert!(reply.starts_with(&expected), "{reply:?}");
        assert!(reply.ends_with("— done."), "each reply on its own line: {reply:?}");
    }
    assert!(session.contains("\n> > Hello! You said: \u{201c}More"), "{session:?}");
    assert!(session.ends_with("— done.\n> \nconversation: conv_1\n"), "{session:?}");

    // A failed turn is reported and the session goes on in the same conversation.
    let url = emu.scenario("fail=404");
    let Some((code, all)) = run_on_a_terminal(&url, "chat --conversation conv_1", "a\nb\n") else { return };
    assert_eq!(code, Some(0), "{all}");
    assert_eq!(all.matches("mixerlead: HTTP 404: scripted failure 404").count(), 2, "{all}");
    assert!(all.ends_with("conversation: conv_1\n"), "{all:?}");
}

#[test]
fn control_characters_in_a_server_error_never_reach_the_terminal() {
    let emu = Emulator::start();
    // ESC [31m red ESC [0m, a line feed, a BEL: the service's `error` text, percent-encoded.
    let url = emu.scenario("fail=400;error_text=%1b%5b31mred%1b%5b0m%0asecond%20line%07end");
    for args in [&["chat", "x"][..], &["models"]] {
        let out = run(&url, args, &[]);
        assert_eq!(out.status.code(), Some(1));
        let err = text(&out.stderr);
        // Escaped by the core (`\u{1b}`) or by the CLI (`\x1b`): either way not raw, one line.
        assert!(err.starts_with("mixerlead: HTTP 400: ") && err.contains("[31mred"), "{args:?}: {err:?}");
        assert!(!err.trim_end_matches('\n').chars().any(char::is_control), "{args:?}: {err:?}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err:?}");
    }
}
