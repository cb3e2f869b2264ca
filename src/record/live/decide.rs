//! How one connection attempt ended, and what a stream's loop does about it: no I/O, so every
//! decision is tested without a network.

use super::Stopped;
use crate::record::reader::EndCause;
use crate::source::api::ApiError;

/// How one connection attempt of a stream ended.
#[derive(Debug)]
pub(super) enum Attempt {
    /// Shutdown came while the stream was opening: no connection.
    InterruptedOpening,
    /// The stream did not open.
    OpenFailed(ApiError),
    /// The stream opened; the connection has ended (and is in the capture log).
    Opened {
        end: ConnectionEnd,
        /// Frames the stream delivered (events and previews, not pings).
        events: u64,
        /// The connection's first history pass completed: requests succeed again.
        backfilled: bool,
    },
}

/// How an open connection ended.
#[derive(Debug)]
pub(super) enum ConnectionEnd {
    /// The recorder chose to stop: a stop condition confirmed by a final history pass, or
    /// shutdown.
    Stopped(Stopped),
    /// A history pass on this connection failed for good (the first, the confirming one, or the
    /// one after a malformed frame); the stream was dropped with it.
    PassFailed(ApiError),
    /// The stream ended by itself: closed, an error frame, broken, or the writer gone.
    StreamEnded(EndCause),
}

/// What a stream's loop does next.
#[derive(Debug)]
pub(super) enum Next {
    /// This stream's recording ends; `counted`: the attempt's connection opened and counts.
    Stop { stopped: Stopped, counted: bool },
    /// A failed request: a fatal one ends the recording, others wait their backoff (or give up
    /// after `give_up_after` of failures), then reconnect.
    Fail(ApiError),
    /// Reconnect after the backoff's next delay, from the floor again if events flowed.
    Reconnect { reset_backoff: bool },
}

impl Attempt {
    /// Whether failures so far are over (the time to give up after counts afresh).
    pub(super) fn recovered(&self) -> bool {
        matches!(
            self,
            Attempt::Opened {
                backfilled: true,
                ..
            }
        )
    }

    /// The decision after the attempt.
    pub(super) fn next(self) -> Next {
        match self {
            Attempt::InterruptedOpening => Next::Stop {
                stopped: Stopped::Interrupted,
                counted: false,
            },
            Attempt::OpenFailed(e) => Next::Fail(e),
            Attempt::Opened { end, events, .. } => match end {
                ConnectionEnd::Stopped(stopped) => Next::Stop {
                    stopped,
                    counted: true,
                },
                ConnectionEnd::PassFailed(e) => Next::Fail(e),
                ConnectionEnd::StreamEnded(_) => Next::Reconnect {
                    reset_backoff: events > 0,
                },
            },
        }
    }
}

impl ConnectionEnd {
    /// The recorder stopped this connection: the thread list is fetched once more while it still
    /// covers the time, and the end is no problem to show.
    pub(super) fn is_stop(&self) -> bool {
        matches!(self, ConnectionEnd::Stopped(_))
    }

    /// Whether the newest time the writer holds for this stream once the connection closed is
    /// proven complete, so the next backfill may start there. Not after an interruption (the
    /// confirming pass may not have run) nor after a failed pass.
    pub(super) fn proves_newest(&self) -> bool {
        match self {
            ConnectionEnd::Stopped(s) => *s != Stopped::Interrupted,
            ConnectionEnd::StreamEnded(_) => true,
            ConnectionEnd::PassFailed(_) => false,
        }
    }

