//! Each chaos option does what it says, observably, and the frames around it stay intact.

use std::time::Duration;

use super::*;
use flightrec::serve::Chaos;

const WAIT: Duration = Duration::from_secs(5);

async fn chaos_server(dir: &Path, chaos: Chaos) -> (Server, Vec<String>) {
    let db = sample_db(dir);
    let want = exported(&db, HAPPY);
    let mut o = opts(&db);
    o.chaos = chaos;
    o.ping_interval = Duration::from_millis(100);
    (Server::start(o).await, want)
}

fn stream_url(s: &Server) -> String {
    s.url(&format!("/v1/sessions/{HAPPY}/events/stream"))
}

#[tokio::test(flavor = "multi_thread")]
async fn drop_every_ends_the_connection_after_k_frames() {
    let dir = tempdir();
    let chaos = Chaos {
        drop_every: Some(5),
        ..Chaos::default()
    };
    let (s, want) = chaos_server(dir.path(), chaos).await;
    for _ in 0..2 {
        let mut sse = Sse::open(&stream_url(&s)).await;
        let frames = sse.events(want.len(), WAIT).await;
        assert!(sse.ended, "the connection should have ended");
        assert_eq!(lines(&datas(&frames)), want[..5]);
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn repeat_every_sends_every_kth_frame_twice() {
    let dir = tempdir();
    let chaos = Chaos {
        repeat_every: Some(3),
        ..Chaos::default()
    };
    let (s, want) = chaos_server(dir.path(), chaos).await;
    let mut sse = Sse::open(&stream_url(&s)).await;
    let extra = want.len() / 3;
    let mut got = datas(&sse.events(want.len() + extra, WAIT).await);
    assert!(sse.events(1, Duration::from_millis(400)).await.is_empty());
    let repeats: Vec<usize> = (1..got.len()).filter(|&i| got[i] == got[i - 1]).collect();
    assert_eq!(repeats.len(), extra);
    assert_eq!(repeats[0], 3, "the third frame is the first sent twice");
    got.dedup();
    assert_eq!(lines(&got), want);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn split_frames_still_decode() {
    let dir = tempdir();
    let db = sample_db(dir.path());
    import(&db, dir.path(), "shared.json", SHARED, SHARED_PAGE);
    let mut o = opts(&db);
    o.chaos = Chaos {
        split: true,
        seed: 3,
        ..Chaos::default()
    };
    let s = Server::start(o).await;
    for session in [HAPPY, SHARED] {
        let want = exported(&db, session);
        let mut sse = Sse::open(&s.url(&format!("/v1/sessions/{session}/events/stream"))).await;
        let frames = sse.events(want.len(), WAIT).await;
        assert_eq!(lines(&datas(&frames)), want);
        assert!(
            sse.chunks > frames.len(),
            "{} chunks for {} frames",
            sse.chunks,
            frames.len()
        );
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_every_sends_broken_frames_between_good_ones() {
    let dir = tempdir();
    let chaos = Chaos {
        malformed_every: Some(4),
        ..Chaos::default()
    };
    let (s, want) = chaos_server(dir.path(), chaos).await;
    let mut sse = Sse::open(&stream_url(&s)).await;
    let broken_count = want.len() / 4;
    let frames = sse.events(want.len() + broken_count, WAIT).await;
    let (broken, good): (Vec<Frame>, Vec<Frame>) = frames
        .into_iter()
        .partition(|f| serde_json::from_str::<Value>(&f.data).is_err());
    assert_eq!(broken.len(), broken_count);
    for f in &broken {
        assert_eq!(f.event, "agent.message");
        assert_eq!(f.data, r#"{"type":"agent.message","id":"sevt_br"#);
    }
    assert_eq!(lines(&datas(&good)), want);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn stall_goes_silent_once_per_connection() {
    let dir = tempdir();
    let chaos = Chaos {
        stall: Some(Duration::from_millis(800)),
        ..Chaos::default()
    };
    let (s, want) = chaos_server(dir.path(), chaos).await;
    let started = Instant::now();
    let mut sse = Sse::open(&stream_url(&s)).await;
    let frames = sse.events(want.len(), WAIT).await;
    assert_eq!(lines(&datas(&frames)), want);
    assert!(started.elapsed() >= Duration::from_millis(800));
    assert!(
        sse.max_gap >= Duration::from_millis(700),
        "{:?}",
        sse.max_gap
    );
    // Afterwards, pings come every 100 ms again.
    let before = sse.max_gap;
    for _ in 0..4 {
        assert_eq!(
            sse.next(Duration::from_millis(500)).await.unwrap().event,
            "ping"
        );
    }
    assert_eq!(sse.max_gap, before, "no second stall");
    s.stop().await;
}

async fn list_statuses(seed: u64) -> Vec<(u16, Option<String>)> {
    let dir = tempdir();
    let chaos = Chaos {
        list_error_rate: 0.3,
        seed,
        ..Chaos::default()
    };
    let (s, want) = chaos_server(dir.path(), chaos).await;
    let url = s.url(&format!("/v1/sessions/{HAPPY}/events"));
    let mut out = Vec::new();
    for _ in 0..200 {
        let res = get(&url).await;
        let status = res.status().as_u16();
        let h = |n: &str| {
            res.headers()
                .get(n)
                .map(|v| v.to_str().unwrap().to_string())
        };
        let hint = match status {
            429 => h("retry-after"),
            500 => h("x-should-retry"),
            _ => None,
        };
        let body: Value = serde_json::from_str(&res.text().await.unwrap()).unwrap();
        match status {
            200 => assert_eq!(body["data"].as_array().unwrap().len(), want.len()),
            429 => assert_eq!(body["error"]["type"], "rate_limit_error"),
            500 => assert_eq!(body["error"]["type"], "api_error"),
            other => panic!("unexpected status {other}"),
        }
        out.push((status, hint));
    }
    // Only event lists fail.
    assert_eq!(get(&s.url("/v1/sessions")).await.status(), StatusCode::OK);
    s.stop().await;
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn list_errors_fail_about_that_fraction_of_requests_repeatably() {
    let statuses = list_statuses(11).await;
    let failed = statuses.iter().filter(|(s, _)| *s != 200).count();
    assert!((30..=90).contains(&failed), "{failed} of 200 failed");
    for (status, hint) in &statuses {
        match status {
            429 => assert_eq!(hint.as_deref(), Some("0.1")),
            500 => assert_eq!(hint.as_deref(), Some("true")),
            _ => {}
        }
    }
    assert!(statuses.iter().any(|(s, _)| *s == 429) && statuses.iter().any(|(s, _)| *s == 500));
    assert_eq!(
        list_statuses(11).await,
        statuses,
        "same seed, same failures"
    );
}
