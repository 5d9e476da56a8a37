//! octocrab's models turned into the sync's plain values, and the one request body this
//! client still writes itself (a milestone update that clears its date).

use base64::Engine as _;
use chrono::{DateTime, NaiveDate, Utc};
use octocrab::models;
use serde_json::{Map, Value, json};

use crate::due_date;
use crate::github::{ChangedFile, Comparison, FileStatus, GitHubError, IssueComment, PullRequestInfo};
use crate::milestone::{Milestone, MilestonePatch, MilestoneState};

/// Decodes the `content` of a contents-API answer: base64 wrapped at 60 columns with `\n`.
pub(super) fn decode_content(content: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let compact: String = content.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(compact)
}

/// A milestone as the sync sees it. A state other than `open` or `closed` (GitHub documents
/// only these two) is an unreadable answer, not something to guess about.
pub(super) fn milestone(wire: models::Milestone) -> Result<Milestone, GitHubError> {
    let state = match wire.state.as_deref() {
        Some("open") => MilestoneState::Open,
        Some("closed") => MilestoneState::Closed,
        other => {
            return Err(GitHubError::Transport {
                method: "GET".into(),
                path: wire.url.path().to_string(),
                message: format!("unexpected answer body: milestone {} has the state {other:?}", wire.number),
            });
        }
    };
    Ok(Milestone {
        number: wire.number as u64,
        html_url: wire.html_url.to_string(),
        title: wire.title,
        description: wire.description,
        state,
        due_on: wire.due_on,
        // GitHub always sends it; a milestone never updated was updated when it was created.
        updated_at: wire.updated_at.unwrap_or(wire.created_at),
        created_at: Some(wire.created_at),
        open_issues: wire.open_issues.unwrap_or(0).max(0) as u64,
        closed_issues: wire.closed_issues.unwrap_or(0).max(0) as u64,
    })
}

/// octocrab's state parameter for ours.
pub(super) fn state_param(state: MilestoneState) -> octocrab::params::State {
    match state {
        MilestoneState::Open => octocrab::params::State::Open,
        MilestoneState::Closed => octocrab::params::State::Closed,
    }
}

/// The instant a due date is sent as: 12:00 UTC, which GitHub shows as that date in every
/// time zone it uses (see `due_date`).
pub(super) fn due_on(date: NaiveDate) -> DateTime<Utc> {
    date.and_hms_opt(12, 0, 0).unwrap_or_default().and_utc()
}

pub(super) fn issue_comment(wire: models::issues::Comment) -> IssueComment {
    // `body` is left out of an answer only when another media type was asked for, which this
    // client never does.
    IssueComment { id: wire.id.into_inner(), body: wire.body.unwrap_or_default(), html_url: wire.html_url.to_string() }
}

pub(super) fn pull_request(wire: models::pulls::PullRequest) -> PullRequestInfo {
    PullRequestInfo {
        number: wire.number,
        html_url: wire.html_url.map(|u| u.to_string()).unwrap_or_default(),
        title: wire.title.unwrap_or_default(),
        body: wire.body.unwrap_or_default(),
        head_sha: wire.head.sha,
    }
}

/// The commit (or whatever object) a ref points at.
pub(super) fn ref_sha(object: models::repos::Object) -> String {
    match object {
        models::repos::Object::Commit { sha, .. }
        | models::repos::Object::Tag { sha, .. }
        | models::repos::Object::Tree { sha, .. }
        | models::repos::Object::Blob { sha, .. } => sha,
        // `Object` is non-exhaustive; GitHub documents no other kind.
        _ => String::new(),
    }
}

/// A comparison as the sync sees it (the commits are ignored; GitHub caps the files at 300).
pub(super) fn comparison(wire: models::commits::CommitComparison) -> Comparison {
    use models::repos::DiffEntryStatus as S;
    let files = wire.files.unwrap_or_default();
    let capped = files.len() >= Comparison::MAX_FILES;
    let files = files
        .into_iter()
        .map(|f| ChangedFile {
            path: f.filename,
            status: match f.status {
                S::Added => FileStatus::Added,
                S::Removed => FileStatus::Removed,
                S::Modified => FileStatus::Modified,
                S::Renamed => FileStatus::Renamed,
                S::Copied => FileStatus::Copied,
                S::Changed => FileStatus::Changed,
                S::Unchanged => FileStatus::Unchanged,
                // Non-exhaustive: a status GitHub may add is at least a change.
                _ => FileStatus::Changed,
            },
            previous_path: f.previous_filename,
        })
        .collect();
    use models::commits::GithubCommitStatus as C;
    let status = match wire.status {
        C::Ahead => "ahead",
        C::Behind => "behind",
        C::Diverged => "diverged",
        C::Identical => "identical",
        _ => "unknown",
    };
    Comparison { status: status.to_string(), merge_base: wire.merge_base_commit.sha, files, capped }
}

/// The body of a milestone update sent raw: only the fields set, `"due_on": null` to clear.
pub(super) fn patch_body(patch: &MilestonePatch) -> Value {
    let mut body = Map::new();
    if let Some(title) = &patch.title {
        body.insert("title".into(), json!(title));
    }
    if let Some(description) = &patch.description {
        body.insert("description".into(), json!(description));
    }
    if let Some(state) = patch.state {
        body.insert("state".into(), json!(state.as_str()));
    }
    match patch.due_on {
        Some(Some(date)) => {
            body.insert("due_on".into(), json!(due_date::to_github(date)));
        }
        Some(None) => {
            body.insert("due_on".into(), Value::Null);
        }
        None => {}
    }
    Value::Object(body)
}
