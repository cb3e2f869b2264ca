//! Shell integration: the completion scripts parse in their shells and complete session ids from
//! a real imported database; the man pages render with man(1); --version names the commit.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use crate::util::*;

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

/// The sample session ids, most recently active first, as `sessions --json` lists them.
fn ids_newest_first(db: &Path) -> Vec<String> {
    let o = run(db, &["sessions", "--json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

fn starting_with(ids: &[String], prefix: &str) -> Vec<String> {
    ids.iter()
        .filter(|i| i.starts_with(prefix))
        .cloned()
        .collect()
}

/// The script `flightrec completions SHELL` prints, written to `dir`.
fn script(shell: &str, dir: &Path) -> PathBuf {
    let o = bin().args(["completions", shell]).output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let path = dir.join(format!("flightrec.{shell}"));
    std::fs::write(&path, &o.stdout).unwrap();
    path
}

/// The directory of the binary under test, to put first on PATH: the scripts call `flightrec`.
fn path_with_bin() -> String {
    let dir = Path::new(env!("CARGO_BIN_EXE_flightrec")).parent().unwrap();
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Runs `program args...` and returns its output; asserts it ran.
fn sh(program: &str, args: &[&str], db: &Path) -> std::process::Output {
    Command::new(program)
        .args(args)
        .env("PATH", path_with_bin())
        .env("FLIGHTREC_DB", db)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn lines(o: &std::process::Output) -> Vec<String> {
    stdout(o).lines().map(str::to_string).collect()
}

#[test]
fn bash_completion_script_parses() {
    let dir = tempdir();
    let path = script("bash", dir.path());
    let o = sh("bash", &["-n", path.to_str().unwrap()], samples_db());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn zsh_completion_script_parses() {
    if !has_program("zsh", "zsh (apt: zsh)") {
        return;
    }
    let dir = tempdir();
    let path = script("zsh", dir.path());
    let o = sh("zsh", &["-n", path.to_str().unwrap()], samples_db());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn fish_completion_script_parses() {
    if !has_program("fish", "fish (apt: fish)") {
        return;
    }
    let dir = tempdir();
    let path = script("fish", dir.path());
    let o = sh(
        "fish",
        &["--no-execute", path.to_str().unwrap()],
        samples_db(),
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn powershell_completion_script_names_every_command() {
    let o = bin().args(["completions", "powershell"]).output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    for cmd in ["timeline", "explain", "completions", "man"] {
        assert!(text.contains(&format!("'flightrec;{cmd}'")), "{cmd}");
    }
    assert!(!text.contains("__complete-sessions"), "the hidden command");
}

/// What bash's completion function offers for `line` (the last word being completed).
fn bash_complete(script: &Path, db: &Path, line: &[&str]) -> Vec<String> {
    let program = format!(
        "source '{}'\nCOMP_WORDS=(\"$@\"); COMP_CWORD=$(($# - 1))\n\
         _flightrec_sessions flightrec \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display()
    );
    let mut args = vec!["-c", &program, "bash"];
    args.extend(line);
    let o = sh("bash", &args, db);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    lines(&o).into_iter().filter(|l| !l.is_empty()).collect()
}

#[test]
fn bash_completes_session_ids_from_the_database_newest_first_by_prefix() {
    let db = samples_db();
    let ids = ids_newest_first(db);
    assert!(ids.len() > 10);
    let dir = tempdir();
    let path = script("bash", dir.path());
    let all = bash_complete(&path, db, &["flightrec", "timeline", ""]);
    assert_eq!(all, ids);
    let re = bash_complete(&path, db, &["flightrec", "explain", "sesn_011CZre"]);
    assert_eq!(re, starting_with(&ids, "sesn_011CZre"));
    assert!(re.len() >= 2 && re.len() < ids.len(), "{re:?}");
    let b = bash_complete(&path, db, &["flightrec", "diff", &ids[0], "sesn_011CZh"]);
    assert_eq!(b, vec!["sesn_011CZhappyPath0000000001".to_string()]);
}

#[test]
fn bash_completes_options_and_commands_as_clap_does() {
    let dir = tempdir();
    let path = script("bash", dir.path());
    let db = samples_db();
    let limit = bash_complete(&path, db, &["flightrec", "timeline", "--li"]);
    assert_eq!(limit, vec!["--limit".to_string()]);
    let cmds = bash_complete(&path, db, &["flightrec", "ti"]);
    assert_eq!(cmds, vec!["timeline".to_string()]);
}

#[test]
fn bash_completes_nothing_for_a_session_when_the_database_is_missing() {
    let dir = tempdir();
    let path = script("bash", dir.path());
    let missing = dir.path().join("none.db");
    let got = bash_complete(&path, &missing, &["flightrec", "timeline", ""]);
    assert!(got.is_empty(), "{got:?}");
    assert!(!missing.exists(), "completion created the database");
}

#[test]
fn fish_completes_session_ids_from_the_database_newest_first() {
    if !has_program("fish", "fish (apt: fish)") {
        return;
    }
    let db = samples_db();
    let ids = ids_newest_first(db);
    let dir = tempdir();
    let path = script("fish", dir.path());
    let complete = |line: &str| {
        let program = format!("source '{}'; complete -C '{line}'", path.display());
        lines(&sh("fish", &["-c", &program], db))
    };
    assert_eq!(
        complete("flightrec timeline sesn_011CZre"),
        starting_with(&ids, "sesn_011CZre")
    );
    assert_eq!(complete("flightrec check x y "), ids);
}

#[test]
fn complete_sessions_lists_the_ids_newest_first_and_filters_by_prefix() {
    let db = samples_db();
    let ids = ids_newest_first(db);
    let o = run(db, &["__complete-sessions"]);
    assert_eq!((code(&o), lines(&o)), (0, ids.clone()));
    let o = run(db, &["__complete-sessions", "sesn_011CZst"]);
    assert_eq!(lines(&o), vec!["sesn_011CZstuckCustomTool0002".to_string()]);
    let o = run(db, &["__complete-sessions", "nope"]);
    assert_eq!((code(&o), stdout(&o)), (0, String::new()));
}

#[test]
fn complete_sessions_reads_the_database_of_flightrec_db_and_of_the_line() {
    let db = samples_db();
    let ids = ids_newest_first(db);
    let o = bin()
        .args([
            "__complete-sessions",
            "--line",
            "--",
            "flightrec",
            "timeline",
            "",
        ])
        .env("FLIGHTREC_DB", db)
        .output()
        .unwrap();
    assert_eq!((code(&o), lines(&o)), (0, ids.clone()));
    let elsewhere = tempdir();
    let on_line = db.display().to_string();
    let o = run(
        &elsewhere.path().join("other.db"),
        &[
            "__complete-sessions",
            "--line",
            "--",
            "flightrec",
            "--db",
            &on_line,
            "state",
            "",
        ],
    );
    assert_eq!(lines(&o), ids, "--db on the line wins");
}

#[test]
fn complete_sessions_says_when_the_word_is_not_a_session() {
    let o = run(
        samples_db(),
        &[
            "__complete-sessions",
            "--line",
            "--",
            "flightrec",
            "import",
            "",
        ],
    );
    assert_eq!(
        (code(&o), stdout(&o), stderr(&o)),
        (1, String::new(), String::new())
    );
}

#[test]
fn complete_sessions_prints_nothing_but_ids_when_the_database_is_bad() {
    let dir = tempdir();
    let text = dir.path().join("not-a-db");
    std::fs::write(&text, "hello").unwrap();
    for db in [dir.path().join("missing.db"), text] {
        let o = run(&db, &["__complete-sessions"]);
        assert_eq!(
            (code(&o), stdout(&o)),
            (0, String::new()),
            "{}",
            db.display()
        );
    }
}

#[test]
fn a_session_id_a_shell_would_expand_is_never_offered() {
    let dir = tempdir();
    let db = dir.path().join("h.db");
    import_samples(&db);
    let c = rusqlite::Connection::open(&db).unwrap();
    c.execute(
        "INSERT INTO sessions (id) VALUES ('sesn_$(touch pwned)'), ('sesn_a b')",
        [],
    )
    .unwrap();
    drop(c);
    let o = run(&db, &["__complete-sessions", "sesn_"]);
    let got = lines(&o);
    assert_eq!(got, ids_newest_first(samples_db()));
}

/// `man -l` renders `page` as plain text, 80 columns.
fn man_text(page: &Path) -> String {
    let o = Command::new("sh")
        .arg("-c")
        .arg("MANWIDTH=80 man -l \"$1\" | col -b")
        .arg("sh")
        .arg(page)
        .env("MAN_KEEP_FORMATTING", "0")
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // Justified text: one space between words.
    let words = |l: &str| l.split_whitespace().collect::<Vec<_>>().join(" ");
    stdout(&o).lines().map(words).collect::<Vec<_>>().join("\n")
}

/// The visible subcommands, from `--help`.
fn commands() -> Vec<String> {
    let o = bin().arg("--help").output().unwrap();
    let help = stdout(&o);
    let list = &help[help.find("Commands:").unwrap()..help.find("Options:").unwrap()];
    list.lines()
        .skip(1)
        .filter_map(|l| l.strip_prefix("  "))
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn man_page_renders_with_its_sections_and_every_command() {
    if !has_program("man", "man (apt: man-db)") {
        return;
    }
    let o = bin().arg("man").output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let dir = tempdir();
    let page = dir.path().join("flightrec.1");
    std::fs::write(&page, &o.stdout).unwrap();
    let text = man_text(&page);
    for section in ["NAME", "SYNOPSIS", "OPTIONS", "SUBCOMMANDS"] {
        assert!(text.lines().any(|l| l == section), "{section}:\n{text}");
    }
    let cmds = commands();
    assert!(cmds.len() > 15, "{cmds:?}");
    for cmd in &cmds {
        assert!(
            text.contains(&format!("flightrec-{cmd}(1)")),
            "{cmd}:\n{text}"
        );
    }
    assert!(
        !text.contains("__complete"),
        "the hidden command is left out"
    );
}

#[test]
fn man_dir_writes_one_page_per_command_that_man_renders() {
    let dir = tempdir();
    let out = dir.path().join("new/man1");
    let o = bin().args(["man", "--dir"]).arg(&out).output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let mut written: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    written.sort();
    let mut want: Vec<String> = commands()
        .iter()
        .map(|c| format!("flightrec-{c}.1"))
        .collect();
    want.push("flightrec.1".into());
    want.sort();
    assert_eq!(written, want);
    assert!(stderr(&o).contains(&format!("wrote {} man pages", want.len())));
    if has_program("man", "man (apt: man-db)") {
        let text = man_text(&out.join("flightrec-timeline.1"));
        assert!(
            text.contains("flightrec-timeline - Show a session"),
            "{text}"
        );
        assert!(text.contains("--limit <N>\nAt most N events"), "{text}");
    }
}

#[test]
fn man_dir_that_cannot_be_made_is_a_one_line_error() {
    let dir = tempdir();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    let o = bin()
        .args(["man", "--dir"])
        .arg(file.join("man1"))
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("flightrec: error: cannot create the man page directory ")
            && err.contains("a-file/man1"),
        "{err}"
    );
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let o = bin().arg("--version").output().unwrap();
    assert_eq!(code(&o), 0);
    let line = stdout(&o);
    let re =
        regex::Regex::new(r"^flightrec \d+\.\d+\.\d+( \(([0-9a-f]{7,}) (\d{4}-\d{2}-\d{2})\))?\n$")
            .unwrap();
    let caps = re.captures(&line).unwrap_or_else(|| panic!("{line:?}"));
    // Built from a git checkout (as here and in CI): the checked-out commit and its date.
    let head = Command::new("git")
        .args(["log", "-1", "--format=%h %cs"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success());
    match head {
        Some(head) => {
            let got = caps.get(2).zip(caps.get(3));
            let got = got.map(|(h, d)| format!("{} {}", h.as_str(), d.as_str()));
            assert_eq!(got.as_deref(), Some(stdout(&head).trim()), "{line}");
        }
        None => assert!(caps.get(1).is_none(), "no git here: {line}"),
    }
}

/// `latest` and `latest-stuck` are session names too: a word starting them completes to them;
/// an empty word offers only ids, and an empty database offers nothing.
#[test]
fn complete_sessions_offers_latest_and_latest_stuck_for_a_word_starting_them() {
    let db = samples_db();
    let o = run(db, &["__complete-sessions", "l"]);
    assert_eq!(
        lines(&o),
        vec!["latest".to_string(), "latest-stuck".to_string()]
    );
    let o = run(db, &["__complete-sessions", "latest-"]);
    assert_eq!(lines(&o), vec!["latest-stuck".to_string()]);
    let o = run(db, &["__complete-sessions"]);
    assert!(!lines(&o).iter().any(|l| l.starts_with("latest")), "{o:?}");
}
