//! The planner: a pure function from what was read (projects, milestones, what the run's
//! trigger hints at) to the list of changes to make, on either side. No I/O happens here, so
//! every decision can be tested without a network, and a dry run is just this plan, printed.
//!
//! One planner serves every trigger: a push, a milestone event, a reconcile and a pull
//! request's preview differ only in their [`Scope`] (what they look at, and the hints their
//! trigger adds), never in the rules.

pub mod new_artifact;
pub mod reconcile;
pub mod scope;

use reconcile::Evidence;
pub use reconcile::{Conflict, Resolution, Side, ValueChange, field_name};

pub use scope::{EventHint, Read, Scope, Touch};

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use chrono::{DateTime, NaiveDate, Utc};

use crate::artifact::{Artifact, FieldEdit, is_closed_status, keys, normalize_text};
use crate::base::SyncBase;
use crate::diagnostic::{Diagnostic, Level};
use crate::link::{self, Marker};
use crate::milestone::{Milestone, MilestonePatch, MilestoneState, NewMilestone};
use crate::policy::{ConflictResolution, Direction, OnMilestoneDeleted, OnRemoved};
use crate::project::Project;

/// A synced field of the link contract's field mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Title,
    Description,
    State,
    DueOn,
}

impl Field {
    pub const ALL: [Field; 4] = [Field::Title, Field::Description, Field::State, Field::DueOn];
}

/// Everything the planner needs, read beforehand.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    /// `owner/name`.
    pub repository: &'a str,
    pub projects: &'a [Project],
    /// The milestones read: every milestone of the repository, open and closed, unless
    /// [`Scope::read`] says only some were read.
    pub milestones: &'a [Milestone],
    pub scope: &'a Scope,
    pub options: &'a Options,
}

/// Run-level choices, defaulted for a plain two-way run.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub on_removed: Option<OnRemoved>,
    /// The `conflict-resolution` input; `None` uses each project's `conflict_resolution`.
    pub policy: Option<ConflictResolution>,
    pub direction: Direction,
    /// `closed-status` / `reopened-status` inputs, over the project's keys.
    pub closed_status: Option<String>,
    pub reopened_status: Option<String>,
    /// Commit time of the last commit that changed each artifact (workspace-relative path):
    /// the local side's time for `last_update_wins`.
    pub local_times: BTreeMap<String, DateTime<Utc>>,
    /// `create-artifacts`: a full reconcile imports milestones without an artifact (a
    /// project's `create_artifacts_from_milestones` does the same for that project).
    pub create_artifacts: bool,
    /// Today (UTC), for `updated_date`.
    pub today: Option<NaiveDate>,
    /// `on-milestone-deleted`: what else happens to an artifact whose milestone was deleted
    /// (the deletion itself is always recorded).
    pub on_deleted: Option<OnMilestoneDeleted>,
    /// `commit: pull-request`: file changes reach the branch through a pull request, so a
    /// commit is not on the branch when the run ends (the records of the base say so).
    pub to_pull_request: bool,
}

/// How an existing milestone was found for an artifact without a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AdoptBy {
    /// It carries the artifact's `IntelliManage-ID` marker (e.g. a run that died after
    /// creating it, before committing the link).
    Marker,
    /// It has exactly the artifact's title and no marker (a team's existing milestone).
    Title,
}

/// One change to make.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Create a milestone, then link the artifact to it.
    Create { milestone: NewMilestone },
    /// Link the artifact to an existing milestone, updating the fields in `patch` first.
    Adopt { number: u64, html_url: String, by: AdoptBy, patch: MilestonePatch },
    /// Update the milestone with `patch` (empty when only the file changes) and the file with
    /// the change's `file_edits`.
    Update { number: u64, html_url: String, patch: MilestonePatch },
    /// Close the milestone of a removed artifact.
    CloseRemoved { number: u64, html_url: String },
    /// Delete the milestone of a removed artifact (`on-artifact-removed: delete`).
    DeleteRemoved { number: u64, html_url: String },
    /// The linked milestone was deleted on GitHub: the file records it (`milestone_deleted`)
    /// and keeps its content, so no later run creates the milestone again.
    RecordDeleted { number: u64, html_url: String },
    /// Create an artifact file for a new milestone, then give the milestone its marker.
    CreateFile {
        number: u64,
        html_url: String,
        #[serde(skip)]
        content: String,
        #[serde(skip)]
        marker_patch: MilestonePatch,
    },
}

impl Action {
    /// The page of the milestone the change concerns, when it exists already.
    pub fn milestone_url(&self) -> Option<&str> {
        match self {
            Action::Create { .. } => None,
            Action::Adopt { html_url, .. }
            | Action::Update { html_url, .. }
            | Action::CloseRemoved { html_url, .. }
            | Action::DeleteRemoved { html_url, .. }
            | Action::RecordDeleted { html_url, .. }
            | Action::CreateFile { html_url, .. } => Some(html_url),
        }
    }

