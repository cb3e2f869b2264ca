//! The watcher's alerts: rule evaluation on every commit and on a clock, the `alerts` table kept
//! in line with the hits ([`crate::analysis::alerts::step`]), and the notices delivered
//! ([`deliver`]). One thread with its own connection: it looks for commits every tick (a
//! `data_version` read), evaluates the sessions that changed at once, and every `every` the
//! sessions still live or with an open alert, so a `stuck_after` expiry is noticed without a
//! new event. Every `confirm_every` it asks the recorder (a [`Nudge`]) for a history pass of
//! each session with an open alert, which is how an answer sent by someone else is seen.
//!
//! Only sessions recorded over the API are judged (a session only imported from a file is
//! history: `flightrec check` judges those). What the watcher knows lives in the table, so a
//! restart neither fires again nor forgets an open alert, and sends again the notices a stop cut
//! short (not delivered, attempts left).

pub mod deliver;

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, watch};

use crate::analysis::alerts::{AlertState, Transition, firing, resolved, step};
use crate::analysis::deployment::{RunFacts, failed_run_hit};
use crate::analysis::rules::Thresholds;
use crate::inspect::{rule_hits, workspace_tool_p99};
use crate::model::time::now;
use crate::store::{NewAlert, NewAttempt, SessionSummary, Store};
use crate::webhook::{Nudge, Reaction};
use deliver::{Attempt, Deliverer, Notice, Policy, Target};

/// How the watcher alerts.
#[derive(Debug, Clone)]
pub struct AlertOptions {
    /// Where notices go (none: alerts are only stored and reported).
    pub targets: Vec<Target>,
    pub thresholds: Thresholds,
    pub policy: Policy,
    /// How often live sessions are evaluated without a commit.
    pub every: Duration,
    /// How often a session with an open alert gets a confirming history pass.
    pub confirm_every: Duration,
}

/// What the watcher reports as it goes (the hook for messages and metrics).
#[derive(Debug, Clone)]
pub enum AlertEvent {
    /// An alert fired or resolved.
    Transition {
        alert_id: i64,
        session_id: String,
        rule: String,
        event_id: String,
        state: AlertState,
    },
    /// A delivery attempt ended.
    Attempt(Attempt),
    /// Something failed (the alert loop goes on).
    Error(String),
}

/// How far back a stored failed deployment run still alerts (a watcher started late still
/// tells of the runs its intake stored while it was down, not of last month's).
const RUNS_LOOK_BACK_US: i64 = 24 * 3600 * 1_000_000;

/// How often this workspace's p99 call time per tool (`tool_overdue`'s limit) is measured
/// again, and over how long.
const TOOL_P99_EVERY: Duration = Duration::from_secs(60);
const TOOL_P99_OVER_US: i64 = 7 * 24 * 3600 * 1_000_000;

/// How often commits are looked for.
const TICK: Duration = Duration::from_millis(200);

/// Starts the alert thread on `db`; it stops when `shutdown` turns true. Must be called inside
/// a tokio runtime (deliveries run on it). `confirm` is the recorder's nudge channel; the
/// thread also stops when the recorder drops it.
pub fn spawn(
    db: PathBuf,
    opts: AlertOptions,
    shutdown: watch::Receiver<bool>,
    confirm: mpsc::UnboundedSender<Nudge>,
    on_event: impl FnMut(&AlertEvent) + Send + 'static,
) -> std::thread::JoinHandle<()> {
    let rt = tokio::runtime::Handle::current();
    std::thread::spawn(move || {
        let mut on_event = on_event;
        let store = match Store::open(&db).and_then(Store::unmapped) {
            Ok(s) => s,
            Err(e) => return on_event(&AlertEvent::Error(format!("alerts: {e}"))),
        };
        let deliverer = Arc::new(Deliverer::new(opts.targets.clone(), opts.policy.clone()));
        let (report, attempts) = std_mpsc::channel();
        let mut w = Alerter {
            store,
            opts,
            watched: BTreeSet::new(),
            api: HashSet::new(),
            seq: 0,
            version: 0,
            rt,
            deliverer,
            report,
            on_event: &mut on_event,
        };
        if let Err(e) = w.start() {
            return w.error(format!("alerts: {e}"));
        }
        let mut next_eval = Instant::now();
        let mut next_p99 = Instant::now();
        let mut next_confirm = Instant::now() + w.opts.confirm_every;
        while !*shutdown.borrow() && !confirm.is_closed() {
            for a in attempts.try_iter() {
                w.attempt(&a);
            }
            let changed = w.changed().unwrap_or_else(|e| {
                w.error(format!("alerts: {e}"));
                Vec::new()
            });
            if Instant::now() >= next_p99 {
                next_p99 = Instant::now() + TOOL_P99_EVERY;
                w.tool_p99();
            }
            if Instant::now() >= next_eval {
                next_eval = Instant::now() + w.opts.every;
                let all: Vec<String> = w.watched.iter().cloned().collect();
                w.evaluate(&all);
                w.failed_runs();
            } else if !changed.is_empty() {
                w.evaluate(&changed);
            }
            if Instant::now() >= next_confirm {
                next_confirm = Instant::now() + w.opts.confirm_every;
                w.confirm(&confirm);
            }
            std::thread::sleep(TICK);
        }
        for a in attempts.try_iter() {
            w.attempt(&a);
        }
    })
}

