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

use anyhow::Context as _;

use crate::artifact::{self, FieldEdit, keys};
use crate::config::CommitMode;
use crate::diagnostic::Diagnostic;
use crate::github::{Clients, GitHub, GitHubError, NewPullRequest, TreeFile};
use crate::history;
use crate::milestone::MilestonePatch;
use crate::plan::{Action, Change, Plan};

/// How many times a commit is rebuilt on a branch that keeps moving before giving up.
pub const COMMIT_ATTEMPTS: usize = 5;

/// Where and how file changes land.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub workspace: &'a Path,
    /// The branch to commit to.
    pub branch: &'a str,
    /// The commit the plan's files are from (the checkout, or the branch head the run caught
    /// up with), when known: its files need no download.
    pub local_head: Option<&'a str>,
    /// The branch head as the run last read it, when it did (saves reading it again for the
    /// commit's first attempt).
    pub known_head: Option<&'a str>,
    /// Every artifact as read from the workspace (read again when edited).
    pub files: &'a crate::workspace::Files,
    /// Commit to the branch (falling back to a pull request), to a pull request, or into the
    /// workspace.
    pub commit: CommitMode,
    /// Try the one-request GraphQL commit first (see `commit`); off, the Git Database only.
    pub graphql: bool,
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
    /// The changes not attempted because the run stopped (in their repository): these places
    /// in the plan's `changes`, in order (empty when the run went to the end).
    pub not_attempted: Vec<usize>,
    /// The sync's pull request, when the file changes went there.
    pub pull_request: Option<PullRequestOutcome>,
    /// Why the branch refused the commit, when it did (the changes then went to the pull
    /// request).
    pub refused: Option<String>,
    /// Why the file changes could not be committed (nor proposed in a pull request), when
    /// they could not: the changes that write files then count as failed.
    pub commit_failed: Option<String>,
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
    pub fn not_attempted<'p>(&self, plan: &'p Plan) -> Vec<&'p Change> {
        self.not_attempted.iter().map(|&i| &plan.changes[i]).collect()
    }
}

/// Applies `plan`. Milestone changes go first, in plan order, and a failure of one does not
/// stop the others; then the files of artifacts that got a link are changed in one commit.
/// A run that dies between the two heals on the next run: the new milestone carries the
/// artifact's marker, and the planner adopts it. Imported milestones are the other way round:
/// their new artifact files are committed first, numbered on the tree the commit lands on,
/// and only then do the milestones get their marker lines with the final ID (a run that dies
/// in between leaves a file that links its milestone, whose marker the next run adds).
pub async fn apply<G: GitHub>(gh: &G, plan: &Plan, target: &Target<'_>) -> Outcome {
    let clients = Clients::one(gh);
    let (mut out, files) = apply_milestones(&clients, plan).await;
    apply_files(&clients, target, files, &mut out).await;
    out
}

/// The milestone side of [`apply`]: every change in plan order, one request at a time; what
/// the files must say afterwards is collected in the returned [`FileWork`].
pub async fn apply_milestones<'p, G: GitHub>(clients: &Clients<'_, G>, plan: &'p Plan) -> (Outcome, FileWork<'p>) {
    let mut out = Outcome::default();
    let mut files = FileWork::default();
    // Repositories where the run stopped (a rate limit, a missing permission): `stop` lists
    // their later changes as not attempted; other repositories go on.
    let mut stopped: Vec<&str> = Vec::new();
    let several = plan.spans_repositories();
    for (i, change) in plan.changes.iter().enumerate() {
        if stopped.iter().any(|r| r.eq_ignore_ascii_case(&change.repository)) {
            continue;
        }
        let Some(gh) = clients.to(&change.repository) else {
            // The run has no client for this repository: nothing is sent anywhere else.
            let e = format!("no client reaches {}", change.repository);
            out.applied.push(Applied { index: i, result: Err(e) });
            continue;
        };
        let only = several.then_some(change.repository.as_str());
        if let Err(reason) = budget::make_room(gh, &plan.changes[i..], only).await {
            stop(&mut out, reason, plan, i, only);
            stopped.push(&change.repository);
            continue;
        }
        let result = apply_one(gh, change).await;
        match &result {
            Ok((number, url)) => {
                tracing::info!("{}: {} → milestone #{number}", change.artifact_id, describe(change));
                files.record(i, change, *number, url);
            }
            // An error every later change would meet too (a missing permission, the rate
            // limit) stops the run and is reported once, for the run, by `stop`: not here, at
            // a file that has nothing wrong.
            Err(e) if stops_the_run(e, None).is_some() => {
                tracing::error!("{}: {} failed: {e}", change.artifact_id, describe(change));
            }
            Err(e) => {
                tracing::error!("{}: {} failed: {e}", change.artifact_id, describe(change));
                out.diagnostics.push(Diagnostic::error(
                    &change.path,
                    change.line,
                    format!("{} for {} failed: {e}", describe(change), change.artifact_id),
                ));
            }
        }
        let elsewhere = clients.is_other(&change.repository).then_some(change.repository.as_str());
        let stops = result.as_ref().err().and_then(|e| stops_the_run(e, elsewhere));
        out.applied.push(Applied { index: i, result: result.map_err(|e| e.to_string()) });
        if let Some(reason) = stops {
            stop(&mut out, reason, plan, i + 1, only);
            stopped.push(&change.repository);
        }
    }
    (out, files)
}

