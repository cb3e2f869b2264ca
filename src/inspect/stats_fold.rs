//! One session's statistics from its events: [`session_stats`] (`flightrec stats`, `diff`)
//! and [`StatsFold`], which folds them (and the rules' tool calls) from any scan of the session.

use super::owned;
use crate::analysis::spans::{SLIM_TYPES, SPAN_TYPES, SpanBuilder, SpanFields};
use crate::analysis::stats::{Accumulator, STATS_TYPES, StatsBuilder};
use crate::store::{EventRef, Result, SessionSummary, Store, TimelineQuery};

/// One session's statistics (`flightrec stats`, `diff`), from one scan of its span, error, update
/// and usage events.
///
/// The scan (SQLite) and the analysis (pairing spans) take about as long as each other on large
/// sessions, so they run on two threads: rows are copied out in batches and analysed while the
/// next batch is read.
pub fn session_stats(
    store: &Store,
    summary: &SessionSummary,
    requests: bool,
) -> Result<Accumulator> {
    Ok(scan_stats(store, summary, requests, false)?.0)
}

/// [`session_stats`] and, from the same scan, the session's completed tool calls, as
/// [`rule_cache::session_calls`] reads them for the whole session: what `import` keeps for
/// `stats` and for the rules, in one read of the events.
pub(crate) fn session_stats_and_calls(
    store: &Store,
    summary: &SessionSummary,
    requests: bool,
) -> Result<(Accumulator, Vec<(String, i64)>)> {
    scan_stats(store, summary, requests, true)
}

fn scan_stats(
    store: &Store,
    summary: &SessionSummary,
    requests: bool,
    calls: bool,
) -> Result<(Accumulator, Vec<(String, i64)>)> {
    let q = TimelineQuery {
        types: SPAN_TYPES
            .iter()
            .chain(STATS_TYPES)
            .map(|t| t.to_string())
            .collect(),
        slim_types: owned(SLIM_TYPES),
        ..TimelineQuery::default()
    };
    let fold = StatsFold::new(store, summary, requests, calls)?;
    let fold = store.scan_events_pipelined(&summary.id, &q, fold, |f, ev| f.push(ev))?;
    Ok(fold.finish())
}

/// A session's statistics and, when asked, its completed tool calls, folded from its events
/// as a scan lends them, in the session's order: what [`session_stats_and_calls`] computes.
/// It takes events of any type (and skips those the statistics do not read), so it can ride
/// on a scan of the whole session made for something else (`import`'s checkpoints).
pub(crate) struct StatsFold {
    b: StatsBuilder,
    /// Whether the rules' tool calls are read too (from the statistics' spans).
    calls: bool,
    end: Option<i64>,
}

impl StatsFold {
    pub(crate) fn new(
        store: &Store,
        summary: &SessionSummary,
        requests: bool,
        calls: bool,
    ) -> Result<StatsFold> {
        let agent = store.session_agent(&summary.id)?;
        let mut fold = StatsFold::detached(&summary.id, requests, calls);
        fold.b.set_agent(agent.as_deref());
        fold.end = summary.last_ts;
        Ok(fold)
    }

    /// A fold of session `session_id` before its agent and end are known (they are read only
    /// at the end: [`StatsFold::finish_for`]), for one that follows the session as it is
    /// written (`import`).
    pub(crate) fn detached(session_id: &str, requests: bool, calls: bool) -> StatsFold {
        let mut b = StatsBuilder::new(session_id, None);
        if requests {
            b = b.keep_requests();
        }
        if calls {
            b = b.read_calls();
        }
        StatsFold {
            b,
            calls,
            end: None,
        }
    }

    pub(crate) fn push(&mut self, ev: &EventRef<'_>) {
        self.push_read(ev, &SpanFields::of(ev))
    }

    /// [`StatsFold::push`] of an event whose span fields are read ([`SpanFields::of`] `ev`).
    pub(crate) fn push_read(&mut self, ev: &EventRef<'_>, f: &SpanFields<'_>) {
        if !SPAN_TYPES.contains(&ev.event_type) && !STATS_TYPES.contains(&ev.event_type) {
            return;
        }
        self.b.push_read(ev, f)
    }

    /// The statistics' span builder (see `checkpoints::Following::push_sharing`).
    pub(crate) fn spans(&self) -> &SpanBuilder {
        self.b.spans()
    }

    pub(crate) fn finish(self) -> (Accumulator, Vec<(String, i64)>) {
        match self.calls {
            true => self.b.finish_with_calls(self.end),
            false => (self.b.finish(self.end), Vec::new()),
        }
    }

    /// [`StatsFold::finish`] for the session whose stored object and summary are these.
    pub(crate) fn finish_for(
        self,
        store: &Store,
        summary: &SessionSummary,
    ) -> Result<(Accumulator, Vec<(String, i64)>)> {
        let agent = store.session_agent(&summary.id)?;
        Ok(self.finish_with(agent.as_deref(), summary.last_ts))
    }

    /// [`StatsFold::finish`] for the session whose stored object's `agent` and summary's end
    /// (`last_ts`) are these.
    pub(crate) fn finish_with(
        mut self,
        agent: Option<&str>,
        end: Option<i64>,
    ) -> (Accumulator, Vec<(String, i64)>) {
        self.b.set_agent(agent);
        self.end = end;
        self.finish()
    }
}
