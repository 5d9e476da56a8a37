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
                describe(c),
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

/// Text from a file or from GitHub, made one log line: a line break in an ID could otherwise
/// start a line the runner reads as a workflow command (`::…::`).
fn one_line(text: &str) -> String {
    text.replace('\r', "\\r").replace('\n', "\\n")
}

fn milestone_ref(c: &Change) -> Option<u64> {
    c.action.milestone_number()
}

/// The page of the milestone a change concerns, when it exists already.
fn milestone_url(c: &Change) -> Option<&str> {
    match &c.action {
        Action::Create { .. } => None,
        Action::Adopt { html_url, .. }
        | Action::Update { html_url, .. }
        | Action::CloseRemoved { html_url, .. }
        | Action::DeleteRemoved { html_url, .. }
        | Action::RecordDeleted { html_url, .. }
        | Action::CreateFile { html_url, .. } => Some(html_url),
    }
}

/// The counts a run reports as outputs and in the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub created: usize,
    pub updated: usize,
    pub closed: usize,
    pub deleted: usize,
    pub linked: usize,
    pub failed: usize,
    pub errors: usize,
    /// Artifact files changed or created to follow GitHub.
    pub files: usize,
    /// Fields changed on both sides since the last sync.
    pub conflicts: usize,
    /// Of those, the ones `manual_flag` left unresolved.
    pub flagged: usize,
}

/// Counts what was done (or, in a dry run, what would be).
pub fn totals(plan: &Plan, outcome: Option<&Outcome>, diagnostics: &[Diagnostic]) -> Totals {
    let mut t = Totals::default();
    let done: Vec<(&Change, bool)> = match outcome {
        Some(o) => o.results(plan).map(|(c, result)| (c, result.is_ok())).collect(),
        None => plan.changes.iter().map(|c| (c, true)).collect(),
    };
    for (c, ok) in done {
        if !ok {
            t.failed += 1;
            continue;
        }
        match &c.action {
            Action::Create { .. } => t.created += 1,
            Action::Adopt { .. } | Action::Update { .. } => {
                t.linked += usize::from(matches!(c.action, Action::Adopt { .. }));
                // A change that only closes counts as closed, not as updated.
                let only_closes = c.closes() && c.sent_fields() == ["state"];
                t.updated += usize::from(!c.fields.is_empty() && !only_closes);
            }
            Action::CloseRemoved { .. } => {}
            Action::DeleteRemoved { .. } => t.deleted += 1,
            Action::RecordDeleted { .. } | Action::CreateFile { .. } => {}
        }
        if c.closes() {
            t.closed += 1;
        }
        t.files += usize::from(!c.file_fields.is_empty() || matches!(c.action, Action::CreateFile { .. }));
        t.conflicts += c.conflicts.len();
        t.flagged += c.conflicts.iter().filter(|x| x.resolution == Resolution::Flagged).count();
    }
    t.errors = diagnostics.iter().filter(|d| d.level == Level::Error).count();
    t
}

/// The job summary in Markdown.
/// Where the summary's links point: the server (GitHub or GHES), the repository and the
/// branch the files are on.
#[derive(Debug, Clone, Copy)]
pub struct Links<'a> {
    /// `GITHUB_SERVER_URL`, e.g. `https://github.com`.
    pub server_url: &'a str,
    /// `owner/name`.
    pub repository: &'a str,
    pub branch: Option<&'a str>,
}

impl Links<'_> {
    /// A Markdown link to `path` on the branch, or the path in code when no branch is known.
    fn file(&self, path: &str) -> String {
        let shown = format!("`{}`", code(path));
        match self.branch {
            Some(branch) => format!(
                "[{shown}]({}/{}/blob/{}/{})",
                self.server_url.trim_end_matches('/'),
                self.repository,
                url_path(branch),
                url_path(path)
            ),
            None => shown,
        }
    }
}

