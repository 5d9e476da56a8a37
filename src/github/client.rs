//! The real GitHub client: [`crate::github::GitHub`] over octocrab.
//!
//! Octocrab supplies the transport (hyper, rustls, connect/read timeouts); everything above it
//! is done here, on raw requests, because the sync decides on things octocrab's typed API
//! hides or gets wrong for us:
//!
//! - status codes and bodies of refusals (422 `already_exists`, 422 "not a fast forward",
//!   403 "Resource not accessible by integration"), mapped to [`GitHubError`];
//! - the `Link` header, followed verbatim (GitHub points `rel="next"` at
//!   `/repositories/{id}/…`, not at the URL that was sent);
//! - `"due_on": null` to clear a date, which octocrab's update builder cannot send;
//! - our own retry policy ([`RetryPolicy`]) instead of octocrab's, which re-sends POSTs;
//! - rate limits: the `x-ratelimit-*` headers of every answer are kept
//!   ([`GitHub::rate_limit`]), refusals are waited out as GitHub asks or reported as
//!   [`GitHubError::RateLimited`];
//! - a pause between mutations (`write_delay`), which GitHub asks of clients that write.
//!
//! Every request carries `Authorization: Bearer …` (marked sensitive, never logged or put in
//! an error), `Accept: application/vnd.github+json`, `X-GitHub-Api-Version: 2022-11-28` and
//! `User-Agent: milestone-sync/<version>`. Octocrab's transport always appends a second
//! `User-Agent: octocrab` value after ours; GitHub accepts that.

mod retry;

pub use retry::RetryPolicy;

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use http_body_util::BodyExt as _;
use octocrab::{OctoBody, Octocrab};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::due_date;
use crate::github::{
    ChangedFile, CommitParts, Comparison, FileStatus, GitHub, GitHubError, IssueComment, NewPullRequest, Permission,
    PullRequestInfo, RateLimit, TreeFile,
};
use crate::milestone::{Milestone, MilestonePatch, MilestoneState, NewMilestone};

/// How long to wait for a TCP/TLS connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one read (or write) on the connection may stall.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The pause between two mutations unless configured: GitHub asks clients that make many
/// POST, PATCH, PUT or DELETE requests to wait at least a second between them.
pub const DEFAULT_WRITE_DELAY: Duration = Duration::from_secs(1);
/// A bound on pages followed, so that a `Link` header pointing in a circle cannot loop
/// forever (100 per page: 100,000 milestones).
const MAX_PAGES: usize = 1000;
const API_VERSION: &str = "2022-11-28";
const MEDIA_TYPE: &str = "application/vnd.github+json";

/// The REST endpoints this client calls, one per (method, path template): the unit of the
/// call counts and of the permission a 403 points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Repo,
    ListMilestones,
    GetMilestone,
    CreateMilestone,
    UpdateMilestone,
    DeleteMilestone,
    BranchHead,
    GetCommit,
    Contents,
    CreateTree,
    CreateCommit,
    UpdateRef,
    ListIssueComments,
    CreateIssueComment,
    UpdateIssueComment,
    Compare,
    ListCommits,
    CreateRef,
    ListPulls,
    CreatePull,
    UpdatePull,
}

impl Endpoint {
    const ALL: [Endpoint; 21] = [
        Endpoint::Repo,
        Endpoint::ListMilestones,
        Endpoint::GetMilestone,
        Endpoint::CreateMilestone,
        Endpoint::UpdateMilestone,
        Endpoint::DeleteMilestone,
        Endpoint::BranchHead,
        Endpoint::GetCommit,
        Endpoint::Contents,
        Endpoint::CreateTree,
        Endpoint::CreateCommit,
        Endpoint::UpdateRef,
        Endpoint::ListIssueComments,
        Endpoint::CreateIssueComment,
        Endpoint::UpdateIssueComment,
        Endpoint::Compare,
        Endpoint::ListCommits,
        Endpoint::CreateRef,
        Endpoint::ListPulls,
        Endpoint::CreatePull,
        Endpoint::UpdatePull,
    ];

    fn index(self) -> usize {
        self as usize
    }

    fn method(self) -> Method {
        match self {
            Endpoint::Repo
            | Endpoint::ListMilestones
            | Endpoint::GetMilestone
            | Endpoint::BranchHead
            | Endpoint::GetCommit
            | Endpoint::Contents
            | Endpoint::ListIssueComments
            | Endpoint::Compare
            | Endpoint::ListCommits
            | Endpoint::ListPulls => Method::GET,
            Endpoint::CreateMilestone
            | Endpoint::CreateTree
            | Endpoint::CreateCommit
            | Endpoint::CreateIssueComment
            | Endpoint::CreateRef
            | Endpoint::CreatePull => Method::POST,
            Endpoint::UpdateMilestone | Endpoint::UpdateRef | Endpoint::UpdateIssueComment | Endpoint::UpdatePull => {
                Method::PATCH
            }
            Endpoint::DeleteMilestone => Method::DELETE,
        }
    }

    /// `"METHOD /path/{template}"`, as reported by [`Client::call_counts`].
    fn template(self) -> &'static str {
        match self {
            Endpoint::Repo => "GET /repos/{o}/{r}",
            Endpoint::ListMilestones => "GET /repos/{o}/{r}/milestones",
            Endpoint::GetMilestone => "GET /repos/{o}/{r}/milestones/{n}",
            Endpoint::CreateMilestone => "POST /repos/{o}/{r}/milestones",
            Endpoint::UpdateMilestone => "PATCH /repos/{o}/{r}/milestones/{n}",
            Endpoint::DeleteMilestone => "DELETE /repos/{o}/{r}/milestones/{n}",
            Endpoint::BranchHead => "GET /repos/{o}/{r}/git/ref/heads/{branch}",
            Endpoint::GetCommit => "GET /repos/{o}/{r}/git/commits/{sha}",
            Endpoint::Contents => "GET /repos/{o}/{r}/contents/{path}",
            Endpoint::CreateTree => "POST /repos/{o}/{r}/git/trees",
            Endpoint::CreateCommit => "POST /repos/{o}/{r}/git/commits",
            Endpoint::UpdateRef => "PATCH /repos/{o}/{r}/git/refs/heads/{branch}",
            Endpoint::ListIssueComments => "GET /repos/{o}/{r}/issues/{n}/comments",
            Endpoint::CreateIssueComment => "POST /repos/{o}/{r}/issues/{n}/comments",
            Endpoint::UpdateIssueComment => "PATCH /repos/{o}/{r}/issues/comments/{id}",
            Endpoint::Compare => "GET /repos/{o}/{r}/compare/{basehead}",
            Endpoint::ListCommits => "GET /repos/{o}/{r}/commits",
            Endpoint::CreateRef => "POST /repos/{o}/{r}/git/refs",
            Endpoint::ListPulls => "GET /repos/{o}/{r}/pulls",
            Endpoint::CreatePull => "POST /repos/{o}/{r}/pulls",
            Endpoint::UpdatePull => "PATCH /repos/{o}/{r}/pulls/{n}",
        }
    }

    /// Whether the client may send this request again after a failure (see [`retry`]). Every
    /// endpoint but the creates of milestones, comments and pull requests: sent twice, each
    /// could make a duplicate (the callers look for what a lost answer made instead). A ref
    /// create sent twice is refused the second time ("Reference already exists"), which the
    /// caller reads as done.
    fn resend_safe(self) -> bool {
        !matches!(self, Endpoint::CreateMilestone | Endpoint::CreateIssueComment | Endpoint::CreatePull)
    }

    /// The permission a 403 "Resource not accessible" on this endpoint points at: milestones
    /// belong to `issues`, the git database and contents to `contents`, the preview's
    /// comment on a pull request to `pull-requests`.
    fn permission(self) -> Permission {
        match self {
            Endpoint::ListMilestones
            | Endpoint::GetMilestone
            | Endpoint::CreateMilestone
            | Endpoint::UpdateMilestone
            | Endpoint::DeleteMilestone => Permission::IssuesWrite,
            Endpoint::Repo
            | Endpoint::BranchHead
            | Endpoint::GetCommit
            | Endpoint::Contents
            | Endpoint::CreateTree
            | Endpoint::CreateCommit
            | Endpoint::UpdateRef
            | Endpoint::Compare
            | Endpoint::ListCommits
            | Endpoint::CreateRef => Permission::ContentsWrite,
            Endpoint::ListIssueComments
            | Endpoint::CreateIssueComment
            | Endpoint::UpdateIssueComment
            | Endpoint::ListPulls
            | Endpoint::CreatePull
            | Endpoint::UpdatePull => Permission::PullRequestsWrite,
        }
    }
}

