//! Property tests of the tape reader (`tape.rs`): a tape written from any records reads back to
//! the same records, texts byte for byte, plain or gzip; any strict prefix of a tape (a truncated
//! file or stream) is refused; any bytes, or a tape with bytes changed, give a tape whose counts
//! hold or a one-line error. Run by `crate::props::check`.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use std::borrow::Cow;
use std::io::Write;

use super::tape::*;
use crate::props::check;

/// Texts as a store holds them: multi-line, quotes, backslashes, U+2028, NUL, emoji.
fn text() -> impl Strategy<Value = String> {
    "[a-z{}\":,\\\\\n\r\t \u{2028}\u{0}é\u{1F600}]{0,16}"
}

fn c(s: String) -> Cow<'static, str> {
    Cow::Owned(s)
}

fn record() -> impl Strategy<Value = Record<'static>> {
    prop_oneof![
        (text(), text(), text(), text(), 0i64..3, text()).prop_map(|(t, ty, s, at, rev, raw)| {
            Record::Event {
                thread_id: c(t),
                event_type: c(ty),
                source: c(s),
                received_at: c(at),
                revision: rev,
                raw: c(raw),
            }
        }),
        (0u64..4, text(), text(), text(), text()).prop_map(|(e, s, at, rep, raw)| {
            Record::Revision {
                event: e,
                source: c(s),
                received_at: c(at),
                replaced_at: c(rep),
                raw: c(raw),
            }
        }),
        (text(), text(), any::<i64>(), text(), text(), text()).prop_map(
            |(t, ty, o, s, at, raw)| Record::Preview {
                thread_id: c(t),
                preview_type: c(ty),
                ordinal: o,
                source: c(s),
                received_at: c(at),
                raw: c(raw),
            }
        ),
        (
            text(),
            text(),
            text(),
            prop::option::of(text()),
            prop::option::of(text())
        )
            .prop_map(|(t, k, s, e, d)| Record::Capture {
                thread_id: c(t),
                log_kind: c(k),
                started_at: c(s),
                ended_at: e.map(c),
                detail: d.map(c),
            }),
    ]
}

/// A tape's records, with every revision pointing at an event the tape has.
fn records() -> impl Strategy<Value = Vec<Record<'static>>> {
    prop::collection::vec(record(), 0..12).prop_map(|mut rs| {
        let events = rs
            .iter()
            .filter(|r| matches!(r, Record::Event { .. }))
            .count() as u64;
        rs.retain_mut(|r| match r {
            Record::Revision { event, .. } if events == 0 => {
                let _ = event;
                false
            }
            Record::Revision { event, .. } => {
                *event %= events;
                true
            }
            _ => true,
        });
        rs
    })
}

