//! What a stored session object (`GET /v1/sessions/{id}`, §6.1 of the API reference) says that
//! the events do not: `stats` (active and duration seconds), `deployment_id`,
//! `outcome_evaluations` and the session's cumulative `usage` (with `server_tool_use` and
//! `active_seconds`).
//!
//! Every field is read on its own, so one of an unexpected shape does not hide the others; it is
//! named in `problems` instead. Absent and `null` are both shown as absent (never as 0), and
//! unknown extra fields are ignored. Both SDK generations describe the same object.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::analysis::text::thousands;
use crate::model::typed::SessionUsage;

/// `stats` of a session or a thread: every field optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Stats {
    /// Session: each thread's own running time, summed. Thread: its own running time.
    pub active_seconds: Option<f64>,
    /// Time since creation, frozen once terminated.
    pub duration_seconds: Option<f64>,
    /// Threads only (0 for child threads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub startup_seconds: Option<f64>,
}

impl Stats {
    /// Reads `stats` from its value; `None` when null or not an object (the caller names that).
    pub fn read(v: &Value) -> Option<Stats> {
        let o = v.as_object()?;
        let n = |k: &str| o.get(k).and_then(Value::as_f64);
        Some(Stats {
            active_seconds: n("active_seconds"),
            duration_seconds: n("duration_seconds"),
            startup_seconds: n("startup_seconds"),
        })
    }
}

/// One entry of `outcome_evaluations` (one per `user.define_outcome`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OutcomeEvaluation {
    pub outcome_id: Option<String>,
    pub description: Option<String>,
    pub iteration: Option<i64>,
    /// pending | running | evaluating | satisfied | max_iterations_reached | failed |
    /// interrupted (an open set).
    pub result: Option<String>,
    pub explanation: Option<String>,
    pub completed_at: Option<String>,
}

/// What the session object says, as stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SessionFacts {
    /// When the object was fetched (or imported).
    pub fetched_at: Option<String>,
    /// The object's `status` when fetched (it can lag the events).
    pub status: Option<String>,
    pub stats: Option<Stats>,
    /// Set when a deployment created the session.
    pub deployment_id: Option<String>,
    /// Null when the object has none (an older or partial object); `[]` when it has an empty list.
    pub outcome_evaluations: Option<Vec<OutcomeEvaluation>>,
    /// The session's cumulative usage (the priced figure; per-thread usage does not add up to it).
    pub usage: Option<SessionUsage>,
    /// Fields of an unexpected shape, named (`"stats is not an object"`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

fn text(o: &Map<String, Value>, k: &str) -> Option<String> {
    o.get(k).and_then(Value::as_str).map(str::to_string)
}

/// Reads a `usage` value (session or thread): `None` when absent or null, a problem when it is
/// not an object of the documented shape.
pub fn read_usage(
    v: Option<&Value>,
    problems: &mut Vec<String>,
    what: &str,
) -> Option<SessionUsage> {
    let v = v.filter(|v| !v.is_null())?;
    match serde_json::from_value::<SessionUsage>(v.clone()) {
        Ok(u) => Some(u),
        Err(e) => {
            problems.push(format!("{what} usage is not of the documented shape: {e}"));
            None
        }
    }
}

/// Reads `stats`: `None` when absent or null, a problem when not an object.
pub fn read_stats(v: Option<&Value>, problems: &mut Vec<String>, what: &str) -> Option<Stats> {
    let v = v.filter(|v| !v.is_null())?;
    let s = Stats::read(v);
    if s.is_none() {
        problems.push(format!("{what} stats is not an object"));
    }
    s
}

fn evaluation(v: &Value) -> Option<OutcomeEvaluation> {
    let o = v.as_object()?;
    Some(OutcomeEvaluation {
        outcome_id: text(o, "outcome_id"),
        description: text(o, "description"),
        iteration: o.get("iteration").and_then(Value::as_i64),
        result: text(o, "result"),
        explanation: text(o, "explanation"),
        completed_at: text(o, "completed_at"),
    })
}

