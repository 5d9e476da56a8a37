//! Which artifacts a push touched, and how: the checkout's own history first, GitHub's compare
//! API when that history cannot tell.
//!
//! The container image has no git, and actions/checkout clones one commit deep by default:
//! either way the checkout cannot list what a push changed. Treating every artifact as touched
//! then would be safe for the fields (the sync base decides who changed what) but loses two
//! things only the push knows: which artifact files it *removed* (their milestones would never
//! close) and which fields it changed (the three-way merge's evidence of a local edit). GitHub
//! knows both: `GET compare/{before}...{after}` lists the changed files, and the contents API
//! gives a changed or removed artifact's earlier bytes.
//!
//! Cost, only when the local history cannot tell: one compare request, plus one contents
//! request per changed or removed artifact (a renamed one counts as removed, for its old
//! path); added artifacts and files that are not artifacts of a syncing project cost nothing.
//! The log says how many were made. A checkout with its history makes none of them.
//!
//! The same fallback serves the pull-request preview ([`changes_from_github`]).

use std::collections::BTreeMap;
use std::io::Write;

use chrono::{DateTime, Utc};

use crate::artifact::{self, Artifact};
use crate::config::Settings;
use crate::event::Push;
use crate::github::{Comparison, FileStatus, GitHub};
use crate::history::{self, FileChange, Touched};
use crate::plan::{self, Touch};
use crate::workspace::Workspace;

/// The files `push` touched under the projects root, and how: from the checkout's history
/// when it has the push, else from GitHub (the log says so, and what it cost); every artifact
/// (with the reason) when neither can tell. When the checkout lacks the push's history (no
/// git, a shallow clone), `times` gets the payload's commit times of the files the push
/// touched: the file side's clock for `last_update_wins` (see [`pushed_times`]).
pub(crate) async fn touched<G: GitHub>(
    settings: &Settings,
    gh: &G,
    ws: &Workspace,
    push: &Push,
    out: &mut dyn Write,
    times: &mut BTreeMap<String, DateTime<Utc>>,
) -> Touched {
    let root = &settings.projects_root;
    let before = push.before.as_deref();
    if !history::has_full_history(&settings.workspace) {
        times.extend(pushed_times(push, root));
    }
    match history::local_changes(&settings.workspace, root, before, &push.after, push.forced) {
        Ok(touched) => touched,
        Err(gap) => {
            let _ = writeln!(
                out,
                "The checkout's history cannot tell which files the push changed ({gap}); asking GitHub's compare API."
            );
            // A gap is only reported for a push with two comparable ends: `before` is there.
            let base = before.unwrap_or_default();
            match changes_from_github(gh, ws, base, &push.after, OldAt::MergeBase, true).await {
                Ok(remote) => {
                    let _ = writeln!(out, "{}", remote.describe(base, &push.after));
                    Touched::Files(remote.files)
                }
                Err(reason) => Touched::All { reason: format!("{gap}, and GitHub could not tell either: {reason}") },
            }
        }
    }
}

/// Which commit holds the earlier version of a changed or removed file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OldAt {
    /// The comparison's merge base: the files as they were where the head left the base
    /// (a push's `before`; a pull request's head checked out on its own).
    MergeBase,
    /// This commit: the base a test merge was made on, whose files the merge changes.
    Commit(String),
}

/// The artifacts GitHub says changed on `head` since its merge base with `base`, with what
/// they held before, and what it cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Remote {
    /// Workspace-relative paths (the repository's), as [`history::touched`] gives them:
    /// renames as removed + added.
    pub files: Vec<(String, FileChange)>,
    /// Files the comparison listed, artifacts or not.
    pub listed: usize,
    /// Contents requests made for earlier versions.
    pub reads: usize,
}

impl Remote {
    /// The log line: what GitHub listed and how many requests it took.
    pub(crate) fn describe(&self, base: &str, head: &str) -> String {
        format!(
            "GitHub's compare API: {} file(s) changed from {} to {}, {} of them artifact(s) that sync; {} earlier version(s) read through the contents API; {} request(s) in all.",
            self.listed,
            short(base),
            short(head),
            self.files.len(),
            self.reads,
            1 + self.reads
        )
    }
}

