//! The checked layer: [`Settings`], the typed values every other module uses, derived from
//! [`Inputs`] in [`Settings::from_inputs`] (or [`Settings::offline`] for `check`). Nothing
//! else reads the environment.

use std::path::PathBuf;
use std::time::Duration;

use super::inputs::{Inputs, setting_name};
use super::runner_context::RunnerContext;
use crate::policy::{ConflictResolution, Direction, OnMilestoneDeleted, OnRemoved};

/// The largest `reconcile-budget` accepted: 1,000 pages, 100,000 milestones.
const MAX_RECONCILE_BUDGET: usize = 1000;

/// The longest pause between mutations `write-delay-ms` accepts: a minute.
const MAX_WRITE_DELAY_MS: u64 = 60_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitMode {
    /// `true`: one commit on the branch; where the branch refuses it (branch protection, a
    /// ruleset), the same commit on the sync's own branch and one pull request.
    Branch,
    /// `pull-request`: the sync's branch and pull request from the start.
    PullRequest,
    /// `false`: written into the workspace, for a later step to commit.
    Workspace,
}

impl CommitMode {
    /// Whether the changes are committed through the API (to the branch or a pull request).
    pub fn commits(self) -> bool {
        self != CommitMode::Workspace
    }
}

/// The API token. `Debug` and `Display` never show it; [`Token::expose`] (or `Deref`) gives
/// the text for the one place that needs it, the `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    pub fn new(text: impl Into<String>) -> Token {
        Token(text.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the token replaced by `***`: for text that did not
    /// come from our own formatting (a panic message).
    pub fn redact(&self, text: &str) -> String {
        if self.0.is_empty() { text.to_string() } else { text.replace(&self.0, "***") }
    }
}

