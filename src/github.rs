//! GitHub, as the sync sees it: a small trait over the REST endpoints it uses, and the plain
//! values that cross it. The real client (hyper underneath) is in [`client`]; tests drive
//! the same trait against the stateful stand-in in the `github-standin` crate.

pub mod client;

use chrono::{DateTime, Utc};

use crate::milestone::{Milestone, MilestonePatch, NewMilestone};

/// A file to write in a new tree: a regular file (`100644`) with this content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeFile {
    pub path: String,
    pub content: String,
}

/// A comment on an issue or pull request, as the preview needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueComment {
    pub id: u64,
    /// The Markdown as written (GitHub's `body`).
    pub body: String,
    pub html_url: String,
}

/// A commit's tree, parents and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitParts {
    pub tree: String,
    pub parents: Vec<String>,
    /// The whole message (GitHub's GraphQL commits store headline, a blank line, body).
    pub message: String,
}

/// A pull request, as the sync's own one is kept up to date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequestInfo {
    pub number: u64,
    pub html_url: String,
    pub title: String,
    pub body: String,
    /// The commit its head branch points at.
    pub head_sha: String,
}

/// A pull request to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPullRequest {
    pub title: String,
    /// The head branch, in this repository.
    pub head: String,
    pub base: String,
    pub body: String,
}

/// How GitHub's compare API says a file changed (the `status` of a diff entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStatus {
    Added,
    Removed,
    Modified,
    /// Moved from [`ChangedFile::previous_path`] (and maybe changed too).
    Renamed,
    /// A new file copied from another one: new, as far as the sync is concerned.
    Copied,
    /// Its mode or type changed (GitHub's `changed`): read as modified.
    Changed,
    Unchanged,
}

/// One entry of a comparison's file list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedFile {
    /// Repository-relative path, at the head side.
    pub path: String,
    pub status: FileStatus,
    /// For [`FileStatus::Renamed`] (and [`FileStatus::Copied`]): where the file came from.
    pub previous_path: Option<String>,
}

/// What `GET /repos/{o}/{r}/compare/{base}...{head}` says about the changes on `head` since
/// it left `base`: the fallback for a checkout whose history cannot list a push's (or a pull
/// request's) files, such as the container image, which has no git.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// `ahead`, `behind`, `diverged` or `identical`: how `head` relates to `base`.
    pub status: String,
    /// The best common ancestor: the file list is the diff from it to `head`.
    pub merge_base: String,
    pub files: Vec<ChangedFile>,
    /// GitHub lists at most [`Comparison::MAX_FILES`] files: a list that long may be cut
    /// short, so it cannot prove that a file is *not* among the changes.
    pub capped: bool,
}

impl Comparison {
    /// GitHub's cap on the files of one comparison (documented: "up to 300 changed files for
    /// the entire comparison"; pagination only pages the commits).
    pub const MAX_FILES: usize = 300;
}

/// Which permission a refused request lacked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// `issues: write`, needed for milestones.
    IssuesWrite,
    /// `contents: write`, needed for commits.
    ContentsWrite,
    /// `pull-requests: write`, needed for the preview comment on a pull request.
    PullRequestsWrite,
}

impl Permission {
    /// The line under `permissions:` in a workflow that grants it.
    pub fn workflow_line(self) -> &'static str {
        match self {
            Permission::IssuesWrite => "issues: write",
            Permission::ContentsWrite => "contents: write",
            Permission::PullRequestsWrite => "pull-requests: write",
        }
    }

    /// The same permission as a fine-grained PAT or a GitHub App names it.
    pub fn token_permission(self) -> &'static str {
        match self {
            Permission::IssuesWrite => "Issues: Read and write",
            Permission::ContentsWrite => "Contents: Read and write",
            Permission::PullRequestsWrite => "Pull requests: Read and write",
        }
    }
}

/// The primary rate limit, as GitHub reports it in the `x-ratelimit-*` headers of every
/// answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed in the window (`x-ratelimit-limit`).
    pub limit: u64,
    /// Requests left in the window (`x-ratelimit-remaining`).
    pub remaining: u64,
    /// When the window starts again (`x-ratelimit-reset`).
    pub reset: DateTime<Utc>,
}

