use super::*;
use crate::model::{Envelope, Source};
use crate::store::{Incoming, SearchQuery, TimelineQuery};

const OLD: &str = "sesn_old";
const KEPT: &str = "sesn_kept";
/// 2026-08-07T12:00:00Z: OLD's events are before it, KEPT's after.
const CUTOFF: i64 = 1_786_104_000_000_000;

fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("t.db")).unwrap();
    (dir, store)
}

fn upsert(store: &mut Store, session: &str, raw: &str) {
    let env = Envelope::parse(raw, None).unwrap();
    let mut b = store.batch().unwrap();
    b.upsert(&Incoming {
        session_id: session,
        thread_id: "",
        envelope: &env,
        source: Source::Stream,
        received_at: "2026-08-07T14:00:00.000Z",
        preview_ordinal: 1,
    })
    .unwrap();
    b.commit().unwrap();
}

fn msg(id: &str, at: &str, text: &str) -> String {
    let at = if at.is_empty() {
        "null".to_string()
    } else {
        format!("\"{at}\"")
    };
    format!(
        r#"{{"type":"agent.message","id":"{id}","processed_at":{at},"content":[{{"type":"text","text":"{text}"}}]}}"#
    )
}

/// A session with a row in every table keyed by sessions: events (one replaced after it was
/// indexed, so a revision and a search_dirty mark; one error), a preview, quarantine, capture
/// log, thread object, session object, webhook delivery, deployment run and fold checkpoint. `hour`: when its
/// events happened on 2026-08-07.
fn fill(store: &mut Store, session: &str, hour: u32, word: &str) {
    let at = |m: u32| format!("2026-08-07T{hour:02}:{m:02}:00.000Z");
    upsert(store, session, &msg(&format!("{session}_m1"), "", word));
    upsert(
        store,
        session,
        &msg(&format!("{session}_m2"), &at(1), "plain words"),
    );
    upsert(
        store,
        session,
        &format!(
            r#"{{"type":"agent.tool_result","id":"{session}_r","processed_at":"{}","tool_use_id":"x","is_error":true}}"#,
            at(2)
        ),
    );
    store.update_search_index().unwrap();
    // The processed copy replaces the queued one already indexed.
    upsert(store, session, &msg(&format!("{session}_m1"), &at(3), word));
    let c = &store.conn;
    c.execute_batch(&format!(
        "INSERT INTO previews (session_id, event_id, ordinal, type, source, received_at, raw) \
           VALUES ('{session}', '{session}_m9', 1, 'event_start', 'stream', '{t}', '{{}}'); \
         INSERT INTO quarantine (session_id, source, origin, reason, received_at, raw) \
           VALUES ('{session}', 'stream', 'x frame 1', 'not json', '{t}', x'00'); \
         INSERT INTO capture_log (session_id, kind, started_at, ended_at) \
           VALUES ('{session}', 'connection', '{t}', '{t}'); \
         INSERT INTO threads (session_id, id, object, object_at) \
           VALUES ('{session}', 'sthr_{session}', '{{}}', '{t}'); \
         UPDATE sessions SET object = '{{}}', object_at = '{t}' WHERE id = '{session}'; \
         INSERT INTO webhooks (id, webhook_id, received_at, timestamp, data_type, data_id, body) \
           VALUES ('wevt_{session}', 'msg_{session}', '{t}', 1, 'session.status_idle', '{session}', x'7b7d'); \
         INSERT INTO deployment_runs (id, status, session_id, fetched_at, body) \
           VALUES ('drun_{session}', 'succeeded', '{session}', '{t}', '{{}}'); \
         INSERT INTO fold_checkpoints (session_id, fold, sort_ts, seq, events, data) \
           VALUES ('{session}', 'state', 1, 1, 1, x'00'); \
         INSERT INTO session_results (session_id, kind, writes, body) \
           VALUES ('{session}', 'stats', 1, x'00');",
        t = at(4)
    ))
    .unwrap();
}