/// Where the API lives: `origin` is `scheme://host[:port]`, `prefix` the path before `/repos`
/// (`""` on github.com, `"/api/v3"` on GitHub Enterprise Server), never ending in `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ApiBase {
    origin: String,
    prefix: String,
}

impl ApiBase {
    /// Parses `GITHUB_API_URL`-style input; a trailing slash or none makes no difference.
    fn parse(api_url: &str) -> anyhow::Result<ApiBase> {
        let trimmed = api_url.trim();
        let uri: Uri =
            trimmed.parse().map_err(|e| anyhow::anyhow!("the GitHub API URL {trimmed:?} is not a URL: {e}"))?;
        let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
            anyhow::bail!("the GitHub API URL {trimmed:?} needs a scheme and a host, like https://api.github.com");
        };
        if scheme != "https" && scheme != "http" {
            anyhow::bail!("the GitHub API URL {trimmed:?} must start with https:// (or http://)");
        }
        if uri.query().is_some() {
            anyhow::bail!("the GitHub API URL {trimmed:?} must not hold a query");
        }
        Ok(ApiBase { origin: format!("{scheme}://{authority}"), prefix: uri.path().trim_end_matches('/').to_string() })
    }

    /// The absolute URL of an API path that starts with `/`.
    fn url(&self, path: &str) -> String {
        debug_assert!(path.starts_with('/'));
        format!("{}{}{}", self.origin, self.prefix, path)
    }

    /// The URL a `Link` header names, taken verbatim when it is absolute. It must point at the
    /// same origin: the token goes with every request and must not leave for another host.
    fn follow(&self, link: &str) -> Result<String, String> {
        if link.starts_with('/') {
            return Ok(format!("{}{}", self.origin, link));
        }
        let uri: Uri = link.parse().map_err(|_| format!("the Link header names {link:?}, which is not a URL"))?;
        match (uri.scheme_str(), uri.authority()) {
            (Some(scheme), Some(authority)) if format!("{scheme}://{authority}") == self.origin => Ok(link.to_string()),
            _ => Err(format!(
                "the Link header points away from {} ({link:?}); not following it with the token",
                self.origin
            )),
        }
    }
}

/// Percent-encodes one path segment (or query value): everything but RFC 3986's unreserved
/// characters, so that spaces, `#`, `?`, `%` and non-ASCII names reach GitHub intact.
fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Percent-encodes a repository path or branch name segment by segment, keeping the `/`s.
fn encode_path(path: &str) -> String {
    path.split('/').map(encode_component).collect::<Vec<_>>().join("/")
}

/// The `rel="next"` target of a `Link` header
/// (`<https://…?page=2>; rel="next", <https://…?page=5>; rel="last"`).
fn next_link(header: &str) -> Option<String> {
    link_rel(header, "next")
}

/// The page number of a `Link` header's `rel="last"` target (its `page=` parameter): how
/// many pages the list has. `None` on the last page, which has no such link.
fn last_page(header: &str) -> Option<usize> {
    let target = link_rel(header, "last")?;
    let query = target.split_once('?')?.1;
    query.split('&').find_map(|pair| pair.strip_prefix("page=")).and_then(|n| n.parse().ok())
}

/// The target of the entry of a `Link` header whose `rel` is `wanted`.
fn link_rel(header: &str, wanted: &str) -> Option<String> {
    let mut rest = header;
    while let Some(open) = rest.find('<') {
        let after = &rest[open + 1..];
        let close = after.find('>')?;
        let target = &after[..close];
        let params_end = after[close..].find('<').map_or(after.len(), |i| close + i);
        // `; rel="next", ` up to the next entry; the separating comma is not part of it.
        let params = after[close + 1..params_end].trim().trim_end_matches(',');
        let is_next = params.split(';').any(|param| {
            let Some((key, value)) = param.split_once('=') else {
                return false;
            };
            key.trim().eq_ignore_ascii_case("rel")
                && value.trim().trim_matches('"').split_ascii_whitespace().any(|rel| rel.eq_ignore_ascii_case(wanted))
        });
        if is_next {
            return Some(target.to_string());
        }
        rest = &after[params_end..];
    }
    None
}

/// Decodes the `content` of a contents-API answer: base64 wrapped at 60 columns with `\n`.
fn decode_content(content: &str) -> Result<Vec<u8>, base64::DecodeError> {
    let compact: String = content.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD.decode(compact)
}

/// A refusal's body, as GitHub sends it (`{"message": …, "errors": [{"code": …}]}`).
#[derive(Debug, Default, Deserialize)]
struct WireError {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    errors: Vec<WireErrorDetail>,
}

#[derive(Debug, Deserialize)]
struct WireErrorDetail {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    field: Option<String>,
}

/// What a failed request was about, for the mappings that depend on it.
#[derive(Debug, Default)]
struct ErrorContext {
    /// A milestone create/update: 422 `already_exists` means this title is taken.
    already_exists_title: Option<String>,
    /// A ref update of this branch: 422 "not a fast forward" means the branch moved, and a
    /// refusal in the words of branch protection means it is protected.
    ref_branch: Option<String>,
}

/// Words of GitHub's refusals of a ref update by branch protection or a repository ruleset
/// (classic protection: 422 "Protected branch update failed for refs/heads/main."; rulesets:
/// "Repository rule violations found … Changes must be made through a pull request.").
const PROTECTION_MESSAGES: &[&str] = &[
    "protected branch",
    "repository rule violation",
    "changes must be made through a pull request",
    "required status check",
    "not authorized to push",
    "commits must have verified signatures",
    "must not contain merge commits",
    "cannot force-push",
    "merge queue",
];

