//! Property tests of the event-log decoders (SSE, JSON Lines, JSON documents, list pages, dumps):
//! the items read must not depend on how the input arrives in pieces, every event's text is the
//! exact slice of the input that holds it, nothing is lost (each frame or line is an item or
//! quarantined byte for byte), and any bytes at all give items or a one-line error. Run by
//! `crate::props::check`: a few cases under `cargo test`, minutes under `bench/fuzz.sh`.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use std::convert::Infallible;
use std::io::{BufRead, Read};

use super::*;
use crate::props::check;

/// A reader that hands the input out in the given pieces, as a pipe does.
struct Pieces {
    data: Vec<u8>,
    /// Ends of the pieces, ascending.
    cuts: Vec<usize>,
    at: usize,
}

impl Pieces {
    fn new(data: &[u8], cuts: &[usize]) -> Pieces {
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
        cuts.sort_unstable();
        Pieces {
            data: data.to_vec(),
            cuts,
            at: 0,
        }
    }

    fn piece_end(&self) -> usize {
        self.cuts
            .iter()
            .copied()
            .find(|c| *c > self.at)
            .unwrap_or(self.data.len())
    }
}

impl Read for Pieces {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = (self.piece_end() - self.at).min(buf.len());
        buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

impl BufRead for Pieces {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        let end = self.piece_end();
        Ok(&self.data[self.at..end])
    }

    fn consume(&mut self, n: usize) {
        self.at += n;
    }
}

/// An item, owned.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Got {
    Event(String, Option<String>, String),
    Bad(String, Vec<u8>, String),
    Ping(String),
    Error(String, String),
    Thread(String, String),
    ThreadEvent(String, String, String),
}

fn own(item: Item<'_>) -> Got {
    match item {
        Item::Event {
            origin,
            frame_name,
            text,
        } => Got::Event(
            origin.to_string(),
            frame_name.map(String::from),
            text.into(),
        ),
        Item::Bad {
            origin,
            raw,
            reason,
        } => Got::Bad(origin.to_string(), raw.to_vec(), reason),
        Item::Ping { origin } => Got::Ping(origin.to_string()),
        Item::ErrorFrame { origin, data } => Got::Error(origin.to_string(), data.into()),
        Item::ThreadObject { origin, text } => Got::Thread(origin.to_string(), text.into_owned()),
        Item::ThreadEvent {
            origin,
            thread_id,
            text,
        } => Got::ThreadEvent(origin.to_string(), thread_id.into(), text.into()),
    }
}

