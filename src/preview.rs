//! A pull request's preview: what merging it would do to the milestones, shown and never done.
//!
//! The run goes through the one pipeline ([`crate::run`]) with the pull request's changes as
//! its hints, planned as the push of the merge would plan them (the same planner, the same
//! milestones), then stops: no milestone write and no commit, whatever the `dry-run` input
//! says. It previews the pull request's own changes only, not whatever else a later run
//! would converge. The plan goes to the job summary and the `plan` output and, with
//! `pr-comment: true`, into one comment on the pull request that later runs find by its hidden
//! marker and update in place.
//!
//! Which commits hold the pull request's changes depends on what the workflow checked out:
//! on `pull_request`, actions/checkout checks out GitHub's test merge (`refs/pull/N/merge`),
//! whose first parent is the base branch it was merged into; a workflow may check out the
//! head commit instead, compared from where it left the base branch. On
//! `pull_request_target` the default checkout is the base branch, which holds none of the
//! pull request's changes: that run says so and previews nothing.
//!
//! When the checkout's history cannot tell (no git, as in the container image, or a shallow
//! clone), GitHub's three-dot compare of the pull request's base and head lists its changes
//! ([`crate::push_scope`]): one request, plus one contents read per changed or removed
//! artifact for its earlier version (at the base for the test merge, at the merge base for the
//! head). Without git, which commit is checked out is read from `.git/HEAD`.

use std::io::Write;
use std::path::Path;

use crate::config::Settings;
use crate::diagnostic::{Diagnostic, Level};
use crate::event::PullRequest;
use crate::github::{GitHub, GitHubError};
use crate::history::{self, Touched};
use crate::plan::{Plan, Scope};
use crate::push_scope::{self, OldAt};
use crate::report::{self, Totals};
use crate::runner;
use crate::summary;
use crate::workspace::Workspace;
use chrono::NaiveDate;

/// GitHub refuses comment bodies over 65,536 characters; the preview stays well below.
pub const MAX_COMMENT_CHARS: usize = 60_000;

/// Which artifact files pull request `pr` changes, as a push of its merge would change them,
/// and the commit that holds them (the checkout). `Err` says why there is nothing to preview
/// (the checkout holds none of the pull request's changes), with the fix.
pub(crate) async fn changes_of<G: GitHub>(
    settings: &Settings,
    gh: &G,
    ws: &Workspace,
    pr: &PullRequest,
    out: &mut dyn Write,
) -> Result<(Touched, String), String> {
    let number = pr.number;
    Ok(match changes(&settings.workspace, settings.sha.as_deref(), pr)? {
        Changes::Between { from, to } => {
            let _ = writeln!(out, "changes of #{number}: {}..{}", short(&from), short(&to));
            let touched =
                match history::local_changes(&settings.workspace, &settings.projects_root, Some(&from), &to, false) {
                    Ok(touched) => touched,
                    Err(gap) => from_github(gh, ws, pr, OldAt::Commit(from.clone()), &gap, out).await,
                };
            (touched, to)
        }
        Changes::Unknown { reason, head } => {
            // The pull request's head checked out on its own: its files are compared with
            // where it left the base. Otherwise it is the test merge, whose changes are
            // against the base it was made on.
            let old_at = if head == pr.head_sha { OldAt::MergeBase } else { OldAt::Commit(pr.base_sha.clone()) };
            (from_github(gh, ws, pr, old_at, &reason, out).await, head)
        }
    })
}