/// Maps a non-success answer to the error the sync decides on.
fn map_error(
    method: &Method,
    path: &str,
    status: StatusCode,
    body: &[u8],
    permission: Permission,
    context: &ErrorContext,
) -> GitHubError {
    let wire: WireError = serde_json::from_slice(body).unwrap_or_default();
    let message = describe(&wire, status, body);
    let method = method.to_string();
    let path = path.to_string();
    let lower = message.to_ascii_lowercase();
    match status.as_u16() {
        404 => GitHubError::NotFound { method, path },
        422 if context.ref_branch.is_some() && lower.contains("not a fast forward") => GitHubError::NotFastForward,
        403 | 409 | 422 if context.ref_branch.is_some() && PROTECTION_MESSAGES.iter().any(|m| lower.contains(m)) => {
            GitHubError::ProtectedBranch { branch: context.ref_branch.clone().unwrap_or_default(), message }
        }
        422 if wire.errors.iter().any(|e| e.code.as_deref() == Some("already_exists")) => {
            match &context.already_exists_title {
                Some(title) => GitHubError::AlreadyExists { title: title.clone() },
                None => GitHubError::Http { status: 422, method, path, message },
            }
        }
        403 if lower.contains("not permitted to create or approve pull requests") => {
            GitHubError::PullRequestsForbidden { message }
        }
        422 if lower.contains("a pull request already exists") => GitHubError::PullRequestExists { message },
        // "Resource not accessible by integration" (GITHUB_TOKEN, App tokens) and
        // "… by personal access token" (fine-grained PATs) both mean a missing permission.
        403 if message.contains("Resource not accessible by") => {
            GitHubError::Permission { permission, method, path, message }
        }
        code => GitHubError::Http { status: code, method, path, message },
    }
}

/// GitHub's `message`, with the `errors[]` details that make a 422 readable; for a body that
/// is not GitHub's JSON, the start of the body or the status's reason.
fn describe(wire: &WireError, status: StatusCode, body: &[u8]) -> String {
    let mut message = match &wire.message {
        Some(message) => message.clone(),
        None => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() {
                status.canonical_reason().unwrap_or("no message").to_string()
            } else {
                text.chars().take(200).collect()
            }
        }
    };
    let details: Vec<String> = wire
        .errors
        .iter()
        .filter_map(|e| match (&e.message, &e.field, &e.code) {
            (Some(m), _, _) => Some(m.clone()),
            (None, Some(f), Some(c)) => Some(format!("{f} {c}")),
            (None, None, Some(c)) => Some(c.clone()),
            _ => None,
        })
        .collect();
    if !details.is_empty() {
        message = format!("{message} ({})", details.join("; "));
    }
    message
}

/// A milestone as GitHub sends it; unknown fields are ignored.
#[derive(Debug, Deserialize)]
struct WireMilestone {
    number: u64,
    html_url: String,
    title: String,
    #[serde(default)]
    description: Option<String>,
    state: WireState,
    #[serde(default)]
    due_on: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
    #[serde(default)]
    created_at: Option<DateTime<Utc>>,
    #[serde(default)]
    open_issues: u64,
    #[serde(default)]
    closed_issues: u64,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum WireState {
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
struct WireIssueComment {
    id: u64,
    #[serde(default)]
    body: Option<String>,
    html_url: String,
}

impl From<WireIssueComment> for IssueComment {
    fn from(wire: WireIssueComment) -> Self {
        IssueComment { id: wire.id, body: wire.body.unwrap_or_default(), html_url: wire.html_url }
    }
}

#[derive(Debug, Deserialize)]
struct WireRepo {
    default_branch: String,
}

/// One commit of `GET commits`: only when it was committed matters here.
#[derive(Deserialize)]
struct WireListedCommit {
    commit: WireCommitDetail,
}

#[derive(Deserialize)]
struct WireCommitDetail {
    committer: Option<WireSignature>,
}

#[derive(Deserialize)]
struct WireSignature {
    date: Option<DateTime<Utc>>,
}

/// The body of `POST git/trees`: files inline, on top of `base_tree`.
#[derive(Serialize)]
struct WireTree<'a> {
    base_tree: &'a str,
    tree: Vec<WireTreeEntry<'a>>,
}

#[derive(Serialize)]
struct WireTreeEntry<'a> {
    path: &'a str,
    mode: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    content: &'a str,
}

#[derive(Debug, Deserialize)]
struct WireSha {
    sha: String,
}

#[derive(Debug, Deserialize)]
struct WireRef {
    object: WireSha,
}

