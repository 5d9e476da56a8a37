//! The event that started the run, read from `GITHUB_EVENT_PATH` into plain values.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::milestone::{Milestone, MilestoneState};

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
    /// The pushed commits as the payload lists them, oldest first (`commits`, then
    /// `head_commit` when the list lacks it): when the checkout has no history, their times
    /// are the file side's clock for `last_update_wins`.
    pub commits: Vec<PushedCommit>,
}

/// One pushed commit, as the push payload describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedCommit {
    pub id: String,
    /// The payload's `timestamp` (ISO 8601 with an offset); `None` when missing or unreadable.
    pub timestamp: Option<DateTime<Utc>>,
    /// Repository-relative paths the commit added, modified and removed.
    pub added: Vec<String>,
    pub modified: Vec<String>,
    pub removed: Vec<String>,
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
    /// A `milestone` event: the milestone as the payload carries it, the source of truth for
    /// the event.
    Milestone(MilestoneEvent),
    /// `workflow_dispatch` or `schedule`: every artifact is in scope.
    Reconcile {
        name: String,
        default_branch: Option<String>,
    },
    /// `pull_request`/`pull_request_target`: a preview of what merging would do.
    PullRequest(PullRequest),
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
    #[serde(default)]
    commits: Option<Vec<RawCommit>>,
    #[serde(default)]
    head_commit: Option<RawCommit>,
}

/// A commit of a push payload; every field optional, so that an odd entry costs its time,
/// never the run.
#[derive(Deserialize)]
struct RawCommit {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    timestamp: Option<String>,
    #[serde(default)]
    added: Option<Vec<String>>,
    #[serde(default)]
    modified: Option<Vec<String>>,
    #[serde(default)]
    removed: Option<Vec<String>>,
}

impl From<RawCommit> for PushedCommit {
    fn from(raw: RawCommit) -> Self {
        PushedCommit {
            id: raw.id.unwrap_or_default(),
            timestamp: raw.timestamp.and_then(|t| DateTime::parse_from_rfc3339(&t).ok()).map(|t| t.with_timezone(&Utc)),
            added: raw.added.unwrap_or_default(),
            modified: raw.modified.unwrap_or_default(),
            removed: raw.removed.unwrap_or_default(),
        }
    }
}

/// The payload's commits, oldest first, with `head_commit` at the end unless listed already.
fn pushed_commits(commits: Option<Vec<RawCommit>>, head: Option<RawCommit>) -> Vec<PushedCommit> {
    let mut out: Vec<PushedCommit> = commits.unwrap_or_default().into_iter().map(PushedCommit::from).collect();
    if let Some(head) = head.map(PushedCommit::from)
        && !out.iter().any(|c| c.id == head.id)
    {
        out.push(head);
    }
    out
}

#[derive(Deserialize)]
struct RawRepository {
    default_branch: Option<String>,
    #[serde(default)]
    full_name: Option<String>,
}

/// What a milestone event says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MilestoneAction {
    Created,
    Edited,
    Closed,
    Opened,
    Deleted,
}

/// What the preview needs of a `pull_request` or `pull_request_target` payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    /// The event was `pull_request_target`: the workflow runs in the base repository's
    /// context (a write token even for forks) and checks out the base branch unless told
    /// otherwise.
    pub target: bool,
    /// `opened`, `synchronize`, `reopened`, `closed`, …
    pub action: String,
    pub number: u64,
    /// The pull request is closed (merged or not): there is nothing left to preview.
    pub closed: bool,
    /// The branch the pull request would merge into, e.g. `main`.
    pub base_ref: String,
    /// The base branch's commit as the payload saw it.
    pub base_sha: String,
    pub head_ref: String,
    /// The pull request's last commit.
    pub head_sha: String,
    /// The head branch lives in another repository: on `pull_request` its token is
    /// read-only, so the preview cannot comment.
    pub fork: bool,
    pub default_branch: Option<String>,
}

#[derive(Deserialize)]
struct RawPullRequestEvent {
    action: String,
    pull_request: RawPullRequest,
    repository: Option<RawRepository>,
}