/// The session each row of `table` belongs to, as SQL (`NULL` for a row whose parent is gone);
/// `None` for tables not kept per session. A table this does not know fails the test: every
/// new table must say how gc treats it (store/gc.rs).
fn owner(table: &str) -> Option<&'static str> {
    Some(match table {
        "previews" | "quarantine" | "capture_log" | "threads" | "deployment_runs" | "alerts"
        | "otlp_pushed_spans" | "fold_checkpoints" => "SELECT session_id AS o FROM {t}",
        "sessions" => "SELECT id AS o FROM sessions",
        // The table behind the `events` view (migration 0013).
        "event_rows" => {
            "SELECT k.session_id AS o FROM event_rows e LEFT JOIN session_keys k ON k.key = e.sess"
        }
        "session_rollups" | "session_cache" | "session_results" => {
            "SELECT session_id AS o FROM {t}"
        }
        "webhooks" => "SELECT data_id AS o FROM webhooks",
        "event_revisions" => {
            "SELECT e.session_id AS o FROM event_revisions r LEFT JOIN events e ON e.seq = r.event_seq"
        }
        "event_errors" | "search_dirty" => {
            "SELECT e.session_id AS o FROM {t} x LEFT JOIN events e ON e.seq = x.seq"
        }
        "alert_deliveries" => {
            "SELECT a.session_id AS o FROM alert_deliveries d LEFT JOIN alerts a ON a.id = d.alert_id"
        }
        // Not per session: the search index (checked by searching), its state, gc's own
        // high-water marks, refusal counters, push watermarks per collector, the compression
        // dictionaries (per event type, named by rows of any session; never deleted).
        t if t == "search_index" || t.starts_with("search_index_") => return None,
        // A session's key (migration 0013) outlives it: a writer may hold it across transactions,
        // and the same session recorded again gets it back.
        "search_state" | "retention" | "webhook_refusals" | "otlp_watermarks" | "zstd_dicts"
        | "session_keys" => {
            return None;
        }
        t => {
            panic!("table {t}: gc does not know it; say in store/gc.rs how it is kept per session")
        }
    })
}

/// Rows per owner (`None`: orphans) of every table.
fn census(store: &Store) -> Vec<(String, Option<String>, i64)> {
    let tables: Vec<String> = store
        .conn
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let mut out = Vec::new();
    for t in tables {
        let Some(sql) = owner(&t) else { continue };
        let sql = format!(
            "SELECT o, count(*) FROM ({}) GROUP BY o ORDER BY o",
            sql.replace("{t}", &t)
        );
        let rows: Vec<(Option<String>, i64)> = store
            .conn
            .prepare(&sql)
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        out.extend(rows.into_iter().map(|(o, n)| (t.clone(), o, n)));
    }
    out
}

fn search(store: &mut Store, word: &str) -> Vec<String> {
    let q = SearchQuery {
        text: word.into(),
        ..SearchQuery::default()
    };
    let r = store.search(&q).unwrap();
    r.hits.into_iter().map(|h| h.session_id).collect()
}

/// Everything a session's export is made of.
fn snapshot(store: &Store, id: &str) -> String {
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        store.events(id, &TimelineQuery::default()).unwrap(),
        store.session_revisions(id).unwrap(),
        store.previews(id).unwrap(),
        store.capture_log(id).unwrap(),
        store.thread_objects(id).unwrap(),
        store.session_object(id).unwrap(),
    )
}

fn small_chunks() -> GcOptions {
    GcOptions {
        chunk_rows: 2,
        vacuum_pages: 4,
        pause: Duration::ZERO,
    }
}

