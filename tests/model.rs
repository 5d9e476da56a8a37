//! Model-based test of the two-way reconcile (issue 4): random sequences of local edits,
//! GitHub edits and runs with random triggers, played against the real binary and the
//! stand-in, and checked step by step against a small model of the sync's rules.
//!
//! The model (this file's own code, not the crate's planner) keeps, per artifact and synced
//! field, three values: the sync base, the file's value and GitHub's value. Each run kind
//! applies the rules of `src/plan/reconcile.rs`:
//!
//! - equal on both sides → nothing to write, the base records the value;
//! - changed only in the file since the base (or named by the push) → sent to GitHub;
//! - changed only on GitHub since the base (or named by the milestone event) → written to the
//!   file;
//! - changed on both sides to different values → the policy: `prefer_local`,
//!   `prefer_github`, `manual_flag` (write neither, flag the field in `sync_conflict`) or
//!   `last_update_wins` (the later of the file's last commit and the milestone's
//!   `updated_at`, ties to the file);
//! - a milestone event writes only the file: a field the file wins is left as it is;
//! - without a base (for a field, or the whole line), only the run's own knowledge tells: a
//!   push's fields are local changes, an event's fields GitHub changes, and a reconcile takes
//!   every difference for a conflict.
//!
//! Operations: an edit of one field in a file, committed and pushed, then the push run or
//! none (a missed run); an edit of one field on the milestone (`StandIn::edit_milestone`,
//! descriptions typed with CRLF), then the milestone event's run or none; a clash (both sides
//! edit the same field, the first side's run missed) so that conflicts are common; the
//! removal of a file's `milestone_sync_base` line (a file linked before the base existed),
//! pushed, then the push run or none; and a `workflow_dispatch` reconcile. A run may be made
//! with a PAT: its own commit then comes back as a push run, and that chain must end.
//!
//! After every step:
//! - the file at the branch head and the milestone show the model's values, field by field;
//! - `sync_conflict` names exactly the model's flagged fields;
//! - the run wrote exactly what the model says: one PATCH per milestone the model changes,
//!   no other milestone request, one commit exactly when the model changes a file (values,
//!   base or flag), `updated_date` set to today exactly when the file took a value from GitHub;
//! - each artifact links its own milestone, which carries exactly its marker lines, and there
//!   is one milestone per artifact;
//! - nothing else in any file changed (comments, other keys, other sections).
//!
//! At the end one more reconcile must leave both sides equal for every field (with
//! `manual_flag`: exactly the flagged fields differ), and a second reconcile must write
//! nothing.
//!
//! `last_update_wins` cannot be predicted from the order of the operations: both clocks have
//! a resolution of one second (most steps of a case fall within the same second), and the
//! sync's own commits and PATCHes move them too. So for that policy the model reads the two
//! clocks the rule is defined over (the artifact's last commit time in the checkout, the
//! milestone's `updated_at`) right before each run and applies the rule to them. That checks
//! the rule and everything downstream of it exactly; what it cannot check is that the rule's
//! winner is the edit a person made last, which one-second clocks cannot tell (the stand-in
//! also keeps `updated_at` strictly increasing, so quick edits move it ahead of the wall
//! clock).
//!
//! `PROPTEST_CASES` sets the number of cases (default [`DEFAULT_CASES`]).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use chrono::{DateTime, Utc};
use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence, TestCaseError};
use serde_json::json;

/// Cases per run when `PROPTEST_CASES` is not set: enough to meet every policy several
/// times, few enough for a debug build on a busy two-core machine.
const DEFAULT_CASES: u32 = 12;
/// Most steps per case (a step is one operation, or two for a clash), before the final
/// reconciles.
const MAX_STEPS: usize = 6;

// ---------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Field {
    Title,
    Description,
    State,
    Due,
}

const FIELDS: [Field; 4] = [Field::Title, Field::Description, Field::State, Field::Due];

impl Field {
    /// The name `sync_conflict` uses.
    fn flag_name(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Description => "description",
            Field::State => "state",
            Field::Due => "due_on",
        }
    }
}

const NAMES: [&str; 3] = ["Alpha", "Beta", "Gamma"];
/// Statuses a person sets in the file; index ≥ 2 is in the closed set.
const STATUSES: [&str; 4] = ["🟡 To Do", "🔵 In Progress", "🟢 Done", "🧊 Archived"];
/// Due dates: none, a Pacific-daylight date, a month's end, a Pacific-standard date.
const DUES: [Option<&str>; 4] = [None, Some("2026-05-23"), Some("2026-06-30"), Some("2026-12-01")];
/// Values per field (titles and descriptions have three, state two, due dates four).
const TITLE_VALUES: u8 = 3;
const DESCRIPTION_VALUES: u8 = 3;

fn id(a: usize) -> String {
    format!("EPIC-00{}", a + 1)
}

fn path(a: usize) -> String {
    format!("epics/{}_{}.md", id(a), NAMES[a].to_lowercase())
}

/// Titles are per artifact, so no two milestones can ever want the same one.
fn title(a: usize, v: u8) -> String {
    match v {
        0 => NAMES[a].to_string(),
        1 => format!("{} v2", NAMES[a]),
        _ => format!("{} (renamed)", NAMES[a]),
    }
}

fn description(a: usize, v: u8) -> String {
    match v {
        0 => format!("What {} delivers.", id(a)),
        1 => "Scope narrowed after review.".to_string(),
        _ => "Two parts:\n\n- the API\n- the UI".to_string(),
    }
}

fn initial_due(a: usize) -> u8 {
    [1, 0, 3][a]
}

/// How many values a field has (state: open, closed).
fn value_count(f: Field) -> u8 {
    match f {
        Field::Title => TITLE_VALUES,
        Field::Description => DESCRIPTION_VALUES,
        Field::State => 2,
        Field::Due => DUES.len() as u8,
    }
}

