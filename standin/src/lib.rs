//! A stateful stand-in for GitHub's REST API (milestones, the git database and issue
//! comments), for tests. One server hosts one or several repositories, each with its own
//! state, as GitHub does.
//!
//! milestone-sync's integration tests run the real binary against this server instead of
//! api.github.com. The value of a stand-in lies in being *faithful* where GitHub's behaviour
//! decides correctness (the facts and their sources: docs/facts.md in the repository): Pacific
//! flooring of `due_on`, unique titles, `state=open` by default, `Link` pagination through
//! `/repositories/{id}` URLs, fast-forward-only ref updates, full JSON bodies that strict
//! clients (octocrab) accept. The git database is backed by a real bare repository, so what
//! the product commits can be checked with plain `git`.
//!
//! Tests drive it through [`StandIn`], the server, and [`Repository`], one repository it
//! hosts: seed and inspect milestones, read the request log, queue [`Fault`]s, switch on
//! random failures ([`Chaos`]), a small primary rate limit or a protected branch, hold an
//! answer back while the client is killed ([`Repository::hold_after_write`]), and simulate a
//! concurrent push with [`Repository::move_branch_when`]. A `StandIn` dereferences to its
//! primary repository (the one [`StandIn::start`] was given), so `standin.milestones()` is
//! that repository's.
//!
//! # Several repositories
//!
//! [`StandIn::add_repository`] hosts another repository on the same server, with its own
//! milestones, git database, pulls, comments, faults, rate limit, request log and repository
//! id. Each request goes to the repository its path names (`/repos/{owner}/{repo}/…`, case
//! insensitive, or `/repositories/{id}/…`) and is handled under that repository's lock only.
//! Tokens are per repository ([`Config::token`], [`Repository::allow_token`]), as a GitHub
//! App installation token or a fine-grained PAT is:
//!
//! - a token no hosted repository accepts gets 401 "Bad credentials";
//! - a token accepted elsewhere but not by the repository addressed gets 404 `{"message":
//!   "Not Found", "documentation_url": "https://docs.github.com/rest/…", "status": "404"}`
//!   (the documentation of the operation asked for), as GitHub answers about a repository
//!   the token cannot see; so does a repository the server does not host.
//!
//! Where requests are logged: in the log of the repository the path names when it is hosted
//! (whatever the answer: 401 and 404 for the token included); otherwise (another path, or a
//! repository not hosted) in the primary repository's log, as before there were several.
//! A 401 or a 404 for the token is neither counted against that repository's rate limit nor
//! given to its queued faults.

mod comments;
mod commits;
mod compare;
mod faults;
mod git;
mod git_api;
mod graphql;
mod milestones;
mod pacific;
mod pagination;
mod pulls;
mod reply;
mod repository;
mod server;
mod state;
pub mod tls;

pub use pulls::PullRecord;

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};

pub use faults::{Chaos, Fault, Protection, SECONDARY_LIMIT_MESSAGE, Trigger};
pub use pacific::floor_due_on;
pub use tls::{TestCa, TlsFiles};

/// A repository the stand-in pretends to host, and who may talk to it.
#[derive(Debug, Clone)]
pub struct Config {
    /// The repository's owner (a user or organisation login).
    pub owner: String,
    /// The repository's name.
    pub repo: String,
    /// The token that reaches the repository (`Authorization: Bearer <token>` or
    /// `token <token>`); [`Repository::allow_token`] lets more in.
    pub token: String,
    /// The default branch, which must exist in `git_dir` for most git endpoints.
    pub default_branch: String,
    /// An existing bare git repository that backs the git database and contents endpoints.
    pub git_dir: PathBuf,
}

/// A milestone as the stand-in stores it; every field is exactly what the API serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MilestoneRecord {
    pub number: u64,
    pub title: String,
    pub description: Option<String>,
    /// `"open"` or `"closed"`.
    pub state: String,
    /// Always a Pacific midnight such as `"2026-05-23T07:00:00Z"`, as GitHub serves it.
    pub due_on: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub closed_at: Option<String>,
    pub html_url: String,
    /// The issues in the milestone, open and closed. The stand-in has no issues: tests set
    /// the counts (GitHub counts them; the sync only reads them, for progress).
    #[serde(default)]
    pub open_issues: u64,
    #[serde(default)]
    pub closed_issues: u64,
}

