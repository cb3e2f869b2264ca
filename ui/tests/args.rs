//! The viewer's command line, run as a process: help and bad arguments end before any window.

use std::process::Command;

fn viewer(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_flightrec-ui"))
        .args(args)
        .output()
        .expect("run flightrec-ui")
}

#[test]
fn help_prints_the_usage_and_succeeds() {
    let out = viewer(&["--help"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "usage: flightrec-ui [--db PATH] [--no-follow] [SESSION]\n"
    );
}

#[test]
fn an_unknown_flag_is_one_error_line_then_the_usage_and_exit_2() {
    let out = viewer(&["--frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "flightrec-ui: unknown option --frobnicate\nusage: flightrec-ui [--db PATH] [--no-follow] [SESSION]\n"
    );
}
