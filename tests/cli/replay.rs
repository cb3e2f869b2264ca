//! `flightrec replay` on the sample logs: order, compressed-gap notes, pacing, --from/--to.

use serde_json::Value;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::util::*;

const BUDGET: &str = "sesn_011CZbudgetReached000007";
const HAPPY: &str = "sesn_011CZhappyPath0000000001";

fn samples_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempdir();
    let db = dir.path().join("s.db");
    import_samples(&db);
    (dir, db)
}

/// A session's events as the oracle orders them.
fn oracle(session: &str) -> Vec<Value> {
    let texts: Vec<String> = sample_files()
        .iter()
        .filter(|p| session_of(p) == session)
        .flat_map(|p| oracle_texts(p))
        .collect();
    expected_session(&texts)
}

fn micros(e: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(e["processed_at"].as_str().unwrap())
        .unwrap()
        .timestamp_micros()
}

/// The event ids of the printed event lines, in order.
fn printed_ids(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| l.split_whitespace().find(|w| w.starts_with("sevt_")))
        .map(str::to_string)
        .collect()
}

#[test]
fn replay_plays_in_order_marks_compressed_gaps_and_waits() {
    let (_d, db) = samples_db();
    let events = oracle(BUDGET);
    let max_gap: i64 = 20_000_000;
    // The recorded time once gaps over 20 s are cut to 20 s; pick a speed that plays it in
    // about half a second.
    let ts: Vec<i64> = events.iter().map(micros).collect();
    let gaps: Vec<i64> = ts.windows(2).map(|w| w[1] - w[0]).collect();
    let total: i64 = gaps.iter().map(|g| (*g).min(max_gap)).sum();
    let speed = total as f64 / 500_000.0;
    let t0 = Instant::now();
    let o = run(
        &db,
        &[
            "replay",
            BUDGET,
            "--speed",
            &speed.to_string(),
            "--max-gap",
            "20s",
        ],
    );
    let elapsed = t0.elapsed();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    let ids: Vec<String> = events
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(printed_ids(&out), ids);
    // Only a lower bound: the run takes at least the scheduled time (machines are noisy).
    let scheduled = Duration::from_secs_f64(total as f64 / speed / 1e6);
    assert!(
        elapsed + Duration::from_millis(1) >= scheduled,
        "{elapsed:?} < {scheduled:?}"
    );
    // One note per compressed gap, just before the event after it.
    let lines: Vec<&str> = out.lines().collect();
    let notes: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains("… ") && lines[i].ends_with(" later"))
        .collect();
    let long: Vec<usize> = (0..gaps.len()).filter(|&i| gaps[i] > max_gap).collect();
    assert_eq!(notes.len(), long.len(), "{out}");
    // The 30-minute pause for the budget: the note says so and the resumed event follows.
    let pause = *long.iter().max_by_key(|&&i| gaps[i]).unwrap();
    let at = lines
        .iter()
        .position(|l| l.contains(&ids[pause + 1]))
        .unwrap();
    assert!(
        lines[at - 1].contains("… 30m43s later"),
        "{}",
        lines[at - 1]
    );
    assert!(lines[0].starts_with("Replaying sesn_011CZbudgetReached000007"));
}

#[test]
fn no_wait_from_and_to_select_a_slice() {
    let (_d, db) = samples_db();
    let events = oracle(HAPPY);
    let ids: Vec<&str> = events.iter().map(|e| e["id"].as_str().unwrap()).collect();
    let o = run(
        &db,
        &[
            "replay",
            HAPPY,
            "--no-wait",
            "--from",
            ids[3],
            "--to",
            ids[9],
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(printed_ids(&stdout(&o)), ids[3..=9]);
    // A time bound: from 10 s after the first event to the end.
    let first = micros(&events[0]);
    let o = run(&db, &["replay", HAPPY, "--no-wait", "--from", "+10s"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let expected: Vec<&str> = events
        .iter()
        .filter(|e| micros(e) >= first + 10_000_000)
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(printed_ids(&stdout(&o)), expected);
    assert!(stdout(&o).trim_end().ends_with("— end of the recording —"));
}

#[test]
fn lines_carry_the_time_type_and_summary_without_colours_in_a_pipe() {
    let (_d, db) = samples_db();
    let o = run(&db, &["replay", HAPPY, "--no-wait"]);
    let out = stdout(&o);
    assert!(!out.contains('\x1b'), "{out}");
    let idle = out
        .lines()
        .find(|l| l.contains("session.status_idle"))
        .unwrap();
    assert!(idle.trim_start().starts_with('+'), "{idle}");
    assert!(idle.contains("end_turn"), "{idle}");
}

#[test]
fn bad_arguments_are_one_line_errors() {
    let (_d, db) = samples_db();
    let o = run(&db, &["replay", "sesn_nope", "--no-wait"]);
    assert_eq!(code(&o), 2);
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    let o = run(&db, &["replay", HAPPY, "--speed", "0"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--no-wait"), "{}", stderr(&o));
    let o = run(&db, &["replay", HAPPY, "--from", "sevt_nope"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("no event with that id"),
        "{}",
        stderr(&o)
    );
}