/// A milestone to put in place before a test runs, as if someone had made it on github.com.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SeedMilestone {
    pub title: String,
    pub description: Option<String>,
    /// `"open"` (the default) or `"closed"`.
    pub state: String,
    /// Any RFC 3339 instant; floored to Pacific midnight like the API does.
    pub due_on: Option<String>,
}

impl Default for SeedMilestone {
    fn default() -> Self {
        SeedMilestone { title: String::new(), description: None, state: "open".to_string(), due_on: None }
    }
}

/// What an issue number holds: GitHub numbers issues and pull requests in one sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IssueKind {
    Issue,
    PullRequest,
}

/// A comment on an issue or pull request, as the stand-in stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentRecord {
    /// Large, as GitHub's are today (beyond `u32::MAX`).
    pub id: u64,
    /// The issue or pull request number.
    pub issue: u64,
    pub body: String,
    /// The author's login; comments made through the API are `github-actions[bot]`'s.
    pub user: String,
    pub created_at: String,
    pub updated_at: String,
    /// `https://github.com/{o}/{r}/pull/{n}#issuecomment-{id}` (or `/issues/…`).
    pub html_url: String,
}

/// One request the stand-in answered, in the order they were answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    pub method: String,
    /// The path as received (still percent-encoded), without the query.
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
    /// Every `User-Agent` line the request carried, in order: HTTP allows one.
    pub user_agents: Vec<String>,
}

/// Handle to a running stand-in. Dropping it stops the server.
///
/// Dereferences to the primary [`Repository`], so every per-repository method works on a
/// `StandIn` directly.
pub struct StandIn {
    hosts: Arc<state::Hosts>,
    primary: Repository,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    /// Connections seen by the HTTPS accept loop (none over plain HTTP).
    tls: Arc<tls::Counters>,
}

/// A handle to one repository the stand-in hosts: its milestones, git database, pull
/// requests, comments, faults, rate limit and request log. Cheap to clone; stays usable (but
/// serves nothing) after the [`StandIn`] is dropped.
#[derive(Clone)]
pub struct Repository {
    shared: Arc<state::Shared>,
}

impl std::fmt::Debug for Repository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repository").field("full_name", &self.full_name()).field("id", &self.shared.repo_id).finish()
    }
}

impl StandIn {
    /// Starts the server on 127.0.0.1 with an OS-chosen port, hosting the repository of
    /// `config` (the primary one).
    pub fn start(config: Config) -> StandIn {
        Self::start_on(config, 0).expect("github-standin: cannot bind 127.0.0.1:0")
    }

    /// Starts the server on 127.0.0.1:`port` (0 lets the OS choose), for the binary.
    pub fn start_on(config: Config, port: u16) -> std::io::Result<StandIn> {
        Self::launch(config, port, None)
    }

    /// Starts the server over HTTPS on 127.0.0.1 with an OS-chosen port, presenting `files`
    /// (a certificate for `localhost`, such as [`tls::test_ca`] makes): [`Repository::api_url`]
    /// is then `https://localhost:PORT`. Everything else is as over [`StandIn::start`]; a
    /// client must trust the CA that signed the certificate (`SSL_CERT_FILE` for
    /// milestone-sync). [`StandIn::tls_connections`] counts the connections it accepts.
    ///
    /// Panics when the certificate or key cannot be read, or the port cannot be bound.
    pub fn start_tls(config: Config, files: TlsFiles) -> StandIn {
        Self::start_tls_on(config, files, 0).unwrap_or_else(|e| panic!("github-standin: cannot serve HTTPS: {e}"))
    }

    /// [`StandIn::start_tls`] on 127.0.0.1:`port` (0 lets the OS choose); an error instead of
    /// a panic.
    pub fn start_tls_on(config: Config, files: TlsFiles, port: u16) -> std::io::Result<StandIn> {
        let server_config = Arc::new(tls::server_config(&files)?);
        Self::launch(config, port, Some(server_config))
    }