    /// The `cause` of the capture log's `connection` entry.
    pub(super) fn cause(&self) -> String {
        match self {
            ConnectionEnd::Stopped(Stopped::Condition(why)) => format!("stopped: {why}"),
            ConnectionEnd::Stopped(Stopped::Interrupted) => "stopped: interrupted".into(),
            ConnectionEnd::PassFailed(e) => format!("history pass failed: {e}"),
            ConnectionEnd::StreamEnded(c) => c.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16) -> ApiError {
        ApiError::Http {
            url: "https://api/v1/sessions/sesn_1/stream".into(),
            status,
            error_type: "api_error".into(),
            message: "m".into(),
            request_id: None,
            retry_after: None,
            should_retry: None,
        }
    }

    fn transport() -> ApiError {
        ApiError::Transport {
            url: "https://api/v1/sessions/sesn_1/events".into(),
            message: "connection reset".into(),
        }
    }

    fn idle() -> Stopped {
        Stopped::Condition("session idle".into())
    }

    fn ends() -> Vec<ConnectionEnd> {
        vec![
            ConnectionEnd::Stopped(idle()),
            ConnectionEnd::Stopped(Stopped::Interrupted),
            ConnectionEnd::PassFailed(transport()),
            ConnectionEnd::PassFailed(http(404)),
            ConnectionEnd::StreamEnded(EndCause::Closed),
            ConnectionEnd::StreamEnded(EndCause::ErrorFrame("{}".into())),
            ConnectionEnd::StreamEnded(EndCause::Broken("idle timeout".into())),
            ConnectionEnd::StreamEnded(EndCause::WriterGone),
        ]
    }

    fn opened(end: ConnectionEnd, events: u64, backfilled: bool) -> Attempt {
        Attempt::Opened {
            end,
            events,
            backfilled,
        }
    }

    /// Every attempt, with and without events and a completed first pass, and its decision.
    #[test]
    fn each_way_an_attempt_ends_leads_to_its_decision() {
        let stop = |stopped: Stopped, counted| format!("{:?}", Next::Stop { stopped, counted });
        let fail = |e: ApiError| format!("{:?}", Next::Fail(e));
        let reconnect = |reset_backoff| format!("{:?}", Next::Reconnect { reset_backoff });
        let mut table = vec![
            (
                Attempt::InterruptedOpening,
                stop(Stopped::Interrupted, false),
            ),
            (Attempt::OpenFailed(http(503)), fail(http(503))),
            (Attempt::OpenFailed(http(401)), fail(http(401))),
            (Attempt::OpenFailed(transport()), fail(transport())),
        ];
        let by_end = [
            (stop(idle(), true), stop(idle(), true)),
            (
                stop(Stopped::Interrupted, true),
                stop(Stopped::Interrupted, true),
            ),
            (fail(transport()), fail(transport())),
            (fail(http(404)), fail(http(404))),
            (reconnect(false), reconnect(true)),
            (reconnect(false), reconnect(true)),
            (reconnect(false), reconnect(true)),
            (reconnect(false), reconnect(true)),
        ];
        for (i, (no_events, events)) in by_end.into_iter().enumerate() {
            for backfilled in [false, true] {
                table.push((opened(ends().remove(i), 0, backfilled), no_events.clone()));
                table.push((opened(ends().remove(i), 7, backfilled), events.clone()));
            }
        }
        assert_eq!(table.len(), 4 + 8 * 4);
        for (attempt, want) in table {
            let label = format!("{attempt:?}");
            assert_eq!(format!("{:?}", attempt.next()), want, "{label}");
        }
    }

    #[test]
    fn failures_are_over_once_a_first_history_pass_completed() {
        assert!(!Attempt::InterruptedOpening.recovered());
        assert!(!Attempt::OpenFailed(http(503)).recovered());
        for end in ends() {
            let label = format!("{end:?}");
            assert!(!opened(end, 9, false).recovered(), "{label}");
        }
        for end in ends() {
            let label = format!("{end:?}");
            assert!(opened(end, 0, true).recovered(), "{label}");
        }
    }

    #[test]
    fn only_a_stop_by_the_recorder_is_a_stop() {
        let want = [true, true, false, false, false, false, false, false];
        for (end, want) in ends().iter().zip(want) {
            assert_eq!(end.is_stop(), want, "{end:?}");
        }
    }

    #[test]
    fn the_next_backfill_starts_at_the_newest_time_unless_a_pass_failed_or_interrupted() {
        let want = [true, false, false, false, true, true, true, true];
        for (end, want) in ends().iter().zip(want) {
            assert_eq!(end.proves_newest(), want, "{end:?}");
        }
    }

    #[test]
    fn each_end_has_its_capture_log_cause() {
        let want = [
            "stopped: session idle",
            "stopped: interrupted",
            "history pass failed: https://api/v1/sessions/sesn_1/events: connection reset",
            "history pass failed: https://api/v1/sessions/sesn_1/stream: HTTP 404 api_error: m",
            "closed by the server",
            "error frame: {}",
            "idle timeout",
            "recorder stopping",
        ];
        for (end, want) in ends().iter().zip(want) {
            assert_eq!(end.cause(), want, "{end:?}");
        }
    }

    #[test]
    fn the_recorder_stopping_is_not_the_writer_gone() {
        let stopped = ConnectionEnd::Stopped(Stopped::Interrupted);
        let gone = ConnectionEnd::StreamEnded(EndCause::WriterGone);
        assert!(stopped.is_stop() && !gone.is_stop());
        assert!(
            matches!(
                opened(gone, 0, true).next(),
                Next::Reconnect {
                    reset_backoff: false
                }
            ),
            "a writer gone under the reader ends the stream; the flush after it reports the writer"
        );
    }
}
