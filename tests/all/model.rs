//! Model-based test of the two-way sync: random sequences of local edits, GitHub edits,
//! deletions and new milestones on GitHub, and runs that happen, are cancelled, start late
//! from a stale checkout or start twice from one checkout, played against the real binary
//! and the stand-in, and checked step by step against a small model of the sync's rules.
//!
//! The model (this file's own code, not the crate's planner) keeps, per artifact and synced
//! field, the file's value and GitHub's value, and per artifact the two records of the sync
//! base: the file's (`milestone_sync_base`) and the milestone's (the hidden line after the
//! marker lines), each with a generation. The base is the newer record. Every run, whatever
//! its trigger, converges every pair of the projects it syncs (all of them, but for a
//! milestone event's run in a case with two repositories: see below) by the rules of
//! `crates/core/src/plan/reconcile.rs`:
//!
//! - equal on both sides → nothing to write, the base records the value;
//! - changed only in the file since the base (or named by the push) → sent to GitHub;
//! - changed only on GitHub since the base (or named by the milestone event) → written to the
//!   file;
//! - changed on both sides to different values → the policy: `prefer_local`,
//!   `prefer_github`, `manual_flag` (write neither, flag the field in `sync_conflict`) or
//!   `last_update_wins` (the later of the file's last commit and the milestone's
//!   `updated_at`, ties to the file);
//! - without a base only the run's own knowledge tells: a push's fields are local changes, an
//!   event's fields GitHub changes, and every other difference is a conflict.
//!
//! The new base goes where the run writes anyway: into the milestone's record with a PATCH,
//! into the file's record with a commit (and then into the milestone's, so that a run from an
//! older checkout can tell it is behind); when both sides agree but the base is out of date,
//! the milestone's record alone is rewritten (a PATCH, no commit). A milestone deleted on
//! GitHub is recorded in its file (`milestone_deleted`) by the next run and never made again;
//! an unmarked milestone made on GitHub is imported as a new artifact file (`create-artifacts`
//! is on) with an ID of its own.
//!
//! One plan, two repositories: in about half the cases `EPIC-002` lives in a second project,
//! `api` (`.ruru/projects/api/`), whose `project_config.toml` names `acme/api`, a second
//! repository on the stand-in that the `github-token` input's token reaches too. Its milestone
//! is there (numbered from 1, like the plan's), its GitHub edits and deletion reach the plan as
//! the `repository_dispatch` that forwards `acme/api`'s milestone event, and such a run syncs
//! `api` alone, as the plan's own `milestone` event syncs the projects on `acme/plan` alone
//! (milestones made by hand are in `acme/plan` and imported into `demo`); a push, a reconcile
//! or a schedule syncs both, with one commit for all files.
//!
//! Runs: after an edit, the trigger's run happens, is cancelled (the next run must do its
//! work), or happens with a PAT (its own commit comes back as a push run, and that chain must
//! end). Besides: a reconcile; a run from a stale checkout (the commit before the sync's own
//! latest commits, as a queued milestone event's run gets); two runs from one checkout, one
//! after the other. A stale run reads the branch head before it writes, so it must do exactly
//! what a fresh one does.
//!
//! After every step:
//! - the file at the branch head and the milestone show the model's values, field by field;
//! - `sync_conflict` names exactly the model's flagged fields;
//! - the run wrote exactly what the model says: one PATCH per milestone the model writes, in
//!   the milestone's own repository, no other milestone request (and in a repository the run
//!   does not sync, no milestone request at all; in `acme/api`, no write but those PATCHes),
//!   one commit exactly when the model changes a file, and `updated_date` set to today exactly
//!   when the file took a value from GitHub;
//! - each linked artifact links its own milestone, in its project's repository, which carries
//!   exactly its marker lines (its ID and project); a deleted milestone never comes back; each
//!   repository holds one milestone per linked artifact and import; every imported milestone
//!   has exactly one file, and no two files of a project share an ID;
//! - nothing else in any file changed (comments, other keys, other sections).
//!
//! At the end one more run of a random trigger (when it syncs one repository's projects only,
//! followed by a schedule) must leave both sides equal for every field (with `manual_flag`:
//! exactly the flagged fields differ), and a reconcile after it must write nothing anywhere.
//!
//! `last_update_wins` cannot be predicted from the order of the operations: both clocks have
//! a resolution of one second and the sync's own writes move them too. So for that policy the
//! model reads the two clocks the rule is defined over (the artifact's last commit on the
//! branch, the milestone's `updated_at`) right before each run and applies the rule to them.
//!
//! `PROPTEST_CASES` sets the number of cases (default [`DEFAULT_CASES`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::common::*;
use chrono::{DateTime, Utc};
use github_standin::Repository;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, FileFailurePersistence, TestCaseError};
use serde_json::json;

/// Cases per run when `PROPTEST_CASES` is not set: enough to meet every policy several
/// times, few enough for a debug build on a busy two-core machine.
const DEFAULT_CASES: u32 = 12;
/// Most steps per case (a step is one operation, or two for a clash), before the final run.
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

/// Where an artifact lives: the plan repository's own project `demo`, or (in a case with two
/// repositories) the project `api`, whose `project_config.toml` names `acme/api`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Home {
    Plan,
    Api,
}

const HOMES: [Home; 2] = [Home::Plan, Home::Api];

impl Home {
    /// The project's slug (its folder under `.ruru/projects/`).
    fn project(self) -> &'static str {
        match self {
            Home::Plan => "demo",
            Home::Api => "api",
        }
    }

    /// The name of the repository its milestones live in.
    fn repository(self) -> &'static str {
        match self {
            Home::Plan => REPO,
            Home::Api => "api",
        }
    }

    fn full_name(self) -> String {
        format!("{OWNER}/{}", self.repository())
    }

    /// The prefix of a `related_milestone` (or `milestone_deleted`) URL into its repository.
    fn milestone_url(self) -> String {
        format!("https://github.com/{}/milestone/", self.full_name())
    }
}

/// Where artifact `a` lives: `EPIC-002` in `api` when the case has two repositories.
fn home_of(two_repositories: bool, a: usize) -> Home {
    if two_repositories && a == 1 { Home::Api } else { Home::Plan }
}

/// The artifact's file, relative to the workspace (the plan repository's root).
fn path(home: Home, a: usize) -> String {
    format!(".ruru/projects/{}/epics/{}_{}.md", home.project(), id(a), NAMES[a].to_lowercase())
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

/// What follows an edit: no run (cancelled, or never started), the run, or the run with a
/// PAT, whose own commit then comes back as a push run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Trigger {
    Missed,
    Run,
    RunPat,
}

/// A run started for its own reasons: a reconcile, a milestone event for an artifact's
/// milestone (`edited`, naming the title), or a push of a file outside the plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RunKind {
    Reconcile,
    Event { artifact: usize },
    Readme,
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
    /// Edit the milestone on "github.com"; then the milestone event's run (forwarded by
    /// `repository_dispatch` from another repository than the plan's), or not.
    Github { artifact: usize, change: Change, trigger: Trigger },
    /// Remove `milestone_sync_base` from the file, commit and push; then the push run, or
    /// not. The milestone's record still holds the base.
    DropBase { artifact: usize, trigger: Trigger },
    /// Remove the sync's hidden record from the milestone's description on GitHub (no run:
    /// the text is unchanged).
    DropRecord { artifact: usize },
    /// A `workflow_dispatch` run.
    Reconcile { pat: bool },
    /// A run from the checkout before the sync's own latest commits.
    Stale { kind: RunKind },
    /// Two runs started from one checkout, one after the other.
    TwoRuns { first: RunKind, second: RunKind },
    /// Delete the milestone on GitHub; then the `deleted` event's run, or not.
    Delete { artifact: usize, trigger: Trigger },
    /// Make a milestone by hand on GitHub (no marker); then the `created` event's run, or not.
    NewMilestone { trigger: Trigger },
}

