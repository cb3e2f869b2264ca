//! Terminal manners: colour (`--color`, NO_COLOR), the pager on a real pseudo-terminal (script(1))
//! and never into a pipe, tables that keep every id whole at 80 columns, `--wide`, and
//! `explain --format md`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

use crate::util::*;

const NOW: &str = "2026-12-01T00:00:00Z";
const MULTI: &str = "sesn_011CZmultiAgent000000010";
const STUCK: &str = "sesn_011CZstuckCustomTool0002";

/// A database of every sample, imported once by the real binary.
fn samples_db() -> &'static Path {
    static DB: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, db) = DB.get_or_init(|| {
        let dir = tempdir();
        let db = dir.path().join("samples.db");
        import_samples(&db);
        (dir, db)
    });
    db
}

/// `flightrec --db DB ARGS` with extra environment, no terminal anywhere.
fn run_env(db: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = bin();
    cmd.arg("--db").arg(db).args(args);
    clean_env(&mut cmd);
    cmd.envs(env.iter().copied()).output().unwrap()
}

fn clean_env(cmd: &mut Command) {
    for k in [
        "FLIGHTREC_DB",
        "COLUMNS",
        "NO_COLOR",
        "CLICOLOR_FORCE",
        "PAGER",
        "FLIGHTREC_PAGER",
        "LESS",
    ] {
        cmd.env_remove(k);
    }
}

/// Runs `shell` (a command line with `$FR` for the binary and the database) with stdout on a
/// pseudo-terminal of `rows`×`cols` (script(1)); what reached the terminal, CR LF made LF.
/// None when script(1) is missing in the hermetic tier.
fn on_pty(shell: &str, rows: u16, cols: u16, env: &[(&str, &str)]) -> Option<String> {
    if !has_program("script", "script(1) from bsdutils (a pseudo-terminal)") {
        return None;
    }
    let fr = format!(
        "'{}' --db '{}'",
        env!("CARGO_BIN_EXE_flightrec"),
        samples_db().display()
    );
    let line = format!(
        "stty rows {rows} cols {cols}; {}",
        shell.replace("$FR", &fr)
    );
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"]);
    clean_env(&mut cmd);
    let o = cmd
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{line}: {}", stderr(&o));
    Some(stdout(&o).replace("\r\n", "\n"))
}

/// A pager that records that it ran: its input in MARKER, its $LESS in MARKER.less.
fn recording_pager(dir: &Path) -> (String, PathBuf) {
    let marker = dir.join("paged");
    let pager = format!(
        "sh -c 'printf %s \"$LESS\" > \"{m}.less\"; cat > \"{m}\"'",
        m = marker.display()
    );
    (pager, marker)
}

