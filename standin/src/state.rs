//! The state shared between the server thread and the test's handle.
//!
//! One mutex guards everything and is held for the whole handling of a request, so the
//! request log order is the order in which state changed, and a test inspecting state never
//! sees half a request.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::faults::{ChaosState, Protection};
use crate::git::Git;
use crate::{CommentRecord, Config, Fault, IssueKind, MilestoneRecord, RequestRecord, Trigger};

/// The numeric id GitHub would give the first (primary) repository; it only shows in
/// `/repositories/{id}` pagination links and the repository object. Further repositories
/// get the ids that follow ([`Hosts::add`]).
pub(crate) const REPOSITORY_ID: u64 = 700_100_200;

/// Everything the server hosts: the repositories, and what is server-wide.
pub(crate) struct Hosts {
    pub api_url: String,
    /// Delay before each request is handled, in nanoseconds ([`crate::StandIn::set_latency`]).
    pub latency_nanos: std::sync::atomic::AtomicU64,
    /// The hosted repositories, the primary first. Only ever grows.
    repos: std::sync::RwLock<Vec<Arc<Shared>>>,
}

impl Hosts {
    pub(crate) fn new(api_url: String) -> Hosts {
        Hosts { api_url, latency_nanos: Default::default(), repos: Default::default() }
    }

    /// Hosts another repository, with the next repository id. Panics when `owner/repo` is
    /// already hosted.
    pub(crate) fn add(&self, config: Config) -> Arc<Shared> {
        let mut repos = self.repos.write().unwrap_or_else(|p| p.into_inner());
        if let Some(taken) = repos.iter().find(|s| s.is_named(&config.owner, &config.repo)) {
            panic!("github-standin: {} is already hosted", taken.full_name());
        }
        let id = REPOSITORY_ID + repos.len() as u64;
        let shared = Arc::new(Shared::new(config, self.api_url.clone(), id));
        repos.push(shared.clone());
        shared
    }

