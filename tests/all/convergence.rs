//! Runs as GitHub really starts them: cancelled, queued behind another run, started from a
//! checkout older than the branch. Each test is one of the ways the sync used to lose work or
//! cost the user a commit, and asserts the milestones and the bytes at the branch head.

use std::collections::BTreeMap;

use crate::common::*;
use github_standin::{Protection, SeedMilestone, Trigger};
use serde_json::json;

const E1: &str = "epics/EPIC-001_alpha.md";
const E2: &str = "epics/EPIC-002_beta.md";

/// EPIC-001 (dated) and EPIC-002 pushed and synced; the workspace at the head with the links.
fn synced() -> Repo {
    let repo = two_epics_synced("🔵 In Progress");
    repo.pull();
    repo
}

fn milestone(repo: &Repo, title: &str) -> github_standin::MilestoneRecord {
    repo.milestones().into_iter().find(|m| m.title == title).unwrap_or_else(|| panic!("no milestone {title:?}"))
}

fn by_number(repo: &Repo, number: u64) -> github_standin::MilestoneRecord {
    repo.milestones().into_iter().find(|m| m.number == number).unwrap()
}

fn requests(repo: &Repo) -> Vec<(String, String)> {
    repo.standin.requests().into_iter().map(|r| (r.method, r.path)).collect()
}

fn today() -> String {
    chrono::Utc::now().date_naive().format("%Y-%m-%d").to_string()
}

/// A push that renames an Epic and moves its date updates the milestone with one PATCH and
/// makes no commit: the author's next push, from a clone that never pulled, lands; on a
/// protected branch the run succeeds.
#[test]
fn an_editing_push_costs_no_commit_and_the_authors_next_push_lands() {
    let repo = synced();
    let number = milestone(&repo, "Alpha").number;
    let edited = repo
        .file_at_head(E1)
        .unwrap()
        .replace("title = \"Alpha\"", "title = \"Alpha, renamed\"")
        .replace("target_date = \"2026-05-23\"", "target_date = \"2026-06-30\"");
    let payload = repo.push(&[(E1, Some(&edited))], "rename alpha, move its date");
    let pushed = repo.head();
    repo.standin.clear_requests();
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        requests(&repo),
        [
            ("GET".to_string(), format!("/repos/{OWNER}/{REPO}/milestones")),
            ("PATCH".to_string(), format!("/repos/{OWNER}/{REPO}/milestones/{number}")),
        ]
    );
    let m = by_number(&repo, number);
    assert_eq!((m.title.as_str(), m.due_on.as_deref()), ("Alpha, renamed", Some("2026-06-30T07:00:00Z")));
    assert_eq!(repo.head(), pushed, "no commit of the sync's");
    assert_eq!(repo.file_at_head(E1).unwrap(), edited, "the file is as its author pushed it");
    assert_eq!(run.output("commit-sha").as_deref(), Some(""));

    // The author edits again without pulling: the push is a fast-forward.
    let ws = repo.workspace();
    let again = edited.replace("🟡 To Do", "🔵 In Progress");
    write(&ws.join(PROJECT_DIR).join(E1), &again);
    git(&ws, &["commit", "-qam", "start alpha"]);
    git(&ws, &["push", "-q", "origin", "main"]);
    assert_eq!(repo.file_at_head(E1).unwrap(), again);

    // On a protected branch the same kind of push syncs and succeeds.
    repo.standin.protect_branch(Some(Protection::Ruleset));
    let renamed = again.replace("Alpha, renamed", "Alpha, third name");
    let payload = repo.push(&[(E1, Some(&renamed))], "rename alpha again");
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(by_number(&repo, number).title, "Alpha, third name");
}