/// Asks GitHub which files changed on `head` since its merge base with `base` (one compare
/// request) and reads the earlier version of each changed or removed artifact at `old_at`
/// (one contents request each). Only `.md` files directly in the artifact folder of a
/// syncing project count; everything else the comparison lists costs nothing.
///
/// `Err` says why GitHub cannot tell: a failed request, a `head` that does not descend from
/// `base` when `must_descend` (a push that rewrote history: its ends' diff may miss changes),
/// or a list of 300 files, GitHub's cap, which may leave artifacts out.
pub(crate) async fn changes_from_github<G: GitHub>(
    gh: &G,
    ws: &Workspace,
    base: &str,
    head: &str,
    old_at: OldAt,
    must_descend: bool,
) -> Result<Remote, String> {
    let c: Comparison = gh.compare(base, head).await.map_err(|e| format!("the comparison failed: {e}"))?;
    if must_descend && (!matches!(c.status.as_str(), "ahead" | "identical") || c.merge_base != base) {
        return Err(format!(
            "{} does not descend from {} (GitHub says the two are {}), so the push rewrote history",
            short(head),
            short(base),
            c.status
        ));
    }
    if c.capped {
        return Err(format!(
            "the comparison lists {} files, GitHub's limit, so it may leave artifacts out",
            Comparison::MAX_FILES
        ));
    }
    let old_commit = match old_at {
        OldAt::MergeBase => c.merge_base.clone(),
        OldAt::Commit(commit) => commit,
    };
    let mut remote = Remote { files: Vec::new(), listed: c.files.len(), reads: 0 };
    for file in c.files {
        let path = file.path;
        match file.status {
            FileStatus::Added | FileStatus::Copied => {
                if is_artifact_path(ws, &path) {
                    remote.files.push((path, FileChange::Added));
                }
            }
            FileStatus::Modified | FileStatus::Changed => {
                if is_artifact_path(ws, &path) {
                    let change = match earlier(gh, &old_commit, &path, &mut remote.reads).await? {
                        Some(old) => FileChange::Modified { old },
                        // Not there before (a test merge's base lost it meanwhile): new.
                        None => FileChange::Added,
                    };
                    remote.files.push((path, change));
                }
            }
            FileStatus::Removed => {
                if is_artifact_path(ws, &path)
                    && let Some(old) = earlier(gh, &old_commit, &path, &mut remote.reads).await?
                {
                    remote.files.push((path, FileChange::Removed { old }));
                }
            }
            // Removed from the old path and added at the new one, as git's `--no-renames`
            // shows it; the planner keeps the ID of an artifact that moved within its project.
            FileStatus::Renamed => {
                if let Some(previous) = file.previous_path.filter(|p| is_artifact_path(ws, p))
                    && let Some(old) = earlier(gh, &old_commit, &previous, &mut remote.reads).await?
                {
                    remote.files.push((previous, FileChange::Removed { old }));
                }
                if is_artifact_path(ws, &path) {
                    remote.files.push((path, FileChange::Added));
                }
            }
            FileStatus::Unchanged => {}
        }
    }
    Ok(remote)
}

/// A file's bytes at `commit` through the contents API, counted in `reads`.
async fn earlier<G: GitHub>(gh: &G, commit: &str, path: &str, reads: &mut usize) -> Result<Option<Vec<u8>>, String> {
    *reads += 1;
    gh.file_at(commit, path).await.map_err(|e| format!("reading {path} at {} failed: {e}", short(commit)))
}

/// Whether `path` (repository-relative) is where an artifact of a syncing project lives: a
/// `.md` file directly in the project's artifact folder, as the workspace reader finds them.
pub(crate) fn is_artifact_path(ws: &Workspace, path: &str) -> bool {
    ws.projects.iter().any(|p| {
        path.strip_prefix(&format!("{}/{}/", p.dir, p.config.artifact_folder()))
            .is_some_and(|name| !name.contains('/') && name.ends_with(".md"))
    })
}

/// The time of the last pushed commit that added or modified each file under `root`, from the
/// push payload: the file side's clock for `last_update_wins` when the checkout has no
/// history to ask. A file the push did not touch has no time here (ties go to the file).
/// The payload lists at most 2048 commits; a file whose only change is in an unlisted one has
/// no time either.
pub(crate) fn pushed_times(push: &Push, root: &str) -> BTreeMap<String, DateTime<Utc>> {
    let root = root.trim_matches('/');
    let prefix = if root.is_empty() { String::new() } else { format!("{root}/") };
    let mut times = BTreeMap::new();
    for commit in &push.commits {
        let Some(time) = commit.timestamp else { continue };
        for path in commit.added.iter().chain(&commit.modified).filter(|p| p.starts_with(&prefix)) {
            times.insert(path.clone(), time);
        }
    }
    times
}

/// The first 7 characters of a commit id, as GitHub shows them.
fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// Turns a push's file list into the planner's hints: which artifacts it touched, and which
/// fields of each; removed artifacts as they were before the push.
pub fn hints_of_push(
    ws: &Workspace,
    files: Vec<(String, FileChange)>,
) -> (BTreeMap<String, Touch>, Vec<(String, Artifact)>) {
    let mut touched = BTreeMap::new();
    let mut removed = Vec::new();
    let current: BTreeMap<&str, &Artifact> =
        ws.projects.iter().flat_map(|p| &p.artifacts).map(|a| (a.path.as_str(), a)).collect();
    for (path, change) in files {
        match change {
            FileChange::Added => {
                touched.insert(path, Touch::Whole);
            }
            FileChange::Modified { old } => {
                let touch = match (artifact::parse(&path, &old), current.get(path.as_str())) {
                    (Ok(old), Some(new)) => Touch::Fields(plan::changed_fields(&old, new)),
                    _ => Touch::Whole,
                };
                touched.insert(path, touch);
            }
            FileChange::Removed { old } => {
                let Some(project) = ws
                    .projects
                    .iter()
                    .find(|p| path.starts_with(&format!("{}/{}/", p.dir, p.config.artifact_folder())))
                else {
                    continue;
                };
                if let Ok(old) = artifact::parse(&path, &old)
                    && artifact::normalize_label(&old.kind) == project.config.milestone_kind()
                {
                    removed.push((project.slug.clone(), old));
                }
            }
        }
    }
    (touched, removed)
}
