//! Spans handed over as soon as nothing can change them, each numbered by its place in the
//! order of opening events (the order [`SpanBuilder::finish`] gives): a fold over a session of
//! any length holds only the spans still open, and a writer puts the numbered spans back in
//! order (the trace exports sort them, spilling to disk past a budget).

use super::{Span, SpanBuilder};
use crate::store::EventRef;

/// A [`SpanBuilder`] that gives its spans away as they become final.
pub struct FinalSpans {
    builder: SpanBuilder,
    /// The number of each span the builder holds, in its order.
    numbers: Vec<u64>,
    /// The number of the next span to open.
    next: u64,
    /// How many spans the builder held after the last hand-over: the next waits until it holds
    /// twice as many, so a hand-over costs a constant per span.
    held: usize,
    /// Spans opened beyond that before a hand-over.
    slack: usize,
}

impl Default for FinalSpans {
    fn default() -> Self {
        FinalSpans {
            builder: SpanBuilder::default(),
            numbers: Vec::new(),
            next: 0,
            held: 0,
            slack: 64,
        }
    }
}

impl FinalSpans {
    /// Takes the next event in time order; hands `emit` the spans it made final.
    pub fn push<E>(
        &mut self,
        row: &EventRef<'_>,
        emit: &mut impl FnMut(u64, Span) -> Result<(), E>,
    ) -> Result<(), E> {
        self.builder.push(row);
        let n = self.builder.len();
        let opened = n.saturating_sub(self.numbers.len()) as u64;
        self.numbers.extend(self.next..self.next + opened);
        self.next += opened;
        if n < 2 * self.held + self.slack {
            return Ok(());
        }
        let mut taken = self.builder.take_final().into_iter().peekable();
        let numbers = std::mem::take(&mut self.numbers);
        self.numbers.reserve(self.builder.len());
        for (i, number) in numbers.into_iter().enumerate() {
            match taken.next_if(|(at, _)| *at == i) {
                Some((_, span)) => emit(number, span)?,
                None => self.numbers.push(number),
            }
        }
        self.held = self.numbers.len();
        Ok(())
    }

    /// The spans held: open, or closed since the last hand-over.
    pub fn held(&self) -> impl Iterator<Item = &Span> {
        self.builder.spans.iter()
    }

    /// Hands `emit` the spans still held, open ones aged at `end_ts` (µs).
    pub fn finish<E>(
        self,
        end_ts: Option<i64>,
        emit: &mut impl FnMut(u64, Span) -> Result<(), E>,
    ) -> Result<(), E> {
        let spans = self.builder.finish(end_ts);
        for (number, span) in self.numbers.into_iter().zip(spans) {
            emit(number, span)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::spans::spans;
    use crate::analysis::testing::rows;
    use crate::store::{EventRow, TimelineQuery};

    /// The spans of `events` handed over after every event, put back in order.
    fn streamed(events: &[EventRow], end: Option<i64>) -> Vec<Span> {
        let mut got: Vec<(u64, Span)> = Vec::new();
        let mut f = FinalSpans {
            slack: 0,
            ..FinalSpans::default()
        };
        let mut emit = |n, s| {
            got.push((n, s));
            Ok::<(), ()>(())
        };
        for e in events {
            f.push(&e.as_ref(), &mut emit).unwrap();
            // Hand over as often as possible, to find a span given away too early.
            f.held = 0;
        }
        f.finish(end, &mut emit).unwrap();
        got.sort_by_key(|(n, _)| *n);
        let numbers: Vec<u64> = got.iter().map(|(n, _)| *n).collect();
        assert_eq!(numbers, (0..got.len() as u64).collect::<Vec<_>>());
        got.into_iter().map(|(_, s)| s).collect()
    }

    #[test]
    fn the_spans_handed_over_put_in_order_are_the_spans_of_the_whole_fold_on_every_sample() {
        let (_dir, store) = crate::export::streaming_tests::every_sample();
        let mut compared = 0;
        for summary in store.sessions().unwrap() {
            let events = store
                .events(&summary.id, &TimelineQuery::default())
                .unwrap();
            let want = spans(&events, summary.last_ts);
            assert_eq!(streamed(&events, summary.last_ts), want, "{}", summary.id);
            compared += want.len();
        }
        assert!(compared > 100, "{compared}");
    }

    #[test]
    fn a_call_denied_at_its_start_waits_for_its_late_result_and_evaluations_for_late_marks() {
        let events = rows(
            r#"{"type":"agent.tool_use","id":"t1","name":"bash","evaluated_permission":"deny","processed_at":"2026-08-07T09:00:00Z"}
{"type":"span.outcome_evaluation_start","id":"o1","outcome_id":"out","iteration":0,"processed_at":"2026-08-07T09:00:01Z"}
{"type":"span.model_request_start","id":"m1","processed_at":"2026-08-07T09:00:02Z"}
{"type":"span.model_request_end","id":"m1e","model_request_start_id":"m1","processed_at":"2026-08-07T09:00:03Z"}
{"type":"span.outcome_evaluation_end","id":"o1e","outcome_evaluation_start_id":"o1","result":"satisfied","processed_at":"2026-08-07T09:00:04Z"}
{"type":"span.outcome_evaluation_ongoing","id":"o1g","outcome_id":"out","iteration":0,"processed_at":"2026-08-07T09:00:05Z"}
{"type":"agent.tool_result","id":"t1r","tool_use_id":"t1","is_error":true,"processed_at":"2026-08-07T09:00:06Z"}"#,
        );
        let want = spans(&events, events.last().and_then(|e| e.ts));
        assert_eq!(want.len(), 3);
        assert!(
            want[1]
                .detail
                .as_deref()
                .unwrap_or("")
                .contains("1 ongoing"),
            "{want:?}"
        );
        assert_eq!(want[0].end_id.as_deref(), Some("t1r"));
        assert_eq!(streamed(&events, events.last().and_then(|e| e.ts)), want);
    }
}