#[derive(Clone)]
struct Case {
    policy: Policy,
    artifacts: usize,
    /// Artifact 1 (`EPIC-002`) lives in a second project, `api`, whose milestones are in a
    /// second repository, `acme/api`; the others stay in `demo` (`acme/plan`).
    two_repositories: bool,
    ops: Vec<Op>,
    /// The run of any trigger that must converge everything.
    last: RunKind,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let layout = if self.two_repositories { ", EPIC-002 in acme/api" } else { "" };
        writeln!(
            f,
            "policy {}, {} artifacts{layout}, {} operations:",
            self.policy.input(),
            self.artifacts,
            self.ops.len()
        )?;
        for (i, op) in self.ops.iter().enumerate() {
            writeln!(f, "  {i:2}. {op:?}")?;
        }
        writeln!(f, "  then {:?}", self.last)
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

fn run_kind_strategy() -> impl Strategy<Value = RunKind> {
    prop_oneof![
        Just(RunKind::Reconcile),
        artifact_strategy().prop_map(|artifact| RunKind::Event { artifact }),
        Just(RunKind::Readme),
    ]
}

/// Two edits of the same field (one per side).
fn change_pair_strategy() -> impl Strategy<Value = (Change, Change)> {
    (field_strategy(), 1..=3u8, 1..=3u8)
        .prop_map(|(field, a, b)| (Change { field, step: a }, Change { field, step: b }))
}

/// One or two operations: a single edit, a clash (both sides edit the same field and the
/// first side's run is cancelled, so the second side's run, or a later one, meets a field
/// changed on both sides), a lost record, a run of its own, a stale run, two runs from one
/// checkout, a deletion or a new milestone on GitHub.
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
        1 => artifact_strategy().prop_map(|artifact| vec![Op::DropRecord { artifact }]),
        1 => any::<bool>().prop_map(|pat| vec![Op::Reconcile { pat }]),
        2 => (artifact_strategy(), change_strategy(), artifact_strategy(), change_strategy(), run_kind_strategy())
            .prop_map(|(a, first, b, second, kind)| {
                // A GitHub edit whose run commits it into the file, a second one whose run is
                // queued, and that queued run starting from the checkout before the commit.
                vec![
                    Op::Github { artifact: a, change: first, trigger: Trigger::Run },
                    Op::Github { artifact: b, change: second, trigger: Trigger::Missed },
                    Op::Stale { kind },
                ]
            }),
        2 => (run_kind_strategy(), run_kind_strategy()).prop_map(|(first, second)| vec![Op::TwoRuns { first, second }]),
        1 => (artifact_strategy(), trigger_strategy()).prop_map(|(artifact, trigger)| vec![Op::Delete { artifact, trigger }]),
        1 => trigger_strategy().prop_map(|trigger| vec![Op::NewMilestone { trigger }]),
    ]
}

fn case_strategy() -> impl Strategy<Value = Case> {
    let policy = prop_oneof![
        Just(Policy::PreferLocal),
        Just(Policy::PreferGithub),
        Just(Policy::ManualFlag),
        Just(Policy::LastUpdateWins),
    ];
    (policy, 2..=3usize, any::<bool>(), proptest::collection::vec(ops_strategy(), 1..=MAX_STEPS), run_kind_strategy())
        .prop_map(|(policy, artifacts, two_repositories, groups, last)| {
            // Artifact indexes beyond the case's count fold onto the existing ones.
            let fold = |a: usize| a % artifacts;
            let kind = |k: RunKind| match k {
                RunKind::Event { artifact } => RunKind::Event { artifact: fold(artifact) },
                k => k,
            };
            let ops = groups
                .into_iter()
                .flatten()
                .map(|op| match op {
                    Op::Local { artifact, change, trigger } => Op::Local { artifact: fold(artifact), change, trigger },
                    Op::Github { artifact, change, trigger } => {
                        Op::Github { artifact: fold(artifact), change, trigger }
                    }
                    Op::DropBase { artifact, trigger } => Op::DropBase { artifact: fold(artifact), trigger },
                    Op::DropRecord { artifact } => Op::DropRecord { artifact: fold(artifact) },
                    Op::Delete { artifact, trigger } => Op::Delete { artifact: fold(artifact), trigger },
                    Op::Stale { kind: k } => Op::Stale { kind: kind(k) },
                    Op::TwoRuns { first, second } => Op::TwoRuns { first: kind(first), second: kind(second) },
                    op => op,
                })
                .collect();
            Case { policy, artifacts, two_repositories, ops, last: kind(last) }
        })
}

// ---------------------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------------------

/// One record of the sync base: its generation, (on the milestone) the generation of the
/// file record the sync wrote or saw, and per field the value both sides agreed on (`None`:
/// unknown).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Rec {
    generation: u64,
    file_generation: Option<u64>,
    values: [Option<u8>; 4],
}

/// What became of an artifact's milestone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Life {
    Linked,
    /// Deleted on GitHub; the file still links it until a run records the deletion.
    Deleted,
    /// The file records the deletion (`milestone_deleted`): never synced again.
    Detached,
}

#[derive(Clone, Debug)]
struct ArtifactModel {
    local: [u8; 4],
    github: [u8; 4],
    file_rec: Option<Rec>,
    milestone_rec: Option<Rec>,
    flagged: BTreeSet<Field>,
    life: Life,
}

impl ArtifactModel {
    fn synced(values: [u8; 4]) -> ArtifactModel {
        let rec = Rec { generation: 1, file_generation: None, values: values.map(Some) };
        ArtifactModel {
            local: values,
            github: values,
            file_rec: Some(rec),
            milestone_rec: Some(Rec { file_generation: Some(1), ..rec }),
            flagged: BTreeSet::new(),
            life: Life::Linked,
        }
    }

    /// The newer record (the milestone's on a tie).
    fn base(&self) -> Option<&Rec> {
        match (&self.file_rec, &self.milestone_rec) {
            (Some(f), Some(m)) => Some(if f.generation > m.generation { f } else { m }),
            (f, m) => m.as_ref().or(f.as_ref()),
        }
    }
}

/// What a run knows besides the base.
#[derive(Clone, Debug)]
enum Evidence {
    /// A push: the fields whose synced value it changed in the file.
    Push(BTreeSet<Field>),
    /// A milestone event: the fields it names.
    Event(BTreeSet<Field>),
    /// Nothing: only the base tells.
    Full,
}

/// Which projects a run syncs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    /// All of them, in every repository: a push, a reconcile, a schedule.
    Everything,
    /// Those whose milestones live in the repository of the milestone event that started the
    /// run (the plan's own `milestone` event, or another repository's forwarded by
    /// `repository_dispatch`).
    Only(Home),
}

impl Scope {
    fn covers(self, home: Home) -> bool {
        self == Scope::Everything || self == Scope::Only(home)
    }
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
    /// Whether the milestone is written (fields, or its record of the base alone).
    patched: bool,
    /// Whether the file changes (values, conflict flag, the record of a deletion).
    file_changed: bool,
}

