//! A byte-level JSON scanner that finds where values end without decoding them, so the elements
//! of an array can be cut out of input that is not all valid (a bad byte in one element) and
//! handed on one at a time.

/// Skips JSON whitespace from `at`.
pub(super) fn skip_ws(b: &[u8], mut at: usize) -> usize {
    while at < b.len() && matches!(b[at], b' ' | b'\t' | b'\n' | b'\r') {
        at += 1;
    }
    at
}

/// The end (exclusive) of the JSON value that starts at `start`, found from its brackets and
/// strings alone (the value itself is not validated). `None` when the input ends first.
pub(super) fn value_end(b: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    let mut in_string = false;
    while i < b.len() {
        let c = b[i];
        if in_string {
            match c {
                b'\\' => i += 1,
                b'"' => {
                    in_string = false;
                    if depth == 0 {
                        return Some(i + 1);
                    }
                }
                _ => {}
            }
        } else {
            match c {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    if depth == 0 {
                        return Some(i); // a scalar ended by its container
                    }
                    depth -= 1;
                    if depth == 0 {
                        return Some(i + 1);
                    }
                }
                b',' | b' ' | b'\t' | b'\n' | b'\r' if depth == 0 => return Some(i),
                _ => {}
            }
        }
        i += 1;
    }
    // A scalar may end with the input; a container or string may not.
    (depth == 0 && !in_string && i > start).then_some(b.len())
}

/// The elements of the array whose `[` is at `open`, as byte ranges, and the end of the array
/// (after `]`), or `Err(offset)` where the array stops making sense.
pub(super) fn array_elements(b: &[u8], open: usize) -> (Vec<(usize, usize)>, Result<usize, usize>) {
    let mut out = Vec::new();
    let mut at = skip_ws(b, open + 1);
    if b.get(at) == Some(&b']') {
        return (out, Ok(at + 1));
    }
    loop {
        let Some(end) = value_end(b, at).filter(|e| *e > at) else {
            return (out, Err(at));
        };
        out.push((at, end));
        at = skip_ws(b, end);
        match b.get(at) {
            Some(b',') => at = skip_ws(b, at + 1),
            Some(b']') => return (out, Ok(at + 1)),
            _ => return (out, Err(at)),
        }
    }
}

/// Where the array of a page's `data` member opens, for an object text starting at `0`.
pub(super) fn page_data_array(b: &[u8]) -> Option<usize> {
    let at = skip_ws(b, 0);
    if b.get(at) != Some(&b'{') {
        return None;
    }
    let mut at = skip_ws(b, at + 1);
    loop {
        let key_end = value_end(b, at)?;
        let key = &b[at..key_end];
        at = skip_ws(b, key_end);
        if b.get(at) != Some(&b':') {
            return None;
        }
        at = skip_ws(b, at + 1);
        if key == b"\"data\"" {
            return (b.get(at) == Some(&b'[')).then_some(at);
        }
        at = skip_ws(b, value_end(b, at)?);
        if b.get(at) != Some(&b',') {
            return None;
        }
        at = skip_ws(b, at + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_end_where_json_says() {
        assert_eq!(value_end(br#"{"a":"}\""} ,"#, 0), Some(11));
        assert_eq!(value_end(b"12,", 0), Some(2));
        assert_eq!(value_end(b"[1,[2]]x", 0), Some(7));
        assert_eq!(value_end(b"{\"a\":1", 0), None);
        let page = b"{\"next_page\":null, \"data\": [ {\"x\":\"\xff\"}, 3 ] }";
        let open = page_data_array(page).unwrap();
        let (items, end) = array_elements(page, open);
        assert_eq!(items.len(), 2);
        assert_eq!(&page[items[1].0..items[1].1], b"3");
        assert_eq!(end, Ok(page.len() - 2));
    }
}
