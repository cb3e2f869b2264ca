//! Text helpers for one-line displays.

use serde_json::Value;

pub use crate::model::text::excerpt;

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
