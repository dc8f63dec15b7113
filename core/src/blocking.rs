//! Synchronous use of the client: every call blocks the calling thread on the one runtime.
//!
//! ```no_run
//! let client = mixerlead::blocking::Client::from_env()?;
//! for piece in client.chat(mixerlead::ChatRequest::new("Hi"))? {
//!     print!("{}", piece?);
//! }
//! # Ok::<(), mixerlead::Error>(())
//! ```

use futures_util::StreamExt;

use crate::error::Result;
use crate::runtime::block_on;
use crate::{Batch, ChatReply, ChatRequest, ClientBuilder, HeaderMap, ModelList, RequestOptions, StreamInfo};

/// A blocking [`crate::Client`]. Cheap to clone; usable from many threads at once.
#[derive(Clone, Debug)]
pub struct Client {
    inner: crate::Client,
}

impl Client {
    /// A client configured from the environment (`MIXERLEAD_API_KEY`, …) and defaults.
    pub fn from_env() -> Result<Client> {
        crate::Client::from_env().map(Client::from)
    }

    /// Builds a blocking client from a [`ClientBuilder`].
    pub fn from_builder(builder: ClientBuilder) -> Result<Client> {
        builder.build().map(Client::from)
    }

    /// The async client underneath.
    pub fn async_client(&self) -> &crate::Client {
        &self.inner
    }

    /// The models the service offers.
    pub fn list_models(&self) -> Result<ModelList> {
        block_on(self.inner.list_models())
    }

    /// [`Client::list_models`] with options for this call.
    pub fn list_models_with(&self, options: &RequestOptions) -> Result<ModelList> {
        block_on(self.inner.list_models_with(options))
    }

    /// Sends a chat message; returns once the response headers arrived.
    pub fn chat(&self, request: ChatRequest) -> Result<ChatStream> {
        block_on(self.inner.chat(request)).map(|inner| ChatStream { inner })
    }

    /// [`Client::chat`] with options for this call.
    pub fn chat_with(&self, request: ChatRequest, options: &RequestOptions) -> Result<ChatStream> {
        block_on(self.inner.chat_with(request, options)).map(|inner| ChatStream { inner })
    }

    /// Sends a chat message and waits for the whole reply.
    pub fn send(&self, request: ChatRequest) -> Result<ChatReply> {
        block_on(self.inner.send(request))
    }

    /// [`Client::send`] with options for this call.
    pub fn send_with(&self, request: ChatRequest, options: &RequestOptions) -> Result<ChatReply> {
        block_on(self.inner.send_with(request, options))
    }
}

impl From<crate::Client> for Client {
    fn from(inner: crate::Client) -> Self {
        Client { inner }
    }
}

/// A blocking [`crate::ChatStream`]: an iterator of text pieces. Dropping it aborts the request.
#[derive(Debug)]
pub struct ChatStream {
    inner: crate::ChatStream,
}

impl ChatStream {
    /// The conversation id, once known.
    pub fn conversation_id(&self) -> Option<String> {
        self.inner.conversation_id()
    }

    /// All the text handed out so far.
    pub fn text(&self) -> String {
        self.inner.text()
    }

    /// The response's request id, if it had one.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id()
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        self.inner.headers()
    }

    /// A handle for reading the conversation id and text from other threads.
    pub fn info(&self) -> StreamInfo {
        self.inner.info()
    }

    /// Consumes the rest and returns the whole reply.
    pub fn read(&mut self) -> Result<String> {
        block_on(self.inner.read())
    }

    /// Every piece decoded so far, waiting for at least one; `None` at the end. Faster than
    /// iterating piece by piece (see [`crate::ChatStream::next_batch`]).
    pub fn next_batch(&mut self) -> Option<Result<Batch>> {
        block_on(self.inner.next_batch())
    }

    /// The async stream underneath.
    pub fn into_async(self) -> crate::ChatStream {
        self.inner
    }
}

impl Iterator for ChatStream {
    type Item = Result<String>;

    fn next(&mut self) -> Option<Result<String>> {
        block_on(self.inner.next())
    }
}
