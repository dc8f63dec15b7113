//! `ChatStream`: the reply as decoded text pieces, with the conversation id and the text so far.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

use crate::batch::Batch;
use crate::decode::{Decoder, Event, Output};
use crate::error::{printable, Error, ErrorKind, Result};
use crate::log::Log;
use crate::meta::ResponseMeta;
use crate::report::{Outcome, Recorder};
use reqwest::header::HeaderMap;

type Body = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// Pieces past which a batch stops taking more reads that are already waiting (a batch may
/// exceed it by one read): keeps memory flat when many streams run at once.
const MAX_BATCH: usize = 8192;

/// Bytes of text past which a batch stops taking reads that are already waiting.
const MAX_BATCH_BYTES: usize = 4 << 20;

/// Most bytes of a reply kept for [`ChatStream::text`], [`ChatStream::read`] and an error's
/// `partial_text` (64 MiB). Past it the stream goes on delivering every piece, `text()` stays
/// at the first 64 MiB, and `read()` fails rather than return a cut reply.
pub const MAX_KEPT_TEXT: usize = 64 << 20;

/// Most bytes of one reply's body, after any decompression (1 GiB): a longer body (say, a
/// small compressed response that expands without end) fails the stream with a decode error.
pub const MAX_REPLY_BYTES: u64 = 1 << 30;

/// What can be read about a stream from any thread while another one waits on it: the
/// conversation id and the text handed out so far. Cheap to clone.
#[derive(Clone, Default)]
pub struct StreamInfo {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    /// The response's request id and headers.
    meta: ResponseMeta,
    conversation_id: OnceLock<String>,
    /// The reply's first [`MAX_KEPT_TEXT`] bytes, appended once per network read.
    kept: Mutex<Kept>,
    /// Bytes decoded but not yet handed out. Raised under the `kept` lock, lowered without it
    /// as pieces go out, so `text()` always ends at a piece boundary.
    undelivered: AtomicUsize,
    /// Bytes handed to a binding that it never served to its caller (the rest of a batch when
    /// the stream was closed mid-batch). Changed only by the binding's own thread.
    withheld: AtomicUsize,
    /// A [`StreamState`] as its `u8`: open until the reply ends, fails or is closed.
    state: AtomicU8,
}

/// Where a stream stands, as a binding's `repr` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamState {
    /// Pieces may still come.
    Open,
    /// The reply was read to its end.
    Finished,
    /// The reply failed (the error went to the reader).
    Failed,
    /// Closed, cancelled or dropped before its end.
    Closed,
}

impl StreamState {
    /// `open`, `finished`, `failed` or `closed`.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamState::Open => "open",
            StreamState::Finished => "finished",
            StreamState::Failed => "failed",
            StreamState::Closed => "closed",
        }
    }
}

#[derive(Default)]
struct Kept {
    /// The start of the reply (all of it while it is under the cap).
    text: String,
    /// Bytes decoded in all, kept or not.
    decoded: usize,
}

impl StreamInfo {
    fn new(meta: ResponseMeta) -> StreamInfo {
        StreamInfo { shared: Arc::new(Shared { meta, ..Shared::default() }) }
    }

    /// The response's request id (`X-Request-Id`, else `Request-Id`), if it had one.
    pub fn request_id(&self) -> Option<&str> {
        self.shared.meta.request_id.as_deref()
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.shared.meta.headers
    }

    /// The conversation id, once the service has named it (header or payload).
    pub fn conversation_id(&self) -> Option<String> {
        self.shared.conversation_id.get().cloned()
    }

    /// All the text handed to the caller so far (its first [`MAX_KEPT_TEXT`] bytes).
    pub fn text(&self) -> String {
        self.text_withholding(0)
    }

    /// [`StreamInfo::text`] without its last `unserved` bytes (pieces a binding holds but has
    /// not served yet).
    pub(crate) fn text_withholding(&self, unserved: usize) -> String {
        let kept = self.lock_kept();
        let delivered = self.handed_out(&kept).saturating_sub(unserved);
        kept.text[..delivered.min(kept.text.len())].to_string()
    }

    /// Bytes handed out: decoded, less what is not handed out yet or was withheld.
    fn handed_out(&self, kept: &Kept) -> usize {
        let undelivered = self.shared.undelivered.load(Ordering::Acquire);
        kept.decoded.saturating_sub(undelivered + self.shared.withheld.load(Ordering::Acquire))
    }

