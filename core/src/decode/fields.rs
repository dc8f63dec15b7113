//! Reads the few fields of a JSON object the SDK looks at, skipping everything else without
//! building it: a 16 MiB payload full of numbers costs no more memory than its text, where a
//! `serde_json::Value` of it would cost many times that.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// Strings found at object-key paths (outermost key first; the empty path is the value itself):
/// `found[i]` is the string at `paths[i]`, `None` where there is no string there. A key given
/// twice counts as its last occurrence, as in a parsed object.
struct Pick<'p> {
    paths: &'p [&'p [&'p str]],
}

type Found<'de> = Vec<Option<Cow<'de, str>>>;

impl<'de> DeserializeSeed<'de> for Pick<'_> {
    type Value = Found<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Found<'de>, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl Pick<'_> {
    fn none<'de>(&self) -> Found<'de> {
        vec![None; self.paths.len()]
    }

    fn string<'de>(&self, text: Cow<'de, str>) -> Found<'de> {
        self.paths.iter().map(|path| path.is_empty().then(|| text.clone())).collect()
    }
}

impl<'de> Visitor<'de> for Pick<'_> {
    type Value = Found<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Found<'de>, E> {
        Ok(self.string(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Found<'de>, E> {
        Ok(self.string(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Found<'de>, E> {
        Ok(self.string(Cow::Owned(v)))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Found<'de>, E> {
        Ok(self.none())
    }

    fn visit_i64<E>(self, _: i64) -> Result<Found<'de>, E> {
        Ok(self.none())
    }

    fn visit_u64<E>(self, _: u64) -> Result<Found<'de>, E> {
        Ok(self.none())
    }

    fn visit_f64<E>(self, _: f64) -> Result<Found<'de>, E> {
        Ok(self.none())
    }

    fn visit_unit<E>(self) -> Result<Found<'de>, E> {
        Ok(self.none())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Found<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(self.none())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Found<'de>, A::Error> {
        let mut found = self.none();
        let mut rest: Vec<&[&str]> = Vec::with_capacity(self.paths.len());
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            rest.clear();
            rest.extend(self.paths.iter().filter(|p| p.first() == Some(&&*key)).map(|p| &p[1..]));
            if rest.is_empty() {
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            let inner = map.next_value_seed(Pick { paths: &rest })?;
            let mut inner = inner.into_iter();
            for (slot, path) in found.iter_mut().zip(self.paths) {
                if path.first() == Some(&&*key) {
                    *slot = inner.next().flatten();
                }
            }
        }
        Ok(found)
    }
}

/// Like [`Pick`], applied to the first element of an array (anything else has none).
struct First<'p>(Pick<'p>);

impl<'de> DeserializeSeed<'de> for First<'_> {
    type Value = Found<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Found<'de>, D::Error> {
        let none = self.0.none();
        match deserializer.deserialize_any(FirstVisitor(self.0)) {
            Ok(Some(found)) => Ok(found),
            Ok(None) => Ok(none),
            Err(e) => Err(e),
        }
    }
}

struct FirstVisitor<'p>(Pick<'p>);

impl<'de> Visitor<'de> for FirstVisitor<'_> {
    type Value = Option<Found<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let first = seq.next_element_seed(self.0)?;
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(first)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_borrowed_str<E>(self, _: &'de str) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// The fields of a payload (or a whole JSON reply) the SDK reads.
#[derive(Debug, Default)]
pub(crate) struct Fields<'a> {
    /// `text`, `delta` (as a string), `content`, `token`, `chunk`, `reply`, `message`, `output`.
    pub text: Option<Cow<'a, str>>,
    pub delta: Option<Cow<'a, str>>,
    pub content: Option<Cow<'a, str>>,
    pub token: Option<Cow<'a, str>>,
    pub chunk: Option<Cow<'a, str>>,
    pub reply: Option<Cow<'a, str>>,
    pub message: Option<Cow<'a, str>>,
    pub output: Option<Cow<'a, str>>,
    /// `delta.text`, `delta.content`.
    pub delta_text: Option<Cow<'a, str>>,
    pub delta_content: Option<Cow<'a, str>>,
    /// `choices[0].delta.content`, `choices[0].message.content`.
    pub choice_delta: Option<Cow<'a, str>>,
    pub choice_message: Option<Cow<'a, str>>,
    /// `conversationId`, `conversation_id`.
    pub conversation_id: Option<Cow<'a, str>>,
    pub conversation_id_snake: Option<Cow<'a, str>>,
    /// `type`.
    pub kind: Option<Cow<'a, str>>,
    /// The `error` field as it stood, when present.
    pub error: Option<&'a RawValue>,
}