/// Shows the preview of `pr` (its `plan`, made on the checkout at `head`) in the log, the job
/// summary, the outputs and, with `pr-comment: true`, one comment on the pull request; returns
/// the exit code: 1 when merging would meet errors (unreadable files, integrity problems) or
/// leave a conflict flagged with `fail-on-conflict`, so that the check fails before the merge
/// does. A comment that cannot be posted is a warning, never a failure. Nothing else is
/// written.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn show<G: GitHub>(
    settings: &Settings,
    gh: &G,
    out: &mut dyn Write,
    pr: &PullRequest,
    plan: &Plan,
    diagnostics: &[Diagnostic],
    mut notes: Vec<String>,
    head: &str,
    default_branch: &str,
    bars: &summary::Bars,
) -> i32 {
    let number = pr.number;
    let mut group = crate::runner::group(out, &format!("Preview of #{number} (nothing is written)"));
    for line in report::plan_lines(plan) {
        let _ = writeln!(group, "{line}");
    }
    if plan.is_empty() {
        let _ = writeln!(group, "merging #{number} would change nothing");
    }
    let out = group.end();

    notes.insert(
        0,
        format!(
            "What a push of pull request #{number} (at {}) to {default_branch} would do. This is a preview: nothing was written.",
            short(head)
        ),
    );
    let t = report::totals(plan, None, diagnostics);
    let cx = Context {
        server_url: &settings.server_url,
        repository: &settings.repository,
        head,
        base: default_branch,
        projects_root: &settings.projects_root,
        bars,
        today: crate::due_date::from_github(chrono::Utc::now()),
    };
    let text = preview_text(&cx, number, plan, diagnostics, &notes);
    for d in diagnostics {
        let _ = writeln!(out, "{}", report::annotation(d));
    }

    let mut summary = text.clone();
    if settings.pr_comment {
        let marker = marker(&settings.projects_root, settings.project.as_deref());
        let body = comment_body(&marker, &text, head);
        match sticky_comment(gh, number, &marker, &body, plan.is_empty() && t.errors == 0).await {
            Ok(outcome) => {
                let _ = writeln!(out, "{}", outcome.describe(number));
            }
            Err(e) => {
                let hint = if pr.fork && !pr.target {
                    ". A pull request from a fork gets a read-only token on `pull_request` whatever the workflow asks for"
                } else {
                    ""
                };
                let warning = Diagnostic::general(
                    Level::Warning,
                    format!(
                        "the preview could not be posted as a comment on #{number}: {e}{hint}. The preview is in the job summary"
                    ),
                );
                let _ = writeln!(out, "{}", report::annotation(&warning));
                summary.push_str(&format!("\n⚠️ {}\n", report::cell(&warning.message)));
            }
        }
    }
    runner::write_summary(settings, &summary);
    runner::write_outputs(settings, &report::outputs(plan, None, diagnostics));
    let _ = writeln!(out, "{}", heading(number, plan, &t));
    let failed_on_conflict = settings.fail_on_conflict && t.flagged > 0;
    if t.errors > 0 || failed_on_conflict { 1 } else { 0 }
}

/// The checkout's history cannot tell which files the pull request changes (`gap` says why):
/// GitHub's three-dot compare of its base and head can, since it lists exactly the changes on
/// the head since it left the base. Earlier versions come from `old_at` (one contents request
/// per changed or removed artifact); the log says what it cost. When GitHub cannot tell
/// either, every artifact is in scope.
async fn from_github<G: GitHub>(
    gh: &G,
    ws: &Workspace,
    pr: &PullRequest,
    old_at: OldAt,
    gap: &str,
    out: &mut dyn Write,
) -> Touched {
    let _ = writeln!(
        out,
        "The checkout's history cannot tell which files #{} changes ({gap}); asking GitHub's compare API.",
        pr.number
    );
    match push_scope::changes_from_github(gh, ws, &pr.base_sha, &pr.head_sha, old_at, false).await {
        Ok(remote) => {
            let _ = writeln!(out, "{}", remote.describe(&pr.base_sha, &pr.head_sha));
            Touched::Files(remote.files)
        }
        Err(reason) => Touched::All { reason: format!("{gap}, and GitHub could not tell either: {reason}") },
    }
}

/// How many artifacts of the milestone type the scope holds (changed, added or removed);
/// `None` for every artifact.
pub(crate) fn touched_artifacts(projects: &[crate::project::Project], scope: &Scope) -> Option<usize> {
    if scope.everything {
        return None;
    }
    let current = projects
        .iter()
        .flat_map(|p| p.artifacts.iter().map(|a| a.path.as_str()).chain(p.broken.iter().map(String::as_str)))
        .filter(|path| scope.touched.contains_key(*path))
        .count();
    Some(current + scope.removed.len())
}

/// Which commits hold the pull request's changes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Changes {
    /// The artifacts changed from `from` to `to` (the checkout) are the pull request's.
    Between { from: String, to: String },
    /// History cannot tell; `reason` says why, `head` is the checkout as far as known.
    Unknown { reason: String, head: String },
}

