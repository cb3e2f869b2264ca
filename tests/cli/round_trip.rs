//! Import → export → import, for every sample log, compared with an independent reading.

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::util::*;
use flightrec::export::jsonl::one_line;

fn sessions_of_samples() -> BTreeMap<String, Vec<PathBuf>> {
    let mut by_session: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for f in sample_files() {
        by_session.entry(session_of(&f)).or_default().push(f);
    }
    by_session
}

#[test]
fn every_sample_round_trips_through_export_and_reimport() {
    let dir = tempdir();
    let a = dir.path().join("a.db");
    let files: Vec<String> = sample_files()
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    assert!(
        files.len() >= 15,
        "expected the bundled samples, found {}",
        files.len()
    );
    let mut args = vec!["import"];
    args.extend(files.iter().map(String::as_str));
    let o = run(&a, &args);
    assert_eq!(code(&o), 0, "{}", stderr(&o));

    for (session, files) in sessions_of_samples() {
        // Export equals the input events, as JSON values (type-strict: 1 and 1.0 differ).
        let o = run(&a, &["export", &session, "--format", "jsonl"]);
        assert_eq!(code(&o), 0, "{session}: {}", stderr(&o));
        let out = stdout(&o);
        let exported: Vec<Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let texts: Vec<String> = files.iter().flat_map(|f| oracle_texts(f)).collect();
        let expected = expected_session(&texts);
        assert_eq!(exported.len(), expected.len(), "{session}: event count");
        for (i, (got, want)) in exported.iter().zip(&expected).enumerate() {
            assert_eq!(got, want, "{session}: event {i} differs");
        }
        // Each exported line is the text exactly as received; an SSE frame whose data spanned
        // several lines loses only the line breaks between tokens (JSON Lines has one per line).
        for line in out.lines() {
            let found = texts
                .iter()
                .any(|t| t == line || (t.contains('\n') && one_line(t) == line));
            assert!(found, "{session}: exported text not in the input: {line}");
        }

        // Re-importing the export into a fresh database gives identical event rows.
        let exp = dir.path().join(format!("{session}.export.jsonl"));
        std::fs::write(&exp, &out).unwrap();
        let b = dir.path().join(format!("{session}.b.db"));
        let o = run(
            &b,
            &["import", "--session", &session, exp.to_str().unwrap()],
        );
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        // (An SSE frame whose data spanned lines comes back as its one-line form, by design.)
        let mut want = event_rows(&a, &session);
        for row in &mut want {
            row.6 = one_line(&row.6).into_owned();
        }
        let got = event_rows(&b, &session);
        assert_eq!(want.len(), got.len(), "{session}: row count");
        for (w, g) in want.iter().zip(&got) {
            assert_eq!(w, g, "{session}: rows differ");
        }
    }
}

#[test]
fn importing_the_same_logs_twice_stores_every_event_once() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    let files: Vec<String> = sample_files()
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let mut args = vec!["import", "--json"];
    args.extend(files.iter().map(String::as_str));
    let first: Value = serde_json::from_str(&stdout(&run(&db, &args))).unwrap();
    let second: Value = serde_json::from_str(&stdout(&run(&db, &args))).unwrap();
    let total = |v: &Value, k: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| r[k].as_u64().unwrap())
            .sum::<u64>()
    };
    assert!(total(&first, "new") > 300);
    assert_eq!(total(&second, "new"), 0);
    assert_eq!(total(&second, "updated"), 0);
    assert_eq!(
        total(&second, "duplicate"),
        total(&first, "new") + total(&first, "updated") + total(&first, "duplicate")
    );
    let c = crate::util::db_conn(&db);
    let rows: i64 = c
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows as u64, total(&first, "new"));
    let previews: i64 = c
        .query_row("SELECT count(*) FROM previews", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        previews as u64,
        total(&first, "previews"),
        "previews stored once too"
    );
}

#[test]
fn samples_cover_every_event_type_and_stop_reason() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    import_samples(&db);
    let c = crate::util::db_conn(&db);
    let types: Vec<String> = c
        .prepare("SELECT type FROM events UNION SELECT type FROM previews")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for t in flightrec::model::KNOWN_TYPES {
        assert!(types.iter().any(|x| x == t), "no sample has {t}");
    }
    let reasons: Vec<String> = c
        .prepare("SELECT DISTINCT event_text(raw) ->> '$.stop_reason.type' FROM events WHERE type = 'session.status_idle'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for r in [
        "end_turn",
        "requires_action",
        "retries_exhausted",
        "budget_reached",
        "refusal",
    ] {
        assert!(reasons.iter().any(|x| x == r), "no sample idles with {r}");
    }
}

#[test]
fn queued_echo_keeps_the_processed_copy_and_the_queued_one_as_revision() {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    let f = sample_files()
        .into_iter()
        .find(|p| p.to_str().unwrap().contains("queued-echo"))
        .unwrap();
    assert_eq!(code(&run(&db, &["import", f.to_str().unwrap()])), 0);
    let c = crate::util::db_conn(&db);
    let (queued_left, revised): (i64, i64) = c
        .query_row(
            "SELECT sum(processed_at IS NULL AND event_id <> ''), sum(revision > 0) FROM events",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        queued_left, 0,
        "every echoed user event has its processed copy"
    );
    assert!(revised >= 2, "the queued copies are kept as revisions");
    let old: Vec<String> = c
        .prepare("SELECT event_text(raw) FROM event_revisions")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        old.iter().all(|r| r.contains("\"processed_at\":null")),
        "{old:?}"
    );
}
