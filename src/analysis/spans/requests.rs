//! Model requests paired only to be summed (the state's ledger): what [`SpanBuilder`](super::SpanBuilder) makes of
//! `span.model_request_start` and `span.model_request_end`, each request handed back as it
//! closes, without a span kept for each.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{SpanFields, StreamCopies};
use crate::model::typed::ModelUsage;
use crate::store::EventRef;

/// A model request that closed: what a sum of its span reads.
pub struct ClosedRequest {
    /// Its tokens (`speed` and the rest are left out).
    pub usage: ModelUsage,
    pub is_error: bool,
    /// Its start is not in the recording.
    pub partial: bool,
}

/// The pairing: the requests open, by opening id, each with whether its span is partial.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct RequestPairs {
    open: BTreeMap<String, bool>,
    copies: StreamCopies,
}

impl RequestPairs {
    /// Takes the next model request event in time order (other types are ignored); gives back
    /// the request it closed, if any. The rules are [`push_read`](super::SpanBuilder::push_read)'s: a stream's copy
    /// counts once, an end whose start is not open closes a partial request, and an end without
    /// a start id closes none.
    pub fn push(&mut self, row: &EventRef<'_>, f: &SpanFields<'_>) -> Option<ClosedRequest> {
        let start = match row.event_type {
            "span.model_request_start" => true,
            "span.model_request_end" => false,
            _ => return None,
        };
        if self.copies.is_copy(row) {
            return None;
        }
        if start {
            self.open.insert(row.event_id.to_string(), false);
            return None;
        }
        let link = row.link_id;
        let key = link.unwrap_or_default();
        if !self.open.contains_key(key) {
            // The builder opens a partial span under the start id, then closes it if it can.
            self.open.insert(key.to_string(), true);
        }
        let partial = self.open.remove(link?)?;
        let f = f.get();
        let u = f.model_usage.as_ref();
        Some(ClosedRequest {
            usage: ModelUsage {
                input_tokens: u.map_or(0, |u| u.input_tokens),
                output_tokens: u.map_or(0, |u| u.output_tokens),
                cache_creation_input_tokens: u.map_or(0, |u| u.cache_creation_input_tokens),
                cache_read_input_tokens: u.map_or(0, |u| u.cache_read_input_tokens),
                ..ModelUsage::default()
            },
            is_error: f.is_error.unwrap_or(false),
            partial,
        })
    }
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::analysis::spans::{SpanBuilder, SpanKind};
    use crate::analysis::testing::rows;

    /// Sums of the closed model requests, as (requests, failed, partial, input, output).
    fn sums<'a>(closed: impl Iterator<Item = (&'a ModelUsage, bool, bool)>) -> [u64; 5] {
        let mut s = [0; 5];
        for (u, is_error, partial) in closed {
            s[0] += 1;
            s[1] += u64::from(is_error);
            s[2] += u64::from(partial);
            s[3] += u.input_tokens;
            s[4] += u.output_tokens;
        }
        s
    }

    /// The pairing's sums are those of the builder's closed model request spans, on every JSON
    /// Lines sample and on the cases its rules are about: a stream's copy, an end whose start is
    /// not recorded, an end naming no start, an end for a start whose id is empty, a start
    /// repeated.
    #[test]
    fn request_pairs_sum_as_the_builder_pairs() {
        let cases = r#"{"type":"span.model_request_start","id":"m1","processed_at":"2026-01-01T00:00:00.000Z"}
{"type":"span.model_request_start","id":"m1","processed_at":"2026-01-01T00:00:00.000Z"}
{"type":"span.model_request_end","id":"e1","model_request_start_id":"m1","is_error":true,"model_usage":{"input_tokens":3,"output_tokens":4},"processed_at":"2026-01-01T00:00:01.000Z"}
{"type":"span.model_request_end","id":"e2","model_request_start_id":"gone","model_usage":{"input_tokens":5,"output_tokens":6},"processed_at":"2026-01-01T00:00:02.000Z"}
{"type":"span.model_request_end","id":"e3","model_usage":{"input_tokens":7},"processed_at":"2026-01-01T00:00:03.000Z"}
{"type":"span.model_request_end","id":"e4","model_request_start_id":"","model_usage":{"input_tokens":11},"processed_at":"2026-01-01T00:00:04.000Z"}
{"type":"span.model_request_start","id":"m5","processed_at":"2026-01-01T00:00:05.000Z"}
{"type":"span.model_request_start","id":"m5","processed_at":"2026-01-01T00:00:06.000Z"}
{"type":"span.model_request_end","id":"e5","model_request_start_id":"m5","model_usage":{"output_tokens":13},"processed_at":"2026-01-01T00:00:07.000Z"}
{"type":"span.model_request_end","id":"e6","model_request_start_id":"m5","model_usage":{"output_tokens":17},"processed_at":"2026-01-01T00:00:08.000Z"}"#
            .to_string();
        let mut texts = vec![cases];
        let samples = crate::analysis::testing::sample_files(true);
        for f in samples
            .iter()
            .filter(|f| f.extension().is_some_and(|e| e == "jsonl"))
        {
            texts.push(std::fs::read_to_string(f).unwrap());
        }
        for (i, text) in texts.iter().enumerate() {
            let events = rows(text);
            let (mut builder, mut pairs, mut closed) =
                (SpanBuilder::default(), RequestPairs::default(), Vec::new());
            for row in &events {
                let row = row.as_ref();
                if !row.event_type.starts_with("span.model_request_") {
                    continue;
                }
                let f = SpanFields::of(&row);
                builder.push_read(&row, &f);
                closed.extend(pairs.push(&row, &f));
            }
            let spans = builder.finish(None);
            let zero = ModelUsage::default();
            let want = sums(
                (spans.iter())
                    .filter(|s| s.kind == SpanKind::ModelRequest && !s.open)
                    .map(|s| (s.usage.as_ref().unwrap_or(&zero), s.is_error, s.partial)),
            );
            let got = sums(closed.iter().map(|c| (&c.usage, c.is_error, c.partial)));
            assert_eq!(got, want, "{}", &text[..text.len().min(200)]);
            if i == 0 {
                // m1 (failed; its copy once), "gone" and "" (partial), the second m5, then an
                // end whose m5 is closed already (partial); e3 names no start.
                assert_eq!(got, [5, 1, 3, 19, 40]);
            }
        }
        assert!(texts.len() > 10);
    }
}
