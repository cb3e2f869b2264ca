//! A session as a sequence of comparable steps: one per event, each with a normalized form that
//! leaves out what differs between two runs of the same behaviour (ids, times, token usage).
//!
//! The rules, in order:
//! - **Skipped events:** `session.usage` (periodic snapshots whose number depends on timing; the
//!   token totals are compared as deltas instead), preview frames, and a second copy of an event id
//!   (the same event on a thread's stream and the session's).
//! - **Dropped fields (top level only):** `id`, `processed_at`, every `*_id` and `*_ids` key
//!   (links to other events, thread, run and outcome ids), `model_usage` and `usage`, and keys
//!   whose value is `null` (an absent `stop_details` and a `null` one are the same).
//!   `stop_reason.event_ids` goes too. Nothing inside `input` or `content` is touched: a tool
//!   input's `issue_id` is data.
//! - **Tool results** (`agent.tool_result`, `agent.mcp_tool_result`, `user.custom_tool_result`,
//!   `user.tool_result`): `is_error` defaults to `false`, and `tool` names the tool whose use they
//!   answer (found through the link id).
//! - **Messages** (types ending in `message`, `message_sent`, `message_received`): content made
//!   only of text blocks becomes `text`, the blocks' texts joined by newlines.
//!
//! Two steps are equal when their normalized forms are (compared as canonical JSON, keys sorted);
//! they are the *same kind* of step when their type and tool are.

use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::store::{EventRef, EventRow};

/// Event types left out of the comparison.
pub const SKIPPED_TYPES: &[&str] = &["session.usage", "event_start", "event_delta"];

/// Types that use a tool (their `name` is the tool).
const TOOL_USES: &[&str] = &[
    "agent.tool_use",
    "agent.mcp_tool_use",
    "agent.custom_tool_use",
];

/// Types that answer a tool use.
const TOOL_RESULTS: &[&str] = &[
    "agent.tool_result",
    "agent.mcp_tool_result",
    "user.custom_tool_result",
    "user.tool_result",
];

/// One comparable step of a session.
#[derive(Debug, Clone)]
pub struct Step<'a> {
    /// Position of the event in the session's events (session order, 0-based).
    pub index: usize,
    pub event: &'a EventRow,
    /// The tool used or answered: `bash`, `github.create_issue` (MCP: server, then tool), the
    /// custom tool's name.
    pub tool: Option<String>,
    /// The SHA-256 (first 128 bits) of the normalized event ([`Step::detail`]) as canonical
    /// JSON: equal keys mean equal steps. A digest, not the text, so that a step costs a few
    /// bytes however large its event.
    pub key: u128,
    /// Type and tool: equal kinds of step whose details may differ.
    pub kind: String,
}

/// A step without its event: what aligning two sessions needs, a few dozen bytes however
/// large the event (kinds and tools are shared between the steps that have them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sig {
    /// Position of the event in the session's events (session order, 0-based).
    pub index: usize,
    /// As [`Step::key`].
    pub key: u128,
    /// As [`Step::kind`].
    pub kind: Arc<str>,
    /// As [`Step::tool`].
    pub tool: Option<Arc<str>>,
}

/// Turns a session's events, fed one at a time in session order, into step signatures.
#[derive(Default)]
pub struct Signer {
    sigs: Vec<Sig>,
    /// Events fed so far.
    events: usize,
    /// Event ids seen (a second copy is not a step).
    seen: HashSet<String>,
    /// Tool names by the id of the event that used them, for the results that answer them.
    tools: HashMap<String, Arc<str>>,
    /// Every kind and tool name once.
    names: HashSet<Arc<str>>,
}

impl Signer {
    pub fn push(&mut self, e: &EventRef<'_>) {
        let index = self.events;
        self.events += 1;
        let ty = e.event_type;
        if SKIPPED_TYPES.contains(&ty) {
            return;
        }
        if !e.event_id.is_empty() && !self.seen.insert(e.event_id.to_string()) {
            return;
        }
        let raw: Value = serde_json::from_str(e.raw).unwrap_or(Value::Null);
        let tool = if TOOL_USES.contains(&ty) {
            let name = tool_name(&raw).map(|n| self.name(n));
            if let Some(n) = &name {
                self.tools.insert(e.event_id.to_string(), n.clone());
            }
            name
        } else if TOOL_RESULTS.contains(&ty) {
            e.link_id.and_then(|l| self.tools.get(l)).cloned()
        } else {
            None
        };
        // Only a digest is kept: the text or a parsed tree per event would cost as much as the
        // events again.
        let key = digest(&normalize(ty, raw, tool.as_deref()).to_string());
        let kind = match &tool {
            Some(t) => format!("{ty} {t}"),
            None => ty.to_string(),
        };
        let kind = self.name(kind);
        self.sigs.push(Sig {
            index,
            key,
            kind,
            tool,
        });
    }

