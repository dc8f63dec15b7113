//! What one SSE event's data or one NDJSON line means (a "payload"):
//!
//! - `[DONE]` ends the stream;
//! - a JSON object gives its text (the first string among `text`, `delta`, `content`, `token`,
//!   `chunk`, `delta.text`, `delta.content`, `choices[0].delta.content`), its conversation id
//!   (`conversationId` / `conversation_id`), an in-band error (`error`, a string or an object
//!   with `message`) that fails the stream, or an end (`{"type":"done"}` / `{"type":"end"}`);
//!   objects with none of these are skipped;
//! - a JSON string is the text;
//! - anything that is not JSON is the text as it stands.

use super::fields::{read_object, Fields, Parsed};
use super::{Event, Output};

/// Interprets one payload and pushes what it carries onto `out`.
///
/// `[DONE]` ends the stream; a JSON object gives its text, conversation id, in-band error or
/// end marker; a JSON string is the text; anything else (not JSON, or a JSON number, boolean,
/// array or null) is taken as text as it stands.
pub(crate) fn interpret(data: &str, out: &mut Output) {
    if let Some(text) = simple_text(data) {
        out.text(text);
        return;
    }
    if trim_json_space(data) == "[DONE]" {
        out.event(Event::Done);
        return;
    }
    match read_object(data) {
        Parsed::Object(fields) => interpret_object(&fields, out),
        Parsed::String(text) => out.text(&text),
        Parsed::Other | Parsed::Invalid(_) => out.text(data),
    }
}

/// `text` without JSON's white space (space, tab, CR, LF) around it; other white space (U+00A0,
/// U+3000…) may be part of a raw text payload.
pub(crate) fn trim_json_space(text: &str) -> &str {
    text.trim_matches([' ', '\t', '\r', '\n'])
}

/// The text of the most common payload, `{"text":"…"}` with no escapes, read without a JSON
/// parser. Gives exactly what the general path would: anything else returns `None`.
fn simple_text(data: &str) -> Option<&str> {
    let inner = data.strip_prefix("{\"text\":\"")?.strip_suffix("\"}")?;
    let plain = inner.bytes().all(|b| b != b'"' && b != b'\\' && b >= 0x20);
    plain.then_some(inner)
}

/// `{"text":"…"}\n\n` (no escapes) at the start of `event`: the text, and the bytes up to and
/// including the blank line. One pass over the bytes, for the bulk of a streamed reply; gives
/// what `interpret` would give the line, and `None` for anything else.
pub(crate) fn simple_text_line(event: &str) -> Option<(&str, usize)> {
    const OPEN: &str = "{\"text\":\"";
    let inner = event.strip_prefix(OPEN)?.as_bytes();
    let quote = first_quote_backslash_or_control(inner)?;
    if inner[quote] != b'"' || !inner[quote..].starts_with(b"\"}\n\n") {
        return None;
    }
    // A quote is ASCII, so `OPEN.len() + quote` is a character boundary.
    let text = event.get(OPEN.len()..OPEN.len() + quote)?;
    Some((text, OPEN.len() + quote + 4))
}

/// The index of the first `"`, `\` or control byte: eight bytes at a time (a piece is often
/// shorter than eight), then byte by byte.
fn first_quote_backslash_or_control(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Each mask flags the first matching byte exactly (later flags may be spurious, which the
    // lowest set bit never is).
    let below = |word: u64, n: u8| word.wrapping_sub(ONES * u64::from(n)) & !word & HIGHS;
    let equal = |word: u64, b: u8| below(word ^ (ONES * u64::from(b)), 1);
    let mut start = 0;
    while let Some(chunk) = bytes.get(start..start + 8) {
        let word = u64::from_le_bytes(chunk.try_into().ok()?);
        let found = equal(word, b'"') | equal(word, b'\\') | below(word, 0x20);
        if found != 0 {
            return Some(start + (found.trailing_zeros() / 8) as usize);
        }
        start += 8;
    }
    bytes[start..].iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20).map(|i| start + i)
}