#[test]
fn every_table_loses_the_deleted_sessions_rows_and_keeps_the_others() {
    let (_d, mut s) = temp_store();
    fill(&mut s, KEPT, 15, "giraffe");
    fill(&mut s, OLD, 9, "zebra");
    let before = census(&s);
    let kept_before = snapshot(&s, KEPT);
    for (t, o, _) in &before {
        assert!(o.is_some(), "{t}: an orphan row before gc");
    }
    let tables_with_old: Vec<&str> = before
        .iter()
        .filter(|(_, o, _)| o.as_deref() == Some(OLD))
        .map(|(t, _, _)| t.as_str())
        .collect();
    for t in [
        "event_rows",
        "event_revisions",
        "event_errors",
        "search_dirty",
        "previews",
        "quarantine",
        "capture_log",
        "threads",
        "sessions",
        "webhooks",
        "deployment_runs",
    ] {
        assert!(tables_with_old.contains(&t), "{t} has no row to delete");
    }

    let candidates = s.gc_candidates(CUTOFF, None).unwrap();
    assert_eq!(
        candidates
            .iter()
            .map(|c| c.session_id.as_str())
            .collect::<Vec<_>>(),
        [OLD]
    );
    assert_eq!(candidates[0].events, 3);
    let d = s.gc_delete_session(OLD, CUTOFF, &small_chunks()).unwrap();
    assert!(d.complete);
    assert_eq!(d.events, 3);
    assert!(d.transactions > 5, "{d:?}: small chunks, many transactions");

    let after = census(&s);
    let kept = |c: &[(String, Option<String>, i64)]| -> Vec<(String, Option<String>, i64)> {
        c.iter()
            .filter(|(_, o, _)| o.as_deref() != Some(OLD))
            .cloned()
            .collect()
    };
    assert_eq!(after, kept(&before), "only the old session's rows went");
    assert_eq!(snapshot(&s, KEPT), kept_before);
    assert!(s.session_summary(OLD).unwrap().is_none());
}

#[test]
fn search_forgets_the_deleted_session_and_still_finds_the_kept_one() {
    let (_d, mut s) = temp_store();
    fill(&mut s, OLD, 9, "zebra");
    fill(&mut s, KEPT, 15, "giraffe");
    upsert(
        &mut s,
        KEPT,
        &msg("kept_zebra", "2026-08-07T16:00:00Z", "zebra too"),
    );
    assert_eq!(search(&mut s, "zebra"), [OLD, KEPT]);
    s.gc_delete_session(OLD, CUTOFF, &small_chunks()).unwrap();
    assert_eq!(search(&mut s, "zebra"), [KEPT]);
    assert_eq!(search(&mut s, "giraffe"), [KEPT]);
    let dirty: i64 = s
        .conn
        .query_row("SELECT count(*) FROM search_dirty", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        dirty, 0,
        "the deleted rows left the index with no mark to act on"
    );
    // The index holds no row for a deleted event: its row count is the kept events'.
    let indexed: i64 = s
        .conn
        .query_row("SELECT count(*) FROM search_index", [], |r| r.get(0))
        .unwrap();
    assert_eq!(indexed, 3, "KEPT's two messages and kept_zebra");
}

