//! What a session is blocked on (§3.1): the events named by the `requires_action` idles since it
//! last entered running, each resolved to what it is, how long it has waited, whether a user
//! event answered it, and the request that would.
//!
//! Only session-level idles count. A partial answer re-emits the idle with the remaining ids, so
//! an id the newest idle no longer lists was answered; an id it still lists after a reply (a
//! self-hosted tool allowed but not yet run) was not. A call from a child thread that has since
//! terminated takes no reply.

use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

use super::unblock::{J, Unblock, send_event, text_content};
use crate::analysis::state::{Idle, Mark};
use crate::analysis::text::input_excerpt;
use crate::model::typed::{Event, EventKind};

/// How long input excerpts are, in characters.
const INPUT_CHARS: usize = 120;

/// A tool use of the turn, kept raw until it turns out to block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolUse {
    pub mark: Mark,
    pub raw: String,
}

/// A user reply linked to a tool use (`user.custom_tool_result`, `user.tool_confirmation`,
/// `user.tool_result`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    pub mark: Mark,
    /// `allow` / `deny` on confirmations.
    pub result: Option<String>,
    pub is_error: bool,
}

/// One blocking event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Blocking {
    pub event_id: String,
    /// Null when the event is not in the recording.
    #[serde(rename = "type")]
    pub event_type: Option<String>,
    /// The tool's name.
    pub name: Option<String>,
    pub mcp_server_name: Option<String>,
    /// The child thread that made the call (`session_thread_id`); null for the primary thread.
    pub thread_id: Option<String>,
    pub input_excerpt: Option<String>,
    pub evaluated_permission: Option<String>,
    /// The user event that answers it: `user.custom_tool_result`, `user.tool_confirmation` or
    /// `user.tool_result`.
    pub needs: String,
    /// Who answers it: `worker` (a self-hosted environment's own worker runs the tool and sends
    /// its `user.tool_result`), `person` (a confirmation), `client` (the application that
    /// handles the custom tool), or null when it is unknown.
    pub waiting_on: Option<&'static str>,
    /// The idles that named it, oldest first.
    pub named_by: Vec<String>,
    /// When it started waiting: the blocking event's time (else the first idle naming it).
    pub waiting_since: Option<String>,
    /// How long it waited: until its answer, or until the point / end of the recording.
    pub waited_ms: Option<i64>,
    /// For an unanswered event of a session still being recorded: how long it has waited until
    /// now (set by explain, which knows the clock and the capture).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waited_until_now_ms: Option<i64>,
    pub resolved: bool,
    pub resolved_by: Option<String>,
    pub resolved_by_type: Option<String>,
    pub resolved_at: Option<String>,
    /// `result`, `error result`, `allow`, `deny`, or `queued` (an answer sent but not yet
    /// processed: its `processed_at` is null).
    pub resolution: Option<String>,
    pub note: Option<String>,
    /// For an unresolved event that can be answered: the requests that would answer it.
    pub unblock: Vec<Unblock>,
}

pub struct BlockingInput<'a> {
    pub session_id: &'a str,
    /// `requires_action` idles since the session last entered running, oldest first.
    pub idles: &'a [Idle],
    pub tool_uses: &'a HashMap<String, ToolUse>,
    /// Replies by the id of the tool use they answer.
    pub replies: &'a HashMap<String, Vec<Reply>>,
    pub terminated_threads: &'a HashSet<&'a str>,
    /// `terminated` or `deleted` when the session is over.
    pub session_over: Option<&'a str>,
    /// A `user.tool_result` was seen this turn: the environment is self-hosted.
    pub self_hosted_hint: bool,
    pub end_ts: Option<i64>,
}

/// What a blocking event is, read from its raw text.
struct Call {
    event_type: String,
    name: Option<String>,
    server: Option<String>,
    thread: Option<String>,
    input: Option<String>,
    permission: Option<String>,
}

fn call(tool_use: &ToolUse) -> Call {
    let e = Event::parse(&tool_use.raw);
    let own = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    let mut c = Call {
        event_type: tool_use.mark.event_type.clone(),
        name: None,
        server: None,
        thread: None,
        input: None,
        permission: None,
    };
    match &e.kind {
        EventKind::AgentCustomToolUse {
            name,
            input,
            session_thread_id,
            ..
        } => {
            c.input = Some(input_excerpt(name, input, INPUT_CHARS));
            c.name = Some(name.clone());
            c.thread = own(session_thread_id);
        }
        EventKind::AgentToolUse {
            name,
            input,
            evaluated_permission,
            session_thread_id,
            ..
        } => {
            c.input = Some(input_excerpt(name, input, INPUT_CHARS));
            c.name = Some(name.clone());
            c.thread = own(session_thread_id);
            c.permission = evaluated_permission.as_ref().map(|p| p.to_string());
        }
        EventKind::AgentMcpToolUse {
            mcp_server_name,
            name,
            input,
            evaluated_permission,
            session_thread_id,
            ..
        } => {
            c.input = Some(input_excerpt(name, input, INPUT_CHARS));
            c.name = Some(name.clone());
            c.server = Some(mcp_server_name.clone());
            c.thread = own(session_thread_id);
            c.permission = evaluated_permission.as_ref().map(|p| p.to_string());
        }
        _ => {}
    }
    c
}

