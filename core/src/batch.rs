//! `Batch`: pieces of a reply stored as one string and the end of each piece, so decoding a
//! network read allocates per read, not per piece.

use std::fmt;

/// Consecutive pieces of a streamed reply, in order, as [`crate::ChatStream::next_batch`]
/// returns them. Iterating lends each piece as a `&str` out of one shared buffer.
#[derive(Default, Clone, PartialEq, Eq)]
pub struct Batch {
    text: String,
    /// The byte offset in `text` where each piece ends (a batch stays far below 4 GiB: the
    /// stream stops adding reads to it past `MAX_BATCH_BYTES`).
    ends: Vec<u32>,
}

impl Batch {
    /// How many pieces the batch holds.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the batch holds no piece.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Every piece joined, in order.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The joined text, without copying it.
    pub fn into_text(self) -> String {
        self.text
    }

    /// The piece at `index`.
    pub fn get(&self, index: usize) -> Option<&str> {
        let end = *self.ends.get(index)? as usize;
        let start = if index == 0 { 0 } else { self.ends[index - 1] as usize };
        Some(&self.text[start..end])
    }

    /// The pieces, in order.
    pub fn iter(&self) -> Pieces<'_> {
        Pieces { text: &self.text, ends: &self.ends, start: 0 }
    }

    /// Makes room for `bytes` more of text in `pieces` more pieces.
    pub(crate) fn reserve(&mut self, bytes: usize, pieces: usize) {
        self.text.reserve(bytes);
        self.ends.reserve(pieces);
    }

    /// Appends a piece; an empty one is not a piece and is skipped.
    pub(crate) fn push(&mut self, piece: &str) {
        if !piece.is_empty() {
            self.text.push_str(piece);
            self.ends.push(self.end());
        }
    }

    /// Appends as one piece whatever `write` appends to the buffer (nothing, no piece).
    pub(crate) fn push_with(&mut self, write: impl FnOnce(&mut String)) {
        let before = self.text.len();
        write(&mut self.text);
        if self.text.len() > before {
            self.ends.push(self.end());
        }
    }

    /// The pieces from `index` on, as a new batch.
    pub(crate) fn tail(&self, index: usize) -> Batch {
        let mut tail = Batch::default();
        for piece in self.iter().skip(index) {
            tail.push(piece);
        }
        tail
    }

    /// Where each piece ends in `text`.
    pub(crate) fn ends(&self) -> &[u32] {
        &self.ends
    }

    /// The bytes of the pieces from `index` on.
    pub(crate) fn bytes_from(&self, index: usize) -> usize {
        match index {
            0 => self.text.len(),
            i if i >= self.ends.len() => 0,
            i => self.text.len() - self.ends[i - 1] as usize,
        }
    }

    /// The length of `text` as a piece end.
    fn end(&self) -> u32 {
        u32::try_from(self.text.len()).expect("a batch stays under 4 GiB (see MAX_BATCH_BYTES)")
    }

    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }
}

impl fmt::Debug for Batch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a Batch {
    type Item = &'a str;
    type IntoIter = Pieces<'a>;

    fn into_iter(self) -> Pieces<'a> {
        self.iter()
    }
}

impl<S: AsRef<str>> FromIterator<S> for Batch {
    /// A batch of the given pieces (empty strings are skipped).
    fn from_iter<I: IntoIterator<Item = S>>(pieces: I) -> Batch {
        let mut batch = Batch::default();
        for piece in pieces {
            batch.push(piece.as_ref());
        }
        batch
    }
}

/// A batch handed out one piece at a time: what a binding keeps between two calls that each
/// take a piece (C `ml_stream_next`, a Python iterator).
#[derive(Debug, Default)]
pub struct BatchReader {
    batch: Batch,
    next: usize,
}

impl BatchReader {
    /// Reads `batch` from its first piece.
    pub fn new(batch: Batch) -> Self {
        BatchReader { batch, next: 0 }
    }

    /// The next piece; `None` once every piece was taken.
    pub fn next_piece(&mut self) -> Option<&str> {
        let piece = self.batch.get(self.next)?;
        self.next += 1;
        Some(piece)
    }

    /// How many pieces are left.
    pub fn remaining(&self) -> usize {
        self.batch.len() - self.next
    }

    /// The text of the pieces left.
    pub fn rest(&self) -> &str {
        let text = self.batch.text();
        &text[text.len() - self.batch.bytes_from(self.next)..]
    }

    /// Takes every piece left at once (they count as handed out).
    pub fn skip_rest(&mut self) {
        self.next = self.batch.len();
    }

    /// Takes every piece left as one string: the batch's own buffer, not a copy, when none of
    /// it was taken yet (a chunk costs one string, not one per piece).
    pub fn take_rest_owned(&mut self) -> String {
        let rest = match self.next {
            0 => std::mem::take(&mut self.batch).into_text(),
            _ => self.rest().to_string(),
        };
        self.skip_rest();
        rest
    }
}

/// The pieces of a [`Batch`], lent out of its buffer.
#[derive(Clone, Debug)]
pub struct Pieces<'a> {
    text: &'a str,
    /// The ends of the pieces not yet taken.
    ends: &'a [u32],
    /// Where the first piece not yet taken starts.
    start: usize,
}

impl<'a> Iterator for Pieces<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let (&end, rest) = self.ends.split_first()?;
        let end = end as usize;
        let piece = &self.text[self.start..end];
        (self.start, self.ends) = (end, rest);
        Some(piece)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.ends.len(), Some(self.ends.len()))
    }
}

impl DoubleEndedIterator for Pieces<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let (&end, rest) = self.ends.split_last()?;
        let start = rest.last().map_or(self.start, |&e| e as usize);
        self.ends = rest;
        Some(&self.text[start..end as usize])
    }
}

impl ExactSizeIterator for Pieces<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_hands_out_each_piece_once() {
        let mut reader = BatchReader::new(["a", "bé", "c"].into_iter().collect());
        assert_eq!((reader.remaining(), reader.rest()), (3, "abéc"));
        assert_eq!(reader.next_piece(), Some("a"));
        assert_eq!((reader.remaining(), reader.rest()), (2, "béc"));
        reader.skip_rest();
        assert_eq!((reader.remaining(), reader.rest()), (0, ""));
        assert_eq!(reader.next_piece(), None);
        assert_eq!(BatchReader::default().next_piece(), None);
    }

    #[test]
    fn pieces_come_back_as_pushed() {
        let batch: Batch = ["a", "", "bé", "c"].into_iter().collect();
        assert_eq!(batch.len(), 3);
        assert_eq!(batch.text(), "abéc");
        assert_eq!(batch.iter().collect::<Vec<_>>(), ["a", "bé", "c"]);
        assert_eq!(batch.iter().rev().collect::<Vec<_>>(), ["c", "bé", "a"]);
        assert_eq!(batch.get(1), Some("bé"));
        assert_eq!(batch.get(3), None);
        assert_eq!(format!("{batch:?}"), r#"["a", "bé", "c"]"#);
        assert_eq!(batch.tail(1), ["bé", "c"].into_iter().collect());
        assert_eq!((batch.bytes_from(0), batch.bytes_from(1), batch.bytes_from(3)), (5, 4, 0));
    }
}
