//! The step outputs, in the `GITHUB_OUTPUT` file format.

use std::fmt::Write as _;

use super::totals;
use crate::apply::Outcome;
use crate::diagnostic::Diagnostic;
use crate::plan::Plan;

/// The step outputs, in the `GITHUB_OUTPUT` file format (multi-line values as heredocs).
pub fn outputs(plan: &Plan, outcome: Option<&Outcome>, diagnostics: &[Diagnostic]) -> String {
    let t = totals(plan, outcome, diagnostics);
    let mut s = String::new();
    for (name, value) in [
        ("created", t.created),
        ("updated", t.updated),
        ("closed", t.closed),
        ("deleted", t.deleted),
        ("linked", t.linked),
        ("files", t.files),
        ("conflicts", t.conflicts),
        ("errors", t.errors + t.failed),
    ] {
        let _ = writeln!(s, "{name}={value}");
    }
    let _ = writeln!(s, "commit-sha={}", outcome.and_then(|o| o.commit_sha.as_deref()).unwrap_or_default());
    let pull = outcome.and_then(|o| o.pull_request.as_ref());
    let _ = writeln!(s, "pull-request-number={}", pull.map(|p| p.number.to_string()).unwrap_or_default());
    let _ = writeln!(s, "pull-request-url={}", pull.map(|p| p.url.as_str()).unwrap_or_default());
    let files = outcome.map(|o| o.files_changed.join("\n")).unwrap_or_default();
    let plan_json = plan_output(plan);
    for (name, value) in [("artifacts-changed", files), ("plan", plan_json)] {
        let delimiter = heredoc_delimiter(&value);
        let _ = writeln!(s, "{name}<<{delimiter}\n{value}\n{delimiter}");
    }
    s
}

/// The most bytes the `plan` output holds. GitHub keeps about 1 MB of a step's outputs in
/// all; a larger value is dropped whole, so a plan of thousands of changes keeps the changes
/// that fit, in plan order, and stays valid JSON.
pub const PLAN_OUTPUT_MAX: usize = 512 * 1024;

/// The plan as compact JSON, cut to the whole changes that fit in [`PLAN_OUTPUT_MAX`]
/// (built change by change, so a huge plan is never held as one string).
fn plan_output(plan: &Plan) -> String {
    let mut out = String::from("[");
    let mut kept = 0;
    for change in &plan.changes {
        let Ok(item) = serde_json::to_string(change) else { continue };
        if out.len() + item.len() + 2 > PLAN_OUTPUT_MAX {
            tracing::warn!(
                "the `plan` output holds the first {kept} of {} changes: GitHub keeps about 1 MB of a step's outputs",
                plan.changes.len()
            );
            break;
        }
        if kept > 0 {
            out.push(',');
        }
        out.push_str(&item);
        kept += 1;
    }
    out.push(']');
    out
}

/// A heredoc delimiter that does not occur in the value.
fn heredoc_delimiter(value: &str) -> String {
    let mut n = 0u32;
    loop {
        let d = format!("MILESTONE_SYNC_EOF_{n}");
        if !value.contains(&d) {
            return d;
        }
        n += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Action, Change};

    /// A plan of thousands of changes: the `plan` output stays within what GitHub keeps
    /// (about 1 MB of outputs) and the JSON stays valid.
    #[test]
    fn a_huge_plan_output_is_cut_to_what_github_keeps() {
        let change = |i: usize| Change {
            project: "demo".into(),
            repository: "o/r".into(),
            artifact_id: format!("EPIC-{i:05}"),
            artifact_title: "A long enough title ".repeat(10),
            path: format!(".ruru/projects/demo/epics/EPIC-{i:05}_a.md"),
            action: Action::Create {
                milestone: crate::milestone::NewMilestone {
                    title: format!("Title {i}"),
                    description: "A description of some length. ".repeat(20),
                    state: crate::milestone::MilestoneState::Open,
                    due_on: None,
                },
            },
            fields: vec![],
            file_edits: vec![],
            after_commit: None,
            file_fields: vec![],
            values: Vec::new(),
            line: None,
            start: None,
            conflicts: vec![],
        };
        let plan = Plan { changes: (0..10_000).map(change).collect(), ..Default::default() };
        let json = plan_output(&plan);
        assert!(json.len() <= PLAN_OUTPUT_MAX);
        let kept: Vec<serde_json::Value> = serde_json::from_str(&json).expect("valid JSON");
        assert!(kept.len() > 100 && kept.len() < 10_000, "{}", kept.len());
        assert_eq!(kept[0]["artifact_id"], "EPIC-00000", "plan order");
    }

    #[test]
    fn outputs_use_heredocs_for_lists() {
        let out = outputs(&Plan::default(), None, &[]);
        assert!(out.contains("created=0\n"));
        assert!(out.contains("plan<<MILESTONE_SYNC_EOF_0\n[]\nMILESTONE_SYNC_EOF_0\n"));
    }
}
