//! The three-way merge, cell by cell: for each synced field, every combination of (file
//! changed since the base, GitHub changed since the base, the two values equal) under each
//! of the four conflict policies. Planner only, no network.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use milestone_sync::artifact::{self, FieldEdit};
use milestone_sync::base::{SyncBase, Values};
use milestone_sync::link;
use milestone_sync::milestone::{Milestone, MilestoneState};
use milestone_sync::plan::{Action, Field, Input, Options, Plan, Resolution, Scope, plan};
use milestone_sync::policy::ConflictResolution;
use milestone_sync::project::Project;
use milestone_sync::project::ProjectConfig;

const REPO: &str = "acme/plan";
const PATH: &str = ".ruru/projects/demo/epics/EPIC-001_a.md";
const POLICIES: [ConflictResolution; 4] = [
    ConflictResolution::LastUpdateWins,
    ConflictResolution::PreferLocal,
    ConflictResolution::PreferGithub,
    ConflictResolution::ManualFlag,
];

/// One side's synced values.
#[derive(Debug, Clone, PartialEq)]
struct Side {
    title: &'static str,
    description: &'static str,
    closed: bool,
    due: Option<&'static str>,
}

const BASE: Side = Side { title: "Alpha", description: "The base text.", closed: false, due: Some("2026-05-23") };

/// `side` with `field` set to value number `which` (1 or 2; 0 is the base's).
fn with(side: &Side, field: Field, which: u8) -> Side {
    let mut s = side.clone();
    match (field, which) {
        (_, 0) => {}
        (Field::Title, 1) => s.title = "Alpha (file)",
        (Field::Title, _) => s.title = "Alpha (GitHub)",
        (Field::Description, 1) => s.description = "Text edited in the file.",
        (Field::Description, _) => s.description = "Text edited on GitHub.",
        // State has two values only: "changed" is closed on both sides.
        (Field::State, _) => s.closed = true,
        (Field::DueOn, 1) => s.due = Some("2026-12-01"),
        (Field::DueOn, _) => s.due = None,
    }
    s
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn values(s: &Side) -> Values {
    Values { title: s.title.into(), description: s.description.into(), closed: s.closed, due: s.due.map(date) }
}

fn project(local: &Side, policy: ConflictResolution) -> Project {
    let base = SyncBase::of(&values(&BASE)).format();
    let status = if local.closed { "🟢 Done" } else { "🔵 In Progress" };
    let due = local.due.map(|d| format!("target_date = \"{d}\"\n")).unwrap_or_default();
    let text = format!(
        "+++\nid = \"EPIC-001\"\ntitle = \"{}\"\nstatus = \"{status}\"\ntype = \"🗺️ Epic\"\nupdated_date = \"2026-11-01\"\n{due}related_milestone = \"https://github.com/acme/plan/milestone/7\"\nmilestone_sync_base = \"{base}\"\n+++\n\n## Description ✍️\n\n{}\n\n## Notes\n\nkept\n",
        local.title, local.description
    );
    let a = artifact::parse(PATH, text.as_bytes()).expect("the test artifact parses");
    let config = ProjectConfig::parse(
        "c",
        &format!(
            "[github_integration]\nenable_sync = true\nrepo_owner = \"acme\"\nrepo_name = \"plan\"\nconflict_resolution = \"{}\"\n",
            policy.as_str()
        ),
    )
    .unwrap();
    Project { slug: "demo".into(), dir: ".ruru/projects/demo".into(), config, artifacts: vec![a], broken: vec![] }
}

fn milestone(remote: &Side, updated_at: DateTime<Utc>) -> Milestone {
    Milestone {
        number: 7,
        html_url: "https://github.com/acme/plan/milestone/7".into(),
        title: remote.title.into(),
        description: Some(format!(
            "{}\r\n\r\nIntelliManage-ID: EPIC-001\r\nIntelliManage-Project: demo",
            remote.description
        )),
        state: if remote.closed { MilestoneState::Closed } else { MilestoneState::Open },
        due_on: remote
            .due
            .map(|d| DateTime::parse_from_rfc3339(&milestone_sync::due_date::to_github(date(d))).unwrap().into()),
        updated_at,
        created_at: None,
        open_issues: 0,
        closed_issues: 0,
    }
}

/// Which side was changed last, for `last_update_wins`.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Clock {
    FileNewer,
    GithubNewer,
    Tie,
}

