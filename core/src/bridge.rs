//! What every binding needs from a stream: batched pulls that can be cancelled from any thread,
//! and a cancellation signal for calls still waiting for their response.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use tokio::sync::{Mutex, Notify, OwnedMutexGuard};
use tokio::task::AbortHandle;

use crate::batch::Batch;
use crate::error::Result;
use crate::stream::{ChatStream, StreamInfo};

/// A one-way cancellation flag: set from any thread, awaited by the work it stops.
#[derive(Clone, Default)]
pub struct Cancellation {
    inner: Arc<CancellationInner>,
}

#[derive(Default)]
struct CancellationInner {
    flag: AtomicBool,
    notify: Notify,
}

impl Cancellation {
    /// A new, unset flag.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the flag and wakes every waiter.
    pub fn cancel(&self) {
        self.inner.flag.store(true, Ordering::Release);
        self.inner.notify.notify_waiters();
    }

    /// Whether [`Cancellation::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.inner.flag.load(Ordering::Acquire)
    }

    /// Resolves once cancelled (at once if already).
    pub async fn cancelled(&self) {
        loop {
            let notified = self.inner.notify.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }

    /// Runs `work` unless cancelled first: `None` when cancelled (and `work` is dropped, which
    /// aborts its request).
    pub async fn run<T>(&self, work: impl std::future::Future<Output = T>) -> Option<T> {
        tokio::select! {
            biased;
            _ = self.cancelled() => None,
            out = work => Some(out),
        }
    }
}

/// A [`ChatStream`] shared between a binding's objects and the runtime: pull batches from any
/// thread, cancel from any other. Cheap to clone; dropping the last clone aborts the request.
///
/// After each batch it reads ahead on the runtime while the binding serves that batch, so the
/// next pull finds its pieces decoded. Pieces read ahead are not handed out: the stream's
/// `text` counts only the batches pulled.
#[derive(Clone)]
pub struct SharedStream {
    stream: Arc<Mutex<ChatStream>>,
    info: StreamInfo,
    cancellation: Cancellation,
    read_ahead: Arc<ReadAhead>,
    /// Where each piece of the last batch handed out ends, so that a binding can say how many
    /// of its pieces it served (in pieces, whatever its own string units) and the text is
    /// counted here.
    last_ends: Arc<std::sync::Mutex<Vec<u32>>>,
}

/// What a pull of a [`SharedStream`] gives.
#[derive(Debug)]
pub enum Pull {
    /// The next pieces (never empty).
    Ready(Batch),
    /// Nothing decoded yet: wait with [`SharedStream::pull`] (only [`SharedStream::try_pull`]
    /// says this).
    Pending,
    /// The reply is complete, or the stream was closed.
    End,
    /// The stream failed; the pieces before the failure were all handed out.
    Failed(crate::Error),
}

/// The read-ahead task of a stream, aborted when the last [`SharedStream`] clone goes (the task
/// holds the stream, which would otherwise keep the request open).
#[derive(Default)]
struct ReadAhead {
    task: std::sync::Mutex<Option<AbortHandle>>,
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        if let Some(task) = self.task.get_mut().unwrap_or_else(|p| p.into_inner()).take() {
            task.abort();
        }
    }
}

impl SharedStream {
    /// Shares `stream`.
    pub fn new(stream: ChatStream) -> Self {
        SharedStream {
            info: stream.info(),
            stream: Arc::new(Mutex::new(stream)),
            cancellation: Cancellation::new(),
            read_ahead: Arc::default(),
            last_ends: Arc::default(),
        }
    }

    /// The next batch, waiting for it: [`Pull::Ready`], [`Pull::End`] or [`Pull::Failed`]. The
    /// binding has served (or skipped) every piece of the batch before.
    pub async fn pull(&self) -> Pull {
        let pulled = self.next_batch().await;
        self.settle(pulled)
    }

    /// The next batch if it can be had without waiting, else [`Pull::Pending`]: lets a binding
    /// skip the trip through the runtime when pieces are already decoded.
    pub fn try_pull(&self) -> Pull {
        match self.try_next_batch() {
            None => Pull::Pending,
            Some(pulled) => self.settle(pulled),
        }
    }

    fn settle(&self, pulled: Result<Option<Batch>>) -> Pull {
        let mut last = self.last_ends.lock().unwrap_or_else(|p| p.into_inner());
        last.clear();
        match pulled {
            Ok(Some(batch)) => {
                last.extend_from_slice(batch.ends());
                Pull::Ready(batch)
            }
            Ok(None) => Pull::End,
            Err(error) => Pull::Failed(error),
        }
    }