/// What a run waited for, besides GitHub's answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Waits {
    /// Writes waiting for their turn (`write-delay-ms` between their starts).
    pub pacing: std::time::Duration,
    /// Rate limits waited out as GitHub asked, and the backoff before retries.
    pub rate_limits: std::time::Duration,
}

impl Waits {
    /// Both together.
    pub fn total(&self) -> std::time::Duration {
        self.pacing + self.rate_limits
    }
}

/// What can go wrong talking to GitHub, in the terms the sync decides on.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GitHubError {
    /// `PATCH git/refs` refused because the branch moved: rebuild on the new head.
    #[error("the branch moved while the commit was made (422 Update is not a fast forward)")]
    NotFastForward,
    /// A milestone with this title exists (422, `errors[].code = "already_exists"`).
    #[error("a milestone titled {title:?} already exists")]
    AlreadyExists { title: String },
    /// 403 "Resource not accessible by integration" and friends.
    #[error("GitHub refused {method} {path}: {message}. The token lacks `{}`: in the workflow, add `{}` under `permissions:` (the sync needs `permissions: {{ contents: write, issues: write }}`); a PAT or App token needs \"{}\"", permission.workflow_line(), permission.workflow_line(), permission.token_permission())]
    Permission { permission: Permission, method: String, path: String, message: String },
    /// A ref update refused by branch protection or a repository ruleset.
    #[error("the branch {branch} is protected and refused the commit ({message})")]
    ProtectedBranch { branch: String, message: String },
    /// 403 "GitHub Actions is not permitted to create or approve pull requests." (a repository
    /// or organisation setting).
    #[error(
        "GitHub refused to open the pull request ({message}). Allow it under Settings → Actions → General → Workflow permissions → \"Allow GitHub Actions to create and approve pull requests\" (or the organisation's setting), or give `github-token` a GitHub App token; the milestones are synced either way"
    )]
    PullRequestsForbidden { message: String },
    /// 422 "A pull request already exists for {owner}:{branch}." (another run opened it).
    #[error("a pull request already exists ({message})")]
    PullRequestExists { message: String },
    /// `POST git/refs` for a branch that exists (422 "Reference already exists").
    #[error("the branch {branch} exists already")]
    BranchExists { branch: String },
    /// A primary or secondary rate limit that asks for a longer wait than the run may spend.
    #[error("GitHub's {} rate limit stopped {method} {path} ({message}){}", if *.primary { "primary" } else { "secondary" }, until.map(|t| format!("; it lifts at {} UTC", t.format("%H:%M:%S"))).unwrap_or_default())]
    RateLimited { primary: bool, until: Option<DateTime<Utc>>, method: String, path: String, message: String },
    /// 404.
    #[error("not found: {method} {path}")]
    NotFound { method: String, path: String },
    /// Any other non-success answer.
    #[error("GitHub answered {status} to {method} {path}: {message}")]
    Http { status: u16, method: String, path: String, message: String },
    /// GitHub's GraphQL API refused the one-request commit for a reason of its own (its
    /// `type` and `message`).
    #[error("GitHub's GraphQL API refused the commit: {message}")]
    GraphQl { message: String },
    /// This GitHub (an older GitHub Enterprise Server) has no `createCommitOnBranch`, or no
    /// GraphQL endpoint where the API URL says: the Git Database commits instead.
    #[error("this GitHub does not offer createCommitOnBranch ({message})")]
    Unsupported { message: String },
    /// No answer: connection refused, timeout, TLS, an unreadable body.
    #[error("could not reach GitHub for {method} {path}: {message}")]
    Transport { method: String, path: String, message: String },
}

