//! The JSON endpoints: sessions, threads and pages of events. Event pages are built from the
//! stored texts verbatim; nothing here re-serialises an event.

use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

use super::error::ApiError;
use super::objects::{SessionView, ThreadView, knows_thread, session_view, thread_views};
use super::query::{
    Params, event_cursor, offset_cursor, parse_event_cursor, parse_offset_cursor,
    parse_session_cursor, session_cursor,
};
use super::stream::{self, Spec};
use super::{App, live};
use crate::store::PageQuery;

type Reply = Result<Response, ApiError>;

fn json(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn cursor_json(c: &Option<String>) -> String {
    c.as_ref()
        .and_then(|c| serde_json::to_string(c).ok())
        .unwrap_or_else(|| "null".to_string())
}

/// `{"data":[…],"next_page":…}` (and `"prev_page"` for bidirectional pages), items verbatim.
fn page_body<'a>(
    items: impl IntoIterator<Item = &'a str>,
    next: &Option<String>,
    prev: Option<&Option<String>>,
) -> String {
    let mut out = String::from("{\"data\":[");
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(item);
    }
    out.push_str("],\"next_page\":");
    out.push_str(&cursor_json(next));
    if let Some(prev) = prev {
        out.push_str(",\"prev_page\":");
        out.push_str(&cursor_json(prev));
    }
    out.push('}');
    out
}

fn no_session(id: &str) -> ApiError {
    ApiError::not_found(format!("session {id} not found"))
}

async fn session_view_of(app: &Arc<App>, id: String) -> Result<SessionView, ApiError> {
    let reveal = app.reveal(&id);
    let sid = id.clone();
    let facts = app.db.call(move |s| s.session_facts(&sid, reveal)).await?;
    facts
        .as_ref()
        .map(session_view)
        .ok_or_else(|| no_session(&id))
}

pub(super) async fn require_session(app: &Arc<App>, id: &str) -> Result<(), ApiError> {
    let sid = id.to_string();
    if app.db.call(move |s| s.has_session(&sid)).await? {
        Ok(())
    } else {
        Err(no_session(id))
    }
}

/// The session's stored thread objects, served as they are (404 for an unknown session).
async fn threads_of(app: &Arc<App>, id: &str) -> Result<Vec<ThreadView>, ApiError> {
    let sid = id.to_string();
    let stored = app
        .db
        .call(move |s| {
            Ok(match s.has_session(&sid)? {
                true => Some(s.thread_objects(&sid)?),
                false => None,
            })
        })
        .await?;
    Ok(thread_views(&stored.ok_or_else(|| no_session(id))?))
}

fn no_thread(id: &str, tid: &str) -> ApiError {
    ApiError::not_found(format!("thread {tid} not found in session {id}"))
}

/// A thread whose log or stream may be read: one the session has an object, events or a log for.
async fn require_thread(app: &Arc<App>, id: &str, tid: &str) -> Result<(), ApiError> {
    let reveal = app.reveal(id);
    let (sid, t) = (id.to_string(), tid.to_string());
    let known = app
        .db
        .call(move |s| {
            if !s.has_session(&sid)? {
                return Ok(None);
            }
            let stored = s.thread_objects(&sid)?;
            let events = s.thread_events(&sid, reveal)?;
            let logged = s.logged_threads(&sid)?;
            Ok(Some(knows_thread(&t, &stored, &events, &logged)))
        })
        .await?;
    match known {
        None => Err(no_session(id)),
        Some(false) => Err(no_thread(id, tid)),
        Some(true) => Ok(()),
    }
}

/// `list_error_rate`: some list requests fail as an overloaded server's would.
fn list_chaos(app: &App) -> Result<(), ApiError> {
    let rate = app.opts.chaos.list_error_rate;
    if rate <= 0.0 {
        return Ok(());
    }
    let (hit, limited) = match app.list_rng.lock() {
        Ok(mut rng) => (rng.f64() < rate, rng.bool()),
        Err(_) => (false, false),
    };
    match (hit, limited) {
        (false, _) => Ok(()),
        (true, true) => Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limit_error",
            "rate limited (flightrec serve chaos)",
        )
        .with_header("retry-after", "0.1")),
        (true, false) => Err(ApiError::internal("internal error (flightrec serve chaos)")
            .with_header("x-should-retry", "true")),
    }
}

pub async fn list_sessions(State(app): State<Arc<App>>, RawQuery(q): RawQuery) -> Reply {
    let p = Params::parse(q.as_deref());
    let limit = usize::try_from(p.limit(100, 1000)?).unwrap_or(usize::MAX);
    let desc = p.desc(true)?;
    let statuses = p.statuses()?;
    let cursor = p.cursor(parse_session_cursor)?;
    let app2 = Arc::clone(&app);
    let facts = app
        .db
        .call(move |s| {
            let mut all = Vec::new();
            for id in s.session_ids()? {
                all.extend(s.session_facts(&id, app2.reveal(&id))?);
            }
            Ok(all)
        })
        .await?;
    let mut views: Vec<SessionView> = facts
        .iter()
        .map(session_view)
        .filter(|v| statuses.is_empty() || statuses.contains(&v.status))
        .collect();
    views.sort_by(|a, b| (a.created_ts, &a.id).cmp(&(b.created_ts, &b.id)));
    if desc {
        views.reverse();
    }
    let key = |v: &SessionView| (v.created_ts, v.id.clone());
    // Whether `v` comes after the cursor's item in this order.
    let after = |v: &SessionView, k: &(i64, String)| if desc { key(v) < *k } else { key(v) > *k };
    let (start, end) = match cursor {
        None => (0, limit.min(views.len())),
        Some((false, ts, id)) => {
            let s = views.iter().position(|v| after(v, &(ts, id.clone())));
            let s = s.unwrap_or(views.len());
            (s, s.saturating_add(limit).min(views.len()))
        }
        Some((true, ts, id)) => {
            let k = (ts, id);
            let e = views.iter().position(|v| after(v, &k) || key(v) == k);
            let e = e.unwrap_or(views.len());
            (e.saturating_sub(limit), e)
        }
    };
    let page = &views[start..end];
    let next = (end < views.len())
        .then(|| {
            page.last()
                .map(|v| session_cursor(false, (v.created_ts, &v.id)))
        })
        .flatten();
    let prev = (start > 0)
        .then(|| {
            page.first()
                .map(|v| session_cursor(true, (v.created_ts, &v.id)))
        })
        .flatten();
    Ok(json(page_body(
        page.iter().map(|v| v.json.as_str()),
        &next,
        Some(&prev),
    )))
}

