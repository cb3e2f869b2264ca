//! `flightrec diff A B`: two sessions aligned step by step, the first divergence, and the
//! deltas in tokens, tool calls, latency, errors and duration. Exit 0 when the sessions are the
//! same, 1 when they diverge, 2 on error. The `--json` object is documented in docs/diff-json.md.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::args::parse_duration_micros;
use super::explain::{DEFAULT_STUCK_AFTER, explain_session, parse_now, wall_clock};
use super::stats::session_stats;
use super::{Outcome, exit, open_existing, output};
use flightrec::analysis::diff::{
    AlignedStep, Count, DiffOptions, Divergence, Measure, Op, SessionDiff, Side, SideInfo, StepRef,
    diff,
};
use flightrec::analysis::explain::Explanation;
use flightrec::analysis::stats::Stats;
use flightrec::analysis::text::{excerpt, thousands};
use flightrec::model::time::format_duration_micros;
use flightrec::store::{EventRow, SessionSummary, Store, TimelineQuery};

/// How long the alignment may search for the shortest alignment before settling.
const ALIGN_BUDGET: Duration = Duration::from_secs(2);

#[derive(clap::Args)]
pub struct Args {
    /// Session A (the reference)
    a: String,
    /// Session B (compared with A)
    b: String,
    /// Read session B from this database [default: the --db database]
    #[arg(long, value_name = "PATH")]
    db_b: Option<PathBuf>,
    /// Aligned steps to show before and after the first divergence
    #[arg(long, value_name = "N", default_value_t = 3)]
    context: usize,
    /// A running session with no event for longer than this is stalled (for the verdicts)
    #[arg(long, value_name = "DUR", default_value = DEFAULT_STUCK_AFTER, value_parser = parse_duration_micros)]
    stuck_after: i64,
    /// The current time (RFC 3339), for tests [default: the wall clock]
    #[arg(long, value_name = "TIME", hide = true, value_parser = parse_now)]
    now: Option<i64>,
    /// Print JSON instead of text (docs/diff-json.md)
    #[arg(long)]
    json: bool,
}

/// One side read from its database.
struct Loaded {
    summary: SessionSummary,
    events: Vec<EventRow>,
    stats: Stats,
    explanation: Explanation,
}

impl Loaded {
    fn read(store: &Store, id: &str, now: i64, stuck_after: i64) -> anyhow::Result<Loaded> {
        let summary = store.require_session(id)?;
        Ok(Loaded {
            events: store.events(id, &TimelineQuery::default())?,
            stats: session_stats(store, &summary, false)?.report(),
            explanation: explain_session(store, &summary, None, now, stuck_after)?,
            summary,
        })
    }

    fn side(&self) -> Side<'_> {
        Side {
            summary: &self.summary,
            events: &self.events,
            stats: &self.stats,
            explanation: &self.explanation,
        }
    }
}

pub fn run(db: &Path, args: Args) -> Outcome {
    let now = args.now.unwrap_or_else(wall_clock);
    let store_a = open_existing(db)?;
    let a = Loaded::read(&store_a, &args.a, now, args.stuck_after)?;
    let b = match &args.db_b {
        Some(path) => Loaded::read(&open_existing(path)?, &args.b, now, args.stuck_after)?,
        None => Loaded::read(&store_a, &args.b, now, args.stuck_after)?,
    };
    let d = diff(
        &a.side(),
        &b.side(),
        &DiffOptions {
            context: args.context,
            deadline: Some(Instant::now() + ALIGN_BUDGET),
        },
    );
    if args.json {
        output::print_json(&d)?;
    } else {
        output::print(text(&d).trim_end())?;
    }
    Ok(if d.same { exit::OK } else { exit::DIFFERENT })
}

/// The text report.
fn text(d: &SessionDiff) -> String {
    let mut out = String::new();
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

fn side_line(out: &mut String, label: &str, s: &SideInfo) {
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
        .unwrap_or_else(|| "(queued)".into());
    let mut line = format!("#{} {} {offset} {}", s.index, s.event_id, s.event_type);
    if let Some(t) = &s.tool {
        let _ = write!(line, " {t}");
    }
    if !s.summary.is_empty() {
        let _ = write!(line, "  {}", excerpt(&s.summary, 70));
    }
    line
}

fn divergence(out: &mut String, div: &Divergence, context: &[AlignedStep]) {
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
        let mut t = output::table(&["", "A", "B"]);
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
        let _ = writeln!(out, "{t}");
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
    v.map(|v| format_duration_micros((v * 1000.0).round() as i64))
        .unwrap_or_else(|| "-".into())
}

fn measure(m: &Measure) -> [String; 3] {
    let delta = match m.delta {
        Some(d) if d < 0.0 => format!("-{}", ms(Some(-d))),
        Some(d) => format!("+{}", ms(Some(d))),
        None => "-".into(),
    };
    [ms(m.a), ms(m.b), delta]
}

fn deltas(out: &mut String, d: &SessionDiff) {
    let x = &d.deltas;
    let mut t = output::table(&["", "A", "B", "B − A"]);
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
            d.a.stop_reason.clone().unwrap_or_else(|| "-".into()),
            d.b.stop_reason.clone().unwrap_or_else(|| "-".into()),
            String::new(),
        ],
    );
    let _ = writeln!(out, "{t}");

    if x.models.len() > 1 {
        let _ = writeln!(out, "\nPer model");
        let mut t = output::table(&["model", "requests A", "B", "input A", "B", "output A", "B"]);
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
        let _ = writeln!(out, "{t}");
    }
    if !x.tools.is_empty() {
        let _ = writeln!(out, "\nTools");
        let mut t = output::table(&[
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
        let _ = writeln!(out, "{t}");
    }
    if !x.error_types.is_empty() {
        let _ = writeln!(out, "\nErrors");
        let mut t = output::table(&["source", "type", "A", "B", "Δ"]);
        for e in &x.error_types {
            let [a, b, delta] = count(&e.count);
            t.add_row(vec![e.source.clone(), e.error_type.clone(), a, b, delta]);
        }
        let _ = writeln!(out, "{t}");
    }
}