/// 250 Epics linked by `related_milestone` to milestones that carry their markers, every field
/// equal on both sides, no sync base anywhere: the first reconcile adopts every link with no
/// write at all, and so does the next.
#[test]
fn links_made_before_the_base_with_equal_values_are_adopted_with_no_write() {
    let repo = Repo::new(&[]);
    let mut files = Vec::new();
    for i in 1..=250u64 {
        let id = format!("EPIC-{i:03}");
        let m = repo.standin.seed_milestone(SeedMilestone {
            title: format!("Epic {i}"),
            description: Some(format!("What {id} delivers.\n\nIntelliManage-ID: {id}\nIntelliManage-Project: demo")),
            ..Default::default()
        });
        let link = format!("related_milestone = \"{}\"\n", m.html_url);
        files.push((format!("epics/{id}_e{i}.md"), epic(&id, &format!("Epic {i}"), "🟡 To Do", &link)));
    }
    let changes: Vec<(&str, Option<&str>)> = files.iter().map(|(p, c)| (p.as_str(), Some(c.as_str()))).collect();
    repo.push(&changes, "a plan linked by hand");
    let head = repo.head();
    for round in ["first", "second"] {
        repo.standin.clear_requests();
        let run = repo.run("workflow_dispatch", "{}", &[]);
        assert_eq!(run.code(), 0, "{round}: {}\n{}", run.stdout, run.stderr);
        assert!(repo.writes().is_empty(), "{round}: {:?}", repo.writes());
        assert_eq!(repo.head(), head, "{round}: no commit");
        let pages = requests(&repo).iter().filter(|(m, p)| m == "GET" && p.ends_with("/milestones")).count();
        assert_eq!(pages, 3, "{round}: three list pages, nothing else read: {:?}", requests(&repo));
        assert!(run.stdout.contains("250 in sync"), "{round}: {}", run.stdout);
    }
}