fn event_ids(session: &str) -> Vec<String> {
    let o = run(samples_db(), &["timeline", session, "--json"]);
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn color_is_off_into_a_pipe_and_with_no_color_and_an_explicit_choice_wins() {
    let db = samples_db();
    let esc = |o: &Output| stdout(o).contains('\x1b');
    let t = ["timeline", MULTI];
    assert!(!esc(&run_env(db, &t, &[])), "auto into a pipe: no colour");
    let always = run_env(db, &[&t[..], &["--color", "always"]].concat(), &[]);
    assert!(
        stdout(&always).contains("\x1b[2msevt_"),
        "{}",
        stdout(&always)
    );
    let never = run_env(db, &[&t[..], &["--color", "never"]].concat(), &[]);
    assert!(!esc(&never));
    // NO_COLOR turns the default off; an explicit --color always still wins.
    let forced = run_env(
        db,
        &[&t[..], &["--color", "always"]].concat(),
        &[("NO_COLOR", "1")],
    );
    assert!(esc(&forced));
    let x = [
        "explain",
        STUCK,
        "--now",
        NOW,
        "--color",
        "always",
        "--no-pager",
    ];
    let explain = run_env(db, &x, &[]);
    assert!(
        stdout(&explain).contains("\x1b[1;33mNEEDS ATTENTION\x1b[0m"),
        "{}",
        stdout(&explain)
    );
    // On a terminal: coloured by default, plain with NO_COLOR or --color never.
    let Some(tty) = on_pty(
        "$FR timeline sesn_011CZmultiAgent000000010 --no-pager",
        50,
        200,
        &[],
    ) else {
        return;
    };
    assert!(tty.contains("\x1b["), "{tty}");
    let cmd = "$FR timeline sesn_011CZmultiAgent000000010 --no-pager";
    let tty = on_pty(cmd, 50, 200, &[("NO_COLOR", "1")]).unwrap();
    assert!(!tty.contains('\x1b'), "{tty}");
    let tty = on_pty(&format!("{cmd} --color never"), 50, 200, &[]).unwrap();
    assert!(!tty.contains('\x1b'), "{tty}");
}

#[test]
fn the_pager_runs_on_a_terminal_for_long_output_and_never_into_a_pipe() {
    let dir = tempdir();
    let (pager, marker) = recording_pager(dir.path());
    let env = [("FLIGHTREC_PAGER", pager.as_str())];
    let timeline = "$FR timeline sesn_011CZmultiAgent000000010";
    // 37 events on a 10-row terminal: paged, all of it, with LESS=FRX as git sets it.
    let Some(shown) = on_pty(timeline, 10, 200, &env) else {
        return;
    };
    let paged = std::fs::read_to_string(&marker).expect("the pager ran");
    let ids = event_ids(MULTI);
    let shown_ids = |text: &str| ids.iter().filter(|id| text.contains(id.as_str())).count();
    assert_eq!(shown_ids(&paged), 37, "not all paged: {paged}");
    assert_eq!(shown_ids(&shown), 0, "printed as well: {shown}");
    let less = std::fs::read_to_string(dir.path().join("paged.less")).unwrap();
    assert_eq!(less, "FRX");
    std::fs::remove_file(&marker).unwrap();

    // Into a pipe, even on a terminal: no pager.
    let piped = on_pty(&format!("{timeline} | cat"), 10, 200, &env).unwrap();
    assert!(!marker.exists(), "paged into a pipe");
    assert_eq!(shown_ids(&piped), 37);
    // --no-pager, and output shorter than the terminal: printed directly.
    let direct = on_pty(&format!("{timeline} --no-pager"), 10, 200, &env).unwrap();
    assert!(!marker.exists(), "paged with --no-pager");
    assert_eq!(shown_ids(&direct), 37, "{direct}");
    let tall = on_pty(timeline, 100, 200, &env).unwrap();
    assert!(!marker.exists(), "paged 38 lines on 100 rows");
    assert_eq!(shown_ids(&tall), 37);
    // PAGER=cat means none; a pager that cannot start means printing directly, quietly.
    for p in [("PAGER", "cat"), ("FLIGHTREC_PAGER", "/nonexistent/pager")] {
        let o = on_pty(&format!("{timeline}; echo exit=$?"), 10, 200, &[p]).unwrap();
        assert_eq!(shown_ids(&o), 37, "{p:?}: {o}");
        assert!(o.contains("exit=0"), "{p:?}: {o}");
    }
    // A pager quit early (reads one line): the command ends quietly, exit 0.
    let o = on_pty(
        &format!("{timeline}; echo exit=$?"),
        10,
        200,
        &[("PAGER", "head -1")],
    )
    .unwrap();
    assert!(o.contains("exit=0"), "{o}");
    assert!(!o.contains("error"), "{o}");
}

/// Every line at most `cols` wide, and every id in `ids` whole on one line.
fn assert_fits_with_ids_whole(text: &str, cols: usize, ids: &[String]) {
    for line in text.lines() {
        let width = line.chars().count();
        assert!(width <= cols, "{width} columns: {line:?}");
    }
    for id in ids {
        assert!(
            text.lines().any(|l| l.contains(id.as_str())),
            "{id} broken:\n{text}"
        );
    }
}

#[test]
fn an_80_column_table_keeps_every_id_whole_and_shortens_text_with_an_ellipsis() {
    let db = samples_db();
    let cols = [("COLUMNS", "80")];
    let sessions = sample_sessions();
    let o = run_env(db, &["sessions"], &cols);
    assert_fits_with_ids_whole(&stdout(&o), 80, &sessions);
    let o = run_env(db, &["timeline", MULTI], &cols);
    let text = stdout(&o);
    assert_fits_with_ids_whole(&text, 80, &event_ids(MULTI));
    // The long summaries were shortened: "…" ends a cell that went on.
    let full = stdout(&run_env(db, &["timeline", MULTI], &[]));
    assert!(full.contains("MySQL 8.4 LTS"));
    assert!(!text.contains("MySQL 8.4 LTS"), "not shortened:\n{text}");
    // stats' 13 columns cannot fit 80: the least important numbers are left out (never cut),
    // and it says so; --wide shows them all.
    let o = run_env(db, &["stats"], &cols);
    let table = stdout(&o);
    let table = table.split("Totals").next().unwrap();
    assert_fits_with_ids_whole(table, 80, &sessions);
    assert!(
        table.contains("LIST COST (EST.)") && table.contains("ERRORS"),
        "{table}"
    );
    assert!(
        !table.contains("CACHE WRITE") && !table.contains(",…"),
        "{table}"
    );
    assert!(
        table.contains("8 columns left out to fit 80 columns: --wide shows them"),
        "{table}"
    );
    let wide = stdout(&run_env(db, &["stats", "--wide"], &cols));
    assert!(
        wide.contains("CACHE WRITE") && !wide.contains("left out"),
        "{wide}"
    );
    // The pseudo-terminal's own width, no COLUMNS.
    let Some(tty) = on_pty("$FR sessions --no-pager", 40, 80, &[]) else {
        return;
    };
    assert_fits_with_ids_whole(&tty, 80, &sessions);
}

#[test]
fn wide_prints_long_text_in_full() {
    let db = samples_db();
    let full = stdout(&run_env(db, &["timeline", MULTI], &[]));
    let wide = stdout(&run_env(
        db,
        &["timeline", MULTI, "--wide"],
        &[("COLUMNS", "80")],
    ));
    assert_eq!(wide, full);
    assert!(wide.lines().any(|l| l.chars().count() > 80));
}

#[test]
fn explain_format_md_snapshot_and_json_is_the_same_as_dash_dash_json() {
    let db = samples_db();
    let md = run_env(db, &["explain", STUCK, "--now", NOW, "--format", "md"], &[]);
    assert_eq!(code(&md), 0, "{}", stderr(&md));
    insta::assert_snapshot!("explain-md-stuck-custom-tool", stdout(&md));
    let a = run_env(
        db,
        &["explain", STUCK, "--now", NOW, "--format", "json"],
        &[],
    );
    let b = run_env(db, &["explain", STUCK, "--now", NOW, "--json"], &[]);
    assert_eq!(stdout(&a), stdout(&b));
    let text = run_env(
        db,
        &["explain", STUCK, "--now", NOW, "--format", "text"],
        &[],
    );
    let plain = run_env(db, &["explain", STUCK, "--now", NOW], &[]);
    assert_eq!(stdout(&text), stdout(&plain));
    let both = run_env(db, &["explain", STUCK, "--format", "md", "--json"], &[]);
    assert_eq!(code(&both), 2);
    assert!(stderr(&both).contains("--json"), "{}", stderr(&both));
}