/// Percent-encodes what would end a Markdown link target or break a URL path.
fn url_path(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            ' ' => "%20".to_string(),
            '(' => "%28".to_string(),
            ')' => "%29".to_string(),
            '<' => "%3C".to_string(),
            '>' => "%3E".to_string(),
            '|' => "%7C".to_string(),
            '#' => "%23".to_string(),
            '?' => "%3F".to_string(),
            '%' => "%25".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// The job summary: a heading with the run's outcome, then [`summary_body`]; one short line
/// when there was nothing to do and nothing to report.
pub fn summary(
    links: &Links<'_>,
    plan: &Plan,
    outcome: Option<&Outcome>,
    diagnostics: &[Diagnostic],
    dry_run: bool,
    notes: &[String],
) -> String {
    let t = totals(plan, outcome, diagnostics);
    let heading = if t.errors > 0 || t.failed > 0 {
        "❌ milestone-sync: finished with errors"
    } else if dry_run && !plan.is_empty() {
        "📝 milestone-sync: dry run, nothing was written"
    } else if plan.is_empty() {
        "✅ milestone-sync: everything is in sync"
    } else {
        "✅ milestone-sync: synced"
    };
    let problems = diagnostics.iter().any(|d| d.level != Level::Notice);
    if plan.is_empty() && notes.is_empty() && !problems {
        // Nothing to do: one short line.
        return format!("✅ milestone-sync: everything is in sync ({} artifact(s) checked).\n", plan.in_sync);
    }
    format!("## {heading}\n\n{}", summary_body(links, plan, outcome, diagnostics, dry_run, notes))
}

/// The job summary below its heading: the notes, a row per change, the totals, conflicts and
/// problems. The pull-request preview puts its own heading on top of it.
pub fn summary_body(
    links: &Links<'_>,
    plan: &Plan,
    outcome: Option<&Outcome>,
    diagnostics: &[Diagnostic],
    dry_run: bool,
    notes: &[String],
) -> String {
    let t = totals(plan, outcome, diagnostics);
    let mut s = String::new();
    for note in notes {
        let _ = writeln!(s, "{}\n", prose(note));
    }
    let problems: Vec<&Diagnostic> = diagnostics.iter().filter(|d| d.level != Level::Notice).collect();
    if plan.is_empty() {
        let _ = writeln!(s, "{} artifact(s) checked; every milestone already matches.\n", plan.in_sync);
    } else {
        let _ =
            writeln!(s, "| Artifact | Milestone | {} |\n| --- | --- | --- |", if dry_run { "Would" } else { "Result" });
        // A dry run's rows carry no result (an empty error).
        let none = Err(String::new());
        let rows: Vec<(&Change, &crate::apply::ChangeResult)> = match outcome {
            Some(o) => o.results(plan).collect(),
            None => plan.changes.iter().map(|c| (c, &none)).collect(),
        };
        let total = rows.len();
        for (c, result) in rows.into_iter().take(SUMMARY_ROWS_MAX) {
            let artifact =
                format!("**{}** {} ({})", cell(&c.artifact_id), cell(&c.artifact_title), links.file(&c.path));
            // A link, not a bare `#n`: in a pull request comment `#n` would name issue n.
            let milestone = match (result, milestone_ref(c), milestone_url(c)) {
                (Ok((n, url)), _, _) => format!("[#{n}]({})", link_target(url)),
                (_, Some(n), Some(url)) => format!("[#{n}]({})", link_target(url)),
                (_, Some(n), None) => format!("#{n}"),
                (_, None, _) => "new".into(),
            };
            let what = match result {
                Err(e) if !e.is_empty() => format!("❌ {}: {}", describe(c), cell(e)),
                _ => describe(c),
            };
            let _ = writeln!(s, "| {artifact} | {milestone} | {what} |");
        }
        if total > SUMMARY_ROWS_MAX {
            let _ = writeln!(
                s,
                "| … | | {} more change(s): the job summary shows the first {SUMMARY_ROWS_MAX} (GitHub drops a summary over 1 MiB); the log lists them all |",
                total - SUMMARY_ROWS_MAX
            );
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(
        s,
        "**Totals:** {} created, {} updated, {} closed, {} deleted, {} linked, {} file(s) following GitHub, {} conflict(s) ({} flagged), {} in sync, {} failed, {} error(s).\n",
        t.created,
        t.updated,
        t.closed,
        t.deleted,
        t.linked,
        t.files,
        t.conflicts,
        t.flagged,
        plan.in_sync,
        t.failed,
        t.errors
    );
    match outcome.and_then(|o| o.pull_request.as_ref().map(|pr| (o, pr))) {
        Some((o, pr)) => {
            let why = match &o.refused {
                Some(refusal) => format!(" The branch refused the commit ({}).", cell(refusal)),
                None => String::new(),
            };
            let _ = writeln!(
                s,
                "File changes are in pull request [#{}]({}) ({}), on the sync's own branch; merge it to bring them in.{why}\n",
                pr.number, pr.url, pr.what
            );
        }
        None => {
            if let Some(sha) = outcome.and_then(|o| o.commit_sha.as_deref()) {
                let _ = writeln!(s, "File changes committed in `{sha}` ({}).\n", links.repository);
            }
        }
    }
    if let Some(o) = outcome
        && let Some(reason) = &o.stopped
    {
        stopped_section(&mut s, o.not_attempted(plan), reason, o);
    }
    let conflicts: Vec<(&Change, &crate::plan::Conflict)> =
        plan.changes.iter().flat_map(|c| c.conflicts.iter().map(move |x| (c, x))).collect();
    if !conflicts.is_empty() {
        let _ = writeln!(
            s,
            "### Conflicts\n\n| Artifact | Field | In the file | On GitHub | Resolved |\n| --- | --- | --- | --- | --- |"
        );
        for (c, x) in conflicts {
            let _ = writeln!(
                s,
                "| **{}** (`{}`) | {} | {} | {} | {} |",
                cell(&c.artifact_id),
                code(&c.path),
                crate::plan::field_name(x.field),
                cell(&x.local),
                cell(&x.github),
                if x.resolution == Resolution::Flagged {
                    format!("⚠️ {}", x.resolution.describe())
                } else {
                    x.resolution.describe().to_string()
                }
            );
        }
        let _ = writeln!(s);
    }
    if !problems.is_empty() {
        let _ = writeln!(s, "### Problems\n");
        for d in problems {
            let place = d
                .file
                .as_deref()
                .map(|f| format!("`{}{}`: ", code(f), d.line.map(|l| format!(":{l}")).unwrap_or_default()))
                .unwrap_or_default();
            let _ = writeln!(s, "- {} {place}{}", if d.level == Level::Error { "❌" } else { "⚠️" }, cell(&d.message));
        }
    }
    s
}

/// The most rows the table of changes not attempted shows (it shares the summary's 1 MiB with
/// the change table).
pub const NOT_ATTEMPTED_ROWS_MAX: usize = 100;

/// What a run that stopped early did and left: the reason, then the changes not attempted.
fn stopped_section(s: &mut String, not_attempted: &[Change], reason: &str, o: &Outcome) {
    let done = o.applied.iter().filter(|a| a.result.is_ok()).count();
    let _ = writeln!(s, "### ⏸️ Stopped before the end\n\n{}\n", cell(reason));
    let _ = writeln!(
        s,
        "Done: {done} change(s), in the table above{}. Not attempted: {}.\n",
        if o.commit_sha.is_some() { ", and committed" } else { "" },
        not_attempted.len()
    );
    if !not_attempted.is_empty() {
        let _ = writeln!(s, "| Artifact | Not attempted |\n| --- | --- |");
        for c in not_attempted.iter().take(NOT_ATTEMPTED_ROWS_MAX) {
            let _ = writeln!(
                s,
                "| **{}** {} (`{}`) | {} |",
                cell(&c.artifact_id),
                cell(&c.artifact_title),
                code(&c.path),
                cell(&describe(c))
            );
        }
        if not_attempted.len() > NOT_ATTEMPTED_ROWS_MAX {
            let _ = writeln!(
                s,
                "| … | {} more: the log's Plan group lists every change in order |",
                not_attempted.len() - NOT_ATTEMPTED_ROWS_MAX
            );
        }
        let _ = writeln!(
            s,
            "\nRun the workflow again once the cause has passed or is fixed: what was done is found again by its markers, nothing is made twice.\n"
        );
    }
}

/// A sentence of ours for the summary (its Markdown kept): only what could break out of the
/// paragraph (a line break) or inject HTML is neutralised, since it may quote a value.
fn prose(text: &str) -> String {
    text.replace('<', "&lt;").replace('>', "&gt;").replace(['\r', '\n'], " ")
}

/// The most characters of one value a summary shows; longer text ends with `…`.
const CELL_MAX: usize = 300;

/// Makes text safe inside a Markdown table cell (or a list item): it shows as the literal
/// text it is. No line breaks, no pipes, no HTML, no Markdown (emphasis, links, images,
/// headings, code spans), bounded length. Titles and descriptions come from GitHub and from
/// files anyone with push access writes: they must never break the summary's table.
pub fn cell(text: &str) -> String {
    bounded(text, |ch, out| match ch {
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
    let mut out = String::with_capacity(text.len().min(CELL_MAX + 8));
    for (i, ch) in text.chars().enumerate() {
        if i >= CELL_MAX {
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
fn link_target(url: &str) -> String {
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

    /// Every table row has as many unescaped `|` as its header.
    fn rows_intact(summary: &str) {
        let pipes = |l: &str| l.replace("\\\\", "").replace("\\|", "").matches('|').count();
        let mut header = None;
        for line in summary.lines() {
            if !line.starts_with('|') {
                header = None;
                continue;
            }
            let n = pipes(line);
            assert_eq!(*header.get_or_insert(n), n, "{line}");
        }
    }

    /// A plan of thousands of changes: the summary and the `plan` output stay within what
    /// GitHub keeps (1 MiB of summary, about 1 MB of outputs) and the JSON stays valid.
    #[test]
    fn a_huge_plan_is_cut_to_what_github_keeps() {
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
            conflicts: vec![],
        };
        let plan = Plan { changes: (0..10_000).map(change).collect(), ..Default::default() };
        let links = Links { server_url: "https://github.com", repository: "acme/plan", branch: Some("main") };
        let s = summary(&links, &plan, None, &[], true, &[]);
        assert!(s.len() < 1024 * 1024, "{} bytes", s.len());
        assert!(s.contains("9500 more change(s)"), "the cut is said");
        let json = plan_output(&plan);
        assert!(json.len() <= PLAN_OUTPUT_MAX);
        let kept: Vec<serde_json::Value> = serde_json::from_str(&json).expect("valid JSON");
        assert!(kept.len() > 100 && kept.len() < 10_000, "{}", kept.len());
        assert_eq!(kept[0]["artifact_id"], "EPIC-00000", "plan order");

        // A run stopped by the rate limit after 600 changes: both tables are cut.
        let outcome = Outcome {
            applied: (0..600)
                .map(|i| crate::apply::Applied {
                    index: i,
                    result: Ok((i as u64, format!("https://github.com/acme/plan/milestone/{i}"))),
                })
                .collect(),
            stopped: Some("the API rate limit is used up".into()),
            not_attempted: 600..10_000,
            ..Default::default()
        };
        let s = summary(&links, &plan, Some(&outcome), &[], false, &[]);
        assert!(s.len() < 1024 * 1024, "{} bytes", s.len());
        assert!(s.contains("100 more change(s)") && s.contains("Not attempted: 9400."), "{s}");
        assert!(s.contains("| … | 9300 more: the log's Plan group lists every change in order |"), "{s}");
        assert!(s.contains("[#0](https://github.com/acme/plan/milestone/0)") && s.contains("EPIC-00600"));
        rows_intact(&s);
    }

    #[test]
    fn a_conflict_with_hostile_values_keeps_its_table() {
        use crate::plan::{Conflict, Field};
        let hostile = format!("x | **y** <b>z</b> [l](u)\n| a | b |\r\n{}", "long ".repeat(250));
        let change = Change {
            project: "demo".into(),
            artifact_id: "EPIC-1 | <i>".into(),
            artifact_title: hostile.clone(),
            path: ".ruru/projects/demo/epics/a|`b`.md".into(),
            action: Action::Update {
                number: 3,
                html_url: "https://github.com/acme/plan/milestone/3".into(),
                patch: Default::default(),
            },
            fields: vec![],
            file_edits: vec![],
            after_commit: None,
            file_fields: vec![],
            conflicts: vec![Conflict {
                field: Field::Title,
                local: hostile.clone(),
                github: hostile,
                resolution: crate::plan::Resolution::Flagged,
            }],
        };
        let plan = Plan { changes: vec![change], ..Default::default() };
        let s = summary(
            &Links { server_url: "https://github.com", repository: "acme/plan", branch: Some("main") },
            &plan,
            None,
            &[Diagnostic::error("a|b.md", Some(2), "bad `x` | <y>")],
            true,
            &[],
        );
        assert!(s.contains("### Conflicts"), "{s}");
        rows_intact(&s);
        assert!(!s.contains("<b>") && !s.contains("<i>") && !s.contains("**y**"), "{s}");
        assert!(s.lines().all(|l| l.chars().count() < 1500), "{s}");
        assert!(s.contains("(`.ruru/projects/demo/epics/a\\|'b'.md`)"), "{s}");
    }

    #[test]
    fn outputs_use_heredocs_for_lists() {
        let out = outputs(&Plan::default(), None, &[]);
        assert!(out.contains("created=0\n"));
        assert!(out.contains("plan<<MILESTONE_SYNC_EOF_0\n[]\nMILESTONE_SYNC_EOF_0\n"));
    }
}
