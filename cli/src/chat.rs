//! `mixerlead chat`: one message (an argument or stdin), or an interactive session on a terminal.

use std::io::{self, BufRead, IsTerminal, Read, Write};

use clap::Args;
use mixerlead::runtime::block_on;
use mixerlead::{ChatRequest, Client};

use crate::term::{end_reply_line, printable, same_destination};
use crate::{usage_error, Failure};

pub const AFTER_HELP: &str = "\
stdout is exactly the reply, printed as it streams in (with a newline at the end on a terminal);
the conversation id goes to stderr at the end. With no MESSAGE on a terminal, each line typed is
a message of one conversation, until end of input (Ctrl-D).";

#[derive(Args)]
pub struct ChatArgs {
    /// The message; `-` reads it from stdin; none, on a terminal: an interactive session
    #[arg(value_name = "MESSAGE")]
    message: Option<String>,
    /// The model id (see `mixerlead models`; default: Auto)
    #[arg(long, value_name = "M")]
    model: Option<String>,
    /// Continue this conversation (default: start a new one)
    #[arg(long, value_name = "ID")]
    conversation: Option<String>,
    /// Print {"text", "conversationId"} once the reply is complete instead of streaming it
    #[arg(long)]
    json: bool,
}

pub fn run(args: ChatArgs) -> Result<(), Failure> {
    let message = match args.message {
        Some(message) if message == "-" => Some(read_message(io::stdin().lock())?),
        Some(message) => Some(message),
        None if io::stdin().is_terminal() => None,
        None => usage_error("chat", "a MESSAGE is needed: give it as an argument, or `-` to read it from stdin"),
    };
    let chat = Chat { client: crate::client()?, model: args.model, json: args.json };
    let Some(message) = message else {
        return chat.session(args.conversation);
    };
    let sent = chat.send(message, args.conversation)?;
    if let (false, Some(id)) = (args.json, sent.conversation_id) {
        // When stdout and stderr are one file or pipe (`2>&1`), the note starts a line of its own.
        let newline = if sent.line_open && same_destination() { "\n" } else { "" };
        eprintln!("{newline}conversation: {}", printable(&id));
    }
    Ok(())
}

/// The message `chat -` reads: all of stdin, without its final line end.
fn read_message(mut input: impl Read) -> Result<String, Failure> {
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes).map_err(|e| Failure::new(format!("reading stdin: {e}"), 1))?;
    let mut message = String::from_utf8(bytes).map_err(|_| Failure::new("stdin is not UTF-8 text", 1))?;
    let kept = message.strip_suffix('\n').map_or(message.len(), |m| m.strip_suffix('\r').unwrap_or(m).len());
    message.truncate(kept);
    if message.trim().is_empty() {
        usage_error("chat", "the message read from stdin is empty");
    }
    Ok(message)
}

/// What each turn of a chat needs.
struct Chat {
    client: Client,
    model: Option<String>,
    json: bool,
}

/// The outcome of one message sent.
struct Sent {
    conversation_id: Option<String>,
    /// The reply did not end its line, and stdout is not a terminal (where it would be ended).
    line_open: bool,
    /// stdout was closed (e.g. piped into `head`): stop quietly.
    stdout_closed: bool,
}

