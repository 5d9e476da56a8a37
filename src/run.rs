//! One run, start to end: read the event, the workspace and GitHub; plan; apply; report.
//! This is the imperative shell around the pure planner.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use crate::apply::{self, Target};
use crate::artifact;
use crate::config::Settings;
use crate::diagnostic::{Diagnostic, Level};
use crate::event::{self, Event, MilestoneAction, MilestoneEvent};
use crate::github::{GitHub, GitHubError};
use crate::history::{self, FileChange, Touched};
use crate::link;
use crate::milestone::Milestone;
use crate::plan::milestone_event::{self, EventInput, EventSettings};
use crate::plan::{self, Plan, Scope, Touch};
use crate::report;
use crate::workspace::{self, Workspace};

/// Runs the sync and returns the process exit code: 0 when everything synced (or there was
/// nothing to do), 1 when a file could not be read or a change failed.
pub async fn run<G: GitHub>(settings: &Settings, gh: &G, out: &mut dyn Write) -> i32 {
    match run_inner(settings, gh, out).await {
        Ok(code) => code,
        Err(message) => {
            let _ = writeln!(out, "{}", report::annotation(&Diagnostic::general(Level::Error, message.clone())));
            write_summary(settings, &format!("## ❌ milestone-sync failed\n\n{}\n", report::cell(&message)));
            1
        }
    }
}

async fn run_inner<G: GitHub>(settings: &Settings, gh: &G, out: &mut dyn Write) -> Result<i32, String> {
    let payload = match &settings.event_path {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the event payload {}: {e}", path.display()))?,
        None => String::new(),
    };
    let event = event::parse(&settings.event_name, &payload)?;
    let mut notes = Vec::new();
    let (branch, default_branch, push) = match &event {
        Event::Push(push) => {
            if push.deleted {
                return Ok(finish_early(settings, out, "the push deleted a branch or tag; nothing to sync"));
            }
            let Some(branch) = push.branch() else {
                return Ok(finish_early(settings, out, &format!("{} is not a branch; nothing to sync", push.git_ref)));
            };
            (branch.to_string(), push.default_branch.clone(), Some(push))
        }
        Event::Reconcile { name, default_branch } => {
            let branch = settings.git_ref.as_deref().and_then(|r| r.strip_prefix("refs/heads/")).map(str::to_string);
            let Some(branch) = branch else {
                return Ok(finish_early(
                    settings,
                    out,
                    &format!("{name} ran on {:?}, which is not a branch; nothing to sync", settings.git_ref),
                ));
            };
            (branch, default_branch.clone(), None)
        }
        Event::Milestone(m) => return run_milestone_event(settings, gh, out, m).await,
        Event::PullRequest(pr) => return crate::preview::run(settings, gh, out, pr).await,
        Event::Other(name) => {
            return Ok(finish_early(
                settings,
                out,
                &format!("the {name} event is not one milestone-sync handles; nothing to do"),
            ));
        }
    };
    let default_branch = match default_branch {
        Some(b) => b,
        None => gh.default_branch().await.map_err(|e| e.to_string())?,
    };
    if branch != default_branch {
        return Ok(finish_early(
            settings,
            out,
            &format!("{branch} is not the default branch ({default_branch}); only the default branch syncs"),
        ));
    }

    let _ = writeln!(out, "::group::Read");
    let mut ws = workspace::read(
        &settings.workspace,
        &settings.projects_root,
        &settings.repository,
        settings.project.as_deref(),
    );
    let mut push_times = BTreeMap::new();
    let scope = match push {
        Some(push) => match crate::push_scope::touched(settings, gh, &ws, push, out, &mut push_times).await {
            Touched::All { reason } => {
                let note = format!("Every artifact is treated as touched: {reason}.");
                let _ = writeln!(out, "{note}");
                notes.push(note);
                Scope::All
            }
            Touched::Files(files) => scope_of_push(&ws, files),
        },
        None => Scope::All,
    };
    let milestones = if ws.projects.is_empty() {
        Vec::new()
    } else {
        milestones_for(gh, &ws, &scope, &settings.repository).await.map_err(|e| e.to_string())?
    };
    let artifacts: usize = ws.projects.iter().map(|p| p.artifacts.len()).sum();
    let _ =
        writeln!(out, "{} project(s), {artifacts} artifact(s), {} milestone(s)", ws.projects.len(), milestones.len());
    let _ = writeln!(out, "::endgroup::");

    let mut options = plan_options(settings);
    options.local_times.extend(push_times);
    let plan_with = |options: &plan::Options| {
        plan::plan(&plan::Input {
            repository: &settings.repository,
            projects: &ws.projects,
            milestones: &milestones,
            scope: &scope,
            options,
        })
    };
    let mut plan = plan_with(&options);
    if learn_times(gh, &branch, &plan, &mut options, out).await {
        plan = plan_with(&options);
    }
    free_artifacts(&mut ws);
    apply_and_report(settings, gh, out, &ws, plan, &branch, notes).await
}

