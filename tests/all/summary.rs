//! What a person reads, as they read it: the job summary, the pull request's preview comment,
//! the terminal's plan table and the `--json` report, for the runs people meet (a first sync,
//! an editing push, a milestone edited on GitHub, conflicts under `manual_flag` and
//! `last_update_wins`, a dry run, a pull request, a broken file, a missing permission and 200
//! Epics). Each is a snapshot (tests/snapshots): a change of the output is a reviewed diff.
//! Commit ids, today's date and the stand-in's port are filtered out.
//!
//! Due dates are in 2099 (open, not yet due) or 2001 (overdue), so the roadmap's tags do not
//! depend on the day the test runs.

use std::process::Command;

use crate::common::pull_request::PullRequest;
use crate::common::*;
use github_standin::{Fault, Trigger};
use serde_json::json;

const E1: &str = "epics/EPIC-001_alpha.md";
const E2: &str = "epics/EPIC-002_beta.md";
const E3: &str = "epics/EPIC-003_gamma.md";

/// Checks `text` against its snapshot, with commit ids, today's date and the stand-in's port
/// filtered out.
fn snapshot(name: &str, text: &str) {
    // The roadmap's days are GitHub's, in US Pacific time.
    let today = milestone_sync::due_date::from_github(chrono::Utc::now()).format("%Y-%m-%d").to_string();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.add_filter(r"[0-9a-f]{40}", "[sha]");
    settings.add_filter(r"\b[0-9a-f]{7}\b", "[short-sha]");
    settings.add_filter(&regex_escape(&today), "[today]");
    settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[port]");
    settings.bind(|| insta::assert_snapshot!(name, text));
}

fn regex_escape(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_string() } else { format!("\\{c}") }).collect()
}

fn alpha() -> String {
    epic("EPIC-001", "Alpha", "🟡 To Do", "target_date = \"2099-03-15\"\n")
}

fn beta() -> String {
    epic("EPIC-002", "Beta", "🟢 Done", "target_date = \"2001-01-31\"\n")
}

fn gamma() -> String {
    epic("EPIC-003", "Gamma", "🔵 In Progress", "")
}

/// Alpha, Beta and Gamma pushed and synced; the workspace at the head of main.
fn synced() -> Repo {
    let repo = Repo::new(&[]);
    let payload = repo.push(&[(E1, Some(&alpha())), (E2, Some(&beta())), (E3, Some(&gamma()))], "plan three epics");
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    repo.pull();
    // Issues in the milestones: their progress shows in the rows and the roadmap.
    let numbers: Vec<u64> = repo.milestones().iter().map(|m| m.number).collect();
    for (n, (open, closed)) in numbers.iter().zip([(2, 3), (0, 4), (5, 0)]) {
        repo.standin.edit_milestone(*n, |m| {
            m.open_issues = open;
            m.closed_issues = closed;
        });
    }
    repo
}

fn number_of(repo: &Repo, title: &str) -> u64 {
    repo.milestones().iter().find(|m| m.title == title).unwrap_or_else(|| panic!("{title}")).number
}

fn push_edit(repo: &Repo, path: &str, from: &str, to: &str) -> String {
    let content = repo.file_at_head(path).unwrap();
    assert!(content.contains(from), "{from:?} in {content}");
    repo.push(&[(path, Some(&content.replace(from, to)))], "edit")
}

#[test]
fn first_sync() {
    let repo = Repo::new(&[]);
    let payload = repo.push(&[(E1, Some(&alpha())), (E2, Some(&beta())), (E3, Some(&gamma()))], "plan three epics");
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    snapshot("first_sync", &run.summary);
}

#[test]
fn editing_push() {
    let repo = synced();
    let content = repo.file_at_head(E1).unwrap();
    let edited = content.replace("title = \"Alpha\"", "title = \"Alpha v2\"").replace("2099-03-15", "2099-04-01");
    let gamma = repo.file_at_head(E3).unwrap().replace("🔵 In Progress", "🟢 Done");
    let payload = repo.push(&[(E1, Some(&edited)), (E3, Some(&gamma))], "rename alpha, finish gamma");
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    snapshot("editing_push", &run.summary);
}