struct Alerter<'a> {
    store: Store,
    opts: AlertOptions,
    /// The sessions evaluated on the clock: live ones and those with an open alert.
    watched: BTreeSet<String>,
    /// The sessions known to be recorded over the API.
    api: HashSet<String>,
    /// The highest event `seq` seen, and the `data_version` when it was read.
    seq: i64,
    version: i64,
    rt: tokio::runtime::Handle,
    deliverer: Arc<Deliverer>,
    report: std_mpsc::Sender<Attempt>,
    on_event: &'a mut dyn FnMut(&AlertEvent),
}

/// Whether a session may still come to need attention on its own: running, rescheduling, or
/// waiting for action.
fn live(s: &SessionSummary) -> bool {
    match s.status.as_deref() {
        Some("running" | "rescheduling") => true,
        Some("idle") => s.stop_reason.as_deref() == Some("requires_action"),
        _ => false,
    }
}

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

impl Alerter<'_> {
    fn error(&mut self, message: String) {
        (self.on_event)(&AlertEvent::Error(message));
    }

    /// Reads where the database stands, and the sessions to watch: the live ones and those
    /// with an alert still open (from before a restart).
    fn start(&mut self) -> crate::store::Result<()> {
        self.version = self.store.data_version()?;
        self.seq = self.store.max_seq()?;
        for s in self.store.sessions()? {
            if live(&s) {
                self.watched.insert(s.id);
            }
        }
        self.watched.extend(self.store.sessions_with_open_alerts()?);
        self.resend()
    }

    /// Sends again what a stop cut short: notices not delivered to a target that have attempts
    /// left there (and, to a target added since, the open alerts' firing notices).
    fn resend(&mut self) -> crate::store::Result<()> {
        let kinds: Vec<&'static str> = self.deliverer.kinds().collect();
        let max = i64::from(self.opts.policy.attempts);
        for (i, kind) in kinds.into_iter().enumerate() {
            for p in self.store.pending_notices(kind, max)? {
                let alert_id = p.alert_id;
                let fired = serde_json::from_str(&p.payload).unwrap_or_default();
                let notice = if p.state == "resolved" {
                    let at = p.resolved_at.unwrap_or_default();
                    Notice {
                        alert_id,
                        state: AlertState::Resolved,
                        payload: resolved(&fired, &at),
                    }
                } else {
                    Notice {
                        alert_id,
                        state: AlertState::Firing,
                        payload: fired,
                    }
                };
                self.deliverer.send_to(&self.rt, &notice, &self.report, i);
            }
        }
        Ok(())
    }

    /// The sessions with new events since the last look (none when nothing was committed).
    fn changed(&mut self) -> crate::store::Result<Vec<String>> {
        let version = self.store.data_version()?;
        if version == self.version {
            return Ok(Vec::new());
        }
        self.version = version;
        let (ids, through) = self.store.sessions_changed_after(self.seq)?;
        self.seq = through;
        self.watched.extend(ids.iter().cloned());
        Ok(ids)
    }

    fn evaluate(&mut self, ids: &[String]) {
        for id in ids {
            if let Err(e) = self.evaluate_one(id) {
                self.error(format!("alerts: {id}: {e}"));
            }
        }
    }

    /// Applies the session's transitions now; stops watching it on the clock when it is
    /// neither live nor alerting.
    fn evaluate_one(&mut self, id: &str) -> crate::store::Result<()> {
        let Some(summary) = self.store.session_summary(id)? else {
            self.watched.remove(id);
            return Ok(());
        };
        if !self.over_api(id)? {
            self.watched.remove(id);
            return Ok(());
        }
        let hits = rule_hits(&self.store, &summary, now_us(), &self.opts.thresholds)?;
        let known = self.store.known_alerts(id)?;
        let at = now();
        for t in step(&known, &hits) {
            match t {
                Transition::Fire(hit) => {
                    let payload = firing(&hit, &at);
                    let text = payload.to_string();
                    let event_id = hit.event_id.clone().unwrap_or_default();
                    let new = NewAlert {
                        session_id: id,
                        rule: hit.rule.as_str(),
                        event_id: &event_id,
                        at: hit.at.as_deref(),
                        fired_at: &at,
                        summary: &hit.summary,
                        payload: &text,
                    };
                    if let Some(alert_id) = self.store.insert_alert(&new)? {
                        let rule = hit.rule.as_str().to_string();
                        self.notify(alert_id, id, rule, event_id, AlertState::Firing, payload);
                    }
                }
                Transition::Resolve { id: alert_id, key } => {
                    if let Some(row) = self.store.resolve_alert(alert_id, &at)? {
                        let fired = serde_json::from_str(&row.payload).unwrap_or_default();
                        let payload = resolved(&fired, &at);
                        let state = AlertState::Resolved;
                        self.notify(alert_id, id, key.rule, key.event_id, state, payload);
                    }
                }
            }
        }
        if hits.is_empty() && !live(&summary) {
            self.watched.remove(id);
        }
        Ok(())
    }

    /// Measures this workspace's p99 call time per tool again (the calls of the last week), so
    /// `tool_overdue` fires on a call slower than this workspace's own, not a guess.
    fn tool_p99(&mut self) {
        match workspace_tool_p99(&self.store, now_us() - TOOL_P99_OVER_US) {
            Ok(p99) => self.opts.thresholds.tool_p99_us = p99,
            Err(e) => self.error(format!("alerts: measuring tool times: {e}")),
        }
    }

    /// Fires once for each failed deployment run stored (read after its webhook) in the last day:
    /// the session that never started. Such an alert stays open: the run does not recover.
    fn failed_runs(&mut self) {
        let since = crate::model::time::format_micros(now_us() - RUNS_LOOK_BACK_US);
        let rows = match self.store.failed_deployment_runs("") {
            Ok(rows) => rows,
            Err(e) => return self.error(format!("alerts: {e}")),
        };
        let at = now();
        for row in rows.into_iter().filter(|r| r.fetched_at >= since) {
            let Some(hit) = RunFacts::parse(&row.body)
                .ok()
                .as_ref()
                .and_then(failed_run_hit)
            else {
                continue;
            };
            let payload = firing(&hit, &at);
            let text = payload.to_string();
            let event_id = hit.event_id.clone().unwrap_or_default();
            let new = NewAlert {
                session_id: &hit.session_id,
                rule: hit.rule.as_str(),
                event_id: &event_id,
                at: hit.at.as_deref(),
                fired_at: &at,
                summary: &hit.summary,
                payload: &text,
            };
            match self.store.insert_alert(&new) {
                Ok(Some(alert_id)) => {
                    let rule = hit.rule.as_str().to_string();
                    let session = hit.session_id.clone();
                    self.notify(
                        alert_id,
                        &session,
                        rule,
                        event_id,
                        AlertState::Firing,
                        payload,
                    );
                }
                Ok(None) => {}
                Err(e) => self.error(format!("alerts: {e}")),
            }
        }
    }

    fn notify(
        &mut self,
        alert_id: i64,
        session_id: &str,
        rule: String,
        event_id: String,
        state: AlertState,
        payload: serde_json::Value,
    ) {
        (self.on_event)(&AlertEvent::Transition {
            alert_id,
            session_id: session_id.to_string(),
            rule,
            event_id,
            state,
        });
        let notice = Notice {
            alert_id,
            state,
            payload,
        };
        self.deliverer.send(&self.rt, &notice, &self.report);
    }

    /// Whether the session was recorded over the API (a stream or a history pass), not only
    /// imported from a file: an old import is not a session anyone can still answer.
    fn over_api(&mut self, id: &str) -> crate::store::Result<bool> {
        if self.api.contains(id) {
            return Ok(true);
        }
        let recorded = self
            .store
            .events_by_source(id)?
            .keys()
            .any(|source| source != "import");
        if recorded {
            self.api.insert(id.to_string());
        }
        Ok(recorded)
    }

    /// Stores one delivery attempt and reports it.
    fn attempt(&mut self, a: &Attempt) {
        let stored = self.store.record_alert_attempt(&NewAttempt {
            alert_id: a.alert_id,
            state: a.state.as_str(),
            target: a.target,
            at: &a.at,
            error: a.error.as_deref(),
        });
        if let Err(e) = stored {
            self.error(format!("alerts: {e}"));
        }
        (self.on_event)(&AlertEvent::Attempt(a.clone()));
    }

    /// Asks for a history pass of every session with an open alert.
    fn confirm(&mut self, nudges: &mpsc::UnboundedSender<Nudge>) {
        match self.store.sessions_with_open_alerts() {
            Ok(ids) => {
                for session_id in ids {
                    let _ = nudges.send(Nudge {
                        session_id,
                        reaction: Reaction::Confirm,
                    });
                }
            }
            Err(e) => self.error(format!("alerts: {e}")),
        }
    }
}

#[cfg(test)]
mod tests;
