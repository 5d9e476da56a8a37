//! The executor: carries out a [`Plan`] against GitHub, one mutation at a time, then writes
//! the new links into the files with one commit through the Git Database API (or into the
//! workspace when committing is off).
//!
//! Faults are healed here: a create whose answer was lost is found by its marker, not sent
//! twice ([`create`]); the rate limit is checked before each change ([`budget`]); a rate limit
//! or a missing permission stops the run cleanly, keeping (and committing) what was done and
//! listing what remains; no file is written outside the workspace ([`paths`]).

mod budget;
mod create;
mod paths;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use crate::artifact::{self, FieldEdit, keys};
use crate::diagnostic::Diagnostic;
use crate::github::{GitHub, GitHubError, TreeFile};
use crate::history;
use crate::plan::{Action, Change, Plan};

/// How many times a commit is rebuilt on a branch that keeps moving before giving up.
pub const COMMIT_ATTEMPTS: usize = 5;

/// Where and how file changes land.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub workspace: &'a Path,
    /// The branch to commit to.
    pub branch: &'a str,
    /// The commit the workspace was read from, when known: its files need no download.
    pub local_head: Option<&'a str>,
    /// Every artifact as read from the workspace (read again when edited).
    pub files: &'a crate::workspace::Files,
    /// Commit through the API (true) or write into the workspace (false).
    pub commit: bool,
}

/// What came of one change: the milestone's number and html_url, or what went wrong.
pub type ChangeResult = Result<(u64, String), String>;

/// What happened to one change.
#[derive(Debug, Clone)]
pub struct Applied {
    /// The change's place in the plan's `changes` (the plan is not copied: a first import's
    /// plan is most of the run's memory).
    pub index: usize,
    pub result: ChangeResult,
}

/// What applying a plan did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub applied: Vec<Applied>,
    /// The commit that carried the file changes, when one was made.
    pub commit_sha: Option<String>,
    /// Workspace-relative paths whose content changed (committed or written).
    pub files_changed: Vec<String>,
    pub diagnostics: Vec<Diagnostic>,
    /// Why the run stopped before the end of the plan (a rate limit, a missing permission).
    pub stopped: Option<String>,
    /// The changes not attempted because the run stopped: these places in the plan's
    /// `changes` (empty when the run went to the end).
    pub not_attempted: std::ops::Range<usize>,
}

impl Outcome {
    pub fn failed(&self) -> usize {
        self.applied.iter().filter(|a| a.result.is_err()).count()
    }

    /// Each change attempted, with what came of it, in plan order. `plan` is the plan this
    /// outcome came from.
    pub fn results<'p>(&'p self, plan: &'p Plan) -> impl Iterator<Item = (&'p Change, &'p ChangeResult)> + 'p {
        self.applied.iter().map(|a| (&plan.changes[a.index], &a.result))
    }

    /// The changes not attempted because the run stopped.
    pub fn not_attempted<'p>(&self, plan: &'p Plan) -> &'p [Change] {
        &plan.changes[self.not_attempted.clone()]
    }
}

/// Applies `plan`. Milestone changes go first, in plan order, and a failure of one does not
/// stop the others; then the files of artifacts that got a link are changed in one commit.
/// A run that dies between the two heals on the next run: the new milestone carries the
/// artifact's marker, and the planner adopts it.
pub async fn apply<G: GitHub>(gh: &G, plan: &Plan, target: &Target<'_>) -> Outcome {
    let (mut out, files) = apply_milestones(gh, plan).await;
    apply_files(gh, target, files, &mut out).await;
    out
}