/// The REST endpoints the sync uses. Every method is one request except
/// [`GitHub::list_milestones`], which follows the `Link` header through all pages.
#[allow(async_fn_in_trait)]
pub trait GitHub {
    /// `GET /repos/{o}/{r}`: the repository's default branch.
    async fn default_branch(&self) -> Result<String, GitHubError>;
    /// `GET /repos/{o}/{r}`: whether the repository is a fork (one request serves this and
    /// [`GitHub::default_branch`]).
    async fn is_fork(&self) -> Result<bool, GitHubError>;
    /// `GET /repos/{o}/{r}/milestones?state=all&per_page=100`, every page.
    async fn list_milestones(&self) -> Result<Vec<Milestone>, GitHubError>;
    /// [`GitHub::list_milestones`] when the list takes at most `max_pages` pages; `Ok(None)`
    /// otherwise, as soon as that is known (after the first page, whose `Link` header names
    /// the last one). The request budget of a run that converges everything.
    async fn list_milestones_within(&self, max_pages: usize) -> Result<Option<Vec<Milestone>>, GitHubError>;
    /// `GET /repos/{o}/{r}/milestones/{n}`; `Ok(None)` on 404.
    async fn get_milestone(&self, number: u64) -> Result<Option<Milestone>, GitHubError>;
    /// `POST /repos/{o}/{r}/milestones`. Never retried blindly: a lost answer may mean the
    /// milestone exists.
    async fn create_milestone(&self, new: &NewMilestone) -> Result<Milestone, GitHubError>;
    /// `PATCH /repos/{o}/{r}/milestones/{n}` with only the fields set in `patch`.
    async fn update_milestone(&self, number: u64, patch: &MilestonePatch) -> Result<Milestone, GitHubError>;
    /// `DELETE /repos/{o}/{r}/milestones/{n}`.
    async fn delete_milestone(&self, number: u64) -> Result<(), GitHubError>;
    /// `GET /repos/{o}/{r}/git/ref/heads/{branch}`: the commit the branch points at.
    async fn branch_head(&self, branch: &str) -> Result<String, GitHubError>;
    /// `GET /repos/{o}/{r}/git/commits/{sha}`: the commit's tree.
    async fn commit_tree(&self, commit: &str) -> Result<String, GitHubError> {
        Ok(self.commit_parts(commit).await?.tree)
    }
    /// `GET /repos/{o}/{r}/git/commits/{sha}`: the commit's tree and parents.
    async fn commit_parts(&self, commit: &str) -> Result<CommitParts, GitHubError>;
    /// `GET /repos/{o}/{r}/contents/{path}?ref={commit}`: a file's bytes, `None` when absent.
    async fn file_at(&self, commit: &str, path: &str) -> Result<Option<Vec<u8>>, GitHubError>;
    /// `GET /repos/{o}/{r}/compare/{base}...{head}`: the files changed on `head` since its
    /// merge base with `base` (three-dot), each with its status. One request, whatever the
    /// number of commits; the list is [capped](Comparison::capped) at 300 files.
    async fn compare(&self, base: &str, head: &str) -> Result<Comparison, GitHubError>;
    /// `GET /repos/{o}/{r}/commits?sha={branch}&path={path}&per_page=1`: when the newest
    /// commit on `branch` that changed `path` was made; `None` when none did. The file side's
    /// clock for `last_update_wins` where the checkout has no history to ask.
    async fn last_change(&self, branch: &str, path: &str) -> Result<Option<DateTime<Utc>>, GitHubError>;
    /// `POST /repos/{o}/{r}/git/trees` with `base_tree` and the files inline (no blob calls).
    async fn create_tree(&self, base_tree: &str, files: &[TreeFile]) -> Result<String, GitHubError>;
    /// `POST /repos/{o}/{r}/git/commits` with one parent.
    async fn create_commit(&self, message: &str, tree: &str, parent: &str) -> Result<String, GitHubError>;
    /// `PATCH /repos/{o}/{r}/git/refs/heads/{branch}` with `force: false`;
    /// [`GitHubError::NotFastForward`] when the branch moved.
    async fn update_branch(&self, branch: &str, commit: &str) -> Result<(), GitHubError>;
    /// `POST /graphql` `createCommitOnBranch`: one commit of `files` on `branch`, made only if
    /// the branch is at `expected_head` (else [`GitHubError::NotFastForward`]); the new
    /// commit's id. The message's first line is the headline, the rest after a blank line its
    /// body. Never sent twice by the client: see `apply::commit` for a lost answer.
    /// [`GitHubError::Unsupported`] where the server has no such mutation.
    async fn commit_on_branch(
        &self,
        branch: &str,
        expected_head: &str,
        message: &str,
        files: &[TreeFile],
    ) -> Result<String, GitHubError>;
    /// The primary rate limit as the last answer reported it; `None` before any answer (or
    /// from an implementation that cannot tell).
    /// What the run waited for so far besides GitHub's answers: writes waiting for their
    /// turn, rate limits and retries' backoff (the client's and every client counting with
    /// it). Nothing for a stand-in without pacing.
    fn waits(&self) -> Waits {
        Default::default()
    }

