//! The REST endpoints the client calls: the unit of the call counts, and the permission a
//! 403 on each points at.

use http::Method;

use crate::github::Permission;

/// The REST endpoints this client calls, one per (method, path template): the unit of the
/// call counts and of the permission a 403 points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Endpoint {
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
    Graphql,
}

impl Endpoint {
    pub(super) const ALL: [Endpoint; 22] = [
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
        Endpoint::Graphql,
    ];

    /// The endpoint a request is for, from its method and its path below the API's prefix:
    /// `/repos/{o}/{r}/…`, or `/repositories/{id}/…` where GitHub's `Link` headers point.
    /// `None` for a request this client does not make.
    pub(super) fn of(method: &Method, path: &str) -> Option<Endpoint> {
        // `/graphql` on github.com, `/api/graphql` on GitHub Enterprise Server (beside the
        // REST prefix `/api/v3`, so not below it).
        if path.ends_with("/graphql") {
            return (*method == Method::POST).then_some(Endpoint::Graphql);
        }
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let rest = match segments.as_slice() {
            ["repos", _, _, rest @ ..] | ["repositories", _, rest @ ..] => rest,
            _ => return None,
        };
        let get = *method == Method::GET;
        let post = *method == Method::POST;
        let patch = *method == Method::PATCH;
        Some(match rest {
            [] if get => Endpoint::Repo,
            ["milestones"] if get => Endpoint::ListMilestones,
            ["milestones"] if post => Endpoint::CreateMilestone,
            ["milestones", _] if get => Endpoint::GetMilestone,
            ["milestones", _] if patch => Endpoint::UpdateMilestone,
            ["milestones", _] if *method == Method::DELETE => Endpoint::DeleteMilestone,
            ["git", "ref", "heads", _, ..] if get => Endpoint::BranchHead,
            ["git", "commits", _] if get => Endpoint::GetCommit,
            ["git", "commits"] if post => Endpoint::CreateCommit,
            ["contents", ..] if get => Endpoint::Contents,
            ["git", "trees"] if post => Endpoint::CreateTree,
            ["git", "refs", "heads", _, ..] if patch => Endpoint::UpdateRef,
            ["git", "refs"] if post => Endpoint::CreateRef,
            ["issues", _, "comments"] if get => Endpoint::ListIssueComments,
            ["issues", _, "comments"] if post => Endpoint::CreateIssueComment,
            ["issues", "comments", _] if patch => Endpoint::UpdateIssueComment,
            ["compare", ..] if get => Endpoint::Compare,
            ["commits"] if get => Endpoint::ListCommits,
            ["pulls"] if get => Endpoint::ListPulls,
            ["pulls"] if post => Endpoint::CreatePull,
            ["pulls", _] if patch => Endpoint::UpdatePull,
            _ => return None,
        })
    }

    pub(super) fn index(self) -> usize {
        self as usize
    }

    pub(super) fn method(self) -> Method {
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
            | Endpoint::CreatePull
            | Endpoint::Graphql => Method::POST,
            Endpoint::UpdateMilestone | Endpoint::UpdateRef | Endpoint::UpdateIssueComment | Endpoint::UpdatePull => {
                Method::PATCH
            }
            Endpoint::DeleteMilestone => Method::DELETE,
        }
    }

    /// `"METHOD /path/{template}"`, as reported by [`Client::call_counts`].
    pub(super) fn template(self) -> &'static str {
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
            Endpoint::Graphql => "POST /graphql",
        }
    }

    /// Whether the client may send this request again after a failure (see [`retry`]). Every
    /// endpoint but the creates of milestones, comments and pull requests: sent twice, each
    /// could make a duplicate (the callers look for what a lost answer made instead). A ref
    /// create sent twice is refused the second time ("Reference already exists"), which the
    /// caller reads as done. A GraphQL commit is not re-sent either: `apply::commit` looks
    /// at the branch first (its `expectedHeadOid` would refuse a second commit anyway).
    pub(super) fn resend_safe(self) -> bool {
        !matches!(
            self,
            Endpoint::CreateMilestone | Endpoint::CreateIssueComment | Endpoint::CreatePull | Endpoint::Graphql
        )
    }

    /// The permission a 403 "Resource not accessible" on this endpoint points at: milestones
    /// belong to `issues`, the git database and contents to `contents`, the preview's
    /// comment on a pull request to `pull-requests`.
    pub(super) fn permission(self) -> Permission {
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
            | Endpoint::CreateRef
            | Endpoint::Graphql => Permission::ContentsWrite,
            Endpoint::ListIssueComments
            | Endpoint::CreateIssueComment
            | Endpoint::UpdateIssueComment
            | Endpoint::ListPulls
            | Endpoint::CreatePull
            | Endpoint::UpdatePull => Permission::PullRequestsWrite,
        }
    }
}
