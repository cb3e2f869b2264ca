//! Migration 0013's compact event rows: every column reads back as it was written, through the
//! `events` view's SQL and through the readers that format the stored forms in Rust.

use super::*;
use crate::model::{Envelope, Source};

/// (id, processed_at as written, received_at as written)
const CASES: &[(&str, Option<&str>, &str)] = &[
    (
        "sevt_a",
        Some("2026-08-07T14:02:11.482Z"),
        "2026-08-07T14:00:00.000Z",
    ),
    (
        "sevt_b",
        Some("2026-08-07T14:02:11.482123Z"),
        "2026-08-07T14:00:00Z",
    ),
    (
        "sevt_c",
        Some("2026-08-07T14:02:11Z"),
        "2026-12-06T21:17:01.606Z",
    ),
    (
        "sevt_d",
        Some("2026-08-07T16:02:12.000+02:00"),
        "not a time",
    ),
    ("sevt_e", None, "1970-01-01T00:00:00.000Z"),
    ("sevt_f", Some("yesterday"), "2026-08-07T14:00:00.000+00:00"),
    (
        "",
        Some("2026-08-07T14:02:13.000Z"),
        "2026-08-07T14:00:00.001Z",
    ),
];

fn raw(id: &str, processed_at: Option<&str>) -> String {
    let pa = processed_at.map_or("null".to_string(), |p| format!("\"{p}\""));
    format!(r#"{{"type":"agent.message","id":"{id}","processed_at":{pa},"content":[]}}"#)
}

fn written() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("t.db")).unwrap();
    let mut b = store.batch().unwrap();
    for &(id, pa, recv) in CASES {
        let text = raw(id, pa);
        let env = Envelope::parse(&text, None).unwrap();
        b.upsert(&Incoming {
            session_id: "sesn_slim",
            thread_id: "",
            envelope: &env,
            source: Source::Stream,
            received_at: recv,
            preview_ordinal: 1,
        })
        .unwrap();
    }
    b.commit().unwrap();
    (dir, store)
}

type Cols = (String, String, Option<String>, String);

/// (id, session, processed_at, received_at) of each event as the view's SQL gives them.
fn through_sql(store: &Store) -> Vec<Cols> {
    store
        .conn
        .prepare("SELECT event_id, session_id, processed_at, received_at FROM events ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn expected() -> Vec<Cols> {
    CASES
        .iter()
        .map(|&(id, pa, recv)| {
            (
                id.to_string(),
                "sesn_slim".to_string(),
                pa.map(str::to_string),
                recv.to_string(),
            )
        })
        .collect()
}

#[test]
fn every_time_and_id_reads_back_as_written_through_sql_and_through_the_readers() {
    let (_d, store) = written();
    assert_eq!(through_sql(&store), expected());
    let mut rows = store
        .events("sesn_slim", &TimelineQuery::default())
        .unwrap();
    rows.sort_by_key(|r| r.seq);
    let got: Vec<Cols> = rows
        .iter()
        .map(|r| {
            (
                r.event_id.clone(),
                "sesn_slim".to_string(),
                r.processed_at.clone(),
                r.received_at.clone(),
            )
        })
        .collect();
    assert_eq!(got, expected());
    let mut scanned = Vec::new();
    store
        .scan_events("sesn_slim", &TimelineQuery::default(), |ev| {
            scanned.push((ev.seq, ev.processed_at.map(str::to_string)));
            true
        })
        .unwrap();
    scanned.sort();
    let want: Vec<Option<String>> = CASES.iter().map(|c| c.1.map(str::to_string)).collect();
    assert_eq!(scanned.into_iter().map(|s| s.1).collect::<Vec<_>>(), want);
    // The canonical forms are kept as numbers (or not at all), the others as text.
    let stored: Vec<(String, String, String)> = store
        .conn
        .prepare(
            "SELECT typeof(event_id), typeof(processed_at), typeof(received_at) FROM event_rows \
             ORDER BY seq",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(stored[0], ("null".into(), "null".into(), "integer".into()));
    assert_eq!(stored[1], ("null".into(), "text".into(), "text".into()));
    assert_eq!(stored[4], ("null".into(), "null".into(), "integer".into()));
    assert_eq!(
        stored[6].0, "text",
        "an empty id is kept: its key is synthetic"
    );
}

#[test]
fn the_views_sql_writes_times_as_the_rust_side_does_over_years_of_instants() {
    let (_d, store) = written();
    // Every ~37 hours and 1 ms from 1970 to 2075, plus the edges.
    let mut ms: Vec<i64> = (0..25_000_i64).map(|i| i * 133_200_001).collect();
    ms.extend([0, 999, 86_399_999, 951_782_400_000, 253_402_300_799_999]);
    for chunk in ms.chunks(500) {
        let list = serde_json::to_string(chunk).unwrap();
        let sql: Vec<(i64, String, String)> = store
            .conn
            .prepare(
                "SELECT value, \
                   strftime('%Y-%m-%dT%H:%M:%S', value / 1000, 'unixepoch') \
                     || printf('.%03dZ', value % 1000), \
                   strftime('%Y-%m-%dT%H:%M:%S', value * 1000 / 1000000, 'unixepoch') \
                     || printf('.%03dZ', (value * 1000 / 1000) % 1000) \
                 FROM json_each(?1)",
            )
            .unwrap()
            .query_map([&list], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        for (m, received, processed) in sql {
            let rust = slim::format_ms(m).unwrap();
            assert_eq!(received, rust, "{m} ms");
            assert_eq!(processed, rust, "{m} ms as µs");
            assert_eq!(slim::parse_canonical_ms(&rust), Some(m));
        }
    }
}

#[test]
fn migrating_a_version_12_database_keeps_every_column_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("v12.db");
    {
        let c = rusqlite::Connection::open(&p).unwrap();
        for sql in &MIGRATIONS[..12] {
            c.execute_batch(sql).unwrap();
        }
        c.pragma_update(None, "user_version", 12).unwrap();
        c.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
        c.execute("INSERT INTO sessions (id) VALUES ('sesn_slim')", [])
            .unwrap();
        for (i, &(id, pa, recv)) in CASES.iter().enumerate() {
            let ts = pa
                .and_then(|p| Envelope::parse(&raw(id, Some(p)), None).ok()?.ts_micros)
                .unwrap_or(QUEUED_SORT_TS);
            let key = if id.is_empty() {
                format!("~k{i}")
            } else {
                id.to_string()
            };
            c.execute(
                "INSERT INTO events (seq, session_id, event_id, dedup_key, type, processed_at, \
                 sort_ts, source, received_at, raw) VALUES (?1, 'sesn_slim', ?2, ?3, \
                 'agent.message', ?4, ?5, 'import', ?6, ?7)",
                rusqlite::params![i as i64 + 1, id, key, pa, ts, recv, raw(id, pa)],
            )
            .unwrap();
        }
        c.execute(
            "INSERT INTO event_revisions (id, event_seq, source, received_at, replaced_at, raw) \
             VALUES (1, 2, 'stream', 't', 't', '{}')",
            [],
        )
        .unwrap();
    }
    let s = Store::open(&p).unwrap();
    assert_eq!(through_sql(&s), expected());
    assert_eq!(s.revisions(2).unwrap(), ["{}"]);
    let n: i64 = s
        .conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(n, 0);
    let n: i64 = s
        .conn
        .query_row(
            "SELECT count(*) FROM event_rows WHERE typeof(received_at) = 'integer'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 4, "the canonical arrival times are numbers");
}
