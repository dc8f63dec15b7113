//! Decoders for the reply body, one per wire format, chosen by `Content-Type`:
//! `text/event-stream` (Server-Sent Events, WHATWG rules), `application/x-ndjson` and
//! `application/jsonl` (one payload a line), `application/json` (one object: the reply is the
//! first string among `reply`, `text`, `content`, `message`, `output`,
//! `choices[0].message.content`), and anything else as raw UTF-8 text decoded incrementally
//! (split characters joined, invalid bytes as U+FFFD). An SSE event, NDJSON line or JSON body
//! over 16 MiB fails the stream with a decode error; raw text has no per-piece limit.

mod fields;
mod json;
mod ndjson;
mod payload;
mod sse;
pub mod testing;
mod text;

use crate::batch::Batch;
use crate::error::{Error, Result};

/// The most bytes one SSE event, NDJSON line or JSON body may take.
pub(crate) const MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// What a decoder found in the body besides text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    /// The conversation id named in the body.
    ConversationId(String),
    /// The service said the reply is complete.
    Done,
    /// The service reported an error in the stream.
    Error(String),
}

impl Event {
    fn ends_stream(&self) -> bool {
        matches!(self, Event::Done | Event::Error(_))
    }
}

/// What decoders write to: the text pieces, and the other events with their place among them.
#[derive(Debug, Default)]
pub(crate) struct Output {
    pub pieces: Batch,
    /// Each event, with the number of pieces decoded before it.
    pub events: Vec<(usize, Event)>,
}

impl Output {
    /// Adds a piece of text (an empty one is skipped).
    pub fn text(&mut self, piece: &str) {
        self.pieces.push(piece);
    }

    pub fn event(&mut self, event: Event) {
        self.events.push((self.pieces.len(), event));
    }

    /// Whether the last thing decoded ended the stream (`[DONE]` or an in-band error).
    pub fn ended(&self) -> bool {
        self.events.last().is_some_and(|(at, event)| *at == self.pieces.len() && event.ends_stream())
    }
}

/// The decoder for one response body.
pub(crate) enum Decoder {
    Sse(sse::SseDecoder),
    Ndjson(ndjson::NdjsonDecoder),
    Json(json::JsonDecoder),
    Text(text::TextDecoder),
}

impl Decoder {
    /// Picks the decoder for a response's `Content-Type` (raw text when absent or unknown).
    pub fn for_content_type(content_type: Option<&str>) -> Decoder {
        Decoder::with_limit(content_type, MAX_EVENT_BYTES)
    }

    /// [`Decoder::for_content_type`] with another size limit than [`MAX_EVENT_BYTES`] for one
    /// SSE event, NDJSON line or JSON body: tests and fuzzers reach the limit with small inputs.
    pub fn with_limit(content_type: Option<&str>, limit: usize) -> Decoder {
        let mime =
            content_type.and_then(|ct| ct.split(';').next()).map(|m| m.trim().to_ascii_lowercase()).unwrap_or_default();
        match mime.as_str() {
            "text/event-stream" => Decoder::Sse(sse::SseDecoder::with_limit(limit)),
            "application/x-ndjson" | "application/jsonl" | "application/ndjson" | "application/json-lines" => {
                Decoder::Ndjson(ndjson::NdjsonDecoder::with_limit(limit))
            }
            "application/json" => Decoder::Json(json::JsonDecoder::with_limit(limit)),
            _ => Decoder::Text(Default::default()),
        }
    }

    /// Decodes the next bytes of the body, pushing what they complete onto `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Output) -> Result<()> {
        match self {
            Decoder::Sse(d) => d.feed(chunk, out),
            Decoder::Ndjson(d) => d.feed(chunk, out),
            Decoder::Json(d) => d.feed(chunk, out),
            Decoder::Text(d) => d.feed(chunk, out),
        }
    }

    /// The body ended cleanly: flushes what is left.
    pub fn finish(&mut self, out: &mut Output) -> Result<()> {
        match self {
            Decoder::Sse(d) => d.finish(out),
            Decoder::Ndjson(d) => d.finish(out),
            Decoder::Json(d) => d.finish(out),
            Decoder::Text(d) => d.finish(out),
        }
    }
}

fn too_large(what: &str) -> Error {
    Error::decode(format!("a single {what} is larger than the {} MiB limit", MAX_EVENT_BYTES >> 20))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Everything decoded, text and events in the order they came, for comparing in tests.
    #[derive(Debug, Clone, PartialEq)]
    pub enum Seen {
        Text(String),
        ConversationId(String),
        Done,
        Error(String),
    }

    pub fn seen(out: &Output) -> Vec<Seen> {
        let mut all = Vec::new();
        let mut events = out.events.iter().peekable();
        for (index, piece) in out.pieces.iter().enumerate() {
            while let Some((_, event)) = events.next_if(|(at, _)| *at <= index) {
                all.push(seen_event(event));
            }
            all.push(Seen::Text(piece.to_string()));
        }
        all.extend(events.map(|(_, event)| seen_event(event)));
        all
    }

    fn seen_event(event: &Event) -> Seen {
        match event {
            Event::ConversationId(id) => Seen::ConversationId(id.clone()),
            Event::Done => Seen::Done,
            Event::Error(message) => Seen::Error(message.clone()),
        }
    }

    pub fn decode_whole(content_type: &str, body: &[u8]) -> Result<Vec<Seen>> {
        let mut decoder = Decoder::for_content_type(Some(content_type));
        let mut out = Output::default();
        decoder.feed(body, &mut out)?;
        decoder.finish(&mut out)?;
        Ok(seen(&out))
    }

    /// Decodes `body` split into three reads at every pair of offsets and checks that each
    /// split gives the same events (text joined, for raw text, whose pieces may differ).
    pub fn decode_split_everywhere(content_type: &str, body: &[u8]) -> Vec<Seen> {
        let whole = decode_whole(content_type, body).expect("whole body decodes");
        let is_text = matches!(Decoder::for_content_type(Some(content_type)), Decoder::Text(_));
        for i in 0..=body.len() {
            for j in i..=body.len() {
                let mut decoder = Decoder::for_content_type(Some(content_type));
                let mut out = Output::default();
                for part in [&body[..i], &body[i..j], &body[j..]] {
                    decoder.feed(part, &mut out).expect("split body decodes");
                }
                decoder.finish(&mut out).expect("split body finishes");
                let out = seen(&out);
                if is_text {
                    assert_eq!(joined_text(&out), joined_text(&whole), "split at {i}/{j}");
                } else {
                    assert_eq!(out, whole, "split at {i}/{j}");
                }
            }
        }
        whole
    }

    pub fn joined_text(seen: &[Seen]) -> String {
        seen.iter()
            .filter_map(|e| match e {
                Seen::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn content_types_choose_decoders() {
        let kind = |ct: Option<&str>| match Decoder::for_content_type(ct) {
            Decoder::Sse(_) => "sse",
            Decoder::Ndjson(_) => "ndjson",
            Decoder::Json(_) => "json",
            Decoder::Text(_) => "text",
        };
        assert_eq!(kind(Some("text/event-stream; charset=utf-8")), "sse");
        assert_eq!(kind(Some("Text/Event-Stream")), "sse");
        assert_eq!(kind(Some("application/x-ndjson")), "ndjson");
        assert_eq!(kind(Some("application/jsonl")), "ndjson");
        assert_eq!(kind(Some("application/json")), "json");
        assert_eq!(kind(Some("text/plain")), "text");
        assert_eq!(kind(None), "text");
    }
}