/// Reads from the checkout's history which commits to compare (see the module
/// documentation); an error when the checkout is not the pull request's, saying how to fix
/// the workflow.
fn changes(workspace: &Path, sha: Option<&str>, pr: &PullRequest) -> Result<Changes, String> {
    let Some(head) = history::local_head(workspace).or_else(|| sha.map(str::to_string)) else {
        return Ok(Changes::Unknown {
            reason: "the workspace is not a git checkout, so it cannot tell which files the pull request changes"
                .into(),
            head: pr.head_sha.clone(),
        });
    };
    if head == pr.head_sha {
        // The pull request's own commit: its changes are those since it left the base branch.
        return Ok(match history::merge_base(workspace, &pr.base_sha, &head) {
            Some(from) => Changes::Between { from, to: head },
            None if !history::available() => {
                Changes::Unknown { reason: "git is not available in this environment".into(), head }
            }
            None => Changes::Unknown {
                reason: format!(
                    "the base commit {} is not in the checkout (a shallow clone? use actions/checkout with `fetch-depth: 0`)",
                    short(&pr.base_sha)
                ),
                head,
            },
        });
    }
    match history::parents(workspace, &head) {
        // GitHub's test merge: its first parent is the base branch it was merged into, so
        // the merge's changes are what a push of the merge to the base branch would bring.
        Some(parents) if parents.len() >= 2 => Ok(Changes::Between { from: parents[0].clone(), to: head }),
        Some(_) => Err(not_the_pull_request(&head, pr)),
        // No git (the container image): the checkout is told by its commit alone. The base
        // the payload names holds none of the pull request's changes; any other commit is
        // taken for GitHub's test merge, actions/checkout's default.
        None if !history::available() && head == pr.base_sha => Err(not_the_pull_request(&head, pr)),
        None if !history::available() => {
            Ok(Changes::Unknown { reason: "git is not available in this environment".into(), head })
        }
        None => {
            Ok(Changes::Unknown { reason: format!("git cannot read the checked-out commit {}", short(&head)), head })
        }
    }
}

/// Why a checkout of `head` cannot be previewed, and how to fix the workflow.
fn not_the_pull_request(head: &str, pr: &PullRequest) -> String {
    let how = if pr.target {
        "; on `pull_request_target` actions/checkout checks out the base branch unless given `ref: refs/pull/<number>/merge`"
    } else {
        ""
    };
    format!(
        "the checkout ({}) is neither pull request #{}'s merge commit nor its head ({}), so it holds none of its changes and there is nothing to preview{how}",
        short(head),
        pr.number,
        short(&pr.head_sha)
    )
}

/// The first 7 characters of a commit id, as GitHub shows them.
fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}

/// The summary heading: what merging would do, in words.
pub fn heading(number: u64, plan: &Plan, t: &Totals) -> String {
    let count = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let mut parts: Vec<String> = [
        (t.created, "create", "milestone", "milestones", ""),
        (t.linked, "link", "existing milestone", "existing milestones", ""),
        (t.updated, "update", "milestone", "milestones", ""),
        (t.closed, "close", "milestone", "milestones", ""),
        (t.deleted, "delete", "milestone", "milestones", ""),
        (t.files, "change", "file", "files", " to follow GitHub"),
        (t.flagged, "flag", "conflict", "conflicts", ""),
    ]
    .into_iter()
    .filter(|(n, ..)| *n > 0)
    .map(|(n, verb, one, many, rest)| format!("{verb} {}{rest}", count(n, one, many)))
    .collect();
    let what = match parts.len() {
        0 if plan.is_empty() => "change nothing".to_string(),
        0 => format!("only record the sync base of {}", count(plan.changes.len(), "artifact", "artifacts")),
        1 => parts.remove(0),
        _ => {
            let last = parts.pop().unwrap_or_default();
            format!("{} and {last}", parts.join(", "))
        }
    };
    let (icon, failure) = match t.errors {
        0 => ("🔎", String::new()),
        n => ("❌", format!(", and fail with {}", count(n, "error", "errors"))),
    };
    format!("{icon} Preview: merging #{number} would {what}{failure}")
}