impl std::ops::Deref for Token {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(***)")
    }
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl PartialEq<&str> for Token {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// Checked settings of one run.
#[derive(Debug, Clone)]
pub struct Settings {
    pub token: Token,
    pub api_url: String,
    /// `GITHUB_SERVER_URL` (GHES: `https://HOST`), for links in the job summary.
    pub server_url: String,
    /// `owner/name`.
    pub repository: String,
    pub event_name: String,
    pub event_path: Option<PathBuf>,
    pub workspace: PathBuf,
    /// `GITHUB_REF`, e.g. `refs/heads/main`.
    pub git_ref: Option<String>,
    pub sha: Option<String>,
    pub output_file: Option<PathBuf>,
    pub summary_file: Option<PathBuf>,
    /// Workspace-relative folder that holds the projects.
    pub projects_root: String,
    /// Only this project slug, when set.
    pub project: Option<String>,
    pub dry_run: bool,
    /// How file changes land: a commit on the branch (falling back to a pull request where
    /// the branch is protected), a pull request, or the workspace.
    pub commit: CommitMode,
    pub on_removed: OnRemoved,
    pub on_milestone_deleted: OnMilestoneDeleted,
    /// `create-artifacts`: a new unmarked milestone gets an artifact file (a project's
    /// `create_artifacts_from_milestones = true` turns it on too).
    pub create_artifacts: bool,
    /// `closed-status`, overriding the project's `closed_status`.
    pub closed_status: Option<String>,
    /// `reopened-status`, overriding the project's `reopened_status`.
    pub reopened_status: Option<String>,
    /// `conflict-resolution`, overriding every project's `conflict_resolution`.
    pub conflict_resolution: Option<ConflictResolution>,
    /// `direction`: which sides the run may write.
    pub direction: Direction,
    /// `fail-on-conflict`: a conflict left flagged fails the step.
    pub fail_on_conflict: bool,
    /// `--json` (terminal only): the report is one JSON object instead of annotations.
    pub json: bool,
    /// Run from a terminal (not `GITHUB_ACTIONS`): the plan is shown as a table.
    pub terminal: bool,
    /// `write-delay-ms`: the least time between the starts of two requests that change something
    /// on GitHub.
    pub write_delay: Duration,
    /// `MILESTONE_SYNC_RETRY_BASE_MS`: the first retry backoff, when not the client's default
    /// (tests set a millisecond).
    pub retry_base_delay: Option<Duration>,
    /// `MILESTONE_SYNC_TIMEOUT_MS`: how long one request attempt may take, when not the
    /// client's default (tests of slow answers set a fraction of a second).
    pub attempt_timeout: Option<Duration>,
    /// `GITHUB_GRAPHQL_URL`, when the runner set it (else the client derives it from the API
    /// URL).
    pub graphql_url: Option<String>,
    /// `MILESTONE_SYNC_COMMIT_API`: `graphql` (the default) commits in one request where
    /// GitHub allows it; `git-database` always uses the four-request Git Database path.
    pub graphql_commit: bool,
    /// `pr-comment`: a pull request run also posts its preview as one comment on the pull
    /// request, updated in place on later runs.
    pub pr_comment: bool,
    /// `reconcile-budget`: the most milestone list pages (100 milestones each) a push or a
    /// milestone event reads to converge everything; above it the run keeps to its trigger.
    pub reconcile_budget: usize,
    /// `--pull` (a terminal `sync`): fast-forward the checkout after the sync committed.
    pub pull: bool,
}

/// A setting that cannot be used, with the fix.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct SettingsError(pub String);

impl Settings {
    /// Checks and derives the settings. Every input problem is reported at once.
    pub fn from_inputs(raw: &Inputs) -> Result<Settings, SettingsError> {
        Self::derive(raw, true)
    }

    /// Like [`Settings::from_inputs`] for work that never calls GitHub (`check`): no token
    /// is needed.
    pub fn offline(raw: &Inputs) -> Result<Settings, SettingsError> {
        Self::derive(raw, false)
    }

    fn derive(raw: &Inputs, online: bool) -> Result<Settings, SettingsError> {
        let mut problems = Vec::new();
        let ctx = RunnerContext::from_vars(&raw.env).map_err(SettingsError)?;
        // Messages name what the person can change: a flag in a terminal, an input in Actions.
        let terminal = ctx.terminal();
        let name = |input: &str| setting_name(input, terminal);
        let token = raw
            .input("github-token")
            .or_else(|| ctx.github_token.clone())
            .or_else(|| ctx.gh_token.clone())
            .unwrap_or_else(|| {
                if online {
                    problems.push(if terminal {
                        "no token: set GITHUB_TOKEN or GH_TOKEN (e.g. `GH_TOKEN=$(gh auth token)`), pass `--token`, or name a variable in a project's `pat_env_var_name`".to_string()
                    } else {
                        "no token: set the `github-token` input (it defaults to `${{ github.token }}`), GITHUB_TOKEN or GH_TOKEN, or name a variable in `pat_env_var_name`".to_string()
                    });
                }
                String::new()
            });
        let repository = ctx.github_repository.clone().unwrap_or_default();
        let well_formed = repository.split('/').filter(|p| !p.is_empty()).count() == 2;
        // Work without GitHub (`check`) needs no repository; one that is given must be right.
        if !well_formed && (online || !repository.is_empty()) {
            problems.push(match (terminal, repository.is_empty()) {
                (true, true) => {
                    "no repository: pass `--repo OWNER/NAME`, or run inside a clone whose `origin` remote is on GitHub"
                        .to_string()
                }
                (true, false) => format!("`--repo` must be `OWNER/NAME`, got {repository:?}"),
                (false, _) => format!("GITHUB_REPOSITORY must be `owner/name`, got {repository:?}"),
            });
        }
        let dry_run = parse_bool(raw, "dry-run", &mut problems);
        let commit = match raw.input("commit").map(|v| v.to_ascii_lowercase()).as_deref() {
            Some("true") | None => CommitMode::Branch,
            Some("false") => CommitMode::Workspace,
            Some("pull-request") => CommitMode::PullRequest,
            Some(other) => {
                problems.push(format!("{} must be `true`, `false` or `pull-request`, got {other:?}", name("commit")));
                CommitMode::Branch
            }
        };
        let on_removed = match raw.input("on-artifact-removed").as_deref() {
            Some("close") | None => OnRemoved::Close,
            Some("delete") => OnRemoved::Delete,
            Some(other) => {
                problems.push(format!("{} must be `close` or `delete`, got {other:?}", name("on-artifact-removed")));
                OnRemoved::Close
            }
        };
        let on_milestone_deleted = match raw.input("on-milestone-deleted").as_deref() {
            Some("unlink") | None => OnMilestoneDeleted::Unlink,
            Some("archive") => OnMilestoneDeleted::Archive,
            Some(other) => {
                problems.push(format!("{} must be `unlink` or `archive`, got {other:?}", name("on-milestone-deleted")));
                OnMilestoneDeleted::Unlink
            }
        };
        let create_artifacts = parse_bool(raw, "create-artifacts", &mut problems);
        let fail_on_conflict = parse_bool(raw, "fail-on-conflict", &mut problems);
        let pr_comment = parse_bool(raw, "pr-comment", &mut problems);
        let conflict_resolution = match raw.input("conflict-resolution").as_deref() {
            None => None,
            Some("last_update_wins") => Some(ConflictResolution::LastUpdateWins),
            Some("prefer_local") => Some(ConflictResolution::PreferLocal),
            Some("prefer_github") => Some(ConflictResolution::PreferGithub),
            Some("manual_flag") => Some(ConflictResolution::ManualFlag),
            Some(other) => {
                problems.push(format!(
                    "{} must be last_update_wins, prefer_local, prefer_github or manual_flag, got {other:?}",
                    name("conflict-resolution")
                ));
                None
            }
        };
        let direction = match raw.input("direction").as_deref() {
            Some("both") | None => Direction::Both,
            Some("to-github") => Direction::ToGithub,
            Some("from-github") => Direction::FromGithub,
            Some(other) => {
                problems
                    .push(format!("{} must be `both`, `to-github` or `from-github`, got {other:?}", name("direction")));
                Direction::Both
            }
        };
        let write_delay = match raw.input("write-delay-ms").map(|v| v.parse::<u64>()) {
            None => Duration::ZERO,
            Some(Ok(ms)) if ms <= MAX_WRITE_DELAY_MS => Duration::from_millis(ms),
            Some(_) => {
                problems.push(format!(
                    "{} must be a whole number of milliseconds from 0 to {MAX_WRITE_DELAY_MS}, got {:?}",
                    name("write-delay-ms"),
                    raw.input("write-delay-ms").unwrap_or_default()
                ));
                Duration::ZERO
            }
        };
        let tuning = |name: &str, problems: &mut Vec<String>| match raw.var(name).map(|v| v.parse::<u64>()) {
            None => None,
            Some(Ok(ms)) => Some(Duration::from_millis(ms)),
            Some(Err(_)) => {
                problems.push(format!("{name} must be a whole number of milliseconds"));
                None
            }
        };
        let reconcile_budget = match raw.input("reconcile-budget").map(|v| v.parse::<usize>()) {
            None => 5,
            Some(Ok(pages)) if pages <= MAX_RECONCILE_BUDGET => pages,
            Some(_) => {
                problems.push(format!(
                    "{} must be a whole number of list pages from 0 to {MAX_RECONCILE_BUDGET} (each page is 100 milestones), got {:?}",
                    name("reconcile-budget"),
                    raw.input("reconcile-budget").unwrap_or_default()
                ));
                5
            }
        };
        let retry_base_delay = tuning("MILESTONE_SYNC_RETRY_BASE_MS", &mut problems);
        let attempt_timeout = tuning("MILESTONE_SYNC_TIMEOUT_MS", &mut problems);
        let graphql_commit = match raw.var("MILESTONE_SYNC_COMMIT_API").as_deref() {
            None | Some("graphql") => true,
            Some("git-database") => false,
            Some(other) => {
                problems.push(format!("MILESTONE_SYNC_COMMIT_API must be graphql or git-database, got {other:?}"));
                true
            }
        };
        let projects_root = raw.input("projects-root").unwrap_or_default().trim_matches('/').to_string();
        if projects_root.split('/').any(|part| part == "..") || projects_root.starts_with('/') {
            problems.push(format!(
                "{} must be a folder inside the workspace, got {projects_root:?}",
                name("projects-root")
            ));
        }
        if !problems.is_empty() {
            return Err(SettingsError(problems.join("\n")));
        }
        Ok(Settings {
            token: Token::new(token),
            api_url: ctx.github_api_url.unwrap_or_else(|| "https://api.github.com".into()),
            server_url: ctx.github_server_url.unwrap_or_else(|| "https://github.com".into()),
            repository,
            event_name: ctx.github_event_name.unwrap_or_else(|| "workflow_dispatch".into()),
            event_path: ctx.github_event_path,
            workspace: ctx.github_workspace.unwrap_or_else(|| PathBuf::from(".")),
            git_ref: ctx.github_ref,
            sha: ctx.github_sha,
            output_file: ctx.github_output,
            summary_file: ctx.github_step_summary,
            projects_root,
            project: raw.input("project"),
            dry_run,
            commit,
            on_removed,
            on_milestone_deleted,
            create_artifacts,
            closed_status: raw.input("closed-status"),
            reopened_status: raw.input("reopened-status"),
            conflict_resolution,
            direction,
            fail_on_conflict,
            json: false,
            terminal,
            write_delay,
            retry_base_delay,
            attempt_timeout,
            graphql_url: ctx.github_graphql_url,
            graphql_commit,
            pr_comment,
            reconcile_budget,
            pull: false,
        })
    }

    pub fn owner(&self) -> &str {
        self.repository.split('/').next().unwrap_or_default()
    }
    pub fn repo(&self) -> &str {
        self.repository.split('/').nth(1).unwrap_or_default()
    }
}

/// Booleans as Actions writes them (`true`/`false`, any case), defaults from action.yml.
fn parse_bool(raw: &Inputs, name: &str, problems: &mut Vec<String>) -> bool {
    match raw.input(name).map(|v| v.to_ascii_lowercase()).as_deref() {
        Some("true") => true,
        Some("false") | None => false,
        Some(other) => {
            let terminal = raw.terminal();
            problems.push(format!("{} must be `true` or `false`, got {other:?}", setting_name(name, terminal)));
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(pairs: &[(&str, &str)]) -> Inputs {
        Inputs::from_vars(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    #[test]
    fn hyphenated_inputs_arrive_with_their_hyphen() {
        let raw = inputs(&[("INPUT_GITHUB-TOKEN", "t1"), ("GITHUB_REPOSITORY", "o/r"), ("INPUT_DRY-RUN", "TRUE")]);
        let s = Settings::from_inputs(&raw).unwrap();
        assert_eq!(s.token, "t1");
        assert!(s.dry_run);
        assert_eq!(s.commit, CommitMode::Branch, "action.yml default");
        assert_eq!(s.projects_root, ".ruru/projects");
    }

    #[test]
    fn empty_inputs_are_unset_and_token_falls_back() {
        let raw = inputs(&[
            ("INPUT_GITHUB-TOKEN", ""),
            ("GITHUB_TOKEN", "t2"),
            ("GITHUB_REPOSITORY", "o/r"),
            ("INPUT_PROJECTS-ROOT", ""),
        ]);
        let s = Settings::from_inputs(&raw).unwrap();
        assert_eq!(s.token, "t2");
        assert_eq!(s.projects_root, ".ruru/projects");
    }

    #[test]
    fn write_delay_and_tuning_variables() {
        let s = Settings::from_inputs(&inputs(&[("GITHUB_TOKEN", "t"), ("GITHUB_REPOSITORY", "o/r")])).unwrap();
        assert_eq!(s.write_delay, Duration::from_millis(750), "action.yml's default");
        assert_eq!((s.retry_base_delay, s.attempt_timeout), (None, None));
        let s = Settings::from_inputs(&inputs(&[
            ("GITHUB_TOKEN", "t"),
            ("GITHUB_REPOSITORY", "o/r"),
            ("INPUT_WRITE-DELAY-MS", "0"),
            ("MILESTONE_SYNC_RETRY_BASE_MS", "1"),
            ("MILESTONE_SYNC_TIMEOUT_MS", "250"),
        ]))
        .unwrap();
        assert_eq!(s.write_delay, Duration::ZERO);
        assert_eq!(s.retry_base_delay, Some(Duration::from_millis(1)));
        assert_eq!(s.attempt_timeout, Some(Duration::from_millis(250)));
        for bad in ["-1", "1.5", "fast", "60001"] {
            let err = Settings::from_inputs(&inputs(&[
                ("GITHUB_TOKEN", "t"),
                ("GITHUB_REPOSITORY", "o/r"),
                ("INPUT_WRITE-DELAY-MS", bad),
            ]))
            .unwrap_err()
            .0;
            assert!(err.contains("write-delay-ms"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let raw =
            inputs(&[("INPUT_GITHUB-TOKEN", "ghp_secret1"), ("GH_TOKEN", "ghp_secret2"), ("GITHUB_REPOSITORY", "o/r")]);
        let s = Settings::from_inputs(&raw).unwrap();
        for text in [format!("{raw:?}"), format!("{s:?}"), format!("{s:#?}"), s.token.to_string()] {
            assert!(!text.contains("ghp_secret"), "{text}");
        }
        assert_eq!(s.token.expose(), "ghp_secret1");
        assert_eq!(s.token.redact("Bearer ghp_secret1, again ghp_secret1."), "Bearer ***, again ***.");
        assert_eq!(Token::new("").redact("text"), "text");
        assert!(format!("{raw:?}").contains("o/r"), "other values still show");
    }

    #[test]
    fn bad_inputs_are_all_named_as_the_run_knows_them() {
        let bad = [("GITHUB_REPOSITORY", "o"), ("INPUT_DRY-RUN", "yes"), ("INPUT_ON-ARTIFACT-REMOVED", "burn")];
        // In Actions: the inputs and the runner's variables.
        let mut actions = bad.to_vec();
        actions.push(("GITHUB_ACTIONS", "true"));
        let err = Settings::from_inputs(&inputs(&actions)).unwrap_err().0;
        assert!(err.contains("no token: set the `github-token` input"), "{err}");
        assert!(err.contains("GITHUB_REPOSITORY must be `owner/name`"), "{err}");
        assert!(err.contains("input `dry-run` must be"), "{err}");
        assert!(err.contains("input `on-artifact-removed` must be"), "{err}");
        // In a terminal: the flags.
        let err = Settings::from_inputs(&inputs(&bad)).unwrap_err().0;
        assert!(err.contains("pass `--token`"), "{err}");
        assert!(err.contains("`--repo` must be `OWNER/NAME`"), "{err}");
        assert!(err.contains("`--dry-run` must be") && err.contains("`--on-artifact-removed` must be"), "{err}");
        // `check` needs no repository; one that is given must be well formed.
        assert!(Settings::offline(&inputs(&[])).is_ok());
        assert!(Settings::offline(&inputs(&[("GITHUB_REPOSITORY", "o")])).is_err());
    }
}
