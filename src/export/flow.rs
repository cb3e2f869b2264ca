//! What the transcript formats (markdown and HTML) share: the session's facts, the events once
//! each in session order, the replies that belong to each tool call, and the explain verdict at
//! every session-level idle, all read from a [`SessionDoc`] alone.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::SessionDoc;
use crate::analysis::explain::{At, ExplainInput, Explanation, explain};
use crate::analysis::state::{StateBuilder, VERDICT_PREFIX_TYPES, idle_ends_turn};
use crate::model::time::{format_duration_micros, format_micros};
use crate::model::typed::Event;
use crate::store::{CaptureEntry, EventRow};

/// The facts a transcript opens with.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub id: String,
    pub title: Option<String>,
    pub status: String,
    pub stop_reason: Option<String>,
    pub started: Option<String>,
    pub ended: Option<String>,
    pub duration: Option<String>,
    pub events: usize,
    pub agent: Option<String>,
    pub model: Option<String>,
}

/// The session's facts; the agent and model come from the stored session object, else from the
/// newest `session.updated` that carried an agent.
pub fn facts(doc: &SessionDoc) -> Facts {
    let s = &doc.summary;
    let agent_of = |raw: &str| -> Option<Value> {
        serde_json::from_str::<Value>(raw)
            .ok()
            .and_then(|v| v.get("agent").filter(|a| a.is_object()).cloned())
    };
    let agent = doc
        .object
        .as_ref()
        .and_then(|o| agent_of(&o.raw))
        .or_else(|| {
            doc.events
                .iter()
                .rev()
                .filter(|e| e.event_type == "session.updated")
                .find_map(|e| agent_of(&e.raw))
        });
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let model = agent.as_ref().and_then(|a| match a.get("model") {
        Some(Value::String(m)) => Some(m.clone()),
        Some(m) => text(m.get("id")),
        None => None,
    });
    Facts {
        id: s.id.clone(),
        title: s.title.clone(),
        status: s.status.clone().unwrap_or_else(|| "unknown".into()),
        stop_reason: s.stop_reason.clone(),
        started: s.first_ts.map(format_micros),
        ended: s.last_ts.map(format_micros),
        duration: s
            .first_ts
            .zip(s.last_ts)
            .map(|(a, b)| format_duration_micros(b - a)),
        events: doc.events.len(),
        agent: agent.as_ref().and_then(|a| text(a.get("name"))),
        model,
    }
}

/// Indices of the events to show, once each: a copy of an event delivered by a second stream
/// (the same id at the same time: the stream-copy rule of every fold) is left out; a reused id at
/// another time (placeholder ids) is another event.
pub fn unique(doc: &SessionDoc) -> Vec<usize> {
    let mut copies = crate::analysis::spans::StreamCopies::default();
    (0..doc.events.len())
        .filter(|&i| !copies.is_copy(&doc.events[i].as_ref()))
        .collect()
}

/// The events that answer another (tool results, confirmations), by the id of the event they
/// answer, in session order.
pub fn replies(doc: &SessionDoc) -> HashMap<&str, Vec<usize>> {
    let mut out: HashMap<&str, Vec<usize>> = HashMap::new();
    for i in unique(doc) {
        let e = &doc.events[i];
        if is_reply(&e.event_type)
            && let Some(link) = e.link_id.as_deref().filter(|l| !l.is_empty())
        {
            out.entry(link).or_default().push(i);
        }
    }
    out
}

/// The types of the events that answer a tool call (tool results, confirmations).
pub const REPLY_TYPES: &[&str] = &[
    "agent.tool_result",
    "agent.mcp_tool_result",
    "user.custom_tool_result",
    "user.tool_result",
    "user.tool_confirmation",
];

/// Whether events of this type answer a tool call.
pub fn is_reply(event_type: &str) -> bool {
    REPLY_TYPES.contains(&event_type)
}

/// Whether events of this type are tool calls.
pub fn is_tool_use(event_type: &str) -> bool {
    matches!(
        event_type,
        "agent.tool_use" | "agent.mcp_tool_use" | "agent.custom_tool_use"
    )
}

/// The thread an event belongs to: the thread stream that delivered it, or the
/// `session_thread_id` of a copy cross-posted to the session's stream.
pub fn thread_of(e: &EventRow) -> Option<String> {
    if !e.thread_id.is_empty() {
        return Some(e.thread_id.clone());
    }
    if e.event_type.starts_with("agent.") {
        #[derive(serde::Deserialize)]
        struct T {
            session_thread_id: Option<String>,
        }
        return serde_json::from_str::<T>(&e.raw)
            .ok()
            .and_then(|t| t.session_thread_id)
            .filter(|t| !t.is_empty());
    }
    None
}

