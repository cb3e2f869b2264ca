//! The runner of the decoders' property tests (test builds only): a few cases under
//! `cargo test`, or, with `FLIGHTREC_FUZZ_SECS` set (`bench/fuzz.sh`), fresh random seeds until
//! that many seconds have passed, printing how many cases ran and how many failed.
//!
//! Each property lives beside the decoder it checks (`source/props.rs`, `serve/query_props.rs`,
//! `redact/props.rs`, `source/tape_props.rs`) and is named `prop_<target>_…`, the target being
//! what `bench/fuzz.sh` gives a time budget to. A failure shows the shrunk (minimal) input.

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, TestCaseResult, TestError, TestRunner};
use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Runs `test` on values of `strategy`: `cases` of them (or `PROPTEST_CASES`), or for
/// `FLIGHTREC_FUZZ_SECS` seconds when that is set. Panics with the minimal failing input.
pub(crate) fn check<S>(
    name: &str,
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> TestCaseResult,
) where
    S: Strategy,
    S::Value: Debug,
{
    let mut config = Config::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    config.failure_persistence = None;
    let secs = std::env::var("FLIGHTREC_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok());
    let Some(secs) = secs else {
        if let Err(e) = TestRunner::new(config).run(&strategy, test) {
            panic!("{name}: {}", describe(&e));
        }
        return;
    };
    let ran = AtomicU64::new(0);
    let counted = |v: S::Value| {
        ran.fetch_add(1, Ordering::Relaxed);
        test(v)
    };
    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    let mut failures: Vec<String> = Vec::new();
    // Rounds of fresh seeds, each sized to take about a second.
    let mut round = 16u32;
    while Instant::now() < deadline {
        config.cases = round;
        let t = Instant::now();
        if let Err(e) = TestRunner::new(config.clone()).run(&strategy, counted) {
            failures.push(describe(&e));
        }
        if t.elapsed() < Duration::from_millis(500) {
            round = round.saturating_mul(2).min(1 << 20);
        }
    }
    println!(
        "fuzz {name}: {} cases in {:.0} s, {} failures",
        ran.load(Ordering::Relaxed),
        start.elapsed().as_secs_f64(),
        failures.len()
    );
    if let Some(first) = failures.first() {
        panic!("{name}: {first}");
    }
}

fn describe<T: Debug>(e: &TestError<T>) -> String {
    match e {
        TestError::Abort(why) => format!("aborted: {why}"),
        TestError::Fail(why, input) => format!("{why}\nminimal input: {input:?}"),
    }
}
