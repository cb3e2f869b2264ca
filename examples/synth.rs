//! Deterministic generator of realistic Managed Agents session event logs (JSON Lines), for the
//! import benchmark (`bench/import.sh`).
//!
//! ```text
//! cargo run --release --example synth -- [--events N] [--sessions S] [--seed X] [--days D] --out FILE
//! ```
//!
//! Defaults: N = 1_000_000, S = 1, X = 42, D = 0. The same arguments always give byte-identical
//! files.
//!
//! `--days D` (D > 0) makes "a workspace" for `bench/scale.sh`: the S sessions start spread evenly
//! (plus up to an hour of jitter) over the D days before 2026-12-01T00:00:00Z, oldest first; each
//! `session.updated` names one of five agents (skewed: 40/25/15/12/8 %) with its model; and each
//! session ends the way real ones do instead of wherever its share runs out: it runs whole turns
//! until its share is used, then ends idle after `end_turn` (~90 %), blocked on a custom tool
//! (`requires_action`, never answered: stuck, ~4 %), after `retries_exhausted` (~2 %),
//! terminated after a terminal error (~1.5 %), or still running mid-step (~2.5 %; stale unless it
//! is among the newest). So a session overshoots its share by up to one turn, and the summary
//! line gives the actual counts. Without `--days`, the files are as before (byte-identical).
//!
//! Files and session ids:
//! - S = 1: writes FILE exactly. Name it with a `sesn_…` id (e.g. `synth.sesn_011CZ….jsonl`) so
//!   `flightrec import FILE` finds the session, or pass `--session` to the importer.
//! - S > 1: FILE is a pattern: `dir/name.jsonl` gives one file per session,
//!   `dir/name.sesn_011CZsynthNNNNNNNNNNNNNN.jsonl`, each with N/S events (the first N mod S
//!   files get one more). Session ids are `sesn_011CZsynth` + a 14-digit index, from 1.
//!
//! Prints one JSON line to stdout: the files, their session ids and event counts, total bytes and
//! the mean event size.
//!
//! What a session looks like: a `session.updated` with a title, then turns of
//! `user.message` → `session.status_running` → steps of (`span.model_request_start`,
//! `agent.thinking`, sometimes `agent.message`, `agent.tool_use` (bash/read/edit/grep),
//! `span.model_request_end` with `model_usage`, `agent.tool_result`) → a final
//! `agent.message` → `session.status_idle` (`end_turn`) → `session.usage`. Some turns block on a
//! custom tool (`agent.custom_tool_use` → idle `requires_action` → `user.custom_tool_result` →
//! running), a few tool uses need a `user.tool_confirmation`, and about one step in 150 hits a
//! retried `session.error` (→ `session.status_rescheduled` → `session.status_running`).
//! Ids are `sevt_` + 24 base62 characters: a fixed `011C`, 8 characters of a global counter (so
//! ids are unique and grow with time, like the real ones) and 12 random characters. `processed_at`
//! is RFC 3339 UTC with milliseconds and strictly increasing. Link fields (`tool_use_id`,
//! `model_request_start_id`, `custom_tool_use_id`) point at earlier events. Tool results have a
//! long-tailed size (median a few hundred bytes of text, 8% of them 8–24 KB), so the mean event is ~600 bytes.
//!
//! Only std and serde_json (for the summary line).

use std::error::Error;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

type Res<T> = Result<T, Box<dyn Error>>;

