#![allow(clippy::unwrap_used)]

//! The streamed exports against the whole-document ones (`SessionDoc`, `redact_doc`) over every
//! sample, plain and redacted: byte for byte the same output and the same manifest.

use super::Session;
use crate::export::SessionDoc;
use crate::export::html::{write_html, write_html_streamed};
use crate::export::jsonl::{one_line, write_jsonl_redacted};
use crate::export::md::{write_md, write_md_streamed};
use crate::export::tape::{TapeOptions, write_tape, write_tape_streamed};
use crate::record::import::{ImportOptions, import_file};
use crate::redact::{RedactKey, Redactor, redact_doc};
use crate::store::Store;

/// A store holding every sample session (the catalogue's and the real ones).
fn samples() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    let files = crate::analysis::testing::sample_files(true);
    for f in &files {
        import_file(&mut store, f, &ImportOptions::default(), &mut |_, _| {}).unwrap();
    }
    (dir, store)
}

/// No redaction, and a redactor whose own rules match in nearly every event (the samples hold
/// no real secret), so that every kind of text is rewritten and tallied.
fn redactors() -> Vec<Option<Redactor>> {
    let rules = ["tool".to_string(), "[0-9]{3}".to_string()];
    let fields = ["$.name".to_string()];
    let key = RedactKey::given("a fixed key").unwrap();
    vec![None, Some(Redactor::new(&rules, &fields, key).unwrap())]
}

/// The session read whole and redacted, as the exports did before they streamed.
fn doc(store: &Store, id: &str, r: Option<&Redactor>) -> (SessionDoc, Option<serde_json::Value>) {
    let mut doc = SessionDoc::load(store, id).unwrap();
    let m = r.map(|r| serde_json::to_value(redact_doc(&mut doc, r)).unwrap());
    (doc, m)
}

#[test]
fn streamed_jsonl_and_tape_equal_the_whole_document_exports_on_every_sample() {
    let (_dir, store) = samples();
    let sessions = store.sessions().unwrap();
    assert!(sessions.len() >= 20, "{}", sessions.len());
    let (mut masked, mut revisions, mut previews, mut capture) = (0, 0, 0, 0);
    for s in &sessions {
        for r in &redactors() {
            let (doc, manifest) = doc(&store, &s.id, r.as_ref());
            revisions += doc.revisions.len();
            previews += doc.previews.len();
            capture += doc.capture.len();
            let session = Session::open(&store, &s.id, r.as_ref()).unwrap();
            let what = format!("{} redacted {}", s.id, r.is_some());

            let mut want = Vec::new();
            for e in doc.events.iter().filter(|e| e.thread_id.is_empty()) {
                want.extend_from_slice(one_line(&e.raw).as_bytes());
                want.push(b'\n');
            }
            let mut got = Vec::new();
            let (_, _, m) = write_jsonl_redacted(&session, "", &mut got).unwrap();
            assert_eq!(
                String::from_utf8(got),
                String::from_utf8(want),
                "jsonl {what}"
            );
            let m = m.map(|m| serde_json::to_value(m).unwrap());
            assert_eq!(m, manifest, "manifest {what}");
            masked += m.and_then(|m| m["masked"].as_u64()).unwrap_or(0);

            let origins = store.preview_origins(&s.id).unwrap();
            for capture_log in [true, false] {
                let opts = TapeOptions {
                    capture_log,
                    compress: false,
                    redaction: manifest.as_ref(),
                    exported_at: "2026-01-02T00:00:00.000Z",
                };
                let mut want = Vec::new();
                write_tape(&doc, &origins, &opts, &mut want).unwrap();
                let mut got = Vec::new();
                write_tape_streamed(&session, &opts, &mut got).unwrap();
                assert_eq!(
                    String::from_utf8(got),
                    String::from_utf8(want),
                    "tape {what}"
                );
            }
        }
    }
    assert!(masked > 1000, "the redactor masked only {masked} values");
    // The samples hold every kind of row a tape carries.
    assert!(
        revisions > 0 && previews > 0 && capture > 0,
        "revisions {revisions} previews {previews} capture {capture}"
    );
}

/// A fixed "now" (µs) and stall threshold for the transcripts.
const NOW: i64 = 1_790_000_000_000_000;
const STUCK_AFTER: i64 = 600_000_000;

