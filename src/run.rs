//! One run, start to end, the same for every trigger: read the workspace, the trigger's hints
//! and GitHub's milestones; plan; bring the plan to the branch head; apply; report. This is
//! the imperative shell around the pure planner.
//!
//! The trigger only adds hints (a push's changed files, a milestone event's changed fields)
//! and, for a pull request, turns the run into a preview. Within the request budget
//! (`reconcile-budget` list pages) every run reads every milestone and converges every pair,
//! so that whatever a cancelled run would have done, the next run of any trigger does.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use anyhow::Context as _;

use crate::apply::{self, Target};
use crate::artifact;
use crate::branch::{self, Caught};
use crate::config::{CommitMode, Settings};
use crate::diagnostic::{Diagnostic, Level};
use crate::event::{self, Event, MilestoneAction, MilestoneEvent, PullRequest, Push};
use crate::github::{Clients, GitHub, GitHubError, Waits};
use crate::history::{self, Touched};
use crate::link;
use crate::milestone::Milestone;
use crate::plan::{self, EventHint, Field, Plan, Read, Scope};
use crate::preview;
use crate::push_scope;
use crate::report;
use crate::repositories::{self, Connect, Share, TokenFrom};
use crate::runner::{self, nothing_to_do};
use crate::summary::{self, Mode, roadmap::Bar};
use crate::workspace::{self, Workspace};

/// Runs the sync and returns the process exit code: 0 when everything synced (or there was
/// nothing to do), 1 when a file could not be read or a change failed. `gh` reaches the
/// repository the plan is kept in (`GITHUB_REPOSITORY`); `connect` makes a client for another
/// repository a project names, with that repository's token.
pub async fn run<G: GitHub>(settings: &Settings, gh: &G, connect: &Connect<'_, G>, out: &mut dyn Write) -> i32 {
    match run_inner(settings, gh, connect, out).await {
        Ok(code) => code,
        Err(error) => {
            // The whole chain: what the run was doing, then GitHub's (or the system's) answer.
            let message = format!("{error:#}");
            let _ = writeln!(out, "{}", report::annotation(&Diagnostic::general(Level::Error, message.clone())));
            runner::write_summary(settings, &format!("## ❌ milestone-sync failed\n\n{}\n", report::cell(&message)));
            1
        }
    }
}