/// Shown in transcripts.
fn show(a: usize, f: Field, v: u8) -> String {
    match f {
        Field::Title => format!("{:?}", title(a, v)),
        Field::Description => format!("{:?}", description(a, v)),
        Field::State => if v == 1 { "closed" } else { "open" }.to_string(),
        Field::Due => DUES[v as usize].unwrap_or("no date").to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Operations
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Policy {
    PreferLocal,
    PreferGithub,
    ManualFlag,
    LastUpdateWins,
}

impl Policy {
    fn input(self) -> &'static str {
        match self {
            Policy::PreferLocal => "prefer_local",
            Policy::PreferGithub => "prefer_github",
            Policy::ManualFlag => "manual_flag",
            Policy::LastUpdateWins => "last_update_wins",
        }
    }
}

/// What follows an edit (or a reconcile): no run (a missed event), the run, or the run with a
/// PAT, whose own commit then comes back as a push run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Trigger {
    Missed,
    Run,
    RunPat,
}

/// A new value for one field, resolved from a [`Change`]. `Status` is an index into
/// [`STATUSES`] (GitHub only knows whether it is closed); the others index the field's
/// values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Edit {
    Title(u8),
    Description(u8),
    Status(u8),
    Due(u8),
}

impl Edit {
    /// The synced value the edit gives the field.
    fn value(self) -> u8 {
        match self {
            Edit::Title(v) | Edit::Description(v) | Edit::Due(v) => v,
            Edit::Status(s) => u8::from(s >= 2),
        }
    }
}

/// A generated edit: move `field` `step` values on from the side's current value (modulo the
/// number of values; never back to the same). Relative steps keep every edit a real change
/// and let a clash produce a conflict whenever the two steps differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Change {
    field: Field,
    step: u8,
}

impl Change {
    /// The new value, from the current one among `count` values.
    fn from(self, current: u8, count: u8) -> u8 {
        (current + 1 + (self.step - 1) % (count - 1)) % count
    }
}

#[derive(Clone, Debug)]
enum Op {
    /// Edit the file, commit and push; then the push run, or not.
    Local { artifact: usize, change: Change, trigger: Trigger },
    /// Edit the milestone on "github.com"; then the milestone event's run, or not.
    Github { artifact: usize, change: Change, trigger: Trigger },
    /// Remove `milestone_sync_base` from the file (as a file linked before the base existed
    /// looks), commit and push; then the push run, or not.
    DropBase { artifact: usize, trigger: Trigger },
    /// A `workflow_dispatch` run.
    Reconcile { pat: bool },
}

#[derive(Clone)]
struct Case {
    policy: Policy,
    artifacts: usize,
    ops: Vec<Op>,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "policy {}, {} artifacts, {} operations:", self.policy.input(), self.artifacts, self.ops.len())?;
        for (i, op) in self.ops.iter().enumerate() {
            writeln!(f, "  {i:2}. {op:?}")?;
        }
        Ok(())
    }
}

fn field_strategy() -> impl Strategy<Value = Field> {
    prop_oneof![Just(Field::Title), Just(Field::Description), Just(Field::State), Just(Field::Due)]
}

fn change_strategy() -> impl Strategy<Value = Change> {
    (field_strategy(), 1..=3u8).prop_map(|(field, step)| Change { field, step })
}

fn trigger_strategy() -> impl Strategy<Value = Trigger> {
    prop_oneof![2 => Just(Trigger::Missed), 3 => Just(Trigger::Run), 1 => Just(Trigger::RunPat)]
}

/// Artifact 0 is picked most often, so edits meet on the same artifact.
fn artifact_strategy() -> impl Strategy<Value = usize> {
    prop_oneof![3 => Just(0usize), 2 => Just(1usize), 1 => Just(2usize)]
}

/// Two edits of the same field (one per side).
fn change_pair_strategy() -> impl Strategy<Value = (Change, Change)> {
    (field_strategy(), 1..=3u8, 1..=3u8)
        .prop_map(|(field, a, b)| (Change { field, step: a }, Change { field, step: b }))
}

/// One or two operations: a single edit, a reconcile, or a clash — both sides edit the same
/// field and the first side's run is missed, so the second side's run (or a later one) meets
/// a field changed on both sides. Without clashes, random edits rarely meet.
fn ops_strategy() -> impl Strategy<Value = Vec<Op>> {
    prop_oneof![
        3 => (artifact_strategy(), change_strategy(), trigger_strategy())
            .prop_map(|(artifact, change, trigger)| vec![Op::Local { artifact, change, trigger }]),
        3 => (artifact_strategy(), change_strategy(), trigger_strategy())
            .prop_map(|(artifact, change, trigger)| vec![Op::Github { artifact, change, trigger }]),
        3 => (artifact_strategy(), change_pair_strategy(), any::<bool>(), trigger_strategy()).prop_map(
            |(artifact, (local, github), local_first, trigger)| {
                let l = |trigger| Op::Local { artifact, change: local, trigger };
                let g = |trigger| Op::Github { artifact, change: github, trigger };
                if local_first { vec![l(Trigger::Missed), g(trigger)] } else { vec![g(Trigger::Missed), l(trigger)] }
            }
        ),
        1 => (artifact_strategy(), trigger_strategy())
            .prop_map(|(artifact, trigger)| vec![Op::DropBase { artifact, trigger }]),
        1 => any::<bool>().prop_map(|pat| vec![Op::Reconcile { pat }]),
    ]
}

fn case_strategy() -> impl Strategy<Value = Case> {
    let policy = prop_oneof![
        Just(Policy::PreferLocal),
        Just(Policy::PreferGithub),
        Just(Policy::ManualFlag),
        Just(Policy::LastUpdateWins),
    ];
    (policy, 2..=3usize, proptest::collection::vec(ops_strategy(), 1..=MAX_STEPS)).prop_map(
        |(policy, artifacts, groups)| {
            // Artifact indexes beyond the case's count fold onto the existing ones.
            let ops = groups
                .into_iter()
                .flatten()
                .map(|op| match op {
                    Op::Local { artifact, change, trigger } => {
                        Op::Local { artifact: artifact % artifacts, change, trigger }
                    }
                    Op::Github { artifact, change, trigger } => {
                        Op::Github { artifact: artifact % artifacts, change, trigger }
                    }
                    Op::DropBase { artifact, trigger } => Op::DropBase { artifact: artifact % artifacts, trigger },
                    op => op,
                })
                .collect();
            Case { policy, artifacts, ops }
        },
    )
}

