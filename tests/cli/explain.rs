//! `flightrec explain` on the sample logs: the verdict for every stop reason, `--at`, the requests
//! that unblock a session, a capture with gaps, and a JSON snapshot per sample.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use crate::record::serve_process;
use crate::util::*;

/// A fixed "now" for stable output: a month after the samples were recorded.
pub const NOW: &str = "2026-09-07T00:00:00Z";

pub const HAPPY: &str = "sesn_011CZhappyPath0000000001";
pub const STUCK: &str = "sesn_011CZstuckCustomTool0002";
const PENDING: &str = "sesn_011CZpendingConfirm00003";
const TWO_BLOCKING: &str = "sesn_011CZtwoBlocking00000004";
const RESOLVED: &str = "sesn_011CZresolvedConfirm0005";
const RETRIES: &str = "sesn_011CZretriesExhausted006";
const BUDGET: &str = "sesn_011CZbudgetReached000007";
const TERMINATED: &str = "sesn_011CZreschedTerminated08";
const REFUSAL: &str = "sesn_011CZrefusal000000000013";
const DELETED: &str = "sesn_011CZdeleted000000000015";

/// The samples, imported once for all the tests of this binary that read them.
pub fn samples_db() -> &'static Path {
    static DB: OnceLock<PathBuf> = OnceLock::new();
    DB.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("explain-samples-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("samples.db");
        import_samples(&db);
        db
    })
}

/// The samples of real-traffic shapes (`sample-logs/real/`), imported once.
pub fn real_samples_db() -> &'static Path {
    static DB: OnceLock<PathBuf> = OnceLock::new();
    DB.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("explain-real-samples-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("real.db");
        let files: Vec<String> = real_sample_files()
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        let mut args = vec!["import"];
        args.extend(files.iter().map(String::as_str));
        let o = run(&db, &args);
        // Exit 3 says some input needs a look: here only the placeholder-ids sample's reused ids,
        // which are kept (as two events each) and named on stderr.
        let err = stderr(&o);
        let only_reused_ids = err.lines().all(|l| {
            l.contains("placeholder-ids.")
                && (l.contains("is used by a") || l.contains("both kept"))
        });
        assert!(
            code(&o) == 0 || (code(&o) == 3 && only_reused_ids),
            "exit {}: {err}",
            code(&o)
        );
        db
    })
}

/// (scenario, session id) of every real-shape sample, as [`sample_scenarios`] for the others.
pub fn real_scenarios() -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = real_sample_files()
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            let scenario = name.split('.').next().unwrap().to_string();
            (scenario, session_of(p))
        })
        .collect();
    v.dedup();
    v
}

/// `explain SESSION --json --now NOW EXTRA...`, parsed.
fn explain(db: &Path, session: &str, extra: &[&str]) -> Value {
    let mut args = vec!["explain", session, "--json", "--now", NOW];
    args.extend_from_slice(extra);
    let o = run(db, &args);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap()
}

fn pending(x: &Value) -> Vec<&Value> {
    x["blocking"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["resolved"] == false)
        .collect()
}

#[test]
fn every_sample_snapshot() {
    let db = samples_db();
    for (scenario, session) in sample_scenarios() {
        let o = run(db, &["explain", &session, "--json", "--now", NOW]);
        assert_eq!(code(&o), 0, "{scenario}: {}", stderr(&o));
        insta::assert_snapshot!(format!("explain-{scenario}"), stdout(&o));
    }
}

#[test]
fn every_real_sample_snapshot() {
    let db = real_samples_db();
    for (scenario, session) in real_scenarios() {
        let o = run(db, &["explain", &session, "--json", "--now", NOW]);
        assert_eq!(code(&o), 0, "{scenario}: {}", stderr(&o));
        insta::assert_snapshot!(format!("explain-real-{scenario}"), stdout(&o));
    }
}

