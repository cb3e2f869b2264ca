//! The thread tree of a session: who spawned whom, each thread's status and its own usage,
//! merged from the two places a recording learns about threads.
//!
//! - **Events** (fed in time order to [`ThreadTreeBuilder::push`]): `session.thread_created`
//!   (and its older alias `session.thread_status_created`) names a child and is written to its
//!   parent's stream, so the stream it was read from is the parent (the session's own stream is
//!   the primary thread's view); `session.thread_status_*` give the status (running, idle with its
//!   stop reason, rescheduling, terminated). The primary thread is never created by an event: as
//!   the 2.12.0 runner does, the thread named by the first `session.thread_status_*` is taken to
//!   be the primary, unless a `session.thread_created` names it.
//! - **Thread objects** (`GET /v1/sessions/{id}/threads`, §6.3): `parent_thread_id` (null for the
//!   primary), the agent (a saved agent, the advisor, or an inline agent), `workflow_run_id`,
//!   `stats` and the thread's own `usage` (null until its first idle; per-thread costs do not add
//!   up to the session's). Where an object and the events disagree on the parent, the object
//!   wins.
//!
//! A thread known from only one of the two is still a node, marked by where it was learnt
//! (`learnt_from`). When children were created on the primary's stream but the primary's id is
//! nowhere in the recording, a node with no id stands for it. Parent links that loop are cut and
//! named in `problems`.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::Value;

use super::session_facts::{Stats, read_stats, read_usage};
use super::state::{Mark, read_stop_reason};
use crate::model::time::parse_timestamp_micros;
use crate::model::typed::SessionUsage;
use crate::store::{EventRef, ThreadObject};

/// The event types the tree reads (everything else pushed is ignored).
pub const THREAD_TYPES: &[&str] = &[
    "session.thread_created",
    "session.thread_status_created",
    "session.thread_status_running",
    "session.thread_status_idle",
    "session.thread_status_rescheduled",
    "session.thread_status_terminated",
];

/// One thread and the threads it spawned.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ThreadNode {
    /// `sthr_…`; null only for the primary thread when its id is nowhere in the recording.
    pub thread_id: Option<String>,
    /// The object's `agent.name`, else the events' `agent_name`.
    pub agent_name: Option<String>,
    /// The object's `agent.type`: `agent`, `advisor` or `inline` (an open set).
    pub agent_type: Option<String>,
    /// The session's primary thread (the coordinator).
    pub primary: bool,
    pub parent_thread_id: Option<String>,
    /// Where the parent link was read: `object` (`parent_thread_id`) or `event` (the stream a
    /// `session.thread_created` was written to). Null for roots.
    pub parent_from: Option<&'static str>,
    pub workflow_run_id: Option<String>,
    /// `events`, `object`, or both.
    pub learnt_from: Vec<&'static str>,
    /// From the newest thread event: created | running | idle | rescheduling | terminated; null
    /// when no event names the thread.
    pub status: Option<String>,
    /// `stop_reason.type` while idle.
    pub stop_reason: Option<String>,
    /// The event that set `status`.
    pub since: Option<Mark>,
    /// The object's `status` when it was fetched (it can lag or lead the point).
    pub object_status: Option<String>,
    pub created_at: Option<String>,
    /// When the object was fetched or imported.
    pub fetched_at: Option<String>,
    pub stats: Option<Stats>,
    /// The thread's own usage (from its object); null when absent or null there.
    pub usage: Option<SessionUsage>,
    pub children: Vec<ThreadNode>,
}

impl ThreadNode {
    /// This node and every descendant, depth first, with their depth.
    pub fn walk(&self) -> Vec<(usize, &ThreadNode)> {
        let mut out = Vec::new();
        let mut stack = vec![(0usize, self)];
        while let Some((d, n)) = stack.pop() {
            out.push((d, n));
            stack.extend(n.children.iter().rev().map(|c| (d + 1, c)));
        }
        out
    }

    /// The status to show: the events' (with the stop reason while idle), else the object's.
    pub fn status_text(&self) -> String {
        match (&self.status, &self.stop_reason) {
            (Some(s), Some(r)) if s == "idle" => format!("idle ({r})"),
            (Some(s), _) => s.clone(),
            (None, _) => match &self.object_status {
                Some(s) => format!("{s} (object)"),
                None => "unknown".into(),
            },
        }
    }

    /// The name to show: the agent's, else the agent type's, else the id.
    pub fn label(&self) -> String {
        self.agent_name
            .clone()
            .or_else(|| self.agent_type.clone())
            .or_else(|| self.thread_id.clone())
            .unwrap_or_else(|| "primary".into())
    }
}

/// The tree: roots first (the primary, then threads whose parent is unknown).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ThreadTree {
    pub roots: Vec<ThreadNode>,
    /// Thread objects or links that could not be used, named.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

