//! Property tests of `serve`'s query strings and page cursors: any query string gives valid
//! values or a 400 whose one-line message names the parameter; pairs come back as they were
//! encoded, in either spelling of `[]`; cursors round-trip, and a string is taken for a cursor
//! only in the one spelling the server writes. Run by `crate::props::check`.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

use axum::http::StatusCode;
use proptest::prelude::*;

use super::error::ApiError;
use super::query::*;
use crate::props::check;
use crate::store::PageQuery;

const KEYS: [&str; 12] = [
    "limit",
    "order",
    "page",
    "created_at[gt]",
    "created_at[gte]",
    "created_at[lt]",
    "created_at[lte]",
    "statuses[]",
    "event_deltas[]",
    "types[]",
    "types",
    "beta",
];

/// A value: a dictionary word of the API's, a number, a timestamp or any short text.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("asc".to_string()),
        Just("desc".to_string()),
        Just("idle".to_string()),
        Just("agent.message".to_string()),
        Just("2026-08-07T14:02:11.482000+00:00".to_string()),
        Just(event_cursor((1, 2))),
        (0u64..2000).prop_map(|n| n.to_string()),
        "[a-z0-9 %&=+\\[\\]é\u{0}\n.:-]{0,12}",
    ]
}

/// Query strings as clients write them, and as nobody would.
fn query() -> impl Strategy<Value = String> {
    let pair = (prop::sample::select(&KEYS[..]), value(), any::<bool>()).prop_map(|(k, v, enc)| {
        let mut s = form_urlencoded::Serializer::new(String::new());
        s.append_pair(k, &v);
        let s = s.finish();
        if enc {
            s
        } else {
            s.replace("%5B", "[").replace("%5D", "]")
        }
    });
    prop_oneof![
        prop::collection::vec(pair, 0..6).prop_map(|p| p.join("&")),
        "[a-z%&=+\\[\\]0-9A-F\u{0}é]{0,40}",
    ]
}

/// A 400 with a one-line message naming `param`.
fn is_400(e: &ApiError, param: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(e.status, StatusCode::BAD_REQUEST);
    prop_assert_eq!(e.kind, "invalid_request_error");
    prop_assert!(
        e.message.starts_with(param),
        "{:?} does not name {}",
        e.message,
        param
    );
    prop_assert!(!e.message.contains('\n'), "{:?}", e.message);
    Ok(())
}

#[test]
fn prop_query_any_string_gives_values_or_a_400_naming_the_parameter() {
    check("query any string", 256, query(), |q| {
        let p = Params::parse(Some(&q));
        match p.limit(20, 100) {
            Ok(n) => prop_assert!((1..=100).contains(&n)),
            Err(e) => is_400(&e, "limit:")?,
        }
        match p.desc(true) {
            Ok(d) => prop_assert_eq!(d, p.get("order") != Some("asc")),
            Err(e) => is_400(&e, "order:")?,
        }
        let mut pq = PageQuery::default();
        if let Err(e) = p.time_bounds(&mut pq) {
            is_400(&e, "created_at[")?;
        }
        match p.statuses() {
            Ok(list) => prop_assert!(list.iter().all(|s| STATUSES.contains(&s.as_str()))),
            Err(e) => is_400(&e, "statuses[]:")?,
        }
        match p.event_deltas() {
            Ok(list) => prop_assert!(
                list.len() <= 100
                    && list
                        .iter()
                        .all(|t| t == "agent.message" || t == "agent.thinking")
            ),
            Err(e) => is_400(&e, "event_deltas[]:")?,
        }
        for r in [
            p.cursor(parse_event_cursor).map(|_| ()),
            p.cursor(parse_session_cursor).map(|_| ()),
            p.cursor(parse_offset_cursor).map(|_| ()),
        ] {
            if let Err(e) = r {
                is_400(&e, "page:")?;
            }
        }
        Ok(())
    });
}

