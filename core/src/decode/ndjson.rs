//! Newline-delimited JSON (`application/x-ndjson`, `application/jsonl`): one payload a line.

use super::{payload, too_large, Output, MAX_EVENT_BYTES};
use crate::error::Result;

/// Incremental NDJSON splitter: bytes in, payload events out. A line (without its `\n`) over
/// the limit fails, however the body is split into reads.
pub(crate) struct NdjsonDecoder {
    /// An incomplete line carried over from the previous read.
    line: Vec<u8>,
    done: bool,
    /// The most bytes one line may have ([`MAX_EVENT_BYTES`] but in tests).
    limit: usize,
}

impl Default for NdjsonDecoder {
    fn default() -> Self {
        NdjsonDecoder::with_limit(MAX_EVENT_BYTES)
    }
}

impl NdjsonDecoder {
    pub fn with_limit(limit: usize) -> Self {
        NdjsonDecoder { line: Vec::new(), done: false, limit }
    }

    pub fn feed(&mut self, mut chunk: &[u8], out: &mut Output) -> Result<()> {
        while !chunk.is_empty() && !self.done {
            let Some(end) = memchr::memchr(b'\n', chunk) else {
                if self.line.len() + chunk.len() > self.limit {
                    return Err(too_large("NDJSON line"));
                }
                self.line.extend_from_slice(chunk);
                return Ok(());
            };
            if self.line.is_empty() {
                self.process_line(&chunk[..end], out)?;
            } else {
                self.line.extend_from_slice(&chunk[..end]);
                let line = std::mem::take(&mut self.line);
                self.process_line(&line, out)?;
                self.line = line;
                self.line.clear();
            }
            chunk = &chunk[end + 1..];
        }
        Ok(())
    }

    pub fn finish(&mut self, out: &mut Output) -> Result<()> {
        let line = std::mem::take(&mut self.line);
        self.process_line(&line, out)
    }

    fn process_line(&mut self, line: &[u8], out: &mut Output) -> Result<()> {
        if self.done {
            return Ok(());
        }
        // Checked here too, not only while buffering: a long line inside one read fails as well.
        if line.len() > self.limit {
            return Err(too_large("NDJSON line"));
        }
        let line = String::from_utf8_lossy(line);
        // JSON's white space only: other spaces (U+00A0, U+3000…) are part of a raw text line.
        let line = payload::trim_json_space(&line);
        if line.is_empty() {
            return Ok(());
        }
        payload::interpret(line, out);
        self.done = out.ended();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::decode::tests::Seen::*;
    use crate::decode::tests::{decode_split_everywhere, decode_whole};
    use crate::decode::MAX_EVENT_BYTES;

    #[test]
    fn lines_blank_lines_crlf_and_no_final_newline() {
        let body = "{\"text\":\"a\"}\r\n\n  \n{\"token\":\"\u{e9}\"}\n{\"conversation_id\":\"c\"}\n\"s\"\n{\"type\":\"done\"}\n{\"text\":\"late\"}";
        for ct in ["application/x-ndjson", "application/jsonl"] {
            assert_eq!(
                decode_split_everywhere(ct, body.as_bytes()),
                vec![Text("a".into()), Text("\u{e9}".into()), ConversationId("c".into()), Text("s".into()), Done]
            );
        }
        assert_eq!(decode_split_everywhere("application/x-ndjson", b"{\"text\":\"x\"}"), vec![Text("x".into())]);
    }

    #[test]
    fn a_long_line_fails_in_one_read_as_in_many() {
        // Regression: only a line buffered across reads was checked against the limit.
        use crate::decode::testing::decode;
        let body = b"{\"text\":\"0123456789\"}\n";
        for at in 0..=body.len() {
            let reads = [&body[..at], &body[at..]];
            assert_eq!(decode(Some("application/x-ndjson"), 20, reads).failure.unwrap().kind, crate::ErrorKind::Decode);
            assert_eq!(decode(Some("application/x-ndjson"), 21, reads).text(), "0123456789");
        }
    }

    #[test]
    fn only_json_white_space_is_trimmed() {
        // Regression: Unicode spaces around a raw text line were cut off the reply's text.
        let body = "\u{a0}raw text\u{3000}\r\n \t{\"text\":\" t \"}\r\n\u{a0}\n";
        assert_eq!(
            decode_split_everywhere("application/x-ndjson", body.as_bytes()),
            vec![Text("\u{a0}raw text\u{3000}".into()), Text(" t ".into()), Text("\u{a0}".into())]
        );
    }

    #[test]
    fn errors_and_oversize() {
        assert_eq!(
            decode_whole("application/x-ndjson", b"{\"text\":\"a\"}\n{\"error\":\"nope\"}\n").unwrap(),
            vec![Text("a".into()), Error("nope".into())]
        );
        let big = vec![b'x'; MAX_EVENT_BYTES + 1];
        assert_eq!(decode_whole("application/x-ndjson", &big).unwrap_err().kind(), crate::ErrorKind::Decode);
    }
}
