//! The JSON GitHub sends and receives, as serde types, and the request bodies of milestone
//! writes; unknown fields are ignored.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::due_date;
use crate::github::{ChangedFile, Comparison, FileStatus, IssueComment, PullRequestInfo};
use crate::milestone::{Milestone, MilestonePatch, MilestoneState, NewMilestone};

/// Decodes the `content` of a contents-API answer: base64 wrapped at 60 columns with `\n`.
pub(super) fn decode_content(content: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let compact: String = content.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(compact)
}

/// A milestone as GitHub sends it; unknown fields are ignored.
#[derive(Debug, Deserialize)]
pub(super) struct WireMilestone {
    pub(super) number: u64,
    pub(super) html_url: String,
    pub(super) title: String,
    #[serde(default)]
    pub(super) description: Option<String>,
    pub(super) state: WireState,
    #[serde(default)]
    pub(super) due_on: Option<DateTime<Utc>>,
    pub(super) updated_at: DateTime<Utc>,
    #[serde(default)]
    pub(super) created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub(super) open_issues: u64,
    #[serde(default)]
    pub(super) closed_issues: u64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum WireState {
    Open,
    Closed,
}

impl From<WireMilestone> for Milestone {
    fn from(wire: WireMilestone) -> Self {
        Milestone {
            number: wire.number,
            html_url: wire.html_url,
            title: wire.title,
            description: wire.description,
            state: match wire.state {
                WireState::Open => MilestoneState::Open,
                WireState::Closed => MilestoneState::Closed,
            },
            due_on: wire.due_on,
            updated_at: wire.updated_at,
            created_at: wire.created_at,
            open_issues: wire.open_issues,
            closed_issues: wire.closed_issues,
        }
    }
}

/// An issue comment as GitHub sends it; unknown fields are ignored. `body` is left out of
/// an answer only when another media type was asked for, which this client never does.
#[derive(Debug, Deserialize)]
pub(super) struct WireIssueComment {
    pub(super) id: u64,
    #[serde(default)]
    pub(super) body: Option<String>,
    pub(super) html_url: String,
}

impl From<WireIssueComment> for IssueComment {
    fn from(wire: WireIssueComment) -> Self {
        IssueComment { id: wire.id, body: wire.body.unwrap_or_default(), html_url: wire.html_url }
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct WireRepo {
    pub(super) default_branch: String,
    #[serde(default)]
    pub(super) fork: bool,
}

/// One commit of `GET commits`: only when it was committed matters here.
#[derive(Deserialize)]
pub(super) struct WireListedCommit {
    pub(super) commit: WireCommitDetail,
}

#[derive(Deserialize)]
pub(super) struct WireCommitDetail {
    pub(super) committer: Option<WireSignature>,
}

#[derive(Deserialize)]
pub(super) struct WireSignature {
    pub(super) date: Option<DateTime<Utc>>,
}

/// The body of `POST git/trees`: files inline, on top of `base_tree`.
#[derive(Serialize)]
pub(super) struct WireTree<'a> {
    pub(super) base_tree: &'a str,
    pub(super) tree: Vec<WireTreeEntry<'a>>,
}

#[derive(Serialize)]
pub(super) struct WireTreeEntry<'a> {
    pub(super) path: &'a str,
    pub(super) mode: &'static str,
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
    pub(super) content: &'a str,
}

#[derive(Debug, Deserialize)]
pub(super) struct WireSha {
    pub(super) sha: String,
}

#[derive(Debug, Deserialize)]
pub(super) struct WireRef {
    pub(super) object: WireSha,
}

#[derive(Debug, Deserialize)]
pub(super) struct WirePull {
    pub(super) number: u64,
    pub(super) html_url: String,
    pub(super) title: String,
    #[serde(default)]
    pub(super) body: Option<String>,
    pub(super) head: WireSha,
}

impl From<WirePull> for PullRequestInfo {
    fn from(wire: WirePull) -> Self {
        PullRequestInfo {
            number: wire.number,
            html_url: wire.html_url,
            title: wire.title,
            body: wire.body.unwrap_or_default(),
            head_sha: wire.head.sha,
        }
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct WireCommit {
    pub(super) tree: WireSha,
    #[serde(default)]
    pub(super) parents: Vec<WireSha>,
}

#[derive(Debug, Deserialize)]
pub(super) struct WireContents {
    #[serde(default)]
    pub(super) content: Option<String>,
    #[serde(default)]
    pub(super) encoding: Option<String>,
}

/// A comparison as GitHub sends it; only what the sync reads (the commits are ignored).
#[derive(Debug, Deserialize)]
pub(super) struct WireComparison {
    pub(super) status: String,
    pub(super) merge_base_commit: WireSha,
    /// Left out by GitHub on pages after the first; this client asks for the first.
    #[serde(default)]
    pub(super) files: Vec<WireDiffEntry>,
}

#[derive(Debug, Deserialize)]
pub(super) struct WireDiffEntry {
    pub(super) filename: String,
    pub(super) status: String,
    #[serde(default)]
    pub(super) previous_filename: Option<String>,
}

impl WireComparison {
    /// The plain value; a file status this client does not know is an unreadable answer
    /// (GitHub documents seven), not something to guess about.
    pub(super) fn into_comparison(self) -> Result<Comparison, String> {
        let capped = self.files.len() >= Comparison::MAX_FILES;
        let files = self
            .files
            .into_iter()
            .map(|f| {
                let status = match f.status.as_str() {
                    "added" => FileStatus::Added,
                    "removed" => FileStatus::Removed,
                    "modified" => FileStatus::Modified,
                    "renamed" => FileStatus::Renamed,
                    "copied" => FileStatus::Copied,
                    "changed" => FileStatus::Changed,
                    "unchanged" => FileStatus::Unchanged,
                    other => return Err(format!("{} has the unknown status {other:?}", f.filename)),
                };
                Ok(ChangedFile { path: f.filename, status, previous_path: f.previous_filename })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Comparison { status: self.status, merge_base: self.merge_base_commit.sha, files, capped })
    }
}

/// The request body for a new milestone; `due_on` is left out when there is none.
pub(super) fn create_body(new: &NewMilestone) -> Value {
    let mut body = Map::new();
    body.insert("title".into(), json!(new.title));
    body.insert("description".into(), json!(new.description));
    body.insert("state".into(), json!(new.state.as_str()));
    if let Some(date) = new.due_on {
        body.insert("due_on".into(), json!(due_date::to_github(date)));
    }
    Value::Object(body)
}

/// The request body for a milestone update: only the fields set, `"due_on": null` to clear.
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
