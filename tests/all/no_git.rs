//! A push and a pull-request preview with no git on the binary's `PATH` (as in the container
//! image) or with a shallow checkout: which files changed comes from GitHub's compare API and
//! the earlier versions from the contents API, and the result is the one git gives. The
//! real binary against the stand-in; the test itself uses git to set the repository up.

use crate::common::pull_request::PullRequest;
use crate::common::*;
use github_standin::{MilestoneRecord, RequestRecord};

const E1: &str = "epics/EPIC-001_alpha.md";
const E2: &str = "epics/EPIC-002_beta.md";
const E3: &str = "epics/EPIC-003_gamma.md";

fn alpha() -> String {
    epic("EPIC-001", "Alpha", "🟡 To Do", "target_date = \"2026-05-23\"\n")
}

fn beta() -> String {
    epic("EPIC-002", "Beta", "🔵 In Progress", "")
}

/// How the binary is run: with git on its `PATH`, or without.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Git {
    On,
    Off,
}

fn run_push(repo: &Repo, payload: &str, inputs: &[(&str, &str)], g: Git) -> Run {
    let run = match g {
        Git::On => repo.run("push", payload, inputs),
        Git::Off => repo.run_without_git("push", payload, inputs),
    };
    assert_eq!(run.code(), 0, "{g:?}:\n{}\n{}", run.stdout, run.stderr);
    run
}

/// `METHOD /path` of every request, the repository prefix cut.
fn requests(repo: &Repo) -> Vec<String> {
    let prefix = format!("/repos/{OWNER}/{REPO}");
    repo.standin
        .requests()
        .iter()
        .map(|r: &RequestRecord| format!("{} {}", r.method, r.path.strip_prefix(&prefix).unwrap_or(&r.path)))
        .collect()
}

fn count(repo: &Repo, start: &str) -> usize {
    requests(repo).iter().filter(|r| r.starts_with(start)).count()
}

fn plan(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.output("plan").unwrap()).unwrap()
}

/// The milestones without their clocks, which differ from run to run.
fn timeless(ms: Vec<MilestoneRecord>) -> Vec<MilestoneRecord> {
    ms.into_iter()
        .map(|m| MilestoneRecord { created_at: String::new(), updated_at: String::new(), closed_at: None, ..m })
        .collect()
}

/// What a scenario left: the milestones, and each artifact's bytes at the head of main.
type EndState = (Vec<MilestoneRecord>, Vec<Option<String>>);