#[derive(Deserialize)]
struct RawPullRequest {
    number: u64,
    state: String,
    base: RawPullRequestBranch,
    head: RawPullRequestBranch,
}

#[derive(Deserialize)]
struct RawPullRequestBranch {
    #[serde(rename = "ref")]
    git_ref: String,
    sha: String,
    /// `null` when the head repository (a fork) was deleted.
    repo: Option<RawPullRequestRepo>,
}

#[derive(Deserialize)]
struct RawPullRequestRepo {
    id: Option<u64>,
    full_name: Option<String>,
}

/// Whether the head lives in another repository than the base. `head.repo.fork` does not
/// tell: it is true for a branch of a repository that is itself a fork. A deleted head
/// repository can only have been a fork.
fn is_fork(base: &RawPullRequestBranch, head: &RawPullRequestBranch) -> bool {
    match (&base.repo, &head.repo) {
        (_, None) => true,
        (Some(b), Some(h)) => match (b.id, h.id, &b.full_name, &h.full_name) {
            (Some(b), Some(h), _, _) => b != h,
            (_, _, Some(b), Some(h)) => !b.eq_ignore_ascii_case(h),
            _ => false,
        },
        (None, Some(_)) => false,
    }
}

/// Which fields an `edited` event changed (from `changes.*.from`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Edited {
    pub title: bool,
    pub description: bool,
    pub due_on: bool,
}

/// What the sync needs of a `milestone` payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MilestoneEvent {
    pub action: MilestoneAction,
    pub milestone: Milestone,
    /// For `edited`: the fields that changed.
    pub edited: Edited,
    /// The default branch of the repository the run is in (the plan's).
    pub default_branch: Option<String>,
    /// `owner/name` of the repository that holds the milestone: the payload's
    /// `repository.full_name` (for a `repository_dispatch`, the forwarded event's); `None`
    /// when the payload does not say, which means the repository the run is in.
    pub repository: Option<String>,
    /// The event came from another repository through `repository_dispatch`.
    pub forwarded: bool,
}

#[derive(Deserialize)]
struct RawMilestoneEvent {
    action: String,
    milestone: RawMilestone,
    #[serde(default)]
    changes: Option<RawChanges>,
    repository: Option<RawRepository>,
}

#[derive(Deserialize)]
struct RawMilestone {
    number: u64,
    html_url: String,
    title: String,
    description: Option<String>,
    state: String,
    due_on: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
    #[serde(default)]
    created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    open_issues: u64,
    #[serde(default)]
    closed_issues: u64,
}

