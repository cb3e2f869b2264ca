//! `--record` of `tail` and `timeline --follow`: the live recorder (`record::live`, as `flightrec
//! record` runs it) on a thread of its own, writing into the database the follower reads. The
//! follower shows what it stores like anything another process stores; it stops the recorder
//! when it ends, and ends with the recorder's exit code when the recorder fails.

use std::path::Path;
use std::thread::JoinHandle;
use std::time::Duration;

use super::api_args::{ApiArgs, recorder_runtime};
use super::{output, record};
use flightrec::record::live::{RecordError, RecordOptions, Report, Until, record};
use flightrec::store::Store;

/// A recorder running beside the follower.
pub struct Attached {
    session: String,
    stop: tokio::sync::watch::Sender<bool>,
    handle: Option<JoinHandle<Result<Report, Box<RecordError>>>>,
}

/// Starts recording `session` into `db` until it is idle (`until_idle`) or terminated, or
/// stopped.
pub fn start(
    db: &Path,
    session: &str,
    api: &ApiArgs,
    until_idle: bool,
) -> anyhow::Result<Attached> {
    if !flightrec::model::is_session_id(session) {
        anyhow::bail!("{session:?} is not a session id (sesn_ followed by letters and digits)");
    }
    let client = api.client()?;
    let rt = recorder_runtime()?;
    let opts = RecordOptions {
        session: session.to_string(),
        until: if until_idle {
            Until::Idle
        } else {
            Until::Terminated
        },
        deltas: false,
        idle_timeout: Duration::from_secs(120),
        give_up_after: Duration::from_secs(600),
        threads: true,
        page_size: 1000,
        history_only: false,
        metrics: None,
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let db = db.to_path_buf();
    let handle = std::thread::spawn(move || {
        rt.block_on(record(client, db, opts, stopped, |_| {}))
            .map_err(Box::new)
    });
    Ok(Attached {
        session: session.to_string(),
        stop,
        handle: Some(handle),
    })
}

impl Attached {
    /// The exit code when the recorder has ended with an error (which is printed); `None` while
    /// it runs or after it ended well (the session terminated).
    pub fn failed(&mut self) -> Option<u8> {
        if self.handle.as_ref().is_some_and(JoinHandle::is_finished) {
            return self.join();
        }
        None
    }

    /// Whether the recorder has ended (well: a failure is [`Attached::failed`]).
    pub fn ended(&self) -> bool {
        self.handle.is_none()
    }

    /// Lets the recorder end by itself within `grace` (it stops at its own condition after a
    /// last check), else stops it; its exit code if it failed.
    pub fn finish(self, grace: Duration) -> Option<u8> {
        let deadline = std::time::Instant::now() + grace;
        while self.handle.as_ref().is_some_and(|h| !h.is_finished())
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(50));
        }
        self.stop()
    }

    /// Stops the recorder and waits for it to store what it has; its exit code if it failed.
    pub fn stop(mut self) -> Option<u8> {
        let _ = self.stop.send(true);
        self.join()
    }

    fn join(&mut self) -> Option<u8> {
        let result = self.handle.take()?.join();
        let e = match result {
            Ok(Ok(_)) => return None,
            Ok(Err(e)) => anyhow::Error::new(*e),
            Err(_) => anyhow::anyhow!("the recorder stopped unexpectedly"),
        };
        let code = e
            .downcast_ref()
            .map_or(super::exit::ERROR, record::exit_code);
        output::error_line(&e.context(self.session.clone()));
        Some(code)
    }
}

/// Opens `db` for reading once the recorder has stored the session (it may create the
/// database): the store, or the recorder's exit code if it failed first, or OK on Ctrl-C.
pub fn wait_for_session(
    db: &Path,
    rec: &mut Attached,
    interrupted: &dyn Fn() -> bool,
) -> anyhow::Result<Result<Store, u8>> {
    loop {
        if let Ok(store) = Store::open_reader(db)
            && store.session_summary(&rec.session)?.is_some()
        {
            return Ok(Ok(store));
        }
        if let Some(code) = rec.failed() {
            return Ok(Err(code));
        }
        if interrupted() {
            return Ok(Err(super::exit::OK));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
