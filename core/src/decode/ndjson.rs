//! Newline-delimited JSON (`application/x-ndjson`, `application/jsonl`): one payload a line.

use super::{payload, too_large, Output, MAX_EVENT_BYTES};
use crate::error::Result;

/// Incremental NDJSON splitter: bytes in, payload events out.
#[derive(Default)]
pub(crate) struct NdjsonDecoder {
    /// An incomplete line carried over from the previous read.
    line: Vec<u8>,
    done: bool,
}

impl NdjsonDecoder {
    pub fn feed(&mut self, mut chunk: &[u8], out: &mut Output) -> Result<()> {
        while !chunk.is_empty() && !self.done {
            let Some(end) = memchr::memchr(b'\n', chunk) else {
                if self.line.len() + chunk.len() > MAX_EVENT_BYTES {
                    return Err(too_large("NDJSON line"));
                }
                self.line.extend_from_slice(chunk);
                return Ok(());
            };
            if self.line.is_empty() {
                self.process_line(&chunk[..end], out);
            } else {
                self.line.extend_from_slice(&chunk[..end]);
                let line = std::mem::take(&mut self.line);
                self.process_line(&line, out);
                self.line = line;
                self.line.clear();
            }
            chunk = &chunk[end + 1..];
        }
        Ok(())
    }

    pub fn finish(&mut self, out: &mut Output) -> Result<()> {
        let line = std::mem::take(&mut self.line);
        self.process_line(&line, out);
        Ok(())
    }

    fn process_line(&mut self, line: &[u8], out: &mut Output) {
        if self.done {
            return;
        }
        let line = String::from_utf8_lossy(line);
        let line = line.trim();
        if line.is_empty() {
            return;
        }
        payload::interpret(line, out);
        self.done = out.ended();
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
    fn errors_and_oversize() {
        assert_eq!(
            decode_whole("application/x-ndjson", b"{\"text\":\"a\"}\n{\"error\":\"nope\"}\n").unwrap(),
            vec![Text("a".into()), Error("nope".into())]
        );
        let big = vec![b'x'; MAX_EVENT_BYTES + 1];
        assert_eq!(decode_whole("application/x-ndjson", &big).unwrap_err().kind(), crate::ErrorKind::Decode);
    }
}