#[test]
fn happy_path_ended_its_turn() {
    let x = explain(samples_db(), HAPPY, &[]);
    assert_eq!(
        (x["verdict"].as_str(), x["state"].as_str()),
        (Some("end_turn"), Some("idle"))
    );
    assert_eq!(x["attention"], false);
    assert_eq!(x["turn"]["interrupted_by"], Value::Null);
    assert!(
        x["summary"]
            .as_str()
            .unwrap()
            .contains("Fixed. `issue_refresh_token`"),
        "{x}"
    );
    assert_eq!(x["blocking"], serde_json::json!([]));
    assert_eq!(
        x["capture_gaps"],
        Value::Null,
        "imported: not vouched for, not a gap"
    );
    assert!(x["capture_note"].as_str().unwrap().contains("cannot vouch"));
}

#[test]
fn stuck_custom_tool_waits_on_get_weather_and_gives_the_request() {
    const USE: &str = "sevt_011CZkSdM9xUzC45mZmCzS1G";
    let x = explain(samples_db(), STUCK, &[]);
    assert_eq!(x["verdict"], "requires_action");
    assert_eq!(x["stop_reason"], "requires_action");
    assert_eq!(x["attention"], true);
    let p = pending(&x);
    assert_eq!(p.len(), 1);
    let b = p[0];
    assert_eq!(b["event_id"], USE);
    assert_eq!(b["type"], "agent.custom_tool_use");
    assert_eq!(b["name"], "get_weather");
    assert_eq!(b["needs"], "user.custom_tool_result");
    assert_eq!(b["waiting_since"], "2026-08-07T07:45:04.870Z");
    assert_eq!(b["waited_ms"], 502, "to the end of the recording");
    assert_eq!(
        b["named_by"],
        serde_json::json!(["sevt_011CZkSdRZv5oii67mqfgDw9"])
    );
    assert!(b["input_excerpt"].as_str().unwrap().contains("Voss"));
    let u = &b["unblock"][0];
    let curl = u["curl"].as_str().unwrap();
    assert!(
        curl.contains(&format!(
            "https://api.anthropic.com/v1/sessions/{STUCK}/events"
        )),
        "{curl}"
    );
    assert!(
        curl.contains(&format!(r#""custom_tool_use_id":"{USE}""#)),
        "{curl}"
    );
    assert!(
        curl.contains("$ANTHROPIC_API_KEY") && !curl.contains("sk-ant"),
        "{curl}"
    );
    let py = u["python"].as_str().unwrap();
    assert!(
        py.contains("client.beta.sessions.events.send(") && py.contains(USE),
        "{py}"
    );
    assert_eq!(u["body"]["type"], "user.custom_tool_result");
    // The human report leads with the verdict.
    let o = run(samples_db(), &["explain", STUCK, "--now", NOW]);
    let text = stdout(&o);
    assert!(
        text.starts_with("requires_action: NEEDS ATTENTION"),
        "{text}"
    );
    assert!(
        text.contains(USE) && text.contains("curl -sS -X POST"),
        "{text}"
    );
}

#[test]
fn at_an_earlier_event_gives_the_earlier_verdict() {
    let db = samples_db();
    // Turn 1's idle: blocked on the first get_weather call, answered later.
    let x = explain(db, STUCK, &["--at", "sevt_011CZkS3bIR8ZdSzgnuHqKel"]);
    assert_eq!(x["verdict"], "requires_action");
    assert_eq!(x["at"]["event_id"], "sevt_011CZkS3bIR8ZdSzgnuHqKel");
    assert_eq!(
        x["now"], "2026-08-07T07:41:23.130Z",
        "the point is its own now"
    );
    let p = pending(&x);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0]["event_id"], "sevt_011CZkS3VVdQeUg4Fd5rLOiC");
    // Turn 1's end: finished.
    let x = explain(db, STUCK, &["--at", "sevt_011CZkS4DlFRChJrlhC1TCpo"]);
    assert_eq!(x["verdict"], "end_turn");
    assert!(
        x["summary"].as_str().unwrap().contains("13 °C in Bergen"),
        "{x}"
    );
    // Mid-turn, by time: running.
    let x = explain(db, STUCK, &["--at", "2026-08-07T07:45:02Z"]);
    assert_eq!(
        (x["verdict"].as_str(), x["state"].as_str()),
        (Some("running"), Some("running"))
    );
    assert_eq!(x["at"]["event_id"], Value::Null);
    // After the session's first event, by duration.
    let x = explain(db, STUCK, &["--at", "+2.1s"]);
    assert_eq!(x["verdict"], "running");
    assert!(
        x["open_spans"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["kind"] == "custom_tool"),
        "{x}"
    );
}

