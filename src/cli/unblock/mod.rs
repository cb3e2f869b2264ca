//! `flightrec unblock SESSION [EVENT]`: sends the event `explain` proposes for a blocked session
//! (`POST /v1/sessions/{id}/events`), after showing the exact request and asking; `--dry-run`
//! prints it as curl. The request comes from explain's own (`Blocking::unblock`), with the
//! answer's text, error flag or deny message filled in. What was sent is written to the capture
//! log (kind `unblock`) and the echoed events to the recording. `--follow` then records the
//! session and shows its events until its next idle, and explains it (`follow`).

mod follow;

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, bail};
use serde_json::value::RawValue;

use super::api_args::{ApiArgs, runtime};
use super::args::{DEFAULT_STUCK_AFTER, parse_duration, parse_duration_micros};
use super::explain::{explain_session, wall_clock};
use super::{Outcome, exit, open_existing, output, resolve};
use flightrec::analysis::explain::Explanation;
use flightrec::analysis::explain::blocking::Blocking;
use flightrec::analysis::explain::unblock::{J, curl, text_content};
use flightrec::model::capture::{CaptureDetail, UnblockDetail};
use flightrec::model::time::now;
use flightrec::model::{Envelope, Source};
use flightrec::store::{Incoming, Store};

#[derive(clap::Args)]
pub struct Args {
    /// The session id
    session: String,
    /// The blocking event to answer [default: the one the session is blocked on]
    event: Option<String>,
    /// Send the tool's result: TEXT, or @FILE for a file's contents (custom tools, self-hosted tools)
    #[arg(long, value_name = "TEXT|@FILE")]
    result: Option<String>,
    /// Mark the result as an error (is_error)
    #[arg(long)]
    error: bool,
    /// Allow the tool call (user.tool_confirmation)
    #[arg(long)]
    allow: bool,
    /// Deny the tool call (user.tool_confirmation)
    #[arg(long)]
    deny: bool,
    /// With --deny: why, for the model (deny_message)
    #[arg(long, value_name = "TEXT")]
    message: Option<String>,
    /// Interrupt the session (user.interrupt)
    #[arg(long)]
    interrupt: bool,
    /// Send without asking
    #[arg(long, short = 'y')]
    yes: bool,
    /// Print the request as a curl command and send nothing
    #[arg(long)]
    dry_run: bool,
    /// Then record the session and show its events until its next idle (or its end), and
    /// explain it; exit 1 when the verdict needs attention, as `check` does
    #[arg(long)]
    follow: bool,
    /// With --follow: give up (exit 7) when the session has not reached its next idle by then
    #[arg(long, value_name = "DUR", default_value = "10m", value_parser = parse_duration, requires = "follow")]
    follow_timeout: std::time::Duration,
    #[command(flatten)]
    api: ApiArgs,
}

/// What to send, and for which blocking event.
struct Request {
    action: String,
    event_id: Option<String>,
    event: J,
}

pub fn run(db: &Path, args: Args) -> Outcome {
    check_flags(&args)?;
    let (req, summary, before) = {
        let store = open_existing(db)?;
        let summary = resolve::session(&store, &args.session)?;
        let stuck = parse_duration_micros(DEFAULT_STUCK_AFTER).map_err(anyhow::Error::msg)?;
        let x = explain_session(&store, &summary, None, wall_clock(), stuck)?;
        let req = request(&args, &x)?;
        let before = match args.follow {
            true => Some(follow::Before::of(
                &store,
                &summary.id,
                req.event_id.as_deref(),
            )?),
            false => None,
        };
        (req, summary, before)
    };
    let session = summary.id.as_str();
    let url = format!(
        "{}/v1/sessions/{session}/events",
        args.api.base_url().trim_end_matches('/')
    );
    let body = J::Obj(vec![("events", J::Arr(vec![req.event.clone()]))]);
    if args.dry_run {
        output::print(curl(&url, &body))?;
        return Ok(exit::OK);
    }
    output::print(format!("POST {url}\n{}", pretty(&body)))?;
    if !args.yes && !confirmed()? {
        output::eprint_line("not sent")?;
        return Ok(exit::ERROR);
    }
    let client = args.api.client()?;
    let raw = RawValue::from_string(req.event.json())?;
    let sent = runtime()?.block_on(client.send_events(session, &[&raw]));
    let (status, echoes) = sent.with_context(|| format!("sending {} to {session}", req.action))?;
    let ids = record(db, session, &req, &url, &body, status, &echoes)?;
    output::print(format!(
        "sent {} ({}): {}",
        event_type(&req.event),
        req.action,
        ids.join(", ")
    ))?;
    match before {
        Some(before) => follow::run(db, session, &before, &args.api, args.follow_timeout),
        None => Ok(exit::OK),
    }
}

