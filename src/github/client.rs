//! The real GitHub client: [`crate::github::GitHub`] over octocrab.
//!
//! octocrab's typed handlers and models make every call, and its `Page<T>` follows GitHub's
//! `Link` headers (verbatim: GitHub points `rel="next"` at `/repositories/{id}/…`). It is
//! built without its default client, auth or retry (`OctocrabBuilder::new_empty`) over our
//! own tower stack (`transport`): a layer that addresses each request to the API and stamps
//! GitHub's headers on it exactly once (`Authorization: Bearer …`, marked sensitive;
//! `Accept: application/vnd.github+json`; `X-GitHub-Api-Version: 2022-11-28`;
//! `User-Agent: milestone-sync/<version>`), our policy layer (`policy`: counts, rate limits,
//! write pacing, retries, timeouts) and hyper with rustls.
//!
//! Our policy is ours because octocrab's defaults decide differently: its retry re-sends a
//! POST at once (a create whose answer was lost would become a duplicate), its default client
//! adds a second `User-Agent`, and its access-token auth leaves the token off absolute `Link`
//! URLs on GitHub Enterprise Server.
//!
//! What needs an endpoint's meaning stays here, at the call sites: which refusal means what
//! (`errors`: 422 `already_exists`, "not a fast forward", branch protection, a missing
//! permission), and the checks after a lost answer (a retried DELETE that finds nothing, a
//! retried ref update that finds its own commit, a retried ref create that finds its branch).
//! Two calls are raw (`_patch`), each saying why: clearing a milestone's `due_on` with
//! `null`, and updating an issue comment (octocrab's `update_comment` sends POST).
//!
//! Beside this file: `endpoint` (the endpoints, their call counts and permissions), `url`
//! (the API base, encoding), `transport` (hyper and the origin layer), `policy`, `errors`
//! (refusals → [`GitHubError`]), `wire` (octocrab's models → ours) and `retry`.

mod endpoint;
mod errors;
pub mod graphql;
mod policy;
mod retry;
mod transport;
mod url;
mod wire;

pub use retry::RetryPolicy;

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use octocrab::Octocrab;
use octocrab::params::repos::Reference;

use crate::github::{
    CommitParts, Comparison, GitHub, GitHubError, IssueComment, NewPullRequest, PullRequestInfo, RateLimit, TreeFile,
    Waits,
};
use crate::milestone::{Milestone, MilestonePatch, NewMilestone};

use endpoint::Endpoint;
use errors::{ErrorContext, from_octocrab};
use policy::{Policy, PolicyLayer, Shared, counting_attempts, lock};
use transport::{MAX_PAGES, OriginLayer, Stamp};
use url::{ApiBase, encode_component, encode_path};
use wire::{decode_content, due_on, patch_body, state_param};

/// The least time between the starts of two mutations unless configured: GitHub's
/// secondary limits allow "generally no more than 80 content-generating requests per minute"
/// (REST best practices), one every 750 ms.
pub const DEFAULT_WRITE_DELAY: Duration = Duration::from_millis(750);

/// The real client. Create it inside a Tokio runtime and use it on that runtime (hyper spawns
/// each connection's task on it, octocrab its buffer's worker).
pub struct Client {
    octocrab: Octocrab,
    http: transport::Http,
    origin: OriginLayer,
    policy: Arc<Policy>,
    owner: String,
    repo: String,
    /// GitHub's GraphQL endpoint, on the API's origin (see [`ApiBase::graphql`]).
    graphql_url: String,
    /// `GET /repos/{o}/{r}` once answered: its default branch and whether it is a fork (a
    /// `schedule` payload tells neither, and a run may need both).
    repository: Mutex<Option<(String, bool)>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.origin.base)
            .field("owner", &self.owner)
            .field("repo", &self.repo)
            .field("retry", &self.policy.retry)
            .field("write_delay", &self.policy.write_delay)
            .finish_non_exhaustive()
    }
}

