//! The planning stage alone, measured in-process: the pure planner called on the very inputs
//! the binary is about to read (the workspace on disk, the milestones the stand-in holds, the
//! push's scope, the settings from the runner's environment), timed with this thread's CPU
//! clock. The planner does no I/O and runs on one thread, so the thread clock sees all of it
//! and nothing else (no start-up, no HTTP, no git).

use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use github_standin::MilestoneRecord;
use milestone_sync::config::{Inputs, Settings};
use milestone_sync::event::{self, Event};
use milestone_sync::history;
use milestone_sync::run;
use milestone_sync::workspace::{self, Workspace};
use milestone_sync_core::milestone::{Milestone, MilestoneState};
use milestone_sync_core::plan::{self, Plan};

use crate::fixture::{REPOSITORY, ROOT};
use crate::measure;

/// What the planning stage cost and what it planned (to check the scenario is what it says).
pub(crate) struct Planned {
    pub cpu: Duration,
    /// Wall time of reading the workspace (files in, artifacts parsed), for comparison.
    pub read: Duration,
    pub plan: Plan,
}

/// The milestone as the client would have listed it.
pub(crate) fn milestone(r: &MilestoneRecord) -> Milestone {
    let instant = |s: &str| DateTime::parse_from_rfc3339(s).expect("RFC 3339 from the stand-in").with_timezone(&Utc);
    Milestone {
        number: r.number,
        html_url: r.html_url.clone(),
        title: r.title.clone(),
        description: r.description.clone(),
        state: if r.state == "closed" { MilestoneState::Closed } else { MilestoneState::Open },
        due_on: r.due_on.as_deref().map(instant),
        updated_at: instant(&r.updated_at),
        created_at: Some(instant(&r.created_at)),
        open_issues: r.open_issues,
        closed_issues: r.closed_issues,
    }
}

fn settings(env: &[(String, String)]) -> Settings {
    Settings::from_inputs(&Inputs::from_vars(env.iter().cloned())).expect("the runner's settings are valid")
}

/// Plans a push, a milestone event or a reconcile exactly as the binary's run does,
/// `repeats` times: the same scope ([`run::scope_for`]) over the milestones the run would
/// read.
pub(crate) fn sync(
    ws_dir: &Path,
    env: &[(String, String)],
    payload: &str,
    milestones: &[MilestoneRecord],
    repeats: usize,
) -> Planned {
    let settings = settings(env);
    let read = measure::median_wall(repeats.min(3), || read_workspace(ws_dir));
    let ws = read_workspace(ws_dir);
    let event = event::parse(&settings.event_name, payload).expect("the payload parses");
    let all: Vec<Milestone> = milestones.iter().map(milestone).collect();
    let touched = match &event {
        Event::Push(push) => Some(history::touched(ws_dir, ROOT, push.before.as_deref(), &push.after, push.forced)),
        _ => None,
    };
    let (scope, milestones) = run::scope_for(&settings, &ws, &event, touched, &all);
    let options = run::plan_options(&settings);
    let (cpu, plan) = measure::median_cpu(repeats, || {
        plan::plan(&plan::Input {
            repository: REPOSITORY,
            projects: &ws.projects,
            milestones: &milestones,
            scope: &scope,
            options: &options,
        })
    });
    Planned { cpu, read, plan }
}

fn read_workspace(ws_dir: &Path) -> Workspace {
    workspace::read(ws_dir, ROOT, None, false)
}
