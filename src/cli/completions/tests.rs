use super::line::{SessionSlot, is_session, session_slot};
use super::*;

/// The slot for a line typed as one string (split on spaces; a trailing space means an empty
/// word being completed).
fn slot(line: &str) -> Option<SessionSlot> {
    let words: Vec<String> = line.split(' ').map(str::to_string).collect();
    session_slot(&Cli::command(), &words)
}

fn prefix(line: &str) -> Option<String> {
    slot(line).map(|s| s.prefix)
}

#[test]
fn a_session_positional_is_a_slot_with_what_was_typed() {
    assert_eq!(prefix("flightrec timeline "), Some(String::new()));
    assert_eq!(prefix("flightrec timeline sesn_01"), Some("sesn_01".into()));
    assert_eq!(
        prefix("flightrec explain --json sesn_"),
        Some("sesn_".into())
    );
    assert_eq!(
        prefix("flightrec view "),
        Some(String::new()),
        "SESSION|TAPE"
    );
}

#[test]
fn diff_completes_both_sessions_and_nothing_after() {
    assert!(prefix("flightrec diff ").is_some());
    assert!(prefix("flightrec diff sesn_a ").is_some());
    assert_eq!(prefix("flightrec diff sesn_a sesn_b "), None);
}

#[test]
fn check_takes_any_number_of_sessions() {
    assert!(prefix("flightrec check sesn_a sesn_b sesn_c ").is_some());
}

#[test]
fn session_options_are_slots_in_every_spelling() {
    assert_eq!(prefix("flightrec search --session s"), Some("s".into()));
    assert_eq!(prefix("flightrec import --session "), Some(String::new()));
    // bash splits `--session=s` into three words.
    assert_eq!(prefix("flightrec search --session = s"), Some("s".into()));
}

#[test]
fn other_words_are_not_slots() {
    assert_eq!(prefix("flightrec "), None, "a subcommand name");
    assert_eq!(prefix("flightrec timeline --"), None, "an option name");
    assert_eq!(
        prefix("flightrec timeline sesn_a "),
        None,
        "past the one session"
    );
    assert_eq!(prefix("flightrec import "), None, "import takes files");
    assert_eq!(prefix("flightrec search needle "), None, "search's query");
    assert_eq!(prefix("flightrec nosuchcommand "), None);
    assert_eq!(
        prefix("flightrec timeline --db "),
        None,
        "--db takes a path"
    );
}

#[test]
fn option_values_are_not_counted_as_positionals() {
    assert_eq!(
        prefix("flightrec diff --context 5 sesn_a "),
        Some(String::new()),
        "5 is --context's value, so this is B"
    );
    assert_eq!(prefix("flightrec diff --context=5 sesn_a sesn_b "), None);
}

#[test]
fn after_a_double_dash_a_dash_word_is_a_session() {
    assert_eq!(prefix("flightrec timeline -- -x"), Some("-x".into()));
}

#[test]
fn the_db_on_the_line_is_the_one_read_in_every_spelling() {
    for line in [
        "flightrec --db /tmp/a.db timeline ",
        "flightrec timeline --db /tmp/a.db ",
        "flightrec --db=/tmp/a.db timeline ",
        "flightrec --db = /tmp/a.db timeline ",
    ] {
        assert_eq!(
            slot(line).and_then(|s| s.db),
            Some(PathBuf::from("/tmp/a.db")),
            "{line}"
        );
    }
    assert_eq!(slot("flightrec timeline ").and_then(|s| s.db), None);
}

#[test]
fn every_command_naming_a_session_is_found() {
    let mut root = Cli::command();
    root.build();
    let mut found: Vec<String> = Vec::new();
    for sub in root.get_subcommands() {
        for arg in sub.get_arguments().filter(|a| is_session(sub, a)) {
            found.push(format!("{} {}", sub.get_name(), arg.get_id()));
        }
    }
    for want in [
        "timeline session",
        "explain session",
        "diff a",
        "diff b",
        "check sessions",
        "search session",
        "import session",
        "export session",
        "view session",
    ] {
        assert!(found.iter().any(|f| f == want), "{want} in {found:?}");
    }
    assert!(!found.iter().any(|f| f.ends_with(" db")), "{found:?}");
}

#[test]
fn only_plain_words_are_offered() {
    assert!(is_plain_word("sesn_011CZkZd7ABC-x.1"));
    for hostile in ["", "sesn_$(touch x)", "a b", "a'b", "a\nb", "`x`", "a;b"] {
        assert!(!is_plain_word(hostile), "{hostile:?}");
    }
}

#[test]
fn the_zsh_script_registers_the_wrapper_not_clap_function() {
    let mut script = Vec::new();
    clap_complete::generate(Shell::Zsh, &mut visible(Cli::command()), BIN, &mut script);
    let zsh = zsh(&String::from_utf8(script).unwrap()).unwrap();
    assert!(zsh.starts_with("#compdef flightrec\n"));
    assert!(zsh.contains("compdef _flightrec_sessions flightrec"));
    assert!(
        !zsh.contains("compdef _flightrec flightrec"),
        "clap's own end is gone"
    );
}

#[test]
fn no_script_offers_the_hidden_command() {
    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::PowerShell,
        Shell::Elvish,
    ] {
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut visible(Cli::command()), BIN, &mut script);
        let script = String::from_utf8(script).unwrap();
        assert!(script.contains("timeline"), "{shell}");
        assert!(!script.contains("__complete"), "{shell}");
    }
}
