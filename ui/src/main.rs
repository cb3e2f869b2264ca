//! `flightrec-ui [--db PATH] [--follow] [SESSION]`: the desktop viewer. Errors become one
//! message and exit code 2 here, and nowhere else.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use flightrec_ui::{Options, ViewerApp, setup};

const USAGE: &str = "usage: flightrec-ui [--db PATH] [--no-follow] [SESSION]";

/// `--db`, else `$FLIGHTREC_DB`, else flightrec.db in the user's data directory (as `flightrec`).
fn default_db() -> PathBuf {
    std::env::var_os("FLIGHTREC_DB")
        .map(PathBuf::from)
        .unwrap_or_else(flightrec::store::default_path)
}

fn parse(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut db = None;
    let mut session = None;
    let mut follow = true;
    let mut args = args.peekable();
    while let Some(a) = args.next() {
        match a.as_str() {
            "--db" => db = Some(PathBuf::from(args.next().ok_or("--db needs a path")?)),
            s if s.starts_with("--db=") => db = Some(PathBuf::from(&s[5..])),
            "--no-follow" => follow = false,
            "--follow" => follow = true,
            "-h" | "--help" => return Err(String::new()),
            s if s.starts_with('-') => return Err(format!("unknown option {s}")),
            s if session.is_none() => session = Some(s.to_string()),
            s => return Err(format!("unexpected argument {s}")),
        }
    }
    Ok(Options {
        db: db.unwrap_or_else(default_db),
        session,
        follow,
    })
}

fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) if e.is_empty() => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("flightrec-ui: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    if !options.db.exists() {
        eprintln!(
            "flightrec-ui: {}: no database here (import or record something first, or pass --db)",
            options.db.display()
        );
        return ExitCode::from(2);
    }
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("flightrec")
            .with_inner_size([1440.0, 900.0]),
        ..Default::default()
    };
    let result = eframe::run_native(
        "flightrec",
        native,
        Box::new(move |cc| {
            setup(&cc.egui_ctx);
            let ctx = cc.egui_ctx.clone();
            Ok(Box::new(ViewerApp::new(
                options,
                Arc::new(move || ctx.request_repaint()),
            )))
        }),
    );
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("flightrec-ui: cannot open a window: {e}");
            ExitCode::from(2)
        }
    }
}