    /// The milestone the change concerns, when it exists already.
    pub fn milestone_number(&self) -> Option<u64> {
        match self {
            Action::Create { .. } => None,
            Action::Adopt { number, .. }
            | Action::Update { number, .. }
            | Action::CloseRemoved { number, .. }
            | Action::DeleteRemoved { number, .. }
            | Action::RecordDeleted { number, .. }
            | Action::CreateFile { number, .. } => Some(*number),
        }
    }
}

/// A change and the artifact it is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub project: String,
    /// `owner/name` of the repository that holds the milestone: the project's own
    /// (`repo_owner`/`repo_name`), which need not be the one the plan is kept in.
    pub repository: String,
    pub artifact_id: String,
    pub artifact_title: String,
    /// Workspace-relative path of the artifact (as it was, for a removed one).
    pub path: String,
    #[serde(flatten)]
    pub action: Action,
    /// The synced fields an update sends to GitHub (its patch may also carry the marker lines
    /// and the sync's record of the base, in the description); empty for a creation, which
    /// sends them all.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
    /// File edits to make once the GitHub side of the change succeeded: values flowing from
    /// GitHub, the sync base, the conflict flag. (A new link is added by the executor.)
    #[serde(skip)]
    pub file_edits: Vec<FieldEdit>,
    /// The milestone's record of the base, sent once the commit carrying the file edits has
    /// landed: a run started from an older checkout can then tell it is behind the branch.
    #[serde(skip)]
    pub after_commit: Option<Box<MilestonePatch>>,
    /// The synced fields the file takes from GitHub, by name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub file_fields: Vec<String>,
    /// Each synced value written, on either side, old → new (empty for a creation, whose
    /// values are its milestone's).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<ValueChange>,
    /// The line of the file the change is about (its first changed field, else its title).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The artifact's `start_date`, for the summary's roadmap (never synced).
    #[serde(skip)]
    pub start: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<Conflict>,
}

impl Change {
    /// The artifact's title once the change is made: GitHub's, when the file takes the title
    /// from GitHub; else the file's.
    pub fn title_now(&self) -> &str {
        self.values
            .iter()
            .find(|v| v.field == Field::Title && v.to_side == Side::File)
            .map_or(self.artifact_title.as_str(), |v| v.to.as_str())
    }

    /// Whether applying this change writes `related_milestone` into the file.
    pub fn links_file(&self) -> bool {
        matches!(self.action, Action::Create { .. } | Action::Adopt { .. })
    }

    /// Whether this change leaves the milestone closed where it was open.
    pub fn closes(&self) -> bool {
        match &self.action {
            Action::Update { patch, .. } | Action::Adopt { patch, .. } => patch.state == Some(MilestoneState::Closed),
            Action::CloseRemoved { .. } => true,
            _ => false,
        }
    }

    /// Whether this change opens a closed milestone again.
    pub fn reopens(&self) -> bool {
        matches!(&self.action, Action::Update { patch, .. } | Action::Adopt { patch, .. } if patch.state == Some(MilestoneState::Open))
    }

    /// The synced fields this change sends to GitHub, by name, for logs and the summary.
    pub fn sent_fields(&self) -> Vec<&'static str> {
        self.fields.iter().map(|f| field_name(*f)).collect()
    }

    /// Whether the change writes the milestone only to keep the sync's record of the base
    /// (both sides already agree; no commit is made for it).
    pub fn records_only(&self) -> bool {
        matches!(&self.action, Action::Update { patch, .. } if !patch.is_empty())
            && self.fields.is_empty()
            && self.file_edits.is_empty()
    }
}

/// The planner's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// In the order to apply: removals, updates, adoptions, then creations (so a rename can
    /// free a title before a new milestone takes it).
    pub changes: Vec<Change>,
    /// Problems found while planning; the artifacts concerned have no change in the plan.
    pub diagnostics: Vec<Diagnostic>,
    /// Artifacts in scope whose milestone already matches.
    pub in_sync: usize,
    /// Files whose conflicts `last_update_wins` settled without knowing when the file last
    /// changed (ties go to the file): planning again with their times may settle otherwise.
    #[serde(skip)]
    pub wanted_times: Vec<String>,
    /// Artifacts whose milestone's record of the base says the sync committed a newer version
    /// of the file than the one planned on: the checkout is behind the branch, so the shell
    /// reads the branch head before it writes anything and plans again on it.
    #[serde(skip)]
    pub behind: Vec<String>,
    /// Artifacts left unsynced because their milestone was deleted (`milestone_deleted`).
    pub detached: usize,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Whether the changes are in more than one repository (a plan for several
    /// repositories: the log, the summary and the executor then tell them apart).
    pub fn spans_repositories(&self) -> bool {
        self.changes.iter().any(|c| !c.repository.eq_ignore_ascii_case(&self.changes[0].repository))
    }

    /// Adds another repository's plan to this one: its changes after these (each
    /// repository's in its own order), and its findings and counts.
    pub fn absorb(&mut self, other: Plan) {
        self.changes.extend(other.changes);
        self.diagnostics.extend(other.diagnostics);
        self.in_sync += other.in_sync;
        self.wanted_times.extend(other.wanted_times);
        self.behind.extend(other.behind);
        self.detached += other.detached;
    }
}

