//! The text report of `flightrec diff`: each side, the first divergence with the steps around
//! it, the alignment counts and the deltas, tables as [`Table`]s. A missing duration or stop
//! reason shows as "-" ([`Missing::Dash`]).

use std::fmt::Write as _;

use super::format::{Missing, QUEUED, format_duration_micros, ms_f64, thousands};
use super::{Doc, Table};
use crate::analysis::diff::{
    AlignedStep, Count, Divergence, Measure, Op, SessionDiff, SideInfo, StepRef,
};
use crate::analysis::text::excerpt;

/// The text report.
pub fn text(d: &SessionDiff) -> Doc {
    let mut out = Doc::new();
    side_line(&mut out, "A", &d.a);
    side_line(&mut out, "B", &d.b);
    out.push('\n');
    match &d.first_divergence {
        None => {
            let _ = writeln!(
                out,
                "No divergence: all {} steps are the same.",
                thousands(d.alignment.equal)
            );
        }
        Some(div) => divergence(&mut out, div, &d.context),
    }
    let al = &d.alignment;
    let _ = writeln!(
        out,
        "\nAligned steps: {} equal, {} changed, {} only in A, {} only in B\n",
        thousands(al.equal),
        thousands(al.changed),
        thousands(al.only_in_a),
        thousands(al.only_in_b)
    );
    deltas(&mut out, d);
    out
}

fn side_line(out: &mut Doc, label: &str, s: &SideInfo) {
    let _ = write!(out, "{label}  {}", s.session_id);
    if let Some(t) = &s.title {
        let _ = write!(out, "  “{}”", excerpt(t, 40));
    }
    let _ = write!(
        out,
        "  {} events, {} steps",
        thousands(s.event_count),
        thousands(s.steps)
    );
    let _ = writeln!(out, "  {}: {}", s.verdict, excerpt(&s.verdict_summary, 80));
}

fn step_line(s: &StepRef) -> String {
    let offset = s
        .offset_ms
        .map(|ms| format!("+{}", format_duration_micros((ms * 1000.0) as i64)))
        .unwrap_or_else(|| QUEUED.into());
    let mut line = format!("#{} {} {offset} {}", s.index, s.event_id, s.event_type);
    if let Some(t) = &s.tool {
        let _ = write!(line, " {t}");
    }
    if !s.summary.is_empty() {
        let _ = write!(line, "  {}", excerpt(&s.summary, 70));
    }
    line
}

fn divergence(out: &mut Doc, div: &Divergence, context: &[AlignedStep]) {
    let what = match div.op {
        Op::Changed => "a changed step",
        Op::OnlyInA => "a step only in A",
        Op::OnlyInB => "a step only in B",
        Op::Equal => "equal",
    };
    let _ = writeln!(out, "First divergence: {what}");
    for (label, s) in [("A", &div.a), ("B", &div.b)] {
        match s {
            Some(s) => {
                let _ = writeln!(out, "  {label}  step {}  {}", s.step, step_line(s));
            }
            None => {
                let _ = writeln!(out, "  {label}  (no more steps)");
            }
        }
    }
    if !div.differs.is_empty() {
        let _ = writeln!(out, "  differs: {}", div.differs.join(", "));
    }
    for c in &div.changes {
        let show = |v: &Option<serde_json::Value>| match v {
            Some(v) => excerpt(&v.to_string(), 60),
            None => "(absent)".into(),
        };
        let _ = writeln!(out, "    {}: {} → {}", c.path, show(&c.a), show(&c.b));
    }
    if div.more_changes > 0 {
        let _ = writeln!(out, "    … and {} more changes", div.more_changes);
    }
    if context.len() > 1 {
        let _ = writeln!(out, "\nAround it:");
        let mut t = Table::new(&["", "A", "B"]);
        for row in context {
            let mark = match row.op {
                Op::Equal => "=",
                Op::Changed => "~",
                Op::OnlyInA => "-",
                Op::OnlyInB => "+",
            };
            let cell = |s: &Option<StepRef>| match s {
                Some(s) => {
                    let mut c = format!("{} {}", s.step, s.event_type);
                    if let Some(t) = &s.tool {
                        let _ = write!(c, " {t}");
                    }
                    c
                }
                None => String::new(),
            };
            t.add_row(vec![mark.to_string(), cell(&row.a), cell(&row.b)]);
        }
        out.table(t);
        out.push('\n');
    }
}

