//! `--format jsonl`: each event of one stream exactly as received, one per line, in session order.

use std::borrow::Cow;
use std::io::Write;

use super::stream::Session;
use crate::redact::Manifest;
use crate::store::{EventRow, Result, Store, TimelineQuery};

/// Writes the events of one stream of `session_id` to `out` (`thread_id` "" for the session's
/// own, else that thread's), ordered by processed_at then arrival, so that importing the output
/// (with `--thread` for a thread's) gives back the same rows. Returns the numbers of events
/// written and of events of other streams left out.
pub fn write_jsonl(
    store: &Store,
    session_id: &str,
    thread_id: &str,
    out: &mut dyn Write,
) -> Result<(u64, u64)> {
    let mut w = Lines::new(thread_id, out);
    store.for_each_event(session_id, &TimelineQuery::default(), |row| w.row(&row))?;
    Ok((w.n, w.other))
}

/// As [`write_jsonl`], from a session read with redaction: each event redacted as it is read,
/// in the same pass that tallies the manifest (returned with the counts).
pub fn write_jsonl_redacted(
    session: &Session<'_>,
    thread_id: &str,
    out: &mut dyn Write,
) -> Result<(u64, u64, Option<Manifest>)> {
    let mut w = Lines::new(thread_id, out);
    let manifest = session.manifest_with(|row| w.row(&row))?;
    Ok((w.n, w.other, manifest))
}

/// Writes the rows of one stream, counting them and the rows of other streams.
struct Lines<'a, 'o> {
    thread_id: &'a str,
    out: &'o mut dyn Write,
    n: u64,
    other: u64,
}

impl<'a, 'o> Lines<'a, 'o> {
    fn new(thread_id: &'a str, out: &'o mut dyn Write) -> Self {
        Lines {
            thread_id,
            out,
            n: 0,
            other: 0,
        }
    }

    fn row(&mut self, row: &EventRow) -> std::io::Result<()> {
        if row.thread_id != self.thread_id {
            self.other += 1;
            return Ok(());
        }
        self.out.write_all(one_line(&row.raw).as_bytes())?;
        self.out.write_all(b"\n")?;
        self.n += 1;
        Ok(())
    }
}

/// The text on one line. Text as received is kept unless it spans lines (an event taken from a
/// pretty-printed page): then the whitespace between tokens, never inside strings, is removed.
pub fn one_line(raw: &str) -> Cow<'_, str> {
    if !raw.contains(['\n', '\r']) {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in raw.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn single_line_text_is_untouched() {
        let raw = r#"{"a": 1.50, "b":"x  y"}"#;
        assert!(matches!(one_line(raw), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn multi_line_text_loses_only_token_whitespace() {
        let raw = "{\n  \"a\": 1.50,\n  \"b\": \"x \\\" \n y\"\n}";
        // The string holds an escaped quote; the escaped newline form stays as it was.
        let raw = raw.replace(" \n y", " \\n y");
        assert_eq!(one_line(&raw), r#"{"a":1.50,"b":"x \" \n y"}"#);
    }
}
