//! Configuration, in two layers and one place each.
//!
//! - [`Inputs`]: the raw strings a run receives: the action's inputs (`INPUT_*`, exactly as
//!   the runner sets them for a Docker action) and the runner's `GITHUB_*` variables.
//!   Defaults equal action.yml's, so a run from a terminal behaves like one in Actions.
//! - [`Settings`]: the checked, typed values every other module uses, derived from the
//!   inputs in [`Settings::from_inputs`]. Nothing else reads the environment.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::policy::{ConflictResolution, Direction, OnMilestoneDeleted, OnRemoved};

/// The action's inputs, with action.yml's defaults. Keep in step with action.yml: a test
/// checks that both declare the same inputs and defaults.
pub const INPUT_DEFAULTS: &[(&str, &str)] = &[
    ("github-token", ""),
    ("projects-root", ".ruru/projects"),
    ("project", ""),
    ("dry-run", "false"),
    ("commit", "true"),
    ("on-artifact-removed", "close"),
    ("conflict-resolution", ""),
    ("create-artifacts", "false"),
    ("on-milestone-deleted", "unlink"),
    ("closed-status", ""),
    ("reopened-status", ""),
    ("direction", "both"),
    ("fail-on-conflict", "false"),
    ("write-delay-ms", "1000"),
    ("pr-comment", "false"),
    ("reconcile-budget", "5"),
];

/// The largest `reconcile-budget` accepted: 1,000 pages, 100,000 milestones.
const MAX_RECONCILE_BUDGET: usize = 1000;

/// The longest pause between mutations `write-delay-ms` accepts: a minute.
const MAX_WRITE_DELAY_MS: u64 = 60_000;

/// Raw configuration as strings, before any check. Its `Debug` hides every value whose name
/// holds "token".
#[derive(Clone, Default)]
pub struct Inputs {
    /// Action inputs by name (`github-token`, `dry-run`, …). Empty values count as unset.
    pub inputs: BTreeMap<String, String>,
    /// Runner variables by name (`GITHUB_REPOSITORY`, …). Empty values count as unset.
    pub env: BTreeMap<String, String>,
}

impl std::fmt::Debug for Inputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hide = |map: &BTreeMap<String, String>| -> BTreeMap<String, String> {
            map.iter()
                .map(|(k, v)| {
                    let shown = if k.to_ascii_lowercase().contains("token") { "***".to_string() } else { v.clone() };
                    (k.clone(), shown)
                })
                .collect()
        };
        f.debug_struct("Inputs").field("inputs", &hide(&self.inputs)).field("env", &hide(&self.env)).finish()
    }
}

impl Inputs {
    /// Reads `INPUT_*`, `GITHUB_*`, `GH_TOKEN`, `CI` and `MILESTONE_SYNC_*` variables from the
    /// process environment.
    ///
    /// Input names arrive upper-cased with spaces turned to `_` and hyphens kept
    /// (`github-token` is `INPUT_GITHUB-TOKEN`), so they are matched without case.
    pub fn from_env() -> Self {
        Self::from_vars(std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))))
    }

    /// Like [`Inputs::from_env`], from any list of variables (tests).
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut this = Inputs::default();
        for (key, value) in vars {
            if let Some(name) = key.strip_prefix("INPUT_") {
                this.inputs.insert(name.to_ascii_lowercase().replace('_', " "), value);
            } else if key.starts_with("GITHUB_")
                || key.starts_with("MILESTONE_SYNC_")
                || key == "GH_TOKEN"
                || key == "CI"
            {
                this.env.insert(key, value);
            }
        }
        this
    }

    /// An input's value, its action.yml default when unset or empty.
    ///
    /// Inputs named with spaces and hyphens both work: the runner keeps hyphens and turns
    /// spaces into `_`, which [`Inputs::from_vars`] turned back into spaces.
    pub fn input(&self, name: &str) -> Option<String> {
        let set = self
            .inputs
            .get(name)
            .or_else(|| self.inputs.get(&name.replace('-', " ")))
            .map(|v| v.trim())
            .filter(|v| !v.is_empty());
        let default = INPUT_DEFAULTS.iter().find(|(n, _)| *n == name).map(|(_, d)| *d).filter(|d| !d.is_empty());
        set.map(str::to_string).or_else(|| default.map(str::to_string))
    }

    fn var(&self, name: &str) -> Option<String> {
        self.env.get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
    }
}

