//! The job summary, and the body of the pull request preview: what a person reads first, in
//! the order they need it.
//!
//! 1. A headline with the outcome they must act on: ✅ synced, ⚠️ needs attention (a conflict
//!    flagged for a person, a warning), ❌ failed; a dry run and a preview speak in the
//!    conditional.
//! 2. One count line (`➕ 5 created · ✏️ 1 updated · 🔒 1 closed · 4 in sync`), zeros dropped,
//!    from [`report::totals`], which the step outputs use too.
//! 3. "Needs your action": every error and warning once, whole, linked to the file's line at
//!    the commit the run describes and to the milestone.
//! 4. Where the file changes went: the commit or the pull request, linked.
//! 5. A row per change, with old → new values and the item's current title; past
//!    [`FOLD_AFTER`] rows the ones that went well fold into `<details>`.
//! 6. Conflicts a policy settled, changes not attempted, and the roadmap ([`roadmap`]).
//!
//! Everything here turns plain values into text; [`crate::run`] and [`crate::preview`] decide
//! where it goes.

pub mod roadmap;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::NaiveDate;

use crate::apply::{ChangeResult, Outcome};
use crate::diagnostic::{Diagnostic, Level};
use crate::milestone::MilestoneState;
use crate::plan::{Action, AdoptBy, Change, Field, Plan, Resolution, Side, ValueChange};
use crate::report::{self, SUMMARY_ROWS_MAX, Totals, cell, cell_to, code, link_target};
use roadmap::Bar;

/// Past this many rows, the rows that went well fold into `<details>`.
pub const FOLD_AFTER: usize = 10;

/// Past this many milestones, the roadmap folds into `<details>`.
pub const ROADMAP_FOLD_AFTER: usize = 30;

/// How long a message in "Needs your action" may be: whole, unless something made it huge.
const MESSAGE_MAX: usize = 2_000;

/// The most rows the table of changes not attempted shows (it shares the summary's 1 MiB with
/// the change table).
pub const NOT_ATTEMPTED_ROWS_MAX: usize = 100;

/// What kind of run the summary tells of: what it says was done, or would be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The changes were made.
    Run,
    /// `dry-run: true`: nothing was written.
    DryRun,
    /// A pull request's preview: what merging it would do.
    Preview,
}

impl Mode {
    fn conditional(self) -> bool {
        self != Mode::Run
    }
}

/// Where the summary's links point.
#[derive(Debug, Clone, Copy)]
pub struct Links<'a> {
    /// `GITHUB_SERVER_URL`, e.g. `https://github.com`.
    pub server_url: &'a str,
    /// `owner/name`.
    pub repository: &'a str,
    /// The commit whose files the summary describes (the run's commit, else the one it
    /// planned on): file links are pinned to it, so they still show those lines later.
    pub commit: Option<&'a str>,
    /// `projects-root`: a file is shown by its path inside its project (`epics/EPIC-001.md`).
    pub projects_root: &'a str,
}

