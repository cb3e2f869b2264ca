//! What an import folds as it writes ([`Following`]) is what [`derive`] folds reading the
//! session back: the same rows as a scan gives them, the same checkpoints, statistics and rules'
//! facts, byte for byte; and a session that is not followed whole (not new, out of order,
//! replaced copies, written again before the derive) is read back instead.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::record::{FileReport, import_input_following, session_id_from_name};
use crate::store::{EventRow, TimelineQuery};
use std::path::Path;

/// Imports `file` as `flightrec import` does, following its session; keeps the fold of a
/// session followed whole in `following` (a later file of the same session leaves the first
/// one's there: the derive must find it stale). `finish`: as `import` does, with [`Follow`],
/// whose statistics finish as the import commits; else only [`Following::push`] is called
/// (the derive then finishes them).
fn import_following(
    store: &mut Store,
    file: &Path,
    following: &mut HashMap<String, Following>,
    finish: bool,
) -> Option<FileReport> {
    let (report, fold) = if finish {
        let mut follow = Follow::default();
        let report = import_file(store, file, &mut follow)?;
        (report, follow.into_following())
    } else {
        let mut fold: Option<Following> = None;
        let mut follow = |w: &Written<'_>| {
            fold.get_or_insert_with(|| Following::new(w.session_id))
                .push(w)
        };
        let report = import_file(store, file, &mut follow)?;
        (report, fold)
    };
    if report.followed {
        let mut fold = fold.unwrap();
        assert_eq!(fold.finished(), finish, "{}", file.display());
        fold.written_alone(report.written_alone.unwrap());
        following.insert(report.session_id.clone(), fold);
    }
    Some(report)
}

/// Imports `file` (its session named after it, as `import` names it) handing `follow` what it
/// writes; `None` when the import fails (files with problems, placeholder ids, still import).
fn import_file(
    store: &mut Store,
    file: &Path,
    follow: &mut dyn crate::record::Follower,
) -> Option<FileReport> {
    let (input, total) = crate::source::open_file(file).unwrap();
    let session = session_id_from_name(file);
    let name = file.display().to_string();
    import_input_following(
        store,
        &name,
        session.as_deref(),
        "",
        input,
        total,
        &mut |_, _| {},
        Some(follow),
    )
    .ok()
}

fn import_text(store: &mut Store, id: &str, lines: &[String]) -> (FileReport, Option<Following>) {
    let body = lines.join("\n");
    let mut follow = Follow::default();
    let report = import_input_following(
        store,
        "lines",
        Some(id),
        "",
        body.as_bytes(),
        0,
        &mut |_, _| {},
        Some(&mut follow),
    )
    .unwrap();
    let mut fold = follow.into_following();
    if let (Some(f), Some(mark)) = (fold.as_mut(), report.written_alone) {
        f.written_alone(mark);
    }
    (report, fold)
}

/// Everything derived, as read back: checkpoints, results, caches, each with its body parsed
/// (JSON objects compare whatever the order of their keys: the folds keep hash maps).
fn derived(store: &Store, db: &Path) -> Vec<(String, serde_json::Value)> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut out = Vec::new();
    let parse = |text: &str| -> serde_json::Value { serde_json::from_str(text).unwrap() };
    let mut s = c
        .prepare("SELECT session_id, fold, sort_ts, seq, events FROM fold_checkpoints ORDER BY 1, 2, 3, 4")
        .unwrap();
    let rows = s
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get::<_, i64>(4)?,
            ))
        })
        .unwrap();
    for row in rows {
        let (id, fold, ts, seq, events) = row.unwrap();
        let data = store
            .fold_checkpoint(&id, &fold, (ts, seq))
            .unwrap()
            .unwrap()
            .data;
        let key = format!("checkpoint {id} {fold} {ts} {seq} {events}");
        out.push((key, parse(std::str::from_utf8(&data).unwrap())));
    }
    for (table, results) in [("session_results", true), ("session_cache", false)] {
        let mut s = c
            .prepare(&format!(
                "SELECT session_id, kind FROM {table} ORDER BY 1, 2"
            ))
            .unwrap();
        let rows = s
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .unwrap();
        for row in rows {
            let (id, kind) = row.unwrap();
            let got = match results {
                true => store.session_result(&kind, &id),
                false => store.session_cached(&kind, &id),
            };
            let got = got.unwrap().unwrap();
            let key = format!("{table} {id} {kind} {}", got.version);
            out.push((key, parse(&got.body.unwrap())));
        }
    }
    out
}

/// Where two JSON values first differ, for the message.
fn first_difference(at: &str, a: &serde_json::Value, b: &serde_json::Value) -> String {
    use serde_json::Value::{Array, Object};
    match (a, b) {
        (Object(x), Object(y)) => {
            for k in x.keys().chain(y.keys()) {
                if x.get(k) != y.get(k) {
                    let (p, q) = (x.get(k).cloned(), y.get(k).cloned());
                    return first_difference(
                        &format!("{at}.{k}"),
                        &p.unwrap_or_default(),
                        &q.unwrap_or_default(),
                    );
                }
            }
            String::new()
        }
        (Array(x), Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                if p != q {
                    return first_difference(&format!("{at}[{i}]"), p, q);
                }
            }
            String::new()
        }
        _ => format!("at {at}: followed {a} read {b}"),
    }
}

