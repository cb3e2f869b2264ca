//! The compact forms of an event row's columns (migration 0013): times kept as numbers when the
//! text is exactly their canonical form, `YYYY-MM-DDTHH:MM:SS.mmmZ`, and the text otherwise.
//!
//! The `events` view turns the stored forms back into text in SQL; [`super::read::EVENT_COLUMNS`]
//! reads the stored forms and turns them back here (faster per row). Both must give the same
//! text: a test compares them over a range of times.

use rusqlite::types::{Value, ValueRef};

use super::QUEUED_SORT_TS;

/// The first instant the canonical form cannot write (year 10000), in µs.
const END_US: i64 = 253_402_300_800_000_000;

/// `ms` since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`; `None` outside years 1970–9999.
pub fn format_ms(ms: i64) -> Option<String> {
    canonical_bytes(ms).and_then(|b| std::str::from_utf8(&b).ok().map(str::to_owned))
}

/// Whether `text` is exactly the canonical form of `ms` (no text is made to compare).
fn is_canonical(ms: i64, text: &str) -> bool {
    canonical_bytes(ms).is_some_and(|b| b == text.as_bytes())
}

/// [`format_ms`]'s bytes, on the stack: the writer compares one per stored event.
fn canonical_bytes(ms: i64) -> Option<[u8; 24]> {
    if !(0..END_US / 1000).contains(&ms) {
        return None;
    }
    let secs = ms / 1000;
    let (y, m, d) = civil_from_days(secs / 86_400);
    let s = secs % 86_400;
    // Written digit by digit: every scan formats a time per event, and `format!` cost a
    // twentieth of a whole import's derived-data pass.
    let mut out = *b"0000-00-00T00:00:00.000Z";
    let mut put = |at: usize, width: usize, mut v: i64| {
        for i in (at..at + width).rev() {
            out[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, y);
    put(5, 2, m);
    put(8, 2, d);
    put(11, 2, s / 3600);
    put(14, 2, s / 60 % 60);
    put(17, 2, s % 60);
    put(20, 3, ms % 1000);
    Some(out)
}

/// Days since 1970-01-01 as (year, month, day) (proleptic Gregorian; H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `(year, month, day)` as days since 1970-01-01 (the inverse of [`civil_from_days`]).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The ms since the epoch that `text` is the canonical form of, if it is one.
pub fn parse_canonical_ms(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 24 || b[23] != b'Z' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<i64> {
        let digits = b.get(from..to)?;
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(digits).ok()?.parse().ok()
    };
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (h, mi, s, ms) = (num(11, 13)?, num(14, 16)?, num(17, 19)?, num(20, 23)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let total = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 + s;
    let ms = total.checked_mul(1000)?.checked_add(ms)?;
    // Only an exact round trip counts (a 25:00 hour or a 31st of April would not).
    is_canonical(ms, text).then_some(ms)
}

/// `processed_at` as stored beside `sort_ts`: NULL when `sort_ts` gives it back (or the event is
/// queued), 0 for a missing one beside a real `sort_ts`, else the text.
pub fn stored_processed_at(processed_at: Option<&str>, sort_ts: i64) -> Value {
    match processed_at {
        None if sort_ts == QUEUED_SORT_TS => Value::Null,
        None => Value::Integer(0),
        Some(t) if sort_ts % 1000 == 0 && is_canonical(sort_ts / 1000, t) => Value::Null,
        Some(t) => Value::Text(t.to_string()),
    }
}

/// `processed_at` back from its stored form.
pub fn processed_at(stored: ValueRef<'_>, sort_ts: i64) -> Option<String> {
    match stored {
        ValueRef::Null if sort_ts != QUEUED_SORT_TS => format_ms(sort_ts.div_euclid(1000)),
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        _ => None,
    }
}

/// `received_at` as stored: its ms when it is in the canonical form, else the text.
pub fn stored_received_at(received_at: &str) -> Value {
    match parse_canonical_ms(received_at) {
        Some(ms) => Value::Integer(ms),
        None => Value::Text(received_at.to_string()),
    }
}

/// `received_at` back from its stored form.
pub fn received_at(stored: ValueRef<'_>) -> String {
    match stored {
        ValueRef::Integer(ms) => format_ms(ms).unwrap_or_default(),
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        _ => String::new(),
    }
}

/// The stored `event_id`: NULL when it is the dedup key.
pub fn stored_event_id<'a>(event_id: &'a str, dedup_key: &str) -> Option<&'a str> {
    (event_id != dedup_key).then_some(event_id)
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_canonical_form_round_trips_and_nothing_else_parses() {
        for ms in [
            0,
            1,
            999,
            86_399_999,
            951_782_400_000,   // 2000-02-29
            1_786_093_200_092, // 2026-08-07
            4_107_542_399_999, // 2100-02-28T23:59:59.999
            END_US / 1000 - 1, // 9999-12-31T23:59:59.999
        ] {
            let text = format_ms(ms).unwrap();
            assert_eq!(parse_canonical_ms(&text), Some(ms), "{text}");
        }
        assert_eq!(format_ms(-1), None);
        assert_eq!(format_ms(END_US / 1000), None);
        assert_eq!(
            format_ms(1_786_093_200_092).unwrap(),
            "2026-08-07T09:00:00.092Z"
        );
        for text in [
            "2026-08-07T09:00:00.092+00:00",
            "2026-08-07T09:00:00.09Z",
            "2026-08-07T09:00:00.092000Z",
            "2026-02-30T09:00:00.092Z",
            "2026-08-07T24:00:00.000Z",
            "2026-08-07 09:00:00.092Z",
            "+026-08-07T09:00:00.092Z",
            "",
        ] {
            assert_eq!(parse_canonical_ms(text), None, "{text}");
        }
    }

    #[test]
    fn a_stored_time_reads_back_as_the_text_that_was_stored() {
        let cases: &[(Option<&str>, i64)] = &[
            (Some("2026-08-07T09:00:00.092Z"), 1_786_093_200_092_000),
            (Some("2026-08-07T09:00:00.092123Z"), 1_786_093_200_092_123),
            (Some("2026-08-07T09:00:00.092+00:00"), 1_786_093_200_092_000),
            (Some("not a time"), QUEUED_SORT_TS),
            (None, QUEUED_SORT_TS),
            (None, 1_786_093_200_092_000),
        ];
        for &(text, ts) in cases {
            let stored = stored_processed_at(text, ts);
            assert_eq!(
                processed_at(ValueRef::from(&stored), ts).as_deref(),
                text,
                "{text:?} at {ts}"
            );
        }
        for text in ["2026-12-06T21:17:01.606Z", "2026-12-06T21:17:01Z", "x"] {
            let stored = stored_received_at(text);
            assert_eq!(received_at(ValueRef::from(&stored)), text);
        }
        assert!(matches!(
            stored_received_at("2026-12-06T21:17:01.606Z"),
            Value::Integer(_)
        ));
    }
}
