//! The SSE endpoints (`…/events/stream`, `…/threads/{tid}/stream`). Each connection gets a task
//! that writes frames into the response body through a [`Sink`].
//!
//! Replay mode sends every stored event of the log at once (or paced by `--speed`), then follows
//! the database through the log's one watcher (`feed`): rows that arrive later, and rows
//! replaced by a newer copy (sent again, as the API re-emits a processed echo). Live mode sends only what is revealed after the connection
//! opened, at its time, then pings, and
//! what is sent to the session (`POST …/events`) as it arrives.

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::error::{ApiError, request_id};
use super::feed::{Batch, Marks, read_gap};
use super::live::revealed;
use super::sink::{Ended, Sink};
use super::{App, Live};
use crate::store::{PageQuery, PageRow, QUEUED_SORT_TS};

/// Rows read per query during the initial replay.
const REPLAY_PAGE: u64 = 500;

/// Which log a connection streams, and which previews it asked for.
pub struct Spec {
    pub session_id: String,
    pub thread_id: String,
    pub deltas: Vec<String>,
}

enum Stop {
    Ended,
    Failed(ApiError),
}

impl From<Ended> for Stop {
    fn from(_: Ended) -> Stop {
        Stop::Ended
    }
}

impl From<ApiError> for Stop {
    fn from(e: ApiError) -> Stop {
        Stop::Failed(e)
    }
}