    /// Counts the last `bytes` handed out as never served (a binding closed mid-batch).
    pub(crate) fn withhold(&self, bytes: usize) {
        let _kept = self.lock_kept();
        self.shared.withheld.fetch_add(bytes, Ordering::AcqRel);
    }

    /// All the text handed out so far, or a decode error when it is longer than
    /// [`MAX_KEPT_TEXT`] and so was not all kept.
    pub fn whole_text(&self) -> Result<String> {
        let kept = self.lock_kept();
        let delivered = self.handed_out(&kept);
        if delivered > kept.text.len() {
            return Err(Error::decode(format!(
                "the reply is longer than the {} MiB kept for reading it whole: iterate over its pieces instead",
                MAX_KEPT_TEXT >> 20
            )));
        }
        Ok(kept.text[..delivered].to_string())
    }

    fn lock_kept(&self) -> std::sync::MutexGuard<'_, Kept> {
        self.shared.kept.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records decoded text: it joins `text` (up to the cap), not yet delivered.
    fn decoded(&self, new: &str) {
        let mut kept = self.lock_kept();
        // Once something was left out, nothing after it is kept: the text stays one prefix.
        let complete = kept.decoded == kept.text.len();
        kept.decoded += new.len();
        let room = MAX_KEPT_TEXT.saturating_sub(kept.text.len());
        if complete && room > 0 {
            let mut take = room.min(new.len());
            while !new.is_char_boundary(take) {
                take -= 1;
            }
            kept.text.push_str(&new[..take]);
        }
        self.add_undelivered(new.len() as isize);
    }

    /// Records `bytes` of decoded text as handed out.
    fn delivered(&self, bytes: usize) {
        self.add_undelivered(-(bytes as isize));
    }

    /// Only the stream that owns this info changes `undelivered` (its methods take `&mut self`),
    /// so a load and a store do: no read-modify-write per piece handed out.
    fn add_undelivered(&self, change: isize) {
        let undelivered = self.shared.undelivered.load(Ordering::Relaxed);
        self.shared.undelivered.store(undelivered.wrapping_add_signed(change), Ordering::Release);
    }

    /// Drops the decoded text that was never handed out (the stream was aborted).
    fn discard_undelivered(&self) {
        let mut kept = self.lock_kept();
        let undelivered = self.shared.undelivered.swap(0, Ordering::AcqRel);
        kept.decoded -= undelivered;
        let end = kept.decoded.min(kept.text.len());
        kept.text.truncate(end);
    }

    fn set_conversation_id(&self, id: String) {
        let _ = self.shared.conversation_id.set(id);
    }

    /// Whether the stream is open, finished, failed or closed.
    pub fn state(&self) -> StreamState {
        match self.shared.state.load(Ordering::Acquire) {
            1 => StreamState::Finished,
            2 => StreamState::Failed,
            3 => StreamState::Closed,
            _ => StreamState::Open,
        }
    }

    /// Records how the stream ended; the first end wins (a finished stream closed later stays
    /// finished).
    pub(crate) fn end_as(&self, state: StreamState) {
        let code = match state {
            StreamState::Open => return,
            StreamState::Finished => 1,
            StreamState::Failed => 2,
            StreamState::Closed => 3,
        };
        let _ = self.shared.state.compare_exchange(0, code, Ordering::AcqRel, Ordering::Acquire);
    }
}

/// A streamed chat reply: a [`Stream`] of text pieces in arrival order.
///
/// Dropping it mid-reply aborts the request (the connection is closed). After the last piece it
/// ends (`None`); a failure ends it with one `Err`, after every piece that arrived before it.
pub struct ChatStream {
    body: Option<Body>,
    decoder: Decoder,
    /// What the decoder made of the reads so far: the pieces not yet handed out (those before
    /// `served` went out one by one; decoders append to them in place) and the last events.
    decoded: Output,
    served: usize,
    /// Bytes and pieces of the last batch handed out: the next one is likely as large, so its
    /// buffer is sized once instead of grown by copies.
    last_batch_size: (usize, usize),
    failure: Option<Error>,
    finished: bool,
    /// Body bytes read so far (after decompression), against [`MAX_REPLY_BYTES`].
    body_bytes: u64,
    /// Pieces handed out so far, for the log record of the stream's end.
    pieces_out: u64,
    /// Whether that record was written.
    end_logged: bool,
    log: Log,
    info: StreamInfo,
    read_timeout: Duration,
    silence: Pin<Box<Sleep>>,
    /// The call's concurrency slot (`max_concurrency`), released when the body is done.
    slot: Option<crate::traffic::Slot>,
    /// The call's report (a no-op when nothing observes the call), completed when the stream
    /// ends, fails, is closed or dropped.
    report: Recorder,
    /// Whether the first piece's time went into the report.
    first_reported: bool,
}