impl ThreadTree {
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }

    /// Every node, depth first, with its depth.
    pub fn walk(&self) -> Vec<(usize, &ThreadNode)> {
        self.roots.iter().flat_map(ThreadNode::walk).collect()
    }
}

/// What the events say about one thread.
#[derive(Debug, Clone, Default)]
struct Learnt {
    agent_name: Option<String>,
    workflow_run_id: Option<String>,
    /// Some("") when created on the session's own stream (the primary's view).
    created_on: Option<String>,
    status: Option<String>,
    stop_reason: Option<String>,
    since: Option<Mark>,
}

/// Folds thread events in time order; [`finish`](Self::finish) merges the thread objects.
#[derive(Debug, Default)]
pub struct ThreadTreeBuilder {
    threads: BTreeMap<String, Learnt>,
    /// Thread ids in the order events first named them.
    order: Vec<String>,
    /// The thread of the first `session.thread_status_*` event.
    first_status: Option<String>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct Fields {
    session_thread_id: Option<String>,
    agent_name: Option<String>,
    workflow_run_id: Option<String>,
    stop_reason: Option<Value>,
}

impl ThreadTreeBuilder {
    pub fn new() -> ThreadTreeBuilder {
        ThreadTreeBuilder::default()
    }

    /// Takes the next event in time order.
    pub fn push(&mut self, row: &EventRef<'_>) {
        let t = row.event_type;
        if !THREAD_TYPES.contains(&t) {
            return;
        }
        let f: Fields = serde_json::from_str(row.raw).unwrap_or_default();
        let Some(tid) = f.session_thread_id.filter(|s| !s.is_empty()) else {
            return;
        };
        if !self.threads.contains_key(&tid) {
            self.order.push(tid.clone());
        }
        let l = self.threads.entry(tid.clone()).or_default();
        if f.agent_name.as_deref().is_some_and(|a| !a.is_empty()) {
            l.agent_name = f.agent_name;
        }
        if f.workflow_run_id.is_some() {
            l.workflow_run_id = f.workflow_run_id;
        }
        let status = match t {
            "session.thread_created" | "session.thread_status_created" => {
                // A copy read on a thread's own stream names the parent better than the
                // primary's view of it.
                if l.created_on.as_deref().is_none_or(str::is_empty) {
                    l.created_on = Some(row.thread_id.to_string());
                }
                // A creation after a status (copies out of order) does not undo the status.
                if l.status.is_some() {
                    return;
                }
                "created"
            }
            "session.thread_status_running" => "running",
            "session.thread_status_idle" => "idle",
            "session.thread_status_rescheduled" => "rescheduling",
            _ => "terminated",
        };
        if status != "created" && self.first_status.is_none() {
            self.first_status = Some(tid);
        }
        l.status = Some(status.to_string());
        l.stop_reason = (status == "idle")
            .then(|| {
                let r = read_stop_reason(f.stop_reason.as_ref());
                r.kind.or_else(|| r.problem.map(str::to_string))
            })
            .flatten();
        l.since = Some(Mark::of(row));
    }

