//! What changed in numbers between two sessions: tokens (in total and per model), tool calls
//! and latency per tool, errors, cost and duration, each read from the sessions' [`Stats`].

use serde::Serialize;

use crate::analysis::spans::SpanKind;
use crate::analysis::stats::{Stats, Tokens};

/// A count on each side and B − A.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Count {
    pub a: u64,
    pub b: u64,
    pub delta: i64,
}

impl Count {
    pub fn new(a: u64, b: u64) -> Count {
        Count {
            a,
            b,
            delta: b as i64 - a as i64,
        }
    }
}

/// A measure on each side (`null` when a side has none) and B − A when both have one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Measure {
    pub a: Option<f64>,
    pub b: Option<f64>,
    pub delta: Option<f64>,
}

impl Measure {
    pub fn new(a: Option<f64>, b: Option<f64>) -> Measure {
        Measure {
            a,
            b,
            delta: a.zip(b).map(|(a, b)| b - a),
        }
    }
}

/// Token counts compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenDeltas {
    pub requests: Count,
    pub failed_requests: Count,
    pub input_tokens: Count,
    pub output_tokens: Count,
    pub cache_read_input_tokens: Count,
    pub cache_creation_input_tokens: Count,
}

impl TokenDeltas {
    fn new(a: &Tokens, b: &Tokens) -> TokenDeltas {
        TokenDeltas {
            requests: Count::new(a.requests, b.requests),
            failed_requests: Count::new(a.failed_requests, b.failed_requests),
            input_tokens: Count::new(a.input_tokens, b.input_tokens),
            output_tokens: Count::new(a.output_tokens, b.output_tokens),
            cache_read_input_tokens: Count::new(
                a.cache_read_input_tokens,
                b.cache_read_input_tokens,
            ),
            cache_creation_input_tokens: Count::new(
                a.cache_creation_input_tokens,
                b.cache_creation_input_tokens,
            ),
        }
    }
}

/// One model's tokens compared (a model only one side used counts zero on the other).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelDelta {
    /// The model id; `null` for requests whose model the recording does not say.
    pub model: Option<String>,
    #[serde(flatten)]
    pub tokens: TokenDeltas,
}

/// One tool compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolDelta {
    pub tool: String,
    pub kind: SpanKind,
    pub calls: Count,
    pub errors: Count,
    pub denied: Count,
    pub open: Count,
    pub p50_ms: Measure,
    pub p95_ms: Measure,
    pub max_ms: Measure,
}

/// One kind of error compared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorDelta {
    pub source: String,
    pub error_type: String,
    pub count: Count,
}

/// Every delta.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deltas {
    /// Stored events.
    pub events: Count,
    /// Compared steps (events less skipped ones).
    pub steps: Count,
    /// First to last processed event.
    pub duration_ms: Measure,
    pub tokens: TokenDeltas,
    pub models: Vec<ModelDelta>,
    /// Estimated list cost, USD (`stats`' estimate).
    pub cost_usd: Measure,
    pub tool_calls: Count,
    pub tools: Vec<ToolDelta>,
    pub errors: Count,
    pub error_types: Vec<ErrorDelta>,
}

/// The numeric facts of one side that are not in its [`Stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sizes {
    pub events: u64,
    pub steps: u64,
    pub duration_ms: Option<f64>,
}

pub fn deltas(a: &Stats, b: &Stats, sa: Sizes, sb: Sizes) -> Deltas {
    let mut models: Vec<Option<String>> = a.models.iter().map(|m| m.model.clone()).collect();
    for m in &b.models {
        if !models.contains(&m.model) {
            models.push(m.model.clone());
        }
    }
    let zero = Tokens::default();
    let tokens_of = |s: &'_ Stats, model: &Option<String>| -> Tokens {
        s.models
            .iter()
            .find(|m| &m.model == model)
            .map(|m| m.tokens.clone())
            .unwrap_or_else(|| zero.clone())
    };
    let models = models
        .into_iter()
        .map(|model| ModelDelta {
            tokens: TokenDeltas::new(&tokens_of(a, &model), &tokens_of(b, &model)),
            model,
        })
        .collect();

    let mut tools: Vec<(String, SpanKind)> =
        a.tools.iter().map(|t| (t.tool.clone(), t.kind)).collect();
    for t in &b.tools {
        if !tools.iter().any(|(n, k)| n == &t.tool && *k == t.kind) {
            tools.push((t.tool.clone(), t.kind));
        }
    }
    tools.sort();
    let tools = tools
        .into_iter()
        .map(|(tool, kind)| {
            let ta = a.tools.iter().find(|t| t.tool == tool && t.kind == kind);
            let tb = b.tools.iter().find(|t| t.tool == tool && t.kind == kind);
            let count = |f: fn(&crate::analysis::stats::ToolRow) -> u64| {
                Count::new(ta.map(f).unwrap_or(0), tb.map(f).unwrap_or(0))
            };
            let measure = |f: fn(&crate::analysis::stats::ToolRow) -> Option<f64>| {
                Measure::new(ta.and_then(f), tb.and_then(f))
            };
            ToolDelta {
                calls: count(|t| t.calls),
                errors: count(|t| t.errors),
                denied: count(|t| t.denied),
                open: count(|t| t.open),
                p50_ms: measure(|t| t.p50_ms),
                p95_ms: measure(|t| t.p95_ms),
                max_ms: measure(|t| t.max_ms),
                tool,
                kind,
            }
        })
        .collect();

    let mut kinds: Vec<(String, String)> = a
        .errors
        .iter()
        .chain(&b.errors)
        .map(|e| (e.source.clone(), e.error_type.clone()))
        .collect();
    kinds.sort();
    kinds.dedup();
    let error_count = |s: &Stats, source: &str, ty: &str| {
        s.errors
            .iter()
            .filter(|e| e.source == source && e.error_type == ty)
            .map(|e| e.count)
            .sum::<u64>()
    };
    let error_types = kinds
        .into_iter()
        .map(|(source, error_type)| ErrorDelta {
            count: Count::new(
                error_count(a, &source, &error_type),
                error_count(b, &source, &error_type),
            ),
            source,
            error_type,
        })
        .collect();

    let calls = |s: &Stats| s.tools.iter().map(|t| t.calls).sum();
    let errors = |s: &Stats| s.errors.iter().map(|e| e.count).sum();
    Deltas {
        events: Count::new(sa.events, sb.events),
        steps: Count::new(sa.steps, sb.steps),
        duration_ms: Measure::new(sa.duration_ms, sb.duration_ms),
        tokens: TokenDeltas::new(&a.tokens, &b.tokens),
        models,
        cost_usd: Measure::new(a.cost.estimate_usd, b.cost.estimate_usd),
        tool_calls: Count::new(calls(a), calls(b)),
        tools,
        errors: Count::new(errors(a), errors(b)),
        error_types,
    }
}
