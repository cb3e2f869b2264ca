//! Regressions: terminal output.
//!
//! Event text is the agent's and its tools' (and so anyone's who can put text in front of them):
//! none of it may drive the terminal. Every command shows control characters visibly (the forms
//! of `flightrec::model::term`), and only flightrec's own styling reaches the terminal as escape
//! sequences.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::util::*;

/// ESC [ 31m (red), an OSC 0 window title ended by BEL, CR, BS, a C1 CSI and DEL.
const PAYLOAD: &str = "\u{1b}[31mRED\u{1b}]0;pwned\u{7}\rCR\u{8}BS\u{9b}2JDEL\u{7f}!";
/// What each of those looks like on the terminal.
const VISIBLE: &[&str] = &[
    "␛[31mRED",
    "␛]0;pwned␇",
    "␍CR",
    "␈BS",
    "\\u009b2J",
    "DEL\\u007f!",
];

const EVIL: &str = "sesn_011CZhostileTerminal0001";
const CALM: &str = "sesn_011CZstuckCustomTool0002";

/// A session whose message text, tool name, event type, ids, error type and message, stop
/// reason and title all carry the payload, plus one frame that is not JSON at all, in a file
/// whose name carries it too.
fn hostile_log(dir: &Path) -> PathBuf {
    let p = PAYLOAD;
    let tool_id = format!("sevt_tool{p}");
    let events = [
        json!({"type":"session.updated","id":"sevt_0001","processed_at":"2026-08-07T07:41:20.000Z",
               "title":format!("Title {p}")}),
        json!({"type":"user.message","id":format!("sevt_user{p}"),"processed_at":"2026-08-07T07:41:20.500Z",
               "content":[{"type":"text","text":format!("hello {p}")}]}),
        json!({"type":"session.status_running","id":"sevt_0003","processed_at":"2026-08-07T07:41:20.800Z"}),
        json!({"type":"span.model_request_start","id":"sevt_0004","processed_at":"2026-08-07T07:41:21.000Z"}),
        json!({"type":"agent.message","id":"sevt_0005","processed_at":"2026-08-07T07:41:21.500Z",
               "content":[{"type":"text","text":format!("agent says {p}")}]}),
        json!({"type":format!("agent.evil{p}"),"id":"sevt_0006","processed_at":"2026-08-07T07:41:21.600Z"}),
        json!({"type":"session.error","id":"sevt_0007","processed_at":"2026-08-07T07:41:21.700Z",
               "error":{"type":format!("evil_error{p}"),"message":format!("boom {p}"),
                        "retry_status":{"type":"exhausted"}}}),
        json!({"type":"session.status_idle","id":"sevt_0008","processed_at":"2026-08-07T07:41:21.800Z",
               "stop_reason":{"type":format!("stopped{p}")},"stop_details":null}),
        json!({"type":"session.status_running","id":"sevt_0009","processed_at":"2026-08-07T07:41:22.000Z"}),
        json!({"type":"agent.custom_tool_use","id":tool_id,"name":format!("tool{p}"),
               "input":{"city":format!("Bergen {p}")},"processed_at":"2026-08-07T07:41:22.500Z"}),
        json!({"type":"span.model_request_end","id":"sevt_0011","model_request_start_id":"sevt_0004",
               "is_error":false,"model_usage":{"input_tokens":10,"output_tokens":5},
               "processed_at":"2026-08-07T07:41:22.600Z"}),
        json!({"type":"session.status_idle","id":"sevt_0012","processed_at":"2026-08-07T07:41:23.000Z",
               "stop_reason":{"type":"requires_action","event_ids":[tool_id]},"stop_details":null}),
    ];
    let mut text: String = events.iter().map(|e| format!("{e}\n")).collect();
    // Not JSON: raw control characters are not allowed in a JSON string.
    text.push_str(&format!("{{\"type\":\"user.message\",\"oops\":\"{p}\"\n"));
    // File names are anyone's too (`flightrec import *`).
    let path = dir.join(format!("hostile{p}.{EVIL}.jsonl"));
    std::fs::write(&path, text).unwrap();
    path
}

/// Every character that a terminal would act on: C0 but newline and tab, DEL, C1.
fn raw_controls(s: &str) -> Vec<char> {
    s.chars()
        .filter(|c| c.is_control() && *c != '\n' && *c != '\t')
        .collect()
}