fn forget_derived(db: &Path) {
    let c = rusqlite::Connection::open(db).unwrap();
    c.execute_batch(
        "DELETE FROM fold_checkpoints; DELETE FROM session_results; DELETE FROM session_cache;",
    )
    .unwrap();
}

fn ids(store: &Store) -> Vec<String> {
    store
        .sessions()
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect()
}

fn no_failures(doing: &'static str, e: StoreError) {
    panic!("{doing}: {e}")
}

/// Derives what was followed, then again by reading alone: the two must store the same bytes.
/// Returns how many sessions were taken from what was followed.
fn assert_following_derives_what_reading_does(
    dir: &Path,
    store: &Store,
    following: HashMap<String, Following>,
) -> usize {
    let ids = ids(store);
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let taken = derive_following(store, &ids, following, &mut no_failures);
    let db = dir.join("s.db");
    let followed = derived(store, &db);
    assert!(
        followed.iter().any(|r| r.0.contains("state@")),
        "no checkpoints"
    );
    forget_derived(&db);
    derive(store, &ids, &mut no_failures);
    let read = derived(store, &db);
    assert_eq!(followed.len(), read.len());
    for (f, r) in followed.iter().zip(&read) {
        assert_eq!(f.0, r.0);
        assert!(f.1 == r.1, "{}: {}", f.0, first_difference("", &f.1, &r.1));
    }
    taken
}

/// Both ways a followed session's statistics finish: on the follower as the import commits
/// (what `import` does), and in the derive.
#[test]
fn following_the_import_derives_what_reading_the_session_back_does_on_every_sample() {
    for finish in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let mut following = HashMap::new();
        let mut followed = 0;
        for f in &crate::analysis::testing::sample_files(true) {
            if let Some(r) = import_following(&mut store, f, &mut following, finish) {
                followed += usize::from(r.followed);
            }
        }
        let sessions = ids(&store).len();
        // Each sample's first file (the pages after a session's first are not new sessions).
        assert!(followed >= 15, "{followed} followed of {sessions}");
        let offered = following.len();
        let taken = assert_following_derives_what_reading_does(dir.path(), &store, following);
        // The multi-page sessions' first pages were followed, then written again: read back.
        assert!(taken >= 15 && taken < offered, "{taken} of {offered}");
    }
}

/// Statistics finished as the import committed are kept only while the session's agent and end
/// are those the writer read (its object or an event written since would change them): else
/// they are read again. The finished statistics here are empty, so keeping them keeps nothing.
#[test]
fn statistics_finished_for_another_agent_or_end_are_read_again() {
    let id = "sesn_011CZhappyPath0000000001";
    let lines = crate::analysis::testing::sample_lines(id);
    for stale in [None, Some("agent"), Some("end")] {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let (r, fold) = import_text(&mut store, id, &lines);
        assert!(r.followed);
        let mut fold = fold.unwrap();
        let Stats::Finished { end, .. } = &fold.stats else {
            panic!("not finished as the import committed")
        };
        let mut end = end.clone();
        match stale {
            Some("agent") => end.agent = Some(r#"{"id":"agent_other","version":1}"#.into()),
            Some(_) => end.last_ts -= 1,
            None => {}
        }
        fold.stats = Stats::Finished {
            end,
            derived: Derived::default(),
        };
        let following = HashMap::from([(id.to_string(), fold)]);
        assert_eq!(
            derive_following(&store, &[id], following, &mut no_failures),
            1
        );
        let s = store.require_session(id).unwrap();
        let kept = super::super::stats_cache::cached(&store, &s, true).unwrap();
        match stale {
            None => assert!(kept.is_none(), "the empty statistics were not kept"),
            Some(what) => {
                let want = super::super::session_stats(&store, &s, true).unwrap();
                assert_eq!(format!("{kept:?}"), format!("{:?}", Some(want)), "{what}");
            }
        }
    }
}

/// The rows a follower is handed are the scan's, slim and whole, for every event of every
/// sample session followed.
#[test]
fn the_written_events_a_follower_sees_are_the_rows_a_scan_reads() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let mut checked = 0;
    for f in &crate::analysis::testing::sample_files(true) {
        let mut seen: Vec<(EventRow, EventRow)> = Vec::new();
        let mut follow = |w: &Written<'_>| {
            let key = event_key(w.envelope, w.seq);
            let whole = as_scanned(w.envelope, w.seq, w.thread_id, &key, false);
            let slim = as_scanned(w.envelope, w.seq, w.thread_id, &key, true);
            seen.push((whole.to_row(), slim.to_row()));
        };
        let Some(r) = import_file(&mut store, f, &mut follow) else {
            continue;
        };
        if !r.followed {
            continue;
        }
        let scan = |slim: bool| {
            let q = TimelineQuery {
                // Every type slim: each row is compared with its slim form too.
                slim_types: if slim { all_types(&seen) } else { Vec::new() },
                ..TimelineQuery::default()
            };
            let mut rows = Vec::new();
            store
                .scan_events(&r.session_id, &q, |e| {
                    rows.push(e.to_row());
                    true
                })
                .unwrap();
            rows
        };
        let whole: Vec<EventRow> = seen.iter().map(|p| p.0.clone()).collect();
        let slim: Vec<EventRow> = seen.iter().map(|p| p.1.clone()).collect();
        assert_eq!(scan(false), whole, "{}", f.display());
        assert_eq!(scan(true), slim, "{}", f.display());
        checked += whole.len();
    }
    assert!(checked > 300, "{checked} events");
}