/// The milestone side of [`apply`]: every change in plan order, one request at a time; what
/// the files must say afterwards is collected in the returned [`FileWork`].
pub async fn apply_milestones<'p, G: GitHub>(gh: &G, plan: &'p Plan) -> (Outcome, FileWork<'p>) {
    let mut out = Outcome::default();
    let mut files = FileWork::default();
    for (i, change) in plan.changes.iter().enumerate() {
        if let Err(reason) = budget::make_room(gh, &plan.changes[i..]).await {
            stop(&mut out, reason, plan, i);
            break;
        }
        let result = apply_one(gh, change).await;
        match &result {
            Ok((number, url)) => {
                tracing::info!("{}: {} → milestone #{number}", change.artifact_id, describe(change));
                files.record(change, *number, url);
            }
            Err(e) => {
                tracing::error!("{}: {} failed: {e}", change.artifact_id, describe(change));
                out.diagnostics.push(Diagnostic::error(
                    &change.path,
                    None,
                    format!("{} for {} failed: {e}", describe(change), change.artifact_id),
                ));
            }
        }
        let stops = result.as_ref().err().and_then(stops_the_run);
        out.applied.push(Applied { index: i, result: result.map_err(|e| e.to_string()) });
        if let Some(reason) = stops {
            stop(&mut out, reason, plan, i + 1);
            break;
        }
    }
    (out, files)
}

/// The file side of [`apply`]: one commit on the branch's current head (or the workspace,
/// with `commit: false`) holding every file change the milestone side left in `files`.
pub async fn apply_files<G: GitHub>(gh: &G, target: &Target<'_>, mut files: FileWork<'_>, out: &mut Outcome) {
    files.retain_writable(target, &mut out.diagnostics);
    if files.is_empty() {
        return;
    }
    if !target.commit {
        write_workspace(target, &files, out);
        return;
    }
    match commit(gh, target, &files).await {
        Ok((sha, changed)) => {
            out.commit_sha = sha;
            out.files_changed = changed;
        }
        Err(e) => out.diagnostics.push(Diagnostic::general(
            crate::diagnostic::Level::Error,
            format!("committing the file changes to {} failed: {e}. Milestones already changed are found again by their markers on the next run", target.branch),
        )),
    }
}

/// An error after which every later change would fail the same way: the run stops there.
fn stops_the_run(error: &GitHubError) -> Option<String> {
    match error {
        GitHubError::RateLimited { .. } => Some(error.to_string()),
        GitHubError::Permission { permission, .. } => Some(format!(
            "the token lacks `{}`, so every other change would be refused too",
            permission.workflow_line()
        )),
        _ => None,
    }
}

/// How many of the changes not attempted the stop's error names (the summary lists more).
const STOP_NAMES_MAX: usize = 20;

/// Records that the run stopped before the plan's change `from`, with an error that names
/// what remains.
fn stop(out: &mut Outcome, reason: String, plan: &Plan, from: usize) {
    tracing::error!("stopping before the end of the plan: {reason}");
    let rest = &plan.changes[from..];
    if !rest.is_empty() {
        let mut listed: Vec<String> =
            rest.iter().take(STOP_NAMES_MAX).map(|c| format!("{} ({})", c.artifact_id, describe(c))).collect();
        if rest.len() > STOP_NAMES_MAX {
            listed.push(format!("and {} more", rest.len() - STOP_NAMES_MAX));
        }
        out.diagnostics.push(Diagnostic::general(
            crate::diagnostic::Level::Error,
            format!(
                "stopped before the end: {reason}. Done changes are kept; {} not attempted: {}. Run the workflow again once the cause is fixed or has passed (a `workflow_dispatch` run catches up on everything)",
                rest.len(),
                listed.join(", ")
            ),
        ));
    }
    out.stopped = Some(reason);
    out.not_attempted = from..plan.changes.len();
}

/// The file side of a plan: edits of existing artifacts, new artifact files, and one line per
/// change for the commit message. It borrows from the plan rather than copying it: a first
/// import's plan is most of the run's memory.
#[derive(Debug, Default)]
pub struct FileWork<'p> {
    edits: BTreeMap<&'p str, Vec<Cow<'p, FieldEdit>>>,
    new_files: BTreeMap<&'p str, &'p str>,
    /// The commit message's lines, one per change, the first [`MESSAGE_LINES_MAX`] of them.
    lines: Vec<String>,
    ids: Vec<&'p str>,
}

/// The most changes a commit message lists one per line; a first import of thousands names
/// the first ones and counts the rest (the job summary and the log have them).
const MESSAGE_LINES_MAX: usize = 200;