type Read3 = fn(
    Pieces,
    &mut dyn FnMut(Item<'_>) -> Result<(), Infallible>,
    &mut dyn FnMut(u64),
) -> Result<(), ReadError<Infallible>>;

/// What `read` makes of `input` handed over in pieces ending at `cuts`: the items, the error if
/// any, and the bytes it said it consumed.
fn run(read: Read3, input: &[u8], cuts: &[usize]) -> (Vec<Got>, Option<String>, u64) {
    let mut items = Vec::new();
    let mut consumed = 0;
    let r = read(
        Pieces::new(input, cuts),
        &mut |i| {
            items.push(own(i));
            Ok(())
        },
        &mut |n| consumed += n,
    );
    (items, r.err().map(|e| e.to_string()), consumed)
}

fn sse(
    input: Pieces,
    sink: &mut dyn FnMut(Item<'_>) -> Result<(), Infallible>,
    b: &mut dyn FnMut(u64),
) -> Result<(), ReadError<Infallible>> {
    sse::read_sse(input, sink, b)
}

fn lines(
    input: Pieces,
    sink: &mut dyn FnMut(Item<'_>) -> Result<(), Infallible>,
    b: &mut dyn FnMut(u64),
) -> Result<(), ReadError<Infallible>> {
    json::read_lines(input, sink, b)
}

fn any_format(
    input: Pieces,
    sink: &mut dyn FnMut(Item<'_>) -> Result<(), Infallible>,
    b: &mut dyn FnMut(u64),
) -> Result<(), ReadError<Infallible>> {
    read_events(input, sink, b).map(|_| ())
}

// ---------------------------------------------------------------------------------------------
// SSE

/// Lines end with LF, CRLF or CR (SSE's three), or not at all (the input's last).
fn sse_terminator() -> impl Strategy<Value = &'static [u8]> {
    prop_oneof![
        4 => Just(&b"\n"[..]),
        2 => Just(&b"\r\n"[..]),
        2 => Just(&b"\r"[..]),
        1 => Just(&b""[..]),
    ]
}

/// Text of a field value: JSON-ish, with colons, spaces, non-ASCII and the separators.
fn sse_text() -> impl Strategy<Value = String> {
    "[a-z{}\":, é\u{2028}\u{0}\u{feff}\u{1}]{0,12}"
}

/// One SSE line without its end.
fn sse_line() -> impl Strategy<Value = Vec<u8>> {
    let name = prop_oneof![
        Just("agent.message".to_string()),
        Just("ping".to_string()),
        Just("error".to_string()),
        Just("message".to_string()),
        Just(String::new()),
        // The decoder's own stand-in name for a frame that is not UTF-8 (a dictionary word).
        Just("\u{1}bad".to_string()),
        sse_text(),
    ];
    prop_oneof![
        3 => (any::<bool>(), sse_text()).prop_map(|(sp, t)| format!("data:{}{t}", if sp { " " } else { "" }).into_bytes()),
        2 => name.prop_map(|n| format!("event: {n}").into_bytes()),
        1 => sse_text().prop_map(|t| format!("id: {t}").into_bytes()),
        1 => Just(b"retry: 10".to_vec()),
        1 => sse_text().prop_map(|t| format!(":{t}").into_bytes()),
        1 => Just(b"data".to_vec()),
        3 => Just(Vec::new()),
        1 => sse_text().prop_map(String::into_bytes),
        // Not UTF-8: a bad byte in a data line, or any bytes but line ends.
        1 => sse_text().prop_map(|t| [b"data: \xff".as_slice(), t.as_bytes()].concat()),
        1 => prop::collection::vec(any::<u8>().prop_filter("no line end", |b| *b != b'\n' && *b != b'\r'), 0..8),
    ]
}

fn sse_input() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec((sse_line(), sse_terminator()), 0..16).prop_map(|ls| {
        ls.into_iter()
            .flat_map(|(l, t)| [l, t.to_vec()])
            .flatten()
            .collect()
    })
}

/// Any bytes, weighted towards the ones SSE gives a meaning to.
fn bytes() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        3 => any::<u8>(),
        1 => Just(b'\n'),
        1 => Just(b'\r'),
        1 => Just(b':'),
        1 => Just(b' '),
    ];
    prop::collection::vec(byte, 0..200)
}

/// Lines counted the way the decoder counts them (LF, and CR not followed by LF).
fn count_lines(b: &[u8]) -> u64 {
    (0..b.len())
        .filter(|&i| b[i] == b'\n' || (b[i] == b'\r' && b.get(i + 1) != Some(&b'\n')))
        .count() as u64
}

