//! Ids people can type, for every command that names a session or an event: which session or
//! event is meant, and the one-line error (with the nearest candidates) when none or several
//! match. The candidates come from the store (`store/resolve.rs`).
//!
//! A session is named by, in this order: its full id (always wins, even over a keyword, and over
//! an id that merely starts with it); `latest`, the session whose newest processed event
//! (`events.sort_ts`, i.e. `processed_at`) is newest, the first row of `flightrec sessions`;
//! `latest-stuck`, the most recent one that `check` would flag as needing attention; or a unique
//! prefix or suffix of its id. Stored ids are all `sesn_…` (import, record and tapes refuse
//! others), so no session can be called `latest`; the full id is looked up first all the same.
//! An event of a session likewise by its id or a unique prefix or suffix of it.

use anyhow::bail;

use super::args::{DEFAULT_STUCK_AFTER, VerdictArgs, parse_duration_micros};
use super::explain::{explain_session, wall_clock};
use flightrec::model::time::format_micros;
use flightrec::store::{EventRow, SessionSummary, Store};

/// The most recently active session.
pub const LATEST: &str = "latest";
/// The most recently active session that needs attention.
pub const LATEST_STUCK: &str = "latest-stuck";

/// Matches listed when a name is ambiguous.
const SHOWN: usize = 5;
/// Nearest ids suggested when nothing matches.
const SUGGESTED: usize = 3;
/// Names longer than this get no suggestions.
const MAX_SUGGESTING: usize = 256;
/// Event ids read when matching a prefix or suffix (enough to count "more than").
const EVENT_MATCHES: usize = 100;

/// The clock and threshold `latest-stuck` judges "needs attention" by: `check`'s rule.
pub struct Attention {
    pub now: i64,
    pub stuck_after: i64,
}

impl Attention {
    /// The `--now` and `--stuck-after` of a command that gives a verdict.
    pub fn of(v: &VerdictArgs) -> Attention {
        Attention {
            now: v.now(),
            stuck_after: v.stuck_after,
        }
    }
}

impl Default for Attention {
    /// The wall clock and the default `--stuck-after`.
    fn default() -> Self {
        Attention {
            now: wall_clock(),
            stuck_after: parse_duration_micros(DEFAULT_STUCK_AFTER).unwrap_or(600_000_000),
        }
    }
}

/// The session `name` names (see the module doc), judging `latest-stuck` at the wall clock.
pub fn session(store: &Store, name: &str) -> anyhow::Result<SessionSummary> {
    session_at(store, name, &Attention::default())
}

/// The session `name` names, judging `latest-stuck` by `attention`.
pub fn session_at(
    store: &Store,
    name: &str,
    attention: &Attention,
) -> anyhow::Result<SessionSummary> {
    match find(store, name, attention)? {
        Some(s) => Ok(s),
        None => Err(no_session(store, name)?),
    }
}

/// The id of the session `name` names, for commands that pass it on.
pub fn session_id(store: &Store, name: &str) -> anyhow::Result<String> {
    Ok(session(store, name)?.id)
}

/// For `record`, which may name a session not recorded yet: the id of the recorded session
/// `name` names, else `name` itself.
pub fn session_id_or_itself(store: &Store, name: &str) -> anyhow::Result<String> {
    Ok(find(store, name, &Attention::default())?.map_or_else(|| name.to_string(), |s| s.id))
}

/// The session `name` names; `None` when no id is, starts or ends with it.
fn find(
    store: &Store,
    name: &str,
    attention: &Attention,
) -> anyhow::Result<Option<SessionSummary>> {
    if name.trim().is_empty() {
        bail!(
            "an empty session id: give a session id, a prefix or suffix of one, `{LATEST}` or `{LATEST_STUCK}`"
        );
    }
    if let Some(s) = store.session_summary(name)? {
        return Ok(Some(s));
    }
    match name {
        LATEST => return latest(store).map(Some),
        LATEST_STUCK => return latest_stuck(store, attention).map(Some),
        _ => {}
    }
    let mut ids = store.session_ids_with_prefix(name)?;
    ids.extend(store.session_ids_with_suffix(name)?);
    ids.sort();
    ids.dedup();
    match ids.as_slice() {
        [id] => Ok(Some(store.require_session(id)?)),
        [] => Ok(None),
        _ => Err(ambiguous_session(store, name, &ids)?),
    }
}

fn latest(store: &Store) -> anyhow::Result<SessionSummary> {
    match store.sessions_by_recency()?.first() {
        Some((id, _)) => Ok(store.require_session(id)?),
        None => bail!(
            "{LATEST}: there are no sessions in {}",
            store.path().display()
        ),
    }
}