impl<'p> FileWork<'p> {
    fn record(&mut self, change: &'p Change, number: u64, url: &str) {
        let line = |what: &str, arrow: &str| {
            format!("- {} {arrow} milestone #{number} ({}): {what}", change.artifact_id, change.artifact_title)
        };
        let line = match &change.action {
            Action::Create { .. } | Action::Adopt { .. } => {
                let edits = self.edits.entry(&change.path).or_default();
                edits.push(Cow::Owned(FieldEdit::SetString {
                    key: keys::RELATED_MILESTONE.into(),
                    value: url.to_string(),
                }));
                edits.extend(change.file_edits.iter().map(Cow::Borrowed));
                line("linked", "→")
            }
            Action::EditFile { .. } | Action::Update { .. } if !change.file_edits.is_empty() => {
                self.edits.entry(&change.path).or_default().extend(change.file_edits.iter().map(Cow::Borrowed));
                let what =
                    if change.file_fields.is_empty() { "sync base".to_string() } else { change.file_fields.join(", ") };
                line(&what, "←")
            }
            Action::CreateFile { content, .. } => {
                self.new_files.insert(&change.path, content);
                line("new artifact", "←")
            }
            _ => return,
        };
        if self.lines.len() < MESSAGE_LINES_MAX {
            self.lines.push(line);
        }
        self.ids.push(&change.artifact_id);
    }

    /// Whether no file needs a change.
    pub fn is_empty(&self) -> bool {
        self.edits.is_empty() && self.new_files.is_empty()
    }

    /// Drops (with an error) every path that could write outside the workspace.
    fn retain_writable(&mut self, target: &Target<'_>, diagnostics: &mut Vec<Diagnostic>) {
        let check = |path: &str| {
            paths::check(path)
                .and_then(|()| if target.commit { Ok(()) } else { paths::check_no_link(target.workspace, path) })
        };
        let mut refuse = |path: &str, why: String| diagnostics.push(Diagnostic::error(path, None, why));
        self.edits.retain(|path, _| check(path).map_err(|why| refuse(path, why)).is_ok());
        self.new_files.retain(|path, _| check(path).map_err(|why| refuse(path, why)).is_ok());
    }

    fn message(&self) -> String {
        let subject = if self.ids.len() <= 3 {
            format!("milestone-sync: sync {} with milestones", self.ids.join(", "))
        } else {
            format!("milestone-sync: sync {} artifacts with milestones", self.ids.len())
        };
        let more = self.ids.len() - self.lines.len();
        let more = if more > 0 { format!("- and {more} more\n") } else { String::new() };
        format!("{subject}\n\n{}\n{more}", self.lines.join("\n"))
    }
}

async fn apply_one<G: GitHub>(gh: &G, change: &Change) -> Result<(u64, String), GitHubError> {
    match &change.action {
        Action::Create { milestone } => {
            create::create_once(gh, change, milestone).await.map(|m| (m.number, m.html_url))
        }
        Action::Adopt { number, html_url, patch, .. } | Action::Update { number, html_url, patch } => {
            if !patch.is_empty() {
                gh.update_milestone(*number, patch).await?;
            }
            Ok((*number, html_url.clone()))
        }
        Action::CloseRemoved { number, html_url } => {
            let patch = crate::milestone::MilestonePatch {
                state: Some(crate::milestone::MilestoneState::Closed),
                ..Default::default()
            };
            gh.update_milestone(*number, &patch).await.map(|_| (*number, html_url.clone()))
        }
        Action::DeleteRemoved { number, html_url } => {
            gh.delete_milestone(*number).await.map(|()| (*number, html_url.clone()))
        }
        Action::EditFile { number, html_url, .. } => Ok((*number, html_url.clone())),
        Action::CreateFile { number, html_url, marker_patch, .. } => {
            gh.update_milestone(*number, marker_patch).await.map(|_| (*number, html_url.clone()))
        }
    }
}

