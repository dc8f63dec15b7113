//! `POST /chat`: a message, and its reply streamed back.

use reqwest::Method;
use serde::Serialize;

use crate::attempt::with_retries;
use crate::error::{Error, Result};
use crate::report::Outcome;
use crate::request_options::RequestOptions;
use crate::retry::Idempotency;
use crate::stream::{ChatReply, ChatStream};
use crate::transport::{Accept, Body};
use crate::Client;

/// A chat message and its options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatRequest {
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    #[serde(rename = "conversationId", skip_serializing_if = "Option::is_none")]
    conversation_id: Option<String>,
}

impl ChatRequest {
    /// A message to the default (Auto) model, starting a new conversation.
    pub fn new(message: impl Into<String>) -> Self {
        ChatRequest { message: message.into(), model: None, conversation_id: None }
    }

    /// A message with optional model and conversation (`None`: Auto / a new conversation), as
    /// the bindings receive them.
    #[doc(hidden)]
    pub fn from_parts(message: impl Into<String>, model: Option<String>, conversation_id: Option<String>) -> Self {
        ChatRequest { message: message.into(), model, conversation_id }
    }

    /// The model to use (see [`Client::list_models`]); omit for Auto.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Continue this conversation instead of starting a new one.
    pub fn conversation_id(mut self, id: impl Into<String>) -> Self {
        self.conversation_id = Some(id.into());
        self
    }

    fn check(&self) -> Result<()> {
        if self.message.trim().is_empty() {
            return Err(Error::invalid("message must not be empty"));
        }
        for (name, value) in [
            ("message", Some(&self.message)),
            ("model", self.model.as_ref()),
            ("conversation_id", self.conversation_id.as_ref()),
        ] {
            if value.is_some_and(|v| v.contains('\0')) {
                return Err(Error::invalid(format!("{name} must not contain a NUL character")));
            }
        }
        if self.model.as_ref().is_some_and(|m| m.is_empty()) {
            return Err(Error::invalid("model must not be empty (omit it for Auto)"));
        }
        if self.conversation_id.as_ref().is_some_and(|c| c.is_empty()) {
            return Err(Error::invalid("conversation_id must not be empty (omit it to start a conversation)"));
        }
        Ok(())
    }
}

impl Client {
    /// Sends a chat message and returns the reply as a stream of text pieces, once the response
    /// headers arrived (status errors are returned here, after retries).
    pub async fn chat(&self, request: ChatRequest) -> Result<ChatStream> {
        self.chat_with(request, &RequestOptions::default()).await
    }

    /// [`Client::chat`] with options for this call.
    pub async fn chat_with(&self, request: ChatRequest, options: &RequestOptions) -> Result<ChatStream> {
        let (config, transport) = self.parts();
        let chat = Some((request.model.as_deref(), request.conversation_id.as_deref()));
        let report = options.observe(config, &Method::POST, "/chat", chat);
        let checked = request.check().and_then(|()| {
            let body =
                serde_json::to_vec(&request).map_err(|e| Error::invalid(format!("cannot encode the request: {e}")));
            Ok((options.resolve(config)?, body?))
        });
        let (mut call, body) = match checked {
            Ok(checked) => checked,
            Err(error) => {
                report.finish(Outcome::Failed, Some(&error), 0);
                return Err(error);
            }
        };
        call.report = report;
        let body = Body::Json(bytes::Bytes::from(body));
        let result = with_retries(&call, &Method::POST, "/chat", Idempotency::Chat, || {
            transport.send(&call, Method::POST, "/chat", &body, Accept::Stream)
        })
        .await;
        let (response, slot) = match result {
            Ok(ok) => ok,
            Err(error) => {
                call.report.finish(Outcome::Failed, Some(&error), 0);
                return Err(error);
            }
        };
        let stream = ChatStream::new(response, config.read_timeout, config.log.clone()).holding(slot);
        Ok(stream.reporting(std::mem::take(&mut call.report)))
    }

    /// Sends a chat message and waits for the whole reply.
    pub async fn send(&self, request: ChatRequest) -> Result<ChatReply> {
        self.chat(request).await?.into_reply().await
    }

    /// [`Client::send`] with options for this call.
    pub async fn send_with(&self, request: ChatRequest, options: &RequestOptions) -> Result<ChatReply> {
        self.chat_with(request, options).await?.into_reply().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn chat_request_checks() {
        assert_eq!(ChatRequest::new("").check().unwrap_err().kind(), ErrorKind::InvalidArgument);
        assert_eq!(ChatRequest::new("  \n").check().unwrap_err().kind(), ErrorKind::InvalidArgument);
        assert_eq!(ChatRequest::new("a\0b").check().unwrap_err().kind(), ErrorKind::InvalidArgument);
        assert_eq!(ChatRequest::new("hi").model("m\0").check().unwrap_err().kind(), ErrorKind::InvalidArgument);
        ChatRequest::new("hi").model("ml-auto").conversation_id("c").check().unwrap();
        let json = serde_json::to_string(&ChatRequest::new("hi")).unwrap();
        assert_eq!(json, r#"{"message":"hi"}"#);
        let json = serde_json::to_string(&ChatRequest::new("hi").model("m").conversation_id("c")).unwrap();
        assert_eq!(json, r#"{"message":"hi","model":"m","conversationId":"c"}"#);
    }
}
