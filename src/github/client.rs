//! The real GitHub client: [`crate::github::GitHub`] over hyper.
//!
//! hyper (with rustls and the system's CA certificates) is the transport; everything above it
//! is done here, on raw requests, because the sync decides on things a typed API client (we
//! used octocrab's before) hides or gets wrong for us:
//!
//! - status codes and bodies of refusals (422 `already_exists`, 422 "not a fast forward",
//!   403 "Resource not accessible by integration"), mapped to [`GitHubError`];
//! - the `Link` header, followed verbatim (GitHub points `rel="next"` at
//!   `/repositories/{id}/…`, not at the URL that was sent);
//! - `"due_on": null` to clear a date, which octocrab's update builder cannot send;
//! - our own retry policy ([`RetryPolicy`]): octocrab's re-sends POSTs;
//! - rate limits: the `x-ratelimit-*` headers of every answer are kept
//!   ([`GitHub::rate_limit`]), refusals are waited out as GitHub asks or reported as
//!   [`GitHubError::RateLimited`];
//! - a pause between mutations (`write_delay`), which GitHub asks of clients that write.
//!
//! Every request carries `Authorization: Bearer …` (marked sensitive, never logged or put in
//! an error), `Accept: application/vnd.github+json`, `X-GitHub-Api-Version: 2022-11-28` and
//! `User-Agent: milestone-sync/<version>`, each once (octocrab's client added a second
//! `User-Agent`; `transport::http_client` adds nothing).
//!
//! Here: the [`Client`] and its [`GitHub`] implementation, one method per endpoint. Beside
//! it: `endpoint` (the endpoints, their call counts and permissions), `url` (the API base,
//! encoding, `Link` headers), `transport` (building, sending, retrying and pacing requests;
//! pagination), `errors` (refusals → [`GitHubError`]), `wire` (GitHub's JSON) and `retry`.

mod endpoint;
mod errors;
mod retry;
mod transport;
mod url;
mod wire;

pub use retry::RetryPolicy;

use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{HeaderValue, StatusCode};
use serde_json::json;

use crate::github::{
    CommitParts, Comparison, GitHub, GitHubError, IssueComment, NewPullRequest, PullRequestInfo, RateLimit, TreeFile,
};
use crate::milestone::{Milestone, MilestonePatch, NewMilestone};

use endpoint::Endpoint;
use errors::{ErrorContext, wire_message};
use transport::{Answer, lock, path_of};
use url::{ApiBase, encode_component, encode_path};
use wire::{
    WireCommit, WireComparison, WireContents, WireIssueComment, WireListedCommit, WireMilestone, WirePull, WireRef,
    WireRepo, WireSha, WireTree, WireTreeEntry, create_body, decode_content, patch_body,
};

/// The pause between two mutations unless configured: GitHub asks clients that make many
/// POST, PATCH, PUT or DELETE requests to wait at least a second between them.
pub const DEFAULT_WRITE_DELAY: Duration = Duration::from_secs(1);

/// The real client. Create it inside a Tokio runtime and use it on that runtime (hyper spawns
/// each connection's task on it).
pub struct Client {
    http: transport::Http,
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
    /// Shared with the clients made [`Client::counting_with`] this one: a run's count covers
    /// every repository it reached.
    counts: std::sync::Arc<[AtomicU64; Endpoint::ALL.len()]>,
    /// Requests sent again after a failure or a rate-limit wait.
    retries: std::sync::Arc<AtomicU64>,
    /// `GET /repos/{o}/{r}` once answered: its default branch and whether it is a fork (a
    /// `schedule` payload tells neither, and a run may need both).
    repository: Mutex<Option<(String, bool)>>,
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
    /// The repository's default branch and whether it is a fork: one `GET /repos/{o}/{r}` per
    /// client, kept.
    async fn repository(&self) -> Result<(String, bool), GitHubError> {
        if let Some(known) = lock(&self.repository).clone() {
            return Ok(known);
        }
        let url = self.base.url(&self.repo_path(""));
        let (repo, _): (WireRepo, _) = self.call(Endpoint::Repo, &url, None, &ErrorContext::default()).await?;
        let known = (repo.default_branch, repo.fork);
        *lock(&self.repository) = Some(known.clone());
        Ok(known)
    }
}

impl GitHub for Client {
    async fn default_branch(&self) -> Result<String, GitHubError> {
        Ok(self.repository().await?.0)
    }

    async fn is_fork(&self) -> Result<bool, GitHubError> {
        Ok(self.repository().await?.1)
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
    use super::errors::map_error;
    use super::url::next_link;
    use super::*;
    use crate::due_date;
    use crate::github::Permission;
    use crate::milestone::MilestoneState;
    use chrono::NaiveDate;
    use http::Method;
    use http::header::AUTHORIZATION;

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
        assert_eq!(super::url::last_page(header), Some(5));
        assert_eq!(super::url::last_page(last_page), None);
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