pub async fn get_session(State(app): State<Arc<App>>, Path(id): Path<String>) -> Reply {
    Ok(json(session_view_of(&app, id).await?.json))
}

/// `GET /v1/sessions/{id}/threads`: the stored thread objects verbatim (parents first), paged by
/// `limit` and `page`, filtered by `statuses[]`; an empty list when none were stored.
pub async fn list_threads(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Reply {
    let p = Params::parse(q.as_deref());
    let limit = usize::try_from(p.limit(1000, 1000)?).unwrap_or(usize::MAX);
    let statuses = p.statuses()?;
    let start = p.cursor(parse_offset_cursor)?.unwrap_or(0);
    let list: Vec<ThreadView> = threads_of(&app, &id)
        .await?
        .into_iter()
        .filter(|t| statuses.is_empty() || statuses.contains(&t.status))
        .collect();
    let start = start.min(list.len());
    let end = start.saturating_add(limit).min(list.len());
    let next = (end < list.len()).then(|| offset_cursor(end));
    let items = list[start..end].iter().map(|t| t.json.as_str());
    Ok(json(page_body(items, &next, None)))
}

/// `GET /v1/sessions/{id}/threads/{tid}`: the stored object; 404 when none was stored.
pub async fn get_thread(
    State(app): State<Arc<App>>,
    Path((id, tid)): Path<(String, String)>,
) -> Reply {
    threads_of(&app, &id)
        .await?
        .into_iter()
        .find(|t| t.id == tid)
        .map(|t| json(t.json))
        .ok_or_else(|| no_thread(&id, &tid))
}

pub async fn session_events(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Reply {
    events(app, id, String::new(), Params::parse(q.as_deref())).await
}

pub async fn thread_events(
    State(app): State<Arc<App>>,
    Path((id, tid)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Reply {
    events(app, id, tid, Params::parse(q.as_deref())).await
}

/// A page of a log; the session's own log (`thread_id` "") also takes order, types and times.
async fn events(app: Arc<App>, session_id: String, thread_id: String, p: Params) -> Reply {
    list_chaos(&app)?;
    let limit = p.limit(1000, 1000)?;
    let mut q = PageQuery {
        thread_id,
        limit: limit + 1,
        after: p.cursor(parse_event_cursor)?,
        ..PageQuery::default()
    };
    if q.thread_id.is_empty() {
        q.desc = p.desc(false)?;
        q.types = p.list("types");
        p.time_bounds(&mut q)?;
        require_session(&app, &session_id).await?;
    } else {
        require_thread(&app, &session_id, &q.thread_id).await?;
    }
    let mut rows: Vec<((i64, i64), String)> = match &app.live {
        None => {
            let query = q.clone();
            app.db
                .call(move |s| s.events_page(&session_id, &query))
                .await?
                .into_iter()
                .map(|r| ((r.sort_ts, r.seq), r.raw))
                .collect()
        }
        Some(clock) => {
            let now = clock.now(&session_id);
            let copies = live::page(clock.schedule().log(&session_id, &q.thread_id), now, &q);
            app.db
                .call(move |s| {
                    let mut out = Vec::with_capacity(copies.len());
                    for c in copies {
                        let raw = match c.rev {
                            Some(id) => s.revision_raw(id)?,
                            None => s.event_at_seq(c.seq)?.map(|r| r.raw),
                        };
                        out.extend(raw.map(|raw| ((c.sort_ts, c.seq), raw)));
                    }
                    Ok(out)
                })
                .await?
        }
    };
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next = more
        .then(|| rows.last().map(|(key, _)| event_cursor(*key)))
        .flatten();
    Ok(json(page_body(
        rows.iter().map(|(_, raw)| raw.as_str()),
        &next,
        None,
    )))
}

pub async fn session_stream(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Reply {
    let deltas = Params::parse(q.as_deref()).event_deltas()?;
    require_session(&app, &id).await?;
    Ok(stream::open(
        app,
        Spec {
            session_id: id,
            thread_id: String::new(),
            deltas,
        },
    ))
}

pub async fn thread_stream(
    State(app): State<Arc<App>>,
    Path((id, tid)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Reply {
    let deltas = Params::parse(q.as_deref()).event_deltas()?;
    require_thread(&app, &id, &tid).await?;
    Ok(stream::open(
        app,
        Spec {
            session_id: id,
            thread_id: tid,
            deltas,
        },
    ))
}
