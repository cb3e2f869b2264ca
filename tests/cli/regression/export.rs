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