/// What the HTML spec's event-stream interpretation makes of `input`, frame by frame, with a frame
/// that is not UTF-8 quarantined whole: the reference the decoder is held to.
fn sse_model(input: &[u8]) -> Vec<Got> {
    let mut frames: Vec<(usize, &[u8])> = Vec::new();
    let (mut start, mut line_start, mut i) = (0, 0, 0);
    while i < input.len() {
        let len = match input[i] {
            b'\n' => 1,
            b'\r' => 1 + usize::from(input.get(i + 1) == Some(&b'\n')),
            _ => {
                i += 1;
                continue;
            }
        };
        let empty = i == line_start;
        i += len;
        line_start = i;
        if empty {
            frames.push((start, &input[start..i]));
            start = i;
        }
    }
    if start < input.len() {
        frames.push((start, &input[start..]));
    }
    let mut out = Vec::new();
    for (k, (at, frame)) in frames.into_iter().enumerate() {
        let origin = format!("frame {}", out.len() + 1);
        let text = match std::str::from_utf8(frame) {
            Ok(t) => t,
            Err(e) => {
                let offset = at + e.valid_up_to();
                let line = 1 + count_lines(&input[..offset]);
                let reason = format!("invalid UTF-8 at byte {offset} (line {line})");
                out.push(Got::Bad(origin, frame.to_vec(), reason));
                continue;
            }
        };
        let text = if k == 0 {
            text.strip_prefix('\u{feff}').unwrap_or(text)
        } else {
            text
        };
        let (mut name, mut data, mut has_data) = (String::new(), String::new(), false);
        for line in text.split_inclusive(['\n', '\r']) {
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() || line.starts_with(':') {
                continue;
            }
            let (field, value) = match line.split_once(':') {
                Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                None => (line, ""),
            };
            match field {
                "event" => name = value.to_string(),
                "data" => {
                    if has_data {
                        data.push('\n');
                    }
                    data.push_str(value);
                    has_data = true;
                }
                _ => {}
            }
        }
        if !has_data {
            continue;
        }
        out.push(match name.as_str() {
            "ping" => Got::Ping(origin),
            "error" => Got::Error(origin, data),
            "" | "message" => Got::Event(origin, None, data),
            _ => Got::Event(origin, Some(name), data),
        });
    }
    out
}

#[test]
fn prop_sse_any_split_gives_the_same_items() {
    let strategy = (sse_input(), prop::collection::vec(any::<usize>(), 0..6));
    check("sse any split", 32, strategy, |(input, cuts)| {
        let whole = run(sse, &input, &[]);
        prop_assert_eq!(whole.1.as_deref(), None);
        prop_assert_eq!(whole.2, input.len() as u64, "bytes reported read");
        // Every single split point, then several at once.
        for cut in 0..=input.len() {
            let got = run(sse, &input, &[cut]);
            prop_assert_eq!(&got, &whole, "split at byte {}", cut);
        }
        prop_assert_eq!(
            run(sse, &input, &cuts),
            whole.clone(),
            "split at {:?}",
            cuts
        );
        Ok(())
    });
}