// ---------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------

/// One field: the sync base (`None`: unknown, e.g. a file linked before the base existed or
/// whose base line was removed), the file's value and GitHub's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Triple {
    base: Option<u8>,
    local: u8,
    github: u8,
}

impl Triple {
    fn synced(v: u8) -> Triple {
        Triple { base: Some(v), local: v, github: v }
    }
}

#[derive(Clone, Debug)]
struct ArtifactModel {
    fields: [Triple; 4],
    flagged: BTreeSet<Field>,
}

impl ArtifactModel {
    fn get(&self, f: Field) -> Triple {
        self.fields[f as usize]
    }
    fn get_mut(&mut self, f: Field) -> &mut Triple {
        &mut self.fields[f as usize]
    }
}

/// What a run knows besides the base.
#[derive(Clone, Debug)]
enum Evidence {
    /// A push: the fields whose synced value it changed in the file.
    Push(BTreeSet<Field>),
    /// A milestone event: the fields it names. The run writes only the file.
    Event(BTreeSet<Field>),
    /// A workflow_dispatch run.
    Full,
}

/// The two clocks of `last_update_wins` for one artifact, as observed before a run.
#[derive(Clone, Copy, Debug)]
struct Clocks {
    file: DateTime<Utc>,
    milestone: DateTime<Utc>,
}

/// What the model says one run does to one artifact.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Effect {
    /// Fields whose file value changed (taken from GitHub).
    to_file: BTreeSet<Field>,
    /// Fields sent to GitHub.
    to_github: BTreeSet<Field>,
    /// Whether the file changes at all (values, base or conflict flag).
    file_changed: bool,
}

/// The model's run of the three-way merge for one artifact.
fn model_reconcile(m: &mut ArtifactModel, evidence: &Evidence, policy: Policy, clocks: Option<Clocks>) -> Effect {
    let before = m.clone();
    let mut effect = Effect::default();
    let mut flagged = BTreeSet::new();
    let file_only = matches!(evidence, Evidence::Event(_));
    for f in FIELDS {
        let t = m.get_mut(f);
        if t.local == t.github {
            t.base = Some(t.local);
            continue;
        }
        let pushed = matches!(evidence, Evidence::Push(set) if set.contains(&f));
        let evented = matches!(evidence, Evidence::Event(set) if set.contains(&f));
        let (local_changed, github_changed) = match (t.base, evidence) {
            (Some(b), _) => (t.local != b || pushed, t.github != b || evented),
            // Without a base only the run's own knowledge tells; a reconcile knows nothing,
            // so every difference is a conflict.
            (None, Evidence::Full) => (true, true),
            (None, Evidence::Push(_)) => (pushed, false),
            (None, Evidence::Event(_)) => (false, evented),
        };
        #[derive(PartialEq)]
        enum Win {
            Local,
            Github,
            Flag,
            Neither,
        }
        let winner = match (local_changed, github_changed) {
            (true, false) => Win::Local,
            (false, true) => Win::Github,
            (true, true) => match policy {
                Policy::PreferLocal => Win::Local,
                Policy::PreferGithub => Win::Github,
                Policy::ManualFlag => Win::Flag,
                Policy::LastUpdateWins => {
                    let c = clocks.expect("clocks are observed for last_update_wins");
                    if c.file < c.milestone { Win::Github } else { Win::Local }
                }
            },
            (false, false) => Win::Neither,
        };
        match winner {
            Win::Local if file_only => {} // held: an event run does not write GitHub
            Win::Local => {
                t.github = t.local;
                t.base = Some(t.local);
                effect.to_github.insert(f);
            }
            Win::Github => {
                t.local = t.github;
                t.base = Some(t.github);
                effect.to_file.insert(f);
            }
            Win::Flag => {
                flagged.insert(f);
            }
            Win::Neither => {}
        }
    }
    m.flagged = flagged;
    effect.file_changed = m.fields.iter().zip(&before.fields).any(|(a, b)| a.local != b.local || a.base != b.base)
        || m.flagged != before.flagged;
    effect
}

// ---------------------------------------------------------------------------------------
// Reading the world
// ---------------------------------------------------------------------------------------

/// One side's synced values, as indexes into the value tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Observed([u8; 4]);

fn normalize(text: &str) -> String {
    let unified = text.replace("\r\n", "\n").replace('\r', "\n");
    unified.split('\n').map(str::trim_end).collect::<Vec<_>>().join("\n").trim().to_string()
}

fn index_of(a: usize, f: Field, matches: impl Fn(&str) -> bool) -> Result<u8, String> {
    (0..value_count(f))
        .find(|&v| {
            matches(&match f {
                Field::Title => title(a, v),
                Field::Description => description(a, v),
                Field::State => v.to_string(),
                Field::Due => DUES[v as usize].unwrap_or("").to_string(),
            })
        })
        .ok_or_else(|| format!("{}: {f:?} has a value the test never set", id(a)))
}

/// The front matter of a file, parsed.
fn front_matter(file: &str) -> Result<toml::Table, String> {
    let mut parts = file.splitn(3, "+++\n");
    let (_, Some(fm)) = (parts.next(), parts.next()) else { return Err(format!("no front matter:\n{file}")) };
    fm.parse::<toml::Table>().map_err(|e| format!("front matter does not parse: {e}\n{file}"))
}

fn string_key<'t>(fm: &'t toml::Table, key: &str) -> Option<&'t str> {
    fm.get(key).and_then(|v| v.as_str())
}

/// The Description section's text.
fn description_section(file: &str) -> Option<String> {
    let heading = file.find("\n## Description")?;
    let start = heading + file[heading + 1..].find('\n')? + 2;
    let end = file[start..].find("\n## ").map_or(file.len(), |i| start + i);
    Some(normalize(&file[start..end]))
}

