//! The two-way reconcile (`workflow_dispatch`/`schedule`) through the real binary against the
//! stand-in: catching up missed changes on both sides by the sync base, the conflict
//! policies, the integrity checks, the first-time import of existing milestones and the
//! `direction` input. Each test checks the end state: milestones and file bytes at the head.

use crate::common::*;
use github_standin::SeedMilestone;

const E1: &str = "epics/EPIC-001_alpha.md";
const E2: &str = "epics/EPIC-002_beta.md";

/// Two epics pushed and synced; the workspace at the head that holds the links and bases.
fn synced() -> Repo {
    let repo = two_epics_synced("🟡 To Do");
    repo.pull();
    repo
}

fn number_of(repo: &Repo, title: &str) -> u64 {
    repo.milestones().iter().find(|m| m.title == title).unwrap_or_else(|| panic!("a milestone titled {title}")).number
}

/// Commits and pushes without running the push sync (a missed run, or sync added later).
fn push_quietly(repo: &Repo, path: &str, from: &str, to: &str) {
    let content = repo.file_at_head(path).unwrap();
    assert!(content.contains(from), "{from:?} in {content}");
    repo.push(&[(path, Some(&content.replace(from, to)))], "edit without a sync");
}

fn reconcile(repo: &Repo, inputs: &[(&str, &str)]) -> crate::common::Run {
    repo.pull();
    repo.run("workflow_dispatch", "{}", inputs)
}

fn line_of<'a>(file: &'a str, key: &str) -> &'a str {
    file.lines().find(|l| l.starts_with(&format!("{key} ="))).unwrap_or_default()
}