/// `s` without SGR sequences (ESC [ digits and ; m): flightrec's own styles. An ESC from event
/// text is shown as ␛, so every raw one is ours.
fn without_our_styles(s: &str) -> String {
    regex::Regex::new(r"\x1b\[[0-9;]*m")
        .unwrap()
        .replace_all(s, "")
        .into_owned()
}

fn text_of(bytes: &[u8], what: &str) -> String {
    String::from_utf8(bytes.to_vec()).unwrap_or_else(|e| panic!("{what}: not UTF-8: {e}"))
}

/// Asserts a run's stdout and stderr carry no raw control character, and returns both.
fn clean(what: &str, o: &Output) -> String {
    let out = text_of(&o.stdout, what);
    let err = text_of(&o.stderr, what);
    for (stream, text) in [("stdout", &out), ("stderr", &err)] {
        let raw = raw_controls(text);
        assert!(
            raw.is_empty(),
            "{what}: raw control characters {raw:?} on {stream}:\n{}",
            text.escape_debug()
        );
    }
    format!("{out}{err}")
}

fn setup() -> (tempfile::TempDir, PathBuf, Output) {
    let dir = tempdir();
    let db = dir.path().join("t.db");
    let log = hostile_log(dir.path());
    let calm = samples_dir().join(format!("stuck-custom-tool.{CALM}.jsonl"));
    let o = run(
        &db,
        &["import", log.to_str().unwrap(), calm.to_str().unwrap()],
    );
    assert_eq!(code(&o), 3, "one frame quarantined: {}", stderr(&o));
    (dir, db, o)
}