/// What must never change in a file: everything but the synced keys, the keys the sync
/// owns and the Description section's text (`updated_date` keeps its comment).
fn skeleton(file: &str) -> String {
    const OWNED: [&str; 6] = [
        "title = ",
        "status = ",
        "target_date = ",
        "related_milestone = ",
        "milestone_sync_base = ",
        "sync_conflict = ",
    ];
    let mut out = String::new();
    let mut fences = 0;
    let mut in_description = false;
    for line in file.split_inclusive('\n') {
        if line == "+++\n" {
            fences += 1;
        }
        if fences == 1 && OWNED.iter().any(|k| line.starts_with(k)) {
            continue;
        }
        if fences == 1 && line.starts_with("updated_date = ") {
            out.push_str(&format!("updated_date = …{}\n", line.find('#').map_or("", |i| line[i..].trim_end())));
            continue;
        }
        if fences >= 2 && line.starts_with("## ") {
            in_description = line.starts_with("## Description");
            out.push_str(line);
            if in_description {
                out.push_str("…\n");
            }
            continue;
        }
        if !in_description {
            out.push_str(line);
        }
    }
    out
}

fn updated_date(file: &str) -> String {
    front_matter(file).ok().and_then(|fm| string_key(&fm, "updated_date").map(str::to_string)).unwrap_or_default()
}

fn read_file(a: usize, file: &str) -> Result<(Observed, BTreeSet<Field>, u64), String> {
    let fm = front_matter(file)?;
    let t = string_key(&fm, "title").ok_or("no title")?;
    let d = description_section(file).ok_or("no Description section")?;
    let status = string_key(&fm, "status").ok_or("no status")?;
    let closed = match status {
        "🟡 To Do" | "🔵 In Progress" => 0,
        "🟢 Done" | "🧊 Archived" => 1,
        other => return Err(format!("{}: unexpected status {other:?}", id(a))),
    };
    let due = string_key(&fm, "target_date").or_else(|| string_key(&fm, "milestone_target_date")).unwrap_or("");
    let values = Observed([
        index_of(a, Field::Title, |v| v == t)?,
        index_of(a, Field::Description, |v| v == d)?,
        closed,
        index_of(a, Field::Due, |v| v == due)?,
    ]);
    let flagged = match string_key(&fm, "sync_conflict") {
        None => BTreeSet::new(),
        Some(text) => text
            .split(", ")
            .map(|name| FIELDS.into_iter().find(|f| f.flag_name() == name).ok_or(format!("sync_conflict {text:?}")))
            .collect::<Result<_, _>>()?,
    };
    let link = string_key(&fm, "related_milestone").ok_or_else(|| format!("{}: no related_milestone", id(a)))?;
    let number = link
        .strip_prefix("https://github.com/acme/plan/milestone/")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("{}: related_milestone {link:?}", id(a)))?;
    Ok((values, flagged, number))
}

/// The synced text of a milestone description: marker lines dropped, text normalised.
fn synced_text(description: &str) -> String {
    let kept: Vec<&str> = description
        .split('\n')
        .filter(|l| !l.starts_with("IntelliManage-ID:") && !l.starts_with("IntelliManage-Project:"))
        .collect();
    normalize(&kept.join("\n"))
}

fn read_milestone(a: usize, m: &github_standin::MilestoneRecord) -> Result<Observed, String> {
    let text = synced_text(m.description.as_deref().unwrap_or_default());
    // GitHub keeps Pacific midnights (07:00Z or 08:00Z): the UTC date is the Pacific date.
    let due = m.due_on.as_deref().map(|d| &d[..10]).unwrap_or("");
    Ok(Observed([
        index_of(a, Field::Title, |v| v == m.title)?,
        index_of(a, Field::Description, |v| v == text)?,
        match m.state.as_str() {
            "open" => 0,
            "closed" => 1,
            other => return Err(format!("milestone #{} has state {other:?}", m.number)),
        },
        index_of(a, Field::Due, |v| v == due)?,
    ]))
}

// ---------------------------------------------------------------------------------------
// Local edits (the bytes a person would change)
// ---------------------------------------------------------------------------------------

fn replace_line(file: &str, prefix: &str, new: Option<&str>) -> Option<String> {
    let mut found = false;
    let mut out = String::new();
    for line in file.split_inclusive('\n') {
        if !found && line.starts_with(prefix) {
            found = true;
            if let Some(n) = new {
                out.push_str(n);
                out.push('\n');
            }
        } else {
            out.push_str(line);
        }
    }
    found.then_some(out)
}

fn edit_file(a: usize, file: &str, edit: Edit) -> String {
    match edit {
        Edit::Title(v) => replace_line(file, "title = ", Some(&format!("title = {:?}", title(a, v)))).unwrap(),
        Edit::Status(s) => {
            replace_line(file, "status = ", Some(&format!("status = {:?}", STATUSES[s as usize]))).unwrap()
        }
        Edit::Due(v) => {
            let line = DUES[v as usize].map(|d| format!("target_date = \"{d}\""));
            replace_line(file, "target_date = ", line.as_deref()).unwrap_or_else(|| match line {
                // No key yet: a person adds it under project_name.
                Some(l) => {
                    replace_line(file, "project_name = ", Some(&format!("project_name = \"demo\"\n{l}"))).unwrap()
                }
                None => file.to_string(),
            })
        }
        Edit::Description(v) => {
            let heading = file.find("\n## Description").unwrap();
            let start = heading + file[heading + 1..].find('\n').unwrap() + 2;
            let end = file[start..].find("\n## ").map_or(file.len(), |i| start + i + 1);
            format!("{}\n{}\n\n{}", &file[..start], description(a, v), &file[end..])
        }
    }
}

// ---------------------------------------------------------------------------------------
// The world: repository, stand-in, model, transcript
// ---------------------------------------------------------------------------------------

struct World {
    repo: Repo,
    policy: Policy,
    n: usize,
    numbers: Vec<u64>,
    model: Vec<ArtifactModel>,
    /// Each file's [`skeleton`] as first committed.
    skeletons: Vec<String>,
    transcript: String,
}

type Step = Result<(), TestCaseError>;

fn fail(world: &World, why: String) -> TestCaseError {
    TestCaseError::fail(format!("{why}\n\n--- transcript ---\n{}", world.transcript))
}