impl Links<'_> {
    fn base(&self) -> String {
        format!("{}/{}", self.server_url.trim_end_matches('/'), self.repository)
    }

    /// `path` (and `line`) as a link to the file at the commit, showing `shown`; the text
    /// alone when no commit is known.
    fn file(&self, path: &str, line: Option<usize>, shown: &str) -> String {
        let text = format!("`{}{}`", code(shown), line.map(|l| format!(":{l}")).unwrap_or_default());
        match self.commit {
            Some(sha) if !self.server_url.is_empty() => format!(
                "[{text}]({}/blob/{}/{}{})",
                self.base(),
                url_path(sha),
                url_path(path),
                line.map(|l| format!("#L{l}")).unwrap_or_default()
            ),
            _ => text,
        }
    }

    /// [`Links::file`] for a table cell, on a line of its own that never wraps: a `<pre>`
    /// block. A table squeezes its columns, and a code span breaks at `-` and `/`
    /// (`epics/EPIC-` / `001_offline-mode.md`); GitHub's sanitizer drops `style` and `<nobr>`,
    /// and a non-breaking hyphen or a word joiner would change the text people copy. `<pre>`
    /// and `<a href>` pass it, `<pre>` keeps `white-space: pre`, and the column widens to fit.
    /// The text shows (and copies) as the path it is.
    fn file_block(&self, path: &str, line: Option<usize>, shown: &str) -> String {
        let text = format!("{}{}", block_text(shown), line.map(|l| format!(":{l}")).unwrap_or_default());
        match self.commit {
            Some(sha) if !self.server_url.is_empty() => format!(
                "<pre><a href=\"{}/blob/{}/{}{}\">{text}</a></pre>",
                attribute(&self.base()),
                attribute(&url_path(sha)),
                attribute(&url_path(path)),
                line.map(|l| format!("#L{l}")).unwrap_or_default()
            ),
            _ => format!("<pre>{text}</pre>"),
        }
    }

    fn commit_link(&self, sha: &str) -> String {
        let short = sha.get(..7).unwrap_or(sha);
        if self.server_url.is_empty() {
            return format!("`{}`", code(short));
        }
        format!("[`{}`]({}/commit/{})", code(short), self.base(), url_path(sha))
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

/// A URL made safe inside a double-quoted HTML attribute of a table cell.
fn attribute(url: &str) -> String {
    url.chars()
        .map(|c| match c {
            '"' => "%22".to_string(),
            '&' => "&amp;".to_string(),
            '|' => "%7C".to_string(),
            '<' => "%3C".to_string(),
            '>' => "%3E".to_string(),
            '`' => "%60".to_string(),
            c if c.is_whitespace() || c.is_control() => c.to_string().bytes().map(|b| format!("%{b:02X}")).collect(),
            c => c.to_string(),
        })
        .collect()
}

/// Text shown literally between HTML tags in a table cell (Markdown still applies there):
/// [`cell`], except that an `_` inside a word (`EPIC-001_offline-mode`) is left as it is, since
/// it cannot start or end emphasis there.
fn block_text(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    for (i, c) in chars.iter().enumerate() {
        let inside = |j: Option<usize>| j.and_then(|j| chars.get(j)).is_some_and(|c| c.is_alphanumeric());
        if *c == '_' && inside(i.checked_sub(1)) && inside(Some(i + 1)) {
            out.push('_');
        } else {
            out.push_str(&cell(&c.to_string()));
        }
    }
    out
}

/// Everything a summary tells of.
#[derive(Debug, Clone, Copy)]
pub struct Report<'a> {
    pub plan: &'a Plan,
    pub outcome: Option<&'a Outcome>,
    pub diagnostics: &'a [Diagnostic],
    /// Sentences of ours about the run (a branch that moved, a budget kept to).
    pub notes: &'a [String],
    pub mode: Mode,
    pub links: Links<'a>,
    /// The milestones as read, by repository and number ([`bar_key`]), for progress and
    /// the roadmap.
    pub milestones: &'a Bars,
    /// Draw every milestone read (a reconcile), not only those the run touched.
    pub roadmap_all: bool,
    /// Today on GitHub's calendar for due dates (US Pacific): overdue bars, new bars' start.
    pub today: NaiveDate,
    /// The branch the files are on, for the commit line.
    pub branch: &'a str,
}

/// The job summary: the headline, then [`body`]. A run with nothing to do and nothing to
/// report says so in one line (and, for a reconcile, shows the roadmap folded).
pub fn summary(r: &Report<'_>) -> String {
    let t = report::totals(r.plan, r.outcome, r.diagnostics);
    let problems = r.diagnostics.iter().any(|d| d.level != Level::Notice);
    if r.plan.is_empty() && r.notes.is_empty() && !problems && r.mode == Mode::Run {
        let mut s = format!("✅ milestone-sync: everything is in sync ({} artifact(s) checked).\n", r.plan.in_sync);
        if r.roadmap_all {
            s.push('\n');
            roadmap_section(&mut s, r);
        }
        return s;
    }
    format!("## {}\n\n{}", headline(r, &t), body(r))
}