/// Drops the parsed artifacts once the plan is made: the plan holds all the writes need, and
/// the artifacts are the largest part of a big run's memory (10 MB or more at 10,000) while
/// a first import's plan is applied.
fn free_artifacts(ws: &mut Workspace) {
    ws.projects = Vec::new();
}

/// Prints the plan, applies it (unless a dry run), and reports.
async fn apply_and_report<G: GitHub>(
    settings: &Settings,
    gh: &G,
    out: &mut dyn Write,
    ws: &Workspace,
    plan: Plan,
    branch: &str,
    mut notes: Vec<String>,
) -> Result<i32, String> {
    let _ = writeln!(out, "::group::Plan");
    let lines = if settings.terminal { report::plan_table(&plan) } else { report::plan_lines(&plan) };
    for line in lines {
        let _ = writeln!(out, "{line}");
    }
    if plan.is_empty() {
        let _ = writeln!(out, "nothing to change; {} artifact(s) in sync", plan.in_sync);
    }
    let _ = writeln!(out, "::endgroup::");

    let mut diagnostics = ws.diagnostics.clone();
    diagnostics.extend(plan.diagnostics.iter().cloned());
    let outcome = if settings.dry_run || plan.is_empty() {
        if settings.dry_run {
            notes.push("Dry run: nothing was written.".into());
        }
        None
    } else {
        let _ = writeln!(out, "::group::Apply");
        let local_head = settings.sha.clone().or_else(|| history::local_head(&settings.workspace));
        let target = Target {
            workspace: &settings.workspace,
            branch,
            local_head: local_head.as_deref(),
            files: &ws.files,
            commit: settings.commit,
        };
        let (mut outcome, files) = apply::apply_milestones(gh, &plan).await;
        let _ = writeln!(out, "::endgroup::");
        if !files.is_empty() {
            let _ = writeln!(out, "::group::Commit");
            apply::apply_files(gh, &target, files, &mut outcome).await;
            match &outcome.commit_sha {
                Some(sha) => {
                    let _ = writeln!(out, "committed {} file(s) to {branch}: {sha}", outcome.files_changed.len());
                }
                None if !settings.commit => {
                    let _ = writeln!(
                        out,
                        "wrote {} file(s) into the workspace (commit: false)",
                        outcome.files_changed.len()
                    );
                }
                None => {
                    let _ = writeln!(out, "no file needed a change");
                }
            }
            let _ = writeln!(out, "::endgroup::");
        }
        diagnostics.extend(outcome.diagnostics.iter().cloned());
        Some(outcome)
    };
    Ok(report_and_exit(settings, out, &plan, outcome.as_ref(), &diagnostics, &notes, branch))
}