fn run(local: &Side, remote: &Side, policy: ConflictResolution, clock: Clock) -> Plan {
    let t0: DateTime<Utc> = "2026-11-20T10:00:00Z".parse().unwrap();
    let t1: DateTime<Utc> = "2026-11-21T10:00:00Z".parse().unwrap();
    let (file_time, github_time) = match clock {
        Clock::FileNewer => (t1, t0),
        Clock::GithubNewer => (t0, t1),
        Clock::Tie => (t0, t0),
    };
    let projects = [project(local, policy)];
    let milestones = [milestone(remote, github_time)];
    let options = Options {
        local_times: BTreeMap::from([(PATH.to_string(), file_time)]),
        today: Some(date("2026-11-25")),
        ..Default::default()
    };
    plan(&Input {
        repository: REPO,
        projects: &projects,
        milestones: &milestones,
        scope: &Scope::all(),
        options: &options,
    })
}

/// What the plan does with `field`, reduced to the table's terms.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// Nothing written on either side (the base may be recorded).
    Nothing,
    /// The file's value sent to GitHub.
    ToGithub,
    /// GitHub's value written to the file.
    ToFile,
    /// Neither side written; the artifact flagged.
    Flagged,
}

fn outcome(plan: &Plan, field: Field) -> (Outcome, Option<Resolution>) {
    assert!(plan.changes.len() <= 1, "{plan:?}");
    let Some(change) = plan.changes.first() else { return (Outcome::Nothing, None) };
    let Action::Update { patch, .. } = &change.action else { panic!("an update: {plan:?}") };
    let sent = change.fields.contains(&field);
    let on_the_wire = match field {
        Field::Title => patch.title.is_some(),
        // Every write of a milestone carries the description, for the sync's record.
        Field::Description => patch.description.is_some(),
        Field::State => patch.state.is_some(),
        Field::DueOn => patch.due_on.is_some(),
    };
    assert!(!sent || on_the_wire, "{field:?} is named as sent but not in the patch: {plan:?}");
    let written = change.file_fields.iter().any(|f| f == milestone_sync::plan::field_name(field));
    let flagged =
        change.file_edits.iter().any(|e| matches!(e, FieldEdit::SetString { key, .. } if key == "sync_conflict"));
    let resolution = change.conflicts.iter().find(|c| c.field == field).map(|c| c.resolution);
    let result = match (sent, written, flagged) {
        (false, false, false) => Outcome::Nothing,
        (true, false, false) => Outcome::ToGithub,
        (false, true, false) => Outcome::ToFile,
        (false, false, true) => Outcome::Flagged,
        other => panic!("{field:?}: contradictory plan {other:?}: {plan:?}"),
    };
    (result, resolution)
}

