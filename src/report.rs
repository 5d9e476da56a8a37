//! Telling the user: log lines, workflow-command annotations, the job summary and the step
//! outputs. Everything here turns plain values into text; `run` decides where it goes.
//!
//! This module: the totals every form of report shares ([`Totals`]), the log's and the
//! terminal's plan lines and table, and the `--json` report. [`annotations`]: workflow
//! commands and their terminal form; [`markdown`]: text made safe for the summary's tables;
//! [`outputs`]: the step outputs.

mod annotations;
mod markdown;
mod outputs;

pub use annotations::{annotation, for_terminal};
pub(crate) use markdown::link_target;
pub use markdown::{cell, cell_to, code};
pub use outputs::{PLAN_OUTPUT_MAX, outputs};

use serde::Serialize;

use crate::apply::{Outcome, describe};
use crate::diagnostic::{Diagnostic, Level};
use crate::plan::{Action, Change, Plan, Resolution};

/// The report of a run as one JSON object on one line (`--json`): what was planned (or done),
/// the totals, the diagnostics, and the commit.
pub fn json(plan: &Plan, outcome: Option<&Outcome>, diagnostics: &[Diagnostic], dry_run: bool) -> String {
    serde_json::json!({
        "dry_run": dry_run,
        "totals": totals(plan, outcome, diagnostics),
        "in_sync": plan.in_sync,
        "plan": plan.changes,
        "diagnostics": diagnostics,
        "commit_sha": outcome.and_then(|o| o.commit_sha.clone()),
        "artifacts_changed": outcome.map(|o| o.files_changed.clone()).unwrap_or_default(),
    })
    .to_string()
}

/// One log line per planned change; with changes in several repositories, a heading line
/// before each repository's.
pub fn plan_lines(plan: &Plan) -> Vec<String> {
    let several = plan.spans_repositories();
    let mut lines = Vec::new();
    let mut last: Option<&str> = None;
    for c in &plan.changes {
        if several && last.is_none_or(|r| !r.eq_ignore_ascii_case(&c.repository)) {
            lines.push(format!("in {}:", one_line(&c.repository)));
            last = Some(&c.repository);
        }
        lines.push(format!(
            "{}{} ({}): {}{}",
            if several { "  " } else { "" },
            one_line(&c.artifact_id),
            one_line(&c.path),
            describe(c),
            milestone_ref(c).map(|n| format!(" #{n}")).unwrap_or_default()
        ));
    }
    lines
}

/// The plan as an aligned table for a terminal: artifact, title, milestone, what happens.
pub fn plan_table(plan: &Plan) -> Vec<String> {
    if plan.changes.is_empty() {
        return Vec::new();
    }
    let short = |s: &str, n: usize| {
        if s.chars().count() > n { format!("{}…", s.chars().take(n - 1).collect::<String>()) } else { s.to_string() }
    };
    // With several repositories, the milestone column names the repository: `acme/api#3`.
    let several = plan.spans_repositories();
    let repository = |c: &Change| if several { c.repository.clone() } else { String::new() };
    let rows: Vec<[String; 4]> = plan
        .changes
        .iter()
        .map(|c| {
            [
                c.artifact_id.clone(),
                short(&c.artifact_title.replace('\n', " "), 40),
                milestone_ref(c)
                    .map(|n| format!("{}#{n}", repository(c)))
                    .unwrap_or_else(|| if several { format!("new in {}", c.repository) } else { "new".into() }),
                action_with_values(c),
            ]
        })
        .collect();
    let header = ["ARTIFACT".to_string(), "TITLE".into(), "MILESTONE".into(), "ACTION".into()];
    let widths: Vec<usize> =
        (0..3).map(|i| rows.iter().chain([&header]).map(|r| r[i].chars().count()).max().unwrap_or(0)).collect();
    let line = |r: &[String; 4]| {
        let pad = |i: usize| format!("{}{}", r[i], " ".repeat(widths[i] - r[i].chars().count()));
        format!("{}  {}  {}  {}", pad(0), pad(1), pad(2), r[3])
    };
    std::iter::once(line(&header)).chain(rows.iter().map(line)).collect()
}

/// What a change does, and the values it writes: `update title (title "A" → "B")`.
fn action_with_values(c: &Change) -> String {
    let esc = |t: &str| {
        let t = one_line(t);
        if t.chars().count() > 40 { format!("{}…", t.chars().take(39).collect::<String>()) } else { t }
    };
    let values: Vec<String> = c.values.iter().map(|v| crate::summary::value_text(v, &esc)).collect();
    if values.is_empty() { describe(c) } else { format!("{} ({})", describe(c), values.join(", ")) }
}

