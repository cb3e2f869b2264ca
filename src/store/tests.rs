use super::*;
use crate::model::{Envelope, Source};

fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("t.db")).unwrap();
    (dir, store)
}

fn put(store: &mut Store, raw: &str) -> Outcome {
    put_nth(store, raw, 1)
}

fn put_nth(store: &mut Store, raw: &str, preview_ordinal: u32) -> Outcome {
    let env = Envelope::parse(raw, None).unwrap();
    let mut b = store.batch().unwrap();
    let o = b
        .upsert(&Incoming {
            session_id: "sesn_1",
            thread_id: "",
            envelope: &env,
            source: Source::Stream,
            received_at: "2026-08-07T14:00:00.000Z",
            preview_ordinal,
        })
        .unwrap();
    b.commit().unwrap();
    o
}

fn all(store: &Store) -> Vec<EventRow> {
    store.events("sesn_1", &TimelineQuery::default()).unwrap()
}

const QUEUED: &str = r#"{"type":"user.message","id":"sevt_u","processed_at":null,"content":[{"type":"text","text":"hi"}]}"#;
const PROCESSED: &str = r#"{"type":"user.message","id":"sevt_u","processed_at":"2026-08-07T14:02:11.482Z","content":[{"type":"text","text":"hi"}]}"#;

#[test]
fn queued_copy_is_replaced_by_the_processed_one_and_kept_as_a_revision() {
    let (_d, mut s) = temp_store();
    assert_eq!(put(&mut s, QUEUED), Outcome::Inserted);
    assert_eq!(all(&s)[0].processed_at, None);
    assert_eq!(put(&mut s, PROCESSED), Outcome::Updated);
    let rows = all(&s);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].raw, PROCESSED);
    assert_eq!(
        rows[0].processed_at.as_deref(),
        Some("2026-08-07T14:02:11.482Z")
    );
    assert_eq!(rows[0].revision, 1);
    assert_eq!(s.revisions(rows[0].seq).unwrap(), vec![QUEUED.to_string()]);
}

#[test]
fn a_late_queued_copy_never_replaces_the_processed_one() {
    let (_d, mut s) = temp_store();
    put(&mut s, PROCESSED);
    assert_eq!(put(&mut s, QUEUED), Outcome::Duplicate);
    assert_eq!(all(&s)[0].raw, PROCESSED);
}

#[test]
fn identical_repeats_are_no_ops() {
    let (_d, mut s) = temp_store();
    assert_eq!(put(&mut s, PROCESSED), Outcome::Inserted);
    assert_eq!(put(&mut s, PROCESSED), Outcome::Duplicate);
    assert_eq!(put(&mut s, PROCESSED), Outcome::Duplicate);
    assert_eq!(all(&s).len(), 1);
    assert_eq!(s.require_session("sesn_1").unwrap().event_count, 1);
}

#[test]
fn empty_id_interrupts_are_never_merged_with_each_other() {
    let (_d, mut s) = temp_store();
    let a = r#"{"type":"user.interrupt","id":"","processed_at":"2026-08-07T14:05:40.019Z"}"#;
    let b = r#"{"type":"user.interrupt","id":"","processed_at":"2026-08-07T14:06:00.000Z"}"#;
    let q = r#"{"type":"user.interrupt","id":"","processed_at":null}"#;
    assert_eq!(put(&mut s, a), Outcome::Inserted);
    assert_eq!(put(&mut s, b), Outcome::Inserted);
    assert_eq!(put(&mut s, q), Outcome::Inserted);
    assert_eq!(
        put(&mut s, q),
        Outcome::Inserted,
        "queued empty-id events cannot be told apart: keep both"
    );
    // The very same processed frame seen twice (stream, then history) is one event.
    assert_eq!(put(&mut s, a), Outcome::Duplicate);
    let rows = all(&s);
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r.event_id.is_empty()));
}

