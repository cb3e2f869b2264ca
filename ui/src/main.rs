//! `flightrec-ui [--db PATH] [--no-follow] [SESSION]`: the desktop viewer. It follows the
//! database by default (`--follow`, the default, is accepted too). Errors become one message and
//! exit code 2 here, and nowhere else. Arguments are read with lexopt, as ripgrep does.

use std::ffi::OsString;
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

/// What the command line asks for.
#[derive(Debug)]
enum Parsed {
    Run(Options),
    Help,
}

/// Reads the arguments (without the program name); an error is one line, without the usage.
fn parse(args: impl IntoIterator<Item = impl Into<OsString>>) -> Result<Parsed, String> {
    use lexopt::prelude::*;
    let mut db = None;
    let mut session = None;
    let mut follow = true;
    let mut parser = lexopt::Parser::from_args(args);
    while let Some(arg) = parser.next().map_err(|e| message(&e))? {
        match arg {
            Long("db") => match parser.value() {
                Ok(v) => db = Some(PathBuf::from(v)),
                Err(lexopt::Error::MissingValue { .. }) => return Err("--db needs a path".into()),
                Err(e) => return Err(message(&e)),
            },
            Long("no-follow") => follow = false,
            Long("follow") => follow = true,
            Short('h') | Long("help") => return Ok(Parsed::Help),
            Value(v) if session.is_none() => session = Some(v.to_string_lossy().into_owned()),
            Value(v) => return Err(format!("unexpected argument {}", v.to_string_lossy())),
            Short(c) => return Err(format!("unknown option -{c}")),
            Long(l) => return Err(format!("unknown option --{l}")),
        }
    }
    Ok(Parsed::Run(Options {
        db: db.unwrap_or_else(default_db),
        session,
        follow,
    }))
}

/// lexopt's errors in the viewer's words (`--flag=value` on a flag that takes none, say).
fn message(e: &lexopt::Error) -> String {
    match e {
        lexopt::Error::UnexpectedValue { option, .. } => format!("{option} takes no value"),
        other => other.to_string(),
    }
}

fn main() -> ExitCode {
    let options = match parse(std::env::args_os().skip(1)) {
        Ok(Parsed::Run(o)) => o,
        Ok(Parsed::Help) => {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Options {
        match parse(args.iter().copied()) {
            Ok(Parsed::Run(o)) => o,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn follows_by_default_and_reads_db_and_session() {
        let o = run(&["--db", "a.db", "sesn_1"]);
        assert_eq!(o.db, PathBuf::from("a.db"));
        assert_eq!(o.session.as_deref(), Some("sesn_1"));
        assert!(o.follow);
        assert_eq!(run(&["--db=b.db"]).db, PathBuf::from("b.db"));
        assert!(!run(&["--no-follow"]).follow);
        assert!(run(&["--no-follow", "--follow"]).follow);
    }

    #[test]
    fn help_is_asked_by_either_spelling() {
        for a in ["-h", "--help"] {
            assert!(matches!(parse([a]), Ok(Parsed::Help)), "{a}");
        }
    }

    #[test]
    fn a_bad_command_line_is_one_line_naming_the_culprit() {
        let cases = [
            (&["--nope"][..], "unknown option --nope"),
            (&["-x"][..], "unknown option -x"),
            (&["s1", "s2"][..], "unexpected argument s2"),
            (&["--db"][..], "--db needs a path"),
            (&["--follow=yes"][..], "--follow takes no value"),
        ];
        for (args, want) in cases {
            let e = parse(args.iter().copied()).expect_err("an error");
            assert_eq!(e, want);
            assert!(!e.contains('\n'));
        }
    }
}
