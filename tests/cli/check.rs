//! `flightrec check`: one line per session and the exit code (0 fine, 1 attention, 2 error).

use serde_json::Value;

use crate::explain::{HAPPY, NOW, STUCK, samples_db};
use crate::util::*;

#[test]
fn healthy_alone_exits_0_and_a_stuck_session_exits_1() {
    let db = samples_db();
    let o = run(db, &["check", HAPPY, "--now", NOW]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(
        out.starts_with(&format!("{HAPPY}  ok")) && out.contains("end_turn"),
        "{out}"
    );

    let o = run(db, &["check", HAPPY, STUCK, "--now", NOW]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[1].starts_with(&format!("{STUCK}  ATTENTION"))
            && lines[1].contains("requires_action"),
        "{out}"
    );
    assert!(lines[1].contains("sevt_011CZkSdM9xUzC45mZmCzS1G"), "{out}");
}

#[test]
fn every_sample_is_classified() {
    let db = samples_db();
    let sessions: Vec<String> = sample_sessions();
    let mut args = vec!["check", "--json", "--now", NOW];
    args.extend(sessions.iter().map(String::as_str));
    let o = run(db, &args);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let lines: Vec<Value> = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(lines.len(), sessions.len());
    let attention: Vec<(&str, &str)> = lines
        .iter()
        .filter(|l| l["attention"] == true)
        .map(|l| {
            (
                l["session_id"].as_str().unwrap(),
                l["verdict"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        attention,
        [
            ("sesn_011CZfutureTypes00000016", "unknown_stop_reason"),
            ("sesn_011CZpendingConfirm00003", "requires_action"),
            ("sesn_011CZreschedTerminated08", "terminated"),
            ("sesn_011CZretriesExhausted006", "retries_exhausted"),
            ("sesn_011CZstuckCustomTool0002", "requires_action"),
            ("sesn_011CZtwoBlocking00000004", "requires_action"),
        ]
    );
}

#[test]
fn an_unknown_session_is_one_error_line_and_exit_2() {
    let db = samples_db();
    let o = run(
        db,
        &[
            "check",
            HAPPY,
            "sesn_011CZnoSuchSession00000000",
            "--now",
            NOW,
        ],
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("sesn_011CZnoSuchSession00000000"), "{err}");
    assert_eq!(
        stdout(&o).lines().count(),
        1,
        "the known session is still reported"
    );
}

#[test]
fn a_running_session_is_stuck_only_after_stuck_after() {
    // The first 12 events of happy-path, under a session id of their own: still running.
    let dir = tempdir();
    let db = dir.path().join("running.db");
    let text = std::fs::read_to_string(
        samples_dir().join("happy-path.sesn_011CZhappyPath0000000001.jsonl"),
    )
    .unwrap();
    let head: Vec<&str> = text.lines().take(12).collect();
    let file = dir
        .path()
        .join("running.sesn_011CZrunningSample000001.jsonl");
    std::fs::write(&file, head.join("\n") + "\n").unwrap();
    let o = run(&db, &["import", file.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let session = "sesn_011CZrunningSample000001";
    // The last of those events is at 09:14:17.214Z.
    let check = |now: &str, extra: &[&str]| {
        let mut args = vec!["check", session, "--now", now];
        args.extend_from_slice(extra);
        let o = run(&db, &args);
        (code(&o), stdout(&o))
    };
    let (c, out) = check("2026-08-07T09:20:00Z", &[]);
    assert_eq!(c, 0, "5m43s of silence is under the default 10m: {out}");
    assert!(out.contains("running"), "{out}");
    let (c, out) = check("2026-08-07T09:30:00Z", &[]);
    assert_eq!(c, 1, "{out}");
    // An imported file is not being recorded: the silence since its end is told as such.
    assert!(
        out.contains("stalled")
            && out.contains("The recording ends while the session runs")
            && out.contains("15m42s before"),
        "{out}"
    );
    let (c, _) = check("2026-08-07T09:30:00Z", &["--stuck-after", "1h"]);
    assert_eq!(c, 0);
    let (c, _) = check("2026-08-07T09:20:00Z", &["--stuck-after", "90s"]);
    assert_eq!(c, 1);
}
