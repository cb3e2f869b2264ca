//! A second reader thread, with its own connection, for the explanation and state at a point:
//! on a large session that read takes up to a second, and the table's rows must not wait
//! behind it. It works on the newest request only.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use flightrec::analysis::Point;
use flightrec::store::Store;

use super::{Reply, Waker, state};

/// Requests queued for the explainer before the loader waits.
const CAPACITY: usize = 8;

/// Starts the thread; requests are (session, point).
pub fn start(
    db: PathBuf,
    replies: SyncSender<Reply>,
    waker: Waker,
) -> Option<SyncSender<(String, Option<Point>)>> {
    let (tx, rx) = sync_channel(CAPACITY);
    std::thread::Builder::new()
        .name("flightrec-explain".into())
        .spawn(move || run(db, rx, replies, waker))
        .ok()?;
    Some(tx)
}

fn run(
    db: PathBuf,
    requests: Receiver<(String, Option<Point>)>,
    replies: SyncSender<Reply>,
    waker: Waker,
) {
    let mut store: Option<Store> = None;
    while let Ok(first) = requests.recv() {
        let (session, at) = requests.try_iter().last().unwrap_or(first);
        if store.is_none() {
            store = Store::open_reader(&db)
                .and_then(|s| s.set_mmap_size(0).map(|()| s))
                .ok();
        }
        let reply = match &store {
            Some(s) => match state::explain_at(s, &session, at) {
                Ok((explanation, state, extras)) => Reply::Explained {
                    session,
                    at,
                    explanation: Box::new(explanation),
                    state: Box::new(state),
                    extras: Box::new(extras),
                },
                Err(e) => Reply::Error(e),
            },
            None => Reply::Error(format!("{}: cannot open the database", db.display())),
        };
        if replies.send(reply).is_err() {
            return;
        }
        waker();
    }
}
