//! Repeated identical tool calls within a turn: the agent-loop finding (`repeated_call`).
//!
//! Calls are the same when they come from the same thread, call the same tool (MCP server
//! included) and carry the same input (compared as JSON with sorted keys). Three or more are a
//! loop. Two are one only when the agent retried, unchanged, a call that had just answered
//! `is_error`, and the retry failed too. Two successful identical calls (rerunning the tests
//! after an edit) are ordinary, and so is a retry that worked (a server that came back).

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

use crate::analysis::checkpoint::{self, StaticStr};

use super::parse::Call;
use super::track::Spot;

/// Calls seen this many times are a loop.
pub const LOOP_AT: usize = 3;

#[derive(Debug, Serialize, Deserialize)]
struct Group {
    tool: String,
    #[serde(with = "checkpoint::known")]
    kind: StaticStr,
    thread_id: Option<String>,
    excerpt: String,
    count: usize,
    first: Spot,
    last: Spot,
    /// The newest call of the group answered `is_error`.
    last_failed: bool,
    /// A call was issued again after one answered `is_error`.
    retried_after_error: bool,
}

/// The calls of one turn.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Calls {
    groups: HashMap<u64, Group>,
    /// Tool-use event id → its group.
    of: HashMap<String, u64>,
}

/// A repeated call, ready to become a finding.
pub struct Repeat {
    pub at: Spot,
    pub message: String,
}

fn kind_of(event_type: &str) -> &'static str {
    match event_type {
        "agent.custom_tool_use" => "custom tool",
        "agent.mcp_tool_use" => "MCP tool",
        _ => "tool",
    }
}

impl Calls {
    pub fn call(&mut self, event_type: &str, spot: Spot, mut call: Call, stream: &str) {
        let thread =
            (call.thread_id.take()).or_else(|| (!stream.is_empty()).then(|| stream.to_string()));
        let mut h = DefaultHasher::new();
        (thread.as_deref(), event_type, &call.tool, &call.input).hash(&mut h);
        let key = h.finish();
        self.of.insert(spot.event_id.clone(), key);
        match self.groups.get_mut(&key) {
            Some(g) => {
                g.count += 1;
                g.retried_after_error |= g.last_failed;
                g.last_failed = false;
                g.last = spot;
            }
            None => {
                self.groups.insert(
                    key,
                    Group {
                        excerpt: call.excerpt(),
                        tool: call.tool,
                        kind: kind_of(event_type),
                        thread_id: thread,
                        count: 1,
                        first: spot.clone(),
                        last: spot,
                        last_failed: false,
                        retried_after_error: false,
                    },
                );
            }
        }
    }

    /// A result for tool use `link` arrived.
    pub fn result(&mut self, link: &str, is_error: bool) {
        if let Some(g) = self.of.get(link).and_then(|k| self.groups.get_mut(k)) {
            g.last_failed = is_error;
        }
    }

    /// The tool and input excerpt of tool use `link`, if it was called this turn.
    pub fn describe(&self, link: &str) -> Option<(&'static str, &str, &str)> {
        let g = self.of.get(link).and_then(|k| self.groups.get(k))?;
        Some((g.kind, g.tool.as_str(), g.excerpt.as_str()))
    }

    /// The loops among the calls so far, in the order their last call came.
    pub fn repeats(&self) -> Vec<Repeat> {
        let mut out: Vec<Repeat> = self
            .groups
            .values()
            .filter(|g| {
                g.count >= LOOP_AT || (g.count >= 2 && g.retried_after_error && g.last_failed)
            })
            .map(|g| {
                let who = g
                    .thread_id
                    .as_ref()
                    .map(|t| format!(" (thread {t})"))
                    .unwrap_or_default();
                let why = match (g.retried_after_error, g.last_failed) {
                    (true, true) => ", retried after it answered is_error and failing again",
                    (true, false) => ", retried after it answered is_error",
                    _ => "",
                };
                Repeat {
                    at: g.last.clone(),
                    message: format!(
                        "{} {}{who} called {} times with the same input{why} (first {}): {}",
                        g.kind, g.tool, g.count, g.first.event_id, g.excerpt
                    ),
                }
            })
            .collect();
        out.sort_by_key(|r| (r.at.ts.unwrap_or(i64::MAX), r.at.event_id.clone()));
        out
    }
}
