//! Following the database for open streams: one watcher task per followed log (session and
//! thread), however many streams follow it. The watcher polls the newest row marks every
//! 150 ms, reads what changed once (new rows, replaced rows, and the previews of new rows of the
//! types its followers asked previews for), and hands that batch to every follower through a
//! `tokio::sync::broadcast` channel. It ends when its last follower has gone.
//!
//! Each batch says which marks it goes from and to, so a follower that fell behind (the channel
//! keeps the last [`BACKLOG`] batches) or whose watcher ended reads the gap itself and goes on.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{broadcast, watch};

use super::db::Db;
use super::error::ApiError;
use crate::store::{PageRow, Store};

/// How often a watcher looks for new rows.
const POLL: Duration = Duration::from_millis(150);
/// Batches kept for a follower that is busy writing.
const BACKLOG: usize = 64;

/// The newest event `seq` and revision id: what has been seen.
pub type Marks = (i64, i64);

/// What changed in one log between two polls.
pub struct Batch {
    pub from: Marks,
    pub to: Marks,
    /// New rows, in arrival order.
    pub fresh: Vec<PageRow>,
    /// Rows replaced by a newer copy (the newer copy), not among `fresh`.
    pub revised: Vec<PageRow>,
    /// Previews of fresh rows by `seq`, for rows of a type some follower asked previews for
    /// when the batch was read; a row missing here was not looked up.
    pub previews: HashMap<i64, Vec<(String, String)>>,
}

/// A batch, or the error that ended the watcher.
pub type Update = Arc<Result<Batch, ApiError>>;

type Key = (String, String);

/// One watched log.
struct Feed {
    state: Mutex<FeedState>,
}

struct FeedState {
    marks: Marks,
    tx: broadcast::Sender<Update>,
    /// Event types whose previews followers asked for.
    previews: HashSet<String>,
}

/// A follower's place: the marks its replay must stop at, and the batches after them.
pub struct Subscription {
    pub marks: Marks,
    pub rx: broadcast::Receiver<Update>,
}

/// The watchers of one server.
pub struct Feeds {
    db: Arc<Db>,
    stop: watch::Receiver<bool>,
    feeds: Mutex<HashMap<Key, Arc<Feed>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Feeds {
    pub fn new(db: Arc<Db>, stop: watch::Receiver<bool>) -> Feeds {
        Feeds {
            db,
            stop,
            feeds: Mutex::new(HashMap::new()),
        }
    }

    /// Joins the log's watcher (starting one if none runs), asking previews of `deltas`.
    pub async fn subscribe(
        self: &Arc<Self>,
        session: &str,
        thread: &str,
        deltas: &[String],
    ) -> Result<Subscription, ApiError> {
        let key = (session.to_string(), thread.to_string());
        if let Some(sub) = self.join(&key, deltas) {
            return Ok(sub);
        }
        let marks = self.db.call(|s| s.marks()).await?;
        let mut feeds = lock(&self.feeds);
        if let Some(feed) = feeds.get(&key) {
            return Ok(join(feed, deltas));
        }
        let (tx, rx) = broadcast::channel(BACKLOG);
        let feed = Arc::new(Feed {
            state: Mutex::new(FeedState {
                marks,
                tx,
                previews: deltas.iter().cloned().collect(),
            }),
        });
        feeds.insert(key.clone(), Arc::clone(&feed));
        tokio::spawn(watch_log(Arc::clone(self), key, feed));
        Ok(Subscription { marks, rx })
    }

    fn join(&self, key: &Key, deltas: &[String]) -> Option<Subscription> {
        lock(&self.feeds).get(key).map(|feed| join(feed, deltas))
    }

    /// Watchers running now.
    pub fn len(&self) -> usize {
        lock(&self.feeds).len()
    }
}

fn join(feed: &Feed, deltas: &[String]) -> Subscription {
    let mut st = lock(&feed.state);
    st.previews.extend(deltas.iter().cloned());
    Subscription {
        marks: st.marks,
        rx: st.tx.subscribe(),
    }
}

/// One log's watcher: polls, reads what changed, sends it; ends with its last follower, when
/// the server stops, or after sending a read's error.
async fn watch_log(feeds: Arc<Feeds>, key: Key, feed: Arc<Feed>) {
    let mut stop = feeds.stop.clone();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
        let (from, types) = {
            // The map's lock first, as in `subscribe`, so no one joins a watcher that is leaving.
            let mut map = lock(&feeds.feeds);
            let st = lock(&feed.state);
            if st.tx.receiver_count() == 0 {
                map.remove(&key);
                return;
            }
            (st.marks, st.previews.clone())
        };
        let read = read_changes(&feeds.db, &key, from, types).await;
        let failed = read.is_err();
        match read {
            Ok(None) => continue,
            Ok(Some(batch)) => {
                let mut st = lock(&feed.state);
                st.marks = batch.to;
                let _ = st.tx.send(Arc::new(Ok(batch)));
            }
            Err(e) => {
                let _ = lock(&feed.state).tx.send(Arc::new(Err(e)));
            }
        }
        if failed {
            break;
        }
    }
    lock(&feeds.feeds).remove(&key);
}

/// What changed in the log since `from`, if anything did.
async fn read_changes(
    db: &Arc<Db>,
    key: &Key,
    from: Marks,
    previews: HashSet<String>,
) -> Result<Option<Batch>, ApiError> {
    let to = db.call(|s| s.marks()).await?;
    if to == from {
        return Ok(None);
    }
    let (session, thread) = key.clone();
    let batch = db
        .call(move |s| read_between(s, &session, &thread, (from, to), &previews))
        .await?;
    Ok(Some(batch))
}

/// What a watcher's batch from `from` to `to` holds, read by one follower for itself (after
/// falling behind, or when its watcher ended); without previews.
pub async fn read_gap(
    db: &Arc<Db>,
    session: &str,
    thread: &str,
    from: Marks,
    to: Marks,
) -> Result<Batch, ApiError> {
    let (session, thread) = (session.to_string(), thread.to_string());
    db.call(move |s| read_between(s, &session, &thread, (from, to), &HashSet::new()))
        .await
}

fn read_between(
    s: &Store,
    session: &str,
    thread: &str,
    (from, to): (Marks, Marks),
    previews: &HashSet<String>,
) -> crate::store::Result<Batch> {
    let fresh = s.events_between(session, thread, from.0, to.0)?;
    let mut revised = s.revised_between(session, thread, from.1, to.1)?;
    revised.retain(|r| !fresh.iter().any(|f| f.seq == r.seq));
    let mut found = HashMap::new();
    for row in &fresh {
        if !row.event_id.is_empty() && previews.contains(&row.event_type) {
            found.insert(row.seq, s.previews_of(session, thread, &row.event_id)?);
        }
    }
    Ok(Batch {
        from,
        to,
        fresh,
        revised,
        previews: found,
    })
}