/// Two epics pushed, then one push that changes Alpha's title, removes Beta and adds Gamma;
/// checks the API calls of each push when run without git.
fn scenario(g: Git) -> EndState {
    let repo = Repo::new(&[]);
    let payload = repo.push(&[(E1, Some(&alpha())), (E2, Some(&beta()))], "plan two epics");
    repo.standin.clear_requests();
    let run = run_push(&repo, &payload, &[], g);
    assert_eq!(run.output("created").as_deref(), Some("2"), "{}", run.stdout);
    if g == Git::Off {
        // Two added artifacts: one compare, no earlier version to read.
        assert_eq!(count(&repo, "GET /compare/"), 1, "{:#?}", requests(&repo));
        assert_eq!(count(&repo, "GET /contents/"), 0, "{:#?}", requests(&repo));
        assert!(run.stdout.contains("(git is not available in this environment); asking GitHub's compare API."));
        assert!(run.stdout.contains("GitHub's compare API: 2 file(s) changed from"), "{}", run.stdout);
        assert!(run.stdout.contains("2 of them artifact(s) that sync; 0 earlier version(s)"), "{}", run.stdout);
        assert!(run.stdout.contains("; 1 request(s) in all."), "{}", run.stdout);
    }

    let renamed = repo.file_at_head(E1).unwrap().replace("title = \"Alpha\"", "title = \"Alpha v2\"");
    let gamma = epic("EPIC-003", "Gamma", "🟡 To Do", "");
    let payload = repo.push(&[(E1, Some(&renamed)), (E2, None), (E3, Some(&gamma))], "rename, drop, add");
    repo.standin.clear_requests();
    let run = run_push(&repo, &payload, &[], g);
    let counts: Vec<Option<String>> =
        ["created", "updated", "closed"].iter().map(|o| run.output(o)).collect::<Vec<_>>();
    assert_eq!(counts, [Some("1".into()), Some("1".into()), Some("1".into())], "{}", run.stdout);
    // Only the changed field is sent: the push's own field changes are known.
    let update = plan(&run).as_array().unwrap().iter().find(|c| c["action"] == "update").cloned().unwrap();
    assert_eq!(update["artifact_id"], "EPIC-001");
    assert_eq!(update["fields"], serde_json::json!(["title"]));
    assert_eq!(update["patch"]["title"], "Alpha v2");
    let closed = plan(&run).as_array().unwrap().iter().find(|c| c["action"] == "close_removed").cloned().unwrap();
    assert_eq!(closed["artifact_id"], "EPIC-002");
    if g == Git::Off {
        // One compare, and one contents read each for the modified and the removed artifact,
        // at the push's `before`; the added one needs none.
        assert_eq!(count(&repo, "GET /compare/"), 1, "{:#?}", requests(&repo));
        let contents: Vec<String> = requests(&repo).into_iter().filter(|r| r.starts_with("GET /contents/")).collect();
        assert_eq!(
            contents,
            [format!("GET /contents/{PROJECT_DIR}/{E1}"), format!("GET /contents/{PROJECT_DIR}/{E2}")],
            "{:#?}",
            requests(&repo)
        );
        assert!(
            repo.standin.requests().iter().filter(|r| r.path.contains("/contents/")).all(|r| {
                let before: serde_json::Value = serde_json::from_str(&payload).unwrap();
                r.query.as_deref() == Some(&format!("ref={}", before["before"].as_str().unwrap()))
            }),
            "earlier versions are read at the push's before"
        );
        assert!(
            run.stdout.contains("GitHub's compare API: 3 file(s) changed from")
                && run.stdout.contains(
                    "3 of them artifact(s) that sync; 2 earlier version(s) read through the contents API; 3 request(s) in all."
                ),
            "{}",
            run.stdout
        );
    }
    let state = (timeless(repo.milestones()), [E1, E2, E3].iter().map(|p| repo.file_at_head(p)).collect());
    // The sync's own commit, pushed back (a PAT would start that run): nothing to do.
    let head = repo.head();
    repo.pull();
    let before = git(&repo.bare(), &["rev-parse", "main^"]);
    repo.standin.clear_requests();
    let run = run_push(&repo, &with_commits(&push_payload(&before, &head), &repo.workspace()), &[], g);
    assert!(repo.writes().is_empty(), "{g:?}: {:?}\n{}", repo.writes(), run.stdout);
    state
}

#[test]
fn a_push_without_git_adds_changes_and_removes_as_with_git() {
    let without = scenario(Git::Off);
    let with = scenario(Git::On);
    assert_eq!(without, with, "the same milestones and the same file bytes at the head");
    let (milestones, files) = without;
    let beta = milestones.iter().find(|m| m.title == "Beta").unwrap();
    assert_eq!(beta.state, "closed", "the removed artifact's milestone is closed");
    assert!(milestones.iter().any(|m| m.title == "Alpha v2" && m.state == "open"));
    assert!(milestones.iter().any(|m| m.title == "Gamma"));
    assert_eq!(files[1], None);
    assert!(files[2].as_deref().unwrap().contains("related_milestone"));
}

#[test]
fn removing_a_file_without_git_can_delete_its_milestone() {
    let repo = Repo::new(&[]);
    let payload = repo.push(&[(E1, Some(&alpha())), (E2, Some(&beta()))], "plan two epics");
    run_push(&repo, &payload, &[], Git::Off);
    let payload = repo.push(&[(E2, None)], "drop beta");
    let run = run_push(&repo, &payload, &[("on-artifact-removed", "delete")], Git::Off);
    assert_eq!(run.output("deleted").as_deref(), Some("1"), "{}", run.stdout);
    assert!(repo.milestones().iter().all(|m| m.title != "Beta"));
}