fn count(c: &Count) -> [String; 3] {
    let sign = if c.delta < 0 { '-' } else { '+' };
    [
        thousands(c.a),
        thousands(c.b),
        format!("{sign}{}", thousands(c.delta.unsigned_abs())),
    ]
}

fn ms(v: Option<f64>) -> String {
    ms_f64(v, Missing::Dash)
}

fn measure(m: &Measure) -> [String; 3] {
    let delta = match m.delta {
        Some(d) if d < 0.0 => format!("-{}", ms(Some(-d))),
        Some(d) => format!("+{}", ms(Some(d))),
        None => Missing::Dash.text().into(),
    };
    [ms(m.a), ms(m.b), delta]
}

fn deltas(out: &mut Doc, d: &SessionDiff) {
    let x = &d.deltas;
    let mut t = Table::new(&["", "A", "B", "B − A"]);
    let mut row = |name: &str, v: [String; 3]| {
        let [a, b, delta] = v;
        t.add_row(vec![name.to_string(), a, b, delta]);
    };
    row("events", count(&x.events));
    row("duration", measure(&x.duration_ms));
    row("model requests", count(&x.tokens.requests));
    row("failed requests", count(&x.tokens.failed_requests));
    row("input tokens", count(&x.tokens.input_tokens));
    row("output tokens", count(&x.tokens.output_tokens));
    row(
        "cache read tokens",
        count(&x.tokens.cache_read_input_tokens),
    );
    row(
        "cache write tokens",
        count(&x.tokens.cache_creation_input_tokens),
    );
    row("tool calls", count(&x.tool_calls));
    row("errors", count(&x.errors));
    row(
        "verdict",
        [d.a.verdict.clone(), d.b.verdict.clone(), String::new()],
    );
    row(
        "stop reason",
        [
            Missing::Dash.or(d.a.stop_reason.as_deref()).to_string(),
            Missing::Dash.or(d.b.stop_reason.as_deref()).to_string(),
            String::new(),
        ],
    );
    out.table(t);
    out.push('\n');

    if x.models.len() > 1 {
        let _ = writeln!(out, "\nPer model");
        let mut t = Table::new(&["model", "requests A", "B", "input A", "B", "output A", "B"]);
        for m in &x.models {
            let tk = &m.tokens;
            t.add_row(vec![
                m.model.clone().unwrap_or_else(|| "(unknown)".into()),
                thousands(tk.requests.a),
                thousands(tk.requests.b),
                thousands(tk.input_tokens.a),
                thousands(tk.input_tokens.b),
                thousands(tk.output_tokens.a),
                thousands(tk.output_tokens.b),
            ]);
        }
        out.table(t);
        out.push('\n');
    }
    if !x.tools.is_empty() {
        let _ = writeln!(out, "\nTools");
        let mut t = Table::new(&[
            "tool", "calls A", "B", "Δ", "errors A", "B", "p50 A", "B", "p95 A", "B",
        ]);
        for tool in &x.tools {
            let [ca, cb, cd] = count(&tool.calls);
            let [p50a, p50b, _] = measure(&tool.p50_ms);
            let [p95a, p95b, _] = measure(&tool.p95_ms);
            t.add_row(vec![
                tool.tool.clone(),
                ca,
                cb,
                cd,
                thousands(tool.errors.a),
                thousands(tool.errors.b),
                p50a,
                p50b,
                p95a,
                p95b,
            ]);
        }
        out.table(t);
        out.push('\n');
    }
    if !x.error_types.is_empty() {
        let _ = writeln!(out, "\nErrors");
        let mut t = Table::new(&["source", "type", "A", "B", "Δ"]);
        for e in &x.error_types {
            let [a, b, delta] = count(&e.count);
            t.add_row(vec![e.source.clone(), e.error_type.clone(), a, b, delta]);
        }
        out.table(t);
        out.push('\n');
    }
}
