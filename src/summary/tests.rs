use super::*;
use crate::apply::Applied;
use crate::milestone::{MilestonePatch, NewMilestone};
use crate::plan::Conflict;

const DIR: &str = ".ruru/projects/demo/epics";

/// Every table row has as many unescaped `|` as its header.
fn rows_intact(summary: &str) {
    let pipes = |l: &str| l.replace("\\\\", "").replace("\\|", "").matches('|').count();
    let mut header = None;
    for line in summary.lines() {
        if !line.starts_with('|') {
            header = None;
            continue;
        }
        let n = pipes(line);
        assert_eq!(*header.get_or_insert(n), n, "{line}");
    }
}

fn change(id: &str, action: Action) -> Change {
    Change {
        project: "demo".into(),
        repository: "o/r".into(),
        artifact_id: id.into(),
        artifact_title: format!("Title of {id}"),
        path: format!("{DIR}/{id}.md"),
        action,
        fields: vec![],
        file_edits: vec![],
        after_commit: None,
        file_fields: vec![],
        values: vec![],
        line: Some(3),
        start: None,
        conflicts: vec![],
    }
}

fn create(id: &str, closed: bool) -> Change {
    change(
        id,
        Action::Create {
            milestone: NewMilestone {
                title: format!("Title of {id}"),
                description: String::new(),
                state: if closed { MilestoneState::Closed } else { MilestoneState::Open },
                due_on: NaiveDate::from_ymd_opt(2026, 5, 1),
            },
        },
    )
}

fn update(id: &str, number: u64, values: Vec<ValueChange>) -> Change {
    let mut patch = MilestonePatch::default();
    for v in &values {
        if v.to_side == Side::Github {
            match v.field {
                Field::Title => patch.title = Some(v.to.clone()),
                Field::State => {
                    patch.state = Some(if v.to == "closed" { MilestoneState::Closed } else { MilestoneState::Open })
                }
                _ => {}
            }
        }
    }
    let mut c = change(id, Action::Update { number, html_url: url(number), patch });
    c.fields = values.iter().filter(|v| v.to_side == Side::Github).map(|v| v.field).collect();
    c.file_fields =
        values.iter().filter(|v| v.to_side == Side::File).map(|v| crate::plan::field_name(v.field).into()).collect();
    if !c.file_fields.is_empty() {
        c.file_edits = vec![crate::artifact::FieldEdit::Remove { key: "x".into() }];
    }
    c.values = values;
    c
}

fn url(number: u64) -> String {
    format!("https://github.com/acme/plan/milestone/{number}")
}

fn value(field: Field, to_side: Side, from: &str, to: &str) -> ValueChange {
    ValueChange { field, to_side, from: from.into(), to: to.into(), lines: None }
}

fn ok(index: usize, number: u64) -> Applied {
    Applied { index, result: Ok((number, url(number))) }
}

struct Fixture {
    bars: crate::summary::Bars,
}

impl Fixture {
    fn new() -> Fixture {
        let bar = |number: u64, due: Option<&str>| Bar {
            repository: String::new(),
            number,
            title: format!("Milestone {number}"),
            url: url(number),
            closed: false,
            start: NaiveDate::from_ymd_opt(2026, 1, 10),
            due: due.map(|d| d.parse().unwrap()),
            open_issues: 2,
            closed_issues: 3,
        };
        Fixture {
            bars: [(bar_key("o/r", 7), bar(7, Some("2026-03-15"))), (bar_key("o/r", 8), bar(8, None))]
                .into_iter()
                .collect(),
        }
    }

    fn report<'a>(
        &'a self,
        plan: &'a Plan,
        outcome: Option<&'a Outcome>,
        diagnostics: &'a [Diagnostic],
        mode: Mode,
    ) -> Report<'a> {
        Report {
            plan,
            outcome,
            diagnostics,
            notes: &[],
            mode,
            links: Links {
                server_url: "https://github.com",
                repository: "acme/plan",
                commit: Some("0123456789abcdef"),
                projects_root: ".ruru/projects",
            },
            milestones: &self.bars,
            roadmap_all: false,
            today: NaiveDate::from_ymd_opt(2026, 2, 1).unwrap(),
            branch: "main",
        }
    }
}

