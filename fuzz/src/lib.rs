//! What the fuzz targets check. Each decoder target feeds arbitrary bytes to one production
//! decoder, cut into reads at points the input chooses, and checks invariants, not just that
//! nothing panics:
//!
//! - no piece is empty;
//! - the body cut into reads decodes exactly as the whole body does (pieces, events, failure);
//!   for raw text, whose pieces may differ, the joined text is the same and equals
//!   `String::from_utf8_lossy` of the whole body;
//! - nothing comes after the end of the stream (`[DONE]`, an in-band error), and a decoder
//!   failure ends it too;
//! - the decoder agrees with the reference decoder of `core/tests/differential.rs` (written from
//!   the WHATWG rules and the payload table of core/src/decode/payload.rs): same pieces, events and failure;
//! - with a small event limit (half the inputs), an SSE event or NDJSON line over it fails with
//!   a decode error (checked through the reference, which applies the limit rule plainly), and
//!   no SSE piece is longer than the limit.

#[path = "../../core/tests/differential.rs"]
#[allow(dead_code, clippy::all)]
mod differential;

pub use differential::reference::{self, Format};
use mixerlead::decode_testing::{decode, Decoded, Item, MAX_EVENT_BYTES};
use mixerlead::ErrorKind;

/// A `Content-Type` naming `format`.
pub fn content_type(format: Format) -> &'static str {
    match format {
        Format::Sse => "text/event-stream",
        Format::Ndjson => "application/x-ndjson",
        Format::Json => "application/json",
        Format::Text => "text/plain; charset=utf-8",
    }
}

/// The input's layout: byte 0 picks the limit (even: the real 16 MiB; odd: `byte >> 1`, 0 to
/// 127 bytes); byte 1 the number of cuts (0 to 15); then two bytes per cut (an offset into the
/// body, little-endian, modulo its length + 1: equal cuts make empty reads); the rest is the body.
pub struct Input<'a> {
    pub limit: usize,
    pub cuts: Vec<usize>,
    pub body: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn parse(data: &'a [u8]) -> Option<Input<'a>> {
        let (&limit, rest) = data.split_first()?;
        let (&count, rest) = rest.split_first()?;
        let count = usize::from(count % 16);
        if rest.len() < 2 * count {
            return None;
        }
        let (cuts, body) = rest.split_at(2 * count);
        let mut cuts: Vec<usize> = cuts
            .chunks_exact(2)
            .map(|two| usize::from(u16::from_le_bytes([two[0], two[1]])) % (body.len() + 1))
            .collect();
        cuts.sort_unstable();
        let limit = if limit % 2 == 0 { MAX_EVENT_BYTES } else { usize::from(limit >> 1) };
        Some(Input { limit, cuts, body })
    }

    /// The body as the reads the cuts make.
    pub fn reads(&self) -> Vec<&'a [u8]> {
        let mut reads = Vec::with_capacity(self.cuts.len() + 1);
        let mut start = 0;
        for &cut in &self.cuts {
            reads.push(&self.body[start..cut]);
            start = cut;
        }
        reads.push(&self.body[start..]);
        reads
    }
}

/// Feeds `data` (see [`Input`]) to the decoder for `format` and checks every invariant.
pub fn check_decoder(format: Format, data: &[u8]) {
    let Some(input) = Input::parse(data) else {
        return;
    };
    let content_type = Some(content_type(format));
    let whole = decode(content_type, input.limit, [input.body]);
    let split = decode(content_type, input.limit, input.reads());
    let shown = String::from_utf8_lossy(input.body);
    for decoded in [&whole, &split] {
        assert!(decoded.pieces().iter().all(|piece| !piece.is_empty()), "an empty piece: {decoded:?}");
        check_ending(decoded);
    }
    if format == Format::Text {
        let lossy = String::from_utf8_lossy(input.body);
        assert_eq!(whole.text(), lossy, "raw text, whole");
        assert_eq!(split.text(), lossy, "raw text cut at {:?}", input.cuts);
        assert!(whole.failure.is_none() && split.failure.is_none() && whole.conversation_id().is_none());
        return;
    }
    assert_eq!(split, whole, "cut at {:?} of {shown:?}, limit {}", input.cuts, input.limit);
    if let Some(failure) = &whole.failure {
        assert_eq!(failure.kind, ErrorKind::Decode, "{failure:?}");
    }
    if format == Format::Sse {
        for piece in whole.pieces() {
            assert!(piece.len() <= input.limit, "an SSE piece of {} bytes, limit {}", piece.len(), input.limit);
        }
    }
    if let Some(expected) = reference::decode(content_type, input.limit, input.body) {
        assert_eq!(whole.items, expected.items, "against the reference: {shown:?}, limit {}", input.limit);
        assert_eq!(
            whole.failure.as_ref().map(|f| f.kind),
            expected.failure.as_ref().map(|f| f.kind),
            "failure against the reference: {shown:?}, limit {}: {:?} / {:?}",
            input.limit,
            whole.failure,
            expected.failure,
        );
    }
}

/// An end of the stream (`Done`, an in-band `Error`) is the last thing decoded, and a decoder
/// failure comes after no end.
fn check_ending(decoded: &Decoded) {
    let ends = decoded.items.iter().filter(|item| matches!(item, Item::Done | Item::Error(_))).count();
    assert!(ends <= 1, "{ends} ends: {decoded:?}");
    if ends == 1 {
        assert!(matches!(decoded.items.last(), Some(Item::Done | Item::Error(_))), "items after the end: {decoded:?}");
        assert!(decoded.failure.is_none(), "a failure after the end: {decoded:?}");
    }
}
