//! Output helpers: tables, JSON, the error line, warnings, colour, the pager, and quiet exits on
//! a closed pipe.
//!
//! Terminal manners are decided once, here, from the global flags ([`setup`]): colour
//! ([`color`]: `--color`, NO_COLOR), the pager ([`pager`]: long output on a terminal) and the
//! table width ([`tables`]: fitted without breaking an id, or `--wide`). Into a pipe or a file
//! the output is what it always was: no colour, no pager, no fitting.
//!
//! Every text a command prints passes through here, and here it is made harmless for the
//! terminal: event text is anyone's, and a control character in it (ESC, a C1 control, CR, BS,
//! BEL, DEL) is shown by its visible form ([`flightrec::model::term`]) instead of reaching the
//! terminal. flightrec's own styling is the one thing that is not: it is a [`Style`] applied by
//! [`Painter::paint`] around text already made visible, so no text can turn into a colour.

mod color;
mod pager;
mod tables;

use flightrec::model::term::is_hazard;
pub use flightrec::model::term::visible;
use flightrec::report::Doc;
use serde_json::ser::{Formatter, PrettyFormatter};
use std::io::{self, IsTerminal, Write};
use std::sync::OnceLock;

pub use color::{ColorWhen, Painter, Style, event_style};
pub use tables::{Table, table};

/// The terminal manners of this run, decided once by [`setup`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Settings {
    /// Style what goes to stdout.
    pub color: bool,
    /// Print tables in full, not fitted to the terminal.
    pub wide: bool,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// Decides colour, width and paging from the global flags; `pageable` for a command whose
/// output may be long (paged only on a terminal, unless `no_pager`).
pub fn setup(color: ColorWhen, wide: bool, pager: bool) {
    let env = |k: &str| std::env::var(k).ok();
    let _ = SETTINGS.set(Settings {
        color: color.decide(io::stdout().is_terminal(), env),
        wide,
    });
    if pager {
        pager::start();
    }
}

/// The settings [`setup`] decided (defaults, all off, before it).
pub fn settings() -> Settings {
    SETTINGS.get().copied().unwrap_or_default()
}

/// The painter for stdout: styles when colour is on.
pub fn painter() -> Painter {
    Painter {
        color: settings().color,
    }
}

/// Ends paging: what was held is printed, a running pager is waited for. Called once, when the
/// command has returned.
pub fn finish() {
    pager::finish();
}

/// No pager for the rest of this command (a stream such as `timeline --follow`, which must show
/// each line as it comes): what was held is printed now. A running pager is kept.
pub fn unpaged() -> io::Result<()> {
    pager::direct()
}

/// The terminal's size (columns, rows) as stdout sees it.
#[cfg(unix)]
fn terminal_size() -> Option<(u16, u16)> {
    let ws = rustix::termios::tcgetwinsize(io::stdout()).ok()?;
    (ws.ws_col > 0 && ws.ws_row > 0).then_some((ws.ws_col, ws.ws_row))
}

#[cfg(not(unix))]
fn terminal_size() -> Option<(u16, u16)> {
    None
}

/// Prints `flightrec: error: …` once, on one line, with the context chain joined by ": ".
///
/// The chain holds the contexts the command added and the error under them, each link printed
/// once: a library error's message is whole (it includes what it wraps) and it has no
/// `source()`, so no link repeats another (the convention in ARCHITECTURE.md, "Errors").
pub fn error_line(e: &anyhow::Error) {
    let msg = chain_line(e);
    let _ = writeln!(io::stderr(), "flightrec: error: {}", visible(&msg));
}

/// The chain of `e` on one line, its links joined by ": ".
fn chain_line(e: &anyhow::Error) -> String {
    let links: Vec<String> = e.chain().map(ToString::to_string).collect();
    links.join(": ").replace('\n', " ")
}

/// Writes one line to stderr (a warning, a note), control characters shown visibly.
pub fn eprint_line(line: impl std::fmt::Display) -> io::Result<()> {
    let mut err = io::stderr().lock();
    writeln!(err, "{}", visible(&line.to_string()))
}