#[test]
fn prop_query_pairs_come_back_as_encoded() {
    let pairs = prop::collection::vec(
        (prop::sample::select(&KEYS[..]), value(), any::<bool>()),
        0..8,
    );
    check("query pairs", 256, pairs, |pairs| {
        let q: Vec<String> = pairs
            .iter()
            .map(|(k, v, enc)| {
                let mut s = form_urlencoded::Serializer::new(String::new());
                s.append_pair(k, v);
                let s = s.finish();
                if *enc {
                    s
                } else {
                    s.replace("%5B", "[").replace("%5D", "]")
                }
            })
            .collect();
        let p = Params::parse(Some(&q.join("&")));
        for key in KEYS {
            let first = pairs.iter().find(|(k, v, _)| *k == key && !v.is_empty());
            prop_assert_eq!(p.get(key), first.map(|(_, v, _)| v.as_str()), "get {}", key);
        }
        let types: Vec<String> = pairs
            .iter()
            .filter(|(k, _, _)| *k == "types" || *k == "types[]")
            .map(|(_, v, _)| v.clone())
            .collect();
        prop_assert_eq!(p.list("types"), types);
        Ok(())
    });
}

#[test]
fn prop_query_cursors_round_trip() {
    let keys = (
        any::<(i64, i64)>(),
        any::<bool>(),
        any::<i64>(),
        ".{0,12}",
        0..=i64::MAX as u64,
    );
    check(
        "cursors round trip",
        512,
        keys,
        |(ek, before, ts, id, n)| {
            prop_assert_eq!(parse_event_cursor(&event_cursor(ek)), Some(ek));
            let c = session_cursor(before, (ts, &id));
            prop_assert_eq!(parse_session_cursor(&c), Some((before, ts, id.clone())));
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            prop_assert_eq!(parse_offset_cursor(&offset_cursor(n)), Some(n));
            Ok(())
        },
    );
}

/// A string like a cursor: a kind's prefix, then hex, signs and other bytes.
fn cursorish() -> impl Strategy<Value = String> {
    (
        prop::sample::select(&["fr1e", "fr1sn", "fr1sp", "fr1t", "fr1s", ""][..]),
        prop::collection::vec(
            prop_oneof![
                "[0-9a-f]{16}",
                "[+][0-9a-f]{15}",
                "[0-9a-fA-F]{2}",
                "[0-9a-f+\\-é ]{0,5}",
            ],
            0..4,
        ),
    )
        .prop_map(|(p, h)| format!("{p}{}", h.concat()))
}

#[test]
fn prop_query_cursor_is_read_only_in_the_spelling_the_server_writes() {
    check("cursors canonical", 512, cursorish(), |s| {
        if let Some(k) = parse_event_cursor(&s) {
            prop_assert!(
                event_cursor(k).eq_ignore_ascii_case(&s),
                "{:?} read as {:?}",
                s,
                k
            );
        }
        if let Some((before, ts, id)) = parse_session_cursor(&s) {
            let back = session_cursor(before, (ts, &id));
            prop_assert!(
                back.eq_ignore_ascii_case(&s),
                "{:?} read as {:?}",
                s,
                (before, ts, id)
            );
        }
        if let Some(n) = parse_offset_cursor(&s) {
            prop_assert!(
                offset_cursor(n).eq_ignore_ascii_case(&s),
                "{:?} read as {}",
                s,
                n
            );
        }
        Ok(())
    });
}

/// Found by `prop_query_cursor_is_read_only_in_the_spelling_the_server_writes`: a `+` sign in a
/// cursor's hex was read (Rust's `from_str_radix` takes one), so garbage passed for a cursor.
#[test]
fn cursor_with_a_plus_sign_in_its_hex_is_refused() {
    let good = event_cursor((0xa, 0xa));
    let bad = good.replacen("000000000000000a", "+00000000000000a", 1);
    assert_ne!(good, bad);
    assert_eq!(parse_event_cursor(&good), Some((0xa, 0xa)));
    assert_eq!(parse_event_cursor(&bad), None, "{bad}");
    assert_eq!(parse_offset_cursor("fr1t+00000000000000a"), None);
    let id = session_cursor(false, (1, "\n"));
    assert_eq!(parse_session_cursor(&id.replace("0a", "+a")), None);
    let p = Params::parse(Some(&format!("page={bad}")));
    assert!(p.cursor(parse_event_cursor).is_err());
}