impl Chat {
    /// Sends one message and streams the reply to stdout as it arrives (or prints it as JSON at
    /// the end). A failure after some text keeps that text printed and ends its line first.
    fn send(&self, message: String, conversation_id: Option<String>) -> Result<Sent, Failure> {
        let request = ChatRequest::from_parts(message, self.model.clone(), conversation_id);
        let mut stream = block_on(self.client.chat(request))?;
        let mut out = io::stdout().lock();
        let mut failure = None;
        let mut line_open = false;
        while let Some(batch) = block_on(stream.next_batch()) {
            match batch {
                Ok(pieces) if !self.json => {
                    let text = pieces.text();
                    if text.is_empty() {
                        continue;
                    }
                    if out.write_all(text.as_bytes()).and_then(|()| out.flush()).is_err() {
                        return Ok(Sent { conversation_id: None, line_open: false, stdout_closed: true });
                    }
                    line_open = !text.ends_with('\n');
                }
                Ok(_) => {}
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        if self.json {
            let reply = serde_json::json!({"text": stream.text(), "conversationId": stream.conversation_id()});
            let _ = writeln!(out, "{reply}");
        }
        drop(out);
        let line_open = line_open && end_reply_line();
        match failure {
            Some(e) => {
                let newline_first = line_open && same_destination();
                Err(Failure { newline_first, ..Failure::from(e) })
            }
            None => Ok(Sent { conversation_id: stream.conversation_id(), line_open, stdout_closed: false }),
        }
    }

    /// The interactive session: a prompt on stderr, each line a message, every reply in the
    /// conversation of the one before, until end of input. A failed turn is reported and the
    /// session goes on.
    fn session(&self, conversation_id: Option<String>) -> Result<(), Failure> {
        let end = if cfg!(windows) { "Ctrl-Z then Enter" } else { "Ctrl-D" };
        eprintln!("mixerlead chat: one message a line; {end} ends the session.");
        let prompt = || {
            eprint!("> ");
            let _ = io::stderr().flush();
        };
        let send = |message: String, id: Option<String>| {
            let sent = self.send(message, id)?;
            if sent.stdout_closed {
                return Ok(None);
            }
            if sent.line_open {
                // Replies going to a file or pipe are still one a line.
                let _ = io::stdout().write_all(b"\n");
            }
            Ok(Some(sent.conversation_id))
        };
        let conversation_id = converse(io::stdin().lock(), prompt, send, conversation_id);
        eprintln!();
        if let Some(id) = conversation_id {
            eprintln!("conversation: {}", printable(&id));
        }
        Ok(())
    }
}

/// The session's loop: reads messages from `input` a line at a time (blank lines skipped) until
/// its end and sends each with the conversation id the last reply gave (at first `conversation_id`).
/// `send` answers the new id (`Some(None)` when the service named none), `None` to stop, or a
/// failure, which is reported and leaves the id as it was. Answers the last id.
fn converse(
    mut input: impl BufRead,
    mut prompt: impl FnMut(),
    mut send: impl FnMut(String, Option<String>) -> Result<Option<Option<String>>, Failure>,
    mut conversation_id: Option<String>,
) -> Option<String> {
    let mut line = Vec::new();
    loop {
        prompt();
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return conversation_id,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&line);
        let message = text.trim_end_matches(['\n', '\r']);
        if message.trim().is_empty() {
            continue;
        }
        match send(message.to_string(), conversation_id.clone()) {
            Ok(Some(id)) => conversation_id = id.or(conversation_id),
            Ok(None) => return conversation_id,
            Err(failure) => failure.report(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_carries_the_conversation_id_from_turn_to_turn() {
        let input = "Hi\n\n   \nMore\r\nthe last, without a line end";
        let mut seen = Vec::new();
        let mut prompts = 0;
        let mut turn = 0;
        let last = converse(
            input.as_bytes(),
            || prompts += 1,
            |message, id| {
                seen.push((message, id));
                turn += 1;
                Ok(Some(Some(format!("conv_{}", if turn == 1 { 7 } else { 8 }))))
            },
            None,
        );
        assert_eq!(
            seen,
            [
                ("Hi".to_string(), None),
                ("More".to_string(), Some("conv_7".to_string())),
                ("the last, without a line end".to_string(), Some("conv_8".to_string())),
            ]
        );
        assert_eq!(last.as_deref(), Some("conv_8"));
        assert_eq!(prompts, 6, "a prompt before every line read, and before the end");
    }

    #[test]
    fn a_failed_turn_or_a_reply_without_an_id_keeps_the_conversation() {
        let mut seen = Vec::new();
        let last = converse(
            "a\nb\nc\n".as_bytes(),
            || {},
            |message, id| {
                seen.push(id);
                match message.as_str() {
                    "a" => Err(Failure::new("HTTP 429: slow down", 1)),
                    "b" => Ok(Some(None)),
                    _ => Ok(Some(Some("conv_9".into()))),
                }
            },
            Some("conv_1".into()),
        );
        assert_eq!(seen, [Some("conv_1".to_string()), Some("conv_1".to_string()), Some("conv_1".to_string())]);
        assert_eq!(last.as_deref(), Some("conv_9"));
    }

    #[test]
    fn the_session_stops_when_stdout_closes() {
        let mut sent = 0;
        let last = converse(
            "a\nb\n".as_bytes(),
            || {},
            |_, _| {
                sent += 1;
                Ok(None)
            },
            Some("conv_3".into()),
        );
        assert_eq!(sent, 1);
        assert_eq!(last.as_deref(), Some("conv_3"));
    }

    #[test]
    fn the_message_from_stdin_loses_only_its_final_line_end() {
        assert_eq!(read_message("Hi there\n".as_bytes()).ok().unwrap(), "Hi there");
        assert_eq!(read_message("two\nlines\r\n".as_bytes()).ok().unwrap(), "two\nlines");
        assert_eq!(read_message("  spaced \n\n".as_bytes()).ok().unwrap(), "  spaced \n");
        assert!(read_message(&b"\xff\xfe"[..]).is_err());
    }
}