#[test]
fn every_cell_of_every_field_under_every_policy() {
    let mut checked = 0;
    for field in [Field::Title, Field::Description, Field::State, Field::DueOn] {
        for policy in POLICIES {
            for clock in [Clock::FileNewer, Clock::GithubNewer, Clock::Tie] {
                // (file's value, GitHub's value): 0 = the base's, 1 and 2 = two other values.
                let cells: [(&str, u8, u8); 5] = [
                    ("neither changed", 0, 0),
                    ("file changed", 1, 0),
                    ("GitHub changed", 0, 2),
                    ("both changed, same value", 1, 1),
                    ("both changed, different values", 1, 2),
                ];
                for (cell, l, g) in cells {
                    // State has two values: "both changed to different values" cannot happen.
                    if field == Field::State && (l, g) == (1, 2) {
                        continue;
                    }
                    let local = with(&BASE, field, l);
                    let remote = with(&BASE, field, g);
                    let plan = run(&local, &remote, policy, clock);
                    let (got, resolution) = outcome(&plan, field);
                    let conflict = (l, g) == (1, 2);
                    let expected = match (l, g) {
                        (0, 0) | (1, 1) => Outcome::Nothing,
                        (1, 0) => Outcome::ToGithub,
                        (0, 2) => Outcome::ToFile,
                        _ => match (policy, clock) {
                            (ConflictResolution::PreferLocal, _) => Outcome::ToGithub,
                            (ConflictResolution::PreferGithub, _) => Outcome::ToFile,
                            (ConflictResolution::ManualFlag, _) => Outcome::Flagged,
                            (ConflictResolution::LastUpdateWins, Clock::GithubNewer) => Outcome::ToFile,
                            (ConflictResolution::LastUpdateWins, Clock::FileNewer | Clock::Tie) => Outcome::ToGithub,
                        },
                    };
                    let what = format!("{field:?} / {cell} / {} / {clock:?}", policy.as_str());
                    assert_eq!(got, expected, "{what}: {plan:#?}");
                    // A conflict is reported exactly when both sides changed to different values.
                    let expected_resolution = conflict.then_some(match expected {
                        Outcome::ToGithub => Resolution::Local,
                        Outcome::ToFile => Resolution::Github,
                        _ => Resolution::Flagged,
                    });
                    assert_eq!(resolution, expected_resolution, "{what}");
                    assert_eq!(
                        plan.changes.iter().map(|c| c.conflicts.len()).sum::<usize>(),
                        usize::from(conflict),
                        "{what}"
                    );
                    // Nothing is planned at all when nothing changed; when both sides already
                    // agree only the base is recorded, in the milestone's record (no commit).
                    match (l, g) {
                        (0, 0) => assert!(plan.changes.is_empty(), "{what}: {plan:?}"),
                        (1, 1) => {
                            let c = &plan.changes[0];
                            assert!(c.records_only(), "{what}: only the record: {c:?}");
                            let Action::Update { patch, .. } = &c.action else { panic!("{what}") };
                            let record = link::record(patch.description.as_deref().unwrap_or_default());
                            assert!(record.is_some_and(|r| r.same_values(&SyncBase::of(&values(&local)))), "{what}");
                        }
                        _ => {}
                    }
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, (4 * 5 - 1) * 4 * 3);
}

/// The values that travel are the winner's, and a flagged conflict keeps the old base so the
/// conflict stays visible until someone makes the two sides equal.
#[test]
fn the_winning_values_travel_and_a_flag_keeps_the_base() {
    let local = with(&BASE, Field::Title, 1);
    let remote = with(&BASE, Field::Title, 2);
    let plan = run(&local, &remote, ConflictResolution::PreferLocal, Clock::Tie);
    let Action::Update { patch, .. } = &plan.changes[0].action else { panic!() };
    assert_eq!(patch.title.as_deref(), Some("Alpha (file)"));
    let plan = run(&local, &remote, ConflictResolution::PreferGithub, Clock::Tie);
    let edits = &plan.changes[0].file_edits;
    assert!(edits.contains(&FieldEdit::SetString { key: "title".into(), value: "Alpha (GitHub)".into() }), "{edits:?}");
    assert!(
        edits.contains(&FieldEdit::SetString { key: "updated_date".into(), value: "2026-11-25".into() }),
        "{edits:?}"
    );
    let plan = run(&local, &remote, ConflictResolution::ManualFlag, Clock::Tie);
    let c = &plan.changes[0];
    // The flag is a commit; the base stays as it was (the flagged title's included), so its
    // line is not touched.
    assert_eq!(c.file_edits, vec![FieldEdit::SetString { key: "sync_conflict".into(), value: "title".into() }]);
    assert_eq!((c.conflicts[0].local.as_str(), c.conflicts[0].github.as_str()), ("Alpha (file)", "Alpha (GitHub)"));
    // The annotation points at the title's line and shows both values.
    let d = plan.diagnostics.iter().find(|d| d.message.contains("changed in the file")).expect("an annotation");
    assert_eq!((d.file.as_deref(), d.line), (Some(PATH), Some(3)));
    assert!(
        d.message.contains("Alpha (file)") && d.message.contains("Alpha (GitHub)") && d.message.contains("manual_flag")
    );
}

/// A cleared due date on GitHub removes the key from the file; a date cleared in the file
/// clears it on GitHub (`due_on: null`).
#[test]
fn clearing_a_due_date_travels_both_ways() {
    let cleared = with(&BASE, Field::DueOn, 2);
    let plan = run(&BASE, &cleared, ConflictResolution::LastUpdateWins, Clock::Tie);
    assert!(plan.changes[0].file_edits.contains(&FieldEdit::Remove { key: "target_date".into() }), "{plan:?}");
    let plan = run(&cleared, &BASE, ConflictResolution::LastUpdateWins, Clock::Tie);
    let Action::Update { patch, .. } = &plan.changes[0].action else { panic!() };
    assert_eq!(patch.due_on, Some(None));
}
