//! Faults and limits, end to end: the real binary against the stand-in's fault modes. For
//! each fault, the run (or, where the fault stops it, the run and one plain re-run) ends in
//! the same state as a fault-free run: the same milestones, the same file bytes at the head,
//! no duplicate; where a run stopped, a later reconcile also finds nothing left to do.

use std::time::Duration;

use crate::common::scenario::{E1, E2, E3, assert_healed, assert_same_end_state, prepared, reference};
use crate::common::*;
use github_standin::{Chaos, Fault, Protection, SeedMilestone, Trigger};
use serde_json::json;

/// The five writes of the prepared push (the commit in one GraphQL request), and the read
/// before them, as fault triggers. `POST /milestones` matches both creates: a fault queued
/// twice hits both.
fn triggers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("GET", "/milestones"),
        ("PATCH", "/milestones/1"),
        ("PATCH", "/milestones/2"),
        ("POST", "/milestones"),
        ("POST", "/graphql"),
    ]
}

/// The commit's writes through the Git Database (`MILESTONE_SYNC_COMMIT_API=git-database`,
/// and where GraphQL cannot carry a commit).
fn git_database_triggers() -> Vec<(&'static str, &'static str)> {
    vec![("POST", "/git/trees"), ("POST", "/git/commits"), ("PATCH", "/git/refs/heads/main")]
}

const GIT_DATABASE: (&str, &str) = ("MILESTONE_SYNC_COMMIT_API", "git-database");