/// The facts of a session object's JSON text. A text that is not a JSON object gives only a
/// problem.
pub fn session_facts(raw: &str, fetched_at: Option<&str>) -> SessionFacts {
    let mut f = SessionFacts {
        fetched_at: fetched_at.map(str::to_string),
        ..SessionFacts::default()
    };
    let o = match serde_json::from_str::<Value>(raw) {
        Ok(Value::Object(o)) => o,
        _ => {
            f.problems
                .push("the stored session object is not a JSON object".into());
            return f;
        }
    };
    f.status = text(&o, "status");
    f.stats = read_stats(o.get("stats"), &mut f.problems, "session");
    f.deployment_id = text(&o, "deployment_id");
    if o.get("deployment_id")
        .is_some_and(|d| !d.is_null() && !d.is_string())
    {
        f.problems.push("deployment_id is not a string".into());
    }
    f.outcome_evaluations = match o.get("outcome_evaluations") {
        None | Some(Value::Null) => None,
        Some(Value::Array(list)) => {
            let read: Vec<_> = list.iter().filter_map(evaluation).collect();
            if read.len() < list.len() {
                f.problems.push(format!(
                    "{} of {} outcome_evaluations are not objects",
                    list.len() - read.len(),
                    list.len()
                ));
            }
            Some(read)
        }
        Some(_) => {
            f.problems
                .push("outcome_evaluations is not an array".into());
            None
        }
    };
    f.usage = read_usage(o.get("usage"), &mut f.problems, "session");
    f
}

/// `server_tool_use` as `web_search_requests 4 · web_fetch_requests 0`: the documented counts
/// first, then any other numeric member; `None` when absent, null or empty.
pub fn server_tool_use_text(v: Option<&Value>) -> Option<String> {
    const KNOWN: [&str; 2] = ["web_search_requests", "web_fetch_requests"];
    let o = v?.as_object()?;
    let known = KNOWN.iter().filter_map(|k| o.get_key_value(*k));
    let other = o.iter().filter(|(k, _)| !KNOWN.contains(&k.as_str()));
    let parts: Vec<String> = known
        .chain(other)
        .filter(|(_, n)| n.is_number())
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" · "))
}

/// A usage's present figures, as `input 812 · output 96 · active 7.5s · list cost $0.12 ·
/// web_search_requests 2`; absent ones are left out (never shown as 0). Empty when none is.
pub fn usage_text(u: &SessionUsage) -> String {
    let mut parts = Vec::new();
    let mut count = |name: &str, v: Option<u64>| {
        if let Some(v) = v {
            parts.push(format!("{name} {}", thousands(v)));
        }
    };
    count("input", u.input_tokens);
    count("output", u.output_tokens);
    count("cache read", u.cache_read_input_tokens);
    if let Some(c) = &u.cache_creation {
        count("cache write 5m", c.ephemeral_5m_input_tokens);
        count("cache write 1h", c.ephemeral_1h_input_tokens);
    }
    if let Some(s) = u.active_seconds {
        parts.push(format!("active {s}s"));
    }
    if let Some(c) = &u.list_cost {
        parts.push(format!("list cost {}", c.display()));
    }
    if let Some(t) = server_tool_use_text(u.server_tool_use.as_ref()) {
        parts.push(t);
    }
    parts.join(" · ")
}

