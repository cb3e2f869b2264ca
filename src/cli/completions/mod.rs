//! `flightrec completions SHELL`: clap_complete's static script for the shell, and for bash, zsh
//! and fish a few lines more that complete session ids from the database by asking the binary
//! (`flightrec __complete-sessions --line WORDS...`, hidden).
//!
//! Why not clap_complete's dynamic completion (`unstable-dynamic`, `COMPLETE=bash flightrec`):
//! it is outside clap's stability promise (any release may change it, and it turns on clap's
//! `unstable-ext`), it replaces the scripts users can read and install as files, and it has no
//! PowerShell counterpart to the static script. Here the static scripts stay as clap writes them;
//! the one dynamic question (is the cursor on a SESSION argument, and which ids start with what
//! was typed) is answered in Rust by [`line::session_slot`], from the same clap definitions.

mod line;

use clap::CommandFactory;
use clap_complete::Shell;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Cli, Outcome, exit};
use flightrec::store::Store;

#[derive(clap::Args)]
#[command(
    after_help = "Install (session ids complete from the database in bash, zsh and fish):\n  \
    bash: flightrec completions bash > ~/.local/share/bash-completion/completions/flightrec\n  \
    zsh:  flightrec completions zsh > ~/.zfunc/_flightrec   (with fpath+=(~/.zfunc) before compinit)\n  \
    fish: flightrec completions fish > ~/.config/fish/completions/flightrec.fish\n  \
    PowerShell: flightrec completions powershell >> $PROFILE"
)]
pub struct Args {
    /// The shell to write the completion script for
    #[arg(value_name = "SHELL")]
    shell: Shell,
}

/// `flightrec __complete-sessions`: what the scripts call.
#[derive(clap::Args)]
pub struct SessionArgs {
    /// WORDS are the command line up to the cursor (the program first, the word being completed
    /// last): print the ids when that word is a session argument, else nothing, with exit 1
    #[arg(long)]
    line: bool,
    /// PREFIX (the ids starting with it are printed), or the words with --line
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "PREFIX"
    )]
    words: Vec<String>,
}

/// `__complete-sessions --line`: the word is not a session id; the shell completes as usual.
const NOT_A_SESSION: u8 = 1;

/// The name the scripts complete.
const BIN: &str = "flightrec";

pub fn run(args: Args) -> Outcome {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut visible(Cli::command()), BIN, &mut script);
    let script = String::from_utf8(script)?;
    let script = match args.shell {
        Shell::Bash => format!("{script}\n{}", include_str!("sessions.bash")),
        Shell::Zsh => zsh(&script)?,
        Shell::Fish => format!("{script}\n{}", include_str!("sessions.fish")),
        _ => script,
    };
    let mut out = std::io::stdout().lock();
    out.write_all(script.as_bytes())?;
    out.flush()?;
    Ok(exit::OK)
}

/// The command without its hidden subcommands, which clap_complete would offer.
fn visible(cmd: clap::Command) -> clap::Command {
    let subs: Vec<clap::Command> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .cloned()
        .collect();
    let mut out = clap::Command::new(BIN).args(cmd.get_arguments().cloned());
    if let Some(about) = cmd.get_about() {
        out = out.about(about.clone());
    }
    out.version(env!("FLIGHTREC_VERSION")).subcommands(subs)
}

/// clap's zsh script ends by registering `_flightrec` (or running it when autoloaded from
/// fpath); that end is replaced by ours, which registers the wrapper instead.
fn zsh(script: &str) -> anyhow::Result<String> {
    let tail = "if [ \"$funcstack[1]\" = \"_flightrec\" ]; then";
    let Some(at) = script.rfind(tail) else {
        anyhow::bail!("clap_complete's zsh script no longer ends as expected (with `{tail}`)");
    };
    Ok(format!("{}{}", &script[..at], include_str!("sessions.zsh")))
}

/// Prints the session ids to offer, one a line, most recently active first. Nothing is ever
/// printed but ids: a missing or unreadable database offers none (exit 0).
pub fn sessions(db: Option<PathBuf>, args: SessionArgs) -> Outcome {
    let (prefix, db) = if args.line {
        match line::session_slot(&Cli::command(), &args.words) {
            Some(slot) => (slot.prefix, slot.db.or(db)),
            None => return Ok(NOT_A_SESSION),
        }
    } else if args.words.len() > 1 {
        anyhow::bail!("__complete-sessions takes one PREFIX (or --line WORDS...)");
    } else {
        (args.words.concat(), db)
    };
    let ids = ids(&super::db_path(db), &prefix).unwrap_or_default();
    let mut out = std::io::stdout().lock();
    for id in ids {
        writeln!(out, "{id}")?;
    }
    out.flush()?;
    Ok(exit::OK)
}

/// The ids starting with `prefix`, most recently active first (the order of `sessions`), of
/// those a shell can take as one plain word (an imported id holding `$(...)`, a space or a quote
/// is left out: bash's `compgen -W` would expand it); then the names `latest` and `latest-stuck`
/// when `prefix` is a non-empty start of them (so `l<TAB>` offers them, an empty word only ids).
fn ids(db: &Path, prefix: &str) -> anyhow::Result<Vec<String>> {
    let store = Store::open_read_only(db)?;
    let sessions = store.sessions_by_recency()?;
    let any = !sessions.is_empty();
    let mut ids: Vec<String> = sessions
        .into_iter()
        .map(|(id, _)| id)
        .filter(|id| id.starts_with(prefix) && is_plain_word(id))
        .collect();
    if any && !prefix.is_empty() {
        ids.extend(
            [super::resolve::LATEST, super::resolve::LATEST_STUCK]
                .iter()
                .filter(|name| name.starts_with(prefix))
                .map(|name| name.to_string()),
        );
    }
    Ok(ids)
}

fn is_plain_word(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

#[cfg(test)]
mod tests;