    fn launch(config: Config, port: u16, tls: Option<Arc<rustls::ServerConfig>>) -> std::io::Result<StandIn> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
        listener.set_nonblocking(true)?;
        let local = listener.local_addr()?;
        // The certificate names `localhost`: a client checks the name it dialled.
        let api_url = match tls {
            Some(_) => format!("https://localhost:{}", local.port()),
            None => format!("http://{local}"),
        };
        let hosts = Arc::new(state::Hosts::new(api_url));
        let primary = Repository { shared: hosts.add(config) };
        let (tx, rx) = tokio::sync::oneshot::channel();
        let app_state = hosts.clone();
        let counters = Arc::new(tls::Counters::default());
        let loop_counters = counters.clone();
        // Its own runtime on its own thread: the tests that use it are plain synchronous
        // `#[test]`s that block on a subprocess, so the server must not depend on theirs.
        let thread = std::thread::Builder::new().name("github-standin".into()).spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("tokio runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
                let app = server::router(app_state);
                // Not graceful on purpose: a client holding a keep-alive connection must
                // not keep a test from finishing. Dropping the runtime ends them.
                match tls {
                    None => tokio::select! {
                        _ = axum::serve(listener, app) => {}
                        _ = rx => {}
                    },
                    Some(config) => tokio::select! {
                        _ = tls::serve(listener, config, app, loop_counters) => {}
                        _ = rx => {}
                    },
                }
            });
            rt.shutdown_background();
        })?;
        Ok(StandIn { hosts, primary, shutdown: Some(tx), thread: Some(thread), tls: counters })
    }

    /// The TCP connections the HTTPS server has accepted so far, whatever became of them (0
    /// over plain HTTP): a client that retries opens more than one.
    pub fn tls_connections(&self) -> u64 {
        self.tls.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The accepted connections whose TLS handshake failed (the client refused the
    /// certificate, or spoke no TLS): no request was read from them.
    pub fn tls_handshakes_failed(&self) -> u64 {
        self.tls.handshakes_failed.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Hosts another repository on the same server (same [`Repository::api_url`]): its own
    /// milestones, git database (the bare repository at `config.git_dir`, which must exist),
    /// pulls, comments, faults, rate limit, request log and repository id (the primary's
    /// plus the number of repositories hosted before it). `config.token` reaches it.
    ///
    /// Panics if `owner/repo` is already hosted (compared case-insensitively, as GitHub's
    /// names are) or `config.git_dir` is not a directory.
    pub fn add_repository(&self, config: Config) -> Repository {
        assert!(
            config.git_dir.is_dir(),
            "add_repository: {} is not a directory (a bare git repository)",
            config.git_dir.display()
        );
        Repository { shared: self.hosts.add(config) }
    }

    /// The hosted repository `owner/name` (compared case-insensitively). Panics when it is
    /// not hosted.
    pub fn repository(&self, full_name: &str) -> Repository {
        let found = full_name.split_once('/').and_then(|(owner, repo)| self.hosts.by_name(owner, repo));
        Repository { shared: found.unwrap_or_else(|| panic!("github-standin: {full_name} is not hosted")) }
    }

    /// The first repository (the one [`StandIn::start`] was given).
    pub fn primary(&self) -> Repository {
        self.primary.clone()
    }

    /// Every hosted repository, the primary first.
    pub fn repositories(&self) -> Vec<Repository> {
        self.hosts.all().into_iter().map(|shared| Repository { shared }).collect()
    }

    /// Delays every request (to any repository) by `latency` before it is handled (0, the
    /// default, for none), to measure a client against GitHub-like round trips. Takes effect
    /// from the next request.
    pub fn set_latency(&self, latency: std::time::Duration) {
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.hosts.latency_nanos.store(nanos, std::sync::atomic::Ordering::Relaxed);
    }
}

impl std::ops::Deref for StandIn {
    type Target = Repository;

    /// The primary repository.
    fn deref(&self) -> &Repository {
        &self.primary
    }
}

impl Repository {
    /// Base URL of the API, e.g. `http://127.0.0.1:41234` (no trailing slash); the same for
    /// every repository of a server.
    pub fn api_url(&self) -> String {
        self.shared.api_url.clone()
    }

    /// `https://github.com/{owner}/{repo}`: the base of every `html_url` served.
    pub fn html_url(&self) -> String {
        self.shared.html_url()
    }

    /// The numeric repository id used in `/repositories/{id}/…` pagination links.
    pub fn repository_id(&self) -> u64 {
        self.shared.repo_id
    }

    /// `owner/name`, as configured.
    pub fn full_name(&self) -> String {
        self.shared.full_name()
    }

    /// Lets `token` reach this repository too, as a GitHub App installation token made for
    /// several repositories, or a PAT with access to several, does.
    pub fn allow_token(&self, token: &str) {
        self.shared.allow_token(token);
    }

    /// Makes this repository a fork (or not): its repository object (`GET /repos/{o}/{r}`,
    /// and the `repo` of its pull requests' `head` and `base`) then says `"fork": true` and
    /// carries `parent` and `source`: `upstream/{repo}`, which the stand-in does not host.
    pub fn set_fork(&self, fork: bool) {
        self.shared.set_fork(fork);
    }

    /// All milestones, sorted by number.
    pub fn milestones(&self) -> Vec<MilestoneRecord> {
        self.lock().milestones.values().map(|m| m.record.clone()).collect()
    }

    /// All milestones as the JSON array the API would serve (for `--state-file`).
    pub fn milestones_json(&self) -> serde_json::Value {
        let state = self.lock();
        serde_json::Value::Array(state.milestones.values().map(|m| milestones::to_json(&self.shared, m)).collect())
    }

    /// Puts a milestone in place without going through the API (nothing is logged).
    ///
    /// Panics on a title that is already taken: GitHub cannot hold such a pair.
    pub fn seed_milestone(&self, m: SeedMilestone) -> MilestoneRecord {
        let mut state = self.lock();
        milestones::seed(&self.shared, &mut state, m).unwrap_or_else(|e| panic!("seed_milestone: {e}"))
    }

    /// Simulates a person editing the milestone on github.com.
    ///
    /// Afterwards, like GitHub: `updated_at` moves (unless `f` set it), `closed_at` follows a
    /// change of `state` (unless `f` set it) and a changed `due_on` is floored to Pacific
    /// midnight. Panics when the milestone does not exist.
    pub fn edit_milestone(&self, number: u64, f: impl FnOnce(&mut MilestoneRecord)) {
        let mut state = self.lock();
        milestones::edit(&mut state, number, f);
    }

    /// Simulates a person deleting the milestone on github.com. Returns whether it existed.
    pub fn delete_milestone(&self, number: u64) -> bool {
        self.lock().milestones.remove(&number).is_some()
    }

    /// Opens pull request `number`, so that its conversation takes comments (GitHub answers
    /// 404 to comments on a number that is neither an issue nor a pull request).
    pub fn open_pull_request(&self, number: u64) {
        self.lock().issues.insert(number, IssueKind::PullRequest);
    }

    /// The pull requests, by number.
    pub fn pulls(&self) -> Vec<PullRecord> {
        self.lock().pulls.values().cloned().collect()
    }

    /// Simulates a person merging pull request `number` on github.com: a merge commit of its
    /// head into its base, the pull request closed as merged. Returns the merge commit.
    /// Panics when it cannot be merged (not open, or its head does not contain the base).
    pub fn merge_pull_request(&self, number: u64) -> String {
        let mut state = self.lock();
        pulls::merge(&self.shared, &mut state, number).unwrap_or_else(|e| panic!("merge_pull_request: {e}"))
    }

    /// Simulates a person closing pull request `number` unmerged on github.com.
    pub fn close_pull_request(&self, number: u64) {
        let mut state = self.lock();
        let p = state.pulls.get_mut(&number).unwrap_or_else(|| panic!("close_pull_request: no #{number}"));
        p.state = "closed".into();
        p.closed_at = Some(state::format_time(chrono::Utc::now()));
    }

    /// Forbids (or allows again) GitHub Actions to open pull requests, as the repository
    /// setting does: `POST pulls` then answers 403 "GitHub Actions is not permitted to create
    /// or approve pull requests."
    pub fn forbid_pull_requests(&self, forbidden: bool) {
        self.lock().pulls_forbidden = forbidden;
    }

    /// Simulates `login` commenting on issue or pull request `number` on github.com (nothing
    /// is logged). Panics when there is no such issue or pull request.
    pub fn add_comment(&self, number: u64, login: &str, body: &str) -> CommentRecord {
        let mut state = self.lock();
        assert!(state.issues.contains_key(&number), "add_comment: no issue or pull request #{number}");
        comments::insert(&self.shared, &mut state, number, login, body.to_string())
    }

    /// The comments on issue or pull request `number`, oldest first.
    pub fn comments(&self, number: u64) -> Vec<CommentRecord> {
        self.lock().comments.values().filter(|c| c.issue == number).cloned().collect()
    }

    /// Makes the token read-only (or writable again), like the token of a workflow run for a
    /// pull request from a fork: reads go on, every write answers 403 "Resource not
    /// accessible by integration".
    pub fn set_read_only(&self, read_only: bool) {
        self.lock().read_only = read_only;
    }

    /// Every request served, in order, faulted ones included.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.lock().log.clone()
    }

    /// Forgets the requests served so far.
    pub fn clear_requests(&self) {
        self.lock().log.clear();
    }

    /// Only the requests that could change state: POST, PATCH, PUT and DELETE.
    pub fn writes(&self) -> Vec<RequestRecord> {
        self.lock()
            .log
            .iter()
            .filter(|r| matches!(r.method.as_str(), "POST" | "PATCH" | "PUT" | "DELETE"))
            .cloned()
            .collect()
    }

    /// Queues a fault; it fires once, on the first request matching its trigger.
    pub fn fail_next(&self, fault: Fault) {
        self.lock().faults.push(fault);
    }

    /// Switches random failures on (`Some`) or off (`None`); see [`Chaos`].
    pub fn set_chaos(&self, chaos: Option<Chaos>) {
        self.lock().chaos = chaos.map(faults::ChaosState::new);
    }

    /// How many failures [`Chaos`] injected since it was switched on.
    pub fn chaos_injected(&self) -> u64 {
        self.lock().chaos.as_ref().map_or(0, |c| c.injected)
    }

    /// The token's primary rate limit: `limit` requests per `window`, starting a fresh window
    /// now. Once used up, requests are refused with 403 "API rate limit exceeded" and
    /// `x-ratelimit-remaining: 0` until `x-ratelimit-reset`. The default is GitHub's: 5000
    /// an hour.
    pub fn set_rate_limit(&self, limit: u64, window: std::time::Duration) {
        let reset = chrono::Utc::now().timestamp() + i64::try_from(window.as_secs().max(1)).unwrap_or(3600);
        self.lock().rate = state::RateWindow { limit, window, used: 0, reset };
    }

    /// Counts `n` requests as used in the current rate-limit window, as if other runs with the
    /// same token had spent them.
    pub fn use_rate_limit(&self, n: u64) {
        let mut state = self.lock();
        state.rate.used = state.rate.used.saturating_add(n);
    }

    /// Makes the default branch protected (`Some`) or not: ref updates of it are refused with
    /// GitHub's answer for that kind of protection. Commits and trees can still be made.
    pub fn protect_branch(&self, protection: Option<Protection>) {
        self.lock().protection = protection;
    }

    /// Holds back the answer to the `k`-th write that changes state (1 for the first,
    /// counted from now): the change is made, the answer waits until [`Repository::release_hold`].
    /// A test uses the pause to kill the client right after that write.
    pub fn hold_after_write(&self, k: usize) {
        let mut state = self.lock();
        state.writes_done = 0;
        state.hold_after_write = Some(k);
    }

    /// Waits up to `timeout` for an answer to be held back; true when one is.
    pub fn wait_for_hold(&self, timeout: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            if self.shared.held.load(std::sync::atomic::Ordering::SeqCst) {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        false
    }

    /// Lets a held answer go (to a client that may be gone) and stops holding.
    pub fn release_hold(&self) {
        self.lock().hold_after_write = None;
        if self.shared.held.load(std::sync::atomic::Ordering::SeqCst) {
            self.shared.release.notify_one();
        }
    }

    /// Writes that changed state since the last [`Repository::hold_after_write`] (or the start).
    pub fn writes_done(&self) -> usize {
        self.lock().writes_done
    }

    /// Once, when a request matching `trigger` arrives and before it is handled, commits
    /// `files` (path, content) on the default branch: someone pushed during the run.
    pub fn move_branch_when(&self, trigger: Trigger, files: Vec<(String, String)>, message: &str) {
        self.lock().branch_moves.push(state::BranchMove { trigger, files, message: message.to_string() });
    }

    /// Once, when a request matching `trigger` arrives and before it is handled, puts a
    /// milestone in place as [`Repository::seed_milestone`] does: someone made it meanwhile (a
    /// person on github.com, or another run).
    pub fn seed_milestone_when(&self, trigger: Trigger, m: SeedMilestone) {
        self.lock().seeds_when.push((trigger, m));
    }

    /// Commits `files` on the default branch right now, as someone else pushing would.
    /// Returns the new head.
    pub fn push_files(&self, files: Vec<(String, String)>, message: &str) -> String {
        let _state = self.lock();
        self.shared
            .git
            .commit_files(&self.shared.config.default_branch, &files, message)
            .unwrap_or_else(|e| panic!("push_files: {e}"))
    }

    fn lock(&self) -> MutexGuard<'_, state::State> {
        self.shared.lock()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Keeps `Mutex` out of the public signatures while letting modules share the lock helper.
pub(crate) fn lock_ignoring_poison<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
