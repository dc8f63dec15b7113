//! Differential tests of the stream decoders (issue #14): each production decoder against a
//! reference decoder written straight from the rules — the WHATWG EventSource parsing steps and
//! the payload table (core/src/decode/payload.rs) — slow and plain, over generated bodies fed whole and split at
//! generated points. Same pieces, same events (conversation ids, ends, in-band errors) in the
//! same order, same failures. Raw text may be cut into pieces differently: there the joined
//! text must be `String::from_utf8_lossy` of the body.
//!
//! The `reference` module is also compiled into the fuzz targets (`fuzz/src/lib.rs`), which
//! hold the decoders to it on arbitrary bytes.

/// The reference decoders. Where the rules are silent they follow what the decoders document:
/// - white space around a payload is JSON's (space, tab, CR, LF): `[DONE]` may have it, and an
///   NDJSON line is trimmed of it;
/// - `error` fails the stream unless absent, `null` or `false`; its message is the string, an
///   object's `message` string, else the value as compact JSON; an `event: error` with other
///   data takes the data's `error`, else its `message`, else the data itself;
/// - the conversation id is the first string among `conversationId`, `conversation_id`, when
///   not empty;
/// - limits: an SSE event whose data (as dispatched) is over the limit fails, and so does any
///   SSE line longer than the limit plus `data: `; an NDJSON line (without its `\n`) or a JSON
///   body over the limit fails.
#[allow(dead_code)]
pub mod reference {
    use mixerlead::decode_testing::{Decoded, Failure, Item};
    use mixerlead::ErrorKind;
    use serde_json::{Map, Value};