/// One answer, and the flags that go with it (checked here so each mistake is one line).
fn check_flags(args: &Args) -> anyhow::Result<()> {
    let given: Vec<&str> = [
        (args.result.is_some(), "--result"),
        (args.allow, "--allow"),
        (args.deny, "--deny"),
        (args.interrupt, "--interrupt"),
    ]
    .into_iter()
    .filter_map(|(on, name)| on.then_some(name))
    .collect();
    match given.as_slice() {
        [] => bail!("say what to send: --result TEXT|@FILE, --allow, --deny or --interrupt"),
        [_] => {}
        many => bail!(
            "{} cannot go together: send one answer at a time",
            many.join(" and ")
        ),
    }
    if args.error && args.result.is_none() {
        bail!("--error marks a result as an error: it goes with --result");
    }
    if args.message.is_some() && !args.deny {
        bail!("--message is the reason for a denial: it goes with --deny");
    }
    if args.interrupt && args.event.is_some() {
        bail!("--interrupt interrupts the session: it takes no EVENT");
    }
    if args.yes && args.dry_run {
        bail!("--dry-run sends nothing: it does not go with --yes");
    }
    if args.follow && args.dry_run {
        bail!("--dry-run sends nothing: there is nothing to --follow");
    }
    Ok(())
}

fn event_type(event: &J) -> &str {
    match event.get("type") {
        Some(J::Str(t)) => t,
        _ => "event",
    }
}

fn pretty(body: &J) -> String {
    serde_json::to_string_pretty(body).unwrap_or_else(|_| body.json())
}

/// Asks on the terminal; refuses when there is none to ask on.
fn confirmed() -> anyhow::Result<bool> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!(
            "not sent: stdin is not a terminal to confirm on; pass --yes to send without asking, or --dry-run to see the request"
        );
    }
    eprint!("Send it? [y/N] ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "Yes"))
}

/// The request for the flags, built from explain's own (`Blocking::unblock`).
fn request(args: &Args, x: &Explanation) -> anyhow::Result<Request> {
    if args.interrupt {
        return Ok(Request {
            action: "interrupt".into(),
            event_id: None,
            event: J::Obj(vec![("type", J::s("user.interrupt"))]),
        });
    }
    let b = blocking_event(args, x)?;
    let (action, wants) = match (&args.result, args.allow) {
        (Some(_), _) => ("result", "--result"),
        (None, true) => ("allow", "--allow"),
        (None, false) => ("deny", "--deny"),
    };
    let Some(proposed) = b.unblock.iter().find(|u| u.action == action) else {
        let how = match b.needs.as_str() {
            "user.tool_confirmation" => "--allow or --deny",
            "user.custom_tool_result" | "user.tool_result" => "--result",
            _ => "a reply flightrec cannot send",
        };
        bail!(
            "{wants} does not answer {}: it needs a {} ({how})",
            b.event_id,
            b.needs
        );
    };
    let mut event = proposed.body.clone();
    if let Some(result) = &args.result {
        event.set("content", Some(text_content(result_text(result)?)));
        event.set("is_error", args.error.then_some(J::Bool(true)));
    }
    if args.deny {
        event.set("deny_message", args.message.clone().map(J::Str));
    }
    Ok(Request {
        action: if args.error { "error result" } else { action }.into(),
        event_id: Some(b.event_id.clone()),
        event,
    })
}

