//! The three-way merge of one linked artifact and its milestone against the stored sync base
//! (see [`crate::base`]): per field, who changed it since the last sync, and so which side
//! is written.
//!
//! | file vs base | GitHub vs base | result |
//! | --- | --- | --- |
//! | equal to GitHub | | nothing to write; the base records the value |
//! | changed | unchanged | the file's value goes to GitHub |
//! | unchanged | changed | GitHub's value goes to the file |
//! | changed | changed (to another value) | a conflict, settled by the policy |
//!
//! Besides the base, a run may know more: a push knows which fields it changed in the file,
//! a milestone event which fields changed on GitHub ([`Evidence`]). That knowledge counts as
//! a change even where the base says otherwise (a push may rewrite the base line too, e.g. a
//! revert). Without a base (a link made by hand, a first adoption, both records deleted), a
//! run cannot tell who changed a field its trigger does not name, so every such difference is
//! a conflict for the policy.
//!
//! The base is the newer of two records (see [`crate::base`]): the milestone's, rewritten
//! with every write of the milestone, and the file's, rewritten only when the file is written
//! anyway. A pair whose values agree but whose base is out of date gets its record rewritten
//! on the milestone alone (one request, no commit); a pair with no record at all and equal
//! values is left as it is.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::artifact::{Artifact, DueKey, FieldEdit, is_closed_status, keys, section_text};
use crate::base::{self, SyncBase, Values, fingerprint};
use crate::diagnostic::{Diagnostic, Level};
use crate::due_date;
use crate::link;
use crate::milestone::{Milestone, MilestonePatch, MilestoneState};
use crate::policy::ConflictResolution;
use crate::project::Project;
use crate::project::ProjectConfig;

use super::{Field, Options, Touch};
use crate::policy::Direction;

/// What a run knows of who changed which fields, besides the base.
#[derive(Debug, Clone, Copy)]
pub enum Evidence<'t> {
    /// A full reconcile (or a first adoption): only the base tells.
    Full,
    /// A push: `Touch::Fields` are the fields it changed in the file; `Touch::Whole` means
    /// its history could not tell.
    Push(&'t Touch),
    /// A milestone event: the fields that changed on GitHub.
    Event(&'t BTreeSet<Field>),
}

/// How a conflict was settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The file's value was written to GitHub.
    Local,
    /// GitHub's value was written to the file.
    Github,
    /// `manual_flag`: neither side written; the artifact carries `sync_conflict`.
    Flagged,
    /// The policy picked a side the run's `direction` may not write; nothing written.
    Held,
}

impl Resolution {
    /// How the summary and the log say it.
    pub fn describe(self) -> &'static str {
        match self {
            Resolution::Local => "the file's value kept (sent to GitHub)",
            Resolution::Github => "GitHub's value kept (written to the file)",
            Resolution::Flagged => {
                "flagged: neither value was written (the file is marked `sync_conflict`); make both sides equal to resolve"
            }
            Resolution::Held => "not written: the run's `direction` excludes the winning side",
        }
    }
}

/// A field changed on both sides since the last sync, to different values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    pub field: Field,
    /// The file's value, as a person reads it.
    pub local: String,
    /// GitHub's value, as a person reads it.
    pub github: String,
    pub resolution: Resolution,
}

/// The side a value is written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Github,
    File,
}

/// One synced value a change writes, as a person reads it: the summary's `old → new`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValueChange {
    pub field: Field,
    /// Where the new value is written.
    pub to_side: Side,
    /// The value it replaces there (a description shortened to 200 characters).
    pub from: String,
    pub to: String,
    /// For a description: the lines added and removed (compared as the sync compares them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<(usize, usize)>,
}