/// The fields whose synced value differs between two versions of an artifact.
pub fn changed_fields(old: &Artifact, new: &Artifact) -> BTreeSet<Field> {
    let mut out = BTreeSet::new();
    if old.title != new.title {
        out.insert(Field::Title);
    }
    if normalize_text(&old.description) != normalize_text(&new.description) {
        out.insert(Field::Description);
    }
    if is_closed_status(&old.status) != is_closed_status(&new.status) {
        out.insert(Field::State);
    }
    if (old.due, old.due_key) != (new.due, new.due_key) {
        out.insert(Field::DueOn);
    }
    out
}

/// The checks that need no GitHub, for `milestone-sync check`: what the readers reported
/// (in `projects`' artifacts), two artifacts of one project with one ID, two artifacts
/// linking one milestone of one repository, and links that are not milestone URLs of the
/// repository their project names. Projects on different repositories are checked apart: the
/// same ID or milestone number in two repositories is fine.
pub fn check(projects: &[Project]) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for (repository, group) in by_repository(projects) {
        let group: Vec<Project> = group.into_iter().cloned().collect();
        let scope = Scope::all();
        let input = Input {
            repository: &repository,
            projects: &group,
            milestones: &[],
            scope: &scope,
            options: &Options::default(),
        };
        let mut planner = Planner::new(&input);
        planner.check_duplicate_ids();
        planner.check_shared_links();
        for a in group.iter().flat_map(|p| &p.artifacts) {
            planner.diagnostics.extend(a.warnings.iter().cloned());
            if let Some(url) = &a.link
                && link::milestone_number(url, &repository).is_none()
            {
                planner.diagnostics.push(bad_link(a, url, &repository));
            }
        }
        diagnostics.extend(planner.finish().diagnostics);
    }
    diagnostics
}

/// The projects by the repository each names (`owner/name` as the first project of the
/// group spells it; compared without case), in order of first appearance.
pub fn by_repository(projects: &[Project]) -> Vec<(String, Vec<&Project>)> {
    let mut groups: Vec<(String, Vec<&Project>)> = Vec::new();
    for p in projects {
        match groups.iter_mut().find(|(r, _)| p.config.is_in(r)) {
            Some((_, group)) => group.push(p),
            None => groups.push((p.config.repository(), vec![p])),
        }
    }
    groups
}

fn bad_link(a: &Artifact, url: &str, repository: &str) -> Diagnostic {
    Diagnostic::error(
        &a.path,
        line_of(a, keys::RELATED_MILESTONE),
        format!(
            "`related_milestone = {url:?}` is not a milestone URL of {repository} (https://github.com/{repository}/milestone/N); correct it, or remove the key to create a milestone"
        ),
    )
}

/// Plans a sync of artifacts to milestones, both ways.
pub fn plan(input: &Input<'_>) -> Plan {
    let mut planner = Planner::new(input);
    planner.check_duplicate_ids();
    planner.check_shared_links();
    let scope = input.scope;
    for project in input.projects {
        for artifact in &project.artifacts {
            if let Some(evidence) = planner.in_scope(artifact) {
                planner.plan_artifact(project, artifact, evidence);
            }
        }
    }
    for (slug, old) in &scope.removed {
        planner.plan_removed(slug, old);
    }
    planner.plan_unclaimed_milestones();
    planner.finish()
}

struct Planner<'a> {
    input: &'a Input<'a>,
    by_number: BTreeMap<u64, &'a Milestone>,
    /// Paths of artifacts left out because of an integrity problem.
    skipped: BTreeSet<String>,
    /// Milestone number → paths of current artifacts whose link names it.
    linked: BTreeMap<u64, Vec<String>>,
    removals: Vec<Change>,
    updates: Vec<Change>,
    adoptions: Vec<Change>,
    creations: Vec<Change>,
    /// New artifact files for milestones without one (full reconcile).
    imports: Vec<Change>,
    /// Titles that new milestones will take.
    new_titles: BTreeSet<String>,
    diagnostics: Vec<Diagnostic>,
    in_sync: usize,
    /// Files whose conflicts wanted their last change time (see [`Plan::wanted_times`]).
    wanted_times: Vec<String>,
    /// Indexes built once, so that planning N artifacts against M milestones is not N scans
    /// of M descriptions. Milestones by the ID of their marker (with the marker's project),
    /// in list order.
    by_marker: HashMap<String, Vec<(Option<String>, &'a Milestone)>>,
    /// The first milestone with each title, in list order.
    by_title: HashMap<&'a str, &'a Milestone>,
    /// Project slug → artifact ID → paths of the artifacts with that ID.
    ids: HashMap<&'a str, HashMap<&'a str, Vec<&'a str>>>,
    /// Milestones adopted so far in this plan.
    adopted: BTreeSet<u64>,
    /// Milestones a removal closes or deletes in this plan.
    removed_numbers: BTreeSet<u64>,
    behind: Vec<String>,
    detached: usize,
}

