//! Sets `FLIGHTREC_VERSION` for `flightrec --version`: the package version, followed by the
//! commit and its date when built from a git checkout of this package (`0.1.0 (abc1234
//! 2026-12-06)`), the version alone otherwise (a source tarball, no git). No dependency.
//!
//! It runs again when the checked-out commit changes (HEAD, the branch ref it points to, or
//! packed-refs), and not on every build.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let full = match checkout(&dir) {
        Some(commit) => format!("{version} ({commit})"),
        None => version,
    };
    println!("cargo::rustc-env=FLIGHTREC_VERSION={full}");
}

/// `abc1234 2026-12-06` when `dir` is the top of a git work tree with a commit checked out,
/// after asking Cargo to watch the files that name that commit.
fn checkout(dir: &Path) -> Option<String> {
    let paths = git(
        dir,
        &[
            "rev-parse",
            "--path-format=absolute",
            "--show-toplevel",
            "--git-dir",
            "--git-common-dir",
            "--symbolic-full-name",
            "HEAD",
        ],
    )?;
    let mut lines = paths.lines();
    let (top, git_dir, common) = (lines.next()?, lines.next()?, lines.next()?);
    // A tarball unpacked inside some other repository is not a checkout of this package.
    if std::fs::canonicalize(top).ok()? != std::fs::canonicalize(dir).ok()? {
        return None;
    }
    let head_ref = lines.next().filter(|r| r.starts_with("refs/"));
    watch(&Path::new(git_dir).join("HEAD"));
    if let Some(r) = head_ref {
        watch(&Path::new(git_dir).join(r));
        watch(&Path::new(common).join(r));
        watch(&Path::new(common).join("packed-refs"));
    }
    let commit = git(dir, &["log", "-1", "--format=%h %cs"])?;
    let commit = commit.trim();
    (!commit.is_empty()).then(|| commit.to_string())
}

/// Cargo reruns the script when the file changes. Only existing files: a missing one would
/// make it run on every build.
fn watch(path: &Path) {
    if path.is_file() {
        println!("cargo::rerun-if-changed={}", path.display());
    }
}

/// The output of a git command run in `dir`, or `None` when git is missing or fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8(out.stdout).ok()
}