#[test]
fn a_flagged_conflict_needs_attention_and_is_said_once() {
    let fx = Fixture::new();
    let mut c = update("EPIC-001", 7, vec![]);
    c.file_edits = vec![crate::artifact::FieldEdit::SetString { key: "sync_conflict".into(), value: "title".into() }];
    c.conflicts =
        vec![Conflict { field: Field::Title, local: "A".into(), github: "B".into(), resolution: Resolution::Flagged }];
    let plan = Plan { changes: vec![c], in_sync: 4, ..Default::default() };
    let warning = Diagnostic::warning(
        format!("{DIR}/EPIC-001.md"),
        Some(3),
        "EPIC-001: title changed in the file (\"A\") and on milestone #7 (\"B\") since the last sync; manual_flag: flagged",
    );
    let outcome =
        Outcome { applied: vec![ok(0, 7)], commit_sha: Some("fedcba9876543210".into()), ..Default::default() };
    let diagnostics = [warning];
    let s = summary(&fx.report(&plan, Some(&outcome), &diagnostics, Mode::Run));
    assert!(s.starts_with("## ⚠️ milestone-sync: needs attention — 1 conflict flagged\n"), "{s}");
    assert_eq!(s.matches("changed in the file").count(), 1, "said once: {s}");
    assert!(!s.contains("### Conflicts"), "flagged conflicts are not a settled table: {s}");
    assert!(
        s.contains("[`epics/EPIC-001.md:3`](https://github.com/acme/plan/blob/0123456789abcdef/.ruru/projects/demo/epics/EPIC-001.md#L3) · [milestone #7](https://github.com/acme/plan/milestone/7)"),
        "pinned to the commit, with the milestone: {s}"
    );
    assert!(s.contains("[`fedcba9`](https://github.com/acme/plan/commit/fedcba9876543210)"), "{s}");
    assert!(s.contains("| ⚠️ | **EPIC-001**"), "{s}");
    rows_intact(&s);
}

#[test]
fn counts_agree_with_the_rows_and_drop_zeros() {
    let fx = Fixture::new();
    let plan = Plan {
        changes: vec![
            create("EPIC-001", true),
            create("EPIC-002", false),
            update("EPIC-003", 7, vec![value(Field::State, Side::Github, "open", "closed")]),
        ],
        in_sync: 4,
        ..Default::default()
    };
    let t = report::totals(&plan, None, &[]);
    assert_eq!((t.created, t.closed, t.updated), (2, 2, 0), "created closed counts as closed: {t:?}");
    // The line says which closed milestone was created so: 🔒 counts the one that was open.
    assert_eq!(count_line(&t, 4, Mode::Run), "➕ 2 created (1 closed) · 🔒 1 closed · 4 in sync");
    assert_eq!(count_line(&t, 4, Mode::DryRun), "➕ would create 2 (1 closed) · 🔒 would close 1 · 4 in sync");
    let only_created = report::totals(&Plan { changes: plan.changes[..2].to_vec(), ..Default::default() }, None, &[]);
    assert_eq!(count_line(&only_created, 0, Mode::Run), "➕ 2 created (1 closed)", "nothing was closed");
    let s = summary(&fx.report(&plan, None, &[], Mode::DryRun));
    assert!(s.starts_with("## 📝 milestone-sync dry run: nothing was written\n"), "{s}");
    assert!(
        s.contains("| ➕ | **EPIC-001** Title of EPIC-001<pre><a href=\"https://github.com/acme/plan/blob/"),
        "{s}"
    );
    assert!(s.contains("| new | would create (closed), due 2026-05-01 |"), "{s}");
    assert!(s.contains("| 🔒 |") && s.contains("milestone: open → closed"), "{s}");
    assert!(!s.contains("created,") && !s.contains(" created |"), "conditional throughout: {s}");
}

