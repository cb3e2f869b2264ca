//! Model requests across sessions by group (`flightrec stats --by agent|model|day`): requests,
//! tokens and the list-price cost per agent, per model or per UTC day, with each group's share of
//! the cost.
//!
//! Built from the [`RequestRow`]s of each session's statistics, so a request costs what it costs
//! in `stats` (the same prices, the same model attribution). A day is the UTC day of the
//! request's own time (its start, else its end), not of its session: a session that runs past
//! midnight counts on both days. A window (`--since/--until`) keeps the requests made in it.

use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

use super::{RequestRow, Tokens};
use crate::store::AgentRef;

/// The key of a request whose agent, model or time the recording does not give.
pub const UNKNOWN: &str = "(unknown)";

/// What to group the requests by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum By {
    /// The session's agent (its name, else its id).
    Agent,
    /// Each request's model.
    Model,
    /// The UTC day of each request.
    Day,
}

impl By {
    pub const NAMES: &'static str = "agent, model or day";

    pub fn parse(s: &str) -> Option<By> {
        match s {
            "agent" => Some(By::Agent),
            "model" => Some(By::Model),
            "day" => Some(By::Day),
            _ => None,
        }
    }
}

/// One group's requests.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    /// The agent's name (else id), the model id or the day (`2026-08-07`); [`UNKNOWN`] when
    /// the recording does not say.
    pub key: String,
    /// With `--by agent`: the agent's id and name, as `sessions --json` shows them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
    /// Sessions with a request in the group.
    pub sessions: u64,
    #[serde(flatten)]
    pub tokens: Tokens,
    /// The list-price estimate of the requests that could be priced, USD; `None` when none could.
    pub estimate_usd: Option<f64>,
    pub unpriced_requests: u64,
    /// The group's part of the total estimate (0 to 1); `None` when the group or the total has
    /// no price.
    pub share: Option<f64>,
}

#[derive(Debug, Default)]
struct Acc {
    agent: Option<AgentRef>,
    sessions: BTreeSet<String>,
    tokens: Tokens,
    cost: f64,
    priced: u64,
    unpriced: u64,
}

impl Acc {
    fn add(&mut self, r: &RequestRow) {
        if !self.sessions.contains(&r.session_id) {
            self.sessions.insert(r.session_id.clone());
        }
        let t = &mut self.tokens;
        t.requests += 1;
        t.failed_requests += u64::from(r.is_error);
        t.partial_requests += u64::from(r.partial);
        t.input_tokens += r.input_tokens;
        t.output_tokens += r.output_tokens;
        t.cache_read_input_tokens += r.cache_read_input_tokens;
        t.cache_creation_input_tokens += r.cache_creation_input_tokens;
        match r.cost_usd {
            Some(c) => {
                self.cost += c;
                self.priced += 1;
            }
            None => self.unpriced += 1,
        }
    }

    fn group(self, key: String, total_cost: Option<f64>) -> Group {
        let estimate_usd = (self.priced > 0).then_some(self.cost);
        let (agent_id, agent_name) = self.agent.map(|a| (a.id, a.name)).unwrap_or_default();
        Group {
            key,
            agent_id,
            agent_name,
            sessions: self.sessions.len() as u64,
            tokens: self.tokens.with_ratio(),
            estimate_usd,
            unpriced_requests: self.unpriced,
            share: estimate_usd
                .zip(total_cost.filter(|t| *t > 0.0))
                .map(|(c, t)| c / t),
        }
    }
}

/// The requests of many sessions, grouped.
#[derive(Debug)]
pub struct Grouper {
    by: By,
    since: Option<i64>,
    until: Option<i64>,
    groups: BTreeMap<String, Acc>,
    total: Acc,
}

/// The groups (days in order; agents and models by cost, highest first) and their total.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Grouped {
    pub groups: Vec<Group>,
    pub total: Group,
}

impl Grouper {
    /// Groups by `by` the requests made between `since` and `until` (µs, inclusive; open ends
    /// count everything).
    pub fn new(by: By, since: Option<i64>, until: Option<i64>) -> Grouper {
        Grouper {
            by,
            since,
            until,
            groups: BTreeMap::new(),
            total: Acc::default(),
        }
    }

