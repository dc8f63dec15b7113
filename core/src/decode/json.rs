//! A whole `application/json` body holding the reply as one object.

use super::fields::{read_object, Parsed};
use super::{too_large, Event, Output, MAX_EVENT_BYTES};
use crate::error::{Error, Result};

/// Collects the body, then reads the reply out of it at the end.
pub(crate) struct JsonDecoder {
    body: Vec<u8>,
    /// The most bytes the body may have ([`MAX_EVENT_BYTES`] but in tests).
    limit: usize,
}

impl Default for JsonDecoder {
    fn default() -> Self {
        JsonDecoder::with_limit(MAX_EVENT_BYTES)
    }
}

impl JsonDecoder {
    pub fn with_limit(limit: usize) -> Self {
        JsonDecoder { body: Vec::new(), limit }
    }

    pub fn feed(&mut self, chunk: &[u8], _out: &mut Output) -> Result<()> {
        if self.body.len() + chunk.len() > self.limit {
            return Err(too_large("JSON body"));
        }
        self.body.extend_from_slice(chunk);
        Ok(())
    }

    pub fn finish(&mut self, out: &mut Output) -> Result<()> {
        let body = std::str::from_utf8(&self.body)
            .map_err(|e| Error::decode(format!("the reply is not valid JSON: not UTF-8: {e}")))?;
        let f = match read_object(body) {
            Parsed::Object(fields) => fields,
            Parsed::Invalid(e) => return Err(Error::decode(format!("the reply is not valid JSON: {e}"))),
            Parsed::String(_) | Parsed::Other => return Err(Error::decode("the JSON reply is not an object")),
        };
        if let Some(message) = f.error_message() {
            out.event(Event::Error(message));
            return Ok(());
        }
        if let Some(id) = f.conversation_id() {
            out.event(Event::ConversationId(id.to_string()));
        }
        // The first string among reply, text, content, message, output, choices[0].message.content.
        let text = [&f.reply, &f.text, &f.content, &f.message, &f.output, &f.choice_message]
            .into_iter()
            .find_map(|field| field.as_deref());
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