/// The file side of [`apply`]: one commit on the branch's current head (or the workspace,
/// with `commit: false`) holding every file change the milestone side left in `files`.
pub async fn apply_files<G: GitHub>(
    clients: &Clients<'_, G>,
    target: &Target<'_>,
    mut files: FileWork<'_>,
    out: &mut Outcome,
) {
    // The files are the plan repository's, whichever repository holds their milestones.
    let gh = clients.plan();
    files.retain_writable(target, &mut out.diagnostics);
    if files.is_empty() {
        return;
    }
    let made = match target.commit {
        CommitMode::Workspace => {
            // Imported milestones are marked once their file is on the branch: the file links
            // its milestone, and the run after the merge adds the marker.
            write_workspace(target, &files, out);
            return;
        }
        CommitMode::PullRequest => None,
        CommitMode::Branch => match commit(gh, target, &mut files).await {
            Ok((sha, changed, skipped)) => {
                for (ours, number, theirs) in &files.imported_meanwhile {
                    out.diagnostics.push(Diagnostic::notice(format!(
                        "milestone #{number} was imported by another run at the same time, as {theirs}: {ours} was not written, and the milestone keeps that file's marker"
                    )));
                }
                mark_imports(clients, &files, out).await;
                record_after_commit(clients, &files, &changed, out).await;
                out.commit_sha = sha;
                out.files_changed = changed;
                for path in skipped {
                    out.diagnostics.push(Diagnostic::warning(
                        &path,
                        None,
                        format!("changed on {} while the sync ran, in values the sync reads: its file changes were not written; the next run syncs it", target.branch),
                    ));
                }
                return;
            }
            Err(CommitFailed::Protected { error, built, commit }) => {
                tracing::warn!("{error}; the file changes go to a pull request instead");
                out.refused = Some(error.to_string());
                Some((*built, commit))
            }
            Err(CommitFailed::Other(e)) => {
                let e = format!("{e:#}");
                out.commit_failed = Some(e.clone());
                out.diagnostics.push(Diagnostic::general(
                    crate::diagnostic::Level::Error,
                    format!("committing the file changes to {} failed: {e}. Milestones already changed are found again by their markers on the next run", target.branch),
                ));
                return;
            }
        },
    };
    if let Err(e) = propose(gh, target, &mut files, made, out).await {
        out.commit_failed = Some(format!("{e:#}"));
        // Where Actions may not open pull requests the error is the fix, said whole.
        let why = match e.downcast_ref::<GitHubError>() {
            Some(forbidden @ GitHubError::PullRequestsForbidden { .. }) => forbidden.to_string(),
            _ => format!("putting the file changes in a pull request into {} failed: {e:#}", target.branch),
        };
        out.diagnostics.push(Diagnostic::general(
            crate::diagnostic::Level::Error,
            format!("{why}. The milestones are synced; the next run tries again"),
        ));
    }
}

/// An error after which every later change would fail the same way: the run stops there.
///
/// In `elsewhere`, a repository other than the plan's, a missing permission is the token's
/// there: the workflow's `permissions:` cannot grant it.
fn stops_the_run(error: &GitHubError, elsewhere: Option<&str>) -> Option<String> {
    match error {
        GitHubError::RateLimited { .. } => Some(error.to_string()),
        GitHubError::Permission { permission, method, path, message } if let Some(repository) = elsewhere => {
            Some(format!(
                "GitHub refused {method} {path}: {message}. The token that reaches {repository} lacks \"{}\" there: give it to the GitHub App on {repository}, or to the token in the project's `pat_env_var_name` (a workflow's `permissions:` cover only its own repository). Every other change in {repository} would be refused the same way",
                permission.token_permission()
            ))
        }
        GitHubError::Permission { .. } => Some(format!("{error}. Every other change would be refused the same way")),
        _ => None,
    }
}

/// Records that the run stopped before the plan's change `from`: one error for the run (or,
/// with `only`, for that repository), with the cause and its fix, however many changes it
/// left, and those changes (of `only`'s repository, else all) as not attempted (the job
/// summary lists them, and the log's Plan group has every change).
fn stop(out: &mut Outcome, reason: String, plan: &Plan, from: usize, only: Option<&str>) {
    let left_out: Vec<usize> = (from..plan.changes.len())
        .filter(|&i| only.is_none_or(|r| plan.changes[i].repository.eq_ignore_ascii_case(r)))
        .collect();
    let rest = left_out.len();
    tracing::error!("stopping before the end of the plan: {reason}");
    let left = match rest {
        0 => String::new(),
        n => format!(" {n} change(s) were not attempted (the job summary lists them)."),
    };
    let (what, others) = match only {
        Some(repository) => (format!("the run stopped for {repository}"), " The other repositories went on."),
        None => ("the run stopped".to_string(), ""),
    };
    out.diagnostics.push(Diagnostic::general(
        crate::diagnostic::Level::Error,
        format!(
            "{what}: {reason}.{left}{others} Changes already made are kept; run the workflow again once the cause is fixed or has passed (a `workflow_dispatch` run catches up on everything)"
        ),
    ));
    if out.stopped.is_none() {
        out.stopped = Some(reason);
    }
    out.not_attempted.extend(left_out);
    out.not_attempted.sort_unstable();
}

/// The file side of a plan: edits of existing artifacts, new artifact files, and one line per
/// change for the commit message. It borrows from the plan rather than copying it: a first
/// import's plan is most of the run's memory.
#[derive(Debug, Default)]
pub struct FileWork<'p> {
    edits: BTreeMap<&'p str, Vec<Cow<'p, FieldEdit>>>,
    new_files: Vec<NewFile<'p>>,
    /// Milestone records to send once the commit landed: (repository, milestone, record
    /// patch, path).
    after_commit: Vec<(&'p str, u64, &'p MilestonePatch, &'p str)>,
    /// The commit message's lines, one per change, the first [`MESSAGE_LINES_MAX`] of them.
    lines: Vec<String>,
    /// New files dropped because a file the branch gained meanwhile links their milestone
    /// (another run imported it): (our path, milestone, the file that links it).
    imported_meanwhile: Vec<(String, u64, String)>,
    ids: Vec<&'p str>,
}

