//! What the bindings build on: pulls of a shared stream, and the text counted by how many
//! pieces of a batch the binding served.

mod common;

use common::*;
use mixerlead::bridge::{Pull, SharedStream};
use mixerlead::ChatRequest;

async fn shared(script: &str) -> (mixerlead_emulator::Emulator, SharedStream) {
    let emu = emulator().await;
    let stream = client(&emu.scenario_url(script)).chat(ChatRequest::new("x")).await.unwrap();
    (emu, SharedStream::new(stream))
}

async fn ready(stream: &SharedStream) -> mixerlead::Batch {
    match stream.pull().await {
        Pull::Ready(batch) => batch,
        other => panic!("expected a batch, got {other:?}"),
    }
}

#[tokio::test]
async fn text_counts_the_pieces_served_and_close_keeps_it_so() {
    let (_emu, stream) = shared("pieces=300").await;
    let batch = ready(&stream).await;
    assert!(batch.len() >= 3, "one read holds many pieces: {}", batch.len());
    assert_eq!(stream.text(0), "");
    assert_eq!(stream.text(1), batch.get(0).unwrap());
    let two = [batch.get(0).unwrap(), batch.get(1).unwrap()].concat();
    assert_eq!(stream.text(2), two);
    assert_eq!(stream.text(batch.len()), batch.text());
    stream.close(2);
    assert_eq!(stream.text(0), two, "after close the served count is fixed");
    assert_eq!(stream.info().text(), two);
    assert!(matches!(stream.pull().await, Pull::End));
}

#[tokio::test]
async fn pulls_to_the_end_join_every_batch() {
    let (_emu, stream) = shared("pieces=2000;delay_ms=0").await;
    let mut all = String::new();
    loop {
        match stream.try_pull() {
            Pull::Ready(batch) => all.push_str(batch.text()),
            Pull::Pending => match stream.pull().await {
                Pull::Ready(batch) => all.push_str(batch.text()),
                Pull::End => break,
                other => panic!("{other:?}"),
            },
            Pull::End => break,
            Pull::Failed(e) => panic!("{e}"),
        }
        assert_eq!(stream.text(usize::MAX), all);
    }
    assert_eq!(stream.info().whole_text().unwrap(), all);
    stream.close(0);
    assert_eq!(stream.text(0), all, "closing after the end withholds nothing");
}

#[tokio::test]
async fn a_failure_comes_after_every_piece_before_it() {
    let (_emu, stream) = shared("disconnect_after=5;delay_ms=5").await;
    let mut pieces = 0;
    let error = loop {
        match stream.pull().await {
            Pull::Ready(batch) => pieces += batch.len(),
            Pull::Failed(error) => break error,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(pieces, 5);
    assert_eq!(error.kind(), mixerlead::ErrorKind::StreamInterrupted);
    assert_eq!(error.partial_text().map(str::to_string), Some(stream.text(usize::MAX)));
}