impl World {
    /// 2–3 Epics, made milestones by a first reconcile, so both sides start synced.
    fn new(policy: Policy, n: usize) -> Result<World, TestCaseError> {
        let files: Vec<(String, String)> = (0..n)
            .map(|a| {
                let due = DUES[initial_due(a) as usize].map(|d| format!("target_date = \"{d}\"\n")).unwrap_or_default();
                (path(a), epic(&id(a), &title(a, 0), STATUSES[0], &due))
            })
            .collect();
        let refs: Vec<(&str, &str)> = files.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
        let repo = Repo::new(&refs);
        let model = (0..n)
            .map(|a| ArtifactModel {
                fields: [Triple::synced(0), Triple::synced(0), Triple::synced(0), Triple::synced(initial_due(a))],
                flagged: BTreeSet::new(),
            })
            .collect();
        let mut world = World {
            repo,
            policy,
            n,
            numbers: Vec::new(),
            model,
            skeletons: files.iter().map(|(_, c)| skeleton(c)).collect(),
            transcript: String::new(),
        };
        let run = world.repo.run("workflow_dispatch", "{}", &world.inputs());
        world.log("setup: workflow_dispatch creates the milestones", &run);
        if run.code() != 0 || world.repo.milestones().len() != n {
            return Err(fail(&world, "the first reconcile did not create one milestone per artifact".into()));
        }
        for a in 0..n {
            let file = world.repo.file_at_head(&path(a)).unwrap();
            let (_, _, number) = read_file(a, &file).map_err(|e| fail(&world, e))?;
            world.numbers.push(number);
        }
        world.check("after setup")?;
        Ok(world)
    }

    fn inputs(&self) -> Vec<(&'static str, &'static str)> {
        vec![("conflict-resolution", self.policy.input())]
    }

    fn log(&mut self, what: &str, run: &Run) {
        self.transcript.push_str(&format!(
            "=== {what} (exit {})\n{}{}\n",
            run.code(),
            run.stdout,
            if run.stderr.trim().is_empty() { String::new() } else { format!("--- stderr\n{}\n", run.stderr) }
        ));
    }

    fn note(&mut self, text: String) {
        self.transcript.push_str(&format!("=== {text}\n"));
    }

    fn state_line(&self) -> String {
        let mut out = String::new();
        for (a, m) in self.model.iter().enumerate() {
            out.push_str(&format!("  model {}:", id(a)));
            for f in FIELDS {
                let t = m.get(f);
                out.push_str(&format!(
                    " {f:?}[base {} | file {} | github {}]",
                    t.base.map_or("unknown".to_string(), |b| show(a, f, b)),
                    show(a, f, t.local),
                    show(a, f, t.github)
                ));
            }
            if !m.flagged.is_empty() {
                out.push_str(&format!(" flagged {:?}", m.flagged));
            }
            out.push('\n');
        }
        out
    }

    /// The clocks of `last_update_wins` for each artifact, read from the checkout (brought
    /// to the branch head) and the stand-in.
    fn clocks(&self) -> Vec<Option<Clocks>> {
        if self.policy != Policy::LastUpdateWins {
            return vec![None; self.n];
        }
        let milestones = self.repo.milestones();
        (0..self.n)
            .map(|a| {
                let ct = git(
                    &self.repo.workspace(),
                    &["log", "-1", "--format=%ct", "--", &format!("{PROJECT_DIR}/{}", path(a))],
                );
                let file = DateTime::from_timestamp(ct.parse().unwrap(), 0).unwrap();
                let m = milestones.iter().find(|m| m.number == self.numbers[a]).unwrap();
                let milestone = DateTime::parse_from_rfc3339(&m.updated_at).unwrap().with_timezone(&Utc);
                Some(Clocks { file, milestone })
            })
            .collect()
    }

    /// Runs the binary and checks what it wrote against the model's effects: one PATCH per
    /// milestone the model changes, a commit exactly when the model changes a file.
    fn run_and_apply(
        &mut self,
        what: &str,
        event: &str,
        payload: &str,
        scope: &[(usize, Evidence)],
    ) -> Result<Vec<(usize, Effect)>, TestCaseError> {
        let clocks = self.clocks();
        let head = self.repo.head();
        let dates: Vec<String> =
            (0..self.n).map(|a| updated_date(&self.repo.file_at_head(&path(a)).unwrap())).collect();
        let today_before = Utc::now().date_naive().to_string();
        self.repo.standin.clear_requests();
        let run = self.repo.run(event, payload, &self.inputs());
        let today_after = Utc::now().date_naive().to_string();
        self.log(what, &run);
        if run.code() != 0 {
            return Err(fail(self, format!("{what}: exit code {}", run.code())));
        }
        let mut effects = Vec::new();
        for (a, evidence) in scope {
            let e = model_reconcile(&mut self.model[*a], evidence, self.policy, clocks[*a]);
            effects.push((*a, e));
        }
        if self.policy == Policy::LastUpdateWins {
            let shown: Vec<String> = clocks
                .iter()
                .enumerate()
                .filter_map(|(a, c)| c.map(|c| format!("{}: file {} milestone {}", id(a), c.file, c.milestone)))
                .collect();
            self.note(format!("clocks before the run: {}", shown.join("; ")));
        }
        self.note(format!("model after {what}:\n{}", self.state_line()));
        self.check(what)?;
        // Writes: PATCHes of milestones, no POST/DELETE of milestones, a commit iff a file changed.
        let writes = self.repo.writes();
        let mut patched: BTreeMap<u64, usize> = BTreeMap::new();
        for w in &writes {
            if w.path.contains("/milestones") {
                match (w.method.as_str(), w.path.rsplit('/').next().and_then(|n| n.parse::<u64>().ok())) {
                    ("PATCH", Some(n)) => *patched.entry(n).or_default() += 1,
                    _ => return Err(fail(self, format!("{what}: unexpected milestone request {w:?}"))),
                }
            }
        }
        let expected: BTreeMap<u64, usize> =
            effects.iter().filter(|(_, e)| !e.to_github.is_empty()).map(|(a, _)| (self.numbers[*a], 1)).collect();
        if patched != expected {
            return Err(fail(
                self,
                format!("{what}: milestone PATCHes {patched:?} (number → count), the model expects {expected:?}"),
            ));
        }
        let committed = self.repo.head() != head;
        let expect_commit = effects.iter().any(|(_, e)| e.file_changed);
        if committed && git(&self.repo.bare(), &["rev-parse", "main^"]) != head {
            return Err(fail(self, format!("{what}: more than one commit for one run")));
        }
        if committed != expect_commit {
            return Err(fail(
                self,
                format!(
                    "{what}: {} a commit, the model expects {}",
                    if committed { "made" } else { "did not make" },
                    if expect_commit { "one" } else { "none" }
                ),
            ));
        }
        // A synced field taken from GitHub sets `updated_date` to today; nothing else moves it.
        for (a, e) in &effects {
            let date = updated_date(&self.repo.file_at_head(&path(*a)).unwrap());
            let ok = if e.to_file.is_empty() { date == dates[*a] } else { date == today_before || date == today_after };
            if !ok {
                return Err(fail(
                    self,
                    format!(
                        "{what}: {} has updated_date {date:?} (was {:?}); in the model the file takes {:?} from GitHub",
                        id(*a),
                        dates[*a],
                        e.to_file
                    ),
                ));
            }
        }
        Ok(effects)
    }