/// The most changes a commit message lists one per line; a first import of thousands names
/// the first ones and counts the rest (the job summary and the log have them).
const MESSAGE_LINES_MAX: usize = 200;

/// A new artifact file for an imported milestone. Its ID is given again when the branch moved
/// under the run and took it ([`renumber`]); the milestone's marker follows the final ID.
#[derive(Debug)]
struct NewFile<'p> {
    /// The change's place in the plan.
    index: usize,
    /// The repository that holds the milestone.
    repository: &'p str,
    number: u64,
    id: String,
    path: String,
    content: Cow<'p, str>,
    marker: Cow<'p, MilestonePatch>,
    /// Committed (the marker may follow).
    written: bool,
}

impl<'p> FileWork<'p> {
    fn record(&mut self, index: usize, change: &'p Change, number: u64, url: &str) {
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
                if let Some(patch) = &change.after_commit {
                    self.after_commit.push((&change.repository, number, patch, &change.path));
                }
                line("linked", "→")
            }
            Action::RecordDeleted { .. } | Action::Update { .. } if !change.file_edits.is_empty() => {
                self.edits.entry(&change.path).or_default().extend(change.file_edits.iter().map(Cow::Borrowed));
                if let Some(patch) = &change.after_commit {
                    self.after_commit.push((&change.repository, number, patch, &change.path));
                }
                let what =
                    if change.file_fields.is_empty() { "sync base".to_string() } else { change.file_fields.join(", ") };
                line(&what, "←")
            }
            Action::CreateFile { content, marker_patch, .. } => {
                self.new_files.push(NewFile {
                    index,
                    repository: &change.repository,
                    number,
                    id: change.artifact_id.clone(),
                    path: change.path.clone(),
                    content: Cow::Borrowed(content),
                    marker: Cow::Borrowed(marker_patch),
                    written: false,
                });
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
            paths::check(path).and_then(|()| {
                if target.commit.commits() { Ok(()) } else { paths::check_no_link(target.workspace, path) }
            })
        };
        let mut refuse = |path: &str, why: String| diagnostics.push(Diagnostic::error(path, None, why));
        self.edits.retain(|path, _| check(path).map_err(|why| refuse(path, why)).is_ok());
        self.new_files.retain(|f| check(&f.path).map_err(|why| refuse(&f.path, why)).is_ok());
    }

    /// The title and body of the sync's pull request into `branch`.
    fn proposal(&self, branch: &str) -> (String, String) {
        let message = self.message();
        let (subject, rest) = message.split_once("\n\n").unwrap_or((message.as_str(), ""));
        let body = format!(
            "`{branch}` takes changes only through pull requests, so milestone-sync keeps the file changes its runs need here. The milestones on GitHub are synced already; merging brings the files in line with them.\n\n{rest}\nEvery run rebuilds this branch on `{branch}`'s head with every change still pending, so it never holds an older state; once it is merged, the next run has nothing to add.\n"
        );
        (subject.to_string(), body)
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
        Action::RecordDeleted { number, html_url } => Ok((*number, html_url.clone())),
        // The marker lines follow the commit of the new file (see [`mark_imports`]).
        Action::CreateFile { number, html_url, .. } => Ok((*number, html_url.clone())),
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
                format!("link existing milestone ({how}) and update {}", change.sent_fields().join(", "))
            }
        }
        Action::Update { .. } => {
            let mut parts = Vec::new();
            if !change.fields.is_empty() {
                parts.push(format!("update {}", change.sent_fields().join(", ")));
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
            // Both sides agree: the milestone's marker lines or its record of the sync base
            // are brought up to date (no commit).
            if parts.is_empty() {
                "update the milestone's marker lines and sync record".into()
            } else {
                parts.join("; ")
            }
        }
        Action::CloseRemoved { .. } => "close milestone (file removed)".into(),
        Action::DeleteRemoved { .. } => "delete milestone (file removed)".into(),
        Action::RecordDeleted { number, .. } => {
            format!("milestone #{number} was deleted on GitHub: recorded in the file")
        }
        Action::CreateFile { .. } => "create artifact file and mark the milestone".into(),
    }
}

/// The most files one `POST git/trees` carries. A commit of more (the first import of a
/// large plan) is built as a chain of trees, each on top of the one before: no request
/// carries more than a few megabytes, and the run never holds every new file at once.
pub const TREE_FILES: usize = 1000;

/// The run's file changes, built on a head.
struct Built {
    head: String,
    content: Content,
    written: Vec<String>,
    skipped: Vec<String>,
}

/// What a commit carries: its files, for the one-request GraphQL commit, or a tree already
/// made through the Git Database (a commit too large for one request, or GraphQL not on
/// offer).
enum Content {
    /// No file needed a change.
    Nothing,
    Files(Vec<TreeFile>),
    Tree(String),
}

/// Why the file changes did not land on the branch.
enum CommitFailed {
    /// The branch refuses updates (branch protection, a ruleset): the changes, built on the
    /// branch's head (and the commit, when the Git Database made one), can go to a pull
    /// request instead.
    Protected { error: GitHubError, built: Box<Built>, commit: Option<String> },
    /// Anything else: what the commit was doing, and GitHub's answer.
    Other(anyhow::Error),
}