/// The model's run for one artifact.
fn model_reconcile(m: &mut ArtifactModel, evidence: &Evidence, policy: Policy, clocks: Option<Clocks>) -> Effect {
    let mut effect = Effect::default();
    match m.life {
        Life::Detached => return effect,
        Life::Deleted => {
            // The link, the base and any flag give way to the record of the deletion.
            m.life = Life::Detached;
            m.file_rec = None;
            m.milestone_rec = None;
            m.flagged.clear();
            effect.file_changed = true;
            return effect;
        }
        Life::Linked => {}
    }
    let base = m.base().copied();
    let mut new_values = base.map_or([None; 4], |b| b.values);
    let mut flagged = BTreeSet::new();
    for f in FIELDS {
        let i = f as usize;
        let (l, g) = (m.local[i], m.github[i]);
        if l == g {
            new_values[i] = Some(l);
            continue;
        }
        let pushed = matches!(evidence, Evidence::Push(set) if set.contains(&f));
        let evented = matches!(evidence, Evidence::Event(set) if set.contains(&f));
        // Without a base only the trigger's own knowledge tells; any other difference is a
        // conflict.
        let (local_changed, github_changed) = match base.and_then(|b| b.values[i]) {
            Some(b) => (l != b || pushed, g != b || evented),
            None if pushed => (true, false),
            None if evented => (false, true),
            None => (true, true),
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
            Win::Local => {
                m.github[i] = l;
                new_values[i] = Some(l);
                effect.to_github.insert(f);
            }
            Win::Github => {
                m.local[i] = g;
                new_values[i] = Some(g);
                effect.to_file.insert(f);
            }
            Win::Flag => {
                flagged.insert(f);
            }
            Win::Neither => {}
        }
    }
    let flag_changed = flagged != m.flagged;
    m.flagged = flagged;
    // The records: the new base goes where the run writes anyway.
    let writes_file = !effect.to_file.is_empty() || flag_changed;
    let writes_milestone = !effect.to_github.is_empty();
    let known = base.is_some();
    let outdated = known && base.map(|b| b.values) != Some(new_values);
    let newest = m.file_rec.map_or(0, |r| r.generation).max(m.milestone_rec.map_or(0, |r| r.generation));
    let generation = if known && !outdated { newest } else { newest + 1 };
    // The milestone, written before the commit, keeps the old base of the fields the file
    // takes from GitHub; the file's record, one generation newer, carries them.
    let mut before_commit = new_values;
    for f in &effect.to_file {
        before_commit[*f as usize] = base.and_then(|b| b.values[*f as usize]);
    }
    let file_generation = if writes_milestone && before_commit != new_values { generation + 1 } else { generation };
    let record_only = !writes_file && !writes_milestone && outdated;
    if writes_milestone || record_only {
        let named = if writes_file { file_generation } else { m.file_rec.map_or(0, |r| r.generation) };
        m.milestone_rec = Some(Rec { generation, file_generation: Some(named), values: before_commit });
        effect.patched = true;
    }
    if writes_file {
        // Once the commit landed, the milestone's record says which file generation the sync
        // wrote (so that a run from an older checkout can tell it is behind).
        let after = Rec { generation: file_generation, file_generation: Some(file_generation), values: new_values };
        if !writes_milestone && m.milestone_rec != Some(after) {
            m.milestone_rec = Some(after);
            effect.patched = true;
        }
        m.file_rec = Some(Rec { generation: file_generation, file_generation: None, values: new_values });
    }
    effect.file_changed = writes_file;
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
    const OWNED: [&str; 7] = [
        "title = ",
        "status = ",
        "target_date = ",
        "related_milestone = ",
        "milestone_sync_base = ",
        "sync_conflict = ",
        "milestone_deleted = ",
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

/// A file's synced values, flagged fields and the number of the milestone it links, which
/// must be in `home`'s repository.
fn read_file(a: usize, home: Home, file: &str) -> Result<(Observed, BTreeSet<Field>, Option<u64>), String> {
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
    let number = match string_key(&fm, "related_milestone") {
        None => None,
        Some(link) => Some(number_of(link, home).ok_or_else(|| {
            format!("{}: related_milestone {link:?} is not a milestone of {}", id(a), home.full_name())
        })?),
    };
    Ok((values, flagged, number))
}

/// The milestone number of a `related_milestone` (or `milestone_deleted`) URL into `home`'s
/// repository (`None` for any other URL).
fn number_of(url: &str, home: Home) -> Option<u64> {
    url.strip_prefix(&home.milestone_url()).and_then(|n| n.parse().ok())
}

/// The synced text of a milestone description: marker lines and the sync's hidden record
/// dropped, text normalised.
fn synced_text(description: &str) -> String {
    let kept: Vec<&str> = description
        .split('\n')
        .filter(|l| {
            !l.starts_with("IntelliManage-ID:")
                && !l.starts_with("IntelliManage-Project:")
                && !l.starts_with("<!-- milestone-sync base ")
        })
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
                    let project = file.lines().find(|x| x.starts_with("project_name = ")).unwrap();
                    replace_line(file, "project_name = ", Some(&format!("{project}\n{l}"))).unwrap()
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

/// A milestone made by hand on GitHub, to be imported as a new artifact file.
#[derive(Clone, Debug)]
struct Import {
    number: u64,
    title: String,
    /// A run has imported it (its file is on the branch and it carries the file's marker).
    imported: bool,
}

struct World {
    repo: Repo,
    /// `acme/api` on the stand-in, in a case with two repositories.
    api: Option<Repository>,
    policy: Policy,
    n: usize,
    /// Per artifact, the milestone's number in its own repository (each numbers from 1).
    numbers: Vec<u64>,
    model: Vec<ArtifactModel>,
    imports: Vec<Import>,
    /// Each file's [`skeleton`] as first committed.
    skeletons: Vec<String>,
    transcript: String,
}

type Step = Result<(), TestCaseError>;

/// A run made ready: its event, payload, the evidence it carries and which projects it syncs.
type Prepared = (&'static str, String, BTreeMap<usize, Evidence>, Scope);

fn fail(world: &World, why: String) -> TestCaseError {
    TestCaseError::fail(format!("{why}\n\n--- transcript ---\n{}", world.transcript))
}

impl World {
    /// 2–3 Epics, made milestones by a first reconcile, so both sides start synced. With
    /// `two_repositories`, `EPIC-002` is in the project `api`, whose milestones are in
    /// `acme/api` (which the `github-token` input's token reaches too, as a GitHub App token
    /// made for both repositories does), added to the plan in a second commit.
    fn new(policy: Policy, n: usize, two_repositories: bool) -> Result<World, TestCaseError> {
        let home = |a: usize| home_of(two_repositories, a);
        let files: Vec<(usize, String)> = (0..n)
            .map(|a| {
                let due = DUES[initial_due(a) as usize].map(|d| format!("target_date = \"{d}\"\n")).unwrap_or_default();
                let text = epic(&id(a), &title(a, 0), STATUSES[0], &due);
                (a, text.replace("project_name = \"demo\"", &format!("project_name = \"{}\"", home(a).project())))
            })
            .collect();
        let in_demo: Vec<(String, &str)> = files
            .iter()
            .filter(|(a, _)| home(*a) == Home::Plan)
            .map(|(a, c)| (path(Home::Plan, *a)[PROJECT_DIR.len() + 1..].to_string(), c.as_str()))
            .collect();
        let refs: Vec<(&str, &str)> = in_demo.iter().map(|(p, c)| (p.as_str(), *c)).collect();
        let repo = Repo::new(&refs);
        let api = two_repositories.then(|| {
            let git_dir = repo.dir.path().join("api.git");
            git(repo.dir.path(), &["init", "-q", "--bare", "-b", "main", git_dir.to_str().unwrap()]);
            let api = repo.standin.add_repository(github_standin::Config {
                owner: OWNER.into(),
                repo: Home::Api.repository().into(),
                token: "ghp_api_token_unused_by_this_test".into(),
                default_branch: "main".into(),
                git_dir,
            });
            api.allow_token(TOKEN);
            let config = PROJECT_CONFIG
                .replace("# Demo project", "# API project")
                .replace("repo_name = \"plan\"", "repo_name = \"api\"");
            let mut changes = vec![(".ruru/projects/api/project_config.toml".to_string(), config)];
            changes.extend(
                files.iter().filter(|(a, _)| home(*a) == Home::Api).map(|(a, c)| (path(Home::Api, *a), c.clone())),
            );
            let changes: Vec<(&str, Option<&str>)> =
                changes.iter().map(|(p, c)| (p.as_str(), Some(c.as_str()))).collect();
            repo.push_paths(&changes, "plan the api project");
            api
        });
        let model = (0..n).map(|a| ArtifactModel::synced([0, 0, 0, initial_due(a)])).collect();
        let mut world = World {
            repo,
            api,
            policy,
            n,
            numbers: Vec::new(),
            model,
            imports: Vec::new(),
            skeletons: files.iter().map(|(_, c)| skeleton(c)).collect(),
            transcript: String::new(),
        };
        let run = world.repo.run("workflow_dispatch", "{}", &world.inputs());
        world.log("setup: workflow_dispatch creates the milestones", &run);
        let made: Vec<usize> = world.homes().map(|h| world.gh(h).milestones().len()).collect();
        let wanted: Vec<usize> = world.homes().map(|h| (0..n).filter(|&a| world.home(a) == h).count()).collect();
        if run.code() != 0 || made != wanted {
            return Err(fail(
                &world,
                format!("the first reconcile did not create one milestone per artifact: {made:?} (per repository)"),
            ));
        }
        for a in 0..n {
            let file = world.at_head(a).unwrap();
            let (_, _, number) = read_file(a, world.home(a), &file).map_err(|e| fail(&world, e))?;
            world.numbers.push(number.ok_or_else(|| fail(&world, format!("{} has no link after setup", id(a))))?);
        }
        world.check("after setup")?;
        Ok(world)
    }

    /// Where artifact `a` lives.
    fn home(&self, a: usize) -> Home {
        home_of(self.api.is_some(), a)
    }

    /// The repositories of the case, the plan's first.
    fn homes(&self) -> impl Iterator<Item = Home> + use<> {
        let two = self.api.is_some();
        HOMES.into_iter().filter(move |h| two || *h == Home::Plan)
    }

    /// The stand-in's handle of a repository.
    fn gh(&self, home: Home) -> &Repository {
        match home {
            Home::Plan => &self.repo.standin,
            Home::Api => self.api.as_ref().expect("a case with two repositories"),
        }
    }

    /// Artifact `a`'s file, workspace-relative.
    fn path(&self, a: usize) -> String {
        path(self.home(a), a)
    }

    /// Artifact `a`'s file at the branch head.
    fn at_head(&self, a: usize) -> Option<String> {
        self.repo.at_head(&self.path(a))
    }

    /// Artifact `a`'s milestone as the stand-in holds it (`None`: deleted).
    fn milestone(&self, a: usize) -> Option<github_standin::MilestoneRecord> {
        self.gh(self.home(a)).milestones().into_iter().find(|m| m.number == self.numbers[a])
    }

    /// Milestone `number` of `home`'s repository as GitHub's JSON.
    fn milestone_json(&self, home: Home, number: u64) -> Option<serde_json::Value> {
        self.gh(home).milestones_json().as_array()?.iter().find(|m| m["number"] == number).cloned()
    }

    /// The run a milestone event of `home`'s repository starts in the plan repository: the
    /// plan's own `milestone` event, or, for another repository's milestone, the
    /// `repository_dispatch` its workflow sends with the event as `client_payload` (GitHub
    /// sends a repository only its own milestones' events).
    fn milestone_run(
        &self,
        home: Home,
        action: &str,
        milestone: serde_json::Value,
        changes: serde_json::Value,
    ) -> (&'static str, String) {
        let payload = self.repo.milestone_event_for(action, milestone, changes);
        if home == Home::Plan {
            return ("milestone", payload);
        }
        let mut forwarded: serde_json::Value = serde_json::from_str(&payload).unwrap();
        forwarded["repository"]["full_name"] = home.full_name().into();
        forwarded["repository"]["name"] = home.repository().into();
        forwarded["repository"]["html_url"] = format!("https://github.com/{}", home.full_name()).into();
        let dispatch = json!({
            "action": "milestone",
            "branch": "main",
            "client_payload": forwarded,
            "repository": {"full_name": format!("{OWNER}/{REPO}"), "name": REPO, "default_branch": "main", "fork": false},
        });
        ("repository_dispatch", dispatch.to_string())
    }

    fn inputs(&self) -> Vec<(&'static str, &'static str)> {
        vec![("conflict-resolution", self.policy.input()), ("create-artifacts", "true")]
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
            let number = self.numbers.get(a).map_or(String::new(), |n| format!(" #{n}"));
            out.push_str(&format!("  model {} ({:?}, {}{number}):", id(a), m.life, self.home(a).full_name()));
            let base = m.base().copied();
            for f in FIELDS {
                let i = f as usize;
                out.push_str(&format!(
                    " {f:?}[base {} | file {} | github {}]",
                    base.and_then(|b| b.values[i]).map_or("unknown".to_string(), |b| show(a, f, b)),
                    show(a, f, m.local[i]),
                    show(a, f, m.github[i])
                ));
            }
            let gens = |r: Option<Rec>| r.map_or("none".to_string(), |r| format!("gen {}", r.generation));
            out.push_str(&format!(" records: file {}, milestone {}", gens(m.file_rec), gens(m.milestone_rec)));
            if !m.flagged.is_empty() {
                out.push_str(&format!(" flagged {:?}", m.flagged));
            }
            out.push('\n');
        }
        for i in &self.imports {
            out.push_str(&format!(
                "  import #{} {:?}: {}\n",
                i.number,
                i.title,
                if i.imported { "imported" } else { "pending" }
            ));
        }
        out
    }

    /// The clocks of `last_update_wins` for each linked artifact: the last commit that changed
    /// its file on the branch, and the milestone's `updated_at`.
    fn clocks(&self) -> Vec<Option<Clocks>> {
        if self.policy != Policy::LastUpdateWins {
            return vec![None; self.n];
        }
        (0..self.n)
            .map(|a| {
                let m = self.milestone(a)?;
                let ct = git(&self.repo.bare(), &["log", "-1", "--format=%ct", "main", "--", &self.path(a)]);
                let file = DateTime::from_timestamp(ct.parse().unwrap(), 0).unwrap();
                let milestone = DateTime::parse_from_rfc3339(&m.updated_at).unwrap().with_timezone(&Utc);
                Some(Clocks { file, milestone })
            })
            .collect()
    }

    /// Runs the binary (from whatever the workspace holds) and checks what it wrote against
    /// the model's effects: one PATCH per milestone the model writes (and one per milestone it
    /// imports), in the milestone's own repository, a commit exactly when the model changes or
    /// adds a file. Every artifact in `scope` is planned, the others are left alone (their
    /// repositories are not even asked for milestones); `evidence` names what the trigger
    /// knows of some.
    fn run_and_apply(
        &mut self,
        what: &str,
        event: &str,
        payload: &str,
        evidence: &BTreeMap<usize, Evidence>,
        scope: Scope,
    ) -> Result<Vec<(usize, Effect)>, TestCaseError> {
        let clocks = self.clocks();
        let head = self.repo.head();
        let dates: Vec<String> = (0..self.n).map(|a| updated_date(&self.at_head(a).unwrap())).collect();
        let today_before = Utc::now().date_naive().to_string();
        for h in self.homes() {
            self.gh(h).clear_requests();
        }
        let run = self.repo.run(event, payload, &self.inputs());
        let today_after = Utc::now().date_naive().to_string();
        self.log(what, &run);
        if run.code() != 0 {
            return Err(fail(self, format!("{what}: exit code {}", run.code())));
        }
        let homes: Vec<Home> = (0..self.n).map(|a| self.home(a)).collect();
        let mut effects = Vec::new();
        for (a, (model, clock)) in self.model.iter_mut().zip(&clocks).enumerate() {
            let e = evidence.get(&a).cloned().unwrap_or(Evidence::Full);
            let effect = if scope.covers(homes[a]) {
                model_reconcile(model, &e, self.policy, *clock)
            } else {
                Effect::default()
            };
            effects.push((a, effect));
        }
        // Milestones made by hand are in the plan's repository, imported into `demo`.
        let imported: Vec<u64> = if scope.covers(Home::Plan) {
            self.imports.iter().filter(|i| !i.imported).map(|i| i.number).collect()
        } else {
            Vec::new()
        };
        for i in self.imports.iter_mut().filter(|i| imported.contains(&i.number)) {
            i.imported = true;
        }
        if scope != Scope::Everything {
            self.note(format!("{what} syncs the projects on {:?} only", scope));
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
        // Writes: PATCHes of milestones, no POST/DELETE of milestones, a commit iff a file
        // changed; in another repository than the plan's, nothing but milestone PATCHes; in a
        // repository outside the run's scope, no milestone request at all.
        let mut patched: BTreeMap<(Home, u64), usize> = BTreeMap::new();
        for h in self.homes() {
            let repository = h.full_name();
            for w in self.gh(h).writes() {
                if w.path.contains("/milestones") {
                    match (w.method.as_str(), w.path.rsplit('/').next().and_then(|n| n.parse::<u64>().ok())) {
                        ("PATCH", Some(n)) => *patched.entry((h, n)).or_default() += 1,
                        _ => {
                            return Err(fail(
                                self,
                                format!("{what}: unexpected milestone request in {repository} {w:?}"),
                            ));
                        }
                    }
                } else if h != Home::Plan {
                    return Err(fail(self, format!("{what}: unexpected write in {repository} {w:?}")));
                }
            }
            if !scope.covers(h) {
                let read: Vec<_> =
                    self.gh(h).requests().into_iter().filter(|r| r.path.contains("/milestones")).collect();
                if !read.is_empty() {
                    return Err(fail(
                        self,
                        format!("{what}: syncs the projects on {scope:?} only, yet asked {repository}: {read:?}"),
                    ));
                }
            }
        }
        let expected: BTreeMap<(Home, u64), usize> = effects
            .iter()
            .filter(|(_, e)| e.patched)
            .map(|(a, _)| (self.home(*a), self.numbers[*a]))
            .chain(imported.iter().map(|n| (Home::Plan, *n)))
            .map(|n| (n, 1))
            .collect();
        if patched != expected {
            return Err(fail(
                self,
                format!(
                    "{what}: milestone PATCHes {patched:?} ((repository, number) → count), the model expects {expected:?}"
                ),
            ));
        }
        let committed = self.repo.head() != head;
        let expect_commit = effects.iter().any(|(_, e)| e.file_changed) || !imported.is_empty();
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
            let date = updated_date(&self.at_head(*a).unwrap());
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
    /// flags name the model's flagged fields; in each repository, one milestone per linked
    /// artifact and import, one marker each; each file links into its project's repository;
    /// deleted milestones stay deleted; no two files of a project share an ID.
    fn check(&self, when: &str) -> Step {
        let all: BTreeMap<Home, Vec<github_standin::MilestoneRecord>> =
            self.homes().map(|h| (h, self.gh(h).milestones())).collect();
        for (h, milestones) in &all {
            let linked = (0..self.n).filter(|&a| self.home(a) == *h && self.model[a].life == Life::Linked).count();
            let imports = if *h == Home::Plan { self.imports.len() } else { 0 };
            if milestones.len() != linked + imports {
                return Err(fail(
                    self,
                    format!(
                        "{when}: {} milestones in {} for {linked} linked artifacts and {imports} imports: {milestones:#?}",
                        milestones.len(),
                        h.full_name()
                    ),
                ));
            }
        }
        let markers = |m: &github_standin::MilestoneRecord| -> Vec<String> {
            let desc = m.description.as_deref().unwrap_or_default();
            desc.lines().filter_map(|l| l.strip_prefix("IntelliManage-ID: ")).map(|l| l.trim().to_string()).collect()
        };
        for a in 0..self.n {
            let home = self.home(a);
            let milestones = &all[&home];
            let file = self.at_head(a).ok_or_else(|| fail(self, format!("{} is gone", self.path(a))))?;
            let (local, flagged, number) =
                read_file(a, home, &file).map_err(|e| fail(self, format!("{when}: {e}\n--- file\n{file}")))?;
            if skeleton(&file) != self.skeletons[a] {
                return Err(fail(
                    self,
                    format!(
                        "{when}: {} changed outside its synced fields:\n--- now\n{file}\n--- skeleton at first\n{}",
                        self.path(a),
                        self.skeletons[a]
                    ),
                ));
            }
            let model = &self.model[a];
            if local.0 != model.local {
                return Err(fail(
                    self,
                    format!(
                        "{when}: {} file values {:?}, the model expects {:?}\n{}",
                        id(a),
                        local.0,
                        model.local,
                        self.state_line()
                    ),
                ));
            }
            match model.life {
                Life::Detached => {
                    let recorded = front_matter(&file)
                        .ok()
                        .and_then(|fm| string_key(&fm, "milestone_deleted").map(str::to_string));
                    let recorded = recorded.as_deref().and_then(|url| number_of(url, home));
                    if number.is_some() || recorded != Some(self.numbers[a]) {
                        return Err(fail(
                            self,
                            format!("{when}: {} should record its deleted milestone:\n{file}", id(a)),
                        ));
                    }
                    if milestones.iter().any(|m| markers(m).contains(&id(a))) {
                        return Err(fail(
                            self,
                            format!(
                                "{when}: a milestone for {}, whose milestone was deleted, came back in {}: {milestones:#?}",
                                id(a),
                                home.full_name()
                            ),
                        ));
                    }
                    continue;
                }
                Life::Deleted => continue,
                Life::Linked => {}
            }
            if number != Some(self.numbers[a]) {
                return Err(fail(self, format!("{when}: {} now links {number:?}, not #{}", id(a), self.numbers[a])));
            }
            let m = milestones.iter().find(|m| Some(m.number) == number).ok_or_else(|| {
                fail(
                    self,
                    format!("{when}: {} links #{}, which {} does not have", id(a), self.numbers[a], home.full_name()),
                )
            })?;
            let desc = m.description.as_deref().unwrap_or_default();
            let project_line = format!("IntelliManage-Project: {}", home.project());
            let projects = desc.lines().filter(|l| l.starts_with(&project_line)).count();
            if markers(m) != [id(a)] || projects != 1 {
                return Err(fail(
                    self,
                    format!("{when}: milestone #{} of {} markers: {desc:?}", m.number, home.full_name()),
                ));
            }
            let github = read_milestone(a, m).map_err(|e| fail(self, format!("{when}: {e}")))?;
            for f in FIELDS {
                let i = f as usize;
                let (l, g) = (local.0[i], github.0[i]);
                if (l, g) != (model.local[i], model.github[i]) {
                    return Err(fail(
                        self,
                        format!(
                            "{when}: {} {f:?}: file {} and milestone {}, the model expects file {} and milestone {}\n--- file\n{file}\n--- milestone\n{m:#?}\n{}",
                            id(a),
                            show(a, f, l),
                            show(a, f, g),
                            show(a, f, model.local[i]),
                            show(a, f, model.github[i]),
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
        // Every file of each project: one ID each within the project, links into the project's
        // repository; imports linked by exactly one file, of `demo`.
        let mut links: BTreeMap<u64, Vec<String>> = BTreeMap::new();
        for h in self.homes() {
            let folder = format!(".ruru/projects/{}/epics/", h.project());
            let listing = git(&self.repo.bare(), &["ls-tree", "--name-only", "main", &folder]);
            let mut ids: BTreeMap<String, String> = BTreeMap::new();
            for full in listing.lines() {
                let text = git(&self.repo.bare(), &["show", &format!("main:{full}")]);
                let fm = front_matter(&text).map_err(|e| fail(self, format!("{when}: {full}: {e}")))?;
                let file_id = string_key(&fm, "id").unwrap_or_default().to_string();
                if let Some(other) = ids.insert(file_id.clone(), full.to_string()) {
                    return Err(fail(self, format!("{when}: {other} and {full} share the ID {file_id}")));
                }
                if let Some(url) = string_key(&fm, "related_milestone") {
                    let n = number_of(url, h).ok_or_else(|| {
                        fail(self, format!("{when}: {full} links {url:?}, not a milestone of {}", h.full_name()))
                    })?;
                    if h == Home::Plan {
                        links.entry(n).or_default().push(file_id);
                    }
                }
            }
        }
        let milestones = &all[&Home::Plan];
        for i in &self.imports {
            let m = milestones
                .iter()
                .find(|m| m.number == i.number)
                .ok_or_else(|| fail(self, format!("{when}: import #{} is gone", i.number)))?;
            let linking = links.get(&i.number).cloned().unwrap_or_default();
            let ok = if i.imported {
                linking.len() == 1 && markers(m) == linking && m.title == i.title
            } else {
                linking.is_empty() && markers(m).is_empty()
            };
            if !ok {
                return Err(fail(
                    self,
                    format!(
                        "{when}: import #{} ({}): files {linking:?} link it, its markers are {:?}\n{}",
                        i.number,
                        if i.imported { "imported" } else { "pending" },
                        markers(m),
                        self.state_line()
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
            let evidence: BTreeMap<usize, Evidence> = effects
                .iter()
                .filter(|(_, e)| e.file_changed)
                .map(|(a, e)| (*a, Evidence::Push(e.to_file.clone())))
                .collect();
            let payload = push_payload(&head_before, &head);
            effects = self.run_and_apply(
                &format!("push run of the sync's own commit (round {round})"),
                "push",
                &payload,
                &evidence,
                Scope::Everything,
            )?;
            head_before = head;
        }
        Ok(())
    }

    /// Commits and pushes a new version of artifact `a`, then runs the push (or not).
    fn push_and_run(&mut self, i: usize, a: usize, content: &str, pushed: BTreeSet<Field>, trigger: Trigger) -> Step {
        let payload = self.repo.push_paths(&[(&self.path(a), Some(content))], &format!("op {i}: edit {}", id(a)));
        if trigger == Trigger::Missed {
            return self.check(&format!("op {i} (no run)"));
        }
        let head_before = self.repo.head();
        let evidence = BTreeMap::from([(a, Evidence::Push(pushed))]);
        let effects =
            self.run_and_apply(&format!("op {i}: push run"), "push", &payload, &evidence, Scope::Everything)?;
        if trigger == Trigger::RunPat {
            self.follow_own_commits(head_before, effects)?;
        }
        Ok(())
    }

    /// Runs `trigger` after an edit on GitHub in `home`'s repository (its event already in
    /// `event` and `payload`, see [`World::milestone_run`]), or not.
    fn event_and_run(
        &mut self,
        what: &str,
        (event, payload): (&str, String),
        home: Home,
        evidence: BTreeMap<usize, Evidence>,
        trigger: Trigger,
    ) -> Step {
        if trigger == Trigger::Missed {
            return self.check(&format!("{what} (no run)"));
        }
        self.repo.pull();
        let head_before = self.repo.head();
        let effects =
            self.run_and_apply(&format!("{what}: its {event} run"), event, &payload, &evidence, Scope::Only(home))?;
        if trigger == Trigger::RunPat {
            self.follow_own_commits(head_before, effects)?;
        }
        Ok(())
    }

    /// The event, payload, evidence and scope of a run of `kind`, prepared on the current
    /// state: a push of the README is made now (so the checkout is that commit).
    fn prepare(&mut self, kind: RunKind) -> Prepared {
        match kind {
            RunKind::Event { artifact: a } if self.model[a].life == Life::Linked => {
                let home = self.home(a);
                let milestone = self.milestone_json(home, self.numbers[a]).unwrap();
                let title = milestone["title"].clone();
                let (event, payload) = self.milestone_run(home, "edited", milestone, json!({"title": {"from": title}}));
                let evidence = BTreeMap::from([(a, Evidence::Event(BTreeSet::from([Field::Title])))]);
                (event, payload, evidence, Scope::Only(home))
            }
            RunKind::Readme => {
                let old = git(&self.repo.bare(), &["show", "main:README.md"]);
                let payload = self.repo.push_outside(&format!("{old}More.\n"));
                ("push", payload, BTreeMap::new(), Scope::Everything)
            }
            _ => ("workflow_dispatch", "{}".to_string(), BTreeMap::new(), Scope::Everything),
        }
    }

    fn play(&mut self, i: usize, op: &Op) -> Step {
        match *op {
            Op::Local { artifact: a, change, trigger } => {
                let f = change.field;
                let old = self.at_head(a).unwrap();
                let current = self.model[a].local[f as usize];
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
                    return Err(fail(self, format!("op {i}: {edit:?} does not change {}", self.path(a))));
                }
                let slot = &mut self.model[a].local[f as usize];
                let changed = *slot != edit.value();
                *slot = edit.value();
                self.note(format!("op {i}: {op:?}: {} {f:?} ← {} in the file", id(a), show(a, f, edit.value())));
                let pushed = if changed { BTreeSet::from([f]) } else { BTreeSet::new() };
                self.push_and_run(i, a, &new, pushed, trigger)
            }
            Op::DropBase { artifact: a, trigger } => {
                let old = self.at_head(a).unwrap();
                let Some(new) = replace_line(&old, "milestone_sync_base = ", None) else {
                    self.note(format!("op {i}: {op:?}: {} has no base line; skipped", self.path(a)));
                    return Ok(());
                };
                self.model[a].file_rec = None;
                self.note(format!("op {i}: {op:?}: {} loses the file's record of the base", id(a)));
                self.push_and_run(i, a, &new, BTreeSet::new(), trigger)
            }
            Op::DropRecord { artifact: a } => {
                if self.model[a].life != Life::Linked || self.model[a].milestone_rec.is_none() {
                    self.note(format!("op {i}: {op:?}: nothing to drop; skipped"));
                    return Ok(());
                }
                self.gh(self.home(a)).edit_milestone(self.numbers[a], |m| {
                    let kept: Vec<&str> = m
                        .description
                        .as_deref()
                        .unwrap_or_default()
                        .split('\n')
                        .filter(|l| !l.starts_with("<!-- milestone-sync base "))
                        .collect();
                    m.description = Some(kept.join("\n"));
                });
                self.model[a].milestone_rec = None;
                self.note(format!("op {i}: {op:?}: {}'s milestone loses its record of the base", id(a)));
                self.check(&format!("op {i}"))
            }
            Op::Github { artifact: a, change, trigger } => {
                if self.model[a].life != Life::Linked {
                    self.note(format!("op {i}: {op:?}: {} has no milestone; skipped", id(a)));
                    return Ok(());
                }
                let f = change.field;
                let v = change.from(self.model[a].github[f as usize], value_count(f));
                let edit = match f {
                    Field::Title => Edit::Title(v),
                    Field::Description => Edit::Description(v),
                    Field::State => Edit::Status(if v == 1 { 2 } else { 0 }),
                    Field::Due => Edit::Due(v),
                };
                let (home, number) = (self.home(a), self.numbers[a]);
                let before = self.milestone(a).unwrap();
                self.gh(home).edit_milestone(number, |m| match edit {
                    Edit::Title(v) => m.title = title(a, v),
                    Edit::Description(v) => {
                        // Typed in the browser: CRLF line endings, marker lines and the
                        // sync's record kept as the form shows them.
                        let old = m.description.clone().unwrap_or_default();
                        let tail: Vec<&str> =
                            old.split('\n').skip_while(|l| !l.starts_with("IntelliManage-ID:")).collect();
                        let text = format!("{}\n\n{}", description(a, v), tail.join("\n"));
                        m.description = Some(text.replace("\r\n", "\n").replace('\n', "\r\n"));
                    }
                    Edit::Status(_) => m.state = if v == 1 { "closed" } else { "open" }.into(),
                    Edit::Due(v) => m.due_on = DUES[v as usize].map(|d| format!("{d}T12:00:00Z")),
                });
                self.model[a].github[f as usize] = v;
                self.note(format!("op {i}: {op:?}: {} {f:?} ← {} on GitHub", id(a), show(a, f, v)));
                let (action, changes) = match f {
                    Field::Title => ("edited", json!({"title": {"from": before.title}})),
                    Field::Description => ("edited", json!({"description": {"from": before.description}})),
                    Field::Due => ("edited", json!({"due_on": {"from": before.due_on}})),
                    Field::State => (if v == 1 { "closed" } else { "opened" }, json!({})),
                };
                let run = self.milestone_run(home, action, self.milestone_json(home, number).unwrap(), changes);
                let evidence = BTreeMap::from([(a, Evidence::Event(BTreeSet::from([f])))]);
                self.event_and_run(&format!("op {i}: milestone {action}"), run, home, evidence, trigger)
            }
            Op::Delete { artifact: a, trigger } => {
                if self.model[a].life != Life::Linked {
                    self.note(format!("op {i}: {op:?}: {} has no milestone; skipped", id(a)));
                    return Ok(());
                }
                let (home, number) = (self.home(a), self.numbers[a]);
                let gone = self.milestone_json(home, number).unwrap();
                self.gh(home).delete_milestone(number);
                self.model[a].life = Life::Deleted;
                self.note(format!(
                    "op {i}: {op:?}: milestone #{number} of {} deleted on GitHub in {}",
                    id(a),
                    home.full_name()
                ));
                let run = self.milestone_run(home, "deleted", gone, json!({}));
                self.event_and_run(&format!("op {i}: milestone deleted"), run, home, BTreeMap::new(), trigger)
            }
            Op::NewMilestone { trigger } => {
                let k = self.imports.len() + 1;
                let title = format!("Made on GitHub {k}");
                let m = self.repo.standin.seed_milestone(github_standin::SeedMilestone {
                    title: title.clone(),
                    description: Some(format!("Planned in the browser, {k}.")),
                    ..Default::default()
                });
                self.imports.push(Import { number: m.number, title, imported: false });
                self.note(format!("op {i}: {op:?}: milestone #{} made on GitHub", m.number));
                let run = self.milestone_run(
                    Home::Plan,
                    "created",
                    self.milestone_json(Home::Plan, m.number).unwrap(),
                    json!({}),
                );
                self.event_and_run(&format!("op {i}: milestone created"), run, Home::Plan, BTreeMap::new(), trigger)
            }
            Op::Reconcile { pat } => {
                self.note(format!("op {i}: {op:?}"));
                self.repo.pull();
                let head_before = self.repo.head();
                let effects = self.run_and_apply(
                    &format!("op {i}: workflow_dispatch"),
                    "workflow_dispatch",
                    "{}",
                    &BTreeMap::new(),
                    Scope::Everything,
                )?;
                if pat {
                    self.follow_own_commits(head_before, effects)?;
                }
                Ok(())
            }
            Op::Stale { kind } => {
                // The checkout a queued run gets: the commit before the sync's own latest ones.
                self.repo.pull();
                let log = git(&self.repo.bare(), &["log", "--format=%H %s", "main"]);
                let stale = log
                    .lines()
                    .find(|l| !l.split_once(' ').is_some_and(|(_, s)| s.starts_with("milestone-sync:")))
                    .and_then(|l| l.split(' ').next())
                    .unwrap()
                    .to_string();
                let kind = if kind == RunKind::Readme { RunKind::Reconcile } else { kind };
                let (event, payload, evidence, scope) = self.prepare(kind);
                git(&self.repo.workspace(), &["reset", "-q", "--hard", &stale]);
                self.note(format!("op {i}: {op:?} from {stale} (head {})", self.repo.head()));
                self.run_and_apply(&format!("op {i}: stale {event} run"), event, &payload, &evidence, scope)?;
                Ok(())
            }
            Op::TwoRuns { first, second } => {
                self.repo.pull();
                let (event, payload, evidence, scope) = self.prepare(first);
                self.repo.pull();
                let checkout = git(&self.repo.workspace(), &["rev-parse", "HEAD"]);
                self.note(format!("op {i}: {op:?} from {checkout}"));
                self.run_and_apply(&format!("op {i}: first of two {event} runs"), event, &payload, &evidence, scope)?;
                let (event, payload, evidence, scope) = match second {
                    RunKind::Readme if first == RunKind::Readme => (event, payload, evidence, scope), // a re-run
                    RunKind::Readme => ("workflow_dispatch", "{}".to_string(), BTreeMap::new(), Scope::Everything),
                    kind => self.prepare(kind),
                };
                git(&self.repo.workspace(), &["reset", "-q", "--hard", &checkout]);
                self.run_and_apply(
                    &format!("op {i}: second {event} run from the same checkout"),
                    event,
                    &payload,
                    &evidence,
                    scope,
                )?;
                Ok(())
            }
        }
    }

    /// The end: one run of the case's last trigger (and when that is a milestone event, which
    /// syncs its own repository's projects only, the schedule that syncs the others), then
    /// convergence and a reconcile that writes nothing.
    fn finish(&mut self, last: RunKind) -> Step {
        self.repo.pull();
        let (event, payload, evidence, scope) = self.prepare(last);
        self.repo.pull();
        self.run_and_apply(&format!("last run ({event})"), event, &payload, &evidence, scope)?;
        if self.homes().any(|h| !scope.covers(h)) {
            self.repo.pull();
            let schedule = json!({"schedule": "17 * * * *"}).to_string();
            self.run_and_apply(
                "the schedule after the last run",
                "schedule",
                &schedule,
                &BTreeMap::new(),
                Scope::Everything,
            )?;
        }
        for (a, m) in self.model.iter().enumerate() {
            if m.life != Life::Linked {
                continue;
            }
            for f in FIELDS {
                let converged = m.local[f as usize] == m.github[f as usize];
                let flagged = m.flagged.contains(&f);
                let ok = match self.policy {
                    Policy::ManualFlag => converged != flagged,
                    _ => converged && !flagged,
                };
                if !ok {
                    return Err(fail(
                        self,
                        format!(
                            "after the last run, {} {f:?} is {} and {} (policy {})\n{}",
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
        if self.imports.iter().any(|i| !i.imported) || self.model.iter().any(|m| m.life == Life::Deleted) {
            return Err(fail(self, format!("after the last run, work is left:\n{}", self.state_line())));
        }
        // `check` (run by `run_and_apply`) compared these model values with the real sides.
        self.repo.pull();
        let head = self.repo.head();
        for h in self.homes() {
            self.gh(h).clear_requests();
        }
        let run = self.repo.run("workflow_dispatch", "{}", &self.inputs());
        self.log("reconcile after the last run (must write nothing)", &run);
        let writes: Vec<_> = self.homes().flat_map(|h| self.gh(h).writes()).collect();
        if run.code() != 0 || !writes.is_empty() || self.repo.head() != head {
            return Err(fail(
                self,
                format!(
                    "the reconcile after the last run wrote: exit {}, {writes:?}, head moved: {}",
                    run.code(),
                    self.repo.head() != head
                ),
            ));
        }
        Ok(())
    }
}

fn check_case(case: &Case) -> Step {
    let mut world = World::new(case.policy, case.artifacts, case.two_repositories)?;
    world.note(format!("case: {case:?}"));
    for (i, op) in case.ops.iter().enumerate() {
        world.play(i, op)?;
    }
    world.finish(case.last)
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

    /// Random edits on both sides, deletions and new milestones, and runs that happen, are
    /// cancelled, start from a stale checkout or twice from one: every run converges, nothing
    /// is duplicated, deleted or reverted that the rules keep, and no ID is shared.
    #[test]
    fn two_way_sync_follows_the_model(case in case_strategy()) {
        check_case(&case)?;
    }
}

/// The model itself, on the rules' table (no binary): a quick guard for the oracle.
#[test]
fn the_model_applies_the_table() {
    let fresh = || ArtifactModel::synced([0; 4]);
    let mut m = fresh();
    m.local[Field::Title as usize] = 1; // file only
    m.github[Field::Description as usize] = 1; // GitHub only
    m.local[Field::State as usize] = 1; // file only
    m.local[Field::Due as usize] = 1; // both, to different values
    m.github[Field::Due as usize] = 2;
    let mut lm = m.clone();
    let e = model_reconcile(&mut lm, &Evidence::Full, Policy::ManualFlag, None);
    assert_eq!(e.to_github, BTreeSet::from([Field::Title, Field::State]));
    assert_eq!(e.to_file, BTreeSet::from([Field::Description]));
    assert_eq!(lm.flagged, BTreeSet::from([Field::Due]));
    assert!(e.patched && e.file_changed);
    // The file's record takes the new base, the flagged field's as it was; the milestone's
    // keeps the old base of the field the file took from GitHub, one generation older.
    let (file, milestone) = (lm.file_rec.unwrap(), lm.milestone_rec.unwrap());
    assert_eq!(file.values, [Some(1), Some(1), Some(1), Some(0)]);
    assert_eq!(milestone.values, [Some(1), Some(0), Some(1), Some(0)]);
    assert_eq!((milestone.generation, file.generation, milestone.file_generation), (2, 3, Some(3)));
    assert_eq!(lm.base(), Some(&file));
    // An event run converges every field too: the file's edits go to GitHub.
    let mut em = m.clone();
    let e = model_reconcile(&mut em, &Evidence::Event(BTreeSet::from([Field::Due])), Policy::PreferLocal, None);
    assert_eq!(e.to_github, BTreeSet::from([Field::Title, Field::State, Field::Due]));
    // A push that changes a field writes the milestone, whose record then holds the base:
    // no commit.
    let mut pm = fresh();
    pm.local[Field::Title as usize] = 2;
    let e = model_reconcile(&mut pm, &Evidence::Push(BTreeSet::from([Field::Title])), Policy::PreferLocal, None);
    assert!(e.patched && !e.file_changed, "{e:?}");
    assert_eq!(pm.base().unwrap().values[Field::Title as usize], Some(2));
    // A later GitHub-only edit of that field is not a conflict: the milestone's record says
    // the file's value is the base.
    pm.github[Field::Title as usize] = 1;
    let e = model_reconcile(&mut pm, &Evidence::Full, Policy::PreferLocal, None);
    assert_eq!(e.to_file, BTreeSet::from([Field::Title]), "never reverted");
    // Both sides changed to one value: the milestone's record alone is rewritten.
    let mut sm = fresh();
    sm.local[Field::Due as usize] = 3;
    sm.github[Field::Due as usize] = 3;
    let e = model_reconcile(&mut sm, &Evidence::Full, Policy::PreferLocal, None);
    assert!(e.patched && !e.file_changed && e.to_github.is_empty() && e.to_file.is_empty(), "{e:?}");
    // No record at all and equal values: nothing is written.
    let mut nm = fresh();
    nm.file_rec = None;
    nm.milestone_rec = None;
    assert_eq!(model_reconcile(&mut nm, &Evidence::Full, Policy::PreferLocal, None), Effect::default());
    // A deleted milestone is recorded once, then left alone.
    let mut dm = fresh();
    dm.life = Life::Deleted;
    assert!(model_reconcile(&mut dm, &Evidence::Full, Policy::PreferLocal, None).file_changed);
    assert_eq!(model_reconcile(&mut dm, &Evidence::Full, Policy::PreferLocal, None), Effect::default());
}

/// The same checks on fixed sequences, so that every run meets what the random cases may
/// not draw, under each policy: a conflict met in a milestone event's run, in a push run and
/// in a reconcile with a PAT (whose own commit comes back as a push); a pushed revert; a file
/// without its record of the base; a queued event run from a stale checkout; two runs from one
/// checkout; a milestone deleted and a new one made on GitHub, their runs cancelled. Each in
/// one repository, and again with `EPIC-002` in `acme/api` (its events then forwarded by
/// `repository_dispatch`, its deletion too).
#[test]
fn every_policy_converges_in_every_kind_of_run() {
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
        // The file's record gone: the milestone's still holds the base.
        Op::DropBase { artifact: 1, trigger: Trigger::Missed },
        github(1, State, 1, Trigger::Missed),
        Op::Reconcile { pat: false },
        // A queued event run starting from before the sync's commit.
        github(0, Due, 1, Trigger::Run),
        github(1, Description, 1, Trigger::Missed),
        Op::Stale { kind: RunKind::Event { artifact: 1 } },
        // Two runs from one checkout.
        local(0, State, 2, Trigger::Missed),
        github(1, Due, 2, Trigger::Missed),
        Op::TwoRuns { first: RunKind::Reconcile, second: RunKind::Event { artifact: 0 } },
        // A deletion and a new milestone, their runs cancelled: the next push run does both.
        Op::Delete { artifact: 1, trigger: Trigger::Missed },
        Op::NewMilestone { trigger: Trigger::Missed },
        local(0, Title, 1, Trigger::Run),
    ];
    for two_repositories in [false, true] {
        for policy in [Policy::PreferLocal, Policy::PreferGithub, Policy::ManualFlag, Policy::LastUpdateWins] {
            let case = Case { policy, artifacts: 2, two_repositories, ops: ops.clone(), last: RunKind::Readme };
            if let Err(e) = check_case(&case) {
                panic!("{case:?}\n{e}");
            }
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
    let (values, flagged, number) = read_file(0, Home::Plan, &synced).unwrap();
    assert_eq!((values, number), (Observed([1, 2, 0, 0]), Some(7)));
    assert_eq!(flagged, BTreeSet::from([Field::Title, Field::Due]));
    let damaged = synced.replace("*   - [ ] It works.", "*   - [ ] It works");
    assert_ne!(skeleton(&damaged), skeleton(&original), "any other byte counts");
    let comment_lost = synced.replace(" # Use current date", "");
    assert_ne!(skeleton(&comment_lost), skeleton(&original), "updated_date keeps its comment");
    let text = "Text\r\n\r\nIntelliManage-ID: EPIC-001\r\nIntelliManage-Project: demo\r\n<!-- milestone-sync base v1 gen=2 -->";
    assert_eq!(synced_text(&text.replace("\r\n", "\n")), "Text", "the record is not text");
}