#[test]
fn pending_confirmation_needs_allow_or_deny() {
    let x = explain(samples_db(), PENDING, &[]);
    assert_eq!(x["verdict"], "requires_action");
    let p = pending(&x);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0]["event_id"], "sevt_011CZllSlsEY6TJPwBBHNXqc");
    assert_eq!(p[0]["needs"], "user.tool_confirmation");
    assert_eq!(p[0]["evaluated_permission"], "ask");
    let actions: Vec<&str> = p[0]["unblock"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["allow", "deny"]);
    for u in p[0]["unblock"].as_array().unwrap() {
        assert_eq!(u["body"]["type"], "user.tool_confirmation");
        assert_eq!(u["body"]["tool_use_id"], "sevt_011CZllSlsEY6TJPwBBHNXqc");
        assert_eq!(u["body"]["result"], u["action"]);
    }
}

#[test]
fn two_blocking_one_resolved_leaves_only_the_mcp_call() {
    let x = explain(samples_db(), TWO_BLOCKING, &[]);
    assert_eq!(x["verdict"], "requires_action");
    let all = x["blocking"].as_array().unwrap();
    assert_eq!(all.len(), 2);
    let custom = &all[0];
    assert_eq!(custom["event_id"], "sevt_011CZkxsiwE9BtXB2YO29TAD");
    assert_eq!(custom["resolved"], true);
    assert_eq!(custom["resolved_by"], "sevt_011CZkxtn75CbFb5qudfJ6ap");
    assert_eq!(custom["resolved_by_type"], "user.custom_tool_result");
    assert_eq!(custom["unblock"], serde_json::json!([]));
    let p = pending(&x);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0]["event_id"], "sevt_011CZkxt2S539408qiF74UdZ");
    assert_eq!(p[0]["type"], "agent.mcp_tool_use");
    assert_eq!(p[0]["mcp_server_name"], "github");
    assert!(x["summary"].as_str().unwrap().contains("1 of 2"), "{x}");
}

#[test]
fn a_fully_resolved_confirmation_is_not_pending() {
    let db = samples_db();
    let x = explain(db, RESOLVED, &[]);
    assert_eq!(x["verdict"], "end_turn");
    assert_eq!(x["blocking"], serde_json::json!([]));
    // At the first idle it waited; once allowed (before running) it is resuming.
    let x = explain(db, RESOLVED, &["--at", "sevt_011CZlKVqlSstsKmFgnMMN0C"]);
    assert_eq!(x["verdict"], "requires_action");
    let x = explain(db, RESOLVED, &["--at", "sevt_011CZlKc3fOLfp6EFGw5pH4n"]);
    assert_eq!(x["verdict"], "resuming");
    assert_eq!(
        x["blocking"][0]["resolved_by"],
        "sevt_011CZlKc3fOLfp6EFGw5pH4n"
    );
    assert_eq!(x["blocking"][0]["resolution"], "allow");
    // The denial resolves the second call, with no result event.
    let x = explain(db, RESOLVED, &["--at", "sevt_011CZlKfvOMIL1wLDzUGbQPT"]);
    assert_eq!(x["blocking"][0]["resolution"], "deny");
    assert_eq!(x["verdict"], "resuming");
}