    /// Files at the branch head and milestones equal the model, field by field; the conflict
    /// flags name the model's flagged fields; one milestone per artifact, one marker each.
    fn check(&self, when: &str) -> Step {
        let milestones = self.repo.milestones();
        if milestones.len() != self.n {
            return Err(fail(
                self,
                format!("{when}: {} milestones for {} artifacts: {milestones:#?}", milestones.len(), self.n),
            ));
        }
        for a in 0..self.n {
            let file = self.repo.file_at_head(&path(a)).ok_or_else(|| fail(self, format!("{} is gone", path(a))))?;
            let (local, flagged, number) = read_file(a, &file).map_err(|e| fail(self, format!("{when}: {e}")))?;
            if skeleton(&file) != self.skeletons[a] {
                return Err(fail(
                    self,
                    format!(
                        "{when}: {} changed outside its synced fields:\n--- now\n{file}\n--- skeleton at first\n{}",
                        path(a),
                        self.skeletons[a]
                    ),
                ));
            }
            if number != self.numbers[a] {
                return Err(fail(self, format!("{when}: {} now links #{number}, not #{}", id(a), self.numbers[a])));
            }
            let m = milestones.iter().find(|m| m.number == number).unwrap();
            let desc = m.description.as_deref().unwrap_or_default();
            let ids: Vec<&str> = desc.lines().filter(|l| l.starts_with("IntelliManage-ID:")).collect();
            let projects = desc.lines().filter(|l| l.starts_with("IntelliManage-Project: demo")).count();
            if ids != [format!("IntelliManage-ID: {}", id(a)).as_str()] || projects != 1 {
                return Err(fail(self, format!("{when}: milestone #{number} markers: {desc:?}")));
            }
            let github = read_milestone(a, m).map_err(|e| fail(self, format!("{when}: {e}")))?;
            let model = &self.model[a];
            for f in FIELDS {
                let t = model.get(f);
                let (l, g) = (local.0[f as usize], github.0[f as usize]);
                if (l, g) != (t.local, t.github) {
                    return Err(fail(
                        self,
                        format!(
                            "{when}: {} {f:?}: file {} and milestone {}, the model expects file {} and milestone {}\n--- file\n{file}\n--- milestone\n{m:#?}\n{}",
                            id(a),
                            show(a, f, l),
                            show(a, f, g),
                            show(a, f, t.local),
                            show(a, f, t.github),
                            self.state_line()
                        ),
                    ));
                }
            }
            if flagged != model.flagged {
                return Err(fail(
                    self,
                    format!(
                        "{when}: {} flags {flagged:?}, the model flags {:?}\n--- file\n{file}",
                        id(a),
                        model.flagged
                    ),
                ));
            }
        }
        Ok(())
    }

    /// With a PAT, the sync's own commit starts a push run; its commit may start another.
    /// The chain must end (idempotence is the loop guard).
    fn follow_own_commits(&mut self, mut head_before: String, effects: Vec<(usize, Effect)>) -> Step {
        let mut effects = effects;
        for round in 1..=3 {
            let head = self.repo.head();
            if head == head_before {
                return Ok(());
            }
            if round == 3 {
                return Err(fail(self, "the sync's own commits keep starting runs that commit again".into()));
            }
            self.repo.pull();
            // The commit changed the files the model changed; its push names the fields whose
            // synced values it changed.
            let scope: Vec<(usize, Evidence)> = effects
                .iter()
                .filter(|(_, e)| e.file_changed)
                .map(|(a, e)| (*a, Evidence::Push(e.to_file.clone())))
                .collect();
            let payload = push_payload(&head_before, &head);
            effects = self.run_and_apply(
                &format!("push run of the sync's own commit (round {round})"),
                "push",
                &payload,
                &scope,
            )?;
            head_before = head;
        }
        Ok(())
    }

    /// Commits and pushes a new version of artifact `a`, then runs the push (or not).
    fn push_and_run(&mut self, i: usize, a: usize, content: &str, pushed: BTreeSet<Field>, trigger: Trigger) -> Step {
        let payload = self.repo.push(&[(&path(a), Some(content))], &format!("op {i}: edit {}", id(a)));
        if trigger == Trigger::Missed {
            return self.check(&format!("op {i} (no run)"));
        }
        let head_before = self.repo.head();
        let effects =
            self.run_and_apply(&format!("op {i}: push run"), "push", &payload, &[(a, Evidence::Push(pushed))])?;
        if trigger == Trigger::RunPat {
            self.follow_own_commits(head_before, effects)?;
        }
        Ok(())
    }

