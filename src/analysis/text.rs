//! Text helpers for one-line displays.

use serde_json::Value;

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

/// A tool input shown as what a person would recognise: bash's command, a file path, a pattern,
/// a URL, a query; otherwise compact JSON.
pub fn input_excerpt(tool: &str, input: &Value, max: usize) -> String {
    let field = |k: &str| input.get(k).and_then(Value::as_str);
    let primary = match tool {
        "bash" => field("command"),
        "read" | "write" | "edit" => field("file_path"),
        "glob" | "grep" => field("pattern"),
        "web_fetch" => field("url"),
        "web_search" => field("query"),
        _ => None,
    };
    match primary {
        Some(s) => excerpt(s, max),
        None if input.is_null() => String::new(),
        None => excerpt(&input.to_string(), max),
    }
}

/// A number with thousands separators: 182340 → "182,340".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
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

    #[test]
    fn tool_inputs_show_their_main_field() {
        let v: Value = serde_json::json!({"command": "pytest -q", "timeout_ms": 1000});
        assert_eq!(input_excerpt("bash", &v, 40), "pytest -q");
        let v: Value = serde_json::json!({"city": "Oslo"});
        assert_eq!(input_excerpt("get_weather", &v, 40), r#"{"city":"Oslo"}"#);
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(182340), "182,340");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
    }
}