#[test]
fn preview_frames_never_replace_the_real_message() {
    let (_d, mut s) = temp_store();
    let start = r#"{"type":"event_start","event":{"type":"agent.message","id":"sevt_m"}}"#;
    let delta = r#"{"type":"event_delta","event_id":"sevt_m","delta":{"type":"content_delta","index":0,"content":{"type":"text","text":"Thr"}}}"#;
    let msg = r#"{"type":"agent.message","id":"sevt_m","processed_at":"2026-08-07T14:02:24.318Z","content":[{"type":"text","text":"Three"}]}"#;
    assert_eq!(put(&mut s, start), Outcome::Preview);
    assert_eq!(put_nth(&mut s, delta, 2), Outcome::Preview);
    assert_eq!(put(&mut s, msg), Outcome::Inserted);
    // A preview arriving after the final event changes nothing either.
    let late = r#"{"type":"event_delta","event_id":"sevt_m","delta":{"type":"content_delta","content":{"type":"text","text":"e"}}}"#;
    let env = Envelope::parse(late, None).unwrap();
    let mut b = s.batch().unwrap();
    let inc = Incoming {
        session_id: "sesn_1",
        thread_id: "",
        envelope: &env,
        source: Source::Stream,
        received_at: "t",
        preview_ordinal: 3,
    };
    assert_eq!(b.upsert(&inc).unwrap(), Outcome::Preview);
    b.commit().unwrap();

    let rows = all(&s);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].event_type, "agent.message");
    assert_eq!(rows[0].raw, msg);
    let previews = s.previews("sesn_1").unwrap();
    assert_eq!(previews.len(), 3);
    assert!(previews.iter().all(|p| p.event_id == "sevt_m"));
}

#[test]
fn order_is_processed_at_then_arrival_with_queued_last() {
    let (_d, mut s) = temp_store();
    put(
        &mut s,
        r#"{"type":"a.x","id":"sevt_2","processed_at":"2026-08-07T14:02:11Z"}"#,
    );
    put(
        &mut s,
        r#"{"type":"a.x","id":"sevt_q","processed_at":null}"#,
    );
    put(
        &mut s,
        r#"{"type":"a.x","id":"sevt_1","processed_at":"2026-08-07T14:02:10.999999Z"}"#,
    );
    put(
        &mut s,
        r#"{"type":"a.x","id":"sevt_3","processed_at":"2026-08-07T16:02:11.5+02:00"}"#,
    );
    let ids: Vec<String> = all(&s).into_iter().map(|r| r.event_id).collect();
    assert_eq!(ids, ["sevt_1", "sevt_2", "sevt_3", "sevt_q"]);
}

#[test]
fn session_status_is_the_newest_status_event() {
    let (_d, mut s) = temp_store();
    put(
        &mut s,
        r#"{"type":"session.status_idle","id":"sevt_1","processed_at":"2026-08-07T14:00:01Z","stop_reason":{"type":"requires_action","event_ids":["x"]}}"#,
    );
    put(
        &mut s,
        r#"{"type":"session.status_running","id":"sevt_2","processed_at":"2026-08-07T14:00:02Z"}"#,
    );
    let sum = s.require_session("sesn_1").unwrap();
    assert_eq!(sum.status.as_deref(), Some("running"));
    assert_eq!(sum.stop_reason.as_deref(), Some("requires_action"));
    put(
        &mut s,
        r#"{"type":"session.status_idle","id":"sevt_3","processed_at":"2026-08-07T14:00:03Z","stop_reason":{"type":"end_turn"}}"#,
    );
    let sum = s.require_session("sesn_1").unwrap();
    assert_eq!(sum.status.as_deref(), Some("idle"));
    assert_eq!(sum.stop_reason.as_deref(), Some("end_turn"));
    assert_eq!(sum.event_count, 3);
    assert_eq!(sum.last_ts.unwrap() - sum.first_ts.unwrap(), 2_000_000);
}

#[test]
fn rolled_back_batches_leave_nothing() {
    let (_d, mut s) = temp_store();
    {
        let env = Envelope::parse(PROCESSED, None).unwrap();
        let mut b = s.batch().unwrap();
        b.upsert(&Incoming {
            session_id: "sesn_1",
            thread_id: "",
            envelope: &env,
            source: Source::List,
            received_at: "t",
            preview_ordinal: 0,
        })
        .unwrap();
        // dropped without commit
    }
    assert!(s.session_summary("sesn_1").unwrap().is_none());
    assert_eq!(put(&mut s, PROCESSED), Outcome::Inserted);
}

