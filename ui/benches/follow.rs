//! Live-follow benchmark: the viewer follows a large session while another connection writes
//! to it, as `flightrec record` does. It measures the time from a batch's commit to the frame
//! that shows it, for batches that append (the usual case: new events sort last) and, in the
//! same run as the baseline, for a batch that forces a full reload (an event that sorts among
//! those already read, as a backfilled page can).
//!
//!   cargo bench -p flightrec-ui --bench follow -- [--db PATH] [--session ID] [--batches N]
//!
//! The database is copied first (the benchmark writes to the copy).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use flightrec::record::import::import_reader;
use flightrec::store::Store;
use flightrec_ui::{Options, ViewerApp, setup};

struct Args {
    db: PathBuf,
    session: String,
    batches: usize,
}

fn args() -> Args {
    let mut a = Args {
        db: PathBuf::from("/tmp/ui1m.db"),
        session: "sesn_011CZsynth00000000000001".into(),
        batches: 10,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--db" => a.db = it.next().map(PathBuf::from).unwrap_or(a.db),
            "--session" => a.session = it.next().unwrap_or(a.session),
            "--batches" => a.batches = it.next().and_then(|n| n.parse().ok()).unwrap_or(a.batches),
            _ => {} // `cargo bench` adds --bench
        }
    }
    a
}

fn frame(ctx: &egui::Context, app: &mut ViewerApp, t: f64) -> Duration {
    let started = Instant::now();
    let input = egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1600.0, 1000.0),
        )),
        time: Some(t),
        ..Default::default()
    };
    let mut out = ctx.run_ui(input, |ui| app.show(ui));
    let _meshes = ctx.tessellate(std::mem::take(&mut out.shapes), out.pixels_per_point);
    started.elapsed()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A turn's worth of events at `t` (RFC 3339 seconds from 2099): a message, a tool call and its
/// result, an idle. Ids are unique per batch.
fn batch(b: usize, at: &str) -> String {
    let id = |k: &str| format!("sevt_011CZfollow{b:06}{k:0>6}");
    [
        format!(r#"{{"type":"user.message","id":"{}","processed_at":"{at}","content":[{{"type":"text","text":"batch {b}"}}]}}"#, id("msg")),
        format!(r#"{{"type":"agent.tool_use","id":"{}","processed_at":"{at}","name":"bash","input":{{"command":"ls"}}}}"#, id("use")),
        format!(r#"{{"type":"agent.tool_result","id":"{}","processed_at":"{at}","tool_use_id":"{}","content":[{{"type":"text","text":"ok"}}]}}"#, id("res"), id("use")),
        format!(r#"{{"type":"session.status_idle","id":"{}","processed_at":"{at}","stop_reason":{{"type":"end_turn"}}}}"#, id("idl")),
    ]
    .join("\n")
}

fn write(db: &std::path::Path, session: &str, text: String) {
    let mut store = Store::open(db).expect("writer");
    import_reader(
        &mut store,
        "follow.jsonl",
        session,
        "",
        std::io::Cursor::new(text),
        0,
        &mut |_, _| {},
    )
    .expect("write");
}

/// Steps frames until the session has `n` events; returns the time taken and the slowest frame.
fn until_shown(ctx: &egui::Context, app: &mut ViewerApp, t: &mut f64, n: usize) -> (f64, f64) {
    let started = Instant::now();
    let mut slowest: f64 = 0.0;
    while app.session().map_or(0, |d| d.index.len()) < n {
        *t += 1.0 / 60.0;
        slowest = slowest.max(ms(frame(ctx, app, *t)));
        std::thread::sleep(Duration::from_millis(4));
        assert!(started.elapsed() < Duration::from_secs(120), "never shown");
    }
    (ms(started.elapsed()), slowest)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn main() {
    let a = args();
    if !a.db.exists() {
        eprintln!(
            "follow: {} is missing (see bench/viewer.sh)",
            a.db.display()
        );
        std::process::exit(2);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("follow.db");
    std::fs::copy(&a.db, &db).expect("copy the database");
    let ctx = egui::Context::default();
    setup(&ctx);
    let mut app = ViewerApp::new(
        Options {
            db: db.clone(),
            session: Some(a.session.clone()),
            follow: true,
        },
        Arc::new(|| {}),
    );
    let mut t = 0.0;
    let loading = Instant::now();
    until_shown(&ctx, &mut app, &mut t, 1);
    let loaded_ms = ms(loading.elapsed());
    let mut n = app.session().map_or(0, |d| d.index.len());
    let (mut shown, mut slowest) = (Vec::new(), Vec::new());
    for b in 0..a.batches {
        let at = format!("2099-01-01T00:{:02}:{:02}.000Z", b / 60, b % 60);
        write(&db, &a.session, batch(b, &at));
        n += 4;
        let (ms, worst) = until_shown(&ctx, &mut app, &mut t, n);
        shown.push(ms);
        slowest.push(worst);
    }
    // The baseline: an event that sorts among those read, which only a full load can place.
    write(
        &db,
        &a.session,
        r#"{"type":"user.message","id":"sevt_011CZfollowEarly00000001","processed_at":"2000-01-01T00:00:00.000Z","content":[]}"#.to_string(),
    );
    let (reload_ms, reload_worst) = until_shown(&ctx, &mut app, &mut t, n + 1);
    println!(
        "session {} ({n} events), loaded in {loaded_ms:.0} ms",
        a.session
    );
    println!(
        "appended batches (4 events each, {}): shown after median {:.0} ms, max {:.0} ms; slowest frame meanwhile {:.2} ms",
        shown.len(),
        median(shown.clone()),
        shown.iter().copied().fold(0.0, f64::max),
        slowest.iter().copied().fold(0.0, f64::max),
    );
    println!(
        "full reload (an event sorting earlier): shown after {reload_ms:.0} ms; slowest frame meanwhile {reload_worst:.2} ms"
    );
    println!(
        "ratio full reload / append (median): {:.1}x",
        reload_ms / median(shown)
    );
}
