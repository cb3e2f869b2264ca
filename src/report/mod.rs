//! The text reports: `explain` (also in the Markdown and HTML transcripts), `state`, `stats` and
//! `diff`, and the formatting they share ([`format`](mod@format): times, durations, money, a missing value).
//!
//! Pure and core: no terminal, no command line, no table crate, so the viewer can build it. A
//! report that holds tables is a [`Doc`]: text and [`Table`]s (header and rows of cells) in order;
//! the shell lays the tables out (the CLI with comfy-table, fitted to the terminal) and prints.
//! The JSON forms of `state` and `stats` are here too, as the serde structs both forms read.

pub mod diff;
pub mod explain;
pub mod format;
pub mod state;
pub mod stats;

/// A table's content: the header and the rows, cell by cell, laid out by the shell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// The columns holding ids (by index): never shortened or wrapped when laid out.
    pub ids: Vec<usize>,
    /// Columns kept whole or left out (numbers, which say nothing cut), most important first:
    /// a layout too narrow for them all leaves out the last listed first.
    pub optional: Vec<usize>,
}

/// What a column holds, for the layout: an id is kept whole, text may be shortened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Text,
    Id,
    /// Kept whole, or left out when the table cannot fit.
    Optional,
}

impl Table {
    pub fn new(header: &[&str]) -> Table {
        Table {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            ids: Vec::new(),
            optional: Vec::new(),
        }
    }

    /// Marks columns as kept whole or left out, most important first.
    pub fn with_optional(mut self, optional: &[usize]) -> Table {
        self.optional.extend_from_slice(optional);
        self
    }

    /// Marks the columns at these indices as holding ids.
    pub fn with_ids(mut self, ids: &[usize]) -> Table {
        self.ids.extend_from_slice(ids);
        self
    }

    /// What column `i` holds.
    pub fn column(&self, i: usize) -> Column {
        if self.ids.contains(&i) {
            Column::Id
        } else if self.optional.contains(&i) {
            Column::Optional
        } else {
            Column::Text
        }
    }

    pub fn add_row(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }
}

/// One part of a [`Doc`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Text(String),
    Table(Table),
}

/// A report of text and tables in order. Text is written with `write!` (it is a
/// [`std::fmt::Write`]) or [`Doc::push_str`]; [`Doc::render`] joins the parts, each table as the
/// caller lays it out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Doc {
    parts: Vec<Part>,
}

impl Doc {
    pub fn new() -> Doc {
        Doc::default()
    }

    pub fn push_str(&mut self, s: &str) {
        match self.parts.last_mut() {
            Some(Part::Text(t)) => t.push_str(s),
            _ => self.parts.push(Part::Text(s.to_string())),
        }
    }

    pub fn push(&mut self, c: char) {
        self.push_str(c.encode_utf8(&mut [0; 4]));
    }

    /// Appends a table; the text written next follows its last line directly.
    pub fn table(&mut self, t: Table) {
        self.parts.push(Part::Table(t));
    }

    /// Appends another report.
    pub fn append(&mut self, other: Doc) {
        for p in other.parts {
            match p {
                Part::Text(t) => self.push_str(&t),
                Part::Table(t) => self.table(t),
            }
        }
    }

    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// The whole text, each table laid out by `layout` (its text without a final newline).
    pub fn render(&self, mut layout: impl FnMut(&Table) -> String) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Table(t) => out.push_str(&layout(t)),
            }
        }
        out
    }
}

impl std::fmt::Write for Doc {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    #[test]
    fn a_doc_renders_its_text_and_tables_in_order() {
        let mut d = Doc::new();
        let _ = writeln!(d, "Title");
        let mut t = Table::new(&["A", "B"]);
        t.add_row(vec!["1".into(), "2".into()]);
        d.table(t);
        d.push('\n');
        let mut e = Doc::new();
        e.push_str("end");
        d.append(e);
        assert_eq!(d.parts().len(), 3);
        let text = d.render(|t| format!("[{}|{}]", t.header.join(","), t.rows.len()));
        assert_eq!(text, "Title\n[A,B|1]\nend");
    }
}