    /// All hosted repositories, the primary first.
    pub(crate) fn all(&self) -> Vec<Arc<Shared>> {
        self.repos.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The first repository hosted.
    pub(crate) fn primary(&self) -> Arc<Shared> {
        self.repos.read().unwrap_or_else(|p| p.into_inner())[0].clone()
    }

    /// The hosted repository `owner/repo` (case-insensitive, as GitHub's routes are).
    pub(crate) fn by_name(&self, owner: &str, repo: &str) -> Option<Arc<Shared>> {
        self.repos.read().unwrap_or_else(|p| p.into_inner()).iter().find(|s| s.is_named(owner, repo)).cloned()
    }

    /// The hosted repository with numeric id `id` (as written in a path segment).
    pub(crate) fn by_id(&self, id: &str) -> Option<Arc<Shared>> {
        self.repos.read().unwrap_or_else(|p| p.into_inner()).iter().find(|s| s.repo_id.to_string() == id).cloned()
    }
}

/// One hosted repository: its configuration, git database and state.
pub(crate) struct Shared {
    pub config: Config,
    pub api_url: String,
    pub repo_id: u64,
    pub git: Git,
    /// True while an answer is held back ([`crate::Repository::hold_after_write`]).
    pub held: AtomicBool,
    /// Lets a held answer go ([`crate::Repository::release_hold`]).
    pub release: tokio::sync::Notify,
    /// The repository is a fork ([`crate::Repository::set_fork`]).
    fork: AtomicBool,
    /// The tokens that reach this repository: `config.token` and those of
    /// [`crate::Repository::allow_token`]. Not under the state lock, so that deciding who
    /// may see a repository never waits for another repository's request.
    tokens: Mutex<Vec<String>>,
    state: Mutex<State>,
}

impl Shared {
    pub(crate) fn new(config: Config, api_url: String, repo_id: u64) -> Shared {
        Shared {
            git: Git::new(config.git_dir.clone()),
            tokens: Mutex::new(vec![config.token.clone()]),
            config,
            api_url,
            repo_id,
            held: AtomicBool::new(false),
            release: tokio::sync::Notify::new(),
            fork: AtomicBool::new(false),
            state: Mutex::new(State::default()),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        crate::lock_ignoring_poison(&self.state)
    }

    pub(crate) fn is_named(&self, owner: &str, repo: &str) -> bool {
        owner.eq_ignore_ascii_case(&self.config.owner) && repo.eq_ignore_ascii_case(&self.config.repo)
    }

    /// `owner/repo`, as configured.
    pub(crate) fn full_name(&self) -> String {
        format!("{}/{}", self.config.owner, self.config.repo)
    }

    pub(crate) fn accepts(&self, token: &str) -> bool {
        crate::lock_ignoring_poison(&self.tokens).iter().any(|t| t == token)
    }

    pub(crate) fn allow_token(&self, token: &str) {
        let mut tokens = crate::lock_ignoring_poison(&self.tokens);
        if !tokens.iter().any(|t| t == token) {
            tokens.push(token.to_string());
        }
    }

    pub(crate) fn is_fork(&self) -> bool {
        self.fork.load(Ordering::Relaxed)
    }

    pub(crate) fn set_fork(&self, fork: bool) {
        self.fork.store(fork, Ordering::Relaxed);
    }

    pub(crate) fn html_url(&self) -> String {
        format!("https://github.com/{}/{}", self.config.owner, self.config.repo)
    }

    /// `{api}/repos/{owner}/{repo}`: the prefix of every `url` field served.
    pub(crate) fn repo_api_url(&self) -> String {
        format!("{}/repos/{}/{}", self.api_url, self.config.owner, self.config.repo)
    }
}

/// Who made a milestone decides its `creator` object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Creator {
    /// Made through the API with the workflow token.
    Bot,
    /// Seeded: a person (the repository owner) made it on github.com.
    Owner,
}

#[derive(Debug, Clone)]
pub(crate) struct Milestone {
    pub record: MilestoneRecord,
    pub id: u64,
    pub creator: Creator,
}

pub(crate) struct BranchMove {
    pub trigger: Trigger,
    pub files: Vec<(String, String)>,
    pub message: String,
}

#[derive(Default)]
pub(crate) struct State {
    pub milestones: BTreeMap<u64, Milestone>,
    /// Last number handed out; numbers are never reused, even after a delete (as on GitHub,
    /// where milestone numbers are never recycled).
    pub last_number: u64,
    pub log: Vec<RequestRecord>,
    pub faults: Vec<Fault>,
    pub branch_moves: Vec<BranchMove>,
    /// Milestones to put in place when a matching request arrives (a race with a person).
    pub seeds_when: Vec<(Trigger, crate::SeedMilestone)>,
    pub rate: RateWindow,
    /// Random failures, when switched on.
    pub chaos: Option<ChaosState>,
    /// When set, ref updates of the default branch are refused like this.
    pub protection: Option<Protection>,
    /// Hold back the answer to the write that makes `writes_done` reach this number.
    pub hold_after_write: Option<usize>,
    /// Writes that changed state (answered 2xx, or handled and then faulted).
    pub writes_done: usize,
    /// Commits made through `POST git/commits` without a committer: GitHub signs those.
    pub signed_commits: HashSet<String>,
    /// Issues and pull requests that exist, by number: only they take comments.
    pub issues: BTreeMap<u64, IssueKind>,
    /// Comments on issues and pull requests, by id (ids grow, so this is creation order).
    pub comments: BTreeMap<u64, CommentRecord>,
    pub last_comment_id: u64,
    /// The token may only read, like a fork's on `pull_request`: writes answer 403.
    pub read_only: bool,
    /// Pull requests, by number (a number of the issues' sequence).
    pub pulls: BTreeMap<u64, crate::PullRecord>,
    /// Actions may not open pull requests (a repository or organisation setting).
    pub pulls_forbidden: bool,
}

/// The primary rate limit of the token: `limit` requests per `window`, as the
/// `x-ratelimit-*` headers report it.
#[derive(Debug, Clone)]
pub(crate) struct RateWindow {
    pub limit: u64,
    pub window: Duration,
    pub used: u64,
    /// When the window resets (epoch seconds).
    pub reset: i64,
}

impl Default for RateWindow {
    /// GitHub's limit for a token: 5000 an hour, starting now.
    fn default() -> Self {
        RateWindow { limit: 5000, window: Duration::from_secs(3600), used: 0, reset: Utc::now().timestamp() + 3600 }
    }
}

impl RateWindow {
    /// Starts a new window once the old one is over.
    pub(crate) fn roll(&mut self, now: i64) {
        if now >= self.reset {
            self.used = 0;
            self.reset = now + i64::try_from(self.window.as_secs().max(1)).unwrap_or(3600);
        }
    }

    pub(crate) fn remaining(&self) -> u64 {
        self.limit.saturating_sub(self.used)
    }
}

/// GitHub's timestamp format: whole seconds, UTC, `Z`.
pub(crate) fn format_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Now, but strictly after `previous` (if any), so that every change visibly moves
/// `updated_at` even when a test makes two changes within one second.
pub(crate) fn now_after(previous: Option<&str>) -> String {
    let now = Utc::now();
    let floor = previous
        .and_then(|p| DateTime::parse_from_rfc3339(p).ok())
        .map(|p| p.with_timezone(&Utc) + chrono::Duration::seconds(1));
    match floor {
        Some(f) if f > now => format_time(f),
        _ => format_time(now),
    }
}
