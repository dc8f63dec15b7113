//! Decoders for the reply body, one per wire format (SPEC §1.1), chosen by `Content-Type`.

mod json;
mod ndjson;
mod payload;
mod sse;
mod text;

use crate::error::{Error, Result};

/// The most bytes one SSE event, NDJSON line or JSON body may take.
pub(crate) const MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// What a decoder found in the body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    /// A piece of the reply (never empty).
    Text(String),
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
        let mime =
            content_type.and_then(|ct| ct.split(';').next()).map(|m| m.trim().to_ascii_lowercase()).unwrap_or_default();
        match mime.as_str() {
            "text/event-stream" => Decoder::Sse(Default::default()),
            "application/x-ndjson" | "application/jsonl" | "application/ndjson" | "application/json-lines" => {
                Decoder::Ndjson(Default::default())
            }
            "application/json" => Decoder::Json(Default::default()),
            _ => Decoder::Text(Default::default()),
        }
    }

    /// Decodes the next bytes of the body, pushing what they complete onto `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut Vec<Event>) -> Result<()> {
        match self {
            Decoder::Sse(d) => d.feed(chunk, out),
            Decoder::Ndjson(d) => d.feed(chunk, out),
            Decoder::Json(d) => d.feed(chunk, out),
            Decoder::Text(d) => d.feed(chunk, out),
        }
    }

    /// The body ended cleanly: flushes what is left.
    pub fn finish(&mut self, out: &mut Vec<Event>) -> Result<()> {
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

    pub fn decode_whole(content_type: &str, body: &[u8]) -> Result<Vec<Event>> {
        let mut decoder = Decoder::for_content_type(Some(content_type));
        let mut out = Vec::new();
        decoder.feed(body, &mut out)?;
        decoder.finish(&mut out)?;
        Ok(out)
    }

    /// Decodes `body` split into three reads at every pair of offsets and checks that each
    /// split gives the same events (text joined, for raw text, whose pieces may differ).
    pub fn decode_split_everywhere(content_type: &str, body: &[u8]) -> Vec<Event> {
        let whole = decode_whole(content_type, body).expect("whole body decodes");
        let is_text = matches!(Decoder::for_content_type(Some(content_type)), Decoder::Text(_));
        for i in 0..=body.len() {
            for j in i..=body.len() {
                let mut decoder = Decoder::for_content_type(Some(content_type));
                let mut out = Vec::new();
                for part in [&body[..i], &body[i..j], &body[j..]] {
                    decoder.feed(part, &mut out).expect("split body decodes");
                }
                decoder.finish(&mut out).expect("split body finishes");
                if is_text {
                    assert_eq!(joined_text(&out), joined_text(&whole), "split at {i}/{j}");
                } else {
                    assert_eq!(out, whole, "split at {i}/{j}");
                }
            }
        }
        whole
    }

    pub fn joined_text(events: &[Event]) -> String {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Text(t) => Some(t.as_str()),
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
