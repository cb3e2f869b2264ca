//! `flightrec demo`: the bundled sample logs served over loopback HTTP by `flightrec serve` (with
//! chaos on), recorded through the API into a fresh demo database, then shown. No key, no network.

use include_dir::{Dir, include_dir};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::api_args::runtime;
use super::{Outcome, args, exit, explain, output, sessions, timeline};
use flightrec::record::live::{RecordOptions, Until, record};
use flightrec::record::{FileReport, ImportError, import_reader, session_id_from_name};
use flightrec::serve::{Chaos, ServeOptions};
use flightrec::source::api::{ApiClient, ApiConfig, AuthStyle, VERSION_NEW};
use flightrec::store::Store;

/// The sample logs, compiled in so the demo works from any directory.
static SAMPLES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/sample-logs");

/// The sample whose timeline the demo prints: a session stuck on an unanswered custom tool.
const FEATURED: &str = "stuck-custom-tool";

#[derive(clap::Args)]
pub struct Args {
    /// Print only the sessions table, not the featured timeline
    #[arg(long)]
    quiet: bool,
    /// Load the samples straight into the database instead of recording them through HTTP
    #[arg(long)]
    offline: bool,
}

/// The demo's database: `--db` when given, else a fixed file in the temporary directory.
fn demo_db(db: Option<PathBuf>) -> PathBuf {
    db.unwrap_or_else(|| std::env::temp_dir().join("flightrec-demo.db"))
}

/// Sample files in name order: the event logs only (not the README or the generator).
pub fn sample_files() -> Vec<&'static include_dir::File<'static>> {
    let mut files: Vec<_> = SAMPLES
        .files()
        .filter(|f| {
            matches!(
                f.path().extension().and_then(|e| e.to_str()),
                Some("jsonl" | "sse" | "json")
            )
        })
        .collect();
    files.sort_by_key(|f| f.path());
    files
}

/// Imports every sample into `store`; returns the session ids, in file order, once each.
fn import_samples(store: &mut Store) -> anyhow::Result<(Vec<String>, u64)> {
    let mut sessions: Vec<String> = Vec::new();
    let mut events = 0;
    for file in sample_files() {
        let r = import_sample(store, file)?;
        events += r.counts.new;
        if !sessions.contains(&r.session_id) {
            sessions.push(r.session_id);
        }
    }
    store.checkpoint()?;
    Ok((sessions, events))
}

pub fn run(db: Option<PathBuf>, args: Args) -> Outcome {
    let path = demo_db(db);
    remove_database(&path)?;
    let sessions = if args.offline {
        let mut store = Store::open(&path)?;
        let (sessions, events) = import_samples(&mut store)?;
        output::print(format!(
            "Loaded {} sample sessions ({events} events) into {}\n",
            sessions.len(),
            path.display()
        ))?;
        sessions
    } else {
        record_over_http(&path)?
    };
    let store = Store::open_existing(&path)?;
    output::print_styled(sessions::table(&store.sessions()?))?;
    let featured = sessions
        .iter()
        .find(|s| s.to_lowercase().contains("stuckcustomtool"));
    if let (false, Some(f)) = (args.quiet, featured) {
        output::print(format!("\nTimeline of {f} ({FEATURED}):\n"))?;
        output::print_styled(timeline::session_table(&store, f)?)?;
        output::print(format!("\nWhy is it stuck? (flightrec explain {f})\n"))?;
        let summary = store.require_session(f)?;
        let stuck_after =
            args::parse_duration_micros(args::DEFAULT_STUCK_AFTER).map_err(anyhow::Error::msg)?;
        let why =
            explain::explain_session(&store, &summary, None, explain::wall_clock(), stuck_after)?;
        output::print(explain::text(&why))?;
    }
    output::print(format!(
        "\nExplore: flightrec --db {0} explain SESSION   (or sessions, timeline, spans, state, search, stats, replay)\n\
         Share:   flightrec --db {0} export SESSION --format html --redact -o session.html   (or tape, md, perfetto, otlp; diff A B)",
        path.display()
    ))?;
    Ok(exit::OK)
}