#[derive(Debug, Deserialize)]
struct WirePull {
    number: u64,
    html_url: String,
    title: String,
    #[serde(default)]
    body: Option<String>,
    head: WireSha,
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
struct WireCommit {
    tree: WireSha,
    #[serde(default)]
    parents: Vec<WireSha>,
}

#[derive(Debug, Deserialize)]
struct WireContents {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    encoding: Option<String>,
}

/// A comparison as GitHub sends it; only what the sync reads (the commits are ignored).
#[derive(Debug, Deserialize)]
struct WireComparison {
    status: String,
    merge_base_commit: WireSha,
    /// Left out by GitHub on pages after the first; this client asks for the first.
    #[serde(default)]
    files: Vec<WireDiffEntry>,
}

#[derive(Debug, Deserialize)]
struct WireDiffEntry {
    filename: String,
    status: String,
    #[serde(default)]
    previous_filename: Option<String>,
}

impl WireComparison {
    /// The plain value; a file status this client does not know is an unreadable answer
    /// (GitHub documents seven), not something to guess about.
    fn into_comparison(self) -> Result<Comparison, String> {
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
fn create_body(new: &NewMilestone) -> Value {
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
fn patch_body(patch: &MilestonePatch) -> Value {
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

/// GitHub's `message` of an error body, or nothing.
fn wire_message(body: &[u8]) -> String {
    serde_json::from_slice::<WireError>(body).ok().and_then(|w| w.message).unwrap_or_default()
}

/// A successful (or finally failed) answer, read in full.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
    /// How many attempts it took; a DELETE that needed more than one may find its own earlier
    /// success as a 404.
    attempts: u32,
}

/// The real client. Create it inside a Tokio runtime (octocrab spawns its request buffer on
/// the current runtime) and use it on that runtime.
pub struct Client {
    octo: Octocrab,
    base: ApiBase,
    owner: String,
    repo: String,
    /// `Bearer <token>`, marked sensitive so that `Debug` of a request never shows it.
    authorization: HeaderValue,
    user_agent: HeaderValue,
    retry: RetryPolicy,
    /// The least time between the end of one mutation and the start of the next.
    write_delay: Duration,
    /// When the last mutation ended.
    last_write: Mutex<Option<Instant>>,
    /// The primary rate limit as the last answer reported it.
    rate: Mutex<Option<RateLimit>>,
    counts: [AtomicU64; Endpoint::ALL.len()],
    /// Requests sent again after a failure or a rate-limit wait.
    retries: AtomicU64,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("owner", &self.owner)
            .field("repo", &self.repo)
            .field("retry", &self.retry)
            .field("write_delay", &self.write_delay)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for `owner/repo` at `api_url` (`https://api.github.com`, or
    /// `https://HOST/api/v3` on GitHub Enterprise Server; a trailing slash is fine).
    ///
    /// Fails on an unusable URL or token (the message never holds the token) or when called
    /// outside a Tokio runtime.
    pub fn new(api_url: &str, token: &str, owner: &str, repo: &str) -> anyhow::Result<Client> {
        let base = ApiBase::parse(api_url)?;
        if tokio::runtime::Handle::try_current().is_err() {
            anyhow::bail!("the GitHub client must be created inside a Tokio runtime");
        }
        let token = token.trim();
        if token.is_empty() {
            anyhow::bail!("the GitHub token is empty");
        }
        let mut authorization = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| anyhow::anyhow!("the GitHub token holds characters that cannot go in an HTTP header"))?;
        authorization.set_sensitive(true);
        let user_agent = HeaderValue::from_static(concat!("milestone-sync/", env!("CARGO_PKG_VERSION")));
        // Octocrab's base URI is only the origin: we send absolute URLs (ours joined with the
        // path prefix, `Link` targets verbatim), and its base-URI layer keeps an absolute URL's
        // path as it is only when it starts with the base's path.
        let octo = Octocrab::builder()
            .base_uri(base.origin.as_str())
            .map_err(|e| anyhow::anyhow!("the GitHub API URL {api_url:?} is not usable: {e}"))?
            .set_connect_timeout(Some(CONNECT_TIMEOUT))
            .set_read_timeout(Some(READ_TIMEOUT))
            .set_write_timeout(Some(READ_TIMEOUT))
            .build()
            .map_err(|e| anyhow::anyhow!("could not set up the HTTP client: {e}"))?;
        Ok(Client {
            octo,
            base,
            owner: owner.to_string(),
            repo: repo.to_string(),
            authorization,
            user_agent,
            retry: RetryPolicy::default(),
            write_delay: DEFAULT_WRITE_DELAY,
            last_write: Mutex::new(None),
            rate: Mutex::new(None),
            counts: Default::default(),
            retries: AtomicU64::new(0),
        })
    }

    /// Replaces the retry policy (tests use a tiny `base_delay`).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Client {
        self.retry = retry;
        self
    }

    /// Sets the pause between mutations (default [`DEFAULT_WRITE_DELAY`]; zero for none).
    pub fn with_write_delay(mut self, delay: Duration) -> Client {
        self.write_delay = delay;
        self
    }

    /// How many requests were sent again (after a failure or a rate-limit wait).
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// The HTTP requests sent so far (retries and pages included), per endpoint, in a fixed
    /// order, endpoints never called left out: e.g. `("GET /repos/{o}/{r}/milestones", 3)`.
    pub fn call_counts(&self) -> Vec<(String, u64)> {
        Endpoint::ALL
            .iter()
            .map(|e| (e.template().to_string(), self.counts[e.index()].load(Ordering::Relaxed)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// `/repos/{owner}/{repo}` followed by `rest` (which starts with `/` or is empty).
    fn repo_path(&self, rest: &str) -> String {
        format!("/repos/{}/{}{rest}", encode_component(&self.owner), encode_component(&self.repo))
    }

    /// Sends one request, retrying as [`RetryPolicy`] allows, and reads the answer in full.
    /// Any status comes back as `Ok`; only a request that got no answer is an error, or one
    /// that a used-up primary rate limit keeps from being sent.
    async fn send(&self, endpoint: Endpoint, url: &str, body: Option<&Value>) -> Result<Answer, GitHubError> {
        self.send_bytes(endpoint, url, body.map(|v| Bytes::from(v.to_string()))).await
    }

    /// [`Client::send`] with the body already serialised. A resent body is shared, not
    /// copied: a tree of thousands of files is megabytes.
    async fn send_bytes(&self, endpoint: Endpoint, url: &str, body: Option<Bytes>) -> Result<Answer, GitHubError> {
        let method = endpoint.method();
        let max_attempts = self.retry.max_attempts.max(1);
        let mut attempt = 0;
        let mut waited = Duration::ZERO;
        loop {
            attempt += 1;
            self.await_rate_window(&method, url, &mut waited).await?;
            let write = method != Method::GET;
            if write {
                self.pace_write().await;
            }
            self.counts[endpoint.index()].fetch_add(1, Ordering::Relaxed);
            let outcome = self.attempt(&method, url, body.clone()).await;
            if write {
                *lock(&self.last_write) = Some(Instant::now());
            }
            if let Ok((_, headers, _)) = &outcome
                && let Some(rate) = retry::rate_limit_of(headers)
            {
                *lock(&self.rate) = Some(rate);
            }
            let can_retry = attempt < max_attempts;
            let resend = endpoint.resend_safe();
            let wait = match &outcome {
                Err(message) if can_retry && resend => Some((self.retry.backoff(attempt), message.clone())),
                Ok((status, _, _)) if can_retry && resend && retry::is_retryable_status(*status) => {
                    Some((self.retry.backoff(attempt), format!("GitHub answered {status}")))
                }
                // A rate-limit refusal was not handled: any request may be sent again.
                Ok((status, headers, body)) if can_retry => {
                    retry::rate_refusal(*status, headers, &wire_message(body), Utc::now())
                        .filter(|r| r.wait <= self.retry.max_retry_after)
                        .map(|r| {
                            let kind = if r.primary { "primary" } else { "secondary" };
                            (r.wait, format!("{kind} rate limit ({status}); waiting as GitHub asks"))
                        })
                }
                _ => None,
            }
            // The waits of one request stay within `max_total_wait`.
            .filter(|(delay, _)| waited + *delay <= self.retry.max_total_wait);
            if let Some((delay, reason)) = wait {
                waited += delay;
                self.retries.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    method = %method,
                    path = %path_of(url),
                    attempt,
                    max_attempts,
                    delay_ms = delay.as_millis() as u64,
                    "retrying GitHub request: {reason}"
                );
                tokio::time::sleep(delay).await;
                continue;
            }
            return match outcome {
                Ok((status, headers, body)) => Ok(Answer { status, headers, body, attempts: attempt }),
                Err(message) => Err(GitHubError::Transport { method: method.to_string(), path: path_of(url), message }),
            };
        }
    }

    /// Waits out a primary rate limit the last answer reported as used up, when its reset is
    /// near enough; otherwise the request is not sent and the caller stops cleanly.
    async fn await_rate_window(&self, method: &Method, url: &str, waited: &mut Duration) -> Result<(), GitHubError> {
        let Some(rate) = *lock(&self.rate) else { return Ok(()) };
        let now = Utc::now();
        if rate.remaining > 0 || rate.reset <= now - chrono::Duration::seconds(1) {
            return Ok(());
        }
        let wait = Duration::from_millis((rate.reset - now).num_milliseconds().max(0) as u64 + 1000);
        if wait > self.retry.max_retry_after || *waited + wait > self.retry.max_total_wait {
            return Err(GitHubError::RateLimited {
                primary: true,
                until: Some(rate.reset),
                method: method.to_string(),
                path: path_of(url),
                message: format!("{} requests an hour used up", rate.limit),
            });
        }
        tracing::warn!(
            method = %method,
            path = %path_of(url),
            delay_ms = wait.as_millis() as u64,
            "the primary rate limit is used up; waiting for it to reset"
        );
        *waited += wait;
        tokio::time::sleep(wait).await;
        *lock(&self.rate) = None;
        Ok(())
    }

    /// Keeps `write_delay` between the end of the last mutation and the start of this one.
    async fn pace_write(&self) {
        let last = *lock(&self.last_write);
        if let Some(pause) =
            last.map(|t| t + self.write_delay).and_then(|due| due.checked_duration_since(Instant::now()))
        {
            tokio::time::sleep(pause).await;
        }
    }

    /// The request as sent. `Authorization` is a sensitive header value: `Debug` of the
    /// request, of its headers (and hyper's logs of them) show `Sensitive`, never the token.
    fn request(&self, method: &Method, url: &str, body: Option<Bytes>) -> Result<http::Request<OctoBody>, String> {
        let builder = http::Request::builder()
            .method(method.clone())
            .uri(url)
            .header(AUTHORIZATION, self.authorization.clone())
            .header(ACCEPT, MEDIA_TYPE)
            .header("x-github-api-version", API_VERSION)
            .header(USER_AGENT, self.user_agent.clone());
        match body {
            Some(json) => builder.header(CONTENT_TYPE, "application/json").body(OctoBody::from(json)),
            None => builder.body(OctoBody::empty()),
        }
        .map_err(|e| format!("could not build the request: {e}"))
    }

    /// One attempt: the request, and its whole body, within the policy's `attempt_timeout`. The error is
    /// a message without the token (octocrab's and hyper's errors never show headers).
    async fn attempt(
        &self,
        method: &Method,
        url: &str,
        body: Option<Bytes>,
    ) -> Result<(StatusCode, HeaderMap, Vec<u8>), String> {
        let request = self.request(method, url, body)?;
        let exchange = async {
            let response = self.octo.execute(request).await.map_err(|e| error_chain(&e))?;
            let (parts, body) = response.into_parts();
            let bytes = body.collect().await.map_err(|e| error_chain(&e))?.to_bytes().to_vec();
            Ok((parts.status, parts.headers, bytes))
        };
        match tokio::time::timeout(self.retry.attempt_timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(format!("no complete answer within {} ms", self.retry.attempt_timeout.as_millis())),
        }
    }

    /// Sends a request and parses a 2xx answer, mapping anything else with `context`.
    async fn call<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        url: &str,
        body: Option<&Value>,
        context: &ErrorContext,
    ) -> Result<(T, Answer), GitHubError> {
        let answer = self.send(endpoint, url, body).await?;
        let value = self.parse(endpoint, url, &answer, context)?;
        Ok((value, answer))
    }

    fn parse<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        url: &str,
        answer: &Answer,
        context: &ErrorContext,
    ) -> Result<T, GitHubError> {
        self.check(endpoint, url, answer, context)?;
        serde_json::from_slice(&answer.body).map_err(|e| GitHubError::Transport {
            method: endpoint.method().to_string(),
            path: path_of(url),
            message: format!("unexpected answer body: {e}"),
        })
    }

    /// GETs `first` and every page its `Link` headers lead to, in order.
    async fn get_all_pages<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        first: String,
        what: &str,
    ) -> Result<Vec<T>, GitHubError> {
        self.get_pages_within(endpoint, first, what, MAX_PAGES).await?.ok_or_else(|| GitHubError::Transport {
            method: "GET".into(),
            path: String::new(),
            message: format!("more than {MAX_PAGES} pages of {what}; the Link header may loop"),
        })
    }

    /// Like [`Client::get_all_pages`] when the list takes at most `max_pages` pages;
    /// `Ok(None)` otherwise, as soon as that is known: after the first page when its `Link`
    /// header names a last page beyond `max_pages`.
    async fn get_pages_within<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        first: String,
        what: &str,
        max_pages: usize,
    ) -> Result<Option<Vec<T>>, GitHubError> {
        let mut url = first;
        let mut items = Vec::new();
        for page_number in 1..=max_pages.min(MAX_PAGES) {
            let (page, answer): (Vec<T>, _) = self.call(endpoint, &url, None, &ErrorContext::default()).await?;
            items.extend(page);
            let links: Vec<&str> =
                answer.headers.get_all(http::header::LINK).iter().filter_map(|v| v.to_str().ok()).collect();
            if page_number == 1 && links.iter().find_map(|l| last_page(l)).is_some_and(|last| last > max_pages) {
                return Ok(None);
            }
            let next = links.iter().find_map(|l| next_link(l));
            match next {
                Some(next) => {
                    url = self.base.follow(&next).map_err(|message| GitHubError::Transport {
                        method: "GET".into(),
                        path: path_of(&url),
                        message,
                    })?;
                }
                None => return Ok(Some(items)),
            }
        }
        if max_pages >= MAX_PAGES {
            return Err(GitHubError::Transport {
                method: "GET".into(),
                path: path_of(&url),
                message: format!("more than {MAX_PAGES} pages of {what}; the Link header may loop"),
            });
        }
        Ok(None)
    }