/// What the preview shows besides the plan: where its links point and the milestones read.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// `GITHUB_SERVER_URL`.
    pub server_url: &'a str,
    /// `owner/name`.
    pub repository: &'a str,
    /// The commit the preview was made on: file links are pinned to it (GitHub serves a pull
    /// request's commits in the base repository, a fork's too).
    pub head: &'a str,
    /// The branch the pull request merges into.
    pub base: &'a str,
    /// `projects-root`, for the paths shown.
    pub projects_root: &'a str,
    pub bars: &'a summary::Bars,
    pub today: NaiveDate,
}

/// The preview in Markdown: the heading, then the job summary's body (count line, what needs
/// a person, the rows, the roadmap), in the conditional.
pub fn preview_text(
    cx: &Context<'_>,
    number: u64,
    plan: &Plan,
    diagnostics: &[Diagnostic],
    notes: &[String],
) -> String {
    let t = report::totals(plan, None, diagnostics);
    let report = summary::Report {
        plan,
        outcome: None,
        diagnostics,
        notes,
        mode: summary::Mode::Preview,
        links: summary::Links {
            server_url: cx.server_url,
            repository: cx.repository,
            commit: Some(cx.head).filter(|h| !h.is_empty()),
            projects_root: cx.projects_root,
        },
        milestones: cx.bars,
        roadmap_all: false,
        today: cx.today,
        branch: cx.base,
    };
    format!("## {}\n\n{}", heading(number, plan, &t), summary::body(&report))
}

/// The hidden first line that marks the preview comment of this configuration, so that a
/// later run finds it again and two configurations (other `projects-root` or `project`) keep
/// a comment each. Anything but plain path characters is percent-encoded, so no value can
/// end the HTML comment.
pub fn marker(projects_root: &str, project: Option<&str>) -> String {
    let encode = |text: &str| {
        text.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/') {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect::<String>()
    };
    format!(
        "<!-- milestone-sync preview root={} project={} -->",
        encode(projects_root),
        project.map_or("*".into(), encode)
    )
}

/// The comment: the marker, the preview and a footer naming the commit it is for. An `@` is
/// followed by a word joiner so that a name in an artifact title notifies nobody; a preview
/// longer than GitHub accepts is cut at a line, pointing to the job summary.
pub fn comment_body(marker: &str, text: &str, head: &str) -> String {
    let footer = format!(
        "\n<sub>Preview by milestone-sync for {}, updated in place on every push to this pull request. Nothing is written until it is merged.</sub>\n",
        short(head)
    );
    let text = text.replace('@', "@\u{2060}");
    let cut_note = "\n*… cut short: the whole preview is in the job summary of the workflow run.*\n";
    let budget = MAX_COMMENT_CHARS - marker.chars().count() - footer.chars().count() - cut_note.chars().count() - 1;
    let text = if text.chars().count() <= budget {
        text
    } else {
        let mut kept = String::new();
        let mut used = 0;
        for line in text.split_inclusive('\n') {
            let n = line.chars().count();
            if used + n > budget {
                break;
            }
            kept.push_str(line);
            used += n;
        }
        kept.push_str(cut_note);
        kept
    };
    format!("{marker}\n{text}{footer}")
}

/// What became of the preview comment.
#[derive(Debug, Clone, PartialEq, Eq)]
enum CommentOutcome {
    Created(String),
    Updated(String),
    /// The comment already says exactly this: no request needed.
    Unchanged(String),
    /// Nothing to do and no comment yet: a pull request that changes nothing gets none.
    NotNeeded,
}

impl CommentOutcome {
    fn describe(&self, number: u64) -> String {
        match self {
            CommentOutcome::Created(url) => format!("preview comment posted on #{number}: {url}"),
            CommentOutcome::Updated(url) => format!("preview comment updated on #{number}: {url}"),
            CommentOutcome::Unchanged(url) => format!("preview comment on #{number} already up to date: {url}"),
            CommentOutcome::NotNeeded => format!("no preview comment on #{number}: merging it would change nothing"),
        }
    }
}

