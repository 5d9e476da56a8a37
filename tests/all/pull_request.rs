//! A pull request previews what merging it would do, and writes nothing: the real binary on
//! GitHub's test merge, against the stand-in. With `pr-comment: true` the preview is also one
//! comment on the pull request, updated in place.

use crate::common::pull_request::PullRequest;
use crate::common::*;
use github_standin::{Fault, RequestRecord, Trigger};

const E1: &str = "epics/EPIC-001_alpha.md";
const E2: &str = "epics/EPIC-002_beta.md";
const E3: &str = "epics/EPIC-003_gamma.md";

/// Alpha and Beta, pushed and synced: both have milestones and links at the head of main.
fn synced_repo() -> Repo {
    let repo = two_epics_synced("🔵 In Progress");
    assert_eq!(repo.milestones().len(), 2);
    repo.pull();
    repo
}

/// The file at the head of main, as the pull request's branch starts from it.
fn at_head(repo: &Repo, path: &str) -> String {
    repo.file_at_head(path).unwrap()
}

fn comment_requests(repo: &Repo) -> Vec<RequestRecord> {
    repo.writes().into_iter().filter(|w| w.path.contains("/issues/")).collect()
}

fn plan_actions(run: &Run) -> Vec<(String, String)> {
    let plan: serde_json::Value = serde_json::from_str(&run.output("plan").unwrap()).unwrap();
    let mut actions: Vec<(String, String)> = plan
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["artifact_id"].as_str().unwrap().to_string(), c["action"].as_str().unwrap().to_string()))
        .collect();
    actions.sort();
    actions
}

fn preview(repo: &Repo, pr: &PullRequest, action: &str, inputs: &[(&str, &str)]) -> Run {
    let payload = repo.pull_request_payload(action, pr, "main");
    repo.run_pull_request("pull_request", &payload, pr, inputs)
}

#[test]
fn a_pull_request_previews_adds_changes_and_removals_and_writes_nothing() {
    let repo = synced_repo();
    let head = repo.head();
    let milestones = repo.milestones();
    let renamed = at_head(&repo, E1).replace("title = \"Alpha\"", "title = \"Alpha prime\"");
    let pr = repo.open_pull_request(
        7,
        "plan-gamma",
        &[(E1, Some(&renamed)), (E2, None), (E3, Some(&epic("EPIC-003", "Gamma", "🟡 To Do", "")))],
    );
    repo.standin.clear_requests();

    // `dry-run: false` does not matter: a preview never writes.
    let run = preview(&repo, &pr, "opened", &[("dry-run", "false")]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.summary.starts_with(
            "## 🔎 Preview: merging #7 would create 1 milestone, update 1 milestone and close 1 milestone\n"
        ),
        "{}",
        run.summary
    );
    let row = |id: &str| run.summary.lines().find(|l| l.contains(&format!("**{id}**"))).unwrap_or_default().to_string();
    assert!(row("EPIC-003").ends_with("| new | would create |"), "{}", run.summary);
    let alpha = milestones.iter().find(|m| m.title == "Alpha").unwrap();
    assert!(row("EPIC-001").contains(&format!("[#{}]({})", alpha.number, alpha.html_url)), "{}", row("EPIC-001"));
    assert!(row("EPIC-001").ends_with("| milestone: title \"Alpha\" → \"Alpha prime\" |"), "{}", row("EPIC-001"));
    assert!(row("EPIC-002").ends_with("| would close: the file was removed |"), "{}", row("EPIC-002"));
    assert!(
        row("EPIC-002").contains("(file removed)<pre>epics/EPIC-002_beta.md</pre>"),
        "no link to a file that is gone: {}",
        row("EPIC-002")
    );
    assert!(run.summary.contains("nothing was written"), "{}", run.summary);

    assert_eq!(
        plan_actions(&run),
        vec![
            ("EPIC-001".to_string(), "update".to_string()),
            ("EPIC-002".to_string(), "close_removed".to_string()),
            ("EPIC-003".to_string(), "create".to_string()),
        ]
    );
    let plan: serde_json::Value = serde_json::from_str(&run.output("plan").unwrap()).unwrap();
    let update = plan.as_array().unwrap().iter().find(|c| c["action"] == "update").unwrap();
    assert_eq!(update["fields"], serde_json::json!(["title"]));
    assert_eq!(update["patch"]["title"], "Alpha prime");
    assert_eq!(run.output("created").as_deref(), Some("1"));
    assert_eq!(run.output("commit-sha").as_deref(), Some(""));

    // Nothing written: no request that changes anything, no commit, milestones as they were.
    assert_eq!(repo.writes(), vec![], "no POST, PATCH or DELETE");
    assert_eq!(repo.head(), head, "no commit");
    assert_eq!(repo.milestones(), milestones);
    assert!(!run.stdout.contains("::group::Apply"), "{}", run.stdout);
    // Reading took one list of milestones and nothing else.
    let reads: Vec<String> = repo.standin.requests().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert_eq!(reads, vec![format!("GET /repos/{OWNER}/{REPO}/milestones")]);
}