/// The headline: the outcome a person must act on.
pub fn headline(r: &Report<'_>, t: &Totals) -> String {
    let count = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let prefix = match r.mode {
        Mode::Run => "milestone-sync",
        Mode::DryRun => "milestone-sync dry run",
        Mode::Preview => "milestone-sync preview",
    };
    if t.errors > 0 || t.failed > 0 {
        let mut parts = Vec::new();
        if t.errors > 0 {
            parts.push(count(t.errors, "error", "errors"));
        }
        if t.failed > 0 {
            parts.push(count(t.failed, "change failed", "changes failed"));
        }
        let verb = if r.mode.conditional() { "would fail" } else { "failed" };
        return format!("❌ {prefix}: {verb} — {}", parts.join(", "));
    }
    let attention = attention_parts(t);
    if !attention.is_empty() {
        return format!("⚠️ {prefix}: needs attention — {}", attention.join(", "));
    }
    match r.mode {
        Mode::DryRun if r.plan.is_empty() => format!("✅ {prefix}: everything in sync, nothing to write"),
        Mode::DryRun => format!("📝 {prefix}: nothing was written"),
        Mode::Preview if r.plan.is_empty() => format!("✅ {prefix}: merging changes no milestone"),
        Mode::Preview => format!("🔎 {prefix}: what merging would do"),
        Mode::Run if r.plan.is_empty() => format!("✅ {prefix}: everything in sync"),
        Mode::Run => format!("✅ {prefix}: synced"),
    }
}

/// What needs a person, in words: flagged and held conflicts, other warnings.
fn attention_parts(t: &Totals) -> Vec<String> {
    let count = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut parts = Vec::new();
    if t.flagged > 0 {
        parts.push(count(t.flagged, "conflict flagged", "conflicts flagged"));
    }
    if t.held > 0 {
        parts.push(count(t.held, "conflict held", "conflicts held"));
    }
    let other = t.warnings.saturating_sub(t.flagged + t.held);
    if other > 0 {
        parts.push(count(other, "warning", "warnings"));
    }
    parts
}

