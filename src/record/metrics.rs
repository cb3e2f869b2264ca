//! `watch`'s telemetry: one cloneable handle ([`Metrics`]) that the recorder, its writer, the
//! webhook intake and (at merge) the alerts count through. It keeps the Prometheus families
//! `serve::metrics` exposes in the text format, the figures of the status line, and hands each
//! happening (a recording started or ended, a reconnect, a webhook delivery, an error) to the
//! shell's sink, which logs it. Without `--metrics-addr` the families are kept all the same (a
//! few atomics) and nobody reads them.
//!
//! The gauges of the fleet (sessions by status, sessions each rule holds, the oldest wait) come
//! from [`crate::inspect::fleet`] on a clock ([`Metrics::survey_on_clock`]), over the sessions
//! this watcher has recorded and those the database says were live or waiting when it started.

use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;

use crate::analysis::rules::{Rule, Thresholds};
use crate::inspect::fleet::{FleetView, Survey, seed};
use crate::record::watch::Outcome;
use crate::store::Store;

/// How bad a happening is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// Something worth one log line: a message and its fields (in order).
#[derive(Debug, Clone, PartialEq)]
pub struct Happening {
    pub level: Level,
    pub msg: &'static str,
    pub fields: Vec<(&'static str, Value)>,
}

/// Where happenings go (the shell's log or status line).
pub type Sink = Arc<dyn Fn(&Happening) + Send + Sync>;

/// The statuses always exposed (at 0 when none is watched), so a query finds each.
const STATUSES: [&str; 5] = ["running", "idle", "rescheduling", "terminated", "deleted"];

type Label = [(&'static str, String); 1];
type Labels2 = [(&'static str, String); 2];

/// The figures of the status line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StatusFigures {
    /// Recordings following a stream now.
    pub live: u64,
    pub events: u64,
    /// Since the last commit that stored a new event.
    pub last_commit: Option<Duration>,
    /// Sessions a rule holds now.
    pub stuck: u64,
}

/// The handle; clones share everything.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    sessions: Family<Label, Gauge>,
    stuck: Family<Label, Gauge>,
    oldest_wait: Gauge<f64, AtomicU64>,
    recordings: Gauge,
    events: Counter,
    reconnects: Counter,
    history_passes: Counter,
    latency: Histogram,
    webhooks: Family<Label, Counter>,
    alerts: Family<Labels2, Counter>,
    last_commit: Mutex<Option<Instant>>,
    stuck_now: AtomicU64,
    watched: Mutex<BTreeSet<String>>,
    sink: Option<Sink>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn label(name: &'static str, value: &str) -> Label {
    [(name, value.to_string())]
}

impl Metrics {
    /// Every family registered; happenings to `sink`.
    pub fn new(sink: Option<Sink>) -> Metrics {
        let mut registry = Registry::default();
        let sessions = Family::<Label, Gauge>::default();
        let stuck = Family::<Label, Gauge>::default();
        let oldest_wait = Gauge::<f64, AtomicU64>::default();
        let recordings = Gauge::default();
        let events = Counter::default();
        let reconnects = Counter::default();
        let history_passes = Counter::default();
        // 0.25 ms to about 4 s: commits take milliseconds; a flood or a stalled disk, seconds.
        let latency = Histogram::new(exponential_buckets(0.000_25, 2.0, 15));
        let webhooks = Family::<Label, Counter>::default();
        let alerts = Family::<Labels2, Counter>::default();
        let r = &mut registry;
        r.register(
            "flightrec_sessions",
            "Watched sessions by status",
            sessions.clone(),
        );
        r.register(
            "flightrec_stuck_sessions",
            "Watched sessions that a rule holds now, per rule",
            stuck.clone(),
        );
        r.register(
            "flightrec_oldest_wait_seconds",
            "How long the oldest unanswered requires_action has waited (0: none)",
            oldest_wait.clone(),
        );
        r.register(
            "flightrec_recordings",
            "Sessions being recorded from their live stream now",
            recordings.clone(),
        );
        r.register(
            "flightrec_events_recorded",
            "Events stored new",
            events.clone(),
        );
        r.register(
            "flightrec_reconnects",
            "Stream connections opened again after a stream's first",
            reconnects.clone(),
        );
        r.register(
            "flightrec_history_passes",
            "Complete passes through a stream's event log",
            history_passes.clone(),
        );
        r.register(
            "flightrec_arrival_to_commit_seconds",
            "Time from a stream frame's arrival to the commit that stored it",
            latency.clone(),
        );
        r.register(
            "flightrec_webhook_deliveries",
            "Webhook deliveries by outcome (accepted, repeat, not_stored, or why refused)",
            webhooks.clone(),
        );
        r.register(
            "flightrec_alerts",
            "Alert notices by rule and state (firing, resolved)",
            alerts.clone(),
        );
        for s in STATUSES {
            sessions.get_or_create(&label("status", s)).set(0);
        }
        for rule in Rule::ALL {
            stuck.get_or_create(&label("rule", rule.as_str())).set(0);
        }
        for o in ["accepted", "repeat"] {
            let _ = webhooks.get_or_create(&label("outcome", o));
        }
        Metrics {
            inner: Arc::new(Inner {
                registry,
                sessions,
                stuck,
                oldest_wait,
                recordings,
                events,
                reconnects,
                history_passes,
                latency,
                webhooks,
                alerts,
                last_commit: Mutex::new(None),
                stuck_now: AtomicU64::new(0),
                watched: Mutex::new(BTreeSet::new()),
                sink,
            }),
        }
    }

    /// The Prometheus text exposition (format 0.0.4) of every family.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String does not fail.
        let _ = prometheus_text::encode(&mut out, &self.inner.registry);
        out
    }

    /// The `Content-Type` of [`Metrics::encode`]'s text.
    pub const CONTENT_TYPE: &'static str = prometheus_text::CONTENT_TYPE;

    fn tell(&self, level: Level, msg: &'static str, fields: Vec<(&'static str, Value)>) {
        if let Some(sink) = &self.inner.sink {
            sink(&Happening { level, msg, fields });
        }
    }

    /// The writer committed `new_events` new events.
    pub fn committed(&self, new_events: u64) {
        if new_events > 0 {
            self.inner.events.inc_by(new_events);
            *self
                .inner
                .last_commit
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        }
    }

    /// One stream frame's arrival-to-commit latency.
    pub fn latency_micros(&self, micros: u64) {
        self.inner.latency.observe(micros as f64 / 1e6);
    }

    /// Connection `connection` (> 1) of a stream is being opened.
    pub fn reconnect(&self, session_id: &str, thread_id: &str, connection: u64) {
        self.inner.reconnects.inc();
        let mut fields = vec![("session_id", json!(session_id))];
        if !thread_id.is_empty() {
            fields.push(("thread_id", json!(thread_id)));
        }
        fields.push(("connection", json!(connection)));
        self.tell(Level::Warn, "reconnecting", fields);
    }

    /// A history pass reached the end of a log.
    pub fn history_pass(&self) {
        self.inner.history_passes.inc();
    }

    /// A recording of `session_id` starts; it is watched from now on. The guard counts it as
    /// live (unless `history_only`) until dropped.
    pub fn recording_started(&self, session_id: &str, history_only: bool) -> RecordingGuard {
        self.watch_sessions([session_id.to_string()]);
        if !history_only {
            self.inner.recordings.inc();
        }
        let fields = vec![
            ("session_id", json!(session_id)),
            ("history_only", json!(history_only)),
        ];
        self.tell(Level::Info, "recording started", fields);
        RecordingGuard {
            metrics: self.clone(),
            live: !history_only,
        }
    }

    /// A recording ended, as `watch` reports it.
    pub fn recording_ended(&self, (session_id, result): &Outcome) {
        match result {
            Ok(rep) => {
                let why = match &rep.stopped {
                    super::live::Stopped::Condition(w) => w.clone(),
                    super::live::Stopped::Interrupted => "interrupted".into(),
                };
                let fields = vec![
                    ("session_id", json!(session_id)),
                    ("new_events", json!(rep.counts.new)),
                    ("why", json!(why)),
                ];
                self.tell(Level::Info, "recording ended", fields);
            }
            Err(e) => {
                let fields = vec![
                    ("session_id", json!(session_id)),
                    ("error", json!(e.to_string())),
                ];
                self.tell(Level::Error, "recording failed", fields);
            }
        }
    }

    /// A webhook delivery's outcome: `accepted`, `repeat`, `not_stored` or the refusal's code;
    /// with the payload's `data.type` and `data.id` once verified.
    pub fn webhook_delivery(&self, outcome: &str, data_type: Option<&str>, data_id: Option<&str>) {
        self.inner
            .webhooks
            .get_or_create(&label("outcome", outcome))
            .inc();
        let mut fields = vec![("outcome", json!(outcome))];
        if let Some(t) = data_type {
            fields.push(("data_type", json!(t)));
        }
        if let Some(id) = data_id {
            fields.push(("data_id", json!(id)));
        }
        let level = match outcome {
            "accepted" | "repeat" => Level::Info,
            _ => Level::Warn,
        };
        self.tell(level, "webhook delivery", fields);
    }

    /// An alert notice of `rule` in `state` (`firing` or `resolved`) went out.
    pub fn alert(&self, rule: &str, state: &str) {
        let labels = [("rule", rule.to_string()), ("state", state.to_string())];
        self.inner.alerts.get_or_create(&labels).inc();
    }

    /// Something went wrong that does not stop the watcher.
    pub fn error(&self, msg: &'static str, error: &str) {
        self.tell(Level::Error, msg, vec![("error", json!(error))]);
    }

    /// Watches these sessions too.
    pub fn watch_sessions(&self, ids: impl IntoIterator<Item = String>) {
        let mut w = self.inner.watched.lock().unwrap_or_else(|p| p.into_inner());
        w.extend(ids);
    }

    /// The sessions watched now.
    pub fn watched(&self) -> Vec<String> {
        let w = self.inner.watched.lock().unwrap_or_else(|p| p.into_inner());
        w.iter().cloned().collect()
    }

    /// Sets the fleet's gauges from a survey, and lets settled sessions go.
    pub fn set_fleet(&self, view: &FleetView) {
        for s in STATUSES {
            let n = view.by_status.get(s).copied().unwrap_or(0);
            self.inner
                .sessions
                .get_or_create(&label("status", s))
                .set(n as i64);
        }
        for (s, n) in &view.by_status {
            if !STATUSES.contains(&s.as_str()) {
                self.inner
                    .sessions
                    .get_or_create(&label("status", s))
                    .set(*n as i64);
            }
        }
        for (rule, n) in &view.stuck_by_rule {
            let l = label("rule", rule.as_str());
            self.inner.stuck.get_or_create(&l).set(*n as i64);
        }
        let wait = view.oldest_wait_us.map_or(0.0, |us| us.max(0) as f64 / 1e6);
        self.inner.oldest_wait.set(wait);
        self.inner
            .stuck_now
            .store(view.stuck_sessions, Ordering::Relaxed);
        let mut w = self.inner.watched.lock().unwrap_or_else(|p| p.into_inner());
        for id in &view.settled {
            w.remove(id);
        }
    }

    /// The figures of the status line now.
    pub fn status(&self) -> StatusFigures {
        let last = *self
            .inner
            .last_commit
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        StatusFigures {
            live: u64::try_from(self.inner.recordings.get()).unwrap_or(0),
            events: self.inner.events.get(),
            last_commit: last.map(|t| t.elapsed()),
            stuck: self.inner.stuck_now.load(Ordering::Relaxed),
        }
    }

    /// Surveys the watched sessions in `db` every `every` under `th` until `shutdown`, starting
    /// with the database's live and waiting sessions. A failure is told and tried again.
    pub async fn survey_on_clock(
        &self,
        db: PathBuf,
        th: Thresholds,
        every: Duration,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let m = self.clone();
        let opened = tokio::task::spawn_blocking(move || {
            let store = Store::open(&db)?.unmapped()?;
            m.watch_sessions(seed(&store)?);
            Ok::<_, crate::store::StoreError>(store)
        })
        .await;
        let mut store = match opened {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                return self.error("the fleet survey cannot read the database", &e.to_string());
            }
            Err(_) => return,
        };
        let mut survey = Survey::default();
        loop {
            let (m, th) = (self.clone(), th.clone());
            let run = tokio::task::spawn_blocking(move || {
                let now = chrono::Utc::now().timestamp_micros();
                let view = survey.refresh(&store, &m.watched(), now, &th);
                (store, survey, view)
            })
            .await;
            let Ok((s, v, view)) = run else { return };
            (store, survey) = (s, v);
            match view {
                Ok(view) => self.set_fleet(&view),
                Err(e) => self.error("the fleet survey failed", &e.to_string()),
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = shutdown.wait_for(|s| *s) => return,
            }
        }
    }
}

/// A recording counted live until dropped.
pub struct RecordingGuard {
    metrics: Metrics,
    live: bool,
}

impl Drop for RecordingGuard {
    fn drop(&mut self) {
        if self.live {
            self.metrics.inner.recordings.dec();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_is_exposed_with_its_help_and_type() {
        let m = Metrics::new(None);
        m.committed(3);
        m.latency_micros(1500);
        m.alert("requires_action", "firing");
        let text = m.encode();
        for line in [
            "# TYPE flightrec_events_recorded_total counter",
            "flightrec_events_recorded_total 3",
            "flightrec_sessions{status=\"running\"} 0",
            "flightrec_stuck_sessions{rule=\"requires_action\"} 0",
            "flightrec_oldest_wait_seconds 0.0",
            "flightrec_reconnects_total 0",
            "flightrec_history_passes_total 0",
            "flightrec_arrival_to_commit_seconds_count 1",
            "flightrec_webhook_deliveries_total{outcome=\"accepted\"} 0",
            "flightrec_alerts_total{rule=\"requires_action\",state=\"firing\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
        }
    }

    #[test]
    fn happenings_reach_the_sink_and_a_live_recording_is_counted_until_it_ends() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = Arc::clone(&seen);
        let sink: Sink = Arc::new(move |h: &Happening| s.lock().unwrap().push(h.msg));
        let m = Metrics::new(Some(sink));
        let guard = m.recording_started("sesn_1", false);
        let pass = m.recording_started("sesn_2", true);
        assert_eq!(m.status().live, 1);
        m.reconnect("sesn_1", "", 2);
        drop(guard);
        drop(pass);
        assert_eq!(m.status().live, 0);
        assert_eq!(m.watched(), ["sesn_1", "sesn_2"]);
        let seen = seen.lock().unwrap().clone();
        assert_eq!(
            seen,
            ["recording started", "recording started", "reconnecting"]
        );
    }
}