/// octocrab over our stack: see the module documentation.
fn assemble(http: &transport::Http, origin: &OriginLayer, policy: &Arc<Policy>) -> Octocrab {
    let built = octocrab::OctocrabBuilder::new_empty()
        // The policy takes octocrab's requests and hands hyper its own: it is the service
        // octocrab's builder starts from, the origin layer goes on top.
        .with_service(tower::Layer::layer(&PolicyLayer(policy.clone()), http.clone()))
        .with_layer(origin)
        .with_auth(octocrab::AuthState::None)
        .build();
    match built {
        Ok(octocrab) => octocrab,
        Err(never) => match never {},
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
        let origin = OriginLayer { stamp: Stamp::new(token)?, base };
        let http = transport::http_client()?;
        let policy = Arc::new(Policy::new(
            RetryPolicy::default(),
            DEFAULT_WRITE_DELAY,
            origin.base.prefix.clone(),
            Default::default(),
        ));
        Ok(Client {
            octocrab: assemble(&http, &origin, &policy),
            graphql_url: origin.base.graphql(),
            http,
            origin,
            policy,
            owner: owner.to_string(),
            repo: repo.to_string(),
            repository: Mutex::new(None),
        })
    }

    /// The client with another policy (sharing what it shared), octocrab rebuilt over it.
    fn with_policy(mut self, change: impl FnOnce(&mut RetryPolicy, &mut Duration, &mut Arc<Shared>)) -> Client {
        let mut retry = self.policy.retry.clone();
        let mut write_delay = self.policy.write_delay;
        let mut shared = self.policy.shared.clone();
        change(&mut retry, &mut write_delay, &mut shared);
        self.policy = Arc::new(Policy::new(retry, write_delay, self.origin.base.prefix.clone(), shared));
        self.octocrab = assemble(&self.http, &self.origin, &self.policy);
        self
    }

    /// Sends GraphQL requests to `url` (`GITHUB_GRAPHQL_URL`) instead of the one the API URL
    /// implies. It must be on the API's origin, since the token goes with it: otherwise the
    /// client comes back unchanged, with why.
    #[allow(clippy::result_large_err)]
    pub fn with_graphql_url(mut self, url: &str) -> Result<Client, (Client, String)> {
        match self.origin.base.follow(url) {
            Ok(_) => {
                self.graphql_url = url.to_string();
                Ok(self)
            }
            Err(e) => Err((self, format!("GITHUB_GRAPHQL_URL {url:?} is not on the API's origin ({e})"))),
        }
    }

    /// Replaces the retry policy (tests use a tiny `base_delay`).
    pub fn with_retry_policy(self, retry: RetryPolicy) -> Client {
        self.with_policy(|policy, _, _| *policy = retry)
    }

    /// Sets the least time between the starts of two mutations (default
    /// [`DEFAULT_WRITE_DELAY`]; zero for none).
    pub fn with_write_delay(self, delay: Duration) -> Client {
        self.with_policy(|_, write_delay, _| *write_delay = delay)
    }

    /// Counts its requests (and retries and waits) with `other`'s, and takes its turn to write
    /// with it: the client of another repository in the same run.
    pub fn counting_with(self, other: &Client) -> Client {
        let theirs = other.policy.shared.clone();
        self.with_policy(|_, _, shared| *shared = theirs)
    }

    /// How many requests were sent again (after a failure or a rate-limit wait).
    pub fn retries(&self) -> u64 {
        self.policy.shared.retries.load(Ordering::Relaxed)
    }

    /// The HTTP requests sent so far (retries and pages included), per endpoint, in a fixed
    /// order, endpoints never called left out: e.g. `("GET /repos/{o}/{r}/milestones", 3)`.
    pub fn call_counts(&self) -> Vec<(String, u64)> {
        Endpoint::ALL
            .iter()
            .map(|e| (e.template().to_string(), self.policy.shared.counts[e.index()].load(Ordering::Relaxed)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// `/repos/{owner}/{repo}` followed by `rest` (which starts with `/` or is empty): the
    /// route octocrab is given for a raw call.
    fn repo_path(&self, rest: &str) -> String {
        format!("/repos/{}/{}{rest}", encode_component(&self.owner), encode_component(&self.repo))
    }

    /// The path an error names: the route under the API's prefix.
    fn shown(&self, rest: &str) -> String {
        format!("{}{}", self.origin.base.prefix, self.repo_path(rest))
    }

    fn issues(&self) -> octocrab::issues::IssueHandler<'_> {
        self.octocrab.issues(encode_component(&self.owner), encode_component(&self.repo))
    }

    fn repos(&self) -> octocrab::repos::RepoHandler<'_> {
        self.octocrab.repos(encode_component(&self.owner), encode_component(&self.repo))
    }

    fn pulls(&self) -> octocrab::pulls::PullRequestHandler<'_> {
        self.octocrab.pulls(encode_component(&self.owner), encode_component(&self.repo))
    }

    /// Runs one octocrab call to `endpoint` (at `rest` below the repository, for errors),
    /// mapping its error with `context`.
    async fn call<T>(
        &self,
        endpoint: Endpoint,
        rest: &str,
        context: &ErrorContext,
        call: impl Future<Output = octocrab::Result<T>>,
    ) -> Result<T, GitHubError> {
        call.await.map_err(|e| from_octocrab(e, endpoint, &self.shown(rest), context))
    }

    /// [`Client::call`], also saying how many attempts the request took: the lost-answer
    /// checks need it.
    async fn call_counting<T>(
        &self,
        endpoint: Endpoint,
        rest: &str,
        context: &ErrorContext,
        call: impl Future<Output = octocrab::Result<T>>,
    ) -> (Result<T, GitHubError>, u32) {
        let (result, attempts) = counting_attempts(call).await;
        (result.map_err(|e| from_octocrab(e, endpoint, &self.shown(rest), context)), attempts)
    }

    /// A raw call's answer, parsed (or its refusal mapped).
    async fn raw<T: serde::de::DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        rest: &str,
        context: &ErrorContext,
        answer: octocrab::Result<http::Response<http_body_util::combinators::BoxBody<bytes::Bytes, octocrab::Error>>>,
    ) -> Result<T, GitHubError> {
        let parse = async {
            let answer = octocrab::map_github_error(answer?).await?;
            <T as octocrab::FromResponse>::from_response(answer).await
        };
        self.call(endpoint, rest, context, parse).await
    }

    /// Every page of a list, from its first page on, each item made ours by `convert` as its
    /// page arrives (octocrab's models are several times the size of ours: a list of
    /// thousands is never held as theirs); `Ok(None)` when the first page's `Link` header
    /// says the list has more than `max_pages` pages.
    async fn pages<T: serde::de::DeserializeOwned, U>(
        &self,
        endpoint: Endpoint,
        rest: &str,
        what: &str,
        max_pages: usize,
        first: impl Future<Output = octocrab::Result<octocrab::Page<T>>>,
        convert: impl Fn(T) -> Result<U, GitHubError>,
    ) -> Result<Option<Vec<U>>, GitHubError> {
        let context = ErrorContext::default();
        let mut page = self.call(endpoint, rest, &context, first).await?;
        if page.number_of_pages().is_some_and(|last| last as usize > max_pages) {
            return Ok(None);
        }
        let mut items = Vec::new();
        for item in page.take_items() {
            items.push(convert(item)?);
        }
        for _ in 1..max_pages.min(MAX_PAGES) {
            let Some(next) = page.next.take() else { return Ok(Some(items)) };
            page = match self.call(endpoint, rest, &context, self.octocrab.get_page::<T>(&Some(next))).await? {
                Some(page) => page,
                None => return Ok(Some(items)),
            };
            for item in page.take_items() {
                items.push(convert(item)?);
            }
        }
        if page.next.is_none() {
            return Ok(Some(items));
        }
        if max_pages >= MAX_PAGES {
            return Err(GitHubError::Transport {
                method: "GET".into(),
                path: self.shown(rest),
                message: format!("more than {MAX_PAGES} pages of {what}; the Link header may loop"),
            });
        }
        Ok(None)
    }

    /// Every page of a list.
    async fn all_pages<T: serde::de::DeserializeOwned, U>(
        &self,
        endpoint: Endpoint,
        rest: &str,
        what: &str,
        first: impl Future<Output = octocrab::Result<octocrab::Page<T>>>,
        convert: impl Fn(T) -> Result<U, GitHubError>,
    ) -> Result<Vec<U>, GitHubError> {
        self.pages(endpoint, rest, what, MAX_PAGES, first, convert).await?.ok_or_else(|| GitHubError::Transport {
            method: "GET".into(),
            path: self.shown(rest),
            message: format!("more than {MAX_PAGES} pages of {what}; the Link header may loop"),
        })
    }

    /// The repository's default branch and whether it is a fork: one `GET /repos/{o}/{r}` per
    /// client, kept.
    async fn repository(&self) -> Result<(String, bool), GitHubError> {
        if let Some(known) = lock(&self.repository).clone() {
            return Ok(known);
        }
        let repo = self.call(Endpoint::Repo, "", &ErrorContext::default(), self.repos().get()).await?;
        let Some(default_branch) = repo.default_branch else {
            return Err(GitHubError::Transport {
                method: "GET".into(),
                path: self.shown(""),
                message: "unexpected answer body: no default_branch".into(),
            });
        };
        let known = (default_branch, repo.fork.unwrap_or(false));
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
        self.list_milestones_within(MAX_PAGES).await?.ok_or_else(|| GitHubError::Transport {
            method: "GET".into(),
            path: self.shown("/milestones"),
            message: format!("more than {MAX_PAGES} pages of milestones; the Link header may loop"),
        })
    }

    async fn list_milestones_within(&self, max_pages: usize) -> Result<Option<Vec<Milestone>>, GitHubError> {
        let issues = self.issues();
        let first = issues.milestones().list().state(octocrab::params::State::All).per_page(100u8).send();
        self.pages(Endpoint::ListMilestones, "/milestones", "milestones", max_pages, first, wire::milestone).await
    }

    async fn get_milestone(&self, number: u64) -> Result<Option<Milestone>, GitHubError> {
        let rest = format!("/milestones/{number}");
        let issues = self.issues();
        let milestones = issues.milestones();
        let call = milestones.get(number as i64);
        match self.call(Endpoint::GetMilestone, &rest, &ErrorContext::default(), call).await {
            Ok(milestone) => wire::milestone(milestone).map(Some),
            Err(GitHubError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn create_milestone(&self, new: &NewMilestone) -> Result<Milestone, GitHubError> {
        let context = ErrorContext { already_exists_title: Some(new.title.clone()), ..Default::default() };
        let issues = self.issues();
        let mut create = issues
            .milestones()
            .create(new.title.as_str())
            .description(new.description.as_str())
            .state(state_param(new.state));
        if let Some(date) = new.due_on {
            create = create.due_on(due_on(date));
        }
        let milestone = self.call(Endpoint::CreateMilestone, "/milestones", &context, create.send()).await?;
        wire::milestone(milestone)
    }

    async fn update_milestone(&self, number: u64, patch: &MilestonePatch) -> Result<Milestone, GitHubError> {
        let rest = format!("/milestones/{number}");
        let context = ErrorContext { already_exists_title: patch.title.clone(), ..Default::default() };
        let milestone: octocrab::models::Milestone = if patch.due_on == Some(None) {
            // Raw: clearing a date is `"due_on": null`, which the typed builder (an
            // `Option<DateTime>` skipped when `None`) cannot send.
            let answer = self.octocrab._patch(self.repo_path(&rest), Some(&patch_body(patch))).await;
            self.raw(Endpoint::UpdateMilestone, &rest, &context, answer).await?
        } else {
            let issues = self.issues();
            let mut update = issues.milestones().update(number as i64);
            if let Some(title) = &patch.title {
                update = update.title(title.as_str());
            }
            if let Some(description) = &patch.description {
                update = update.description(description.as_str());
            }
            if let Some(state) = patch.state {
                update = update.state(state_param(state));
            }
            if let Some(Some(date)) = patch.due_on {
                update = update.due_on(due_on(date));
            }
            self.call(Endpoint::UpdateMilestone, &rest, &context, update.send()).await?
        };
        wire::milestone(milestone)
    }

    async fn delete_milestone(&self, number: u64) -> Result<(), GitHubError> {
        let rest = format!("/milestones/{number}");
        let issues = self.issues();
        let milestones = issues.milestones();
        let delete = milestones.delete(number as i64);
        match self.call_counting(Endpoint::DeleteMilestone, &rest, &ErrorContext::default(), delete).await {
            // A retried DELETE whose first attempt went through (answer lost) finds nothing left.
            (Err(GitHubError::NotFound { .. }), attempts) if attempts > 1 => Ok(()),
            (result, _) => result,
        }
    }

    async fn branch_head(&self, branch: &str) -> Result<String, GitHubError> {
        let reference = Reference::Branch(encode_path(branch));
        let rest = format!("/git/ref/{}", reference.ref_url());
        let found =
            self.call(Endpoint::BranchHead, &rest, &ErrorContext::default(), self.repos().get_ref(&reference)).await?;
        Ok(wire::ref_sha(found.object))
    }

    async fn commit_parts(&self, commit: &str) -> Result<CommitParts, GitHubError> {
        let sha = encode_component(commit);
        let rest = format!("/git/commits/{sha}");
        let commit = self
            .call(Endpoint::GetCommit, &rest, &ErrorContext::default(), self.repos().get_commit(sha.as_str()))
            .await?;
        Ok(CommitParts {
            tree: commit.tree.sha,
            parents: commit.parents.into_iter().filter_map(|p| p.sha).collect(),
            message: commit.message,
        })
    }

    async fn file_at(&self, commit: &str, path: &str) -> Result<Option<Vec<u8>>, GitHubError> {
        let encoded = encode_path(path.trim_start_matches('/'));
        let rest = format!("/contents/{encoded}");
        let repos = self.repos();
        let get = repos.get_content().path(encoded.as_str()).r#ref(commit).send();
        let mut contents = match self.call(Endpoint::Contents, &rest, &ErrorContext::default(), get).await {
            Ok(contents) => contents,
            Err(GitHubError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let unreadable =
            |message: String| GitHubError::Transport { method: "GET".into(), path: self.shown(&rest), message };
        let mut items = contents.take_items();
        let (encoding, content) = match items.len() {
            1 => {
                let item = items.remove(0);
                (item.encoding, item.content)
            }
            n => return Err(unreadable(format!("{path} is a directory ({n} entries), not a file"))),
        };
        match (encoding.as_deref(), content) {
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
        let (base, head) = (encode_component(base), encode_component(head));
        let rest = format!("/compare/{base}...{head}");
        let repos = self.repos();
        let compare = repos.compare_commits(base.as_str(), head.as_str()).send();
        let comparison = self.call(Endpoint::Compare, &rest, &ErrorContext::default(), compare).await?;
        Ok(wire::comparison(comparison))
    }

    async fn last_change(&self, branch: &str, path: &str) -> Result<Option<DateTime<Utc>>, GitHubError> {
        let repos = self.repos();
        let list = repos.list_commits().sha(branch).path(path).per_page(1u8).send();
        let mut page = self.call(Endpoint::ListCommits, "/commits", &ErrorContext::default(), list).await?;
        Ok(page.take_items().into_iter().next().and_then(|c| c.commit.committer).and_then(|who| who.date))
    }

    async fn create_tree(&self, base_tree: &str, files: &[TreeFile]) -> Result<String, GitHubError> {
        let entries = files
            .iter()
            .map(|f| {
                octocrab::models::git::CreateTreeEntry::new(f.path.as_str(), "100644", "blob")
                    .with_content(f.content.as_str())
            })
            .collect();
        let repos = self.repos();
        let create = repos.create_tree(entries).base_tree(base_tree).send();
        let tree = self.call(Endpoint::CreateTree, "/git/trees", &ErrorContext::default(), create).await?;
        Ok(tree.sha)
    }

    async fn create_commit(&self, message: &str, tree: &str, parent: &str) -> Result<String, GitHubError> {
        // No author or committer: GitHub then uses the token's identity, and commits made
        // with an Actions or App token come out Verified.
        let repos = self.repos();
        let create = repos.create_git_commit_object(message, tree).parents(vec![parent.to_string()]);
        let commit = self.call(Endpoint::CreateCommit, "/git/commits", &ErrorContext::default(), create.send()).await?;
        Ok(commit.sha)
    }

    async fn update_branch(&self, branch: &str, commit: &str) -> Result<(), GitHubError> {
        let reference = Reference::Branch(encode_path(branch));
        let rest = format!("/git/refs/{}", reference.ref_url());
        let context = ErrorContext { ref_branch: Some(branch.to_string()), ..Default::default() };
        let repos = self.repos();
        let update = repos.update_ref(&reference, commit).force(false).send();
        match self.call_counting(Endpoint::UpdateRef, &rest, &context, update).await {
            // A retry after a lost answer may find the branch already moved to our commit.
            (Err(GitHubError::NotFastForward), attempts) if attempts > 1 => {
                if self.branch_head(branch).await? == commit { Ok(()) } else { Err(GitHubError::NotFastForward) }
            }
            (result, _) => result.map(drop),
        }
    }

    async fn commit_on_branch(
        &self,
        branch: &str,
        expected_head: &str,
        message: &str,
        files: &[TreeFile],
    ) -> Result<String, GitHubError> {
        // Raw: octocrab's `graphql` posts to `/graphql` under the REST base, which on GitHub
        // Enterprise Server is `/api/v3/graphql`; GraphQL lives at `/api/graphql` there.
        let repository = format!("{}/{}", self.owner, self.repo);
        let body = graphql::commit_request(&repository, branch, expected_head, message, files);
        let path = transport::path_of(&self.graphql_url);
        let answer = async {
            let answer =
                octocrab::map_github_error(self.octocrab._post(self.graphql_url.as_str(), Some(&body)).await?).await?;
            <serde_json::Value as octocrab::FromResponse>::from_response(answer).await
        };
        let answer = match answer.await {
            Ok(answer) => answer,
            // No GraphQL where the API URL says (a GitHub Enterprise Server without it).
            Err(octocrab::Error::GitHub { source, .. }) if source.status_code == http::StatusCode::NOT_FOUND => {
                return Err(GitHubError::Unsupported { message: format!("POST {path} answered 404") });
            }
            Err(e) => {
                let context = ErrorContext { ref_branch: Some(branch.to_string()), ..Default::default() };
                return Err(from_octocrab(e, Endpoint::Graphql, &path, &context));
            }
        };
        graphql::commit_answer(&answer, branch, &path)
    }

    fn rate_limit(&self) -> Option<RateLimit> {
        self.policy.rate()
    }

    fn waits(&self) -> Waits {
        self.policy.waits()
    }

    async fn find_branch(&self, branch: &str) -> Result<Option<String>, GitHubError> {
        match self.branch_head(branch).await {
            Ok(sha) => Ok(Some(sha)),
            Err(GitHubError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn create_branch(&self, branch: &str, commit: &str) -> Result<(), GitHubError> {
        let reference = Reference::Branch(encode_path(branch));
        let context = ErrorContext { ref_branch: Some(branch.to_string()), ..Default::default() };
        let repos = self.repos();
        let create = repos.create_ref(&reference, commit);
        let (result, attempts) = self.call_counting(Endpoint::CreateRef, "/git/refs", &context, create).await;
        let exists = |e: &GitHubError| matches!(e, GitHubError::Http { status: 422, message, .. } if message.contains("already exists"));
        match result {
            Ok(_) => Ok(()),
            // A retry after a lost answer may find the branch made by the first attempt.
            Err(e) if exists(&e) && attempts > 1 && self.find_branch(branch).await?.as_deref() == Some(commit) => {
                Ok(())
            }
            Err(e) if exists(&e) => Err(GitHubError::BranchExists { branch: branch.to_string() }),
            Err(e) => Err(e),
        }
    }

    async fn force_branch(&self, branch: &str, commit: &str) -> Result<(), GitHubError> {
        let reference = Reference::Branch(encode_path(branch));
        let rest = format!("/git/refs/{}", reference.ref_url());
        let context = ErrorContext { ref_branch: Some(branch.to_string()), ..Default::default() };
        let repos = self.repos();
        let update = repos.update_ref(&reference, commit).force(true).send();
        self.call(Endpoint::UpdateRef, &rest, &context, update).await.map(drop)
    }

    async fn open_pull_request(&self, head: &str, base: &str) -> Result<Option<PullRequestInfo>, GitHubError> {
        let pulls = self.pulls();
        let list = pulls
            .list()
            .head(format!("{}:{head}", self.owner))
            .base(base)
            .state(octocrab::params::State::Open)
            .per_page(10u8)
            .send();
        let mut page = self.call(Endpoint::ListPulls, "/pulls", &ErrorContext::default(), list).await?;
        // The oldest, should two have been opened at once.
        Ok(page.take_items().into_iter().min_by_key(|p| p.number).map(wire::pull_request))
    }

    async fn create_pull_request(&self, new: &NewPullRequest) -> Result<PullRequestInfo, GitHubError> {
        let pulls = self.pulls();
        let create = pulls.create(new.title.as_str(), new.head.as_str(), new.base.as_str()).body(new.body.as_str());
        let pull = self.call(Endpoint::CreatePull, "/pulls", &ErrorContext::default(), create.send()).await?;
        Ok(wire::pull_request(pull))
    }

    async fn update_pull_request(&self, number: u64, title: &str, body: &str) -> Result<PullRequestInfo, GitHubError> {
        let rest = format!("/pulls/{number}");
        let pulls = self.pulls();
        let update = pulls.update(number).title(title).body(body).send();
        let pull = self.call(Endpoint::UpdatePull, &rest, &ErrorContext::default(), update).await?;
        Ok(wire::pull_request(pull))
    }

    async fn list_issue_comments(&self, issue: u64) -> Result<Vec<IssueComment>, GitHubError> {
        let rest = format!("/issues/{issue}/comments");
        let issues = self.issues();
        let first = issues.list_comments(issue).per_page(100u8).send();
        self.all_pages(Endpoint::ListIssueComments, &rest, "issue comments", first, |c| Ok(wire::issue_comment(c)))
            .await
    }

    async fn create_issue_comment(&self, issue: u64, body: &str) -> Result<IssueComment, GitHubError> {
        let rest = format!("/issues/{issue}/comments");
        let issues = self.issues();
        let create = issues.create_comment(issue, body);
        let comment = self.call(Endpoint::CreateIssueComment, &rest, &ErrorContext::default(), create).await?;
        Ok(wire::issue_comment(comment))
    }

    async fn update_issue_comment(&self, id: u64, body: &str) -> Result<IssueComment, GitHubError> {
        let rest = format!("/issues/comments/{id}");
        // Raw: octocrab's `update_comment` sends POST; GitHub documents PATCH for this endpoint.
        let answer = self.octocrab._patch(self.repo_path(&rest), Some(&serde_json::json!({"body": body}))).await;
        let comment: octocrab::models::issues::Comment =
            self.raw(Endpoint::UpdateIssueComment, &rest, &ErrorContext::default(), answer).await?;
        Ok(wire::issue_comment(comment))
    }
}

#[cfg(test)]
mod tests {
    use super::errors::map_error;
    use super::wire::decode_content;
    use super::*;
    use crate::due_date;
    use crate::github::Permission;
    use crate::milestone::MilestoneState;
    use chrono::NaiveDate;
    use http::Method;
    use http::StatusCode;
    use http::header::AUTHORIZATION;
    use serde_json::json;

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

    #[tokio::test]
    async fn bodies_send_dates_at_noon_and_null_to_clear() {
        let date = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        // The typed builders, as octocrab serialises them.
        let client = Client::new("https://api.github.com", "t", "o", "r").unwrap();
        let issues = client.issues();
        let milestones = issues.milestones();
        let create =
            milestones.create("t").description("d").state(wire::state_param(MilestoneState::Open)).due_on(due_on(date));
        assert_eq!(
            serde_json::to_value(&create).unwrap(),
            json!({"title": "t", "description": "d", "state": "open", "due_on": "2026-03-01T12:00:00Z"})
        );
        let undated = milestones.create("t").description("d");
        assert!(serde_json::to_value(&undated).unwrap().get("due_on").is_none());
        let close = milestones.update(3).state(wire::state_param(MilestoneState::Closed)).due_on(due_on(date));
        assert_eq!(serde_json::to_value(&close).unwrap(), json!({"state": "closed", "due_on": "2026-03-01T12:00:00Z"}));

        // The raw body, sent only to clear a date.
        let clear = MilestonePatch { due_on: Some(None), ..Default::default() };
        assert_eq!(patch_body(&clear), json!({"due_on": null}));
        let close =
            MilestonePatch { state: Some(MilestoneState::Closed), due_on: Some(Some(date)), ..Default::default() };
        assert_eq!(patch_body(&close), json!({"state": "closed", "due_on": "2026-03-01T12:00:00Z"}));
        assert_eq!(patch_body(&MilestonePatch::default()), json!({}));
    }

    #[test]
    fn milestones_parse_from_githubs_answer() {
        // GitHub's documented example (OpenAPI, GET milestones/{milestone_number}), closed
        // and with the date cleared; and one with a date and no description.
        let body = r#"{"url":"https://api.github.com/repos/octocat/Hello-World/milestones/1",
            "html_url":"https://github.com/octocat/Hello-World/milestones/v1.0",
            "labels_url":"https://api.github.com/repos/octocat/Hello-World/milestones/1/labels",
            "id":1002604,"node_id":"MDk6TWlsZXN0b25lMTAwMjYwNA==","number":1,"state":"closed",
            "title":"v1.0","description":null,"creator":null,"open_issues":4,"closed_issues":8,
            "created_at":"2011-04-10T20:09:31Z","updated_at":"2014-03-03T18:58:10Z",
            "closed_at":"2013-02-12T13:22:01Z","due_on":null,"extra":{"x":1}}"#;
        let m = wire::milestone(serde_json::from_str(body).unwrap()).unwrap();
        assert_eq!((m.number, m.state, m.open_issues, m.closed_issues), (1, MilestoneState::Closed, 4, 8));
        assert_eq!(m.description, None);
        assert_eq!(m.due_on, None);
        let dated = body
            .replace(r#""due_on":null"#, r#""due_on":"2019-05-23T07:00:00Z""#)
            .replace(r#""state":"closed""#, r#""state":"open""#);
        let m = wire::milestone(serde_json::from_str(&dated).unwrap()).unwrap();
        assert_eq!(due_date::from_github(m.due_on.unwrap()), NaiveDate::from_ymd_opt(2019, 5, 23).unwrap());
        assert_eq!(m.state, MilestoneState::Open);
        let odd = body.replace(r#""state":"closed""#, r#""state":"archived""#);
        assert!(matches!(wire::milestone(serde_json::from_str(&odd).unwrap()), Err(GitHubError::Transport { .. })));
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

    #[test]
    fn every_request_is_counted_under_its_endpoint() {
        // Each template with its placeholders filled in is found again by method and path.
        for e in Endpoint::ALL {
            let (method, template) = e.template().split_once(' ').unwrap();
            let path = template
                .replace("{o}", "octo-org")
                .replace("{r}", "planning")
                .replace("{n}", "7")
                .replace("{id}", "99")
                .replace("{sha}", "abc123")
                .replace("{branch}", "milestone-sync/main")
                .replace("{path}", ".ruru/projects/p/epics/EPIC-001.md")
                .replace("{basehead}", "abc...def");
            let method: Method = method.parse().unwrap();
            assert_eq!(Endpoint::of(&method, &path), Some(e), "{method} {path}");
        }
        // Where GitHub's Link headers point: the same endpoints by repository id.
        assert_eq!(Endpoint::of(&Method::GET, "/repositories/42/milestones"), Some(Endpoint::ListMilestones));
        assert_eq!(Endpoint::of(&Method::GET, "/repositories/42/issues/3/comments"), Some(Endpoint::ListIssueComments));
        assert_eq!(Endpoint::of(&Method::PUT, "/repos/o/r/milestones/1"), None);
        assert_eq!(Endpoint::of(&Method::GET, "/user"), None);
    }

    #[tokio::test]
    async fn debug_never_shows_the_token() {
        let client = Client::new("https://api.github.com", "ghs_secret123", "o", "r").unwrap();
        assert!(!format!("{client:?}").contains("ghs_secret123"));
        // The request as the origin layer stamps it: Authorization is there, and redacted in
        // every debug form.
        let mut request = http::Request::post("/repos/o/r/milestones").body(()).unwrap();
        client.origin.stamp.apply(&client.origin.base, &mut request).unwrap();
        assert_eq!(request.uri(), "https://api.github.com/repos/o/r/milestones");
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

    #[tokio::test]
    async fn the_origin_layer_sets_each_header_once_and_keeps_the_token_home() {
        let client = Client::new("https://ghe.example/api/v3/", "ghs_secret123", "o", "r").unwrap();
        let (base, stamp) = (&client.origin.base, &client.origin.stamp);
        // octocrab's own X-GitHub-Api-Version and a stray User-Agent are replaced, not doubled.
        let mut request = http::Request::get("/repos/o/r")
            .header("x-github-api-version", "2022-11-28")
            .header("user-agent", "octocrab")
            .body(())
            .unwrap();
        stamp.apply(base, &mut request).unwrap();
        assert_eq!(request.uri(), "https://ghe.example/api/v3/repos/o/r");
        for name in ["authorization", "accept", "x-github-api-version", "user-agent"] {
            assert_eq!(request.headers().get_all(name).iter().count(), 1, "{name}");
        }
        assert!(request.headers()["user-agent"].to_str().unwrap().starts_with("milestone-sync/"));
        // A Link target on the same origin is followed verbatim; any other is refused.
        let next = "https://ghe.example/api/v3/repositories/7/milestones?state=all&per_page=100&page=2";
        let mut request = http::Request::get(next).body(()).unwrap();
        stamp.apply(base, &mut request).unwrap();
        assert_eq!(request.uri(), next);
        let mut away = http::Request::get("https://evil.example/steal").body(()).unwrap();
        assert!(stamp.apply(base, &mut away).unwrap_err().contains("not following it with the token"));
        assert!(away.headers().get(AUTHORIZATION).is_none());
    }
}