/// The count line: one item per kind of change with its icon, zeros dropped. Milestones
/// created closed (an artifact already done) show with the created ones, `➕ 3 created (1
/// closed)`; `🔒` counts the milestones that were open. The `closed` output counts both.
pub fn count_line(t: &Totals, in_sync: usize, mode: Mode) -> String {
    let would = mode.conditional();
    let item = |icon: &str, n: usize, done: &str, to_do: &str| {
        (n > 0).then(|| if would { format!("{icon} {to_do} {n}") } else { format!("{icon} {n} {done}") })
    };
    let created = item("➕", t.created, "created", "would create").map(|text| match t.created_closed {
        0 => text,
        n => format!("{text} ({n} closed)"),
    });
    let items: Vec<String> = [
        created,
        item("🔗", t.linked, "linked", "would link"),
        item("✏️", t.updated, "updated", "would update"),
        item("🔒", t.closed.saturating_sub(t.created_closed), "closed", "would close"),
        item("🔓", t.reopened, "reopened", "would reopen"),
        item("🗑️", t.deleted, "deleted", "would delete"),
        item("📝", t.files, "file(s) from GitHub", "would change file(s):"),
        item("⚠️", t.conflicts, "conflict(s)", "would meet conflict(s):"),
        item("❌", t.failed, "failed", "would fail:"),
        item("⏸️", t.not_attempted, "not attempted", "would not attempt"),
        (in_sync > 0).then(|| format!("{in_sync} in sync")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if items.is_empty() { "Nothing to change.".into() } else { items.join(" · ") }
}

/// The summary below its headline (the preview puts its own heading on top of it).
pub fn body(r: &Report<'_>) -> String {
    let t = report::totals(r.plan, r.outcome, r.diagnostics);
    let mut s = String::new();
    let _ = writeln!(s, "{}\n", count_line(&t, r.plan.in_sync, r.mode));
    for note in r.notes {
        let _ = writeln!(s, "{}\n", prose(note));
    }
    needs_action(&mut s, r);
    files_line(&mut s, r);
    changes_table(&mut s, r);
    settled_conflicts(&mut s, r);
    if let Some(o) = r.outcome
        && o.stopped.is_some()
    {
        not_attempted(&mut s, &o.not_attempted(r.plan));
    }
    roadmap_section(&mut s, r);
    let end = s.trim_end().len();
    s.truncate(end);
    s.push('\n');
    s
}

/// "Needs your action": errors, then warnings, each once and whole, with its place.
fn needs_action(s: &mut String, r: &Report<'_>) {
    let mut seen = std::collections::BTreeSet::new();
    let mut items: Vec<&Diagnostic> = r
        .diagnostics
        .iter()
        .filter(|d| d.level != Level::Notice)
        .filter(|d| seen.insert((d.file.clone(), d.line, d.message.clone())))
        .collect();
    if items.is_empty() {
        return;
    }
    items.sort_by_key(|d| std::cmp::Reverse(d.level));
    let _ = writeln!(s, "### Needs your action\n");
    for d in items {
        let icon = if d.level == Level::Error { "❌" } else { "⚠️" };
        let mut place = Vec::new();
        if let Some(file) = &d.file {
            place.push(r.links.file(file, d.line, shown_path(&r.links, file)));
        }
        if let Some(url) = d.file.as_deref().and_then(|f| milestone_of(r.plan, f)) {
            let number = url.rsplit('/').next().unwrap_or_default();
            place.push(format!("[milestone #{}]({})", cell(number), link_target(url)));
        }
        let place = if place.is_empty() { String::new() } else { format!(" — {}", place.join(" · ")) };
        let _ = writeln!(s, "- {icon} {}{place}", message(&d.message));
    }
    let _ = writeln!(s);
}

/// A message for a list item: its `code spans` kept as code (their content shows literally,
/// whatever it holds), every other character escaped like a table cell. With an unpaired
/// backtick the whole message is escaped.
fn message(text: &str) -> String {
    let text: String = text.chars().take(MESSAGE_MAX).collect();
    let parts: Vec<&str> = text.split('`').collect();
    if parts.len() % 2 == 0 {
        return cell_to(&text, MESSAGE_MAX);
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 { format!("`{}`", code(part)) } else { cell_to(part, MESSAGE_MAX) })
        .collect()
}

/// The milestone of the artifact at `path`, when a change of the plan names it.
fn milestone_of<'p>(plan: &'p Plan, path: &str) -> Option<&'p str> {
    plan.changes.iter().find(|c| c.path == path).and_then(|c| c.action.milestone_url())
}

/// The part of `path` a person needs: inside its project's folder (`epics/EPIC-001.md`);
/// the whole path for a file outside `projects-root`.
fn shown_path<'p>(links: &Links<'_>, path: &'p str) -> &'p str {
    let root = links.projects_root.trim_end_matches('/');
    let inside = if root.is_empty() || root == "." { Some(path) } else { path.strip_prefix(&format!("{root}/")) };
    match inside.and_then(|rest| rest.split_once('/')) {
        Some((_project, in_project)) if !in_project.is_empty() => in_project,
        _ => path,
    }
}

/// Where the file changes went.
fn files_line(s: &mut String, r: &Report<'_>) {
    let Some(o) = r.outcome else { return };
    if let Some(pr) = &o.pull_request {
        let why = match &o.refused {
            Some(refusal) => format!(": {}", cell(refusal)),
            None => String::new(),
        };
        let _ = writeln!(
            s,
            "📬 File changes are in pull request [#{}]({}) ({}){why}. Merge it to bring them into `{}`.\n",
            pr.number,
            link_target(&pr.url),
            pr.what,
            code(r.branch)
        );
    } else if let Some(sha) = &o.commit_sha {
        let _ = writeln!(
            s,
            "📦 File changes committed to `{}` in {} ({} file(s)).\n",
            code(r.branch),
            r.links.commit_link(sha),
            o.files_changed.len()
        );
    } else if o.commit_failed.is_none() && !o.files_changed.is_empty() {
        let _ = writeln!(s, "📂 {} file(s) written into the workspace (`commit: false`).\n", o.files_changed.len());
    }
}

