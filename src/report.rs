//! Telling the user: log lines, workflow-command annotations, the job summary and the step
//! outputs. Everything here turns plain values into text; `run` decides where it goes.

use std::fmt::Write as _;

use serde::Serialize;

use crate::apply::{Outcome, describe};
use crate::diagnostic::{Diagnostic, Level};
use crate::plan::{Action, Change, Plan, Resolution};

/// A workflow command that shows `d` as an annotation on the file and line.
pub fn annotation(d: &Diagnostic) -> String {
    let command = match d.level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Notice => "notice",
    };
    let mut props = Vec::new();
    if let Some(file) = &d.file {
        props.push(format!("file={}", escape_property(file)));
        if let Some(line) = d.line {
            props.push(format!("line={line}"));
        }
    }
    let props = if props.is_empty() { String::new() } else { format!(" {}", props.join(",")) };
    let message = match &d.file {
        Some(file) => format!("{file}{}: {}", d.line.map(|l| format!(":{l}")).unwrap_or_default(), d.message),
        None => d.message.clone(),
    };
    format!("::{command}{props}::{}", escape_data(&message))
}

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

/// A line of the run's log as a terminal shows it: a `::group::` becomes a heading, an
/// `::endgroup::` nothing, an annotation `level: message` (unescaped); other lines stay.
pub fn for_terminal(line: &str) -> Option<String> {
    if let Some(name) = line.strip_prefix("::group::") {
        return Some(format!("── {name} ──"));
    }
    if line == "::endgroup::" {
        return None;
    }
    for level in ["error", "warning", "notice"] {
        if let Some(rest) = line.strip_prefix(&format!("::{level}")) {
            if let Some((_, message)) = rest.split_once("::") {
                let message = message.replace("%0A", "\n").replace("%0D", "").replace("%25", "%");
                return Some(format!("{level}: {message}"));
            }
        }
    }
    Some(line.to_string())
}

/// Escaping of a workflow command's message, as @actions/core does it.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escaping of a workflow command's property value.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One log line per planned change.
pub fn plan_lines(plan: &Plan) -> Vec<String> {
    plan.changes
        .iter()
        .map(|c| {
            format!(
                "{} ({}): {}{}",
                one_line(&c.artifact_id),
                one_line(&c.path),
                describe(c),
                milestone_ref(c).map(|n| format!(" #{n}")).unwrap_or_default()
            )
        })
        .collect()
}