#[test]
fn newer_foreign_and_non_sqlite_databases_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let newer = dir.path().join("newer.db");
    drop(Store::open(&newer).unwrap());
    let c = rusqlite::Connection::open(&newer).unwrap();
    c.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(c);
    let err = Store::open(&newer).err().unwrap();
    assert!(matches!(err, StoreError::TooNew { .. }), "{err}");
    assert!(err.to_string().contains("newer flightrec"), "{err}");

    let foreign = dir.path().join("foreign.db");
    let c = rusqlite::Connection::open(&foreign).unwrap();
    c.execute_batch("CREATE TABLE t (x)").unwrap();
    drop(c);
    assert!(matches!(
        Store::open(&foreign),
        Err(StoreError::Foreign { .. })
    ));

    let text = dir.path().join("notes.txt");
    std::fs::write(
        &text,
        "these are not the droids you are looking for, not at all, no",
    )
    .unwrap();
    let err = Store::open(&text).err().unwrap();
    assert!(matches!(err, StoreError::NotADatabase { .. }), "{err}");

    assert!(matches!(
        Store::open_existing(&dir.path().join("nope.db")),
        Err(StoreError::Missing { .. })
    ));
}

#[test]
fn reopening_keeps_data_and_version() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.db");
    {
        let mut s = Store::open(&p).unwrap();
        put(&mut s, PROCESSED);
    }
    let s = Store::open(&p).unwrap();
    assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(all(&s).len(), 1);
    let r = Store::open_read_only(&p).unwrap();
    assert_eq!(r.require_session("sesn_1").unwrap().event_count, 1);
}

/// The raw text `scan_events` lends for each event when results are read slim.
fn slim_scan(store: &Store) -> Vec<(String, String)> {
    let q = TimelineQuery {
        slim_types: vec!["agent.tool_result".into()],
        ..TimelineQuery::default()
    };
    let mut out = Vec::new();
    store
        .scan_events("sesn_1", &q, |ev| {
            out.push((ev.event_id.to_string(), ev.raw.to_string()));
            true
        })
        .unwrap();
    out
}