/// A request (method, path fragment), and the environment a run needs to send it.
type Triggered = ((&'static str, &'static str), &'static [(&'static str, &'static str)]);

/// Every trigger with the environment its path needs.
fn all_triggers() -> Vec<Triggered> {
    let mut all: Vec<_> = triggers().into_iter().map(|t| (t, &[][..])).collect();
    all.extend(git_database_triggers().into_iter().map(|t| (t, &[GIT_DATABASE][..])));
    all
}

/// How many requests the run's log says it sent to `endpoint` (`API calls: 1 × POST /graphql`).
fn count_requests(run: &Run, endpoint: &str) -> usize {
    run.stderr
        .lines()
        .filter_map(|l| l.split("API calls: ").nth(1))
        .filter_map(|l| l.split_once(" × "))
        .filter(|(_, e)| *e == endpoint)
        .map(|(n, _)| n.trim().parse::<usize>().unwrap())
        .sum()
}

/// Runs the prepared push with `faults` queued; the run must heal within itself.
fn heals_within_the_run(case: &str, faults: Vec<Fault>, env: &[(&str, &str)]) -> Run {
    let (repo, payload) = prepared();
    for fault in faults {
        repo.standin.fail_next(fault);
    }
    let run = repo.run_with("push", &payload, &[], env);
    assert_eq!(run.code(), 0, "{case}: {}\n{}", run.stdout, run.stderr);
    assert_eq!(run.output("created").as_deref(), Some("2"), "{case}");
    assert_same_end_state(&repo, case);
    run
}

#[test]
fn a_lost_answer_on_any_write_heals_without_a_duplicate() {
    reference();
    for ((method, path), env) in all_triggers() {
        let case = format!("502 after {method} {path}");
        let lost = || Fault::LostAnswer { trigger: Trigger::new(method, path) };
        let run = heals_within_the_run(&case, vec![lost(), lost()], env);
        assert!(
            run.stderr.contains("retrying GitHub request")
                || run.stderr.contains("no answer to the create")
                || run.stderr.contains("this run's commit: it was made"),
            "{case}: {}",
            run.stderr
        );
        if path == "/graphql" {
            // The commit was made, its answer lost: found on the branch, not made again.
            assert_eq!(count_requests(&run, "POST /graphql"), 1, "{case}: {}", run.stderr);
        }
        if (method, path) == ("POST", "/milestones") {
            // Both creates were made, both answers lost: each found by its marker.
            assert_eq!(run.stderr.matches("adopting it, no duplicate").count(), 2, "{}", run.stderr);
        }
    }
}

#[test]
fn a_dropped_or_late_answer_heals_without_a_duplicate() {
    reference();
    for ((method, path), env) in [
        (("POST", "/milestones"), &[][..]),
        (("PATCH", "/milestones/1"), &[]),
        (("POST", "/graphql"), &[]),
        (("PATCH", "/git/refs/heads/main"), &[GIT_DATABASE]),
    ] {
        let dropped = || Fault::DroppedAnswer { trigger: Trigger::new(method, path) };
        heals_within_the_run(&format!("dropped {method} {path}"), vec![dropped(), dropped()], env);
    }
    // An answer that comes after the client gave up (its timeout set to 400 ms here).
    for ((method, path), env) in [
        (("POST", "/milestones"), &[("MILESTONE_SYNC_TIMEOUT_MS", "400")][..]),
        (("PATCH", "/milestones/2"), &[("MILESTONE_SYNC_TIMEOUT_MS", "400")]),
        (("POST", "/graphql"), &[("MILESTONE_SYNC_TIMEOUT_MS", "400")]),
        (("POST", "/git/commits"), &[("MILESTONE_SYNC_TIMEOUT_MS", "400"), GIT_DATABASE]),
    ] {
        let slow = Fault::SlowAnswer { trigger: Trigger::new(method, path), delay: Duration::from_millis(1500) };
        let run = heals_within_the_run(&format!("late {method} {path}"), vec![slow], env);
        assert!(run.stderr.contains("no complete answer within 400 ms"), "{}", run.stderr);
    }
}

#[test]
fn a_5xx_before_handling_is_retried_and_a_create_sent_again() {
    reference();
    for (((method, path), env), status) in all_triggers().into_iter().zip([500, 502, 503, 504].into_iter().cycle()) {
        let fault =
            || Fault::Status { trigger: Trigger::new(method, path), status, body: json!({"message": "Server Error"}) };
        let run = heals_within_the_run(&format!("{status} on {method} {path}"), vec![fault(), fault()], env);
        if method == "POST" && path == "/milestones" {
            assert!(run.stderr.contains("did not make the milestone; sending the create again"), "{}", run.stderr);
        } else if path == "/graphql" {
            // Not re-sent by the client: the branch still at the head, the commit is sent again.
            assert!(run.stderr.contains("looking at main before sending it again"), "{}", run.stderr);
        } else {
            assert!(run.stderr.contains(&format!("GitHub answered {status}")), "{}", run.stderr);
        }
    }
}

#[test]
fn a_secondary_rate_limit_is_waited_out_as_told() {
    reference();
    let create = Fault::secondary_limit(Trigger::new("POST", "/milestones"), 403, Some(1));
    let reference_update = Fault::secondary_limit(Trigger::new("POST", "/graphql"), 429, Some(1));
    let run = heals_within_the_run("secondary limits", vec![create, reference_update], &[]);
    assert_eq!(run.stderr.matches("secondary rate limit").count(), 2, "{}", run.stderr);
    // Two seconds waited as told: the log and the summary say so.
    for text in [&run.stdout, &run.summary] {
        assert!(text.contains("The run waited") && text.contains("for GitHub's rate limits and retries"), "{text}");
    }
}

#[test]
fn writes_start_write_delay_apart_and_the_summary_says_what_pacing_cost() {
    reference();
    // Five writes, their starts 400 ms apart: at least 1.6 s from the first start to the last.
    let (repo, payload) = prepared();
    let started = std::time::Instant::now();
    let run = repo.run("push", &payload, &[("write-delay-ms", "400")]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert!(started.elapsed() >= Duration::from_millis(1600), "{:?}", started.elapsed());
    assert!(run.summary.contains("pacing writes (400 ms apart, `write-delay-ms`)"), "{}", run.summary);
    assert!(run.stdout.contains("The run waited"), "{}", run.stdout);
    assert_same_end_state(&repo, "paced");
    // Without pacing nothing is said.
    let (repo, payload) = prepared();
    let run = repo.run("push", &payload, &[]);
    assert!(!run.summary.contains("The run waited"), "{}", run.summary);
}

#[test]
fn random_5xx_and_lost_answers_from_a_seed_end_like_a_fault_free_run() {
    reference();
    let mut injected = 0;
    for seed in 1..=4 {
        let (repo, payload) = prepared();
        repo.standin.set_chaos(Some(Chaos { seed, failure_rate: 0.5, max_in_a_row: 2 }));
        let run = repo.run("push", &payload, &[]);
        assert_eq!(run.code(), 0, "seed {seed}: {}\n{}", run.stdout, run.stderr);
        injected += repo.standin.chaos_injected();
        // The log says what was retried.
        if run.stderr.contains("retrying") {
            assert!(run.stderr.contains("retrying GitHub request: GitHub answered 5"), "{}", run.stderr);
        }
        repo.standin.set_chaos(None);
        assert_same_end_state(&repo, &format!("chaos seed {seed}"));
    }
    assert!(injected >= 15, "the seeds injected {injected} failures");
}

#[test]
fn a_branch_that_moves_during_the_commit_gets_the_links_on_its_new_head() {
    reference();
    // Three pushes, each just before a commit request: in one request (each attempt refused
    // as stale, then rebuilt on the new head) and through the Git Database.
    let graphql = [("POST", "/graphql", "ONE.md"), ("POST", "/graphql", "TWO.md"), ("POST", "/graphql", "THREE.md")];
    let git_database =
        [("POST", "/git/commits", "ONE.md"), ("PATCH", "/git/refs", "TWO.md"), ("PATCH", "/git/refs", "THREE.md")];
    for (moves, env) in [(graphql, &[][..]), (git_database, &[GIT_DATABASE][..])] {
        let (repo, payload) = prepared();
        for (method, path, file) in moves {
            repo.standin.move_branch_when(
                Trigger::new(method, path),
                vec![(file.to_string(), "pushed meanwhile\n".into())],
                &format!("someone pushed {file}"),
            );
        }
        let run = repo.run_with("push", &payload, &[], env);
        assert_eq!(run.code(), 0, "{env:?}: {}\n{}", run.stdout, run.stderr);
        for file in ["ONE.md", "TWO.md", "THREE.md"] {
            assert_eq!(git(&repo.bare(), &["show", &format!("main:{file}")]), "pushed meanwhile");
        }
        assert!(run.stderr.matches("rebuilding on the new head").count() >= 2, "{}", run.stderr);
        // Everything else as without the pushes.
        let mut state = crate::common::scenario::end_state(&repo);
        for file in ["ONE.md", "TWO.md", "THREE.md"] {
            state.files.remove(file);
        }
        assert_eq!(&state, reference(), "{env:?}");
    }
}

#[test]
fn the_primary_limit_near_its_reset_is_waited_for() {
    reference();
    let (repo, payload) = prepared();
    // The run needs its four changes and a reserve of 8 for the commit: 12, a whole window
    // here. Other runs spent 4 of this window, which resets in two seconds: after its first
    // request the run has too few left for its first change and waits for the new window.
    repo.standin.set_rate_limit(12, Duration::from_secs(2));
    repo.standin.use_rate_limit(4);
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("waiting") && run.stderr.contains("rate limit"), "{}", run.stderr);
    assert!(repo.standin.requests().iter().all(|r| r.status != 403), "never refused");
    repo.standin.set_rate_limit(5000, Duration::from_secs(3600));
    assert_healed(&repo, "primary limit, near reset");
}

#[test]
fn the_primary_limit_far_from_its_reset_stops_cleanly_and_the_next_run_finishes() {
    reference();
    let (repo, payload) = prepared();
    // The list, the branch head (the plan writes files), two updates, then too few left for
    // the two creates and the commit's reserve.
    repo.standin.set_rate_limit(12, Duration::from_secs(3600));
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 1, "{}\n{}", run.stdout, run.stderr);
    // What was done is committed; what remains is named.
    assert!(run.summary.starts_with("## ❌ milestone-sync: failed — 1 error\n"), "{}", run.summary);
    assert!(run.summary.contains("primary rate limit"), "{}", run.summary);
    assert!(run.summary.contains("2 change(s) not attempted"), "{}", run.summary);
    for id in ["EPIC-003", "EPIC-004"] {
        assert!(run.summary.contains(&format!("| **{id}**")), "{id}: {}", run.summary);
    }
    assert!(run.stdout.contains("::error::the run stopped: GitHub's primary rate limit"), "{}", run.stdout);
    // The two updates done carry their base in the milestones' records: nothing to commit.
    assert_eq!(run.output("commit-sha").as_deref(), Some(""), "no commit for the done part");
    assert_eq!(repo.milestones().len(), 2);
    assert!(repo.standin.requests().iter().all(|r| r.status != 403), "stopped before being refused");

    // The next hour: the same run again finishes the job.
    repo.standin.set_rate_limit(5000, Duration::from_secs(3600));
    let rerun = repo.run("push", &payload, &[]);
    assert_eq!(rerun.code(), 0, "{}\n{}", rerun.stdout, rerun.stderr);
    assert_healed(&repo, "primary limit, far reset, re-run");
}