#[test]
fn prop_sse_frames_are_events_or_quarantined_as_the_spec_says() {
    let strategy = prop_oneof![sse_input(), bytes()];
    check("sse model", 256, strategy, |input| {
        let (items, err, _) = run(sse, &input, &[]);
        prop_assert_eq!(err, None);
        prop_assert_eq!(items, sse_model(&input));
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------------
// JSON Lines, list pages, JSON documents and dumps

/// A JSON string's contents: quotes, backslashes, non-ASCII, U+2028 (legal inside JSON strings).
fn text() -> impl Strategy<Value = String> {
    "[a-z \"\\\\/é\u{2028}\u{1F600}\t{}\\[\\],:]{0,10}"
}

/// JSON whitespace, often none.
fn ws() -> impl Strategy<Value = &'static str> {
    prop_oneof![4 => Just(""), 1 => Just(" "), 1 => Just("\n  "), 1 => Just("\t")]
}

/// An event object's text, with whitespace of its own (so the slice, not a re-serialisation,
/// must come back).
fn event() -> impl Strategy<Value = String> {
    (
        "(agent|user|session)\\.[a-z_]{1,8}",
        "sevt_[A-Za-z0-9]{0,6}",
        text(),
        ws(),
        ws(),
    )
        .prop_map(|(t, id, body, a, b)| {
            let body = serde_json::to_string(&body).unwrap();
            format!(
                "{{{a}\"type\":{a}\"{t}\",\"id\":\"{id}\",{b}\"content\":[{{\"text\":{body}}}]{b}}}"
            )
        })
}

/// An event on one line.
fn event_line() -> impl Strategy<Value = String> {
    event().prop_map(|e| e.replace('\n', " "))
}

/// One line of a JSON Lines file and the items it must give, given its line number.
#[derive(Debug, Clone)]
enum Line {
    Blank(String),
    Event(String),
    /// A page's elements and whether `data` comes first.
    Page(Vec<String>, bool),
    /// An event holding a byte that is not UTF-8.
    BadEvent(String),
    /// A page with one element holding a bad byte, at this index.
    BadPage(Vec<String>, usize),
    /// Not JSON at all: handed on as it is, for the caller to quarantine.
    Garbage(String),
}

fn line() -> impl Strategy<Value = Line> {
    prop_oneof![
        1 => "[ \t]{0,3}".prop_map(Line::Blank),
        5 => event_line().prop_map(Line::Event),
        2 => (prop::collection::vec(event_line(), 0..4), any::<bool>()).prop_map(|(e, f)| Line::Page(e, f)),
        1 => event_line().prop_map(Line::BadEvent),
        1 => (prop::collection::vec(event_line(), 1..4), any::<usize>()).prop_map(|(e, i)| {
            let n = e.len();
            Line::BadPage(e, i % n)
        }),
        1 => "[a-z][a-z ]{0,8}[a-z]".prop_map(Line::Garbage),
    ]
}

/// The bad byte planted into an element: inside its first string.
fn spoil(event: &str) -> Vec<u8> {
    let at = event.find("\"type\":").map_or(0, |i| i + 8);
    [&event.as_bytes()[..at], b"\xff", &event.as_bytes()[at..]].concat()
}

impl Line {
    fn bytes(&self) -> Vec<u8> {
        let page = |items: Vec<u8>, first: bool| -> Vec<u8> {
            if first {
                [
                    b"{\"data\": [".as_slice(),
                    &items,
                    b"], \"next_page\": null}",
                ]
                .concat()
            } else {
                [
                    b"{\"next_page\":\"p2\",\"data\":[".as_slice(),
                    &items,
                    b"]}",
                ]
                .concat()
            }
        };
        match self {
            Line::Blank(s) | Line::Event(s) | Line::Garbage(s) => s.clone().into_bytes(),
            Line::Page(items, first) => page(items.join(", ").into_bytes(), *first),
            Line::BadEvent(e) => spoil(e),
            Line::BadPage(items, bad) => {
                let parts: Vec<Vec<u8>> = items
                    .iter()
                    .enumerate()
                    .map(|(i, e)| {
                        if i == *bad {
                            spoil(e)
                        } else {
                            e.clone().into_bytes()
                        }
                    })
                    .collect();
                page(parts.join(&b","[..]), true)
            }
        }
    }

    fn expected(&self, n: u64) -> Vec<Got> {
        let ev = |origin: String, text: &str| Got::Event(origin, None, text.to_string());
        match self {
            Line::Blank(_) => vec![],
            Line::Event(e) | Line::Garbage(e) => vec![ev(format!("line {n}"), e)],
            Line::Page(items, _) => items
                .iter()
                .enumerate()
                .map(|(i, e)| ev(format!("line {n} item {}", i + 1), e))
                .collect(),
            Line::BadEvent(e) => {
                let raw = spoil(e);
                let col = std::str::from_utf8(&raw).unwrap_err().valid_up_to() + 1;
                vec![Got::Bad(
                    format!("line {n}"),
                    raw,
                    format!("invalid UTF-8 at column {col}"),
                )]
            }
            Line::BadPage(items, bad) => {
                let line = self.bytes();
                let col = std::str::from_utf8(&line).unwrap_err().valid_up_to() + 1;
                // A streamed page counts from its first non-blank byte.
                let col = col - (line.len() - line.trim_ascii_start().len());
                items
                    .iter()
                    .enumerate()
                    .map(|(i, e)| {
                        let origin = format!("line {n} item {}", i + 1);
                        if i == *bad {
                            // A page is streamed: the offset is the bad byte's in the line.
                            Got::Bad(
                                origin,
                                spoil(e),
                                format!("invalid UTF-8 at byte {}", col - 1),
                            )
                        } else {
                            ev(origin, e)
                        }
                    })
                    .collect()
            }
        }
    }
}

fn jsonl_input() -> impl Strategy<Value = (Vec<u8>, Vec<Got>)> {
    prop::collection::vec((line(), any::<bool>(), "[ ]{0,2}"), 0..10).prop_map(|ls| {
        let mut input = Vec::new();
        let mut want = Vec::new();
        for (n, (l, crlf, pad)) in ls.iter().enumerate() {
            input.extend_from_slice(pad.as_bytes());
            input.extend_from_slice(&l.bytes());
            input.extend_from_slice(if *crlf { b"\r\n" } else { b"\n" });
            want.extend(l.expected(n as u64 + 1));
        }
        (input, want)
    })
}

#[test]
#[ignore = "its model predates streamed documents (h-bounds): origins and offsets of cut and bad page elements to be brought up to date"]
fn prop_jsonl_every_line_gives_its_events_byte_for_byte() {
    let strategy = (jsonl_input(), prop::collection::vec(any::<usize>(), 0..6));
    check("jsonl lines", 256, strategy, |((input, want), cuts)| {
        let whole = run(lines, &input, &[]);
        prop_assert_eq!(&whole.0, &want);
        prop_assert_eq!(whole.1.as_deref(), None);
        prop_assert_eq!(whole.2, input.len() as u64, "bytes reported read");
        prop_assert_eq!(run(lines, &input, &cuts), whole, "split at {:?}", cuts);
        Ok(())
    });
}

/// One JSON document and the items it must give, given its number.
#[derive(Debug, Clone)]
enum Doc {
    Array(Vec<String>),
    Page(Vec<String>),
    Event(String),
    /// A dump: its session, events and threads (id, events), and the order of its members.
    Dump {
        session: Option<String>,
        events: Option<Vec<String>>,
        threads: Option<Vec<(String, Vec<String>)>>,
        order: usize,
    },
}

fn doc() -> impl Strategy<Value = Doc> {
    let thread = ("thr_[a-z0-9]{1,4}", prop::collection::vec(event(), 0..3));
    prop_oneof![
        2 => prop::collection::vec(event(), 0..4).prop_map(Doc::Array),
        2 => prop::collection::vec(event(), 0..4).prop_map(Doc::Page),
        1 => event().prop_map(Doc::Event),
        2 => (
            prop::option::of("sesn_[a-z]{1,4}".prop_map(|id| format!("{{\"id\": \"{id}\", \"type\": \"session\"}}"))),
            prop::option::of(prop::collection::vec(event(), 0..3)),
            prop::option::of(prop::collection::vec(thread, 0..3)),
            0..6usize,
        )
            .prop_filter("a dump has a member", |(s, e, t, _)| s.is_some() || e.is_some() || t.is_some())
            .prop_map(|(session, events, threads, order)| Doc::Dump { session, events, threads, order }),
    ]
}

impl Doc {
    /// Pretty (one member a line) or compact.
    fn text(&self, pretty: bool) -> String {
        let nl = if pretty { "\n  " } else { "" };
        let list = |items: &[String]| format!("[{nl}{}{nl}]", items.join(&format!(",{nl}")));
        match self {
            Doc::Array(items) => list(items),
            Doc::Page(items) => format!(
                "{{{nl}\"data\": {},{nl}\"next_page\": null{nl}}}",
                list(items)
            ),
            Doc::Event(e) => e.clone(),
            Doc::Dump {
                session,
                events,
                threads,
                order,
            } => {
                let mut members = Vec::new();
                if let Some(s) = session {
                    members.push(format!("\"session\": {s}"));
                }
                if let Some(e) = events {
                    members.push(format!("\"events\": {}", list(e)));
                }
                if let Some(t) = threads {
                    let t: Vec<String> = t
                        .iter()
                        .map(|(id, ev)| {
                            format!(
                                "{{\"id\": \"{id}\", \"events\": {}, \"status\": \"idle\"}}",
                                list(ev)
                            )
                        })
                        .collect();
                    members.push(format!("\"threads\": {}", list(&t)));
                }
                let k = order % members.len();
                members.rotate_left(k);
                format!("{{{nl}{}{nl}}}", members.join(&format!(",{nl}")))
            }
        }
    }

    fn expected(&self, d: u64) -> Vec<Got> {
        let ev = |origin: String, text: &str| Got::Event(origin, None, text.to_string());
        let at = |path: String| {
            if d == 1 {
                path
            } else {
                format!("document {d} {path}")
            }
        };
        let item = |i: usize| {
            if d == 1 {
                format!("item {}", i + 1)
            } else {
                format!("document {d} item {}", i + 1)
            }
        };
        match self {
            Doc::Array(items) | Doc::Page(items) => items
                .iter()
                .enumerate()
                .map(|(i, e)| ev(item(i), e))
                .collect(),
            Doc::Event(e) => vec![ev(format!("document {d}"), e)],
            Doc::Dump {
                session,
                events,
                threads,
                ..
            } => {
                let mut out = Vec::new();
                if let Some(s) = session {
                    out.push(ev(at("$.session".into()), s));
                }
                for (i, e) in events.iter().flatten().enumerate() {
                    out.push(ev(at(format!("$.events[{i}]")), e));
                }
                for (t, (id, evs)) in threads.iter().flatten().enumerate() {
                    let object = format!("{{\"id\":\"{id}\",\"status\":\"idle\"}}");
                    out.push(Got::Thread(at(format!("$.threads[{t}]")), object));
                    for (i, e) in evs.iter().enumerate() {
                        let origin = at(format!("$.threads[{t}].events[{i}]"));
                        out.push(Got::ThreadEvent(origin, id.clone(), e.clone()));
                    }
                }
                out
            }
        }
    }
}

/// Documents separated by whitespace (or none); the first is pretty, so the input reads as
/// JSON documents rather than JSON Lines.
fn docs_input() -> impl Strategy<Value = (Vec<u8>, Vec<Got>, Vec<usize>)> {
    let first = doc().prop_filter("pretty-printed", |d| !matches!(d, Doc::Event(_)));
    (
        first,
        prop::collection::vec((doc(), any::<bool>(), ws()), 0..4),
    )
        .prop_map(|(first, rest)| {
            let mut input = first.text(true);
            let mut want = first.expected(1);
            // Where each document ends, and the items whole documents give up to there.
            let mut ends = vec![input.len()];
            for (i, (d, pretty, sep)) in rest.iter().enumerate() {
                input.push_str(if sep.is_empty() && i % 2 == 0 {
                    "\n"
                } else {
                    sep
                });
                input.push_str(&d.text(*pretty));
                want.extend(d.expected(i as u64 + 2));
                ends.push(input.len());
            }
            input.push('\n');
            (input.into_bytes(), want, ends)
        })
}

#[test]
fn prop_json_documents_give_every_element_byte_for_byte() {
    let strategy = (docs_input(), prop::collection::vec(any::<usize>(), 0..6));
    check(
        "json documents",
        256,
        strategy,
        |((input, want, _), cuts)| {
            let whole = run(any_format, &input, &[]);
            prop_assert_eq!(&whole.0, &want);
            prop_assert_eq!(whole.1.as_deref(), None);
            prop_assert_eq!(run(any_format, &input, &cuts), whole, "split at {:?}", cuts);
            Ok(())
        },
    );
}

#[test]
#[ignore = "its model predates streamed documents (h-bounds): origins and offsets of cut and bad page elements to be brought up to date"]
fn prop_json_documents_cut_anywhere_keep_the_whole_ones_and_quarantine_the_rest() {
    let strategy = (docs_input(), any::<usize>());
    check(
        "json documents cut",
        256,
        strategy,
        |((input, _, ends), cut)| {
            let cut = cut % (input.len() + 1);
            let (head, rest) = input.split_at(cut);
            let (items, err, _) = run(any_format, head, &[]);
            if std::str::from_utf8(head).is_err() {
                // Cut inside a character: the input is refused as a whole, saying where.
                prop_assert!(
                    err.as_deref()
                        .is_some_and(|e| e.starts_with("not text: invalid UTF-8")),
                    "{:?}",
                    err
                );
                return Ok(());
            }
            // The documents that end before the cut, read whole.
            let whole: usize = ends.iter().filter(|e| **e <= cut).count();
            let mut want = Vec::new();
            if whole > 0 {
                let upto = ends[whole - 1];
                let (all, _, _) = run(any_format, &input[..upto], &[]);
                want = all;
            }
            let tail =
                std::str::from_utf8(&head[ends.get(whole.wrapping_sub(1)).copied().unwrap_or(0)..]);
            let tail = tail.map(str::trim_ascii).unwrap_or("?");
            if head.trim_ascii().is_empty() {
                prop_assert_eq!(err.as_deref(), Some("empty file"));
                return Ok(());
            }
            if tail.is_empty() {
                prop_assert_eq!(items, want);
                prop_assert_eq!(err, None);
                return Ok(());
            }
            // The items before the cut document, then that document's text, quarantined.
            prop_assert!(!rest.is_empty());
            prop_assert_eq!(err, None);
            prop_assert_eq!(&items[..items.len() - 1], &want[..]);
            match items.last() {
                Some(Got::Bad(origin, raw, _)) => {
                    // Streamed, a cut array names its cut element; a cut object, the document.
                    prop_assert!(
                        origin == &format!("document {}", whole + 1) || origin.starts_with("item "),
                        "origin {}",
                        origin
                    );
                    // Documents are streamed: what is quarantined is the cut element (the
                    // part of the document after its last whole element), not the document.
                    prop_assert!(
                        tail.as_bytes().ends_with(raw.trim_ascii()),
                        "{:?} is not the end of {:?}",
                        String::from_utf8_lossy(raw),
                        tail
                    );
                }
                other => prop_assert!(false, "the cut document is not quarantined: {:?}", other),
            }
            Ok(())
        },
    );
}

/// Inputs of every format, whole.
fn any_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        sse_input().prop_map(|i| [b"data: {}\n\n".as_slice(), &i].concat()),
        jsonl_input().prop_map(|(i, _)| [b"{\"type\":\"a\"}\n".as_slice(), &i].concat()),
        docs_input().prop_map(|(i, _, _)| i),
    ]
}