#[test]
fn the_sticky_comment_is_created_once_and_updated_in_place() {
    let repo = Repo::new(&[]);
    repo.standin.open_pull_request(7);
    let human = repo.standin.add_comment(7, OWNER, "Thanks! Reviewing.");
    let pr = repo.open_pull_request(7, "plan-alpha", &[(E1, Some(&epic("EPIC-001", "Alpha", "🟡 To Do", "")))]);

    let run = preview(&repo, &pr, "opened", &[("pr-comment", "true")]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    let comments = repo.standin.comments(7);
    assert_eq!(comments.len(), 2, "{comments:#?}");
    assert_eq!(comments[0], human, "other comments are left alone");
    let ours = comments[1].clone();
    assert!(ours.body.starts_with("<!-- milestone-sync preview root=.ruru/projects project=* -->\n"), "{}", ours.body);
    assert!(ours.body.contains("## 🔎 Preview: merging #7 would create 1 milestone\n"), "{}", ours.body);
    assert!(ours.body.contains("**EPIC-001** Alpha"), "{}", ours.body);
    assert!(ours.body.contains(&pr.merge_sha[..7]), "names the commit: {}", ours.body);
    assert!(run.stdout.contains(&format!("preview comment posted on #7: {}", ours.html_url)), "{}", run.stdout);
    assert!(repo.milestones().is_empty());

    // The same run again: the comment already says it, so nothing is sent.
    repo.standin.clear_requests();
    let run = preview(&repo, &pr, "reopened", &[("pr-comment", "true")]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    assert_eq!(comment_requests(&repo), vec![]);
    assert_eq!(repo.standin.comments(7).len(), 2);

    // A push to the pull request: the same comment, updated in place.
    let pr = repo.push_to_pull_request(&pr, &[(E2, Some(&epic("EPIC-002", "Beta", "🟡 To Do", "")))]);
    repo.standin.clear_requests();
    let run = preview(&repo, &pr, "synchronize", &[("pr-comment", "true")]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    let comments = repo.standin.comments(7);
    assert_eq!(comments.len(), 2, "never a second comment");
    assert_eq!(comments[1].id, ours.id);
    assert!(comments[1].body.contains("would create 2 milestones"), "{}", comments[1].body);
    assert!(comments[1].body.contains("**EPIC-002** Beta"), "{}", comments[1].body);
    let writes = comment_requests(&repo);
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(
        (writes[0].method.as_str(), writes[0].path.as_str()),
        ("PATCH", format!("/repos/{OWNER}/{REPO}/issues/comments/{}", ours.id).as_str())
    );

    // The pull request drops its artifacts again: the comment says merging changes nothing.
    let pr = repo.push_to_pull_request(&pr, &[(E1, None), (E2, None)]);
    let run = preview(&repo, &pr, "synchronize", &[("pr-comment", "true")]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    let comments = repo.standin.comments(7);
    assert_eq!(comments.len(), 2);
    assert_eq!(comments[1].id, ours.id);
    assert!(comments[1].body.contains("## 🔎 Preview: merging #7 would change nothing\n"), "{}", comments[1].body);
    assert!(comments[1].body.contains("changes no artifact"), "{}", comments[1].body);
    assert!(repo.milestones().is_empty());
    assert_eq!(repo.writes().iter().filter(|w| w.path.contains("/milestones")).count(), 0);
}

#[test]
fn a_pull_request_that_touches_no_artifact_says_so_without_a_comment_or_a_request() {
    let repo = Repo::new(&[(E1, &epic("EPIC-001", "Alpha", "🟡 To Do", ""))]);
    repo.standin.open_pull_request(3);
    let pr = repo.open_pull_request(3, "docs", &[("/README.md", Some("# plan\n\nMore words.\n"))]);
    let run = preview(&repo, &pr, "opened", &[("pr-comment", "true")]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.summary.starts_with("## 🔎 Preview: merging #3 would change nothing\n"), "{}", run.summary);
    assert!(
        run.summary.contains("Pull request #3 changes no artifact that syncs under `.ruru/projects`."),
        "{}",
        run.summary
    );
    assert_eq!(run.output("plan").as_deref(), Some("[]"));
    assert!(repo.standin.comments(3).is_empty(), "no comment to say nothing");
    assert!(run.stdout.contains("no preview comment on #3"), "{}", run.stdout);
    // Only the comment lookup: no milestone was needed.
    assert!(repo.standin.requests().iter().all(|r| r.method == "GET" && r.path.contains("/issues/3/comments")));
}

#[test]
fn a_pull_request_into_another_branch_is_not_previewed() {
    let repo = Repo::new(&[]);
    repo.standin.open_pull_request(5);
    let pr = repo.open_pull_request(5, "plan-alpha", &[(E1, Some(&epic("EPIC-001", "Alpha", "🟡 To Do", "")))]);
    let payload = repo.pull_request_payload("opened", &pr, "release");
    let run = repo.run_pull_request("pull_request", &payload, &pr, &[("pr-comment", "true")]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    assert!(
        run.stdout.contains("::notice::pull request #5 merges into release, not the default branch (main)"),
        "{}",
        run.stdout
    );
    assert!(run.summary.contains("nothing to do"), "{}", run.summary);
    assert_eq!(repo.standin.requests(), vec![], "not a single request");
    assert!(repo.standin.comments(5).is_empty());
}

#[test]
fn a_refused_comment_is_a_warning_naming_the_permission() {
    let repo = Repo::new(&[]);
    repo.standin.open_pull_request(9);
    let pr = repo.open_pull_request(9, "plan-alpha", &[(E1, Some(&epic("EPIC-001", "Alpha", "🟡 To Do", "")))]);
    let mut payload = repo.pull_request_payload("opened", &pr, "main");
    payload["pull_request"]["head"]["repo"]["full_name"] = "someone/plan".into();
    payload["pull_request"]["head"]["repo"]["id"] = 424242.into();
    // A fork's token on `pull_request`: it reads, it may not write.
    repo.standin.set_read_only(true);
    let run = repo.run_pull_request("pull_request", &payload, &pr, &[("pr-comment", "true")]);
    assert_eq!(run.code(), 0, "a refused comment never fails the step:\n{}", run.stdout);
    let warning = run.stdout.lines().find(|l| l.starts_with("::warning::")).unwrap_or_default();
    assert!(warning.contains("could not be posted as a comment on #9"), "{}", run.stdout);
    assert!(warning.contains("`pull-requests: write`"), "{warning}");
    assert!(warning.contains("from a fork gets a read-only token"), "{warning}");
    assert!(run.summary.starts_with("## 🔎 Preview: merging #9 would create 1 milestone\n"), "{}", run.summary);
    assert!(run.summary.contains("⚠️ the preview could not be posted"), "{}", run.summary);
    assert!(repo.standin.comments(9).is_empty());
    assert!(repo.milestones().is_empty());
}

#[test]
fn a_pull_request_adding_a_broken_artifact_fails_its_check() {
    let repo = Repo::new(&[]);
    let broken = "+++\nid = \"EPIC-004\"\ntitle = \"Broken\ntype = \"🗺️ Epic\"\n+++\nbody\n";
    let pr = repo.open_pull_request(
        2,
        "broken",
        &[(E1, Some(&epic("EPIC-001", "Alpha", "🟡 To Do", ""))), ("epics/EPIC-004_broken.md", Some(broken))],
    );
    let run = preview(&repo, &pr, "opened", &[]);
    assert_eq!(run.code(), 1, "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!("::error file={PROJECT_DIR}/epics/EPIC-004_broken.md,line=3::")),
        "{}",
        run.stdout
    );
    assert!(
        run.summary.starts_with("## ❌ Preview: merging #2 would create 1 milestone, and fail with 1 error\n"),
        "{}",
        run.summary
    );
    assert_eq!(repo.writes(), vec![]);
}

#[test]
fn the_head_checked_out_is_compared_from_where_it_left_main() {
    let repo = Repo::new(&[]);
    let pr = repo.open_pull_request(4, "plan-alpha", &[(E1, Some(&epic("EPIC-001", "Alpha", "🟡 To Do", "")))]);
    // main moves on with an artifact of its own, which is not the pull request's.
    repo.standin
        .push_files(vec![(format!("{PROJECT_DIR}/{E2}"), epic("EPIC-002", "Beta", "🟡 To Do", ""))], "beta, on main");
    git(&repo.workspace(), &["fetch", "-q", "origin"]);
    git(&repo.workspace(), &["checkout", "-q", "--detach", &pr.head_sha]);
    let pr = PullRequest { base_sha: repo.head(), ..pr };
    let run = preview(&repo, &pr, "opened", &[]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    assert_eq!(plan_actions(&run), vec![("EPIC-001".to_string(), "create".to_string())]);
}

#[test]
fn a_shallow_checkout_previews_the_pull_requests_files_through_githubs_compare() {
    let repo = Repo::new(&[(E1, &epic("EPIC-001", "Alpha", "🟡 To Do", ""))]);
    let pr = repo.open_pull_request(6, "plan-beta", &[(E2, Some(&epic("EPIC-002", "Beta", "🟡 To Do", "")))]);
    repo.shallow_checkout(&pr);
    repo.standin.clear_requests();
    let run = preview(&repo, &pr, "opened", &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("is not in the checkout"), "{}", run.stdout);
    assert!(run.stdout.contains("asking GitHub's compare API"), "{}", run.stdout);
    assert!(!run.summary.contains("Every artifact is treated as touched"), "{}", run.summary);
    assert_eq!(plan_actions(&run), vec![("EPIC-002".to_string(), "create".to_string())]);
    // One compare; an added artifact needs no earlier version; then the milestones.
    let reads: Vec<String> = repo.standin.requests().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert_eq!(
        reads,
        vec![
            format!("GET /repos/{OWNER}/{REPO}/compare/{}...{}", pr.base_sha, pr.head_sha),
            format!("GET /repos/{OWNER}/{REPO}/milestones"),
        ]
    );
    assert_eq!(repo.writes(), vec![]);
}

#[test]
fn missing_history_github_cannot_fill_previews_every_artifact_and_says_why() {
    let repo = Repo::new(&[(E1, &epic("EPIC-001", "Alpha", "🟡 To Do", ""))]);
    let pr = repo.open_pull_request(6, "plan-beta", &[(E2, Some(&epic("EPIC-002", "Beta", "🟡 To Do", "")))]);
    repo.shallow_checkout(&pr);
    repo.standin.fail_next(Fault::Status {
        trigger: Trigger::new("GET", "/compare/"),
        status: 404,
        body: serde_json::json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}),
    });
    let run = preview(&repo, &pr, "opened", &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.summary.contains("Every artifact is treated as touched"), "{}", run.summary);
    assert!(run.summary.contains("fetch-depth"), "{}", run.summary);
    assert!(run.summary.contains("GitHub could not tell either"), "{}", run.summary);
    assert_eq!(
        plan_actions(&run),
        vec![("EPIC-001".to_string(), "create".to_string()), ("EPIC-002".to_string(), "create".to_string())]
    );
    assert_eq!(repo.writes(), vec![]);
}

#[test]
fn pull_request_target_on_the_base_branch_says_how_to_check_out_the_merge() {
    let repo = Repo::new(&[]);
    let pr = repo.open_pull_request(8, "plan-alpha", &[(E1, Some(&epic("EPIC-001", "Alpha", "🟡 To Do", "")))]);
    // pull_request_target's default checkout: the base branch.
    git(&repo.workspace(), &["checkout", "-q", "--detach", "origin/main"]);
    let payload = repo.pull_request_payload("opened", &pr, "main");
    let run = repo.run_with_env("pull_request_target", &payload.to_string(), &[], &[]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    let notice = run.stdout.lines().find(|l| l.starts_with("::notice::")).unwrap_or_default();
    assert!(notice.contains("holds none of its changes"), "{}", run.stdout);
    assert!(notice.contains("ref: refs/pull/<number>/merge"), "{notice}");
    assert_eq!(repo.standin.requests(), vec![]);
}

#[test]
fn a_closed_pull_request_is_not_previewed() {
    let repo = Repo::new(&[]);
    let pr = repo.open_pull_request(1, "plan-alpha", &[(E1, Some(&epic("EPIC-001", "Alpha", "🟡 To Do", "")))]);
    let mut payload = repo.pull_request_payload("closed", &pr, "main");
    payload["pull_request"]["state"] = "closed".into();
    let run = repo.run_pull_request("pull_request", &payload, &pr, &[]);
    assert_eq!(run.code(), 0);
    assert!(run.stdout.contains("::notice::pull request #1 is closed"), "{}", run.stdout);
    assert_eq!(repo.standin.requests(), vec![]);
}

#[test]
fn a_comment_whose_answer_was_lost_is_found_not_posted_twice() {
    let repo = Repo::new(&[]);
    repo.standin.open_pull_request(11);
    let pr = repo.open_pull_request(11, "plan-alpha", &[(E1, Some(&epic("EPIC-001", "Alpha", "🟡 To Do", "")))]);
    // GitHub stores the comment, the answer never arrives.
    repo.standin.fail_next(Fault::LostAnswer { trigger: Trigger::new("POST", "/issues/11/comments") });
    let run = preview(&repo, &pr, "opened", &[("pr-comment", "true")]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    assert!(!run.stdout.contains("::warning::"), "{}", run.stdout);
    let comments = repo.standin.comments(11);
    assert_eq!(comments.len(), 1);
    assert!(run.stdout.contains(&format!("preview comment posted on #11: {}", comments[0].html_url)), "{}", run.stdout);
    let posts = repo.writes().into_iter().filter(|w| w.method == "POST").count();
    assert_eq!(posts, 1, "a create is never sent twice");

    let pr = repo.push_to_pull_request(&pr, &[(E2, Some(&epic("EPIC-002", "Beta", "🟡 To Do", "")))]);
    let run = preview(&repo, &pr, "synchronize", &[("pr-comment", "true")]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    assert_eq!(repo.standin.comments(11).len(), 1);
    assert_eq!(repo.standin.comments(11)[0].id, comments[0].id);
}
