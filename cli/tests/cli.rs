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
        Emulator::start_with(&[])
    }

    /// An emulator with more options of `mixerlead emulator` (`--index-delay-ms 50`, …).
    fn start_with(options: &[&str]) -> Emulator {
        let mut child = Command::new(BIN)
            .args(["emulator", "--port", "0"])
            .args(options)
            .stdout(Stdio::piped())
            .spawn()
            .expect("emulator starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let base_url = line.trim().rsplit(' ').next().unwrap().to_string();
        let scheme = if options.contains(&"--tls") { "https" } else { "http" };
        assert!(base_url.starts_with(&format!("{scheme}://127.0.0.1:")), "{line}");
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
fn the_emulator_serves_https_with_the_certificate_it_writes() {
    let ca = std::env::temp_dir().join(format!("mixerlead-cli-ca-{}.pem", std::process::id()));
    let emu = Emulator::start_with(&["--tls", "--tls-ca-out", ca.to_str().unwrap()]);
    let untrusted = run(&emu.base_url, &["models"], &[]);
    assert!(!untrusted.status.success());
    assert!(text(&untrusted.stderr).contains("certificate"), "{}", text(&untrusted.stderr));
    let trusted = run(&emu.base_url, &["models"], &[("SSL_CERT_FILE", ca.to_str().unwrap())]);
    assert!(trusted.status.success(), "{}", text(&trusted.stderr));
    assert!(text(&trusted.stdout).lines().any(|l| l.starts_with("ml-auto")));
    let _ = std::fs::remove_file(ca);
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
            // The global flags (--rate-limit, --record, …) make every usage line take [OPTIONS].
            let usage = format!("Usage: mixerlead {}", sub.unwrap_or("[OPTIONS] <COMMAND>"));
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

// ---- the rest of the Workspace API : knowledge, skills, agents, artifacts ----

/// `mixerlead ARGS` in the workspace of `project` (each test its own, so none sees another's).
fn run_in(emu: &Emulator, project: &str, args: &[&str]) -> Output {
    run(&emu.base_url, args, &[("MIXERLEAD_PROJECT_ID", project)])
}

/// stdout of a command that must succeed.
fn ok(out: Output) -> String {
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    text(&out.stdout)
}

/// stdout of a `--json` command that must succeed, parsed: one JSON document on one line.
fn ok_json(out: Output) -> serde_json::Value {
    let stdout = ok(out);
    assert_eq!(stdout.lines().count(), 1, "{stdout:?}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout:?}"))
}

/// The one line on stderr of a command that must fail with exit code 1; stdout is empty.
fn fails(out: Output) -> String {
    assert_eq!(out.status.code(), Some(1), "stdout: {}", text(&out.stdout));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err:?}");
    assert!(err.starts_with("mixerlead: "), "{err:?}");
    err
}

/// A file in the system's temporary directory, unique to this process and `name`.
fn temp_file(name: &str, contents: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mixerlead-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn knowledge_add_wait_then_chat_is_grounded_on_the_sources() {
    let emu = Emulator::start_with(&["--index-delay-ms", "50"]);
    let project = "cli-grounded";
    let chat = || ok(run_in(&emu, project, &["chat", "Hi"]));
    assert!(!chat().contains("Grounded on"), "nothing indexed yet");

    let handbook =
        ok(run_in(&emu, project, &["knowledge", "add", "--text", "Refunds within 30 days", "--name", "Handbook"]));
    let handbook = handbook.trim_end().to_string();
    assert!(handbook.starts_with("kb_"), "stdout is the id alone: {handbook:?}");
    let file = temp_file("pricing.md", b"# Pricing\n\nThe plan costs 10 a month.\n");
    let manual = ok(run_in(&emu, project, &["knowledge", "add", "--file", file.to_str().unwrap(), "--name", "Manual"]));
    let manual = manual.trim_end().to_string();
    let page = ok_json(run_in(&emu, project, &["knowledge", "add", "--url", "https://docs.example/a", "--json"]));
    assert_eq!(page["status"], "indexing", "{page}");
    let page = page["id"].as_str().unwrap().to_string();

    let listed = ok(run_in(&emu, project, &["knowledge", "list"]));
    assert!(listed.starts_with("ID "), "a header: {listed}");
    assert_eq!(listed.lines().count(), 4, "{listed}");

    let waited = ok(run_in(&emu, project, &["knowledge", "wait", &handbook, &manual, &page, "--timeout", "10"]));
    for id in [&handbook, &manual, &page] {
        let line = waited.lines().find(|l| l.starts_with(id.as_str())).unwrap_or_else(|| panic!("{id}: {waited}"));
        assert!(line.contains("indexed"), "{line}");
    }
    assert!(waited.contains("pricing.md") && waited.contains("https://docs.example/a"), "{waited}");
    let reply = chat();
    assert!(reply.contains("Grounded on: Handbook, Manual, https://docs.example/a."), "{reply}");

    assert_eq!(ok(run_in(&emu, project, &["knowledge", "disable", &manual])), format!("{manual}: disabled\n"));
    assert!(chat().contains("Grounded on: Handbook, https://docs.example/a."), "a disabled source is left out");
    let enabled = ok_json(run_in(&emu, project, &["knowledge", "enable", &manual, "--json"]));
    assert_eq!((enabled["id"].as_str(), enabled["enabled"].as_u64()), (Some(manual.as_str()), Some(1)), "{enabled}");
    assert_eq!(ok(run_in(&emu, project, &["knowledge", "delete", &page])), format!("{page}: deleted\n"));
    assert!(chat().contains("Grounded on: Handbook, Manual."));

    // Re-indexing starts over; waiting brings it back.
    assert_eq!(ok(run_in(&emu, project, &["knowledge", "reindex", &handbook])), format!("{handbook}: indexing\n"));
    ok(run_in(&emu, project, &["knowledge", "wait", &handbook]));

    // Another project sees none of it.
    assert_eq!(ok(run_in(&emu, "cli-grounded-other", &["knowledge", "list"])), "");
    let other = ok_json(run_in(&emu, "cli-grounded-other", &["knowledge", "list", "--json"]));
    assert_eq!(other, serde_json::json!({"sources": []}));
}

#[test]
fn knowledge_wait_fails_with_the_sources_last_error() {
    let emu = Emulator::start_with(&["--index-delay-ms", "50"]);
    let project = "cli-failing";
    let good = ok(run_in(&emu, project, &["knowledge", "add", "--url", "https://docs.example/ok"]));
    let bad = ok(run_in(&emu, project, &["knowledge", "add", "--url", "https://will-fail.example/x"]));
    let (good, bad) = (good.trim_end(), bad.trim_end());
    let err = fails(run_in(&emu, project, &["knowledge", "wait", good, bad]));
    assert_eq!(
        err,
        format!(
            "mixerlead: source {bad} failed to index: could not fetch https://will-fail.example/x: host unreachable\n"
        )
    );
    let listed = ok(run_in(&emu, project, &["knowledge", "list"]));
    let line = listed.lines().find(|l| l.starts_with(bad)).unwrap();
    assert!(line.contains("error") && line.ends_with("host unreachable"), "{listed}");
    let json = ok_json(run_in(&emu, project, &["knowledge", "list", "--json"]));
    let failed = json["sources"].as_array().unwrap().iter().find(|s| s["id"] == bad).unwrap();
    assert_eq!(failed["status"], "error");
    assert!(failed["last_error"].as_str().unwrap().contains("host unreachable"));

    // An unknown id, a wait that runs out of time, a 404 and a 409 are one line each, exit 1.
    let err = fails(run_in(&emu, project, &["knowledge", "wait", "kb_404"]));
    assert!(err.contains("kb_404 is not in the knowledge base"), "{err}");
    // (A source that stays indexing for ten minutes: the timeout, not the machine's speed, ends the wait.)
    let slow = Emulator::start_with(&["--index-delay-ms", "600000"]);
    let pending = ok(run_in(&slow, project, &["knowledge", "add", "--text", "slow to index"]));
    let started = Instant::now();
    let err = fails(run_in(&slow, project, &["knowledge", "wait", pending.trim_end(), "--timeout", "0.3"]));
    assert!(err.contains("still indexing") && err.contains(pending.trim_end()), "{err}");
    assert!(started.elapsed() < Duration::from_secs(20), "{:?}", started.elapsed());
    let err = fails(run_in(&emu, project, &["knowledge", "delete", "kb_404"]));
    assert_eq!(err, "mixerlead: HTTP 404: knowledge source 'kb_404' not found\n");
    let err = fails(run_in(&emu, project, &["knowledge", "add", "--url", "https://docs.example/ok"]));
    assert_eq!(err, "mixerlead: HTTP 409: a source for https://docs.example/ok already exists\n");
}

#[test]
fn knowledge_uploads_over_the_quota_get_the_services_413() {
    let emu = Emulator::start_with(&["--max-upload-bytes", "2000"]);
    let big = temp_file("big.bin", &[b'x'; 5000]);
    let err = fails(run_in(&emu, "cli-413", &["knowledge", "add", "--file", big.to_str().unwrap()]));
    assert!(err.starts_with("mixerlead: HTTP 413: ") && err.contains("over the storage quota"), "{err}");
    let err = fails(run_in(&emu, "cli-413", &["knowledge", "add", "--file", "/no/such/file.pdf"]));
    assert!(err.contains("/no/such/file.pdf"), "{err}");
    assert_eq!(ok(run_in(&emu, "cli-413", &["knowledge", "list"])), "", "nothing was added");
}

#[test]
fn knowledge_crawl() {
    let emu = Emulator::start_with(&["--index-delay-ms", "20"]);
    let crawl = ok_json(run_in(
        &emu,
        "cli-crawl",
        &["knowledge", "crawl", "https://site.example", "--max-pages", "3", "--json"],
    ));
    assert_eq!((crawl["status"].as_str(), crawl["maxPages"].as_u64()), (Some("indexing"), Some(3)), "{crawl}");
    let id = ok(run_in(&emu, "cli-crawl", &["knowledge", "crawl", "https://other.example"]));
    assert!(id.starts_with("kb_") && id.lines().count() == 1, "{id:?}");
    let waited = ok_json(run_in(&emu, "cli-crawl", &["knowledge", "wait", id.trim_end(), "--json"]));
    assert_eq!(waited["sources"][0]["status"], "indexed", "{waited}");
    assert_eq!(waited["sources"][0]["type"], "crawl", "{waited}");
}

#[test]
fn skills_list_and_run_with_variables() {
    let emu = Emulator::start();
    let project = "cli-skills";
    let listed = ok(run_in(&emu, project, &["skills", "list"]));
    assert!(listed.starts_with("ID ") && listed.contains("\nsummarize "), "{listed}");
    let json = ok_json(run_in(&emu, project, &["skills", "list", "--json"]));
    assert!(json["skills"].as_array().unwrap().iter().any(|s| s["id"] == "summarize"), "{json}");

    // Values are JSON when they parse (3, [..], "quoted"), else the text given.
    let args =
        ["skills", "run", "summarize", "--var", "topic=pricing", "--var", "count=3", "--var", r#"tags=["a","b"]"#];
    let output = ok(run_in(&emu, project, &args));
    assert_eq!(output, "# Summarize\n\n- **count**: 3\n- **tags**: [\"a\",\"b\"]\n- **topic**: pricing\n");
    let json = ok_json(run_in(&emu, project, &["skills", "run", "outline", "--var", "topic=a=b", "--json"]));
    assert_eq!(json, serde_json::json!({"output": "# Outline\n\n- **topic**: a=b"}));
    assert_eq!(ok(run_in(&emu, project, &["skills", "run", "outline"])), "# Outline\n");
    let err = fails(run_in(&emu, project, &["skills", "run", "nope"]));
    assert_eq!(err, "mixerlead: HTTP 404: skill 'nope' not found\n");
}

#[test]
fn agents_create_list_and_run_up_to_the_daily_quota() {
    let emu = Emulator::start_with(&["--agent-runs-per-day", "2"]);
    let project = "cli-agents";
    assert_eq!(ok(run_in(&emu, project, &["agents", "list"])), "");
    let scout =
        ok(run_in(&emu, project, &["agents", "create", "Scout", "--type", "research", "--config", r#"{"depth": 2}"#]));
    let scout = scout.trim_end();
    assert!(scout.starts_with("ag_"), "stdout is the id alone: {scout:?}");
    let planner = ok_json(run_in(&emu, project, &["agents", "create", "Planner", "--type", "strategy", "--json"]));
    assert_eq!((planner["name"].as_str(), planner["type"].as_str()), (Some("Planner"), Some("strategy")));
    let err = fails(run_in(&emu, project, &["agents", "create", "Scout", "--type", "monitoring"]));
    assert_eq!(err, "mixerlead: HTTP 409: an agent named 'Scout' already exists\n");

    let listed = ok(run_in(&emu, project, &["agents", "list"]));
    assert_eq!(listed.lines().count(), 3, "{listed}");
    assert!(listed.lines().any(|l| l.starts_with(scout) && l.contains("Scout") && l.ends_with("research")), "{listed}");
    let json = ok_json(run_in(&emu, project, &["agents", "list", "--json"]));
    assert_eq!(json["agents"][0]["config"], serde_json::json!({"depth": 2}), "{json}");

    assert_eq!(ok(run_in(&emu, project, &["agents", "run", scout])), "Scout (research) ran: nothing to report.\n");
    let run = ok_json(run_in(&emu, project, &["agents", "run", scout, "--json"]));
    assert_eq!((run["agentId"].as_str(), run["status"].as_str()), (Some(scout), Some("completed")), "{run}");
    let err = fails(run_in(&emu, project, &["agents", "run", scout]));
    assert_eq!(err, "mixerlead: HTTP 403: daily agent run quota reached (2 runs a day)\n");
    let err = fails(run_in(&emu, project, &["agents", "run", "ag_404"]));
    assert!(err.starts_with("mixerlead: HTTP 404: "), "{err}");
}

/// `POST path` with a JSON body straight to the emulator (the CLI has no command for it).
fn post_json(emu: &Emulator, project: &str, path: &str, body: &str) -> String {
    use std::net::TcpStream;
    let rest = emu.base_url.strip_prefix("http://").unwrap();
    let (host, prefix) = rest.split_once('/').unwrap();
    let mut stream = TcpStream::connect(host).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let request = format!(
        "POST /{prefix}{path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {KEY}\r\nX-Project-Id: {project}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn artifacts_list() {
    let emu = Emulator::start();
    let project = "cli-artifacts";
    assert_eq!(ok(run_in(&emu, project, &["artifacts", "list"])), "", "no rows, no header");
    assert_eq!(ok_json(run_in(&emu, project, &["artifacts", "list", "--json"])), serde_json::json!({"artifacts": []}));
    let saved = post_json(&emu, project, "/artifacts", r#"{"name": "Q3 plan", "type": "document", "body": "…"}"#);
    assert!(saved.starts_with("HTTP/1.1 201"), "{saved}");
    let listed = ok(run_in(&emu, project, &["artifacts", "list"]));
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    assert!(lines[0].starts_with("ID") && lines[0].ends_with("TYPE"), "{listed}");
    assert!(lines[1].starts_with("art_") && lines[1].contains("Q3 plan") && lines[1].ends_with("document"), "{listed}");
    let json = ok_json(run_in(&emu, project, &["artifacts", "list", "--json"]));
    assert_eq!(json["artifacts"][0]["body"], "…", "the whole object: {json}");
    assert_eq!(ok(run_in(&emu, "cli-artifacts-other", &["artifacts", "list"])), "");
}

#[test]
fn help_on_every_workspace_subcommand() {
    let commands: &[(&str, &[&str])] = &[
        ("knowledge", &["Usage: mixerlead knowledge [OPTIONS] <COMMAND>", "add", "crawl", "wait"]),
        ("knowledge add", &["--url <U>", "--text <T>", "--file <PATH>", "--name <N>", "--json", "exactly one"]),
        ("knowledge crawl", &["<SEED_URL>", "--max-pages <N>", "--json"]),
        ("knowledge list", &["--json"]),
        ("knowledge enable", &["<ID>", "--json"]),
        ("knowledge disable", &["<ID>", "--json"]),
        ("knowledge reindex", &["<ID>", "--json"]),
        ("knowledge delete", &["<ID>", "--json"]),
        ("knowledge wait", &["<ID>...", "--timeout <SECONDS>", "[default: 300]", "--json", "last_error"]),
        ("skills", &["Usage: mixerlead skills [OPTIONS] <COMMAND>", "list", "run"]),
        ("skills list", &["--json"]),
        ("skills run", &["<SKILL_ID>", "--var <KEY=VALUE>", "--json", "as JSON when it parses"]),
        ("agents", &["Usage: mixerlead agents [OPTIONS] <COMMAND>", "list", "create", "run"]),
        ("agents list", &["--json"]),
        ("agents create", &["<NAME>", "--type <TYPE>", "research, strategy, execution, monitoring", "--config <JSON>"]),
        ("agents run", &["<AGENT_ID>", "--json", "output"]),
        ("artifacts", &["Usage: mixerlead artifacts [OPTIONS] <COMMAND>", "list"]),
        ("artifacts list", &["--json"]),
        ("emulator", &["--index-delay-ms <N>", "--max-upload-bytes <N>", "--agent-runs-per-day <N>"]),
    ];
    for (command, expected) in commands {
        let mut args: Vec<&str> = command.split(' ').collect();
        args.push("--help");
        let out = Command::new(BIN).args(&args).env_clear().output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
        assert!(out.stderr.is_empty(), "{args:?}");
        let help = text(&out.stdout);
        assert!(help.contains(&format!("Usage: mixerlead {command}")), "{args:?}: {help}");
        for part in *expected {
            assert!(help.contains(part), "{args:?} lacks {part:?}: {help}");
        }
    }
    let top = text(&Command::new(BIN).arg("--help").output().unwrap().stdout);
    for flag in ["--rate-limit <N>", "--max-concurrency <N>", "--rate-limit-redis <URL>", "--record"] {
        assert!(top.contains(flag), "{flag}: {top}");
    }
    for sub in ["knowledge", "skills", "agents", "artifacts"] {
        assert!(top.contains(&format!("\n  {sub} ")), "{sub}: {top}");
    }
}

#[test]
fn workspace_usage_errors_exit_2_before_any_request() {
    let cases: &[(&[&str], &str)] = &[
        (&["knowledge", "add"], "<--url <U>|--text <T>|--file <PATH>>"),
        (&["knowledge", "add", "--name", "n"], "<--url <U>|--text <T>|--file <PATH>>"),
        (&["knowledge", "add", "--url", "u", "--text", "t"], "cannot be used with"),
        (&["knowledge", "add", "--text", "t", "--file", "f"], "cannot be used with"),
        (&["knowledge", "add", "--url", "u", "--file", "f"], "cannot be used with"),
        (&["knowledge"], "Usage: mixerlead knowledge"),
        (&["knowledge", "wait"], "<ID>..."),
        (&["knowledge", "wait", "kb_1", "--timeout", "soon"], "not a number of seconds"),
        (&["knowledge", "wait", "kb_1", "--timeout", "1e19"], "too long"),
        (&["knowledge", "crawl", "https://x.example", "--max-pages", "0"], "--max-pages"),
        (&["knowledge", "enable"], "<ID>"),
        (&["skills", "run", "summarize", "--var", "novalue"], "is not KEY=VALUE"),
        (&["skills", "run", "summarize", "--var", "=v"], "no KEY"),
        (&["agents", "create", "A"], "--type <TYPE>"),
        (&["agents", "create", "A", "--type", "sales"], "possible values: research"),
        (&["agents", "create", "A", "--type", "research", "--config", "[1]"], "must be a JSON object"),
        (&["agents", "create", "A", "--type", "research", "--config", "{oops"], "not JSON"),
        (&["agents", "run"], "<AGENT_ID>"),
        (&["artifacts", "create"], "unrecognized subcommand"),
    ];
    // No emulator at all: nothing is sent, and no key is needed to be told about the usage.
    for (args, expected) in cases {
        let out = Command::new(BIN).args(*args).env_clear().stdin(Stdio::null()).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out.stderr));
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains(expected), "{args:?} lacks {expected:?}: {err}");
    }
}

#[test]
fn server_text_in_tables_stays_on_one_line_and_escaped() {
    let emu = Emulator::start();
    let project = "cli-escapes";
    let name = "Evil\x1b[2J\nsecond line";
    ok(run_in(&emu, project, &["agents", "create", name, "--type", "research"]));
    let listed = ok(run_in(&emu, project, &["agents", "list"]));
    assert_eq!(listed.lines().count(), 2, "{listed:?}");
    assert!(listed.contains("Evil\\x1b[2J\\nsecond line"), "{listed:?}");
    let json = ok_json(run_in(&emu, project, &["agents", "list", "--json"]));
    assert_eq!(json["agents"][0]["name"], name, "--json keeps the text exactly");
}