impl<'a> Planner<'a> {
    fn new(input: &'a Input<'a>) -> Self {
        let mut linked: BTreeMap<u64, Vec<String>> = BTreeMap::new();
        for a in input.projects.iter().flat_map(|p| &p.artifacts) {
            if let Some(n) = a.link.as_deref().and_then(|l| link::milestone_number(l, input.repository)) {
                linked.entry(n).or_default().push(a.path.clone());
            }
        }
        let mut by_marker: HashMap<String, Vec<(Option<String>, &'a Milestone)>> = HashMap::new();
        let mut by_title: HashMap<&'a str, &'a Milestone> = HashMap::new();
        for m in input.milestones {
            if let Some(mk) = link::marker(m.description.as_deref().unwrap_or_default()) {
                by_marker.entry(mk.id).or_default().push((mk.project, m));
            }
            by_title.entry(m.title.as_str()).or_insert(m);
        }
        let mut ids: HashMap<&'a str, HashMap<&'a str, Vec<&'a str>>> = HashMap::new();
        for p in input.projects {
            for a in &p.artifacts {
                ids.entry(p.slug.as_str()).or_default().entry(a.id.as_str()).or_default().push(a.path.as_str());
            }
        }
        Planner {
            input,
            by_number: input.milestones.iter().map(|m| (m.number, m)).collect(),
            skipped: BTreeSet::new(),
            linked,
            removals: Vec::new(),
            updates: Vec::new(),
            adoptions: Vec::new(),
            creations: Vec::new(),
            imports: Vec::new(),
            new_titles: BTreeSet::new(),
            diagnostics: Vec::new(),
            in_sync: 0,
            wanted_times: Vec::new(),
            by_marker,
            by_title,
            ids,
            adopted: BTreeSet::new(),
            removed_numbers: BTreeSet::new(),
            behind: Vec::new(),
            detached: 0,
        }
    }

    /// Whether `a` is planned in this run, and with what evidence of who changed which
    /// fields: a push's touched fields, the fields a milestone event names, or the base
    /// alone.
    fn in_scope(&self, a: &'a Artifact) -> Option<Evidence<'a>> {
        let scope = self.input.scope;
        if let Some(touch) = scope.touched.get(&a.path) {
            return Some(Evidence::Push(touch));
        }
        if let Some(hint) = &scope.event {
            let number = a.link.as_deref().and_then(|l| link::milestone_number(l, self.input.repository));
            if number == Some(hint.number) {
                return Some(Evidence::Event(&hint.changed));
            }
            if !scope.everything && number.is_none() && self.event_names(a) {
                return Some(Evidence::Full);
            }
        }
        scope.everything.then_some(Evidence::Full)
    }

    /// Whether the event's milestone is the one an unlinked artifact would adopt: its marker
    /// names the artifact, or (unmarked) it has the artifact's title.
    fn event_names(&self, a: &Artifact) -> bool {
        let Some(m) = self.input.scope.event.as_ref().and_then(|h| self.by_number.get(&h.number)) else {
            return false;
        };
        match link::marker(m.description.as_deref().unwrap_or_default()) {
            Some(mk) => mk.id == a.id,
            None => m.title == a.title,
        }
    }

    /// The milestones whose marker names `a` of `project` (see [`marker_is`]), in list order.
    fn marked_for(&self, project: &Project, a: &Artifact) -> impl Iterator<Item = &'a Milestone> {
        self.by_marker
            .get(a.id.as_str())
            .into_iter()
            .flatten()
            .filter(|(p, _)| p.as_deref().is_none_or(|p| p == project.slug))
            .map(|(_, m)| *m)
    }

    /// Whether project `slug` has an artifact with ID `id`.
    fn has_id(&self, slug: &str, id: &str) -> bool {
        self.ids.get(slug).is_some_and(|by_id| by_id.contains_key(id))
    }

    /// Two artifacts of one project with one ID would both claim one marker.
    fn check_duplicate_ids(&mut self) {
        for project in self.input.projects {
            let mut by_id: BTreeMap<&str, Vec<&Artifact>> = BTreeMap::new();
            for a in &project.artifacts {
                by_id.entry(a.id.as_str()).or_default().push(a);
            }
            for (id, list) in by_id.into_iter().filter(|(_, l)| l.len() > 1) {
                let paths: Vec<&str> = list.iter().map(|a| a.path.as_str()).collect();
                for a in list {
                    self.skipped.insert(a.path.clone());
                    self.diagnostics.push(Diagnostic::error(
                        &a.path,
                        line_of(a, "id"),
                        format!("the ID {id} is used by {} files ({}); give each artifact its own `id`. None of them is synced until then", paths.len(), paths.join(", ")),
                    ));
                }
            }
        }
    }

    /// Two artifacts whose `related_milestone` names one milestone.
    fn check_shared_links(&mut self) {
        let shared: Vec<(u64, Vec<String>)> =
            self.linked.iter().filter(|(_, p)| p.len() > 1).map(|(n, p)| (*n, p.clone())).collect();
        for (number, paths) in shared {
            for path in &paths {
                self.skipped.insert(path.clone());
                let line = self.artifact(path).and_then(|a| line_of(a, keys::RELATED_MILESTONE));
                self.diagnostics.push(Diagnostic::error(
                    path,
                    line,
                    format!("milestone #{number} is linked by {} artifacts ({}); keep `related_milestone` in one of them only", paths.len(), paths.join(", ")),
                ));
            }
        }
    }

    fn artifact(&self, path: &str) -> Option<&'a Artifact> {
        self.input.projects.iter().flat_map(|p| &p.artifacts).find(|a| a.path == path)
    }

