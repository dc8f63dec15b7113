//! A whole `application/json` body holding the reply as one object.

use serde_json::Value;

use super::{payload, too_large, Event, Output, MAX_EVENT_BYTES};
use crate::error::{Error, Result};

/// Fields whose first string value is the reply, in order of preference.
const REPLY_FIELDS: &[&str] = &["reply", "text", "content", "message", "output"];

/// Collects the body, then reads the reply out of it at the end.
#[derive(Default)]
pub(crate) struct JsonDecoder {
    body: Vec<u8>,
}

impl JsonDecoder {
    pub fn feed(&mut self, chunk: &[u8], _out: &mut Output) -> Result<()> {
        if self.body.len() + chunk.len() > MAX_EVENT_BYTES {
            return Err(too_large("JSON body"));
        }
        self.body.extend_from_slice(chunk);
        Ok(())
    }

    pub fn finish(&mut self, out: &mut Output) -> Result<()> {
        let value: Value = serde_json::from_slice(&self.body)
            .map_err(|e| Error::decode(format!("the reply is not valid JSON: {e}")))?;
        let Value::Object(map) = value else {
            return Err(Error::decode("the JSON reply is not an object"));
        };
        if let Some(message) = map.get("error").and_then(payload::error_message) {
            out.event(Event::Error(message));
            return Ok(());
        }
        if let Some(id) = payload::conversation_id(&map) {
            out.event(Event::ConversationId(id.to_string()));
        }
        let text = REPLY_FIELDS
            .iter()
            .find_map(|k| map.get(*k).and_then(Value::as_str))
            .or_else(|| map.get("choices")?.get(0)?.get("message")?.get("content")?.as_str());
        if let Some(text) = text.filter(|t| !t.is_empty()) {
            out.text(text);
        }
        out.event(Event::Done);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::decode::tests::Seen::*;
    use crate::decode::tests::{decode_split_everywhere, decode_whole};

    const CT: &str = "application/json; charset=utf-8";

    #[test]
    fn reply_fields_and_conversation_id() {
        assert_eq!(
            decode_split_everywhere(CT, "{\"reply\":\"h\u{e9}\",\"conversationId\":\"c1\"}".as_bytes()),
            vec![ConversationId("c1".into()), Text("h\u{e9}".into()), Done]
        );
        assert_eq!(decode_whole(CT, b"{\"output\":\"o\",\"message\":\"m\"}").unwrap(), vec![Text("m".into()), Done]);
        assert_eq!(
            decode_whole(CT, b"{\"choices\":[{\"message\":{\"content\":\"c\"}}],\"conversation_id\":\"x\"}").unwrap(),
            vec![ConversationId("x".into()), Text("c".into()), Done]
        );
        assert_eq!(decode_whole(CT, b"{\"other\":1}").unwrap(), vec![Done]);
    }

    #[test]
    fn malformed_bodies_are_decode_errors() {
        for body in [&b"{\"reply\": "[..], b"[1,2]", b"", b"not json"] {
            assert_eq!(decode_whole(CT, body).unwrap_err().kind(), crate::ErrorKind::Decode, "{body:?}");
        }
        assert_eq!(decode_whole(CT, b"{\"error\":\"bad\"}").unwrap(), vec![Error("bad".into())]);
    }
}