/// Serves the samples from a scratch database over loopback with chaos on, records every session
/// through the API into `path`, and checks the recording equals the samples.
fn record_over_http(path: &Path) -> anyhow::Result<Vec<String>> {
    let scratch = tempfile_dir()?;
    let source = scratch.join("samples.db");
    let (sessions, events) = {
        let mut store = Store::open(&source)?;
        import_samples(&mut store)?
    };
    let rt = runtime()?;
    let chaos = Chaos {
        drop_every: Some(9),
        repeat_every: Some(5),
        split: true,
        stall: None,
        list_error_rate: 0.2,
        malformed_every: Some(6),
        seed: 7,
    };
    let recorded = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let opts = ServeOptions {
            db: source.clone(),
            speed: None,
            live: true,
            max_gap: Some(Duration::from_millis(40)),
            api_key: None,
            ping_interval: Duration::from_secs(1),
            chaos,
            ..ServeOptions::new(source.clone())
        };
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(flightrec::serve::run(listener, opts, async move {
            let _ = stop_rx.await;
        }));
        let client = ApiClient::new(ApiConfig {
            base_url: format!("http://{addr}"),
            api_key: None,
            auth_style: AuthStyle::Bearer,
            version: VERSION_NEW.into(),
        })?;
        let (stop_recording, stop) = tokio::sync::watch::channel(false);
        let mut tasks = Vec::new();
        for s in &sessions {
            let opts = RecordOptions {
                session: s.clone(),
                until: Until::Never,
                deltas: true,
                idle_timeout: Duration::from_secs(5),
                give_up_after: Duration::from_secs(30),
                threads: true,
                page_size: 10,
                history_only: false,
                metrics: None,
            };
            let (c, p, n) = (client.clone(), path.to_path_buf(), stop.clone());
            tasks.push(tokio::spawn(
                async move { record(c, p, opts, n, |_| {}).await },
            ));
        }
        // The sessions play out live; stop the recorders (as Ctrl-C would) once all has arrived.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline && recorded_events(path) < events {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = stop_recording.send(true);
        let mut reports = Vec::new();
        for t in tasks {
            reports.push(t.await??);
        }
        let _ = stop_tx.send(());
        let _ = server.await;
        anyhow::Ok(reports)
    })?;
    let connections: u64 = recorded.iter().map(|r| r.connections).sum();
    let repeats: u64 = recorded.iter().map(|r| r.counts.duplicate).sum();
    let quarantined: u64 = recorded.iter().map(|r| r.counts.quarantined).sum();
    let retries = capture_kinds(path, "retry")?;
    let same = same_events(&source, path, &sessions)?;
    output::print(format!(
        "Recorded {} sample sessions live through flightrec serve on loopback into {}",
        sessions.len(),
        path.display()
    ))?;
    output::print(format!(
        "Chaos: {connections} stream connections for {} sessions (each dropped after 9 frames), {repeats} duplicate \
         copies merged (repeated frames, history overlapping the stream), {quarantined} malformed frames \
         quarantined and recovered from the log, {retries} failed list requests retried",
        sessions.len()
    ))?;
    output::print(format!(
        "Check: {events} events in the samples; the recording {}\n",
        if same {
            "holds every one of them, once, byte for byte".to_string()
        } else {
            "DIFFERS from the samples".to_string()
        }
    ))?;
    let _ = std::fs::remove_dir_all(&scratch);
    if !same {
        anyhow::bail!("the demo recording differs from the sample logs");
    }
    Ok(sessions)
}

/// Events in the database at `path` so far (0 while it does not exist yet).
fn recorded_events(path: &Path) -> u64 {
    Store::open_read_only(path)
        .and_then(|s| s.sessions())
        .map(|v| v.iter().map(|s| s.event_count).sum())
        .unwrap_or(0)
}

/// How many capture-log entries of `kind` the database holds.
fn capture_kinds(path: &Path, kind: &str) -> anyhow::Result<usize> {
    let store = Store::open_existing(path)?;
    let mut n = 0;
    for s in store.sessions()? {
        n += store
            .capture_log(&s.id)?
            .iter()
            .filter(|e| e.kind == kind)
            .count();
    }
    Ok(n)
}

/// Whether every session's events (id, type, text) are the same in both databases.
fn same_events(a: &Path, b: &Path, sessions: &[String]) -> anyhow::Result<bool> {
    let (a, b) = (Store::open_existing(a)?, Store::open_existing(b)?);
    for s in sessions {
        let q = flightrec::store::TimelineQuery::default();
        let key = |r: flightrec::store::EventRow| (r.event_id, r.event_type, r.raw);
        let mut x: Vec<_> = a.events(s, &q)?.into_iter().map(key).collect();
        let mut y: Vec<_> = b.events(s, &q)?.into_iter().map(key).collect();
        x.sort();
        y.sort();
        if x != y {
            return Ok(false);
        }
    }
    Ok(true)
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("flightrec-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn import_sample(store: &mut Store, file: &include_dir::File<'_>) -> anyhow::Result<FileReport> {
    let name = file.path().display().to_string();
    let session = session_id_from_name(file.path())
        .ok_or_else(|| ImportError::NoSession { path: name.clone() })?;
    let bytes = file.contents();
    Ok(import_reader(
        store,
        &name,
        &session,
        "",
        bytes,
        bytes.len() as u64,
        &mut |_, _| {},
    )?)
}

/// Starts the demo afresh: the database and its WAL companions go.
fn remove_database(path: &Path) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        match std::fs::remove_file(PathBuf::from(p)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(anyhow::anyhow!(
                    "{}: cannot remove the old demo database: {e}",
                    path.display()
                ));
            }
        }
    }
    Ok(())
}
