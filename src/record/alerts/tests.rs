//! The alert loop's steps on a real SQLite file: which sessions are judged, firing once,
//! resolving on an answer, and what a restart knows.

use super::*;
use crate::model::{Envelope, Source};
use crate::store::Incoming;

const BLOCKED: [&str; 4] = [
    r#"{"type":"user.message","id":"u1","processed_at":"2026-01-01T00:00:00.000Z","content":[{"type":"text","text":"Look it up."}]}"#,
    r#"{"type":"session.status_running","id":"r1","processed_at":"2026-01-01T00:00:00.100Z"}"#,
    r#"{"type":"agent.custom_tool_use","id":"t1","processed_at":"2026-01-01T00:00:01.000Z","name":"lookup","input":{"q":"x"}}"#,
    r#"{"type":"session.status_idle","id":"i1","processed_at":"2026-01-01T00:00:02.000Z","stop_reason":{"type":"requires_action","event_ids":["t1"]}}"#,
];
/// The answer to `t1`, sent now (an old answer would leave the session silent for long enough
/// to fire `running_silent`).
fn answer() -> String {
    format!(
        r#"{{"type":"user.custom_tool_result","id":"a1","processed_at":"{}","custom_tool_use_id":"t1","content":[{{"type":"text","text":"42"}}]}}"#,
        now()
    )
}

fn put(store: &mut Store, session: &str, source: Source, raws: &[&str]) {
    let mut b = store.batch().unwrap();
    for raw in raws {
        let env = Envelope::parse(raw, None).unwrap();
        b.upsert(&Incoming {
            session_id: session,
            thread_id: "",
            envelope: &env,
            source,
            received_at: "2026-01-01T01:00:00.000Z",
            preview_ordinal: 0,
        })
        .unwrap();
    }
    b.commit().unwrap();
}

/// Runs `f` on an alerter over `path` (no targets), returning what it reported.
fn with_alerter(
    path: &std::path::Path,
    f: impl FnOnce(&mut Alerter<'_>),
) -> Vec<(String, String, AlertState)> {
    let mut seen = Vec::new();
    let mut on_event = |e: &AlertEvent| {
        if let AlertEvent::Transition {
            session_id,
            event_id,
            state,
            ..
        } = e
        {
            seen.push((session_id.clone(), event_id.clone(), *state));
        }
    };
    let (report, _attempts) = std_mpsc::channel();
    let mut w = Alerter {
        store: Store::open(path).unwrap(),
        opts: AlertOptions {
            targets: Vec::new(),
            thresholds: Thresholds::default(),
            policy: Policy::default(),
            every: Duration::from_secs(1),
            confirm_every: Duration::from_secs(1),
        },
        watched: BTreeSet::new(),
        api: HashSet::new(),
        seq: 0,
        version: 0,
        rt: tokio::runtime::Handle::current(),
        deliverer: Arc::new(Deliverer::new(Vec::new(), Policy::default())),
        report,
        on_event: &mut on_event,
    };
    w.start().unwrap();
    f(&mut w);
    drop(w);
    seen
}

#[tokio::test]
async fn a_recorded_session_fires_once_and_resolves_when_answered_an_imported_one_never_fires() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let mut writer = Store::open(&path).unwrap();
    put(&mut writer, "sesn_live", Source::Stream, &BLOCKED);
    put(&mut writer, "sesn_old", Source::Import, &BLOCKED);
    let firing = AlertState::Firing;

    let seen = with_alerter(&path, |w| {
        assert_eq!(
            w.watched.iter().collect::<Vec<_>>(),
            ["sesn_live", "sesn_old"],
            "both wait for action"
        );
        let all: Vec<String> = w.watched.iter().cloned().collect();
        w.evaluate(&all);
        w.evaluate(&all);
        assert!(!w.watched.contains("sesn_old"), "an import is not judged");
        assert!(w.changed().unwrap().is_empty(), "nothing committed");
    });
    assert_eq!(seen, [("sesn_live".into(), "t1".into(), firing)]);

    // Restarted: the open alert is known, nothing fires again; the answer resolves it.
    let seen = with_alerter(&path, |w| {
        let all: Vec<String> = w.watched.iter().cloned().collect();
        w.evaluate(&all);
        put(&mut writer, "sesn_live", Source::List, &[&answer()]);
        let changed = w.changed().unwrap();
        assert_eq!(changed, ["sesn_live"]);
        w.evaluate(&changed);
    });
    assert_eq!(
        seen,
        [("sesn_live".into(), "t1".into(), AlertState::Resolved)]
    );
    let open = writer.sessions_with_open_alerts().unwrap();
    assert!(open.is_empty(), "{open:?}");
}