impl From<anyhow::Error> for CommitFailed {
    fn from(error: anyhow::Error) -> Self {
        CommitFailed::Other(error)
    }
}

/// The most files, and bytes of them, one GraphQL commit carries; a larger commit goes
/// through the Git Database, in trees of [`TREE_FILES`]. GitHub documents no limit for
/// `createCommitOnBranch`; these keep its request (base64: a third larger) well under the
/// sizes GitHub's API accepts, and equal the tree batches.
pub const GRAPHQL_FILES: usize = TREE_FILES;
pub const GRAPHQL_BYTES: usize = 10 * 1024 * 1024;

/// Builds one commit with the edits on top of the branch's head and moves the branch,
/// rebuilding on the new head when the branch moved meanwhile.
///
/// The commit goes in one request where GitHub allows it: GraphQL's `createCommitOnBranch`
/// with `expectedHeadOid` the head the plan was made on (the run read it before planning: a
/// branch that moved since refuses it, and the head is read again). Through the Git Database (the
/// head, a tree, a commit, the ref: four requests) when the commit is larger than
/// [`GRAPHQL_FILES`] or [`GRAPHQL_BYTES`], or this GitHub has no such mutation.
async fn commit<G: GitHub>(
    gh: &G,
    target: &Target<'_>,
    work: &mut FileWork<'_>,
) -> Result<(Option<String>, Vec<String>, Vec<String>), CommitFailed> {
    let message = work.message();
    let mut graphql = target.graphql;
    let mut attempt = 0;
    while attempt < COMMIT_ATTEMPTS {
        attempt += 1;
        let first = attempt == 1;
        let head = match target.known_head {
            Some(head) if first => head.to_string(),
            _ => {
                gh.branch_head(target.branch).await.with_context(|| format!("reading the head of {}", target.branch))?
            }
        };
        let built = build_tree(gh, target, work, head, graphql).await?;
        let landed = match &built.content {
            Content::Nothing => return Ok((None, Vec::new(), built.skipped)),
            Content::Files(files) => match commit_in_one(gh, target.branch, &built.head, &message, files).await {
                Ok(sha) => Ok(sha),
                Err(GitHubError::Unsupported { message } | GitHubError::NotFound { path: message, .. }) => {
                    tracing::warn!(
                        "the one-request commit is not on offer here ({message}); committing through the Git Database"
                    );
                    graphql = false;
                    attempt -= 1;
                    continue;
                }
                Err(e) => Err((e, None)),
            },
            Content::Tree(tree) => {
                let sha = gh.create_commit(&message, tree, &built.head).await.context("creating the commit")?;
                gh.update_branch(target.branch, &sha).await.map(|()| sha.clone()).map_err(|e| (e, Some(sha)))
            }
        };
        match landed {
            Ok(sha) => return Ok((Some(sha), built.written, built.skipped)),
            Err((GitHubError::NotFastForward, _)) => {
                tracing::warn!(
                    "{} moved while committing (attempt {attempt} of {COMMIT_ATTEMPTS}); rebuilding on the new head",
                    target.branch
                );
            }
            Err((error @ GitHubError::ProtectedBranch { .. }, commit)) => {
                return Err(CommitFailed::Protected { error, built: Box::new(built), commit });
            }
            Err((e, _)) => {
                return Err(CommitFailed::Other(anyhow::Error::new(e).context(format!("moving {}", target.branch))));
            }
        }
    }
    Err(CommitFailed::Other(anyhow::anyhow!("{} kept moving; gave up after {COMMIT_ATTEMPTS} attempts", target.branch)))
}

/// Whether a commit's stored message is `sent`: GraphQL stores the headline, a blank line and
/// the body, however the body was separated when sent.
fn same_message(stored: &str, sent: &str) -> bool {
    let split = |m: &str| {
        let (headline, body) = m.split_once('\n').unwrap_or((m, ""));
        (headline.trim().to_string(), body.trim().to_string())
    };
    split(stored) == split(sent)
}

/// How many times a GraphQL commit whose answer was lost (and that the branch shows was
/// not made) is sent: as many as the client's attempts at a request it may send again.
const COMMIT_SENDS: usize = 3;

/// One GraphQL commit of `files` on `branch` at `head`. The client never sends it twice;
/// when its answer is lost the branch says what happened: still at `head`, the commit was
/// not made and is sent once more; moved to a commit whose parent is `head` and whose
/// message is ours, it was (that commit is the run's); moved elsewhere, someone else pushed
/// (the caller rebuilds on the new head, as for a stale head). A commit is never made twice:
/// `expectedHeadOid` would refuse the second anyway.
async fn commit_in_one<G: GitHub>(
    gh: &G,
    branch: &str,
    head: &str,
    message: &str,
    files: &[TreeFile],
) -> Result<String, GitHubError> {
    let mut sent = 0;
    loop {
        sent += 1;
        match gh.commit_on_branch(branch, head, message, files).await {
            // No answer, or a 5xx: the mutation may have run.
            Err(lost @ (GitHubError::Transport { .. } | GitHubError::Http { status: 500..=599, .. })) => {
                tracing::warn!("the commit's answer was lost ({lost}); looking at {branch} before sending it again");
                let now = gh.branch_head(branch).await?;
                if now == head {
                    if sent < COMMIT_SENDS {
                        continue;
                    }
                    return Err(lost);
                }
                let parts = gh.commit_parts(&now).await?;
                if parts.parents == [head.to_string()] && same_message(&parts.message, message) {
                    tracing::info!("{branch} is at {now}, this run's commit: it was made");
                    return Ok(now);
                }
                return Err(GitHubError::NotFastForward);
            }
            other => return other,
        }
    }
}

