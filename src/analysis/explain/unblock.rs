//! The exact requests that move a stuck session on, as a curl command and a Python SDK (2.12.0)
//! snippet: events sent with `POST /v1/sessions/{id}/events` (§1.7), and session updates with
//! `POST /v1/sessions/{id}`. Headers as §1.1; the key comes from `$ANTHROPIC_API_KEY`, never a
//! literal.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

const API: &str = "https://api.anthropic.com";
const VERSION: &str = "2026-10-21";
const BETA: &str = "managed-agents-2026-04-01";

/// A JSON value whose objects keep their keys in the order written (`type` first), so the
/// requests read like the reference's examples.
#[derive(Debug, Clone, PartialEq)]
pub enum J {
    Null,
    Bool(bool),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(&'static str, J)>),
}

impl J {
    pub fn s(text: impl Into<String>) -> J {
        J::Str(text.into())
    }

    /// The value of `key` in an object.
    pub fn get(&self, key: &str) -> Option<&J> {
        match self {
            J::Obj(fields) => fields.iter().find(|(k, _)| *k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Sets `key` in an object (replacing it in place, else appending); `None` removes it.
    pub fn set(&mut self, key: &'static str, value: Option<J>) {
        if let J::Obj(fields) = self {
            let at = fields.iter().position(|(k, _)| *k == key);
            match (at, value) {
                (Some(i), Some(v)) => fields[i].1 = v,
                (Some(i), None) => {
                    fields.remove(i);
                }
                (None, Some(v)) => fields.push((key, v)),
                (None, None) => {}
            }
        }
    }

    /// Compact JSON text.
    pub fn json(&self) -> String {
        match self {
            J::Null => "null".into(),
            J::Bool(b) => b.to_string(),
            J::Str(s) => quote(s),
            J::Arr(items) => format!(
                "[{}]",
                items.iter().map(J::json).collect::<Vec<_>>().join(",")
            ),
            J::Obj(fields) => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{}:{}", quote(k), v.json()))
                    .collect();
                format!("{{{}}}", parts.join(","))
            }
        }
    }

    /// A Python literal (JSON strings are valid Python strings).
    pub fn py(&self) -> String {
        match self {
            J::Null => "None".into(),
            J::Bool(true) => "True".into(),
            J::Bool(false) => "False".into(),
            J::Str(s) => quote(s),
            J::Arr(items) => format!(
                "[{}]",
                items.iter().map(J::py).collect::<Vec<_>>().join(", ")
            ),
            J::Obj(fields) => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{}: {}", quote(k), v.py()))
                    .collect();
                format!("{{{}}}", parts.join(", "))
            }
        }
    }
}

fn quote(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

impl Serialize for J {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        match self {
            J::Null => ser.serialize_unit(),
            J::Bool(b) => ser.serialize_bool(*b),
            J::Str(s) => ser.serialize_str(s),
            J::Arr(items) => {
                let mut seq = ser.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
            J::Obj(fields) => {
                let mut map = ser.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// One request, ready to paste.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unblock {
    /// `result`, `allow`, `deny`, `raise_budget`, `remove_budget`.
    pub action: String,
    /// What is sent: the user event, or the session update's body.
    pub body: J,
    pub curl: String,
    pub python: String,
    /// What must follow (a self-hosted tool, once allowed, needs its result).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub then: Option<String>,
}

const CLIENT: &str =
    "import anthropic\n\nclient = anthropic.Anthropic()  # reads ANTHROPIC_API_KEY\n";

/// `event` sent to the session's event endpoint.
pub fn send_event(session_id: &str, action: &str, event: J) -> Unblock {
    let body = J::Obj(vec![("events", J::Arr(vec![event.clone()]))]);
    let python = format!(
        "{CLIENT}client.beta.sessions.events.send(\n    {},\n    events=[{}],\n)",
        quote(session_id),
        event.py(),
    );
    Unblock {
        action: action.to_string(),
        curl: curl(&format!("{API}/v1/sessions/{session_id}/events"), &body),
        python,
        body: event,
        then: None,
    }
}

/// A session update that sets the budget to `budget` (`J::Null` removes it).
pub fn update_budget(session_id: &str, action: &str, budget: J) -> Unblock {
    let body = J::Obj(vec![("budget", budget.clone())]);
    let python = format!(
        "{CLIENT}client.beta.sessions.update(\n    {},\n    budget={},\n)",
        quote(session_id),
        budget.py(),
    );
    Unblock {
        action: action.to_string(),
        curl: curl(&format!("{API}/v1/sessions/{session_id}"), &body),
        python,
        body,
        then: None,
    }
}

/// `text` as one shell word: single-quoted, each `'` closed, escaped and reopened.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// `POST url` with `body` as a curl command, the key read from `$ANTHROPIC_API_KEY`.
pub fn curl(url: &str, body: &J) -> String {
    let data = shell_quote(&body.json());
    let url = shell_quote(url);
    format!(
        "curl -sS -X POST {url} \\\n  -H \"Authorization: Bearer $ANTHROPIC_API_KEY\" \\\n  -H \"anthropic-version: {VERSION}\" \\\n  -H \"anthropic-beta: {BETA}\" \\\n  -H \"content-type: application/json\" \\\n  -d {data}"
    )
}

/// The content of a text-only result: `[{"type":"text","text":…}]`.
pub fn text_content(text: impl Into<String>) -> J {
    J::Arr(vec![J::Obj(vec![
        ("type", J::s("text")),
        ("text", J::Str(text.into())),
    ])])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_custom_tool_result_request() {
        let event = J::Obj(vec![
            ("type", J::s("user.custom_tool_result")),
            ("custom_tool_use_id", J::s("sevt_9")),
            ("content", text_content("it's 13 °C")),
        ]);
        let u = send_event("sesn_1", "result", event);
        assert!(
            u.curl.starts_with(
                "curl -sS -X POST 'https://api.anthropic.com/v1/sessions/sesn_1/events'"
            )
        );
        assert!(u.curl.contains("Bearer $ANTHROPIC_API_KEY"));
        assert!(u.curl.contains("anthropic-version: 2026-10-21"));
        assert!(u.curl.contains("anthropic-beta: managed-agents-2026-04-01"));
        assert!(u.curl.contains(
            r#"-d '{"events":[{"type":"user.custom_tool_result","custom_tool_use_id":"sevt_9""#
        ));
        // A quote inside the body is closed, escaped and reopened for the shell.
        assert!(u.curl.contains(r"it'\''s 13"));
        assert!(u.python.contains(
            "client.beta.sessions.events.send(\n    \"sesn_1\",\n    events=[{\"type\": \"user.custom_tool_result\", "
        ));
        assert_eq!(
            serde_json::to_value(&u).unwrap()["body"]["type"],
            "user.custom_tool_result"
        );
    }

    #[test]
    fn every_interpolated_value_is_one_shell_word() {
        let u = send_event("sesn_x'; touch pwned; '", "result", J::s("it's"));
        assert!(
            u.curl.starts_with(
                r"curl -sS -X POST 'https://api.anthropic.com/v1/sessions/sesn_x'\''; touch pwned; '\''/events' "
            ),
            "{}",
            u.curl
        );
        assert_eq!(shell_quote("a'b"), r"'a'\''b'");
    }

    #[test]
    fn budget_updates_and_python_literals() {
        let u = update_budget("sesn_1", "remove_budget", J::Null);
        assert!(u.python.contains("budget=None"));
        assert!(
            u.curl
                .contains("'https://api.anthropic.com/v1/sessions/sesn_1' ")
        );
        assert!(u.curl.contains(r#"-d '{"budget":null}'"#));
        let mut j = J::Obj(vec![("a", J::Arr(vec![J::Null, J::s("x\"y")]))]);
        j.set("b", Some(J::Bool(true)));
        assert_eq!(j.py(), r#"{"a": [None, "x\"y"], "b": True}"#);
        assert_eq!(j.get("b"), Some(&J::Bool(true)));
        j.set("b", None);
        assert_eq!(j.py(), r#"{"a": [None, "x\"y"]}"#);
        assert_eq!(j.json(), r#"{"a":[null,"x\"y"]}"#);
    }
}