    fn play(&mut self, i: usize, op: &Op) -> Step {
        match *op {
            Op::Local { artifact: a, change, trigger } => {
                let f = change.field;
                let old = self.repo.file_at_head(&path(a)).unwrap();
                let current = self.model[a].get(f).local;
                let edit = match f {
                    Field::Title => Edit::Title(change.from(current, TITLE_VALUES)),
                    Field::Description => Edit::Description(change.from(current, DESCRIPTION_VALUES)),
                    Field::Due => Edit::Due(change.from(current, DUES.len() as u8)),
                    Field::State => {
                        let fm = front_matter(&old).map_err(|e| fail(self, e))?;
                        let status = string_key(&fm, "status").unwrap_or_default();
                        let now = STATUSES.iter().position(|s| *s == status).unwrap_or(0) as u8;
                        Edit::Status(change.from(now, STATUSES.len() as u8))
                    }
                };
                let new = edit_file(a, &old, edit);
                if new == old {
                    return Err(fail(self, format!("op {i}: {edit:?} does not change {}", path(a))));
                }
                let t = self.model[a].get_mut(f);
                let changed = t.local != edit.value();
                t.local = edit.value();
                self.note(format!("op {i}: {op:?}: {} {f:?} ← {} in the file", id(a), show(a, f, edit.value())));
                let pushed = if changed { BTreeSet::from([f]) } else { BTreeSet::new() };
                self.push_and_run(i, a, &new, pushed, trigger)
            }
            Op::DropBase { artifact: a, trigger } => {
                let old = self.repo.file_at_head(&path(a)).unwrap();
                let Some(new) = replace_line(&old, "milestone_sync_base = ", None) else {
                    self.note(format!("op {i}: {op:?}: {} has no base line; skipped", path(a)));
                    return Ok(());
                };
                for f in FIELDS {
                    self.model[a].get_mut(f).base = None;
                }
                self.note(format!("op {i}: {op:?}: {} loses its sync base", id(a)));
                self.push_and_run(i, a, &new, BTreeSet::new(), trigger)
            }
            Op::Github { artifact: a, change, trigger } => {
                let f = change.field;
                let v = change.from(self.model[a].get(f).github, value_count(f));
                let edit = match f {
                    Field::Title => Edit::Title(v),
                    Field::Description => Edit::Description(v),
                    Field::State => Edit::Status(if v == 1 { 2 } else { 0 }),
                    Field::Due => Edit::Due(v),
                };
                let number = self.numbers[a];
                let before = self.repo.milestones().into_iter().find(|m| m.number == number).unwrap();
                self.repo.standin.edit_milestone(number, |m| match edit {
                    Edit::Title(v) => m.title = title(a, v),
                    Edit::Description(v) => {
                        // Typed in the browser: CRLF line endings, marker lines kept.
                        let text = format!(
                            "{}\n\nIntelliManage-ID: {}\nIntelliManage-Project: demo",
                            description(a, v),
                            id(a)
                        );
                        m.description = Some(text.replace('\n', "\r\n"));
                    }
                    Edit::Status(_) => m.state = if v == 1 { "closed" } else { "open" }.into(),
                    Edit::Due(v) => m.due_on = DUES[v as usize].map(|d| format!("{d}T12:00:00Z")),
                });
                self.model[a].get_mut(f).github = v;
                self.note(format!("op {i}: {op:?}: {} {f:?} ← {} on GitHub", id(a), show(a, f, v)));
                if trigger == Trigger::Missed {
                    return self.check(&format!("op {i} (no run)"));
                }
                let (action, changes) = match f {
                    Field::Title => ("edited", json!({"title": {"from": before.title}})),
                    Field::Description => ("edited", json!({"description": {"from": before.description}})),
                    Field::Due => ("edited", json!({"due_on": {"from": before.due_on}})),
                    Field::State => (if v == 1 { "closed" } else { "opened" }, json!({})),
                };
                self.repo.pull();
                let head_before = self.repo.head();
                let payload = self.repo.milestone_event(action, number, changes);
                let effects = self.run_and_apply(
                    &format!("op {i}: milestone {action} run"),
                    "milestone",
                    &payload,
                    &[(a, Evidence::Event(BTreeSet::from([f])))],
                )?;
                if trigger == Trigger::RunPat {
                    self.follow_own_commits(head_before, effects)?;
                }
                Ok(())
            }
            Op::Reconcile { pat } => {
                self.note(format!("op {i}: {op:?}"));
                self.reconcile(&format!("op {i}: workflow_dispatch"), pat)
            }
        }
    }

    fn reconcile(&mut self, what: &str, pat: bool) -> Step {
        self.repo.pull();
        let head_before = self.repo.head();
        let scope: Vec<(usize, Evidence)> = (0..self.n).map(|a| (a, Evidence::Full)).collect();
        let effects = self.run_and_apply(what, "workflow_dispatch", "{}", &scope)?;
        if pat {
            self.follow_own_commits(head_before, effects)?;
        }
        Ok(())
    }

    /// The end: one more reconcile, then convergence and a reconcile that writes nothing.
    fn finish(&mut self) -> Step {
        self.reconcile("final workflow_dispatch", false)?;
        for (a, m) in self.model.iter().enumerate() {
            for f in FIELDS {
                let t = m.get(f);
                let converged = t.local == t.github;
                let flagged = m.flagged.contains(&f);
                let ok = match self.policy {
                    Policy::ManualFlag => converged != flagged,
                    _ => converged && !flagged,
                };
                if !ok {
                    return Err(fail(
                        self,
                        format!(
                            "after the final reconcile, {} {f:?} is {} and {} (policy {})\n{}",
                            id(a),
                            if converged { "equal on both sides" } else { "different on the two sides" },
                            if flagged { "flagged" } else { "not flagged" },
                            self.policy.input(),
                            self.state_line()
                        ),
                    ));
                }
            }
        }
        // `check` (run by `reconcile`) compared these model values with the real sides.
        self.repo.pull();
        let head = self.repo.head();
        self.repo.standin.clear_requests();
        let run = self.repo.run("workflow_dispatch", "{}", &self.inputs());
        self.log("second final workflow_dispatch (must write nothing)", &run);
        let writes = self.repo.writes();
        if run.code() != 0 || !writes.is_empty() || self.repo.head() != head {
            return Err(fail(
                self,
                format!(
                    "the second reconcile wrote: exit {}, {writes:?}, head moved: {}",
                    run.code(),
                    self.repo.head() != head
                ),
            ));
        }
        Ok(())
    }
}

