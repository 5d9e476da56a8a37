//! The planner, checked without a network: artifacts read from text, milestones as values.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use milestone_sync::artifact;
use milestone_sync::base::{SyncBase, Values};
use milestone_sync::diagnostic::Level;
use milestone_sync::link;
use milestone_sync::milestone::{Milestone, MilestonePatch, MilestoneState};
use milestone_sync::plan::{Action, AdoptBy, Change, Field, Input, Options, Plan, Scope, Touch, changed_fields, plan};
use milestone_sync::policy::OnRemoved;
use milestone_sync::project::Project;
use milestone_sync::project::ProjectConfig;

const REPO: &str = "acme/plan";

fn epic(file: &str, fm: &str) -> artifact::Artifact {
    let text =
        format!("+++\n{fm}\n+++\n\n## Description ✍️\n\nText of {file}.\n\n## Acceptance Criteria ✅\n\n- [ ] ok\n");
    artifact::parse(&format!(".ruru/projects/demo/epics/{file}"), text.as_bytes()).expect("test artifact parses")
}

fn fm(id: &str, title: &str, extra: &str) -> String {
    format!("id = \"{id}\"\ntitle = \"{title}\"\nstatus = \"🟡 To Do\"\ntype = \"🗺️ Epic\"\n{extra}")
}

fn project(artifacts: Vec<artifact::Artifact>) -> Project {
    let config = ProjectConfig::parse(
        "c",
        "[github_integration]\nenable_sync = true\nrepo_owner = \"acme\"\nrepo_name = \"plan\"\n",
    )
    .unwrap();
    Project { slug: "demo".into(), dir: ".ruru/projects/demo".into(), config, artifacts, broken: vec![] }
}

fn ms(number: u64, title: &str, description: &str) -> Milestone {
    Milestone {
        number,
        html_url: format!("https://github.com/acme/plan/milestone/{number}"),
        title: title.into(),
        description: Some(description.into()),
        state: MilestoneState::Open,
        due_on: None,
        updated_at: Utc::now(),
        created_at: None,
        open_issues: 0,
        closed_issues: 0,
    }
}

fn marked(id: &str, text: &str) -> String {
    format!("{text}\n\nIntelliManage-ID: {id}\nIntelliManage-Project: demo")
}

/// A description sent to GitHub without the sync's hidden record of the base, which every
/// write of a milestone carries (checked on its own where it matters).
fn sent(description: Option<&str>) -> Option<String> {
    let d = description?;
    assert!(link::record(d).is_some(), "a milestone write carries the record: {d}");
    Some(d.lines().filter(|l| !l.starts_with("<!-- milestone-sync base")).collect::<Vec<_>>().join("\n"))
}

fn run(projects: &[Project], milestones: &[Milestone], scope: &Scope) -> Plan {
    plan(&Input { repository: REPO, projects, milestones, scope, options: &Options::default() })
}

fn link(n: u64) -> String {
    format!("related_milestone = \"https://github.com/acme/plan/milestone/{n}\"\n")
}

