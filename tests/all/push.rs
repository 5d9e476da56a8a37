//! A push creates, updates and closes milestones, and the links are committed back:
//! the real binary, run through a runner's environment, against the GitHub stand-in.
//! Each test checks the end state: milestones on the stand-in and file bytes at the head.

use crate::common::*;
use github_standin::{SeedMilestone, Trigger};

const E1: &str = "epics/EPIC-001_alpha.md";
const E2: &str = "epics/EPIC-002_beta.md";

fn link(n: u64) -> String {
    format!("https://github.com/{OWNER}/{REPO}/milestone/{n}")
}

/// Two epics are pushed; both get milestones; one commit adds both links.
fn synced_repo() -> Repo {
    two_epics_synced("🟢 Done")
}

#[test]
fn a_push_creates_milestones_and_commits_the_links() {
    let repo = Repo::new(&[]);
    let alpha = epic("EPIC-001", "Alpha", "🟡 To Do", "target_date = \"2026-05-23\"\n");
    let payload =
        repo.push(&[(E1, Some(&alpha)), (E2, Some(&epic("EPIC-002", "Beta", "🟢 Done", "")))], "plan two epics");
    let pushed_head = repo.head();
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);

    let ms = repo.milestones();
    assert_eq!(ms.len(), 2);
    let a = ms.iter().find(|m| m.title == "Alpha").unwrap();
    assert_eq!(
        a.description.as_deref().map(without_record).as_deref(),
        Some("What EPIC-001 delivers.\n\nIntelliManage-ID: EPIC-001\nIntelliManage-Project: demo")
    );
    assert!(record_of(a.description.as_deref().unwrap()).unwrap().starts_with("v1 gen=1 file=1 "));
    assert_eq!(a.state, "open");
    // GitHub shows the artifact's date: Pacific midnight of 2026-05-23 (daylight time).
    assert_eq!(a.due_on.as_deref(), Some("2026-05-23T07:00:00Z"));
    let b = ms.iter().find(|m| m.title == "Beta").unwrap();
    assert_eq!(b.state, "closed");
    assert_eq!(b.due_on, None);

    // One commit on top of the pushed head, changing only the link lines.
    let ws = repo.workspace();
    assert_eq!(git(&repo.bare(), &["rev-parse", "main^"]), pushed_head);
    let message = git(&repo.bare(), &["log", "-1", "--format=%B", "main"]);
    assert!(
        message.contains("EPIC-001") && message.contains("EPIC-002") && message.contains(&format!("#{}", a.number)),
        "{message}"
    );
    let new = repo.file_at_head(E1).unwrap();
    let (old_lines, new_lines) = changed_lines(&alpha, &new);
    assert!(old_lines.is_empty(), "only added lines: {old_lines:?}");
    assert_eq!(new_lines.len(), 2, "{new_lines:?}");
    assert_eq!(new_lines[0], format!("related_milestone = \"{}\"\n", a.html_url));
    // The sync base: what both sides held after this sync (see crates/core/src/base.rs).
    assert!(
        new_lines[1].starts_with("milestone_sync_base = \"v1 gen=1 title=")
            && new_lines[1].ends_with(" state=open due=2026-05-23\"\n"),
        "{new_lines:?}"
    );
    assert_eq!(a.html_url, link(a.number));
    assert_eq!(git(&repo.bare(), &["diff", "--name-only", "main^", "main"]).lines().count(), 2);
    let _ = ws;

    assert_eq!(run.output("created").as_deref(), Some("2"));
    assert_eq!(run.output("commit-sha").as_deref(), Some(repo.head().as_str()));
    // The log is grouped by stage, each group closed.
    let groups: Vec<&str> = run.stdout.lines().filter_map(|l| l.strip_prefix("::group::")).collect();
    assert_eq!(groups, ["Read", "Branch head", "Plan", "Apply", "Commit"], "{}", run.stdout);
    assert_eq!(run.stdout.matches("::endgroup::").count(), 5);
    // The file's link is pinned to the commit the run made, and names the title's line.
    let sha = repo.head();
    assert!(
        run.summary.contains(&format!("| ➕ | **EPIC-001** Alpha<pre><a href=\"https://github.com/acme/plan/blob/{sha}/.ruru/projects/demo/epics/EPIC-001_alpha.md#L4\">epics/EPIC-001_alpha.md:4</a></pre> | [#")),
        "{}",
        run.summary
    );
    assert!(
        run.summary.contains(&format!("[`{}`](https://github.com/acme/plan/commit/{sha})", &sha[..7])),
        "{}",
        run.summary
    );
}