/// Starts the connection's task and returns the streaming response.
pub fn open(app: Arc<App>, spec: Spec) -> Response {
    let (tx, mut rx) = mpsc::channel::<Bytes>(16);
    let n = app.connections.fetch_add(1, Ordering::Relaxed);
    let seed = app
        .opts
        .chaos
        .seed
        .wrapping_add(n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let sink = Sink::new(
        tx,
        app.stop.clone(),
        app.opts.chaos.clone(),
        seed,
        app.opts.ping_interval,
    );
    tokio::spawn(run(app, spec, sink));
    let body = futures_util::stream::poll_fn(move |cx| {
        rx.poll_recv(cx).map(|b| b.map(Ok::<Bytes, Infallible>))
    });
    let mut res = Response::new(Body::from_stream(body));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

async fn run(app: Arc<App>, spec: Spec, mut sink: Sink) {
    app.streams.fetch_add(1, Ordering::Relaxed);
    let outcome = match &app.live {
        Some(live) => live_stream(&app, live, &spec, &mut sink).await,
        None => replay_and_follow(&app, &spec, &mut sink).await,
    };
    // A failure after the headers went out becomes an `error` frame, as the API sends.
    if let Err(Stop::Failed(e)) = outcome {
        let id = request_id();
        super::error::log_detail(&e, &id);
        let _ = sink.other("error", &e.body(&id)).await;
    }
    app.streams.fetch_sub(1, Ordering::Relaxed);
}

/// Sends one event, preceded by its stored previews when the connection asked for them.
async fn emit(
    app: &Arc<App>,
    spec: &Spec,
    sink: &mut Sink,
    row: PageRow,
    previews: bool,
) -> Result<(), Stop> {
    if previews && !row.event_id.is_empty() && spec.deltas.contains(&row.event_type) {
        let (s, t, e) = (
            spec.session_id.clone(),
            spec.thread_id.clone(),
            row.event_id.clone(),
        );
        let frames = app.db.call(move |st| st.previews_of(&s, &t, &e)).await?;
        for (name, raw) in frames {
            sink.other(&name, &raw).await?;
        }
    }
    sink.event(&row.event_type, &row.raw).await?;
    Ok(())
}

async fn replay_and_follow(app: &Arc<App>, spec: &Spec, sink: &mut Sink) -> Result<(), Stop> {
    // Joined before the replay, so whatever arrives during it waits in the subscription.
    let mut sub = app
        .feeds
        .subscribe(&spec.session_id, &spec.thread_id, &spec.deltas)
        .await?;
    let mut marks = sub.marks;
    let mut q = PageQuery {
        thread_id: spec.thread_id.clone(),
        max_seq: Some(marks.0),
        limit: REPLAY_PAGE,
        ..PageQuery::default()
    };
    let mut prev_ts: Option<i64> = None;
    loop {
        let (session, query) = (spec.session_id.clone(), q.clone());
        let page = app
            .db
            .call(move |s| s.events_page(&session, &query))
            .await?;
        let full = page.len() as u64 == REPLAY_PAGE;
        q.after = page.last().map(|r| (r.sort_ts, r.seq));
        for row in page {
            if let Some(speed) = app.opts.speed
                && row.sort_ts != QUEUED_SORT_TS
            {
                if let Some(prev) = prev_ts {
                    let gap = (row.sort_ts - prev).max(0) as f64 / 1e6 / speed;
                    sink.idle_until(Some(Instant::now() + Duration::from_secs_f64(gap)))
                        .await?;
                }
                prev_ts = Some(row.sort_ts);
            }
            emit(app, spec, sink, row, true).await?;
        }
        if !full {
            break;
        }
    }
    loop {
        let update = tokio::select! {
            r = sub.rx.recv() => r,
            idle = sink.idle_until(None) => {
                idle?;
                continue;
            }
        };
        let update = match update {
            Ok(u) => u,
            // Fell behind: the next batch starts past our marks, and the gap is read below.
            Err(RecvError::Lagged(_)) => continue,
            // The watcher ended (its read failed, or it left as we fell behind): join anew and
            // read the gap up to its marks.
            Err(RecvError::Closed) => {
                sub = app
                    .feeds
                    .subscribe(&spec.session_id, &spec.thread_id, &spec.deltas)
                    .await?;
                let gap = read_gap(&app.db, &spec.session_id, &spec.thread_id, marks, sub.marks);
                marks = send_batch(app, spec, sink, &gap.await?).await?;
                continue;
            }
        };
        let batch = match &*update {
            Ok(b) => b,
            Err(e) => return Err(Stop::Failed(e.clone())),
        };
        if batch.to.0 <= marks.0 && batch.to.1 <= marks.1 {
            continue;
        }
        if batch.from != marks {
            let gap = read_gap(
                &app.db,
                &spec.session_id,
                &spec.thread_id,
                marks,
                batch.from,
            );
            send_batch(app, spec, sink, &gap.await?).await?;
        }
        marks = send_batch(app, spec, sink, batch).await?;
    }
}

/// Sends a batch's new rows (with the previews asked for) and replaced rows; returns its end.
async fn send_batch(
    app: &Arc<App>,
    spec: &Spec,
    sink: &mut Sink,
    batch: &Batch,
) -> Result<Marks, Stop> {
    for row in &batch.fresh {
        let wanted = !row.event_id.is_empty() && spec.deltas.contains(&row.event_type);
        match batch.previews.get(&row.seq) {
            Some(frames) if wanted => {
                for (name, raw) in frames {
                    sink.other(name, raw).await?;
                }
                sink.event(&row.event_type, &row.raw).await?;
            }
            // Not looked up by the watcher: look them up here.
            _ => emit(app, spec, sink, row.clone(), wanted).await?,
        }
    }
    for row in &batch.revised {
        emit(app, spec, sink, row.clone(), false).await?;
    }
    Ok(batch.to)
}

async fn live_stream(
    app: &Arc<App>,
    live: &Live,
    spec: &Spec,
    sink: &mut Sink,
) -> Result<(), Stop> {
    let mut added = live.added.subscribe();
    let now = live.now(&spec.session_id);
    let mut next = revealed(live.schedule().log(&spec.session_id, &spec.thread_id), now);
    loop {
        // Copies sent to the session are added to the log while we wait: look again then.
        let copy = live
            .schedule()
            .log(&spec.session_id, &spec.thread_id)
            .get(next)
            .cloned();
        let Some(copy) = copy else {
            tokio::select! {
                idle = sink.idle_until(None) => idle?,
                _ = added.changed() => {}
            }
            continue;
        };
        // A session waiting for an answer (`--hold`) goes on when one is sent (`added`).
        let due = live.due(&spec.session_id, copy.at);
        if due.is_none_or(|due| due > Instant::now()) {
            tokio::select! {
                idle = sink.idle_until(due) => idle?,
                _ = added.changed() => continue,
            }
        }
        next += 1;
        let (seq, rev) = (copy.seq, copy.rev);
        let row = app
            .db
            .call(move |s| match rev {
                None => s.event_at_seq(seq),
                Some(id) => Ok(s.revision_raw(id)?.map(|raw| PageRow {
                    seq,
                    sort_ts: QUEUED_SORT_TS,
                    event_type: String::new(),
                    event_id: String::new(),
                    raw,
                })),
            })
            .await?;
        if let Some(mut row) = row {
            row.event_type = copy.event_type.to_string();
            emit(app, spec, sink, row, rev.is_none()).await?;
        }
    }
}