#[test]
fn prop_read_events_any_split_gives_the_same_items() {
    let strategy = (any_input(), prop::collection::vec(any::<usize>(), 1..6));
    check("read_events any split", 256, strategy, |(input, cuts)| {
        let whole = run(any_format, &input, &[]);
        prop_assert_eq!(whole.1.as_deref(), None);
        prop_assert_eq!(run(any_format, &input, &cuts), whole, "split at {:?}", cuts);
        Ok(())
    });
}

#[test]
fn prop_read_events_any_bytes_give_items_or_one_line_error() {
    let strategy = prop_oneof![
        bytes(),
        any_input()
            .prop_flat_map(|i| {
                let n = i.len();
                (
                    Just(i),
                    prop::collection::vec((0..n.max(1), any::<u8>()), 1..4),
                )
            })
            .prop_map(|(mut i, flips)| {
                for (at, b) in flips {
                    if let Some(x) = i.get_mut(at) {
                        *x = b;
                    }
                }
                i
            }),
    ];
    check("read_events any bytes", 512, strategy, |input| {
        let (items, err, _) = run(any_format, &input, &[]);
        if let Some(e) = &err {
            prop_assert!(!e.contains('\n') && !e.is_empty(), "error {:?}", e);
        }
        // Whatever is handed on is a piece of the input (or, from a dump, built from one; SSE
        // joins a frame's data lines).
        let is_sse = matches!(detect::detect(&mut &input[..]), Ok(Format::Sse));
        let hay = |needle: &[u8]| {
            input.windows(needle.len().max(1)).any(|w| w == needle) || needle.is_empty()
        };
        for item in &items {
            match item {
                Got::Event(_, _, t) | Got::Error(_, t) | Got::ThreadEvent(_, _, t) => {
                    prop_assert!(is_sse || hay(t.as_bytes()), "{:?} is not in the input", t)
                }
                Got::Bad(origin, raw, reason) => {
                    // A dump's thread object is handed on without its "events" (rebuilt).
                    prop_assert!(
                        hay(raw) || origin.contains("thread"),
                        "{:?} ({}) is not in the input",
                        raw,
                        origin
                    );
                    prop_assert!(!reason.contains('\n'));
                }
                Got::Ping(_) | Got::Thread(..) => {}
            }
        }
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------------
// Regression tests for what the properties found, each named after its defect.

/// Found by `prop_sse_frames_are_events_or_quarantined_as_the_spec_says`: a frame named like the
/// decoder's own stand-in for a frame that is not UTF-8 (`event: \x01bad`) vanished.
#[test]
fn sse_frame_named_like_the_bad_frame_stand_in_is_not_dropped() {
    let input = b"event: \x01bad\ndata: {}\n\ndata: \xff\n\n";
    let (items, err, _) = run(sse, input, &[]);
    assert_eq!(err, None);
    assert_eq!(
        items,
        vec![
            Got::Event("frame 1".into(), Some("\u{1}bad".into()), "{}".into()),
            Got::Bad(
                "frame 2".into(),
                b"data: \xff\n\n".to_vec(),
                "invalid UTF-8 at byte 28 (line 4)".into()
            ),
        ]
    );
}

/// Found by `prop_read_events_any_split_gives_the_same_items`: the format was told from the first
/// read alone, so a pipe whose first write was short (`d`, then `ata: …`) was refused as "not an
/// event log".
#[test]
fn format_is_not_told_from_a_pipes_short_first_read() {
    for (input, cut) in [
        (&b"data: {}\n\n"[..], 1),
        (b"\n\n{\"type\":\"a.b\"}\n", 1),
        (b"{\"type\":\"a.b\"}\n", 1),
        (b"{\n\"type\":\"a.b\"}\n", 1),
        (b"{\"flightrec_tape\":1}\n", 3),
    ] {
        let whole = run(any_format, input, &[]);
        assert_eq!(run(any_format, input, &[cut]), whole, "{input:?}");
    }
}

/// Found by `prop_sse_frames_are_events_or_quarantined_as_the_spec_says`: an SSE input starting
/// with a byte-order mark panicked inside eventsource-stream 0.2.3 (it slices one byte off the
/// three-byte mark), whole or with the mark split across chunks.
#[test]
fn sse_starting_with_a_byte_order_mark_does_not_panic() {
    let (items, err, _) = run(sse, b"\xEF\xBB\xBFdata: {}\n\n", &[]);
    assert_eq!(
        (items, err),
        (vec![Got::Event("frame 1".into(), None, "{}".into())], None)
    );
    let chunks = [&b"\xEF"[..], b"", b"\xBB\xBFdata: {}\n\n"].map(|c| Ok(c.to_vec()));
    let frames: Vec<_> = decode_sse_chunks(chunks.into_iter()).collect();
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].as_ref().map(|f| f.data.as_str()), Ok("{}"));
    // Found by bench/fuzz.sh: a second mark (only one is dropped, as the spec says; the second
    // is part of a field name) panicked the same way.
    let (items, err, _) = run(sse, b"\xEF\xBB\xBF\xEF\xBB\xBF\ndata: {}\n\n", &[]);
    assert_eq!(
        (items, err),
        (vec![Got::Event("frame 1".into(), None, "{}".into())], None)
    );
    let (items, err, _) = run(sse, b"\xEF\xBB\xBF\xEF\xBB\xBFdata: {}\n\n", &[]);
    assert_eq!((items, err), (vec![], None));
}
