//! Headless frame-time benchmark: the whole viewer (every panel) on a large session, run
//! through `egui::Context::run_ui` at a fixed screen size with tessellation, zooming the
//! timeline in and out, panning, and scrolling the table through the session. No GPU: the
//! figures are the CPU cost of a frame, which is what grows with a session.
//!
//!   cargo bench -p flightrec-ui --bench frames -- [--db PATH] [--session ID] [--frames N]
//!
//! Defaults: /tmp/ui1m.db and the synthetic session of `examples/synth` (see BENCHMARKS.md).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use flightrec_ui::{Options, ViewerApp, setup};

struct Args {
    db: PathBuf,
    session: String,
    frames: usize,
}

fn args() -> Args {
    let mut a = Args {
        db: PathBuf::from("/tmp/ui1m.db"),
        session: "sesn_011CZsynth00000000000001".into(),
        frames: 600,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--db" => a.db = it.next().map(PathBuf::from).unwrap_or(a.db),
            "--session" => a.session = it.next().unwrap_or(a.session),
            "--frames" => a.frames = it.next().and_then(|n| n.parse().ok()).unwrap_or(a.frames),
            _ => {} // `cargo bench` adds --bench
        }
    }
    a
}

/// Peak resident memory of this process (VmHWM), in MiB.
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn input(t: f64) -> egui::RawInput {
    egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(1600.0, 1000.0),
        )),
        time: Some(t),
        ..Default::default()
    }
}

/// One frame, tessellated as eframe would before painting; returns its duration.
fn frame(ctx: &egui::Context, app: &mut ViewerApp, t: f64) -> Duration {
    let started = Instant::now();
    let mut out = ctx.run_ui(input(t), |ui| app.show(ui));
    let _meshes = ctx.tessellate(std::mem::take(&mut out.shapes), out.pixels_per_point);
    out.textures_delta.clear();
    started.elapsed()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let a = args();
    if !a.db.exists() {
        eprintln!(
            "frames: {} is missing; make it with examples/synth and flightrec import (see the module docs)",
            a.db.display()
        );
        std::process::exit(2);
    }
    let ctx = egui::Context::default();
    setup(&ctx);
    let started = Instant::now();
    let mut app = ViewerApp::new(
        Options {
            db: a.db.clone(),
            session: Some(a.session.clone()),
            follow: false,
        },
        Arc::new(|| {}),
    );
    let mut t = 0.0;
    let first = frame(&ctx, &mut app, t);
    let first_at = started.elapsed();
    // Frames while the loader reads the session (the UI stays live meanwhile).
    let mut loading_frames = Vec::new();
    while app.session().is_none() {
        t += 1.0 / 60.0;
        loading_frames.push(frame(&ctx, &mut app, t));
        std::thread::sleep(Duration::from_millis(16));
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "load took too long"
        );
    }
    let loaded_at = started.elapsed();
    t += 1.0 / 60.0;
    let first_with_data = frame(&ctx, &mut app, t);
    let first_drawn_at = started.elapsed();
    let events = app.session().map_or(0, |d| d.index.len());

    // The scripted session: zoom in step by step around moving anchors, pan, zoom back out,
    // and move the cursor through the table (which scrolls it and fetches rows).
    let mut times = Vec::with_capacity(a.frames);
    // Per kind of move: zoom, pan, cursor jumps.
    let mut by_move: [Vec<f64>; 3] = Default::default();
    for i in 0..a.frames {
        let phase = i % 120;
        let kind = match phase {
            0..=39 | 60..=99 => 0,
            40..=59 => 1,
            _ => 2,
        };
        let anchor = (i as f64 * 0.137).fract();
        match phase {
            0..=39 => app.view_mut().zoom(1.25, anchor),
            40..=59 => app.view_mut().pan(0.05),
            60..=99 => app.view_mut().zoom(0.8, anchor),
            _ => {
                let n = events.max(1);
                app.set_cursor((i * 7919 * 131) % n);
            }
        }
        t += 1.0 / 60.0;
        let d = frame(&ctx, &mut app, t);
        by_move[kind].push(ms(d));
        times.push(d);
    }
    let mut sorted: Vec<f64> = times.iter().copied().map(ms).collect();
    sorted.sort_by(f64::total_cmp);
    let pct = |p: f64| sorted[((sorted.len() - 1) as f64 * p).round() as usize];
    let loading_max = loading_frames.iter().copied().map(ms).fold(0.0, f64::max);
    println!(
        "session {} ({events} events) in {}",
        a.session,
        a.db.display()
    );
    println!(
        "first frame (loading shown): {:.1} ms, at {:.0} ms",
        ms(first),
        ms(first_at)
    );
    println!(
        "loading: {} frames while loading, slowest {:.1} ms; session loaded at {:.0} ms",
        loading_frames.len(),
        loading_max,
        ms(loaded_at)
    );
    println!(
        "first frame with the session: {:.1} ms, drawn at {:.0} ms",
        ms(first_with_data),
        ms(first_drawn_at)
    );
    println!(
        "{} frames zooming, panning and scrolling: median {:.2} ms, p95 {:.2} ms, max {:.2} ms",
        sorted.len(),
        pct(0.5),
        pct(0.95),
        pct(1.0)
    );
    for (name, v) in ["zoom", "pan", "cursor jump"]
        .iter()
        .zip(by_move.iter_mut())
    {
        v.sort_by(f64::total_cmp);
        if let (Some(mid), Some(max)) = (v.get(v.len() / 2), v.last()) {
            println!(
                "  {name}: median {mid:.2} ms, max {max:.2} ms ({} frames)",
                v.len()
            );
        }
    }
    println!("peak RSS: {:.0} MiB", peak_rss_mib());
}
