//! The turn being read, and a finished one kept until the fold ends.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::{Kept, Turn};
use crate::analysis::explain::blocking::{Reply, ToolUse};
use crate::analysis::spans::{Span, SpanBuilder};

/// The turn being read: facts plus what resolving blocking events needs.
#[derive(Clone, Default, Serialize, Deserialize)]
pub(super) struct TurnBuilder {
    pub(super) facts: Turn,
    /// The newest user and agent message (excerpts are cut at the end).
    pub(super) last_user: Option<Kept>,
    pub(super) last_agent: Option<Kept>,
    pub(super) tool_uses: HashMap<String, ToolUse>,
    pub(super) replies: HashMap<String, Vec<Reply>>,
    pub(super) spans: SpanBuilder,
    /// Ids of the events that opened a span in this turn: only their closings go to `spans`.
    #[serde(serialize_with = "crate::analysis::checkpoint::sorted_set::serialize")]
    pub(super) opened: HashSet<String>,
    pub(super) evaluations: usize,
    pub(super) self_hosted: bool,
}

/// A finished turn, its messages still raw: excerpts are cut only for the turn that is kept.
#[derive(Clone, Serialize, Deserialize)]
pub(super) struct Finished {
    pub(super) facts: Turn,
    pub(super) last_user: Option<Kept>,
    pub(super) last_agent: Option<Kept>,
}

impl Finished {
    pub(super) fn turn(self) -> Turn {
        let mut facts = self.facts;
        facts.last_user_message = self.last_user.as_ref().map(Kept::message);
        facts.last_agent_message = self.last_agent.as_ref().map(Kept::message);
        facts
    }
}

impl TurnBuilder {
    pub(super) fn finish(self, end_ts: Option<i64>) -> (Finished, Vec<Span>) {
        let open = self
            .spans
            .finish(end_ts)
            .into_iter()
            .filter(|s| s.open)
            .collect();
        let finished = Finished {
            facts: self.facts,
            last_user: self.last_user,
            last_agent: self.last_agent,
        };
        (finished, open)
    }
}
