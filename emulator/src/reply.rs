//! The deterministic replies and how each wire format frames them.

use serde_json::json;

use crate::Format;

/// The reply to `message`, turn `turn` of `conversation`, as pieces (words with their spaces).
pub fn pieces_for(message: &str, turn: usize, conversation: &str) -> Vec<String> {
    let text = format!(
        "Hello! You said: \u{201c}{message}\u{201d}. This is reply {turn} in {conversation}. \
         Ça va? Naïve café, 世界 👋 — done."
    );
    split_words(&text)
}

/// `count` generated pieces of a few bytes each; every 20th holds a multi-byte character.
pub fn generated_pieces(count: usize) -> Vec<String> {
    (0..count).map(|i| if i % 20 == 19 { format!("é{i} ") } else { format!("w{i} ") }).collect()
}

/// Text with many multi-byte characters, for the split-UTF-8 fault.
pub fn multibyte_pieces() -> Vec<String> {
    split_words("héllo wörld — 世界 👋🏽 naïve ∑ ok")
}

fn split_words(text: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    for ch in text.chars() {
        current.push(ch);
        if ch == ' ' {
            pieces.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        pieces.push(current);
    }
    pieces
}

/// How one format frames the parts of a reply.
pub struct Framing {
    pub format: Format,
    pub crlf: bool,
}

impl Framing {
    fn sse_line_end(&self) -> &'static str {
        if self.crlf {
            "\r\n"
        } else {
            "\n"
        }
    }

    /// Bytes sent before the first piece (may carry the conversation id).
    pub fn preamble(&self, conversation_in_payload: Option<&str>) -> String {
        let nl = self.sse_line_end();
        match (self.format, conversation_in_payload) {
            (Format::Sse, None) => format!(": mixerlead emulator{nl}{nl}"),
            (Format::Sse, Some(id)) => {
                format!(": mixerlead emulator{nl}{nl}data: {}{nl}{nl}", json!({"conversationId": id}))
            }
            (Format::Ndjson | Format::Jsonl, Some(id)) => format!("{}\n", json!({"conversation_id": id})),
            _ => String::new(),
        }
    }

    /// One piece, framed. (The `json` format sends the whole reply in [`Framing::json_body`].)
    pub fn piece(&self, piece: &str) -> String {
        let nl = self.sse_line_end();
        match self.format {
            Format::Sse => format!("data: {}{nl}{nl}", json!({"text": piece})),
            Format::Ndjson | Format::Jsonl => format!("{}\n", json!({"text": piece})),
            Format::Json => String::new(),
            Format::Text | Format::Untyped => piece.to_string(),
        }
    }

    /// The end marker.
    pub fn end(&self) -> String {
        let nl = self.sse_line_end();
        match self.format {
            Format::Sse => format!("data: [DONE]{nl}{nl}"),
            Format::Ndjson | Format::Jsonl => "{\"type\":\"done\"}\n".to_string(),
            _ => String::new(),
        }
    }

    /// An in-band error.
    pub fn error(&self, message: &str) -> String {
        let nl = self.sse_line_end();
        match self.format {
            Format::Sse => format!("event: error{nl}data: {}{nl}{nl}", json!({"error": {"message": message}})),
            Format::Ndjson | Format::Jsonl => format!("{}\n", json!({"error": message})),
            Format::Json => json!({"error": message}).to_string(),
            Format::Text | Format::Untyped => String::new(),
        }
    }

    /// A payload that is not JSON.
    pub fn malformed(&self) -> String {
        let nl = self.sse_line_end();
        match self.format {
            Format::Sse => format!("data: {{not json{nl}{nl}"),
            Format::Ndjson | Format::Jsonl => "{not json\n".to_string(),
            Format::Json => "{\"reply\": \"truncated".to_string(),
            Format::Text | Format::Untyped => String::new(),
        }
    }

    /// The whole body of the `json` format.
    pub fn json_body(&self, text: &str, conversation_in_payload: Option<&str>) -> String {
        match conversation_in_payload {
            Some(id) => json!({"reply": text, "conversationId": id}).to_string(),
            None => json!({"reply": text}).to_string(),
        }
    }

    /// One event of more than 16 MiB.
    pub fn oversize(&self) -> String {
        let big = "x".repeat(17 * 1024 * 1024);
        match self.format {
            Format::Sse => format!("data: {big}\n\n"),
            Format::Ndjson | Format::Jsonl => format!("\"{big}\"\n"),
            Format::Json => format!("{{\"reply\":\"{big}\"}}"),
            Format::Text | Format::Untyped => big,
        }
    }
}