#[test]
fn a_shallow_checkout_takes_the_same_path() {
    let repo = Repo::new(&[]);
    let payload = repo.push(&[(E1, Some(&alpha())), (E2, Some(&beta()))], "plan two epics");
    run_push(&repo, &payload, &[], Git::On);
    let payload = repo.push(
        &[(E1, Some(&repo.file_at_head(E1).unwrap().replace("🟡 To Do", "🟢 Done"))), (E2, None)],
        "alpha done, beta dropped",
    );
    // actions/checkout's default: one commit deep, so `before` is not in the checkout.
    let ws = repo.workspace();
    std::fs::remove_dir_all(&ws).unwrap();
    let url = format!("file://{}", repo.bare().display());
    git(repo.dir.path(), &["clone", "-q", "--depth", "1", &url, ws.to_str().unwrap()]);
    repo.standin.clear_requests();
    let run = run_push(&repo, &payload, &[], Git::On);
    assert!(run.stdout.contains("is not in the checkout (a shallow clone?"), "{}", run.stdout);
    assert!(run.stdout.contains("asking GitHub's compare API"), "{}", run.stdout);
    assert_eq!(count(&repo, "GET /compare/"), 1);
    assert_eq!(count(&repo, "GET /contents/"), 2);
    let update = plan(&run).as_array().unwrap().iter().find(|c| c["action"] == "update").cloned().unwrap();
    assert_eq!(update["fields"], serde_json::json!(["state"]));
    assert_eq!(update["patch"]["state"], "closed");
    let ms = repo.milestones();
    assert!(ms.iter().all(|m| m.state == "closed"), "{ms:?}");
    assert_eq!(run.output("closed").as_deref(), Some("2"));
}

#[test]
fn a_forced_push_or_a_new_branch_still_treats_every_artifact_as_touched() {
    let repo = Repo::new(&[(E1, &alpha())]);
    let head = repo.head();
    let mut forced: serde_json::Value = serde_json::from_str(&push_payload(&head, &head)).unwrap();
    forced["forced"] = true.into();
    let run = run_push(&repo, &forced.to_string(), &[], Git::Off);
    assert!(run.summary.contains("Every artifact is treated as touched: the push was forced"), "{}", run.summary);
    assert_eq!(repo.milestones().len(), 1);
    assert_eq!(count(&repo, "GET /compare/"), 0, "GitHub cannot tell what a forced push dropped");

    let repo = Repo::new(&[(E1, &alpha())]);
    let run = run_push(&repo, &push_payload("0000000000000000000000000000000000000000", &repo.head()), &[], Git::Off);
    assert!(run.summary.contains("the push created the branch"), "{}", run.summary);
    assert_eq!(count(&repo, "GET /compare/"), 0);
}

#[test]
fn a_push_of_300_files_or_more_treats_every_artifact_as_touched() {
    let repo = Repo::new(&[]);
    let payload = repo.push(&[(E1, Some(&alpha())), (E2, Some(&beta()))], "plan two epics");
    run_push(&repo, &payload, &[], Git::Off);
    let names: Vec<String> = (0..300).map(|i| format!("notes/n{i:03}.md")).collect();
    let mut changes: Vec<(&str, Option<&str>)> = names.iter().map(|n| (n.as_str(), Some("x\n"))).collect();
    changes.push((E2, None));
    let payload = repo.push(&changes, "a big push");
    repo.standin.clear_requests();
    let run = run_push(&repo, &payload, &[], Git::Off);
    assert!(run.summary.contains("GitHub's limit, so it may leave artifacts out"), "{}", run.summary);
    assert!(run.summary.contains("Every artifact is treated as touched"), "{}", run.summary);
    assert_eq!(count(&repo, "GET /compare/"), 1);
    assert_eq!(count(&repo, "GET /contents/"), 0, "no earlier version is read for a list that may be cut");
    // The removal cannot be seen in the push, but the run converges everything: the open
    // milestone whose artifact is gone is closed, as the removal's own run would have done.
    let beta = repo.milestones().into_iter().find(|m| m.title == "Beta").unwrap();
    assert_eq!(beta.state, "closed");
    let notice = run.stdout.lines().find(|l| l.starts_with("::notice") && l.contains("EPIC-002")).unwrap_or_default();
    assert!(
        notice.contains(&format!("milestone #{} ", beta.number)) && notice.contains("its file was removed"),
        "{}",
        run.stdout
    );
}

