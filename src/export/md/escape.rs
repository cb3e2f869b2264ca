//! Event text made safe for markdown: no HTML, no stray formatting, fences nothing can close.

use crate::export::html::{Quotes, escape};

/// `&`, `<`, `>` and `"` as entities: no event text becomes HTML in a markdown renderer. An
/// apostrophe stays as it is (see [`Quotes::Double`]).
pub fn html_escape(s: &str) -> String {
    escape(s, Quotes::Double)
}

/// One line of literal text: HTML escaped, markdown punctuation backslash-escaped, newlines
/// folded to spaces.
pub fn inline(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in html_escape(s).chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '|' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// flightrec's own prose (a summary, advice), which marks code between backticks: those stretches
/// become code spans, the rest is escaped as [`inline`]. Unpaired backticks are escaped.
pub fn prose(s: &str) -> String {
    let parts: Vec<&str> = s.split('`').collect();
    if parts.len().is_multiple_of(2) {
        return inline(s);
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| match (i % 2, p.is_empty()) {
            (0, _) => inline(p),
            (_, true) => inline("``"),
            _ => code(p),
        })
        .collect()
}

/// A code span that no backtick in `s` can close early.
pub fn code(s: &str) -> String {
    let s = s.replace(['\n', '\r'], " ");
    let ticks = "`".repeat(longest_run(&s, '`') + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{s}{pad}{ticks}")
}

fn longest_run(s: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for ch in s.chars() {
        run = if ch == c { run + 1 } else { 0 };
        best = best.max(run);
    }
    best
}

/// A fenced block whose fence is longer than any backtick run in `content`.
pub fn fence(content: &str, lang: &str) -> String {
    let f = "`".repeat(3.max(longest_run(content, '`') + 1));
    let nl = if content.ends_with('\n') { "" } else { "\n" };
    format!("{f}{lang}\n{content}{nl}{f}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_transcripts_escape_the_same_but_for_the_apostrophe() {
        let s = r#"<a href="x" title='y'>&</a>"#;
        assert_eq!(
            html_escape(s),
            "&lt;a href=&quot;x&quot; title='y'&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(
            crate::export::html::esc(s),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
    }

    #[test]
    fn prose_keeps_its_code_spans_and_escapes_the_rest() {
        assert_eq!(
            prose("under blocking (`unblock` in --json)"),
            "under blocking (`unblock` in --json)"
        );
        assert_eq!(prose("a `b_c` *d*"), r"a `b_c` \*d\*");
        assert_eq!(prose("one ` tick"), r"one \` tick");
    }

    #[test]
    fn fences_and_code_spans_outlast_the_backticks_they_hold() {
        assert_eq!(fence("a", "json"), "```json\na\n```\n");
        assert_eq!(fence("x ````` y\n", ""), "``````\nx ````` y\n``````\n");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`a"), "`` `a ``");
    }

    #[test]
    fn inline_text_is_neither_html_nor_markdown() {
        assert_eq!(
            inline("<b>*x*</b> [l](u) & \"q\"\nnext"),
            "&lt;b&gt;\\*x\\*&lt;/b&gt; \\[l\\](u) &amp; &quot;q&quot; next"
        );
    }
}