    fn plan_artifact(&mut self, project: &Project, a: &Artifact, evidence: Evidence<'_>) {
        if self.skipped.contains(&a.path) {
            return;
        }
        self.diagnostics.extend(a.warnings.iter().cloned());
        if let Some(url) = &a.link {
            let Some(number) = link::milestone_number(url, self.input.repository) else {
                self.diagnostics.push(bad_link(a, url, self.input.repository));
                return;
            };
            let Some(m) = self.by_number.get(&number).copied() else {
                if self.input.scope.read.covers(number) {
                    self.record_deleted(project, a, number, url);
                }
                return;
            };
            if let Some(other) =
                link::marker(m.description.as_deref().unwrap_or_default()).filter(|mk| !marker_is(mk, project, a))
                && !self.owns_marker_elsewhere(&other, project, a)
            {
                self.diagnostics.push(Diagnostic::error(
                    &a.path,
                    line_of(a, keys::RELATED_MILESTONE),
                    format!("links milestone #{number}, whose description marks it as {}{}; fix the link or the milestone's marker lines", other.id, other.project.as_deref().map(|p| format!(" of project {p}")).unwrap_or_default()),
                ));
                return;
            }
            let duplicate = self.marked_for(project, a).find(|o| o.number != number);
            if let Some(other) = duplicate {
                self.diagnostics.push(Diagnostic::error(
                    &a.path,
                    line_of(a, keys::RELATED_MILESTONE),
                    format!(
                        "links milestone #{number}, but milestone #{} ({}) also carries the marker `IntelliManage-ID: {}`; delete the duplicate on GitHub or remove its marker lines",
                        other.number, other.html_url, a.id
                    ),
                ));
                return;
            }
            let r = reconcile::reconcile(project, a, m, evidence, self.input.options, false);
            self.diagnostics.extend(r.diagnostics.iter().cloned());
            if r.needs_time {
                self.wanted_times.push(a.path.clone());
            }
            if r.behind {
                self.behind.push(a.path.clone());
            }
            if r.is_empty() {
                self.in_sync += 1;
            } else {
                let patch = r.patch.clone();
                let c = change(project, a, Action::Update { number, html_url: m.html_url.clone(), patch });
                self.updates.push(with_reconciled(c, a, r));
            }
            return;
        }
        // The milestone was deleted on GitHub (this file says so): no new one until a person
        // removes `milestone_deleted`.
        if a.deleted.is_some() {
            self.detached += 1;
            return;
        }
        // No link: only a run that read every milestone can tell that none carries the
        // artifact's marker or title (a run keeping to its trigger's scope has only the
        // event's milestone, which `in_scope` matched).
        if self.input.scope.read != Read::All && !self.event_names(a) {
            return;
        }
        // No link: adopt a milestone that carries the marker, else one with the same title,
        // else create.
        let marked: Vec<&Milestone> = self.marked_for(project, a).collect();
        if marked.len() > 1 {
            let numbers: Vec<String> = marked.iter().map(|m| format!("#{}", m.number)).collect();
            self.diagnostics.push(Diagnostic::error(
                &a.path,
                line_of(a, "id"),
                format!("{} milestones ({}) carry the marker `IntelliManage-ID: {}`; delete the duplicates on GitHub, or set `related_milestone` to the one to keep", marked.len(), numbers.join(", "), a.id),
            ));
            return;
        }
        if let Some(m) = marked.first().copied().filter(|m| !self.linked.contains_key(&m.number)) {
            self.adopt(project, a, m, AdoptBy::Marker);
            return;
        }
        if let Some(m) = self.by_title.get(a.title.as_str()).copied() {
            let unmarked = link::marker(m.description.as_deref().unwrap_or_default()).is_none();
            if unmarked && !self.linked.contains_key(&m.number) && !self.adopted.contains(&m.number) {
                self.adopt(project, a, m, AdoptBy::Title);
                return;
            }
            if !self.renamed_away(m.number) {
                self.diagnostics.push(Diagnostic::error(
                    &a.path,
                    line_of(a, "title"),
                    format!("the title {:?} is taken by milestone #{} ({}), which belongs to another artifact; milestone titles are unique per repository, so give this artifact another title", a.title, m.number, m.html_url),
                ));
                return;
            }
        }
        if !project.config.create_missing_milestones {
            self.diagnostics.push(Diagnostic::notice(format!(
                "{}: no milestone, and `create_missing_milestones = false` in {}/project_config.toml",
                a.id, project.dir
            )));
            return;
        }
        if !self.new_titles.insert(a.title.clone()) {
            self.diagnostics.push(Diagnostic::error(
                &a.path,
                line_of(a, "title"),
                format!("another artifact in this run also needs a milestone titled {:?}; milestone titles are unique per repository, so rename one", a.title),
            ));
            return;
        }
        // The first record of the base goes with the new milestone, and with the link into
        // the file (generation 1 on both sides).
        let record = SyncBase { file_generation: Some(1), ..reconcile::first_record(project, a) };
        let milestone = NewMilestone {
            title: a.title.clone(),
            description: link::with_record(&link::compose_description(&a.description, &a.id, &project.slug), &record),
            state: desired_state(a),
            due_on: if project.config.sync_due_date { a.due } else { None },
        };
        if self.input.options.direction == Direction::FromGithub {
            return;
        }
        let mut c = change(project, a, Action::Create { milestone });
        c.file_edits = vec![reconcile::base_of_file(project, a)];
        self.creations.push(c);
    }

