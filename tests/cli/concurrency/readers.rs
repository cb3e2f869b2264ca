//! The matrix's readers: reading commands in a loop while the writers write. Every command must
//! exit 0 with valid output; each run's latency is kept.

use serde_json::Value;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::{G, hang};
use crate::util::*;

/// What the readers of one cell did.
#[derive(Default)]
pub struct Log {
    pub commands: usize,
    pub failures: Vec<String>,
    pub slowest: Duration,
    pub slowest_command: String,
    /// The slowest run of each command, by name (`sessions`, `timeline`...), in first-run order.
    pub slowest_by_name: Vec<(String, Duration)>,
}

impl Log {
    /// `name=ms` of each command's slowest run: a cheap command's shows any wait for a lock.
    pub fn by_name(&self) -> String {
        self.slowest_by_name
            .iter()
            .map(|(n, d)| format!("{n}={:.0}ms", d.as_secs_f64() * 1000.0))
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn parses(out: &str) -> bool {
    serde_json::from_str::<Value>(out).is_ok()
}

/// An export is one snapshot: each event once, in time order (queued copies, without a time,
/// last).
fn ordered_once(out: &str) -> bool {
    let mut seen = std::collections::HashSet::new();
    let mut last: Option<i64> = None;
    let mut queued = false;
    for l in out.lines() {
        let Ok(v) = serde_json::from_str::<Value>(l) else {
            return false;
        };
        let (id, ty) = (
            v["id"].as_str().unwrap_or(""),
            v["type"].as_str().unwrap_or(""),
        );
        if !id.is_empty() && !seen.insert(format!("{id} {ty}")) {
            return false;
        }
        let at = v["processed_at"]
            .as_str()
            .map(|p| chrono::DateTime::parse_from_rfc3339(p).map(|t| t.timestamp_micros()));
        match at {
            Some(Ok(at)) if queued || last.is_some_and(|p| p > at) => return false,
            Some(Ok(at)) => last = Some(at),
            Some(Err(_)) => {}
            None => queued = true,
        }
    }
    true
}

/// Why the output of `args` is not what it promises, if it is not.
fn check(args: &[&str], out: &str) -> Option<&'static str> {
    let ok = match args[0] {
        "sessions" => serde_json::from_str::<Value>(out)
            .is_ok_and(|v| v.as_array().is_some_and(|a| a.iter().any(|s| s["id"] == G))),
        "timeline" => out.contains("sevt_"),
        "export" => !out.trim().is_empty() && out.lines().all(parses) && ordered_once(out),
        _ => parses(out),
    };
    (!ok).then_some("invalid output")
}

/// Reader `k` loops until `stop`: reader 0 reads G, the others the sessions listed in turn.
pub fn read_until(db: &Path, k: usize, stop: &AtomicBool, log: &Mutex<Log>) {
    let mut listed: Vec<String> = vec![G.to_string()];
    let mut round = 0;
    while !stop.load(Ordering::Relaxed) {
        let s = if k == 0 {
            G.to_string()
        } else {
            listed[(round + k) % listed.len()].clone()
        };
        round += 1;
        let commands: [Vec<&str>; 6] = [
            vec!["sessions", "--json"],
            vec!["timeline", &s, "--limit", "20"],
            vec!["explain", &s, "--json"],
            vec!["state", &s, "--json"],
            vec!["spans", &s, "--json"],
            vec!["export", &s, "--format", "jsonl"],
        ];
        for args in commands {
            let t = Instant::now();
            let o = run(db, &args);
            let took = t.elapsed();
            let out = stdout(&o);
            let failure = if code(&o) != 0 {
                Some(format!("exit {}: {}", code(&o), stderr(&o).trim()))
            } else if took > hang() {
                Some(format!("took {took:?}"))
            } else {
                check(&args, &out)
                    .map(|why| format!("{why}: {}", out.chars().take(300).collect::<String>()))
            };
            if args[0] == "sessions" && failure.is_none() {
                let v: Value = serde_json::from_str(&out).unwrap();
                listed = v
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|s| s["id"].as_str().map(str::to_string))
                    .collect();
            }
            let mut l = log.lock().unwrap();
            l.commands += 1;
            match l.slowest_by_name.iter_mut().find(|(n, _)| n == args[0]) {
                Some((_, d)) => *d = (*d).max(took),
                None => l.slowest_by_name.push((args[0].to_string(), took)),
            }
            if took > l.slowest {
                l.slowest = took;
                l.slowest_command = args.join(" ");
            }
            if let Some(f) = failure {
                l.failures.push(format!("`{}`: {f}", args.join(" ")));
            }
        }
    }
}
