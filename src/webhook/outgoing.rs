//! The sending side, as the platform does it (for `serve --live --webhook-url`): which webhook
//! `data.type`s a session's status change sends, the payload, the signed headers, and the chaos
//! plan (repeats, delays, reordering). No I/O and no clock: times are µs given by the caller.

use super::Verifier;

/// The `data.type`s the platform sends when the primary log reveals an event of `event_type`
/// (`stop_reason`: the `stop_reason.type` of a `session.status_idle`). Both the object-status
/// type and the `status_*` mirror are sent, as to an endpoint subscribed to both.
pub fn status_webhooks(event_type: &str, stop_reason: Option<&str>) -> Vec<&'static str> {
    match event_type {
        "session.status_running" => vec!["session.running", "session.status_run_started"],
        "session.status_idle" => {
            let object = match stop_reason {
                Some("requires_action") => "session.requires_action",
                Some("budget_reached") => "session.budget_reached",
                _ => "session.idled",
            };
            vec!["session.status_idled", object]
        }
        "session.status_rescheduled" => vec!["session.status_rescheduled"],
        "session.status_terminated" => vec!["session.status_terminated"],
        "session.deleted" => vec!["session.deleted"],
        _ => Vec::new(),
    }
}

/// The payload: `{"type":"event","id","created_at","data":{"type","id",...}}`.
pub fn payload(delivery_id: &str, created_at: &str, data_type: &str, data_id: &str) -> String {
    serde_json::json!({
        "type": "event",
        "id": delivery_id,
        "created_at": created_at,
        "data": {
            "type": data_type,
            "id": data_id,
            "organization_id": "org_flightrec_serve",
            "workspace_id": "wrkspc_flightrec_serve",
        },
    })
    .to_string()
}

/// The three Standard Webhooks headers of a delivery sent at `timestamp` (Unix seconds).
pub fn signed_headers(
    key: &Verifier,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> [(&'static str, String); 3] {
    [
        ("webhook-id", msg_id.to_string()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", key.sign(msg_id, timestamp, body)),
    ]
}

/// Faults a sender injects, to test receivers: deterministic given `seed`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chaos {
    /// The chance (0 to 1) that a delivery is sent a second time (same ids, as a retry).
    pub repeat: f64,
    /// Each send is held back a random time up to this (µs).
    pub delay_us: i64,
    /// Swap the send times of about half the pairs of consecutive deliveries.
    pub reorder: bool,
    pub seed: u64,
}

impl Chaos {
    /// Reads `repeat=P,delay=DUR,reorder,seed=N` (any subset, any order; DUR by `parse_dur`).
    pub fn parse(
        text: &str,
        parse_dur: impl Fn(&str) -> Result<std::time::Duration, String>,
    ) -> Result<Chaos, String> {
        let mut c = Chaos::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').unwrap_or((part, ""));
            match key {
                "repeat" => match value.parse::<f64>() {
                    Ok(p) if (0.0..=1.0).contains(&p) => c.repeat = p,
                    _ => {
                        return Err(format!(
                            "repeat: expected a chance from 0 to 1, got {value:?}"
                        ));
                    }
                },
                "delay" => {
                    let d = parse_dur(value).map_err(|e| format!("delay: {e}"))?;
                    c.delay_us = i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
                }
                "reorder" if value.is_empty() => c.reorder = true,
                "seed" => {
                    c.seed = value
                        .parse()
                        .map_err(|_| format!("seed: expected a whole number, got {value:?}"))?
                }
                _ => {
                    return Err(format!(
                        "unknown chaos {part:?}: expected repeat=P, delay=DUR, reorder or seed=N"
                    ));
                }
            }
        }
        Ok(c)
    }
}

/// One send of one delivery: the index of the delivery and when (µs on the caller's clock).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Send {
    pub at: i64,
    pub delivery: usize,
}

