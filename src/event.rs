//! The event that started the run, read from `GITHUB_EVENT_PATH` into plain values.

use serde::Deserialize;

/// The commit id git uses for "no commit" (a new branch's `before`).
const ZERO_SHA: &str = "0000000000000000000000000000000000000000";

/// What the sync needs of a `push` payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    /// `refs/heads/main`, `refs/tags/v1`, …
    pub git_ref: String,
    /// `None` when the push created the branch (`before` is all zeros).
    pub before: Option<String>,
    pub after: String,
    pub forced: bool,
    /// The push deleted the branch or tag.
    pub deleted: bool,
    pub default_branch: Option<String>,
}

impl Push {
    /// The branch name, when the push was to a branch.
    pub fn branch(&self) -> Option<&str> {
        self.git_ref.strip_prefix("refs/heads/")
    }
}

/// The run's trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Push(Push),
    /// A `milestone` event; its handling lands with the milestone-event issue.
    Milestone { action: String, number: Option<u64> },
    /// `workflow_dispatch` or `schedule`: every artifact is in scope.
    Reconcile { name: String, default_branch: Option<String> },
    /// `pull_request`/`pull_request_target`.
    PullRequest,
    Other(String),
}

#[derive(Deserialize)]
struct RawPush {
    #[serde(rename = "ref")]
    git_ref: String,
    before: String,
    after: String,
    #[serde(default)]
    forced: bool,
    #[serde(default)]
    deleted: bool,
    repository: Option<RawRepository>,
}

#[derive(Deserialize)]
struct RawRepository {
    default_branch: Option<String>,
}

#[derive(Deserialize)]
struct RawMilestoneEvent {
    action: String,
    milestone: Option<RawMilestoneNumber>,
}

#[derive(Deserialize)]
struct RawMilestoneNumber {
    number: u64,
}

#[derive(Deserialize, Default)]
struct RawAny {
    repository: Option<RawRepository>,
}

/// Reads an event payload. `payload` may be empty for a run outside Actions with no event
/// file, which is treated as a reconcile.
pub fn parse(event_name: &str, payload: &str) -> Result<Event, String> {
    let payload = if payload.trim().is_empty() { "{}" } else { payload };
    match event_name {
        "push" => {
            let raw: RawPush = serde_json::from_str(payload).map_err(|e| format!("the push event payload cannot be read: {e}"))?;
            Ok(Event::Push(Push {
                git_ref: raw.git_ref,
                before: Some(raw.before).filter(|b| b != ZERO_SHA && !b.is_empty()),
                after: raw.after,
                forced: raw.forced,
                deleted: raw.deleted,
                default_branch: raw.repository.and_then(|r| r.default_branch),
            }))
        }
        "milestone" => {
            let raw: RawMilestoneEvent = serde_json::from_str(payload).map_err(|e| format!("the milestone event payload cannot be read: {e}"))?;
            Ok(Event::Milestone { action: raw.action, number: raw.milestone.map(|m| m.number) })
        }
        "workflow_dispatch" | "schedule" => {
            let raw: RawAny = serde_json::from_str(payload).unwrap_or_default();
            Ok(Event::Reconcile { name: event_name.to_string(), default_branch: raw.repository.and_then(|r| r.default_branch) })
        }
        "pull_request" | "pull_request_target" => Ok(Event::PullRequest),
        other => Ok(Event::Other(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Real payloads from @octokit/webhooks-examples 7.6.1 (MIT), copied into tests/fixtures.
    const PUSH_TAG: &str = include_str!("../tests/fixtures/webhooks/push.example.1.json");
    const DISPATCH: &str = include_str!("../tests/fixtures/webhooks/workflow_dispatch.example.1.json");
    const CLOSED: &str = include_str!("../tests/fixtures/webhooks/milestone.closed.1.json");

    #[test]
    fn push_of_a_new_tag_has_no_before_and_no_branch() {
        let Event::Push(p) = parse("push", PUSH_TAG).unwrap() else { panic!() };
        assert_eq!(p.before, None);
        assert_eq!(p.branch(), None);
        assert_eq!(p.default_branch.as_deref(), Some("master"));
    }

    #[test]
    fn dispatch_and_milestone() {
        assert!(matches!(parse("workflow_dispatch", DISPATCH).unwrap(), Event::Reconcile { .. }));
        assert_eq!(parse("milestone", CLOSED).unwrap(), Event::Milestone { action: "closed".into(), number: Some(1) });
        assert!(matches!(parse("schedule", "").unwrap(), Event::Reconcile { default_branch: None, .. }));
    }

    #[test]
    fn a_broken_payload_is_an_error() {
        assert!(parse("push", "{").is_err());
    }
}
