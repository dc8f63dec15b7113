//! `NativeStream`: a streamed reply, crossing into JS a batch of pieces at a time.

use mixerlead::binding::{Pull, SharedStream};
use mixerlead::{Batch, ChatStream, Error};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::batch_text::BatchText;
use crate::errors::{guard, to_napi, InvalidAs};
use crate::meta::header_pairs;
use crate::wait::promise;

/// A batch of pieces as one string and the UTF-16 length of each piece: two values cross into
/// JS per batch instead of one string per piece. The lengths take one byte each when every
/// piece is shorter than 256 units (nearly always: pieces are tokens).
#[napi(object, object_from_js = false)]
pub struct NativeBatch {
    pub text: BatchText,
    pub lengths: Either<Uint8Array, Uint32Array>,
}

impl NativeBatch {
    fn from_batch(batch: Batch) -> NativeBatch {
        let lengths: Vec<u32> = batch.iter().map(utf16_len).collect();
        let lengths = match lengths.iter().map(|&l| u8::try_from(l)).collect::<std::result::Result<Vec<u8>, _>>() {
            Ok(short) => Either::A(Uint8Array::new(short)),
            Err(_) => Either::B(Uint32Array::new(lengths)),
        };
        NativeBatch { text: BatchText(batch.into_text()), lengths }
    }
}

/// The length of `text` in UTF-16 code units (a JS string's length), without encoding it.
fn utf16_len(text: &str) -> u32 {
    if text.is_ascii() {
        return text.len() as u32;
    }
    text.chars().map(char::len_utf16).sum::<usize>() as u32
}

/// A streamed reply: the JS layer pulls batches and serves their pieces one by one, and says
/// how many pieces of the last batch it served (`served`) when it asks for the text or closes:
/// the core counts the text from that, in pieces, whatever JS's string units.
#[napi]
pub struct NativeStream {
    shared: SharedStream,
}

impl NativeStream {
    pub(crate) fn new(stream: ChatStream) -> NativeStream {
        NativeStream { shared: SharedStream::new(stream) }
    }
}

/// A `served` count from JS as the core takes it.
fn count(served: u32) -> usize {
    usize::try_from(served).unwrap_or(usize::MAX)
}

#[napi]
impl NativeStream {
    /// A promise of the next batch: `null` at the end (or once closed); rejects with the
    /// stream's failure. Every piece of the batch before was served (or skipped) by then.
    #[napi(catch_unwind)]
    pub fn next_batch<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        guard(|| {
            let shared = self.shared.clone();
            promise(env, InvalidAs::Type, async move {
                match shared.pull().await {
                    Pull::Ready(batch) => Ok(Some(NativeBatch::from_batch(batch))),
                    Pull::End => Ok(None),
                    Pull::Failed(error) => Err(error),
                    // `pull` waits: it never says Pending.
                    Pull::Pending => Err(Error::internal()),
                }
            })
        })
    }

    /// The next batch if it is already decoded, without a trip through the runtime: `null` when
    /// it is not (ask `nextBatch`), a batch of no pieces at the end; throws the stream's failure.
    #[napi(catch_unwind)]
    pub fn try_next_batch(&self) -> Result<Option<NativeBatch>> {
        guard(|| match self.shared.try_pull() {
            Pull::Pending => Ok(None),
            Pull::Ready(batch) => Ok(Some(NativeBatch::from_batch(batch))),
            Pull::End => Ok(Some(NativeBatch::from_batch(Batch::default()))),
            Pull::Failed(error) => Err(to_napi(error, InvalidAs::Type)),
        })
    }

    /// Aborts the request after `served` pieces of the last batch went to the caller; the text
    /// then ends with them. A pending `nextBatch` resolves with `null`.
    #[napi(catch_unwind)]
    pub fn close(&self, served: u32) -> Result<()> {
        guard(|| {
            self.shared.close(count(served));
            Ok(())
        })
    }

    /// The text served so far: every batch before the last, and the first `served` pieces of
    /// the last one.
    #[napi(catch_unwind)]
    pub fn text(&self, served: u32) -> Result<String> {
        guard(|| Ok(self.shared.text(count(served))))
    }

    /// The whole reply once every piece was served, or a decode error when it is longer than
    /// the core keeps (`MAX_KEPT_TEXT`) rather than a cut reply.
    #[napi(catch_unwind)]
    pub fn whole_text(&self) -> Result<String> {
        guard(|| self.shared.info().whole_text().map_err(|e| to_napi(e, InvalidAs::Type)))
    }

    #[napi(getter, catch_unwind)]
    pub fn conversation_id(&self) -> Result<Option<String>> {
        guard(|| Ok(self.shared.info().conversation_id()))
    }

    /// The response's `X-Request-Id` (else `Request-Id`), if it had one.
    #[napi(getter, catch_unwind)]
    pub fn request_id(&self) -> Result<Option<String>> {
        guard(|| Ok(self.shared.info().request_id().map(str::to_string)))
    }

    /// `open`, `finished` (read to its end), `failed` or `closed`.
    #[napi(getter, catch_unwind)]
    pub fn state(&self) -> Result<&'static str> {
        guard(|| Ok(self.shared.info().state().as_str()))
    }

    /// The response headers, `[name0, value0, name1, value1, …]`.
    #[napi(catch_unwind)]
    pub fn header_pairs(&self) -> Result<Vec<String>> {
        guard(|| Ok(header_pairs(self.shared.info().headers())))
    }
}