    fn in_window(&self, ts: Option<i64>) -> bool {
        match ts {
            Some(t) => self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t <= u),
            None => self.since.is_none() && self.until.is_none(),
        }
    }

    /// Adds one session's requests; `agent` is the session's agent.
    pub fn add_session(&mut self, agent: Option<&AgentRef>, requests: &[RequestRow]) {
        for r in requests {
            if !self.in_window(r.ts) {
                continue;
            }
            let key = match self.by {
                By::Agent => agent
                    .and_then(|a| a.id.clone().or_else(|| a.name.clone()))
                    .unwrap_or_else(|| UNKNOWN.into()),
                By::Model => r.model.clone().unwrap_or_else(|| UNKNOWN.into()),
                By::Day => {
                    r.ts.and_then(chrono::DateTime::from_timestamp_micros)
                        .map(|d| d.format("%Y-%m-%d").to_string())
                        .unwrap_or_else(|| UNKNOWN.into())
                }
            };
            let acc = self.groups.entry(key).or_default();
            if self.by == By::Agent && acc.agent.is_none() {
                acc.agent = agent.cloned();
            }
            acc.add(r);
            self.total.add(r);
        }
    }

    pub fn finish(self) -> Grouped {
        let total_cost = (self.total.priced > 0).then_some(self.total.cost);
        let mut groups: Vec<Group> = self
            .groups
            .into_iter()
            .map(|(key, acc)| {
                let key = match &acc.agent {
                    Some(AgentRef { name: Some(n), .. }) => n.clone(),
                    _ => key,
                };
                acc.group(key, total_cost)
            })
            .collect();
        if self.by != By::Day {
            groups.sort_by(|a, b| {
                let cost = |g: &Group| g.estimate_usd.unwrap_or(0.0);
                cost(b)
                    .total_cmp(&cost(a))
                    .then_with(|| b.tokens.requests.cmp(&a.tokens.requests))
                    .then_with(|| a.key.cmp(&b.key))
            });
        }
        Grouped {
            groups,
            total: self.total.group("total".into(), total_cost),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(session: &str, ts: i64, model: Option<&str>, cost: Option<f64>) -> RequestRow {
        RequestRow {
            session_id: session.into(),
            start_id: format!("sevt_{ts}"),
            started_at: None,
            thread_id: None,
            model: model.map(str::to_string),
            speed: None,
            duration_ms: None,
            is_error: false,
            input_tokens: 10,
            output_tokens: 1,
            cache_read_input_tokens: 0,
            cache_creation_input_tokens: 0,
            cost_usd: cost,
            ts: Some(ts),
            partial: false,
        }
    }

    /// 2026-08-06T23:00:00Z and an hour later, in µs.
    const LATE: i64 = 1_786_057_200_000_000;
    const HOUR: i64 = 3_600_000_000;

    #[test]
    fn a_day_is_the_requests_own_utc_day_and_the_window_keeps_its_requests() {
        let rows = [
            request("a", LATE, Some("m"), Some(1.0)),
            request("a", LATE + HOUR, None, None),
            request("b", LATE + 2 * HOUR, Some("m"), Some(3.0)),
        ];
        let mut g = Grouper::new(By::Day, None, None);
        g.add_session(None, &rows[..2]);
        g.add_session(None, &rows[2..]);
        let out = g.finish();
        let keys: Vec<_> = out.groups.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(keys, ["2026-08-06", "2026-08-07"]);
        assert_eq!(out.groups[1].sessions, 2);
        assert_eq!(out.groups[1].unpriced_requests, 1);
        assert_eq!(out.groups[0].share, Some(0.25));
        assert_eq!((out.total.tokens.requests, out.total.sessions), (3, 2));
        assert_eq!(out.total.estimate_usd, Some(4.0));

        let mut g = Grouper::new(By::Model, Some(LATE + HOUR), None);
        g.add_session(None, &rows);
        let out = g.finish();
        let keys: Vec<_> = out.groups.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(keys, ["m", UNKNOWN], "priced first, then by requests");
        assert_eq!(out.groups[1].share, None, "no price, no share");
        assert_eq!(out.total.tokens.requests, 2);
    }
}