/// The explain verdict at every session-level `session.status_idle`, by event index: the
/// session as it stood at that idle, folded like `flightrec explain --at IDLE` (every event since
/// the second-newest turn-ending idle, and before it only the types that carry across turns).
pub fn idle_verdicts(doc: &SessionDoc, stuck_after: i64) -> BTreeMap<usize, Explanation> {
    let capture = doc.capture_report();
    let idles: Vec<usize> = unique(doc)
        .into_iter()
        .filter(|&i| {
            let e = &doc.events[i];
            e.event_type == "session.status_idle" && e.thread_id.is_empty() && e.ts.is_some()
        })
        .collect();
    let turn_ends: Vec<usize> = idles
        .iter()
        .copied()
        .filter(|&i| idle_ends_turn(&doc.events[i].raw))
        .collect();
    let prefix: Vec<usize> = (0..doc.events.len())
        .filter(|&i| VERDICT_PREFIX_TYPES.contains(&doc.events[i].event_type.as_str()))
        .collect();
    let mut out = BTreeMap::new();
    for &i in &idles {
        let idle = &doc.events[i];
        // Turn ends are in event order: those at or before this idle are a prefix of them.
        let n = turn_ends.partition_point(|&t| t <= i);
        let start = match n {
            n if n >= 2 => first_at_ts(&doc.events, turn_ends[n - 2]),
            _ => 0,
        };
        let budget = Event::parse(&idle.raw)
            .kind
            .stop_reason()
            .is_some_and(|s| s.kind.as_str() == "budget_reached");
        // The spend needs the full fold (the ledger), from the first event.
        let (mut b, start) = if budget {
            (StateBuilder::new(&doc.summary.id), 0)
        } else {
            (StateBuilder::for_verdict(&doc.summary.id), start)
        };
        for &p in prefix.iter().take_while(|&&p| p < start) {
            b.push(&doc.events[p].as_ref());
        }
        for e in doc.events[start..=i].iter().filter(|e| e.ts.is_some()) {
            b.push(&e.as_ref());
        }
        let state = b.finish(idle.ts);
        let at = At {
            event_id: Some(idle.event_id.clone()),
            time: idle.processed_at.clone(),
            ts: idle.ts,
        };
        let x = explain(
            &state,
            &ExplainInput {
                session_id: &doc.summary.id,
                at: Some(at),
                capture: Some(&capture),
                now: idle.ts.unwrap_or_default(),
                stuck_after,
            },
        );
        out.insert(i, x);
    }
    out
}

/// The first index holding an event with the same time as `events[i]`.
fn first_at_ts(events: &[EventRow], i: usize) -> usize {
    let ts = events[i].ts;
    let mut j = i;
    while j > 0 && events[j - 1].ts == ts {
        j -= 1;
    }
    j
}

/// `+1.2s`: an event's offset from the first event of the session.
pub fn offset(doc: &SessionDoc, e: &EventRow) -> String {
    offset_from(doc.summary.first_ts, e)
}

/// `+1.2s`: an event's offset from `first_ts`, the session's first event (µs).
pub fn offset_from(first_ts: Option<i64>, e: &EventRow) -> String {
    match (first_ts, e.ts) {
        (Some(a), Some(b)) => format!("+{}", format_duration_micros(b - a)),
        _ => crate::model::time::untimed_label(e.processed_at.as_deref()),
    }
}

/// Nesting past this many levels is written compactly (no newline, no indent), so a deeply nested
/// text costs output proportional to its size instead of its depth squared.
pub const MAX_INDENT_DEPTH: usize = 16;

