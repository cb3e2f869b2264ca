//! Property tests of restoring a tape into a real SQLite store (`tape.rs`): a tape's events come
//! back byte for byte with their sources and arrival times, restoring it again stores nothing
//! twice, and a tape with one bad record (an unknown source, text that is no event) is refused
//! whole, leaving no event of it stored. Run by `crate::props::check`.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use std::borrow::Cow;

use super::tape::restore;
use crate::props::check;
use crate::source::tape::{Record, TAPE_VERSION, Tape, TapeCounts, TapeHeader, TapeSession};
use crate::store::{Store, TimelineQuery};

const SESSION: &str = "sesn_011CZkZ9X2dpNyB7HsEFoRfW";

/// An event: its type, text, source, processed time (none: queued), and whether it is spoilt.
#[derive(Debug, Clone)]
struct Ev {
    kind: &'static str,
    text: String,
    source: &'static str,
    processed: Option<u8>,
    pretty: bool,
}

fn ev() -> impl Strategy<Value = Ev> {
    (
        prop::sample::select(
            &[
                "agent.message",
                "user.message",
                "session.status_idle",
                "agent.tool_use",
            ][..],
        ),
        "[a-z \"\\\\\n\u{2028}é\u{1F600}]{0,12}",
        prop::sample::select(&["stream", "list", "import"][..]),
        prop::option::of(0u8..60),
        any::<bool>(),
    )
        .prop_map(|(kind, text, source, processed, pretty)| Ev {
            kind,
            text,
            source,
            processed,
            pretty,
        })
}

fn raw(e: &Ev, i: usize) -> String {
    let mut v = serde_json::json!({
        "type": e.kind,
        "id": format!("sevt_{i:04}"),
        "content": [{"type": "text", "text": e.text}],
    });
    v["processed_at"] = match e.processed {
        Some(s) => format!("2026-12-06T00:00:{s:02}.000Z").into(),
        None => serde_json::Value::Null,
    };
    if e.pretty {
        serde_json::to_string_pretty(&v).unwrap()
    } else {
        v.to_string()
    }
}

fn tape(evs: &[Ev], spoil: Option<(usize, bool)>) -> Tape {
    let events: Vec<(u64, Record<'static>)> = evs
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let bad = spoil
                .filter(|(at, _)| at % evs.len() == i)
                .map(|(_, how)| how);
            let record = Record::Event {
                thread_id: Cow::Borrowed(""),
                event_type: Cow::Borrowed(e.kind),
                source: Cow::Borrowed(if bad == Some(true) {
                    "carrier-pigeon"
                } else {
                    e.source
                }),
                received_at: Cow::Owned(format!("2026-12-06T00:01:{:02}.000Z", i % 60)),
                revision: 0,
                raw: Cow::Owned(if bad == Some(false) {
                    "{\"type\": [1}".into()
                } else {
                    raw(e, i)
                }),
            };
            (i as u64 + 2, record)
        })
        .collect();
    Tape {
        header: TapeHeader {
            flightrec_tape: TAPE_VERSION,
            flightrec_version: "0.1.0".into(),
            session_id: SESSION.into(),
            exported_at: "2026-12-06T00:02:00.000Z".into(),
            session: TapeSession::default(),
            capture: serde_json::Value::Null,
            redaction: None,
            counts: TapeCounts {
                events: events.len() as u64,
                ..TapeCounts::default()
            },
        },
        events,
        revisions: vec![],
        previews: vec![],
        capture: vec![],
    }
}

/// The stored events of the session: (raw, source, received_at), sorted.
fn stored(store: &Store) -> Vec<(String, String, String)> {
    let mut rows: Vec<_> = store
        .events(SESSION, &TimelineQuery::default())
        .unwrap_or_default()
        .into_iter()
        .map(|r| (r.raw, r.source, r.received_at))
        .collect();
    rows.sort();
    rows
}

#[test]
fn prop_tape_restore_stores_every_event_once_byte_for_byte() {
    check(
        "tape restore",
        24,
        prop::collection::vec(ev(), 1..8),
        |evs| {
            let dir = tempfile::tempdir().unwrap();
            let mut store = Store::open(&dir.path().join("t.db")).unwrap();
            let t = tape(&evs, None);
            let report = restore(&mut store, "t.tape", &t)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(report.counts.new, evs.len() as u64);
            let mut want: Vec<(String, String, String)> = t
                .events
                .iter()
                .map(|(_, r)| match r {
                    Record::Event {
                        raw,
                        source,
                        received_at,
                        ..
                    } => (raw.to_string(), source.to_string(), received_at.to_string()),
                    _ => unreachable!(),
                })
                .collect();
            want.sort();
            prop_assert_eq!(stored(&store), want.clone());
            let again = restore(&mut store, "t.tape", &t)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(
                again.counts.new + again.counts.updated,
                0,
                "{:?}",
                again.counts
            );
            prop_assert_eq!(stored(&store), want);
            Ok(())
        },
    );
}

#[test]
fn prop_tape_restore_of_a_bad_record_stores_nothing() {
    let strategy = (
        prop::collection::vec(ev(), 1..8),
        any::<usize>(),
        any::<bool>(),
    );
    check("tape restore bad", 24, strategy, |(evs, at, how)| {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("t.db")).unwrap();
        match restore(&mut store, "t.tape", &tape(&evs, Some((at, how)))) {
            Ok(r) => {
                return Err(TestCaseError::fail(format!(
                    "a bad record was restored: {:?}",
                    r.counts
                )));
            }
            Err(e) => {
                let e = e.to_string();
                prop_assert!(e.starts_with("t.tape: line ") && !e.contains('\n'), "{}", e);
            }
        }
        prop_assert_eq!(stored(&store), vec![]);
        Ok(())
    });
}