#[test]
fn retries_exhausted_gives_the_error_chain() {
    let x = explain(samples_db(), RETRIES, &[]);
    assert_eq!(x["verdict"], "retries_exhausted");
    assert_eq!(x["attention"], true);
    let errors = x["errors"].as_array().unwrap();
    let chain: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| {
            (
                e["error_type"].as_str().unwrap(),
                e["retry_status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        chain,
        [
            ("model_overloaded_error", "retrying"),
            ("model_overloaded_error", "retrying"),
            ("model_overloaded_error", "exhausted")
        ]
    );
    assert_eq!(errors[2]["at"], "2026-08-07T02:18:31.055Z");
    assert_eq!(errors[0]["message"], "The model is currently overloaded.");
    assert!(
        errors
            .iter()
            .all(|e| e["advice"].as_str().unwrap().contains("overloaded"))
    );
    assert_eq!(x["turn"]["reschedules"], 2);
    assert!(
        x["summary"]
            .as_str()
            .unwrap()
            .contains("retrying → retrying → exhausted"),
        "{x}"
    );
}

#[test]
fn budget_reached_gives_the_spend_and_the_way_forward() {
    let db = samples_db();
    let x = explain(db, BUDGET, &["--at", "sevt_011CZm0u3MArodqBIJu6fq0M"]);
    assert_eq!(x["verdict"], "budget_reached");
    let u = &x["usage"];
    assert_eq!(u["spent"], "$0.27");
    assert_eq!(u["budget_display"], "$0.25");
    assert_eq!(
        u["session_usage"]["event_id"],
        "sevt_011CZm0u2LQ8A0Nvnj5XgzoD"
    );
    assert_eq!(u["session_usage"]["usage"]["list_cost"]["amount"], "27");
    // The sample's session.usage totals are the sums of its model_usage values.
    assert_eq!(
        u["model_requests"]["input_tokens"],
        u["session_usage"]["usage"]["input_tokens"]
    );
    assert_eq!(
        u["model_requests"]["output_tokens"],
        u["session_usage"]["usage"]["output_tokens"]
    );
    assert_eq!(u["model_requests"]["requests"], 5);
    let actions: Vec<&str> = x["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["raise_budget", "remove_budget"]);
    let remove = x["requests"][1]["curl"].as_str().unwrap();
    assert!(
        remove.contains(&format!("/v1/sessions/{BUDGET}' "))
            && remove.contains(r#"{"budget":null}"#),
        "{remove}"
    );
    // After the budget was removed, the session finished its turn.
    assert_eq!(explain(db, BUDGET, &[])["verdict"], "end_turn");
}

#[test]
fn refusal_gives_the_category_and_the_request() {
    let x = explain(
        samples_db(),
        REFUSAL,
        &["--at", "sevt_011CZmAkfH9hGceLJFn0b6Eo"],
    );
    assert_eq!(x["verdict"], "refusal");
    assert_eq!(x["refusal"]["category"], "cyber");
    assert!(
        x["refusal"]["explanation"]
            .as_str()
            .unwrap()
            .contains("ransomware"),
        "{x}"
    );
    assert_eq!(
        x["refusal"]["request"]["event_id"],
        "sevt_011CZmAkBXSAGsTqnFAdCFUr"
    );
    assert!(
        x["refusal"]["request"]["excerpt"]
            .as_str()
            .unwrap()
            .starts_with("Now turn it into a real payload")
    );
    // The next turn ended normally.
    assert_eq!(explain(samples_db(), REFUSAL, &[])["verdict"], "end_turn");
}

#[test]
fn terminated_after_a_terminal_error_and_deleted() {
    let x = explain(samples_db(), TERMINATED, &[]);
    assert_eq!(
        (x["verdict"].as_str(), x["state"].as_str()),
        (Some("terminated"), Some("terminated"))
    );
    assert_eq!(x["attention"], true);
    let last = x["errors"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["error_type"].as_str(), last["retry_status"].as_str()),
        (Some("unknown_error"), Some("terminal"))
    );
    assert!(
        x["open_spans"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["start_id"] == "sevt_011CZmaQPY7PcQZxBqWSewk7"),
        "make linkcheck never returned: {x}"
    );
    let x = explain(samples_db(), DELETED, &[]);
    assert_eq!(
        (x["verdict"].as_str(), x["state"].as_str()),
        (Some("deleted"), Some("deleted"))
    );
    assert_eq!(
        (&x["stop_reason"], &x["previous_stop_reason"]),
        (&Value::Null, &Value::from("end_turn")),
        "a deleted session has no stop reason; the newest idle's is the previous one"
    );
    assert_eq!(x["attention"], false);
}

#[test]
fn the_interrupted_turn_names_its_interrupt() {
    let x = explain(
        samples_db(),
        "sesn_011CZqueuedEcho000000012",
        &["--at", "sevt_011CZlaQD04F3oZFxrlKxd9e"],
    );
    assert_eq!(x["verdict"], "end_turn");
    assert_eq!(x["turn"]["interrupted_by"], "sevt_011CZlaQ7rEYbT9YIInrqIiF");
}

#[test]
fn errors_are_one_line_and_exit_2() {
    let db = samples_db();
    for args in [
        vec!["explain", "sesn_011CZnoSuchSession00000000"],
        vec!["explain", STUCK, "--at", "sevt_011CZnotAnEvent0000000000"],
        vec!["explain", STUCK, "--at", "noon"],
    ] {
        let o = run(db, &args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o).lines().count(), 1, "{args:?}: {}", stderr(&o));
    }
    let o = run(db, &["explain", STUCK, "--now", "+5m"]);
    assert_eq!(code(&o), 2, "--now takes an absolute time: {}", stderr(&o));
    assert!(
        stderr(&o).contains("--now takes an RFC 3339 time"),
        "{}",
        stderr(&o)
    );
}

/// A real recording whose recorder was killed (its connection never closed), then run again
/// later against a server whose event list always fails: the time between is unproven.
#[test]
fn a_capture_gap_weakens_the_verdict() {
    let dir = tempdir();
    let src = dir.path().join("source.db");
    import_samples(&src);
    let dst = dir.path().join("rec.db");
    let (mut server, url) = serve_process(&src, &["--live", "--speed", "4"]);
    let mut rec = bin()
        .arg("--db")
        .arg(&dst)
        .args([
            "record",
            HAPPY,
            "--base-url",
            &url,
            "--until",
            "idle",
            "--quiet",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_events(&dst, 5, Duration::from_secs(20));
    rec.kill().unwrap(); // SIGKILL: the connection is never closed in the capture log
    rec.wait().unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    let (mut failing, url) = serve_process(&src, &["--chaos-list-errors", "1"]);
    std::thread::sleep(Duration::from_secs(1));
    let o = run(
        &dst,
        &[
            "record",
            HAPPY,
            "--base-url",
            &url,
            "--until",
            "idle",
            "--timeout",
            "2s",
            "--quiet",
        ],
    );
    failing.kill().unwrap();
    failing.wait().unwrap();
    assert_eq!(code(&o), 7, "no history pass can complete: {}", stderr(&o));
    let x = explain(&dst, HAPPY, &[]);
    let gaps = x["capture_gaps"]
        .as_array()
        .unwrap_or_else(|| panic!("{x}"));
    let seconds: f64 = gaps.iter().map(|g| g["seconds"].as_f64().unwrap()).sum();
    assert!(
        seconds >= 1.0,
        "the second run started a second later: {gaps:?}"
    );
    assert!(
        x["capture_note"]
            .as_str()
            .unwrap()
            .contains("unproven interval"),
        "{x}"
    );
    assert!(
        x["summary"]
            .as_str()
            .unwrap()
            .contains("events may be missing"),
        "{x}"
    );
    assert!(
        x["advice"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a.as_str().unwrap().contains("flightrec record"))
    );
    let text = stdout(&run(&dst, &["explain", HAPPY, "--now", NOW]));
    assert!(text.contains("unproven:"), "{text}");
}