/// `stats` as `active 7.5s · duration 9s` (absent figures left out; empty when none is).
pub fn stats_text(s: &Stats) -> String {
    [
        ("active", s.active_seconds),
        ("duration", s.duration_seconds),
        ("startup", s.startup_seconds),
    ]
    .iter()
    .filter_map(|(k, v)| v.map(|v| format!("{k} {v}s")))
    .collect::<Vec<_>>()
    .join(" · ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const REFERENCE: &str = r#"{"type":"session","id":"sesn_x","status":"idle","deployment_id":null,
        "outcome_evaluations":[],"stats":{"active_seconds":401.2,"duration_seconds":2592.9},
        "usage":{"input_tokens":182340,"active_seconds":412.7,"list_cost":{"amount":"1873","currency":"USD"},
        "server_tool_use":{"web_search_requests":4,"web_fetch_requests":0}},"extra_field":{"a":1}}"#;

    #[test]
    fn reads_the_reference_example() {
        let f = session_facts(REFERENCE, Some("2026-08-07T14:45:12Z"));
        assert_eq!(f.status.as_deref(), Some("idle"));
        let s = f.stats.unwrap();
        assert_eq!(s.active_seconds, Some(401.2));
        assert_eq!(s.duration_seconds, Some(2592.9));
        assert_eq!(f.deployment_id, None);
        assert_eq!(f.outcome_evaluations, Some(vec![]));
        let u = f.usage.unwrap();
        assert_eq!(u.active_seconds, Some(412.7));
        assert_eq!(
            server_tool_use_text(u.server_tool_use.as_ref()).as_deref(),
            Some("web_search_requests 4 · web_fetch_requests 0")
        );
        assert!(f.problems.is_empty(), "{:?}", f.problems);
        assert_eq!(
            usage_text(&u),
            "input 182,340 · active 412.7s · list cost $18.73 · web_search_requests 4 · web_fetch_requests 0"
        );
        assert_eq!(stats_text(&s), "active 401.2s · duration 2592.9s");
    }

    #[test]
    fn absent_and_null_stay_absent_never_zero() {
        let f = session_facts(
            r#"{"id":"sesn_x","stats":{},"usage":{"input_tokens":5,"server_tool_use":null}}"#,
            None,
        );
        let s = f.stats.unwrap();
        assert_eq!((s.active_seconds, s.duration_seconds), (None, None));
        assert_eq!(f.outcome_evaluations, None);
        let u = f.usage.unwrap();
        assert_eq!(u.active_seconds, None);
        assert_eq!(server_tool_use_text(u.server_tool_use.as_ref()), None);
        assert_eq!(usage_text(&u), "input 5");
        let f = session_facts(r#"{"id":"sesn_x","stats":null,"usage":null}"#, None);
        assert_eq!((f.stats, f.usage), (None, None));
        assert!(f.problems.is_empty());
    }

    #[test]
    fn outcome_evaluations_keep_result_iteration_and_explanation() {
        let f = session_facts(
            r#"{"outcome_evaluations":[{"type":"outcome_evaluation","outcome_id":"outc_1","description":"CSV",
                "iteration":2,"result":"max_iterations_reached","explanation":"Still no line numbers.",
                "completed_at":"2026-08-07T14:20:00Z"},{"type":"outcome_evaluation","outcome_id":"outc_2",
                "description":"d","iteration":0,"result":"pending"}],"deployment_id":"depl_011CZx"}"#,
            None,
        );
        let e = f.outcome_evaluations.unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].iteration, Some(2));
        assert_eq!(e[0].result.as_deref(), Some("max_iterations_reached"));
        assert_eq!(e[0].explanation.as_deref(), Some("Still no line numbers."));
        assert_eq!(e[1].explanation, None);
        assert_eq!(e[1].completed_at, None);
        assert_eq!(f.deployment_id.as_deref(), Some("depl_011CZx"));
    }

    #[test]
    fn a_field_of_the_wrong_shape_is_named_and_the_others_still_read() {
        let f = session_facts(
            r#"{"stats":"soon","outcome_evaluations":{},"usage":{"list_cost":5},"deployment_id":"depl_1"}"#,
            None,
        );
        assert_eq!(f.stats, None);
        assert_eq!(f.usage, None);
        assert_eq!(f.deployment_id.as_deref(), Some("depl_1"));
        assert_eq!(f.problems.len(), 3, "{:?}", f.problems);
        let f = session_facts("[1]", None);
        assert_eq!(f.problems.len(), 1);
    }
}