/// The `milestone_sync_base` line of an artifact last synced with these values.
fn base_line(title: &str, description: &str, closed: bool, due: Option<&str>) -> String {
    let values = Values { title: title.into(), description: description.into(), closed, due: due.map(date) };
    format!("milestone_sync_base = \"{}\"\n", SyncBase::of(&values).format())
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn instant(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[test]
fn an_unlinked_artifact_gets_a_new_milestone_with_markers_state_and_date() {
    let p = project(vec![epic("EPIC-001_a.md", &fm("EPIC-001", "Alpha", "target_date = \"2026-05-23\""))]);
    let plan = run(&[p], &[], &Scope::all());
    assert_eq!(plan.changes.len(), 1);
    let Action::Create { milestone } = &plan.changes[0].action else { panic!("{plan:?}") };
    assert_eq!(milestone.title, "Alpha");
    assert_eq!(
        sent(Some(&milestone.description)).as_deref(),
        Some("Text of EPIC-001_a.md.\n\nIntelliManage-ID: EPIC-001\nIntelliManage-Project: demo")
    );
    let record = link::record(&milestone.description).unwrap();
    assert_eq!((record.generation, record.file_generation), (1, Some(1)), "the first record, also in the file");
    assert_eq!(milestone.state, MilestoneState::Open);
    assert_eq!(milestone.due_on, Some(date("2026-05-23")));
    assert!(plan.changes[0].links_file());
}

#[test]
fn a_done_artifact_is_created_closed() {
    let p = project(vec![epic("E.md", "id = \"EPIC-1\"\ntitle = \"T\"\nstatus = \"🟢 Done\"\ntype = \"🗺️ Epic\"")]);
    let plan = run(&[p], &[], &Scope::all());
    let Action::Create { milestone } = &plan.changes[0].action else { panic!() };
    assert_eq!(milestone.state, MilestoneState::Closed);
}

#[test]
fn a_marked_milestone_is_adopted_not_duplicated() {
    let p = project(vec![epic("E.md", &fm("EPIC-001", "Alpha", ""))]);
    let m = ms(4, "Alpha", &marked("EPIC-001", "Text of E.md."));
    let plan = run(&[p], &[m], &Scope::all());
    assert_eq!(plan.changes.len(), 1);
    assert_eq!(
        plan.changes[0].action,
        Action::Adopt {
            number: 4,
            html_url: "https://github.com/acme/plan/milestone/4".into(),
            by: AdoptBy::Marker,
            patch: MilestonePatch::default()
        }
    );
}

#[test]
fn a_milestone_with_the_same_title_and_no_marker_is_adopted_and_marked() {
    let p = project(vec![epic("E.md", &fm("EPIC-001", "Alpha", ""))]);
    let plan = run(&[p], &[ms(2, "Alpha", "Ours from before\r\n")], &Scope::all());
    let Action::Adopt { number: 2, by: AdoptBy::Title, patch, .. } = &plan.changes[0].action else {
        panic!("{plan:?}")
    };
    assert_eq!(sent(patch.description.as_deref()), Some(marked("EPIC-001", "Text of E.md.")));
    assert_eq!(patch.title, None);
}

#[test]
fn a_title_held_by_another_artifacts_milestone_is_an_error_not_a_create() {
    let p = project(vec![epic("E.md", &fm("EPIC-001", "Alpha", ""))]);
    let plan = run(&[p], &[ms(2, "Alpha", &marked("EPIC-999", "x"))], &Scope::all());
    assert!(!plan.changes.iter().any(|c| matches!(c.action, Action::Create { .. })), "{plan:?}");
    assert_eq!(plan.diagnostics[0].level, Level::Error);
    assert!(plan.diagnostics[0].message.contains("unique"));
    // EPIC-999 is in no file of the project: its open milestone is what a removal left.
    assert!(matches!(plan.changes[..], [Change { action: Action::CloseRemoved { number: 2, .. }, .. }]), "{plan:?}");
}

#[test]
fn a_linked_artifact_in_sync_plans_nothing() {
    let mut m = ms(3, "Alpha", &marked("EPIC-001", "Text of E.md."));
    m.due_on = Some(instant("2026-05-23T07:00:00Z"));
    let base = base_line("Alpha", "Text of E.md.", false, Some("2026-05-23"));
    let p = project(vec![epic(
        "E.md",
        &fm("EPIC-001", "Alpha", &format!("target_date = \"2026-05-23\"\n{}{base}", link(3))),
    )]);
    let plan = run(&[p], std::slice::from_ref(&m), &Scope::all());
    assert!(plan.is_empty(), "{plan:?}");
    assert_eq!(plan.in_sync, 1);
    // A link made before the base existed, with equal values: adopted with no write at all
    // (no commit of a base line, no request).
    let p =
        project(vec![epic("E.md", &fm("EPIC-001", "Alpha", &format!("target_date = \"2026-05-23\"\n{}", link(3))))]);
    let plan = run(&[p], std::slice::from_ref(&m), &Scope::all());
    assert!(plan.is_empty(), "{plan:?}");
    assert_eq!(plan.in_sync, 1);
    // Equal values under an out-of-date base (both sides changed to one value): the
    // milestone's record alone is rewritten, one request and no commit.
    let old = base_line("Alpha (old)", "Text of E.md.", false, Some("2026-05-23"));
    let p = project(vec![epic(
        "E.md",
        &fm("EPIC-001", "Alpha", &format!("target_date = \"2026-05-23\"\n{}{old}", link(3))),
    )]);
    let plan = run(&[p], &[m], &Scope::all());
    let c = &plan.changes[0];
    assert!(c.records_only() && c.file_edits.is_empty() && c.fields.is_empty(), "{plan:?}");
    let Action::Update { patch, .. } = &c.action else { panic!("{plan:?}") };
    let record = link::record(patch.description.as_deref().unwrap()).unwrap();
    let agreed = SyncBase::of(&Values {
        title: "Alpha".into(),
        description: "Text of E.md.".into(),
        closed: false,
        due: Some(date("2026-05-23")),
    });
    assert!(record.same_values(&agreed) && record.generation == 1 && record.file_generation == Some(0), "{record:?}");
}

#[test]
fn browser_line_endings_are_not_a_change() {
    let m = ms(3, "Alpha", "Text of E.md.\r\n\r\nIntelliManage-ID: EPIC-001\r\nIntelliManage-Project: demo\r\n");
    let p = project(vec![epic(
        "E.md",
        &fm("EPIC-001", "Alpha", &format!("{}{}", link(3), base_line("Alpha", "Text of E.md.", false, None))),
    )]);
    assert!(run(&[p], &[m], &Scope::all()).is_empty());
}

/// Every synced field, changed alone, updates exactly that field.
#[test]
fn each_field_updates_alone() {
    let base = ms(3, "Alpha", &marked("EPIC-001", "Text of E.md."));
    type Check = Box<dyn Fn(&MilestonePatch) -> bool>;
    let cases: Vec<(&str, String, Check)> = vec![
        ("title", fm("EPIC-001", "Alpha 2", &link(3)), Box::new(|p| p.title.as_deref() == Some("Alpha 2"))),
        (
            "state",
            format!("id = \"EPIC-001\"\ntitle = \"Alpha\"\nstatus = \"🧊 Archived\"\ntype = \"🗺️ Epic\"\n{}", link(3)),
            Box::new(|p| p.state == Some(MilestoneState::Closed)),
        ),
        (
            "due_on",
            fm("EPIC-001", "Alpha", &format!("milestone_target_date = \"2026-02-01\"\n{}", link(3))),
            Box::new(|p| p.due_on == Some(Some(date("2026-02-01")))),
        ),
    ];
    for (field, front, check) in cases {
        let p = project(vec![epic("E.md", &front)]);
        let plan = run(&[p], std::slice::from_ref(&base), &Scope::all());
        let Action::Update { patch, .. } = &plan.changes[0].action else { panic!("{field}: {plan:?}") };
        assert!(check(patch), "{field}: {patch:?}");
        assert_eq!(plan.changes[0].sent_fields(), vec![field], "{field}");
    }
    // Description: the body differs.
    let p = project(vec![epic("Other.md", &fm("EPIC-001", "Alpha", &link(3)))]);
    let plan = run(&[p], &[base], &Scope::all());
    let Action::Update { patch, .. } = &plan.changes[0].action else { panic!() };
    assert_eq!(sent(patch.description.as_deref()), Some(marked("EPIC-001", "Text of Other.md.")));
}

#[test]
fn a_push_sends_only_the_fields_it_changed() {
    // The title was changed on GitHub since the last sync; the push only closes the epic.
    let m = ms(3, "Renamed on GitHub", &marked("EPIC-001", "Text of E.md."));
    let base = base_line("Alpha", "Text of E.md.", false, None);
    let new = epic(
        "E.md",
        &format!("id = \"EPIC-001\"\ntitle = \"Alpha\"\nstatus = \"🟢 Done\"\ntype = \"🗺️ Epic\"\n{}{base}", link(3)),
    );
    let old = epic("E.md", &fm("EPIC-001", "Alpha", &format!("{}{base}", link(3))));
    let fields = changed_fields(&old, &new);
    assert_eq!(fields, BTreeSet::from([Field::State]));
    let scope = Scope::files(BTreeMap::from([(new.path.clone(), Touch::Fields(fields))]), vec![]);
    let plan = run(&[project(vec![new])], &[m], &scope);
    let Action::Update { patch, .. } = &plan.changes[0].action else { panic!() };
    assert_eq!((patch.title.as_ref(), patch.state, patch.due_on), (None, Some(MilestoneState::Closed), None));
    // The description goes along only to carry the record: GitHub's text is kept.
    assert_eq!(sent(patch.description.as_deref()), Some(marked("EPIC-001", "Text of E.md.")));
    assert_eq!(plan.changes[0].fields, [Field::State]);
    // The file takes the title from GitHub, in the same change.
    assert_eq!(plan.changes[0].file_fields, ["title"]);
}

#[test]
fn untouched_artifacts_are_left_alone_by_a_push() {
    let p = project(vec![epic("E.md", &fm("EPIC-001", "Alpha", ""))]);
    let scope = Scope::files(BTreeMap::new(), vec![]);
    assert!(run(&[p], &[], &scope).is_empty());
}

#[test]
fn a_removed_file_closes_or_deletes_its_milestone_but_a_rename_does_not() {
    let old = epic("E.md", &fm("EPIC-001", "Alpha", &link(3)));
    let m = ms(3, "Alpha", &marked("EPIC-001", "Text of E.md."));
    let scope = Scope::files(BTreeMap::new(), vec![("demo".into(), old.clone())]);
    let plan = run(&[project(vec![])], std::slice::from_ref(&m), &scope);
    assert!(matches!(plan.changes[0].action, Action::CloseRemoved { number: 3, .. }), "{plan:?}");
    assert!(plan.changes[0].closes());
    let projects = [project(vec![])];
    let plan = plan_with(&projects, std::slice::from_ref(&m), &scope, OnRemoved::Delete);
    assert!(matches!(plan.changes[0].action, Action::DeleteRemoved { number: 3, .. }));
    // Renamed: the same ID lives on in another file.
    let moved = epic("EPIC-001_new-name.md", &fm("EPIC-001", "Alpha", &link(3)));
    assert!(run(&[project(vec![moved])], std::slice::from_ref(&m), &scope).is_empty());
    // Already closed: nothing to do.
    let mut closed = m;
    closed.state = MilestoneState::Closed;
    assert!(run(&[project(vec![])], &[closed], &scope).is_empty());
}

fn plan_with(projects: &[Project], milestones: &[Milestone], scope: &Scope, on_removed: OnRemoved) -> Plan {
    plan(&Input {
        repository: REPO,
        projects,
        milestones,
        scope,
        options: &Options { on_removed: Some(on_removed), ..Default::default() },
    })
}

#[test]
fn duplicate_ids_and_shared_links_are_reported_and_not_synced() {
    let p = project(vec![
        epic("A.md", &fm("EPIC-001", "A", "")),
        epic("B.md", &fm("EPIC-001", "B", "")),
        epic("C.md", &fm("EPIC-002", "C", "")),
    ]);
    let plan = run(&[p], &[], &Scope::all());
    assert_eq!(plan.changes.len(), 1, "only EPIC-002 syncs");
    assert_eq!(plan.diagnostics.iter().filter(|d| d.level == Level::Error).count(), 2);
    let p = project(vec![epic("A.md", &fm("EPIC-001", "A", &link(3))), epic("B.md", &fm("EPIC-002", "B", &link(3)))]);
    let plan = run(&[p], &[ms(3, "A", &marked("EPIC-001", ""))], &Scope::all());
    assert!(plan.changes.is_empty());
    assert!(plan.diagnostics.iter().all(|d| d.message.contains("linked by 2 artifacts")));
}

#[test]
fn bad_links_are_reported_with_the_line() {
    let p = project(vec![epic(
        "A.md",
        &fm("EPIC-001", "A", "related_milestone = \"https://github.com/other/repo/milestone/1\""),
    )]);
    let plan = run(&[p], &[], &Scope::all());
    assert!(plan.changes.is_empty());
    let d = &plan.diagnostics[0];
    assert_eq!((d.level, d.line), (Level::Error, Some(6)));
    // A link to a milestone that is not on GitHub: it was deleted, and the file records it.
    let p = project(vec![epic("A.md", &fm("EPIC-001", "A", &link(9)))]);
    let plan = run(&[p], &[], &Scope::all());
    let Action::RecordDeleted { number: 9, .. } = plan.changes[0].action else { panic!("{plan:?}") };
    assert!(plan.changes[0].file_edits.contains(&artifact::FieldEdit::SetString {
        key: "milestone_deleted".into(),
        value: "https://github.com/acme/plan/milestone/9".into()
    }));
    assert!(plan.diagnostics[0].message.contains("was deleted on GitHub"), "{:?}", plan.diagnostics);
}

#[test]
fn a_placeholder_date_never_clears_a_real_one() {
    let mut m = ms(3, "A", &marked("EPIC-001", "Text of A.md."));
    m.due_on = Some(instant("2026-05-23T07:00:00Z"));
    let base = base_line("A", "Text of A.md.", false, Some("2026-05-23"));
    let p =
        project(vec![epic("A.md", &fm("EPIC-001", "A", &format!("target_date = \"YYYY-MM-DD\"\n{}{base}", link(3))))]);
    let plan = run(&[p], &[m.clone()], &Scope::all());
    assert!(plan.is_empty(), "{plan:?}");
    assert!(plan.diagnostics.iter().any(|d| d.level == Level::Warning && d.line == Some(6)), "{:?}", plan.diagnostics);
    // A removed key clears it.
    let p = project(vec![epic("A.md", &fm("EPIC-001", "A", &format!("{}{base}", link(3))))]);
    let Action::Update { patch, .. } = &run(&[p], &[m], &Scope::all()).changes[0].action else { panic!() };
    assert_eq!(patch.due_on, Some(None));
}

#[test]
fn two_new_artifacts_with_one_title_create_one_milestone() {
    let p = project(vec![epic("A.md", &fm("EPIC-001", "Same", "")), epic("B.md", &fm("EPIC-002", "Same", ""))]);
    let plan = run(&[p], &[], &Scope::all());
    assert_eq!(plan.changes.len(), 1);
    assert_eq!(plan.diagnostics.len(), 1);
}

#[test]
fn a_linked_milestone_without_markers_gets_them_and_keeps_its_text() {
    let m = ms(3, "A", "Text of A.md.\r\n");
    let p = project(vec![epic("A.md", &fm("EPIC-001", "A", &link(3)))]);
    let scope = Scope::files(
        BTreeMap::from([(".ruru/projects/demo/epics/A.md".to_string(), Touch::Fields(BTreeSet::new()))]),
        vec![],
    );
    let plan = run(&[p], &[m], &scope);
    let Action::Update { patch, .. } = &plan.changes[0].action else { panic!("{plan:?}") };
    assert_eq!(sent(patch.description.as_deref()), Some(marked("EPIC-001", "Text of A.md.")));
}

#[test]
fn create_missing_milestones_false_creates_nothing() {
    let mut p = project(vec![epic("A.md", &fm("EPIC-001", "A", ""))]);
    p.config.create_missing_milestones = false;
    assert!(run(&[p], &[], &Scope::all()).is_empty());
}