/// One row of the change table.
struct Row {
    icon: &'static str,
    artifact: String,
    milestone: String,
    what: String,
    /// Failed or flagged: shown even when the rest fold.
    attention: bool,
}

fn changes_table(s: &mut String, r: &Report<'_>) {
    if r.plan.is_empty() {
        return;
    }
    let rows: Vec<(&str, Row)> = match r.outcome {
        Some(o) => o.results(r.plan).map(|(c, result)| (c.repository.as_str(), row(r, c, Some(result)))).collect(),
        None => r.plan.changes.iter().map(|c| (c.repository.as_str(), row(r, c, None))).collect(),
    };
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(s, "### Changes\n");
    // A plan for several repositories: one table per repository, in the plan's order (each
    // repository's changes are together), under its name.
    let mut groups: Vec<(&str, Vec<Row>)> = Vec::new();
    for (repository, row) in rows {
        match groups.last_mut() {
            Some((r, group)) if r.eq_ignore_ascii_case(repository) => group.push(row),
            _ => groups.push((repository, vec![row])),
        }
    }
    let several = groups.len() > 1;
    for (repository, rows) in groups {
        if several {
            let link = format!("{}/{repository}", r.links.server_url.trim_end_matches('/'));
            let _ = writeln!(s, "#### [{}]({link}) · {} change(s)\n", cell(repository), rows.len());
        }
        table(s, r, rows);
    }
}

/// One table of changes, folded past [`FOLD_AFTER`] rows (those that need a person stay
/// out), cut at [`SUMMARY_ROWS_MAX`].
fn table(s: &mut String, r: &Report<'_>, rows: Vec<Row>) {
    let total = rows.len();
    let header = "| | Artifact | Milestone | Change |\n| --- | --- | --- | --- |".to_string();
    let line = |row: &Row| format!("| {} | {} | {} | {} |", row.icon, row.artifact, row.milestone, row.what);
    let shown: Vec<&Row> = rows.iter().take(SUMMARY_ROWS_MAX).collect();
    let cut = (total > SUMMARY_ROWS_MAX).then(|| {
        format!(
            "| | … | | {} more change(s): the job summary shows the first {SUMMARY_ROWS_MAX} (GitHub drops a summary over 1 MiB); the log lists them all |",
            total - SUMMARY_ROWS_MAX
        )
    });
    if total <= FOLD_AFTER {
        let _ = writeln!(s, "{header}");
        for row in &shown {
            let _ = writeln!(s, "{}", line(row));
        }
        let _ = writeln!(s);
        return;
    }
    let (attention, fine): (Vec<&Row>, Vec<&Row>) = shown.into_iter().partition(|row| row.attention);
    if !attention.is_empty() {
        let _ = writeln!(s, "{header}");
        for row in &attention {
            let _ = writeln!(s, "{}", line(row));
        }
        let _ = writeln!(s);
    }
    if !fine.is_empty() {
        let label = if r.mode.conditional() { "to make" } else { "made" };
        let _ = writeln!(s, "<details><summary>✔ {} change(s) {label}</summary>\n\n{header}", fine.len());
        for row in &fine {
            let _ = writeln!(s, "{}", line(row));
        }
        if let Some(cut) = &cut {
            let _ = writeln!(s, "{cut}");
        }
        let _ = writeln!(s, "\n</details>\n");
    }
}