/// A short phrase for a change: "create", "update title, state", "adopt (by marker)", …
pub fn describe(change: &Change) -> String {
    match &change.action {
        Action::Create { .. } => "create milestone".into(),
        Action::Adopt { by, patch, .. } => {
            let how = match by {
                crate::plan::AdoptBy::Marker => "by its marker",
                crate::plan::AdoptBy::Title => "by its title",
            };
            if patch.is_empty() {
                format!("link existing milestone ({how})")
            } else {
                format!("link existing milestone ({how}) and update {}", change.fields().join(", "))
            }
        }
        Action::Update { .. } => {
            let mut parts = Vec::new();
            if !change.fields().is_empty() {
                parts.push(format!("update {}", change.fields().join(", ")));
            }
            if !change.file_fields.is_empty() {
                parts.push(format!("file takes {} from GitHub", change.file_fields.join(", ")));
            }
            let flagged: Vec<&str> = change
                .conflicts
                .iter()
                .filter(|c| c.resolution == crate::plan::Resolution::Flagged)
                .map(|c| crate::plan::field_name(c.field))
                .collect();
            if !flagged.is_empty() {
                parts.push(format!("conflict on {} (flagged)", flagged.join(", ")));
            }
            if parts.is_empty() { "record the sync base".into() } else { parts.join("; ") }
        }
        Action::CloseRemoved { .. } => "close milestone (file removed)".into(),
        Action::DeleteRemoved { .. } => "delete milestone (file removed)".into(),
        Action::EditFile { .. } => format!("file follows the milestone: {}", change.file_fields.join(", ")),
        Action::CreateFile { .. } => "create artifact file and mark the milestone".into(),
    }
}

/// The most files one `POST git/trees` carries. A commit of more (the first import of a
/// large plan) is built as a chain of trees, each on top of the one before: no request
/// carries more than a few megabytes, and the run never holds every new file at once.
pub const TREE_FILES: usize = 1000;

