//! What the command writes to a terminal: text from the network made harmless, and where lines end.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};

/// `text` with every character that could act on a terminal written as a visible escape: C0
/// controls and DEL as `\x1b` (`\n`, `\r`, `\t` as themselves escaped), C1 controls and the
/// invisible bidirectional and line-separator marks as `\u{9b}`. Server-sent text (an error
/// message, a conversation id) then cannot recolour the terminal, move the cursor, set its
/// title, or span several lines; printable text, including any non-ASCII, is kept as it is.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) && u32::from(c) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control() // C0 (U+0000..U+001F), DEL, C1 (U+0080..U+009F: U+009B is a one-byte CSI)
        || matches!(c,
            '\u{061c}' | '\u{200e}' | '\u{200f}'   // bidirectional marks
            | '\u{202a}'..='\u{202e}'              // embeddings and overrides
            | '\u{2066}'..='\u{2069}'              // isolates
            | '\u{2028}' | '\u{2029}') // line and paragraph separators
}

/// Ends the line of a reply that did not end one, when stdout is a terminal (the newline users
/// expect after the reply). Elsewhere stdout stays exactly the reply: returns whether its line is
/// still open.
pub fn end_reply_line() -> bool {
    let mut out = std::io::stdout();
    if !out.is_terminal() {
        return true;
    }
    let _ = out.write_all(b"\n").and_then(|()| out.flush());
    false
}

/// Whether stdout and stderr are one and the same file, pipe or terminal.
#[cfg(unix)]
pub fn same_destination() -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let identity = |fd: std::os::fd::BorrowedFd<'_>| {
        let file = std::fs::File::from(fd.try_clone_to_owned().ok()?);
        file.metadata().ok().map(|m| (m.dev(), m.ino()))
    };
    match (identity(std::io::stdout().as_fd()), identity(std::io::stderr().as_fd())) {
        (Some(out), Some(err)) => out == err,
        _ => false,
    }
}

/// Whether stdout and stderr are one and the same place: without a portable identity of the
/// two, both being terminals is the case that matters.
#[cfg(not(unix))]
pub fn same_destination() -> bool {
    std::io::stdout().is_terminal() && std::io::stderr().is_terminal()
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        let text = "HTTP 429: slow down — réessayez 世界 👋";
        assert!(matches!(printable(text), std::borrow::Cow::Borrowed(t) if t == text));
    }

    #[test]
    fn ansi_sequences_are_escaped() {
        assert_eq!(printable("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
        // Set the window title (OSC ... BEL), clear the screen, hide the cursor.
        assert_eq!(printable("\x1b]0;pwned\x07\x1b[2J\x1b[?25l"), "\\x1b]0;pwned\\x07\\x1b[2J\\x1b[?25l");
        // The one-character CSI of C1, DEL and NUL.
        assert_eq!(printable("a\u{9b}31mb\x7fc\0"), "a\\u{9b}31mb\\x7fc\\x00");
    }

    #[test]
    fn line_breaks_cannot_make_a_second_line() {
        assert_eq!(printable("one\ntwo\r\n\tthree"), "one\\ntwo\\r\\n\\tthree");
        assert_eq!(printable("a\u{2028}b\u{2029}c\x0bd\x0ce"), "a\\u{2028}b\\u{2029}c\\x0bd\\x0ce");
    }

    #[test]
    fn bidirectional_overrides_are_escaped() {
        assert_eq!(printable("id\u{202e}txt.exe"), "id\\u{202e}txt.exe");
        assert_eq!(printable("\u{2066}x\u{2069}\u{200f}"), "\\u{2066}x\\u{2069}\\u{200f}");
    }

    #[test]
    fn every_c0_and_c1_control_is_escaped() {
        for c in (0u32..0x20).chain(0x7f..0xa0).filter_map(char::from_u32) {
            let escaped = printable(&c.to_string()).into_owned();
            assert!(escaped.starts_with('\\'), "{c:?} -> {escaped:?}");
            assert!(!escaped.chars().any(char::is_control), "{c:?} -> {escaped:?}");
        }
    }
}
