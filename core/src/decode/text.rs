//! Raw UTF-8 text, decoded incrementally: split characters are joined, invalid bytes become
//! U+FFFD.

use super::Output;
use crate::error::Result;

/// Incremental UTF-8 decoder; each read's complete characters become one piece.
#[derive(Default)]
pub(crate) struct TextDecoder {
    /// The start of a character whose remaining bytes have not arrived yet (at most 3 bytes).
    pending: Vec<u8>,
}

impl TextDecoder {
    pub fn feed(&mut self, chunk: &[u8], out: &mut Output) -> Result<()> {
        if self.pending.is_empty() {
            out.pieces.push_with(|text| self.decode_into(chunk, text));
        } else {
            let joined = [std::mem::take(&mut self.pending).as_slice(), chunk].concat();
            out.pieces.push_with(|text| self.decode_into(&joined, text));
        }
        Ok(())
    }

    pub fn finish(&mut self, out: &mut Output) -> Result<()> {
        if !self.pending.is_empty() {
            self.pending.clear();
            out.text("\u{fffd}");
        }
        Ok(())
    }

    fn decode_into(&mut self, mut bytes: &[u8], text: &mut String) {
        loop {
            match simdutf8::compat::from_utf8(bytes) {
                Ok(valid) => {
                    text.push_str(valid);
                    return;
                }
                Err(e) => {
                    let (valid, rest) = bytes.split_at(e.valid_up_to());
                    // SAFETY-free: `valid` is exactly the prefix from_utf8 checked.
                    text.push_str(std::str::from_utf8(valid).unwrap_or_default());
                    match e.error_len() {
                        Some(bad) => {
                            text.push(char::REPLACEMENT_CHARACTER);
                            bytes = &rest[bad..];
                        }
                        None => {
                            self.pending.extend_from_slice(rest);
                            return;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::decode::tests::{decode_split_everywhere, decode_whole, joined_text};

    #[test]
    fn multibyte_split_at_every_offset() {
        let text = "h\u{e9}llo \u{1f600} \u{4e16}\u{754c} \u{0939}\u{093f}";
        for ct in ["text/plain; charset=utf-8", "", "application/octet-stream"] {
            assert_eq!(joined_text(&decode_split_everywhere(ct, text.as_bytes())), text);
        }
    }

    #[test]
    fn every_byte_alone() {
        let text = "\u{1f600}\u{e9}a\u{4e16}";
        let mut decoder = crate::decode::Decoder::for_content_type(Some("text/plain"));
        let mut out = crate::decode::Output::default();
        for b in text.as_bytes() {
            decoder.feed(&[*b], &mut out).unwrap();
        }
        decoder.finish(&mut out).unwrap();
        assert_eq!(out.pieces.text(), text);
        assert!(out.pieces.iter().all(|piece| !piece.is_empty()));
    }

    #[test]
    fn invalid_bytes_become_replacement_characters() {
        let out = decode_whole("text/plain", b"a\xffb\xe2\x82").unwrap();
        assert_eq!(joined_text(&out), "a\u{fffd}b\u{fffd}");
        let out = decode_whole("text/plain", b"\xc3\x28 ok").unwrap();
        assert_eq!(joined_text(&out), "\u{fffd}( ok");
    }
}