#[test]
fn a_second_run_writes_nothing() {
    let repo = synced_repo();
    let head = repo.head();
    repo.pull();
    repo.standin.clear_requests();
    // The action's own commit comes back as a push when a PAT or App token made it.
    let before = git(&repo.bare(), &["rev-parse", "main^"]);
    let run = repo.run("push", &push_payload(&before, &head), &[]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    assert!(repo.writes().is_empty(), "{:?}", repo.writes());
    assert_eq!(repo.head(), head, "no commit");
    // A full reconcile of everything writes nothing either.
    let run = repo.run("workflow_dispatch", "{}", &[]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    assert!(repo.writes().is_empty(), "{:?}", repo.writes());
    // One short line; a reconcile adds the roadmap of every milestone, folded.
    let (line, rest) = run.summary.split_once('\n').unwrap();
    assert_eq!(line, "✅ milestone-sync: everything is in sync (2 artifact(s) checked).", "one short line");
    assert!(rest.trim_start().starts_with("<details><summary>🗺️ Roadmap: every milestone (2)</summary>"), "{rest}");
}

#[test]
fn each_changed_field_updates_only_that_field() {
    let repo = synced_repo();
    let number = repo.milestones().iter().find(|m| m.title == "Alpha").unwrap().number;
    type Check = Box<dyn Fn(&github_standin::MilestoneRecord) -> bool>;
    let cases: Vec<(&str, &str, &str, Check)> = vec![
        ("title", "title = \"Alpha\"", "title = \"Alpha v2\"", Box::new(|m| m.title == "Alpha v2")),
        (
            "due date",
            "target_date = \"2026-05-23\"",
            "target_date = \"2026-12-01\"",
            Box::new(|m| m.due_on.as_deref() == Some("2026-12-01T08:00:00Z")),
        ),
        (
            "description",
            "What EPIC-001 delivers.",
            "Now with more.",
            Box::new(|m| m.description.as_deref().unwrap().starts_with("Now with more.\n\nIntelliManage-ID: EPIC-001")),
        ),
        ("state", "🟡 To Do", "🟢 Done", Box::new(|m| m.state == "closed")),
    ];
    for (what, from, to, check) in cases {
        let content = repo.file_at_head(E1).unwrap().replace(from, to);
        let payload = repo.push(&[(E1, Some(&content))], &format!("change {what}"));
        repo.standin.clear_requests();
        let run = repo.run("push", &payload, &[]);
        assert_eq!(run.code(), 0, "{what}: {}", run.stdout);
        let m = repo.milestones().into_iter().find(|m| m.number == number).unwrap();
        assert!(check(&m), "{what}: {m:?}");
        // One PATCH of the milestone, which also carries the new sync base in its hidden
        // record; no commit: the author's next push is not refused, and nothing else is read.
        let requests: Vec<(String, String)> = repo.standin.requests().into_iter().map(|w| (w.method, w.path)).collect();
        assert_eq!(
            requests,
            [
                ("GET".to_string(), format!("/repos/{OWNER}/{REPO}/milestones")),
                ("PATCH".to_string(), format!("/repos/{OWNER}/{REPO}/milestones/{number}"))
            ],
            "{what}"
        );
        assert_eq!(repo.file_at_head(E1).unwrap(), content, "{what}: no commit");
    }
}

#[test]
fn a_push_does_not_revert_a_title_changed_on_github() {
    let repo = synced_repo();
    let alpha = repo.file_at_head(E1).unwrap();
    let number = repo.milestones().iter().find(|m| m.title == "Alpha").unwrap().number;
    repo.standin.edit_milestone(number, |m| m.title = "Alpha (renamed by a maintainer)".into());
    let payload = repo.push(
        &[(E1, Some(&alpha.replace("🟡 To Do", "🔵 In Progress").replace("What EPIC-001", "Still what EPIC-001")))],
        "progress",
    );
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    let m = repo.milestones().into_iter().find(|m| m.number == number).unwrap();
    assert_eq!(m.title, "Alpha (renamed by a maintainer)");
    assert!(m.description.unwrap().starts_with("Still what EPIC-001"));
    // The base shows the rename happened on GitHub since the last sync: the file follows it
    // in the same commit that records the new base.
    let file = repo.file_at_head(E1).unwrap();
    assert!(file.contains("title = \"Alpha (renamed by a maintainer)\"\n"), "{file}");
    assert!(file.contains("status = \"🔵 In Progress\"\n"), "{file}");
    assert_eq!(run.output("conflicts").as_deref(), Some("0"));
}

#[test]
fn removing_a_file_closes_its_milestone_or_deletes_it() {
    let repo = synced_repo();
    let payload = repo.push(&[(E1, None)], "drop alpha");
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    let alpha = repo.milestones().into_iter().find(|m| m.title == "Alpha").unwrap();
    assert_eq!(alpha.state, "closed");
    assert_eq!(run.output("closed").as_deref(), Some("1"));

    let repo = synced_repo();
    let payload = repo.push(&[(E1, None)], "drop alpha");
    let run = repo.run("push", &payload, &[("on-artifact-removed", "delete")]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    assert!(repo.milestones().iter().all(|m| m.title != "Alpha"));
    assert_eq!(run.output("deleted").as_deref(), Some("1"));
}

#[test]
fn a_milestone_created_before_a_crash_is_adopted_not_duplicated() {
    let repo = Repo::new(&[]);
    // A run created the milestone (it carries the marker) and died before committing.
    let seeded = repo.standin.seed_milestone(SeedMilestone {
        title: "Alpha".into(),
        description: Some("What EPIC-001 delivers.\n\nIntelliManage-ID: EPIC-001\nIntelliManage-Project: demo".into()),
        ..Default::default()
    });
    let payload = repo.push(&[(E1, Some(&epic("EPIC-001", "Alpha", "🟡 To Do", "")))], "plan alpha");
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    assert_eq!(repo.milestones().len(), 1, "no duplicate");
    assert!(repo.writes().iter().all(|w| !(w.method == "POST" && w.path.ends_with("/milestones"))));
    assert!(repo.file_at_head(E1).unwrap().contains(&format!("related_milestone = \"{}\"", seeded.html_url)));
    assert_eq!(run.output("linked").as_deref(), Some("1"));
}

#[test]
fn an_existing_milestone_with_the_same_title_is_adopted_and_marked() {
    let repo = Repo::new(&[]);
    let seeded = repo.standin.seed_milestone(SeedMilestone {
        title: "Alpha".into(),
        description: Some("Our old milestone".into()),
        ..Default::default()
    });
    let payload = repo.push(&[(E1, Some(&epic("EPIC-001", "Alpha", "🟡 To Do", "")))], "plan alpha");
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    let ms = repo.milestones();
    assert_eq!(ms.len(), 1);
    assert!(
        without_record(ms[0].description.as_deref().unwrap())
            .ends_with("IntelliManage-ID: EPIC-001\nIntelliManage-Project: demo")
    );
    assert!(repo.file_at_head(E1).unwrap().contains(&seeded.html_url));
    assert!(run.summary.contains("by its title"), "{}", run.summary);
}

#[test]
fn a_broken_artifact_is_reported_and_the_others_still_sync() {
    let repo = Repo::new(&[]);
    let broken = "+++\nid = \"EPIC-003\"\ntitle = \"Broken\ntype = \"🗺️ Epic\"\n+++\nbody\n";
    let payload = repo.push(
        &[(E1, Some(&epic("EPIC-001", "Alpha", "🟡 To Do", ""))), ("epics/EPIC-003_broken.md", Some(broken))],
        "one good, one bad",
    );
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 1, "{}", run.stdout);
    assert!(
        run.stdout.contains(&format!("::error file={PROJECT_DIR}/epics/EPIC-003_broken.md,line=3::")),
        "{}",
        run.stdout
    );
    assert_eq!(repo.milestones().len(), 1);
    assert_eq!(repo.file_at_head("epics/EPIC-003_broken.md").unwrap(), broken, "left as it was");
    assert!(repo.file_at_head(E1).unwrap().contains("related_milestone"));
}

#[test]
fn a_branch_that_moved_during_the_run_gets_the_links_on_its_new_head() {
    let repo = Repo::new(&[]);
    let payload = repo.push(&[(E1, Some(&epic("EPIC-001", "Alpha", "🟡 To Do", "")))], "plan alpha");
    // Someone pushes while the action builds its commit.
    repo.standin.move_branch_when(
        Trigger::new("POST", "/graphql"),
        vec![("NOTES.md".into(), "pushed meanwhile\n".into())],
        "a concurrent push",
    );
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(git(&repo.bare(), &["show", "main:NOTES.md"]), "pushed meanwhile");
    assert!(repo.file_at_head(E1).unwrap().contains("related_milestone"));
    assert_eq!(git(&repo.bare(), &["log", "-1", "--format=%s", "main^"]), "a concurrent push");
    assert_eq!(repo.milestones().len(), 1);
}

/// The branch moved during the run and the push meanwhile edited one of the files the sync
/// links: one `GET compare` tells which, only that one is read at the new head, and its
/// edit is kept under the link.
#[test]
fn a_branch_that_moved_is_compared_once_and_only_its_changed_files_are_read() {
    let repo = Repo::new(&[]);
    let e3 = "epics/EPIC-003_gamma.md";
    let payload = repo.push(
        &[
            (E1, Some(&epic("EPIC-001", "Alpha", "🟡 To Do", ""))),
            (E2, Some(&epic("EPIC-002", "Beta", "🟡 To Do", ""))),
            (e3, Some(&epic("EPIC-003", "Gamma", "🟡 To Do", ""))),
        ],
        "plan three",
    );
    let theirs = format!("{}\nA line pushed meanwhile.\n", epic("EPIC-001", "Alpha", "🟡 To Do", ""));
    repo.standin.move_branch_when(
        Trigger::new("POST", "/graphql"),
        vec![(format!("{PROJECT_DIR}/{E1}"), theirs)],
        "an edit of alpha meanwhile",
    );
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    let alpha = repo.file_at_head(E1).unwrap();
    assert!(alpha.contains("A line pushed meanwhile.") && alpha.contains("related_milestone"), "{alpha}");
    for path in [E2, e3] {
        assert!(repo.file_at_head(path).unwrap().contains("related_milestone"), "{path}");
    }
    let count = |method: &str, part: &str| {
        repo.standin.requests().iter().filter(|r| r.method == method && r.path.contains(part)).count()
    };
    assert_eq!(count("GET", "/compare/"), 1, "{:?}", repo.standin.requests());
    assert_eq!(count("GET", "/contents/"), 1, "only the file the push changed: {:?}", repo.standin.requests());
    assert_eq!(repo.milestones().len(), 3);
}

#[test]
fn a_new_branch_push_treats_everything_as_touched() {
    let repo = Repo::new(&[(E1, &epic("EPIC-001", "Alpha", "🟡 To Do", ""))]);
    let head = repo.head();
    let run = repo.run("push", &push_payload("0000000000000000000000000000000000000000", &head), &[]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    assert!(run.stdout.contains("Every artifact is treated as touched"), "{}", run.stdout);
    assert_eq!(repo.milestones().len(), 1);
}

#[test]
fn a_push_to_another_branch_changes_nothing() {
    let repo = Repo::new(&[(E1, &epic("EPIC-001", "Alpha", "🟡 To Do", ""))]);
    let mut payload: serde_json::Value =
        serde_json::from_str(&push_payload("0000000000000000000000000000000000000000", &repo.head())).unwrap();
    payload["ref"] = "refs/heads/feature-x".into();
    let run = repo.run("push", &payload.to_string(), &[]);
    assert_eq!(run.code(), 0);
    assert!(run.stdout.contains("not the default branch"), "{}", run.stdout);
    assert!(repo.standin.requests().is_empty() || repo.writes().is_empty());
    assert!(repo.milestones().is_empty());
}

#[test]
fn dry_run_writes_nothing_and_shows_the_plan() {
    let repo = Repo::new(&[]);
    let payload = repo.push(&[(E1, Some(&epic("EPIC-001", "Alpha", "🟡 To Do", "")))], "plan alpha");
    let run = repo.run("push", &payload, &[("dry-run", "true")]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    assert!(repo.writes().is_empty());
    assert!(run.stdout.contains("EPIC-001") && run.stdout.contains("create milestone"), "{}", run.stdout);
    assert!(run.summary.contains("dry run"), "{}", run.summary);
}

#[test]
fn commit_false_leaves_the_links_in_the_workspace() {
    let repo = Repo::new(&[]);
    let payload = repo.push(&[(E1, Some(&epic("EPIC-001", "Alpha", "🟡 To Do", "")))], "plan alpha");
    let head = repo.head();
    let run = repo.run("push", &payload, &[("commit", "false")]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    assert_eq!(repo.head(), head, "no commit");
    let local = std::fs::read_to_string(repo.workspace().join(PROJECT_DIR).join(E1)).unwrap();
    assert!(local.contains("related_milestone"));
    assert_eq!(run.output("artifacts-changed").as_deref(), Some(format!("{PROJECT_DIR}/{E1}").as_str()));
}
