//! `mixerlead`: list models, stream a chat reply to stdout, or run the local emulator.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use mixerlead::runtime::block_on;
use mixerlead::{ChatRequest, Client};

const USAGE: &str = "\
usage: mixerlead models [--json]
       mixerlead chat MESSAGE [--model M] [--conversation ID] [--json]
       mixerlead emulator [--port P] [--format sse|ndjson|jsonl|json|text|none] [--token-delay-ms N] [--rate-limit N]

The client reads MIXERLEAD_API_KEY, MIXERLEAD_BASE_URL, MIXERLEAD_PROJECT_ID and
MIXERLEAD_MAX_RETRIES; MIXERLEAD_LOG=debug shows attempts and retries on stderr.";

/// A failure: its one-line message and exit code.
struct Failure(String, u8);

impl From<mixerlead::Error> for Failure {
    fn from(e: mixerlead::Error) -> Self {
        Failure(e.to_string(), 1)
    }
}

fn usage(message: impl Into<String>) -> Failure {
    Failure(format!("{}\n{USAGE}", message.into()), 2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("models") => models(&args[1..]),
        Some("chat") => chat(&args[1..]),
        Some("emulator") => emulator(&args[1..]),
        Some("--version" | "-V") => {
            println!("mixerlead {}", mixerlead::VERSION);
            Ok(())
        }
        Some("--help" | "-h" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => Err(usage(format!("unknown command {other:?}"))),
        None => Err(usage("a command is needed")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message, code)) => {
            eprintln!("mixerlead: {message}");
            ExitCode::from(code)
        }
    }
}

fn models(args: &[String]) -> Result<(), Failure> {
    let json = match args {
        [] => false,
        [flag] if flag == "--json" => true,
        _ => return Err(usage("models takes only --json")),
    };
    let client = Client::from_env()?;
    let models = block_on(client.list_models())?;
    let mut out = std::io::stdout().lock();
    let written = if json {
        let list: Vec<_> = models
            .iter()
            .map(|m| serde_json::json!({"id": m.id, "name": m.name, "task": m.task, "requiresPaid": m.requires_paid}))
            .collect();
        writeln!(out, "{}", serde_json::json!({ "models": list }))
    } else {
        models.iter().try_for_each(|m| {
            let paid = if m.requires_paid { "  (paid)" } else { "" };
            writeln!(out, "{:<12} {:<10} {}{paid}", m.id, m.name, m.task)
        })
    };
    written.map_err(|e| Failure(format!("writing to stdout: {e}"), 1))
}

struct ChatArgs {
    message: String,
    model: Option<String>,
    conversation: Option<String>,
    json: bool,
}

fn parse_chat(args: &[String]) -> Result<ChatArgs, Failure> {
    let mut parsed = ChatArgs { message: String::new(), model: None, conversation: None, json: false };
    let mut message = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |flag: &str| args.next().cloned().ok_or_else(|| usage(format!("{flag} needs a value")));
        match arg.as_str() {
            "--model" => parsed.model = Some(value("--model")?),
            "--conversation" => parsed.conversation = Some(value("--conversation")?),
            "--json" => parsed.json = true,
            flag if flag.starts_with("--") => return Err(usage(format!("unknown option {flag:?}"))),
            text if message.is_none() => message = Some(text.to_string()),
            _ => return Err(usage("chat takes one MESSAGE (quote it)")),
        }
    }
    parsed.message = message.ok_or_else(|| usage("chat needs a MESSAGE"))?;
    Ok(parsed)
}

fn chat(args: &[String]) -> Result<(), Failure> {
    let args = parse_chat(args)?;
    let client = Client::from_env()?;
    let mut request = ChatRequest::new(args.message);
    if let Some(model) = args.model {
        request = request.model(model);
    }
    if let Some(id) = args.conversation {
        request = request.conversation_id(id);
    }
    let mut stream = block_on(client.chat(request))?;
    let mut out = std::io::stdout().lock();
    let mut failure = None;
    while let Some(batch) = block_on(stream.next_batch()) {
        match batch {
            Ok(pieces) if !args.json => {
                let written = out.write_all(pieces.text().as_bytes()).and_then(|()| out.flush());
                if written.is_err() {
                    return Ok(()); // stdout closed (e.g. piped into `head`): stop quietly.
                }
            }
            Ok(_) => {}
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let text = stream.text();
    if args.json {
        let reply = serde_json::json!({"text": text, "conversationId": stream.conversation_id()});
        let _ = writeln!(out, "{reply}");
    }
    drop(out);
    if let Some(e) = failure {
        return Err(e.into());
    }
    if let (false, Some(id)) = (args.json, stream.conversation_id()) {
        // On a terminal the reply has no newline of its own: start the note on a fresh line.
        let fresh_line = if std::io::stderr().is_terminal() && !text.ends_with('\n') { "\n" } else { "" };
        eprintln!("{fresh_line}conversation: {id}");
    }
    Ok(())
}

fn emulator(args: &[String]) -> Result<(), Failure> {
    let config = mixerlead_emulator::EmulatorConfig::from_args(args.iter().cloned()).map_err(usage)?;
    block_on(mixerlead_emulator::run(config, |addr| {
        println!("mixerlead emulator listening on http://{addr}/api");
        let _ = std::io::stdout().flush();
    }))
    .map_err(|e| Failure(format!("emulator: {e}"), 1))
}
