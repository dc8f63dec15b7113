//! The decoders and the `Retry-After` parser fed directly, for the fuzz targets (`fuzz/`) and
//! the differential tests (`core/tests/differential.rs`). Not part of the API: no semver
//! promise, hidden from the docs.

use std::time::{Duration, SystemTime};

use super::{Decoder, Event, Output};
use crate::error::ErrorKind;
use reqwest::header::HeaderMap;

/// The most bytes one SSE event, NDJSON line or JSON body may take in a real stream.
pub const MAX_EVENT_BYTES: usize = super::MAX_EVENT_BYTES;

/// One thing a decoder produced, in the order it came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// A text piece.
    Text(String),
    /// The body named the conversation id.
    ConversationId(String),
    /// The body said the reply is complete.
    Done,
    /// The body reported an error in-band (the stream fails with this message).
    Error(String),
}

/// A failure of the decoder itself (over-size event, malformed JSON where JSON is required).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// What kind of error the stream would fail with.
    pub kind: ErrorKind,
    /// The error's message.
    pub message: String,
}

/// What a body decodes to, read the way a stream reads it: each read fed in order until one
/// fails or ends the stream (`[DONE]`, an in-band error), then the end of body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// Everything produced, text pieces and events interleaved in order.
    pub items: Vec<Item>,
    /// The decoder's error, if it failed.
    pub failure: Option<Failure>,
}

impl Decoded {
    /// The text pieces, in order.
    pub fn pieces(&self) -> Vec<&str> {
        self.items
            .iter()
            .filter_map(|item| match item {
                Item::Text(text) => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The pieces joined.
    pub fn text(&self) -> String {
        self.pieces().concat()
    }

    /// The conversation id a stream would show: the first one named.
    pub fn conversation_id(&self) -> Option<&str> {
        self.items.iter().find_map(|item| match item {
            Item::ConversationId(id) => Some(id.as_str()),
            _ => None,
        })
    }

    /// Whether the stream ended with an in-band error or a decode failure.
    pub fn failed(&self) -> bool {
        self.failure.is_some() || self.items.iter().any(|item| matches!(item, Item::Error(_)))
    }
}

/// Decodes a body that arrives as `reads`, with the decoder `content_type` chooses (raw text
/// when `None` or unknown), and `limit` bytes for one SSE event, NDJSON line or JSON body.
pub fn decode<'a>(content_type: Option<&str>, limit: usize, reads: impl IntoIterator<Item = &'a [u8]>) -> Decoded {
    let mut decoder = Decoder::with_limit(content_type, limit);
    let mut out = Output::default();
    let mut result = Ok(());
    let mut ended = false;
    for read in reads {
        result = decoder.feed(read, &mut out);
        ended = out.events.iter().any(|(_, event)| event.ends_stream());
        if result.is_err() || ended {
            break;
        }
    }
    if result.is_ok() && !ended {
        result = decoder.finish(&mut out);
    }
    let failure = result.err().map(|e| Failure { kind: e.kind(), message: e.message().to_string() });
    Decoded { items: items(&out), failure }
}

/// [`decode`] with the real limit, [`MAX_EVENT_BYTES`].
pub fn decode_reads<'a>(content_type: Option<&str>, reads: impl IntoIterator<Item = &'a [u8]>) -> Decoded {
    decode(content_type, MAX_EVENT_BYTES, reads)
}

/// Text pieces and events interleaved, as they were decoded.
fn items(out: &Output) -> Vec<Item> {
    let mut all = Vec::new();
    let mut events = out.events.iter().peekable();
    for (index, piece) in out.pieces.iter().enumerate() {
        while let Some((_, event)) = events.next_if(|(at, _)| *at <= index) {
            all.push(item(event));
        }
        all.push(Item::Text(piece.to_string()));
    }
    all.extend(events.map(|(_, event)| item(event)));
    all
}

fn item(event: &Event) -> Item {
    match event {
        Event::ConversationId(id) => Item::ConversationId(id.clone()),
        Event::Done => Item::Done,
        Event::Error(message) => Item::Error(message.clone()),
    }
}

/// `Retry-After` parsed against the clock `now`: seconds to wait, `None` when unreadable.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<f64> {
    crate::retry::parse_retry_after(value, now)
}

/// The wait the headers ask for (`retry-after-ms`, else `Retry-After`), in seconds.
pub fn retry_after_seconds(headers: &HeaderMap) -> Option<f64> {
    crate::retry::retry_after_seconds(headers)
}

/// The wait before retry number `retry`, or `None` to give up, given the wait the server asked
/// for and the client's longest wait.
pub fn retry_wait(retry: u32, max_retries: u32, requested: Option<f64>, max_wait: Duration) -> Option<Duration> {
    match crate::retry::decide(retry, max_retries, requested, max_wait) {
        crate::retry::Decision::RetryAfter(wait) => Some(wait),
        crate::retry::Decision::GiveUp => None,
    }
}