    /// The tree at `point_ts` (µs; `None`: the end of the recording): thread objects created
    /// after the point are left out.
    pub fn finish(self, objects: &[ThreadObject], point_ts: Option<i64>) -> ThreadTree {
        let mut problems = Vec::new();
        let mut nodes: Vec<ThreadNode> = Vec::new();
        let mut at: HashMap<String, usize> = HashMap::new();
        for o in objects {
            let Some(node) = object_node(o, &mut problems) else {
                continue;
            };
            let created = node.created_at.as_deref().and_then(parse_timestamp_micros);
            if let (Some(p), Some(c)) = (point_ts, created)
                && c > p
                && !self.threads.contains_key(&o.id)
            {
                continue;
            }
            at.insert(o.id.clone(), nodes.len());
            nodes.push(node);
        }
        // The primary: the object(s) with no parent, else the events' first status thread that no
        // creation names.
        let object_primary = nodes
            .iter()
            .find(|n| n.primary)
            .and_then(|n| n.thread_id.clone());
        let event_primary = self
            .first_status
            .clone()
            .filter(|t| self.threads.get(t).is_some_and(|l| l.created_on.is_none()))
            .filter(|t| !at.contains_key(t) || object_primary.as_deref() == Some(t.as_str()));
        let primary = object_primary.or(event_primary);
        for tid in &self.order {
            let Some(l) = self.threads.get(tid) else {
                continue;
            };
            let i = match at.get(tid) {
                Some(&i) => i,
                None => {
                    at.insert(tid.clone(), nodes.len());
                    nodes.push(ThreadNode {
                        thread_id: Some(tid.clone()),
                        ..ThreadNode::default()
                    });
                    nodes.len() - 1
                }
            };
            let n = &mut nodes[i];
            n.learnt_from.insert(0, "events");
            n.agent_name = n.agent_name.take().or_else(|| l.agent_name.clone());
            n.workflow_run_id = n
                .workflow_run_id
                .take()
                .or_else(|| l.workflow_run_id.clone());
            n.status = l.status.clone();
            n.stop_reason = l.stop_reason.clone();
            n.since = l.since.clone();
            if primary.as_deref() == Some(tid.as_str()) {
                n.primary = true;
            }
            if n.parent_from.is_none() && !n.primary {
                match l.created_on.as_deref() {
                    Some("") => {
                        n.parent_thread_id = primary.clone();
                        n.parent_from = Some("event");
                    }
                    Some(stream) => {
                        n.parent_thread_id = Some(stream.to_string());
                        n.parent_from = Some("event");
                    }
                    None => {}
                }
            }
        }
        // Children of the primary's stream whose primary is unknown hang from a node with no id.
        let orphans_of_primary = nodes
            .iter()
            .any(|n| n.parent_from == Some("event") && n.parent_thread_id.is_none());
        if orphans_of_primary {
            nodes.push(ThreadNode {
                primary: true,
                learnt_from: vec!["events"],
                ..ThreadNode::default()
            });
        }
        ThreadTree {
            roots: nest(nodes, &mut problems),
            problems,
        }
    }
}

/// A node from a thread object; `None` (with a problem) when its text is not a JSON object.
fn object_node(o: &ThreadObject, problems: &mut Vec<String>) -> Option<ThreadNode> {
    let v = match serde_json::from_str::<Value>(&o.raw) {
        Ok(Value::Object(v)) => v,
        _ => {
            problems.push(format!("thread object {} is not a JSON object", o.id));
            return None;
        }
    };
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let agent = v.get("agent").and_then(Value::as_object);
    let a = |k: &str| {
        agent
            .and_then(|a| a.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let what = format!("thread {}", o.id);
    let parent = o.parent_thread_id.clone().filter(|p| !p.is_empty());
    Some(ThreadNode {
        thread_id: Some(o.id.clone()),
        agent_name: a("name"),
        agent_type: a("type"),
        primary: parent.is_none(),
        parent_from: parent.as_ref().map(|_| "object"),
        parent_thread_id: parent,
        workflow_run_id: s("workflow_run_id"),
        learnt_from: vec!["object"],
        object_status: s("status"),
        created_at: s("created_at"),
        fetched_at: Some(o.fetched_at.clone()),
        stats: read_stats(v.get("stats"), problems, &what),
        usage: read_usage(v.get("usage"), problems, &what),
        ..ThreadNode::default()
    })
}

/// Hangs every node under its parent. A node whose parent is not a node stays a root; a loop of
/// parent links is cut at the node met first and named.
fn nest(nodes: Vec<ThreadNode>, problems: &mut Vec<String>) -> Vec<ThreadNode> {
    let index: HashMap<Option<String>, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.thread_id.clone(), i))
        .collect();
    // A parent link to the primary with no id (`parent_from: event`, no parent id).
    let parent_of = |n: &ThreadNode| -> Option<usize> {
        match (&n.parent_thread_id, n.parent_from) {
            (Some(p), _) => index.get(&Some(p.clone())).copied(),
            (None, Some("event")) => index.get(&None).copied(),
            _ => None,
        }
    };
    let mut parent: Vec<Option<usize>> = nodes.iter().map(parent_of).collect();
    for i in 0..nodes.len() {
        let mut seen = vec![i];
        let mut at = parent[i];
        while let Some(p) = at {
            if seen.contains(&p) {
                problems.push(format!(
                    "the parent links of thread {} loop; shown as a root",
                    nodes[i].thread_id.as_deref().unwrap_or("?")
                ));
                parent[i] = None;
                break;
            }
            seen.push(p);
            at = parent[p];
        }
    }
    let mut slots: Vec<Option<ThreadNode>> = nodes.into_iter().map(Some).collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); slots.len()];
    let mut roots = Vec::new();
    for (i, p) in parent.iter().enumerate() {
        match p {
            Some(p) => children[*p].push(i),
            None => roots.push(i),
        }
    }
    fn build(i: usize, slots: &mut [Option<ThreadNode>], children: &[Vec<usize>]) -> ThreadNode {
        let mut n = slots[i].take().unwrap_or_default();
        n.children = children[i]
            .iter()
            .map(|&c| build(c, slots, children))
            .collect();
        n
    }
    // Primary roots first, then the rest in the order learnt.
    roots.sort_by_key(|&i| !slots[i].as_ref().is_some_and(|n| n.primary));
    roots
        .into_iter()
        .map(|i| build(i, &mut slots, &children))
        .collect()
}

#[cfg(test)]
#[path = "threads/tests.rs"]
mod tests;
