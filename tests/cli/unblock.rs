//! `flightrec unblock` end to end: the real binary sends to the real binary's `serve --live` on
//! loopback, each with its own database imported from a sample that ends in `requires_action`;
//! and `serve --live`'s `POST …/events` itself (checked inputs, queued then processed copies on
//! the stream, 405 without `--live`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use crate::serve::{Server, Sse, opts};
use crate::util::*;

pub const KEY: &str = "sk-ant-test-unblock-7f3a9c2e51d8";
const PENDING: &str = "sesn_011CZpendingConfirm00003";
const PENDING_USE: &str = "sevt_011CZllSlsEY6TJPwBBHNXqc";
const CUSTOM: &str = "sesn_011CZstuckCustomTool0002";
const CUSTOM_USE: &str = "sevt_011CZkSdM9xUzC45mZmCzS1G";
const TWO: &str = "sesn_011CZtwoBlocking00000004";
const TWO_ANSWERED: &str = "sevt_011CZkxsiwE9BtXB2YO29TAD";

pub fn sample(name: &str) -> PathBuf {
    let found = sample_files()
        .into_iter()
        .chain(real_sample_files())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(name));
    found.unwrap()
}

pub fn imported(dir: &Path, db: &str, sample_name: &str) -> PathBuf {
    let db = dir.join(db);
    let file = sample(sample_name);
    let o = run(&db, &["import", file.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    db
}

/// `flightrec serve --live` as a child process, keyed, on an ephemeral port.
pub struct Live {
    child: Child,
    pub base: String,
}

impl Live {
    pub fn start(db: &Path) -> Live {
        Live::start_with(db, &[])
    }

    /// With more options for `serve` (e.g. `--hold`).
    pub fn start_with(db: &Path, more: &[&str]) -> Live {
        let mut child = bin()
            .arg("--db")
            .arg(db)
            .args([
                "serve",
                "--live",
                "--max-gap",
                "10ms",
                "--addr",
                "127.0.0.1:0",
            ])
            .args(more)
            .env("FLIGHTREC_SERVE_API_KEY", KEY)
            .env_remove("FLIGHTREC_DB")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap()
            .to_string();
        Live { child, base }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `flightrec --db DB unblock ARGS` against `base`, with the key in the environment.
pub fn unblock(db: &Path, base: &str, args: &[&str]) -> Output {
    let mut cmd: Command = bin();
    cmd.arg("--db")
        .arg(db)
        .arg("unblock")
        .args(args)
        .env_remove("FLIGHTREC_DB")
        .env("ANTHROPIC_API_KEY", KEY)
        .env("ANTHROPIC_BASE_URL", base)
        .stdin(Stdio::null());
    output_of(&mut cmd)
}

/// The bytes of a database and its WAL.
fn db_bytes(db: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(db).unwrap();
    let wal = PathBuf::from(format!("{}-wal", db.display()));
    bytes.extend(std::fs::read(wal).unwrap_or_default());
    bytes
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// The stored events of `session` of type `t`: (processed_at, raw).
pub fn stored(db: &Path, session: &str, t: &str) -> Vec<(Option<String>, String)> {
    event_rows(db, session)
        .into_iter()
        .filter(|r| r.1 == t)
        .map(|r| (r.2, r.6))
        .collect()
}

pub fn capture_entries(db: &Path, kind: &str) -> Vec<(String, String)> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut s = c
        .prepare("SELECT started_at, detail FROM capture_log WHERE kind = ?1 ORDER BY id")
        .unwrap();
    s.query_map([kind], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

pub fn one_line_error(o: &Output) -> String {
    assert_ne!(code(o), 0, "{}", stdout(o));
    let err = stderr(o);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    err
}

#[test]
fn allow_yes_sends_the_confirmation_logs_it_and_records_the_echo() {
    let dir = tempdir();
    let server_db = imported(dir.path(), "server.db", "pending-confirmation");
    let db = imported(dir.path(), "client.db", "pending-confirmation");
    let live = Live::start(&server_db);

    let o = unblock(&db, &live.base, &[PENDING, "--allow", "--yes"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with(&format!(
            "POST {}/v1/sessions/{PENDING}/events\n",
            live.base
        )),
        "{out}"
    );
    assert!(out.contains("\"result\": \"allow\""), "{out}");
    assert!(
        out.contains("sent user.tool_confirmation (allow): sevt_"),
        "{out}"
    );

    // The server stored it: queued, then processed (the queued copy kept as a revision).
    let on_server = stored(&server_db, PENDING, "user.tool_confirmation");
    assert_eq!(on_server.len(), 1, "{on_server:?}");
    assert!(on_server[0].0.is_some(), "processed on the server");
    let sent: serde_json::Value = serde_json::from_str(&on_server[0].1).unwrap();
    assert_eq!(sent["tool_use_id"], PENDING_USE);
    assert_eq!(sent["result"], "allow");
    let id = sent["id"].as_str().unwrap().to_string();
    assert!(out.contains(&id), "the echoed id is printed: {out}");

    // The recording holds the echo, queued, and explain now sees the answer queued.
    let recorded = stored(&db, PENDING, "user.tool_confirmation");
    assert_eq!(recorded.len(), 1);
    assert!(recorded[0].1.contains(&id) && recorded[0].0.is_none());

    // The capture log says who unblocked what and when, and never holds the key.
    let entries = capture_entries(&db, "unblock");
    assert_eq!(entries.len(), 1);
    let detail: serde_json::Value = serde_json::from_str(&entries[0].1).unwrap();
    assert_eq!(detail["action"], "allow");
    assert_eq!(detail["event_id"], PENDING_USE);
    assert_eq!(detail["status"], 200);
    assert_eq!(detail["echoed_ids"], serde_json::json!([id]));
    assert_eq!(
        detail["request_body"]["events"][0]["type"],
        "user.tool_confirmation"
    );
    assert!(entries[0].0.starts_with("20"), "{}", entries[0].0);
    for file in [&db, &server_db] {
        assert!(
            !contains(&db_bytes(file), KEY),
            "the key is in {}",
            file.display()
        );
    }

    // Transcripts and tapes show who unblocked what and when.
    let md = run(&db, &["export", PENDING, "--format", "md"]);
    let md = stdout(&md);
    let line = format!(
        "**Confirmation** · queued · sent with `flightrec unblock` at {}",
        entries[0].0
    );
    assert!(md.contains(&line), "{md}");
    let tape = dir.path().join("s.tape");
    let o = run(
        &db,
        &[
            "export",
            PENDING,
            "--format",
            "tape",
            "-o",
            tape.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let tape = std::fs::read(&tape).unwrap();
    assert!(contains(&tape, "\"unblock\"") && contains(&tape, &id) && !contains(&tape, KEY));

    // Sending again is refused: the answer is queued.
    let again = unblock(&db, &live.base, &[PENDING, PENDING_USE, "--allow", "--yes"]);
    let err = one_line_error(&again);
    assert!(
        err.contains("already answered") && err.contains("queued"),
        "{err}"
    );
    assert_eq!(
        stored(&server_db, PENDING, "user.tool_confirmation").len(),
        1
    );
}

#[test]
fn dry_run_prints_curl_with_the_variable_and_sends_nothing() {
    let dir = tempdir();
    let server_db = imported(dir.path(), "server.db", "pending-confirmation");
    let db = imported(dir.path(), "client.db", "pending-confirmation");
    let live = Live::start(&server_db);
    let before = event_rows(&server_db, PENDING).len();

    let o = unblock(
        &db,
        &live.base,
        &[PENDING, "--deny", "--message", "not on main", "--dry-run"],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with(&format!(
            "curl -sS -X POST '{}/v1/sessions/{PENDING}/events'",
            live.base
        )),
        "{out}"
    );
    assert!(out.contains("Bearer $ANTHROPIC_API_KEY"), "{out}");
    assert!(
        out.contains(r#""result":"deny","deny_message":"not on main""#),
        "{out}"
    );
    assert!(!out.contains(KEY));
    assert_eq!(
        event_rows(&server_db, PENDING).len(),
        before,
        "the server saw no POST"
    );
    assert!(capture_entries(&db, "unblock").is_empty());
}

#[test]
fn without_a_terminal_or_yes_it_refuses_and_sends_nothing() {
    let dir = tempdir();
    let server_db = imported(dir.path(), "server.db", "pending-confirmation");
    let db = imported(dir.path(), "client.db", "pending-confirmation");
    let live = Live::start(&server_db);
    let before = event_rows(&server_db, PENDING).len();
    let o = unblock(&db, &live.base, &[PENDING, "--allow"]);
    let err = one_line_error(&o);
    assert!(
        err.contains("not a terminal") && err.contains("--yes"),
        "{err}"
    );
    assert_eq!(event_rows(&server_db, PENDING).len(), before);
}

#[test]
fn result_from_a_file_answers_a_custom_tool_with_an_error() {
    let dir = tempdir();
    let server_db = imported(dir.path(), "server.db", "stuck-custom-tool");
    let db = imported(dir.path(), "client.db", "stuck-custom-tool");
    let live = Live::start(&server_db);
    let file = dir.path().join("result.txt");
    std::fs::write(&file, "the warehouse API answered 503 ✗\n").unwrap();
    let arg = format!("@{}", file.display());

    let o = unblock(
        &db,
        &live.base,
        &[CUSTOM, CUSTOM_USE, "--result", &arg, "--error", "--yes"],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let sent = stored(&server_db, CUSTOM, "user.custom_tool_result");
    let ours: Vec<serde_json::Value> = sent
        .iter()
        .map(|(_, raw)| serde_json::from_str(raw).unwrap())
        .filter(|v: &serde_json::Value| v["custom_tool_use_id"] == CUSTOM_USE)
        .collect();
    assert_eq!(ours.len(), 1, "{sent:?}");
    assert_eq!(
        ours[0]["content"][0]["text"],
        "the warehouse API answered 503 ✗\n"
    );
    assert_eq!(ours[0]["is_error"], true);
    let detail = &capture_entries(&db, "unblock")[0].1;
    assert!(detail.contains("\"action\":\"error result\""), "{detail}");

    let fresh = imported(dir.path(), "fresh.db", "stuck-custom-tool");
    let missing = unblock(
        &fresh,
        &live.base,
        &[CUSTOM, "--result", "@/nonexistent/x", "--yes"],
    );
    let err = one_line_error(&missing);
    assert!(
        err.contains("--result @/nonexistent/x: reading the result"),
        "{err}"
    );
}

#[test]
fn answered_events_and_wrong_answers_are_refused_in_one_line() {
    let dir = tempdir();
    let db = imported(dir.path(), "client.db", "two-blocking-one-resolved");
    let base = "http://127.0.0.1:9"; // nothing is sent: each is refused before
    let err = one_line_error(&unblock(
        &db,
        base,
        &[TWO, TWO_ANSWERED, "--result", "x", "--yes"],
    ));
    assert!(
        err.contains(&format!("{TWO_ANSWERED} is already answered by sevt_")),
        "{err}"
    );
    let err = one_line_error(&unblock(&db, base, &[TWO, "--result", "x", "--yes"]));
    assert!(
        err.contains("needs a user.tool_confirmation (--allow or --deny)"),
        "{err}"
    );
    let err = one_line_error(&unblock(&db, base, &[TWO, "sevt_nope", "--allow", "--yes"]));
    assert!(
        err.contains("sevt_nope is not an event") && err.contains(TWO_ANSWERED),
        "{err}"
    );
    let queued = imported(dir.path(), "queued.db", "queued-answer");
    let err = one_line_error(&unblock(
        &queued,
        base,
        &["sesn_011CZqueuedAnswer0000005", "--result", "x", "--yes"],
    ));
    assert!(err.contains("queued (sent, not yet processed)"), "{err}");
}

#[test]
fn bad_flag_combinations_are_refused() {
    let dir = tempdir();
    let db = imported(dir.path(), "client.db", "pending-confirmation");
    let base = "http://127.0.0.1:9";
    for (args, says) in [
        (
            vec![PENDING, "--allow", "--deny"],
            "--allow and --deny cannot go together",
        ),
        (vec![PENDING], "say what to send"),
        (
            vec![PENDING, "--allow", "--error"],
            "--error marks a result",
        ),
        (
            vec![PENDING, "--allow", "--message", "why"],
            "goes with --deny",
        ),
        (vec![PENDING, PENDING_USE, "--interrupt"], "takes no EVENT"),
        (
            vec![PENDING, "--allow", "--yes", "--dry-run"],
            "--dry-run sends nothing",
        ),
    ] {
        let err = one_line_error(&unblock(&db, base, &args));
        assert!(err.contains(says), "{args:?}: {err}");
    }
    let err = one_line_error(&unblock(&db, base, &[PENDING, "--result", "x", "--yes"]));
    assert!(err.contains("--result does not answer"), "{err}");
}

#[tokio::test]
async fn serve_live_takes_user_events_queued_then_processed_on_the_stream() {
    let dir = tempdir();
    let db = imported(dir.path(), "server.db", "pending-confirmation");
    let mut o = opts(&db);
    o.live = true;
    o.max_gap = Some(Duration::from_millis(5));
    let server = Server::start(o).await;
    let url = server.url(&format!("/v1/sessions/{PENDING}/events"));
    let mut sse = Sse::open(&format!("{url}/stream")).await;
    // Let the recorded session play out first.
    while sse.events(1, Duration::from_millis(300)).await.len() == 1 {}

    let http = reqwest::Client::new();
    let body = format!(
        r#"{{"events":[{{"type":"user.tool_confirmation","tool_use_id":"{PENDING_USE}","result":"allow"}}]}}"#
    );
    let res = http.post(&url).body(body).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let echo: serde_json::Value = res.json().await.unwrap();
    let sent = &echo["data"][0];
    assert!(sent["id"].as_str().unwrap().starts_with("sevt_"));
    assert!(sent["processed_at"].is_null());

    let frames = sse.events(2, Duration::from_secs(5)).await;
    assert_eq!(frames.len(), 2, "{frames:?}");
    let copies: Vec<serde_json::Value> = frames
        .iter()
        .map(|f| serde_json::from_str(&f.data).unwrap())
        .collect();
    assert!(frames.iter().all(|f| f.event == "user.tool_confirmation"));
    assert_eq!(copies[0]["id"], sent["id"]);
    assert!(copies[0]["processed_at"].is_null());
    assert_eq!(copies[1]["id"], sent["id"]);
    assert!(copies[1]["processed_at"].is_string());

    // The list shows it, processed.
    let page: serde_json::Value = http.get(&url).send().await.unwrap().json().await.unwrap();
    let last = page["data"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["id"], sent["id"]);
    assert!(last["processed_at"].is_string());

    // Inputs are checked as the API checks them.
    let bad = http
        .post(&url)
        .body(r#"{"events":[{"type":"agent.message"}]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let err: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(err["type"], "error");
    assert_eq!(err["error"]["type"], "invalid_request_error");
    let missing = server.url("/v1/sessions/sesn_nope/events");
    let res = http
        .post(&missing)
        .body(r#"{"events":[{"type":"user.interrupt"}]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    server.stop().await;
}

#[tokio::test]
async fn serve_without_live_refuses_sending_with_405() {
    let dir = tempdir();
    let db = imported(dir.path(), "server.db", "pending-confirmation");
    let server = Server::start(opts(&db)).await;
    let before = event_rows(&db, PENDING).len();
    let res = reqwest::Client::new()
        .post(server.url(&format!("/v1/sessions/{PENDING}/events")))
        .body(r#"{"events":[{"type":"user.interrupt"}]}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    let err: serde_json::Value = res.json().await.unwrap();
    assert!(err["error"]["message"].as_str().unwrap().contains("--live"));
    assert_eq!(event_rows(&db, PENDING).len(), before);
    server.stop().await;
}

/// `flightrec unblock ARGS` on a pseudo-terminal (util-linux `script`), `answer` typed in.
fn unblock_on_a_terminal(db: &Path, base: &str, args: &[&str], answer: &str) -> Output {
    use std::io::Write;
    let mut line = format!(
        "{} --db {} unblock",
        env!("CARGO_BIN_EXE_flightrec"),
        db.display()
    );
    for a in args {
        line.push_str(&format!(" '{a}'"));
    }
    let mut child = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env_remove("FLIGHTREC_DB")
        .env("ANTHROPIC_API_KEY", KEY)
        .env("ANTHROPIC_BASE_URL", base)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(answer.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn on_a_terminal_it_asks_and_sends_only_on_yes() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("left out: util-linux `script` (a pseudo-terminal) is not installed");
        return;
    }
    let dir = tempdir();
    let server_db = imported(dir.path(), "server.db", "pending-confirmation");
    let db = imported(dir.path(), "client.db", "pending-confirmation");
    let live = Live::start(&server_db);
    let args = [PENDING, "--deny", "--message", "not on main"];

    let no = unblock_on_a_terminal(&db, &live.base, &args, "n\n");
    let out = stdout(&no);
    assert!(
        out.contains("Send it? [y/N]") && out.contains("not sent"),
        "{out}"
    );
    assert_ne!(code(&no), 0);
    assert!(stored(&server_db, PENDING, "user.tool_confirmation").is_empty());

    let yes = unblock_on_a_terminal(&db, &live.base, &args, "y\n");
    assert_eq!(code(&yes), 0, "{}", stdout(&yes));
    let sent = stored(&server_db, PENDING, "user.tool_confirmation");
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].1.contains(r#""deny_message":"not on main""#),
        "{}",
        sent[0].1
    );
}

#[test]
fn with_several_events_waiting_it_lists_them_and_needs_one() {
    let dir = tempdir();
    // The two-blocking sample cut at its first idle: both calls still wait.
    let text = std::fs::read_to_string(sample("two-blocking-one-resolved")).unwrap();
    let head: String = text.lines().take(9).map(|l| format!("{l}\n")).collect();
    assert!(head.trim_end().ends_with('}') && head.contains("requires_action"));
    let file = dir.path().join(format!("cut.{TWO}.jsonl"));
    std::fs::write(&file, head).unwrap();
    let db = dir.path().join("client.db");
    let o = run(&db, &["import", file.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let base = "http://127.0.0.1:9";

    let err = one_line_error(&unblock(&db, base, &[TWO, "--allow", "--yes"]));
    assert!(err.contains("is waiting on 2 events; name one:"), "{err}");
    assert!(
        err.contains(&format!(
            "{TWO_ANSWERED} (get_weather, needs user.custom_tool_result)"
        )),
        "{err}"
    );
    assert!(err.contains("needs user.tool_confirmation"), "{err}");
    // Named, each takes its own answer.
    let o = unblock(
        &db,
        base,
        &[TWO, TWO_ANSWERED, "--result", "12 °C", "--dry-run"],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains(r#""custom_tool_use_id":"sevt_011CZkxsiwE9BtXB2YO29TAD","content":[{"type":"text","text":"12 °C"}]"#), "{}", stdout(&o));
}