fn counts(rs: &[Record<'_>]) -> TapeCounts {
    let n = |f: fn(&Record<'_>) -> bool| rs.iter().filter(|r| f(r)).count() as u64;
    TapeCounts {
        events: n(|r| matches!(r, Record::Event { .. })),
        revisions: n(|r| matches!(r, Record::Revision { .. })),
        previews: n(|r| matches!(r, Record::Preview { .. })),
        capture_log: n(|r| matches!(r, Record::Capture { .. })),
    }
}

fn header(session: &str, counts: TapeCounts) -> TapeHeader {
    TapeHeader {
        flightrec_tape: TAPE_VERSION,
        flightrec_version: "0.1.0".into(),
        session_id: session.into(),
        exported_at: "2026-12-06T00:00:00.000Z".into(),
        session: TapeSession {
            object: Some("{\"id\":\"sesn_x\",\n \"type\":\"session\"}".into()),
            fetched_at: None,
        },
        capture: serde_json::Value::Null,
        redaction: None,
        counts,
    }
}

/// A tape's text: header, then one record a line.
fn write(h: &TapeHeader, rs: &[Record<'_>]) -> Vec<u8> {
    let mut out = serde_json::to_vec(h).unwrap();
    out.push(b'\n');
    for r in rs {
        out.extend(serde_json::to_vec(r).unwrap());
        out.push(b'\n');
    }
    out
}

fn gzip(b: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b).unwrap();
    gz.finish().unwrap()
}

fn tape_input() -> impl Strategy<Value = (String, Vec<Record<'static>>)> {
    (text(), records())
}

#[test]
fn prop_tape_reads_back_what_was_written_byte_for_byte() {
    check(
        "tape round trip",
        128,
        (tape_input(), any::<bool>()),
        |((session, rs), gz)| {
            let h = header(&session, counts(&rs));
            let plain = write(&h, &rs);
            let input = if gz { gzip(&plain) } else { plain };
            let tape = match read_tape(&input[..]) {
                Ok(t) => t,
                Err(e) => return Err(TestCaseError::fail(format!("refused: {e}"))),
            };
            prop_assert_eq!(&tape.header, &h);
            let mut all: Vec<(u64, Record<'static>)> =
                [tape.events, tape.revisions, tape.previews, tape.capture].concat();
            all.sort_by_key(|(line, _)| *line);
            let lines: Vec<u64> = all.iter().map(|(l, _)| *l).collect();
            let want_lines: Vec<u64> = (2..rs.len() as u64 + 2).collect();
            prop_assert_eq!(lines, want_lines);
            let got: Vec<Record<'static>> = all.into_iter().map(|(_, r)| r).collect();
            prop_assert_eq!(got, rs);
            Ok(())
        },
    );
}

#[test]
fn prop_tape_any_strict_prefix_is_refused() {
    check(
        "tape prefix",
        128,
        (tape_input(), any::<bool>(), any::<usize>()),
        |((session, rs), gz, cut)| {
            let plain = write(&header(&session, counts(&rs)), &rs);
            let input = if gz { gzip(&plain) } else { plain };
            let cut = cut % input.len();
            match read_tape(&input[..cut]) {
                // Only the last newline cut off a tape without records: the header is whole.
                Ok(t) if !gz && rs.is_empty() && cut + 1 == input.len() => {
                    prop_assert_eq!(t.header, header(&session, counts(&rs)));
                    Ok(())
                }
                Ok(t) => Err(TestCaseError::fail(format!(
                    "{} of {} bytes read as a tape of {} events",
                    cut,
                    input.len(),
                    t.events.len()
                ))),
                Err(e) => {
                    prop_assert!(!e.to_string().contains('\n'), "{}", e);
                    Ok(())
                }
            }
        },
    );
}

#[test]
fn prop_tape_any_bytes_give_a_whole_tape_or_a_one_line_error() {
    let changed = (
        tape_input(),
        any::<bool>(),
        prop::collection::vec((any::<usize>(), any::<u8>()), 1..4),
    )
        .prop_map(|((session, rs), gz, flips)| {
            let plain = write(&header(&session, counts(&rs)), &rs);
            let mut input = if gz { gzip(&plain) } else { plain };
            for (at, b) in flips {
                let n = input.len();
                input[at % n] = b;
            }
            input
        });
    let strategy = prop_oneof![changed, prop::collection::vec(any::<u8>(), 0..64)];
    check("tape any bytes", 256, strategy, |input| {
        match read_tape(&input[..]) {
            Ok(t) => {
                let want = t.header.counts;
                prop_assert_eq!(t.events.len() as u64, want.events);
                prop_assert_eq!(t.revisions.len() as u64, want.revisions);
                prop_assert_eq!(t.previews.len() as u64, want.previews);
                prop_assert_eq!(t.capture.len() as u64, want.capture_log);
            }
            Err(e) => prop_assert!(
                !e.to_string().contains('\n') && !e.to_string().is_empty(),
                "{}",
                e
            ),
        }
        Ok(())
    });
}

/// Found by `prop_tape_any_bytes_give_a_whole_tape_or_a_one_line_error` (bench/fuzz.sh): serde's
/// message quotes the bad value decoded, so a record or header holding `\n` made a message of
/// several lines.
#[test]
fn bad_tape_record_error_is_one_line() {
    let h = serde_json::to_string(&header(
        "s",
        TapeCounts {
            events: 1,
            ..TapeCounts::default()
        },
    ))
    .unwrap();
    for text in [
        format!("{h}\n{{\"kind\":\"x\\ny\"}}\n"),
        "{\"flightrec_tape\":1,\"session_id\":[\"a\\nb\"]}\n".to_string(),
    ] {
        let e = read_tape(text.as_bytes()).unwrap_err().to_string();
        assert!(!e.contains('\n'), "{e}");
    }
}
