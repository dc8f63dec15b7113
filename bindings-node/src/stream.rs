//! `NativeStream`: a streamed reply, crossing into JS a batch of pieces at a time.

use mixerlead::bridge::SharedStream;
use mixerlead::{Batch, ChatStream};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::batch_text::BatchText;
use crate::errors::{guard, to_napi, InvalidAs};
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

/// A streamed reply: the JS layer pulls batches and serves pieces from them.
#[napi]
pub struct NativeStream {
    shared: SharedStream,
}

impl NativeStream {
    pub(crate) fn new(stream: ChatStream) -> NativeStream {
        NativeStream { shared: SharedStream::new(stream) }
    }
}

#[napi]
impl NativeStream {
    /// A promise of the next batch, `null` at the end (or once cancelled).
    #[napi(catch_unwind)]
    pub fn next_batch<'env>(&self, env: &'env Env) -> Result<Object<'env>> {
        guard(|| {
            let shared = self.shared.clone();
            promise(env, InvalidAs::Type, async move { Ok(shared.next_batch().await?.map(NativeBatch::from_batch)) })
        })
    }

    /// The next batch if it is already decoded, without a trip through the runtime: `null` when
    /// it is not (ask `nextBatch`), a batch of no pieces at the end.
    #[napi(catch_unwind)]
    pub fn try_next_batch(&self) -> Result<Option<NativeBatch>> {
        guard(|| match self.shared.try_next_batch() {
            None => Ok(None),
            Some(Ok(batch)) => Ok(Some(NativeBatch::from_batch(batch.unwrap_or_default()))),
            Some(Err(error)) => Err(to_napi(error, InvalidAs::Type)),
        })
    }

    /// Aborts the request; a pending `nextBatch` resolves with `null`.
    #[napi(catch_unwind)]
    pub fn cancel(&self) -> Result<()> {
        guard(|| {
            self.shared.cancel();
            Ok(())
        })
    }

    #[napi(getter, catch_unwind)]
    pub fn conversation_id(&self) -> Result<Option<String>> {
        guard(|| Ok(self.shared.info().conversation_id()))
    }

    /// The text of every batch handed to JS so far.
    #[napi(getter, catch_unwind)]
    pub fn text(&self) -> Result<String> {
        guard(|| Ok(self.shared.info().text()))
    }
}