/// The tree of the run's file changes on `head`: each edited file as `head` has it (from the
/// workspace where it is unchanged since the plan was made, else read there), new files
/// numbered again where `head` took their IDs.
async fn build_tree<G: GitHub>(
    gh: &G,
    target: &Target<'_>,
    work: &mut FileWork<'_>,
    head: String,
    collect: bool,
) -> anyhow::Result<Built> {
    let at_checkout = target.local_head == Some(head.as_str());
    let moved = if at_checkout { None } else { changed_since_checkout(gh, target, &head, work).await };
    // A file the head has as the checkout had it is taken from the workspace.
    let as_checked_out = |path: &str| at_checkout || moved.as_ref().is_some_and(|m| !m.contains(path));
    let mut tree = Trees { head: &head, tree: None, files: Vec::new(), written: Vec::new(), collect, bytes: 0 };
    let mut skipped = Vec::new();
    for (path, file_edits) in &work.edits {
        let planned = target.files.get(path).map_err(anyhow::Error::msg)?;
        let base = if as_checked_out(path) {
            planned.clone()
        } else {
            gh.file_at(&head, path).await.with_context(|| format!("reading {path} at the head"))?
        };
        let Some(base) = base else {
            tracing::warn!("{path} no longer exists on {}; its changes are not written", target.branch);
            continue;
        };
        // Changed on the branch while the run was planning: the edits were planned for the
        // other version. They go ahead only where the change touched nothing the sync
        // reads; otherwise the file is left to the next run (the push that changed it
        // starts one), so that no edit of a person's is overwritten.
        if let Some(planned) = &planned
            && *planned != base
            && !same_sync_state(path, planned, &base)
        {
            tracing::warn!(
                "{path} changed on {} while the sync ran, in values the sync reads; its changes are left to the next run",
                target.branch
            );
            skipped.push(path.to_string());
            continue;
        }
        let new =
            artifact::edit(path, &base, &owned(file_edits)).map_err(|d| anyhow::anyhow!("{path}: {}", d.message))?;
        if new != base {
            let content =
                String::from_utf8(new).map_err(|_| anyhow::anyhow!("{path}: the edited file is not UTF-8"))?;
            tree.add(gh, target, TreeFile { path: path.to_string(), content }).await?;
        }
    }
    // A milestone that a file the branch gained meanwhile links was imported by another run:
    // not imported twice. The other new files are numbered again above the IDs it took.
    if let Some(moved) = &moved {
        drop_imported_meanwhile(gh, &head, work, moved).await?;
        renumber(&mut work.new_files, moved);
    }
    for file in work.new_files.iter_mut() {
        let path = file.path.as_str();
        let exists = if as_checked_out(path) {
            target.files.exists(path)
        } else {
            gh.file_at(&head, path).await.with_context(|| format!("reading {path} at the head"))?.is_some()
        };
        file.written = !exists;
        if exists {
            tracing::warn!("{path} exists already on {}; not overwritten", target.branch);
            continue;
        }
        tree.add(gh, target, TreeFile { path: path.to_string(), content: file.content.to_string() }).await?;
    }
    let (content, written) = tree.finish(gh, target).await?;
    Ok(Built { head, content, written, skipped })
}

/// The sync's own branch for pull requests into `branch`.
pub fn proposal_branch(branch: &str) -> String {
    format!("milestone-sync/{branch}")
}

/// Lands the run's file changes as one pull request into the branch: the commit (`made`, when
/// the branch refused it, else built here on the branch's head) on the sync's own branch,
/// which is rebuilt on the head every run and so carries every pending change and never an
/// older state, and one open pull request from it, found by its head branch and updated (or
/// opened). Nothing is written when the branch already holds exactly this commit's files on
/// this head.
async fn propose<G: GitHub>(
    gh: &G,
    target: &Target<'_>,
    work: &mut FileWork<'_>,
    made: Option<(Built, Option<String>)>,
    out: &mut Outcome,
) -> anyhow::Result<()> {
    let (mut built, commit) = match made {
        Some((built, commit)) => (built, commit),
        None => {
            let head = match target.known_head {
                Some(head) => head.to_string(),
                None => gh.branch_head(target.branch).await?,
            };
            (build_tree(gh, target, work, head, false).await?, None)
        }
    };
    // The sync's branch is rebuilt on the head every run, not appended to: a tree and a commit
    // of the Git Database, also for changes built for a GraphQL commit the branch refused.
    let tree = match std::mem::replace(&mut built.content, Content::Nothing) {
        Content::Nothing => return Ok(()),
        Content::Tree(tree) => tree,
        Content::Files(files) => {
            let trees = Trees { head: &built.head, tree: None, files, written: Vec::new(), collect: false, bytes: 0 };
            match trees.finish(gh, target).await? {
                (Content::Tree(tree), _) => tree,
                _ => return Ok(()),
            }
        }
    };
    let branch = proposal_branch(target.branch);
    let existing = gh.find_branch(&branch).await?;
    let unchanged = match &existing {
        Some(sha) => {
            let parts = gh.commit_parts(sha).await?;
            parts.tree == tree && parts.parents == [built.head.clone()]
        }
        None => false,
    };
    let sha = match (existing, unchanged) {
        (Some(sha), true) => {
            tracing::info!("{branch} already holds these file changes on {}'s head", target.branch);
            sha
        }
        (existing, _) => {
            let sha = match commit {
                Some(sha) => sha,
                None => gh.create_commit(&work.message(), &tree, &built.head).await?,
            };
            match existing {
                Some(_) => gh.force_branch(&branch, &sha).await?,
                None => match gh.create_branch(&branch, &sha).await {
                    Err(GitHubError::BranchExists { .. }) => gh.force_branch(&branch, &sha).await?,
                    other => other?,
                },
            }
            sha
        }
    };
    out.commit_sha = Some(sha);
    out.files_changed = built.written;
    for path in built.skipped {
        out.diagnostics.push(Diagnostic::warning(
            &path,
            None,
            format!("changed on {} while the sync ran, in values the sync reads: its file changes were not written; the next run syncs it", target.branch),
        ));
    }
    let (title, body) = work.proposal(target.branch);
    let pull = match gh.open_pull_request(&branch, target.branch).await? {
        Some(pr) if pr.title == title && pr.body == body => PullRequestOutcome::unchanged(pr),
        Some(pr) => PullRequestOutcome::updated(gh.update_pull_request(pr.number, &title, &body).await?),
        None => {
            let new = NewPullRequest { title, head: branch.clone(), base: target.branch.to_string(), body };
            match gh.create_pull_request(&new).await {
                Ok(pr) => PullRequestOutcome::opened(pr),
                // Opened meanwhile (another run), or opened but the answer was lost: the open
                // one is ours; never a second.
                Err(
                    e @ (GitHubError::PullRequestExists { .. }
                    | GitHubError::Transport { .. }
                    | GitHubError::Http { status: 500..=599, .. }),
                ) => match gh.open_pull_request(&branch, target.branch).await? {
                    Some(pr) => PullRequestOutcome::opened(pr),
                    None => return Err(e.into()),
                },
                Err(e) => return Err(e.into()),
            }
        }
    };
    tracing::info!("{}: pull request #{} ({})", branch, pull.number, pull.what);
    out.pull_request = Some(pull);
    Ok(())
}

