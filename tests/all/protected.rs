//! A protected default branch: the sync's file changes arrive as one pull request from its own
//! branch, kept up to date, and nothing is duplicated while it is open or after it is merged.
//! Each test checks the milestones, the bytes on both branches and the pull requests.

use crate::common::*;
use github_standin::Protection;
use serde_json::json;

const E1: &str = "epics/EPIC-001_alpha.md";
const E2: &str = "epics/EPIC-002_beta.md";
const SYNC_BRANCH: &str = "milestone-sync/main";

/// Two Epics pushed to a protected main, and the push's payload.
fn pushed(protection: Protection) -> (Repo, String) {
    let repo = Repo::new(&[]);
    let payload = repo.push(
        &[
            (E1, Some(&epic("EPIC-001", "Alpha", "🟡 To Do", "target_date = \"2026-05-23\"\n"))),
            (E2, Some(&epic("EPIC-002", "Beta", "🔵 In Progress", ""))),
        ],
        "plan two epics",
    );
    repo.standin.protect_branch(Some(protection));
    (repo, payload)
}

/// A file at the head of the sync's branch (project-relative path).
fn on_sync_branch(repo: &Repo, path: &str) -> Option<String> {
    let out = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(repo.bare())
        .args(["show", &format!("{SYNC_BRANCH}:{PROJECT_DIR}/{path}")])
        .output()
        .unwrap();
    out.status.success().then(|| String::from_utf8(out.stdout).unwrap())
}

fn sync_branch_head(repo: &Repo) -> String {
    git(&repo.bare(), &["rev-parse", SYNC_BRANCH])
}

fn open_pulls(repo: &Repo) -> Vec<github_standin::PullRecord> {
    repo.standin.pulls().into_iter().filter(|p| p.state == "open").collect()
}

fn milestone_writes(repo: &Repo) -> Vec<String> {
    repo.writes()
        .iter()
        .filter(|w| w.path.contains("/milestones"))
        .map(|w| format!("{} {}", w.method, w.path))
        .collect()
}

#[test]
fn a_first_sync_on_a_protected_branch_opens_one_pull_request_and_exits_0() {
    for protection in [Protection::Ruleset, Protection::Classic] {
        let (repo, payload) = pushed(protection);
        let main = repo.head();
        let run = repo.run("push", &payload, &[]);
        assert_eq!(run.code(), 0, "{protection:?}: {}\n{}", run.stdout, run.stderr);
        assert_eq!(repo.milestones().len(), 2, "{protection:?}: the milestones are synced");
        assert_eq!(repo.head(), main, "{protection:?}: main is untouched");

        let pulls = open_pulls(&repo);
        assert_eq!(pulls.len(), 1, "{protection:?}: {pulls:?}");
        let pr = &pulls[0];
        assert_eq!((pr.head.as_str(), pr.base.as_str()), (SYNC_BRANCH, "main"));
        assert_eq!(git(&repo.bare(), &["rev-parse", &format!("{SYNC_BRANCH}^")]), main, "one commit on main's head");
        // The branch differs from main only by the links (and the sync base beside them).
        let changed = git(&repo.bare(), &["diff", "--name-only", "main", SYNC_BRANCH]);
        assert_eq!(changed.lines().count(), 2, "{changed}");
        for (path, title) in [(E1, "Alpha"), (E2, "Beta")] {
            let before = repo.file_at_head(path).unwrap();
            let after = on_sync_branch(&repo, path).unwrap();
            let (old, new) = changed_lines(&before, &after);
            let url = repo.milestones().into_iter().find(|m| m.title == title).unwrap().html_url;
            assert!(old.is_empty(), "{path}: only added lines: {old:?}");
            assert_eq!(new[0], format!("related_milestone = \"{url}\"\n"), "{path}");
            assert!(new.len() == 2 && new[1].starts_with("milestone_sync_base = "), "{path}: {new:?}");
        }
        assert_eq!(run.output("pull-request-number"), Some(pr.number.to_string()));
        assert_eq!(
            run.output("pull-request-url"),
            Some(format!("https://github.com/{OWNER}/{REPO}/pull/{}", pr.number))
        );
        assert_eq!(run.output("commit-sha"), Some(sync_branch_head(&repo)));
        assert!(run.summary.contains(&format!("pull request [#{}]", pr.number)), "{}", run.summary);
        assert!(
            pr.title.contains("EPIC-001")
                && pr.body.as_deref().unwrap().contains("takes changes only through pull requests"),
            "{pr:?}"
        );
        assert!(!run.stdout.contains("::error"), "{}", run.stdout);
    }
}