#[test]
fn rows_show_old_and_new_values_and_the_current_title() {
    let fx = Fixture::new();
    let mut renamed = update(
        "EPIC-001",
        7,
        vec![
            value(Field::Title, Side::File, "Old name", "New name"),
            value(Field::DueOn, Side::File, "2026-03-15", "2026-04-01"),
        ],
    );
    renamed.artifact_title = "Old name".into();
    let mut described = update("EPIC-002", 8, vec![value(Field::Description, Side::Github, "a", "b")]);
    described.values[0].lines = Some((2, 1));
    let plan = Plan { changes: vec![renamed, described], ..Default::default() };
    let outcome = Outcome { applied: vec![ok(0, 7), ok(1, 8)], ..Default::default() };
    let s = summary(&fx.report(&plan, Some(&outcome), &[], Mode::Run));
    assert!(s.contains("**EPIC-001** New name"), "named by its title now: {s}");
    assert!(s.contains("file: title \"Old name\" → \"New name\", due 2026-03-15 → 2026-04-01"), "{s}");
    assert!(s.contains("| 📝 |"), "a file-only change: {s}");
    assert!(s.contains("milestone: description (+2 −1 lines)"), "{s}");
    assert!(s.contains("[#7](https://github.com/acme/plan/milestone/7) ▓▓▓░░ 3/5"), "progress: {s}");
}

#[test]
fn past_ten_rows_the_good_ones_fold() {
    let fx = Fixture::new();
    let mut changes: Vec<Change> = (1..=12).map(|i| create(&format!("EPIC-{i:03}"), false)).collect();
    changes.push(update("EPIC-013", 7, vec![value(Field::Title, Side::Github, "A", "B")]));
    let plan = Plan { changes, ..Default::default() };
    let mut applied: Vec<Applied> = (0..12).map(|i| ok(i, 100 + i as u64)).collect();
    applied.push(Applied { index: 12, result: Err("422 Validation Failed".into()) });
    let outcome = Outcome { applied, ..Default::default() };
    let diagnostics = [Diagnostic::error(
        format!("{DIR}/EPIC-013.md"),
        Some(3),
        "update title for EPIC-013 failed: 422 Validation Failed",
    )];
    let s = summary(&fx.report(&plan, Some(&outcome), &diagnostics, Mode::Run));
    assert!(s.starts_with("## ❌ milestone-sync: failed — 1 error, 1 change failed\n"), "{s}");
    let fold = s.find("<details><summary>✔ 12 change(s) made</summary>").expect(&s);
    let failed_row = s.find("| ❌ | **EPIC-013**").expect(&s);
    assert!(failed_row < fold, "the failure stays in view: {s}");
    assert_eq!(s.matches("422 Validation Failed").count(), 1, "said once: {s}");
    rows_intact(&s);
}

#[test]
fn a_failed_commit_fails_the_changes_that_write_files() {
    let fx = Fixture::new();
    let plan = Plan { changes: vec![create("EPIC-001", false)], ..Default::default() };
    let outcome = Outcome {
        applied: vec![ok(0, 9)],
        commit_failed: Some("500 Internal Server Error".into()),
        ..Default::default()
    };
    let diagnostics =
        [Diagnostic::general(Level::Error, "committing the file changes to main failed: 500 Internal Server Error")];
    let t = report::totals(&plan, Some(&outcome), &diagnostics);
    assert_eq!((t.created, t.failed, t.errors), (0, 1, 1), "{t:?}");
    let s = summary(&fx.report(&plan, Some(&outcome), &diagnostics, Mode::Run));
    assert!(s.contains("the file change was not committed"), "{s}");
    assert!(!s.contains("committed to `main`"), "{s}");
}

