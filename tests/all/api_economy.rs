//! API economy: runs that have little to do send few requests. These check which requests
//! a run sends (from the stand-in's log), not how long they take: speed is measured by the
//! benchmark (`cargo bench --bench sync`, docs/benchmarks.md), never in tests.

use crate::common::*;
use serde_json::json;

/// (method, path) of every request the stand-in served since it was last cleared.
fn requests(repo: &Repo) -> Vec<(String, String)> {
    repo.standin.requests().into_iter().map(|r| (r.method, r.path)).collect()
}

/// `n` Epics pushed and synced (one push, one run); the workspace at the head with the links.
fn synced(n: usize) -> Repo {
    let repo = Repo::new(&[]);
    let files: Vec<(String, String)> = (1..=n)
        .map(|i| {
            (format!("epics/EPIC-{i:03}_e{i}.md"), epic(&format!("EPIC-{i:03}"), &format!("Epic {i}"), "🟡 To Do", ""))
        })
        .collect();
    let changes: Vec<(&str, Option<&str>)> = files.iter().map(|(p, c)| (p.as_str(), Some(c.as_str()))).collect();
    let payload = repo.push(&changes, "plan");
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(repo.milestones().len(), n);
    repo.pull();
    repo
}

/// A push of a commit outside the plan, with its payload.
fn push_outside_the_plan(repo: &Repo) -> String {
    let ws = repo.workspace();
    let old = std::fs::read_to_string(ws.join("src/main.rs")).unwrap_or_default();
    write(&ws.join("src/main.rs"), &format!("{old}fn main() {{}}\n"));
    git(&ws, &["add", "-A"]);
    git(&ws, &["commit", "-qm", "code, not plan"]);
    let before = git(&ws, &["rev-parse", "HEAD^"]);
    let after = git(&ws, &["rev-parse", "HEAD"]);
    git(&ws, &["push", "-q", "origin", "main"]);
    push_payload(&before, &after)
}

