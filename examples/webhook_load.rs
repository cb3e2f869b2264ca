//! A load generator for `flightrec watch --webhook-listen`: signs and POSTs deliveries as fast as
//! the intake takes them, over `--connections` keep-alive connections, and prints one JSON line
//! with the count per status code, the wall time and the rate. Used by `bench/watch.sh`.
//!
//! ```text
//! cargo run --release --example webhook_load -- --url http://127.0.0.1:PORT/webhooks/anthropic \
//!     --secret whsec_... [--count N] [--connections C] [--type DATA_TYPE]
//! ```
//!
//! Every delivery has a new id (so each is verified and stored, none counted as a repeat) and is
//! signed now. `--type` is its `data.type` (default `session.updated`, which a watcher stores and
//! otherwise ignores: the intake alone is measured, not the recordings a `session.running` would
//! start).

use std::collections::BTreeMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use flightrec::webhook::Verifier;
use flightrec::webhook::outgoing::{payload, signed_headers};

struct Args {
    url: String,
    secret: String,
    count: usize,
    connections: usize,
    data_type: String,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        url: String::new(),
        secret: String::new(),
        count: 20_000,
        connections: 16,
        data_type: "session.updated".into(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => a.url = value()?,
            "--secret" => a.secret = value()?,
            "--count" => a.count = value()?.parse().map_err(|e| format!("--count: {e}"))?,
            "--connections" => {
                a.connections = value()?
                    .parse()
                    .map_err(|e| format!("--connections: {e}"))?
            }
            "--type" => a.data_type = value()?,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.url.is_empty() || a.secret.is_empty() {
        return Err("--url and --secret are required".into());
    }
    Ok(a)
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("webhook_load: {e}");
            std::process::exit(2);
        }
    };
    let key = match Verifier::new(&a.secret) {
        Ok(k) => std::sync::Arc::new(k),
        Err(e) => {
            eprintln!("webhook_load: --secret: {e}");
            std::process::exit(2);
        }
    };
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(a.connections)
        .build()
        .expect("an HTTP client");
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let run = format!(
        "{:x}",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..a.connections {
        let (client, key, next) = (client.clone(), key.clone(), next.clone());
        let (url, data_type, count, run) =
            (a.url.clone(), a.data_type.clone(), a.count, run.clone());
        tasks.push(tokio::spawn(async move {
            let mut codes: BTreeMap<String, usize> = BTreeMap::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= count {
                    return codes;
                }
                let id = format!("msg_load_{run}_{i}");
                let body = payload(
                    &id,
                    "2026-12-06T00:00:00Z",
                    &data_type,
                    &format!("sesn_load{i:08}"),
                );
                let mut req = client.post(&url).header("content-type", "application/json");
                for (name, value) in signed_headers(&key, &id, unix_now(), body.as_bytes()) {
                    req = req.header(name, value);
                }
                let code = match req.body(body).send().await {
                    Ok(r) => r.status().as_u16().to_string(),
                    Err(e) => format!("error: {e}"),
                };
                *codes.entry(code).or_default() += 1;
            }
        }));
    }
    let mut codes: BTreeMap<String, usize> = BTreeMap::new();
    for t in tasks {
        if let Ok(c) = t.await {
            for (k, v) in c {
                *codes.entry(k).or_default() += v;
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let ok = codes.get("204").copied().unwrap_or(0);
    println!(
        "{}",
        serde_json::json!({
            "sent": a.count,
            "connections": a.connections,
            "codes": codes,
            "seconds": secs,
            "accepted_per_second": ok as f64 / secs,
        })
    );
}
