//! Dictionary trainings for a [`super::Compressor`], on one helper thread that lives as long as
//! the compressor, and on the compressor's own thread when it would otherwise wait.
//!
//! One long-lived thread, not one per training: a new thread allocates from a new malloc arena,
//! and each training's 4 MiB of tables were then faulted in again (five trainings at once took
//! twice their time alone). The compressor's thread takes a training the helper has not started
//! rather than wait for another one, so two run at once when the reading side has nothing else
//! to do.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use super::codec::{self, Samples, Trained};

/// A training's state.
enum State {
    Waiting(Samples),
    Running,
    Done(Option<Trained>),
    /// Its result was taken.
    Taken,
}

/// One dictionary to train.
pub(super) struct Job {
    ty: String,
    state: Mutex<State>,
    done: Condvar,
}

impl Job {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A training that panicked leaves its state as it was: taken as "learned nothing".
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Trains here if no one has started it; whether it did.
    fn run_if_waiting(&self) -> bool {
        let samples = {
            let mut state = self.lock();
            match std::mem::replace(&mut *state, State::Running) {
                State::Waiting(s) => s,
                other => {
                    *state = other;
                    return false;
                }
            }
        };
        // A training that panics learned nothing: whoever waits for it must not wait forever.
        let trained = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            codec::train(&self.ty, samples)
        }))
        .ok()
        .flatten();
        *self.lock() = State::Done(trained);
        self.done.notify_all();
        true
    }

    /// The type it trains for.
    pub(super) fn ty(&self) -> &str {
        &self.ty
    }

    /// Whether its result is ready.
    pub(super) fn is_done(&self) -> bool {
        matches!(*self.lock(), State::Done(_))
    }

    /// Its result, waiting for it (training it here if no one has started it).
    fn take(&self) -> Option<Trained> {
        self.run_if_waiting();
        let mut state = self.lock();
        loop {
            match std::mem::replace(&mut *state, State::Taken) {
                State::Done(t) => return t,
                State::Running => {
                    *state = State::Running;
                    state = self
                        .done
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                }
                // Taken twice, or (cannot be: `run_if_waiting` ran) never started.
                State::Taken | State::Waiting(_) => return None,
            }
        }
    }
}

#[cfg(test)]
impl Job {
    /// A training that is over and learned nothing (what zstd gives for samples it cannot use).
    pub(super) fn failed(ty: &str) -> Arc<Job> {
        Arc::new(Job {
            ty: ty.to_string(),
            state: Mutex::new(State::Done(None)),
            done: Condvar::new(),
        })
    }
}

/// The helper thread's queue.
#[derive(Default)]
struct Queue {
    jobs: VecDeque<Arc<Job>>,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    more: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The trainings of one compressor. Dropped, its helper thread ends after the training it is
/// on (its result then goes unused).
#[derive(Default)]
pub(super) struct Trainer {
    shared: Arc<Shared>,
    helper: Helper,
}

/// The helper thread, started at the first training.
#[derive(Default, PartialEq)]
enum Helper {
    #[default]
    NotYet,
    Running,
    /// No thread could be started: every training runs on the compressor's thread.
    Unavailable,
}

impl Trainer {
    /// Queues a training of `samples` for `ty`.
    pub(super) fn start(&mut self, ty: &str, samples: Samples) -> Arc<Job> {
        let job = Arc::new(Job {
            ty: ty.to_string(),
            state: Mutex::new(State::Waiting(samples)),
            done: Condvar::new(),
        });
        if self.helper == Helper::NotYet {
            let shared = self.shared.clone();
            // Detached: it ends when the trainer is dropped (see `Drop`).
            let spawned = std::thread::Builder::new()
                .name("flightrec-train".into())
                .spawn(move || helper(&shared));
            self.helper = match spawned {
                Ok(_) => Helper::Running,
                Err(_) => Helper::Unavailable,
            };
        }
        if self.helper == Helper::Running {
            self.shared.lock().jobs.push_back(job.clone());
            self.shared.more.notify_one();
        }
        job
    }

    /// The result of `first`, waiting for it: while the helper is on it, this thread trains
    /// the `others` under way that are not started yet.
    pub(super) fn finish<'j>(
        &self,
        first: &Job,
        others: impl Iterator<Item = &'j Job>,
    ) -> Option<Trained> {
        for job in others {
            if first.is_done() || first.run_if_waiting() {
                break;
            }
            job.run_if_waiting();
        }
        first.take()
    }
}

impl Drop for Trainer {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.more.notify_all();
    }
}

/// The helper thread: trains what is queued, in order, until the trainer is dropped.
fn helper(shared: &Shared) {
    loop {
        let job = {
            let mut q = shared.lock();
            loop {
                if q.closed {
                    return;
                }
                match q.jobs.pop_front() {
                    Some(j) => break j,
                    None => q = shared.more.wait(q).unwrap_or_else(PoisonError::into_inner),
                }
            }
        };
        job.run_if_waiting();
    }
}
