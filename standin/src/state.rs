//! The state shared between the server thread and the test's handle.
//!
//! One mutex guards everything and is held for the whole handling of a request, so the
//! request log order is the order in which state changed, and a test inspecting state never
//! sees half a request.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};

use crate::git::Git;
use crate::{CommentRecord, Config, Fault, IssueKind, MilestoneRecord, RequestRecord, Trigger};

/// The numeric id GitHub would give the repository; it only shows in `/repositories/{id}`
/// pagination links and the repository object.
pub(crate) const REPOSITORY_ID: u64 = 700_100_200;

pub(crate) struct Shared {
    pub config: Config,
    pub api_url: String,
    pub repo_id: u64,
    pub git: Git,
    /// When the rate-limit window resets (epoch seconds), fixed at start like a fresh hour.
    pub rate_reset: i64,
    /// Delay before each request is handled, in nanoseconds ([`crate::StandIn::set_latency`]).
    pub latency_nanos: AtomicU64,
    state: Mutex<State>,
}

impl Shared {
    pub fn new(config: Config, api_url: String) -> Shared {
        Shared {
            git: Git::new(config.git_dir.clone()),
            config,
            api_url,
            repo_id: REPOSITORY_ID,
            rate_reset: Utc::now().timestamp() + 3600,
            latency_nanos: AtomicU64::new(0),
            state: Mutex::new(State::default()),
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        crate::lock_ignoring_poison(&self.state)
    }

    pub fn html_url(&self) -> String {
        format!("https://github.com/{}/{}", self.config.owner, self.config.repo)
    }

    /// `{api}/repos/{owner}/{repo}`: the prefix of every `url` field served.
    pub fn repo_api_url(&self) -> String {
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
    pub rate_used: u64,
    /// Commits made through `POST git/commits` without a committer: GitHub signs those.
    pub signed_commits: HashSet<String>,
    /// Issues and pull requests that exist, by number: only they take comments.
    pub issues: BTreeMap<u64, IssueKind>,
    /// Comments on issues and pull requests, by id (ids grow, so this is creation order).
    pub comments: BTreeMap<u64, CommentRecord>,
    pub last_comment_id: u64,
    /// The token may only read, like a fork's on `pull_request`: writes answer 403.
    pub read_only: bool,
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
