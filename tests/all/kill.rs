//! A run killed at any point leaves nothing the next run cannot heal. The stand-in makes the
//! k-th write and holds its answer; the test kills the binary (SIGKILL) right then, runs the
//! same event again without faults, and checks the end state against a fault-free run: the
//! same milestones, the same file bytes at the head, no duplicate, nothing left to do. Every
//! write of the run is such a point, for k = 1, 2, … until a run finishes before its k-th.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::scenario::{self, assert_healed, end_state, prepared, reference};
use crate::common::*;
use github_standin::SeedMilestone;

/// Starts the binary for `event`, waits until the stand-in holds the answer to the k-th
/// write, and kills it then. Returns false when the run finished before its k-th write.
fn kill_after_write(
    repo: &Repo,
    k: usize,
    event: &str,
    payload: &str,
    inputs: &[(&str, &str)],
    env: &[(&str, &str)],
) -> bool {
    repo.standin.hold_after_write(k);
    let (mut cmd, files) = repo.command(event, payload, inputs);
    cmd.envs(env.iter().copied());
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the binary starts");
    let held = wait_for_hold_or_exit(repo, &mut child);
    if held {
        child.kill().expect("the binary can be killed");
    }
    let output = child.wait_with_output().expect("the binary ends");
    repo.standin.release_hold();
    let run = finish(output, &files);
    if held {
        assert_eq!(repo.standin.writes_done(), k, "killed right after write {k}");
        assert_eq!(run.code(), -1, "killed by a signal");
    } else {
        assert_eq!(run.code(), 0, "a run that was not killed succeeds: {}\n{}", run.stdout, run.stderr);
    }
    held
}

fn wait_for_hold_or_exit(repo: &Repo, child: &mut Child) -> bool {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if repo.standin.wait_for_hold(Duration::from_millis(5)) {
            return true;
        }
        if child.try_wait().expect("the binary can be waited for").is_some() {
            return false;
        }
    }
    panic!("the binary neither reached the write nor ended");
}

/// The commit through the Git Database: where GraphQL cannot carry it (or is turned off).
const GIT_DATABASE: &[(&str, &str)] = &[("MILESTONE_SYNC_COMMIT_API", "git-database")];

#[test]
fn a_push_run_killed_after_any_write_is_healed_by_the_next_run() {
    reference();
    for env in [&[][..], GIT_DATABASE] {
        let mut points = Vec::new();
        for k in 1.. {
            let (repo, payload) = prepared();
            if !kill_after_write(&repo, k, "push", &payload, &[], env) {
                break;
            }
            let killed_writes: Vec<String> = repo.writes().iter().map(|w| format!("{} {}", w.method, w.path)).collect();
            // The next run: the same event again, as "Re-run jobs" does (same payload, same checkout).
            let rerun = repo.run_with("push", &payload, &[], env);
            assert_eq!(rerun.code(), 0, "after write {k}: {}\n{}", rerun.stdout, rerun.stderr);
            assert_healed(&repo, &format!("{env:?} killed after write {k} ({})", killed_writes.last().unwrap()));
            points.push(killed_writes.last().unwrap().clone());
        }
        // Every write of the fault-free run was a kill point.
        assert!(points[..2].iter().all(|w| w.starts_with("PATCH") && w.contains("/milestones/")), "{points:?}");
        assert!(points[2..4].iter().all(|w| w.starts_with("POST") && w.ends_with("/milestones")), "{points:?}");
        if env.is_empty() {
            assert_eq!(points.len(), 5, "{points:?}");
            assert_eq!(points[4], "POST /graphql", "{points:?}");
        } else {
            assert_eq!(points.len(), 7, "{points:?}");
            assert!(points[4].ends_with("/git/trees") && points[5].ends_with("/git/commits"), "{points:?}");
            assert!(points[6].contains("/git/refs/heads/main"), "{points:?}");
        }
    }
}

/// A repository with no artifact and a milestone made by hand on GitHub, and the `created`
/// event for it, synced with `create-artifacts: true`: the milestone gets its marker and the
/// new artifact file is committed (two writes: the commit in one request, then the marker's
/// PATCH; four through the Git Database: tree, commit, ref, PATCH).
fn created_event() -> (Repo, String) {
    let repo = Repo::new(&[]);
    let m = repo.standin.seed_milestone(SeedMilestone {
        title: "Launch the beta".into(),
        description: Some("Everything for the public beta.".into()),
        due_on: Some("2026-09-30T12:00:00Z".into()),
        ..Default::default()
    });
    let payload = repo.milestone_event("created", m.number, serde_json::json!({}));
    (repo, payload)
}

