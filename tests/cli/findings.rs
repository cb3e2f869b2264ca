//! The whole-session findings of `flightrec explain` on every sample, generated and real-shaped:
//! a snapshot of each session's verdict, outcome and findings, `check --findings`' exit code
//! against them, and where the text report puts them.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::explain::NOW;
use crate::util::*;

/// (scenario, session id, file) of every sample: the generated ones, then `real-…` ones.
fn scenarios() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = sample_scenarios();
    for p in real_sample_files() {
        let name = p.file_name().unwrap().to_str().unwrap();
        let scenario = format!("real-{}", name.split(".sesn_").next().unwrap());
        let s = session_of(&p);
        if !out.iter().any(|(_, o)| *o == s) {
            out.push((scenario, s));
        }
    }
    out
}

/// Every sample imported into one database, each real one on its own (a real-shaped file may be
/// deliberately odd; its session's snapshot then shows what explain made of it).
fn db() -> &'static Path {
    static DB: OnceLock<PathBuf> = OnceLock::new();
    DB.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("findings-samples-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("samples.db");
        import_samples(&db);
        for p in real_sample_files() {
            run(&db, &["import", p.to_str().unwrap()]);
        }
        db
    })
}

fn explain(session: &str, extra: &[&str]) -> Result<Value, String> {
    let mut args = vec!["explain", session, "--json", "--now", NOW];
    args.extend_from_slice(extra);
    let o = run(db(), &args);
    if code(&o) != 0 {
        return Err(stderr(&o));
    }
    Ok(serde_json::from_str(&stdout(&o)).unwrap())
}

#[test]
fn every_sample_findings_snapshot() {
    for (scenario, session) in scenarios() {
        let shown = match explain(&session, &[]) {
            Ok(x) => json!({
                "verdict": x["verdict"],
                "attention": x["attention"],
                "summary": x["summary"],
                "outcome": x["outcome"],
                "findings": x["findings"],
            }),
            Err(e) => json!({ "error": e }),
        };
        let text = serde_json::to_string_pretty(&shown).unwrap();
        insta::assert_snapshot!(format!("findings-{scenario}"), text);
    }
}

#[test]
fn findings_are_in_time_order_numbered_by_turn_and_documented() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/explain-json.md"))
            .unwrap();
    let mut seen = 0;
    for (scenario, session) in scenarios() {
        let Ok(x) = explain(&session, &[]) else {
            continue;
        };
        let f = x["findings"].as_array().unwrap();
        let offsets: Vec<i64> = f.iter().filter_map(|f| f["offset_ms"].as_i64()).collect();
        assert!(offsets.is_sorted(), "{scenario}: {offsets:?}");
        let turns: Vec<i64> = f.iter().map(|f| f["turn"].as_i64().unwrap()).collect();
        assert!(turns.iter().all(|t| *t >= 1), "{scenario}: {turns:?}");
        for one in f {
            let c = one["code"].as_str().unwrap();
            assert!(
                doc.contains(&format!("| `{c}` |")),
                "{scenario}: {c} is not documented in docs/explain-json.md"
            );
            seen += 1;
        }
    }
    assert!(seen >= 15, "only {seen} findings over every sample");
}

#[test]
fn check_findings_exits_1_exactly_when_a_warning_or_worse_exists() {
    for (scenario, session) in scenarios() {
        let Ok(x) = explain(&session, &[]) else {
            continue;
        };
        let serious = x["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["severity"] != "info");
        let want = i32::from(serious || x["attention"] == true);
        let o = run(db(), &["check", &session, "--findings", "--now", NOW]);
        assert_eq!(code(&o), want, "{scenario}: {}", stdout(&o));
        let plain = run(db(), &["check", &session, "--now", NOW]);
        assert_eq!(
            code(&plain),
            i32::from(x["attention"] == true),
            "{scenario}: check without --findings reads the end state only"
        );
    }
}

#[test]
fn the_text_report_lists_findings_right_after_the_verdict() {
    let session = scenarios()
        .into_iter()
        .find(|(s, _)| s == "refusal")
        .unwrap()
        .1;
    let o = run(db(), &["explain", &session, "--now", NOW]);
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("end_turn: ok"), "{text}");
    assert_eq!(lines[3], "findings (1):", "{text}");
    assert!(
        lines[4].contains("error") && lines[4].contains("refusal"),
        "{text}"
    );
    assert!(lines[4].contains("turn 2"), "{text}");
}
