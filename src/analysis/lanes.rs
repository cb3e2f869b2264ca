//! The one span-kind → lane mapping of every timeline (the Perfetto trace, the HTML page's SVG,
//! the viewer). [`lane_of`] is the finest grouping any of them draws; each output merges some of
//! these lanes (the page draws permission waits with the tools, the trace puts tool calls on
//! their thread's track), and says so as data: a [`Grouping`] with one value per lane.

use crate::analysis::spans::SpanKind;

/// Where a span is drawn, in the order the lanes are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lane {
    /// A thread's busy stretch.
    Thread,
    /// Model requests.
    Model,
    /// Tool calls: built-in, MCP and custom.
    Tools,
    /// Waits for the user's permission.
    Permission,
    /// Outcome evaluations.
    Evaluation,
    /// Workflow runs and their phases.
    Workflow,
}

impl Lane {
    /// Every lane, in drawing order.
    pub const ALL: [Lane; 6] = [
        Lane::Thread,
        Lane::Model,
        Lane::Tools,
        Lane::Permission,
        Lane::Evaluation,
        Lane::Workflow,
    ];

    /// A short name for the lane (`model`, `tools`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Lane::Thread => "thread",
            Lane::Model => "model",
            Lane::Tools => "tools",
            Lane::Permission => "permission",
            Lane::Evaluation => "evaluation",
            Lane::Workflow => "workflow",
        }
    }
}

/// The lane a span of `kind` is drawn on.
pub fn lane_of(kind: SpanKind) -> Lane {
    match kind {
        SpanKind::Thread => Lane::Thread,
        SpanKind::ModelRequest => Lane::Model,
        SpanKind::Tool | SpanKind::McpTool | SpanKind::CustomTool => Lane::Tools,
        SpanKind::Permission => Lane::Permission,
        SpanKind::OutcomeEvaluation => Lane::Evaluation,
        SpanKind::WorkflowRun | SpanKind::WorkflowPhase => Lane::Workflow,
    }
}

/// An output's own lanes: the value it gives each of [`Lane`]s (lanes given the same value are
/// drawn together; `None` in a `Grouping<Option<_>>` leaves the lane out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grouping<T> {
    pub thread: T,
    pub model: T,
    pub tools: T,
    pub permission: T,
    pub evaluation: T,
    pub workflow: T,
}

impl<T> Grouping<T> {
    /// The output's value for `lane`.
    pub fn get(&self, lane: Lane) -> &T {
        match lane {
            Lane::Thread => &self.thread,
            Lane::Model => &self.model,
            Lane::Tools => &self.tools,
            Lane::Permission => &self.permission,
            Lane::Evaluation => &self.evaluation,
            Lane::Workflow => &self.workflow,
        }
    }

    /// The output's value for a span of `kind`.
    pub fn of(&self, kind: SpanKind) -> &T {
        self.get(lane_of(kind))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_lane_and_the_lanes_are_in_drawing_order() {
        let mut seen: Vec<Lane> = SpanKind::ALL.iter().map(|&k| lane_of(k)).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen, Lane::ALL);
        let names: Vec<_> = Lane::ALL.iter().map(|l| l.name()).collect();
        assert_eq!(
            names,
            [
                "thread",
                "model",
                "tools",
                "permission",
                "evaluation",
                "workflow"
            ]
        );
    }

    #[test]
    fn a_grouping_answers_for_a_kind_through_its_lane() {
        let g = Grouping {
            thread: 0,
            model: 1,
            tools: 2,
            permission: 2,
            evaluation: 3,
            workflow: 3,
        };
        assert_eq!(*g.of(SpanKind::CustomTool), 2);
        assert_eq!(*g.of(SpanKind::Permission), 2);
        assert_eq!(*g.of(SpanKind::WorkflowPhase), 3);
        assert_eq!(*g.of(SpanKind::ModelRequest), 1);
    }
}