    fn check(&self, endpoint: Endpoint, url: &str, answer: &Answer, context: &ErrorContext) -> Result<(), GitHubError> {
        if answer.status.is_success() {
            return Ok(());
        }
        if let Some(refusal) =
            retry::rate_refusal(answer.status, &answer.headers, &wire_message(&answer.body), Utc::now())
        {
            let wire: WireError = serde_json::from_slice(&answer.body).unwrap_or_default();
            return Err(GitHubError::RateLimited {
                primary: refusal.primary,
                until: Some(refusal.until),
                method: endpoint.method().to_string(),
                path: path_of(url),
                message: describe(&wire, answer.status, &answer.body),
            });
        }
        Err(map_error(&endpoint.method(), &path_of(url), answer.status, &answer.body, endpoint.permission(), context))
    }
}

/// Locks a mutex, poisoned or not (the values behind it stay valid either way).
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The path of a URL, without origin or query: what errors and logs name.
fn path_of(url: &str) -> String {
    match url.parse::<Uri>() {
        Ok(uri) => uri.path().to_string(),
        Err(_) => url.split('?').next().unwrap_or(url).to_string(),
    }
}

/// An error and its sources, joined: hyper's top-level messages ("client error (Connect)")
/// say little without them.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

impl GitHub for Client {
    async fn default_branch(&self) -> Result<String, GitHubError> {
        let url = self.base.url(&self.repo_path(""));
        let (repo, _): (WireRepo, _) = self.call(Endpoint::Repo, &url, None, &ErrorContext::default()).await?;
        Ok(repo.default_branch)
    }

    async fn list_milestones(&self) -> Result<Vec<Milestone>, GitHubError> {
        let url = self.base.url(&self.repo_path("/milestones?state=all&per_page=100"));
        let milestones: Vec<WireMilestone> = self.get_all_pages(Endpoint::ListMilestones, url, "milestones").await?;
        Ok(milestones.into_iter().map(Milestone::from).collect())
    }

    async fn list_milestones_within(&self, max_pages: usize) -> Result<Option<Vec<Milestone>>, GitHubError> {
        let url = self.base.url(&self.repo_path("/milestones?state=all&per_page=100"));
        let milestones: Option<Vec<WireMilestone>> =
            self.get_pages_within(Endpoint::ListMilestones, url, "milestones", max_pages).await?;
        Ok(milestones.map(|list| list.into_iter().map(Milestone::from).collect()))
    }

