//! `flightrec search` on the sample logs: what is found, filters, the lazy index, errors.

use serde_json::Value;
use std::path::{Path, PathBuf};

use crate::util::*;

const STUCK: &str = "sesn_011CZstuckCustomTool0002";
const TWO_BLOCKING: &str = "sesn_011CZtwoBlocking00000004";
const RETRIES: &str = "sesn_011CZretriesExhausted006";
/// The custom tool use that is never answered (`get_weather`, input `{"city":"Voss",…}`).
const STUCK_TOOL_USE: &str = "sevt_011CZkSdM9xUzC45mZmCzS1G";

fn samples_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempdir();
    let db = dir.path().join("s.db");
    import_samples(&db);
    (dir, db)
}

/// `search --json ARGS`: the hits.
fn hits(db: &Path, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["search", "--json"];
    all.extend_from_slice(args);
    let o = run(db, &all);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    v.as_array().unwrap().clone()
}

fn field<'a>(hits: &'a [Value], key: &str) -> Vec<&'a str> {
    hits.iter().map(|h| h[key].as_str().unwrap()).collect()
}

fn import(db: &Path, file: &Path) {
    let o = run(db, &["import", file.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

fn sample(prefix: &str) -> PathBuf {
    sample_files()
        .into_iter()
        .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with(prefix))
        .unwrap()
}

#[test]
fn the_stuck_custom_tool_use_is_found_by_its_input() {
    let (_d, db) = samples_db();
    let found = hits(&db, &["Voss"]);
    let tool = found
        .iter()
        .find(|h| h["event_id"] == STUCK_TOOL_USE)
        .unwrap_or_else(|| panic!("{found:?}"));
    assert_eq!(tool["session_id"], STUCK);
    assert_eq!(tool["type"], "agent.custom_tool_use");
    assert_eq!(tool["processed_at"], "2026-08-07T07:45:04.870Z");
    assert!(
        tool["snippet"].as_str().unwrap().contains("»Voss«"),
        "{tool}"
    );
    assert!(
        tool["score"].as_f64().unwrap() < 0.0,
        "bm25: lower is better"
    );
    assert!(field(&found, "session_id").iter().all(|s| *s == STUCK));

    // The table shows the same hit, with the match marked.
    let o = run(&db, &["search", "Voss"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let line = stdout(&o)
        .lines()
        .find(|l| l.contains(STUCK_TOOL_USE))
        .unwrap()
        .to_string();
    assert!(
        line.contains("agent.custom_tool_use") && line.contains("»Voss«"),
        "{line}"
    );
}

#[test]
fn an_identifier_is_one_word_found_in_two_sessions() {
    let (_d, db) = samples_db();
    let found = hits(&db, &["get_weather"]);
    let mut sessions = field(&found, "session_id");
    sessions.sort();
    sessions.dedup();
    assert_eq!(sessions, [STUCK, TWO_BLOCKING]);
    assert!(field(&found, "type").contains(&"agent.custom_tool_use"));
    // Its parts are not words of their own.
    let weather = hits(&db, &["weather"]);
    assert!(!weather.is_empty());
    assert!(!field(&weather, "type").contains(&"agent.custom_tool_use"));
}

#[test]
fn session_and_type_filters_narrow_the_hits() {
    let (_d, db) = samples_db();
    let in_stuck = hits(&db, &["get_weather", "--session", STUCK]);
    assert!(!in_stuck.is_empty());
    assert!(field(&in_stuck, "session_id").iter().all(|s| *s == STUCK));

    let uses = hits(&db, &["get_weather", "--type", "agent.custom_tool_use"]);
    assert_eq!(
        uses.len(),
        3,
        "two in stuck-custom-tool, one in two-blocking"
    );
    let both = hits(
        &db,
        &[
            "get_weather",
            "--type",
            "agent.custom_tool_use",
            "--type",
            "user.message",
        ],
    );
    assert!(both.len() >= uses.len());

    let one = hits(&db, &["get_weather", "--limit", "1"]);
    assert_eq!(one.len(), 1);

    // By time: processed_at ascending.
    let by_time = hits(&db, &["get_weather", "--sort", "time"]);
    let times = field(&by_time, "processed_at");
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted);
}

#[test]
fn an_error_message_word_finds_the_session_errors() {
    let (_d, db) = samples_db();
    let found = hits(&db, &["overloaded"]);
    let errors: Vec<&Value> = found
        .iter()
        .filter(|h| h["type"] == "session.error")
        .collect();
    assert_eq!(errors.len(), 3, "{found:?}");
    assert!(errors.iter().all(|h| h["session_id"] == RETRIES));
    // The error type is searchable too, and so is the retry status.
    let exhausted = hits(&db, &["model_overloaded_error", "exhausted"]);
    assert_eq!(field(&exhausted, "type"), ["session.error"]);
}

#[test]
fn plain_queries_with_punctuation_are_words_not_syntax() {
    let (_d, db) = samples_db();
    let rm = hits(&db, &["--", "rm", "-rf"]);
    assert!(
        field(&rm, "session_id").contains(&"sesn_011CZpendingConfirm00003"),
        "{rm:?}"
    );
    let quoted = hits(&db, &["rm -rf"]);
    assert_eq!(quoted, rm);
    let file = hits(&db, &["test_auth.py"]);
    assert!(field(&file, "session_id").contains(&"sesn_011CZhappyPath0000000001"));
    for odd in ["AND", "\"", "a:b", "NEAR(x", "(", "x*"] {
        let o = run(&db, &["search", odd]);
        assert!(
            code(&o) == 0 || stderr(&o).contains("no words to search for"),
            "{odd}: {}",
            stderr(&o)
        );
    }
}

#[test]
fn a_replaced_event_is_found_by_its_new_text_and_not_its_old() {
    let dir = tempdir();
    let db = dir.path().join("r.db");
    let first = dir.path().join("first.sesn_011CZreplacedText000001.jsonl");
    let second = dir.path().join("second.sesn_011CZreplacedText000001.jsonl");
    let msg = |text: &str| {
        format!(
            "{{\"type\":\"agent.message\",\"id\":\"sevt_011CZreplacedMsg0000001\",\"processed_at\":\"2026-08-07T14:02:24.318Z\",\"content\":[{{\"type\":\"text\",\"text\":\"{text}\"}}]}}\n"
        )
    };
    std::fs::write(&first, msg("the quokka escaped")).unwrap();
    std::fs::write(&second, msg("the wombat escaped")).unwrap();

    import(&db, &first);
    assert_eq!(hits(&db, &["quokka"]).len(), 1);
    import(&db, &second);
    let o = run(&db, &["export", "sesn_011CZreplacedText000001"]);
    assert_eq!(
        stdout(&o).lines().count(),
        1,
        "one event, replaced in place"
    );

    let wombat = hits(&db, &["wombat"]);
    assert_eq!(field(&wombat, "event_id"), ["sevt_011CZreplacedMsg0000001"]);
    assert!(hits(&db, &["quokka"]).is_empty());
    assert_eq!(hits(&db, &["escaped"]).len(), 1);
}

#[test]
fn the_index_catches_up_with_later_imports() {
    let dir = tempdir();
    let db = dir.path().join("c.db");
    import(&db, &sample("happy-path"));
    assert!(!hits(&db, &["test_auth.py"]).is_empty());
    assert!(hits(&db, &["Voss"]).is_empty());
    import(&db, &sample("stuck-custom-tool"));
    let found = hits(&db, &["Voss"]);
    assert!(field(&found, "event_id").contains(&STUCK_TOOL_USE));
    assert!(!hits(&db, &["test_auth.py"]).is_empty());
}

#[test]
fn a_bad_fts_query_is_one_error_line_and_exit_2() {
    let (_d, db) = samples_db();
    for bad in ["foo AND", "nosuchcolumn: foo", "\"unterminated", "NEAR(a b"] {
        let o = run(&db, &["search", "--raw-fts", bad]);
        assert_eq!(code(&o), 2, "{bad}: {}", stdout(&o));
        let err = stderr(&o);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("flightrec: error: invalid FTS5 query"),
            "{err}"
        );
        assert!(stdout(&o).is_empty());
    }
    // The same syntax, used well.
    let found = hits(&db, &["--raw-fts", "get_weather NOT Bergen"]);
    assert!(!found.is_empty());
    assert!(
        field(&found, "snippet")
            .iter()
            .all(|s| !s.contains("Bergen"))
    );
}

#[test]
fn an_unknown_session_or_a_query_without_words_is_exit_2() {
    let (_d, db) = samples_db();
    let o = run(
        &db,
        &[
            "search",
            "Voss",
            "--session",
            "sesn_011CZnoSuchSession000001",
        ],
    );
    assert_eq!(code(&o), 2);
    assert_eq!(
        stderr(&o).trim_end(),
        format!(
            "flightrec: error: no session sesn_011CZnoSuchSession000001 in {}",
            db.display()
        )
    );
    let o = run(&db, &["search", "--", "-", "..."]);
    assert_eq!(code(&o), 2);
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));

    let missing = db.with_file_name("missing.db");
    let o = run(&missing, &["search", "Voss"]);
    assert_eq!(code(&o), 2);
    assert!(!missing.exists(), "search creates no database");
}

#[test]
fn no_hits_is_not_an_error() {
    let (_d, db) = samples_db();
    assert!(hits(&db, &["xylophone"]).is_empty());
    let o = run(&db, &["search", "xylophone"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).is_empty());
    assert_eq!(stderr(&o), "flightrec: no events match xylophone\n");
}