/// A closed stdout (e.g. `| head`) ends the command quietly. Library errors do not chain to what
/// they wrap, so the ones that wrap a write to stdout are looked into here.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    use flightrec::export::tape::TapeWriteError;
    use flightrec::store::StoreError;
    let broken = |io: &io::Error| io.kind() == io::ErrorKind::BrokenPipe;
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>().is_some_and(broken)
            || c.downcast_ref::<StoreError>()
                .is_some_and(|s| matches!(s, StoreError::Output(io) if broken(io)))
            || c.downcast_ref::<TapeWriteError>()
                .is_some_and(|t| matches!(t, TapeWriteError::Output(io) if broken(io)))
    })
}

/// A report's text, its tables laid out as [`Table`]s.
pub fn render(doc: &Doc) -> String {
    doc.render(tables::layout)
}

/// Writes a table (or anything displayable) to stdout, with a final newline, control characters
/// shown visibly. (A table lays a control character out one column wide, as wide as a C0
/// control's picture, so its columns stay aligned; a row holding DEL or a C1 control, whose
/// forms are six columns wide, is pushed right by five columns for each.)
pub fn print(s: impl std::fmt::Display) -> io::Result<()> {
    pager::write(format!("{}\n", visible(&s.to_string())).as_bytes())
}

/// Writes text already made safe (a [`Table`], [`Painter`] output) to stdout with a final
/// newline: its styles reach the terminal.
pub fn print_styled(s: impl std::fmt::Display) -> io::Result<()> {
    pager::write(format!("{s}\n").as_bytes())
}

/// Writes a value as pretty JSON to stdout. serde_json escapes C0 controls; DEL and the C1
/// controls, which JSON allows raw, are escaped too (`\u007f`, `\u009b`): the same JSON value,
/// nothing a terminal acts on.
pub fn print_json<T: serde::Serialize>(v: &T) -> anyhow::Result<()> {
    let mut out = Vec::new();
    let mut ser =
        serde_json::Serializer::with_formatter(&mut out, Escaping(PrettyFormatter::new()));
    // Unwrapped back to the io::Error, so a closed pipe is recognised as one.
    v.serialize(&mut ser).map_err(io::Error::from)?;
    out.push(b'\n');
    pager::write(&out)?;
    Ok(())
}

/// A JSON formatter that also escapes DEL and C1 controls, in strings and in raw fragments (a
/// stored event's text), where JSON allows them only inside strings.
struct Escaping<F>(F);

fn write_escaped<W: ?Sized + Write>(w: &mut W, text: &str) -> io::Result<()> {
    let mut rest = text;
    while let Some(i) = rest.find(is_hazard) {
        w.write_all(&rest.as_bytes()[..i])?;
        let c = rest[i..].chars().next().unwrap_or('\0');
        write!(w, "\\u{:04x}", c as u32)?;
        rest = &rest[i + c.len_utf8()..];
    }
    w.write_all(rest.as_bytes())
}

macro_rules! delegate {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $name<W: ?Sized + Write>(&mut self, w: &mut W $(, $arg: $ty)*) -> io::Result<()> {
            self.0.$name(w $(, $arg)*)
        }
    )*};
}

impl<F: Formatter> Formatter for Escaping<F> {
    delegate! {
        begin_array();
        end_array();
        begin_array_value(first: bool);
        end_array_value();
        begin_object();
        end_object();
        begin_object_key(first: bool);
        begin_object_value();
        end_object_value();
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        write_escaped(w, fragment)
    }

    fn write_raw_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        write_escaped(w, fragment)
    }
}

/// Standard output for a file format (`export`): on a terminal, a [`Visible`] writer, so a
/// transcript or event log looked at there is shown, not obeyed; into a pipe or a file, the exact
/// bytes.
pub fn stdout_for_files() -> Box<dyn Write> {
    let out = io::BufWriter::new(io::stdout().lock());
    if io::stdout().is_terminal() {
        Box::new(Visible::new(out))
    } else {
        Box::new(out)
    }
}

