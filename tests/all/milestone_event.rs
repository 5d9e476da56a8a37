//! GitHub to files: milestone events update the linked artifact and commit it back. Each
//! test checks the bytes at the branch head: only the intended lines differ.

use crate::common::*;
use github_standin::SeedMilestone;
use serde_json::json;

const E1: &str = "epics/EPIC-001_alpha.md";

/// EPIC-001 pushed and synced; the workspace at the head that holds the link.
fn synced() -> (Repo, u64, String) {
    let repo = Repo::new(&[]);
    let payload = repo
        .push(&[(E1, Some(&epic("EPIC-001", "Alpha", "🟡 To Do", "target_date = \"2026-05-23\"\n")))], "plan alpha");
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    repo.pull();
    let number = repo.milestones()[0].number;
    let file = repo.file_at_head(E1).unwrap();
    (repo, number, file)
}

/// The `milestone_sync_base` line of a file.
fn base_line(file: &str) -> String {
    file.lines().find(|l| l.starts_with("milestone_sync_base")).unwrap_or_default().to_string()
}

fn today() -> String {
    chrono::Utc::now().date_naive().format("%Y-%m-%d").to_string()
}

/// Runs the event and returns (old file, new file) after asserting success and one commit.
fn run_event(repo: &Repo, payload: &str, inputs: &[(&str, &str)]) -> crate::common::Run {
    let run = repo.run("milestone", payload, inputs);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    run
}

#[test]
fn edited_title_flows_into_the_file() {
    let (repo, n, before) = synced();
    repo.standin.edit_milestone(n, |m| m.title = "Alpha, renamed".into());
    let head = repo.head();
    let run = run_event(&repo, &repo.milestone_event("edited", n, json!({"title": {"from": "Alpha"}})), &[]);
    let after = repo.file_at_head(E1).unwrap();
    assert_eq!(
        differing_lines(&before, &after),
        vec![
            ("title = \"Alpha\"".to_string(), "title = \"Alpha, renamed\"".to_string()),
            // updated_date moves too, its comment kept.
            (
                "updated_date = \"2026-11-01\" # Use current date".to_string(),
                format!("updated_date = \"{}\" # Use current date", today())
            ),
            // The sync base records the new title's fingerprint.
            (base_line(&before), base_line(&after)),
        ]
    );
    assert_ne!(base_line(&before), base_line(&after));
    assert_eq!(git(&repo.bare(), &["rev-parse", "main^"]), head, "one commit on top");
    let message = git(&repo.bare(), &["log", "-1", "--format=%B", "main"]);
    assert!(message.contains("EPIC-001") && message.contains(&format!("#{n}")), "{message}");
    assert_eq!(run.output("files").as_deref(), Some("1"));
}

#[test]
fn edited_description_replaces_only_the_description_section() {
    let (repo, n, before) = synced();
    repo.standin.edit_milestone(n, |m| {
        m.description = Some(
            "Typed in the browser.\r\nSecond line.\r\n\r\nIntelliManage-ID: EPIC-001\r\nIntelliManage-Project: demo"
                .into(),
        )
    });
    run_event(&repo, &repo.milestone_event("edited", n, json!({"description": {"from": "x"}})), &[]);
    let after = repo.file_at_head(E1).unwrap();
    assert!(
        after.contains("## Description ✍️\n\nTyped in the browser.\nSecond line.\n\n## Acceptance Criteria ✅"),
        "{after}"
    );
    assert!(!after.contains('\r'));
    assert!(!after.contains("IntelliManage-ID"), "markers are stripped");
    let (old, _) = changed_lines(&before, &after);
    assert!(old.iter().any(|l| l.contains("What EPIC-001 delivers")), "{old:?}");
}