#[test]
fn milestone_edited_on_github() {
    let repo = synced();
    let n = number_of(&repo, "Alpha");
    repo.standin.edit_milestone(n, |m| {
        m.title = "Alpha, renamed on GitHub".into();
        m.due_on = Some("2099-06-30T07:00:00Z".into());
    });
    let payload = repo.milestone_event("edited", n, json!({"title": {"from": "Alpha"}, "due_on": {"from": "x"}}));
    let run = repo.run("milestone", &payload, &[]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    snapshot("milestone_edited_on_github", &run.summary);
}

/// Alpha's title changed in the file and on GitHub since the last sync, no run in between.
fn conflicting() -> Repo {
    let repo = synced();
    let n = number_of(&repo, "Alpha");
    repo.standin.edit_milestone(n, |m| m.title = "Alpha (GitHub)".into());
    // Pushed without a run (a cancelled one), then a reconcile sees both sides changed.
    push_edit(&repo, E1, "title = \"Alpha\"", "title = \"Alpha (file)\"");
    repo.pull();
    repo
}

#[test]
fn conflict_manual_flag() {
    let repo = conflicting();
    let run = repo.run("workflow_dispatch", "{}", &[("conflict-resolution", "manual_flag")]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    snapshot("conflict_manual_flag", &run.summary);
}

#[test]
fn conflict_last_update_wins() {
    let repo = conflicting();
    let run = repo.run("workflow_dispatch", "{}", &[("conflict-resolution", "last_update_wins")]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    snapshot("conflict_last_update_wins", &run.summary);
}

#[test]
fn dry_run() {
    let repo = Repo::new(&[]);
    let payload = repo.push(&[(E1, Some(&alpha())), (E2, Some(&beta()))], "plan two epics");
    let run = repo.run("push", &payload, &[("dry-run", "true")]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    assert!(repo.milestones().is_empty());
    snapshot("dry_run", &run.summary);
}

#[test]
fn pull_request_preview() {
    let repo = synced();
    let renamed = repo.file_at_head(E1).unwrap().replace("title = \"Alpha\"", "title = \"Alpha prime\"");
    repo.standin.open_pull_request(7);
    let pr: PullRequest = repo.open_pull_request(
        7,
        "plan-delta",
        &[
            (E1, Some(&renamed)),
            (E3, None),
            ("epics/EPIC-004_delta.md", Some(&epic("EPIC-004", "Delta", "🟡 To Do", "target_date = \"2099-09-01\"\n"))),
        ],
    );
    let payload = repo.pull_request_payload("opened", &pr, "main");
    let run = repo.run_pull_request("pull_request", &payload, &pr, &[("pr-comment", "true")]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    snapshot("pull_request_preview_summary", &run.summary);
    let comments = repo.standin.comments(7);
    assert_eq!(comments.len(), 1);
    snapshot("pull_request_preview_comment", &comments[0].body);
}

#[test]
fn broken_file() {
    let repo = Repo::new(&[]);
    let broken = alpha().replace("title = \"Alpha\"", "title = \"Alpha");
    let payload = repo.push(&[(E1, Some(&broken)), (E2, Some(&beta()))], "a broken file and a good one");
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 1, "{}", run.stdout);
    snapshot("broken_file", &run.summary);
}

#[test]
fn missing_permission() {
    let repo = Repo::new(&[]);
    repo.standin.fail_next(Fault::Status {
        trigger: Trigger::new("POST", "/milestones"),
        status: 403,
        body: json!({
            "message": "Resource not accessible by integration",
            "documentation_url": "https://docs.github.com/rest/issues/milestones#create-a-milestone",
            "status": "403"
        }),
    });
    let payload = repo.push(&[(E1, Some(&alpha())), (E2, Some(&beta())), (E3, Some(&gamma()))], "plan three epics");
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 1, "{}", run.stdout);
    assert_eq!(run.stdout.matches("Resource not accessible").count(), 1, "{}", run.stdout);
    snapshot("missing_permission", &run.summary);
}

#[test]
fn two_hundred_epics() {
    let repo = Repo::new(&[]);
    let files: Vec<(String, String)> = (1..=200)
        .map(|i| {
            let due = if i % 3 == 0 { String::new() } else { format!("target_date = \"2099-{:02}-15\"\n", 1 + i % 12) };
            let status = if i % 10 == 0 { "🟢 Done" } else { "🟡 To Do" };
            (format!("epics/EPIC-{i:03}_e.md"), epic(&format!("EPIC-{i:03}"), &format!("Epic {i}"), status, &due))
        })
        .collect();
    let mut changes: Vec<(&str, Option<&str>)> = files.iter().map(|(p, c)| (p.as_str(), Some(c.as_str()))).collect();
    // One file that only warns: its status is not one IntelliManage knows.
    let odd = epic("EPIC-201", "Odd status", "Someday", "");
    changes.push(("epics/EPIC-201_odd.md", Some(&odd)));
    let payload = repo.push(&changes, "plan two hundred epics");
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    let visible = run.summary.split("<details>").next().unwrap();
    assert!(visible.lines().count() < 40, "the first screen stays short: {visible}");
    snapshot("two_hundred_epics", &run.summary);
}

/// The terminal's plan table and the `--json` report of the same plan.
#[test]
fn plan_table_and_json() {
    let repo = synced();
    let n = number_of(&repo, "Gamma");
    repo.standin.edit_milestone(n, |m| m.state = "closed".into());
    push_edit(&repo, E1, "2099-03-15", "2099-05-01");
    repo.pull();
    std::fs::write(
        repo.workspace().join(PROJECT_DIR).join("epics/EPIC-004_delta.md"),
        epic("EPIC-004", "Delta", "🟡 To Do", ""),
    )
    .unwrap();
    let api = repo.standin.api_url();
    let terminal = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_milestone-sync"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", repo.dir.path())
            .env("GH_TOKEN", TOKEN)
            .current_dir(repo.workspace())
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let table = terminal(&["plan", "--repo", "acme/plan", "--api-url", &api]);
    let table: Vec<&str> = table
        .lines()
        .skip_while(|l| !l.starts_with("── Plan ──"))
        .skip(1)
        .take_while(|l| !l.starts_with("── "))
        .collect();
    let plan = terminal(&["plan", "--json", "--repo", "acme/plan", "--api-url", &api]);
    let json: serde_json::Value = serde_json::from_str(plan.trim()).unwrap();
    let mut cases = vec![table.join("\n")];
    cases.push(serde_json::to_string_pretty(&json).unwrap());
    snapshot("plan_table", &cases[0]);
    snapshot("plan_json", &cases[1]);
}
