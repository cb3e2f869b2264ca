//! The pager, as git does it: a command's output to a terminal is held until it is longer than
//! the terminal; then `$FLIGHTREC_PAGER`, `$PAGER` or `less` (with `LESS=FRX` when LESS is unset)
//! is started and everything goes through it. Never when stdout is not a terminal; an empty
//! pager or `cat` means none; a pager that cannot start means printing directly. Quitting the
//! pager early closes the pipe, which the command treats as any closed stdout: a quiet exit.

use std::io::{self, IsTerminal, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

/// Where stdout goes.
enum Sink {
    /// Straight to stdout.
    Direct,
    /// Held (output so far, its height in terminal rows) until it outgrows `rows`.
    Held {
        text: Vec<u8>,
        height: usize,
        rows: usize,
        cols: usize,
    },
    /// Through a running pager.
    Pager(Child),
}

static SINK: Mutex<Sink> = Mutex::new(Sink::Direct);

/// The pager command to use: FLIGHTREC_PAGER, else PAGER, else `less`; None for none.
fn command() -> Option<String> {
    let var = std::env::var("FLIGHTREC_PAGER")
        .or_else(|_| std::env::var("PAGER"))
        .unwrap_or_else(|_| "less".into());
    let var = var.trim();
    (!var.is_empty() && var != "cat").then(|| var.to_string())
}

/// Holds what the command prints while stdout is a terminal, if paging is wanted at all.
pub fn start() {
    if !io::stdout().is_terminal() || command().is_none() {
        return;
    }
    let Some((cols, rows)) = super::terminal_size() else {
        return;
    };
    if let Ok(mut s) = SINK.lock() {
        *s = Sink::Held {
            text: Vec::new(),
            height: 0,
            rows: usize::from(rows),
            cols: usize::from(cols.max(1)),
        };
    }
}

/// The rows `text` takes on a terminal `cols` wide (a long line wraps; our styles take none).
fn height(text: &str, cols: usize) -> usize {
    text.split_inclusive('\n')
        .filter_map(|line| line.strip_suffix('\n'))
        .map(|line| shown_width(line).div_ceil(cols).max(1))
        .sum()
}

/// The columns a line takes: SGR sequences (ESC [ … m, the only ones we write) take none.
fn shown_width(line: &str) -> usize {
    let mut width = 0;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            chars.by_ref().find(|&c| c == 'm');
        } else {
            width += unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        }
    }
    width
}

/// Writes `bytes` to stdout, through the pager once the output is longer than the terminal.
pub fn write(bytes: &[u8]) -> io::Result<()> {
    let mut sink = SINK.lock().unwrap_or_else(|p| p.into_inner());
    match &mut *sink {
        Sink::Direct => {
            let mut out = io::stdout().lock();
            out.write_all(bytes)?;
            out.flush()
        }
        Sink::Pager(child) => match child.stdin.as_mut() {
            Some(stdin) => stdin.write_all(bytes),
            None => Err(io::ErrorKind::BrokenPipe.into()),
        },
        Sink::Held {
            text,
            height: h,
            rows,
            cols,
        } => {
            text.extend_from_slice(bytes);
            *h += height(&String::from_utf8_lossy(bytes), *cols);
            if *h < *rows {
                return Ok(());
            }
            let held = std::mem::take(text);
            *sink = match spawn() {
                Some(child) => Sink::Pager(child),
                None => Sink::Direct,
            };
            drop(sink);
            write(&held)
        }
    }
}

/// Starts the pager, its stdin a pipe; None if it cannot start. A plain command (words, no shell
/// syntax) is started directly, so a missing program is known here and the output printed
/// instead; anything else goes to `sh -c`, as git does.
fn spawn() -> Option<Child> {
    let pager = command()?;
    let plain = !pager.contains(|c: char| "|&;<>()$`\\\"'*?[#~=%{}".contains(c));
    let mut cmd = if plain || !cfg!(unix) {
        let mut words = pager.split_whitespace();
        let mut c = Command::new(words.next()?);
        c.args(words);
        c
    } else {
        let mut c = Command::new("sh");
        c.arg("-c").arg(&pager);
        c
    };
    if std::env::var_os("LESS").is_none() {
        cmd.env("LESS", "FRX");
    }
    if std::env::var_os("LV").is_none() {
        cmd.env("LV", "-c");
    }
    cmd.stdin(Stdio::piped()).spawn().ok()
}

/// Prints from here on directly (a command that streams, as `--follow`): what was held first.
pub fn direct() -> io::Result<()> {
    let mut sink = SINK.lock().unwrap_or_else(|p| p.into_inner());
    if let Sink::Held { text, .. } = std::mem::replace(&mut *sink, Sink::Direct) {
        let mut out = io::stdout().lock();
        out.write_all(&text)?;
        out.flush()?;
    }
    Ok(())
}

/// The end of the command: held output is printed, a pager is given the end of its input and
/// waited for (the user reads, then quits it).
pub fn finish() {
    let mut sink = SINK.lock().unwrap_or_else(|p| p.into_inner());
    match std::mem::replace(&mut *sink, Sink::Direct) {
        Sink::Direct => {}
        Sink::Held { text, .. } => {
            let mut out = io::stdout().lock();
            let _ = out.write_all(&text).and_then(|()| out.flush());
        }
        Sink::Pager(mut child) => {
            drop(child.stdin.take());
            let _ = child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::height;

    #[test]
    fn a_long_line_takes_the_rows_it_wraps_to() {
        assert_eq!(height("a\nb\n", 80), 2);
        assert_eq!(height(&format!("{}\n", "x".repeat(170)), 80), 3);
        assert_eq!(height("\n\n", 80), 2);
        assert_eq!(height("no newline yet", 80), 0);
        let styled = format!("\x1b[38;5;6m{}\x1b[39m\n", "x".repeat(80));
        assert_eq!(height(&styled, 80), 1);
    }
}
