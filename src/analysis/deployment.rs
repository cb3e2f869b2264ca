//! Deployment runs (`GET /v1/deployment_runs/{id}`, `../shared/webhooks.md`): the few fields a
//! watcher promotes from a run object, and the alert a failed run raises (the session that never
//! started). Pure: the text in, facts and a [`Hit`] out.

use serde::Deserialize;

use super::rules::{Hit, Rule};

/// What a run object says, read leniently (unknown fields ignored; a missing one is `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunFacts {
    pub id: String,
    /// The body's `status` when it has one; else `failed` (an error), `succeeded` (a session)
    /// or `started`.
    pub status: String,
    pub session_id: Option<String>,
    pub deployment_id: Option<String>,
    pub error_type: Option<String>,
    pub error_message: Option<String>,
    pub created_at: Option<String>,
}

#[derive(Deserialize)]
struct Wire {
    id: String,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    session_id: Option<String>,
    #[serde(default)]
    deployment_id: Option<String>,
    #[serde(default)]
    error: Option<WireError>,
    #[serde(default)]
    created_at: Option<String>,
}

#[derive(Deserialize)]
struct WireError {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// Why a text is not a run object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a deployment run object (a JSON object with a string id): {0}")]
pub struct NotARun(String);

impl RunFacts {
    pub fn parse(text: &str) -> Result<RunFacts, NotARun> {
        let w: Wire = serde_json::from_str(text).map_err(|e| NotARun(e.to_string()))?;
        let (error_type, error_message) = match w.error {
            Some(e) => (
                Some(e.kind.unwrap_or_else(|| "unknown_error".into())),
                e.message,
            ),
            None => (None, None),
        };
        let status = w.status.unwrap_or_else(|| {
            if error_type.is_some() {
                "failed"
            } else if w.session_id.is_some() {
                "succeeded"
            } else {
                "started"
            }
            .to_string()
        });
        Ok(RunFacts {
            id: w.id,
            status,
            session_id: w.session_id,
            deployment_id: w.deployment_id,
            error_type,
            error_message,
            created_at: w.created_at,
        })
    }

    pub fn failed(&self) -> bool {
        self.status == "failed"
    }
}

/// The alert of a failed run: [`Rule::DeploymentRunFailed`], named after the session it created
/// if any (a failed run has none: then the run's id), about the run. `None` for a run that did
/// not fail.
pub fn failed_run_hit(run: &RunFacts) -> Option<Hit> {
    if !run.failed() {
        return None;
    }
    let why = match (&run.error_type, &run.error_message) {
        (Some(t), Some(m)) => format!("{t}: {m}"),
        (Some(t), None) => t.clone(),
        _ => "no error given".to_string(),
    };
    let deployment = run.deployment_id.as_deref().unwrap_or("a deployment");
    Some(Hit {
        session_id: run.session_id.clone().unwrap_or_else(|| run.id.clone()),
        rule: Rule::DeploymentRunFailed,
        event_id: Some(run.id.clone()),
        at: run.created_at.clone(),
        summary: format!(
            "deployment run {} of {deployment} failed, no session started ({why})",
            run.id
        ),
        unblock: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str =
        include_str!("../../sample-logs/deployment-runs/failed.drun_011CZdeployFailed00017.json");

    #[test]
    fn a_failed_run_raises_one_hit_about_the_run() {
        let run = RunFacts::parse(SAMPLE).unwrap();
        assert_eq!(run.id, "drun_011CZdeployFailed00017");
        assert_eq!(run.status, "failed");
        assert_eq!(
            run.error_type.as_deref(),
            Some("environment_archived_error")
        );
        assert_eq!(run.session_id, None);
        let hit = failed_run_hit(&run).unwrap();
        assert_eq!(hit.rule, Rule::DeploymentRunFailed);
        assert_eq!(hit.session_id, "drun_011CZdeployFailed00017");
        assert_eq!(hit.event_id.as_deref(), Some("drun_011CZdeployFailed00017"));
        assert!(
            hit.summary.contains("environment_archived_error"),
            "{}",
            hit.summary
        );
        assert!(
            hit.summary.contains("depl_011CZnightlyReport0001"),
            "{}",
            hit.summary
        );
    }

    #[test]
    fn status_is_read_or_derived_and_only_failures_alert() {
        let ok = RunFacts::parse(r#"{"id":"drun_2","session_id":"sesn_2"}"#).unwrap();
        assert_eq!(ok.status, "succeeded");
        assert!(failed_run_hit(&ok).is_none());
        let started = RunFacts::parse(r#"{"id":"drun_3","extra":1}"#).unwrap();
        assert_eq!(started.status, "started");
        let said = RunFacts::parse(r#"{"id":"drun_4","status":"failed","error":{}}"#).unwrap();
        assert_eq!(said.error_type.as_deref(), Some("unknown_error"));
        assert!(failed_run_hit(&said).is_some());
        assert!(RunFacts::parse(r#"{"no_id":1}"#).is_err());
        assert!(RunFacts::parse("[").is_err());
    }
}
