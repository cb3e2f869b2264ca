//! A session as a sequence of comparable steps: one per event, each with a normalized form that
//! leaves out what differs between two runs of the same behaviour (ids, times, token usage).
//!
//! The rules, in order:
//! - **Skipped events:** `session.usage` (periodic snapshots whose number depends on timing; the
//!   token totals are compared as deltas instead), preview frames, and a second copy of an event
//!   (the same event on a thread's stream and the session's, at the same time: the stream-copy rule
//!   of every fold, [`crate::analysis::spans::StreamCopies`]).
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

use rustc_hash::FxHashMap;
use serde_json::{Map, Value};
use std::sync::{Arc, Mutex, PoisonError};

use crate::analysis::seen::id_hash;
use crate::analysis::spans::StreamCopies;
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
    /// The SHA-256 (first 64 bits) of the normalized event ([`Step::detail`]) as canonical
    /// JSON: equal keys mean equal steps. A digest, not the text, so that a step costs a few
    /// bytes however large its event.
    pub key: u64,
    /// Type and tool: equal kinds of step whose details may differ.
    pub kind: String,
}

/// A step without its event: what aligning two sessions needs, 16 bytes however large the
/// event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sig {
    /// As [`Step::key`].
    pub key: u64,
    /// Position of the event in the session's events (session order, 0-based).
    pub index: u32,
    /// As [`Step::kind`]: its number in [`Sigs::kinds`], or in the [`SharedKinds`] its signer
    /// shares.
    pub kind: u32,
}

/// A session's steps as signatures, in session order, and the kinds of step they name (each
/// once). A step's tool is in its kind (`agent.tool_use bash`): a step keeps no text of its own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sigs {
    pub steps: Vec<Sig>,
    pub kinds: Vec<Box<str>>,
}

impl Sigs {
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub fn get(&self, i: usize) -> Option<&Sig> {
        self.steps.get(i)
    }

    /// Step `i`, given its event; `None` when there is no such step.
    pub fn step<'a>(&self, i: usize, event: &'a EventRow) -> Option<Step<'a>> {
        Some(step_of(self.get(i)?, &self.kinds, event))
    }
}

/// The step a signature stands for, given its event and the names of the kinds its `kind`
/// numbers.
pub fn step_of<'a>(s: &Sig, kinds: &[Box<str>], event: &'a EventRow) -> Step<'a> {
    let kind = kinds.get(s.kind as usize).map_or("", |k| k);
    // A kind is the event's type, then the tool after a space when there is one.
    let tool = kind
        .strip_prefix(event.event_type.as_str())
        .and_then(|t| t.strip_prefix(' '))
        .map(str::to_string);
    Step {
        index: s.index as usize,
        event,
        tool,
        key: s.key,
        kind: kind.to_string(),
    }
}

/// The kinds of step, numbered: shared by two signers, their signatures' kinds compare by
/// number. Cheap to clone (one table).
#[derive(Clone, Default)]
pub struct SharedKinds(Arc<Mutex<KindTable>>);

#[derive(Default)]
struct KindTable {
    ids: FxHashMap<Box<str>, u32>,
    names: Vec<Box<str>>,
}

impl SharedKinds {
    /// The number of `kind`, given the first time it is asked for.
    pub fn number(&self, kind: &str) -> u32 {
        let mut t = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(&n) = t.ids.get(kind) {
            return n;
        }
        let n = t.names.len() as u32;
        t.names.push(kind.into());
        t.ids.insert(kind.into(), n);
        n
    }

    /// The kinds by number.
    pub fn names(&self) -> Vec<Box<str>> {
        let t = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        t.names.clone()
    }
}

