//! Colour: the one decision (`--color`, NO_COLOR, CLICOLOR_FORCE, a terminal), flightrec's few
//! styles and the palette of event kinds shared by `replay` and `timeline`.

use super::visible;

/// `--color`: when to style output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    /// When stdout is a terminal, unless NO_COLOR is set (CLICOLOR_FORCE forces it on)
    Auto,
    /// Always, even into a pipe or a file (for `less -R`)
    Always,
    /// Never
    Never,
}

impl ColorWhen {
    /// Whether to style what goes to stdout. An explicit `always`/`never` wins; `auto` follows
    /// no-color.org (NO_COLOR set and non-empty: off), then CLICOLOR_FORCE (set, not `0`: on),
    /// then whether stdout is a terminal (not `TERM=dumb`).
    pub fn decide(self, stdout_is_terminal: bool, env: impl Fn(&str) -> Option<String>) -> bool {
        let set = |k: &str| env(k).is_some_and(|v| !v.is_empty());
        match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto if set("NO_COLOR") => false,
            ColorWhen::Auto
                if set("CLICOLOR_FORCE") && env("CLICOLOR_FORCE").as_deref() != Some("0") =>
            {
                true
            }
            ColorWhen::Auto => stdout_is_terminal && env("TERM").as_deref() != Some("dumb"),
        }
    }
}

/// flightrec's own styles: the only escape sequences it ever writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    Dim,
    Bold,
    Red,
    Green,
    Yellow,
    /// Bold yellow.
    BoldYellow,
    Magenta,
    Cyan,
}

impl Style {
    fn sgr(self) -> &'static str {
        match self {
            Style::Plain => "",
            Style::Dim => "\x1b[2m",
            Style::Bold => "\x1b[1m",
            Style::Red => "\x1b[31m",
            Style::Green => "\x1b[32m",
            Style::Yellow => "\x1b[33m",
            Style::BoldYellow => "\x1b[1;33m",
            Style::Magenta => "\x1b[35m",
            Style::Cyan => "\x1b[36m",
        }
    }

    /// The same style for a table cell (comfy-table writes its own escapes).
    pub(super) fn cell(self, text: String) -> comfy_table::Cell {
        use comfy_table::{Attribute, Cell, Color};
        let c = Cell::new(text);
        match self {
            Style::Plain => c,
            Style::Dim => c.add_attribute(Attribute::Dim),
            Style::Bold => c.add_attribute(Attribute::Bold),
            Style::Red => c.fg(Color::DarkRed),
            Style::Green => c.fg(Color::DarkGreen),
            Style::Yellow => c.fg(Color::DarkYellow),
            Style::BoldYellow => c.fg(Color::DarkYellow).add_attribute(Attribute::Bold),
            Style::Magenta => c.fg(Color::DarkMagenta),
            Style::Cyan => c.fg(Color::DarkCyan),
        }
    }
}

const RESET: &str = "\x1b[0m";

/// Styles text when colour is on; shows its control characters visibly either way.
#[derive(Clone, Copy, Debug)]
pub struct Painter {
    pub color: bool,
}

impl Painter {
    /// `text` made visible, then wrapped in `style` if colour is on.
    pub fn paint(&self, style: Style, text: &str) -> String {
        let text = visible(text);
        if self.color && style != Style::Plain {
            format!("{}{text}{RESET}", style.sgr())
        } else {
            text.into_owned()
        }
    }
}

/// The style of an event (a replay line, a timeline TYPE cell): errors red, status changes green
/// (running) or yellow (idle; bold when waiting on the client, magenta for other stop reasons and
/// reschedules), user input cyan, agent messages bold.
pub fn event_style(event_type: &str, summary: &str) -> Style {
    if event_type.ends_with(".error")
        || event_type == "session.status_terminated"
        || event_type == "session.deleted"
        || summary.contains("[error]")
    {
        return Style::Red;
    }
    match event_type {
        "session.status_running" | "session.thread_status_running" => Style::Green,
        "session.status_idle" | "session.thread_status_idle" => {
            if summary.contains("requires_action") {
                Style::BoldYellow
            } else if summary.contains("end_turn") {
                Style::Yellow
            } else {
                Style::Magenta
            }
        }
        "session.status_rescheduled" | "session.thread_status_rescheduled" => Style::Magenta,
        "agent.message" => Style::Bold,
        t if t.starts_with("user.") => Style::Cyan,
        _ => Style::Plain,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn no_color_turns_auto_off_and_an_explicit_choice_wins() {
        let no = [("NO_COLOR", "1")];
        assert!(!ColorWhen::Auto.decide(true, env(&no)));
        assert!(ColorWhen::Always.decide(false, env(&no)));
        assert!(ColorWhen::Auto.decide(true, env(&[("NO_COLOR", "")])));
        assert!(!ColorWhen::Auto.decide(false, env(&[])));
        assert!(ColorWhen::Auto.decide(false, env(&[("CLICOLOR_FORCE", "1")])));
        assert!(!ColorWhen::Auto.decide(false, env(&[("CLICOLOR_FORCE", "0")])));
        assert!(!ColorWhen::Auto.decide(true, env(&[("TERM", "dumb")])));
        assert!(!ColorWhen::Never.decide(true, env(&[("CLICOLOR_FORCE", "1")])));
    }
}