#[test]
fn the_roadmap_draws_the_touched_milestones_as_they_end_up() {
    let fx = Fixture::new();
    let plan = Plan {
        changes: vec![
            update("EPIC-001", 7, vec![value(Field::State, Side::Github, "open", "closed")]),
            create("EPIC-002", false),
        ],
        ..Default::default()
    };
    let outcome = Outcome { applied: vec![ok(0, 7), ok(1, 9)], ..Default::default() };
    let s = summary(&fx.report(&plan, Some(&outcome), &[], Mode::Run));
    assert!(s.contains("```mermaid\ngantt"), "{s}");
    assert!(s.contains("7 Milestone 7 3/5 :done, m7, 2026-01-10, 2026-03-15"), "closed by the run: {s}");
    assert!(s.contains("9 Title of EPIC-002 :m9, 2026-02-01, 2026-05-01"), "created today: {s}");
    assert!(!s.contains("Milestone 8"), "not touched, not drawn: {s}");
}

/// A bar starts at the Epic's `start_date` when the file has one: for a milestone the run
/// made (not today) and for one it changed (not the day it was made).
#[test]
fn the_roadmap_starts_a_bar_at_the_epics_start_date() {
    let fx = Fixture::new();
    let start = NaiveDate::from_ymd_opt(2026, 1, 20);
    let mut created = create("EPIC-002", false);
    created.start = start;
    let mut updated = update("EPIC-001", 7, vec![value(Field::State, Side::Github, "open", "closed")]);
    updated.start = NaiveDate::from_ymd_opt(2026, 2, 2);
    let plan = Plan { changes: vec![updated, created], ..Default::default() };
    let outcome = Outcome { applied: vec![ok(0, 7), ok(1, 9)], ..Default::default() };
    let report = fx.report(&plan, Some(&outcome), &[], Mode::Run);
    let drawn = bars(&report);
    let start_of = |n: u64| drawn.iter().find(|b| b.number == n).and_then(|b| b.start);
    assert_eq!(start_of(9), start, "created: its start_date, not today");
    assert_eq!(start_of(7), NaiveDate::from_ymd_opt(2026, 2, 2), "changed: its start_date, not its creation");
}

/// A plan of thousands of changes: the summary stays within what GitHub keeps (1 MiB).
#[test]
fn a_huge_plan_is_cut_to_what_github_keeps() {
    let fx = Fixture::new();
    let plan =
        Plan { changes: (0..10_000).map(|i| create(&format!("EPIC-{i:05}"), false)).collect(), ..Default::default() };
    let s = summary(&fx.report(&plan, None, &[], Mode::DryRun));
    assert!(s.len() < 1024 * 1024, "{} bytes", s.len());
    assert!(s.contains("9500 more change(s)"), "the cut is said");
    assert!(s.contains("<details><summary>🗺️ Roadmap"), "a big roadmap folds");

    let outcome = Outcome {
        applied: (0..600).map(|i| ok(i, i as u64)).collect(),
        stopped: Some("the API rate limit is used up".into()),
        not_attempted: (600..10_000).collect(),
        ..Default::default()
    };
    let s = summary(&fx.report(&plan, Some(&outcome), &[], Mode::Run));
    assert!(s.len() < 1024 * 1024, "{} bytes", s.len());
    assert!(s.contains("100 more change(s)") && s.contains("9400 change(s) not attempted"), "{s}");
    assert!(s.contains("| … | 9300 more: the log's Plan group lists every change in order |"), "{s}");
    assert!(s.contains("[#0](https://github.com/acme/plan/milestone/0)") && s.contains("EPIC-00600"));
    rows_intact(&s);
}

