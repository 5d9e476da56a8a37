//! The real client ([`milestone_sync::github::client::Client`]) against the stateful GitHub
//! stand-in: pagination through `/repositories/{id}` links, milestone writes and the due-date
//! round trip, the error mappings the sync decides on, the retry policy (GET retried, a
//! milestone create never re-sent, rate limits waited out or reported), the pause between
//! writes, and a commit made through the git database, with and without a concurrent push
//! or a branch protection.
//!
//! One test talks to a bare TCP listener instead, to see the request line and headers exactly
//! as sent (the stand-in does not record headers).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use github_standin::{Config, Fault, Protection, SeedMilestone, StandIn, Trigger};
use milestone_sync::due_date;
use milestone_sync::github::client::{Client, RetryPolicy};
use milestone_sync::github::{GitHub, GitHubError, Permission, TreeFile};
use milestone_sync::milestone::{MilestonePatch, MilestoneState, NewMilestone};
use serde_json::json;

pub(crate) const OWNER: &str = "octo-org";
pub(crate) const REPO: &str = "planning";
pub(crate) const TOKEN: &str = "ghs_client_test_token";

/// Runs git on the bare repository; panics on failure.
pub(crate) fn git(git_dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(git_dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A stand-in over a fresh bare repository whose `main` holds README.md.
pub(crate) struct Env {
    dir: tempfile::TempDir,
    pub(crate) standin: StandIn,
}

impl Env {
    pub(crate) fn start() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let git_dir = dir.path().join("repo.git");
        git(&git_dir, &["init", "--bare", "-q", "-b", "main", git_dir.to_str().unwrap()]);
        let standin = StandIn::start(Config {
            owner: OWNER.into(),
            repo: REPO.into(),
            token: TOKEN.into(),
            default_branch: "main".into(),
            git_dir,
        });
        standin.push_files(vec![("README.md".into(), "# planning\n".into())], "initial");
        Env { dir, standin }
    }

    pub(crate) fn git_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("repo.git")
    }

    /// A client with millisecond backoff and no pause between writes, so tests run fast.
    pub(crate) fn client(&self) -> Client {
        Client::new(&self.standin.api_url(), TOKEN, OWNER, REPO)
            .unwrap()
            .with_retry_policy(fast_retries())
            .with_write_delay(Duration::ZERO)
    }

    pub(crate) fn count(&self, method: &str, path_contains: &str) -> usize {
        self.standin.requests().iter().filter(|r| r.method == method && r.path.contains(path_contains)).count()
    }
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy { base_delay: Duration::from_millis(1), max_delay: Duration::from_millis(5), ..RetryPolicy::default() }
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn new_milestone(title: &str, due_on: Option<NaiveDate>) -> NewMilestone {
    NewMilestone {
        title: title.into(),
        description: "Synced text\n\nIntelliManage-ID: EPIC-001".into(),
        state: MilestoneState::Open,
        due_on,
    }
}

fn status_fault(method: &str, path_contains: &str, status: u16, message: &str) -> Fault {
    Fault::Status {
        trigger: Trigger::new(method, path_contains),
        status,
        body: json!({"message": message, "documentation_url": "https://docs.github.com/rest"}),
    }
}

#[tokio::test]
async fn lists_250_milestones_across_three_pages_following_link_verbatim() {
    let env = Env::start();
    for i in 1..=250 {
        env.standin.seed_milestone(SeedMilestone {
            title: format!("Milestone {i:03}"),
            state: if i % 5 == 0 { "closed".into() } else { "open".into() },
            due_on: (i % 2 == 0).then(|| "2026-07-04T12:00:00Z".to_string()),
            description: (i % 3 == 0).then(|| format!("text {i}")),
        });
    }
    let client = env.client();

    let milestones = client.list_milestones().await.unwrap();

    assert_eq!(milestones.len(), 250);
    let mut titles: Vec<_> = milestones.iter().map(|m| m.title.clone()).collect();
    titles.sort();
    titles.dedup();
    assert_eq!(titles.len(), 250);
    assert_eq!(milestones.iter().filter(|m| m.state == MilestoneState::Closed).count(), 50);
    let dated = milestones.iter().find(|m| m.title == "Milestone 002").unwrap();
    assert_eq!(due_date::from_github(dated.due_on.unwrap()), date("2026-07-04"));
    assert_eq!(milestones.iter().find(|m| m.title == "Milestone 001").unwrap().description, None);

    let requests = env.standin.requests();
    assert_eq!(requests.len(), 3, "{requests:?}");
    assert_eq!(requests[0].path, format!("/repos/{OWNER}/{REPO}/milestones"));
    assert_eq!(requests[0].query.as_deref(), Some("state=all&per_page=100"));
    let by_id = format!("/repositories/{}/milestones", env.standin.repository_id());
    assert_eq!(requests[1].path, by_id);
    assert_eq!(requests[1].query.as_deref(), Some("state=all&per_page=100&page=2"));
    assert_eq!(requests[2].path, by_id);
    assert_eq!(requests[2].query.as_deref(), Some("state=all&per_page=100&page=3"));
    assert_eq!(client.call_counts(), vec![("GET /repos/{o}/{r}/milestones".to_string(), 3)]);
}

#[tokio::test]
async fn creates_updates_clears_the_date_closes_and_deletes() {
    let env = Env::start();
    let client = env.client();

    let created = client.create_milestone(&new_milestone("EPIC-001 Payments", Some(date("2026-03-01")))).await.unwrap();
    assert_eq!(created.title, "EPIC-001 Payments");
    assert_eq!(created.state, MilestoneState::Open);
    assert_eq!(created.description.as_deref(), Some("Synced text\n\nIntelliManage-ID: EPIC-001"));
    assert_eq!(due_date::from_github(created.due_on.unwrap()), date("2026-03-01"));
    assert!(created.html_url.ends_with(&format!("/milestone/{}", created.number)), "{}", created.html_url);
    // GitHub keeps Pacific midnight; the stand-in serves it the same way.
    assert_eq!(env.standin.milestones()[0].due_on.as_deref(), Some("2026-03-01T08:00:00Z"));

    let fetched = client.get_milestone(created.number).await.unwrap().unwrap();
    assert_eq!(fetched, created);

    let patch = MilestonePatch {
        title: Some("EPIC-001 Payments v2".into()),
        description: Some("New text".into()),
        due_on: Some(Some(date("2026-07-15"))),
        ..Default::default()
    };
    let updated = client.update_milestone(created.number, &patch).await.unwrap();
    assert_eq!(updated.title, "EPIC-001 Payments v2");
    assert_eq!(updated.description.as_deref(), Some("New text"));
    assert_eq!(due_date::from_github(updated.due_on.unwrap()), date("2026-07-15"));
    assert_eq!(updated.state, MilestoneState::Open);

    let cleared = client
        .update_milestone(created.number, &MilestonePatch { due_on: Some(None), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(cleared.due_on, None);
    assert_eq!(cleared.title, "EPIC-001 Payments v2", "fields not in the patch stay");
    assert_eq!(env.standin.milestones()[0].due_on, None);

    let closed = client
        .update_milestone(created.number, &MilestonePatch { state: Some(MilestoneState::Closed), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(closed.state, MilestoneState::Closed);
    // Closed milestones are listed too (state=all).
    assert_eq!(client.list_milestones().await.unwrap().len(), 1);

    client.delete_milestone(created.number).await.unwrap();
    assert!(env.standin.milestones().is_empty());
    assert_eq!(client.get_milestone(created.number).await.unwrap(), None);
    assert!(matches!(client.delete_milestone(created.number).await, Err(GitHubError::NotFound { .. })));
    assert!(matches!(
        client.update_milestone(created.number, &patch).await,
        Err(GitHubError::NotFound { method, .. }) if method == "PATCH"
    ));

    let counts = client.call_counts();
    assert!(counts.contains(&("POST /repos/{o}/{r}/milestones".to_string(), 1)), "{counts:?}");
    assert!(counts.contains(&("PATCH /repos/{o}/{r}/milestones/{n}".to_string(), 4)), "{counts:?}");
    assert!(counts.contains(&("DELETE /repos/{o}/{r}/milestones/{n}".to_string(), 2)), "{counts:?}");
    assert!(counts.contains(&("GET /repos/{o}/{r}/milestones/{n}".to_string(), 2)), "{counts:?}");
}

#[tokio::test]
async fn a_taken_title_is_already_exists_on_create_and_update() {
    let env = Env::start();
    env.standin.seed_milestone(SeedMilestone { title: "v1".into(), ..Default::default() });
    let other = env.standin.seed_milestone(SeedMilestone { title: "v2".into(), ..Default::default() });
    let client = env.client();

    match client.create_milestone(&new_milestone("v1", None)).await {
        Err(GitHubError::AlreadyExists { title }) => assert_eq!(title, "v1"),
        other => panic!("{other:?}"),
    }
    let rename = MilestonePatch { title: Some("v1".into()), ..Default::default() };
    match client.update_milestone(other.number, &rename).await {
        Err(GitHubError::AlreadyExists { title }) => assert_eq!(title, "v1"),
        other => panic!("{other:?}"),
    }
    assert_eq!(env.standin.milestones().len(), 2);
    assert_eq!(env.count("POST", "/milestones"), 1, "a 422 is not retried");
}

#[tokio::test]
async fn a_502_on_get_is_retried() {
    let env = Env::start();
    env.standin.seed_milestone(SeedMilestone { title: "v1".into(), ..Default::default() });
    env.standin.fail_next(status_fault("GET", "/milestones", 502, "Server Error"));
    let client = env.client();

    let milestones = client.list_milestones().await.unwrap();

    assert_eq!(milestones.len(), 1);
    let statuses: Vec<u16> = env.standin.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![502, 200]);
    assert_eq!(client.call_counts(), vec![("GET /repos/{o}/{r}/milestones".to_string(), 2)]);
}

#[tokio::test]
async fn a_patch_failing_every_attempt_gives_up_after_three() {
    let env = Env::start();
    let m = env.standin.seed_milestone(SeedMilestone { title: "v1".into(), ..Default::default() });
    for _ in 0..3 {
        env.standin.fail_next(status_fault("PATCH", "/milestones/", 503, "Service Unavailable"));
    }
    let client = env.client();

    let closing = MilestonePatch { state: Some(MilestoneState::Closed), ..Default::default() };
    match client.update_milestone(m.number, &closing).await {
        Err(GitHubError::Http { status: 503, method, message, .. }) => {
            assert_eq!(method, "PATCH");
            assert_eq!(message, "Service Unavailable");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(env.count("PATCH", "/milestones/"), 3);
    assert_eq!(env.standin.milestones()[0].state, "open");
}

#[tokio::test]
async fn a_create_answered_502_is_not_sent_again() {
    let env = Env::start();
    // The create goes through but its answer is lost: a retry would make a duplicate (or,
    // here, a 422), so the client must report the 502 and leave the decision to the caller.
    env.standin.fail_next(Fault::LostAnswer { trigger: Trigger::new("POST", "/milestones") });
    let client = env.client();

    match client.create_milestone(&new_milestone("EPIC-001", None)).await {
        Err(GitHubError::Http { status: 502, method, .. }) => assert_eq!(method, "POST"),
        other => panic!("{other:?}"),
    }
    assert_eq!(env.count("POST", "/milestones"), 1);
    assert_eq!(env.standin.milestones().len(), 1, "the lost create did happen");
    assert_eq!(client.call_counts(), vec![("POST /repos/{o}/{r}/milestones".to_string(), 1)]);
}

#[tokio::test]
async fn git_database_writes_are_sent_again_after_a_5xx_or_a_lost_answer() {
    let env = Env::start();
    let client = env.client();
    // A tree is addressed by its content and a commit sent twice leaves at most an
    // unreferenced object: both are safe to send again.
    env.standin.fail_next(status_fault("POST", "/git/trees", 502, "Bad Gateway"));
    env.standin.fail_next(Fault::LostAnswer { trigger: Trigger::new("POST", "/git/commits") });
    // A ref update whose answer was lost finds the branch already at the commit.
    env.standin.fail_next(Fault::LostAnswer { trigger: Trigger::new("PATCH", "/git/refs/heads/main") });
    let head = client.branch_head("main").await.unwrap();
    let base = client.commit_tree(&head).await.unwrap();
    let files = [TreeFile { path: "a.md".into(), content: "a\n".into() }];
    let tree = client.create_tree(&base, &files).await.unwrap();
    let commit = client.create_commit("add a", &tree, &head).await.unwrap();
    client.update_branch("main", &commit).await.unwrap();
    assert_eq!(git(&env.git_dir(), &["rev-parse", "refs/heads/main"]), commit);
    assert_eq!(git(&env.git_dir(), &["show", "main:a.md"]), "a");
    assert_eq!((env.count("POST", "/git/trees"), env.count("POST", "/git/commits")), (2, 2));
    assert_eq!(env.count("PATCH", "/git/refs"), 2);
    assert_eq!(client.retries(), 3);
}

#[tokio::test]
async fn a_slow_or_dropped_answer_is_given_up_on_and_retried_but_a_create_is_not() {
    let env = Env::start();
    let m = env.standin.seed_milestone(SeedMilestone { title: "v1".into(), ..Default::default() });
    let policy = RetryPolicy { attempt_timeout: Duration::from_millis(1000), ..fast_retries() };
    let client = env.client().with_retry_policy(policy);
    let slow = |method: &str, path: &str| Fault::SlowAnswer {
        trigger: Trigger::new(method, path),
        delay: Duration::from_secs(4),
    };

    env.standin.fail_next(slow("GET", "/milestones"));
    assert_eq!(client.list_milestones().await.unwrap().len(), 1);
    assert_eq!(env.count("GET", "/milestones"), 2);

    env.standin.fail_next(Fault::DroppedAnswer { trigger: Trigger::new("PATCH", "/milestones/") });
    let close = MilestonePatch { state: Some(MilestoneState::Closed), ..Default::default() };
    assert_eq!(client.update_milestone(m.number, &close).await.unwrap().state, MilestoneState::Closed);
    assert_eq!(env.count("PATCH", "/milestones/"), 2);

    // The create was made, but its answer came too late: the caller must look for it.
    env.standin.fail_next(slow("POST", "/milestones"));
    match client.create_milestone(&new_milestone("v2", None)).await {
        Err(e @ GitHubError::Transport { .. }) => assert!(e.to_string().contains("1000 ms"), "{e}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(env.count("POST", "/milestones"), 1);
    assert_eq!(env.standin.milestones().len(), 2);
}

#[tokio::test]
async fn a_lost_delete_answer_is_retried_and_the_404_counts_as_done() {
    let env = Env::start();
    let m = env.standin.seed_milestone(SeedMilestone { title: "v1".into(), ..Default::default() });
    env.standin.fail_next(Fault::LostAnswer { trigger: Trigger::new("DELETE", "/milestones/") });
    let client = env.client();

    client.delete_milestone(m.number).await.unwrap();

    let statuses: Vec<u16> = env.standin.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![502, 404]);
    assert!(env.standin.milestones().is_empty());
}

#[tokio::test]
async fn a_secondary_rate_limit_is_waited_out_on_get() {
    let env = Env::start();
    env.standin.fail_next(Fault::StatusWithHeaders {
        trigger: Trigger::new("GET", &format!("/repos/{OWNER}/{REPO}")),
        status: 403,
        headers: vec![("retry-after".into(), "1".into())],
        body: json!({"message": "You have exceeded a secondary rate limit."}),
    });
    let client = env.client();

    let started = Instant::now();
    assert_eq!(client.default_branch().await.unwrap(), "main");
    assert!(started.elapsed() >= Duration::from_millis(900), "{:?}", started.elapsed());
    assert_eq!(client.call_counts(), vec![("GET /repos/{o}/{r}".to_string(), 2)]);
}

#[tokio::test]
async fn a_retry_after_beyond_the_wait_budget_is_reported() {
    let env = Env::start();
    env.standin.fail_next(Fault::secondary_limit(Trigger::new("GET", "/milestones"), 429, Some(120)));
    let client = env.client();
    match client.list_milestones().await {
        Err(e @ GitHubError::RateLimited { primary: false, until: Some(_), .. }) => {
            assert!(e.to_string().contains("secondary rate limit"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(env.count("GET", "/milestones"), 1);

    // Without `retry-after`, GitHub asks for at least a minute: beyond this policy's budget.
    let client =
        env.client().with_retry_policy(RetryPolicy { max_retry_after: Duration::from_secs(10), ..fast_retries() });
    env.standin.fail_next(Fault::secondary_limit(Trigger::new("POST", "/milestones"), 403, None));
    assert!(matches!(
        client.create_milestone(&new_milestone("v1", None)).await,
        Err(GitHubError::RateLimited { primary: false, .. })
    ));
    assert!(env.standin.milestones().is_empty());
}

#[tokio::test]
async fn a_rate_limited_create_is_waited_out_and_sent_again() {
    let env = Env::start();
    // GitHub refused it before handling it: sending it again cannot make a duplicate.
    env.standin.fail_next(Fault::secondary_limit(Trigger::new("POST", "/milestones"), 429, Some(1)));
    let client = env.client();
    let started = Instant::now();
    client.create_milestone(&new_milestone("v1", None)).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(900), "{:?}", started.elapsed());
    assert_eq!(env.count("POST", "/milestones"), 2);
    assert_eq!(env.standin.milestones().len(), 1);
}

#[tokio::test]
async fn the_primary_limit_is_read_from_every_answer_and_waited_for_when_its_reset_is_near() {
    let env = Env::start();
    env.standin.set_rate_limit(3, Duration::from_secs(1));
    let client = env.client();
    assert_eq!(client.rate_limit(), None, "nothing known before the first answer");
    for left in [2, 1, 0] {
        client.branch_head("main").await.unwrap();
        let rate = client.rate_limit().unwrap();
        assert_eq!((rate.limit, rate.remaining), (3, left));
    }
    // Used up, with the reset a second away: the client waits instead of being refused.
    let started = Instant::now();
    client.branch_head("main").await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(500), "{:?}", started.elapsed());
    assert!(env.standin.requests().iter().all(|r| r.status == 200), "never refused");
}

#[tokio::test]
async fn a_primary_limit_that_resets_late_stops_the_client_without_sending() {
    let env = Env::start();
    env.standin.set_rate_limit(2, Duration::from_secs(3600));
    let client = env.client();
    client.branch_head("main").await.unwrap();
    client.branch_head("main").await.unwrap();
    match client.list_milestones().await {
        Err(e @ GitHubError::RateLimited { primary: true, until: Some(_), .. }) => {
            assert!(e.to_string().contains("primary rate limit"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(env.standin.requests().len(), 2, "known to be used up: not sent");

    // A client that did not know finds out from GitHub's 403 and does not retry.
    let fresh = env.client();
    assert!(matches!(fresh.list_milestones().await, Err(GitHubError::RateLimited { primary: true, .. })));
    assert_eq!(env.standin.requests().len(), 3);
    assert_eq!(env.standin.requests()[2].status, 403);
}

#[tokio::test]
async fn writes_are_paced_and_reads_are_not() {
    let env = Env::start();
    let m = env.standin.seed_milestone(SeedMilestone { title: "v1".into(), ..Default::default() });
    let pause = Duration::from_millis(400);
    let client = env.client().with_write_delay(pause);
    let started = Instant::now();
    for title in ["a", "b", "c"] {
        client
            .update_milestone(m.number, &MilestonePatch { title: Some(title.into()), ..Default::default() })
            .await
            .unwrap();
    }
    // Two pauses between three writes.
    assert!(started.elapsed() >= pause * 2, "{:?}", started.elapsed());
    // Reads do not wait: three of them take less than the three pauses they would.
    let reads = Instant::now();
    for _ in 0..3 {
        client.list_milestones().await.unwrap();
    }
    assert!(reads.elapsed() < pause * 3, "{:?}", reads.elapsed());
}

#[tokio::test]
async fn writes_start_the_delay_apart_so_a_slow_write_is_not_followed_by_a_full_pause() {
    let env = Env::start();
    let m = env.standin.seed_milestone(SeedMilestone { title: "v1".into(), ..Default::default() });
    // Every answer takes 300 ms; writes may start 400 ms apart.
    env.standin.set_latency(Duration::from_millis(300));
    let delay = Duration::from_millis(400);
    let client = env.client().with_write_delay(delay);
    let started = Instant::now();
    for title in ["a", "b", "c"] {
        client
            .update_milestone(m.number, &MilestonePatch { title: Some(title.into()), ..Default::default() })
            .await
            .unwrap();
    }
    // The third write started two delays after the first at the earliest.
    assert!(started.elapsed() >= delay * 2 + Duration::from_millis(300), "{:?}", started.elapsed());
    // Each write after the first waited only what was left of the delay when the one before
    // answered (at most 100 ms), not a whole delay after it: pacing counts from starts.
    let waits = client.waits();
    assert!(waits.pacing <= Duration::from_millis(200), "{waits:?}");
    assert!(waits.pacing > Duration::ZERO, "{waits:?}");
    assert_eq!(waits.rate_limits, Duration::ZERO);
    // A write that took longer than the delay is followed at once.
    let slow = env.client().with_write_delay(Duration::from_millis(200));
    for title in ["d", "e"] {
        slow.update_milestone(m.number, &MilestonePatch { title: Some(title.into()), ..Default::default() })
            .await
            .unwrap();
    }
    assert_eq!(slow.waits().pacing, Duration::ZERO);
}

#[tokio::test]
async fn clients_of_one_run_take_turns_to_write() {
    let env = Env::start();
    let m = env.standin.seed_milestone(SeedMilestone { title: "v1".into(), ..Default::default() });
    let delay = Duration::from_millis(300);
    let first = env.client().with_write_delay(delay);
    // Another repository's client in the same run (the stand-in answers it for the same one).
    let other = env.client().with_write_delay(delay).counting_with(&first);
    let started = Instant::now();
    first.update_milestone(m.number, &MilestonePatch { title: Some("a".into()), ..Default::default() }).await.unwrap();
    other.update_milestone(m.number, &MilestonePatch { title: Some("b".into()), ..Default::default() }).await.unwrap();
    assert!(started.elapsed() >= delay, "{:?}", started.elapsed());
    assert!(first.waits().pacing > Duration::ZERO);
    assert_eq!(first.call_counts(), vec![("PATCH /repos/{o}/{r}/milestones/{n}".to_string(), 2)]);
}

#[tokio::test]
async fn a_protected_branch_is_reported_with_the_fix() {
    let env = Env::start();
    let client = env.client();
    let head = client.branch_head("main").await.unwrap();
    for protection in [Protection::Classic, Protection::Ruleset] {
        env.standin.protect_branch(Some(protection));
        match client.update_branch("main", &head).await {
            Err(e @ GitHubError::ProtectedBranch { .. }) => {
                let text = e.to_string();
                assert!(text.contains("main is protected"), "{text}");
            }
            other => panic!("{protection:?}: {other:?}"),
        }
    }
    assert_eq!(env.count("PATCH", "/git/refs"), 2, "a refusal is not retried");
}

#[tokio::test]
async fn resource_not_accessible_names_the_missing_permission() {
    let env = Env::start();
    let client = env.client();
    let denied = "Resource not accessible by integration";

    env.standin.fail_next(status_fault("POST", "/milestones", 403, denied));
    match client.create_milestone(&new_milestone("v1", None)).await {
        Err(e @ GitHubError::Permission { permission: Permission::IssuesWrite, .. }) => {
            let text = e.to_string();
            assert!(text.contains("`issues: write`") && text.contains("permissions:"), "{text}");
            assert!(text.contains("Issues: Read and write"), "{text}");
        }
        other => panic!("{other:?}"),
    }

    let head = client.branch_head("main").await.unwrap();
    env.standin.fail_next(status_fault("PATCH", "/git/refs/heads/main", 403, denied));
    match client.update_branch("main", &head).await {
        Err(e @ GitHubError::Permission { permission: Permission::ContentsWrite, .. }) => {
            assert!(e.to_string().contains("contents: write"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    // A 403 is an answer, not a transient failure: sent once.
    assert_eq!(env.count("PATCH", "/git/refs"), 1);
}

#[tokio::test]
async fn a_wrong_token_is_an_http_401_that_does_not_show_the_token() {
    let env = Env::start();
    let client = Client::new(&env.standin.api_url(), "ghs_wrong_secret", OWNER, REPO).unwrap();
    match client.list_milestones().await {
        Err(e @ GitHubError::Http { status: 401, .. }) => {
            assert!(!e.to_string().contains("ghs_wrong_secret"), "{e}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn commits_through_the_git_database_and_reads_files_back() {
    let env = Env::start();
    let client = env.client();

    assert_eq!(client.default_branch().await.unwrap(), "main");
    let head = client.branch_head("main").await.unwrap();
    assert_eq!(head, git(&env.git_dir(), &["rev-parse", "refs/heads/main"]));
    let base_tree = client.commit_tree(&head).await.unwrap();
    assert_eq!(client.file_at(&head, "README.md").await.unwrap().as_deref(), Some(&b"# planning\n"[..]));

    let epic = ".ruru/projects/my project/epics/EPIC-001_payments.md";
    let content = "+++\nid = \"EPIC-001\"\ntitle = \"Payments ✅\"\n+++\n\n## Description ✍️\n\nText.\n".repeat(40);
    let files = [
        TreeFile { path: epic.into(), content: content.clone() },
        TreeFile { path: "README.md".into(), content: "# planning\n\nsynced\n".into() },
    ];
    let tree = client.create_tree(&base_tree, &files).await.unwrap();
    let commit = client.create_commit("milestone-sync: update EPIC-001", &tree, &head).await.unwrap();
    client.update_branch("main", &commit).await.unwrap();

    assert_eq!(client.branch_head("main").await.unwrap(), commit);
    assert_eq!(client.commit_tree(&commit).await.unwrap(), tree);
    assert_eq!(client.file_at(&commit, epic).await.unwrap(), Some(content.clone().into_bytes()));
    assert_eq!(client.file_at(&commit, "README.md").await.unwrap().as_deref(), Some(&b"# planning\n\nsynced\n"[..]));
    assert_eq!(client.file_at(&head, epic).await.unwrap(), None, "absent at the parent");
    assert_eq!(client.file_at(&commit, "nope/missing.md").await.unwrap(), None);

    // Checked with git itself: one parent, both files.
    let git_dir = env.git_dir();
    assert_eq!(git(&git_dir, &["rev-parse", &format!("{commit}^")]), head);
    assert_eq!(git(&git_dir, &["show", &format!("{commit}:{epic}")]), content.trim_end());
    assert_eq!(git(&git_dir, &["log", "-1", "--format=%s", &commit]), "milestone-sync: update EPIC-001");

    // The contents path was percent-encoded, `/` kept.
    assert!(
        env.standin
            .requests()
            .iter()
            .any(|r| r.path.ends_with("/contents/.ruru/projects/my%20project/epics/EPIC-001_payments.md")),
        "{:?}",
        env.standin.requests()
    );
    let counts = client.call_counts();
    for expected in [
        ("GET /repos/{o}/{r}", 1),
        ("GET /repos/{o}/{r}/git/ref/heads/{branch}", 2),
        ("GET /repos/{o}/{r}/git/commits/{sha}", 2),
        ("GET /repos/{o}/{r}/contents/{path}", 5),
        ("POST /repos/{o}/{r}/git/trees", 1),
        ("POST /repos/{o}/{r}/git/commits", 1),
        ("PATCH /repos/{o}/{r}/git/refs/heads/{branch}", 1),
    ] {
        assert!(counts.contains(&(expected.0.to_string(), expected.1)), "{expected:?} in {counts:?}");
    }
}

#[tokio::test]
async fn a_branch_that_moved_is_not_a_fast_forward() {
    let env = Env::start();
    let client = env.client();
    let head = client.branch_head("main").await.unwrap();
    let base_tree = client.commit_tree(&head).await.unwrap();
    let tree =
        client.create_tree(&base_tree, &[TreeFile { path: "ours.md".into(), content: "ours\n".into() }]).await.unwrap();
    let commit = client.create_commit("ours", &tree, &head).await.unwrap();
    env.standin.move_branch_when(
        Trigger::new("PATCH", "/git/refs/heads/main"),
        vec![("theirs.md".into(), "theirs\n".into())],
        "someone else pushed",
    );

    assert!(matches!(client.update_branch("main", &commit).await, Err(GitHubError::NotFastForward)));

    let moved = client.branch_head("main").await.unwrap();
    assert_ne!(moved, commit);
    assert_ne!(moved, head);
    assert_eq!(client.file_at(&moved, "theirs.md").await.unwrap().as_deref(), Some(&b"theirs\n"[..]));
    assert_eq!(env.count("PATCH", "/git/refs"), 1, "a 422 is not retried");

    // Rebuilt on the new head, the same change goes through.
    let tree = client
        .create_tree(
            &client.commit_tree(&moved).await.unwrap(),
            &[TreeFile { path: "ours.md".into(), content: "ours\n".into() }],
        )
        .await
        .unwrap();
    let commit = client.create_commit("ours", &tree, &moved).await.unwrap();
    client.update_branch("main", &commit).await.unwrap();
    assert_eq!(client.branch_head("main").await.unwrap(), commit);
}

#[tokio::test]
async fn no_answer_at_all_is_a_transport_error_after_retries() {
    // A server that reads each request and hangs up without answering.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let seen = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            seen.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                line.clear();
            }
        }
    });
    let client =
        Client::new(&format!("http://127.0.0.1:{port}"), TOKEN, OWNER, REPO).unwrap().with_retry_policy(fast_retries());

    match client.default_branch().await {
        Err(e @ GitHubError::Transport { .. }) => assert!(!e.to_string().contains(TOKEN), "{e}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
    assert_eq!(client.call_counts(), vec![("GET /repos/{o}/{r}".to_string(), 3)]);

    // A POST that got no answer is not sent again.
    let before = accepted.load(Ordering::SeqCst);
    let err = client.create_milestone(&new_milestone("v1", None)).await.unwrap_err();
    assert!(matches!(err, GitHubError::Transport { ref method, .. } if method == "POST"), "{err:?}");
    assert_eq!(accepted.load(Ordering::SeqCst), before + 1);
}

/// Answers one request on a bare socket with `body` and returns the request head as received.
fn serve_once(listener: TcpListener, body: &'static str) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            head.push_str(&line);
        }
        let length = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap())
            })
            .unwrap_or(0);
        let mut request_body = vec![0; length];
        reader.read_exact(&mut request_body).unwrap();
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        head
    })
}

#[tokio::test]
async fn sends_githubs_headers_and_keeps_an_enterprise_path_prefix() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // The fields octocrab's Repository model requires, as GitHub Enterprise Server sends them.
    let server = serve_once(
        listener,
        r#"{"id":1,"name":"planning","url":"https://ghe.example/api/v3/repos/octo-org/planning","default_branch":"trunk"}"#,
    );
    let client = Client::new(&format!("http://127.0.0.1:{port}/api/v3/"), TOKEN, OWNER, REPO).unwrap();

    assert_eq!(client.default_branch().await.unwrap(), "trunk");

    let head = server.join().unwrap();
    let lower = head.to_ascii_lowercase();
    assert!(head.starts_with("GET /api/v3/repos/octo-org/planning HTTP/1.1\r\n"), "{head}");
    assert!(head.contains(&format!("authorization: Bearer {TOKEN}\r\n")), "{head}");
    assert!(lower.contains("accept: application/vnd.github+json\r\n"), "{head}");
    assert!(lower.contains("x-github-api-version: 2022-11-28\r\n"), "{head}");
    assert_eq!(lower.matches("x-github-api-version:").count(), 1, "{head}");
    // One User-Agent: HTTP allows the header once (octocrab's default client added its own).
    let agents: Vec<&str> = lower.lines().filter(|l| l.starts_with("user-agent:")).collect();
    assert_eq!(agents, [format!("user-agent: milestone-sync/{}", env!("CARGO_PKG_VERSION"))], "{head}");
}