/// Posts `body` as the one comment marked with `marker` on pull request `number`: updates
/// the marked comment when there is one (the oldest, should a race have made two), creates
/// it otherwise, unless there is `nothing` to say.
async fn sticky_comment<G: GitHub>(
    gh: &G,
    number: u64,
    marker: &str,
    body: &str,
    nothing: bool,
) -> Result<CommentOutcome, GitHubError> {
    let find = |comments: Vec<crate::github::IssueComment>| comments.into_iter().find(|c| is_marked(&c.body, marker));
    match find(gh.list_issue_comments(number).await?) {
        Some(c) if c.body == body => Ok(CommentOutcome::Unchanged(c.html_url)),
        Some(c) => Ok(CommentOutcome::Updated(gh.update_issue_comment(c.id, body).await?.html_url)),
        None if nothing => Ok(CommentOutcome::NotNeeded),
        None => match gh.create_issue_comment(number, body).await {
            Ok(c) => Ok(CommentOutcome::Created(c.html_url)),
            // No answer: the comment may exist all the same. Look before reporting failure,
            // so that the next run does not add a second one.
            Err(e @ (GitHubError::Transport { .. } | GitHubError::Http { status: 500..=599, .. })) => {
                match find(gh.list_issue_comments(number).await?) {
                    Some(c) if c.body == body => Ok(CommentOutcome::Created(c.html_url)),
                    _ => Err(e),
                }
            }
            Err(e) => Err(e),
        },
    }
}

/// Whether a comment is the one `marker` names: its first line is the marker.
fn is_marked(body: &str, marker: &str) -> bool {
    body.lines().next().is_some_and(|first| first.trim_end() == marker)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_differ_per_configuration_and_cannot_close_the_comment() {
        assert_eq!(marker(".ruru/projects", None), "<!-- milestone-sync preview root=.ruru/projects project=* -->");
        assert_ne!(marker(".ruru/projects", Some("demo")), marker(".ruru/projects", None));
        let hostile = marker("a-->b <x>", Some("--> @me"));
        assert_eq!(hostile.matches("-->").count(), 1, "{hostile}");
        assert_eq!(hostile.matches('<').count(), 1, "{hostile}");
        assert!(hostile.starts_with("<!-- ") && hostile.ends_with(" -->"), "{hostile}");
    }

    #[test]
    fn a_comment_starts_with_its_marker_and_names_nobody() {
        let m = marker(".ruru/projects", None);
        let body = comment_body(&m, "## Preview\n\n| **EPIC-1** Ask @octocat |\n", "0123456789abcdef");
        assert!(is_marked(&body, &m));
        assert!(!is_marked(&format!("> {body}"), &m), "a quote of it is not it");
        assert!(!is_marked(&body, &marker(".ruru/projects", Some("demo"))));
        assert!(body.contains("@\u{2060}octocat") && !body.contains("@octocat"), "{body}");
        assert!(body.contains("0123456"), "names the commit");
    }

    #[test]
    fn a_long_preview_is_cut_at_a_line_within_githubs_limit() {
        let m = marker(".ruru/projects", None);
        let row = format!("| {} |\n", "é".repeat(100));
        let text = format!("## Preview\n\n{}", row.repeat(1000));
        let body = comment_body(&m, &text, "abc");
        assert!(body.chars().count() <= MAX_COMMENT_CHARS, "{}", body.chars().count());
        assert!(body.chars().count() > MAX_COMMENT_CHARS - 200);
        assert!(body.contains("cut short") && body.starts_with(&m));
        // Whole rows only.
        let kept: Vec<&str> = body.lines().filter(|l| l.starts_with("| ")).collect();
        assert!(kept.iter().all(|l| l.chars().count() == row.chars().count() - 1));
        let short_body = comment_body(&m, "## Preview\n", "abc");
        assert!(!short_body.contains("cut short"));
    }

    #[test]
    fn the_heading_says_what_merging_would_do() {
        let plan = Plan::default();
        assert_eq!(heading(7, &plan, &Totals::default()), "🔎 Preview: merging #7 would change nothing");
        let t = Totals { created: 1, updated: 2, closed: 1, ..Default::default() };
        assert_eq!(
            heading(7, &plan, &t),
            "🔎 Preview: merging #7 would create 1 milestone, update 2 milestones and close 1 milestone"
        );
        let t = Totals { linked: 1, files: 2, flagged: 1, ..Default::default() };
        assert_eq!(
            heading(7, &plan, &t),
            "🔎 Preview: merging #7 would link 1 existing milestone, change 2 files to follow GitHub and flag 1 conflict"
        );
        let t = Totals { errors: 2, ..Default::default() };
        assert_eq!(heading(7, &plan, &t), "❌ Preview: merging #7 would change nothing, and fail with 2 errors");
    }
}
