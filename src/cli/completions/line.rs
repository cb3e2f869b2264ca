//! Where the cursor is on a partly typed command line: whether the word being completed is a
//! session argument (`timeline SESSION`, `diff A B`, `--session SESSION`...), read from the
//! same clap definitions as the parser, so a new command's SESSION argument completes with no
//! change here.

use clap::{Arg, Command};
use std::path::PathBuf;

/// The word being completed is a session id.
#[derive(Debug, PartialEq)]
pub struct SessionSlot {
    /// What has been typed of it.
    pub prefix: String,
    /// The `--db` given on the line, if any (else the one flightrec would use).
    pub db: Option<PathBuf>,
}

/// `words`: the command line up to the cursor, as the shell split it: the program first, the
/// word being completed (maybe empty) last. bash splits `--opt=value` into `--opt`, `=`,
/// `value`; the other shells keep it whole: both are read.
pub fn session_slot(root: &Command, words: &[String]) -> Option<SessionSlot> {
    let (current, before) = words.split_last()?;
    let before = before.get(1..)?;
    let mut root = root.clone();
    root.build();
    let mut walk = Walk {
        cmd: &root,
        sub: None,
        positionals: 0,
        expecting: None,
        after_dashes: false,
        db: None,
    };
    for word in before {
        walk.step(word)?;
    }
    let arg = match walk.expecting {
        Some(arg) => arg,
        None if current.starts_with('-') && !walk.after_dashes => return None,
        None => positional_at(walk.sub?, walk.positionals)?,
    };
    is_session(walk.sub?, arg).then(|| SessionSlot {
        prefix: current.clone(),
        db: walk.db,
    })
}

/// The state of a left-to-right reading of the words before the cursor.
struct Walk<'c> {
    /// The command whose options apply (the root, then the subcommand).
    cmd: &'c Command,
    sub: Option<&'c Command>,
    /// Positional arguments of the subcommand seen so far.
    positionals: usize,
    /// An option whose value is the next word.
    expecting: Option<&'c Arg>,
    after_dashes: bool,
    db: Option<PathBuf>,
}

impl<'c> Walk<'c> {
    /// Reads one word; `None` when the line is not one flightrec would parse (an unknown
    /// subcommand), so nothing is offered.
    fn step(&mut self, word: &str) -> Option<()> {
        if let Some(arg) = self.expecting {
            if word == "=" {
                return Some(()); // bash's split of `--opt=value`
            }
            self.expecting = None;
            self.value(arg, word);
            return Some(());
        }
        if self.after_dashes {
            self.positionals += 1;
        } else if word == "--" {
            self.after_dashes = true;
        } else if let Some(long) = word.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            let arg = self.cmd.get_arguments().find(|a| {
                a.get_long() == Some(name)
                    || a.get_all_aliases().is_some_and(|al| al.contains(&name))
            });
            match (arg.filter(|a| takes_value(a)), inline) {
                (Some(arg), Some(value)) => self.value(arg, value),
                (Some(arg), None) => self.expecting = Some(arg),
                (None, _) => {}
            }
        } else if word.len() > 1 && word.starts_with('-') {
            self.shorts(&word[1..]);
        } else if self.sub.is_none() {
            let sub = self.cmd.find_subcommand(word)?;
            self.cmd = sub;
            self.sub = Some(sub);
        } else {
            self.positionals += 1;
        }
        Some(())
    }

    /// A cluster of short flags (`-v`, `-n5`, `-n 5`).
    fn shorts(&mut self, cluster: &str) {
        for (i, c) in cluster.char_indices() {
            let Some(arg) = self.cmd.get_arguments().find(|a| a.get_short() == Some(c)) else {
                return;
            };
            if takes_value(arg) {
                let rest = &cluster[i + c.len_utf8()..];
                if rest.is_empty() {
                    self.expecting = Some(arg);
                } else {
                    self.value(arg, rest);
                }
                return;
            }
        }
    }

    fn value(&mut self, arg: &Arg, value: &str) {
        if arg.get_id() == "db" {
            self.db = Some(expand_home(value));
        }
    }
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_num_args().is_some_and(|n| n.takes_values())
}

/// The subcommand's positional argument at `index` (0-based); the last one takes the rest when
/// it takes several values (`check SESSION...`).
fn positional_at(cmd: &Command, index: usize) -> Option<&Arg> {
    let positionals: Vec<&Arg> = cmd.get_positionals().collect();
    positionals.get(index).copied().or_else(|| {
        positionals
            .last()
            .copied()
            .filter(|a| a.get_num_args().is_some_and(|n| n.max_values() > 1))
    })
}

/// Whether `arg` of `cmd` names a session: its value name says SESSION (`SESSION`,
/// `SESSION|TAPE`), or it is one of the two sessions `diff` compares.
pub fn is_session(cmd: &Command, arg: &Arg) -> bool {
    let named = arg
        .get_value_names()
        .is_some_and(|names| names.iter().any(|n| n.as_str().contains("SESSION")));
    named || (cmd.get_name() == "diff" && matches!(arg.get_id().as_str(), "a" | "b"))
}

/// `~/x` as typed on a line the shell has not expanded yet.
fn expand_home(value: &str) -> PathBuf {
    match (value.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(value),
    }
}
