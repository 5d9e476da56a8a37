//! The executor: carries out a [`Plan`] against GitHub, one mutation at a time, then writes
//! the new links into the files with one commit through the Git Database API (or into the
//! workspace when committing is off).

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
    /// The bytes of every artifact as read from the workspace.
    pub files: &'a BTreeMap<String, Vec<u8>>,
    /// Commit through the API (true) or write into the workspace (false).
    pub commit: bool,
}

/// What happened to one change.
#[derive(Debug, Clone)]
pub struct Applied {
    pub change: Change,
    /// The milestone's number and html_url, or what went wrong.
    pub result: Result<(u64, String), String>,
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
}

impl Outcome {
    pub fn failed(&self) -> usize {
        self.applied.iter().filter(|a| a.result.is_err()).count()
    }
}

/// Applies `plan`. Milestone changes go first, in plan order, and a failure of one does not
/// stop the others; then the files of artifacts that got a link are changed in one commit.
/// A run that dies between the two heals on the next run: the new milestone carries the
/// artifact's marker, and the planner adopts it.
pub async fn apply<G: GitHub>(gh: &G, plan: &Plan, target: &Target<'_>) -> Outcome {
    let mut out = Outcome::default();
    let mut edits: BTreeMap<String, Vec<FieldEdit>> = BTreeMap::new();
    let mut linked: Vec<(String, u64, String)> = Vec::new();
    for change in &plan.changes {
        let result = apply_one(gh, change).await;
        match &result {
            Ok((number, url)) => {
                tracing::info!("{}: {} → milestone #{number}", change.artifact_id, describe(change));
                if change.links_file() {
                    edits.entry(change.path.clone()).or_default().push(FieldEdit::SetString { key: keys::RELATED_MILESTONE.into(), value: url.clone() });
                    linked.push((change.artifact_id.clone(), *number, change.artifact_title.clone()));
                }
            }
            Err(e) => {
                tracing::error!("{}: {} failed: {e}", change.artifact_id, describe(change));
                out.diagnostics.push(Diagnostic::error(&change.path, None, format!("{} for {} failed: {e}", describe(change), change.artifact_id)));
            }
        }
        out.applied.push(Applied { change: change.clone(), result: result.map_err(|e| e.to_string()) });
    }
    if edits.is_empty() {
        return out;
    }
    if !target.commit {
        write_workspace(target, &edits, &mut out);
        return out;
    }
    let message = commit_message(&linked);
    match commit(gh, target, &edits, &message).await {
        Ok((sha, files)) => {
            out.commit_sha = sha;
            out.files_changed = files;
        }
        Err(e) => out.diagnostics.push(Diagnostic::general(
            crate::diagnostic::Level::Error,
            format!(
                "the milestones were changed, but committing the links to {} failed: {e}. The next run adopts the milestones by their marker lines and commits again",
                target.branch
            ),
        )),
    }
    out
}

async fn apply_one<G: GitHub>(gh: &G, change: &Change) -> Result<(u64, String), GitHubError> {
    match &change.action {
        Action::Create { milestone } => gh.create_milestone(milestone).await.map(|m| (m.number, m.html_url)),
        Action::Adopt { number, html_url, patch, .. } | Action::Update { number, html_url, patch } => {
            if !patch.is_empty() {
                gh.update_milestone(*number, patch).await?;
            }
            Ok((*number, html_url.clone()))
        }
        Action::CloseRemoved { number, html_url } => {
            let patch = crate::github::MilestonePatch { state: Some(crate::github::MilestoneState::Closed), ..Default::default() };
            gh.update_milestone(*number, &patch).await.map(|_| (*number, html_url.clone()))
        }
        Action::DeleteRemoved { number, html_url } => gh.delete_milestone(*number).await.map(|()| (*number, html_url.clone())),
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
            if patch.is_empty() { format!("link existing milestone ({how})") } else { format!("link existing milestone ({how}) and update {}", change.fields().join(", ")) }
        }
        Action::Update { .. } => format!("update {}", change.fields().join(", ")),
        Action::CloseRemoved { .. } => "close milestone (file removed)".into(),
        Action::DeleteRemoved { .. } => "delete milestone (file removed)".into(),
    }
}

fn commit_message(linked: &[(String, u64, String)]) -> String {
    let ids: Vec<&str> = linked.iter().map(|(id, _, _)| id.as_str()).collect();
    let mut message = if ids.len() <= 3 {
        format!("milestone-sync: link {} to milestones", ids.join(", "))
    } else {
        format!("milestone-sync: link {} artifacts to milestones", ids.len())
    };
    message.push_str("\n\n");
    for (id, number, title) in linked {
        message.push_str(&format!("- {id} → milestone #{number} ({title})\n"));
    }
    message
}

/// Builds one commit with the edits on top of the branch's current head and moves the
/// branch, rebuilding on the new head when the branch moved meanwhile.
async fn commit<G: GitHub>(gh: &G, target: &Target<'_>, edits: &BTreeMap<String, Vec<FieldEdit>>, message: &str) -> Result<(Option<String>, Vec<String>), String> {
    for attempt in 1..=COMMIT_ATTEMPTS {
        let head = gh.branch_head(target.branch).await.map_err(|e| e.to_string())?;
        let at_checkout = target.local_head == Some(head.as_str());
        let mut files = Vec::new();
        for (path, file_edits) in edits {
            let base = if at_checkout {
                target.files.get(path).cloned()
            } else {
                gh.file_at(&head, path).await.map_err(|e| e.to_string())?
            };
            let Some(base) = base else {
                tracing::warn!("{path} no longer exists on {}; its link is not written", target.branch);
                continue;
            };
            let new = artifact::edit(path, &base, file_edits).map_err(|d| format!("{path}: {}", d.message))?;
            if new != base {
                let content = String::from_utf8(new).map_err(|_| format!("{path}: the edited file is not UTF-8"))?;
                files.push(TreeFile { path: path.clone(), content });
            }
        }
        if files.is_empty() {
            return Ok((None, Vec::new()));
        }
        let base_tree = match history::local_tree(target.workspace, &head) {
            Some(tree) => tree,
            None => gh.commit_tree(&head).await.map_err(|e| e.to_string())?,
        };
        let tree = gh.create_tree(&base_tree, &files).await.map_err(|e| e.to_string())?;
        let sha = gh.create_commit(message, &tree, &head).await.map_err(|e| e.to_string())?;
        match gh.update_branch(target.branch, &sha).await {
            Ok(()) => return Ok((Some(sha), files.into_iter().map(|f| f.path).collect())),
            Err(GitHubError::NotFastForward) => {
                tracing::warn!("{} moved while committing (attempt {attempt} of {COMMIT_ATTEMPTS}); rebuilding on the new head", target.branch);
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    Err(format!("{} kept moving; gave up after {COMMIT_ATTEMPTS} attempts", target.branch))
}

fn write_workspace(target: &Target<'_>, edits: &BTreeMap<String, Vec<FieldEdit>>, out: &mut Outcome) {
    for (path, file_edits) in edits {
        let Some(base) = target.files.get(path) else { continue };
        match artifact::edit(path, base, file_edits) {
            Ok(new) if &new != base => match std::fs::write(target.workspace.join(path), &new) {
                Ok(()) => out.files_changed.push(path.clone()),
                Err(e) => out.diagnostics.push(Diagnostic::error(path, None, format!("cannot write the link into the file: {e}"))),
            },
            Ok(_) => {}
            Err(d) => out.diagnostics.push(d),
        }
    }
}