fn interpret_object(f: &Fields<'_>, out: &mut Output) {
    if let Some(message) = f.error_message() {
        out.event(Event::Error(message));
        return;
    }
    if let Some(id) = f.conversation_id() {
        out.event(Event::ConversationId(id.to_string()));
    }
    // The first string among text, delta, content, token, chunk, delta.text, delta.content,
    // choices[0].delta.content.
    let text = [&f.text, &f.delta, &f.content, &f.token, &f.chunk, &f.delta_text, &f.delta_content, &f.choice_delta]
        .into_iter()
        .find_map(|field| field.as_deref());
    if let Some(text) = text {
        out.text(text);
    }
    if matches!(f.kind.as_deref(), Some("done" | "end")) {
        out.event(Event::Done);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::tests::{seen, Seen, Seen::*};

    fn run(data: &str) -> Vec<Seen> {
        let mut out = Output::default();
        interpret(data, &mut out);
        seen(&out)
    }

    fn text(s: &str) -> Seen {
        Text(s.to_string())
    }

    #[test]
    fn text_fields_in_order() {
        assert_eq!(run(r#"{"text":"a"}"#), vec![text("a")]);
        assert_eq!(run(r#"{"delta":"b"}"#), vec![text("b")]);
        assert_eq!(run(r#"{"content":"c","token":"x"}"#), vec![text("c")]);
        assert_eq!(run(r#"{"token":"d"}"#), vec![text("d")]);
        assert_eq!(run(r#"{"chunk":"e"}"#), vec![text("e")]);
        assert_eq!(run(r#"{"delta":{"text":"f"}}"#), vec![text("f")]);
        assert_eq!(run(r#"{"delta":{"content":"g"}}"#), vec![text("g")]);
        assert_eq!(run(r#"{"choices":[{"delta":{"content":"h"}}]}"#), vec![text("h")]);
        assert_eq!(run(r#"{"choices":[{"delta":{"role":"assistant"}}]}"#), vec![]);
        assert_eq!(run(r#"{"text":5,"content":"i"}"#), vec![text("i")]);
    }

    #[test]
    fn strings_raw_data_and_empty_text() {
        assert_eq!(run(r#""hi there""#), vec![text("hi there")]);
        assert_eq!(run("plain words"), vec![text("plain words")]);
        assert_eq!(run("{broken"), vec![text("{broken")]);
        assert_eq!(run("42"), vec![text("42")]);
        assert_eq!(run(r#"{"text":""}"#), vec![]);
        assert_eq!(run(r#""""#), vec![]);
        assert_eq!(run(r#"{"unrelated":1}"#), vec![]);
    }

    #[test]
    fn the_fast_path_agrees_with_the_parser() {
        for data in [
            r#"{"text":"plain é"}"#,
            r#"{"text":""}"#,
            r#"{"text":"q\"uote"}"#,
            r#"{"text":"back\\slash"}"#,
            r#"{"text":"\u00e9"}"#,
            "{\"text\":\"raw\ttab\"}",
            r#"{"text":"a"}extra"}"#,
            r#"{"text":"a","conversationId":"c"}"#,
        ] {
            let mut slow = Output::default();
            match read_object(data) {
                Parsed::Object(fields) => interpret_object(&fields, &mut slow),
                _ => slow.text(data),
            }
            assert_eq!(run(data), seen(&slow), "{data}");
        }
    }

    #[test]
    fn the_one_pass_line_agrees_with_interpret() {
        for (line, expected) in [
            ("{\"text\":\"pl\u{e9}in\"}\n\nrest", Some(("pl\u{e9}in", 19))),
            ("{\"text\":\"\"}\n\n", Some(("", 13))),
            ("{\"text\":\"a\"}\n", None),
            ("{\"text\":\"a\"}\r\n\r\n", None),
            ("{\"text\":\"a\"} \n\n", None),
            ("{\"text\":\"q\\\"x\"}\n\n", None),
            ("{\"text\":\"tab\there\"}\n\n", None),
            ("{\"text\":\"a\",\"x\":1}\n\n", None),
            ("{\"text\":\"a\n\n", None),
        ] {
            let found = simple_text_line(line);
            assert_eq!(found, expected, "{line:?}");
            if let Some((text, len)) = found {
                let parsed = run(line[..len].trim_end());
                assert_eq!(parsed, if text.is_empty() { vec![] } else { vec![Text(text.into())] }, "{line:?}");
            }
        }
    }

    #[test]
    fn the_word_scan_finds_the_first_special_byte() {
        let slow = |bytes: &[u8]| bytes.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
        let alphabet = [b'a', b'"', b'\\', 0x1f, 0x20, 0x7f, 0x80, 0xc3, 0xa9, 0xff, 0x00, 0x21, 0x5c ^ 0x80];
        let mut seed = 7u32;
        for len in 0..40 {
            for _ in 0..200 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                        // Mostly plain bytes, so the special ones land at every offset.
                        if seed % 8 == 0 {
                            alphabet[(seed >> 8) as usize % alphabet.len()]
                        } else {
                            b'a' + (seed >> 8) as u8 % 26
                        }
                    })
                    .collect();
                assert_eq!(first_quote_backslash_or_control(&bytes), slow(&bytes), "{bytes:?}");
            }
        }
    }

    #[test]
    fn ends_errors_and_conversation_ids() {
        assert_eq!(run("[DONE]"), vec![Done]);
        assert_eq!(run(r#"{"type":"done"}"#), vec![Done]);
        assert_eq!(run(r#"{"type":"end","text":"z"}"#), vec![text("z"), Done]);
        assert_eq!(run(r#"{"error":"boom"}"#), vec![Error("boom".into())]);
        assert_eq!(run(r#"{"error":{"message":"bang","code":1}}"#), vec![Error("bang".into())]);
        assert_eq!(run(r#"{"error":null,"text":"ok"}"#), vec![text("ok")]);
        assert_eq!(run(r#"{"conversationId":"c1","text":"t"}"#), vec![ConversationId("c1".into()), text("t")]);
        assert_eq!(run(r#"{"conversation_id":"c2"}"#), vec![ConversationId("c2".into())]);
    }
}