/// What [`read_object`] makes of a JSON text.
pub(crate) enum Parsed<'a> {
    /// An object, with the fields it holds.
    Object(Box<Fields<'a>>),
    /// A JSON string.
    String(Cow<'a, str>),
    /// Valid JSON of another type.
    Other,
    /// Not JSON.
    Invalid(serde_json::Error),
}

/// Reads `json`'s fields without building what the SDK does not look at.
pub(crate) fn read_object(json: &str) -> Parsed<'_> {
    let mut deserializer = serde_json::Deserializer::from_str(json);
    let parsed = deserializer.deserialize_any(TopVisitor).and_then(|p| deserializer.end().map(|_| p));
    match parsed {
        Ok(parsed) => parsed,
        Err(e) => Parsed::Invalid(e),
    }
}

struct TopVisitor;

const ONE: &[&[&str]] = &[&[]];
const DELTA: &[&[&str]] = &[&[], &["text"], &["content"]];
const CHOICE: &[&[&str]] = &[&["delta", "content"], &["message", "content"]];

impl<'de> Visitor<'de> for TopVisitor {
    type Value = Parsed<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Parsed<'de>, A::Error> {
        let mut f = Fields::default();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let one = |map: &mut A| -> Result<Option<Cow<'de, str>>, A::Error> {
                Ok(map.next_value_seed(Pick { paths: ONE })?.pop().flatten())
            };
            match &*key {
                "text" => f.text = one(&mut map)?,
                "content" => f.content = one(&mut map)?,
                "token" => f.token = one(&mut map)?,
                "chunk" => f.chunk = one(&mut map)?,
                "reply" => f.reply = one(&mut map)?,
                "message" => f.message = one(&mut map)?,
                "output" => f.output = one(&mut map)?,
                "type" => f.kind = one(&mut map)?,
                "conversationId" => f.conversation_id = one(&mut map)?,
                "conversation_id" => f.conversation_id_snake = one(&mut map)?,
                "delta" => {
                    let mut found = map.next_value_seed(Pick { paths: DELTA })?.into_iter();
                    (f.delta, f.delta_text, f.delta_content) =
                        (found.next().flatten(), found.next().flatten(), found.next().flatten());
                }
                "choices" => {
                    let mut found = map.next_value_seed(First(Pick { paths: CHOICE }))?.into_iter();
                    (f.choice_delta, f.choice_message) = (found.next().flatten(), found.next().flatten());
                }
                "error" => f.error = Some(map.next_value::<&'de RawValue>()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Parsed::Object(Box::new(f)))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Parsed<'de>, E> {
        Ok(Parsed::String(Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Parsed<'de>, E> {
        Ok(Parsed::String(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Parsed<'de>, E> {
        Ok(Parsed::String(Cow::Owned(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Parsed<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Parsed::Other)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Parsed<'de>, E> {
        Ok(Parsed::Other)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Parsed<'de>, E> {
        Ok(Parsed::Other)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Parsed<'de>, E> {
        Ok(Parsed::Other)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Parsed<'de>, E> {
        Ok(Parsed::Other)
    }

    fn visit_unit<E>(self) -> Result<Parsed<'de>, E> {
        Ok(Parsed::Other)
    }
}

impl Fields<'_> {
    /// The message of the `error` field: a string, or an object's `message` (else the object
    /// as JSON); `None` when absent, `null` or `false`.
    pub fn error_message(&self) -> Option<String> {
        let raw = self.error?.get().trim();
        match raw.as_bytes().first()? {
            b'n' | b'f' => None,
            b'"' => serde_json::from_str::<String>(raw).ok(),
            b'{' => {
                let mut deserializer = serde_json::Deserializer::from_str(raw);
                let message = Pick { paths: &[&["message"]] }.deserialize(&mut deserializer).ok();
                match message.and_then(|mut m| m.pop().flatten()) {
                    Some(message) => Some(message.into_owned()),
                    None => Some(compact(raw)),
                }
            }
            _ => Some(compact(raw)),
        }
    }

    /// The conversation id: `conversationId`, else `conversation_id`, when a non-empty string.
    pub fn conversation_id(&self) -> Option<&str> {
        self.conversation_id.as_deref().or(self.conversation_id_snake.as_deref()).filter(|id| !id.is_empty())
    }
}

/// A JSON text without insignificant white space.
fn compact(raw: &str) -> String {
    serde_json::from_str::<serde_json::Value>(raw).map_or_else(|_| raw.to_string(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(json: &str) -> Fields<'_> {
        match read_object(json) {
            Parsed::Object(f) => *f,
            _ => panic!("not an object: {json}"),
        }
    }

    #[test]
    fn picks_known_fields_and_skips_the_rest() {
        let f = fields(r#"{"x":[1,{"text":"no"}],"text":"a","delta":{"text":"b","content":"c"},"type":"done"}"#);
        assert_eq!(f.text.as_deref(), Some("a"));
        assert_eq!(f.delta, None);
        assert_eq!((f.delta_text.as_deref(), f.delta_content.as_deref()), (Some("b"), Some("c")));
        assert_eq!(f.kind.as_deref(), Some("done"));
        let f =
            fields(r#"{"choices":[{"delta":{"content":"d"},"message":{"content":"m"}},{"delta":{"content":"no"}}]}"#);
        assert_eq!((f.choice_delta.as_deref(), f.choice_message.as_deref()), (Some("d"), Some("m")));
        let f = fields(r#"{"choices":{"0":1},"delta":"s","text":5}"#);
        assert_eq!((f.choice_delta, f.delta.as_deref(), f.text), (None, Some("s"), None));
    }

    #[test]
    fn the_last_of_a_repeated_key_counts() {
        assert_eq!(fields(r#"{"text":"a","text":"b"}"#).text.as_deref(), Some("b"));
        assert_eq!(fields(r#"{"text":"a","text":1}"#).text, None);
        let f = fields(r#"{"delta":{"text":"a"},"delta":{"content":"b"}}"#);
        assert_eq!((f.delta_text, f.delta_content.as_deref()), (None, Some("b")));
    }

    #[test]
    fn escapes_and_errors() {
        assert_eq!(fields(r#"{"text":"q\"\u00e9"}"#).text.as_deref(), Some("q\"é"));
        assert_eq!(fields(r#"{"error":"boom"}"#).error_message().as_deref(), Some("boom"));
        assert_eq!(fields(r#"{"error":{"message":"bang","code":1}}"#).error_message().as_deref(), Some("bang"));
        assert_eq!(fields(r#"{"error":{"code": 1}}"#).error_message().as_deref(), Some(r#"{"code":1}"#));
        assert_eq!(fields(r#"{"error":null}"#).error_message(), None);
        assert_eq!(fields(r#"{"error":false}"#).error_message(), None);
        assert_eq!(fields(r#"{"error":true}"#).error_message().as_deref(), Some("true"));
        assert_eq!(fields(r#"{"error":[1, 2]}"#).error_message().as_deref(), Some("[1,2]"));
        assert!(matches!(read_object("{broken"), Parsed::Invalid(_)));
        assert!(matches!(read_object(r#"{"a":1} x"#), Parsed::Invalid(_)));
        assert!(matches!(read_object("42"), Parsed::Other));
        assert!(matches!(read_object(r#""s""#), Parsed::String(_)));
    }

    #[test]
    fn agrees_with_a_parsed_value_on_generated_objects() {
        use serde_json::{json, Value};
        let values = [json!("s"), json!(""), json!(1), json!(null), json!(true), json!(["x"]), json!({"text": "in"})];
        let keys = ["text", "delta", "content", "choices", "conversationId", "conversation_id", "type", "other"];
        let mut seed = 11u32;
        for _ in 0..3000 {
            let mut object = serde_json::Map::new();
            for _ in 0..(seed % 5) {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let key = keys[(seed >> 8) as usize % keys.len()];
                let value = values[(seed >> 16) as usize % values.len()].clone();
                let value = if key == "choices" { json!([{"delta": {"content": value}}]) } else { value };
                object.insert(key.to_string(), value);
            }
            let text = Value::Object(object.clone()).to_string();
            let f = fields(&text);
            let get = |k: &str| object.get(k).and_then(Value::as_str);
            assert_eq!(f.text.as_deref(), get("text"), "{text}");
            assert_eq!(f.delta.as_deref(), get("delta"), "{text}");
            assert_eq!(
                f.delta_text.as_deref(),
                object.get("delta").and_then(|d| d.get("text")).and_then(Value::as_str)
            );
            let choice = object.get("choices").and_then(|c| c.get(0)?.get("delta")?.get("content")?.as_str());
            assert_eq!(f.choice_delta.as_deref(), choice, "{text}");
            assert_eq!(f.kind.as_deref(), get("type"), "{text}");
        }
    }
}