/// Builds one commit with the edits on top of the branch's current head and moves the
/// branch, rebuilding on the new head when the branch moved meanwhile.
async fn commit<G: GitHub>(
    gh: &G,
    target: &Target<'_>,
    work: &FileWork<'_>,
) -> Result<(Option<String>, Vec<String>), String> {
    let message = work.message();
    for attempt in 1..=COMMIT_ATTEMPTS {
        let head = gh.branch_head(target.branch).await.map_err(|e| e.to_string())?;
        let at_checkout = target.local_head == Some(head.as_str());
        let moved = if at_checkout { None } else { changed_since_checkout(gh, target, &head, work).await };
        // A file the head has as the checkout had it is taken from the workspace.
        let as_checked_out = |path: &str| at_checkout || moved.as_ref().is_some_and(|m| !m.contains(path));
        let mut tree = Trees { head: &head, tree: None, files: Vec::new(), written: Vec::new() };
        for (path, file_edits) in &work.edits {
            let base = if as_checked_out(path) {
                target.files.get(path)?
            } else {
                gh.file_at(&head, path).await.map_err(|e| e.to_string())?
            };
            let Some(base) = base else {
                tracing::warn!("{path} no longer exists on {}; its changes are not written", target.branch);
                continue;
            };
            let new = artifact::edit(path, &base, &owned(file_edits)).map_err(|d| format!("{path}: {}", d.message))?;
            if new != base {
                let content = String::from_utf8(new).map_err(|_| format!("{path}: the edited file is not UTF-8"))?;
                tree.add(gh, target, TreeFile { path: path.to_string(), content }).await?;
            }
        }
        for (path, content) in &work.new_files {
            let exists = if as_checked_out(path) {
                target.workspace.join(path).exists()
            } else {
                gh.file_at(&head, path).await.map_err(|e| e.to_string())?.is_some()
            };
            if exists {
                tracing::warn!("{path} exists already on {}; not overwritten", target.branch);
                continue;
            }
            tree.add(gh, target, TreeFile { path: path.to_string(), content: content.to_string() }).await?;
        }
        let Some((tree, written)) = tree.finish(gh, target).await? else {
            return Ok((None, Vec::new()));
        };
        let sha = gh.create_commit(&message, &tree, &head).await.map_err(|e| e.to_string())?;
        match gh.update_branch(target.branch, &sha).await {
            Ok(()) => return Ok((Some(sha), written)),
            Err(GitHubError::NotFastForward) => {
                tracing::warn!(
                    "{} moved while committing (attempt {attempt} of {COMMIT_ATTEMPTS}); rebuilding on the new head",
                    target.branch
                );
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    Err(format!("{} kept moving; gave up after {COMMIT_ATTEMPTS} attempts", target.branch))
}

/// When the branch has moved on from the checkout, the paths that differ between the two,
/// from one `GET compare` rather than one `GET contents` per file (a first import that meets
/// a concurrent push would otherwise read every file it links). `None`, and every file is
/// read at the head, when the compare cannot tell: the branch was rewound or rewritten (the
/// checkout is not the merge base), the file list is capped, the request failed, or a single
/// file is concerned (one read costs no more).
async fn changed_since_checkout<G: GitHub>(
    gh: &G,
    target: &Target<'_>,
    head: &str,
    work: &FileWork<'_>,
) -> Option<std::collections::BTreeSet<String>> {
    let local = target.local_head?;
    if work.edits.len() + work.new_files.len() < 2 {
        return None;
    }
    match gh.compare(local, head).await {
        Ok(c) if c.status == "ahead" && c.merge_base == local && !c.capped => {
            Some(c.files.into_iter().flat_map(|f| [Some(f.path), f.previous_path]).flatten().collect())
        }
        Ok(c) => {
            tracing::info!(
                "{} is {} of the checkout{}; reading each file at its head",
                target.branch,
                c.status,
                if c.capped { " by more files than one comparison lists" } else { "" }
            );
            None
        }
        Err(e) => {
            tracing::warn!("cannot compare the checkout with {} ({e}); reading each file at its head", target.branch);
            None
        }
    }
}

/// The tree of a commit under construction: files are sent [`TREE_FILES`] at a time, each
/// batch on top of the tree the previous one made (the first on the head's tree).
struct Trees<'h> {
    head: &'h str,
    /// The tree made so far, if any.
    tree: Option<String>,
    /// Files not sent yet.
    files: Vec<TreeFile>,
    /// Paths sent.
    written: Vec<String>,
}

impl Trees<'_> {
    async fn add<G: GitHub>(&mut self, gh: &G, target: &Target<'_>, file: TreeFile) -> Result<(), String> {
        self.files.push(file);
        if self.files.len() >= TREE_FILES {
            self.send(gh, target).await?;
        }
        Ok(())
    }

    async fn send<G: GitHub>(&mut self, gh: &G, target: &Target<'_>) -> Result<(), String> {
        let base = match self.tree.take() {
            Some(tree) => tree,
            None => match history::local_tree(target.workspace, self.head) {
                Some(tree) => tree,
                None => gh.commit_tree(self.head).await.map_err(|e| e.to_string())?,
            },
        };
        self.tree = Some(gh.create_tree(&base, &self.files).await.map_err(|e| e.to_string())?);
        self.written.extend(self.files.drain(..).map(|f| f.path));
        Ok(())
    }

    /// The finished tree and the paths written, or `None` when there was nothing to write.
    async fn finish<G: GitHub>(mut self, gh: &G, target: &Target<'_>) -> Result<Option<(String, Vec<String>)>, String> {
        if !self.files.is_empty() {
            self.send(gh, target).await?;
        }
        Ok(self.tree.map(|tree| (tree, self.written)))
    }
}

/// One file's edits as [`artifact::edit`] takes them (a copy made for one file at a time).
fn owned(edits: &[Cow<'_, FieldEdit>]) -> Vec<FieldEdit> {
    edits.iter().map(|e| e.as_ref().clone()).collect()
}

fn write_workspace(target: &Target<'_>, work: &FileWork<'_>, out: &mut Outcome) {
    for (path, file_edits) in &work.edits {
        let base = match target.files.get(path) {
            Ok(Some(base)) => base,
            Ok(None) => continue,
            Err(e) => {
                out.diagnostics.push(Diagnostic::error(*path, None, e));
                continue;
            }
        };
        // Never write through a symbolic link: it could lead outside the workspace.
        if let Err(d) = crate::workspace::refuse_links(target.workspace, path) {
            out.diagnostics.push(d);
            continue;
        }
        match artifact::edit(path, &base, &owned(file_edits)) {
            Ok(new) if new != base => match std::fs::write(target.workspace.join(path), &new) {
                Ok(()) => out.files_changed.push(path.to_string()),
                Err(e) => out.diagnostics.push(Diagnostic::error(*path, None, format!("cannot write the file: {e}"))),
            },
            Ok(_) => {}
            Err(d) => out.diagnostics.push(d),
        }
    }
    for (path, content) in &work.new_files {
        let full = target.workspace.join(path);
        if std::fs::symlink_metadata(&full).is_ok() {
            continue;
        }
        if let Err(d) = crate::workspace::refuse_links(target.workspace, path) {
            out.diagnostics.push(d);
            continue;
        }
        match std::fs::create_dir_all(full.parent().unwrap_or(target.workspace))
            .and_then(|()| std::fs::write(&full, content))
        {
            Ok(()) => out.files_changed.push(path.to_string()),
            Err(e) => {
                out.diagnostics.push(Diagnostic::error(*path, None, format!("cannot write the new artifact: {e}")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Change `i` of a plan: artifact `EPIC-{i:03}` titled `Title {i}`.
    fn change(i: usize, action: Action) -> Change {
        Change {
            project: "demo".into(),
            artifact_id: format!("EPIC-{i:03}"),
            artifact_title: format!("Title {i}"),
            path: format!(".ruru/projects/demo/epics/EPIC-{i:03}_a.md"),
            action,
            file_edits: vec![],
            file_fields: vec![],
            conflicts: vec![],
        }
    }

    /// A run stopped early names the first changes it did not attempt, not thousands.
    #[test]
    fn a_stop_names_a_bounded_number_of_changes() {
        let change = |i: usize| {
            change(
                i,
                Action::CloseRemoved { number: i as u64, html_url: format!("https://github.com/a/b/milestone/{i}") },
            )
        };
        let plan = Plan { changes: (0..30).map(change).collect(), ..Default::default() };
        let mut out = Outcome::default();
        stop(&mut out, "the rate limit is used up".into(), &plan, 5);
        assert_eq!(out.not_attempted, 5..30);
        assert_eq!(out.not_attempted(&plan).first().map(|c| c.artifact_id.as_str()), Some("EPIC-005"));
        let message = &out.diagnostics[0].message;
        assert!(message.contains("25 not attempted: EPIC-005 (close milestone (file removed))"), "{message}");
        assert!(message.contains("EPIC-024") && !message.contains("EPIC-025"), "{message}");
        assert!(message.contains("and 5 more"), "{message}");
    }

    #[test]
    fn a_commit_message_lists_a_bounded_number_of_changes() {
        let change = |i: usize| {
            let milestone = crate::milestone::NewMilestone {
                title: format!("Title {i}"),
                description: String::new(),
                state: crate::milestone::MilestoneState::Open,
                due_on: None,
            };
            change(i, Action::Create { milestone })
        };
        let changes: Vec<Change> = (0..250).map(change).collect();
        let mut work = FileWork::default();
        for (i, c) in changes.iter().enumerate().take(2) {
            work.record(c, i as u64 + 1, "https://github.com/a/b/milestone/1");
        }
        assert_eq!(
            work.message(),
            "milestone-sync: sync EPIC-000, EPIC-001 with milestones\n\n\
             - EPIC-000 → milestone #1 (Title 0): linked\n- EPIC-001 → milestone #2 (Title 1): linked\n"
        );
        for (i, c) in changes.iter().enumerate().skip(2) {
            work.record(c, i as u64 + 1, "https://github.com/a/b/milestone/1");
        }
        let message = work.message();
        assert!(message.starts_with("milestone-sync: sync 250 artifacts with milestones\n\n- EPIC-000 →"));
        assert_eq!(message.lines().filter(|l| l.starts_with("- EPIC-")).count(), MESSAGE_LINES_MAX);
        assert!(message.ends_with("- EPIC-199 → milestone #200 (Title 199): linked\n- and 50 more\n"), "{message}");
    }
}