    /// `text` shared with the steps that already have it.
    fn name(&mut self, text: String) -> Arc<str> {
        if let Some(n) = self.names.get(text.as_str()) {
            return n.clone();
        }
        let n: Arc<str> = Arc::from(text);
        self.names.insert(n.clone());
        n
    }

    /// How many events were fed.
    pub fn events(&self) -> usize {
        self.events
    }

    /// The signatures, in session order.
    pub fn finish(self) -> Vec<Sig> {
        self.sigs
    }
}

/// The comparable steps of `events` (a session's events in session order).
pub fn steps(events: &[EventRow]) -> Vec<Step<'_>> {
    let mut signer = Signer::default();
    for e in events {
        signer.push(&e.as_ref());
    }
    signer
        .finish()
        .into_iter()
        .filter_map(|s| Some(s.step(events.get(s.index)?)))
        .collect()
}

impl Sig {
    /// The step of this signature, given its event.
    pub fn step<'a>(&self, event: &'a EventRow) -> Step<'a> {
        Step {
            index: self.index,
            event,
            tool: self.tool.as_deref().map(str::to_string),
            key: self.key,
            kind: self.kind.to_string(),
        }
    }
}

impl Step<'_> {
    /// The normalized event: an object with `type`, the kept fields, and `tool` for results.
    pub fn detail(&self) -> Value {
        let raw = serde_json::from_str(&self.event.raw).unwrap_or(Value::Null);
        normalize(&self.event.event_type, raw, self.tool.as_deref())
    }
}

/// `name`, prefixed by `mcp_server_name.` for MCP tools.
fn tool_name(raw: &Value) -> Option<String> {
    let name = raw.get("name")?.as_str()?;
    Some(match raw.get("mcp_server_name").and_then(Value::as_str) {
        Some(server) => format!("{server}.{name}"),
        None => name.to_string(),
    })
}

/// The first 128 bits of the SHA-256 of `text`.
fn digest(text: &str) -> u128 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(text.as_bytes());
    let mut first = [0u8; 16];
    first.copy_from_slice(&d[..16]);
    u128::from_be_bytes(first)
}

fn volatile(key: &str) -> bool {
    matches!(key, "id" | "processed_at" | "model_usage" | "usage")
        || key.ends_with("_id")
        || key.ends_with("_ids")
}

/// The normalized form of one event (see the module docs), keys sorted.
pub fn normalize(event_type: &str, raw: Value, tool: Option<&str>) -> Value {
    let mut fields = match raw {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    fields.retain(|k, v| !volatile(k) && !v.is_null());
    fields.insert("type".into(), Value::String(event_type.to_string()));
    if let Some(Value::Object(stop)) = fields.get_mut("stop_reason") {
        stop.remove("event_ids");
        // The older documented shape nests them (§3.1).
        stop.remove("requires_action");
    }
    if TOOL_RESULTS.contains(&event_type) {
        fields.entry("is_error").or_insert(Value::Bool(false));
        if let Some(t) = tool {
            fields.insert("tool".into(), Value::String(t.to_string()));
        }
    }
    let is_message = event_type.ends_with("message")
        || event_type.ends_with("message_sent")
        || event_type.ends_with("message_received");
    if is_message && let Some(text) = fields.get("content").and_then(all_text) {
        fields.remove("content");
        fields.insert("text".into(), Value::String(text));
    }
    sorted(Value::Object(fields))
}

/// The blocks' texts joined by newlines, when every block is a text block.
fn all_text(content: &Value) -> Option<String> {
    let blocks = content.as_array()?;
    let mut texts = Vec::with_capacity(blocks.len());
    for b in blocks {
        if b.get("type").and_then(Value::as_str) != Some("text") {
            return None;
        }
        texts.push(b.get("text")?.as_str()?);
    }
    Some(texts.join("\n"))
}

/// `v` with every object's keys in sorted order, so that its text is canonical whether or not
/// serde_json preserves insertion order.
fn sorted(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut pairs: Vec<(String, Value)> = m.into_iter().collect();
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(pairs.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sorted).collect()),
        other => other,
    }
}
