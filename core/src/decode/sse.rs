//! Server-Sent Events, by the WHATWG parsing rules; each event's data is a payload.

use super::fields::{read_object, Parsed};
use super::{payload, too_large, Event, Output, MAX_EVENT_BYTES};
use crate::error::Result;

/// How much longer than the event limit one line may be: `data: ` before a whole event's data.
const LINE_OVERHEAD: usize = "data: ".len();

/// Incremental SSE parser: bytes in, payload events out.
///
/// Limits, the same however the body is split into reads: an event whose data (its `data:`
/// values joined with `\n`, as dispatched) is over the limit fails, and so does any line
/// longer than the limit plus `data: ` (a comment or other field of that size holds no event
/// data, but buffering it would cost the same memory).
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
    /// The most bytes of data one event may have ([`MAX_EVENT_BYTES`] but in tests).
    limit: usize,
}

impl Default for SseDecoder {
    fn default() -> Self {
        SseDecoder::with_limit(MAX_EVENT_BYTES)
    }
}

impl SseDecoder {
    pub fn with_limit(limit: usize) -> Self {
        SseDecoder {
            line: Vec::new(),
            data: String::new(),
            event_type: String::new(),
            after_cr: false,
            started: false,
            done: false,
            limit,
        }
    }

    pub fn feed(&mut self, chunk: &[u8], out: &mut Output) -> Result<()> {
        // An empty read carries nothing, and must not forget that the last one ended in `\r`.
        if chunk.is_empty() {
            return Ok(());
        }
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
                return self.check_partial_line();
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

    /// Fails early on a line being buffered that will fail once complete, so a hostile body
    /// cannot make the buffer grow past the limit. Never fails a line that would pass: the
    /// complete line is at least this long (less a byte-order mark on the first line), and a
    /// `data:` value at least the line less `data: `.
    fn check_partial_line(&self) -> Result<()> {
        let bom = if self.started { 0 } else { "\u{feff}".len() };
        if self.line.len() > self.limit + LINE_OVERHEAD + bom {
            return Err(too_large("SSE event"));
        }
        if self.line.starts_with(b"data:")
            && self.data.len() + self.line.len().saturating_sub(LINE_OVERHEAD) > self.limit
        {
            return Err(too_large("SSE event"));
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
            // `len` takes in the blank line: the event's data is 2 bytes shorter.
            if let Some((text, len)) = payload::simple_text_line(event).filter(|(_, len)| len - 2 <= self.limit) {
                out.text(text);
                rest = &event[len..];
                continue;
            }
            let bytes = event.as_bytes();
            let Some(end) = bytes.iter().position(|&b| b == b'\n' || b == b'\r') else {
                break;
            };
            if bytes[end] != b'\n' || bytes.get(end + 1) != Some(&b'\n') || end > self.limit {
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
        if line.len() > self.limit + LINE_OVERHEAD {
            return Err(too_large("SSE event"));
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
                // Checked before and after decoding: invalid bytes grow as U+FFFD (never shrink).
                if self.data.len() + value.len() > self.limit {
                    return Err(too_large("SSE event"));
                }
                push_lossy(&mut self.data, value);
                if self.data.len() > self.limit {
                    return Err(too_large("SSE event"));
                }
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
    use crate::decode::testing;
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
    fn an_empty_read_after_cr_keeps_the_crlf_together() {
        // Regression: an empty read between `\r` and `\n` made the `\n` a blank line of its own,
        // dispatching the first half of a two-line event.
        let body = b"data: a\r\ndata: b\r\n\r\n";
        for at in 0..=body.len() {
            let reads: [&[u8]; 3] = [&body[..at], b"", &body[at..]];
            let got = testing::decode(Some(CT), MAX_EVENT_BYTES, reads);
            assert_eq!(got.items, vec![testing::Item::Text("a\nb".into())], "empty read at {at}");
        }
    }

    /// Decodes `body` with a `limit`, whole and split in two at every offset (with an empty read
    /// between the halves): every split must give what the whole body gives.
    fn same_at_every_split(body: &[u8], limit: usize) -> testing::Decoded {
        let whole = testing::decode(Some(CT), limit, [body]);
        for at in 0..=body.len() {
            let split = testing::decode(Some(CT), limit, [&body[..at], b"", &body[at..]]);
            assert_eq!(split, whole, "split at {at} of {:?}", String::from_utf8_lossy(body));
        }
        whole
    }

    #[test]
    fn the_limit_holds_however_the_body_is_split() {
        let failed = |d: &testing::Decoded| d.failure.as_ref().map(|f| f.kind) == Some(crate::ErrorKind::Decode);
        // Regression: the one-pass path for `{"text":"…"}` took an event of any size in one read.
        let body = b"data: {\"text\":\"0123456789\"}\n\n";
        assert!(failed(&same_at_every_split(body, 20)));
        assert_eq!(same_at_every_split(body, 21).items, vec![testing::Item::Text("0123456789".into())]);
        // The general one-pass path and the line parser: data of exactly the limit passes.
        assert!(failed(&same_at_every_split(b"data: 0123456789\n\n", 9)));
        assert!(!failed(&same_at_every_split(b"data: 0123456789\n\n", 10)));
        assert!(!failed(&same_at_every_split(b"data:0123456789\ndata: \n\n", 11)));
        assert!(failed(&same_at_every_split(b"data:0123456789\ndata: \n\n", 10)));
        // Regression: a line that was not data failed when buffered across reads, not when
        // whole in one read. Any line longer than the limit and `data: ` fails.
        assert!(failed(&same_at_every_split(b": a comment of 27 bytes....\ndata: x\n\n", 20)));
        assert!(!failed(&same_at_every_split(b": a comment of 26 bytes...\ndata: x\n\n", 20)));
        assert!(!failed(&same_at_every_split("\u{feff}data: 0123456789\n\n".as_bytes(), 10)));
        // Invalid bytes count as the U+FFFD they become.
        assert!(failed(&same_at_every_split(b"data: \xff\xff\xff\xff\n\n", 11)));
        assert!(!failed(&same_at_every_split(b"data: \xff\xff\xff\xff\n\n", 12)));
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
