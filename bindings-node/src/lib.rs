//! `mixerlead.node`: the Rust core for Node.js. Type conversion and error mapping only, by
//! concept as on the Python side:
//! - [`client`]: `NativeClient` (the key lives only there) and the models it lists;
//! - [`options`]: JS options objects handed to the core by name (`ClientBuilder::set`);
//! - [`stream`]: `NativeStream`, the batches a streamed reply crosses into JS in;
//! - [`wait`]: promises settled from tasks on the core's runtime (no second runtime: napi's own
//!   tokio runtime is not enabled), and `NativeCancel`, wired to an AbortSignal;
//! - [`log`]: the core's log records, delivered to the `logger` option on the JS thread;
//! - [`meta`]: response metadata (headers) as they cross into JS;
//! - [`errors`]: core errors as the JSON description `errors.js` turns into the typed classes,
//!   and panics caught before they reach Node;
//! - [`workspace`]: the rest of the Workspace API (knowledge, skills, agents, artifacts) on
//!   `NativeClient`, one promise per call;
//! - [`testing`]: `NativeEmulator`, the emulator of `mixerlead/testing`, run on the core runtime;
//! - [`test_panic`]: a test-only export that panics on purpose.
//!
//! No panic unwinds into Node: every export is `#[napi(catch_unwind)]` (what napi's own argument
//! and return-value conversions might raise becomes a plain `Error`), its body runs in
//! [`errors::guard`] and its async work in [`wait::promise`] under `catch_unwind` (a panic there
//! becomes an `internal` error, a `MixerLeadError` in JS).

mod batch_text;
mod client;
mod errors;
mod log;
mod meta;
mod options;
// `setReportSink` is called from JS only.
#[cfg_attr(test, allow(dead_code))]
mod report;
mod stream;
// napi registers a free function with Node only outside cfg(test): there it looks unused.
#[cfg_attr(test, allow(dead_code))]
mod test_panic;
mod testing;
mod wait;
mod workspace;