/// A milestone event: the linked artifact follows the milestone, committed to the default
/// branch.
async fn run_milestone_event<G: GitHub>(
    settings: &Settings,
    gh: &G,
    out: &mut dyn Write,
    event: &MilestoneEvent,
) -> Result<i32, String> {
    let branch = match &event.default_branch {
        Some(b) => b.clone(),
        None => gh.default_branch().await.map_err(|e| e.to_string())?,
    };
    let _ = writeln!(out, "::group::Read");
    let mut ws = workspace::read(
        &settings.workspace,
        &settings.projects_root,
        &settings.repository,
        settings.project.as_deref(),
    );
    let event_settings = EventSettings {
        on_deleted: Some(settings.on_milestone_deleted),
        create_artifacts: settings.create_artifacts,
        project: settings.project.clone(),
    };
    let mut options = plan_options(settings);
    let plan_with = |exists: bool, options: &plan::Options| {
        milestone_event::plan(&EventInput {
            repository: &settings.repository,
            projects: &ws.projects,
            event,
            exists,
            today: options.today.unwrap_or_default(),
            settings: &event_settings,
            options,
        })
    };
    // The payload is the truth for the event, but a milestone deleted right after it is
    // handled as deleted. That takes one read, made only when the event would write: an
    // event with nothing to do (a replay, the echo of the sync's own update) costs no
    // request, and a `deleted` event needs none.
    let mut exists = event.action != MilestoneAction::Deleted;
    let mut plan = plan_with(exists, &options);
    if exists && !plan.is_empty() {
        exists = gh.get_milestone(event.milestone.number).await.map_err(|e| e.to_string())?.is_some();
        if !exists {
            plan = plan_with(false, &options);
        }
    }
    let _ = writeln!(
        out,
        "milestone #{} {:?}{}",
        event.milestone.number,
        event.action,
        if exists || event.action == MilestoneAction::Deleted { "" } else { " (no longer exists: handled as deleted)" }
    );
    let _ = writeln!(out, "::endgroup::");
    if learn_times(gh, &branch, &plan, &mut options, out).await {
        plan = plan_with(exists, &options);
    }
    free_artifacts(&mut ws);
    apply_and_report(settings, gh, out, &ws, plan, &branch, Vec::new()).await
}

/// `last_update_wins` compares the file's last commit time with the milestone's
/// `updated_at`. Where the checkout could not tell a conflicting file's time (no git in the
/// action's image, a shallow checkout), ask GitHub when the file last changed on the branch,
/// one request per such file and only for files in conflict; true when the plan should be
/// made again with what was learnt.
async fn learn_times<G: GitHub>(
    gh: &G,
    branch: &str,
    plan: &Plan,
    options: &mut plan::Options,
    out: &mut dyn Write,
) -> bool {
    let mut learnt = 0;
    for path in &plan.wanted_times {
        match gh.last_change(branch, path).await {
            Ok(Some(time)) => {
                options.local_times.insert(path.clone(), time);
                learnt += 1;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!("{path}: cannot learn when it last changed ({e}); a tie goes to the file"),
        }
    }
    if learnt > 0 {
        let _ = writeln!(out, "last_update_wins: asked GitHub when {learnt} file(s) in conflict last changed");
    }
    learnt > 0
}

/// Which milestones a run reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MilestoneReads {
    /// The whole list (`GET milestones`, every page).
    All,
    /// Only these, one `GET milestones/{n}` each (none at all when empty).
    Each(BTreeSet<u64>),
}

/// The milestones the planner needs, in as few requests as GitHub allows.
///
/// A push that touched only linked artifacts (and removed only linked ones) needs only their
/// milestones: when they are fewer than the pages the whole list takes (at least one page per
/// 100 linked artifacts), each is read on its own, so a push that changes one artifact of
/// 10,000 reads one milestone, not 100 pages, and a push that touches no artifact reads
/// nothing. Everything else (a full reconcile, a push with a new artifact to adopt or create)
/// reads the whole list. What a push then does not see, a duplicate of an artifact's marker
/// on some other milestone, is reported by the next full reconcile.
pub fn milestone_reads(ws: &Workspace, scope: &Scope, repository: &str) -> MilestoneReads {
    let Scope::Files { touched, removed } = scope else { return MilestoneReads::All };
    let number = |a: &artifact::Artifact| a.link.as_deref().and_then(|l| link::milestone_number(l, repository));
    let mut numbers = BTreeSet::new();
    // Touched paths that are not artifacts of the milestone type are not planned. An artifact
    // without a link may adopt a milestone found by marker or title: that takes the list.
    for a in ws.projects.iter().flat_map(|p| &p.artifacts).filter(|a| touched.contains_key(&a.path)) {
        let Some(n) = number(a) else { return MilestoneReads::All };
        numbers.insert(n);
    }
    for (_, old) in removed {
        let Some(n) = number(old) else { return MilestoneReads::All };
        numbers.insert(n);
    }
    let linked = ws.projects.iter().flat_map(|p| &p.artifacts).filter(|a| a.link.is_some()).count();
    if numbers.len() < linked.div_ceil(100) { MilestoneReads::Each(numbers) } else { MilestoneReads::All }
}