/// Turns a session's events, fed one at a time in session order, into step signatures.
#[derive(Default)]
pub struct Signer {
    sigs: Sigs,
    /// Events fed so far.
    events: usize,
    /// The ids seen at the current time (a second copy is not a step): nothing kept per event.
    copies: StreamCopies,
    /// Tool names (numbers in `tool_names`) by the hash of the id of the event that used them,
    /// until a result answers it (so that only calls still open are kept).
    tools: FxHashMap<u64, u32>,
    tool_names: Vec<String>,
    /// The kinds' numbers, kept here once asked for in `kinds`.
    kind_ids: FxHashMap<String, u32>,
    kinds: SharedKinds,
    tool_ids: FxHashMap<String, u32>,
}

impl Signer {
    /// A signer that numbers kinds in `kinds`, alike with every other signer sharing it. Its
    /// signatures are meant to be taken as they come ([`Signer::take_steps`]).
    pub fn sharing(kinds: &SharedKinds) -> Signer {
        Signer {
            kinds: kinds.clone(),
            ..Signer::default()
        }
    }

    pub fn push(&mut self, e: &EventRef<'_>) {
        let index = self.events;
        self.events += 1;
        let ty = e.event_type;
        if SKIPPED_TYPES.contains(&ty) {
            return;
        }
        if self.copies.is_copy(e) {
            return;
        }
        let raw: Value = serde_json::from_str(e.raw).unwrap_or(Value::Null);
        let tool = if TOOL_USES.contains(&ty) {
            let name = tool_name(&raw).map(|n| self.tool_id(n));
            if let Some(n) = name {
                self.tools.insert(id_hash(e.event_id), n);
            }
            name
        } else if TOOL_RESULTS.contains(&ty) {
            // A call is answered once (another stream's copy of its result is not a step).
            e.link_id.and_then(|l| self.tools.remove(&id_hash(l)))
        } else {
            None
        };
        let tool = tool.and_then(|t| self.tool_names.get(t as usize));
        // Only a digest is kept: the text or a parsed tree per event would cost as much as the
        // events again.
        let key = digest(&normalize(ty, raw, tool.map(String::as_str)).to_string());
        let kind = match tool {
            Some(t) => format!("{ty} {t}"),
            None => ty.to_string(),
        };
        let shared = &self.kinds;
        let kind = *self
            .kind_ids
            .entry(kind)
            .or_insert_with_key(|k| shared.number(k));
        self.sigs.steps.push(Sig {
            key,
            index: u32::try_from(index).unwrap_or(u32::MAX),
            kind,
        });
    }

    /// The number of tool name `name`.
    fn tool_id(&mut self, name: String) -> u32 {
        let next = self.tool_names.len() as u32;
        *self.tool_ids.entry(name).or_insert_with_key(|n| {
            self.tool_names.push(n.clone());
            next
        })
    }

    /// How many events were fed.
    pub fn events(&self) -> usize {
        self.events
    }

    /// The signatures made since the last call, in session order.
    pub fn take_steps(&mut self) -> Vec<Sig> {
        std::mem::take(&mut self.sigs.steps)
    }

    /// How many signatures were made since [`Signer::take_steps`] was last called.
    pub fn pending(&self) -> usize {
        self.sigs.steps.len()
    }

    /// The signatures not taken, in session order, and the names of the kinds they number.
    pub fn finish(mut self) -> Sigs {
        self.sigs.steps.shrink_to_fit();
        self.sigs.kinds = self.kinds.names();
        self.sigs
    }
}

/// The comparable steps of `events` (a session's events in session order).
pub fn steps(events: &[EventRow]) -> Vec<Step<'_>> {
    let mut signer = Signer::default();
    for e in events {
        signer.push(&e.as_ref());
    }
    let sigs = signer.finish();
    (0..sigs.len())
        .filter_map(|i| sigs.step(i, events.get(sigs.get(i)?.index as usize)?))
        .collect()
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

/// The first 64 bits of the SHA-256 of `text`.
fn digest(text: &str) -> u64 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(text.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&d[..8]);
    u64::from_be_bytes(first)
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