    /// The wire formats.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Format {
        Sse,
        Ndjson,
        Json,
        Text,
    }

    /// The format a `Content-Type` names (its media type, any case; raw text otherwise).
    pub fn format(content_type: Option<&str>) -> Format {
        let mime = content_type.unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        match mime.as_str() {
            "text/event-stream" => Format::Sse,
            "application/x-ndjson" | "application/jsonl" | "application/ndjson" | "application/json-lines" => {
                Format::Ndjson
            }
            "application/json" => Format::Json,
            _ => Format::Text,
        }
    }

    /// What the reference makes of a whole body, or `None` when the body holds a payload whose
    /// JSON-ness the rules leave open: valid JSON grammar that `serde_json::Value` refuses (a
    /// number out of `f64` range, an escaped lone surrogate). The decoders skip the values they
    /// do not read without checking those, so such payloads are not compared.
    pub fn decode(content_type: Option<&str>, limit: usize, body: &[u8]) -> Option<Decoded> {
        let mut run = Run { items: Vec::new(), unclear: false };
        let failure = match format(content_type) {
            Format::Sse => run.sse(body, limit),
            Format::Ndjson => run.ndjson(body, limit),
            Format::Json => run.json_body(body, limit),
            Format::Text => {
                run.text(&String::from_utf8_lossy(body));
                Ok(())
            }
        }
        .err()
        .map(|message| Failure { kind: ErrorKind::Decode, message });
        (!run.unclear).then_some(Decoded { items: run.items, failure })
    }

    const JSON_SPACE: [char; 4] = [' ', '\t', '\r', '\n'];
    const BOM: &[u8] = b"\xef\xbb\xbf";

    /// Whether a payload ended the stream.
    type Ended = bool;

    struct Run {
        items: Vec<Item>,
        unclear: bool,
    }

    impl Run {
        fn text(&mut self, text: &str) {
            if !text.is_empty() {
                self.items.push(Item::Text(text.to_string()));
            }
        }

        /// JSON per `serde_json::Value`; marks the run unclear on grammar `Value` refuses.
        fn parse(&mut self, text: &str) -> Option<Value> {
            match serde_json::from_str::<Value>(text) {
                Ok(value) => Some(value),
                Err(_) => {
                    if serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok() {
                        self.unclear = true;
                    }
                    None
                }
            }
        }

        // ---- Server-Sent Events: https://html.spec.whatwg.org/multipage/server-sent-events.html

        fn sse(&mut self, body: &[u8], limit: usize) -> Result<(), String> {
            // "decode the stream as UTF-8" drops one leading BOM.
            let body = body.strip_prefix(BOM).unwrap_or(body);
            // Lines end at CRLF, LF or CR. A last line without an end is still a line, and the
            // end of a clean body dispatches like a blank line.
            let mut lines: Vec<&[u8]> = Vec::new();
            let (mut start, mut i) = (0, 0);
            while i < body.len() {
                match body[i] {
                    b'\n' => {
                        lines.push(&body[start..i]);
                        i += 1;
                        start = i;
                    }
                    b'\r' => {
                        lines.push(&body[start..i]);
                        i += if body.get(i + 1) == Some(&b'\n') { 2 } else { 1 };
                        start = i;
                    }
                    _ => i += 1,
                }
            }
            if start < body.len() {
                lines.push(&body[start..]);
            }
            lines.push(b"");

            let mut data = String::new();
            let mut event_type = String::new();
            for line in lines {
                if line.is_empty() {
                    // Dispatch: nothing without data; drop the data's last LF.
                    let ended = if data.is_empty() {
                        false
                    } else {
                        data.pop();
                        if event_type == "error" {
                            let message = error_event_message(self, &data);
                            self.items.push(Item::Error(message));
                            true
                        } else {
                            self.payload(&data)
                        }
                    };
                    data.clear();
                    event_type.clear();
                    if ended {
                        return Ok(());
                    }
                    continue;
                }
                if line.len() > limit + "data: ".len() {
                    return Err(format!("an SSE line of {} bytes", line.len()));
                }
                if line[0] == b':' {
                    continue;
                }
                let (field, value) = match line.iter().position(|&b| b == b':') {
                    Some(colon) => {
                        let value = &line[colon + 1..];
                        (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
                    }
                    None => (line, &b""[..]),
                };
                match field {
                    b"data" => {
                        data.push_str(&String::from_utf8_lossy(value));
                        if data.len() > limit {
                            return Err(format!("an SSE event of {} bytes", data.len()));
                        }
                        data.push('\n');
                    }
                    b"event" => event_type = String::from_utf8_lossy(value).into_owned(),
                    // `id` and `retry` only matter to reconnecting; other fields are ignored.
                    _ => {}
                }
            }
            Ok(())
        }

        // ---- NDJSON: one payload per non-empty line.

        fn ndjson(&mut self, body: &[u8], limit: usize) -> Result<(), String> {
            for line in body.split(|&b| b == b'\n') {
                if line.len() > limit {
                    return Err(format!("an NDJSON line of {} bytes", line.len()));
                }
                let line = String::from_utf8_lossy(line);
                let line = line.trim_matches(JSON_SPACE);
                if !line.is_empty() && self.payload(line) {
                    return Ok(());
                }
            }
            Ok(())
        }

        // ---- One JSON object.

        fn json_body(&mut self, body: &[u8], limit: usize) -> Result<(), String> {
            if body.len() > limit {
                return Err("a JSON body over the limit".into());
            }
            let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
            let Some(Value::Object(object)) = self.parse(text) else {
                return Err("not a JSON object".into());
            };
            if let Some(message) = error_message(object.get("error")) {
                self.items.push(Item::Error(message));
                return Ok(());
            }
            self.conversation_id(&object);
            let reply = ["/reply", "/text", "/content", "/message", "/output", "/choices/0/message/content"];
            if let Some(text) = first_string(&object, &reply) {
                self.text(text);
            }
            self.items.push(Item::Done);
            Ok(())
        }

        // ---- A payload: SSE data or an NDJSON line.

        fn payload(&mut self, data: &str) -> Ended {
            if data.trim_matches(JSON_SPACE) == "[DONE]" {
                self.items.push(Item::Done);
                return true;
            }
            match self.parse(data) {
                Some(Value::Object(object)) => self.object(&object),
                Some(Value::String(text)) => {
                    self.text(&text);
                    false
                }
                // Not JSON, or JSON of another kind: the data itself is the text.
                _ => {
                    self.text(data);
                    false
                }
            }
        }

        fn object(&mut self, object: &Map<String, Value>) -> Ended {
            if let Some(message) = error_message(object.get("error")) {
                self.items.push(Item::Error(message));
                return true;
            }
            self.conversation_id(object);
            let text = [
                "/text",
                "/delta",
                "/content",
                "/token",
                "/chunk",
                "/delta/text",
                "/delta/content",
                "/choices/0/delta/content",
            ];
            if let Some(text) = first_string(object, &text) {
                self.text(text);
            }
            if matches!(object.get("type").and_then(Value::as_str), Some("done" | "end")) {
                self.items.push(Item::Done);
                return true;
            }
            false
        }

        fn conversation_id(&mut self, object: &Map<String, Value>) {
            if let Some(id) = first_string(object, &["/conversationId", "/conversation_id"]) {
                if !id.is_empty() {
                    self.items.push(Item::ConversationId(id.to_string()));
                }
            }
        }
    }

    /// The first of `pointers` (JSON pointers into `object`) that holds a string.
    fn first_string<'a>(object: &'a Map<String, Value>, pointers: &[&str]) -> Option<&'a str> {
        pointers.iter().find_map(|pointer| at(object, pointer)?.as_str())
    }

    /// The value at a JSON pointer (`/choices/0/delta/content`) into `object`.
    fn at<'a>(object: &'a Map<String, Value>, pointer: &str) -> Option<&'a Value> {
        let mut steps = pointer.split('/').skip(1);
        let mut value = object.get(steps.next()?)?;
        for step in steps {
            value = match value {
                Value::Object(fields) => fields.get(step)?,
                Value::Array(items) => items.get(step.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(value)
    }

    /// The message an `error` field gives, or `None` when it does not fail the stream.
    fn error_message(error: Option<&Value>) -> Option<String> {
        match error? {
            Value::Null | Value::Bool(false) => None,
            Value::String(message) => Some(message.clone()),
            Value::Object(fields) => match fields.get("message") {
                Some(Value::String(message)) => Some(message.clone()),
                _ => Some(error?.to_string()),
            },
            other => Some(other.to_string()),
        }
    }

    /// The message of an `event: error`.
    fn error_event_message(run: &mut Run, data: &str) -> String {
        match run.parse(data) {
            Some(Value::Object(object)) => error_message(object.get("error"))
                .or_else(|| object.get("message").and_then(Value::as_str).map(str::to_string))
                .unwrap_or_else(|| data.to_string()),
            Some(Value::String(message)) => message,
            _ if data.is_empty() => "the service reported an error in the stream".to_string(),
            _ => data.to_string(),
        }
    }
}

#[cfg(test)]
mod properties {
    use super::reference;
    use mixerlead::decode_testing::{self as decoders, Decoded, MAX_EVENT_BYTES};
    use mixerlead::ErrorKind;
    use proptest::prelude::*;
    use proptest::sample::select;
    use serde_json::{json, Map, Value};

    const SSE: &str = "text/event-stream";
    const NDJSON: &str = "application/x-ndjson";
    const JSON: &str = "application/json; charset=utf-8";

    /// The production decoder fed `body` in reads cut at `cuts` (offsets into the body, taken
    /// modulo its length + 1 and sorted: a repeated cut gives an empty read).
    fn production(content_type: &str, limit: usize, body: &[u8], cuts: &[usize]) -> Decoded {
        let mut cuts: Vec<usize> = cuts.iter().map(|cut| cut % (body.len() + 1)).collect();
        cuts.sort_unstable();
        let mut reads = Vec::with_capacity(cuts.len() + 1);
        let mut start = 0;
        for cut in cuts {
            reads.push(&body[start..cut]);
            start = cut;
        }
        reads.push(&body[start..]);
        decoders::decode(Some(content_type), limit, reads)
    }

    /// The decoder, fed whole and in reads cut at `cuts`, gives what the reference gives.
    fn same_as_reference(content_type: &str, limit: usize, body: &[u8], cuts: &[usize]) -> Result<(), TestCaseError> {
        let expected = reference::decode(Some(content_type), limit, body).expect("generated JSON is never unclear");
        let failure_kind = |d: &Decoded| d.failure.as_ref().map(|f| f.kind);
        for (how, got) in [
            ("whole", production(content_type, limit, body, &[])),
            ("split", production(content_type, limit, body, cuts)),
        ] {
            let shown = String::from_utf8_lossy(body);
            prop_assert_eq!(&got.items, &expected.items, "{} body {:?} cut at {:?}, limit {}", how, shown, cuts, limit);
            prop_assert_eq!(failure_kind(&got), failure_kind(&expected), "{} body {:?} cut at {:?}", how, shown, cuts);
            prop_assert_eq!(got.conversation_id(), expected.conversation_id());
            prop_assert!(got.pieces().iter().all(|piece| !piece.is_empty()));
        }
        Ok(())
    }

    // ---- Generators.

    /// Bits of text that matter to the decoders: multi-byte characters, spaces JSON does not
    /// trim, quotes, backslashes, control characters, and words of the formats themselves.
    const ATOMS: &[&str] = &[
        "a",
        "hi",
        " ",
        "  ",
        "\u{e9}",
        "\u{1f600}",
        "\u{4e16}\u{754c}",
        "\u{a0}",
        "\u{3000}",
        "\u{2028}",
        "\"",
        "\\",
        "\t",
        "\u{1}",
        "\u{7f}",
        "[DONE]",
        "{",
        "}",
        "[",
        "data: ",
        "data:",
        ":",
        "event: error",
        "0",
        "-1.5e3",
        "null",
        "true",
        "\u{feff}",
        "text",
        "{\"text\":\"",
        "\"}",
    ];

    /// Text without line ends (raw text in an SSE data line or an NDJSON line).
    fn words() -> impl Strategy<Value = String> {
        prop::collection::vec(select(ATOMS), 0..6).prop_map(|atoms| atoms.concat())
    }

    /// Any text, line ends too (inside JSON strings, which escape them).
    fn any_words() -> impl Strategy<Value = String> {
        prop::collection::vec(prop_oneof![8 => select(ATOMS), 1 => select(vec!["\n", "\r", "\r\n"])], 0..6)
            .prop_map(|atoms| atoms.concat())
    }

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            6 => any_words().prop_map(Value::String),
            1 => Just(json!("")),
            1 => Just(json!(7)),
            1 => Just(json!(-0.5)),
            1 => Just(Value::Null),
            1 => Just(json!(true)),
            1 => Just(json!(false)),
            1 => Just(json!([])),
        ]
    }

    /// A value for `key` in a payload or reply object: mostly the shapes the table reads.
    fn field(key: &'static str) -> BoxedStrategy<Value> {
        match key {
            "delta" => prop_oneof![
                scalar(),
                (scalar(), scalar()).prop_map(|(text, content)| json!({"text": text, "content": content})),
                scalar().prop_map(|content| json!({"content": content})),
            ]
            .boxed(),
            "choices" => prop_oneof![
                1 => scalar(),
                1 => Just(json!([])),
                4 => (scalar(), scalar()).prop_map(|(delta, message)| {
                    json!([{"delta": {"content": delta}, "message": {"content": message}}, {"delta": {"content": "second"}}])
                }),
            ]
            .boxed(),
            // Mostly an `error` that does not fail the stream, so the stream goes on.
            "error" => prop_oneof![
                4 => Just(Value::Null),
                2 => Just(json!(false)),
                1 => scalar(),
                1 => scalar().prop_map(|message| json!({"message": message, "code": 3})),
                1 => Just(json!({"code": 3, "detail": "x"})),
            ]
            .boxed(),
            "type" => prop_oneof![select(vec!["done", "end", "message", "Done"]).prop_map(Value::from), scalar()].boxed(),
            "conversationId" | "conversation_id" => {
                prop_oneof![4 => select(vec!["c-1", "c-2", "\u{e9}"]).prop_map(Value::from), 1 => scalar()].boxed()
            }
            _ => scalar().boxed(),
        }
    }

    const PAYLOAD_KEYS: &[&str] = &[
        "text",
        "delta",
        "content",
        "token",
        "chunk",
        "choices",
        "conversationId",
        "conversation_id",
        "type",
        "error",
        "message",
        "other",
    ];
    const REPLY_KEYS: &[&str] = &[
        "reply",
        "text",
        "content",
        "message",
        "output",
        "choices",
        "conversationId",
        "conversation_id",
        "error",
        "other",
    ];

    /// An object of some of `keys`, the rarer ones (errors, ends) less often.
    fn object(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
        prop::collection::vec(select(keys), 0..4)
            .prop_flat_map(|keys| {
                let values: Vec<_> = keys.iter().map(|&key| field(key)).collect();
                (Just(keys), values)
            })
            .prop_map(|(keys, values)| {
                let mut object = Map::new();
                for (key, value) in keys.into_iter().zip(values) {
                    // An `error` or `type` in only some objects: the stream goes on after most.
                    object.insert(key.to_string(), value);
                }
                Value::Object(object)
            })
    }

    /// One payload as text; `lines` says whether it may span lines (SSE data lines).
    fn payload(lines: bool) -> impl Strategy<Value = String> {
        let json_text = move |value: Value, pretty: bool| {
            if pretty && lines {
                serde_json::to_string_pretty(&value).unwrap()
            } else {
                value.to_string()
            }
        };
        prop_oneof![
            6 => (object(PAYLOAD_KEYS), any::<bool>()).prop_map(move |(value, pretty)| json_text(value, pretty)),
            3 => any_words().prop_map(|text| Value::String(text).to_string()),
            3 => words(),
            1 => select(vec!["[DONE]", " [DONE] ", "[DONE]\t", "\u{a0}[DONE]", "[done]"]).prop_map(str::to_string),
            1 => select(vec![r#"{"type":"done"}"#, r#"{"type":"end","text":"last"}"#, r#"{"error":"boom"}"#])
                .prop_map(str::to_string),
        ]
    }

    fn line_end() -> impl Strategy<Value = &'static str> {
        select(vec!["\n", "\r\n", "\r"])
    }

    /// One SSE event's lines (without the blank line): fields in any order, data over one or
    /// more lines.
    fn sse_event() -> impl Strategy<Value = Vec<String>> {
        let data =
            (payload(true), any::<bool>(), select(vec!["data: ", "data:"])).prop_map(|(payload, split, prefix)| {
                let lines: Vec<&str> = if split { payload.split('\n').collect() } else { vec![&payload] };
                // A payload with its own `\r`s cannot be one data line: `\r` ends a line.
                lines.iter().flat_map(|line| line.split('\r')).map(|line| format!("{prefix}{line}")).collect::<Vec<_>>()
            });
        let other = prop_oneof![
            3 => words().prop_map(|comment| format!(":{comment}")),
            1 => select(vec!["event: error", "event:error", "event: message", "event: ping", "event: Error", "event"])
                .prop_map(str::to_string),
            2 => select(vec!["id: 7", "id", "retry: 100", "retry: x", "unknown: y", "data", " data: lead", "datax: y"])
                .prop_map(str::to_string),
        ];
        (prop::collection::vec(other, 0..3), prop::collection::vec(data, 0..3), any::<prop::sample::Index>()).prop_map(
            |(others, data, at)| {
                let mut lines: Vec<String> = data.into_iter().flatten().collect();
                let place = at.index(lines.len() + 1);
                for (i, other) in others.into_iter().enumerate() {
                    lines.insert((place + i).min(lines.len()), other);
                }
                lines
            },
        )
    }

    /// A whole SSE body: events, each line with its own line end; the last event may lack its
    /// blank line, and its last line its line end.
    fn sse_body() -> impl Strategy<Value = Vec<u8>> {
        (
            any::<bool>(),
            prop::collection::vec((sse_event(), prop::collection::vec(line_end(), 8), line_end()), 0..6),
            0..3usize,
        )
            .prop_map(|(bom, events, tail)| {
                let mut body = if bom { "\u{feff}".to_string() } else { String::new() };
                let count = events.len();
                for (i, (lines, ends, blank)) in events.into_iter().enumerate() {
                    let last = i + 1 == count;
                    let line_count = lines.len();
                    for (j, line) in lines.into_iter().enumerate() {
                        body.push_str(&line);
                        // The last event: 0 = no blank line and no last line end, 1 = no blank
                        // line, 2 = the usual blank line.
                        if !(last && tail == 0 && j + 1 == line_count) {
                            body.push_str(ends[j % ends.len()]);
                        }
                    }
                    if !last || tail == 2 {
                        body.push_str(blank);
                    }
                }
                body.into_bytes()
            })
    }

    fn ndjson_body() -> impl Strategy<Value = Vec<u8>> {
        let space = select(vec!["", " ", "\t", "  ", "\r", "\u{a0}"]);
        let line = (space.clone(), prop_oneof![4 => payload(false), 1 => Just(String::new())], space)
            .prop_map(|(before, payload, after)| format!("{before}{payload}{after}"));
        (prop::collection::vec((line, select(vec!["\n", "\r\n"])), 0..8), any::<bool>()).prop_map(|(lines, end)| {
            let mut body = String::new();
            let count = lines.len();
            for (i, (line, line_end)) in lines.into_iter().enumerate() {
                body.push_str(&line);
                if i + 1 < count || end {
                    body.push_str(line_end);
                }
            }
            body.into_bytes()
        })
    }

    fn json_body() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            8 => (object(REPLY_KEYS), any::<bool>()).prop_map(|(value, pretty)| {
                if pretty { serde_json::to_string_pretty(&value).unwrap() } else { value.to_string() }.into_bytes()
            }),
            1 => scalar().prop_map(|value| value.to_string().into_bytes()),
            1 => select(vec![&b""[..], b"{", b"{\"reply\":\"a\"} x", b"{\"reply\":\"\xff\"}", b" {\"reply\":\"ok\"}\n"])
                .prop_map(<[u8]>::to_vec),
        ]
    }

    fn limit() -> impl Strategy<Value = usize> {
        prop_oneof![3 => Just(MAX_EVENT_BYTES), 1 => 0..120usize]
    }

    fn cuts() -> impl Strategy<Value = Vec<usize>> {
        prop::collection::vec(any::<usize>(), 0..12)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn sse_matches_the_reference(body in sse_body(), cuts in cuts(), limit in limit()) {
            same_as_reference(SSE, limit, &body, &cuts)?;
        }

        #[test]
        fn ndjson_matches_the_reference(body in ndjson_body(), cuts in cuts(), limit in limit()) {
            same_as_reference(NDJSON, limit, &body, &cuts)?;
        }

        #[test]
        fn json_matches_the_reference(body in json_body(), cuts in cuts(), limit in limit()) {
            same_as_reference(JSON, limit, &body, &cuts)?;
        }

        #[test]
        fn raw_text_is_the_lossy_text_of_the_body(
            body in prop_oneof![
                prop::collection::vec(any::<u8>(), 0..64),
                prop::collection::vec(select(vec![&b"\xf0\x9f\x98\x80"[..], b"\xe4\xb8\x96", b"\xc3\xa9", b"a", b"\xff", b"\xf0\x9f", b"\xed\xa0\x80", b"\xc0\xaf"]), 0..16)
                    .prop_map(|parts| parts.concat()),
            ],
            cuts in cuts(),
            content_type in select(vec!["text/plain", "text/plain; charset=utf-8", "application/octet-stream", ""]),
        ) {
            let expected = String::from_utf8_lossy(&body).into_owned();
            let reference = reference::decode(Some(content_type), MAX_EVENT_BYTES, &body).unwrap();
            prop_assert_eq!(reference.text(), expected.clone());
            for got in [production(content_type, MAX_EVENT_BYTES, &body, &[]), production(content_type, MAX_EVENT_BYTES, &body, &cuts)] {
                prop_assert_eq!(got.text(), expected.clone(), "cut at {:?}", cuts);
                prop_assert!(got.pieces().iter().all(|piece| !piece.is_empty()));
                prop_assert!(got.failure.is_none() && got.conversation_id().is_none());
            }
        }
    }

    /// The real limit, at its edge: 16 MiB of event data (or NDJSON line, or JSON body)
    /// passes, one byte more fails with a decode error, fed whole or in 64 KiB reads.
    #[test]
    fn the_real_16_mib_limit_at_its_edge() {
        let fill = |n: usize| "x".repeat(n);
        let cases = [
            (SSE, format!("data: {}\n\n", fill(MAX_EVENT_BYTES)), format!("data: {}\n\n", fill(MAX_EVENT_BYTES + 1))),
            (
                SSE,
                format!("data: {}\ndata: {}\n\n", fill(MAX_EVENT_BYTES / 2), fill(MAX_EVENT_BYTES / 2 - 1)),
                format!("data: {}\ndata: {}\n\n", fill(MAX_EVENT_BYTES / 2), fill(MAX_EVENT_BYTES / 2)),
            ),
            (NDJSON, format!("{}\n", fill(MAX_EVENT_BYTES)), format!("{}\n", fill(MAX_EVENT_BYTES + 1))),
            (
                JSON,
                format!("{{\"reply\":\"{}\"}}", fill(MAX_EVENT_BYTES - 12)),
                format!("{{\"reply\":\"{}\"}}", fill(MAX_EVENT_BYTES - 11)),
            ),
        ];
        for (content_type, fits, over) in cases {
            for reads in [1 << 30, 1 << 16] {
                let fed =
                    |body: &str| decoders::decode(Some(content_type), MAX_EVENT_BYTES, body.as_bytes().chunks(reads));
                let ok = fed(&fits);
                assert!(ok.failure.is_none(), "{content_type}: {:?}", ok.failure);
                let expected = reference::decode(Some(content_type), MAX_EVENT_BYTES, fits.as_bytes()).unwrap();
                assert_eq!(ok.items, expected.items, "{content_type}");
                assert!(ok.text().len() >= MAX_EVENT_BYTES - 12, "{content_type}");
                let failed = fed(&over);
                assert_eq!(failed.failure.map(|f| f.kind), Some(ErrorKind::Decode), "{content_type}");
                assert_eq!(
                    reference::decode(Some(content_type), MAX_EVENT_BYTES, over.as_bytes())
                        .unwrap()
                        .failure
                        .map(|f| f.kind),
                    Some(ErrorKind::Decode)
                );
            }
        }
    }
}
