//! The rules a verdict decides: a blocking event waiting past `stuck_after`, a running session
//! silent past `silent_after`, and the idles that end a turn badly.

use super::{Hit, Rule, Thresholds};
use crate::analysis::explain::{Explanation, Verdict};
use crate::model::time::parse_timestamp_micros;

/// The hits of the rules an explanation decides: `requires_action` past `stuck_after` (one per
/// unanswered blocking event), a silent running session, `retries_exhausted`, `budget_reached`
/// and `refusal`. `x` must be an explanation of the end of the recording at `now` (µs), made
/// with `stuck_after` = `th.silent_after_us` (what makes a running session `stalled`). A blocking
/// event has waited from its time (else the first idle naming it) to `now`.
pub fn from_explanation(x: &Explanation, now: i64, th: &Thresholds) -> Vec<Hit> {
    let hit = |rule: Rule, event_id: Option<String>, at: Option<String>, unblock| Hit {
        session_id: x.session_id.clone(),
        rule,
        event_id,
        at,
        summary: x.summary.clone(),
        unblock,
    };
    let last = || {
        x.last_event
            .as_ref()
            .map(|m| (m.event_id.clone(), m.at.clone()))
    };
    let mut hits = Vec::new();
    match x.verdict {
        Verdict::RequiresAction => {
            for b in x.blocking.iter().filter(|b| !b.resolved) {
                let since = b.waiting_since.as_deref().and_then(parse_timestamp_micros);
                if since.is_none_or(|t| now - t <= th.stuck_after_us) {
                    continue;
                }
                let unblock = b.unblock.first().cloned();
                hits.push(hit(
                    Rule::RequiresAction,
                    Some(b.event_id.clone()),
                    b.waiting_since.clone(),
                    unblock,
                ));
            }
        }
        Verdict::Stalled if x.silent_ms.is_some_and(|ms| ms * 1000 > th.silent_after_us) => {
            let (id, at) = last().unzip();
            hits.push(hit(Rule::RunningSilent, id, at.flatten(), None));
        }
        Verdict::RetriesExhausted | Verdict::BudgetReached | Verdict::Refusal => {
            let rule = match x.verdict {
                Verdict::RetriesExhausted => Rule::RetriesExhausted,
                Verdict::BudgetReached => Rule::BudgetReached,
                _ => Rule::Refusal,
            };
            let unblock = x.requests.first().cloned();
            let (id, at) = last().unzip();
            hits.push(hit(rule, id, at.flatten(), unblock));
        }
        _ => {}
    }
    hits
}
