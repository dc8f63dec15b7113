//! What the workspace commands print: the service's JSON (`--json`), or a table or a line of
//! text for people, with every server-sent cell made harmless for the terminal.

use std::io::{self, IsTerminal, Write};

use serde_json::Value;

use crate::term::printable;
use crate::Failure;

/// Writes `text` to stdout. A reader that went away (`| head`) is not a failure.
pub fn print(text: &str) -> Result<(), Failure> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != io::ErrorKind::BrokenPipe => Err(Failure::new(format!("writing to stdout: {e}"), 1)),
        _ => Ok(()),
    }
}

/// Prints one JSON document on one line.
pub fn print_json(value: &Value) -> Result<(), Failure> {
    print(&format!("{value}\n"))
}

/// Prints `text` and ends its line if it did not.
pub fn print_line(text: &str) -> Result<(), Failure> {
    if text.ends_with('\n') {
        print(text)
    } else {
        print(&format!("{text}\n"))
    }
}

/// A table: a header line, then one line a row; the columns two spaces apart, the last one not
/// padded. Cells are escaped with [`printable`], so a row is always one line.
pub struct Table {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    /// What the rows are, for the note on an empty table (`agents`).
    what: &'static str,
}

impl Table {
    pub fn new(what: &'static str, header: &[&'static str]) -> Table {
        Table { header: header.to_vec(), rows: Vec::new(), what }
    }

    /// Adds a row; a missing value (`None`) shows as `-`.
    pub fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = Option<S>>,
        S: AsRef<str>,
    {
        let row = cells
            .into_iter()
            .map(|cell| match cell {
                Some(text) if !text.as_ref().is_empty() => printable(text.as_ref()).into_owned(),
                _ => "-".to_string(),
            })
            .collect();
        self.rows.push(row);
    }

    /// The table as text; nothing at all when it has no rows (stdout stays empty for scripts).
    pub fn render(&self) -> String {
        if self.rows.is_empty() {
            return String::new();
        }
        let columns = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for row in &self.rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let mut text = String::new();
        let header = self.header.iter().map(|h| h.to_string()).collect::<Vec<_>>();
        for row in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate().take(columns) {
                if i + 1 == columns {
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    line.extend(std::iter::repeat_n(' ', widths[i] - cell.chars().count() + 2));
                }
            }
            text.push_str(line.trim_end());
            text.push('\n');
        }
        text
    }

    /// Prints the table; an empty one prints nothing, with a note on stderr for a person at a
    /// terminal.
    pub fn print(&self) -> Result<(), Failure> {
        if self.rows.is_empty() && io::stdout().is_terminal() {
            eprintln!("(no {})", self.what);
        }
        print(&self.render())
    }
}

/// A list response in one shape whatever the service sent: `{"<key>": [objects…]}`.
pub fn list_json<'a>(key: &str, items: impl IntoIterator<Item = &'a Value>) -> Value {
    let items: Vec<Value> = items.into_iter().cloned().collect();
    serde_json::json!({ key: items })
}

/// The response of a call, or `{}` when the service sent an empty body.
pub fn or_empty(raw: Option<&Value>) -> Value {
    match raw {
        Some(Value::Null) | None => Value::Object(Default::default()),
        Some(value) => value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_and_cells_stay_on_one_line() {
        let mut table = Table::new("notes", &["ID", "NAME", "NOTE"]);
        table.row([Some("kb_1"), Some("a\nb"), None]);
        table.row([Some("kb_10"), Some("Ünïcode"), Some("last")]);
        assert_eq!(table.render(), "ID     NAME     NOTE\nkb_1   a\\nb     -\nkb_10  Ünïcode  last\n");
    }

    #[test]
    fn an_empty_table_prints_nothing() {
        assert_eq!(Table::new("ids", &["ID"]).render(), "");
    }

    #[test]
    fn an_empty_response_is_an_empty_object() {
        assert_eq!(or_empty(None), serde_json::json!({}));
        assert_eq!(or_empty(Some(&Value::Null)), serde_json::json!({}));
        assert_eq!(or_empty(Some(&serde_json::json!({"id": 1}))), serde_json::json!({"id": 1}));
    }
}