async fn milestones_for<G: GitHub>(
    gh: &G,
    ws: &Workspace,
    scope: &Scope,
    repository: &str,
) -> Result<Vec<Milestone>, GitHubError> {
    match milestone_reads(ws, scope, repository) {
        MilestoneReads::All => gh.list_milestones().await,
        MilestoneReads::Each(numbers) => {
            let mut out = Vec::with_capacity(numbers.len());
            for number in numbers {
                // A milestone deleted on GitHub is absent, as it would be from the list.
                out.extend(gh.get_milestone(number).await?);
            }
            Ok(out)
        }
    }
}

/// The planner's run-level choices: inputs, today's date and each artifact's last commit
/// time (the local side's clock for `last_update_wins`).
pub fn plan_options(settings: &Settings) -> plan::Options {
    plan::Options {
        on_removed: Some(settings.on_removed),
        policy: settings.conflict_resolution,
        direction: settings.direction,
        closed_status: settings.closed_status.clone(),
        reopened_status: settings.reopened_status.clone(),
        local_times: history::last_change_times(&settings.workspace, &settings.projects_root),
        create_artifacts: settings.create_artifacts,
        today: Some(chrono::Utc::now().date_naive()),
    }
}

/// Turns a push's file list into the planner's scope: which artifacts it touched, and which
/// fields of each; removed artifacts as they were before the push.
pub fn scope_of_push(ws: &Workspace, files: Vec<(String, FileChange)>) -> Scope {
    let mut touched = BTreeMap::new();
    let mut removed = Vec::new();
    let current: BTreeMap<&str, &artifact::Artifact> =
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
    Scope::Files { touched, removed }
}

pub(crate) fn finish_early(settings: &Settings, out: &mut dyn Write, message: &str) -> i32 {
    let notice = Diagnostic::notice(message);
    let _ = writeln!(out, "{}", report::annotation(&notice));
    write_summary(settings, &format!("## milestone-sync: nothing to do\n\n{}\n", report::cell(message)));
    write_outputs(settings, &report::outputs(&Plan::default(), None, &[]));
    if settings.json {
        let _ = writeln!(out, "{}", report::json(&Plan::default(), None, &[notice], settings.dry_run));
    }
    0
}

fn report_and_exit(
    settings: &Settings,
    out: &mut dyn Write,
    plan: &Plan,
    outcome: Option<&apply::Outcome>,
    diagnostics: &[Diagnostic],
    notes: &[String],
    branch: &str,
) -> i32 {
    for d in diagnostics {
        let _ = writeln!(out, "{}", report::annotation(d));
    }
    let links =
        report::Links { server_url: &settings.server_url, repository: &settings.repository, branch: Some(branch) };
    let summary = report::summary(&links, plan, outcome, diagnostics, settings.dry_run, notes);
    write_summary(settings, &summary);
    write_outputs(settings, &report::outputs(plan, outcome, diagnostics));
    let t = report::totals(plan, outcome, diagnostics);
    let _ = writeln!(
        out,
        "{} created, {} updated, {} closed, {} deleted, {} linked, {} file(s) following GitHub, {} in sync, {} failed, {} error(s)",
        t.created, t.updated, t.closed, t.deleted, t.linked, t.files, plan.in_sync, t.failed, t.errors
    );
    if settings.json {
        let _ = writeln!(out, "{}", report::json(plan, outcome, diagnostics, settings.dry_run));
    }
    let failed_on_conflict = settings.fail_on_conflict && t.flagged > 0;
    if t.errors > 0 || t.failed > 0 || failed_on_conflict { 1 } else { 0 }
}

pub(crate) fn write_summary(settings: &Settings, text: &str) {
    if let Some(path) = &settings.summary_file {
        append(path, text);
    }
}

pub(crate) fn write_outputs(settings: &Settings, text: &str) {
    if let Some(path) = &settings.output_file {
        append(path, text);
    }
}

fn append(path: &std::path::Path, text: &str) {
    use std::fs::OpenOptions;
    if let Err(e) =
        OpenOptions::new().create(true).append(true).open(path).and_then(|mut f| f.write_all(text.as_bytes()))
    {
        tracing::warn!("cannot write {}: {e}", path.display());
    }
}