/// Synced Alpha whose title was renamed on GitHub, then a push that renames it in the file
/// too, its commit dated `timestamp` in the payload: a conflict `last_update_wins` settles by
/// the two clocks.
fn title_conflict(timestamp: &str) -> (Repo, Run) {
    let repo = Repo::new(&[]);
    let payload = repo.push(&[(E1, Some(&alpha()))], "plan alpha");
    run_push(&repo, &payload, &[], Git::Off);
    let number = repo.milestones()[0].number;
    repo.standin.edit_milestone(number, |m| m.title = "Alpha (GitHub)".into());
    let file = repo.file_at_head(E1).unwrap().replace("title = \"Alpha\"", "title = \"Alpha (file)\"");
    let mut payload: serde_json::Value = serde_json::from_str(&repo.push(&[(E1, Some(&file))], "rename")).unwrap();
    for commit in payload["commits"].as_array_mut().unwrap() {
        commit["timestamp"] = timestamp.into();
    }
    payload["head_commit"]["timestamp"] = timestamp.into();
    let run = run_push(&repo, &payload.to_string(), &[("conflict-resolution", "last_update_wins")], Git::Off);
    assert_eq!(run.output("conflicts").as_deref(), Some("1"), "{}", run.stdout);
    (repo, run)
}

#[test]
fn last_update_wins_without_git_uses_the_payloads_commit_times() {
    // The file's change is dated before GitHub's: GitHub's title wins and flows into the file.
    let (repo, _) = title_conflict("2020-01-01T00:00:00+01:00");
    assert_eq!(repo.milestones()[0].title, "Alpha (GitHub)");
    assert!(repo.file_at_head(E1).unwrap().contains("title = \"Alpha (GitHub)\""));
    // Dated after: the file wins.
    let (repo, _) = title_conflict("2099-01-01T00:00:00Z");
    assert_eq!(repo.milestones()[0].title, "Alpha (file)");
    assert!(repo.file_at_head(E1).unwrap().contains("title = \"Alpha (file)\""));
}

fn preview(repo: &Repo, pr: &PullRequest, event: &str) -> Run {
    let payload = repo.pull_request_payload("opened", pr, "main");
    let path = repo.no_git_path();
    let git_ref = format!("refs/pull/{}/merge", pr.number);
    let run = repo.run_with_env(event, &payload.to_string(), &[], &[("GITHUB_REF", &git_ref), ("PATH", &path)]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    run
}

fn actions(run: &Run) -> Vec<(String, String)> {
    let mut a: Vec<(String, String)> = plan(run)
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["artifact_id"].as_str().unwrap().to_string(), c["action"].as_str().unwrap().to_string()))
        .collect();
    a.sort();
    a
}

fn pair(id: &str, action: &str) -> (String, String) {
    (id.to_string(), action.to_string())
}

#[test]
fn a_pull_request_is_previewed_without_git_from_its_own_changes() {
    let repo = Repo::new(&[]);
    let payload = repo.push(&[(E1, Some(&alpha())), (E2, Some(&beta()))], "plan two epics");
    run_push(&repo, &payload, &[], Git::On);
    repo.pull();
    let renamed = repo.file_at_head(E1).unwrap().replace("title = \"Alpha\"", "title = \"Alpha prime\"");
    let pr = repo.open_pull_request(
        7,
        "plan-gamma",
        &[(E1, Some(&renamed)), (E2, None), (E3, Some(&epic("EPIC-003", "Gamma", "🟡 To Do", "")))],
    );
    repo.standin.clear_requests();
    let milestones = repo.milestones();
    let run = preview(&repo, &pr, "pull_request");
    assert!(run.stdout.contains("git is not available in this environment"), "{}", run.stdout);
    assert_eq!(
        actions(&run),
        [pair("EPIC-001", "update"), pair("EPIC-002", "close_removed"), pair("EPIC-003", "create")]
    );
    let update = plan(&run).as_array().unwrap().iter().find(|c| c["action"] == "update").cloned().unwrap();
    assert_eq!(update["fields"], serde_json::json!(["title"]));
    assert_eq!(update["patch"]["title"], "Alpha prime");
    // One compare of base and head; the earlier versions of the changed and the removed
    // artifact at the base the test merge was made on; the milestones. Nothing written.
    assert_eq!(
        requests(&repo),
        [
            format!("GET /compare/{}...{}", pr.base_sha, pr.head_sha),
            format!("GET /contents/{PROJECT_DIR}/{E1}"),
            format!("GET /contents/{PROJECT_DIR}/{E2}"),
            "GET /milestones".to_string(),
        ]
    );
    assert!(
        repo.standin
            .requests()
            .iter()
            .filter(|r| r.path.contains("/contents/"))
            .all(|r| r.query.as_deref() == Some(&format!("ref={}", pr.base_sha))),
    );
    assert_eq!(repo.writes(), vec![]);
    assert_eq!(repo.milestones(), milestones);
}

