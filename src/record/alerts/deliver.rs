//! Delivering alert notices: `--alert-exec` runs a command through `sh -c` with the notice on
//! stdin (a non-zero exit or a timeout is a failure), `--alert-webhook` POSTs the notice with a
//! chat `text` line (a non-2xx answer is a failure). Each target of each notice is its own task,
//! retried with backoff; every attempt's outcome is reported to the watcher, which stores it.
//! Nothing here waits on recording, and recording never waits on this.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt as _;
use tokio::task::JoinHandle;

use crate::analysis::alerts::{AlertState, webhook_body};
use crate::model::text::excerpt;
use crate::model::time::now;
use crate::record::backoff::Backoff;

/// Where notices go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A shell command, run with `sh -c`, the notice on its stdin.
    Exec(String),
    /// A URL the notice is POSTed to as JSON.
    Webhook(String),
}

impl Target {
    /// `exec` or `webhook`: what the deliveries table and messages call it.
    pub fn kind(&self) -> &'static str {
        match self {
            Target::Exec(_) => "exec",
            Target::Webhook(_) => "webhook",
        }
    }
}

/// The secrets a command must not inherit from the watcher's environment.
const SECRET_VARS: [&str; 2] = ["ANTHROPIC_API_KEY", "ANTHROPIC_WEBHOOK_SIGNING_KEY"];

/// How notices are delivered.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Attempts per notice and target (at least 1).
    pub attempts: u32,
    /// The wait after the first failure; it doubles (with jitter) up to a minute.
    pub first_retry: Duration,
    /// How long one attempt may take.
    pub timeout: Duration,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            attempts: 5,
            first_retry: Duration::from_secs(1),
            timeout: Duration::from_secs(30),
        }
    }
}

/// A notice to deliver.
#[derive(Debug, Clone)]
pub struct Notice {
    pub alert_id: i64,
    pub state: AlertState,
    pub payload: Value,
}

/// One attempt's outcome.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub alert_id: i64,
    pub state: AlertState,
    pub target: &'static str,
    pub at: String,
    /// 1 for the first.
    pub attempt: u32,
    pub of: u32,
    /// `None`: delivered.
    pub error: Option<String>,
}

/// The targets, a shared HTTP client and the policy.
pub struct Deliverer {
    targets: Vec<Target>,
    client: reqwest::Client,
    policy: Policy,
    /// The firing notices' deliveries by (alert, target), until their alert resolves.
    firing: Mutex<HashMap<(i64, usize), JoinHandle<()>>>,
}

impl Deliverer {
    pub fn new(targets: Vec<Target>, policy: Policy) -> Deliverer {
        Deliverer {
            targets,
            client: reqwest::Client::new(),
            policy,
            firing: Mutex::new(HashMap::new()),
        }
    }

    /// The targets' kinds, in order (a target is named by its index).
    pub fn kinds(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.targets.iter().map(Target::kind)
    }

    /// Starts delivering `notice` to every target on `rt`, each attempt reported on `report`.
    pub fn send(
        self: &Arc<Self>,
        rt: &tokio::runtime::Handle,
        notice: &Notice,
        report: &Sender<Attempt>,
    ) {
        for i in 0..self.targets.len() {
            self.send_to(rt, notice, report, i);
        }
    }

    /// Starts delivering `notice` to target `i`. A resolved notice goes there only once the
    /// firing notice's attempts there are over, so a receiver never hears "resolved" before
    /// "firing".
    pub fn send_to(
        self: &Arc<Self>,
        rt: &tokio::runtime::Handle,
        notice: &Notice,
        report: &Sender<Attempt>,
        i: usize,
    ) {
        let (me, n, r) = (Arc::clone(self), notice.clone(), report.clone());
        let key = (notice.alert_id, i);
        let mut firing = self.firing.lock().unwrap_or_else(|p| p.into_inner());
        match notice.state {
            AlertState::Firing => {
                firing.insert(key, rt.spawn(async move { me.deliver(i, n, r).await }));
            }
            AlertState::Resolved => {
                let before = firing.remove(&key);
                rt.spawn(async move {
                    if let Some(h) = before {
                        let _ = h.await;
                    }
                    me.deliver(i, n, r).await
                });
            }
        }
    }

