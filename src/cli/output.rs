//! Output helpers: tables, JSON, the error line, and quiet exits on a closed pipe.

use comfy_table::{ContentArrangement, Table, presets};
use std::io::{self, Write};

/// Prints `flightrec: error: …` once, on one line, with the context chain joined by ": ".
pub fn error_line(e: &anyhow::Error) {
    let mut msg = String::new();
    for (i, cause) in e.chain().enumerate() {
        let text = cause.to_string();
        if i > 0 {
            // Library errors already include their sources in their message; skip repeats.
            if msg.contains(&text) {
                continue;
            }
            msg.push_str(": ");
        }
        msg.push_str(&text);
    }
    let msg = msg.replace('\n', " ");
    let _ = writeln!(io::stderr(), "flightrec: error: {msg}");
}

/// A closed stdout (e.g. `| head`) ends the command quietly.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>().is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<flightrec::store::StoreError>().is_some_and(|s| {
                matches!(s, flightrec::store::StoreError::Output(io) if io.kind() == io::ErrorKind::BrokenPipe)
            })
    })
}

/// A plain table that fits the terminal when there is one.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().map(|h| h.to_string()));
    t
}

/// Writes a table (or anything displayable) to stdout, with a final newline.
pub fn print(s: impl std::fmt::Display) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{s}")?;
    out.flush()
}

/// Writes a value as pretty JSON to stdout.
pub fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    // Unwrapped back to the io::Error, so a closed pipe is recognised as one.
    serde_json::to_writer_pretty(&mut out, v).map_err(io::Error::from)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}