/// Text from a file or from GitHub, made one log line: a line break in an ID could otherwise
/// start a line the runner reads as a workflow command (`::…::`).
fn one_line(text: &str) -> String {
    text.replace('\r', "\\r").replace('\n', "\\n")
}

fn milestone_ref(c: &Change) -> Option<u64> {
    c.action.milestone_number()
}

/// The counts a run reports as outputs and in the summary, from the same rows the summary
/// shows, so that the two always agree.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Milestones created, open or closed.
    pub created: usize,
    /// Of those, the ones created closed (an artifact already done): they count in `closed`
    /// too, as the `closed` output does, and the count line says which is which. Not in
    /// `--json`, whose totals are the outputs'.
    #[serde(skip)]
    pub created_closed: usize,
    pub updated: usize,
    /// Milestones left closed that were open, and those created closed.
    pub closed: usize,
    /// Milestones opened again.
    pub reopened: usize,
    pub deleted: usize,
    /// Existing milestones adopted and linked; the link a created milestone's file gains is
    /// counted in `created`.
    pub linked: usize,
    /// Changes attempted that failed, their file part included (a commit that failed).
    pub failed: usize,
    /// Error diagnostics: each failed change has one, and a run that stopped has one.
    pub errors: usize,
    /// Warnings (flagged and held conflicts among them).
    pub warnings: usize,
    /// Artifact files changed or created to follow GitHub; a file that only gains its link
    /// (`related_milestone`) is not one of them.
    pub files: usize,
    /// Fields changed on both sides since the last sync.
    pub conflicts: usize,
    /// Of those, the ones `manual_flag` left unresolved.
    pub flagged: usize,
    /// Of those, the ones the run's `direction` kept from being written.
    pub held: usize,
    /// Changes that only refresh the sync's record on the milestone.
    pub records: usize,
    /// Changes a run that stopped early did not attempt.
    pub not_attempted: usize,
}

/// How one change came out: done (or, in a dry run, to do), failed, or its file part not
/// committed.
pub fn change_failed(c: &Change, result: Option<&crate::apply::ChangeResult>, outcome: Option<&Outcome>) -> bool {
    let milestone_failed = result.is_some_and(|r| r.is_err());
    let writes_file = !c.file_edits.is_empty() || c.links_file() || matches!(c.action, Action::CreateFile { .. });
    milestone_failed || (writes_file && outcome.is_some_and(|o| o.commit_failed.is_some()))
}

/// Counts what was done (or, in a dry run, what would be).
pub fn totals(plan: &Plan, outcome: Option<&Outcome>, diagnostics: &[Diagnostic]) -> Totals {
    let mut t = Totals::default();
    let done: Vec<(&Change, bool)> = match outcome {
        Some(o) => o.results(plan).map(|(c, result)| (c, !change_failed(c, Some(result), Some(o)))).collect(),
        None => plan.changes.iter().map(|c| (c, true)).collect(),
    };
    for (c, ok) in done {
        t.conflicts += c.conflicts.len();
        t.flagged += c.conflicts.iter().filter(|x| x.resolution == Resolution::Flagged).count();
        t.held += c.conflicts.iter().filter(|x| x.resolution == Resolution::Held).count();
        if !ok {
            t.failed += 1;
            continue;
        }
        match &c.action {
            Action::Create { milestone } => {
                let closed = usize::from(milestone.state == crate::milestone::MilestoneState::Closed);
                t.created += 1;
                t.created_closed += closed;
                t.closed += closed;
            }
            Action::Adopt { .. } | Action::Update { .. } => {
                t.linked += usize::from(matches!(c.action, Action::Adopt { .. }));
                // A change that only closes or reopens counts as that, not as updated.
                let state_only = c.sent_fields() == ["state"];
                t.updated += usize::from(!c.fields.is_empty() && !state_only);
                t.reopened += usize::from(c.reopens());
                t.records += usize::from(c.records_only());
            }
            Action::CloseRemoved { .. } => {}
            Action::DeleteRemoved { .. } => t.deleted += 1,
            Action::RecordDeleted { .. } | Action::CreateFile { .. } => {}
        }
        if c.closes() {
            t.closed += 1;
        }
        t.files += usize::from(!c.file_fields.is_empty() || matches!(c.action, Action::CreateFile { .. }));
    }
    t.not_attempted = outcome.map_or(0, |o| o.not_attempted.len());
    t.errors = diagnostics.iter().filter(|d| d.level == Level::Error).count();
    t.warnings = diagnostics.iter().filter(|d| d.level == Level::Warning).count();
    t
}

/// The most rows the summary's change table shows: a row is at most ~1 KB, and GitHub drops
/// a job summary over 1 MiB whole.
pub const SUMMARY_ROWS_MAX: usize = 500;
