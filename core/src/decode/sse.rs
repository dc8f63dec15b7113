//! Server-Sent Events, by the WHATWG parsing rules; each event's data is a payload.

use super::fields::{read_object, Parsed};
use super::{payload, too_large, Event, Output, MAX_EVENT_BYTES};
use crate::error::Result;

/// Incremental SSE parser: bytes in, payload events out.
#[derive(Default)]
pub(crate) struct SseDecoder {
    /// An incomplete line carried over from the previous read.
    line: Vec<u8>,
    /// The data lines of the event being built, joined with `\n` (with a trailing `\n`).
    data: String,
    /// The `event:` field of the event being built.
    event_type: String,
    /// The previous read ended in `\r`: a `\n` starting this read belongs to that line end.
    after_cr: bool,
    /// The first line has been seen (a leading byte-order mark is dropped).
    started: bool,
    done: bool,
}

impl SseDecoder {
    pub fn feed(&mut self, chunk: &[u8], out: &mut Output) -> Result<()> {
        let mut pos = 0;
        if self.after_cr {
            self.after_cr = false;
            if chunk.first() == Some(&b'\n') {
                pos = 1;
            }
        }
        // The read's whole lines, checked as UTF-8 once: a line end is always a character
        // boundary, so every event inside them can then be taken as text without a check.
        let lines_end = memchr::memrchr(b'\n', chunk).map_or(0, |i| i + 1);
        let whole_lines = simdutf8::basic::from_utf8(&chunk[..lines_end]).unwrap_or_default();
        while pos < chunk.len() && !self.done {
            if self.is_between_events() {
                if let Some(lines) = whole_lines.get(pos..).filter(|lines| !lines.is_empty()) {
                    let taken = self.plain_events(lines, out);
                    if taken > 0 {
                        pos += taken;
                        continue;
                    }
                }
            }
            let rest = &chunk[pos..];
            let Some(end) = memchr::memchr2(b'\n', b'\r', rest) else {
                self.line.extend_from_slice(rest);
                if self.line.len() + self.data.len() > MAX_EVENT_BYTES {
                    return Err(too_large("SSE event"));
                }
                return Ok(());
            };
            let mut next = end + 1;
            if rest[end] == b'\r' {
                match rest.get(next) {
                    Some(b'\n') => next += 1,
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            if self.line.is_empty() {
                self.process_line(&rest[..end], out)?;
            } else {
                self.line.extend_from_slice(&rest[..end]);
                let line = std::mem::take(&mut self.line);
                self.process_line(&line, out)?;
                self.line = line;
                self.line.clear();
            }
            pos += next;
        }
        Ok(())
    }

    /// Whether nothing of an event is pending (and the first line, which may carry a byte-order
    /// mark, is past).
    fn is_between_events(&self) -> bool {
        self.started && self.line.is_empty() && self.data.is_empty() && self.event_type.is_empty()
    }

    /// Reads the common events, `data: …\n\n`, from the start of `lines` straight out of the
    /// network buffer, and returns the bytes taken; stops at anything else, which the line
    /// parser then takes.
    fn plain_events(&mut self, lines: &str, out: &mut Output) -> usize {
        let mut rest = lines;
        while let Some(event) = rest.strip_prefix("data: ") {
            if let Some((text, len)) = payload::simple_text_line(event) {
                out.text(text);
                rest = &event[len..];
                continue;
            }
            let bytes = event.as_bytes();
            let Some(end) = bytes.iter().position(|&b| b == b'\n' || b == b'\r') else {
                break;
            };
            if bytes[end] != b'\n' || bytes.get(end + 1) != Some(&b'\n') || end > MAX_EVENT_BYTES {
                break;
            }
            payload::interpret(&event[..end], out);
            rest = &event[end + 2..];
            if out.ended() {
                self.done = true;
                break;
            }
        }
        lines.len() - rest.len()
    }

    /// A clean end of body: a last line without its end and a last event without its blank
    /// line are still taken.
    pub fn finish(&mut self, out: &mut Output) -> Result<()> {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.process_line(&line, out)?;
        }
        self.dispatch(out);
        Ok(())
    }

    fn process_line(&mut self, line: &[u8], out: &mut Output) -> Result<()> {
        if self.done {
            return Ok(());
        }
        let mut line = line;
        if !self.started {
            self.started = true;
            line = line.strip_prefix("\u{feff}".as_bytes()).unwrap_or(line);
        }
        if line.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        if line[0] == b':' {
            return Ok(());
        }
        let (field, value) = match memchr::memchr(b':', line) {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        match field {
            b"data" => {
                if self.data.len() + value.len() > MAX_EVENT_BYTES {
                    return Err(too_large("SSE event"));
                }
                push_lossy(&mut self.data, value);
                self.data.push('\n');
            }
            b"event" => {
                self.event_type.clear();
                self.event_type.push_str(&String::from_utf8_lossy(value));
            }
            // `id:` and `retry:` only matter for reconnecting, which a chat reply never does.
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self, out: &mut Output) {
        let is_error = self.event_type == "error";
        self.event_type.clear();
        if self.data.is_empty() {
            return;
        }
        // The data buffer is reused from event to event: no allocation per event.
        let data = &self.data[..self.data.len() - 1];
        if is_error {
            out.event(Event::Error(error_event_message(data)));
        } else {
            payload::interpret(data, out);
        }
        self.data.clear();
        self.done = out.ended();
    }
}

/// Appends `bytes` as UTF-8, invalid sequences as U+FFFD (the validation is the fast one when,
/// as nearly always, the bytes are valid).
fn push_lossy(text: &mut String, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(valid) => text.push_str(valid),
        Err(_) => text.push_str(&String::from_utf8_lossy(bytes)),
    }
}

/// The message of an `event: error`: the payload's `error`/`message` field, else its data.
fn error_event_message(data: &str) -> String {
    match read_object(data) {
        Parsed::Object(fields) => fields
            .error_message()
            .or_else(|| fields.message.as_deref().map(str::to_string))
            .unwrap_or_else(|| data.to_string()),
        Parsed::String(s) => s.into_owned(),
        _ if data.is_empty() => "the service reported an error in the stream".to_string(),
        _ => data.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::tests::{decode_split_everywhere, decode_whole, Seen, Seen::*};

    fn t(s: &str) -> Seen {
        Text(s.to_string())
    }

    const CT: &str = "text/event-stream";

    #[test]
    fn every_line_ending() {
        for body in [
            "data: a\n\ndata: b\n\n",
            "data: a\r\n\r\ndata: b\r\n\r\n",
            "data: a\r\rdata: b\r\r",
            "data: a\r\n\ndata: b\n\r\n",
        ] {
            assert_eq!(decode_split_everywhere(CT, body.as_bytes()), vec![t("a"), t("b")], "{body:?}");
        }
    }

    #[test]
    fn comments_fields_and_multiline_data() {
        let body = ": keep-alive\nevent: message\nid: 7\nretry: 100\ndata: line one\ndata:line two\nunknown: x\n\n";
        assert_eq!(decode_split_everywhere(CT, body.as_bytes()), vec![t("line one\nline two")]);
        // A blank data line still adds a line; `data` without a colon is an empty value.
        assert_eq!(decode_whole(CT, b"data\ndata: x\n\n").unwrap(), vec![t("\nx")]);
        // An event with no data is not dispatched.
        assert_eq!(decode_whole(CT, b"event: ping\n\n: c\n\n").unwrap(), vec![]);
        // Only one space after the colon is stripped.
        assert_eq!(decode_whole(CT, b"data:  two\n\n").unwrap(), vec![t(" two")]);
    }

    #[test]
    fn last_event_without_blank_line_is_dispatched_at_end() {
        assert_eq!(decode_split_everywhere(CT, b"data: a\n\ndata: tail"), vec![t("a"), t("tail")]);
        assert_eq!(decode_split_everywhere(CT, b"data: a\n\ndata: tail\n"), vec![t("a"), t("tail")]);
    }

    #[test]
    fn done_stops_and_json_payloads() {
        let body = "data: {\"text\":\"x\",\"conversationId\":\"c9\"}\n\ndata: \"y\"\n\ndata: [DONE]\n\ndata: after\n\n";
        assert_eq!(
            decode_split_everywhere(CT, body.as_bytes()),
            vec![ConversationId("c9".into()), t("x"), t("y"), Done]
        );
        let openai = "data: {\"choices\":[{\"delta\":{\"content\":\"Hel\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"lo\"}}]}\n\n";
        assert_eq!(decode_split_everywhere(CT, openai.as_bytes()), vec![t("Hel"), t("lo")]);
    }

    #[test]
    fn in_band_errors() {
        assert_eq!(
            decode_whole(CT, b"data: a\n\nevent: error\ndata: {\"message\":\"overloaded\"}\n\n").unwrap(),
            vec![t("a"), Error("overloaded".into())]
        );
        assert_eq!(decode_whole(CT, b"event: error\ndata: plain\n\n").unwrap(), vec![Error("plain".into())]);
        assert_eq!(
            decode_whole(CT, b"data: {\"error\":{\"message\":\"quota\"}}\n\n").unwrap(),
            vec![Error("quota".into())]
        );
    }

    #[test]
    fn multibyte_text_split_everywhere_and_bom() {
        let body = "\u{feff}data: h\u{e9}llo \u{1f600} \u{4e16}\u{754c}\n\n";
        assert_eq!(decode_split_everywhere(CT, body.as_bytes()), vec![t("h\u{e9}llo \u{1f600} \u{4e16}\u{754c}")]);
        // Invalid bytes become U+FFFD on both paths (the first event and the plain ones after it).
        assert_eq!(
            decode_split_everywhere(CT, b"data: a\xffb\n\ndata: c\xffd\n\ndata: e\n\n"),
            vec![t("a\u{fffd}b"), t("c\u{fffd}d"), t("e")]
        );
    }

    #[test]
    fn oversize_event_fails() {
        let mut body = b"data: ".to_vec();
        body.extend(std::iter::repeat_n(b'a', MAX_EVENT_BYTES + 1));
        let err = decode_whole(CT, &body).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Decode);
        let mut many_lines = Vec::new();
        for _ in 0..(MAX_EVENT_BYTES / (1 << 20) + 1) {
            many_lines.extend_from_slice(b"data: ");
            many_lines.extend(std::iter::repeat_n(b'b', 1 << 20));
            many_lines.push(b'\n');
        }
        assert_eq!(decode_whole(CT, &many_lines).unwrap_err().kind(), crate::ErrorKind::Decode);
    }
}