/// What started the run, as the pipeline uses it.
#[derive(Debug, Clone, Copy)]
enum Trigger<'e> {
    Push(&'e Push),
    Milestone(&'e MilestoneEvent),
    /// `workflow_dispatch`, `schedule`, or a terminal run without an event.
    Reconcile,
    PullRequest(&'e PullRequest),
}

/// One repository's part of a run once read: where it is reached, its projects, the
/// milestones read there and the scope it is planned with.
struct Part<'g, G> {
    share: Share<'g, G>,
    milestones: Vec<Milestone>,
    scope: Scope,
}

async fn run_inner<G: GitHub>(
    settings: &Settings,
    gh: &G,
    connect: &Connect<'_, G>,
    out: &mut dyn Write,
) -> anyhow::Result<i32> {
    let payload = match &settings.event_path {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the event payload {}", path.display()))?,
        None => String::new(),
    };
    let event = event::parse(&settings.event_name, &payload).map_err(anyhow::Error::msg)?;
    let (trigger, payload_default) = match &event {
        Event::Push(push) if push.deleted => {
            return Ok(nothing_to_do(settings, out, "the push deleted a branch or tag; nothing to sync"));
        }
        Event::Push(push) => (Trigger::Push(push), push.default_branch.clone()),
        Event::Milestone(m) => (Trigger::Milestone(m), m.default_branch.clone()),
        Event::Reconcile { default_branch, .. } => (Trigger::Reconcile, default_branch.clone()),
        Event::PullRequest(pr) if pr.closed => {
            let message = format!("pull request #{} is closed; there is nothing to preview", pr.number);
            return Ok(nothing_to_do(settings, out, &message));
        }
        Event::PullRequest(pr) => (Trigger::PullRequest(pr), pr.default_branch.clone()),
        Event::Other(name) => {
            let message = format!("the {name} event is not one milestone-sync handles; nothing to do");
            return Ok(nothing_to_do(settings, out, &message));
        }
    };
    let branch = match trigger {
        Trigger::Push(push) => match push.branch() {
            Some(b) => Some(b.to_string()),
            None => {
                let message = format!("{} is not a branch; nothing to sync", push.git_ref);
                return Ok(nothing_to_do(settings, out, &message));
            }
        },
        Trigger::Reconcile => {
            let branch = settings.git_ref.as_deref().and_then(|r| r.strip_prefix("refs/heads/")).map(str::to_string);
            match (&branch, &settings.git_ref) {
                (Some(_), _) => branch,
                // A terminal outside a git checkout (or on a detached HEAD): the default branch,
                // the only one that syncs.
                (None, None) if settings.terminal => {
                    let _ = writeln!(out, "no branch checked out here: syncing the repository's default branch");
                    None
                }
                (None, git_ref) => {
                    let message = format!(
                        "{} ran on {}, which is not a branch; nothing to sync",
                        settings.event_name,
                        git_ref.as_deref().unwrap_or("no ref")
                    );
                    return Ok(nothing_to_do(settings, out, &message));
                }
            }
        }
        Trigger::PullRequest(pr) => Some(pr.base_ref.clone()),
        // A milestone event syncs with the default branch.
        Trigger::Milestone(_) => None,
    };
    let default_branch = match payload_default {
        Some(b) => b,
        None => gh.default_branch().await.context("reading the repository's default branch")?,
    };
    let branch = branch.unwrap_or_else(|| default_branch.clone());
    if branch != default_branch {
        let message = match trigger {
            Trigger::PullRequest(pr) => format!(
                "pull request #{} merges into {branch}, not the default branch ({default_branch}); only the default branch syncs, so there is nothing to preview",
                pr.number
            ),
            _ => format!("{branch} is not the default branch ({default_branch}); only the default branch syncs"),
        };
        return Ok(nothing_to_do(settings, out, &message));
    }

    let mut read = runner::group(out, "Read");
    let mut ws =
        workspace::read(&settings.workspace, &settings.projects_root, settings.project.as_deref(), settings.terminal);
    let mut notes = Vec::new();
    let groups = repositories::group(&mut ws, &settings.repository);
    let several = groups.len() > 1;
    let groups = keep_reachable_by_trigger(settings, gh, trigger, &payload, groups, &ws, &mut read, &mut notes).await?;
    let mut options = plan_options(settings);
    let mut preview_head = None;
    let hints = match trigger {
        Trigger::Push(push) => {
            let touched = push_scope::touched(settings, gh, &ws, push, &mut read, &mut options.local_times).await;
            Hints::of_files(&ws, touched, &mut read, &mut notes)
        }
        Trigger::PullRequest(pr) => match preview::changes_of(settings, gh, &ws, pr, &mut read).await {
            Ok((touched, head)) => {
                preview_head = Some(head);
                Hints::of_files(&ws, touched, &mut read, &mut notes)
            }
            Err(not_checked_out) => {
                return Ok(nothing_to_do(settings, read.end(), &not_checked_out));
            }
        },
        Trigger::Milestone(m) => Hints::Event(event_hint(m)),
        Trigger::Reconcile => Hints::None,
    };
    let env = |name: &str| std::env::var(name).ok();
    let mut parts: Vec<Part<'_, G>> = Vec::new();
    for (repository, range) in groups {
        let share = match repositories::reach(settings, gh, connect, &repository, range.clone(), &ws.projects, &env) {
            Ok(share) => share,
            Err(e) => {
                let d = repositories::unreachable(settings, &repository, &ws.projects[range], &TokenFrom::Input, &e);
                ws.diagnostics.push(d);
                continue;
            }
        };
        let projects = &ws.projects[share.projects.clone()];
        let hints = hints.only(projects);
        if several || settings.terminal || !repository.eq_ignore_ascii_case(&settings.repository) {
            let names: Vec<String> = projects.iter().map(|p| format!("`{}`", p.slug)).collect();
            let token = share.token.describe(settings.terminal);
            let _ = writeln!(read, "{repository}: project(s) {} ({token})", names.join(", "));
        }
        match read_milestones(settings, share.gh.get(), projects, &repository, trigger, hints, &mut read, &mut notes)
            .await
        {
            Ok((milestones, scope)) => parts.push(Part { share, milestones, scope }),
            // The plan's own repository unreachable is the run's failure, as it always was;
            // another repository's is its projects' alone.
            Err(e) if repository.eq_ignore_ascii_case(&settings.repository) => return Err(e),
            Err(e) => {
                let d = repositories::unreachable(settings, &repository, projects, &share.token, &e);
                let _ = writeln!(read, "{}", d.message);
                ws.diagnostics.push(d);
            }
        }
    }
    let artifacts: usize =
        parts.iter().flat_map(|p| &ws.projects[p.share.projects.clone()]).map(|p| p.artifacts.len()).sum();
    let milestones_read: usize = parts.iter().map(|p| p.milestones.len()).sum();
    let in_repositories = if parts.len() > 1 { format!(" in {} repositories", parts.len()) } else { String::new() };
    let projects_synced: usize = parts.iter().map(|p| p.share.projects.len()).sum();
    let _ = writeln!(
        read,
        "{projects_synced} project(s), {artifacts} artifact(s), {milestones_read} milestone(s){in_repositories}"
    );
    let out = read.end();

    let mut plan = plan_parts(&ws, &parts, &options);

    if let Trigger::PullRequest(pr) = trigger {
        let mut diagnostics = ws.diagnostics.clone();
        diagnostics.extend(plan.diagnostics.iter().cloned());
        let head = preview_head.unwrap_or_default();
        let bars = bars_of(&ws, &parts);
        return Ok(
            preview::show(settings, gh, out, pr, &plan, &diagnostics, notes, &head, &default_branch, &bars).await
        );
    }

    // A run keeping to a milestone event's scope planned on the payload's milestone: before
    // writing, GitHub's current milestone is the truth (one read; a milestone deleted right
    // after the event is then handled as deleted).
    if let Trigger::Milestone(m) = trigger
        && !plan.is_empty()
        && m.action != MilestoneAction::Deleted
    {
        let mut reread = false;
        for part in parts.iter_mut().filter(|p| matches!(p.scope.read, Read::Only(_))) {
            let now = part
                .share
                .gh
                .get()
                .get_milestone(m.milestone.number)
                .await
                .with_context(|| format!("reading milestone #{}", m.milestone.number))?;
            if now.is_none() {
                let _ = writeln!(out, "milestone #{} no longer exists: handled as deleted", m.milestone.number);
            }
            part.milestones = now.into_iter().collect();
            reread = true;
        }
        if reread {
            plan = plan_parts(&ws, &parts, &options);
        }
    }

    // Before the first write that depends on the files: the branch head, not the checkout,
    // is what the plan must be made on.
    let checkout = settings.sha.clone().or_else(|| history::local_head(&settings.workspace));
    let mut planned_on = checkout.clone();
    let mut known_head = None;
    // Files read at a head newer than the milestone list (see `confirm_deletions`).
    let mut files_newer_than_list = false;
    if !settings.dry_run && needs_head(&plan) {
        let mut head = runner::group(out, "Branch head");
        let caught = branch::catch_up(gh, &mut ws, &branch, checkout.as_deref(), &mut head).await?;
        match &caught {
            Caught::AtCheckout { .. } => {
                let _ = writeln!(head, "{branch} is at the checkout");
            }
            Caught::Moved { files, .. } => {
                files_newer_than_list = true;
                notes.push(format!(
                    "{branch} had moved on from the checkout: the run planned on its head ({} artifact file(s) read there).",
                    files.len()
                ));
                // The checkout's history does not know when those files last changed: a
                // conflict on one asks GitHub (see `learn_times`).
                for path in files {
                    options.local_times.remove(path);
                }
                plan = plan_parts(&ws, &parts, &options);
            }
            Caught::Unknown { why, .. } => {
                let _ = writeln!(head, "{branch} moved on from the checkout, but {why}; planning on the checkout");
            }
        }
        known_head = Some(caught.head().to_string());
        planned_on = match caught {
            Caught::Unknown { .. } => checkout.clone(),
            caught => Some(caught.head().to_string()),
        };
        drop(head);
    }
    if learn_times(gh, &branch, &plan, &mut options, out).await {
        plan = plan_parts(&ws, &parts, &options);
    }
    if files_newer_than_list && confirm_deletions(&mut parts, &plan, out).await? {
        plan = plan_parts(&ws, &parts, &options);
    }
    // What the summary needs of the milestones (progress, the roadmap), kept small: the list
    // itself goes before the plan is applied.
    let bars = bars_of(&ws, &parts);
    let shares: Vec<Share<'_, G>> = parts.into_iter().map(|p| p.share).collect();
    free_artifacts(&mut ws);
    let others: Vec<(String, &G)> = shares.iter().map(|s| (s.repository.clone(), s.gh.get())).collect();
    // Every change goes to its own repository's client, even when the run syncs one
    // repository only and that one is not the plan's.
    let clients = Clients::new(gh, &settings.repository, others);
    let at = Commits { planned_on: planned_on.as_deref(), known_head: known_head.as_deref() };
    let shown = Shown { bars: &bars, everything: matches!(trigger, Trigger::Reconcile) };
    apply_and_report(settings, &clients, out, &ws, plan, &branch, at, notes, shown).await
}

/// The repositories this run syncs with: those of a milestone event's repository only (the
/// others had no event), and none but the run's own in a fork (a fork never writes to another
/// repository), each said once.
#[allow(clippy::too_many_arguments)]
async fn keep_reachable_by_trigger<G: GitHub>(
    settings: &Settings,
    gh: &G,
    trigger: Trigger<'_>,
    payload: &str,
    mut groups: Vec<(String, std::ops::Range<usize>)>,
    ws: &Workspace,
    out: &mut dyn Write,
    notes: &mut Vec<String>,
) -> anyhow::Result<Vec<(String, std::ops::Range<usize>)>> {
    let own = |r: &str| r.eq_ignore_ascii_case(&settings.repository);
    if let Trigger::Milestone(m) = trigger {
        let from = m.repository.clone().unwrap_or_else(|| settings.repository.clone());
        if m.forwarded {
            let _ = writeln!(out, "milestone #{} of {from}, forwarded by repository_dispatch", m.milestone.number);
        }
        let before = groups.len();
        groups.retain(|(r, _)| r.eq_ignore_ascii_case(&from));
        if groups.is_empty() && before > 0 {
            let note = format!(
                "The milestone event is from {from}, and no project syncs with {from}: nothing to do for it (projects name {}).",
                ws.projects
                    .iter()
                    .map(|p| p.config.repository())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let _ = writeln!(out, "{note}");
            notes.push(note);
        }
    }
    if groups.iter().all(|(r, _)| own(r)) {
        return Ok(groups);
    }
    let fork = match event::repository_fork(payload) {
        Some(fork) => fork,
        None => gh.is_fork().await.context("reading whether the repository is a fork")?,
    };
    if fork {
        let elsewhere: Vec<String> = groups
            .iter()
            .filter(|(r, _)| !own(r))
            .flat_map(|(r, range)| ws.projects[range.clone()].iter().map(move |p| format!("`{}` ({r})", p.slug)))
            .collect();
        let note = format!(
            "{} is a fork: the projects that name another repository are skipped, since a fork never writes to another repository: {}.",
            settings.repository,
            elsewhere.join(", ")
        );
        let _ = writeln!(out, "{}", report::annotation(&Diagnostic::notice(note.clone())));
        notes.push(note);
        groups.retain(|(r, _)| own(r));
    }
    Ok(groups)
}

/// The planner on each repository's part, as one plan: each repository's changes in the
/// planner's order, the plan repository's first.
fn plan_parts<G>(ws: &Workspace, parts: &[Part<'_, G>], options: &plan::Options) -> Plan {
    let mut plan = Plan::default();
    for part in parts {
        plan.absorb(plan::plan(&plan::Input {
            repository: &part.share.repository,
            projects: &ws.projects[part.share.projects.clone()],
            milestones: &part.milestones,
            scope: &part.scope,
            options,
        }));
    }
    plan
}

/// The milestones read, as the summary draws them; labelled by repository when there are
/// several.
fn bars_of<G>(ws: &Workspace, parts: &[Part<'_, G>]) -> summary::Bars {
    let several = parts.len() > 1;
    let mut bars = summary::Bars::new();
    for part in parts {
        let repository = &part.share.repository;
        let label = if several { repository.rsplit('/').next().unwrap_or_default() } else { "" };
        for m in &part.milestones {
            bars.insert(summary::bar_key(repository, m.number), Bar::of(m, label));
        }
        // A bar starts at the Epic's start_date where the linked file has one, else when the
        // milestone was made.
        for a in ws.projects[part.share.projects.clone()].iter().flat_map(|p| &p.artifacts) {
            let number = a.link.as_deref().and_then(|l| link::milestone_number(l, repository));
            if let (Some(start), Some(n)) = (a.start, number)
                && let Some(bar) = bars.get_mut(&summary::bar_key(repository, n))
            {
                bar.start = Some(start);
            }
        }
    }
    bars
}

/// What the summary shows besides the plan and its outcome.
#[derive(Debug, Clone, Copy)]
struct Shown<'a> {
    /// The milestones read, as the roadmap draws them.
    bars: &'a summary::Bars,
    /// A reconcile (`workflow_dispatch`, `schedule`): the roadmap draws every milestone, not
    /// only those the run touched.
    everything: bool,
}

/// Which commits a run's file changes start from.
#[derive(Debug, Clone, Copy)]
struct Commits<'a> {
    /// The commit whose files the plan was made on (the branch head the run caught up with,
    /// or the checkout).
    planned_on: Option<&'a str>,
    /// The branch head as last read, if it was.
    known_head: Option<&'a str>,
}

/// Whether the plan must be brought to the branch head before it is applied: it writes a file
/// (the commit needs the head anyway, and the files must be the head's), it closes or deletes
/// a milestone because a file is missing, or a milestone's record says the sync committed a
/// newer version of a file than the checkout holds, so the checkout's values may be older
/// than the branch's.
fn needs_head(plan: &Plan) -> bool {
    use plan::Action::{CloseRemoved, CreateFile, DeleteRemoved};
    let depends_on_files = plan.changes.iter().any(|c| {
        c.links_file()
            || !c.file_edits.is_empty()
            // Decided on a file's absence: the head may hold it (an import another run committed).
            || matches!(c.action, CreateFile { .. } | CloseRemoved { .. } | DeleteRemoved { .. })
    });
    depends_on_files || !plan.behind.is_empty()
}

/// What the trigger knows besides the two sides' values.
enum Hints {
    None,
    /// A push's (or a pull request's) changed artifacts.
    Files {
        touched: BTreeMap<String, plan::Touch>,
        removed: Vec<(String, artifact::Artifact)>,
    },
    /// History could not list the changes: every artifact counts as touched (the reason is in
    /// the notes).
    Unknown,
    Event(EventHint),
}

impl Hints {
    /// The hints that concern `projects` (one repository's): a push's removed artifacts are
    /// theirs only.
    fn only(&self, projects: &[crate::project::Project]) -> Hints {
        match self {
            Hints::None => Hints::None,
            Hints::Unknown => Hints::Unknown,
            Hints::Event(hint) => Hints::Event(hint.clone()),
            Hints::Files { touched, removed } => Hints::Files {
                touched: touched.clone(),
                removed: removed.iter().filter(|(slug, _)| projects.iter().any(|p| p.slug == *slug)).cloned().collect(),
            },
        }
    }

    fn of_files(ws: &Workspace, touched: Touched, out: &mut dyn Write, notes: &mut Vec<String>) -> Hints {
        match touched {
            Touched::All { reason } => {
                let note = format!("Every artifact is treated as touched: {reason}.");
                let _ = writeln!(out, "{note}");
                notes.push(note);
                Hints::Unknown
            }
            Touched::Files(files) => {
                let (touched, removed) = push_scope::hints_of_push(ws, files);
                Hints::Files { touched, removed }
            }
        }
    }
}

/// The synced fields a milestone event says changed on GitHub: `changes.*.from` of `edited`
/// (all three when a redelivered or hand-made payload names none), the state for `closed`
/// and `opened`.
pub fn event_hint(m: &MilestoneEvent) -> EventHint {
    let changed: BTreeSet<Field> = match m.action {
        MilestoneAction::Edited => {
            let e = m.edited;
            let named = [(e.title, Field::Title), (e.description, Field::Description), (e.due_on, Field::DueOn)];
            let set: BTreeSet<Field> = named.iter().filter(|(on, _)| *on).map(|(_, f)| *f).collect();
            if set.is_empty() { BTreeSet::from([Field::Title, Field::Description, Field::DueOn]) } else { set }
        }
        MilestoneAction::Closed | MilestoneAction::Opened => BTreeSet::from([Field::State]),
        MilestoneAction::Created | MilestoneAction::Deleted => BTreeSet::new(),
    };
    EventHint { number: m.milestone.number, changed }
}

/// The milestones a run reads and the scope it plans for. A reconcile reads every milestone.
/// A push or a milestone event reads every milestone too while the list takes no more than
/// `reconcile-budget` pages, and converges everything; above that it keeps to what its trigger
/// names, in as few requests as GitHub allows ([`milestone_reads`]), and the summary says so.
/// A pull request's preview reads every milestone but plans only its own changes.
#[allow(clippy::too_many_arguments)]
async fn read_milestones<G: GitHub>(
    settings: &Settings,
    gh: &G,
    projects: &[crate::project::Project],
    repository: &str,
    trigger: Trigger<'_>,
    hints: Hints,
    out: &mut dyn Write,
    notes: &mut Vec<String>,
) -> anyhow::Result<(Vec<Milestone>, Scope)> {
    let listing = || format!("listing the milestones of {repository}");
    if projects.is_empty() {
        let scope = match hints {
            Hints::Files { touched, removed } => Scope::files(touched, removed),
            _ => Scope::all(),
        };
        return Ok((Vec::new(), scope));
    }
    match (trigger, hints) {
        (Trigger::PullRequest(pr), Hints::Files { touched, removed }) => {
            let scope = Scope::files(touched, removed);
            if preview::touched_artifacts(projects, &scope) == Some(0) {
                let note = format!(
                    "Pull request #{} changes no artifact that syncs under `{}`.",
                    pr.number, settings.projects_root
                );
                let _ = writeln!(out, "{note}");
                notes.push(note);
                return Ok((Vec::new(), scope));
            }
            Ok((gh.list_milestones().await.with_context(listing)?, scope))
        }
        (_, Hints::None | Hints::Unknown) => Ok((gh.list_milestones().await.with_context(listing)?, Scope::all())),
        (_, Hints::Files { touched, removed }) => {
            if let Some(all) = within_budget(settings, gh, projects).await.with_context(listing)? {
                return Ok((all, Scope::push(touched, removed)));
            }
            let narrow = Scope::files(touched, removed);
            match milestone_reads(projects, &narrow, repository) {
                // A new artifact to adopt or create needs the whole list anyway: then the run
                // converges everything it read.
                MilestoneReads::All => {
                    let all = gh.list_milestones().await.with_context(listing)?;
                    Ok((all, Scope { everything: true, ..narrow }))
                }
                MilestoneReads::Each(numbers) => {
                    over_budget(settings, out, notes);
                    let mut read = Vec::with_capacity(numbers.len());
                    for &number in &numbers {
                        // A milestone deleted on GitHub is absent, as it would be from the list.
                        read.extend(
                            gh.get_milestone(number).await.with_context(|| format!("reading milestone #{number}"))?,
                        );
                    }
                    Ok((read, Scope { read: Read::Only(numbers), ..narrow }))
                }
            }
        }
        (Trigger::Milestone(m), Hints::Event(hint)) => {
            if let Some(all) = within_budget(settings, gh, projects).await.with_context(listing)? {
                return Ok((all, Scope::event(true, hint)));
            }
            over_budget(settings, out, notes);
            // The payload's milestone, checked against GitHub before anything is written; none
            // for a deleted one.
            let payload = (m.action != MilestoneAction::Deleted).then(|| m.milestone.clone());
            let number = hint.number;
            Ok((
                payload.into_iter().collect(),
                Scope { read: Read::Only(BTreeSet::from([number])), ..Scope::event(false, hint) },
            ))
        }
        (_, Hints::Event(hint)) => Ok((gh.list_milestones().await.with_context(listing)?, Scope::event(true, hint))),
    }
}

/// The scope and the milestones a run of `event` would plan with, given every milestone of
/// the repository (`all`) and, for a push, what its history says it touched: the decisions of
/// the pipeline's reading stage without its requests, for the benchmark's planning figures
/// and for tests of those decisions.
pub fn scope_for(
    settings: &Settings,
    ws: &Workspace,
    event: &Event,
    touched: Option<Touched>,
    all: &[Milestone],
) -> (Scope, Vec<Milestone>) {
    let budget = settings.reconcile_budget;
    let linked = ws.projects.iter().flat_map(|p| &p.artifacts).filter(|a| a.link.is_some()).count();
    let within = budget > 0 && linked.div_ceil(100) <= budget && all.len().div_ceil(100).max(1) <= budget;
    match (event, touched) {
        (Event::Push(_), Some(Touched::Files(files))) => {
            let (touched, removed) = push_scope::hints_of_push(ws, files);
            if within {
                return (Scope::push(touched, removed), all.to_vec());
            }
            let narrow = Scope::files(touched, removed);
            match milestone_reads(&ws.projects, &narrow, &settings.repository) {
                MilestoneReads::All => (Scope { everything: true, ..narrow }, all.to_vec()),
                MilestoneReads::Each(numbers) => {
                    let read = all.iter().filter(|m| numbers.contains(&m.number)).cloned().collect();
                    (Scope { read: Read::Only(numbers), ..narrow }, read)
                }
            }
        }
        (Event::Milestone(m), _) => {
            let hint = event_hint(m);
            if within {
                return (Scope::event(true, hint), all.to_vec());
            }
            let number = hint.number;
            let read = all.iter().filter(|x| x.number == number).cloned().collect();
            (Scope { read: Read::Only(BTreeSet::from([number])), ..Scope::event(false, hint) }, read)
        }
        _ => (Scope::all(), all.to_vec()),
    }
}

/// Every milestone, when the list takes no more than `reconcile-budget` pages; `None` above
/// that. A workspace with more linked artifacts than the budget's pages hold is above it
/// without asking.
async fn within_budget<G: GitHub>(
    settings: &Settings,
    gh: &G,
    projects: &[crate::project::Project],
) -> Result<Option<Vec<Milestone>>, GitHubError> {
    let budget = settings.reconcile_budget;
    let linked = projects.iter().flat_map(|p| &p.artifacts).filter(|a| a.link.is_some()).count();
    if budget == 0 || linked.div_ceil(100) > budget {
        return Ok(None);
    }
    gh.list_milestones_within(budget).await
}

fn over_budget(settings: &Settings, out: &mut dyn Write, notes: &mut Vec<String>) {
    let note = format!(
        "The milestones take more than `reconcile-budget` ({} list page(s), {} milestones): this run kept to what its trigger names. A scheduled or manual run reconciles everything.",
        settings.reconcile_budget,
        settings.reconcile_budget * 100
    );
    let _ = writeln!(out, "{note}");
    notes.push(note);
}

/// Drops the parsed artifacts once the plan is made: the plan holds all the writes need, and
/// the artifacts are the largest part of a big run's memory (10 MB or more at 10,000) while
/// a first import's plan is applied.
fn free_artifacts(ws: &mut Workspace) {
    ws.projects = Vec::new();
}

/// Prints the plan, applies it (unless a dry run), and reports.
#[allow(clippy::too_many_arguments)]
async fn apply_and_report<G: GitHub>(
    settings: &Settings,
    clients: &Clients<'_, G>,
    out: &mut dyn Write,
    ws: &Workspace,
    plan: Plan,
    branch: &str,
    at: Commits<'_>,
    mut notes: Vec<String>,
    shown: Shown<'_>,
) -> anyhow::Result<i32> {
    let mut group = runner::group(out, "Plan");
    let lines = if settings.terminal { report::plan_table(&plan) } else { report::plan_lines(&plan) };
    for line in lines {
        let _ = writeln!(group, "{line}");
    }
    if plan.is_empty() {
        let _ = writeln!(group, "nothing to change; {} artifact(s) in sync", plan.in_sync);
    }
    let out = group.end();

    let mut diagnostics = ws.diagnostics.clone();
    diagnostics.extend(plan.diagnostics.iter().cloned());
    let outcome = if settings.dry_run || plan.is_empty() {
        None
    } else {
        let group = runner::group(out, "Apply");
        let target = Target {
            workspace: &settings.workspace,
            branch,
            local_head: at.planned_on,
            known_head: at.known_head,
            files: &ws.files,
            commit: settings.commit,
            graphql: settings.graphql_commit,
        };
        let (mut outcome, files) = apply::apply_milestones(clients, &plan).await;
        let out = group.end();
        if !files.is_empty() {
            let mut group = runner::group(out, "Commit");
            apply::apply_files(clients, &target, files, &mut outcome).await;
            match &outcome.commit_sha {
                Some(sha) => {
                    let _ = writeln!(group, "committed {} file(s) to {branch}: {sha}", outcome.files_changed.len());
                }
                None if settings.commit == CommitMode::Workspace => {
                    let _ = writeln!(
                        group,
                        "wrote {} file(s) into the workspace (commit: false)",
                        outcome.files_changed.len()
                    );
                }
                None if outcome.commit_failed.is_some() || outcome.pull_request.is_some() => {}
                None => {
                    let _ = writeln!(group, "no file needed a change");
                }
            }
        }
        diagnostics.extend(outcome.diagnostics.iter().cloned());
        Some(outcome)
    };
    if let Some(note) = waits_note(clients.plan().waits(), settings.write_delay) {
        let _ = writeln!(out, "{note}");
        notes.push(note);
    }
    let commit = outcome.as_ref().and_then(|o| o.commit_sha.as_deref()).or(at.planned_on);
    let report = summary::Report {
        plan: &plan,
        outcome: outcome.as_ref(),
        diagnostics: &diagnostics,
        notes: &notes,
        mode: if settings.dry_run { Mode::DryRun } else { Mode::Run },
        links: summary::Links {
            server_url: &settings.server_url,
            repository: &settings.repository,
            commit,
            projects_root: &settings.projects_root,
        },
        milestones: shown.bars,
        roadmap_all: shown.everything,
        today: crate::due_date::from_github(chrono::Utc::now()),
        branch,
    };
    Ok(report_and_exit(settings, out, &report))
}

/// A milestone a file links that the run's list lacks is recorded as deleted on GitHub, for
/// good: no later run makes it again. The list is a snapshot, though, and after a catch-up
/// the files are newer (the head read after the list): another run may have made the milestone
/// and committed its link meanwhile. Only then, before such a record is written, GitHub is
/// asked (one read per milestone the plan would record as deleted; a checkout's files predate
/// the list, so without a catch-up nothing is asked); one that exists joins the list, and the
/// caller plans again. True when one did.
async fn confirm_deletions<G: GitHub>(
    parts: &mut [Part<'_, G>],
    plan: &Plan,
    out: &mut dyn Write,
) -> anyhow::Result<bool> {
    let mut found = false;
    for change in &plan.changes {
        let plan::Action::RecordDeleted { number, .. } = change.action else { continue };
        let Some(part) = parts.iter_mut().find(|p| p.share.repository.eq_ignore_ascii_case(&change.repository)) else {
            continue;
        };
        if part.milestones.iter().any(|m| m.number == number) {
            continue;
        }
        let now =
            part.share.gh.get().get_milestone(number).await.with_context(|| format!("reading milestone #{number}"))?;
        if let Some(milestone) = now {
            let _ = writeln!(
                out,
                "milestone #{number} exists (made after the list was read): {} links it, not recorded as deleted",
                change.artifact_id
            );
            part.milestones.push(milestone);
            found = true;
        }
    }
    Ok(found)
}

/// What the run waited for besides GitHub's answers, when it was a second or more: writes
/// taking their turn (`write-delay-ms` apart) and rate limits waited out.
fn waits_note(waits: Waits, write_delay: std::time::Duration) -> Option<String> {
    if waits.total() < std::time::Duration::from_secs(1) {
        return None;
    }
    let mut parts = Vec::new();
    if !waits.pacing.is_zero() {
        parts.push(format!(
            "{} pacing writes ({} ms apart, `write-delay-ms`)",
            human_duration(waits.pacing),
            write_delay.as_millis()
        ));
    }
    if !waits.rate_limits.is_zero() {
        parts.push(format!("{} for GitHub's rate limits and retries", human_duration(waits.rate_limits)));
    }
    Some(format!("The run waited {} besides GitHub's answers: {}.", human_duration(waits.total()), parts.join(", ")))
}

/// `1.5 s`, `2 min 5 s`.
fn human_duration(d: std::time::Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 { format!("{secs:.1} s") } else { format!("{} min {} s", d.as_secs() / 60, d.as_secs() % 60) }
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

/// Which milestones a run keeping to its trigger's scope reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MilestoneReads {
    /// The whole list (`GET milestones`, every page).
    All,
    /// Only these, one `GET milestones/{n}` each (none at all when empty).
    Each(BTreeSet<u64>),
}

/// The milestones a push above the request budget needs, in as few requests as GitHub allows.
///
/// A push that touched only linked artifacts (and removed only linked ones) needs only their
/// milestones: when they are fewer than the pages the whole list takes (at least one page per
/// 100 linked artifacts), each is read on its own, so a push that changes one artifact of
/// 10,000 reads one milestone, not 100 pages, and a push that touches no artifact reads
/// nothing. A push with a new artifact to adopt or create reads the whole list. What a push
/// then does not see, a duplicate of an artifact's marker on some other milestone, is
/// reported by the next full reconcile.
pub fn milestone_reads(projects: &[crate::project::Project], scope: &Scope, repository: &str) -> MilestoneReads {
    if scope.everything {
        return MilestoneReads::All;
    }
    let number = |a: &artifact::Artifact| a.link.as_deref().and_then(|l| link::milestone_number(l, repository));
    let mut numbers = BTreeSet::new();
    // Touched paths that are not artifacts of the milestone type are not planned. An artifact
    // without a link may adopt a milestone found by marker or title: that takes the list
    // (unless the file records that its milestone was deleted).
    for a in projects.iter().flat_map(|p| &p.artifacts).filter(|a| scope.touched.contains_key(&a.path)) {
        match number(a) {
            Some(n) => {
                numbers.insert(n);
            }
            None if a.deleted.is_some() => {}
            None => return MilestoneReads::All,
        }
    }
    for (_, old) in &scope.removed {
        let Some(n) = number(old) else { return MilestoneReads::All };
        numbers.insert(n);
    }
    let linked = projects.iter().flat_map(|p| &p.artifacts).filter(|a| a.link.is_some()).count();
    if numbers.len() < linked.div_ceil(100) { MilestoneReads::Each(numbers) } else { MilestoneReads::All }
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
        on_deleted: Some(settings.on_milestone_deleted),
        to_pull_request: settings.commit == CommitMode::PullRequest,
    }
}

fn report_and_exit(settings: &Settings, out: &mut dyn Write, r: &summary::Report<'_>) -> i32 {
    for d in r.diagnostics {
        let _ = writeln!(out, "{}", report::annotation(d));
    }
    runner::write_summary(settings, &summary::summary(r));
    runner::write_outputs(settings, &report::outputs(r.plan, r.outcome, r.diagnostics));
    let t = report::totals(r.plan, r.outcome, r.diagnostics);
    let _ = writeln!(out, "{}", summary::headline(r, &t));
    let _ = writeln!(out, "{}", summary::count_line(&t, r.plan.in_sync, r.mode));
    if settings.json {
        let _ = writeln!(out, "{}", report::json(r.plan, r.outcome, r.diagnostics, settings.dry_run));
    }
    if settings.terminal
        && let Some(sha) = r.outcome.and_then(|o| o.commit_sha.as_deref())
    {
        behind_after_commit(settings, out, r.branch, sha);
    }
    let failed_on_conflict = settings.fail_on_conflict && t.flagged > 0;
    if t.errors > 0 || t.failed > 0 || failed_on_conflict { 1 } else { 0 }
}

/// A terminal `sync` commits through the API, on GitHub: the checkout it ran in is then
/// behind, and a second `sync` from it would plan on old files. `--pull` fast-forwards it;
/// without it, the person is told to.
fn behind_after_commit(settings: &Settings, out: &mut dyn Write, branch: &str, sha: &str) {
    let short = sha.get(..7).unwrap_or(sha);
    if settings.pull {
        match history::fast_forward(&settings.workspace, branch, sha) {
            Ok(()) => {
                let _ = writeln!(out, "pulled: the checkout is at {short}, the sync's commit on {branch}");
            }
            Err(why) => {
                let _ = writeln!(
                    out,
                    "the sync committed {short} to {branch} on GitHub, but --pull could not fast-forward the checkout ({why:#}): run `git pull` before the next sync"
                );
            }
        }
    } else {
        let _ = writeln!(
            out,
            "the sync committed {short} to {branch} on GitHub: this checkout is behind it, so run `git pull` before you edit or sync again (or pass --pull)"
        );
    }
}