fn check_case(case: &Case) -> Step {
    let mut world = World::new(case.policy, case.artifacts)?;
    world.note(format!("case: {case:?}"));
    for (i, op) in case.ops.iter().enumerate() {
        world.play(i, op)?;
    }
    world.finish()
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_CASES);
    ProptestConfig {
        cases,
        // A case costs a dozen runs of the binary: bound the shrinking of a failure.
        max_shrink_iters: 300,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))),
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Random edits on both sides and runs with random triggers converge, duplicate nothing
    /// and lose only what the policy says.
    #[test]
    fn two_way_sync_follows_the_model(case in case_strategy()) {
        check_case(&case)?;
    }
}

/// The model itself, on the rules' table (no binary): a quick guard for the oracle.
#[test]
fn the_model_applies_the_table() {
    let synced = Triple::synced;
    let mut m = ArtifactModel { fields: [synced(0); 4], flagged: BTreeSet::new() };
    m.get_mut(Field::Title).local = 1; // file only
    m.get_mut(Field::Description).github = 1; // GitHub only
    m.get_mut(Field::State).local = 1; // file only
    m.get_mut(Field::Due).local = 1; // both, to different values
    m.get_mut(Field::Due).github = 2;
    let mut lm = m.clone();
    let e = model_reconcile(&mut lm, &Evidence::Full, Policy::ManualFlag, None);
    assert_eq!(e.to_github, BTreeSet::from([Field::Title, Field::State]));
    assert_eq!(e.to_file, BTreeSet::from([Field::Description]));
    assert_eq!(lm.flagged, BTreeSet::from([Field::Due]));
    let mut em = m.clone();
    let e = model_reconcile(&mut em, &Evidence::Event(BTreeSet::from([Field::Due])), Policy::PreferLocal, None);
    assert!(e.to_github.is_empty(), "an event run writes only the file");
    assert_eq!(em.get(Field::Title), Triple { base: Some(0), local: 1, github: 0 }, "held");
    assert_eq!(em.get(Field::Due), Triple { base: Some(0), local: 1, github: 2 }, "held");
    let mut pm = m.clone();
    model_reconcile(&mut pm, &Evidence::Full, Policy::PreferGithub, None);
    assert_eq!(pm.get(Field::Due), synced(2));
    // A push names a field even when the file's value is back at the base.
    let mut rm = ArtifactModel { fields: [synced(0); 4], flagged: BTreeSet::new() };
    rm.get_mut(Field::Title).github = 2;
    let e = model_reconcile(&mut rm, &Evidence::Push(BTreeSet::from([Field::Title])), Policy::PreferLocal, None);
    assert_eq!((e.to_github, rm.get(Field::Title)), (BTreeSet::from([Field::Title]), synced(0)));
}

/// The same checks on one fixed sequence per policy, so that every run a conflict is met
/// and settled in each kind of run, whatever the random cases happen to draw: in a milestone
/// event run (where a file win is held), in a push run, in a reconcile with a PAT (whose own
/// commit comes back as a push), a revert pushed against a GitHub edit, and a reconcile of
/// a file without a base.
#[test]
fn every_policy_settles_conflicts_in_every_kind_of_run() {
    use Field::*;
    let local = |artifact, field, step, trigger| Op::Local { artifact, change: Change { field, step }, trigger };
    let github = |artifact, field, step, trigger| Op::Github { artifact, change: Change { field, step }, trigger };
    let ops = vec![
        // Title of EPIC-001 changed on both sides; the milestone event's run meets it.
        local(0, Title, 1, Trigger::Missed),
        github(0, Title, 2, Trigger::Run),
        // Due date of EPIC-002 changed on both sides; the push run meets it.
        github(1, Due, 1, Trigger::Missed),
        local(1, Due, 2, Trigger::RunPat),
        // Description of EPIC-001 changed on both sides; a reconcile meets it.
        github(0, Description, 1, Trigger::Missed),
        local(0, Description, 2, Trigger::Missed),
        Op::Reconcile { pat: true },
        // A pushed revert: the file goes back to its base, which the push names as a change.
        local(1, Title, 1, Trigger::Missed),
        github(1, Title, 2, Trigger::Missed),
        local(1, Title, 2, Trigger::Run),
        // Without a base, a reconcile takes every difference for a conflict.
        Op::DropBase { artifact: 1, trigger: Trigger::Missed },
        github(1, State, 1, Trigger::Missed),
        Op::Reconcile { pat: false },
    ];
    for policy in [Policy::PreferLocal, Policy::PreferGithub, Policy::ManualFlag, Policy::LastUpdateWins] {
        let case = Case { policy, artifacts: 2, ops: ops.clone() };
        if let Err(e) = check_case(&case) {
            panic!("{case:?}\n{e}");
        }
    }
}

/// The oracle's own reading of files, on known bytes.
#[test]
fn the_oracle_reads_files_as_written() {
    let original = epic("EPIC-001", "Alpha", STATUSES[0], "target_date = \"2026-05-23\"\n");
    let edited = edit_file(0, &edit_file(0, &original, Edit::Description(2)), Edit::Due(0));
    assert_eq!(description_section(&edited).as_deref(), Some(description(0, 2).as_str()));
    assert!(!edited.contains("target_date"));
    let synced = edit_file(0, &edited, Edit::Title(1)).replace(
        "project_name = \"demo\"\n",
        "project_name = \"demo\"\nrelated_milestone = \"https://github.com/acme/plan/milestone/7\"\nmilestone_sync_base = \"v1\"\nsync_conflict = \"title, due_on\"\n",
    );
    assert_eq!(skeleton(&synced), skeleton(&original), "owned lines and the description are left out");
    let (values, flagged, number) = read_file(0, &synced).unwrap();
    assert_eq!((values, number), (Observed([1, 2, 0, 0]), 7));
    assert_eq!(flagged, BTreeSet::from([Field::Title, Field::Due]));
    let damaged = synced.replace("*   - [ ] It works.", "*   - [ ] It works");
    assert_ne!(skeleton(&damaged), skeleton(&original), "any other byte counts");
    let comment_lost = synced.replace(" # Use current date", "");
    assert_ne!(skeleton(&comment_lost), skeleton(&original), "updated_date keeps its comment");
}