    fn rate_limit(&self) -> Option<RateLimit> {
        None
    }
    /// `GET /repos/{o}/{r}/git/ref/heads/{branch}`; `Ok(None)` when there is no such branch.
    async fn find_branch(&self, branch: &str) -> Result<Option<String>, GitHubError>;
    /// `POST /repos/{o}/{r}/git/refs`: a new branch at `commit`; [`GitHubError::BranchExists`]
    /// when it exists.
    async fn create_branch(&self, branch: &str, commit: &str) -> Result<(), GitHubError>;
    /// `PATCH /repos/{o}/{r}/git/refs/heads/{branch}` with `force: true`: only ever the sync's
    /// own branch, rebuilt on the default branch's head.
    async fn force_branch(&self, branch: &str, commit: &str) -> Result<(), GitHubError>;
    /// `GET /repos/{o}/{r}/pulls?head={owner}:{head}&base={base}&state=open`: the open pull
    /// request from `head` into `base` (the oldest, should there be two).
    async fn open_pull_request(&self, head: &str, base: &str) -> Result<Option<PullRequestInfo>, GitHubError>;
    /// `POST /repos/{o}/{r}/pulls`. Never retried blindly: a lost answer may mean it exists.
    async fn create_pull_request(&self, new: &NewPullRequest) -> Result<PullRequestInfo, GitHubError>;
    /// `PATCH /repos/{o}/{r}/pulls/{n}`: its title and body.
    async fn update_pull_request(&self, number: u64, title: &str, body: &str) -> Result<PullRequestInfo, GitHubError>;
    /// `GET /repos/{o}/{r}/issues/{n}/comments?per_page=100`, every page, oldest first. A pull
    /// request is an issue: its conversation comments live here.
    async fn list_issue_comments(&self, issue: u64) -> Result<Vec<IssueComment>, GitHubError>;
    /// `POST /repos/{o}/{r}/issues/{n}/comments`. Never retried blindly: a lost answer may
    /// mean the comment exists.
    async fn create_issue_comment(&self, issue: u64, body: &str) -> Result<IssueComment, GitHubError>;
    /// `PATCH /repos/{o}/{r}/issues/comments/{id}`: replaces the comment's body.
    async fn update_issue_comment(&self, id: u64, body: &str) -> Result<IssueComment, GitHubError>;
}

/// The clients of one run: the plan repository's (commits, the sync's pull request, the
/// preview comment) and one per repository whose milestones the run syncs. A project may name
/// another repository than the one its plan is kept in, reached with another token.
#[derive(Debug)]
pub struct Clients<'a, G> {
    plan: &'a G,
    /// `owner/name` of the plan's repository, when the run reaches others too.
    plan_repository: Option<String>,
    by_repository: Vec<(String, &'a G)>,
}

impl<'a, G> Clients<'a, G> {
    /// One client for everything: a run whose projects all name the plan's repository.
    pub fn one(gh: &'a G) -> Self {
        Clients { plan: gh, plan_repository: None, by_repository: Vec::new() }
    }

    /// `plan` for the plan repository (`plan_repository`), and a client for each
    /// `owner/name` in `others`.
    pub fn new(plan: &'a G, plan_repository: &str, others: Vec<(String, &'a G)>) -> Self {
        Clients { plan, plan_repository: Some(plan_repository.to_string()), by_repository: others }
    }

    /// Whether `repository` is another than the plan's: a workflow's `permissions:` do not
    /// reach it, only its token's own.
    pub fn is_other(&self, repository: &str) -> bool {
        self.plan_repository.as_deref().is_some_and(|p| !p.eq_ignore_ascii_case(repository))
    }

    /// The plan repository's client.
    pub fn plan(&self) -> &'a G {
        self.plan
    }

    /// The client that reaches `repository` (compared without case). `None` for a
    /// repository the run was not given a client for: a change is never sent to another
    /// repository's client. [`Clients::one`] reaches every repository it is asked for.
    pub fn to(&self, repository: &str) -> Option<&'a G> {
        if self.by_repository.is_empty() {
            return Some(self.plan);
        }
        self.by_repository.iter().find(|(r, _)| r.eq_ignore_ascii_case(repository)).map(|(_, gh)| *gh)
    }
}