#[test]
fn a_reconcile_catches_up_missed_changes_on_both_sides() {
    let repo = synced();
    let alpha = number_of(&repo, "Alpha");
    let beta = number_of(&repo, "Beta");
    // On GitHub: Alpha renamed and its date moved, and no event run happened.
    repo.standin.edit_milestone(alpha, |m| {
        m.title = "Alpha, renamed on GitHub".into();
        m.due_on = Some("2026-07-01T07:00:00Z".into());
    });
    // In the files: Beta's description changed and closed, and no push run happened.
    push_quietly(&repo, E2, "What EPIC-002 delivers.", "Beta, described anew.");
    push_quietly(&repo, E2, "🟡 To Do", "🟢 Done");
    let e1_before = repo.file_at_head(E1).unwrap();
    let head = repo.head();
    repo.standin.clear_requests();

    let run = reconcile(&repo, &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    let b = repo.milestones().into_iter().find(|m| m.number == beta).unwrap();
    assert!(
        b.description.as_deref().unwrap().starts_with("Beta, described anew.\n\nIntelliManage-ID: EPIC-002"),
        "{b:?}"
    );
    assert_eq!(b.state, "closed");
    let a = repo.milestones().into_iter().find(|m| m.number == alpha).unwrap();
    assert_eq!(a.title, "Alpha, renamed on GitHub", "GitHub's rename is not reverted");
    let e1 = repo.file_at_head(E1).unwrap();
    assert_eq!(line_of(&e1, "title"), "title = \"Alpha, renamed on GitHub\"");
    assert_eq!(line_of(&e1, "target_date"), "target_date = \"2026-07-01\"");
    let diff = differing_lines(&e1_before, &e1);
    assert!(
        diff.iter().all(|(_, l)| ["title =", "updated_date =", "target_date =", "milestone_sync_base ="]
            .iter()
            .any(|k| l.starts_with(k))),
        "only the synced lines, updated_date and the base change: {diff:?}"
    );
    assert_eq!(diff.len(), 4, "{diff:?}");
    assert_eq!(git(&repo.bare(), &["rev-list", "--count", &format!("{head}..main")]), "1", "one commit");
    assert_eq!(run.output("conflicts").as_deref(), Some("0"));

    // Caught up: the next reconcile writes nothing.
    repo.standin.clear_requests();
    let run = reconcile(&repo, &[]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    assert!(repo.writes().is_empty(), "{:?}\n{}", repo.writes(), run.stdout);
}

#[test]
fn manual_flag_writes_neither_side_until_the_two_agree() {
    let repo = synced();
    let alpha = number_of(&repo, "Alpha");
    repo.standin.edit_milestone(alpha, |m| m.title = "Alpha (GitHub)".into());
    push_quietly(&repo, E1, "title = \"Alpha\"", "title = \"Alpha (file)\"");
    repo.standin.clear_requests();

    let run = reconcile(&repo, &[("conflict-resolution", "manual_flag"), ("fail-on-conflict", "true")]);
    assert_eq!(run.code(), 1, "fail-on-conflict fails the step: {}", run.stdout);
    let milestone_writes: Vec<_> = repo.writes().into_iter().filter(|w| w.path.contains("/milestones")).collect();
    assert!(milestone_writes.is_empty(), "{milestone_writes:?}");
    assert_eq!(repo.milestones().iter().find(|m| m.number == alpha).unwrap().title, "Alpha (GitHub)");
    let e1 = repo.file_at_head(E1).unwrap();
    assert_eq!(line_of(&e1, "title"), "title = \"Alpha (file)\"", "the file keeps its value");
    assert_eq!(line_of(&e1, "sync_conflict"), "sync_conflict = \"title\"", "the artifact is flagged");
    let annotation = run
        .stdout
        .lines()
        .find(|l| l.starts_with("::warning file=.ruru/projects/demo/epics/EPIC-001_alpha.md,line=4::"))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(annotation.contains("Alpha (file)") && annotation.contains("Alpha (GitHub)"), "{annotation}");
    assert_eq!(run.output("conflicts").as_deref(), Some("1"));
    // Said once, whole, where a person looks first: under the headline, not in a table.
    assert!(run.summary.starts_with("## ⚠️ milestone-sync: needs attention — 1 conflict flagged\n"), "{}", run.summary);
    let item = run.summary.lines().find(|l| l.starts_with("- ⚠️ EPIC-001: title changed")).expect(&run.summary);
    assert!(item.contains("(\"Alpha (file)\")") && item.contains("(\"Alpha (GitHub)\")"), "{item}");
    assert_eq!(run.summary.matches("Alpha (GitHub)\")").count(), 1, "{}", run.summary);
    assert!(!run.summary.contains("### Conflicts"), "{}", run.summary);

    // Without fail-on-conflict the same state exits 0 and writes nothing more.
    repo.standin.clear_requests();
    let head = repo.head();
    let run = reconcile(&repo, &[("conflict-resolution", "manual_flag")]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    assert!(repo.writes().is_empty(), "{:?}", repo.writes());
    assert_eq!(repo.head(), head);

    // Resolved by hand: the file takes GitHub's title. The flag goes, the base moves.
    push_quietly(&repo, E1, "title = \"Alpha (file)\"", "title = \"Alpha (GitHub)\"");
    let run = reconcile(&repo, &[("conflict-resolution", "manual_flag")]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    let e1 = repo.file_at_head(E1).unwrap();
    assert!(!e1.contains("sync_conflict"), "{e1}");
    repo.standin.clear_requests();
    assert_eq!(reconcile(&repo, &[("conflict-resolution", "manual_flag")]).code(), 0);
    assert!(repo.writes().is_empty(), "in sync: {:?}", repo.writes());
}

#[test]
fn the_policies_pick_their_side() {
    for (policy, expected) in
        [("prefer_local", "Alpha (file)"), ("prefer_github", "Alpha (GitHub)"), ("last_update_wins", "Alpha (GitHub)")]
    {
        let repo = synced();
        let alpha = number_of(&repo, "Alpha");
        push_quietly(&repo, E1, "title = \"Alpha\"", "title = \"Alpha (file)\"");
        // GitHub's edit comes after the file's commit: last_update_wins picks GitHub.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        repo.standin.edit_milestone(alpha, |m| m.title = "Alpha (GitHub)".into());
        let run = reconcile(&repo, &[("conflict-resolution", policy)]);
        assert_eq!(run.code(), 0, "{policy}: {}", run.stdout);
        assert_eq!(repo.milestones().iter().find(|m| m.number == alpha).unwrap().title, expected, "{policy}");
        assert_eq!(line_of(&repo.file_at_head(E1).unwrap(), "title"), format!("title = \"{expected}\""), "{policy}");
        assert_eq!(run.output("conflicts").as_deref(), Some("1"), "{policy}");
        assert!(
            run.stdout.contains("::notice file=.ruru/projects/demo/epics/EPIC-001_alpha.md,line=4::"),
            "{policy}: {}",
            run.stdout
        );
    }
}

#[test]
fn integrity_problems_are_reported_and_everything_else_syncs() {
    let repo = synced();
    let alpha = number_of(&repo, "Alpha");
    let beta = number_of(&repo, "Beta");
    // A copy of EPIC-001 that also links Alpha's milestone; a second milestone carrying
    // Beta's marker; an epic linking a milestone that does not exist (deleted on GitHub); an
    // open milestone whose marker names a file that is gone (removed); and one good new epic.
    let alpha_file = repo.file_at_head(E1).unwrap();
    let copy = alpha_file.replace("EPIC-001", "EPIC-005").replace("title = \"Alpha\"", "title = \"Alpha copy\"");
    let dangling =
        epic("EPIC-006", "Dangling", "🟡 To Do", "related_milestone = \"https://github.com/acme/plan/milestone/99\"\n");
    let fresh = epic("EPIC-007", "Fresh", "🟡 To Do", "");
    repo.push(
        &[
            ("epics/EPIC-005_copy.md", Some(&copy)),
            ("epics/EPIC-006_dangling.md", Some(&dangling)),
            ("epics/EPIC-007_fresh.md", Some(&fresh)),
        ],
        "more epics",
    );
    let twin = repo.standin.seed_milestone(SeedMilestone {
        title: "Beta twin".into(),
        description: Some("x\n\nIntelliManage-ID: EPIC-002\nIntelliManage-Project: demo".into()),
        ..Default::default()
    });
    let orphan = repo.standin.seed_milestone(SeedMilestone {
        title: "Orphan".into(),
        description: Some("y\n\nIntelliManage-ID: EPIC-009\nIntelliManage-Project: demo".into()),
        ..Default::default()
    });
    let files_before: Vec<Option<String>> =
        [E1, E2, "epics/EPIC-005_copy.md"].iter().map(|p| repo.file_at_head(p)).collect();
    let milestones_before = repo.milestones();

    let run = reconcile(&repo, &[]);
    assert_eq!(run.code(), 1, "errors fail the step: {}", run.stdout);
    let has = |level: &str, file: &str, text: &str| {
        run.stdout
            .lines()
            .any(|l| l.starts_with(&format!("::{level} file=.ruru/projects/demo/{file}")) && l.contains(text))
    };
    assert!(has("error", E1, &format!("milestone #{alpha} is linked by 2 artifacts")), "{}", run.stdout);
    assert!(
        has("error", "epics/EPIC-005_copy.md", &format!("milestone #{alpha} is linked by 2 artifacts")),
        "{}",
        run.stdout
    );
    assert!(has("error", E2, &format!("milestone #{} ", twin.number)), "{}", run.stdout);
    // The dead link is a milestone deleted on GitHub: the file records it, and no new
    // milestone is made for it.
    assert!(has("warning", "epics/EPIC-006_dangling.md", "#99 was deleted on GitHub"), "{}", run.stdout);
    let dangling_after = repo.file_at_head("epics/EPIC-006_dangling.md").unwrap();
    assert_eq!(
        dangling_after,
        dangling.replace(
            "related_milestone = \"https://github.com/acme/plan/milestone/99\"\n",
            "milestone_deleted = \"https://github.com/acme/plan/milestone/99\"\n"
        )
    );
    assert!(!repo.milestones().iter().any(|m| m.title == "Dangling"));
    // The orphan is what a removal left: closed, as the removal's own run would have done.
    assert!(
        run.stdout.lines().any(|l| l.starts_with("::notice")
            && l.contains(&format!("milestone #{} carries the marker of EPIC-009", orphan.number))),
        "{}",
        run.stdout
    );
    assert_eq!(repo.milestones().into_iter().find(|m| m.number == orphan.number).unwrap().state, "closed");
    // Nothing written for the artifacts with integrity problems, on either side.
    let files_after: Vec<Option<String>> =
        [E1, E2, "epics/EPIC-005_copy.md"].iter().map(|p| repo.file_at_head(p)).collect();
    assert_eq!(files_before, files_after);
    for m in milestones_before.iter().filter(|m| m.number != orphan.number) {
        let now = repo.milestones().into_iter().find(|x| x.number == m.number).unwrap();
        assert_eq!(&now, m, "milestone #{} untouched", m.number);
    }
    let _ = beta;
    // Everything else proceeds: the fresh epic got its milestone and its link.
    assert!(repo.milestones().iter().any(|m| m.title == "Fresh"));
    assert!(repo.file_at_head("epics/EPIC-007_fresh.md").unwrap().contains("related_milestone = "));
    assert_eq!(run.output("created").as_deref(), Some("1"));
}

#[test]
fn a_first_reconcile_imports_existing_milestones() {
    let repo = Repo::new(&[(E1, &epic("EPIC-001", "Alpha", "🟡 To Do", ""))]);
    let same_title = repo.standin.seed_milestone(SeedMilestone {
        title: "Alpha".into(),
        description: Some("Typed on GitHub".into()),
        ..Default::default()
    });
    let q1 = repo.standin.seed_milestone(SeedMilestone {
        title: "Roadmap: Q1 / 2027".into(),
        description: Some("First quarter.\r\nShip it.".into()),
        due_on: Some("2027-03-31T12:00:00Z".into()),
        ..Default::default()
    });
    let q2 = repo.standin.seed_milestone(SeedMilestone {
        title: "../../etc".into(),
        state: "closed".into(),
        ..Default::default()
    });

    // Without create-artifacts, unmarked milestones are only listed.
    let run = reconcile(&repo, &[("dry-run", "true")]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    assert!(run.stdout.contains("2 milestone(s) have no artifact"), "{}", run.stdout);

    let run = reconcile(&repo, &[("create-artifacts", "true")]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    // The namesake is adopted by title (and marked), the others become files.
    let alpha = repo.milestones().into_iter().find(|m| m.number == same_title.number).unwrap();
    assert!(
        without_record(&alpha.description.unwrap())
            .ends_with("IntelliManage-ID: EPIC-001\nIntelliManage-Project: demo")
    );
    let q1_file = repo.file_at_head("epics/EPIC-002_roadmap-q1-2027.md").unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(
        q1_file.contains("title = \"Roadmap: Q1 / 2027\"\n") && q1_file.contains("target_date = \"2027-03-31\"\n"),
        "{q1_file}"
    );
    assert!(q1_file.contains("## Description ✍️\n\nFirst quarter.\nShip it.\n"), "{q1_file}");
    assert!(q1_file.contains(&format!("related_milestone = \"https://github.com/acme/plan/milestone/{}\"", q1.number)));
    let etc = repo.file_at_head("epics/EPIC-003_etc.md").unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(etc.contains("status = \"🟢 Done\""), "{etc}");
    for (n, id) in [(q1.number, "EPIC-002"), (q2.number, "EPIC-003")] {
        let m = repo.milestones().into_iter().find(|m| m.number == n).unwrap();
        assert!(m.description.unwrap_or_default().contains(&format!("IntelliManage-ID: {id}\n")), "#{n} marked");
    }
    assert_eq!(repo.milestones().len(), 3, "no milestone created");

    repo.standin.clear_requests();
    let run = reconcile(&repo, &[("create-artifacts", "true")]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    assert!(repo.writes().is_empty(), "imported once: {:?}\n{}", repo.writes(), run.stdout);
}

#[test]
fn direction_limits_the_side_a_run_writes() {
    for direction in ["to-github", "from-github"] {
        let repo = synced();
        let alpha = number_of(&repo, "Alpha");
        repo.standin.edit_milestone(alpha, |m| m.title = "Alpha (GitHub)".into());
        push_quietly(&repo, E2, "What EPIC-002 delivers.", "Beta, described anew.");
        let run = reconcile(&repo, &[("direction", direction)]);
        assert_eq!(run.code(), 0, "{direction}: {}", run.stdout);
        let e1_title = line_of(&repo.file_at_head(E1).unwrap(), "title").to_string();
        let beta = repo.milestones().into_iter().find(|m| m.title == "Beta").unwrap();
        let beta_sent = beta.description.unwrap().starts_with("Beta, described anew.");
        match direction {
            "to-github" => {
                assert!(beta_sent && e1_title == "title = \"Alpha\"", "{direction}: {e1_title} {}", run.stdout)
            }
            _ => assert!(
                !beta_sent && e1_title == "title = \"Alpha (GitHub)\"",
                "{direction}: {e1_title} {}",
                run.stdout
            ),
        }
    }
}
