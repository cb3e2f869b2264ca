//! The official Python SDK (anthropic 2.12.0, in a venv this test makes) as a client of
//! `flightrec serve`: lists with small pages and filters, streams, and strict class checks.

use std::path::Path;
use std::process::Command;

use crate::util::*;

const SDK: &str = "anthropic==2.12.0";

/// A venv with the SDK, made once per target directory.
fn venv() -> std::path::PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("sdk-venv");
    let python = venv.join("bin/python");
    let marker = venv.join(".flightrec-sdk-ok");
    if !marker.exists() {
        let o = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "python3 -m venv: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let o = Command::new(&python)
            .args(["-m", "pip", "install", "-q", SDK])
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "pip install {SDK}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        std::fs::write(&marker, SDK).unwrap();
    }
    python
}

#[test]
fn the_official_python_sdk_reads_every_sample_from_serve() {
    if !tier_takes("the official Python SDK from PyPI") {
        return;
    }
    let python = venv();
    let dir = tempdir();
    let db = dir.path().join("s.db");
    import_samples(&db);
    let exports = dir.path().join("exports");
    std::fs::create_dir_all(&exports).unwrap();
    let sessions = sample_sessions();
    for s in &sessions {
        std::fs::write(
            exports.join(format!("{s}.jsonl")),
            run(&db, &["export", s]).stdout,
        )
        .unwrap();
    }
    let (mut server, url) = crate::record::serve_process(&db, &[]);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/check_sdk.py");
    let o = Command::new(&python)
        .arg(script)
        .arg(&url)
        .arg(&exports)
        .output()
        .unwrap();
    server.kill().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        out.contains(&format!("{} sessions", sessions.len())),
        "{out}"
    );
    // Every type but the future-types sample's invented one parses into its own class.
    assert!(
        out.contains("\nunknown types: agent.plan_updated\n"),
        "{out}"
    );
}