    async fn deliver(&self, i: usize, notice: Notice, report: Sender<Attempt>) {
        let Some(target) = self.targets.get(i) else {
            return;
        };
        let of = self.policy.attempts.max(1);
        let cap = Duration::from_secs(60).max(self.policy.first_retry);
        let mut backoff = Backoff::new(self.policy.first_retry, cap);
        for attempt in 1..=of {
            let error = self.once(target, &notice.payload).await.err();
            let done = error.is_none() || attempt == of;
            let sent = report.send(Attempt {
                alert_id: notice.alert_id,
                state: notice.state,
                target: target.kind(),
                at: now(),
                attempt,
                of,
                error,
            });
            if done || sent.is_err() {
                return;
            }
            tokio::time::sleep(backoff.next_delay(None)).await;
        }
    }

    async fn once(&self, target: &Target, payload: &Value) -> Result<(), String> {
        let limit = self.policy.timeout;
        let attempt = async {
            match target {
                Target::Exec(cmd) => exec(cmd, payload).await,
                Target::Webhook(url) => post(&self.client, url, payload).await,
            }
        };
        tokio::time::timeout(limit, attempt)
            .await
            .unwrap_or_else(|_| Err(format!("timed out after {} s", limit.as_secs_f64())))
    }
}

/// Runs `cmd` through `sh -c` with the notice and a newline on stdin, without the API key and
/// the webhook signing key in its environment; killed if the attempt times out.
async fn exec(cmd: &str, payload: &Value) -> Result<(), String> {
    let mut command = tokio::process::Command::new("sh");
    command
        .arg("-c")
        .arg(cmd)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    for var in SECRET_VARS {
        command.env_remove(var);
    }
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start sh: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let mut line = payload.to_string().into_bytes();
        line.push(b'\n');
        // A command that does not read its stdin is judged by its exit status alone.
        let _ = stdin.write_all(&line).await;
    }
    let out = child
        .wait_with_output()
        .await
        .map_err(|e| format!("waiting for the command: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    match stderr.lines().rev().find(|l| !l.trim().is_empty()) {
        Some(last) => Err(format!("{}: {}", out.status, excerpt(last.trim(), 200))),
        None => Err(out.status.to_string()),
    }
}

/// POSTs the notice with its `text`. Errors never name the URL (a chat webhook's URL is its
/// secret).
async fn post(client: &reqwest::Client, url: &str, payload: &Value) -> Result<(), String> {
    let res = client
        .post(url)
        .json(&webhook_body(payload))
        .send()
        .await
        .map_err(|e| format!("POST failed: {}", e.without_url()))?;
    let status = res.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice() -> Value {
        serde_json::json!({"session_id": "sesn_1", "state": "firing", "rule": "requires_action"})
    }

    #[tokio::test]
    async fn a_command_gets_the_notice_on_stdin_and_a_failure_names_its_status_and_stderr() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("got");
        let cmd = format!("cat > '{}'", file.display());
        exec(&cmd, &notice()).await.unwrap();
        let got: Value =
            serde_json::from_str(std::fs::read_to_string(&file).unwrap().trim()).unwrap();
        assert_eq!(got, notice());
        let e = exec("echo first >&2; echo nope >&2; exit 3", &notice())
            .await
            .unwrap_err();
        assert!(e.contains('3') && e.ends_with(": nope"), "{e}");
    }

    /// A loopback server answering every request with `status`; its URL (with a secret path).
    fn server(status: u16) -> String {
        use std::io::{Read as _, Write as _};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/services/SECRET", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for mut conn in listener.incoming().map_while(Result::ok) {
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf);
                let answer = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\n\r\n");
                let _ = conn.write_all(answer.as_bytes());
            }
        });
        url
    }

    #[tokio::test]
    async fn a_webhook_failure_names_the_status_or_cause_never_the_url() {
        let client = reqwest::Client::new();
        assert_eq!(post(&client, &server(204), &notice()).await, Ok(()));
        let e = post(&client, &server(500), &notice()).await.unwrap_err();
        assert!(e.starts_with("HTTP 500"), "{e}");
        // Nothing listens on port 9 of loopback: a connection error, without the URL.
        let e = post(&client, "http://127.0.0.1:9/services/SECRET", &notice())
            .await
            .unwrap_err();
        assert!(e.starts_with("POST failed") && !e.contains("SECRET"), "{e}");
    }
}