    /// `a` links milestone `number`, which the run asked GitHub for and did not get: it was
    /// deleted. The file keeps its content and records the deletion in place of the link, so
    /// that no later run creates the milestone again; `on-milestone-deleted: archive` also
    /// archives it.
    fn record_deleted(&mut self, project: &Project, a: &Artifact, number: u64, url: &str) {
        if self.input.options.direction == Direction::ToGithub {
            self.diagnostics.push(Diagnostic::warning(
                &a.path,
                line_of(a, keys::RELATED_MILESTONE),
                format!("links milestone #{number}, which was deleted on GitHub; `direction: to-github` writes no file, so the link stays until a run that may write files records the deletion"),
            ));
            return;
        }
        let mut edits = vec![
            FieldEdit::Remove { key: keys::RELATED_MILESTONE.into() },
            FieldEdit::SetString { key: keys::MILESTONE_DELETED.into(), value: url.to_string() },
        ];
        if a.base.is_some() {
            edits.push(FieldEdit::Remove { key: crate::base::KEY.into() });
        }
        if a.conflict.is_some() {
            edits.push(FieldEdit::Remove { key: crate::base::CONFLICT_KEY.into() });
        }
        let archive = self.input.options.on_deleted == Some(OnMilestoneDeleted::Archive)
            && a.status != project.config.archived_status;
        let mut fields = vec![keys::MILESTONE_DELETED.to_string()];
        if archive {
            edits
                .push(FieldEdit::SetString { key: keys::STATUS.into(), value: project.config.archived_status.clone() });
            fields.push(keys::STATUS.to_string());
        }
        if let Some(today) = self.input.options.today
            && archive
        {
            edits.push(FieldEdit::SetString {
                key: keys::UPDATED_DATE.into(),
                value: today.format("%Y-%m-%d").to_string(),
            });
        }
        self.diagnostics.push(Diagnostic::warning(
            &a.path,
            line_of(a, keys::RELATED_MILESTONE),
            format!(
                "milestone #{number} was deleted on GitHub; {} keeps its content{} and records the deletion in `milestone_deleted`, so no new milestone is made for it. Remove that line to create one",
                a.id,
                if archive { ", is archived" } else { "" }
            ),
        ));
        let mut c = change(project, a, Action::RecordDeleted { number, html_url: url.to_string() });
        c.file_edits = edits;
        c.file_fields = fields;
        self.updates.push(c);
    }

    /// Links `a` to an existing milestone. The two meet for the first time, with no base: a
    /// field that differs is a conflict settled by the policy (by default the side changed
    /// last wins), and the milestone gets the marker lines.
    fn adopt(&mut self, project: &Project, a: &Artifact, m: &Milestone, by: AdoptBy) {
        if self.input.options.direction == Direction::FromGithub {
            return; // the marker lines are a write on GitHub
        }
        let r = reconcile::reconcile(project, a, m, Evidence::Full, self.input.options, true);
        self.diagnostics.extend(r.diagnostics.iter().cloned());
        if r.needs_time {
            self.wanted_times.push(a.path.clone());
        }
        let patch = r.patch.clone();
        let c = change(project, a, Action::Adopt { number: m.number, html_url: m.html_url.clone(), by, patch });
        self.adopted.insert(m.number);
        self.adoptions.push(with_reconciled(c, a, r));
    }

    /// True when a marker found on a milestone that `a` links is that of another artifact
    /// that does not exist in the workspace: then the link wins and the marker is rewritten.
    fn owns_marker_elsewhere(&self, marker: &Marker, project: &Project, a: &Artifact) -> bool {
        let slug = marker.project.as_deref().unwrap_or(&project.slug);
        let exists = self
            .ids
            .get(slug)
            .and_then(|by_id| by_id.get(marker.id.as_str()))
            .is_some_and(|paths| paths.iter().any(|p| *p != a.path));
        !exists
    }