#[test]
fn reruns_update_the_one_pull_request_and_a_merge_leaves_nothing_to_do() {
    let (repo, payload) = pushed(Protection::Ruleset);
    let main = repo.head();
    assert_eq!(repo.run("push", &payload, &[]).code(), 0);
    let number = open_pulls(&repo)[0].number;
    let first = sync_branch_head(&repo);

    // The same run again, before the merge: no new milestone, no second pull request, the
    // branch already holds exactly these changes.
    repo.standin.clear_requests();
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert!(milestone_writes(&repo).is_empty(), "{:?}", repo.writes());
    assert_eq!(repo.milestones().len(), 2);
    assert_eq!(open_pulls(&repo).len(), 1);
    assert_eq!(sync_branch_head(&repo), first, "unchanged");
    assert!(
        !repo.writes().iter().any(|w| w.path.ends_with("/pulls") || w.path.contains("/pulls/")),
        "{:?}",
        repo.writes()
    );

    // A milestone renamed on GitHub flows back through the same pull request, with the links;
    // GitHub keeps its title, main is untouched.
    let alpha = repo.milestones().into_iter().find(|m| m.title == "Alpha").unwrap();
    repo.standin.edit_milestone(alpha.number, |m| m.title = "Alpha (renamed on GitHub)".into());
    let event = repo.milestone_event("edited", alpha.number, json!({"title": {"from": "Alpha"}}));
    let run = repo.run("milestone", &event, &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(repo.head(), main);
    let pulls = open_pulls(&repo);
    assert_eq!((pulls.len(), pulls[0].number), (1, number), "{pulls:?}");
    let proposed = on_sync_branch(&repo, E1).unwrap();
    assert!(
        proposed.contains("title = \"Alpha (renamed on GitHub)\"") && proposed.contains(&alpha.html_url),
        "{proposed}"
    );
    assert!(
        on_sync_branch(&repo, E2).unwrap().contains("related_milestone"),
        "every pending change, not only the new one"
    );
    assert_eq!(git(&repo.bare(), &["rev-parse", &format!("{SYNC_BRANCH}^")]), main, "rebuilt on main's head");

    // A reconcile meanwhile: GitHub's title is not reverted (main's file still has the old
    // one), and nothing is written.
    repo.standin.clear_requests();
    let run = repo.run("workflow_dispatch", "{}", &[("conflict-resolution", "prefer_local")]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert!(milestone_writes(&repo).is_empty(), "{:?}", repo.writes());
    assert_eq!(
        repo.milestones().into_iter().find(|m| m.number == alpha.number).unwrap().title,
        "Alpha (renamed on GitHub)"
    );
    assert_eq!(on_sync_branch(&repo, E1).unwrap(), proposed);

    // Merged: the next run of any trigger writes nothing.
    repo.standin.merge_pull_request(number);
    assert!(repo.file_at_head(E1).unwrap().contains("Alpha (renamed on GitHub)"));
    repo.pull();
    for (event, payload) in [("workflow_dispatch", "{}".to_string()), ("push", repo.push_outside("# plan\n\nmore\n"))] {
        repo.standin.clear_requests();
        let run = repo.run(event, &payload, &[]);
        assert_eq!(run.code(), 0, "{event}: {}\n{}", run.stdout, run.stderr);
        assert!(repo.writes().is_empty(), "{event}: {:?}", repo.writes());
    }
    assert!(open_pulls(&repo).is_empty());

    // Later changes reuse the branch, in a new pull request.
    let beta = repo.milestones().into_iter().find(|m| m.title == "Beta").unwrap();
    repo.standin.edit_milestone(beta.number, |m| m.state = "closed".into());
    let run = repo.run("milestone", &repo.milestone_event("closed", beta.number, json!({})), &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    let pulls = open_pulls(&repo);
    assert!(pulls.len() == 1 && pulls[0].number != number, "{pulls:?}");
    assert!(on_sync_branch(&repo, E2).unwrap().contains("status = \"🟢 Done\""));
}

#[test]
fn commit_pull_request_takes_that_path_without_trying_the_branch() {
    let repo = Repo::new(&[]);
    let payload = repo.push(&[(E1, Some(&epic("EPIC-001", "Alpha", "🟡 To Do", "")))], "plan alpha");
    let main = repo.head();
    let run = repo.run("push", &payload, &[("commit", "pull-request")]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(repo.head(), main);
    assert!(
        !repo.writes().iter().any(|w| w.method == "PATCH" && w.path.ends_with("/git/refs/heads/main")),
        "{:?}",
        repo.writes()
    );
    assert_eq!(open_pulls(&repo).len(), 1);
    assert!(on_sync_branch(&repo, E1).unwrap().contains("related_milestone"));
    // The milestone's record names main's file (no record yet), not the pull request's: runs
    // until the merge do not take main for a stale checkout.
    let m = &repo.milestones()[0];
    assert!(record_of(m.description.as_deref().unwrap()).unwrap().contains(" file="), "{m:?}");
}

#[test]
fn where_actions_may_not_open_pull_requests_the_run_fails_with_the_fix() {
    let (repo, payload) = pushed(Protection::Ruleset);
    repo.standin.forbid_pull_requests(true);
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 1, "{}\n{}", run.stdout, run.stderr);
    let error = run
        .stdout
        .lines()
        .find(|l| l.starts_with("::error") && l.contains("not permitted"))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(
        error.contains("Allow GitHub Actions to create and approve pull requests") && error.contains("App token"),
        "{error}"
    );
    assert_eq!(repo.milestones().len(), 2, "the milestones are synced either way");
    assert!(repo.standin.pulls().is_empty());

    // Allowed again: the next run opens it, with no second milestone.
    repo.standin.forbid_pull_requests(false);
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!((repo.milestones().len(), open_pulls(&repo).len()), (2, 1));
}