    async fn get_milestone(&self, number: u64) -> Result<Option<Milestone>, GitHubError> {
        let url = self.base.url(&self.repo_path(&format!("/milestones/{number}")));
        match self.call::<WireMilestone>(Endpoint::GetMilestone, &url, None, &ErrorContext::default()).await {
            Ok((milestone, _)) => Ok(Some(milestone.into())),
            Err(GitHubError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn create_milestone(&self, new: &NewMilestone) -> Result<Milestone, GitHubError> {
        let url = self.base.url(&self.repo_path("/milestones"));
        let context = ErrorContext { already_exists_title: Some(new.title.clone()), ..Default::default() };
        let (milestone, _): (WireMilestone, _) =
            self.call(Endpoint::CreateMilestone, &url, Some(&create_body(new)), &context).await?;
        Ok(milestone.into())
    }

    async fn update_milestone(&self, number: u64, patch: &MilestonePatch) -> Result<Milestone, GitHubError> {
        let url = self.base.url(&self.repo_path(&format!("/milestones/{number}")));
        let context = ErrorContext { already_exists_title: patch.title.clone(), ..Default::default() };
        let (milestone, _): (WireMilestone, _) =
            self.call(Endpoint::UpdateMilestone, &url, Some(&patch_body(patch)), &context).await?;
        Ok(milestone.into())
    }

    async fn delete_milestone(&self, number: u64) -> Result<(), GitHubError> {
        let url = self.base.url(&self.repo_path(&format!("/milestones/{number}")));
        let answer = self.send(Endpoint::DeleteMilestone, &url, None).await?;
        // A retried DELETE whose first attempt went through (answer lost) finds nothing left.
        if answer.status == StatusCode::NOT_FOUND && answer.attempts > 1 {
            return Ok(());
        }
        self.check(Endpoint::DeleteMilestone, &url, &answer, &ErrorContext::default())
    }

    async fn branch_head(&self, branch: &str) -> Result<String, GitHubError> {
        let url = self.base.url(&self.repo_path(&format!("/git/ref/heads/{}", encode_path(branch))));
        let (reference, _): (WireRef, _) =
            self.call(Endpoint::BranchHead, &url, None, &ErrorContext::default()).await?;
        Ok(reference.object.sha)
    }

    async fn commit_parts(&self, commit: &str) -> Result<CommitParts, GitHubError> {
        let url = self.base.url(&self.repo_path(&format!("/git/commits/{}", encode_component(commit))));
        let (commit, _): (WireCommit, _) = self.call(Endpoint::GetCommit, &url, None, &ErrorContext::default()).await?;
        Ok(CommitParts { tree: commit.tree.sha, parents: commit.parents.into_iter().map(|p| p.sha).collect() })
    }

    async fn file_at(&self, commit: &str, path: &str) -> Result<Option<Vec<u8>>, GitHubError> {
        let url = self.base.url(&self.repo_path(&format!(
            "/contents/{}?ref={}",
            encode_path(path.trim_start_matches('/')),
            encode_component(commit)
        )));
        let contents: WireContents = match self.call(Endpoint::Contents, &url, None, &ErrorContext::default()).await {
            Ok((contents, _)) => contents,
            Err(GitHubError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let unreadable =
            |message: String| GitHubError::Transport { method: "GET".into(), path: path_of(&url), message };
        match (contents.encoding.as_deref(), contents.content) {
            (Some("base64"), Some(content)) => {
                decode_content(&content).map(Some).map_err(|e| unreadable(format!("bad base64 content: {e}")))
            }
            // GitHub answers `"encoding": "none"` for files over 1 MB; artifacts are far smaller.
            (encoding, _) => Err(unreadable(format!(
                "{path} came back with encoding {:?}, not base64 (a file over 1 MB, or not a file)",
                encoding.unwrap_or("missing")
            ))),
        }
    }

    async fn compare(&self, base: &str, head: &str) -> Result<Comparison, GitHubError> {
        // Three dots: the changes on `head` since its merge base with `base`. No `per_page`:
        // pagination pages the commits only, and the files come on the first page anyway.
        let url = self.base.url(&self.repo_path(&format!(
            "/compare/{}...{}",
            encode_component(base),
            encode_component(head)
        )));
        let (wire, _): (WireComparison, _) = self.call(Endpoint::Compare, &url, None, &ErrorContext::default()).await?;
        wire.into_comparison().map_err(|message| GitHubError::Transport {
            method: "GET".into(),
            path: path_of(&url),
            message: format!("unexpected comparison: {message}"),
        })
    }

    async fn last_change(&self, branch: &str, path: &str) -> Result<Option<DateTime<Utc>>, GitHubError> {
        let url = self.base.url(&format!(
            "{}?sha={}&path={}&per_page=1",
            self.repo_path("/commits"),
            encode_component(branch),
            encode_component(path)
        ));
        let (commits, _): (Vec<WireListedCommit>, _) =
            self.call(Endpoint::ListCommits, &url, None, &ErrorContext::default()).await?;
        Ok(commits.into_iter().next().and_then(|c| c.commit.committer).and_then(|who| who.date))
    }

    async fn create_tree(&self, base_tree: &str, files: &[TreeFile]) -> Result<String, GitHubError> {
        let url = self.base.url(&self.repo_path("/git/trees"));
        // Serialised straight from the files (no JSON tree in between): the body of a large
        // commit is as big as its files.
        let tree = files
            .iter()
            .map(|f| WireTreeEntry { path: &f.path, mode: "100644", kind: "blob", content: &f.content })
            .collect();
        let body = serde_json::to_vec(&WireTree { base_tree, tree }).map_err(|e| GitHubError::Transport {
            method: "POST".into(),
            path: path_of(&url),
            message: format!("cannot serialise the tree: {e}"),
        })?;
        let answer = self.send_bytes(Endpoint::CreateTree, &url, Some(Bytes::from(body))).await?;
        let tree: WireSha = self.parse(Endpoint::CreateTree, &url, &answer, &ErrorContext::default())?;
        Ok(tree.sha)
    }

    async fn create_commit(&self, message: &str, tree: &str, parent: &str) -> Result<String, GitHubError> {
        let url = self.base.url(&self.repo_path("/git/commits"));
        // No author or committer: GitHub then uses the token's identity, and commits made
        // with an Actions or App token come out Verified.
        let body = json!({"message": message, "tree": tree, "parents": [parent]});
        let (commit, _): (WireSha, _) =
            self.call(Endpoint::CreateCommit, &url, Some(&body), &ErrorContext::default()).await?;
        Ok(commit.sha)
    }

    async fn update_branch(&self, branch: &str, commit: &str) -> Result<(), GitHubError> {
        let url = self.base.url(&self.repo_path(&format!("/git/refs/heads/{}", encode_path(branch))));
        let body = json!({"sha": commit, "force": false});
        let context = ErrorContext { ref_branch: Some(branch.to_string()), ..Default::default() };
        let answer = self.send(Endpoint::UpdateRef, &url, Some(&body)).await?;
        match self.check(Endpoint::UpdateRef, &url, &answer, &context) {
            // A retry after a lost answer may find the branch already moved to our commit.
            Err(GitHubError::NotFastForward) if answer.attempts > 1 => {
                if self.branch_head(branch).await? == commit {
                    Ok(())
                } else {
                    Err(GitHubError::NotFastForward)
                }
            }
            other => other,
        }
    }

    fn rate_limit(&self) -> Option<RateLimit> {
        *lock(&self.rate)
    }

    async fn find_branch(&self, branch: &str) -> Result<Option<String>, GitHubError> {
        match self.branch_head(branch).await {
            Ok(sha) => Ok(Some(sha)),
            Err(GitHubError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn create_branch(&self, branch: &str, commit: &str) -> Result<(), GitHubError> {
        let url = self.base.url(&self.repo_path("/git/refs"));
        let body = json!({"ref": format!("refs/heads/{branch}"), "sha": commit});
        let answer = self.send(Endpoint::CreateRef, &url, Some(&body)).await?;
        let refused = |answer: &Answer| {
            answer.status == StatusCode::UNPROCESSABLE_ENTITY && wire_message(&answer.body).contains("already exists")
        };
        // A retry after a lost answer may find the branch made by the first attempt.
        if refused(&answer) && answer.attempts > 1 && self.find_branch(branch).await?.as_deref() == Some(commit) {
            return Ok(());
        }
        if refused(&answer) {
            return Err(GitHubError::BranchExists { branch: branch.to_string() });
        }
        let context = ErrorContext { ref_branch: Some(branch.to_string()), ..Default::default() };
        self.check(Endpoint::CreateRef, &url, &answer, &context)
    }

    async fn force_branch(&self, branch: &str, commit: &str) -> Result<(), GitHubError> {
        let url = self.base.url(&self.repo_path(&format!("/git/refs/heads/{}", encode_path(branch))));
        let body = json!({"sha": commit, "force": true});
        let context = ErrorContext { ref_branch: Some(branch.to_string()), ..Default::default() };
        let answer = self.send(Endpoint::UpdateRef, &url, Some(&body)).await?;
        self.check(Endpoint::UpdateRef, &url, &answer, &context)
    }

    async fn open_pull_request(&self, head: &str, base: &str) -> Result<Option<PullRequestInfo>, GitHubError> {
        let url = self.base.url(&format!(
            "{}?head={}&base={}&state=open&per_page=10",
            self.repo_path("/pulls"),
            encode_component(&format!("{}:{head}", self.owner)),
            encode_component(base)
        ));
        let (pulls, _): (Vec<WirePull>, _) =
            self.call(Endpoint::ListPulls, &url, None, &ErrorContext::default()).await?;
        // The oldest, should two have been opened at once.
        Ok(pulls.into_iter().min_by_key(|p| p.number).map(PullRequestInfo::from))
    }

    async fn create_pull_request(&self, new: &NewPullRequest) -> Result<PullRequestInfo, GitHubError> {
        let url = self.base.url(&self.repo_path("/pulls"));
        let body = json!({"title": new.title, "head": new.head, "base": new.base, "body": new.body});
        let (pull, _): (WirePull, _) =
            self.call(Endpoint::CreatePull, &url, Some(&body), &ErrorContext::default()).await?;
        Ok(pull.into())
    }

    async fn update_pull_request(&self, number: u64, title: &str, body: &str) -> Result<PullRequestInfo, GitHubError> {
        let url = self.base.url(&self.repo_path(&format!("/pulls/{number}")));
        let (pull, _): (WirePull, _) = self
            .call(Endpoint::UpdatePull, &url, Some(&json!({"title": title, "body": body})), &ErrorContext::default())
            .await?;
        Ok(pull.into())
    }

    async fn list_issue_comments(&self, issue: u64) -> Result<Vec<IssueComment>, GitHubError> {
        let url = self.base.url(&self.repo_path(&format!("/issues/{issue}/comments?per_page=100")));
        let comments: Vec<WireIssueComment> =
            self.get_all_pages(Endpoint::ListIssueComments, url, "issue comments").await?;
        Ok(comments.into_iter().map(IssueComment::from).collect())
    }

    async fn create_issue_comment(&self, issue: u64, body: &str) -> Result<IssueComment, GitHubError> {
        let url = self.base.url(&self.repo_path(&format!("/issues/{issue}/comments")));
        let (comment, _): (WireIssueComment, _) = self
            .call(Endpoint::CreateIssueComment, &url, Some(&json!({"body": body})), &ErrorContext::default())
            .await?;
        Ok(comment.into())
    }

    async fn update_issue_comment(&self, id: u64, body: &str) -> Result<IssueComment, GitHubError> {
        let url = self.base.url(&self.repo_path(&format!("/issues/comments/{id}")));
        let (comment, _): (WireIssueComment, _) = self
            .call(Endpoint::UpdateIssueComment, &url, Some(&json!({"body": body})), &ErrorContext::default())
            .await?;
        Ok(comment.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn api_base_joins_with_and_without_trailing_slash_and_prefix() {
        for (input, origin, url) in [
            ("https://api.github.com", "https://api.github.com", "https://api.github.com/repos/o/r"),
            ("https://api.github.com/", "https://api.github.com", "https://api.github.com/repos/o/r"),
            ("https://ghe.example/api/v3", "https://ghe.example", "https://ghe.example/api/v3/repos/o/r"),
            ("https://ghe.example/api/v3/", "https://ghe.example", "https://ghe.example/api/v3/repos/o/r"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080", "http://127.0.0.1:8080/repos/o/r"),
        ] {
            let base = ApiBase::parse(input).unwrap();
            assert_eq!(base.origin, origin, "{input}");
            assert_eq!(base.url("/repos/o/r"), url, "{input}");
        }
        assert!(ApiBase::parse("api.github.com").is_err());
        assert!(ApiBase::parse("ftp://x/").is_err());
        assert!(ApiBase::parse("").is_err());
    }

    #[test]
    fn links_are_followed_verbatim_but_only_to_the_same_origin() {
        let base = ApiBase::parse("https://ghe.example/api/v3").unwrap();
        let next = "https://ghe.example/api/v3/repositories/7/milestones?state=all&per_page=100&page=2";
        assert_eq!(base.follow(next).unwrap(), next);
        assert_eq!(
            base.follow("/api/v3/repositories/7/milestones?page=2").unwrap(),
            "https://ghe.example/api/v3/repositories/7/milestones?page=2"
        );
        assert!(base.follow("https://evil.example/steal").is_err());
        assert!(base.follow("http://ghe.example/api/v3/x").is_err());
    }

    #[test]
    fn next_link_is_found_among_others() {
        // From @octokit/fixtures paginate-issues.
        let header = "<https://api.github.com/repositories/1000/issues?per_page=3&page=2>; rel=\"next\", \
                      <https://api.github.com/repositories/1000/issues?per_page=3&page=5>; rel=\"last\"";
        assert_eq!(
            next_link(header).as_deref(),
            Some("https://api.github.com/repositories/1000/issues?per_page=3&page=2")
        );
        let last_page =
            "<https://x/repositories/1/m?page=1>; rel=\"first\", <https://x/repositories/1/m?page=4>; rel=\"prev\"";
        assert_eq!(next_link(last_page), None);
        assert_eq!(super::last_page(header), Some(5));
        assert_eq!(super::last_page(last_page), None);
        let next_last = "<https://x/a?page=1>; rel=\"prev\", <https://x/a?page=3>; rel=\"next\"";
        assert_eq!(next_link(next_last).as_deref(), Some("https://x/a?page=3"));
        assert_eq!(next_link("<https://x/a?b=1,2>; rel=next").as_deref(), Some("https://x/a?b=1,2"));
        assert_eq!(next_link(""), None);
    }

    #[test]
    fn paths_are_percent_encoded_per_segment() {
        assert_eq!(
            encode_path(".ruru/projects/my proj/epics/EPIC-001_x.md"),
            ".ruru/projects/my%20proj/epics/EPIC-001_x.md"
        );
        assert_eq!(encode_path("a#b/c?d/%e"), "a%23b/c%3Fd/%25e");
        assert_eq!(encode_path("feature/ünï"), "feature/%C3%BCn%C3%AF");
        assert_eq!(encode_component("a/b"), "a%2Fb");
    }

    #[test]
    fn base64_content_with_newlines_decodes() {
        // GitHub wraps the content at 60 columns with "\n".
        let content = "SGVsbG8sIFdvcmxkISBIZWxsbywgV29ybGQhIEhlbGxvLCBXb3JsZCEgSGVs\nbG8sIFdvcmxkIQ==\n";
        assert_eq!(
            decode_content(content).unwrap(),
            b"Hello, World! Hello, World! Hello, World! Hello, World!".to_vec()
        );
        assert_eq!(decode_content("").unwrap(), Vec::<u8>::new());
        assert!(decode_content("not base64!").is_err());
    }

    fn map(status: u16, body: &str, permission: Permission, context: &ErrorContext) -> GitHubError {
        map_error(
            &Method::POST,
            "/repos/o/r/milestones",
            StatusCode::from_u16(status).unwrap(),
            body.as_bytes(),
            permission,
            context,
        )
    }

    #[test]
    fn errors_map_to_what_the_sync_decides_on() {
        let create = ErrorContext { already_exists_title: Some("v1".into()), ..Default::default() };
        let body = r#"{"message":"Validation Failed","errors":[{"resource":"Milestone","code":"already_exists","field":"title"}]}"#;
        assert!(
            matches!(map(422, body, Permission::IssuesWrite, &create), GitHubError::AlreadyExists { title } if title == "v1")
        );
        // Without a title to name, the same answer stays a plain 422.
        assert!(matches!(
            map(422, body, Permission::IssuesWrite, &ErrorContext::default()),
            GitHubError::Http { status: 422, .. }
        ));

        // From @octokit/fixtures errors: an invalid field is not "already exists".
        let invalid =
            r#"{"message":"Validation Failed","errors":[{"resource":"Label","code":"invalid","field":"color"}]}"#;
        match map(422, invalid, Permission::IssuesWrite, &create) {
            GitHubError::Http { status: 422, message, .. } => assert_eq!(message, "Validation Failed (color invalid)"),
            other => panic!("{other:?}"),
        }

        let ref_update = ErrorContext { ref_branch: Some("main".into()), ..Default::default() };
        let ff = r#"{"message":"Update is not a fast forward","documentation_url":"https://docs.github.com"}"#;
        assert!(matches!(map(422, ff, Permission::ContentsWrite, &ref_update), GitHubError::NotFastForward));
        assert!(matches!(map(422, ff, Permission::ContentsWrite, &ErrorContext::default()), GitHubError::Http { .. }));
        // Branch protection (classic, 422) and rulesets (409), in GitHub's words.
        for (status, body) in [
            (422, r#"{"message":"Protected branch update failed for refs/heads/main.","documentation_url":"x"}"#),
            (
                409,
                r#"{"message":"Repository rule violations found\n\nChanges must be made through a pull request.\n\n"}"#,
            ),
            (422, r#"{"message":"Required status check \"ci\" is expected."}"#),
        ] {
            match map(status, body, Permission::ContentsWrite, &ref_update) {
                GitHubError::ProtectedBranch { branch, message } => {
                    assert_eq!(branch, "main");
                    assert!(!message.is_empty());
                }
                other => panic!("{status} {body}: {other:?}"),
            }
        }
        let protected = map(
            422,
            r#"{"message":"Protected branch update failed for refs/heads/main."}"#,
            Permission::ContentsWrite,
            &ref_update,
        )
        .to_string();
        assert!(
            protected.contains("main is protected") && protected.contains("Protected branch update failed"),
            "{protected}"
        );
        let actions = r#"{"message":"GitHub Actions is not permitted to create or approve pull requests.","documentation_url":"x"}"#;
        let refused = map(403, actions, Permission::PullRequestsWrite, &ErrorContext::default());
        assert!(matches!(refused, GitHubError::PullRequestsForbidden { .. }), "{refused:?}");
        let fix = refused.to_string();
        assert!(
            fix.contains("Allow GitHub Actions to create and approve pull requests") && fix.contains("App token"),
            "{fix}"
        );
        let exists = r#"{"message":"Validation Failed","errors":[{"resource":"PullRequest","code":"custom","message":"A pull request already exists for acme:milestone-sync/main."}]}"#;
        assert!(matches!(
            map(422, exists, Permission::PullRequestsWrite, &ErrorContext::default()),
            GitHubError::PullRequestExists { .. }
        ));

        let forbidden = r#"{"message":"Resource not accessible by integration","documentation_url":"x"}"#;
        match map(403, forbidden, Permission::ContentsWrite, &ErrorContext::default()) {
            GitHubError::Permission { permission, method, path, .. } => {
                assert_eq!(permission, Permission::ContentsWrite);
                assert_eq!(method, "POST");
                assert_eq!(path, "/repos/o/r/milestones");
            }
            other => panic!("{other:?}"),
        }
        let rate = r#"{"message":"You have exceeded a secondary rate limit."}"#;
        assert!(matches!(map(403, rate, Permission::IssuesWrite, &create), GitHubError::Http { status: 403, .. }));

        assert!(matches!(
            map(404, r#"{"message":"Not Found"}"#, Permission::IssuesWrite, &create),
            GitHubError::NotFound { .. }
        ));
        match map(502, "<html>Bad gateway</html>", Permission::IssuesWrite, &create) {
            GitHubError::Http { status: 502, message, .. } => assert_eq!(message, "<html>Bad gateway</html>"),
            other => panic!("{other:?}"),
        }
        match map(500, "", Permission::IssuesWrite, &create) {
            GitHubError::Http { message, .. } => assert_eq!(message, "Internal Server Error"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bodies_send_dates_at_noon_and_null_to_clear() {
        let date = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let new = NewMilestone {
            title: "t".into(),
            description: "d".into(),
            state: MilestoneState::Open,
            due_on: Some(date),
        };
        assert_eq!(
            create_body(&new),
            json!({"title": "t", "description": "d", "state": "open", "due_on": "2026-03-01T12:00:00Z"})
        );
        let undated = NewMilestone { due_on: None, ..new };
        assert!(create_body(&undated).get("due_on").is_none());

        let clear = MilestonePatch { due_on: Some(None), ..Default::default() };
        assert_eq!(patch_body(&clear), json!({"due_on": null}));
        let close =
            MilestonePatch { state: Some(MilestoneState::Closed), due_on: Some(Some(date)), ..Default::default() };
        assert_eq!(patch_body(&close), json!({"state": "closed", "due_on": "2026-03-01T12:00:00Z"}));
        assert_eq!(patch_body(&MilestonePatch::default()), json!({}));
    }

    #[test]
    fn milestones_parse_leniently() {
        let body = r#"{"url":"u","html_url":"https://github.com/o/r/milestone/1","id":1,"number":1,"title":"v1",
            "description":null,"state":"closed","due_on":null,"updated_at":"2026-01-02T03:04:05Z","extra":{"x":1}}"#;
        let m: Milestone = serde_json::from_str::<WireMilestone>(body).unwrap().into();
        assert_eq!(m.state, MilestoneState::Closed);
        assert_eq!(m.description, None);
        assert_eq!(m.due_on, None);
        let dated = r#"{"number":2,"html_url":"h","title":"t","state":"open","due_on":"2019-05-23T07:00:00Z","updated_at":"2026-01-02T03:04:05Z"}"#;
        let m: Milestone = serde_json::from_str::<WireMilestone>(dated).unwrap().into();
        assert_eq!(due_date::from_github(m.due_on.unwrap()), NaiveDate::from_ymd_opt(2019, 5, 23).unwrap());
        assert_eq!(m.description, None);
    }

    #[test]
    fn every_endpoint_has_a_distinct_template_and_slot() {
        for (i, e) in Endpoint::ALL.iter().enumerate() {
            assert_eq!(e.index(), i);
            assert!(e.template().starts_with(e.method().as_str()));
        }
        let mut templates: Vec<_> = Endpoint::ALL.iter().map(|e| e.template()).collect();
        templates.dedup();
        assert_eq!(templates.len(), Endpoint::ALL.len());
    }

    #[tokio::test]
    async fn debug_never_shows_the_token() {
        let client = Client::new("https://api.github.com", "ghs_secret123", "o", "r").unwrap();
        assert!(!format!("{client:?}").contains("ghs_secret123"));
        // The request as sent: Authorization is there, and redacted in every debug form.
        let request =
            client.request(&Method::POST, "https://api.github.com/repos/o/r/milestones", Some("{}".into())).unwrap();
        assert_eq!(request.headers()[AUTHORIZATION].to_str().unwrap(), "Bearer ghs_secret123");
        for text in [format!("{request:?}"), format!("{:?}", request.headers()), format!("{:#?}", request.headers())] {
            assert!(!text.contains("ghs_secret123"), "{text}");
            assert!(text.contains("Sensitive"), "{text}");
        }
        assert!(
            Client::new("https://api.github.com", "bad\ntoken", "o", "r").unwrap_err().to_string().contains("token")
        );
        assert!(
            !Client::new("https://api.github.com", "bad\ntoken", "o", "r").unwrap_err().to_string().contains("bad")
        );
    }
}