impl fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatStream")
            .field("conversation_id", &self.info.conversation_id())
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl ChatStream {
    pub(crate) fn new(response: crate::response::Received, read_timeout: Duration, log: Log) -> ChatStream {
        let headers = response.headers();
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
        let info = StreamInfo::new(ResponseMeta::of(headers));
        if let Some(id) = header("x-conversation-id").or_else(|| header("conversation-id")).filter(|id| !id.is_empty())
        {
            info.set_conversation_id(id.to_string());
        }
        let decoder = Decoder::for_content_type(header("content-type"));
        ChatStream {
            body: Some(response.bytes_stream()),
            decoder,
            decoded: Output::default(),
            last_batch_size: (0, 0),
            served: 0,
            failure: None,
            finished: false,
            body_bytes: 0,
            pieces_out: 0,
            end_logged: false,
            log,
            info,
            read_timeout,
            silence: Box::pin(tokio::time::sleep(read_timeout)),
            slot: None,
            report: Recorder::default(),
            first_reported: false,
        }
    }

    /// This stream, completing the call's `report` when it is over.
    pub(crate) fn reporting(mut self, report: Recorder) -> ChatStream {
        report.responded(self.info.conversation_id());
        self.first_reported = !report.is_on();
        self.report = report;
        self
    }

    /// This stream, holding the call's concurrency slot until its body is done.
    pub(crate) fn holding(mut self, slot: crate::traffic::Slot) -> ChatStream {
        self.slot = Some(slot);
        self
    }

    /// The conversation id, once the service has named it; `None` until then.
    pub fn conversation_id(&self) -> Option<String> {
        self.info.conversation_id()
    }

    /// The response's request id (`X-Request-Id`, else `Request-Id`), if it had one.
    pub fn request_id(&self) -> Option<&str> {
        self.info.request_id()
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        self.info.headers()
    }

    /// All the text handed out so far (its first [`MAX_KEPT_TEXT`] bytes).
    pub fn text(&self) -> String {
        self.info.text()
    }

    /// A handle for reading the conversation id and text from other threads.
    pub fn info(&self) -> StreamInfo {
        self.info.clone()
    }

    /// Consumes the rest of the stream and returns the whole reply (including pieces already
    /// handed out). Fails with a decode error for a reply over [`MAX_KEPT_TEXT`]: iterate over
    /// such a reply instead.
    pub async fn read(&mut self) -> Result<String> {
        while self.next_batch().await.transpose()?.is_some() {}
        self.info.whole_text()
    }

    /// Every piece decoded so far, waiting for at least one; `None` at the end. The fastest
    /// way to read a reply: one allocation per network read instead of one per piece, and the
    /// way bindings make one crossing of the language boundary carry many pieces.
    ///
    /// ```no_run
    /// # async fn demo(client: mixerlead::Client) -> Result<(), mixerlead::Error> {
    /// let mut stream = client.chat(mixerlead::ChatRequest::new("Hi")).await?;
    /// while let Some(batch) = stream.next_batch().await {
    ///     for piece in &batch? {
    ///         print!("{piece}");
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn next_batch(&mut self) -> Option<Result<Batch>> {
        std::future::poll_fn(|cx| self.poll_batch(cx)).await
    }

    /// Polls for a batch: all pieces ready now, or the pending failure, or the end.
    pub fn poll_batch(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Batch>>> {
        if self.unserved() == 0 && self.poll_fill(cx).is_pending() {
            return Poll::Pending;
        }
        if self.unserved() == 0 {
            return Poll::Ready(self.take_failure().map(Err));
        }
        // Take whatever else the network already has, without waiting for more.
        while self.unserved() < MAX_BATCH
            && self.decoded.pieces.text().len() < MAX_BATCH_BYTES
            && self.failure.is_none()
            && !self.finished
            && self.poll_body_once(cx).is_ready()
        {}
        let batch = match std::mem::replace(&mut self.served, 0) {
            0 => std::mem::take(&mut self.decoded.pieces),
            served => std::mem::take(&mut self.decoded.pieces).tail(served),
        };
        self.last_batch_size = (batch.text().len(), batch.len());
        self.pieces_out += batch.len() as u64;
        self.info.delivered(batch.text().len());
        Poll::Ready(Some(Ok(batch)))
    }

    /// Waits until pieces are decoded (or the stream has ended or failed) without handing any
    /// out: the next batch then comes at once.
    pub(crate) async fn fill(&mut self) {
        std::future::poll_fn(|cx| self.poll_fill(cx)).await
    }

    /// Aborts the request now, as dropping the stream would; later polls end the stream.
    pub fn abort(&mut self) {
        self.info.end_as(StreamState::Closed);
        if !std::mem::replace(&mut self.end_logged, true) {
            self.log.debug(format_args!("stream closed by the caller after {} pieces", self.pieces_out));
        }
        self.end_report(Outcome::Closed, None);
        self.body = None;
        self.slot = None;
        self.info.discard_undelivered();
        self.decoded.pieces.clear();
        self.served = 0;
        self.finished = true;
    }

    /// Pieces decoded and not yet handed out.
    fn unserved(&self) -> usize {
        self.decoded.pieces.len() - self.served
    }

    /// At the end of the pieces: the failure, if the stream failed (then it ends too).
    fn take_failure(&mut self) -> Option<Error> {
        let Some(failure) = self.failure.take() else {
            self.info.end_as(StreamState::Finished);
            self.log_end(None);
            self.end_report(Outcome::Succeeded, None);
            return None;
        };
        self.info.end_as(StreamState::Failed);
        self.finished = true;
        self.body = None;
        self.slot = None;
        self.log_end(Some(&failure));
        self.end_report(Outcome::Failed, Some(&failure));
        let partial = self.info.text();
        Some(failure.with_partial_text(partial))
    }

    /// Reads until a piece is ready, the body ends, or it fails.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        while self.unserved() == 0 && self.failure.is_none() && !self.finished {
            if self.poll_body_once(cx).is_pending() {
                if self.silence.as_mut().poll(cx).is_ready() {
                    self.fail(Error::new(
                        ErrorKind::Timeout,
                        format!("read timeout: the stream was silent for {:?}", self.read_timeout),
                    ));
                    break;
                }
                return Poll::Pending;
            }
        }
        Poll::Ready(())
    }

    /// Polls the body once and decodes what it gives. Ready when something changed.
    fn poll_body_once(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(body) = self.body.as_mut() else {
            self.finished = true;
            return Poll::Ready(());
        };
        let before = self.decoded.pieces.text().len();
        let result = match body.as_mut().poll_next(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Some(Ok(bytes))) => {
                self.silence.as_mut().reset(Instant::now() + self.read_timeout);
                self.body_bytes += bytes.len() as u64;
                if self.body_bytes > MAX_REPLY_BYTES {
                    self.fail(Error::decode(format!("the reply's body is larger than {} MiB", MAX_REPLY_BYTES >> 20)));
                    return Poll::Ready(());
                }
                if before == 0 {
                    let (bytes_hint, pieces_hint) = self.last_batch_size;
                    self.decoded.pieces.reserve(bytes_hint, pieces_hint);
                }
                self.decoder.feed(&bytes, &mut self.decoded)
            }
            Poll::Ready(Some(Err(e))) => {
                self.fail(interrupted(e));
                return Poll::Ready(());
            }
            Poll::Ready(None) => {
                self.body = None;
                self.slot = None;
                self.finished = true;
                self.decoder.finish(&mut self.decoded)
            }
        };
        if let Err(e) = result {
            self.fail(e);
        }
        self.take_events(before);
        Poll::Ready(())
    }

    /// Acts on the events of a read and records the text it decoded after `before` bytes.
    fn take_events(&mut self, before: usize) {
        for (_, event) in self.decoded.events.drain(..) {
            match event {
                Event::ConversationId(id) => self.info.set_conversation_id(id),
                Event::Done => {
                    self.finished = true;
                    self.body = None;
                    break;
                }
                Event::Error(message) => {
                    self.failure =
                        Some(Error::decode(format!("the service reported an error: {}", printable(&message))));
                    self.body = None;
                    break;
                }
            }
        }
        self.decoded.events.clear();
        if self.body.is_none() {
            self.slot = None; // the request is over: its concurrency slot is free
        }
        let new = &self.decoded.pieces.text()[before..];
        if !new.is_empty() {
            self.info.decoded(new);
            if !self.first_reported {
                self.first_reported = true;
                self.report.first_piece();
            }
        }
    }

    fn fail(&mut self, error: Error) {
        self.failure.get_or_insert(error);
        self.body = None;
        self.slot = None;
    }

    /// Completes the call's report (once; a no-op when nothing observes the call).
    fn end_report(&mut self, outcome: Outcome, failure: Option<&Error>) {
        if self.report.is_on() {
            self.report.conversation(self.info.conversation_id());
            self.report.finish(outcome, failure, self.pieces_out);
        }
    }

    /// Writes the log record of the stream's end (once): its size, or its failure.
    fn log_end(&mut self, failure: Option<&Error>) {
        if std::mem::replace(&mut self.end_logged, true) {
            return;
        }
        let (pieces, bytes) = (self.pieces_out, self.body_bytes);
        match failure {
            None => self.log.debug(format_args!("stream ended: {pieces} pieces, {bytes} body bytes")),
            Some(e) => self.log.warn(format_args!("stream failed after {pieces} pieces, {bytes} body bytes: {e}")),
        }
    }
}

