//! Regressions: the project's own commands (the README's, CI's).

use std::path::Path;

fn repo_file(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(name)).unwrap()
}

/// The README's test command failed on a fresh machine: it was `cargo test --workspace`, while
/// only `.ci/run` installed Chromium, so CI passed and a new developer's run did not. CI must run
/// exactly the README's command and install nothing of its own.
#[test]
fn readme_test_command_is_what_ci_runs_and_ci_installs_nothing_else() {
    let readme = repo_file("README.md");
    let block = readme
        .split("```bash\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the README opens with a bash block");
    let commands: Vec<&str> = block
        .lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(commands.len(), 2, "two commands first: {commands:?}");
    let test_command = commands[1];
    let ci = repo_file(".ci/run");
    assert!(
        ci.lines().any(|l| l.trim() == test_command),
        ".ci/run does not run the README's test command `{test_command}`"
    );
    assert!(
        !ci.contains("apt-get install") && !ci.contains("pip install"),
        ".ci/run installs something the README's test command does not"
    );
    let script = test_command
        .strip_prefix("bash ")
        .expect("the test command is a script");
    let script = repo_file(script);
    assert!(script.contains("chromium") && script.contains("python3-venv"));
    assert!(script.contains("unset FLIGHTREC_TEST_TIER"));
}
