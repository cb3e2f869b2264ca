//! What to do about each `session.error` type (§4) and each `retry_status`, in one place.

use crate::analysis::state::ErrorMark;

/// Advice for one error, naming the server, credential or repository it carries.
pub fn for_error(e: &ErrorMark) -> String {
    if e.mark.event_type == "workflow_run.error" {
        return for_workflow_run_error(e);
    }
    let server = e.mcp_server_name.as_deref().unwrap_or("the MCP server");
    let repo = e.repository_url.as_deref().unwrap_or("the repository");
    match e.error_type.as_str() {
        "model_overloaded_error" => {
            "The model was overloaded, a transient condition: wait a few minutes and send the prompt again.".into()
        }
        "model_rate_limited_error" => {
            "Model requests were rate-limited: run fewer sessions at once or wait, then send the prompt again.".into()
        }
        "model_request_failed_error" => {
            "A model request failed: send the prompt again; if it keeps failing, trim what the turn sends (very large inputs or attachments).".into()
        }
        "mcp_connection_failed_error" => format!(
            "Could not connect to MCP server {server}: check that it is up and reachable from the environment, then send the prompt again."
        ),
        "mcp_authentication_failed_error" => format!(
            "MCP server {server} refused authentication: renew its credential in the vault, then send the prompt again."
        ),
        "billing_error" => {
            "The organisation is out of credit or at its spend limit: add credit or raise the limit; retrying will not help until then.".into()
        }
        "credential_host_unreachable_error" => format!(
            "Credential {} (vault {}) allows a host that the environment's network policy blocks: allow the host in the policy, or change the credential.",
            e.credential_id.as_deref().unwrap_or("?"),
            e.vault_id.as_deref().unwrap_or("?")
        ),
        "tool_use_limit_reached_error" => {
            "The turn used up its allowance of tool-use rounds; nothing failed: send a new message to continue, or split the task.".into()
        }
        "compaction_limit_reached_error" => {
            "Compaction ran its maximum number of times without the model producing a message or a tool call: send a more focused message, or start a new session.".into()
        }
        "repository_authentication_error" => format!(
            "The Git host refused the credentials for {repo}: fix the repository's credential (the session goes on without it)."
        ),
        "repository_forbidden_error" => format!(
            "The Git host denied access to {repo}: give the credential access (the session goes on without it)."
        ),
        "repository_not_found_error" => format!(
            "The Git host says {repo} does not exist: check the URL in the session's resources."
        ),
        "repository_checkout_error" => format!(
            "The branch or commit named in the resource's checkout is not in {repo}: fix the checkout."
        ),
        "repository_clone_error" => format!(
            "Cloning {repo} failed: check the host's status and the repository's size (the session goes on without it)."
        ),
        "unknown_error" => format!(
            "An unexpected server-side error. {}",
            for_retry_status(e.retry_status.as_deref())
        ),
        other => format!(
            "An error type this flightrec does not know ({other}): act on its message and retry status. {}",
            for_retry_status(e.retry_status.as_deref())
        ),
    }
}

/// Advice for a `workflow_run.error` (§2.4; no retry status).
fn for_workflow_run_error(e: &ErrorMark) -> String {
    match e.error_type.as_str() {
        "max_workflow_runs_error" => {
            "The session already had as many open workflow runs as it may: wait for one to end, then start the run again.".into()
        }
        "timeout_error" => "The workflow run hit its time limit: split the work into smaller runs.".into(),
        "program_error" => {
            "The run's program failed, or the server rejected it: read the message and fix the program.".into()
        }
        "thread_limit_error" => {
            "The run tried to create more threads than a run may have: have it use fewer parallel threads.".into()
        }
        other => format!("The workflow run failed ({other}): read its message."),
    }
}

/// What a `retry_status` means for the client.
pub fn for_retry_status(status: Option<&str>) -> &'static str {
    match status {
        Some("retrying") => "The server is retrying on its own: wait.",
        Some("exhausted") => {
            "The server gave up on this turn: the session is idle and takes a new prompt."
        }
        Some("terminal") => "The session is terminated: start a new one.",
        _ => "Read its message.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::state::Mark;

    fn error(kind: &str, retry: &str) -> ErrorMark {
        ErrorMark {
            mark: Mark {
                event_id: "e".into(),
                event_type: "session.error".into(),
                at: None,
                ts: None,
            },
            error_type: kind.into(),
            retry_status: Some(retry.into()),
            message: None,
            mcp_server_name: Some("github".into()),
            repository_url: None,
            credential_id: None,
            vault_id: None,
            workflow_run_id: None,
        }
    }

    #[test]
    fn advice_names_what_the_error_carries() {
        assert!(for_error(&error("mcp_connection_failed_error", "retrying")).contains("github"));
        assert!(for_error(&error("billing_error", "exhausted")).contains("credit"));
        assert!(for_error(&error("unknown_error", "terminal")).contains("start a new one"));
        assert!(for_error(&error("brand_new_error", "retrying")).contains("brand_new_error"));
        let mut run = error("max_workflow_runs_error", "");
        run.mark.event_type = "workflow_run.error".into();
        assert!(for_error(&run).contains("open workflow runs"));
    }
}
