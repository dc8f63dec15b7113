//! # mixerlead
//!
//! The client for MixerLead's Workspace API: list models and stream chat replies, with
//! retries that honour `Retry-After`, typed errors, and timeouts for stalled streams.
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use mixerlead::{ChatRequest, Client};
//!
//! # async fn demo() -> Result<(), mixerlead::Error> {
//! let client = Client::from_env()?; // MIXERLEAD_API_KEY
//! for model in client.list_models().await? {
//!     println!("{} — {}", model.id, model.task);
//! }
//! let mut stream = client.chat(ChatRequest::new("Hi").model("ml-auto")).await?;
//! while let Some(piece) = stream.next().await {
//!     print!("{}", piece?);
//! }
//! let follow_up = ChatRequest::new("And then?").conversation_id(stream.conversation_id().unwrap_or_default());
//! println!("{}", client.send(follow_up).await?.text);
//! # Ok(()) }
//! ```
//!
//! For the highest throughput read whole batches with [`ChatStream::next_batch`]: a [`Batch`]
//! lends its pieces as `&str` out of one buffer, where the [`futures_util::Stream`] API
//! allocates a `String` per piece.
//!
//! Synchronous code uses [`blocking::Client`]. All async work runs on one process-wide tokio
//! runtime ([`runtime`]), whatever runtime the caller uses.

mod api;
mod attempt;
mod batch;
pub mod blocking;
#[doc(hidden)]
pub mod bridge;
mod client;
mod config;
mod decode;
mod error;
#[doc(hidden)]
pub mod log;
mod meta;
mod record;
pub mod report;
mod request_options;
mod response;
mod retry;
pub mod runtime;
mod stream;
mod traffic;
mod transport;

pub use api::agents::{AgentType, Agents, Record};
pub use api::artifacts::Artifacts;
pub use api::chat::ChatRequest;
pub use api::json::JsonResponse;
pub use api::knowledge::{Indexing, Knowledge, NewSource, Source, SourceStatus};
pub use api::models::{Model, ModelList};
pub use api::skills::{Skill, SkillOutput, Skills};
pub use api::upload::UploadSource;
#[doc(hidden)]
pub use batch::BatchReader;
pub use batch::{Batch, Pieces};
pub use client::Client;
#[doc(hidden)]
pub use config::OptionValue;
pub use config::{
    ClientBuilder, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_RETRIES, DEFAULT_MAX_RETRY_WAIT,
    DEFAULT_READ_TIMEOUT, DEFAULT_TIMEOUT, ENV_ALLOW_INSECURE_HTTP, ENV_API_KEY, ENV_BASE_URL, ENV_MAX_RETRIES,
    ENV_PROJECT_ID, ENV_RATE_LIMIT_REDIS,
};
pub use error::{Error, ErrorBody, ErrorKind, Result};
pub use meta::ResponseMeta;
pub use record::{CASSETTE_VERSION, ENV_RECORD};
pub use report::{CallEvent, CallReport, Outcome, ReportHook};
pub use request_options::RequestOptions;
#[doc(no_inline)]
pub use reqwest::header::HeaderMap;
#[doc(no_inline)]
pub use reqwest::Method;
pub use stream::{ChatReply, ChatStream, StreamInfo, StreamState, MAX_KEPT_TEXT, MAX_REPLY_BYTES};

/// The decoders and the `Retry-After` parser fed directly, for the fuzz targets and the
/// differential tests. Not part of the API: no semver promise.
#[doc(hidden)]
pub use decode::testing as decode_testing;

/// What only the language bindings need — batched, cancellable pulls; blocking waits that let a
/// signal through; options by name; log sinks. Not part of the Rust API: no semver promise.
#[doc(hidden)]
pub mod binding {
    pub use crate::batch::BatchReader;
    pub use crate::bridge::{Cancellation, Pull, SharedStream};
    pub use crate::config::OptionValue;
    pub use crate::log::{Level, LogSink};
    pub use crate::runtime::{block_on, block_on_interruptible, handle};
}

/// The SDK's version, as sent in the `User-Agent`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