/// The sync's pull request, after a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequestOutcome {
    pub number: u64,
    pub url: String,
    /// `opened`, `updated` or `unchanged`.
    pub what: &'static str,
}

impl PullRequestOutcome {
    fn opened(pr: crate::github::PullRequestInfo) -> Self {
        PullRequestOutcome { number: pr.number, url: pr.html_url, what: "opened" }
    }
    fn updated(pr: crate::github::PullRequestInfo) -> Self {
        PullRequestOutcome { number: pr.number, url: pr.html_url, what: "updated" }
    }
    fn unchanged(pr: crate::github::PullRequestInfo) -> Self {
        PullRequestOutcome { number: pr.number, url: pr.html_url, what: "unchanged" }
    }
}

/// Gives each imported milestone its marker lines (and the sync's record), with the ID of the
/// file the commit carried; one request each. A milestone whose file was not written (it
/// existed already) is left unmarked, and one whose marking fails is reported: the file links
/// it, so the next run adds the marker.
async fn mark_imports<G: GitHub>(clients: &Clients<'_, G>, work: &FileWork<'_>, out: &mut Outcome) {
    for file in work.new_files.iter().filter(|f| f.written) {
        let Some(gh) = clients.to(file.repository) else { continue };
        if let Err(e) = gh.update_milestone(file.number, &file.marker).await {
            tracing::error!("{}: marking milestone #{} failed: {e}", file.id, file.number);
            out.diagnostics.push(Diagnostic::error(
                &file.path,
                None,
                format!(
                    "marking milestone #{} as {} failed: {e}; the file links it, so the next run marks it",
                    file.number, file.id
                ),
            ));
            if let Some(applied) = out.applied.iter_mut().find(|a| a.index == file.index) {
                applied.result = Err(e.to_string());
            }
        }
    }
}

/// Once the commit has landed, tells the milestones of the files it changed (where the run did
/// not write them anyway) which generation of the file's record the sync wrote: a run started
/// from an older checkout then reads the branch head before it writes. One request each; a
/// failure is a warning, since the sync itself stays correct (such a run only learns later).
async fn record_after_commit<G: GitHub>(
    clients: &Clients<'_, G>,
    work: &FileWork<'_>,
    written: &[String],
    out: &mut Outcome,
) {
    for (repository, number, patch, path) in &work.after_commit {
        if !written.iter().any(|w| w == path) {
            continue;
        }
        let Some(gh) = clients.to(repository) else { continue };
        if let Err(e) = gh.update_milestone(*number, patch).await {
            tracing::warn!("{path}: recording the new base on milestone #{number} failed: {e}");
            out.diagnostics.push(Diagnostic::warning(
                *path,
                None,
                format!("the sync's record on milestone #{number} could not be updated after the commit ({e}); a run from an older checkout may not see the commit until the next run"),
            ));
        }
    }
}

/// Drops the new artifact files whose milestone a file among `moved` (the paths the branch
/// changed since the plan was made) links at `head`: another run, started at the same time,
/// imported that milestone first. Only the moved files of the new files' folders are read,
/// one request each, and only when the branch moved under the run. A dropped file is not
/// written, so its milestone's marker is not sent either: the marker the other run gave it
/// stays.
async fn drop_imported_meanwhile<G: GitHub>(
    gh: &G,
    head: &str,
    work: &mut FileWork<'_>,
    moved: &std::collections::BTreeSet<String>,
) -> anyhow::Result<()> {
    if work.new_files.is_empty() {
        return Ok(());
    }
    let folder = |path: &str| path.rsplit_once('/').map(|(f, _)| f.to_string()).unwrap_or_default();
    let folders: std::collections::BTreeSet<String> = work.new_files.iter().map(|f| folder(&f.path)).collect();
    let mut links: Vec<(String, String)> = Vec::new();
    for path in moved.iter().filter(|p| p.ends_with(".md") && folders.contains(&folder(p))) {
        let Some(bytes) = gh.file_at(head, path).await.with_context(|| format!("reading {path} at the head"))? else {
            continue;
        };
        if let Ok(a) = artifact::parse(path, &bytes)
            && let Some(link) = a.link
        {
            links.push((link, path.clone()));
        }
    }
    let mut dropped = Vec::new();
    work.new_files.retain(|f| {
        let theirs = links.iter().find(|(link, _)| crate::link::milestone_number(link, f.repository) == Some(f.number));
        match theirs {
            Some((_, path)) => {
                tracing::warn!("milestone #{} was imported meanwhile as {path}; {} is not written", f.number, f.path);
                dropped.push((f.path.clone(), f.number, path.clone()));
                false
            }
            None => true,
        }
    });
    work.imported_meanwhile.extend(dropped);
    Ok(())
}