    /// Bytes of the last batch after its first `served` pieces.
    fn unserved_bytes(&self, served: usize) -> usize {
        let last = self.last_ends.lock().unwrap_or_else(|p| p.into_inner());
        let total = last.last().copied().unwrap_or(0);
        let upto = match served {
            0 => 0,
            n => last.get(n - 1).copied().unwrap_or(total),
        };
        (total - upto) as usize
    }

    /// The text served to the caller: everything before the last batch, and that batch's first
    /// `served` pieces.
    pub fn text(&self, served: usize) -> String {
        self.info.text_withholding(self.unserved_bytes(served))
    }

    /// Closes the stream after the caller was served `served` pieces of the last batch: the
    /// request is aborted, and the text counts only what was served.
    pub fn close(&self, served: usize) {
        let unserved = self.unserved_bytes(served);
        self.last_ends.lock().unwrap_or_else(|p| p.into_inner()).clear();
        self.info.withhold(unserved);
        self.cancel();
    }

    /// The next batch of pieces; `None` at the end, or once [`SharedStream::cancel`] was called.
    async fn next_batch(&self) -> Result<Option<Batch>> {
        let pull = async {
            let mut stream = self.stream.clone().lock_owned().await;
            let batch = stream.next_batch().await;
            if matches!(batch, Some(Ok(_))) {
                self.read_ahead(stream);
            }
            batch
        };
        self.cancellation.run(pull).await.flatten().transpose()
    }

    /// The next batch if it can be had without waiting: `None` when the read-ahead still holds
    /// the stream or nothing has arrived yet (then wait with `next_batch`). Lets a
    /// binding skip the trip through the runtime when pieces are already decoded.
    fn try_next_batch(&self) -> Option<Result<Option<Batch>>> {
        if self.cancellation.is_cancelled() {
            return Some(Ok(None));
        }
        let mut stream = self.stream.clone().try_lock_owned().ok()?;
        let _context = match crate::runtime::try_runtime() {
            Ok(runtime) => runtime.enter(),
            Err(error) => return Some(Err(error)),
        };
        let mut cx = Context::from_waker(Waker::noop());
        match stream.poll_batch(&mut cx) {
            Poll::Pending => None,
            Poll::Ready(Some(Ok(batch))) => {
                self.read_ahead(stream);
                Some(Ok(Some(batch)))
            }
            Poll::Ready(Some(Err(error))) => Some(Err(error)),
            Poll::Ready(None) => Some(Ok(None)),
        }
    }

    /// Waits on the runtime, holding the stream, until its next pieces are decoded (or it ends).
    /// Without a runtime (a forked child that cannot start one) there is no read-ahead.
    fn read_ahead(&self, mut stream: OwnedMutexGuard<ChatStream>) {
        let Ok(runtime) = crate::runtime::try_runtime() else {
            return;
        };
        let cancellation = self.cancellation.clone();
        let task = runtime.spawn(async move {
            cancellation.run(stream.fill()).await;
        });
        *self.read_ahead.task.lock().unwrap_or_else(|p| p.into_inner()) = Some(task.abort_handle());
    }

    /// Aborts the request (the connection closes) and ends the stream, waking a pending pull.
    pub fn cancel(&self) {
        self.info.end_as(crate::StreamState::Closed);
        self.cancellation.cancel();
        match self.stream.clone().try_lock_owned() {
            Ok(mut stream) => stream.abort(),
            Err(_) => {
                // The holder (a pull or the read-ahead) ends at the cancellation; abort after it.
                if let Ok(runtime) = crate::runtime::try_runtime() {
                    let stream = self.stream.clone();
                    runtime.spawn(async move { stream.lock().await.abort() });
                }
            }
        }
    }

    /// The conversation id and text so far, readable while another thread pulls.
    pub fn info(&self) -> &StreamInfo {
        &self.info
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancellation_wakes_waiters_and_stops_work() {
        let c = Cancellation::new();
        let waiter = c.clone();
        let out = crate::runtime::block_on(async move {
            let work = waiter.run(std::future::pending::<()>());
            let cancel = async {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                c.cancel();
            };
            tokio::join!(work, cancel).0
        });
        assert_eq!(out, None);
    }
}