impl Drop for ChatStream {
    fn drop(&mut self) {
        // A stream dropped before its end is closed: its report (if any) says so now.
        self.end_report(Outcome::Closed, None);
    }
}

fn interrupted(e: reqwest::Error) -> Error {
    let described = crate::transport::describe(&e);
    if e.is_timeout() {
        return Error::new(ErrorKind::Timeout, format!("read timeout: {described}")).caused_by(e);
    }
    Error::new(ErrorKind::StreamInterrupted, format!("the stream was interrupted: {described}")).caused_by(e)
}

impl Stream for ChatStream {
    type Item = Result<String>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<String>>> {
        let this = self.get_mut();
        if this.unserved() == 0 && this.poll_fill(cx).is_pending() {
            return Poll::Pending;
        }
        let Some(piece) = this.decoded.pieces.get(this.served) else {
            return Poll::Ready(this.take_failure().map(Err));
        };
        let piece = piece.to_string();
        this.served += 1;
        if this.served == this.decoded.pieces.len() {
            this.decoded.pieces.clear();
            this.served = 0;
        }
        this.pieces_out += 1;
        this.info.delivered(piece.len());
        Poll::Ready(Some(Ok(piece)))
    }
}

/// A whole chat reply, as [`crate::Client::send`] returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatReply {
    /// The reply's text.
    pub text: String,
    /// The conversation id, when the service named one.
    pub conversation_id: Option<String>,
    /// The response's request id, if it had one.
    pub request_id: Option<String>,
    /// The response headers.
    pub headers: HeaderMap,
}