#[test]
fn numbers_of_deleted_events_and_revisions_are_never_handed_out_again() {
    let (_d, mut s) = temp_store();
    fill(&mut s, KEPT, 15, "giraffe");
    fill(&mut s, OLD, 9, "zebra");
    let max = |s: &Store, sql: &str| -> i64 { s.conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    let top_seq = max(&s, "SELECT max(seq) FROM events");
    let top_rev = max(&s, "SELECT max(id) FROM event_revisions");
    s.gc_delete_session(OLD, CUTOFF, &GcOptions::default())
        .unwrap();
    assert!(
        max(&s, "SELECT max(seq) FROM events") < top_seq,
        "OLD held the newest"
    );
    upsert(&mut s, KEPT, &msg("late", "", "late"));
    upsert(&mut s, KEPT, &msg("late", "2026-08-07T17:00:00Z", "late"));
    assert_eq!(max(&s, "SELECT max(seq) FROM events"), top_seq + 1);
    assert_eq!(max(&s, "SELECT max(id) FROM event_revisions"), top_rev + 1);
    // And the search index takes the new event although the watermark was past its number.
    assert_eq!(search(&mut s, "late"), [KEPT]);
}

#[test]
fn a_session_active_again_or_recorded_is_left_alone() {
    let (_d, mut s) = temp_store();
    fill(&mut s, OLD, 9, "zebra");
    // Became active after it was chosen: its newest event is past the cutoff now.
    upsert(&mut s, OLD, &msg("new", "2026-08-07T13:00:00Z", "new"));
    let d = s.gc_delete_session(OLD, CUTOFF, &small_chunks()).unwrap();
    assert!(!d.complete);
    assert_eq!(d.rows, 0);
    assert!(s.gc_candidates(CUTOFF, None).unwrap().is_empty());

    let (_d2, mut s) = temp_store();
    fill(&mut s, OLD, 9, "zebra");
    s.conn
        .execute(
            "INSERT INTO capture_log (session_id, kind, started_at) VALUES (?1, 'connect', 'x')",
            [OLD],
        )
        .unwrap();
    assert!(
        s.gc_candidates(CUTOFF, None).unwrap().is_empty(),
        "being recorded"
    );
    assert!(
        !s.gc_delete_session(OLD, CUTOFF, &small_chunks())
            .unwrap()
            .complete
    );
}

#[test]
fn a_session_without_processed_events_is_dated_by_its_arrivals() {
    let (_d, mut s) = temp_store();
    upsert(&mut s, OLD, &msg("q", "", "queued only"));
    // received_at 2026-08-07T14:00:00Z
    assert!(s.gc_candidates(CUTOFF, None).unwrap().is_empty());
    let later = CUTOFF + 3 * 3_600_000_000;
    let c = s.gc_candidates(later, None).unwrap();
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].last_active_ts, Some(CUTOFF + 2 * 3_600_000_000));
    assert!(
        s.gc_candidates(later, Some(&[KEPT.to_string()]))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_new_database_gives_space_back_in_steps_and_an_old_one_after_one_vacuum() {
    let (_d, mut s) = temp_store();
    fill(&mut s, KEPT, 15, "giraffe");
    // Text that does not compress, each its own (the store compresses event text with
    // dictionaries), so it takes its pages.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut noise = || -> String {
        (0..4000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                char::from(b'a' + (x % 26) as u8)
            })
            .collect()
    };
    let mut b = s.batch().unwrap();
    for i in 0..400 {
        let raw = msg(&format!("b{i}"), "2026-08-07T09:00:00Z", &noise());
        let env = Envelope::parse(&raw, None).unwrap();
        b.upsert(&Incoming {
            session_id: OLD,
            thread_id: "",
            envelope: &env,
            source: Source::Import,
            received_at: "2026-08-07T09:00:00.000Z",
            preview_ordinal: 0,
        })
        .unwrap();
    }
    b.commit().unwrap();
    let before = s.space().unwrap();
    assert_eq!(
        before.auto_vacuum, 2,
        "new databases have incremental auto-vacuum"
    );
    s.gc_delete_session(OLD, CUTOFF, &GcOptions::default())
        .unwrap();
    assert!(s.space().unwrap().freelist_count > 50);
    let steps = s.reclaim(&small_chunks()).unwrap();
    let after = s.space().unwrap();
    assert_eq!(after.freelist_count, 0);
    assert!(steps > 10, "{steps} steps of 4 pages");
    assert!(
        after.bytes() + 1_000_000 < before.bytes(),
        "{before:?} → {after:?}"
    );

    // A database from before: no auto-vacuum, pages only freed, until one vacuum.
    s.conn
        .execute_batch("PRAGMA auto_vacuum = NONE; VACUUM;")
        .unwrap();
    assert_eq!(s.space().unwrap().auto_vacuum, 0);
    for i in 0..50 {
        upsert(
            &mut s,
            OLD,
            &msg(&format!("a{i}"), "2026-08-07T09:00:00Z", &noise()),
        );
    }
    s.gc_delete_session(OLD, CUTOFF, &GcOptions::default())
        .unwrap();
    assert_eq!(s.reclaim(&GcOptions::default()).unwrap(), 0);
    assert!(s.space().unwrap().freelist_count > 0);
    s.vacuum().unwrap();
    let v = s.space().unwrap();
    assert_eq!((v.auto_vacuum, v.freelist_count), (2, 0));
    assert_eq!(search(&mut s, "giraffe"), [KEPT]);
}