#[test]
fn a_paragraph_appended_after_the_sync_lines_lands_after_one_blank_line_and_stays() {
    let (repo, n, before) = synced();
    // github.com's editor shows the raw Markdown, the marker lines and the hidden record
    // included; the person types a paragraph at the end and saves (with CRLF, as the form does).
    let shown = repo.milestones()[0].description.clone().unwrap();
    assert!(shown.contains("\nIntelliManage-Project: demo\n<!-- milestone-sync base "), "{shown:?}");
    let typed = format!("{}\r\n\r\nAdded on GitHub.\r\n", shown.replace('\n', "\r\n"));
    repo.standin.edit_milestone(n, |m| m.description = Some(typed.clone()));
    run_event(&repo, &repo.milestone_event("edited", n, json!({"description": {"from": shown}})), &[]);
    let after = repo.file_at_head(E1).unwrap();
    assert!(
        after.contains("## Description ✍️\n\nWhat EPIC-001 delivers.\n\nAdded on GitHub.\n\n## Acceptance Criteria ✅"),
        "{after}"
    );
    // Nothing else in the section: exactly one blank line, then the paragraph (besides the
    // description, only updated_date and the base change).
    let expected = before
        .replace("What EPIC-001 delivers.\n", "What EPIC-001 delivers.\n\nAdded on GitHub.\n")
        .replace("updated_date = \"2026-11-01\"", &format!("updated_date = \"{}\"", today()))
        .replace(&base_line(&before), &base_line(&after));
    assert_eq!(after, expected);
    // A reconcile finds both sides equal: no PATCH, no commit.
    repo.pull();
    let head = repo.head();
    repo.standin.clear_requests();
    let run = repo.run("workflow_dispatch", "{}", &[]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    assert!(repo.writes().is_empty(), "{:?}\n{}", repo.writes(), run.stdout);
    assert_eq!(repo.head(), head, "no commit");
    assert_eq!(repo.file_at_head(E1).unwrap(), after);
}

#[test]
fn edited_due_date_is_written_to_its_key_or_removed() {
    let (repo, n, _) = synced();
    repo.standin.edit_milestone(n, |m| m.due_on = Some("2026-12-01T08:00:00Z".into()));
    run_event(&repo, &repo.milestone_event("edited", n, json!({"due_on": {"from": "2026-05-23T07:00:00Z"}})), &[]);
    let after = repo.file_at_head(E1).unwrap();
    assert!(after.contains("target_date = \"2026-12-01\"\n"), "{after}");
    repo.pull();
    repo.standin.edit_milestone(n, |m| m.due_on = None);
    run_event(&repo, &repo.milestone_event("edited", n, json!({"due_on": {"from": "2026-12-01T08:00:00Z"}})), &[]);
    let after = repo.file_at_head(E1).unwrap();
    assert!(!after.contains("target_date"), "{after}");
}

#[test]
fn closed_and_reopened_set_the_status() {
    let (repo, n, before) = synced();
    repo.standin.edit_milestone(n, |m| m.state = "closed".into());
    run_event(&repo, &repo.milestone_event("closed", n, json!({})), &[]);
    let after = repo.file_at_head(E1).unwrap();
    let diff = differing_lines(&before, &after);
    assert_eq!(diff.len(), 3, "status, updated_date and the base: {diff:?}");
    assert_eq!(diff[0].1, "status = \"🟢 Done\"");
    assert!(diff[2].1.starts_with("milestone_sync_base") && diff[2].1.contains(" state=closed "), "{diff:?}");
    repo.pull();
    repo.standin.edit_milestone(n, |m| m.state = "open".into());
    run_event(&repo, &repo.milestone_event("opened", n, json!({})), &[("reopened-status", "🟡 To Do")]);
    assert!(repo.file_at_head(E1).unwrap().contains("status = \"🟡 To Do\"\n"));
}

#[test]
fn deleted_unlinks_or_archives() {
    let (repo, n, before) = synced();
    let gone = repo.standin.milestones_json()[0].clone();
    repo.standin.delete_milestone(n);
    let run = run_event(&repo, &repo.milestone_event_for("deleted", gone.clone(), json!({})), &[]);
    let after = repo.file_at_head(E1).unwrap();
    let (old, new) = changed_lines(&before, &after);
    // The link and the sync base (it described the deleted milestone) give way to the record
    // of the deletion, so that no later run creates the milestone again.
    assert!(
        old.len() == 2 && old[0].starts_with("related_milestone") && old[1].starts_with("milestone_sync_base"),
        "{old:?} {new:?}"
    );
    assert_eq!(new, [format!("milestone_deleted = \"{}\"\n", gone["html_url"].as_str().unwrap())]);
    assert!(run.stdout.contains("::warning file=") && run.stdout.contains("was deleted"), "{}", run.stdout);
    // Nothing brings it back: a push, the event again, a reconcile.
    repo.pull();
    for (event, payload) in [
        ("workflow_dispatch", "{}".to_string()),
        ("milestone", repo.milestone_event_for("deleted", gone.clone(), json!({}))),
    ] {
        let run = repo.run(event, &payload, &[]);
        assert_eq!(run.code(), 0, "{event}: {}", run.stdout);
        assert!(repo.milestones().is_empty(), "{event}: {}", run.stdout);
        assert_eq!(repo.file_at_head(E1).unwrap(), after, "{event}");
    }

    let (repo, n, _) = synced();
    let gone = repo.standin.milestones_json()[0].clone();
    repo.standin.delete_milestone(n);
    run_event(&repo, &repo.milestone_event_for("deleted", gone, json!({})), &[("on-milestone-deleted", "archive")]);
    let after = repo.file_at_head(E1).unwrap();
    assert!(after.contains("status = \"🧊 Archived\"") && !after.contains("related_milestone"), "{after}");
}

#[test]
fn a_milestone_gone_by_the_time_the_run_starts_is_handled_as_deleted() {
    let (repo, n, _) = synced();
    repo.standin.edit_milestone(n, |m| m.title = "Renamed then deleted".into());
    let payload = repo.milestone_event("edited", n, json!({"title": {"from": "Alpha"}}));
    repo.standin.delete_milestone(n);
    run_event(&repo, &payload, &[]);
    let after = repo.file_at_head(E1).unwrap();
    assert!(!after.contains("related_milestone") && after.contains("title = \"Alpha\""), "{after}");
}

#[test]
fn created_with_a_known_marker_links_the_artifact() {
    let repo = Repo::new(&[(E1, &epic("EPIC-001", "Alpha", "🟡 To Do", ""))]);
    let m = repo.standin.seed_milestone(SeedMilestone {
        title: "Alpha".into(),
        description: Some("x\n\nIntelliManage-ID: EPIC-001\nIntelliManage-Project: demo".into()),
        ..Default::default()
    });
    run_event(&repo, &repo.milestone_event("created", m.number, json!({})), &[]);
    let after = repo.file_at_head(E1).unwrap();
    assert!(after.contains(&format!("related_milestone = \"{}\"", m.html_url)), "{after}");
}

#[test]
fn created_without_a_marker_is_left_alone_unless_asked() {
    let (repo, _, _) = synced();
    let head = repo.head();
    let m = repo.standin.seed_milestone(SeedMilestone {
        title: "Mobile app: offline mode / sync".into(),
        description: Some("Works on the train.".into()),
        due_on: Some("2027-03-01T12:00:00Z".into()),
        ..Default::default()
    });
    let payload = repo.milestone_event("created", m.number, json!({}));
    repo.standin.clear_requests();
    let run = run_event(&repo, &payload, &[]);
    assert!(
        run.stdout.contains("::notice::")
            && run.stdout.contains("have no artifact")
            && run.stdout.contains("create-artifacts"),
        "{}",
        run.stdout
    );
    assert_eq!(repo.head(), head);
    assert!(repo.writes().is_empty());

    let run = run_event(&repo, &payload, &[("create-artifacts", "true")]);
    let path = "epics/EPIC-002_mobile-app-offline-mode-sync.md";
    let created = repo.file_at_head(path).unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(
        created.contains("id = \"EPIC-002\"")
            && created.contains("target_date = \"2027-03-01\"")
            && created.contains(&m.html_url),
        "{created}"
    );
    assert!(created.contains("## Description ✍️\n\nWorks on the train.\n"), "{created}");
    let parsed = milestone_sync::artifact::parse(path, created.as_bytes()).expect("the new file is a valid artifact");
    assert_eq!(parsed.title, "Mobile app: offline mode / sync");
    let ms = repo.milestones();
    let marked = ms.iter().find(|x| x.number == m.number).unwrap();
    assert!(
        without_record(marked.description.as_deref().unwrap())
            .ends_with("IntelliManage-ID: EPIC-002\nIntelliManage-Project: demo"),
        "{marked:?}"
    );
}

#[test]
fn a_hostile_title_cannot_leave_the_project_folder() {
    let repo = Repo::new(&[]);
    let m = repo.standin.seed_milestone(SeedMilestone { title: "../../etc".into(), ..Default::default() });
    run_event(&repo, &repo.milestone_event("created", m.number, json!({})), &[("create-artifacts", "true")]);
    let files = git(&repo.bare(), &["diff", "--name-only", "main^", "main"]);
    assert_eq!(files, format!("{PROJECT_DIR}/epics/EPIC-001_etc.md"));
}

#[test]
fn replaying_an_event_changes_nothing() {
    let (repo, n, _) = synced();
    repo.standin.edit_milestone(n, |m| m.title = "Alpha 2".into());
    let payload = repo.milestone_event("edited", n, json!({"title": {"from": "Alpha"}}));
    run_event(&repo, &payload, &[]);
    repo.pull();
    let head = repo.head();
    repo.standin.clear_requests();
    let run = run_event(&repo, &payload, &[]);
    assert_eq!(repo.head(), head, "no commit");
    assert!(repo.writes().is_empty(), "{:?}", repo.writes());
    assert!(run.summary.contains("everything is in sync"), "{}", run.summary);
}

#[test]
fn ping_pong_a_push_update_fed_back_as_an_event_writes_nothing() {
    let (repo, n, before) = synced();
    let payload =
        repo.push(&[(E1, Some(&before.replace("title = \"Alpha\"", "title = \"Alpha from a push\"")))], "rename");
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    repo.pull();
    let head = repo.head();
    repo.standin.clear_requests();
    // GitHub answers the PATCH with a milestone.edited event (a PAT or App token runs it).
    let run = run_event(&repo, &repo.milestone_event("edited", n, json!({"title": {"from": "Alpha"}})), &[]);
    assert!(repo.writes().is_empty(), "{:?}", repo.writes());
    assert_eq!(repo.head(), head, "no commit");
    assert!(run.stdout.contains("nothing to change"), "{}", run.stdout);
}

#[test]
fn an_event_for_an_unknown_milestone_ends_with_a_notice() {
    let (repo, _, _) = synced();
    let m = repo.standin.seed_milestone(SeedMilestone { title: "Someone else's".into(), ..Default::default() });
    repo.standin.clear_requests();
    let run = run_event(&repo, &repo.milestone_event("edited", m.number, json!({"title": {"from": "x"}})), &[]);
    assert!(run.stdout.contains("::notice::") && run.stdout.contains("have no artifact"), "{}", run.stdout);
    assert!(repo.writes().is_empty());
}

#[test]
fn two_events_in_quick_succession_both_land() {
    let (repo, n, _) = synced();
    repo.standin.edit_milestone(n, |m| m.title = "Alpha 2".into());
    let first = repo.milestone_event("edited", n, json!({"title": {"from": "Alpha"}}));
    repo.standin.edit_milestone(n, |m| m.state = "closed".into());
    let second = repo.milestone_event("closed", n, json!({}));
    // Both runs start from the same checkout; the second finds the branch moved.
    run_event(&repo, &first, &[]);
    run_event(&repo, &second, &[]);
    let after = repo.file_at_head(E1).unwrap();
    assert!(after.contains("title = \"Alpha 2\"") && after.contains("status = \"🟢 Done\""), "{after}");
}

#[test]
fn a_description_with_its_own_headings_comes_back_whole_and_is_not_sent_back() {
    let (repo, n, _) = synced();
    repo.standin.edit_milestone(n, |m| {
        m.description = Some(
            "Typed in the browser.\r\n\r\n## Details\r\nMore text.\r\n\r\nIntelliManage-ID: EPIC-001\r\nIntelliManage-Project: demo".into(),
        )
    });
    run_event(&repo, &repo.milestone_event("edited", n, json!({"description": {"from": "x"}})), &[]);
    let after = repo.file_at_head(E1).unwrap();
    // `## Details` would end the Description section: it is kept as a sub-heading.
    assert!(
        after.contains(
            "## Description ✍️\n\nTyped in the browser.\n\n### Details\nMore text.\n\n## Acceptance Criteria ✅"
        ),
        "{after}"
    );
    // A reconcile finds both sides equal: GitHub's text is not cut or rewritten.
    repo.pull();
    repo.standin.clear_requests();
    let run = repo.run("workflow_dispatch", "{}", &[]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    assert!(repo.writes().is_empty(), "{:?}\n{}", repo.writes(), run.stdout);
    assert!(repo.milestones()[0].description.as_deref().unwrap().contains("## Details"));
}

#[test]
fn an_event_for_a_milestone_marked_for_another_artifact_writes_nothing() {
    let (repo, n, _) = synced();
    let payload = repo.push(&[("epics/EPIC-002_beta.md", Some(&epic("EPIC-002", "Beta", "🟡 To Do", "")))], "beta");
    assert_eq!(repo.run("push", &payload, &[]).code(), 0);
    repo.standin.edit_milestone(n, |m| {
        m.title = "Alpha renamed".into();
        m.description = Some("x\n\nIntelliManage-ID: EPIC-002\nIntelliManage-Project: demo".into());
    });
    let head = repo.head();
    let run = repo.run("milestone", &repo.milestone_event("edited", n, json!({"title": {"from": "Alpha"}})), &[]);
    assert_eq!(run.code(), 1, "{}", run.stdout);
    assert!(
        run.stdout.contains("::error file=.ruru/projects/demo/epics/EPIC-001_alpha.md,line=")
            && run.stdout.contains("marks it as EPIC-002"),
        "{}",
        run.stdout
    );
    assert_eq!(repo.head(), head, "no commit");
}