impl ChatStream {
    /// Reads the whole reply into a [`ChatReply`].
    pub async fn into_reply(mut self) -> Result<ChatReply> {
        let text = self.read().await?;
        let meta = &self.info.shared.meta;
        Ok(ChatReply {
            text,
            conversation_id: self.conversation_id(),
            request_id: meta.request_id.clone(),
            headers: meta.headers.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_text_stops_at_the_cap_on_a_character_boundary() {
        let info = StreamInfo::default();
        let start = "a".repeat(MAX_KEPT_TEXT - 1);
        info.decoded(&start);
        info.delivered(start.len());
        assert_eq!(info.whole_text().unwrap().len(), MAX_KEPT_TEXT - 1);
        info.decoded("é and more");
        assert_eq!(info.text().len(), MAX_KEPT_TEXT - 1, "undelivered text is not shown");
        info.delivered("é and more".len());
        assert_eq!(info.text().len(), MAX_KEPT_TEXT - 1, "the two-byte character does not fit");
        assert_eq!(info.whole_text().unwrap_err().kind(), ErrorKind::Decode);
        info.decoded("unread");
        info.discard_undelivered();
        assert_eq!(info.whole_text().unwrap_err().kind(), ErrorKind::Decode);
        assert_eq!(info.text().len(), MAX_KEPT_TEXT - 1);
    }

    #[test]
    fn discarding_undelivered_text_under_the_cap() {
        let info = StreamInfo::default();
        info.decoded("one ");
        info.delivered(4);
        info.decoded("two");
        assert_eq!(info.text(), "one ");
        info.discard_undelivered();
        info.decoded("three");
        info.delivered(5);
        assert_eq!(info.whole_text().unwrap(), "one three");
    }
}
