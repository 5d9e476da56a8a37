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
use milestone_sync::milestone::{Milestone, MilestoneState};
use milestone_sync::plan::milestone_event::{self, EventInput, EventSettings};
use milestone_sync::plan::{self, Plan, Scope};
use milestone_sync::run;
use milestone_sync::workspace::{self, Workspace};

use crate::fixture::{REPOSITORY, ROOT};
use crate::measure;

/// What the planning stage cost and what it planned (to check the scenario is what it says).
pub struct Planned {
    pub cpu: Duration,
    /// Wall time of reading the workspace (files in, artifacts parsed), for comparison.
    pub read: Duration,
    pub plan: Plan,
}

/// The milestone as the client would have listed it.
pub fn milestone(r: &MilestoneRecord) -> Milestone {
    let instant = |s: &str| DateTime::parse_from_rfc3339(s).expect("RFC 3339 from the stand-in").with_timezone(&Utc);
    Milestone {
        number: r.number,
        html_url: r.html_url.clone(),
        title: r.title.clone(),
        description: r.description.clone(),
        state: if r.state == "closed" { MilestoneState::Closed } else { MilestoneState::Open },
        due_on: r.due_on.as_deref().map(instant),
        updated_at: instant(&r.updated_at),
    }
}

fn settings(env: &[(String, String)]) -> Settings {
    Settings::from_inputs(&Inputs::from_vars(env.iter().cloned())).expect("the runner's settings are valid")
}

/// Plans a push or a reconcile exactly as the binary's run does, `repeats` times.
pub fn sync(
    ws_dir: &Path,
    env: &[(String, String)],
    payload: &str,
    milestones: &[MilestoneRecord],
    repeats: usize,
) -> Planned {
    let settings = settings(env);
    let read = measure::median_wall(repeats.min(3), || read_workspace(ws_dir));
    let ws = read_workspace(ws_dir);
    let scope = match event::parse(&settings.event_name, payload).expect("the payload parses") {
        Event::Push(push) => match history::touched(ws_dir, ROOT, push.before.as_deref(), &push.after, push.forced) {
            history::Touched::All { .. } => Scope::All,
            history::Touched::Files(files) => run::scope_of_push(&ws, files),
        },
        _ => Scope::All,
    };
    // The milestones the run would read: all, or only those the push's artifacts link.
    let milestones: Vec<Milestone> = match run::milestone_reads(&ws, &scope, REPOSITORY) {
        run::MilestoneReads::All => milestones.iter().map(milestone).collect(),
        run::MilestoneReads::Each(numbers) => {
            milestones.iter().filter(|m| numbers.contains(&m.number)).map(milestone).collect()
        }
    };
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

/// Plans a milestone event exactly as the binary's run does (the milestone exists).
pub fn milestone_event(ws_dir: &Path, env: &[(String, String)], payload: &str, repeats: usize) -> Planned {
    let settings = settings(env);
    let read = measure::median_wall(repeats.min(3), || read_workspace(ws_dir));
    let ws = read_workspace(ws_dir);
    let Event::Milestone(event) = event::parse("milestone", payload).expect("the payload parses") else {
        panic!("not a milestone event");
    };
    let event_settings = EventSettings {
        on_deleted: Some(settings.on_milestone_deleted),
        create_artifacts: settings.create_artifacts,
        project: settings.project.clone(),
    };
    let options = run::plan_options(&settings);
    let (cpu, plan) = measure::median_cpu(repeats, || {
        milestone_event::plan(&EventInput {
            repository: REPOSITORY,
            projects: &ws.projects,
            event: &event,
            exists: true,
            today: options.today.unwrap_or_default(),
            settings: &event_settings,
            options: &options,
        })
    });
    Planned { cpu, read, plan }
}

fn read_workspace(ws_dir: &Path) -> Workspace {
    workspace::read(ws_dir, ROOT, REPOSITORY, None)
}