/// `--result`: the text, or a file's contents for `@FILE`.
fn result_text(arg: &str) -> anyhow::Result<String> {
    match arg.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("--result @{path}: reading the result")),
        None => Ok(arg.to_string()),
    }
}

/// The blocking event to answer: EVENT, else the only one still waiting.
fn blocking_event<'x>(args: &Args, x: &'x Explanation) -> anyhow::Result<&'x Blocking> {
    let session = &args.session;
    let Some(id) = &args.event else {
        let waiting: Vec<&Blocking> = x
            .blocking
            .iter()
            .filter(|b| !b.unblock.is_empty())
            .collect();
        return match waiting.as_slice() {
            [one] => Ok(one),
            // The newest event it was blocked on says why not (answered, queued, no reply).
            [] if !x.blocking.is_empty() => answerable(session, x.blocking.last()),
            [] => bail!(
                "{session} is not waiting on an answer (explain: {}): nothing to unblock",
                x.verdict
            ),
            many => bail!(
                "{session} is waiting on {} events; name one: {}",
                many.len(),
                many.iter()
                    .map(|b| describe(b))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        };
    };
    let Some(b) = x.blocking.iter().find(|b| &b.event_id == id) else {
        let known: Vec<&str> = x.blocking.iter().map(|b| b.event_id.as_str()).collect();
        bail!(
            "{id} is not an event {session} is blocked on (blocked on: {})",
            if known.is_empty() {
                "nothing".into()
            } else {
                known.join(", ")
            }
        );
    };
    answerable(session, Some(b))
}

/// `b` when it still waits on an answer; else why not, naming it.
fn answerable<'x>(session: &str, b: Option<&'x Blocking>) -> anyhow::Result<&'x Blocking> {
    let Some(b) = b else {
        bail!("{session} is not blocked on anything");
    };
    let id = &b.event_id;
    let by = b
        .resolved_by
        .as_deref()
        .unwrap_or("an event not in the recording");
    match b.resolution.as_deref() {
        Some("queued") => {
            bail!("{id} is already answered: its answer {by} is queued (sent, not yet processed)")
        }
        _ if b.resolved => bail!(
            "{id} is already answered by {by}{}",
            b.resolved_at
                .as_deref()
                .map(|t| format!(" at {t}"))
                .unwrap_or_default()
        ),
        _ if b.unblock.is_empty() => bail!(
            "{id} takes no answer: {}",
            b.note.as_deref().unwrap_or("it cannot be answered")
        ),
        _ => Ok(b),
    }
}

fn describe(b: &Blocking) -> String {
    format!(
        "{} ({}, needs {})",
        b.event_id,
        b.name.as_deref().unwrap_or("?"),
        b.needs
    )
}

/// Writes what was sent to the capture log and the echoed events to the recording; returns
/// the echoed ids.
fn record(
    db: &Path,
    session: &str,
    req: &Request,
    url: &str,
    body: &J,
    status: u16,
    echoes: &[String],
) -> anyhow::Result<Vec<String>> {
    let mut store = Store::open(db)?;
    let at = now();
    let mut batch = store.batch()?;
    let mut ids = Vec::with_capacity(echoes.len());
    for text in echoes {
        let env = Envelope::parse(text, None).map_err(|e| {
            anyhow::anyhow!("the server echoed something that is not an event: {e}")
        })?;
        ids.push(env.id.to_string());
        batch.upsert(&Incoming {
            session_id: session,
            thread_id: "",
            envelope: &env,
            source: Source::List,
            received_at: &at,
            preview_ordinal: 0,
        })?;
    }
    let detail = CaptureDetail::from(UnblockDetail {
        action: req.action.clone(),
        echoed_ids: ids.clone(),
        event_id: req.event_id.clone(),
        request_body: serde_json::to_value(body)?,
        status,
        url: url.to_string(),
    });
    batch.log_capture(
        Some(session),
        "",
        detail.kind(),
        &at,
        Some(&now()),
        &detail.to_value(),
    )?;
    batch.commit()?;
    Ok(ids)
}