/// The blocking events, in the order the idles first named them.
pub fn resolve(input: &BlockingInput<'_>) -> Vec<Blocking> {
    let Some(newest) = input.idles.last() else {
        return Vec::new();
    };
    let mut ids: Vec<&str> = Vec::new();
    for idle in input.idles {
        for id in &idle.event_ids {
            if !ids.contains(&id.as_str()) {
                ids.push(id);
            }
        }
    }
    ids.into_iter().map(|id| one(input, newest, id)).collect()
}

fn one(input: &BlockingInput<'_>, newest: &Idle, id: &str) -> Blocking {
    let named_by: Vec<&Idle> = input
        .idles
        .iter()
        .filter(|i| i.event_ids.iter().any(|e| e == id))
        .collect();
    let first_idle = named_by.first().map(|i| &i.mark);
    let use_ = input.tool_uses.get(id);
    let c = use_.map(call);
    let event_type = c.as_ref().map(|c| c.event_type.as_str());
    let permission = c.as_ref().and_then(|c| c.permission.as_deref());
    // A built-in tool that blocks without asking runs on the client: a self-hosted environment.
    let self_hosted = event_type == Some("agent.tool_use")
        && (permission != Some("ask") || input.self_hosted_hint);
    let replies: &[Reply] = input.replies.get(id).map(Vec::as_slice).unwrap_or_default();
    let tool_result = replies
        .iter()
        .find(|r| r.mark.event_type == "user.tool_result");
    let confirmation = replies
        .iter()
        .rev()
        .find(|r| r.mark.event_type == "user.tool_confirmation");
    let custom = replies
        .iter()
        .find(|r| r.mark.event_type == "user.custom_tool_result");
    let allowed_awaiting_result = self_hosted
        && tool_result.is_none()
        && confirmation.is_some_and(|r| r.result.as_deref() == Some("allow"));
    let needs = match event_type {
        Some("agent.custom_tool_use") => "user.custom_tool_result",
        Some("agent.tool_use")
            if self_hosted && (permission != Some("ask") || allowed_awaiting_result) =>
        {
            "user.tool_result"
        }
        Some("agent.tool_use" | "agent.mcp_tool_use") => "user.tool_confirmation",
        _ => "a reply",
    };
    let answer: Option<(&Reply, &str)> = match event_type {
        Some("agent.custom_tool_use") => {
            custom.map(|r| (r, if r.is_error { "error result" } else { "result" }))
        }
        Some("agent.tool_use" | "agent.mcp_tool_use") => {
            if let Some(r) = tool_result {
                Some((r, if r.is_error { "error result" } else { "result" }))
            } else {
                match confirmation {
                    Some(r) if r.result.as_deref() == Some("deny") => Some((r, "deny")),
                    Some(r) if r.result.as_deref() == Some("allow") && !self_hosted => {
                        Some((r, "allow"))
                    }
                    _ => None,
                }
            }
        }
        _ => replies.first().map(|r| (r, "reply")),
    };
    // An answer still queued (processed_at null) is on its way; one whose processed_at is not a
    // timestamp was processed at an unknown time: it is neither queued nor ordered.
    let answer = answer.map(|(r, how)| match (&r.mark.at, r.mark.ts) {
        (None, _) => (r, "queued"),
        _ => (r, how),
    });
    let invalid_time = answer.and_then(|(r, _)| {
        r.mark
            .at
            .as_deref()
            .filter(|_| r.mark.ts.is_none())
            .map(|at| (r, at))
    });
    let listed_by_newest = newest.event_ids.iter().any(|e| e == id);
    let mut note: Option<String> = None;
    let mut resolved = answer.is_some();
    if let Some((r, _)) = answer
        && listed_by_newest
        && let Some(answered) = r.mark.ts
        && newest.mark.ts.is_some_and(|n| n > answered)
    {
        resolved = false;
        note = Some(format!(
            "the newest idle {} still lists it after {}",
            newest.mark.event_id, r.mark.event_id
        ));
    }
    if !resolved && !listed_by_newest {
        resolved = true;
        note = Some(format!(
            "the newest idle {} no longer lists it: it was answered, by an event not in the recording",
            newest.mark.event_id
        ));
    }
    if allowed_awaiting_result && !resolved {
        let by = confirmation
            .map(|r| r.mark.event_id.as_str())
            .unwrap_or_default();
        note = Some(format!(
            "allowed by {by}; on a self-hosted environment the client must now run the tool and send its user.tool_result"
        ));
    }
    let thread = c.as_ref().and_then(|c| c.thread.clone());
    let mut answerable = !resolved;
    if let Some(over) = input.session_over.filter(|_| !resolved) {
        answerable = false;
        note = Some(format!("the session is {over}: it takes no reply"));
    } else if let Some(t) = thread
        .as_deref()
        .filter(|t| input.terminated_threads.contains(t))
        && !resolved
    {
        answerable = false;
        note = Some(format!("its thread {t} has terminated: it takes no reply"));
    }
    if let Some((r, at)) = invalid_time.filter(|_| resolved) {
        note = Some(format!(
            "its answer {} has processed_at {at:?}, which is not a timestamp: when the server processed it is unknown",
            r.mark.event_id
        ));
    }
    if use_.is_none() {
        let missing = "the blocking event is not in the recording".to_string();
        note = Some(match note {
            Some(n) => format!("{missing}; {n}"),
            None => missing,
        });
    }
    let since = use_.map(|u| &u.mark).or(first_idle);
    let until = match answer.filter(|_| resolved) {
        Some((r, _)) if r.mark.ts.is_some() => r.mark.ts,
        _ => input.end_ts,
    };
    let waited_ms = match (since.and_then(|m| m.ts), until) {
        (Some(a), Some(b)) => Some((b - a).max(0) / 1000),
        _ => None,
    };
    let unblock = if answerable {
        unblock(
            input.session_id,
            id,
            needs,
            c.as_ref(),
            self_hosted && !allowed_awaiting_result,
        )
    } else {
        Vec::new()
    };
    let answer = answer.filter(|_| resolved);
    Blocking {
        event_id: id.to_string(),
        event_type: event_type.map(str::to_string),
        name: c.as_ref().and_then(|c| c.name.clone()),
        mcp_server_name: c.as_ref().and_then(|c| c.server.clone()),
        thread_id: thread,
        input_excerpt: c.as_ref().and_then(|c| c.input.clone()),
        evaluated_permission: permission.map(str::to_string),
        needs: needs.to_string(),
        waiting_on: match needs {
            "user.tool_result" => Some("worker"),
            "user.tool_confirmation" => Some("person"),
            "user.custom_tool_result" => Some("client"),
            _ => None,
        },
        named_by: named_by.iter().map(|i| i.mark.event_id.clone()).collect(),
        waiting_since: since.and_then(|m| m.at.clone()),
        waited_ms,
        waited_until_now_ms: None,
        resolved,
        resolved_by: answer.map(|(r, _)| r.mark.event_id.clone()),
        resolved_by_type: answer.map(|(r, _)| r.mark.event_type.clone()),
        resolved_at: answer.and_then(|(r, _)| r.mark.at.clone()),
        resolution: answer.map(|(_, how)| how.to_string()),
        note,
        unblock,
    }
}