#[test]
fn a_head_checked_out_without_git_is_compared_from_where_it_left_main() {
    let repo = Repo::new(&[]);
    let pr = repo.open_pull_request(4, "plan-alpha", &[(E1, Some(&alpha()))]);
    // main moves on with an artifact of its own, which is not the pull request's.
    repo.standin.push_files(vec![(format!("{PROJECT_DIR}/{E2}"), beta())], "beta, on main");
    git(&repo.workspace(), &["fetch", "-q", "origin"]);
    git(&repo.workspace(), &["checkout", "-q", "--detach", &pr.head_sha]);
    let pr = PullRequest { base_sha: repo.head(), ..pr };
    repo.standin.clear_requests();
    let run = preview(&repo, &pr, "pull_request");
    assert_eq!(actions(&run), [pair("EPIC-001", "create")]);
    assert_eq!(count(&repo, "GET /compare/"), 1);
    assert_eq!(count(&repo, "GET /contents/"), 0);
}

#[test]
fn pull_request_target_on_the_base_branch_without_git_says_how_to_check_out_the_merge() {
    let repo = Repo::new(&[]);
    let pr = repo.open_pull_request(8, "plan-alpha", &[(E1, Some(&alpha()))]);
    git(&repo.workspace(), &["checkout", "-q", "--detach", "origin/main"]);
    let payload = repo.pull_request_payload("opened", &pr, "main");
    let path = repo.no_git_path();
    let run = repo.run_with_env("pull_request_target", &payload.to_string(), &[], &[("PATH", &path)]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    let notice = run.stdout.lines().find(|l| l.starts_with("::notice::")).unwrap_or_default();
    assert!(notice.contains("holds none of its changes"), "{}", run.stdout);
    assert!(notice.contains("ref: refs/pull/<number>/merge"), "{notice}");
    assert_eq!(repo.standin.requests(), vec![]);

    // Checked out as the README says (the test merge): previewed, from .git/HEAD.
    git(&repo.workspace(), &["checkout", "-q", "--detach", &pr.merge_sha]);
    let run = repo.run_with_env(
        "pull_request_target",
        &payload.to_string(),
        &[],
        &[("PATH", &path), ("GITHUB_SHA", &pr.base_sha)],
    );
    assert_eq!(run.code(), 0, "{}", run.stdout);
    assert_eq!(actions(&run), [pair("EPIC-001", "create")]);
}

/// A conflict met by a reconcile without git: the checkout cannot say when the file last
/// changed, so `last_update_wins` asks GitHub, for the file in conflict only (one request),
/// and the later side wins as it would with git.
#[test]
fn a_reconcile_without_git_asks_github_when_a_conflicting_file_changed() {
    for github_last in [true, false] {
        let repo = Repo::new(&[]);
        let payload = repo.push(&[(E1, Some(&alpha())), (E2, Some(&beta()))], "plan");
        run_push(&repo, &payload, &[], Git::Off);
        let number = repo.milestones().iter().find(|m| m.title == "Alpha").unwrap().number;
        let rename_on_github = || repo.standin.edit_milestone(number, |m| m.title = "Alpha (GitHub)".into());
        let rename_in_file = || {
            let file = repo.file_at_head(E1).unwrap().replace("title = \"Alpha\"", "title = \"Alpha (file)\"");
            repo.push(&[(E1, Some(&file))], "rename, no sync run");
        };
        // The stand-in's clock and git's have one-second steps: keep the two edits apart.
        if github_last {
            rename_in_file();
            std::thread::sleep(std::time::Duration::from_millis(1100));
            rename_on_github();
        } else {
            rename_on_github();
            std::thread::sleep(std::time::Duration::from_millis(1100));
            rename_in_file();
        }
        repo.pull();
        repo.standin.clear_requests();
        let run = repo.run_without_git("workflow_dispatch", "{}", &[("conflict-resolution", "last_update_wins")]);
        assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
        assert_eq!(count(&repo, "GET /commits"), 1, "{:?}", requests(&repo));
        assert!(run.stdout.contains("asked GitHub when 1 file(s) in conflict last changed"), "{}", run.stdout);
        let expected = if github_last { "Alpha (GitHub)" } else { "Alpha (file)" };
        assert_eq!(repo.milestones().iter().find(|m| m.number == number).unwrap().title, expected);
        assert!(repo.file_at_head(E1).unwrap().contains(&format!("title = \"{expected}\"")), "{github_last}");
        assert_eq!(run.output("conflicts").as_deref(), Some("1"));
    }
}