fn row(r: &Report<'_>, c: &Change, result: Option<&ChangeResult>) -> Row {
    let would = r.mode.conditional();
    let failed = report::change_failed(c, result, r.outcome);
    let flagged: Vec<&str> = c
        .conflicts
        .iter()
        .filter(|x| matches!(x.resolution, Resolution::Flagged | Resolution::Held))
        .map(|x| crate::plan::field_name(x.field))
        .collect();
    let path = shown_path(&r.links, &c.path);
    // A removed file is not at the commit: its path, without a link that would not resolve.
    let (removed, file) = match c.action {
        Action::CloseRemoved { .. } | Action::DeleteRemoved { .. } => {
            (" (file removed)", format!("<pre>{}</pre>", block_text(path)))
        }
        _ => ("", r.links.file_block(&c.path, c.line, path)),
    };
    let artifact = format!("**{}** {}{removed}{file}", cell(&c.artifact_id), cell(c.title_now()));
    let (number, url) = match (result, c.action.milestone_number(), c.action.milestone_url()) {
        (Some(Ok((n, url))), _, _) => (Some(*n), Some(url.as_str())),
        (_, n, url) => (n, url),
    };
    let progress = number
        .and_then(|n| r.milestones.get(&bar_key(&c.repository, n)))
        .map(|b| roadmap::progress(b.open_issues, b.closed_issues))
        .filter(|p| !p.is_empty())
        .map(|p| format!(" {p}"))
        .unwrap_or_default();
    let milestone = match (number, url) {
        // A link, not a bare `#n`: in a pull request comment `#n` would name issue n.
        (Some(n), Some(url)) => format!("[#{n}]({}){progress}", link_target(url)),
        (Some(n), None) => format!("#{n}"),
        (None, _) => "new".into(),
    };
    // A change that failed was not made: said as what it would have done.
    let (icon, mut what) = what(c, would || failed);
    if !flagged.is_empty() {
        what.push(format!(
            "⚠️ conflict on {} {}: see Needs your action",
            flagged.join(", "),
            if would { "would be flagged" } else { "flagged" }
        ));
    }
    let icon = if failed {
        what.insert(
            0,
            match result {
                Some(Err(_)) => "❌ not done (see Needs your action), it".to_string(),
                _ => "❌ the file change was not committed (see Needs your action), it".to_string(),
            },
        );
        "❌"
    } else if !flagged.is_empty() {
        "⚠️"
    } else {
        icon
    };
    let what = if failed {
        // "❌ not done (…), it would create, due …"
        let (head, rest) = what.split_first().map(|(h, r)| (h.clone(), r.join("; "))).unwrap_or_default();
        format!("{head} {rest}")
    } else {
        what.join("; ")
    };
    Row { icon, artifact, milestone, what, attention: failed || !flagged.is_empty() }
}

/// The icon and the parts of a change's row: what it does, with old → new values.
fn what(c: &Change, would: bool) -> (&'static str, Vec<String>) {
    let verb = |done: &str, to_do: &str| if would { to_do.to_string() } else { done.to_string() };
    let mut parts = Vec::new();
    let icon = match &c.action {
        Action::Create { milestone } => {
            let mut p = verb("created", "would create");
            if milestone.state == MilestoneState::Closed {
                p.push_str(" (closed)");
            }
            if let Some(due) = milestone.due_on {
                p.push_str(&format!(", due {due}"));
            }
            parts.push(p);
            "➕"
        }
        Action::Adopt { by, .. } => {
            let how = match by {
                AdoptBy::Marker => "by its marker",
                AdoptBy::Title => "by its title",
            };
            parts.push(format!("{} {how}", verb("linked", "would link")));
            parts.extend(values(c));
            "🔗"
        }
        Action::Update { .. } if c.records_only() => {
            parts.push(verb("the sync's record refreshed", "would refresh the sync's record"));
            "🔁"
        }
        Action::Update { .. } => {
            parts.extend(values(c));
            if parts.is_empty() && !c.file_edits.is_empty() && c.conflicts.is_empty() {
                parts.push(verb("file bookkeeping updated", "would update the file's bookkeeping"));
            }
            if c.closes() {
                "🔒"
            } else if c.reopens() {
                "🔓"
            } else if c.fields.is_empty() && !c.file_fields.is_empty() {
                "📝"
            } else {
                "✏️"
            }
        }
        Action::CloseRemoved { .. } => {
            parts.push(format!("{}: the file was removed", verb("closed", "would close")));
            "🔒"
        }
        Action::DeleteRemoved { .. } => {
            parts.push(format!("{}: the file was removed", verb("deleted", "would delete")));
            "🗑️"
        }
        Action::RecordDeleted { .. } => {
            parts.push(format!(
                "the milestone was deleted on GitHub: {} in `milestone_deleted`",
                verb("recorded", "would record")
            ));
            "🗑️"
        }
        Action::CreateFile { .. } => {
            parts.push(verb("file created from the milestone", "would create the file from the milestone"));
            "📄"
        }
    };
    (icon, parts)
}

