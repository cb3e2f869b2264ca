//! One recording's state in the writer: what it has stored so far, and how each message becomes
//! rows of the batch under way.

use std::collections::HashMap;
use std::time::Instant;
use tokio::sync::oneshot;

use super::{LatencyHistogram, Msg};
use crate::model::capture::{CaptureDetail, ErrorFrameDetail};
use crate::model::time::now;
use crate::model::{Envelope, Source};
use crate::record::import::ThreadProbe;
use crate::source::SseFrame;
use crate::store::{Incoming, Outcome, StoreError, UpsertCounts, WriteBatch};

/// A history page being written a slice at a time.
pub(super) struct HistoryJob {
    pub(super) thread_id: String,
    pub(super) events: Vec<String>,
    pub(super) received_at: String,
    pub(super) reply: Option<oneshot::Sender<UpsertCounts>>,
    pub(super) done: usize,
    pub(super) counts: UpsertCounts,
}

pub(super) struct State {
    pub(super) session_id: String,
    pub(super) counts: UpsertCounts,
    pub(super) quarantined: u64,
    /// Preview ordinals per (connection, previewed event id).
    pub(super) preview_ordinals: HashMap<(u64, String), u32>,
    pub(super) flush_replies: Vec<(String, oneshot::Sender<Option<String>>)>,
    pub(super) latency: LatencyHistogram,
    pub(super) pending_arrivals: Vec<Instant>,
    pub(super) thread_events: u64,
}

impl State {
    pub(super) fn new(session_id: String) -> State {
        State {
            session_id,
            counts: UpsertCounts::default(),
            quarantined: 0,
            preview_ordinals: HashMap::new(),
            flush_replies: Vec::new(),
            latency: LatencyHistogram::default(),
            pending_arrivals: Vec::new(),
            thread_events: 0,
        }
    }

    pub(super) fn history_slice(
        &mut self,
        b: &mut WriteBatch<'_>,
        job: &mut HistoryJob,
        slice: usize,
    ) -> Result<(), StoreError> {
        let end = (job.done + slice).min(job.events.len());
        for i in job.done..end {
            let text = &job.events[i];
            match Envelope::parse(text, None) {
                Ok(env) => {
                    let o = b.upsert(&self.incoming(
                        &job.thread_id,
                        &env,
                        Source::List,
                        &job.received_at,
                        0,
                    ))?;
                    self.counts.add(o);
                    job.counts.add(o);
                    self.note_thread_event(&env, o);
                }
                Err(e) => {
                    let origin = format!("history page item {}", i + 1);
                    self.quarantine(
                        b,
                        &job.thread_id,
                        Source::List,
                        &origin,
                        &e.to_string(),
                        &job.received_at,
                        text,
                    )?;
                    job.counts.quarantined += 1;
                }
            }
        }
        job.done = end;
        Ok(())
    }

    pub(super) fn handle(&mut self, b: &mut WriteBatch<'_>, msg: Msg) -> Result<(), StoreError> {
        match msg {
            Msg::Frame {
                thread_id,
                connection,
                frame,
                received_at,
                arrived,
            } => {
                self.pending_arrivals.push(arrived);
                self.frame(b, &thread_id, connection, &frame, &received_at)?
            }
            Msg::History { reply, .. } => {
                // `run` takes history pages apart; this is not reached.
                let _ = reply.send(UpsertCounts::default());
            }
            Msg::Capture {
                thread_id,
                kind,
                started_at,
                ended_at,
                detail,
            } => {
                b.log_capture(
                    Some(&self.session_id),
                    &thread_id,
                    kind,
                    &started_at,
                    ended_at.as_deref(),
                    &detail,
                )?;
            }
            Msg::SessionObject { raw } => b.set_session_object(&self.session_id, &raw, &now())?,
            Msg::ThreadObjects {
                objects,
                received_at,
            } => {
                for (i, raw) in objects.iter().enumerate() {
                    self.thread_object(b, i, raw, &received_at)?;
                }
            }
            Msg::Flush { thread_id, reply } => self.flush_replies.push((thread_id, reply)),
        }
        Ok(())
    }

