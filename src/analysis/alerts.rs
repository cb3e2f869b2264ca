//! Alerts: from a session's rule [`Hit`]s and the alerts already known for it, the transitions
//! to make (a new alert firing, an open one resolved), and the notice each sends. Pure: the
//! watcher (`record::alerts`) reads the hits and the known alerts from the store, applies the
//! transitions there and delivers the notices.
//!
//! An alert is one per (session, rule, event): a hit whose key is already known (open or
//! resolved) makes nothing new, so a restart that reloads the known alerts does not fire again,
//! and a blocking event answered and resolved stays resolved.

use serde::Serialize;
use serde_json::{Map, Value};

use super::rules::{Hit, Rule};

/// Where an alert stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    Firing,
    Resolved,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Firing => "firing",
            AlertState::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<AlertState> {
        match s {
            "firing" => Some(AlertState::Firing),
            "resolved" => Some(AlertState::Resolved),
            _ => None,
        }
    }
}

/// What makes an alert one alert. `event_id` is empty when the hit names no event.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AlertKey {
    pub session_id: String,
    pub rule: String,
    pub event_id: String,
}

impl AlertKey {
    pub fn of(hit: &Hit) -> AlertKey {
        AlertKey {
            session_id: hit.session_id.clone(),
            rule: hit.rule.as_str().to_string(),
            event_id: hit.event_id.clone().unwrap_or_default(),
        }
    }
}

/// An alert the store already holds for the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    pub id: i64,
    pub key: AlertKey,
    pub open: bool,
}

/// One change to make.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    /// A hit no alert covers yet: a new alert, firing.
    Fire(Hit),
    /// An open alert whose hit is gone: it resolves.
    Resolve { id: i64, key: AlertKey },
}

/// The transitions that bring `known` (one session's alerts) in line with `hits` (the same
/// session's current hits): each hit not known fires (once, however often it repeats), each
/// open alert without a hit resolves. Hits in order, then resolutions in `known` order. A failed
/// deployment run is about the run, not the session's events: the session's hits never resolve it.
pub fn step(known: &[Known], hits: &[Hit]) -> Vec<Transition> {
    let mut out = Vec::new();
    let mut fired: Vec<AlertKey> = Vec::new();
    for hit in hits {
        let key = AlertKey::of(hit);
        if known.iter().any(|k| k.key == key) || fired.contains(&key) {
            continue;
        }
        fired.push(key);
        out.push(Transition::Fire(hit.clone()));
    }
    let about_the_session = |k: &&Known| k.key.rule != Rule::DeploymentRunFailed.as_str();
    for k in known.iter().filter(|k| k.open).filter(about_the_session) {
        if !hits.iter().any(|h| AlertKey::of(h) == k.key) {
            out.push(Transition::Resolve {
                id: k.id,
                key: k.key.clone(),
            });
        }
    }
    out
}

/// The firing notice of `hit`, fired at `fired_at`: `session_id`, `rule`, `state`, `event_id`,
/// `at` (the event's time), `summary`, `fired_at` and, where there is one, `unblock` (the
/// request that moves the session on, as `explain` proposes it: it names the API key as
/// `$ANTHROPIC_API_KEY`, never its value).
pub fn firing(hit: &Hit, fired_at: &str) -> Value {
    let mut m = Map::new();
    m.insert("session_id".into(), Value::String(hit.session_id.clone()));
    m.insert("rule".into(), Value::String(hit.rule.as_str().into()));
    m.insert("state".into(), Value::String("firing".into()));
    m.insert("event_id".into(), opt(&hit.event_id));
    m.insert("at".into(), opt(&hit.at));
    m.insert("summary".into(), Value::String(hit.summary.clone()));
    m.insert("fired_at".into(), Value::String(fired_at.into()));
    if let Some(u) = &hit.unblock {
        m.insert(
            "unblock".into(),
            serde_json::to_value(u).unwrap_or(Value::Null),
        );
    }
    Value::Object(m)
}

/// The resolved notice of an alert whose firing notice was `fired`: the same fields, `state`
/// `resolved` and `resolved_at`.
pub fn resolved(fired: &Value, resolved_at: &str) -> Value {
    let mut v = fired.clone();
    if let Value::Object(m) = &mut v {
        m.insert("state".into(), Value::String("resolved".into()));
        m.insert("resolved_at".into(), Value::String(resolved_at.into()));
    }
    v
}

