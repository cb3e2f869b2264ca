//! What of a session is due for the live push, without I/O: the spans of its export that are
//! due (closed; the root at rest; open ones once it ended) and not yet acknowledged in that
//! form, and how they are cut into requests.

use std::collections::HashMap;

use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, Span as OtelSpan};
use prost::Message;

use crate::doc::SessionDoc;
use crate::export::otlp::otlp_request;

/// What of a session is due.
#[derive(Debug)]
pub struct Due {
    /// The resource its spans go under.
    pub resource: ResourceSpans,
    pub spans: Vec<OtelSpan>,
    /// The root is due but waits for the session to stay unchanged (`quiet`).
    pub root_held: bool,
}

/// The spans of `doc` that are due and differ from what was `pushed` (span id → digest).
/// Closed spans are due; the root once the session is at rest (idle with no workflow run open,
/// or ended) and `quiet`; open spans once it ended.
pub fn due_spans(doc: &SessionDoc, pushed: &HashMap<String, String>, quiet: bool) -> Due {
    let status = doc.summary.status.as_deref();
    let ended = matches!(status, Some("terminated" | "deleted"));
    let mut req = otlp_request(doc);
    let mut resource = req.resource_spans.swap_remove(0);
    let spans = resource
        .scope_spans
        .first_mut()
        .map(|s| std::mem::take(&mut s.spans))
        .unwrap_or_default();
    let run_open = spans.iter().any(|s| {
        open_attr(s) == Some(true) && str_attr(s, "flightrec.span.kind") == Some("workflow_run")
    });
    let at_rest = ended || (status == Some("idle") && !run_open);
    let changed = |s: &OtelSpan| pushed.get(&hex(&s.span_id)) != Some(&digest(s));
    let mut root_held = false;
    let mut due = Vec::new();
    for s in spans {
        let go = match open_attr(&s) {
            None => {
                // The root.
                let go = at_rest && changed(&s);
                root_held = go && !quiet;
                go && quiet
            }
            Some(open) => (!open || ended) && changed(&s),
        };
        if go {
            due.push(s);
        }
    }
    Due {
        resource,
        spans: due,
        root_held,
    }
}

fn str_attr<'a>(s: &'a OtelSpan, key: &str) -> Option<&'a str> {
    s.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| match &v.value {
            Some(Any::StringValue(s)) => Some(s.as_str()),
            _ => None,
        })
}

/// `flightrec.open` of a span; `None` for the root, which has none.
pub(super) fn open_attr(s: &OtelSpan) -> Option<bool> {
    s.attributes
        .iter()
        .find(|kv| kv.key == "flightrec.open")
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| match v.value {
            Some(Any::BoolValue(b)) => Some(b),
            _ => None,
        })
}

/// Splits the due spans into requests of at most `max` spans, a session's spans possibly
/// across several.
pub(super) fn batches(
    due: Vec<(ResourceSpans, Vec<OtelSpan>)>,
    max: usize,
) -> Vec<Vec<(ResourceSpans, Vec<OtelSpan>)>> {
    let mut out: Vec<Vec<(ResourceSpans, Vec<OtelSpan>)>> = Vec::new();
    let mut room = 0;
    for (resource, spans) in due {
        let mut spans = spans.into_iter().peekable();
        while spans.peek().is_some() {
            if room == 0 {
                out.push(Vec::new());
                room = max.max(1);
            }
            let part: Vec<OtelSpan> = spans.by_ref().take(room).collect();
            room -= part.len();
            if let Some(b) = out.last_mut() {
                b.push((resource.clone(), part));
            }
        }
    }
    out
}

/// The session a resource is for (`gen_ai.conversation.id`).
pub(super) fn session_of(r: &ResourceSpans) -> String {
    r.resource
        .as_ref()
        .and_then(|r| {
            r.attributes
                .iter()
                .find(|kv| kv.key == "gen_ai.conversation.id")
        })
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| match &v.value {
            Some(Any::StringValue(s)) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// FNV-1a (64 bits) of the span's protobuf encoding, as 16 hex digits.
pub(super) fn digest(s: &OtelSpan) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.encode_to_vec() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests;
