//! The objects nested inside events: stop reasons, errors, content blocks, usage, evaluations.
//!
//! Every discriminator is an open set: an unknown `type` string is kept as `Other(text)`, and
//! unknown fields land in `extra`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// Declares an enum over a set of known strings plus `Other(String)` for anything else.
macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($var:ident = $s:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name { $($var,)* Other(String) }

        impl $name {
            pub fn as_str(&self) -> &str {
                match self { $(Self::$var => $s,)* Self::Other(s) => s }
            }
            pub fn is_known(&self) -> bool { !matches!(self, Self::Other(_)) }
        }
        impl From<String> for $name {
            fn from(s: String) -> Self {
                match s.as_str() { $($s => Self::$var,)* _ => Self::Other(s) }
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d).map(Self::from)
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum!(
    /// `stop_reason.type` on idle events (§3).
    StopReasonType {
        EndTurn = "end_turn",
        RequiresAction = "requires_action",
        RetriesExhausted = "retries_exhausted",
        BudgetReached = "budget_reached",
        Refusal = "refusal",
    }
);

string_enum!(
    /// `retry_status.type` on session errors (§4).
    RetryStatusType { Retrying = "retrying", Exhausted = "exhausted", Terminal = "terminal" }
);

string_enum!(
    /// `error.type` on `session.error` (§4; 15 in SDK 2.12.0).
    SessionErrorType {
        Unknown = "unknown_error",
        ModelOverloaded = "model_overloaded_error",
        ModelRateLimited = "model_rate_limited_error",
        ModelRequestFailed = "model_request_failed_error",
        McpConnectionFailed = "mcp_connection_failed_error",
        McpAuthenticationFailed = "mcp_authentication_failed_error",
        Billing = "billing_error",
        CredentialHostUnreachable = "credential_host_unreachable_error",
        ToolUseLimitReached = "tool_use_limit_reached_error",
        CompactionLimitReached = "compaction_limit_reached_error",
        RepositoryAuthentication = "repository_authentication_error",
        RepositoryForbidden = "repository_forbidden_error",
        RepositoryNotFound = "repository_not_found_error",
        RepositoryCheckout = "repository_checkout_error",
        RepositoryClone = "repository_clone_error",
    }
);

string_enum!(
    /// `error.type` on workflow-run errors (§2.4).
    WorkflowRunErrorType {
        Timeout = "timeout_error",
        Program = "program_error",
        ThreadLimit = "thread_limit_error",
        MaxWorkflowRuns = "max_workflow_runs_error",
        Unknown = "unknown_error",
    }
);

string_enum!(
    /// `result.type` on `workflow_run.status_ended`.
    WorkflowRunResultType { Completed = "completed", Stopped = "stopped", Error = "error" }
);

string_enum!(
    /// Content block `type` (§7).
    BlockType {
        Text = "text",
        Image = "image",
        Document = "document",
        SearchResult = "search_result",
        Redacted = "redacted",
    }
);

string_enum!(
    /// `evaluated_permission` on tool uses, and the verdict inside an `auto` evaluation.
    Permission { Allow = "allow", Ask = "ask", Deny = "deny" }
);

string_enum!(
    /// `evaluation.type` on tool uses (SDK 2.12.0).
    EvaluationType { AlwaysAllow = "always_allow", AlwaysAsk = "always_ask", Auto = "auto" }
);

string_enum!(
    /// `result` on `user.tool_confirmation`.
    ConfirmationResult { Allow = "allow", Deny = "deny" }
);

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
/// `event_ids` sits beside `type`; an earlier version of the events page documented it one level
/// deeper, under `requires_action` (kept in `extra`): read both with [`StopReason::blocking_ids`].
pub struct StopReason {
    #[serde(rename = "type")]
    pub kind: StopReasonType,
    /// The blocking events' ids (`requires_action` only).
    #[serde(default)]
    pub event_ids: Vec<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl StopReason {
    /// The blocking events' ids, from either documented shape (§3.1).
    pub fn blocking_ids(&self) -> Vec<&str> {
        if !self.event_ids.is_empty() {
            return self.event_ids.iter().map(String::as_str).collect();
        }
        self.extra
            .get("requires_action")
            .and_then(|r| r.get("event_ids"))
            .and_then(Value::as_array)
            .map(|ids| ids.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct RetryStatus {
    #[serde(rename = "type")]
    pub kind: RetryStatusType,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct SessionError {
    #[serde(rename = "type")]
    pub kind: SessionErrorType,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub retry_status: Option<RetryStatus>,
    #[serde(default)]
    pub mcp_server_name: Option<String>,
    #[serde(default)]
    pub credential_id: Option<String>,
    #[serde(default)]
    pub vault_id: Option<String>,
    #[serde(default)]
    pub repository_url: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct WorkflowRunError {
    #[serde(rename = "type")]
    pub kind: WorkflowRunErrorType,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct WorkflowRunResult {
    #[serde(rename = "type")]
    pub kind: WorkflowRunResultType,
    #[serde(default)]
    pub error: Option<WorkflowRunError>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct WorkflowPhase {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ContentBlock {
    #[serde(rename = "type")]
    pub kind: BlockType,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    /// `source` of image/document blocks (an object) or search results (a URL string).
    #[serde(default)]
    pub source: Option<Value>,
    /// Nested text blocks of a search result.
    #[serde(default)]
    pub content: Option<Vec<ContentBlock>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct AutoVerdict {
    #[serde(rename = "type")]
    pub kind: Permission,
    #[serde(default)]
    pub reason_code: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Evaluation {
    #[serde(rename = "type")]
    pub kind: EvaluationType,
    /// Present on `auto` evaluations: what the server decided, and why.
    #[serde(default)]
    pub evaluated_permission: Option<AutoVerdict>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `model_usage` on `span.model_request_end`, and `usage` on `span.outcome_evaluation_end`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct ModelUsage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub cache_creation_input_tokens: u64,
    #[serde(default)]
    pub cache_read_input_tokens: u64,
    #[serde(default)]
    pub speed: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Money {
    /// An integer in the currency's minor units, as a string: `"2500"` is $25.00.
    pub amount: String,
    pub currency: String,
}

impl Money {
    /// `$18.73` for `{"amount":"1873","currency":"USD"}`; the raw figures otherwise.
    pub fn display(&self) -> String {
        match (self.currency.as_str(), self.amount.parse::<i64>()) {
            ("USD", Ok(cents)) => format!("${}.{:02}", cents / 100, (cents % 100).abs()),
            _ => format!("{} {} (minor units)", self.amount, self.currency),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Budget {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub max_list_cost: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct CacheCreation {
    #[serde(default)]
    pub ephemeral_5m_input_tokens: Option<u64>,
    #[serde(default)]
    pub ephemeral_1h_input_tokens: Option<u64>,
}

/// `usage` on `session.usage` and the session object: every field optional.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct SessionUsage {
    #[serde(default)]
    pub input_tokens: Option<u64>,
    #[serde(default)]
    pub output_tokens: Option<u64>,
    #[serde(default)]
    pub cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    pub cache_creation: Option<CacheCreation>,
    #[serde(default)]
    pub active_seconds: Option<f64>,
    #[serde(default)]
    pub list_cost: Option<Money>,
    #[serde(default)]
    pub server_tool_use: Option<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A field where absent and `null` mean different things (`session.updated`'s `budget`).
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Presence<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Presence<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(d)? {
            None => Presence::Null,
            Some(v) => Presence::Value(v),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct PreviewTarget {
    #[serde(rename = "type")]
    pub event_type: String,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct PreviewDelta {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub content: Option<ContentBlock>,
    /// Position in the final event's `content[]`; a missing index means 0.
    #[serde(default)]
    pub index: Option<u32>,
}

/// The text of a content array, one line per block: text as is, other blocks as `[kind]`.
pub fn blocks_text(blocks: &[ContentBlock]) -> String {
    let mut out = String::new();
    for b in blocks {
        if !out.is_empty() {
            out.push('\n');
        }
        match (&b.kind, &b.text) {
            (BlockType::Text, Some(t)) => out.push_str(t),
            (BlockType::SearchResult, _) => {
                out.push_str("[search result");
                if let Some(t) = &b.title {
                    out.push_str(": ");
                    out.push_str(t);
                }
                out.push(']');
            }
            (BlockType::Document, _) if b.title.is_some() => {
                out.push_str(&format!(
                    "[document: {}]",
                    b.title.as_deref().unwrap_or_default()
                ));
            }
            (kind, _) => out.push_str(&format!("[{kind}]")),
        }
    }
    out
}
