//! `flightrec replay SESSION`: a session's events played in the terminal at the recorded pace.
//!
//! The pacing is `flightrec::analysis::replay`; this file reads, sleeps and prints. Events are
//! read in batches (never a whole session at once, and no read transaction held while waiting).
//! Ctrl-C simply ends the process.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use super::args::{parse_duration_micros, positive};
use super::output::{self, Painter, Style, event_style};
use super::{Outcome, at, exit, open_existing, resolve};
use flightrec::analysis::replay::{Cue, Pacing, Schedule, Window};
use flightrec::analysis::summarize;
use flightrec::model::time::format_duration_micros;
use flightrec::model::typed::Event;
use flightrec::store::{EventRow, TimelineQuery};

/// Events read per store query.
const BATCH: u64 = 500;

#[derive(clap::Args)]
pub struct Args {
    /// The session: its id, a unique prefix or suffix, latest or latest-stuck
    session: String,
    /// Play recorded time X times faster (0.5 is half speed)
    #[arg(long, default_value = "1", value_name = "X", value_parser = speed)]
    speed: f64,
    /// Shorten recorded gaps longer than DUR to DUR, before --speed applies (a note marks each)
    #[arg(long, default_value = "5s", value_name = "DUR", value_parser = parse_duration_micros)]
    max_gap: i64,
    /// Print the events without waiting
    #[arg(long)]
    no_wait: bool,
    /// Start at this event (its id, or a unique prefix or suffix) or time (1h or 2d ago, a date, RFC 3339, or +DURATION after the first event)
    #[arg(long, value_name = "EVENT_ID|TIME")]
    from: Option<String>,
    /// Stop after this event (its id, or a unique prefix or suffix) or time (the forms of --from)
    #[arg(long, value_name = "EVENT_ID|TIME")]
    to: Option<String>,
}

/// `--speed`: [`positive`], pointing at `--no-wait` when it is not.
fn speed(s: &str) -> Result<f64, String> {
    positive(s).map_err(|e| format!("{e} (use --no-wait to print without waiting)"))
}

/// Every line goes through the painter: event text shown visibly, styled only by us.
struct Printer {
    paint: Painter,
    origin: Option<i64>,
}

impl Printer {
    fn event(&self, row: &EventRow) -> String {
        let time = match (row.ts, self.origin) {
            (Some(t), Some(o)) => format!("+{}", format_duration_micros(t - o)),
            _ => flightrec::model::time::untimed_label(row.processed_at.as_deref()),
        };
        let summary = summarize(&Event::parse(&row.raw));
        let mut line = format!("{time:>9}  {:<34} {}", row.event_type, row.event_id);
        if !summary.is_empty() {
            let _ = write!(line, "  {summary}");
        }
        self.paint
            .paint(event_style(&row.event_type, &summary), &line)
    }

    fn note(&self, text: &str) -> String {
        self.paint.paint(Style::Dim, text)
    }
}

pub fn run(db: &Path, args: Args) -> Outcome {
    let store = open_existing(db)?;
    let summary = resolve::session(&store, &args.session)?;
    let resolve = |option: &str, a: &Option<String>| match a {
        Some(a) => at::resolve_option(&store, &summary, option, a).map(Some),
        None => Ok(None),
    };
    let (from, to) = (resolve("--from", &args.from)?, resolve("--to", &args.to)?);
    // A time starts before every event at that time; an event id starts at that event.
    let window = Window {
        from: from.map(|p| (p.ts, if p.seq == i64::MAX { i64::MIN } else { p.seq })),
        to: to.map(|p| (p.ts, p.seq)),
    };
    let pacing = Pacing {
        speed: (!args.no_wait).then_some(args.speed),
        max_gap_us: Some(args.max_gap.max(0)),
    };
    let printer = Printer {
        paint: output::painter(),
        origin: summary.first_ts,
    };
    let mut out = std::io::stdout().lock();
    let mut heading = format!("Replaying {}", summary.id);
    if let Some(t) = &summary.title {
        let _ = write!(heading, " “{t}”");
    }
    if args.no_wait {
        heading.push_str(" without waiting");
    } else {
        let _ = write!(
            heading,
            " at {}×, gaps over {} shortened",
            args.speed,
            format_duration_micros(args.max_gap)
        );
    }
    writeln!(out, "{}", printer.note(&heading))?;

    let mut schedule = Schedule::new(pacing, window);
    let mut start: Option<Instant> = None;
    // The newest (sort_ts, seq) read, and how many events at that sort_ts were read.
    let mut after: Option<(i64, i64)> = None;
    let mut at_after_ts: u64 = 0;
    let mut stopped = false;
    loop {
        let q = TimelineQuery {
            since_ts: after.map(|a| a.0).or_else(|| window.from.map(|f| f.0)),
            until_ts: window.to.map(|t| t.0),
            limit: Some(BATCH + at_after_ts),
            ..TimelineQuery::default()
        };
        let rows = store.events(&summary.id, &q)?;
        let full = rows.len() as u64 == BATCH + at_after_ts;
        let mut fresh = 0;
        for row in rows {
            let key = (row.ts.unwrap_or(i64::MAX), row.seq);
            if after.is_some_and(|a| key <= a) {
                continue;
            }
            fresh += 1;
            at_after_ts = if after.is_some_and(|a| a.0 == key.0) {
                at_after_ts + 1
            } else {
                1
            };
            after = Some(key);
            match schedule.next(row.ts, row.seq) {
                Cue::Skip => continue,
                Cue::Stop => {
                    stopped = true;
                    break;
                }
                Cue::Play(step) => {
                    let t0 = *start.get_or_insert_with(Instant::now);
                    let due = t0 + Duration::from_micros(step.at_us.max(0) as u64);
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        out.flush()?;
                        std::thread::sleep(wait);
                    }
                    if step.compressed {
                        let note =
                            format!("{:>9}  … {} later", "", format_duration_micros(step.gap_us));
                        writeln!(out, "{}", printer.note(&note))?;
                    }
                    writeln!(out, "{}", printer.event(&row))?;
                }
            }
        }
        if stopped || !full || fresh == 0 {
            break;
        }
    }
    let end = if stopped || window.to.is_some() {
        "— end of the replay (--to) —"
    } else {
        "— end of the recording —"
    };
    writeln!(out, "{}", printer.note(end))?;
    out.flush()?;
    Ok(exit::OK)
}