    fn frame(
        &mut self,
        b: &mut WriteBatch<'_>,
        thread: &str,
        conn: u64,
        f: &SseFrame,
        at: &str,
    ) -> Result<(), StoreError> {
        match f.name.as_str() {
            "ping" => return Ok(()),
            "error" => {
                let detail = CaptureDetail::from(ErrorFrameDetail::Stream {
                    connection: conn,
                    data: f.data.clone(),
                });
                b.log_capture(
                    Some(&self.session_id),
                    thread,
                    detail.kind(),
                    at,
                    None,
                    &detail.to_value(),
                )?;
                return Ok(());
            }
            _ => {}
        }
        let name = (f.name != "message").then_some(f.name.as_str());
        match Envelope::parse(&f.data, name) {
            Ok(env) => {
                let ordinal = if env.is_preview() {
                    let key = (conn, env.link_id.as_deref().unwrap_or("").to_string());
                    let n = self.preview_ordinals.entry(key).or_insert(0);
                    *n += 1;
                    *n
                } else {
                    0
                };
                let o = b.upsert(&self.incoming(thread, &env, Source::Stream, at, ordinal))?;
                self.counts.add(o);
                self.note_thread_event(&env, o);
            }
            Err(e) => {
                let origin = format!("stream connection {conn}");
                self.quarantine(
                    b,
                    thread,
                    Source::Stream,
                    &origin,
                    &e.to_string(),
                    at,
                    &f.data,
                )?;
            }
        }
        Ok(())
    }

    /// Counts a thread's creation or status change that was not stored before.
    fn note_thread_event(&mut self, env: &Envelope<'_>, o: Outcome) {
        if env.event_type.starts_with("session.thread_")
            && matches!(o, Outcome::Inserted | Outcome::Updated)
        {
            self.thread_events += 1;
        }
    }

    /// Stores one item of a thread list under its `id`; an item without one is quarantined
    /// (without asking for a backfill: it is not an event).
    fn thread_object(
        &mut self,
        b: &mut WriteBatch<'_>,
        index: usize,
        raw: &str,
        at: &str,
    ) -> Result<(), StoreError> {
        let reason = match serde_json::from_str::<ThreadProbe<'_>>(raw) {
            Ok(t) if !t.id.is_empty() => {
                let parent = t.parent_thread_id.as_deref();
                return b.set_thread_object(&self.session_id, &t.id, parent, raw, at);
            }
            Ok(_) => "a thread object with an empty \"id\"".to_string(),
            Err(e) => format!("not a thread object: {e}"),
        };
        let origin = format!("thread list item {}", index + 1);
        b.quarantine(
            Some(&self.session_id),
            "",
            Source::List,
            &origin,
            &reason,
            at,
            raw.as_bytes(),
        )?;
        self.counts.quarantined += 1;
        Ok(())
    }

    fn incoming<'a>(
        &'a self,
        thread: &'a str,
        env: &'a Envelope<'a>,
        source: Source,
        at: &'a str,
        ordinal: u32,
    ) -> Incoming<'a> {
        Incoming {
            session_id: &self.session_id,
            thread_id: thread,
            envelope: env,
            source,
            received_at: at,
            preview_ordinal: ordinal,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn quarantine(
        &mut self,
        b: &mut WriteBatch<'_>,
        thread: &str,
        source: Source,
        origin: &str,
        reason: &str,
        at: &str,
        raw: &str,
    ) -> Result<(), StoreError> {
        b.quarantine(
            Some(&self.session_id),
            thread,
            source,
            origin,
            reason,
            at,
            raw.as_bytes(),
        )?;
        self.counts.quarantined += 1;
        self.quarantined += 1;
        Ok(())
    }
}
