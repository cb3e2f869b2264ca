//! Regressions: export.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::util::*;

const DEEP_SESSION: &str = "sesn_011CZdeepNestExport00001";
const FORMATS: &[&str] = &["jsonl", "tape", "md", "html", "perfetto", "otlp"];
/// A child whose peak resident memory passes this is killed and the test fails.
const RSS_LIMIT_KB: u64 = 200 * 1024;

/// A session of two events: a tool call whose input is objects nested `depth` deep, and its
/// result (an error) whose text is JSON arrays nested `depth` deep. Returns the JSON Lines file.
fn deep_session(dir: &Path, depth: usize) -> std::path::PathBuf {
    let input = format!(
        "{}\"deepest-leaf-input\"{}",
        "{\"a\":".repeat(depth),
        "}".repeat(depth)
    );
    let text = format!(
        "{}\"deepest-leaf-result\"{}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let tool_use = format!(
        r#"{{"type":"agent.tool_use","id":"sevt_011CZdeepToolUse00000001","name":"bash","processed_at":"2026-08-07T14:02:15.903Z","input":{input}}}"#
    );
    let result = serde_json::json!({
        "type": "agent.tool_result", "id": "sevt_011CZdeepToolRes00000002",
        "tool_use_id": "sevt_011CZdeepToolUse00000001", "processed_at": "2026-08-07T14:02:17.000Z",
        "is_error": true, "content": [{"type": "text", "text": text}],
    });
    let path = dir.join("deep.jsonl");
    std::fs::write(&path, format!("{tool_use}\n{result}\n")).unwrap();
    path
}

