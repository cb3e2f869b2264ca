//! Text cut to one line, for displays and messages. Here rather than in `analysis` because the
//! layers below it use it too (the API client's and the recorder's error messages).

/// The first `max` characters of `s` on one line (newlines and tabs become spaces, runs of
/// whitespace collapse), with `…` when cut.
pub fn excerpt(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(max.min(s.len()) + 3);
    let mut count = 0;
    let mut last_space = true;
    for c in s.chars() {
        let c = if c.is_whitespace() { ' ' } else { c };
        if c == ' ' && last_space {
            continue;
        }
        last_space = c == ' ';
        if count == max {
            while out.ends_with(' ') {
                out.pop();
            }
            out.push('…');
            return out;
        }
        out.push(c);
        count += 1;
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpts_are_one_line_and_marked_when_cut() {
        assert_eq!(
            excerpt("Three tests\nfail,   all in auth.", 100),
            "Three tests fail, all in auth."
        );
        assert_eq!(excerpt("abcdef", 3), "abc…");
        assert_eq!(excerpt("ab cdef", 3), "ab…");
        assert_eq!(excerpt("é€😀x", 3), "é€😀…");
    }
}