fn latest_stuck(store: &Store, a: &Attention) -> anyhow::Result<SessionSummary> {
    let order = store.sessions_by_recency()?;
    for (id, _) in &order {
        let summary = store.require_session(id)?;
        if explain_session(store, &summary, None, a.now, a.stuck_after)?.attention {
            return Ok(summary);
        }
    }
    bail!(
        "{LATEST_STUCK}: none of the {} sessions in {} needs attention (as `flightrec check` judges it)",
        order.len(),
        store.path().display()
    )
}

/// `sesn_… (idle, last event 2026-08-07T14:02:13.000Z)`.
fn describe_session(store: &Store, id: &str) -> anyhow::Result<String> {
    let s = store.require_session(id)?;
    let last = match s.last_ts {
        Some(t) => format!("last event {}", format_micros(t)),
        None => "no processed event".to_string(),
    };
    Ok(format!(
        "{id} ({}, {last})",
        s.status.as_deref().unwrap_or("status unknown")
    ))
}

fn ambiguous_session(store: &Store, name: &str, ids: &[String]) -> anyhow::Result<anyhow::Error> {
    // The most recently active first.
    let order = store.sessions_by_recency()?;
    let mut sorted: Vec<&String> = order
        .iter()
        .map(|(id, _)| id)
        .filter(|id| ids.contains(id))
        .collect();
    sorted.truncate(SHOWN);
    let shown: Vec<String> = sorted
        .iter()
        .map(|id| describe_session(store, id))
        .collect::<anyhow::Result<_>>()?;
    Ok(anyhow::anyhow!(
        "'{name}' names {} sessions in {} (by prefix or suffix): {}{}; type more of the id",
        ids.len(),
        store.path().display(),
        shown.join(", "),
        more(ids.len(), SHOWN)
    ))
}

/// Today's "no session" message, with the nearest ids when some are near.
fn no_session(store: &Store, name: &str) -> anyhow::Result<anyhow::Error> {
    let order = store.sessions_by_recency()?;
    let near = nearest(name, order.iter().map(|(id, _)| id.as_str()));
    let base = anyhow::Error::new(store.no_such_session(name));
    if near.is_empty() {
        return Ok(base);
    }
    let shown: Vec<String> = near
        .iter()
        .map(|id| describe_session(store, id))
        .collect::<anyhow::Result<_>>()?;
    Ok(anyhow::anyhow!("{base}; nearest: {}", shown.join(", ")))
}

/// What an event name resolved to.
pub enum EventMatch {
    Found(EventRow),
    /// Nothing matches; the nearest ids, when some are near.
    None {
        nearest: Vec<String>,
    },
}

/// The event of `session` that `name` names: its id, or a unique prefix or suffix of it. Several
/// matches are an error listing them.
pub fn event(store: &Store, session: &SessionSummary, name: &str) -> anyhow::Result<EventMatch> {
    let sid = &session.id;
    if let Some(row) = store.event_by_id(sid, name)? {
        return Ok(EventMatch::Found(row));
    }
    let mut ids = store.event_ids_with_prefix(sid, name, EVENT_MATCHES)?;
    ids.extend(store.event_ids_with_suffix(sid, name, EVENT_MATCHES)?);
    ids.sort();
    ids.dedup();
    match ids.as_slice() {
        [id] => match store.event_by_id(sid, id)? {
            Some(row) => Ok(EventMatch::Found(row)),
            None => bail!("event {id} of session {sid} vanished while being read"),
        },
        [] => {
            let mut near = store.event_ids_containing(sid, name, SUGGESTED)?;
            near.extend(store.event_ids_near(sid, name, SUGGESTED)?);
            Ok(EventMatch::None {
                nearest: nearest(name, near.iter().map(String::as_str)),
            })
        }
        _ => Err(ambiguous_event(store, sid, name, &ids)?),
    }
}

fn ambiguous_event(
    store: &Store,
    sid: &str,
    name: &str,
    ids: &[String],
) -> anyhow::Result<anyhow::Error> {
    let mut shown = Vec::new();
    for id in ids.iter().take(SHOWN) {
        let what = match store.event_by_id(sid, id)? {
            Some(r) => format!(
                "{id} ({}, {})",
                r.event_type,
                r.processed_at.as_deref().unwrap_or("queued")
            ),
            None => id.clone(),
        };
        shown.push(what);
    }
    let count = if ids.len() >= EVENT_MATCHES {
        format!("{EVENT_MATCHES} or more")
    } else {
        ids.len().to_string()
    };
    Ok(anyhow::anyhow!(
        "'{name}' names {count} events of session {sid} (by prefix or suffix): {}{}; type more of the id",
        shown.join(", "),
        more(ids.len(), SHOWN)
    ))
}