#[test]
fn slim_results_carry_is_error_from_the_stored_text_through_replacements() {
    let (_d, mut s) = temp_store();
    let ok = r#"{"type":"agent.tool_result","id":"sevt_r","tool_use_id":"sevt_t","content":[{"type":"text","text":"true story"}],"is_error":false,"processed_at":"2026-08-07T14:02:11.482Z"}"#;
    let failed = r#"{"type":"agent.tool_result","id":"sevt_r","tool_use_id":"sevt_t","content":[],"is_error": true,"processed_at":"2026-08-07T14:02:11.482Z"}"#;
    let other = r#"{"type":"agent.message","id":"sevt_m","content":[],"processed_at":"2026-08-07T14:02:12Z"}"#;
    put(&mut s, ok);
    put(&mut s, other);
    assert_eq!(
        slim_scan(&s),
        [
            ("sevt_r".to_string(), "{}".to_string()),
            ("sevt_m".to_string(), other.to_string())
        ]
    );
    assert_eq!(put(&mut s, failed), Outcome::Updated);
    assert_eq!(slim_scan(&s)[0].1, r#"{"is_error":true}"#);
    assert_eq!(put(&mut s, ok), Outcome::Updated);
    assert_eq!(slim_scan(&s)[0].1, "{}");
}

#[test]
fn scans_stop_when_told() {
    let (_d, mut s) = temp_store();
    put(&mut s, PROCESSED);
    put(
        &mut s,
        r#"{"type":"agent.message","id":"sevt_m","content":[],"processed_at":"2026-08-07T14:02:12Z"}"#,
    );
    let mut seen = 0;
    s.scan_events("sesn_1", &TimelineQuery::default(), |_| {
        seen += 1;
        false
    })
    .unwrap();
    assert_eq!(seen, 1);
}

#[test]
fn migrating_a_version_1_database_flags_its_failed_results() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("v1.db");
    {
        let c = rusqlite::Connection::open(&p).unwrap();
        c.execute_batch(include_str!("migrations/0001_init.sql"))
            .unwrap();
        c.pragma_update(None, "user_version", 1).unwrap();
        c.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
        c.execute_batch(
            "INSERT INTO sessions (id, event_count) VALUES ('sesn_1', 2); \
             INSERT INTO events (seq, session_id, event_id, dedup_key, type, processed_at, sort_ts, \
               source, received_at, raw) VALUES \
             (1, 'sesn_1', 'sevt_a', 'sevt_a', 'agent.tool_result', 'x', 1, 'import', 't', \
               '{\"type\":\"agent.tool_result\",\"id\":\"sevt_a\",\"is_error\":true}'), \
             (2, 'sesn_1', 'sevt_b', 'sevt_b', 'agent.tool_result', 'x', 2, 'import', 't', \
               '{\"type\":\"agent.tool_result\",\"id\":\"sevt_b\",\"is_error\":false}')",
        )
        .unwrap();
    }
    let s = Store::open(&p).unwrap();
    assert_eq!(
        slim_scan(&s),
        [
            ("sevt_a".to_string(), r#"{"is_error":true}"#.to_string()),
            ("sevt_b".to_string(), "{}".to_string())
        ]
    );
}

#[test]
fn a_pipelined_scan_lends_the_same_rows_in_the_same_order() {
    let (_d, mut s) = temp_store();
    // More rows than one batch, with optional fields present and absent.
    for i in 0..2500 {
        let raw = if i % 3 == 0 {
            format!(
                r#"{{"type":"agent.tool_result","id":"sevt_{i}","tool_use_id":"sevt_x","processed_at":"2026-08-07T14:00:{:02}.{:03}Z"}}"#,
                i / 1000,
                i % 1000
            )
        } else {
            format!(r#"{{"type":"agent.message","id":"sevt_{i}","processed_at":null}}"#)
        };
        put(&mut s, &raw);
    }
    let q = TimelineQuery::default();
    let mut direct = Vec::new();
    s.scan_events("sesn_1", &q, |ev| {
        direct.push(format!("{ev:?}"));
        true
    })
    .unwrap();
    let piped = s
        .scan_events_pipelined("sesn_1", &q, Vec::new(), |v, ev| v.push(format!("{ev:?}")))
        .unwrap();
    assert_eq!(direct.len(), 2500);
    assert_eq!(piped, direct);
}

#[test]
fn an_unmapped_connection_reads_through_the_page_cache() {
    let (_dir, store) = temp_store();
    let mmap = |s: &Store| -> i64 {
        s.conn
            .query_row("PRAGMA mmap_size", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(mmap(&store), MMAP_BYTES as i64);
    let store = store.unmapped().unwrap();
    assert_eq!(mmap(&store), 0);
}

/// An event of type `ty` whose text differs from its neighbours' (numbers, a word, unicode).
fn varied(ty: &str, i: usize) -> String {
    let words = [
        "alpha",
        "beta",
        "gamma",
        "délta",
        "ε",
        "🛫 zeta",
        "eta\\n\\\"quoted\\\"",
    ];
    format!(
        r#"{{"type":"{ty}","id":"sevt_{ty}_{i}","processed_at":"2026-08-07T14:{:02}:{:02}.{:03}Z","content":[{{"type":"text","text":"{} number {} of many, {}"}}],"usage":{{"input_tokens":{},"output_tokens":{}}}}}"#,
        i / 3600 % 60,
        i / 60 % 60,
        i % 1000,
        words[i % words.len()],
        i * 7919 % 10007,
        "x".repeat(i % 50),
        i * 31,
        i * 17 % 997
    )
}

fn put_all(store: &mut Store, raws: &[String]) {
    let mut b = store.batch().unwrap();
    for raw in raws {
        let env = Envelope::parse(raw, None).unwrap();
        b.upsert(&Incoming {
            session_id: "sesn_1",
            thread_id: "",
            envelope: &env,
            source: Source::Import,
            received_at: "2026-08-07T14:00:00.000Z",
            preview_ordinal: 0,
        })
        .unwrap();
    }
    b.commit().unwrap();
}

fn count(store: &Store, sql: &str) -> i64 {
    store.conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn compressed_text_reads_back_byte_for_byte_through_sql_and_scans() {
    let (d, mut s) = temp_store();
    let n = codec::TRAIN_SAMPLES * 2;
    let mut raws: Vec<String> = (0..n).map(|i| varied("agent.message", i)).collect();
    raws.extend((0..40).map(|i| varied("span.model_request_end", i)));
    put_all(&mut s, &raws);
    assert_eq!(
        count(&s, "SELECT count(*) FROM zstd_dicts"),
        1,
        "one type had enough samples"
    );
    let blobs = count(&s, "SELECT count(*) FROM events WHERE typeof(raw) = 'blob'");
    assert!(
        blobs > codec::TRAIN_SAMPLES as i64,
        "{blobs} rows compressed"
    );
    let with_dict = count(
        &s,
        "SELECT count(*) FROM events WHERE typeof(raw) = 'blob' AND substr(raw, 1, 1) != x'00'",
    );
    assert!(
        with_dict >= (n - codec::TRAIN_SAMPLES) as i64,
        "{with_dict} rows use the dictionary"
    );

    let mut want = raws.clone();
    want.sort();
    let mut via_sql: Vec<String> = all(&s).into_iter().map(|r| r.raw).collect();
    via_sql.sort();
    assert_eq!(via_sql, want);
    let mut via_scan = Vec::new();
    s.scan_events("sesn_1", &TimelineQuery::default(), |e| {
        via_scan.push(e.raw.to_string());
        true
    })
    .unwrap();
    via_scan.sort();
    assert_eq!(via_scan, want);

    // Another connection (a reader opened before the dictionary existed reads it on demand).
    let reader = Store::open_read_only(&d.path().join("t.db")).unwrap();
    let mut again: Vec<String> = all(&reader).into_iter().map(|r| r.raw).collect();
    again.sort();
    assert_eq!(again, want);

    // Repeats of compressed rows are duplicates; a changed copy replaces and is kept.
    put_all(&mut s, &raws[n - 5..n]);
    let last = &raws[n - 1];
    assert_eq!(put(&mut s, last), Outcome::Duplicate);
    let changed = last.replace("many", "plenty");
    assert_eq!(put(&mut s, &changed), Outcome::Updated);
    let row = all(&s).into_iter().find(|r| r.raw == changed).unwrap();
    assert_eq!(s.revisions(row.seq).unwrap(), vec![last.clone()]);
}

#[test]
fn a_dictionary_written_in_a_rolled_back_batch_is_forgotten() {
    let (_d, mut s) = temp_store();
    let raws: Vec<String> = (0..codec::TRAIN_SAMPLES + 10)
        .map(|i| varied("agent.message", i))
        .collect();
    {
        let mut b = s.batch().unwrap();
        for raw in &raws {
            let env = Envelope::parse(raw, None).unwrap();
            b.upsert(&Incoming {
                session_id: "sesn_1",
                thread_id: "",
                envelope: &env,
                source: Source::Import,
                received_at: "2026-08-07T14:00:00.000Z",
                preview_ordinal: 0,
            })
            .unwrap();
        }
        // Dropped: rolled back, with the dictionary it trained.
    }
    assert_eq!(count(&s, "SELECT count(*) FROM zstd_dicts"), 0);
    // Another type trains a dictionary that takes the same id.
    let other: Vec<String> = (0..codec::TRAIN_SAMPLES + 10)
        .map(|i| varied("agent.thinking", i))
        .collect();
    put_all(&mut s, &other);
    put_all(&mut s, &raws);
    let mut want: Vec<String> = other.iter().chain(&raws).cloned().collect();
    want.sort();
    let mut got: Vec<String> = all(&s).into_iter().map(|r| r.raw).collect();
    got.sort();
    assert_eq!(got, want);
    assert_eq!(count(&s, "SELECT count(*) FROM zstd_dicts"), 2);
}

#[test]
fn a_damaged_compressed_row_is_an_error_not_a_panic() {
    let (_d, mut s) = temp_store();
    put(&mut s, PROCESSED);
    s.conn
        .execute("UPDATE event_rows SET raw = x'05280000ff'", [])
        .unwrap();
    let e = s.events("sesn_1", &TimelineQuery::default()).unwrap_err();
    assert!(
        e.to_string().contains("damaged") || e.to_string().contains("dictionary"),
        "{e}"
    );
    let e = s
        .scan_events("sesn_1", &TimelineQuery::default(), |_| true)
        .unwrap_err();
    assert!(e.to_string().contains("damaged"), "{e}");
}

#[test]
fn migrating_a_version_9_database_keeps_every_text_and_compresses_what_comes_next() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("v9.db");
    let old: Vec<String> = (0..3).map(|i| varied("agent.message", i)).collect();
    {
        // What the build before 0012 made: the first nine migrations, rows of text.
        let c = rusqlite::Connection::open(&p).unwrap();
        for sql in &MIGRATIONS[..9] {
            c.execute_batch(sql).unwrap();
        }
        c.pragma_update(None, "user_version", 9).unwrap();
        c.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
        c.execute(
            "INSERT INTO sessions (id, event_count) VALUES ('sesn_1', 3)",
            [],
        )
        .unwrap();
        for (i, raw) in old.iter().enumerate() {
            c.execute(
                "INSERT INTO events (seq, session_id, event_id, dedup_key, type, processed_at, \
                 sort_ts, source, received_at, raw) VALUES (?1, 'sesn_1', ?2, ?2, 'agent.message', \
                 'x', ?1, 'import', 't', ?3)",
                rusqlite::params![i as i64 + 1, format!("sevt_agent.message_{i}"), raw],
            )
            .unwrap();
        }
        c.execute_batch(
            "INSERT INTO event_revisions (id, event_seq, source, received_at, replaced_at, raw) \
               VALUES (1, 2, 'stream', 't', 't', '{\"type\":\"agent.message\",\"old\":1}'); \
             INSERT INTO previews (session_id, event_id, ordinal, type, source, received_at, raw) \
               VALUES ('sesn_1', 'sevt_p', 0, 'event_delta', 'stream', 't', '{\"type\":\"event_delta\"}');",
        )
        .unwrap();
    }
    let mut s = Store::open(&p).unwrap();
    let texts: Vec<String> = all(&s).into_iter().map(|r| r.raw).collect();
    assert_eq!(texts, old);
    assert_eq!(
        s.revisions(2).unwrap(),
        [r#"{"type":"agent.message","old":1}"#]
    );
    assert_eq!(
        s.previews("sesn_1").unwrap()[0].raw,
        r#"{"type":"event_delta"}"#
    );
    assert_eq!(count(&s, "PRAGMA foreign_keys"), 1, "foreign keys back on");
    assert_eq!(
        count(&s, "SELECT count(*) FROM pragma_foreign_key_check"),
        0
    );
    assert_eq!(
        count(
            &s,
            "SELECT count(*) FROM sqlite_schema WHERE name IN ('event_rows_key', 'event_rows_time', \
             'event_rows_type', 'search_dirty_on_replace', 'search_dirty_on_delete', \
             'event_revisions_event', 'previews_key')"
        ),
        7
    );
    let new: Vec<String> = (3..codec::TRAIN_SAMPLES + 50)
        .map(|i| varied("agent.message", i))
        .collect();
    put_all(&mut s, &new);
    assert!(count(&s, "SELECT count(*) FROM events WHERE typeof(raw) = 'blob'") > 0);
    let mut want: Vec<String> = old.iter().chain(&new).cloned().collect();
    want.sort();
    let mut got: Vec<String> = all(&s).into_iter().map(|r| r.raw).collect();
    got.sort();
    assert_eq!(got, want);
}

/// A scan's statement (and any other) is prepared once and reused: reading the `events` view (a join on
/// `session_keys`) made SQLite prepare it again at every run, a fifth of the time of an import
/// of many small sessions (each derived with a few dozen short reads).
#[test]
fn scans_of_sessions_are_not_prepared_again_at_every_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("p.db")).unwrap();
    for f in crate::analysis::testing::sample_files(false).iter().take(4) {
        crate::record::import_file(
            &mut store,
            f,
            &crate::record::ImportOptions::default(),
            &mut |_, _| {},
        )
        .unwrap();
    }
    let ids: Vec<String> = store
        .sessions()
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert!(ids.len() >= 2);
    let q = TimelineQuery {
        types: vec!["session.status_idle".into()],
        ..TimelineQuery::default()
    };
    let mut seen = 0;
    for _ in 0..3 {
        for id in &ids {
            store
                .scan_events(id, &q, |_| {
                    seen += 1;
                    true
                })
                .unwrap();
        }
    }
    assert!(seen > 0);
    let (sql, _) = super::scan::event_query(super::scan::SCAN_COLUMNS, &ids[0], &q);
    let stmt = store.conn.prepare_cached(&sql).unwrap();
    assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0);
    assert!(stmt.get_status(rusqlite::StatementStatus::Run) >= 3 * ids.len() as i32);
    drop(stmt);
    // Nor a statement comparing an indexed column with a parameter that changes from run to run
    // (as the rollups' reads of each status type at every commit).
    let newest = "SELECT sort_ts, seq FROM events WHERE session_id = ?1 AND type = ?2 \
                  ORDER BY sort_ts DESC, seq DESC LIMIT 1";
    for id in &ids {
        for t in [
            "session.status_idle",
            "session.status_running",
            "agent.message",
        ] {
            let mut s = store.conn.prepare_cached(newest).unwrap();
            let _ = s.query_row(rusqlite::params![id, t], |r| r.get::<_, i64>(0));
        }
    }
    let stmt = store.conn.prepare_cached(newest).unwrap();
    assert!(stmt.get_status(rusqlite::StatementStatus::Run) >= 3 * ids.len() as i32);
    assert_eq!(stmt.get_status(rusqlite::StatementStatus::RePrepare), 0);
}