fn main() -> Res<()> {
    let opts = Opts::parse(std::env::args().skip(1))?;
    let mut files = Vec::new();
    let mut total_bytes = 0u64;
    let mut total_events = 0u64;
    let mut ids = IdGen { counter: 0 };
    for s in 0..opts.sessions {
        let session_id = format!("sesn_011CZsynth{:014}", s + 1);
        let path = if opts.sessions == 1 {
            opts.out.clone()
        } else {
            per_session_path(&opts.out, &session_id)?
        };
        let n = opts.events / opts.sessions + u64::from(s < opts.events % opts.sessions);
        let mut rng = Rng::new(opts.seed ^ (s + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        // 2026-08-07T09:00:00Z plus an hour per session; with --days, spread over the days
        // before 2026-12-01T00:00:00Z.
        let start_ms = if opts.days == 0 {
            1_786_093_200_000 + i64::try_from(s)? * 3_600_000
        } else {
            let span = i64::try_from(opts.days)? * 86_400_000;
            let step = span / i64::try_from(opts.sessions)?;
            1_796_083_200_000 - span + i64::try_from(s)? * step + rng.ms(0, 3_600_000)
        };
        let workspace = (opts.days > 0).then(|| Workspace::pick(&mut rng));
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let out = BufWriter::with_capacity(1 << 20, File::create(&path)?);
        let mut g = Gen {
            out,
            rng: &mut rng,
            ids: &mut ids,
            now_ms: start_ms,
            left: n,
            written: 0,
            workspace,
            bytes: 0,
            line: String::with_capacity(32 << 10),
            usage: Usage::default(),
        };
        g.session()?;
        g.out.flush()?;
        total_bytes += g.bytes;
        files.push(serde_json::json!({
            "path": path.display().to_string(),
            "session": session_id,
            "events": g.written,
            "bytes": g.bytes,
        }));
        total_events += g.written;
    }
    let summary = serde_json::json!({
        "events": total_events,
        "sessions": opts.sessions,
        "seed": opts.seed,
        "days": opts.days,
        "bytes": total_bytes,
        "avg_event_bytes": if total_events == 0 { 0.0 } else { total_bytes as f64 / total_events as f64 },
        "files": files,
    });
    println!("{summary}");
    Ok(())
}

struct Opts {
    events: u64,
    sessions: u64,
    seed: u64,
    days: u64,
    out: PathBuf,
}

impl Opts {
    fn parse(mut args: impl Iterator<Item = String>) -> Res<Opts> {
        let mut o = Opts {
            events: 1_000_000,
            sessions: 1,
            seed: 42,
            days: 0,
            out: PathBuf::new(),
        };
        let num = |v: Option<String>, name: &str| -> Res<u64> {
            let v = v.ok_or_else(|| format!("{name} needs a value"))?;
            Ok(v.replace('_', "")
                .parse::<u64>()
                .map_err(|e| format!("{name} {v}: {e}"))?)
        };
        while let Some(a) = args.next() {
            match a.as_str() {
                "--events" => o.events = num(args.next(), "--events")?,
                "--sessions" => o.sessions = num(args.next(), "--sessions")?,
                "--seed" => o.seed = num(args.next(), "--seed")?,
                "--days" => o.days = num(args.next(), "--days")?,
                "--out" => o.out = args.next().ok_or("--out needs a value")?.into(),
                "-h" | "--help" => {
                    println!(
                        "synth [--events N] [--sessions S] [--seed X] [--days D] --out FILE\n\
                         Writes N synthetic session events as JSON Lines (see the source for details)."
                    );
                    std::process::exit(0);
                }
                other => return Err(format!("unknown argument {other}").into()),
            }
        }
        if o.out.as_os_str().is_empty() {
            return Err("--out FILE is required".into());
        }
        if o.sessions == 0 {
            return Err("--sessions must be at least 1".into());
        }
        Ok(o)
    }
}

/// `dir/name.jsonl` → `dir/name.<session>.jsonl`.
fn per_session_path(out: &Path, session: &str) -> Res<PathBuf> {
    let name = out
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or("--out needs a file name")?;
    if name.contains("sesn_") {
        return Err("with --sessions > 1, --out must not contain a sesn_ id (it is added)".into());
    }
    let stem = name.strip_suffix(".jsonl").unwrap_or(name);
    Ok(out.with_file_name(format!("{stem}.{session}.jsonl")))
}

/// splitmix64: small, fast, deterministic everywhere.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in lo..=hi.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }
    fn ms(&mut self, lo: u64, hi: u64) -> i64 {
        i64::try_from(self.range(lo, hi)).unwrap_or(0)
    }
    /// True with probability p (in 1/1000).
    fn chance(&mut self, per_mille: u64) -> bool {
        self.next() % 1000 < per_mille
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

struct IdGen {
    counter: u64,
}

impl IdGen {
    /// `sevt_` + `011C` + 8 base62 digits of the counter + 12 random base62 characters.
    fn next(&mut self, rng: &mut Rng) -> String {
        self.counter += 1;
        let mut s = String::with_capacity(29);
        s.push_str("sevt_011C");
        let mut digits = [0u8; 8];
        let mut c = self.counter;
        for d in digits.iter_mut().rev() {
            *d = BASE62[(c % 62) as usize];
            c /= 62;
        }
        digits.iter().for_each(|&d| s.push(char::from(d)));
        let mut r = rng.next();
        for i in 0..12 {
            if i == 6 {
                r = rng.next();
            }
            s.push(char::from(BASE62[(r % 62) as usize]));
            r /= 62;
        }
        s
    }
}

/// Milliseconds since the epoch → `2026-08-07T09:00:00.000Z` (UTC), as the store writes it.
fn rfc3339_ms(ms: i64) -> String {
    // The generated times are within a few years of 2026, well inside the form's range.
    flightrec::store::canonical_time(ms).unwrap_or_else(|| format!("{ms}ms"))
}

/// Appends `s` as a JSON string literal.
fn push_json_str(buf: &mut String, s: &str) {
    buf.push('"');
    for c in s.chars() {
        match c {
            '"' => buf.push_str("\\\""),
            '\\' => buf.push_str("\\\\"),
            '\n' => buf.push_str("\\n"),
            '\t' => buf.push_str("\\t"),
            '\r' => buf.push_str("\\r"),
            c if (c as u32) < 0x20 => buf.push_str(&format!("\\u{:04x}", c as u32)),
            c => buf.push(c),
        }
    }
    buf.push('"');
}

#[derive(Default)]
struct Usage {
    input: u64,
    output: u64,
    cache_read: u64,
    cache_creation: u64,
    active_ms: u64,
}

/// The agents of a `--days` workspace: name, model, share in per mille (cumulative).
const AGENTS: &[(&str, &str, u64)] = &[
    ("code-reviewer", "claude-sonnet-4-5", 400),
    ("test-fixer", "claude-sonnet-4-5", 650),
    ("triage-bot", "claude-haiku-4-5", 800),
    ("migration-runner", "claude-opus-4-1", 920),
    ("docs-writer", "claude-haiku-4-5", 1000),
];

/// How a `--days` session ends.
#[derive(Clone, Copy)]
enum Ending {
    EndTurn,
    Stuck,
    RetriesExhausted,
    Terminated,
    Running,
}

#[derive(Clone, Copy)]
struct Workspace {
    agent: usize,
    ending: Ending,
}

impl Workspace {
    fn pick(rng: &mut Rng) -> Workspace {
        let a = rng.range(0, 999);
        let agent = AGENTS.iter().position(|x| a < x.2).unwrap_or(0);
        let ending = match rng.range(0, 999) {
            0..=899 => Ending::EndTurn,
            900..=939 => Ending::Stuck,
            940..=959 => Ending::RetriesExhausted,
            960..=974 => Ending::Terminated,
            _ => Ending::Running,
        };
        Workspace { agent, ending }
    }
}

/// Stops generation once the session has its share of events.
#[derive(Debug)]
struct Done;

impl std::fmt::Display for Done {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("done")
    }
}

impl Error for Done {}

struct Gen<'r, W: Write> {
    out: W,
    rng: &'r mut Rng,
    ids: &'r mut IdGen,
    now_ms: i64,
    left: u64,
    /// Events written so far.
    written: u64,
    /// With `--days`: the session's agent and how it ends (whole turns, then the ending).
    workspace: Option<Workspace>,
    bytes: u64,
    line: String,
    usage: Usage,
}

const PROJECTS: &[&str] = &["api", "web", "billing", "ingest", "auth-service", "infra"];
const DIRS: &[&str] = &[
    "app/auth",
    "app/models",
    "app/routes",
    "src/lib",
    "src/handlers",
    "tests",
    "billing/worker",
    "pkg/queue",
];
const FILES: &[&str] = &[
    "tokens.py",
    "session.py",
    "handlers.ts",
    "invoice.py",
    "consumer.py",
    "settings.py",
    "client.go",
    "retry.rs",
    "schema.sql",
    "test_auth.py",
];
const SYMBOLS: &[&str] = &[
    "issue_refresh_token",
    "is_expired",
    "RefreshToken",
    "InvoiceBatch",
    "publish_event",
    "with_retries",
    "QueueClient",
    "parse_timestamp",
    "settle_payment",
    "load_config",
];
const WORDS: &[&str] = &[
    "the",
    "test",
    "fails",
    "because",
    "token",
    "expiry",
    "is",
    "compared",
    "against",
    "a",
    "naive",
    "datetime",
    "so",
    "I'll",
    "update",
    "helper",
    "and",
    "rerun",
    "suite",
    "worker",
    "queue",
    "retries",
    "config",
    "migration",
    "handler",
    "now",
    "passes",
    "with",
    "fixture",
    "timezone",
    "before",
    "merge",
    "error",
    "path",
    "invoice",
    "payment",
    "schema",
    "column",
];
const CODE: &[&str] = &[
    "def issue_refresh_token(user_id: int, ttl: timedelta) -> RefreshToken:",
    "    expires_at = datetime.now(timezone.utc) + ttl",
    "    return RefreshToken(user_id=user_id, expires_at=expires_at)",
    "class InvoiceBatch(BaseModel):",
    "    invoices: list[Invoice] = Field(default_factory=list)",
    "    if not settings.QUEUE_URL:",
    "        raise ConfigError(\"QUEUE_URL is not set\")",
    "for attempt in range(max_retries):",
    "    try:",
    "        return client.publish(topic, payload, timeout=5.0)",
    "    except TransientError as exc:",
    "        log.warning(\"publish failed (attempt %d): %s\", attempt, exc)",
    "        time.sleep(backoff * 2 ** attempt)",
    "export async function settlePayment(id: string): Promise<Settlement> {",
    "  const row = await db.payments.findUnique({ where: { id } });",
    "  if (!row) throw new NotFoundError(`payment ${id}`);",
    "func (c *QueueClient) Publish(ctx context.Context, msg Message) error {",
    "\treturn c.inner.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &c.url})",
    "    assert is_expired(token)",
    "    frozen_clock.advance(timedelta(minutes=61))",
];
const TEST_LINES: &[&str] = &[
    "tests/test_auth.py::test_refresh_token_expires_after_ttl PASSED",
    "tests/test_auth.py::test_access_token_valid_within_ttl PASSED",
    "tests/test_billing.py::test_invoice_totals FAILED",
    "tests/test_queue.py::test_publish_retries_on_timeout PASSED",
    "E       TypeError: can't compare offset-naive and offset-aware datetimes",
    "E       AssertionError: assert Decimal('10.00') == Decimal('10.01')",
    "=========================== short test summary info ============================",
    "FAILED tests/test_billing.py::test_invoice_totals - AssertionError",
    "warning: unused variable: `attempt`",
    "   Compiling ingest v0.3.1 (/workspace/ingest)",
    "    Finished `test` profile [unoptimized + debuginfo] target(s) in 4.21s",
    "npm WARN deprecated inflight@1.0.6: This module is not supported",
];
const CUSTOM_TOOLS: &[&str] = &[
    "get_weather",
    "lookup_ticket",
    "query_metrics",
    "fetch_invoice",
];
const ERRORS: &[(&str, &str)] = &[
    (
        "model_overloaded_error",
        "The model is currently overloaded. Retrying.",
    ),
    (
        "model_rate_limited_error",
        "Rate limited by the model provider. Retrying.",
    ),
    (
        "unknown_error",
        "An unexpected error occurred while processing the request.",
    ),
];

impl<W: Write> Gen<'_, W> {
    /// Starts an event: `{"type":T,"id":ID`. Returns the id.
    fn begin(&mut self, ty: &str) -> Res<String> {
        if self.left == 0 && self.workspace.is_none() {
            return Err(Box::new(Done));
        }
        let id = self.ids.next(self.rng);
        self.line.clear();
        self.line.push_str("{\"type\":\"");
        self.line.push_str(ty);
        self.line.push_str("\",\"id\":\"");
        self.line.push_str(&id);
        self.line.push('"');
        Ok(id)
    }

    fn field_str(&mut self, key: &str, v: &str) {
        self.line.push_str(",\"");
        self.line.push_str(key);
        self.line.push_str("\":");
        push_json_str(&mut self.line, v);
    }

    /// `,"key":` followed by raw JSON.
    fn field_raw(&mut self, key: &str, json: &str) {
        self.line.push_str(",\"");
        self.line.push_str(key);
        self.line.push_str("\":");
        self.line.push_str(json);
    }

    fn content(&mut self, text: &str) {
        self.line
            .push_str(",\"content\":[{\"type\":\"text\",\"text\":");
        push_json_str(&mut self.line, text);
        self.line.push_str("}]");
    }

    /// Advances the clock, adds `processed_at`, closes and writes the event.
    fn end(&mut self, lo_ms: u64, hi_ms: u64) -> Res<()> {
        self.now_ms += self.rng.ms(lo_ms.max(1), hi_ms.max(1));
        let at = rfc3339_ms(self.now_ms);
        self.field_str("processed_at", &at);
        self.line.push_str("}\n");
        self.out.write_all(self.line.as_bytes())?;
        self.bytes += self.line.len() as u64;
        self.left = self.left.saturating_sub(1);
        self.written += 1;
        Ok(())
    }

    fn simple(&mut self, ty: &str, lo: u64, hi: u64) -> Res<String> {
        let id = self.begin(ty)?;
        self.end(lo, hi)?;
        Ok(id)
    }

    fn sentence(&mut self, min_words: u64, max_words: u64) -> String {
        let n = self.rng.range(min_words, max_words);
        let mut s = String::new();
        for i in 0..n {
            let w = self.rng.pick(WORDS);
            if i == 0 {
                let mut c = w.chars();
                if let Some(f) = c.next() {
                    s.extend(f.to_uppercase());
                    s.push_str(c.as_str());
                }
            } else {
                s.push(' ');
                s.push_str(w);
            }
        }
        s.push('.');
        s
    }

    fn path(&mut self) -> String {
        format!(
            "/workspace/{}/{}/{}",
            self.rng.pick(PROJECTS),
            self.rng.pick(DIRS),
            self.rng.pick(FILES)
        )
    }

    /// A tool result length: median a few hundred bytes, a long tail of file reads and logs.
    fn result_len(&mut self) -> usize {
        let r = self.rng.range(0, 999);
        let (lo, hi) = match r {
            0..=549 => (60, 500),
            550..=799 => (500, 2_500),
            800..=919 => (2_500, 8_000),
            _ => (8_000, 24_000),
        };
        self.rng.range(lo, hi) as usize
    }

    fn lines_text(&mut self, target: usize, pool: &[&str], numbered: bool) -> String {
        let mut s = String::with_capacity(target + 128);
        let mut n = self.rng.range(1, 400);
        while s.len() < target {
            if numbered {
                s.push_str(&format!("{n:6}\t"));
                n += 1;
            }
            s.push_str(self.rng.pick(pool));
            s.push('\n');
        }
        s.pop();
        s
    }

    fn session(&mut self) -> Res<()> {
        match self.session_inner() {
            Err(e) if e.is::<Done>() => Ok(()),
            other => other,
        }
    }

    fn session_inner(&mut self) -> Res<()> {
        self.begin("session.updated")?;
        let title = format!(
            "{} {} sweep",
            self.rng.pick(PROJECTS),
            self.rng
                .pick(&["dependency", "test", "refactor", "migration", "triage"])
        );
        self.field_str("title", &title);
        if let Some(w) = self.workspace {
            let (name, model, _) = AGENTS[w.agent];
            self.field_raw(
                "agent",
                &format!(
                    "{{\"type\":\"agent\",\"id\":\"agent_011CZsynthAgent{:010}\",\"name\":\"{name}\",\"version\":1,\"model\":{{\"id\":\"{model}\"}}}}",
                    w.agent + 1
                ),
            );
        }
        self.end(50, 500)?;
        loop {
            if let Some(w) = self.workspace
                && self.left == 0
            {
                return self.ending(w.ending);
            }
            self.turn()?;
        }
    }

    /// The end of a `--days` session, after its last whole turn.
    fn ending(&mut self, ending: Ending) -> Res<()> {
        if let Ending::EndTurn = ending {
            return Ok(());
        }
        self.user_message()?;
        self.simple("session.status_running", 200, 500)?;
        let start = self.simple("span.model_request_start", 100, 300)?;
        match ending {
            Ending::EndTurn => {}
            Ending::Stuck => {
                self.custom_tool_use(&start)?;
            }
            Ending::RetriesExhausted | Ending::Terminated => {
                let (retry, status) = match ending {
                    Ending::Terminated => ("terminal", None),
                    _ => ("exhausted", Some("retries_exhausted")),
                };
                self.begin("session.error")?;
                self.field_raw(
                    "error",
                    &format!(
                        "{{\"type\":\"unknown_error\",\"message\":\"An unexpected error occurred.\",\"retry_status\":{{\"type\":\"{retry}\"}}}}"
                    ),
                );
                self.end(1_000, 30_000)?;
                match status {
                    Some(reason) => {
                        self.begin("session.status_idle")?;
                        self.field_raw("stop_reason", &format!("{{\"type\":\"{reason}\"}}"));
                        self.field_raw("stop_details", "null");
                        self.end(100, 300)?;
                    }
                    None => {
                        self.simple("session.status_terminated", 100, 300)?;
                    }
                }
            }
            Ending::Running => {
                self.simple("agent.thinking", 800, 4_000)?;
            }
        }
        Ok(())
    }

    fn turn(&mut self) -> Res<()> {
        self.user_message()?;
        self.turn_rest()
    }

    fn user_message(&mut self) -> Res<()> {
        self.begin("user.message")?;
        let ask = format!(
            "{} Please look at {} and {}",
            self.sentence(8, 30),
            self.path(),
            self.sentence(6, 20).to_lowercase()
        );
        // processed_at first, as the API echoes user messages.
        self.now_ms += self.rng.ms(5_000, 600_000);
        let at = rfc3339_ms(self.now_ms);
        self.field_str("processed_at", &at);
        self.content(&ask);
        self.line.push_str("}\n");
        self.out.write_all(self.line.as_bytes())?;
        self.bytes += self.line.len() as u64;
        self.left = self.left.saturating_sub(1);
        self.written += 1;
        Ok(())
    }

    fn turn_rest(&mut self) -> Res<()> {
        self.simple("session.status_running", 200, 500)?;
        let steps = self.rng.range(2, 12);
        let custom_at = if self.rng.chance(80) {
            Some(self.rng.range(1, steps))
        } else {
            None
        };
        for step in 0..steps {
            if custom_at == Some(step) {
                self.custom_tool()?;
            }
            self.step()?;
        }
        // Final answer.
        let start = self.simple("span.model_request_start", 100, 250)?;
        self.simple("agent.thinking", 800, 4_000)?;
        self.begin("agent.message")?;
        let text = format!(
            "{} {} {}",
            self.sentence(15, 40),
            self.sentence(10, 30),
            self.sentence(5, 25)
        );
        self.content(&text);
        self.end(500, 3_000)?;
        self.model_end(&start)?;
        self.begin("session.status_idle")?;
        self.field_raw("stop_reason", "{\"type\":\"end_turn\"}");
        self.field_raw("stop_details", "null");
        self.end(100, 300)?;
        self.session_usage()
    }

    fn step(&mut self) -> Res<()> {
        let start = self.simple("span.model_request_start", 100, 300)?;
        if self.rng.chance(7) {
            self.error()?;
        }
        if self.rng.chance(850) {
            self.simple("agent.thinking", 800, 4_000)?;
        }
        if self.rng.chance(300) {
            self.begin("agent.message")?;
            let text = self.sentence(8, 30);
            self.content(&text);
            self.end(300, 1_500)?;
        }
        let tool = self
            .rng
            .pick(&["bash", "bash", "read", "read", "edit", "grep"]);
        let ask = self.rng.chance(20);
        let use_id = self.begin("agent.tool_use")?;
        self.field_str("name", tool);
        let input = self.tool_input(tool);
        self.field_raw("input", &input);
        if ask {
            self.field_raw(
                "evaluated_permission",
                "\"ask\",\"evaluation\":{\"type\":\"always_ask\"}",
            );
        } else {
            self.field_raw(
                "evaluated_permission",
                "\"allow\",\"evaluation\":{\"type\":\"always_allow\"}",
            );
        }
        self.end(300, 3_000)?;
        self.model_end(&start)?;
        if ask {
            self.begin("session.status_idle")?;
            self.field_raw(
                "stop_reason",
                &format!("{{\"type\":\"requires_action\",\"event_ids\":[\"{use_id}\"]}}"),
            );
            self.field_raw("stop_details", "null");
            self.end(100, 300)?;
            self.begin("user.tool_confirmation")?;
            self.field_str("tool_use_id", &use_id);
            self.field_str("result", "allow");
            self.end(2_000, 60_000)?;
            self.simple("session.status_running", 100, 400)?;
        }
        let len = self.result_len();
        let text = match tool {
            "read" => self.lines_text(len, CODE, true),
            "edit" => {
                let p = self.path();
                let snippet = self.lines_text(len.saturating_sub(80), CODE, true);
                format!(
                    "The file {p} has been updated. Here's the result of running `cat -n` on a snippet:\n{snippet}"
                )
            }
            "grep" => {
                let mut s = String::new();
                while s.len() < len {
                    let p = self.path();
                    let n = self.rng.range(1, 900);
                    let c = self.rng.pick(CODE);
                    s.push_str(&format!("{p}:{n}:{c}\n"));
                }
                s
            }
            _ => self.lines_text(len, TEST_LINES, false),
        };
        self.begin("agent.tool_result")?;
        self.field_str("tool_use_id", &use_id);
        self.content(&text);
        let is_error = if self.rng.chance(40) { "true" } else { "false" };
        self.field_raw("is_error", is_error);
        self.end(200, 10_000)
    }

    fn tool_input(&mut self, tool: &str) -> String {
        let mut s = String::from("{");
        match tool {
            "bash" => {
                let proj = self.rng.pick(PROJECTS);
                let cmd = match self.rng.range(0, 4) {
                    0 => format!("cd /workspace/{proj} && python -m pytest tests/ -q -x"),
                    1 => format!("cd /workspace/{proj} && git diff --stat HEAD~1"),
                    2 => format!(
                        "rg -n '{}' /workspace/{proj} | head -50",
                        self.rng.pick(SYMBOLS)
                    ),
                    3 => format!("cd /workspace/{proj} && cargo test --quiet 2>&1 | tail -40"),
                    _ => format!("cd /workspace/{proj} && npm test -- --runInBand"),
                };
                s.push_str("\"command\":");
                push_json_str(&mut s, &cmd);
                if self.rng.chance(300) {
                    s.push_str(",\"timeout_ms\":600000");
                }
            }
            "read" => {
                s.push_str("\"file_path\":");
                let p = self.path();
                push_json_str(&mut s, &p);
                if self.rng.chance(400) {
                    let a = self.rng.range(1, 300);
                    s.push_str(&format!(
                        ",\"view_range\":[{a},{}]",
                        a + self.rng.range(20, 120)
                    ));
                }
            }
            "edit" => {
                s.push_str("\"file_path\":");
                let p = self.path();
                push_json_str(&mut s, &p);
                s.push_str(",\"old_string\":");
                let old = self.rng.pick(CODE);
                push_json_str(&mut s, old);
                s.push_str(",\"new_string\":");
                let new = format!("{}\n{}", self.rng.pick(CODE), self.rng.pick(CODE));
                push_json_str(&mut s, &new);
            }
            _ => {
                s.push_str("\"pattern\":");
                let sym = self.rng.pick(SYMBOLS);
                push_json_str(&mut s, sym);
                s.push_str(",\"path\":");
                let proj = format!("/workspace/{}", self.rng.pick(PROJECTS));
                push_json_str(&mut s, &proj);
            }
        }
        s.push('}');
        s
    }

    fn model_end(&mut self, start: &str) -> Res<()> {
        let input = self.rng.range(80, 9_000);
        let output = self.rng.range(20, 1_200);
        let (creation, read) = if self.rng.chance(150) {
            (self.rng.range(1_000, 30_000), 0)
        } else {
            (0, self.rng.range(2_000, 120_000))
        };
        self.usage.input += input;
        self.usage.output += output;
        self.usage.cache_creation += creation;
        self.usage.cache_read += read;
        self.begin("span.model_request_end")?;
        self.field_str("model_request_start_id", start);
        self.field_raw("is_error", "false");
        self.field_raw(
            "model_usage",
            &format!(
                "{{\"input_tokens\":{input},\"output_tokens\":{output},\
                 \"cache_creation_input_tokens\":{creation},\"cache_read_input_tokens\":{read}}}"
            ),
        );
        self.end(150, 400)
    }

    fn custom_tool(&mut self) -> Res<()> {
        let start = self.simple("span.model_request_start", 100, 300)?;
        let (use_id, name, arg) = self.custom_tool_use(&start)?;
        self.begin("user.custom_tool_result")?;
        self.field_str("custom_tool_use_id", &use_id);
        let payload = format!(
            "{{\"id\": \"{name}-{arg}\", \"status\": \"ok\", \"value\": {}, \"note\": \"{}\"}}",
            self.rng.range(0, 10_000),
            self.sentence(5, 20)
        );
        self.content(&payload);
        self.field_raw("is_error", "false");
        self.end(1_000, 120_000)?;
        self.simple("session.status_running", 100, 400)?;
        Ok(())
    }

    /// A custom tool call from the model request `start`, and the idle that waits on it.
    fn custom_tool_use(&mut self, start: &str) -> Res<(String, &'static str, u64)> {
        let name = self.rng.pick(CUSTOM_TOOLS);
        let use_id = self.begin("agent.custom_tool_use")?;
        self.field_str("name", name);
        let arg = self.rng.range(1_000, 99_999);
        self.field_raw(
            "input",
            &format!("{{\"id\":\"{name}-{arg}\",\"verbose\":false}}"),
        );
        self.end(500, 3_000)?;
        self.model_end(start)?;
        self.begin("session.status_idle")?;
        self.field_raw(
            "stop_reason",
            &format!("{{\"type\":\"requires_action\",\"event_ids\":[\"{use_id}\"]}}"),
        );
        self.field_raw("stop_details", "null");
        self.end(100, 300)?;
        Ok((use_id, name, arg))
    }

    fn error(&mut self) -> Res<()> {
        let (ty, msg) = ERRORS[(self.rng.next() % ERRORS.len() as u64) as usize];
        self.begin("session.error")?;
        self.field_raw(
            "error",
            &format!(
                "{{\"type\":\"{ty}\",\"message\":\"{msg}\",\"retry_status\":{{\"type\":\"retrying\"}}}}"
            ),
        );
        self.end(1_000, 30_000)?;
        self.simple("session.status_rescheduled", 100, 500)?;
        self.simple("session.status_running", 2_000, 20_000)?;
        Ok(())
    }

    fn session_usage(&mut self) -> Res<()> {
        self.usage.active_ms += self.rng.range(5_000, 300_000);
        let u = &self.usage;
        let cost =
            (u.input * 3 + u.output * 15 + u.cache_creation * 4 + u.cache_read / 3) / 1_000_000;
        let json = format!(
            "{{\"input_tokens\":{},\"output_tokens\":{},\"cache_read_input_tokens\":{},\
             \"cache_creation\":{{\"ephemeral_5m_input_tokens\":{},\"ephemeral_1h_input_tokens\":0}},\
             \"active_seconds\":{:.1},\"list_cost\":{{\"amount\":\"{cost}\",\"currency\":\"USD\"}},\
             \"server_tool_use\":{{\"web_search_requests\":0,\"web_fetch_requests\":0}}}}",
            u.input,
            u.output,
            u.cache_read,
            u.cache_creation,
            u.active_ms as f64 / 1000.0
        );
        self.begin("session.usage")?;
        self.field_raw("usage", &json);
        self.end(50, 200)
    }
}