/// The webhook body: the notice and a `text` line that chat tools (Slack-compatible incoming
/// webhooks) display.
pub fn webhook_body(notice: &Value) -> Value {
    let mut v = notice.clone();
    if let Value::Object(m) = &mut v {
        m.insert("text".into(), Value::String(text(notice)));
    }
    v
}

/// One line for a person: `[FIRING] requires_action on sesn_…: <summary> (event sevt_…)`.
pub fn text(notice: &Value) -> String {
    let s = |k: &str| notice.get(k).and_then(Value::as_str).unwrap_or_default();
    let mut line = format!(
        "[{}] {} on {}: {}",
        s("state").to_uppercase(),
        s("rule"),
        s("session_id"),
        s("summary")
    );
    if !s("event_id").is_empty() {
        line.push_str(&format!(" (event {}", s("event_id")));
        if !s("at").is_empty() {
            line.push_str(&format!(", since {}", s("at")));
        }
        line.push(')');
    }
    line
}

fn opt(v: &Option<String>) -> Value {
    v.clone().map_or(Value::Null, Value::String)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(rule: Rule, event: &str) -> Hit {
        Hit {
            session_id: "sesn_1".into(),
            rule,
            event_id: (!event.is_empty()).then(|| event.to_string()),
            at: Some("2026-01-01T00:00:01Z".into()),
            summary: "waiting for get_weather".into(),
            unblock: None,
        }
    }

    fn known(id: i64, rule: Rule, event: &str, open: bool) -> Known {
        Known {
            id,
            key: AlertKey::of(&hit(rule, event)),
            open,
        }
    }

    #[test]
    fn a_failed_deployment_run_is_not_resolved_by_the_sessions_hits() {
        let run = known(3, Rule::DeploymentRunFailed, "drun_1", true);
        assert!(step(std::slice::from_ref(&run), &[]).is_empty());
        let other = known(4, Rule::RequiresAction, "sevt_1", true);
        let t = step(&[run, other], &[]);
        assert_eq!(t.len(), 1, "{t:?}");
        assert!(matches!(&t[0], Transition::Resolve { id: 4, .. }));
    }

    #[test]
    fn a_new_hit_fires_once_and_a_known_one_never_again() {
        let h = [
            hit(Rule::RequiresAction, "t1"),
            hit(Rule::RequiresAction, "t1"),
        ];
        let t = step(&[], &h);
        assert_eq!(t, [Transition::Fire(h[0].clone())]);
        // Open: nothing new while it holds.
        assert!(step(&[known(7, Rule::RequiresAction, "t1", true)], &h).is_empty());
        // Resolved once: the same event seen again does not fire a second alert.
        assert!(step(&[known(7, Rule::RequiresAction, "t1", false)], &h).is_empty());
    }

    #[test]
    fn an_open_alert_without_its_hit_resolves_and_a_second_event_is_a_second_alert() {
        let open = [
            known(1, Rule::RequiresAction, "t1", true),
            known(2, Rule::Refusal, "", false),
        ];
        let t = step(&open, &[hit(Rule::RequiresAction, "t2")]);
        assert_eq!(
            t,
            [
                Transition::Fire(hit(Rule::RequiresAction, "t2")),
                Transition::Resolve {
                    id: 1,
                    key: open[0].key.clone()
                },
            ]
        );
        // A closed alert is not resolved again.
        assert_eq!(step(&open, &[]).len(), 1);
    }

    #[test]
    fn notices_carry_the_fields_and_a_chat_line() {
        let f = firing(&hit(Rule::RequiresAction, "t1"), "2026-01-01T00:10:02.000Z");
        assert_eq!(f["state"], "firing");
        assert_eq!(f["rule"], "requires_action");
        assert_eq!(f["event_id"], "t1");
        assert!(f.get("unblock").is_none(), "only where there is one");
        let r = resolved(&f, "2026-01-01T00:12:00.000Z");
        assert_eq!(r["state"], "resolved");
        assert_eq!(r["fired_at"], f["fired_at"]);
        let w = webhook_body(&r);
        assert_eq!(
            w["text"],
            "[RESOLVED] requires_action on sesn_1: waiting for get_weather \
             (event t1, since 2026-01-01T00:00:01Z)"
        );
        assert_eq!(AlertState::parse("firing"), Some(AlertState::Firing));
        assert_eq!(AlertState::parse("x"), None);
    }
}