/// When to send each of the deliveries due at `due` (µs), with `chaos`: every delivery at least
/// once, repeats after their first send, in send order.
pub fn plan(due: &[i64], chaos: &Chaos) -> Vec<Send> {
    let mut rng = fastrand::Rng::with_seed(chaos.seed);
    let mut order: Vec<usize> = (0..due.len()).collect();
    order.sort_by_key(|&i| (due[i], i));
    let mut at: Vec<i64> = order.iter().map(|&i| due[i]).collect();
    if chaos.reorder {
        let mut k = 0;
        while k + 1 < at.len() {
            if rng.bool() {
                // The earlier delivery waits until just after the later one: never early.
                let b = at[k + 1];
                at[k] = b + 1;
                k += 2;
            } else {
                k += 1;
            }
        }
    }
    let mut sends = Vec::with_capacity(due.len());
    for (slot, &i) in order.iter().enumerate() {
        let held = if chaos.delay_us > 0 {
            rng.i64(0..=chaos.delay_us)
        } else {
            0
        };
        let first = at[slot] + held;
        sends.push(Send {
            at: first,
            delivery: i,
        });
        if chaos.repeat > 0.0 && rng.f64() < chaos.repeat {
            let again = first + rng.i64(0..=chaos.delay_us.max(200_000));
            sends.push(Send {
                at: again,
                delivery: i,
            });
        }
    }
    sends.sort_by_key(|s| s.at);
    sends
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::{Delivery, Headers};

    const KEY: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn the_signer_matches_the_standard_webhooks_reference_vector() {
        let key = Verifier::new(KEY).unwrap();
        let h = signed_headers(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1_614_265_330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(h[2].1, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn a_signed_payload_verifies_and_parses() {
        let key = Verifier::new(KEY).unwrap();
        let body = payload(
            "wevt_1",
            "2026-12-01T10:00:00Z",
            "session.requires_action",
            "sesn_1",
        );
        let h = signed_headers(&key, "msg_1", 1_000, body.as_bytes());
        let headers = Headers {
            id: Some(&h[0].1),
            timestamp: Some(&h[1].1),
            signature: Some(&h[2].1),
        };
        assert_eq!(key.verify(&headers, body.as_bytes(), 1_010), Ok(1_000));
        let other = Verifier::new("whsec_d3Jvbmcta2V5LXdyb25nLWtleQ==").unwrap();
        assert!(other.verify(&headers, body.as_bytes(), 1_010).is_err());
        let d = Delivery::parse(body.as_bytes()).unwrap();
        assert_eq!((d.id.as_str(), d.data.id.as_str()), ("wevt_1", "sesn_1"));
        assert_eq!(d.data.kind, "session.requires_action");
    }

    #[test]
    fn idle_sends_the_type_of_its_stop_reason() {
        let t = |r| status_webhooks("session.status_idle", r)[1];
        assert_eq!(t(Some("requires_action")), "session.requires_action");
        assert_eq!(t(Some("budget_reached")), "session.budget_reached");
        assert_eq!(t(Some("end_turn")), "session.idled");
        assert_eq!(t(None), "session.idled");
        assert!(status_webhooks("agent.message", None).is_empty());
        assert_eq!(
            status_webhooks("session.status_running", None),
            ["session.running", "session.status_run_started"]
        );
    }

    #[test]
    fn chaos_parses_and_refuses_by_name() {
        let d = |s: &str| {
            s.strip_suffix("ms")
                .and_then(|n| n.parse().ok())
                .map(std::time::Duration::from_millis)
                .ok_or_else(|| format!("bad duration {s:?}"))
        };
        let c = Chaos::parse("repeat=0.5, delay=300ms,reorder,seed=7", d).unwrap();
        assert_eq!(
            c,
            Chaos {
                repeat: 0.5,
                delay_us: 300_000,
                reorder: true,
                seed: 7
            }
        );
        assert!(Chaos::parse("repeat=2", d).unwrap_err().contains("repeat"));
        assert!(Chaos::parse("delay=x", d).unwrap_err().contains("delay"));
        assert!(Chaos::parse("shuffle", d).unwrap_err().contains("shuffle"));
    }

    #[test]
    fn without_chaos_each_delivery_is_sent_once_when_due() {
        let sends = plan(&[30, 10, 20], &Chaos::default());
        let got: Vec<(i64, usize)> = sends.iter().map(|s| (s.at, s.delivery)).collect();
        assert_eq!(got, [(10, 1), (20, 2), (30, 0)]);
    }

    #[test]
    fn chaos_repeats_reorders_and_never_sends_early() {
        let due: Vec<i64> = (0..200).map(|i| i * 1_000).collect();
        let chaos = Chaos {
            repeat: 0.3,
            delay_us: 5_000,
            reorder: true,
            seed: 3,
        };
        let sends = plan(&due, &chaos);
        let mut count = vec![0; due.len()];
        for s in &sends {
            count[s.delivery] += 1;
            assert!(s.at >= due[s.delivery], "sent before it was due");
        }
        assert!(count.iter().all(|&n| n == 1 || n == 2));
        let repeated = count.iter().filter(|&&n| n == 2).count();
        assert!((30..=90).contains(&repeated), "{repeated} repeats");
        let firsts: Vec<usize> = {
            let mut seen = std::collections::HashSet::new();
            sends
                .iter()
                .filter(|s| seen.insert(s.delivery))
                .map(|s| s.delivery)
                .collect()
        };
        let inversions = firsts.windows(2).filter(|w| w[0] > w[1]).count();
        assert!(inversions >= 20, "{inversions} deliveries overtaken");
        assert_eq!(plan(&due, &chaos), sends, "the seed makes it repeatable");
    }
}