impl ValueChange {
    fn of(field: Field, to_side: Side, old: &Values, new: &Values) -> ValueChange {
        let lines = (field == Field::Description).then(|| {
            let (a, b): (Vec<&str>, Vec<&str>) = (old.description.lines().collect(), new.description.lines().collect());
            let mut counts = (0, 0);
            for op in similar::capture_diff_slices(similar::Algorithm::Myers, &a, &b) {
                let (tag, o, n) = op.as_tag_tuple();
                if tag != similar::DiffTag::Equal {
                    counts.0 += n.len();
                    counts.1 += o.len();
                }
            }
            counts
        });
        ValueChange { field, to_side, from: shown(field, old), to: shown(field, new), lines }
    }
}

/// What [`reconcile`] decided for one artifact and its milestone.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reconciled {
    /// Fields to send to GitHub (and the marker lines when they are missing or wrong).
    pub patch: MilestonePatch,
    /// File edits: values taken from GitHub, `updated_date`, the conflict flag, the base.
    pub file_edits: Vec<FieldEdit>,
    /// The synced fields the file takes from GitHub, by name.
    pub file_fields: Vec<String>,
    /// Each value written, on either side, as a person reads it (old → new).
    pub values: Vec<ValueChange>,
    pub conflicts: Vec<Conflict>,
    /// One annotation per conflict, at the field's line: a warning when flagged or held, a
    /// notice when the policy settled it.
    pub diagnostics: Vec<Diagnostic>,
    /// `last_update_wins` settled a conflict without the file's time (a checkout without
    /// history): the shell may learn it from GitHub and plan again.
    pub needs_time: bool,
    /// The synced fields sent to GitHub.
    pub sent: Vec<Field>,
    /// The milestone's record says the sync committed a newer version of this file than the
    /// one planned on (see [`crate::base::Staleness`]).
    pub behind: bool,
    /// The milestone's new record, to send once the commit carrying the file's has landed
    /// (when the run writes the file but not the milestone).
    pub after_commit: Option<MilestonePatch>,
}