/// JSON text indented two spaces, keys in the order received (a `Value` would sort them), and
/// compact past [`MAX_INDENT_DEPTH`]; `None` when `raw` is not JSON. One pass with a depth counter
/// and no recursion (serde_json's validation of an ignored value is iterative too), so any depth
/// the importer accepts renders in memory proportional to the text.
pub fn pretty_json(raw: &str) -> Option<String> {
    serde_json::from_str::<serde::de::IgnoredAny>(raw).ok()?;
    let mut out = String::with_capacity(raw.len() * 2);
    let mut depth = 0usize;
    let (mut in_str, mut escaped) = (false, false);
    let mut chars = raw.trim().chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        if depth <= MAX_INDENT_DEPTH {
            out.push('\n');
            out.push_str(&"  ".repeat(depth));
        }
    };
    while let Some(c) = chars.next() {
        if in_str {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                while chars.peek().is_some_and(|n| n.is_whitespace()) {
                    chars.next();
                }
                if chars.peek().is_some_and(|&n| n == '}' || n == ']') {
                    continue;
                }
                depth += 1;
                newline(&mut out, depth);
            }
            '}' | ']' => {
                if !(out.ends_with('{') || out.ends_with('[')) {
                    // The opening bracket broke the line only when its content was shallow enough.
                    if depth <= MAX_INDENT_DEPTH {
                        newline(&mut out, depth.saturating_sub(1));
                    }
                    depth = depth.saturating_sub(1);
                }
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' if depth <= MAX_INDENT_DEPTH => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    Some(out)
}

/// The `name` of a tool call, read without building a `Value` (so at any nesting of its input).
pub fn tool_name(raw: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct N {
        name: Option<String>,
        mcp_server_name: Option<String>,
    }
    let n = serde_json::from_str::<N>(raw).ok()?;
    match (n.mcp_server_name, n.name) {
        (Some(server), Some(name)) => Some(format!("{server}/{name}")),
        (_, name) => name,
    }
}

/// The `input` of a tool call as received, indented.
pub fn tool_input(raw: &str) -> String {
    #[derive(serde::Deserialize)]
    struct I<'a> {
        #[serde(borrow)]
        input: Option<&'a serde_json::value::RawValue>,
    }
    serde_json::from_str::<I<'_>>(raw)
        .ok()
        .and_then(|i| i.input)
        .and_then(|r| pretty_json(r.get()))
        .unwrap_or_else(|| "null".into())
}

/// When `flightrec unblock` sent the event `event_id` (its capture-log entry, kind `unblock`).
pub fn sent_with_unblock(doc: &SessionDoc, event_id: &str) -> Option<String> {
    sent_with_unblock_in(&doc.capture, event_id)
}

/// When `flightrec unblock` sent the event `event_id`, from the session's capture log.
pub fn sent_with_unblock_in(capture: &[CaptureEntry], event_id: &str) -> Option<String> {
    use crate::model::capture::{UnblockDetail, kind, read};
    if event_id.is_empty() {
        return None;
    }
    capture
        .iter()
        .filter(|c| c.kind == kind::UNBLOCK)
        .find(|c| {
            let v: Value = c
                .detail
                .as_deref()
                .and_then(|d| serde_json::from_str(d).ok())
                .unwrap_or(Value::Null);
            read::<UnblockDetail>(&v)
                .echoed_ids
                .iter()
                .any(|i| i == event_id)
        })
        .map(|c| c.started_at.clone())
}

#[cfg(test)]
mod tests {
    use super::pretty_json;

    #[test]
    fn pretty_json_keeps_key_order_and_strings() {
        let raw = r#"{"z":1,"a":{"s":"x, y: {\"q\"}","e":[],"o":{}},"l":[1, 2]}"#;
        let want = "{\n  \"z\": 1,\n  \"a\": {\n    \"s\": \"x, y: {\\\"q\\\"}\",\n    \"e\": [],\n    \"o\": {}\n  },\n  \"l\": [\n    1,\n    2\n  ]\n}";
        assert_eq!(pretty_json(raw).as_deref(), Some(want));
        assert_eq!(pretty_json("not json"), None);
    }

    #[test]
    fn pretty_json_is_compact_past_the_indent_depth() {
        let n = super::MAX_INDENT_DEPTH;
        let deep = format!("{}1{}", "[".repeat(n + 3), "]".repeat(n + 3));
        let out = pretty_json(&deep).unwrap();
        // Each shallow level costs a line; the deeper ones sit on one line, as received.
        assert_eq!(out.lines().count(), 2 * n + 1, "{out}");
        assert!(out.contains(" [[[1]]]\n"), "{out}");
        assert_eq!(out.split_whitespace().collect::<String>(), deep);
        let wide = format!("{}{{\"k\":[1,2]}}{}", "[".repeat(n), "]".repeat(n));
        let out = pretty_json(&wide).unwrap();
        assert!(out.contains("{\"k\":[1,2]}"), "{out}");
    }
}