/// The writes of a run, as `METHOD path` lines.
fn writes(repo: &Repo) -> Vec<String> {
    repo.writes().iter().map(|w| format!("{} {}", w.method, w.path)).collect()
}

/// Runs a full reconcile on `repo`, then returns its writes and the end state after it.
fn reconcile(repo: &Repo, case: &str) -> (Vec<String>, crate::common::scenario::EndState) {
    repo.pull();
    repo.standin.clear_requests();
    let run = repo.run("workflow_dispatch", "{}", &[]);
    assert_eq!(run.code(), 0, "{case}: {}", run.stdout);
    (writes(repo), end_state(repo))
}

#[test]
fn a_milestone_event_run_killed_after_any_write_is_healed_by_the_next_run() {
    for (env, writes) in [(&[][..], 2), (GIT_DATABASE, 4)] {
        the_created_event_killed_after_any_write_heals(env, writes);
    }
}

fn the_created_event_killed_after_any_write_heals(env: &[(&str, &str)], writes: usize) {
    let inputs = [("create-artifacts", "true")];
    let (clean, payload) = created_event();
    let run = clean.run_with("milestone", &payload, &inputs, env);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(clean.writes().len(), writes, "{:?}", clean.writes());
    let expected = end_state(&clean);
    assert!(expected.files.keys().any(|p| p.ends_with("epics/EPIC-001_launch-the-beta.md")), "{:?}", expected.files);
    // What a later reconcile does after the fault-free run (it records the new artifact's
    // sync base, which the event run does not write), to compare the healed runs with.
    let expected_later = reconcile(&clean, "after the fault-free run");

    let mut points = 0;
    for k in 1.. {
        let (repo, payload) = created_event();
        if !kill_after_write(&repo, k, "milestone", &payload, &inputs, env) {
            break;
        }
        let rerun = repo.run_with("milestone", &payload, &inputs, env);
        assert_eq!(rerun.code(), 0, "after write {k}: {}\n{}", rerun.stdout, rerun.stderr);
        let state = end_state(&repo);
        assert_eq!(state.milestones, expected.milestones, "killed after write {k}: milestones");
        assert_eq!(state.files, expected.files, "killed after write {k}: files at the head");
        // Nothing left over: a later reconcile does exactly what it does after a clean run.
        let case = format!("killed after write {k}, then reconciled");
        assert_eq!(reconcile(&repo, &case), expected_later, "{case}");
        points += 1;
    }
    assert_eq!(points, writes);
}

/// Two Epics pushed to a main protected by a ruleset, and the push's payload: its run puts
/// the links on the sync's branch and opens one pull request.
fn protected_push() -> (Repo, String) {
    let repo = Repo::new(&[]);
    let payload = repo.push(
        &[
            ("epics/EPIC-001_alpha.md", Some(&epic("EPIC-001", "Alpha", "🟡 To Do", ""))),
            ("epics/EPIC-002_beta.md", Some(&epic("EPIC-002", "Beta", "🟡 To Do", ""))),
        ],
        "plan two epics",
    );
    repo.standin.protect_branch(Some(github_standin::Protection::Ruleset));
    (repo, payload)
}

/// What a protected run leaves: the milestones, the files on the sync's branch, the open
/// pull requests' heads.
fn proposal_state(repo: &Repo) -> (Vec<scenario::MilestoneFields>, String, Vec<String>) {
    let listing = git(&repo.bare(), &["ls-tree", "-r", "milestone-sync/main"]);
    let open = repo.standin.pulls().into_iter().filter(|p| p.state == "open").map(|p| p.head).collect();
    (end_state(repo).milestones, listing, open)
}

#[test]
fn a_protected_run_killed_after_any_write_is_healed_without_a_second_pull_request() {
    let (clean, payload) = protected_push();
    let run = clean.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    let expected = proposal_state(&clean);
    assert_eq!(expected.2, ["milestone-sync/main"]);
    let mut points = Vec::new();
    for k in 1.. {
        let (repo, payload) = protected_push();
        if !kill_after_write(&repo, k, "push", &payload, &[], &[]) {
            break;
        }
        let killed = writes(&repo).last().cloned().unwrap_or_default();
        let rerun = repo.run("push", &payload, &[]);
        assert_eq!(rerun.code(), 0, "after write {k} ({killed}): {}\n{}", rerun.stdout, rerun.stderr);
        assert_eq!(proposal_state(&repo), expected, "killed after write {k} ({killed})");
        points.push(killed);
    }
    // Both creates, the tree, the commit, the new branch and the pull request were kill points.
    for write in ["POST /repos/acme/plan/milestones", "POST /repos/acme/plan/git/refs", "POST /repos/acme/plan/pulls"] {
        assert!(points.iter().any(|p| p == write), "{write} in {points:?}");
    }
}