impl Reconciled {
    pub fn is_empty(&self) -> bool {
        self.patch.is_empty() && self.file_edits.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Winner {
    Local,
    Github,
    Flag,
    /// Nothing to write (no evidence either way, or the direction forbids the side).
    Neither,
}

/// The three-way merge of `a` and `m` (see the module documentation). Only the sides
/// `options.direction` allows are written; the marker lines are put right whenever GitHub
/// may be written. `links_file`: the run writes the link into the file (an adoption), so
/// the file's record of the base can go with it.
pub fn reconcile(
    project: &Project,
    a: &Artifact,
    m: &Milestone,
    evidence: Evidence<'_>,
    options: &Options,
    links_file: bool,
) -> Reconciled {
    let local = local_values(project, a);
    let remote = remote_values(m);
    let file_record = a.base.as_deref().map(SyncBase::parse);
    let milestone_record = link::record(m.description.as_deref().unwrap_or_default());
    let base = base::newer(file_record.as_ref(), milestone_record.as_ref()).cloned().unwrap_or_default();
    let policy = options.policy.unwrap_or(project.config.conflict_resolution);
    let mut new_base = base.clone();
    let mut out = Reconciled::default();
    let mut to_github = Vec::new();
    let mut to_file = Vec::new();
    for field in Field::ALL {
        // A date key holding a placeholder or a typo gives `due = None` with a warning; it
        // must neither clear a real date on GitHub nor be overwritten silently.
        if field == Field::DueOn && (!project.config.sync_due_date || (a.due.is_none() && a.due_key.is_some())) {
            continue;
        }
        let (l, g, b) = (comparable(field, &local), comparable(field, &remote), base_of(field, &base));
        if l == g {
            set_base(field, &mut new_base, &local);
            continue;
        }
        let (local_changed, github_changed) = changed(field, b.as_deref(), &l, &g, evidence);
        let winner = match (local_changed, github_changed) {
            (true, false) => Winner::Local,
            (false, true) => Winner::Github,
            (true, true) => {
                out.needs_time |=
                    policy == ConflictResolution::LastUpdateWins && !options.local_times.contains_key(&a.path);
                settle(policy, a, m, options)
            }
            (false, false) => Winner::Neither,
        };
        let allowed = match (winner, options.direction) {
            (Winner::Local, Direction::FromGithub) | (Winner::Github, Direction::ToGithub) => Winner::Neither,
            (w, _) => w,
        };
        if local_changed && github_changed {
            let conflict = Conflict {
                field,
                local: shown(field, &local),
                github: shown(field, &remote),
                resolution: match (allowed, winner) {
                    (Winner::Local, _) => Resolution::Local,
                    (Winner::Github, _) => Resolution::Github,
                    (_, Winner::Flag) => Resolution::Flagged,
                    _ => Resolution::Held,
                },
            };
            out.diagnostics.push(conflict_diagnostic(a, m, &conflict, policy));
            out.conflicts.push(conflict);
        }
        match allowed {
            Winner::Local => {
                to_github.push(field);
                set_base(field, &mut new_base, &local);
            }
            Winner::Github => {
                to_file.push(field);
                set_base(field, &mut new_base, &remote);
            }
            Winner::Flag | Winner::Neither => {}
        }
    }
    if options.direction != Direction::FromGithub {
        out.patch = patch_for(project, a, m, &to_github);
        out.values.extend(to_github.iter().map(|f| ValueChange::of(*f, Side::Github, &remote, &local)));
        out.sent = to_github;
    }
    let (edits, names) = file_edits_for(project, a, m, &to_file, options);
    out.values.extend(
        to_file
            .iter()
            .filter(|f| names.iter().any(|n| n == field_name(**f)))
            .map(|f| ValueChange::of(*f, Side::File, &local, &remote)),
    );
    out.file_edits = edits;
    out.file_fields = names;
    if !out.file_edits.is_empty()
        && let Some(today) = options.today
    {
        out.file_edits
            .push(FieldEdit::SetString { key: keys::UPDATED_DATE.into(), value: today.format("%Y-%m-%d").to_string() });
    }
    if options.direction != Direction::ToGithub || !out.patch.is_empty() {
        let flagged: Vec<&str> =
            out.conflicts.iter().filter(|c| c.resolution == Resolution::Flagged).map(|c| field_name(c.field)).collect();
        let flag = flagged.join(", ");
        if !flagged.is_empty() && a.conflict.as_deref() != Some(flag.as_str()) {
            out.file_edits.push(FieldEdit::SetString { key: base::CONFLICT_KEY.into(), value: flag });
        } else if flagged.is_empty() && a.conflict.is_some() {
            out.file_edits.push(FieldEdit::Remove { key: base::CONFLICT_KEY.into() });
        }
    }
    record(
        &mut out,
        m,
        file_record.as_ref(),
        milestone_record.as_ref(),
        &base,
        new_base,
        &to_file,
        links_file,
        options,
    );
    out.behind = base::Staleness::of(file_record.as_ref(), milestone_record.as_ref()) == base::Staleness::Behind;
    out
}

/// Writes the new base where the run writes anyway: into the milestone's record with a
/// milestone write, into the file's record with a file write, and into both with both.
/// When both sides already agree but the base is out of date (both sides changed a field to
/// the same value), the milestone's record alone is rewritten: one request, no commit. A
/// pair with no record at all is only recorded along with another write.
///
/// The milestone is written before the commit, and the commit may not land on the branch (it
/// is refused, or goes to a pull request first): so the milestone's record keeps the old
/// base of the fields the file takes from GitHub, and the file's record, one generation
/// newer, carries their new base once the commit lands.
#[allow(clippy::too_many_arguments)]
fn record(
    out: &mut Reconciled,
    m: &Milestone,
    file_record: Option<&SyncBase>,
    milestone_record: Option<&SyncBase>,
    base: &SyncBase,
    new_base: SyncBase,
    to_file: &[Field],
    links_file: bool,
    options: &Options,
) {
    let writes_file = links_file || !out.file_edits.is_empty();
    let writes_milestone = !out.patch.is_empty();
    let known = file_record.is_some() || milestone_record.is_some();
    let outdated = known && !new_base.same_values(base);
    // A new base is a new generation; the same base written again (into the other record,
    // or with the marker lines) keeps its generation, so that a run that only catches one
    // record up with the other (a link committed after a lost answer) writes the same bytes
    // as the run that was lost would have.
    let newest = file_record.map_or(0, |r| r.generation).max(milestone_record.map_or(0, |r| r.generation));
    let generation = if known && !outdated { newest } else { newest + 1 };
    let mut before_commit = new_base.clone();
    for field in to_file {
        copy_base(*field, &mut before_commit, base);
    }
    let file_generation =
        if writes_milestone && !before_commit.same_values(&new_base) { generation + 1 } else { generation };
    let seen = file_record.map_or(0, |r| r.generation);
    let record_only = !writes_file && !writes_milestone && outdated && options.direction != Direction::FromGithub;
    if writes_milestone || record_only {
        // Which file generation the sync wrote, for a run from an older checkout to tell it is
        // behind; a pull request's commit is not on the branch until it is merged.
        let named = if writes_file && !options.to_pull_request { file_generation } else { seen };
        let on_milestone = SyncBase { generation, file_generation: Some(named), ..before_commit };
        let description = out.patch.description.take().unwrap_or_else(|| m.description.clone().unwrap_or_default());
        out.patch.description = Some(link::with_record(&description, &on_milestone));
    }
    // A file write without a milestone write: once the commit has landed on the branch, the
    // milestone's record says which generation of the file the sync wrote, so that a run
    // started from an older checkout (queued while this one ran) can tell, and reads the
    // branch head.
    let after = SyncBase { generation: file_generation, file_generation: Some(file_generation), ..new_base.clone() };
    if writes_file
        && !writes_milestone
        && !options.to_pull_request
        && options.direction != Direction::FromGithub
        && milestone_record != Some(&after)
    {
        let description = link::with_record(m.description.as_deref().unwrap_or_default(), &after);
        out.after_commit = Some(MilestonePatch { description: Some(description), ..MilestonePatch::default() });
    }
    let in_file = SyncBase { generation: file_generation, file_generation: None, ..new_base };
    if writes_file && file_record != Some(&in_file) {
        out.file_edits.push(base_edit(&in_file));
    }
}

/// Sets `field` of `to` to its value in `from` (known or not).
fn copy_base(field: Field, to: &mut SyncBase, from: &SyncBase) {
    match field {
        Field::Title => to.title = from.title.clone(),
        Field::Description => to.description = from.description.clone(),
        Field::State => to.closed = from.closed,
        Field::DueOn => to.due = from.due,
    }
}

/// The annotation for a conflict, at the line of the field in the file.
fn conflict_diagnostic(a: &Artifact, m: &Milestone, c: &Conflict, policy: ConflictResolution) -> Diagnostic {
    let line = field_line(a, c.field);
    let message = format!(
        "{}: {} changed in the file ({:?}) and on milestone #{} ({:?}) since the last sync; {}: {}",
        a.id,
        field_name(c.field),
        c.local,
        m.number,
        c.github,
        policy.as_str(),
        c.resolution.describe()
    );
    match c.resolution {
        Resolution::Flagged | Resolution::Held => Diagnostic::warning(&a.path, line, message),
        Resolution::Local | Resolution::Github => {
            Diagnostic { level: Level::Notice, file: Some(a.path.clone()), line, message }
        }
    }
}

/// The line of the file that holds `field`: its key's line, or the body's first line for the
/// description (`None` for a due date without a key).
pub fn field_line(a: &Artifact, field: Field) -> Option<usize> {
    match field {
        Field::Title => a.key_lines.get(keys::TITLE).copied(),
        Field::Description => Some(a.body_line),
        Field::State => a.key_lines.get(keys::STATUS).copied(),
        Field::DueOn => a.due_key.and_then(|k| a.key_lines.get(k.key()).copied()),
    }
}

/// Whether the file and GitHub changed `field` since the last sync, from the base and what
/// the run knows. Without a base, a field the trigger names changed on its side only; any
/// other field that differs could have changed on either, so it is a conflict for the policy
/// (as in a reconcile): every run converges every field, whatever its trigger.
fn changed(field: Field, b: Option<&str>, l: &str, g: &str, evidence: Evidence<'_>) -> (bool, bool) {
    let pushed = matches!(evidence, Evidence::Push(Touch::Fields(set)) if set.contains(&field));
    let evented = matches!(evidence, Evidence::Event(set) if set.contains(&field));
    match b {
        Some(b) => (l != b || pushed, g != b || evented),
        None if pushed => (true, false),
        None if evented => (false, true),
        None => (true, true),
    }
}

/// Who wins a conflict under `policy`. `last_update_wins` compares the commit time of the
/// file's last change with the milestone's `updated_at`; the file wins ties and when its
/// time is unknown, because the repository is the plan of record.
fn settle(policy: ConflictResolution, a: &Artifact, m: &Milestone, options: &Options) -> Winner {
    match policy {
        ConflictResolution::PreferLocal => Winner::Local,
        ConflictResolution::PreferGithub => Winner::Github,
        ConflictResolution::ManualFlag => Winner::Flag,
        ConflictResolution::LastUpdateWins => match options.local_times.get(&a.path) {
            Some(local) if *local < m.updated_at => Winner::Github,
            _ => Winner::Local,
        },
    }
}

/// The artifact's synced values.
pub fn local_values(project: &Project, a: &Artifact) -> Values {
    Values {
        title: a.title.clone(),
        description: section_text(&a.description),
        closed: is_closed_status(&a.status),
        due: if project.config.sync_due_date { a.due } else { None },
    }
}

/// The milestone's synced values.
pub fn remote_values(m: &Milestone) -> Values {
    Values {
        title: m.title.clone(),
        description: section_text(&link::synced_text(m.description.as_deref().unwrap_or_default())),
        closed: m.state == MilestoneState::Closed,
        due: m.due_on.map(due_date::from_github),
    }
}

/// A field's value in the form the base stores it.
fn comparable(field: Field, v: &Values) -> String {
    match field {
        Field::Title => fingerprint(&v.title),
        Field::Description => fingerprint(&v.description),
        Field::State => if v.closed { "closed" } else { "open" }.into(),
        Field::DueOn => v.due.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_else(|| "none".into()),
    }
}

fn base_of(field: Field, b: &SyncBase) -> Option<String> {
    match field {
        Field::Title => b.title.clone(),
        Field::Description => b.description.clone(),
        Field::State => b.closed.map(|c| if c { "closed" } else { "open" }.to_string()),
        Field::DueOn => b.due.map(|d| d.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_else(|| "none".into())),
    }
}

fn set_base(field: Field, b: &mut SyncBase, v: &Values) {
    match field {
        Field::Title => b.title = Some(fingerprint(&v.title)),
        Field::Description => b.description = Some(fingerprint(&v.description)),
        Field::State => b.closed = Some(v.closed),
        Field::DueOn => b.due = Some(v.due),
    }
}

/// A field's value as a person reads it, for conflict reports (long texts shortened).
fn shown(field: Field, v: &Values) -> String {
    match field {
        Field::Title => v.title.clone(),
        Field::Description if v.description.chars().count() > 200 => {
            format!("{}…", v.description.chars().take(200).collect::<String>())
        }
        Field::Description => v.description.clone(),
        Field::State => if v.closed { "closed" } else { "open" }.into(),
        Field::DueOn => v.due.map(|d| d.to_string()).unwrap_or_else(|| "no due date".into()),
    }
}

/// The name of a field in the front matter's terms.
pub fn field_name(field: Field) -> &'static str {
    match field {
        Field::Title => "title",
        Field::Description => "description",
        Field::State => "state",
        Field::DueOn => "due_on",
    }
}

/// The edit that stores `base`.
pub fn base_edit(base: &SyncBase) -> FieldEdit {
    FieldEdit::SetString { key: base::KEY.into(), value: base.format() }
}

/// The first record of a pair just made from `a`: its own values, generation 1 (a
/// milestone created from the file, committed with the link).
pub fn first_record(project: &Project, a: &Artifact) -> SyncBase {
    SyncBase { generation: 1, ..SyncBase::of(&local_values(project, a)) }
}

/// The edit that stores [`first_record`] in the file.
pub fn base_of_file(project: &Project, a: &Artifact) -> FieldEdit {
    base_edit(&first_record(project, a))
}

/// The milestone patch that makes `m` show `a`'s values for `fields`, plus the marker lines
/// whenever they are missing or wrong (they are the link contract).
fn patch_for(project: &Project, a: &Artifact, m: &Milestone, fields: &[Field]) -> MilestonePatch {
    let mut patch = MilestonePatch::default();
    for field in fields {
        match field {
            Field::Title => patch.title = Some(a.title.clone()),
            Field::Description => {
                patch.description = Some(link::compose_description(&a.description, &a.id, &project.slug))
            }
            Field::State => patch.state = Some(super::desired_state(a)),
            Field::DueOn => patch.due_on = Some(a.due),
        }
    }
    let current = m.description.as_deref().unwrap_or_default();
    let marker_ok =
        link::marker(current).is_some_and(|mk| mk.id == a.id && mk.project.as_deref() == Some(project.slug.as_str()));
    if patch.description.is_none() && !marker_ok {
        patch.description = Some(link::compose_description(&link::synced_text(current), &a.id, &project.slug));
    }
    patch
}

/// The file edits that make `a` show `m`'s values for `fields`, and their names.
fn file_edits_for(
    project: &Project,
    a: &Artifact,
    m: &Milestone,
    fields: &[Field],
    options: &Options,
) -> (Vec<FieldEdit>, Vec<String>) {
    let remote = remote_values(m);
    let mut edits = Vec::new();
    let mut names = Vec::new();
    for field in fields {
        match field {
            Field::Title => edits.push(FieldEdit::SetString { key: keys::TITLE.into(), value: remote.title.clone() }),
            Field::Description => edits
                .push(FieldEdit::SetDescription(link::text_as_written(m.description.as_deref().unwrap_or_default()))),
            Field::State => {
                let status = if remote.closed {
                    options.closed_status.clone().unwrap_or_else(|| project.config.closed_status.clone())
                } else {
                    options.reopened_status.clone().unwrap_or_else(|| project.config.reopened_status.clone())
                };
                edits.push(FieldEdit::SetString { key: keys::STATUS.into(), value: status });
            }
            Field::DueOn => match remote.due {
                Some(date) => {
                    let key = a.due_key.unwrap_or(default_due_key(&project.config)).key();
                    edits.push(FieldEdit::SetString { key: key.into(), value: date.format("%Y-%m-%d").to_string() });
                }
                None => match a.due_key {
                    Some(key) => edits.push(FieldEdit::Remove { key: key.key().into() }),
                    None => continue,
                },
            },
        }
        names.push(field_name(*field).to_string());
    }
    (edits, names)
}

/// Where a date flowing back goes when the artifact has no date key: Epics get
/// `target_date`, Features `milestone_target_date`.
pub fn default_due_key(config: &ProjectConfig) -> DueKey {
    if config.milestone_kind() == "feature" { DueKey::MilestoneTargetDate } else { DueKey::TargetDate }
}
