//! `flightrec unblock … --follow` end to end against `serve --live --hold`: the server holds the
//! recorded session at each `requires_action` idle until it is answered, the real binary sends
//! the answer, records what follows and stops at the end of the turn with explain's verdict.

use std::path::{Path, PathBuf};

use crate::unblock::{Live, capture_entries, imported, one_line_error, sample, stored, unblock};
use crate::util::*;

const RESOLVED: &str = "sesn_011CZresolvedConfirm0005";
/// The recorded answers (an allow, then a deny) that the sent ones replace.
const RECORDED_ALLOW: &str = "sevt_011CZlKc3fOLfp6EFGw5pH4n";
const RECORDED_DENY: &str = "sevt_011CZlKfvOMIL1wLDzUGbQPT";
/// What follows the first answer, and the two idles the answers lead to.
const RUNNING_AGAIN: &str = "sevt_011CZlKc6qDwz2h2Z5Mly5hr";
const MIGRATED: &str = "sevt_011CZlKd7mrhSSUfUBU01eq8";
const SECOND_WAIT: &str = "sevt_011CZlKdqHZTK6VWBggixYGi";
const END_TURN: &str = "sevt_011CZlKgcAX2P72wT3u2KTU3";

/// A database holding the sample's first `lines` events: the session as far as it had got.
fn first_part(dir: &Path, lines: usize) -> PathBuf {
    let text = std::fs::read_to_string(sample("resolved-confirmation")).unwrap();
    let part: String = text.lines().take(lines).map(|l| format!("{l}\n")).collect();
    let file = dir.join(format!("part.{RESOLVED}.jsonl"));
    std::fs::write(&file, part).unwrap();
    let db = dir.join("client.db");
    let o = run(&db, &["import", file.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    db
}

fn times_shown(out: &str, id: &str) -> usize {
    out.lines().filter(|l| l.contains(id)).count()
}

#[test]
fn unblock_follow_resumes_a_held_session_records_what_follows_and_explains_its_next_idle() {
    let dir = tempdir();
    let server_db = imported(dir.path(), "server.db", "resolved-confirmation");
    // Up to and including the first requires_action idle.
    let db = first_part(dir.path(), 13);
    let live = Live::start_with(&server_db, &["--hold"]);

    // Allowed: the session runs on to its second confirmation, which needs attention (exit 1).
    let o = unblock(
        &db,
        &live.base,
        &[
            RESOLVED,
            "--allow",
            "--yes",
            "--follow",
            "--follow-timeout",
            "60s",
        ],
    );
    let out = stdout(&o);
    assert_eq!(code(&o), 1, "{out}\n{}", stderr(&o));
    assert!(
        out.contains("sent user.tool_confirmation (allow): sevt_"),
        "{out}"
    );
    // The events as they were stored, each once, then explain's report.
    let verdict = out
        .find("requires_action: NEEDS ATTENTION")
        .expect("the verdict");
    let (shown, explained) = out.split_at(verdict);
    for id in [RUNNING_AGAIN, MIGRATED, SECOND_WAIT] {
        assert_eq!(times_shown(shown, id), 1, "{id} in:\n{out}");
    }
    assert!(explained.contains("to deny:"), "{out}");
    assert!(!out.contains(END_TURN), "stopped at the next idle:\n{out}");
    // What followed was recorded; the recorded answer was left out for the sent one, which
    // took its time.
    let rows = event_rows(&db, RESOLVED);
    assert!(rows.iter().any(|r| r.0 == MIGRATED), "recorded");
    let confirmations = stored(&db, RESOLVED, "user.tool_confirmation");
    assert_eq!(confirmations.len(), 1, "{confirmations:?}");
    assert_eq!(
        confirmations[0].0.as_deref(),
        Some("2026-08-07T13:30:54.316Z")
    );
    assert!(!rows.iter().any(|r| r.0 == RECORDED_ALLOW));

    // Denied (the session named by a prefix): it runs on to end_turn, explained, exit 0.
    let o = unblock(
        &db,
        &live.base,
        &[
            "sesn_011CZresolvedC",
            "--deny",
            "--message",
            "schema only",
            "--yes",
            "--follow",
            "--follow-timeout",
            "60s",
        ],
    );
    let out = stdout(&o);
    assert_eq!(code(&o), 0, "{out}\n{}", stderr(&o));
    let (shown, verdict) = out.split_at(out.find("end_turn: ok").expect("explain's verdict"));
    assert_eq!(times_shown(shown, END_TURN), 1, "{out}");
    assert!(
        verdict.contains("Understood, I left the data alone."),
        "{out}"
    );
    assert!(out.contains("capture: recorded live"), "{out}");

    // The whole session is recorded, with the two sent answers in place of the recorded ones.
    let rows = event_rows(&db, RESOLVED);
    assert_eq!(rows.len(), 27, "{rows:?}");
    assert!(!rows.iter().any(|r| r.0 == RECORDED_DENY));
    assert_eq!(rows.last().unwrap().0, END_TURN);
    let entries = capture_entries(&db, "unblock");
    let actions: Vec<String> = entries
        .iter()
        .map(|(_, d)| serde_json::from_str::<serde_json::Value>(d).unwrap()["action"].to_string())
        .collect();
    assert_eq!(actions, ["\"allow\"", "\"deny\""]);
    let state = stdout(&run(&db, &["explain", RESOLVED]));
    assert!(state.starts_with("end_turn: ok"), "{state}");
}

#[test]
fn unblock_follow_gives_up_in_one_line_when_the_session_never_goes_on() {
    let dir = tempdir();
    // The recording ends waiting: after the answer, nothing more comes.
    let server_db = imported(dir.path(), "server.db", "pending-confirmation");
    let db = imported(dir.path(), "client.db", "pending-confirmation");
    let live = Live::start_with(&server_db, &["--hold"]);
    let session = "sesn_011CZpendingConfirm00003";
    let o = unblock(
        &db,
        &live.base,
        &[
            session,
            "--allow",
            "--yes",
            "--follow",
            "--follow-timeout",
            "1500ms",
        ],
    );
    assert_eq!(code(&o), 7, "{}", stderr(&o));
    let err = one_line_error(&o);
    assert!(
        err.contains(&format!(
            "{session} did not reach its next idle within 1.5s (--follow-timeout)"
        )),
        "{err}"
    );
    assert!(stdout(&o).contains("sent user.tool_confirmation (allow)"));
    // Sent all the same, and logged.
    assert_eq!(capture_entries(&db, "unblock").len(), 1);

    // --follow goes with sending only.
    let o = unblock(
        &db,
        &live.base,
        &[session, "--allow", "--dry-run", "--follow"],
    );
    assert!(one_line_error(&o).contains("nothing to --follow"));
}

/// The stream's frames as (type, id).
fn kinds(frames: &[crate::serve::Frame]) -> Vec<(String, String)> {
    frames
        .iter()
        .map(|f| (f.event.clone(), crate::serve::id_of(&f.data)))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_held_session_goes_on_only_when_what_the_recording_answered_is_answered() {
    use crate::serve::{Server, Sse, opts};
    use std::time::Duration;
    const TWO: &str = "sesn_011CZtwoBlocking00000004";
    const WEATHER: &str = "sevt_011CZkxsiwE9BtXB2YO29TAD";
    const ISSUE: &str = "sevt_011CZkxt2S539408qiF74UdZ";
    const FIRST_WAIT: &str = "sevt_011CZkxt7XeXjk1bo1Gw1CnV";
    const RECORDED_RESULT: &str = "sevt_011CZkxtn75CbFb5qudfJ6ap";
    const SECOND_WAIT: &str = "sevt_011CZkxtoe4sf0QiqDAOLYBF";
    let dir = tempdir();
    let db = imported(dir.path(), "server.db", "two-blocking-one-resolved");
    let mut o = opts(&db);
    o.live = true;
    o.hold = true;
    o.max_gap = Some(Duration::from_millis(5));
    let server = Server::start(o).await;
    let url = server.url(&format!("/v1/sessions/{TWO}/events"));
    // It plays to its first wait (both ids) and holds there: the recorded answer is left out.
    let mut listed = Vec::new();
    for _ in 0..50 {
        listed = crate::serve::all_pages(&url).await.0;
        if listed.len() >= 9 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let held = crate::serve::all_pages(&url).await.0;
    assert_eq!(held, listed, "nothing more while it waits");
    assert_eq!(
        crate::serve::id_of(held.last().unwrap()),
        FIRST_WAIT,
        "{held:?}"
    );
    assert_eq!(held.len(), 9, "{held:?}");
    // From here on the stream shows what is sent and what it lets happen.
    let mut sse = Sse::open(&format!("{url}/stream")).await;
    // The session object agrees: idle since that idle, however long it waits.
    let one: serde_json::Value = crate::serve::get(&server.url(&format!("/v1/sessions/{TWO}")))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["status"], "idle", "{one}");
    assert_eq!(one["updated_at"], "2026-08-07T11:05:18.982Z", "{one}");

    // Answering what the recording did not answer changes nothing: the recording answered the
    // weather, and that is what the session waits for.
    let http = reqwest::Client::new();
    let send = |body: String| http.post(&url).body(body).send();
    let confirm = format!(
        r#"{{"events":[{{"type":"user.tool_confirmation","tool_use_id":"{ISSUE}","result":"deny"}}]}}"#
    );
    assert_eq!(send(confirm).await.unwrap().status(), 200);
    let frames = sse.events(20, Duration::from_millis(800)).await;
    let seen = kinds(&frames);
    assert_eq!(seen.len(), 2, "only the sent event's two copies: {seen:?}");
    assert!(seen.iter().all(|(t, _)| t == "user.tool_confirmation"));

    // The weather's result: the session goes on to the re-emitted idle naming the MCP call alone.
    let result = format!(
        r#"{{"events":[{{"type":"user.custom_tool_result","custom_tool_use_id":"{WEATHER}","content":[{{"type":"text","text":"17 C"}}]}}]}}"#
    );
    let res = send(result).await.unwrap();
    let sent: serde_json::Value = res.json().await.unwrap();
    let sent_id = sent["data"][0]["id"].as_str().unwrap().to_string();
    let frames = sse.events(3, Duration::from_secs(3)).await;
    let seen = kinds(&frames);
    let ids: Vec<&str> = seen.iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(
        ids,
        [sent_id.as_str(), sent_id.as_str(), SECOND_WAIT],
        "{seen:?}"
    );
    // The processed copy took the recorded answer's time.
    let processed: serde_json::Value = serde_json::from_str(&frames[1].data).unwrap();
    assert_eq!(processed["processed_at"], "2026-08-07T11:05:23.142Z");
    let listed = crate::serve::all_pages(&url).await.0;
    assert!(!listed.iter().any(|t| t.contains(RECORDED_RESULT)));
    server.stop().await;
}