/// The values a change writes, grouped by side: `milestone: title "A" → "B"`.
fn values(c: &Change) -> Vec<String> {
    let side = |s: Side| -> Vec<String> { c.values.iter().filter(|v| v.to_side == s).map(value).collect() };
    let mut parts = Vec::new();
    for (s, label) in [(Side::Github, "milestone"), (Side::File, "file")] {
        let vs = side(s);
        if !vs.is_empty() {
            parts.push(format!("{label}: {}", vs.join(", ")));
        }
    }
    parts
}

fn value(v: &ValueChange) -> String {
    value_text(v, &|t: &str| cell_to(t, 80))
}

/// A value's change in words (`title "A" → "B"`, `due 2026-03-15 → 2026-04-01`), its values
/// made safe by `esc` (Markdown for the summary, one line for a terminal).
pub fn value_text(v: &ValueChange, esc: &dyn Fn(&str) -> String) -> String {
    match v.field {
        Field::Title => format!("title \"{}\" → \"{}\"", esc(&v.from), esc(&v.to)),
        Field::State => format!("{} → {}", esc(&v.from), esc(&v.to)),
        Field::DueOn => format!("due {} → {}", esc(&v.from), esc(&v.to)),
        Field::Description => match v.lines {
            Some((0, 0)) | None => "description".into(),
            Some((added, removed)) => format!("description (+{added} −{removed} lines)"),
        },
    }
}

/// Conflicts a policy settled (flagged and held ones are in "Needs your action").
fn settled_conflicts(s: &mut String, r: &Report<'_>) {
    let settled: Vec<(&Change, &crate::plan::Conflict)> = r
        .plan
        .changes
        .iter()
        .flat_map(|c| c.conflicts.iter().map(move |x| (c, x)))
        .filter(|(_, x)| matches!(x.resolution, Resolution::Local | Resolution::Github))
        .collect();
    if settled.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "### Conflicts settled by the policy\n\n| Artifact | Field | In the file | On GitHub | Kept |\n| --- | --- | --- | --- | --- |"
    );
    for (c, x) in settled {
        let _ = writeln!(
            s,
            "| **{}** {} | {} | {} | {} | {} |",
            cell(&c.artifact_id),
            r.links.file(&c.path, c.line, shown_path(&r.links, &c.path)),
            crate::plan::field_name(x.field),
            cell(&x.local),
            cell(&x.github),
            match x.resolution {
                Resolution::Local => "the file's (sent to GitHub)",
                _ => "GitHub's (written to the file)",
            }
        );
    }
    let _ = writeln!(s);
}

/// The changes a run that stopped early did not attempt (why it stopped is in "Needs your
/// action").
fn not_attempted(s: &mut String, rest: &[&Change]) {
    if rest.is_empty() {
        return;
    }
    let _ = writeln!(
        s,
        "<details><summary>⏸️ {} change(s) not attempted: the next run makes them</summary>\n\n| Artifact | Not attempted |\n| --- | --- |",
        rest.len()
    );
    for c in rest.iter().take(NOT_ATTEMPTED_ROWS_MAX) {
        let _ = writeln!(
            s,
            "| **{}** {} | {} |",
            cell(&c.artifact_id),
            cell(c.title_now()),
            cell(&crate::apply::describe(c))
        );
    }
    if rest.len() > NOT_ATTEMPTED_ROWS_MAX {
        let _ = writeln!(
            s,
            "| … | {} more: the log's Plan group lists every change in order |",
            rest.len() - NOT_ATTEMPTED_ROWS_MAX
        );
    }
    let _ = writeln!(s, "\n</details>\n");
}