#[test]
fn hostile_values_keep_every_table() {
    let fx = Fixture::new();
    let hostile = format!("x | **y** <b>z</b> [l](u)\n| a | b |\r\n{}", "long ".repeat(250));
    let mut c = update("EPIC-1 | <i>", 3, vec![value(Field::Title, Side::File, &hostile, &hostile)]);
    c.artifact_title = hostile.clone();
    c.path = ".ruru/projects/demo/epics/a|`b`.md".into();
    c.conflicts = vec![
        Conflict {
            field: Field::Title,
            local: hostile.clone(),
            github: hostile.clone(),
            resolution: Resolution::Github,
        },
        Conflict { field: Field::DueOn, local: hostile.clone(), github: hostile, resolution: Resolution::Flagged },
    ];
    let plan = Plan { changes: vec![c], ..Default::default() };
    let diagnostics = [Diagnostic::error("a|b.md", Some(2), "bad `x` | <y>\nnext")];
    let s = summary(&fx.report(&plan, None, &diagnostics, Mode::DryRun));
    assert!(s.contains("### Conflicts settled by the policy"), "{s}");
    rows_intact(&s);
    assert!(!s.contains("<b>") && !s.contains("<i>") && !s.contains("**y**"), "{s}");
    assert!(s.lines().all(|l| l.chars().count() < 3000), "{s}");
    assert!(s.contains("`epics/a\\|'b'.md:3`"), "{s}");
}

/// A file shows on a line of its own that never wraps (`<pre>`: a code span broke at `-`),
/// as the path it is, linked to its line; a removed file without a link.
#[test]
fn a_file_shows_on_a_line_of_its_own() {
    let fx = Fixture::new();
    let mut offline = create("EPIC-001", false);
    offline.path = format!("{DIR}/EPIC-001_offline-mode_*x*_ & \"q\" <b>.md");
    let removed = change("EPIC-002", Action::CloseRemoved { number: 7, html_url: url(7) });
    let plan = Plan { changes: vec![offline, removed], ..Default::default() };
    let s = summary(&fx.report(&plan, None, &[], Mode::DryRun));
    rows_intact(&s);
    assert!(
        s.contains(
            "| **EPIC-001** Title of EPIC-001<pre><a href=\"https://github.com/acme/plan/blob/0123456789abcdef/\
             .ruru/projects/demo/epics/EPIC-001_offline-mode_*x*_%20&amp;%20%22q%22%20%3Cb%3E.md#L3\">\
             epics/EPIC-001_offline-mode\\_\\*x\\*\\_ &amp; \"q\" &lt;b&gt;.md:3</a></pre> |"
        ),
        "{s}"
    );
    assert!(s.contains("| **EPIC-002** Title of EPIC-002 (file removed)<pre>epics/EPIC-002.md</pre> |"), "{s}");
}

/// A first import across two repositories, as the roadmap draws it: bars named `api#3` with
/// the whole title (`:` and brackets as Mermaid entity codes), no "today" line.
#[test]
fn the_roadmap_of_a_first_import() {
    let fx = Fixture::new();
    let mut offline = create("EPIC-001", false);
    offline.repository = "acme/api".into();
    offline.action = Action::Create {
        milestone: NewMilestone {
            title: "Mobile app: offline mode (v1)".into(),
            description: String::new(),
            state: MilestoneState::Open,
            due_on: NaiveDate::from_ymd_opt(2026, 5, 1),
        },
    };
    let mut passkeys = create("EPIC-002", true);
    passkeys.repository = "acme/web".into();
    let plan = Plan { changes: vec![offline, passkeys], ..Default::default() };
    let outcome = Outcome { applied: vec![ok(0, 3), ok(1, 3)], ..Default::default() };
    let s = summary(&fx.report(&plan, Some(&outcome), &[], Mode::Run));
    let roadmap = s.split("### 🗺️ Roadmap\n\n").nth(1).expect(&s);
    insta::assert_snapshot!(roadmap, @r"
    ```mermaid
    gantt
        dateFormat YYYY-MM-DD
        axisFormat %Y-%m-%d
        todayMarker off
        section Open
        api#3 Mobile app#58; offline mode #40;v1#41; :mapi3, 2026-02-01, 2026-05-01
        section Closed
        web#3 Title of EPIC-002 :done, mweb3, 2026-02-01, 2026-05-01
    ```
    ");
}