#[test]
fn a_push_that_touches_no_artifact_reads_the_list_once_and_writes_nothing() {
    let repo = synced(1);
    let payload = push_outside_the_plan(&repo);
    repo.standin.clear_requests();
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    // Within the budget every run converges everything: one list page, nothing to write.
    assert_eq!(requests(&repo), [("GET".to_string(), format!("/repos/{OWNER}/{REPO}/milestones"))]);
    // With no budget the push keeps to what it touched: nothing at all.
    let payload = push_outside_the_plan(&repo);
    repo.standin.clear_requests();
    let run = repo.run("push", &payload, &[("reconcile-budget", "0")]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(requests(&repo), Vec::<(String, String)>::new());
    assert!(run.summary.contains("reconcile-budget"), "the summary says the run kept to its trigger: {}", run.summary);
}

#[test]
fn a_push_that_changes_one_field_is_the_list_and_one_update_with_no_commit() {
    // 101 linked artifacts: the whole list takes two pages.
    let repo = synced(101);
    let path = "epics/EPIC-007_e7.md";
    let file = repo.file_at_head(path).unwrap();
    let number = repo.milestones().iter().find(|m| m.title == "Epic 7").unwrap().number;
    let payload =
        repo.push(&[(path, Some(&file.replace("title = \"Epic 7\"", "title = \"Epic 7, renamed\"")))], "rename");
    let head = repo.head();
    repo.standin.clear_requests();
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    let milestone = format!("/repos/{OWNER}/{REPO}/milestones/{number}");
    let reqs = requests(&repo);
    let pages = reqs.iter().filter(|(m, p)| m == "GET" && p.ends_with("/milestones")).count();
    assert_eq!((pages, reqs.len()), (2, 3), "{reqs:?}");
    assert_eq!(reqs[2], ("PATCH".to_string(), milestone.clone()), "{reqs:?}");
    assert_eq!(repo.head(), head, "no commit for the sync's bookkeeping");
    assert_eq!(repo.milestones().iter().find(|m| m.number == number).unwrap().title, "Epic 7, renamed");

    // Above the budget (one page here) the push reads only the milestone it touched.
    let file = repo.file_at_head(path).unwrap();
    let payload = repo.push(&[(path, Some(&file.replace("Epic 7, renamed", "Epic 7, again")))], "rename again");
    repo.standin.clear_requests();
    let run = repo.run("push", &payload, &[("reconcile-budget", "1")]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(requests(&repo), [("GET".to_string(), milestone.clone()), ("PATCH".to_string(), milestone)]);

    // A GitHub-side edit of another field of that milestone still flows into the file: the
    // single read sees it as the list would.
    repo.standin.edit_milestone(number, |m| m.due_on = Some("2027-03-01T12:00:00Z".into()));
    let file = repo.file_at_head(path).unwrap();
    let payload = repo.push(&[(path, Some(&file.replace("🟡 To Do", "🔵 In Progress")))], "progress");
    repo.standin.clear_requests();
    let run = repo.run("push", &payload, &[("reconcile-budget", "1")]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert!(!requests(&repo).iter().any(|(_, p)| p.ends_with("/milestones")), "{:?}", requests(&repo));
    assert!(repo.file_at_head(path).unwrap().contains("target_date = \"2027-03-01\""));
}

#[test]
fn a_push_with_a_new_artifact_still_reads_the_list_to_adopt_by_title() {
    let repo = synced(101);
    let existing = repo
        .standin
        .seed_milestone(github_standin::SeedMilestone { title: "Made by hand".into(), ..Default::default() });
    let payload =
        repo.push(&[("epics/EPIC-200_hand.md", Some(&epic("EPIC-200", "Made by hand", "🟡 To Do", "")))], "new");
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        repo.file_at_head("epics/EPIC-200_hand.md").unwrap().contains(&format!("/milestone/{}\"", existing.number)),
        "adopted, not duplicated"
    );
    assert_eq!(repo.milestones().len(), 102);
}

#[test]
fn a_milestone_event_with_nothing_to_change_reads_the_list_and_writes_nothing() {
    let repo = synced(1);
    let number = repo.milestones()[0].number;
    // The event GitHub sends for the sync's own update of the milestone, or a redelivery.
    let payload =
        repo.milestone_event("edited", number, json!({"title": {"from": "Epic 1 (before a push renamed it)"}}));
    repo.standin.clear_requests();
    let run = repo.run("milestone", &payload, &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(requests(&repo), [("GET".to_string(), format!("/repos/{OWNER}/{REPO}/milestones"))]);
    assert!(run.stdout.contains("nothing to change"), "{}", run.stdout);
    // Above the budget the payload is planned on: nothing to change costs nothing.
    repo.standin.clear_requests();
    let run = repo.run("milestone", &payload, &[("reconcile-budget", "0")]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(requests(&repo), Vec::<(String, String)>::new());

    // An event that changes the file: the list (or, above the budget, the milestone itself,
    // since the payload is only a hint), the branch head (the plan is made on it), then one
    // commit in one request (its expected head the one read), then the milestone's record of
    // the base, which tells a run queued behind this one, whose checkout is older than the
    // commit, to read the branch head.
    for budget in ["5", "0"] {
        let title = format!("Epic 1, renamed ({budget})");
        let before = repo.milestones()[0].title.clone();
        repo.standin.edit_milestone(number, |m| m.title = title.clone());
        let payload = repo.milestone_event("edited", number, json!({"title": {"from": before}}));
        repo.pull();
        repo.standin.clear_requests();
        let run = repo.run("milestone", &payload, &[("reconcile-budget", budget)]);
        assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
        let reqs = requests(&repo);
        let read = if budget == "0" {
            format!("/repos/{OWNER}/{REPO}/milestones/{number}")
        } else {
            format!("/repos/{OWNER}/{REPO}/milestones")
        };
        assert_eq!(reqs[0], ("GET".to_string(), read), "{reqs:?}");
        assert_eq!(reqs.len(), 4, "{reqs:?}");
        assert_eq!(reqs[1], ("GET".to_string(), format!("/repos/{OWNER}/{REPO}/git/ref/heads/main")), "{reqs:?}");
        assert_eq!(reqs[2], ("POST".to_string(), "/graphql".to_string()), "{reqs:?}");
        assert_eq!(reqs[3], ("PATCH".to_string(), format!("/repos/{OWNER}/{REPO}/milestones/{number}")), "{reqs:?}");
        assert!(repo.file_at_head("epics/EPIC-001_e1.md").unwrap().contains(&format!("title = \"{title}\"")));
    }
}

/// A reconcile that only brings GitHub's values into more files than one GraphQL request
/// carries, planned on a checkout whose branch was rewound meanwhile (a force push dropped its
/// last commit): the Git Database's fast-forward check cannot see a rewind, so the head is
/// read, and the commit is rebuilt on it; the dropped commit does not come back.
#[test]
fn a_large_flow_back_commit_reads_the_head_and_does_not_undo_a_rewind() {
    let repo = synced(1001);
    for m in repo.milestones() {
        repo.standin.edit_milestone(m.number, |m| m.title = format!("{} (renamed)", m.title));
    }
    // The checkout holds a commit the branch no longer has.
    let ws = repo.workspace();
    write(&ws.join("DROPPED.md"), "force-pushed away\n");
    git(&ws, &["add", "-A"]);
    git(&ws, &["commit", "-qm", "to be dropped"]);
    git(&ws, &["push", "-q", "origin", "main"]);
    let kept = git(&ws, &["rev-parse", "HEAD^"]);
    git(&repo.bare(), &["update-ref", "refs/heads/main", &kept]);
    repo.standin.clear_requests();
    let run = repo.run("workflow_dispatch", "{}", &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(repo.at_head("DROPPED.md"), None, "the rewind is not undone");
    assert_eq!(git(&repo.bare(), &["rev-parse", "main^"]), kept, "one commit on the rewound head");
    assert!(repo.file_at_head("epics/EPIC-1001_e1001.md").unwrap().contains("title = \"Epic 1001 (renamed)\""));
    let reqs = requests(&repo);
    assert!(!reqs.iter().any(|(_, p)| p == "/graphql"), "too large for one request: {:?}", &reqs[reqs.len() - 6..]);
}

#[test]
fn a_commit_of_more_than_a_thousand_files_is_one_commit_of_chained_trees() {
    // 1,001 new Epics: every file gets its link in one commit, more than one GraphQL request
    // carries: through the Git Database, sent as two trees (1,000 files, then 1 on top of it),
    // so that no request carries the whole plan.
    let repo = synced(1001);
    let head = repo.head();
    let reqs = requests(&repo);
    let trees = reqs.iter().filter(|(m, p)| m == "POST" && p.ends_with("/git/trees")).count();
    let commits = reqs.iter().filter(|(m, p)| m == "POST" && p.ends_with("/git/commits")).count();
    assert_eq!((trees, commits), (2, 1), "{:?}", &reqs[reqs.len() - 6..]);
    assert_eq!(git(&repo.bare(), &["log", "-1", "--format=%s", &format!("{head}^")]), "plan", "one commit on the push");
    let changed = git(&repo.bare(), &["diff", "--name-only", &format!("{head}^"), &head]);
    assert_eq!(changed.lines().count(), 1001);
    for i in [1, 500, 1000, 1001] {
        let file = repo.file_at_head(&format!("epics/EPIC-{i:03}_e{i}.md")).unwrap();
        assert!(file.contains("related_milestone = \"https://github.com/acme/plan/milestone/"), "{i}: {file}");
    }
}