#[test]
fn event_text_with_escape_sequences_drives_the_terminal() {
    let (dir, db, import) = setup();
    let mut all = String::new();
    let mut check = |what: &str, o: &Output, must_show: bool| {
        let text = clean(what, o);
        if must_show {
            assert!(
                text.contains("␛[31mRED"),
                "{what}: the payload is not shown:\n{text}"
            );
        }
        all.push_str(&text);
    };
    check("import", &import, true);
    let missing = dir.path().join(format!("gone{PAYLOAD}.{EVIL}.jsonl"));
    let o = run(&db, &["import", missing.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    check("import of a missing file", &o, true);
    let commands: Vec<(&str, Vec<&str>)> = vec![
        ("sessions", vec!["sessions"]),
        ("timeline", vec!["timeline", EVIL]),
        ("explain", vec!["explain", EVIL]),
        ("spans", vec!["spans", EVIL]),
        ("state", vec!["state", EVIL]),
        ("search", vec!["search", "hello"]),
        ("stats", vec!["stats", EVIL]),
        ("stats of all", vec!["stats"]),
        ("check", vec!["check", CALM, EVIL]),
        ("diff", vec!["diff", CALM, EVIL]),
        ("replay", vec!["replay", EVIL, "--no-wait"]),
        ("export md", vec!["export", EVIL, "--format", "md"]),
        (
            "unknown session",
            vec!["timeline", "sesn_\u{1b}]0;pwned\u{7}\u{1b}[31mRED"],
        ),
        (
            "bad argument",
            vec![
                "replay",
                EVIL,
                "--speed",
                "\u{1b}]0;pwned\u{7}\u{1b}[31mRED",
            ],
        ),
    ];
    for (what, args) in &commands {
        let o = run(&db, args);
        assert!(code(&o) <= 2, "{what}: exit {}: {}", code(&o), stderr(&o));
        check(what, &o, true);
    }
    for form in VISIBLE {
        assert!(all.contains(form), "{form} never shown");
    }
}

#[test]
fn json_output_escapes_every_control_character_and_stays_the_same_json() {
    let (_dir, db, _) = setup();
    for args in [
        vec!["timeline", EVIL, "--json"],
        vec!["sessions", "--json"],
        vec!["explain", EVIL, "--json"],
        vec!["state", EVIL, "--json"],
        vec!["check", EVIL, "--json"],
    ] {
        let o = run(&db, &args);
        let out = clean(&args.join(" "), &o);
        let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        assert!(
            v.to_string().contains(PAYLOAD) || v.to_string().contains("\\u001b[31mRED"),
            "{args:?}: the payload is not in the JSON"
        );
        assert!(out.contains("\\u009b2J"), "{args:?}: C1 not escaped: {out}");
    }
}

#[test]
fn replay_colours_are_its_own_never_the_events() {
    let (_dir, db, _) = setup();
    let o = run(&db, &["replay", EVIL, "--no-wait", "--color", "always"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = text_of(&o.stdout, "replay");
    // flightrec's own styles are there: dim notes, red errors, bold agent messages.
    for own in ["\u{1b}[2m", "\u{1b}[31m", "\u{1b}[1m", "\u{1b}[0m"] {
        assert!(
            out.contains(own),
            "{own:?} missing:\n{}",
            out.escape_debug()
        );
    }
    // Take away every sequence flightrec writes itself: nothing else may be left.
    let mut rest = out.clone();
    for own in [
        "\u{1b}[0m",
        "\u{1b}[2m",
        "\u{1b}[1m",
        "\u{1b}[31m",
        "\u{1b}[32m",
        "\u{1b}[33m",
        "\u{1b}[1;33m",
        "\u{1b}[35m",
        "\u{1b}[36m",
    ] {
        rest = rest.replace(own, "");
    }
    assert!(raw_controls(&rest).is_empty(), "{}", rest.escape_debug());
    assert!(out.contains("␛[31mRED"), "{}", out.escape_debug());
    // The event's red never becomes a colour, and its OSC never a title.
    assert!(!out.contains("\u{1b}[31mRED"), "{}", out.escape_debug());
    assert!(!out.contains("\u{1b}]0;"), "{}", out.escape_debug());
    let o = run(&db, &["replay", EVIL, "--no-wait", "--color", "never"]);
    let plain = clean("replay --color never", &o);
    assert!(plain.contains("␛[31mRED"));
}

/// Runs `flightrec --db DB ARGS…` on a pseudo-terminal (util-linux `script`), returning what the
/// terminal received, its line discipline's CR LF turned back into LF.
fn on_a_terminal(db: &Path, args: &[&str]) -> String {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut cmd = vec![quote(env!("CARGO_BIN_EXE_flightrec")), "--db".into()];
    cmd.push(quote(db.to_str().unwrap()));
    cmd.extend(args.iter().map(|a| quote(a)));
    let o = std::process::Command::new("script")
        .args([
            "-q",
            "-e",
            "-c",
            &format!("stty cols 400; {}", cmd.join(" ")),
            "/dev/null",
        ])
        .env_remove("NO_COLOR")
        .env_remove("FLIGHTREC_DB")
        .env("FLIGHTREC_PAGER", "cat")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("script(1) from util-linux runs a command on a pseudo-terminal");
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    text_of(&o.stdout, "terminal").replace("\r\n", "\n")
}

#[test]
fn file_formats_and_replay_on_a_terminal_drive_it() {
    let (_dir, db, _) = setup();
    // replay's colour is on by itself on a terminal, and still only its own.
    let out = on_a_terminal(&db, &["replay", EVIL, "--no-wait"]);
    assert!(
        out.contains("\u{1b}[2m"),
        "no colour on a terminal:\n{}",
        out.escape_debug()
    );
    assert!(out.contains("␛[31mRED"), "{}", out.escape_debug());
    assert!(!out.contains("\u{1b}[31mRED") && !out.contains("\u{1b}]0;"));
    // export's file formats are for files; shown on a terminal, they are shown visibly.
    for args in [
        vec!["export", EVIL],
        vec!["export", EVIL, "--format", "md"],
        vec!["export", EVIL, "--format", "perfetto"],
        vec!["timeline", EVIL],
    ] {
        // The timeline is coloured on a terminal: its own styles (SGR) are the only escapes.
        let out = without_our_styles(&on_a_terminal(&db, &args));
        let raw = raw_controls(&out);
        assert!(raw.is_empty(), "{args:?}: {raw:?}\n{}", out.escape_debug());
        assert!(out.contains("\\u009b2J"), "{args:?}:\n{out}");
    }
    // Into a pipe, the event log keeps its bytes: C1 and DEL raw inside JSON strings.
    let o = run(&db, &["export", EVIL]);
    assert!(stdout(&o).contains("\u{9b}2JDEL\u{7f}!"));
}