    /// Whether an update in this plan renames milestone `number`, freeing its title.
    fn renamed_away(&self, number: u64) -> bool {
        self.updates.iter().any(
            |c| matches!(&c.action, Action::Update { number: n, patch, .. } if *n == number && patch.title.is_some()),
        )
    }

    fn plan_removed(&mut self, slug: &str, old: &Artifact) {
        let Some(project) = self.input.projects.iter().find(|p| p.slug == slug) else { return };
        // A file renamed or moved within the project keeps its ID: not a removal.
        if self.has_id(slug, &old.id) {
            return;
        }
        let by_link = old
            .link
            .as_deref()
            .and_then(|l| link::milestone_number(l, self.input.repository))
            .and_then(|n| self.by_number.get(&n).copied());
        let by_marker = || self.marked_for(project, old).next();
        let Some(m) = by_link.or_else(by_marker) else {
            self.diagnostics
                .push(Diagnostic::notice(format!("{} ({}) was removed; it had no milestone", old.id, old.path)));
            return;
        };
        if self.linked.contains_key(&m.number) {
            return; // another artifact links it now
        }
        if self.input.options.direction == Direction::FromGithub {
            return;
        }
        let action = match self.input.options.on_removed.unwrap_or(OnRemoved::Close) {
            OnRemoved::Delete => Action::DeleteRemoved { number: m.number, html_url: m.html_url.clone() },
            OnRemoved::Close if m.state == MilestoneState::Open => {
                Action::CloseRemoved { number: m.number, html_url: m.html_url.clone() }
            }
            OnRemoved::Close => return,
        };
        if self.removed_numbers.insert(m.number) {
            self.removals.push(change(project, old, action));
        }
    }

    /// A run that read every milestone also looks at each one no artifact claimed. One whose
    /// marker names an artifact of a syncing project that is gone is what a removal left: it
    /// is closed (or deleted, with `on-artifact-removed: delete`) while it is open, as the
    /// push that removed the file would have done. An unmarked one is imported as a new
    /// artifact file when `create-artifacts` allows it, else counted in one notice. A run
    /// keeping to a milestone event's scope imports that milestone only.
    fn plan_unclaimed_milestones(&mut self) {
        let options = self.input.options;
        let scope = self.input.scope;
        let everything = scope.everything && scope.read == Read::All;
        let only = match (&scope.event, everything) {
            (_, true) => None,
            (Some(hint), false) => Some(hint.number),
            (None, false) => return,
        };
        let claimed: BTreeSet<u64> = self
            .linked
            .keys()
            .copied()
            .chain(self.adoptions.iter().filter_map(adopted_number))
            .chain(self.updates.iter().filter_map(|c| c.action.milestone_number()))
            .chain(self.removed_numbers.iter().copied())
            .collect();
        let titles: BTreeSet<&str> =
            self.input.projects.iter().flat_map(|p| &p.artifacts).map(|a| a.title.as_str()).collect();
        let mut unmarked = Vec::new();
        for m in self.input.milestones.iter().filter(|m| !claimed.contains(&m.number)) {
            if only.is_some_and(|n| n != m.number) {
                continue;
            }
            match link::marker(m.description.as_deref().unwrap_or_default()) {
                Some(mk) if everything => self.plan_marked_unclaimed(m, &mk),
                Some(_) => {}
                None if titles.contains(m.title.as_str()) => {} // its namesake reported why it did not adopt
                None => unmarked.push(m),
            }
        }
        if unmarked.is_empty() || options.direction == Direction::ToGithub {
            return;
        }
        // Oldest first, so the new IDs follow the milestones' order of creation.
        unmarked.sort_by_key(|m| m.number);
        // A removed file's milestone keeps its marker: its ID is not free for a new file.
        let mut ids = new_artifact::NewIds::default();
        for mk in
            self.input.milestones.iter().filter_map(|m| link::marker(m.description.as_deref().unwrap_or_default()))
        {
            ids.reserve(mk.project.as_deref(), &mk.id);
        }
        let mut left = Vec::new();
        let today = options.today.unwrap_or_default();
        for m in unmarked {
            match new_artifact::choose_project(self.input.projects, options.create_artifacts, m) {
                Ok(Some(project)) => self.imports.push(new_artifact::plan_file(project, m, &mut ids, today)),
                Ok(None) => left.push(format!("#{} {}", m.number, m.title)),
                Err(d) => {
                    self.diagnostics.push(d);
                    return;
                }
            }
        }
        if !left.is_empty() {
            let shown: Vec<&str> = left.iter().take(10).map(String::as_str).collect();
            self.diagnostics.push(Diagnostic::notice(format!(
                "{} milestone(s) have no artifact ({}{}); set `create-artifacts: true` (or `create_artifacts_from_milestones = true`) to import them as artifact files",
                left.len(),
                shown.join(", "),
                if left.len() > shown.len() { ", …" } else { "" }
            )));
        }
    }

