//! What the findings add to the end-state verdict: the outcome of the verdict's turn (its
//! result, iteration and the grader's explanation; an unmet one needs attention), and a warning
//! that the turn produced nothing when it did (so an empty turn never reads plain "ok").
//! Applied after [`explain`](crate::analysis::explain::explain), adding to what it decided.

use super::parse::clause;
use super::track::unmet_tail;
use super::{Code, Findings};
use crate::analysis::explain::{Evidence, Explanation};

/// Adds the findings to `x`, and what they change about its verdict.
pub fn attach(x: &mut Explanation, f: Findings) {
    let turn_over = x.state == "idle" && x.stop_reason.as_deref() != Some("requires_action");
    if let Some(o) = &f.outcome {
        let id = o.outcome_id.as_deref().unwrap_or("?");
        let sentence = match (o.met, o.result.as_deref()) {
            (Some(true), _) => format!(
                " Outcome {id} was satisfied at iteration {}.",
                o.iteration.unwrap_or(0)
            ),
            (Some(false), Some(_)) => format!(" Outcome {} (not met).", unmet_tail(o)),
            (Some(false), None) | (None, None) if turn_over => {
                format!(" Outcome {id} was never evaluated before the turn ended.")
            }
            (None, Some(r)) if turn_over => format!(
                " Outcome {id} was left at {r} (iteration {}) when the turn ended: {}.",
                o.iteration.unwrap_or(0),
                clause(o.explanation.as_deref(), "(no explanation)")
            ),
            (None, Some(r)) => format!(
                " Outcome {id} is being graded: {r} at iteration {}.",
                o.iteration.unwrap_or(0)
            ),
            _ => format!(" Outcome {id} has not been evaluated yet."),
        };
        x.summary.push_str(&sentence);
        let unmet = o.met == Some(false) || (turn_over && o.met.is_none());
        if unmet {
            x.attention = true;
            x.advice.push(format!(
                "The outcome was not met ({}). Read the grader's explanation, then send a user.message with what is missing, or define the outcome again with a clearer rubric or a higher max_iterations (up to 20).",
                o.result.as_deref().unwrap_or("never evaluated")
            ));
        }
        if let Some(id) = &o.evaluation_id {
            x.evidence.push(Evidence {
                event_id: id.clone(),
                event_type: "span.outcome_evaluation_end".into(),
                at: o.evaluated_at.clone(),
                note: format!(
                    "outcome {}: {} at iteration {}",
                    id_or(&o.outcome_id),
                    o.result.as_deref().unwrap_or("?"),
                    o.iteration.unwrap_or(0)
                ),
                ts: o.evaluated_ts,
            });
        }
    }
    let empty = f
        .findings
        .iter()
        .filter(|e| e.code == Code::EmptyTurn && e.turn == f.verdict_turn)
        .collect::<Vec<_>>();
    if turn_over && !empty.is_empty() {
        x.attention = true;
        for e in &empty {
            let ended_by = x.turn.as_ref().and_then(|t| t.ended_by.as_deref());
            let sentence = if e.event_id.is_some() && e.event_id.as_deref() == ended_by {
                format!(" But the turn produced nothing: {}.", e.message)
            } else {
                format!(" But {}.", e.message)
            };
            x.summary.push_str(&sentence);
        }
        x.advice.push(
            "The turn produced no answer: look at its model requests and tool results, then send the request again."
                .into(),
        );
    }
    x.evidence.sort_by_key(|e| e.ts.unwrap_or(i64::MAX));
    x.findings = f.findings;
    x.outcome = f.outcome;
}

fn id_or(id: &Option<String>) -> &str {
    id.as_deref().unwrap_or("?")
}