/// The milestones the roadmap draws: those the run touched, as they are after it (or would
/// be), or every one read for a reconcile.
pub fn bars(r: &Report<'_>) -> Vec<Bar> {
    let mut by_number: Bars = if r.roadmap_all { r.milestones.clone() } else { BTreeMap::new() };
    let several = r.milestones.values().any(|b| !b.repository.is_empty()) || r.plan.spans_repositories();
    let label = |repository: &str| {
        if several { repository.rsplit('/').next().unwrap_or_default().to_string() } else { String::new() }
    };
    let results: BTreeMap<usize, &ChangeResult> =
        r.outcome.map(|o| o.applied.iter().map(|a| (a.index, &a.result)).collect()).unwrap_or_default();
    let mut new = 0;
    for (i, c) in r.plan.changes.iter().enumerate() {
        // A run that stopped early did not make the changes after the stop: as they are.
        let failed =
            results.get(&i).is_some_and(|res| res.is_err()) || (r.outcome.is_some() && !results.contains_key(&i));
        match &c.action {
            Action::Create { milestone } if !failed => {
                let number = match results.get(&i) {
                    Some(Ok((n, _))) => *n,
                    _ => {
                        // Not made yet (a dry run): numbered past the real ones, for the chart only.
                        new += 1;
                        u64::MAX - new
                    }
                };
                let url = match results.get(&i) {
                    Some(Ok((_, url))) => url.clone(),
                    _ => String::new(),
                };
                by_number.insert(
                    bar_key(&c.repository, number),
                    Bar {
                        repository: label(&c.repository),
                        number,
                        title: milestone.title.clone(),
                        url,
                        closed: milestone.state == MilestoneState::Closed,
                        // The Epic's start_date where it has one, else the day it was made.
                        start: c.start.or(Some(r.today)),
                        due: milestone.due_on,
                        open_issues: 0,
                        closed_issues: 0,
                    },
                );
            }
            Action::DeleteRemoved { number, .. } if !failed => {
                by_number.remove(&bar_key(&c.repository, *number));
            }
            _ => {
                let Some(number) = c.action.milestone_number() else { continue };
                let Some(mut bar) = r.milestones.get(&bar_key(&c.repository, number)).cloned() else { continue };
                if c.start.is_some() {
                    bar.start = c.start;
                }
                if !failed {
                    let patch = match &c.action {
                        Action::Update { patch, .. } | Action::Adopt { patch, .. } => Some(patch),
                        _ => None,
                    };
                    if let Some(p) = patch {
                        if let Some(t) = &p.title {
                            bar.title = t.clone();
                        }
                        if let Some(state) = p.state {
                            bar.closed = state == MilestoneState::Closed;
                        }
                        if let Some(due) = p.due_on {
                            bar.due = due;
                        }
                    }
                    if matches!(c.action, Action::CloseRemoved { .. }) {
                        bar.closed = true;
                    }
                }
                by_number.insert(bar_key(&c.repository, number), bar);
            }
        }
    }
    by_number.into_values().collect()
}

/// The milestones read, as the summary draws them, by [`bar_key`].
pub type Bars = BTreeMap<(String, u64), Bar>;

/// A milestone's key in [`Bars`]: its repository (without case) and number; numbers repeat
/// across repositories.
pub fn bar_key(repository: &str, number: u64) -> (String, u64) {
    (repository.to_ascii_lowercase(), number)
}

fn roadmap_section(s: &mut String, r: &Report<'_>) {
    let bars = bars(r);
    let drawn = roadmap::roadmap(&bars, r.today, cell);
    if drawn.is_empty() {
        return;
    }
    let what = if r.roadmap_all { "every milestone" } else { "the milestones this run touched" };
    // Folded past a glance's worth, and always below a one-line "in sync".
    if bars.len() > ROADMAP_FOLD_AFTER || r.plan.is_empty() {
        let _ = writeln!(s, "<details><summary>🗺️ Roadmap: {what} ({})</summary>\n\n{drawn}</details>\n", bars.len());
    } else {
        let _ = writeln!(s, "### 🗺️ Roadmap\n\n{drawn}");
    }
}

/// A sentence of ours for the summary (its Markdown kept): only what could break out of the
/// paragraph (a line break) or inject HTML is neutralised, since it may quote a value.
fn prose(text: &str) -> String {
    text.replace('<', "&lt;").replace('>', "&gt;").replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests;