/// The plan as an aligned table for a terminal: artifact, title, milestone, what happens.
pub fn plan_table(plan: &Plan) -> Vec<String> {
    if plan.changes.is_empty() {
        return Vec::new();
    }
    let short = |s: &str, n: usize| {
        if s.chars().count() > n { format!("{}…", s.chars().take(n - 1).collect::<String>()) } else { s.to_string() }
    };
    let rows: Vec<[String; 4]> = plan
        .changes
        .iter()
        .map(|c| {
            [
                c.artifact_id.clone(),
                short(&c.artifact_title.replace('\n', " "), 40),
                milestone_ref(c).map(|n| format!("#{n}")).unwrap_or_else(|| "new".into()),
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
    pub created: usize,
    pub updated: usize,
    /// Milestones left closed that were open (or created closed).
    pub closed: usize,
    /// Milestones opened again.
    pub reopened: usize,
    pub deleted: usize,
    pub linked: usize,
    /// Changes attempted that failed, their file part included (a commit that failed).
    pub failed: usize,
    /// Error diagnostics: each failed change has one, and a run that stopped has one.
    pub errors: usize,
    /// Warnings (flagged and held conflicts among them).
    pub warnings: usize,
    /// Artifact files changed or created to follow GitHub.
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
                t.created += 1;
                t.closed += usize::from(milestone.state == crate::milestone::MilestoneState::Closed);
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

/// The most characters of one value a summary shows; longer text ends with `…`.
const CELL_MAX: usize = 300;

/// Makes text safe inside a Markdown table cell (or a list item): it shows as the literal
/// text it is. No line breaks, no pipes, no HTML, no Markdown (emphasis, links, images,
/// headings, code spans), bounded length. Titles and descriptions come from GitHub and from
/// files anyone with push access writes: they must never break the summary's table.
pub fn cell(text: &str) -> String {
    cell_to(text, CELL_MAX)
}

/// [`cell`] for a longer text, such as a message a person must read whole (up to `max`
/// characters).
pub fn cell_to(text: &str, max: usize) -> String {
    bounded_to(text, max, |ch, out| match ch {
        '|' => out.push_str("\\|"),
        '<' => out.push_str("&lt;"),
        '>' => out.push_str("&gt;"),
        '&' => out.push_str("&amp;"),
        '\\' | '`' | '*' | '_' | '[' | ']' | '~' | '#' | '!' => {
            out.push('\\');
            out.push(ch);
        }
        c => out.push(c),
    })
}

/// Makes text safe inside a code span (`` `…` `` in a table cell): backslash escapes and
/// entities would show literally there, so only what ends the span or the cell is changed.
pub fn code(text: &str) -> String {
    bounded(text, |ch, out| match ch {
        '|' => out.push_str("\\|"),
        '`' => out.push('\''),
        c => out.push(c),
    })
}

/// Applies `escape` to every character of the first [`CELL_MAX`] of `text`, with line breaks
/// turned into spaces (a line break ends a table row).
fn bounded(text: &str, escape: impl Fn(char, &mut String)) -> String {
    bounded_to(text, CELL_MAX, escape)
}

/// [`bounded`] with another bound.
fn bounded_to(text: &str, max: usize, escape: impl Fn(char, &mut String)) -> String {
    let mut out = String::with_capacity(text.len().min(max + 8));
    for (i, ch) in text.chars().enumerate() {
        if i >= max {
            out.push('…');
            break;
        }
        match ch {
            '\r' => {}
            '\n' | '\u{2028}' | '\u{2029}' => out.push(' '),
            c => escape(c, &mut out),
        }
    }
    out
}

/// A URL made safe as a Markdown link target inside a table cell.
pub(crate) fn link_target(url: &str) -> String {
    url.chars()
        .map(|c| match c {
            '(' => "%28".to_string(),
            ')' => "%29".to_string(),
            '|' => "%7C".to_string(),
            '<' => "%3C".to_string(),
            '>' => "%3E".to_string(),
            c if c.is_whitespace() => "%20".to_string(),
            c => c.to_string(),
        })
        .collect()
}

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

/// The most rows the summary's change table shows: a row is at most ~1 KB, and GitHub drops
/// a job summary over 1 MiB whole.
pub const SUMMARY_ROWS_MAX: usize = 500;

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

    #[test]
    fn annotations_escape_like_actions_core() {
        let d = Diagnostic::error(".ruru/projects/a,b/epics/E:1.md", Some(4), "100% bad\nnext");
        assert_eq!(
            annotation(&d),
            "::error file=.ruru/projects/a%2Cb/epics/E%3A1.md,line=4::.ruru/projects/a,b/epics/E:1.md:4: 100%25 bad%0Anext"
        );
        assert_eq!(annotation(&Diagnostic::notice("hi")), "::notice::hi");
    }

    #[test]
    fn hostile_text_cannot_break_a_table_cell() {
        let c = cell("a | b\n<script>x</script> `c`");
        assert_eq!(c, "a \\| b &lt;script&gt;x&lt;/script&gt; \\`c\\`");
        assert!(cell(&"x".repeat(1000)).chars().count() <= 301);
        assert_eq!(
            cell("**bold** _it_ [link](javascript:x) ![img](http://t/x.png) ~~s~~ # h \\"),
            "\\*\\*bold\\*\\* \\_it\\_ \\[link\\](javascript:x) \\!\\[img\\](http://t/x.png) \\~\\~s\\~\\~ \\# h \\\\"
        );
        assert_eq!(code("a|b`c\r\nd <e>"), "a\\|b'c d <e>");
        assert_eq!(link_target("https://x/m/1) | y"), "https://x/m/1%29%20%7C%20y");
    }

    /// A plan of thousands of changes: the `plan` output stays within what GitHub keeps
    /// (about 1 MB of outputs) and the JSON stays valid.
    #[test]
    fn a_huge_plan_output_is_cut_to_what_github_keeps() {
        let change = |i: usize| Change {
            project: "demo".into(),
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