fn all_types(seen: &[(EventRow, EventRow)]) -> Vec<String> {
    let mut t: Vec<String> = seen.iter().map(|p| p.0.event_type.clone()).collect();
    t.sort();
    t.dedup();
    t
}

/// Events an import cannot hand on as the session's, in its order: it stops following (and
/// the derive reads the session back), whatever the shape.
#[test]
fn a_session_not_written_new_and_in_order_is_not_followed() {
    let id = "sesn_011CZhappyPath0000000001";
    let lines = crate::analysis::testing::sample_lines(id);
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let (r, fold) = import_text(&mut store, id, &lines);
    assert!(r.followed && fold.is_some_and(|f| f.events() as usize == lines.len()));
    // Again: nothing new.
    let (r, _) = import_text(&mut store, id, &lines);
    assert!(!r.followed);

    // Out of time order: the second half first.
    let mut swapped = lines[lines.len() / 2..].to_vec();
    swapped.extend_from_slice(&lines[..lines.len() / 2]);
    let (r, _) = import_text(&mut store, "sesn_011CZswapped00000000001", &swapped);
    assert!(!r.followed);

    // An event repeated with other text (a replaced copy).
    let mut replaced = lines.clone();
    let mut last: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
    last["note"] = "changed".into();
    replaced.push(last.to_string());
    let (r, _) = import_text(&mut store, "sesn_011CZreplaced0000000001", &replaced);
    assert!(!r.followed && r.counts.updated == 1);

    // A queued event (no processed_at): it sorts last, not where it arrived.
    let mut queued = lines.clone();
    queued.insert(
        1,
        r#"{"type":"user.message","id":"sevt_queued","processed_at":null,"content":[]}"#.into(),
    );
    let (r, _) = import_text(&mut store, "sesn_011CZqueued00000000001", &queued);
    assert!(!r.followed);
}

/// Followed whole, then written again before the derive (another file of the session, or
/// another writer): what was followed is stale, and the session is read back.
#[test]
fn a_session_written_again_after_it_was_followed_is_read_back() {
    let id = "sesn_011CZhappyPath0000000001";
    let lines = crate::analysis::testing::sample_lines(id);
    let half = lines.len() / 2;
    for second in ["new", "replaced"] {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        let (r, fold) = import_text(&mut store, id, &lines[..half]);
        assert!(r.followed);
        let later = match second {
            "new" => lines[half..].to_vec(),
            _ => {
                let mut v: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
                v["note"] = "changed".into();
                vec![v.to_string()]
            }
        };
        let (r, _) = import_text(&mut store, id, &later);
        assert!(!r.followed);
        let following = HashMap::from([(id.to_string(), fold.unwrap())]);
        let taken = assert_following_derives_what_reading_does(dir.path(), &store, following);
        assert_eq!(taken, 0, "{second}");
    }
}

/// The import marks the writes since it found the session empty: right after it, nothing
/// else was written (the derive need not count the session's events); a write by this
/// connection or another one since changes the mark, and the session is then counted, found
/// changed and read back.
#[test]
fn a_write_by_any_connection_after_the_import_changes_its_mark() {
    let id = "sesn_011CZhappyPath0000000001";
    let lines = crate::analysis::testing::sample_lines(id);
    let half = lines.len() / 2;
    for writer in [None, Some("this"), Some("another")] {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        let mut store = Store::open(&db).unwrap();
        let (r, fold) = import_text(&mut store, id, &lines[..half]);
        let mark = r.written_alone.unwrap();
        match writer {
            Some("this") => {
                import_text(&mut store, id, &lines[half..]);
            }
            Some(_) => {
                let mut other = Store::open(&db).unwrap();
                import_text(&mut other, id, &lines[half..]);
            }
            None => {}
        }
        let tx = store.write_fold_checkpoints().unwrap();
        assert_eq!(
            tx.unchanged_since(mark).unwrap(),
            writer.is_none(),
            "{writer:?}"
        );
        drop(tx);
        let following = HashMap::from([(id.to_string(), fold.unwrap())]);
        let taken = assert_following_derives_what_reading_does(dir.path(), &store, following);
        assert_eq!(taken, usize::from(writer.is_none()), "{writer:?}");
    }
}