/// `; nearest: a, b` for a message, or nothing.
pub fn nearest_note(ids: &[String]) -> String {
    if ids.is_empty() {
        String::new()
    } else {
        format!("; nearest: {}", ids.join(", "))
    }
}

/// `, and 3 more` when `total` exceeds what was shown.
fn more(total: usize, shown: usize) -> String {
    if total > shown {
        format!(", and {} more", total - shown)
    } else {
        String::new()
    }
}

/// Up to [`SUGGESTED`] of `ids` near `name`: containing it, or within a few edits of one of their
/// prefixes or suffixes (a typo, a wrong case); nearest first, then the longest common prefix,
/// then the order given.
pub fn nearest<'a>(name: &str, ids: impl Iterator<Item = &'a str>) -> Vec<String> {
    let typed: Vec<char> = name.chars().flat_map(char::to_lowercase).collect();
    // A name of one or two characters suggests nothing; one of three only the ids containing it.
    // Nor does one longer than any id (the edit distance is quadratic).
    if typed.len() < 3 || typed.len() > MAX_SUGGESTING {
        return Vec::new();
    }
    let allowed = if typed.len() < 4 {
        0
    } else {
        (typed.len() / 6).max(1)
    };
    let mut scored: Vec<(usize, std::cmp::Reverse<usize>, usize, &str)> = ids
        .enumerate()
        .filter_map(|(i, id)| {
            let d = closeness(&typed, id);
            let common = name
                .chars()
                .zip(id.chars())
                .take_while(|(a, b)| a == b)
                .count();
            (d <= allowed).then_some((d, std::cmp::Reverse(common), i, id))
        })
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(SUGGESTED)
        .map(|(.., id)| id.to_string())
        .collect()
}

/// Edits from `typed` (lowercased) to the nearest prefix or suffix of `id`, 0 when `id`
/// contains it.
fn closeness(typed: &[char], id: &str) -> usize {
    let id: Vec<char> = id.chars().flat_map(char::to_lowercase).collect();
    if typed.len() <= id.len() && id.windows(typed.len().max(1)).any(|w| w == typed) {
        return 0;
    }
    let rev = |v: &[char]| v.iter().rev().copied().collect::<Vec<char>>();
    prefix_edits(typed, &id).min(prefix_edits(&rev(typed), &rev(&id)))
}

/// The fewest edits (insert, delete, substitute) turning `a` into some prefix of `b`.
fn prefix_edits(a: &[char], b: &[char]) -> usize {
    // row[j]: edits from a[..i] to b[..j], one row of the table at a time.
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut next = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = row[j] + usize::from(ca != cb);
            next[j + 1] = sub.min(row[j + 1] + 1).min(next[j] + 1);
        }
        row = next;
    }
    row.into_iter().min().unwrap_or(a.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDS: [&str; 4] = [
        "sesn_011CZstuckCustomTool0002",
        "sesn_011CZhappyPath0000000001",
        "sesn_011CZrefusal000000000013",
        "sesn_011CZdeleted000000000015",
    ];

    #[test]
    fn a_typo_in_a_prefix_suggests_the_id() {
        assert_eq!(
            nearest("sesn_011CZstuk", IDS.into_iter()),
            vec!["sesn_011CZstuckCustomTool0002"]
        );
    }

    #[test]
    fn a_wrong_case_or_a_middle_part_suggests_the_id() {
        assert_eq!(
            nearest("HAPPYPATH", IDS.into_iter()),
            vec!["sesn_011CZhappyPath0000000001"]
        );
    }

    #[test]
    fn a_typo_in_a_suffix_suggests_the_id() {
        assert_eq!(
            nearest("Tool0092", IDS.into_iter()),
            vec!["sesn_011CZstuckCustomTool0002"]
        );
    }

    #[test]
    fn an_unrelated_name_suggests_nothing() {
        assert!(nearest("sesn_doesNotExist", IDS.into_iter()).is_empty());
        assert!(nearest("x", IDS.into_iter()).is_empty());
    }

    #[test]
    fn suggestions_are_at_most_three_nearest_first() {
        let near = nearest("sesn_011CZ", IDS.into_iter());
        assert_eq!(near.len(), 3);
    }

    #[test]
    fn prefix_edits_count_only_what_the_prefix_needs() {
        let c = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(prefix_edits(&c("abc"), &c("abcdef")), 0);
        assert_eq!(prefix_edits(&c("abx"), &c("abcdef")), 1);
        assert_eq!(prefix_edits(&c("axc"), &c("abcdef")), 1);
        assert_eq!(prefix_edits(&c("ac"), &c("abcdef")), 1);
        assert_eq!(prefix_edits(&c("xyz"), &c("")), 3);
    }
}