/// Numbers new artifact files again where the branch gained files since the plan was made
/// (`moved`: the paths that differ) whose names take the same IDs in the same folder: each
/// such new file, and those after it in that folder, get the next numbers above the highest
/// taken, as wide as before. The file's `id`, its name and the milestone's marker follow.
fn renumber(new_files: &mut [NewFile<'_>], moved: &std::collections::BTreeSet<String>) {
    let parse = |path: &str| -> Option<(String, String, u32, usize)> {
        let (folder, name) = path.rsplit_once('/')?;
        let (prefix, rest) = name.split_once('-')?;
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        Some((folder.to_string(), prefix.to_string(), digits.parse().ok()?, digits.len()))
    };
    let mut taken: BTreeMap<(String, String), u32> = BTreeMap::new();
    let mut taken_numbers = std::collections::BTreeSet::new();
    for (folder, prefix, n, _) in moved.iter().filter_map(|p| parse(p)) {
        let max = taken.entry((folder.clone(), prefix.clone())).or_insert(0);
        *max = (*max).max(n);
        taken_numbers.insert((folder, prefix, n));
    }
    let mut next: BTreeMap<(String, String), u32> = BTreeMap::new();
    for file in new_files.iter_mut() {
        let Some((folder, prefix, n, width)) = parse(&file.path) else { continue };
        let key = (folder.clone(), prefix.clone());
        let collides = taken_numbers.contains(&(folder.clone(), prefix.clone(), n)) || next.contains_key(&key);
        if !collides {
            continue;
        }
        let floor = next.get(&key).copied().unwrap_or(0).max(taken.get(&key).copied().unwrap_or(0));
        let number = floor.max(n.saturating_sub(1)) + 1;
        next.insert(key, number);
        let old = file.id.clone();
        let new = format!("{prefix}-{number:0width$}");
        let name = file.path.rsplit('/').next().unwrap_or_default();
        let rest = name.strip_prefix(&old).unwrap_or(name.split_once('_').map_or("", |(_, r)| r));
        let rest = rest.strip_prefix('_').map(|r| format!("_{r}")).unwrap_or_else(|| rest.to_string());
        tracing::warn!("{old} was taken on the branch meanwhile: the new artifact is {new}");
        file.path = format!("{folder}/{new}{rest}");
        file.content = Cow::Owned(file.content.replacen(&format!("id = \"{old}\""), &format!("id = \"{new}\""), 1));
        let mut marker = file.marker.as_ref().clone();
        marker.description = marker
            .description
            .map(|d| d.replacen(&format!("IntelliManage-ID: {old}"), &format!("IntelliManage-ID: {new}"), 1));
        file.marker = Cow::Owned(marker);
        file.id = new;
    }
}

/// Whether two versions of an artifact file agree on everything the sync reads and writes:
/// its ID, synced values, link and the sync's own keys. A change elsewhere in the file (a
/// typo fixed in another section, a comment) does not stop the sync's edits.
fn same_sync_state(path: &str, a: &[u8], b: &[u8]) -> bool {
    match (artifact::parse(path, a), artifact::parse(path, b)) {
        (Ok(a), Ok(b)) => {
            (&a.id, &a.title, &a.status, &a.description, a.due, a.due_key, &a.link, &a.base, &a.conflict, &a.deleted)
                == (
                    &b.id,
                    &b.title,
                    &b.status,
                    &b.description,
                    b.due,
                    b.due_key,
                    &b.link,
                    &b.base,
                    &b.conflict,
                    &b.deleted,
                )
        }
        _ => false,
    }
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
    // A single edited file is read at the head anyway: one read costs no more. New files need
    // the list, to see IDs the branch took meanwhile.
    if work.edits.len() < 2 && work.new_files.is_empty() {
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

/// The content of a commit under construction. Collecting, files are kept for a GraphQL
/// commit until they pass [`GRAPHQL_FILES`] or [`GRAPHQL_BYTES`]; from then on (or from the
/// start, not collecting) they are sent [`TREE_FILES`] at a time, each batch on top of the
/// tree the previous one made (the first on the head's tree).
struct Trees<'h> {
    head: &'h str,
    /// The tree made so far, if any.
    tree: Option<String>,
    /// Files not sent yet.
    files: Vec<TreeFile>,
    /// Paths sent.
    written: Vec<String>,
    /// Still collecting for one GraphQL commit.
    collect: bool,
    /// Bytes of the files collected.
    bytes: usize,
}

impl Trees<'_> {
    async fn add<G: GitHub>(&mut self, gh: &G, target: &Target<'_>, file: TreeFile) -> anyhow::Result<()> {
        self.bytes += file.content.len();
        self.files.push(file);
        if self.collect && (self.files.len() > GRAPHQL_FILES || self.bytes > GRAPHQL_BYTES) {
            tracing::info!(
                "the commit is larger than one request carries ({GRAPHQL_FILES} files or {} MB); it goes through the Git Database",
                GRAPHQL_BYTES / (1024 * 1024)
            );
            self.collect = false;
        }
        while !self.collect && self.files.len() >= TREE_FILES {
            self.send(gh, target).await?;
        }
        Ok(())
    }

    async fn send<G: GitHub>(&mut self, gh: &G, target: &Target<'_>) -> anyhow::Result<()> {
        let base = match self.tree.take() {
            Some(tree) => tree,
            None => match history::local_tree(target.workspace, self.head) {
                Some(tree) => tree,
                None => gh.commit_tree(self.head).await.context("reading the head's tree")?,
            },
        };
        // At most one batch: files collected for a GraphQL commit that grew too large are
        // sent as they would have been.
        let batch: Vec<TreeFile> = self.files.drain(..self.files.len().min(TREE_FILES)).collect();
        self.tree = Some(gh.create_tree(&base, &batch).await.context("creating the tree")?);
        self.written.extend(batch.into_iter().map(|f| f.path));
        Ok(())
    }

    /// What the commit carries and the paths it writes.
    async fn finish<G: GitHub>(mut self, gh: &G, target: &Target<'_>) -> anyhow::Result<(Content, Vec<String>)> {
        if self.collect {
            if self.files.is_empty() {
                return Ok((Content::Nothing, Vec::new()));
            }
            let written = self.files.iter().map(|f| f.path.clone()).collect();
            return Ok((Content::Files(self.files), written));
        }
        while !self.files.is_empty() {
            self.send(gh, target).await?;
        }
        Ok(match self.tree {
            Some(tree) => (Content::Tree(tree), self.written),
            None => (Content::Nothing, Vec::new()),
        })
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
    for file in &work.new_files {
        let (path, content) = (file.path.as_str(), file.content.as_ref());
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
                out.diagnostics.push(Diagnostic::error(path, None, format!("cannot write the new artifact: {e}")))
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
            repository: "o/r".into(),
            artifact_id: format!("EPIC-{i:03}"),
            artifact_title: format!("Title {i}"),
            path: format!(".ruru/projects/demo/epics/EPIC-{i:03}_a.md"),
            action,
            fields: Vec::new(),
            file_edits: vec![],
            after_commit: None,
            file_fields: vec![],
            values: Vec::new(),
            line: None,
            start: None,
            conflicts: vec![],
        }
    }

    /// A run stopped early says so once, for the run, with how many changes it left; the
    /// changes themselves are the summary's and the log's to list, not the annotation's.
    #[test]
    fn a_stop_is_one_error_for_the_run() {
        let change = |i: usize| {
            change(
                i,
                Action::CloseRemoved { number: i as u64, html_url: format!("https://github.com/a/b/milestone/{i}") },
            )
        };
        let plan = Plan { changes: (0..30).map(change).collect(), ..Default::default() };
        let mut out = Outcome::default();
        stop(&mut out, "the rate limit is used up".into(), &plan, 5, None);
        assert_eq!(out.not_attempted, (5..30).collect::<Vec<_>>());
        assert_eq!(out.not_attempted(&plan).first().map(|c| c.artifact_id.as_str()), Some("EPIC-005"));
        assert_eq!(out.diagnostics.len(), 1);
        let d = &out.diagnostics[0];
        assert_eq!((d.file.as_deref(), d.level), (None, crate::diagnostic::Level::Error), "for the run, not a file");
        assert!(
            d.message.starts_with("the run stopped: the rate limit is used up. 25 change(s) were not attempted"),
            "{}",
            d.message
        );
        // The last change failing stops the run too, with nothing left: still said.
        let mut out = Outcome::default();
        stop(&mut out, "the token lacks `issues: write`".into(), &plan, 30, None);
        assert!(
            out.diagnostics[0]
                .message
                .starts_with("the run stopped: the token lacks `issues: write`. Changes already made"),
            "{:?}",
            out.diagnostics
        );
    }

    #[test]
    fn a_commit_is_recognised_by_its_message_as_graphql_stores_it() {
        let sent = "milestone-sync: sync EPIC-001 with milestones\n\n- EPIC-001: title\n";
        assert!(same_message("milestone-sync: sync EPIC-001 with milestones\n\n- EPIC-001: title", sent));
        assert!(same_message("milestone-sync: sync EPIC-001 with milestones\n- EPIC-001: title\n", sent));
        assert!(!same_message("milestone-sync: sync EPIC-002 with milestones\n\n- EPIC-002: title", sent));
        assert!(!same_message("milestone-sync: sync EPIC-001 with milestones", sent));
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
            work.record(i, c, i as u64 + 1, "https://github.com/a/b/milestone/1");
        }
        assert_eq!(
            work.message(),
            "milestone-sync: sync EPIC-000, EPIC-001 with milestones\n\n\
             - EPIC-000 → milestone #1 (Title 0): linked\n- EPIC-001 → milestone #2 (Title 1): linked\n"
        );
        for (i, c) in changes.iter().enumerate().skip(2) {
            work.record(i, c, i as u64 + 1, "https://github.com/a/b/milestone/1");
        }
        let message = work.message();
        assert!(message.starts_with("milestone-sync: sync 250 artifacts with milestones\n\n- EPIC-000 →"));
        assert_eq!(message.lines().filter(|l| l.starts_with("- EPIC-")).count(), MESSAGE_LINES_MAX);
        assert!(message.ends_with("- EPIC-199 → milestone #200 (Title 199): linked\n- and 50 more\n"), "{message}");
    }
}