/// How a run's file changes land (the `commit` input).
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
    /// `write-delay-ms`: the pause between two requests that change something on GitHub.
    pub write_delay: Duration,
    /// `MILESTONE_SYNC_RETRY_BASE_MS`: the first retry backoff, when not the client's default
    /// (tests set a millisecond).
    pub retry_base_delay: Option<Duration>,
    /// `MILESTONE_SYNC_TIMEOUT_MS`: how long one request attempt may take, when not the
    /// client's default (tests of slow answers set a fraction of a second).
    pub attempt_timeout: Option<Duration>,
    /// `pr-comment`: a pull request run also posts its preview as one comment on the pull
    /// request, updated in place on later runs.
    pub pr_comment: bool,
    /// `reconcile-budget`: the most milestone list pages (100 milestones each) a push or a
    /// milestone event reads to converge everything; above it the run keeps to its trigger.
    pub reconcile_budget: usize,
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

    fn derive(raw: &Inputs, token_required: bool) -> Result<Settings, SettingsError> {
        let mut problems = Vec::new();
        let token = raw
            .input("github-token")
            .or_else(|| raw.var("GITHUB_TOKEN"))
            .or_else(|| raw.var("GH_TOKEN"))
            .unwrap_or_else(|| {
                if token_required {
                    problems.push(
                        "no token: set the `github-token` input (it defaults to `${{ github.token }}`), GITHUB_TOKEN or GH_TOKEN, or name a variable in `pat_env_var_name`"
                            .to_string(),
                    );
                }
                String::new()
            });
        let repository = raw.var("GITHUB_REPOSITORY").unwrap_or_default();
        if repository.split('/').filter(|p| !p.is_empty()).count() != 2 {
            problems.push(format!("GITHUB_REPOSITORY must be `owner/name`, got {repository:?}"));
        }
        let dry_run = parse_bool(raw, "dry-run", &mut problems);
        let commit = match raw.input("commit").map(|v| v.to_ascii_lowercase()).as_deref() {
            Some("true") | None => CommitMode::Branch,
            Some("false") => CommitMode::Workspace,
            Some("pull-request") => CommitMode::PullRequest,
            Some(other) => {
                problems.push(format!("input `commit` must be `true`, `false` or `pull-request`, got {other:?}"));
                CommitMode::Branch
            }
        };
        let on_removed = match raw.input("on-artifact-removed").as_deref() {
            Some("close") | None => OnRemoved::Close,
            Some("delete") => OnRemoved::Delete,
            Some(other) => {
                problems.push(format!("input `on-artifact-removed` must be `close` or `delete`, got {other:?}"));
                OnRemoved::Close
            }
        };
        let on_milestone_deleted = match raw.input("on-milestone-deleted").as_deref() {
            Some("unlink") | None => OnMilestoneDeleted::Unlink,
            Some("archive") => OnMilestoneDeleted::Archive,
            Some(other) => {
                problems.push(format!("input `on-milestone-deleted` must be `unlink` or `archive`, got {other:?}"));
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
                problems.push(format!("input `conflict-resolution` must be last_update_wins, prefer_local, prefer_github or manual_flag, got {other:?}"));
                None
            }
        };
        let direction = match raw.input("direction").as_deref() {
            Some("both") | None => Direction::Both,
            Some("to-github") => Direction::ToGithub,
            Some("from-github") => Direction::FromGithub,
            Some(other) => {
                problems.push(format!("input `direction` must be `both`, `to-github` or `from-github`, got {other:?}"));
                Direction::Both
            }
        };
        let write_delay = match raw.input("write-delay-ms").map(|v| v.parse::<u64>()) {
            None => Duration::ZERO,
            Some(Ok(ms)) if ms <= MAX_WRITE_DELAY_MS => Duration::from_millis(ms),
            Some(_) => {
                problems.push(format!(
                    "input `write-delay-ms` must be a whole number of milliseconds from 0 to {MAX_WRITE_DELAY_MS}, got {:?}",
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
                    "input `reconcile-budget` must be a whole number of list pages from 0 to {MAX_RECONCILE_BUDGET} (each page is 100 milestones), got {:?}",
                    raw.input("reconcile-budget").unwrap_or_default()
                ));
                5
            }
        };
        let retry_base_delay = tuning("MILESTONE_SYNC_RETRY_BASE_MS", &mut problems);
        let attempt_timeout = tuning("MILESTONE_SYNC_TIMEOUT_MS", &mut problems);
        let projects_root = raw.input("projects-root").unwrap_or_default().trim_matches('/').to_string();
        if projects_root.split('/').any(|part| part == "..") || projects_root.starts_with('/') {
            problems
                .push(format!("input `projects-root` must be a folder inside the workspace, got {projects_root:?}"));
        }
        if !problems.is_empty() {
            return Err(SettingsError(problems.join("\n")));
        }
        Ok(Settings {
            token: Token::new(token),
            api_url: raw.var("GITHUB_API_URL").unwrap_or_else(|| "https://api.github.com".into()),
            server_url: raw.var("GITHUB_SERVER_URL").unwrap_or_else(|| "https://github.com".into()),
            repository,
            event_name: raw.var("GITHUB_EVENT_NAME").unwrap_or_else(|| "workflow_dispatch".into()),
            event_path: raw.var("GITHUB_EVENT_PATH").map(PathBuf::from),
            workspace: raw.var("GITHUB_WORKSPACE").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(".")),
            git_ref: raw.var("GITHUB_REF"),
            sha: raw.var("GITHUB_SHA"),
            output_file: raw.var("GITHUB_OUTPUT").map(PathBuf::from),
            summary_file: raw.var("GITHUB_STEP_SUMMARY").map(PathBuf::from),
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
            terminal: raw.var("GITHUB_ACTIONS").is_none_or(|v| v != "true"),
            write_delay,
            retry_base_delay,
            attempt_timeout,
            pr_comment,
            reconcile_budget,
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
            problems.push(format!("input `{name}` must be `true` or `false`, got {other:?}"));
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
        assert_eq!(s.write_delay, Duration::from_secs(1), "action.yml's default");
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
    fn bad_inputs_are_all_named() {
        let raw =
            inputs(&[("GITHUB_REPOSITORY", "o"), ("INPUT_DRY-RUN", "yes"), ("INPUT_ON-ARTIFACT-REMOVED", "burn")]);
        let err = Settings::from_inputs(&raw).unwrap_err().0;
        assert!(err.contains("no token"), "{err}");
        assert!(err.contains("GITHUB_REPOSITORY"), "{err}");
        assert!(err.contains("`dry-run`"), "{err}");
        assert!(err.contains("on-artifact-removed"), "{err}");
    }
}
