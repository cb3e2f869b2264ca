//! The SSE endpoints: replay, follow, previews, live mode, pings and shutdown.

use std::time::Duration;

use super::*;

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread")]
async fn the_stream_replays_every_event_then_pings() {
    let dir = tempdir();
    let db = sample_db(dir.path());
    import(&db, dir.path(), "shared.json", SHARED, SHARED_PAGE);
    let mut o = opts(&db);
    o.ping_interval = Duration::from_millis(100);
    let s = Server::start(o).await;
    for session in [HAPPY, QUEUED, MULTI, SHARED] {
        let want = exported(&db, session);
        let mut sse = Sse::open(&s.url(&format!("/v1/sessions/{session}/events/stream"))).await;
        let frames = sse.events(want.len(), WAIT).await;
        assert_eq!(lines(&datas(&frames)), want, "{session}");
        for f in &frames {
            let v: Value = serde_json::from_str(&f.data).unwrap();
            assert_eq!(v["type"].as_str(), Some(f.event.as_str()));
        }
        let next = sse.next(Duration::from_secs(2)).await.unwrap();
        assert_eq!(
            next,
            Frame {
                event: "ping".into(),
                data: r#"{"type":"ping"}"#.into()
            }
        );
    }
    // The multi-line text went out as several data lines that rejoin to the stored text.
    let stored = page(&s.url(&format!("/v1/sessions/{SHARED}/events?limit=1"))).await;
    let mut sse = Sse::open(&s.url(&format!("/v1/sessions/{SHARED}/events/stream"))).await;
    assert_eq!(sse.events(1, WAIT).await[0].data, stored.data[0].get());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stream_follows_rows_written_after_it_opened() {
    let dir = tempdir();
    let db = sample_db(dir.path());
    let s = Server::start(opts(&db)).await;
    let want = exported(&db, HAPPY);
    let mut sse = Sse::open(&s.url(&format!("/v1/sessions/{HAPPY}/events/stream"))).await;
    assert_eq!(sse.events(want.len(), WAIT).await.len(), want.len());

    let new = r#"{"type":"agent.message","id":"sevt_011CZfollowNew000000001","processed_at":"2026-08-07T09:20:00.000Z","content":[{"type":"text","text":"later"}]}"#;
    import(&db, dir.path(), "a.jsonl", HAPPY, &format!("{new}\n"));
    assert_eq!(datas(&sse.events(1, WAIT).await), [new]);

    // A queued echo, then its processed copy (a replaced row): both go out, in that order.
    let queued = r#"{"type":"user.message","id":"sevt_011CZfollowEcho00000001","processed_at":null,"content":[{"type":"text","text":"more"}]}"#;
    let processed = queued.replace("null", r#""2026-08-07T09:21:00.000Z""#);
    import(&db, dir.path(), "b.jsonl", HAPPY, &format!("{queued}\n"));
    assert_eq!(datas(&sse.events(1, WAIT).await), [queued]);
    import(&db, dir.path(), "c.jsonl", HAPPY, &format!("{processed}\n"));
    assert_eq!(datas(&sse.events(1, WAIT).await), [processed]);
    // Other sessions' rows are not this stream's.
    import(&db, dir.path(), "d.jsonl", QUEUED, &format!("{new}\n"));
    assert!(sse.events(1, Duration::from_millis(600)).await.is_empty());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn previews_go_out_only_when_asked_for() {
    let dir = tempdir();
    let db = sample_db(dir.path());
    let s = Server::start(opts(&db)).await;
    let n = exported(&db, QUEUED).len();
    let base = format!("/v1/sessions/{QUEUED}/events/stream");
    let mut plain = Sse::open(&s.url(&base)).await;
    let frames = plain.events(n, WAIT).await;
    assert!(frames.iter().all(|f| !f.event.starts_with("event_")));

    let mut asked = Sse::open(&s.url(&format!("{base}?event_deltas%5B%5D=agent.message"))).await;
    let frames = asked.events(n + 4, WAIT).await;
    let names: Vec<&str> = frames.iter().map(|f| f.event.as_str()).collect();
    let at = names.iter().position(|n| *n == "event_start").unwrap();
    assert_eq!(
        names[at..at + 5],
        [
            "event_start",
            "event_delta",
            "event_delta",
            "event_delta",
            "agent.message"
        ]
    );
    // Only agent.message previews: the agent.thinking start frame stays out.
    assert!(
        !frames
            .iter()
            .any(|f| f.data.contains(r#""type":"agent.thinking"}"#))
    );
    assert!(frames[at + 1].data.contains(&id_of(&frames[at + 4].data)));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn live_mode_reveals_sessions_as_if_they_were_happening_now() {
    let dir = tempdir();
    let db = sample_db(dir.path());
    let mut o = opts(&db);
    o.live = true;
    o.speed = Some(10.0); // happy-path's 33.7 s take 3.4 s
    o.ping_interval = Duration::from_millis(200);
    let s = Server::start(o).await;
    let want = exported(&db, HAPPY);
    let list = format!("/v1/sessions/{HAPPY}/events");
    let early = all_pages(&s.url(&list)).await.0;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let before = all_pages(&s.url(&list)).await.0;
    assert!(!early.is_empty() && early.len() < before.len() && before.len() < want.len());
    assert_eq!(lines(&before), want[..before.len()]);

    let mut sse = Sse::open(&s.url(&format!("/v1/sessions/{HAPPY}/events/stream"))).await;
    let frames = sse.events(want.len(), Duration::from_secs(3)).await;
    // Only what was revealed after the stream opened: the tail of the session, in order.
    assert!(!frames.is_empty() && frames.len() <= want.len() - before.len());
    assert_eq!(lines(&datas(&frames)), want[want.len() - frames.len()..]);
    assert_eq!(all_pages(&s.url(&list)).await.0.len(), want.len());
    // Once the whole session is out, the stream only pings.
    let next = sse.next(Duration::from_secs(1)).await.unwrap();
    assert_eq!(next.event, "ping");

    let one: Value = get(&s.url(&format!("/v1/sessions/{HAPPY}")))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        one["updated_at"].as_str(),
        Some(&processed_at_of(want.last().unwrap())[..])
    );
    s.stop().await;
}

fn processed_at_of(text: &str) -> String {
    let v: Value = serde_json::from_str(text).unwrap();
    v["processed_at"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn live_mode_shows_a_queued_echo_before_its_processed_copy() {
    let dir = tempdir();
    let db = sample_db(dir.path());
    let mut o = opts(&db);
    o.live = true;
    o.speed = Some(20.0); // 21 s in about 1 s
    let s = Server::start(o).await;
    let mut sse = Sse::open(&s.url(&format!("/v1/sessions/{QUEUED}/events/stream"))).await;
    let frames = sse.events(100, Duration::from_secs(2)).await;
    let echo: Vec<Value> = frames
        .iter()
        .map(|f| serde_json::from_str::<Value>(&f.data).unwrap())
        .filter(|v| v["id"] == "sevt_011CZlaQ1qpiJvvSTcQlTSu8")
        .collect();
    assert_eq!(echo.len(), 2, "{frames:?}");
    assert_eq!(echo[0]["processed_at"], Value::Null);
    assert!(echo[1]["processed_at"].is_string());
    let listed = all_pages(&s.url(&format!("/v1/sessions/{QUEUED}/events")))
        .await
        .0;
    assert_eq!(lines(&listed), exported(&db, QUEUED));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn stopping_the_server_ends_open_streams() {
    let dir = tempdir();
    let db = sample_db(dir.path());
    let s = Server::start(opts(&db)).await;
    let mut sse = Sse::open(&s.url(&format!("/v1/sessions/{HAPPY}/events/stream"))).await;
    assert_eq!(sse.events(3, WAIT).await.len(), 3);
    s.stop().await;
    let rest = sse.events(1000, WAIT).await;
    assert!(sse.ended && rest.len() < 1000);
}

#[test]
fn the_serve_command_prints_its_address_and_serves() {
    use std::io::{BufRead, BufReader};
    let dir = tempdir();
    let db = sample_db(dir.path());
    let mut child = bin()
        .args([
            "--db",
            db.to_str().unwrap(),
            "serve",
            "--addr",
            "127.0.0.1:0",
        ])
        .stdout(std::process::Stdio::piped())
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
    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = rt.block_on(async { get(&format!("{base}/v1/sessions/{HAPPY}")).await.status() });
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(status, StatusCode::OK);
    let o = run(
        &dir.path().join("missing.db"),
        &["serve", "--addr", "127.0.0.1:0"],
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread")]
async fn speed_paces_the_replay_by_the_recorded_gaps() {
    let dir = tempdir();
    let db = sample_db(dir.path());
    let mut o = opts(&db);
    o.speed = Some(40.0); // happy-path's 33.7 s in 0.84 s
    let s = Server::start(o).await;
    let want = exported(&db, HAPPY);
    let started = Instant::now();
    let mut sse = Sse::open(&s.url(&format!("/v1/sessions/{HAPPY}/events/stream"))).await;
    let first = sse.events(1, WAIT).await;
    assert!(
        started.elapsed() < Duration::from_millis(400),
        "the first event is not delayed"
    );
    let rest = sse.events(want.len() - 1, WAIT).await;
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(780), "took {took:?}");
    assert_eq!(lines(&datas(&[first, rest].concat())), want);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn thread_logs_are_served_on_the_thread_endpoints() {
    let dir = tempdir();
    let db = sample_db(dir.path());
    let tid = "sthr_011CZl6Rtfu7chZiIs3X5sFW";
    let texts = [
        r#"{"type":"agent.message","id":"sevt_011CZthread00000000000001","processed_at":"2026-08-07T12:00:12.000Z","content":[]}"#,
        r#"{"type":"agent.tool_use","id":"sevt_011CZthread00000000000002","name":"web_search","input":{},"processed_at":"2026-08-07T12:00:13.000Z"}"#,
    ];
    let path = dir.path().join("thread.jsonl");
    std::fs::write(&path, texts.join("\n") + "\n").unwrap();
    let o = run(
        &db,
        &[
            "import",
            "--session",
            MULTI,
            "--thread",
            tid,
            path.to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let s = Server::start(opts(&db)).await;
    let base = format!("/v1/sessions/{MULTI}/threads/{tid}");
    let (listed, requests) = all_pages(&s.url(&format!("{base}/events?limit=1"))).await;
    assert_eq!(
        (listed.as_slice(), requests),
        (&texts.map(String::from)[..], 2)
    );
    let mut sse = Sse::open(&s.url(&format!("{base}/stream"))).await;
    assert_eq!(
        datas(&sse.events(5, Duration::from_millis(800)).await),
        texts
    );
    // The session's own log is unchanged.
    let own = all_pages(&s.url(&format!("/v1/sessions/{MULTI}/events")))
        .await
        .0;
    assert!(!own.iter().any(|t| t.contains("sevt_011CZthread")));
    s.stop().await;
}