/// Three milestone edits within seconds: the first run commits, the second is cancelled, the
/// third starts from the checkout the first had not committed to yet. The third run does the
/// second's work too, on the branch head, and the file carries all three edits.
#[test]
fn a_cancelled_event_run_is_done_by_the_next_run_from_a_stale_checkout() {
    let repo = synced();
    let before = repo.file_at_head(E1).unwrap();
    let n = milestone(&repo, "Alpha").number;
    let checkout = repo.head();

    repo.standin.edit_milestone(n, |m| m.title = "Alpha (renamed on GitHub)".into());
    let first = repo.milestone_event("edited", n, json!({"title": {"from": "Alpha"}}));
    let run = repo.run("milestone", &first, &[]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    assert_ne!(repo.head(), checkout, "the first run committed");

    // The second edit's run is cancelled by the third's.
    repo.standin.edit_milestone(n, |m| m.due_on = Some("2026-09-30T12:00:00Z".into()));
    repo.standin.edit_milestone(n, |m| {
        let text = m.description.clone().unwrap().replacen("What EPIC-001 delivers.", "Now with a due date.", 1);
        m.description = Some(text.replace('\n', "\r\n"));
    });
    let third = repo.milestone_event("edited", n, json!({"description": {"from": "What EPIC-001 delivers."}}));
    // The workspace is still at the checkout the events started from.
    assert_eq!(git(&repo.workspace(), &["rev-parse", "HEAD"]), checkout);
    let run = repo.run("milestone", &third, &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("moved on from the checkout"), "{}", run.stdout);

    let after = repo.file_at_head(E1).unwrap();
    let changed: Vec<String> = differing_lines(&before, &after).into_iter().map(|(_, new)| new).collect();
    assert_eq!(
        changed,
        [
            "title = \"Alpha (renamed on GitHub)\"".to_string(),
            format!("updated_date = \"{}\" # Use current date", today()),
            "target_date = \"2026-09-30\"".to_string(),
            changed[3].clone(),
            "Now with a due date.".to_string(),
        ],
        "{after}"
    );
    assert!(changed[3].starts_with("milestone_sync_base = \"v1 gen=3 "), "{changed:?}");
    // One commit per run that wrote, on top of each other; nothing left for a reconcile.
    assert_eq!(git(&repo.bare(), &["rev-list", "--count", &format!("{checkout}..main")]), "2");
    repo.pull();
    repo.standin.clear_requests();
    let run = repo.run("workflow_dispatch", "{}", &[]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    assert!(repo.writes().is_empty(), "{:?}", repo.writes());
}

/// Two pushes in a row, the first closing an Epic: its run is cancelled, the second push
/// touches only the README, and its run closes the milestone, with no commit.
#[test]
fn a_cancelled_push_run_is_done_by_the_next_push_run() {
    let repo = synced();
    let closed = repo.file_at_head(E2).unwrap().replace("🔵 In Progress", "🟢 Done");
    repo.push(&[(E2, Some(&closed))], "beta is done");
    let payload = repo.push_outside("# plan\n\nNotes.\n");
    let head = repo.head();
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(milestone(&repo, "Beta").state, "closed");
    assert_eq!(repo.head(), head, "no commit");
    assert_eq!(repo.file_at_head(E2).unwrap(), closed);
}

/// Two milestones made one after the other, with `create-artifacts`: the second run starts
/// from the checkout the first has not committed to yet. The second file is numbered on the
/// tree its commit lands on, and each milestone's marker names its own file's ID.
#[test]
fn milestones_imported_from_a_stale_checkout_get_their_own_ids() {
    let repo = synced();
    let inputs = [("create-artifacts", "true")];
    let checkout = repo.head();
    let first = repo.standin.seed_milestone(SeedMilestone { title: "Launch".into(), ..Default::default() });
    // The second is made while the first run works (after it listed the milestones).
    repo.standin.seed_milestone_when(
        Trigger::new("GET", "/git/ref/"),
        SeedMilestone { title: "Grow".into(), ..Default::default() },
    );
    let run = repo.run("milestone", &repo.milestone_event("created", first.number, json!({})), &inputs);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(git(&repo.workspace(), &["rev-parse", "HEAD"]), checkout, "the next run starts from here");
    let second = milestone(&repo, "Grow");
    assert!(second.description.is_none(), "the first run left it alone: {second:?}");
    let run = repo.run("milestone", &repo.milestone_event("created", second.number, json!({})), &inputs);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);

    let listing = git(&repo.bare(), &["ls-tree", "--name-only", "main", &format!("{PROJECT_DIR}/epics/")]);
    let names: Vec<&str> = listing.lines().map(|l| l.rsplit('/').next().unwrap()).collect();
    assert_eq!(names, ["EPIC-001_alpha.md", "EPIC-002_beta.md", "EPIC-003_launch.md", "EPIC-004_grow.md"], "{listing}");
    for (number, id) in [(first.number, "EPIC-003"), (second.number, "EPIC-004")] {
        let m = by_number(&repo, number);
        assert!(
            without_record(m.description.as_deref().unwrap())
                .ends_with(&format!("IntelliManage-ID: {id}\nIntelliManage-Project: demo")),
            "{m:?}"
        );
    }
}

/// A file that takes the new artifact's ID lands on the branch while the run is committing
/// it: the commit is rebuilt with the next ID, and the milestone is marked with that one.
#[test]
fn an_import_whose_id_is_taken_while_committing_is_numbered_again() {
    // The push lands just before the commit: in one request, and through the Git Database.
    for (commit_request, env) in COMMIT_PATHS {
        let repo = synced();
        let m = repo.standin.seed_milestone(SeedMilestone { title: "Launch".into(), ..Default::default() });
        let theirs = epic("EPIC-003", "Someone else's", "🟡 To Do", "");
        repo.standin.move_branch_when(
            Trigger::new("POST", commit_request),
            vec![(format!("{PROJECT_DIR}/epics/EPIC-003_theirs.md"), theirs.clone())],
            "a concurrent push of EPIC-003",
        );
        let payload = repo.milestone_event("created", m.number, json!({}));
        let run = repo.run_with("milestone", &payload, &[("create-artifacts", "true")], env);
        assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
        assert_eq!(repo.file_at_head("epics/EPIC-003_theirs.md").as_deref(), Some(theirs.as_str()));
        assert_eq!(repo.file_at_head("epics/EPIC-003_launch.md"), None);
        let ours = repo.file_at_head("epics/EPIC-004_launch.md").unwrap_or_else(|| panic!("{}", run.stderr));
        assert!(ours.contains("id = \"EPIC-004\"\n") && ours.contains(&m.html_url), "{ours}");
        let marked = by_number(&repo, m.number);
        assert!(
            without_record(marked.description.as_deref().unwrap())
                .ends_with("IntelliManage-ID: EPIC-004\nIntelliManage-Project: demo"),
            "{commit_request}"
        );
    }
}

/// A milestone deleted on GitHub: the artifact keeps its content and records the deletion;
/// no later push or reconcile makes the milestone again, also when only a reconcile sees the
/// dead link. Removing the record brings a new milestone.
#[test]
fn a_milestone_deleted_on_github_stays_deleted() {
    for seen_by in ["the deleted event", "a reconcile"] {
        let repo = synced();
        let gone =
            repo.standin.milestones_json().as_array().unwrap().iter().find(|m| m["title"] == "Alpha").cloned().unwrap();
        let url = gone["html_url"].as_str().unwrap().to_string();
        let before = repo.file_at_head(E1).unwrap();
        repo.standin.delete_milestone(gone["number"].as_u64().unwrap());
        let (event, payload) = match seen_by {
            "the deleted event" => ("milestone", repo.milestone_event_for("deleted", gone.clone(), json!({}))),
            _ => ("workflow_dispatch", "{}".to_string()),
        };
        let run = repo.run(event, &payload, &[]);
        assert_eq!(run.code(), 0, "{seen_by}: {}", run.stdout);
        let after = repo.file_at_head(E1).unwrap();
        let (old, new) = changed_lines(&before, &after);
        assert!(
            old.len() == 2 && old[0].starts_with("related_milestone") && old[1].starts_with("milestone_sync_base"),
            "{seen_by}: {old:?}"
        );
        assert_eq!(new, [format!("milestone_deleted = \"{url}\"\n")], "{seen_by}");

        // A push that edits the Epic, then a reconcile: no milestone comes back.
        repo.pull();
        let edited = after.replace("What EPIC-001 delivers.", "Still planned, without a milestone.");
        let payload = repo.push(&[(E1, Some(&edited))], "edit alpha");
        for (event, payload) in [("push", payload), ("workflow_dispatch", "{}".to_string())] {
            let run = repo.run(event, &payload, &[]);
            assert_eq!(run.code(), 0, "{seen_by}, {event}: {}", run.stdout);
            assert!(!repo.milestones().iter().any(|m| m.title == "Alpha"), "{seen_by}, {event}: it came back");
            assert_eq!(repo.file_at_head(E1).unwrap(), edited, "{seen_by}, {event}");
        }

        // Removing `milestone_deleted` asks for a milestone again.
        let revived = edited.replace(&format!("milestone_deleted = \"{url}\"\n"), "");
        let payload = repo.push(&[(E1, Some(&revived))], "alpha needs a milestone again");
        let run = repo.run("push", &payload, &[]);
        assert_eq!(run.code(), 0, "{seen_by}: {}", run.stdout);
        let new = milestone(&repo, "Alpha");
        assert_ne!(new.html_url, url, "{seen_by}: a new milestone");
        assert!(repo.file_at_head(E1).unwrap().contains(&format!("related_milestone = \"{}\"", new.html_url)));
    }
}

/// A reconcile with `prefer_local` right after an editing push never reverts a later
/// GitHub-only edit of the same field: the push left the new base on the milestone.
#[test]
fn prefer_local_after_an_editing_push_keeps_a_later_github_edit() {
    let repo = synced();
    let n = milestone(&repo, "Alpha").number;
    let edited = repo.file_at_head(E1).unwrap().replace("title = \"Alpha\"", "title = \"Alpha from the file\"");
    let payload = repo.push(&[(E1, Some(&edited))], "rename in the file");
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    repo.standin.edit_milestone(n, |m| m.title = "Alpha from GitHub".into());
    let run = repo.run("workflow_dispatch", "{}", &[("conflict-resolution", "prefer_local")]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    assert_eq!(by_number(&repo, n).title, "Alpha from GitHub");
    assert!(repo.file_at_head(E1).unwrap().contains("title = \"Alpha from GitHub\""));
    assert_eq!(run.output("conflicts").as_deref(), Some("0"));
}

/// Deleting the milestone's hidden record (editing the description on GitHub) only degrades
/// to the rules without a base: the file's own record still holds it.
#[test]
fn a_lost_milestone_record_falls_back_to_the_files() {
    let repo = synced();
    let n = milestone(&repo, "Alpha").number;
    repo.standin.edit_milestone(n, |m| {
        m.description = m.description.as_deref().map(without_record);
        m.title = "Alpha from GitHub".into();
    });
    let run = repo.run("workflow_dispatch", "{}", &[("conflict-resolution", "prefer_local")]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    assert!(repo.file_at_head(E1).unwrap().contains("title = \"Alpha from GitHub\""), "GitHub's one-sided edit kept");
}

/// The trial of a missing concurrency group: a milestone made on GitHub, then its `created`
/// event's run and a reconcile, both with `create-artifacts`, start at the same moment from
/// the same checkout. Whichever commits second finds the milestone imported on the head it
/// lands on and writes nothing for it: one artifact file, one marker, in every one of 50
/// trials.
#[test]
fn two_runs_importing_one_milestone_at_once_make_one_file() {
    use std::process::Stdio;
    let inputs = [("create-artifacts", "true")];
    let mut seen = BTreeMap::new();
    for trial in 0..50 {
        let repo = synced();
        let m = repo
            .standin
            .seed_milestone(SeedMilestone { title: format!("Started on GitHub {trial}"), ..Default::default() });
        let event = repo.milestone_event("created", m.number, json!({}));
        // The reconcile's runner files (payload, outputs, summary) apart from the event run's.
        let (mut b, files_b) = {
            let (mut cmd, _) = repo.command("workflow_dispatch", "{}", &inputs);
            let dir = repo.dir.path().join("runner-b");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join("event.json"), "{}").unwrap();
            let files = RunnerFiles { output: dir.join("output.txt"), summary: dir.join("summary.md") };
            cmd.env("GITHUB_OUTPUT", &files.output)
                .env("GITHUB_STEP_SUMMARY", &files.summary)
                .env("GITHUB_EVENT_PATH", dir.join("event.json"));
            (cmd, files)
        };
        let (mut a, files_a) = repo.command("milestone", &event, &inputs);
        let child_a = a.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let child_b = b.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let run_a = finish(child_a.wait_with_output().unwrap(), &files_a);
        let run_b = finish(child_b.wait_with_output().unwrap(), &files_b);
        assert_eq!(run_a.code(), 0, "trial {trial}: {}\n{}", run_a.stdout, run_a.stderr);
        assert_eq!(run_b.code(), 0, "trial {trial}: {}\n{}", run_b.stdout, run_b.stderr);
        let listing = git(&repo.bare(), &["ls-tree", "--name-only", "main", &format!("{PROJECT_DIR}/epics/")]);
        let imported: Vec<&str> = listing.lines().filter(|p| p.contains("started-on-github")).collect();
        assert_eq!(imported.len(), 1, "trial {trial}: {imported:?}\n--- a\n{}\n--- b\n{}", run_a.stdout, run_b.stdout);
        let file = git(&repo.bare(), &["show", &format!("main:{}", imported[0])]);
        let id = file.lines().find_map(|l| l.strip_prefix("id = \"")).unwrap().trim_end_matches('"').to_string();
        let description = by_number(&repo, m.number).description.unwrap_or_default();
        assert!(description.contains(&format!("IntelliManage-ID: {id}")), "trial {trial}: {description}");
        assert_eq!(description.matches("IntelliManage-ID:").count(), 1, "trial {trial}: {description}");
        // Which run won does not matter; both orders happen.
        let met = |run: &Run| run.stdout.contains("imported by another run");
        *seen.entry((met(&run_a), met(&run_b))).or_insert(0) += 1;
    }
    eprintln!("(event run met the other's import, reconcile met it) → trials: {seen:?}");
}

/// The same race, made certain: while the run commits its import of a milestone, another
/// run's import of that milestone (a file linking it, under another ID) lands on the branch.
/// The rebuilt commit drops the run's own file, and its marker is not sent: the milestone
/// keeps the other file's, and one file links it.
#[test]
fn an_import_that_another_run_committed_meanwhile_is_dropped_with_its_marker() {
    for (commit_request, env) in COMMIT_PATHS {
        let repo = synced();
        let m = repo.standin.seed_milestone(SeedMilestone { title: "Launch".into(), ..Default::default() });
        let theirs = epic("EPIC-007", "Launch", "🟡 To Do", &format!("related_milestone = \"{}\"\n", m.html_url));
        let theirs_path = format!("{PROJECT_DIR}/epics/EPIC-007_launch.md");
        repo.standin.move_branch_when(
            Trigger::new("POST", commit_request),
            vec![(theirs_path.clone(), theirs.clone())],
            "another run's import of Launch",
        );
        repo.standin.clear_requests();
        let run = repo.run_with("workflow_dispatch", "{}", &[("create-artifacts", "true")], env);
        assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
        let listing = git(&repo.bare(), &["ls-tree", "--name-only", "main", &format!("{PROJECT_DIR}/epics/")]);
        let linking: Vec<&str> = listing.lines().filter(|p| p.contains("launch")).collect();
        assert_eq!(linking, [theirs_path.as_str()], "{commit_request}: {listing}");
        assert_eq!(git(&repo.bare(), &["show", &format!("main:{theirs_path}")]), theirs.trim_end());
        let marker_patches = repo
            .standin
            .writes()
            .into_iter()
            .filter(|w| w.method == "PATCH" && w.path.ends_with(&format!("/milestones/{}", m.number)))
            .count();
        assert_eq!(marker_patches, 0, "the other run's marker is not moved: {:?}", repo.standin.writes());
        assert!(run.stdout.contains("imported by another run at the same time, as"), "{}", run.stdout);
    }
}

/// The request just before which a concurrent push lands in the two commit paths, and the
/// environment that picks the path.
const COMMIT_PATHS: [(&str, &[(&str, &str)]); 2] =
    [("/graphql", &[]), ("/git/commits", &[("MILESTONE_SYNC_COMMIT_API", "git-database")])];

/// A run's milestone list is a snapshot, and the head it catches up with may be newer: a file
/// there may link a milestone another run made after the list was read. That milestone is not
/// "deleted on GitHub": GitHub is asked before the deletion is recorded for good.
#[test]
fn a_milestone_made_after_the_list_was_read_is_not_recorded_as_deleted() {
    let repo = synced();
    let number = repo.milestones().len() as u64 + 1;
    let url = format!("https://github.com/acme/plan/milestone/{number}");
    // Another run's import, landing while this run reads the head: the milestone and its file.
    let theirs = epic("EPIC-009", "Launch", "🟡 To Do", &format!("related_milestone = \"{url}\"\n"));
    let trigger = || Trigger::new("GET", "/git/ref/");
    repo.standin.move_branch_when(
        trigger(),
        vec![(format!("{PROJECT_DIR}/epics/EPIC-009_launch.md"), theirs)],
        "another run's import of Launch",
    );
    repo.standin.seed_milestone_when(
        trigger(),
        SeedMilestone {
            title: "Launch".into(),
            description: Some("IntelliManage-ID: EPIC-009\nIntelliManage-Project: demo".into()),
            ..Default::default()
        },
    );
    // This run creates a milestone for a new file, so it reads the head before writing.
    let payload = repo.push(&[("epics/EPIC-003_new.md", Some(&epic("EPIC-003", "New", "🟡 To Do", "")))], "a new epic");
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(&format!("milestone #{number} exists (made after the list was read)")),
        "{}",
        run.stdout
    );
    let file = repo.file_at_head("epics/EPIC-009_launch.md").unwrap();
    assert!(!file.contains("milestone_deleted"), "{file}\n{}", run.stdout);
    assert_eq!(by_number(&repo, number).title, "Launch");
    assert!(repo.file_at_head("epics/EPIC-003_new.md").unwrap().contains("related_milestone"));
    // Nothing left over for the next run.
    repo.pull();
    repo.standin.clear_requests();
    let run = repo.run("workflow_dispatch", "{}", &[]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    assert!(!run.stdout.contains("deleted on GitHub"), "{}", run.stdout);
}