#[derive(Deserialize, Default)]
struct RawChanges {
    title: Option<serde_json::Value>,
    description: Option<serde_json::Value>,
    due_on: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
struct RawAny {
    repository: Option<RawRepository>,
}

/// Whether the repository the run is in is a fork, as any payload's `repository.fork` says;
/// `None` when the payload does not say (a `schedule` payload has no repository, a terminal
/// run no payload).
pub fn repository_fork(payload: &str) -> Option<bool> {
    #[derive(Deserialize)]
    struct Fork {
        fork: Option<bool>,
    }
    #[derive(Deserialize)]
    struct Any {
        repository: Option<Fork>,
    }
    serde_json::from_str::<Any>(payload).ok()?.repository?.fork
}

/// A `repository_dispatch` payload: `client_payload` carries a milestone event forwarded from
/// another repository (docs/workflows.md, "A plan for several repositories").
#[derive(Deserialize)]
struct RawDispatch {
    #[serde(default)]
    client_payload: Option<serde_json::Value>,
    repository: Option<RawRepository>,
}

/// Reads an event payload. `payload` may be empty for a run outside Actions with no event
/// file, which is treated as a reconcile.
pub fn parse(event_name: &str, payload: &str) -> Result<Event, String> {
    let payload = if payload.trim().is_empty() { "{}" } else { payload };
    match event_name {
        "push" => {
            let raw: RawPush =
                serde_json::from_str(payload).map_err(|e| format!("the push event payload cannot be read: {e}"))?;
            Ok(Event::Push(Push {
                git_ref: raw.git_ref,
                before: Some(raw.before).filter(|b| b != ZERO_SHA && !b.is_empty()),
                after: raw.after,
                forced: raw.forced,
                deleted: raw.deleted,
                default_branch: raw.repository.and_then(|r| r.default_branch),
                commits: pushed_commits(raw.commits, raw.head_commit),
            }))
        }
        "milestone" => {
            let raw: RawMilestoneEvent = serde_json::from_str(payload)
                .map_err(|e| format!("the milestone event payload cannot be read: {e}"))?;
            let action = match raw.action.as_str() {
                "created" => MilestoneAction::Created,
                "edited" => MilestoneAction::Edited,
                "closed" => MilestoneAction::Closed,
                "opened" => MilestoneAction::Opened,
                "deleted" => MilestoneAction::Deleted,
                other => return Ok(Event::Other(format!("milestone.{other}"))),
            };
            let changes = raw.changes.unwrap_or_default();
            let m = raw.milestone;
            Ok(Event::Milestone(MilestoneEvent {
                action,
                milestone: Milestone {
                    number: m.number,
                    html_url: m.html_url,
                    title: m.title,
                    description: m.description,
                    state: if m.state == "closed" { MilestoneState::Closed } else { MilestoneState::Open },
                    due_on: m.due_on,
                    updated_at: m.updated_at,
                    created_at: m.created_at,
                    open_issues: m.open_issues,
                    closed_issues: m.closed_issues,
                },
                edited: Edited {
                    title: changes.title.is_some(),
                    description: changes.description.is_some(),
                    due_on: changes.due_on.is_some(),
                },
                default_branch: raw.repository.as_ref().and_then(|r| r.default_branch.clone()),
                repository: raw.repository.and_then(|r| r.full_name),
                forwarded: false,
            }))
        }
        "repository_dispatch" => {
            let raw: RawDispatch = serde_json::from_str(payload)
                .map_err(|e| format!("the repository_dispatch event payload cannot be read: {e}"))?;
            let default_branch = raw.repository.and_then(|r| r.default_branch);
            let forwarded = raw.client_payload.filter(|c| c.get("milestone").is_some() && c.get("action").is_some());
            let Some(forwarded) = forwarded else {
                // Any other dispatch asks for a sync of everything, as a manual run does.
                return Ok(Event::Reconcile { name: event_name.to_string(), default_branch });
            };
            match parse("milestone", &forwarded.to_string())
                .map_err(|e| format!("the milestone event in repository_dispatch's client_payload: {e}"))?
            {
                Event::Milestone(m) => Ok(Event::Milestone(MilestoneEvent {
                    // The forwarded event's `repository` is the milestone's; the plan's default
                    // branch is the dispatch's.
                    default_branch,
                    forwarded: true,
                    ..m
                })),
                other => Ok(other),
            }
        }
        "workflow_dispatch" | "schedule" => {
            let raw: RawAny = serde_json::from_str(payload).unwrap_or_default();
            Ok(Event::Reconcile {
                name: event_name.to_string(),
                default_branch: raw.repository.and_then(|r| r.default_branch),
            })
        }
        "pull_request" | "pull_request_target" => {
            let raw: RawPullRequestEvent = serde_json::from_str(payload)
                .map_err(|e| format!("the {event_name} event payload cannot be read: {e}"))?;
            let pr = &raw.pull_request;
            Ok(Event::PullRequest(PullRequest {
                target: event_name == "pull_request_target",
                closed: raw.action == "closed" || pr.state == "closed",
                action: raw.action.clone(),
                number: pr.number,
                base_ref: pr.base.git_ref.clone(),
                base_sha: pr.base.sha.clone(),
                head_ref: pr.head.git_ref.clone(),
                head_sha: pr.head.sha.clone(),
                fork: is_fork(&pr.base, &pr.head),
                default_branch: raw.repository.and_then(|r| r.default_branch),
            }))
        }
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
    fn a_push_lists_its_commits_with_times_and_files() {
        const PUSH_BRANCH: &str = include_str!("../tests/fixtures/webhooks/push.example.5.json");
        let Event::Push(p) = parse("push", PUSH_BRANCH).unwrap() else { panic!() };
        assert_eq!(
            p.commits,
            vec![PushedCommit {
                id: "6113728f27ae82c7b1a177c8d03f9e96e0adf246".into(),
                timestamp: DateTime::parse_from_rfc3339("2019-05-15T15:19:25Z").ok().map(|t| t.with_timezone(&Utc)),
                added: vec!["README.md".into()],
                modified: vec![],
                removed: vec![],
            }],
            "head_commit is the listed commit: not twice"
        );
        // A tag push lists no commits, only its head commit.
        let Event::Push(tag) = parse("push", PUSH_TAG).unwrap() else { panic!() };
        assert_eq!(tag.commits.len(), 1);
        assert_eq!(tag.commits[0].added, [".gitignore"]);
        // Offsets are read; odd entries cost their time, never the run.
        let mut v: serde_json::Value = serde_json::from_str(PUSH_BRANCH).unwrap();
        v["commits"] = serde_json::json!([
            {"id": "a", "timestamp": "2026-03-01T10:00:00+02:00", "modified": ["x.md"]},
            {"id": "b", "timestamp": "yesterday", "added": null},
            {}
        ]);
        v["head_commit"] = serde_json::Value::Null;
        let Event::Push(p) = parse("push", &v.to_string()).unwrap() else { panic!() };
        assert_eq!(p.commits.len(), 3);
        assert_eq!(p.commits[0].timestamp.map(|t| t.to_rfc3339()), Some("2026-03-01T08:00:00+00:00".to_string()));
        assert_eq!((p.commits[1].timestamp, p.commits[1].added.len()), (None, 0));
        assert_eq!(p.commits[2].id, "");
    }

    #[test]
    fn a_repository_dispatch_carries_a_forwarded_milestone_event_or_asks_for_a_reconcile() {
        const DISPATCH: &str = include_str!("../tests/fixtures/webhooks/repository_dispatch.on-demand-test.1.json");
        assert!(
            matches!(parse("repository_dispatch", DISPATCH).unwrap(), Event::Reconcile { ref default_branch, .. } if default_branch.as_deref() == Some("master")),
            "an empty client_payload: a sync of everything"
        );
        let mut dispatch: serde_json::Value = serde_json::from_str(DISPATCH).unwrap();
        let mut forwarded: serde_json::Value = serde_json::from_str(CLOSED).unwrap();
        forwarded["repository"] = serde_json::json!({"full_name": "acme/api", "default_branch": "trunk"});
        dispatch["client_payload"] = forwarded;
        let Event::Milestone(m) = parse("repository_dispatch", &dispatch.to_string()).unwrap() else { panic!() };
        assert_eq!(m.repository.as_deref(), Some("acme/api"), "the milestone's repository");
        assert_eq!(m.default_branch.as_deref(), Some("master"), "the plan's default branch, not the forwarded one's");
        assert!(m.forwarded);
        assert_eq!((m.action, m.milestone.state), (MilestoneAction::Closed, MilestoneState::Closed));
        assert_eq!(repository_fork(&dispatch.to_string()), Some(false));
        assert_eq!(repository_fork("{}"), None);
        // A forwarded payload that is not a milestone event's is refused with the reason.
        dispatch["client_payload"] = serde_json::json!({"action": "closed", "milestone": {"number": "x"}});
        let e = parse("repository_dispatch", &dispatch.to_string()).unwrap_err();
        assert!(e.contains("client_payload"), "{e}");
    }

    #[test]
    fn dispatch_and_milestone() {
        assert!(matches!(parse("workflow_dispatch", DISPATCH).unwrap(), Event::Reconcile { .. }));
        let Event::Milestone(m) = parse("milestone", CLOSED).unwrap() else { panic!() };
        assert_eq!(
            (m.action, m.milestone.number, m.milestone.state),
            (MilestoneAction::Closed, 1, MilestoneState::Closed)
        );
        assert_eq!(m.milestone.due_on.map(crate::due_date::from_github), chrono::NaiveDate::from_ymd_opt(2019, 5, 23));
        assert_eq!(m.edited, Edited::default());
        assert!(matches!(parse("schedule", "").unwrap(), Event::Reconcile { default_branch: None, .. }));
    }

    #[test]
    fn every_real_milestone_payload_parses() {
        for (name, text) in [
            ("closed.1", CLOSED),
            ("closed.2", include_str!("../tests/fixtures/webhooks/milestone.closed.2.json")),
            ("created.1", include_str!("../tests/fixtures/webhooks/milestone.created.1.json")),
            ("created.2", include_str!("../tests/fixtures/webhooks/milestone.created.2.json")),
            ("deleted.1", include_str!("../tests/fixtures/webhooks/milestone.deleted.1.json")),
        ] {
            assert!(matches!(parse("milestone", text), Ok(Event::Milestone(_))), "{name}");
        }
    }

    #[test]
    fn edited_names_the_changed_fields() {
        let mut v: serde_json::Value = serde_json::from_str(CLOSED).unwrap();
        v["action"] = "edited".into();
        v["changes"] = serde_json::json!({"title": {"from": "old"}, "due_on": {"from": null}});
        let Event::Milestone(m) = parse("milestone", &v.to_string()).unwrap() else { panic!() };
        assert_eq!(m.edited, Edited { title: true, description: false, due_on: true });
    }

    #[test]
    fn a_broken_payload_is_an_error() {
        assert!(parse("push", "{").is_err());
        assert!(parse("pull_request", "{}").is_err());
    }

    const PR_OPENED: &str = include_str!("../tests/fixtures/webhooks/pull_request.opened.1.json");
    const PR_SYNCHRONIZE: &str = include_str!("../tests/fixtures/webhooks/pull_request.synchronize.1.json");

    #[test]
    fn pull_request_payloads_give_number_base_and_head() {
        let Event::PullRequest(pr) = parse("pull_request", PR_OPENED).unwrap() else { panic!() };
        assert_eq!(
            pr,
            PullRequest {
                target: false,
                action: "opened".into(),
                number: 2,
                closed: false,
                base_ref: "master".into(),
                base_sha: "f95f852bd8fca8fcc58a9a2d6c842781e32a215e".into(),
                head_ref: "changes".into(),
                head_sha: "ec26c3e57ca3a959ca5aad62de7213c562f8c821".into(),
                fork: false,
                default_branch: Some("master".into()),
            }
        );
        let Event::PullRequest(pr) = parse("pull_request_target", PR_SYNCHRONIZE).unwrap() else { panic!() };
        assert!(pr.target);
        assert_eq!((pr.action.as_str(), pr.number, pr.closed), ("synchronize", 2, false));
    }

    #[test]
    fn a_fork_is_told_by_the_head_repository_not_by_its_fork_flag() {
        let mut v: serde_json::Value = serde_json::from_str(PR_OPENED).unwrap();
        // A branch of a repository that is itself a fork is not a fork pull request.
        v["pull_request"]["head"]["repo"]["fork"] = true.into();
        v["pull_request"]["base"]["repo"]["fork"] = true.into();
        let fork = |v: &serde_json::Value| match parse("pull_request", &v.to_string()).unwrap() {
            Event::PullRequest(pr) => pr.fork,
            _ => panic!(),
        };
        assert!(!fork(&v));
        v["pull_request"]["head"]["repo"]["id"] = 1.into();
        v["pull_request"]["head"]["repo"]["full_name"] = "someone/Hello-World".into();
        assert!(fork(&v));
        // The fork was deleted since.
        v["pull_request"]["head"]["repo"] = serde_json::Value::Null;
        assert!(fork(&v));
        v["action"] = "closed".into();
        let Event::PullRequest(pr) = parse("pull_request", &v.to_string()).unwrap() else { panic!() };
        assert!(pr.closed);
    }
}