#[test]
fn a_missing_permission_names_it_stops_and_a_fixed_run_finishes() {
    reference();
    let (repo, payload) = prepared();
    repo.standin.fail_next(Fault::Status {
        trigger: Trigger::new("PATCH", "/milestones/"),
        status: 403,
        body: json!({
            "message": "Resource not accessible by integration",
            "documentation_url": "https://docs.github.com/rest/issues/milestones#update-a-milestone",
            "status": "403"
        }),
    });
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 1);
    let error = run.stdout.lines().find(|l| l.contains("Resource not accessible")).expect("an error annotation");
    assert!(error.starts_with("::error"), "{error}");
    assert!(error.contains("`issues: write`") && error.contains("permissions:"), "{error}");
    assert!(run.summary.contains("3 change(s) not attempted"), "the other changes are not sent: {}", run.summary);
    // Said once, for the run, whole: not pinned to a file that has nothing wrong.
    assert_eq!(run.stdout.lines().filter(|l| l.contains("Resource not accessible")).count(), 1, "{}", run.stdout);
    assert!(!error.starts_with("::error file="), "{error}");
    assert_eq!(run.summary.matches("Resource not accessible").count(), 1, "{}", run.summary);
    assert_eq!(repo.writes().len(), 1, "{:?}", repo.writes());

    let rerun = repo.run("push", &payload, &[]);
    assert_eq!(rerun.code(), 0, "{}\n{}", rerun.stdout, rerun.stderr);
    assert_healed(&repo, "missing permission, then granted");
}