/// The requests that answer `id`: a result for a custom tool (or a self-hosted one), allow or
/// deny for a confirmation.
fn unblock(
    session: &str,
    id: &str,
    needs: &str,
    c: Option<&Call>,
    self_hosted_ask: bool,
) -> Vec<Unblock> {
    let name = c.and_then(|c| c.name.as_deref()).unwrap_or("the tool");
    match needs {
        "user.custom_tool_result" => vec![send_event(
            session,
            "result",
            J::Obj(vec![
                ("type", J::s("user.custom_tool_result")),
                ("custom_tool_use_id", J::s(id)),
                ("content", text_content(format!("<result of {name}>"))),
            ]),
        )],
        "user.tool_result" => vec![send_event(
            session,
            "result",
            J::Obj(vec![
                ("type", J::s("user.tool_result")),
                ("tool_use_id", J::s(id)),
                ("content", text_content(format!("<output of {name}>"))),
            ]),
        )],
        "user.tool_confirmation" => {
            let confirm = |result: &str| {
                let mut fields = vec![
                    ("type", J::s("user.tool_confirmation")),
                    ("tool_use_id", J::s(id)),
                    ("result", J::s(result)),
                ];
                if result == "deny" {
                    fields.push(("deny_message", J::s("<why, for the model>")));
                }
                send_event(session, result, J::Obj(fields))
            };
            let mut allow = confirm("allow");
            if self_hosted_ask {
                allow.then = Some("then run the tool and send its user.tool_result".into());
            }
            vec![allow, confirm("deny")]
        }
        _ => Vec::new(),
    }
}