/// For every session of `store`, plain and redacted: the streamed output equals the whole
/// document's, or the test fails showing where they part.
fn streamed_equals_whole(
    store: &Store,
    what: &str,
    whole: impl Fn(&SessionDoc, &mut Vec<u8>),
    streamed: impl Fn(&Session<'_>, &mut Vec<u8>),
) {
    for s in &store.sessions().unwrap() {
        for r in &redactors() {
            let (doc, _) = doc(store, &s.id, r.as_ref());
            let session = Session::open(store, &s.id, r.as_ref()).unwrap();
            let mut want = Vec::new();
            whole(&doc, &mut want);
            let mut got = Vec::new();
            streamed(&session, &mut got);
            if got != want {
                let (got, want) = (
                    String::from_utf8_lossy(&got),
                    String::from_utf8_lossy(&want),
                );
                let at = got
                    .bytes()
                    .zip(want.bytes())
                    .take_while(|(a, b)| a == b)
                    .count();
                let from = at.saturating_sub(200);
                panic!(
                    "{what} {} redacted {}: differs at byte {at}\ngot:  {}\nwant: {}",
                    s.id,
                    r.is_some(),
                    &got[from..(at + 200).min(got.len())],
                    &want[from..(at + 200).min(want.len())]
                );
            }
        }
    }
}

fn html(store: &Store) {
    streamed_equals_whole(
        store,
        "html",
        |doc, out| write_html(doc, &doc.explain(NOW, STUCK_AFTER), STUCK_AFTER, out).unwrap(),
        |session, out| write_html_streamed(session, NOW, STUCK_AFTER, out).unwrap(),
    );
}

fn md(store: &Store) {
    streamed_equals_whole(
        store,
        "md",
        |doc, out| write_md(doc, &doc.explain(NOW, STUCK_AFTER), STUCK_AFTER, out).unwrap(),
        |session, out| write_md_streamed(session, NOW, STUCK_AFTER, out).unwrap(),
    );
}

#[test]
fn streamed_html_equals_the_whole_document_page_on_every_sample() {
    html(&samples().1);
}

#[test]
fn streamed_markdown_equals_the_whole_document_transcript_on_every_sample() {
    md(&samples().1);
}

/// A session long enough that the streamed timeline hands spans out as it goes, with what the
/// lookups replacing the old per-event maps must get right: copies from a thread stream and an
/// id two types share (repeated ids), replies before their call, a denied call whose late result
/// holds the spans after it back, then a thread and a run that never end (the timeline's scratch
/// table), model request ends whose start is not recorded (one linking to an event of another
/// type, one to nothing).
fn long_session() -> (tempfile::TempDir, Store) {
    const ID: &str = "sesn_011CZlongStream00000001";
    let t0: i64 = 1_786_100_000_000_000;
    let at = |s: i64| crate::model::time::format_micros(t0 + s * 1_000_000);
    let ev = |v: serde_json::Value| v.to_string();
    let (mut own, mut thread) = (Vec::new(), Vec::new());
    own.push(ev(
        serde_json::json!({"type": "session.status_running", "id": "run0", "processed_at": at(0)}),
    ));
    own.push(ev(
        serde_json::json!({"type": "user.message", "id": "m0", "processed_at": at(1),
        "content": [{"type": "text", "text": "go"}]}),
    ));
    own.push(ev(
        serde_json::json!({"type": "agent.tool_use", "id": "deny0", "name": "rm",
        "input": {}, "evaluated_permission": "deny", "processed_at": at(2)}),
    ));
    own.push(ev(
        serde_json::json!({"type": "span.model_request_end", "id": "pe0",
        "model_request_start_id": "m0", "is_error": false, "processed_at": at(3)}),
    ));
    own.push(ev(
        serde_json::json!({"type": "span.model_request_end", "id": "pe1",
        "model_request_start_id": "nowhere", "is_error": false, "processed_at": at(3)}),
    ));
    for k in 0..400i64 {
        let t = 10 + k * 10;
        own.push(ev(serde_json::json!({"type": "span.model_request_start", "id": format!("rs{k}"), "processed_at": at(t)})));
        own.push(ev(
            serde_json::json!({"type": "span.model_request_end", "id": format!("re{k}"),
            "model_request_start_id": format!("rs{k}"), "is_error": false,
            "model_usage": {"input_tokens": k, "output_tokens": 1}, "processed_at": at(t + 1)}),
        ));
        // Every 50th result is processed before its call.
        let result_at = if k % 50 == 7 { t + 1 } else { t + 3 };
        let call = serde_json::json!({"type": "agent.tool_use", "id": format!("tu{k}"), "name": "bash",
            "input": {"cmd": format!("echo {k}")}, "processed_at": at(t + 2)});
        let result = serde_json::json!({"type": "agent.tool_result", "id": format!("tr{k}"),
            "tool_use_id": format!("tu{k}"), "is_error": k % 9 == 0,
            "content": [{"type": "text", "text": format!("{k}")}], "processed_at": at(result_at)});
        own.push(ev(call.clone()));
        own.push(ev(result.clone()));
        if (100..120).contains(&k) {
            thread.push(ev(call));
            thread.push(ev(result));
        }
        if k == 5 {
            // The id of a call, taken by a message of another type in the same stream.
            own.push(ev(
                serde_json::json!({"type": "agent.message", "id": "tu5", "processed_at": at(t + 4),
                "content": [{"type": "text", "text": "same id"}]}),
            ));
        }
        if k == 150 {
            // A thread and a workflow run open to the end: carried across turns by the
            // verdicts, holding back every later span of the timeline.
            own.push(ev(serde_json::json!({"type": "workflow_run.created", "id": "wf0",
                "workflow_run_id": "wrun_0", "name": "review", "phases": [], "processed_at": at(t + 5)})));
            own.push(ev(
                serde_json::json!({"type": "session.thread_created", "id": "th0",
                "session_thread_id": "sthr_0", "agent_name": "reader", "processed_at": at(t + 5)}),
            ));
        }
        if k == 50 {
            own.push(ev(serde_json::json!({"type": "agent.tool_result", "id": "late0", "tool_use_id": "deny0",
                "is_error": true, "content": [], "processed_at": at(t + 5)})));
        }
        if k % 40 == 39 {
            own.push(ev(
                serde_json::json!({"type": "session.status_idle", "id": format!("idle{k}"),
                "stop_reason": {"type": "end_turn"}, "processed_at": at(t + 6)}),
            ));
            own.push(ev(
                serde_json::json!({"type": "session.status_running", "id": format!("run{k}"),
                "processed_at": at(t + 7)}),
            ));
        }
    }
    thread.push(ev(
        serde_json::json!({"type": "agent.message", "id": "thread-only", "processed_at": at(5000),
        "content": [{"type": "text", "text": "from the thread"}]}),
    ));
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("s.db")).unwrap();
    for (name, lines, thread) in [
        ("own.jsonl", own, ""),
        ("thread.jsonl", thread, "sthr_copy"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let opts = ImportOptions {
            session: Some(ID.into()),
            thread: thread.into(),
        };
        import_file(&mut store, &path, &opts, &mut |_, _| {}).unwrap();
    }
    let repeated = store.repeated_ids(ID).unwrap();
    assert!(
        repeated.contains("tu5") && repeated.contains("tr110"),
        "{repeated:?}"
    );
    (dir, store)
}

/// The verdict at each idle folded from the store as a pass reaches it equals the one folded
/// from the whole document, plain and redacted; gives how many saw open spans.
fn idle_verdicts_equal_the_whole_documents(store: &Store) -> usize {
    use crate::export::flow::idle_verdicts;
    use crate::export::transcript::{IdleVerdicts, Survey};
    let mut seen = 0;
    for s in &store.sessions().unwrap() {
        for r in &redactors() {
            let (doc, _) = doc(store, &s.id, r.as_ref());
            let want = idle_verdicts(&doc, STUCK_AFTER);
            let session = Session::open(store, &s.id, r.as_ref()).unwrap();
            let sv = Survey::read(&session, NOW, STUCK_AFTER).unwrap();
            let mut verdicts = IdleVerdicts::new(&session, &sv.capture_report, STUCK_AFTER);
            let mut got = std::collections::BTreeMap::new();
            let mut i = 0;
            session
                .each_event(|e| {
                    if let Some(x) = verdicts.at(&e, sv.is_shown(i, &e.event_id)).unwrap() {
                        got.insert(i, x);
                    }
                    i += 1;
                    Ok(())
                })
                .unwrap();
            assert_eq!(got, want, "{} redacted {}", s.id, r.is_some());
            seen += got.values().filter(|x| !x.open_spans.is_empty()).count();
        }
    }
    seen
}

#[test]
fn idle_verdicts_folded_from_the_store_equal_the_whole_documents() {
    assert!(idle_verdicts_equal_the_whole_documents(&samples().1) > 0);
    // Its later verdicts see the thread and run opened before their window.
    assert!(idle_verdicts_equal_the_whole_documents(&long_session().1) >= 12);
}

#[test]
fn streamed_transcripts_equal_the_whole_document_ones_on_a_long_session_with_copies() {
    let (_dir, store) = long_session();
    md(&store);
    html(&store);
}