#[test]
fn a_protected_branch_gets_a_pull_request_and_the_milestones_still_sync() {
    reference();
    for protection in [Protection::Classic, Protection::Ruleset] {
        let (repo, payload) = prepared();
        let main = repo.head();
        repo.standin.protect_branch(Some(protection));
        let run = repo.run("push", &payload, &[]);
        assert_eq!(run.code(), 0, "{protection:?}: {}\n{}", run.stdout, run.stderr);
        assert_eq!(repo.milestones().len(), 4, "milestones synced all the same");
        assert_eq!(repo.head(), main, "{protection:?}: main untouched");
        let pulls = repo.standin.pulls();
        assert_eq!(pulls.len(), 1, "{protection:?}: one pull request");
        assert_eq!(run.output("pull-request-number"), Some(pulls[0].number.to_string()));
        assert!(run.summary.contains("is protected and refused the commit"), "{}", run.summary);

        // With `commit: false` the run succeeds and leaves the links in the workspace.
        let run = repo.run("push", &payload, &[("commit", "false")]);
        assert_eq!(run.code(), 0, "{protection:?}: {}", run.stdout);
        let changed = run.output("artifacts-changed").unwrap();
        assert_eq!(changed.lines().count(), 2, "the two new links: {changed}");
        assert_eq!(repo.milestones().len(), 4, "no duplicate");

        // Once a token may push, the next run commits and ends like a fault-free run.
        repo.standin.protect_branch(None);
        git(&repo.workspace(), &["checkout", "-q", "--", "."]);
        let run = repo.run("push", &payload, &[]);
        assert_eq!(run.code(), 0, "{protection:?}: {}", run.stdout);
        assert_healed(&repo, &format!("{protection:?} protection lifted"));
    }
}

#[test]
fn a_title_taken_meanwhile_is_adopted_not_failed() {
    reference();
    // Another run made EPIC-003's milestone between this run's read and its create.
    let (repo, payload) = prepared();
    repo.standin.seed_milestone_when(
        Trigger::new("POST", "/milestones"),
        SeedMilestone {
            title: "Gamma".into(),
            description: Some(
                "What EPIC-003 delivers.\n\nIntelliManage-ID: EPIC-003\nIntelliManage-Project: demo".into(),
            ),
            due_on: Some("2026-12-01T12:00:00Z".into()),
            ..Default::default()
        },
    );
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("carries the marker (another run made it)"), "{}", run.stderr);
    assert_eq!(repo.milestones().len(), 4, "no duplicate");
    let gamma = repo.milestones().into_iter().find(|m| m.title == "Gamma").unwrap();
    assert!(repo.file_at_head(E3).unwrap().contains(&gamma.html_url));

    // A person made one with the title by hand: adopted, given the artifact's text and marker.
    let (repo, payload) = prepared();
    repo.standin.seed_milestone_when(
        Trigger::new("POST", "/milestones"),
        SeedMilestone { title: "Gamma".into(), description: Some("typed in the browser".into()), ..Default::default() },
    );
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    let gamma = repo.milestones().into_iter().find(|m| m.title == "Gamma").unwrap();
    assert_eq!(
        gamma.description.as_deref().map(without_record).as_deref(),
        Some("What EPIC-003 delivers.\n\nIntelliManage-ID: EPIC-003\nIntelliManage-Project: demo")
    );
    assert_eq!(gamma.due_on.as_deref(), Some("2026-12-01T08:00:00Z"));
    assert_eq!(repo.milestones().len(), 4);

    // The title went to another artifact's milestone: that is a real conflict, reported.
    let (repo, payload) = prepared();
    repo.standin.seed_milestone_when(
        Trigger::new("POST", "/milestones"),
        SeedMilestone {
            title: "Gamma".into(),
            description: Some("IntelliManage-ID: EPIC-099\nIntelliManage-Project: demo".into()),
            ..Default::default()
        },
    );
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 1);
    assert!(run.stdout.contains("a milestone titled \"Gamma\" already exists"), "{}", run.stdout);
    assert_eq!(repo.milestones().len(), 4, "Alpha, Beta, Delta and the other Gamma");
    assert!(!repo.file_at_head(E3).unwrap().contains("related_milestone"));
    assert!(repo.file_at_head(E1).unwrap().contains("Alpha v2") && repo.file_at_head(E2).is_some());
}