/// A byte stream shown visibly ([`visible`], byte by byte): C0 controls but tab and newline, DEL
/// and C1 controls (`C2 80`…`C2 9F` in UTF-8, even split across writes) become their visible
/// forms, everything else passes unchanged. In JSON, where raw DEL and C1 can only sit inside
/// strings, the result is the same JSON.
pub struct Visible<W: Write> {
    inner: W,
    /// A 0xC2 byte held back until the next byte tells whether it starts a C1 control.
    held: bool,
}

impl<W: Write> Visible<W> {
    pub fn new(inner: W) -> Self {
        Visible { inner, held: false }
    }
}

impl<W: Write> Write for Visible<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut out = Vec::with_capacity(buf.len() + 8);
        let mut shown = String::new();
        for &b in buf {
            if std::mem::take(&mut self.held) {
                if (0x80..=0x9f).contains(&b) {
                    shown.clear();
                    flightrec::model::term::push_visible(&mut shown, char::from(b));
                    out.extend_from_slice(shown.as_bytes());
                    continue;
                }
                out.push(0xc2);
            }
            match b {
                0xc2 => self.held = true,
                0..=0x7f if is_hazard(char::from(b)) => {
                    shown.clear();
                    flightrec::model::term::push_visible(&mut shown, char::from(b));
                    out.extend_from_slice(shown.as_bytes());
                }
                _ => out.push(b),
            }
        }
        self.inner.write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Write> Drop for Visible<W> {
    fn drop(&mut self) {
        // A lone 0xC2 at the very end (not UTF-8) is written as it came.
        if self.held {
            let _ = self.inner.write_all(&[0xc2]);
            let _ = self.inner.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn painted_text_never_carries_its_own_escapes() {
        let p = Painter { color: true };
        assert_eq!(
            p.paint(Style::Red, "a\x1b[32mb\u{9b}c"),
            "\x1b[31ma␛[32mb\\u009bc\x1b[0m"
        );
        assert_eq!(p.paint(Style::Plain, "\x1b"), "␛");
        assert_eq!(Painter { color: false }.paint(Style::Bold, "\x07"), "␇");
    }

    #[test]
    fn a_visible_stream_shows_controls_even_split_across_writes() {
        let text = "a\x1b[31m\u{9b}2J\u{7f}\té─\u{c2}\u{a0}\n";
        let bytes = text.as_bytes();
        for cut in 0..=bytes.len() {
            let mut buf = Vec::new();
            {
                let mut w = Visible::new(&mut buf);
                w.write_all(&bytes[..cut]).unwrap();
                w.flush().unwrap();
                w.write_all(&bytes[cut..]).unwrap();
            }
            assert_eq!(
                String::from_utf8(buf).unwrap(),
                visible(text),
                "cut at byte {cut}"
            );
        }
        let mut buf = Vec::new();
        Visible::new(&mut buf).write_all(b"x\xc2").unwrap();
        assert_eq!(buf, b"x\xc2");
    }

    #[test]
    fn json_escapes_del_and_c1_and_stays_the_same_value() {
        let v = serde_json::json!({"k\u{9b}": ["\x1b[31m\u{7f}\u{85}é"]});
        let mut buf = Vec::new();
        let mut ser =
            serde_json::Serializer::with_formatter(&mut buf, Escaping(PrettyFormatter::new()));
        serde::Serialize::serialize(&v, &mut ser).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{text:?}"
        );
        assert!(text.contains("\\u001b[31m\\u007f\\u0085é"), "{text}");
        assert!(text.contains("\"k\\u009b\""), "{text}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap(), v);
        let raw = serde_json::value::RawValue::from_string("{\"a\":\"\u{9b}\"}".into()).unwrap();
        let mut buf = Vec::new();
        let mut ser =
            serde_json::Serializer::with_formatter(&mut buf, Escaping(PrettyFormatter::new()));
        serde::Serialize::serialize(&raw, &mut ser).unwrap();
        assert_eq!(String::from_utf8(buf).unwrap(), "{\"a\":\"\\u009b\"}");
    }
}
