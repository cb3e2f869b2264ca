//! Untrusted text made harmless for a terminal: the one definition of how control characters
//! are shown.
//!
//! Event text (messages, tool names and inputs, types, ids, errors, stop reasons, titles) is
//! whatever the agent, its tools or its users wrote. Printed raw, an ESC or a C1 control in it
//! would drive the reader's terminal: colours, a window title (OSC 0), a cleared screen, a
//! cursor moved back over what was printed (CR, BS). Every text a command prints goes through
//! [`visible`] first (`cli/output.rs` does it for all of them; the Markdown export for its file),
//! which replaces each such character with a visible stand-in:
//!
//! | characters | shown as |
//! |---|---|
//! | C0 controls U+0000–U+001F except tab and newline | their Unicode control picture, U+2400–U+241F: `␛` for ESC, `␇` BEL, `␍` CR, `␈` BS, `␀` NUL |
//! | DEL U+007F and the C1 controls U+0080–U+009F | `\u007f`, `\u0080` … `\u009f` |
//!
//! DEL and C1 have no pictures; their form is the escape JSON, JavaScript and Python read as that
//! very character. Raw, they can only sit inside strings in JSON (C0 controls cannot: JSON
//! escapes them, as `\u001b`), so a JSON text quoted in a report (a tool's input, the request
//! that unblocks a session) stays valid and means the same when copied from the terminal.
//!
//! Tab and newline are kept: they only move to the next stop or line. A stand-in has no
//! control character in it, so showing a text twice changes nothing more.

use std::borrow::Cow;

/// Whether a terminal would act on `c` rather than show it: C0 but tab and newline, DEL, C1.
pub fn is_hazard(c: char) -> bool {
    matches!(c, '\0'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}')
}

/// `s` with every [`is_hazard`] character replaced by its visible form (see the module doc);
/// borrowed when there is none.
pub fn visible(s: &str) -> Cow<'_, str> {
    let Some(first) = s.find(is_hazard) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len() + 8);
    out.push_str(&s[..first]);
    for c in s[first..].chars() {
        push_visible(&mut out, c);
    }
    Cow::Owned(out)
}

/// Appends `c`, or its visible form when it is a hazard.
pub fn push_visible(out: &mut String, c: char) {
    match c {
        '\0'..='\u{1f}' if c != '\t' && c != '\n' => {
            // U+2400 + the code: the Control Pictures block lines up with C0.
            out.push(char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'));
        }
        '\u{7f}'..='\u{9f}' => out.push_str(&format!("\\u{:04x}", c as u32)),
        _ => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_c0_control_but_tab_and_newline_becomes_its_picture() {
        for code in 0u32..0x20 {
            let c = char::from_u32(code).unwrap();
            let shown = visible(&c.to_string()).into_owned();
            if c == '\t' || c == '\n' {
                assert_eq!(shown, c.to_string());
                assert!(!is_hazard(c));
            } else {
                assert!(is_hazard(c));
                assert_eq!(shown, char::from_u32(0x2400 + code).unwrap().to_string());
            }
        }
        assert_eq!(visible("\u{1b}[31m"), "␛[31m");
        assert_eq!(visible("\u{1b}]0;pwned\u{7}"), "␛]0;pwned␇");
        assert_eq!(visible("a\rb\u{8}c\0"), "a␍b␈c␀");
    }

    #[test]
    fn del_and_every_c1_control_are_shown_as_their_json_escape() {
        assert_eq!(visible("x\u{7f}"), "x\\u007f");
        for code in 0x7fu32..0xa0 {
            let c = char::from_u32(code).unwrap();
            assert!(is_hazard(c));
            assert_eq!(visible(&c.to_string()), format!("\\u{code:04x}"));
        }
        assert_eq!(visible("\u{9b}2J"), "\\u009b2J");
    }

    #[test]
    fn printable_text_is_borrowed_unchanged() {
        for s in [
            "",
            "plain",
            "tab\tand\nnewline",
            "\u{a0}nbsp é ─ 🦀 ␛ \\u009b",
            "\u{2028}",
        ] {
            assert!(matches!(visible(s), Cow::Borrowed(_)), "{s:?}");
        }
        for c in ['\u{20}', '\u{7e}', '\u{a0}', '\u{ff}'] {
            assert!(!is_hazard(c));
        }
    }

    #[test]
    fn json_quoted_in_text_stays_the_same_json() {
        let v = serde_json::json!({"text": "a\u{1b}[31m\u{7f}\u{9b}\r"});
        let shown = visible(&v.to_string()).into_owned();
        assert!(!shown.chars().any(is_hazard), "{shown}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&shown).unwrap(),
            v
        );
    }

    #[test]
    fn showing_twice_changes_nothing_more() {
        let all: String = (0u32..0xa1).filter_map(char::from_u32).collect();
        let once = visible(&all).into_owned();
        assert!(!once.chars().any(is_hazard));
        assert_eq!(visible(&once), once);
    }
}