    /// A milestone whose marker names an artifact of a project this run syncs, but that no
    /// artifact claimed. When the artifact is gone (no file of the project has its ID, none of
    /// its unreadable files is named for it) and the milestone is open, the file was removed
    /// and the removal's own run never happened (cancelled, or before this version): it is
    /// closed, or deleted under `on-artifact-removed: delete`. A marker without the project
    /// line is only reported: it may have been typed by hand.
    fn plan_marked_unclaimed(&mut self, m: &'a Milestone, mk: &Marker) {
        let Some(project) = self.input.projects.iter().find(|p| mk.project.as_deref().is_none_or(|s| s == p.slug))
        else {
            return; // another project's (or repository's) milestone
        };
        let exists = self.has_id(&project.slug, &mk.id)
            || project.broken.iter().any(|path| path.rsplit('/').next().is_some_and(|f| f.starts_with(&mk.id)));
        if exists || m.state == MilestoneState::Closed {
            return;
        }
        let folder = format!("{}/{}", project.dir, project.config.artifact_folder());
        if mk.project.is_none() || self.input.options.direction == Direction::FromGithub {
            self.diagnostics.push(Diagnostic::warning(
                folder.clone(),
                None,
                format!(
                    "milestone #{} ({}) is open and carries the marker `IntelliManage-ID: {}`, but no artifact in {folder} has that ID (removed or renamed?); restore the file, close or delete the milestone, or remove its marker lines to let the sync import it",
                    m.number, m.html_url, mk.id
                ),
            ));
            return;
        }
        // Deleting cannot be undone: only a milestone the sync has kept (it carries the sync's
        // record) is deleted for a file that is gone; any other is closed.
        let kept_by_sync = link::record(m.description.as_deref().unwrap_or_default()).is_some();
        let action = match self.input.options.on_removed.unwrap_or(OnRemoved::Close) {
            OnRemoved::Delete if kept_by_sync => {
                Action::DeleteRemoved { number: m.number, html_url: m.html_url.clone() }
            }
            _ => Action::CloseRemoved { number: m.number, html_url: m.html_url.clone() },
        };
        self.diagnostics.push(Diagnostic::notice(format!(
            "milestone #{} carries the marker of {} of project {}, which is no longer in {folder}: its file was removed, so the milestone is {}",
            m.number,
            mk.id,
            project.slug,
            if matches!(action, Action::DeleteRemoved { .. }) { "deleted" } else { "closed" }
        )));
        self.removed_numbers.insert(m.number);
        let gone = Artifact {
            path: format!("{folder}/{}", mk.id),
            id: mk.id.clone(),
            title: m.title.clone(),
            ..Artifact::default()
        };
        self.removals.push(change(project, &gone, action));
    }

    fn finish(self) -> Plan {
        let mut changes = self.removals;
        changes.extend(self.updates);
        changes.extend(self.adoptions);
        changes.extend(self.creations);
        changes.extend(self.imports);
        let mut diagnostics = self.diagnostics;
        diagnostics.sort_by(|a, b| (b.level, &a.file, a.line).cmp(&(a.level, &b.file, b.line)));
        diagnostics.dedup();
        Plan {
            changes,
            diagnostics,
            in_sync: self.in_sync,
            wanted_times: self.wanted_times,
            behind: self.behind,
            detached: self.detached,
        }
    }
}

fn adopted_number(c: &Change) -> Option<u64> {
    match c.action {
        Action::Adopt { number, .. } => Some(number),
        _ => None,
    }
}

/// A marker names `a` when its ID matches and its project is this one (or unstated).
fn marker_is(marker: &Marker, project: &Project, a: &Artifact) -> bool {
    marker.id == a.id && marker.project.as_deref().is_none_or(|p| p == project.slug)
}

fn desired_state(a: &Artifact) -> MilestoneState {
    if is_closed_status(&a.status) { MilestoneState::Closed } else { MilestoneState::Open }
}

fn change(project: &Project, a: &Artifact, action: Action) -> Change {
    Change {
        project: project.slug.clone(),
        repository: project.config.repository(),
        artifact_id: a.id.clone(),
        artifact_title: a.title.clone(),
        path: a.path.clone(),
        action,
        fields: Vec::new(),
        file_edits: Vec::new(),
        after_commit: None,
        file_fields: Vec::new(),
        values: Vec::new(),
        line: line_of(a, keys::TITLE),
        start: a.start,
        conflicts: Vec::new(),
    }
}

/// Fills in what `r` decided: the fields sent, the file's edits and values, the conflicts.
fn with_reconciled(mut c: Change, a: &Artifact, r: reconcile::Reconciled) -> Change {
    c.fields = r.sent;
    c.file_edits = r.file_edits;
    c.after_commit = r.after_commit.map(Box::new);
    c.file_fields = r.file_fields;
    c.line = r.values.first().and_then(|v| reconcile::field_line(a, v.field)).or(c.line);
    c.values = r.values;
    c.conflicts = r.conflicts;
    c
}

fn line_of(a: &Artifact, key: &str) -> Option<usize> {
    a.key_lines.get(key).copied()
}

/// Levels, for callers that count.
pub fn errors(diagnostics: &[Diagnostic]) -> usize {
    diagnostics.iter().filter(|d| d.level == Level::Error).count()
}