/// Runs `flightrec --db DB ARGS`, stdout to `out`, watching its peak RSS (VmHWM) while it runs and
/// killing it past [`RSS_LIMIT_KB`]. Returns (exit code, peak KB seen, stderr).
fn run_watched(db: &Path, args: &[&str], out: &Path) -> (i32, u64, String) {
    let err_path = out.with_extension("err");
    let mut child = bin()
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("FLIGHTREC_DB")
        .stdout(std::fs::File::create(out).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let status_path = format!("/proc/{}/status", child.id());
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut peak = 0u64;
    let status = loop {
        if let Ok(s) = std::fs::read_to_string(&status_path)
            && let Some(kb) = s
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kb);
        }
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if peak > RSS_LIMIT_KB || Instant::now() > deadline {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("flightrec {args:?}: killed at {peak} kB of peak RSS (limit {RSS_LIMIT_KB} kB)");
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let err = std::fs::read_to_string(&err_path).unwrap_or_default();
    (status.code().unwrap_or(-1), peak, err)
}

/// Issue 12 #2: a tool input nested 20,000 deep made the HTML export's pretty printer indent by
/// depth squared (an 800 MB page, 2.35 GB RSS), 100,000 deep was killed for memory, and the
/// markdown transcript dropped the input (the typed parse stops at 128 levels). Every format now
/// renders any event the importer accepts in memory and output proportional to its size.
#[test]
fn deeply_nested_event_exports_every_format_in_bounded_memory() {
    let dir = tempdir();
    for depth in [20_000usize, 100_000] {
        let jsonl = deep_session(dir.path(), depth);
        let input_bytes = std::fs::metadata(&jsonl).unwrap().len();
        let db = dir.path().join(format!("deep{depth}.db"));
        let o = run(
            &db,
            &["import", "--session", DEEP_SESSION, jsonl.to_str().unwrap()],
        );
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        for format in FORMATS {
            for redact in [false, true] {
                let out = dir.path().join(format!("deep{depth}-{redact}.{format}"));
                let mut args = vec!["export", DEEP_SESSION, "--format", format];
                if redact {
                    args.push("--redact");
                }
                let (rc, peak, err) = run_watched(&db, &args, &out);
                let what = format!("depth {depth}, {format}, redact {redact}");
                assert_eq!(rc, 0, "{what}: {err}");
                assert!(peak < RSS_LIMIT_KB, "{what}: peak RSS {peak} kB");
                let size = std::fs::metadata(&out).unwrap().len();
                // A page's fixed parts (CSS, script, timeline) plus a few bytes per input byte.
                assert!(
                    size < 8 * input_bytes + 256 * 1024,
                    "{what}: {size} bytes out of {input_bytes} in"
                );
                if matches!(*format, "md" | "html" | "jsonl" | "tape") {
                    let text = std::fs::read_to_string(&out).unwrap();
                    for leaf in ["deepest-leaf-input", "deepest-leaf-result"] {
                        assert!(text.contains(leaf), "{what}: {leaf} not rendered");
                    }
                }
            }
        }
    }
}

/// Issue 12 #8: secrets of common kinds leaked through `--redact`: a JWT, URL credentials (plain,
/// postgres, `\/`-escaped), a Google key, a Stripe key, npm and Hugging Face tokens, an AWS secret
/// key and a password in prose, `DB_PASSWORD`/`GITHUB_TOKEN` fields, and a Slack token after `_`
/// in a tool name (in all six formats). Planted through `flightrec import`, checked in each.
#[test]
fn redaction_masks_common_secret_kinds_in_every_format() {
    let session = "sesn_011CZredactKinds0000001";
    let secrets = [
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyNDIifQ.c2lnbmF0dXJlc2lnbmF0dXJl",
        "urlPass123",
        "pgPass456",
        "escPass789",
        "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
        "sk_live_51Habcdefghijklmnopqrstuv",
        "npm_abcdefghijklmnopqrstuvwxyz0123456789",
        "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "Tr0ub4dor3xyz",
        "dbPass-2024-x",
        "ghtok-value-99",
        "xoxb-123456789012-SlackInToolName",
    ];
    let s = |i: usize| secrets[i];
    let text = format!(
        "session cookie {} ; clone https://deploy:{}@git.example.com/r.git ; DSN postgres://app:{}@db:5432/x ; \
         the AWS secret key is {} ; the password is {} .",
        s(0),
        s(1),
        s(2),
        s(8),
        s(9)
    );
    let escaped = format!(r#"{{"url":"https:\/\/ci:{}@ci.example.com\/hook"}}"#, s(3));
    let events = [
        serde_json::json!({"type": "user.message", "id": "sevt_011CZkindsUser00000001", "processed_at": "2026-08-07T14:02:11.000Z",
                           "content": [{"type": "text", "text": text}]}),
        serde_json::json!({"type": "agent.tool_use", "id": "sevt_011CZkindsTool00000002", "processed_at": "2026-08-07T14:02:12.000Z",
                           "name": format!("mcp_{}", s(12)),
                           "input": {"command": format!("curl 'https://maps.example.com/?key={}' ; stripe {} ; npm {} ; hf {}", s(4), s(5), s(6), s(7)),
                                     "env": {"DB_PASSWORD": s(10), "GITHUB_TOKEN": s(11)}}}),
        serde_json::json!({"type": "agent.tool_result", "id": "sevt_011CZkindsRes000000003", "tool_use_id": "sevt_011CZkindsTool00000002",
                           "processed_at": "2026-08-07T14:02:13.000Z", "content": [{"type": "text", "text": escaped}]}),
    ];
    let dir = tempdir();
    let file = dir.path().join("kinds.jsonl");
    std::fs::write(
        &file,
        events.iter().map(|e| format!("{e}\n")).collect::<String>(),
    )
    .unwrap();
    let db = dir.path().join("kinds.db");
    let o = run(
        &db,
        &["import", "--session", session, file.to_str().unwrap()],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let plain = stdout(&run(&db, &["export", session]));
    for secret in secrets {
        assert!(plain.contains(secret), "{secret} not planted");
    }
    for format in FORMATS {
        let o = run(&db, &["export", session, "--format", format, "--redact"]);
        assert_eq!(code(&o), 0, "{format}: {}", stderr(&o));
        let out = stdout(&o);
        for secret in secrets {
            assert!(!out.contains(secret), "{format}: {secret} leaked");
        }
        assert!(out.contains("[REDACTED:"), "{format}: no marker");
    }
}
