//! The shared writer with real SQLite files: recordings attached at once keep their own counts,
//! snapshots and rows.

use std::time::Instant;
use tokio::sync::oneshot;

use super::{Msg, SharedWriter, Writer};
use crate::source::SseFrame;
use crate::store::{Store, UpsertCounts};

fn event(kind: &str, tag: &str, i: usize) -> String {
    let second = i % 60;
    format!(
        r#"{{"type":"{kind}","id":"sevt_011CZ{tag}{i:012}","processed_at":"2026-03-01T10:{:02}:{second:02}.000Z","content":[{{"type":"text","text":"n{i}"}}]}}"#,
        (i / 60) % 60
    )
}

async fn frame(w: &Writer, data: String) {
    let msg = Msg::Frame {
        thread_id: String::new(),
        connection: 1,
        frame: SseFrame {
            name: "message".into(),
            data,
            id: String::new(),
        },
        received_at: "2026-03-01T11:00:00.000Z".into(),
        arrived: Instant::now(),
    };
    w.tx.send(msg).await.unwrap();
}

async fn flush(w: &Writer) {
    let (reply, rx) = oneshot::channel();
    let msg = Msg::Flush {
        thread_id: String::new(),
        reply,
    };
    w.tx.send(msg).await.unwrap();
    rx.await.unwrap();
}

fn stored(db: &std::path::Path, session: &str) -> u64 {
    let store = Store::open(db).unwrap();
    store
        .session_summary(session)
        .unwrap()
        .map_or(0, |s| s.event_count)
}

#[tokio::test]
async fn two_recordings_on_one_writer_keep_their_own_counts_and_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let shared = SharedWriter::start(&db).unwrap();
    let h = shared.handle();
    let (a, b) = ("sesn_011CZsharedA000000001", "sesn_011CZsharedB000000001");
    let wa = h.attach(a, None).await.unwrap();
    let wb = h.attach(b, None).await.unwrap();
    // Interleaved sends: the writer takes both queues in the same batches.
    for i in 0..40 {
        frame(&wa, event("agent.message", "A", i)).await;
        if i < 25 {
            frame(&wb, event("agent.message", "B", i)).await;
        }
    }
    frame(&wb, event("session.status_idle", "B", 99)).await;
    flush(&wa).await;
    flush(&wb).await;
    let (sa, sb) = (wa.snapshots.borrow().clone(), wb.snapshots.borrow().clone());
    assert_eq!(sa.counts.new, 40);
    assert_eq!(sb.counts.new, 26);
    assert_eq!(sa.latency.count, 40, "every frame of A timed, none of B's");
    assert_eq!(sb.latency.count, 26);
    let (summary_a, summary_b) = (sa.state.summary.unwrap(), sb.state.summary.unwrap());
    assert_eq!((summary_a.id.as_str(), summary_a.event_count), (a, 40));
    assert_eq!(summary_a.status, None);
    assert_eq!((summary_b.id.as_str(), summary_b.event_count), (b, 26));
    assert_eq!(summary_b.status.as_deref(), Some("idle"));
    // A frame seen again is not new, and counts only for its own recording.
    frame(&wb, event("agent.message", "B", 0)).await;
    let counts_b = wb.finish().await.unwrap();
    assert_eq!((counts_b.new, counts_b.duplicate), (26, 1));
    // A third recording attaches while A is still attached.
    let c = "sesn_011CZsharedC000000001";
    let wc = h.attach(c, None).await.unwrap();
    frame(&wc, event("agent.message", "C", 0)).await;
    assert_eq!(wc.finish().await.unwrap().new, 1);
    let counts_a = wa.finish().await.unwrap();
    assert_eq!((counts_a.new, counts_a.duplicate), (40, 0));
    drop(h);
    tokio::task::spawn_blocking(move || shared.close())
        .await
        .unwrap();
    assert_eq!(stored(&db, a), 40);
    assert_eq!(stored(&db, b), 26);
    assert_eq!(stored(&db, c), 1);
}

#[tokio::test]
async fn a_history_pass_and_another_recordings_live_frames_interleave_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("w.db");
    let shared = SharedWriter::start(&db).unwrap();
    let h = shared.handle();
    let (a, b) = ("sesn_011CZhistoryA00000001", "sesn_011CZliveB00000000001");
    let wa = h.attach(a, None).await.unwrap();
    let wb = h.attach(b, None).await.unwrap();
    // A history page of 6,000 events: written 100 at a time while live frames wait.
    const PAGE: usize = 6000;
    let (reply, mut page_done) = oneshot::channel::<UpsertCounts>();
    let events = (0..PAGE).map(|i| event("agent.message", "H", i)).collect();
    wa.tx
        .send(Msg::History {
            thread_id: String::new(),
            events,
            received_at: "2026-03-01T11:00:00.000Z".into(),
            reply,
        })
        .await
        .unwrap();
    frame(&wb, event("agent.message", "L", 0)).await;
    flush(&wb).await;
    // B's frame was committed between slices of A's page: the page is not written yet.
    assert!(
        page_done.try_recv().is_err(),
        "the live frame waited for the whole history page"
    );
    assert!(stored(&db, a) < PAGE as u64);
    assert_eq!(stored(&db, b), 1);
    for i in 1..300 {
        frame(&wb, event("agent.message", "L", i)).await;
    }
    let page = page_done.await.unwrap();
    assert_eq!(page.new, PAGE as u64);
    assert_eq!(wb.finish().await.unwrap().new, 300);
    assert_eq!(wa.finish().await.unwrap().new, PAGE as u64);
    drop(h);
    tokio::task::spawn_blocking(move || shared.close())
        .await
        .unwrap();
    assert_eq!(stored(&db, a), PAGE as u64);
    assert_eq!(stored(&db, b), 300);
}
