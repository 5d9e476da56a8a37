//! Configuration, in two layers and one place each.
//!
//! - [`Inputs`]: the raw strings a run receives: the action's inputs (`INPUT_*`, exactly as
//!   the runner sets them for a Docker action) and the runner's `GITHUB_*` variables.
//!   Defaults equal action.yml's, so a run from a terminal behaves like one in Actions.
//! - [`Settings`]: the checked, typed values every other module uses, derived from the
//!   inputs in [`Settings::from_inputs`]. Nothing else reads the environment.
//! - [`ProjectConfig`]: a project's `project_config.toml`, `[github_integration]`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::artifact::normalize_label;
use crate::diagnostic::Diagnostic;

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
];

/// The longest pause between mutations `write-delay-ms` accepts: a minute.
const MAX_WRITE_DELAY_MS: u64 = 60_000;

/// The status a milestone closed on GitHub gives its artifact, unless configured.
pub const DEFAULT_CLOSED_STATUS: &str = "🟢 Done";
/// The status a reopened milestone gives an artifact whose status was in the closed set.
pub const DEFAULT_REOPENED_STATUS: &str = "🔵 In Progress";
/// The status `on-milestone-deleted: archive` sets.
pub const DEFAULT_ARCHIVED_STATUS: &str = "🧊 Archived";

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

/// What to do with a milestone whose artifact file was removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnRemoved {
    Close,
    Delete,
}

/// What happens to an artifact whose milestone was deleted on GitHub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnMilestoneDeleted {
    /// Remove `related_milestone` (the content stays) and warn.
    Unlink,
    /// Also set the archived status.
    Archive,
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
    /// Commit file changes through the API (true) or leave them in the workspace (false).
    pub commit: bool,
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
    pub direction: crate::plan::Direction,
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
        let commit = parse_bool(raw, "commit", &mut problems);
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
            Some("both") | None => crate::plan::Direction::Both,
            Some("to-github") => crate::plan::Direction::ToGithub,
            Some("from-github") => crate::plan::Direction::FromGithub,
            Some(other) => {
                problems.push(format!("input `direction` must be `both`, `to-github` or `from-github`, got {other:?}"));
                crate::plan::Direction::Both
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

/// How a field changed on both sides since the last sync is settled (PRODUCT.md's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(
    rename_all = "snake_case",
    expecting = "one of the strings last_update_wins, prefer_local, prefer_github, manual_flag"
)]
pub enum ConflictResolution {
    /// The side changed last wins: the file's last commit time against the milestone's
    /// `updated_at`; ties go to the file.
    LastUpdateWins,
    PreferLocal,
    PreferGithub,
    /// Neither side is written; the artifact is flagged with `sync_conflict`.
    ManualFlag,
}

impl ConflictResolution {
    /// The name as written in project_config and the input.
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictResolution::LastUpdateWins => "last_update_wins",
            ConflictResolution::PreferLocal => "prefer_local",
            ConflictResolution::PreferGithub => "prefer_github",
            ConflictResolution::ManualFlag => "manual_flag",
        }
    }
}

/// `[github_integration]` of a project's `project_config.toml`, with PRODUCT.md's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectConfig {
    pub enable_sync: bool,
    pub repo_owner: String,
    pub repo_name: String,
    pub create_missing_milestones: bool,
    pub conflict_resolution: ConflictResolution,
    /// `milestone_type` as written, e.g. `🗺️ Epic`.
    pub milestone_type: String,
    pub sync_due_date: bool,
    /// `create_artifacts_from_milestones`: new unmarked milestones get an artifact file.
    pub create_artifacts: bool,
    /// `[github_integration.mapping] closed_status`.
    pub closed_status: String,
    /// `[github_integration.mapping] reopened_status`.
    pub reopened_status: String,
    /// `[github_integration.mapping] archived_status`.
    pub archived_status: String,
    /// `pat_env_var_name`: the variable that holds a token, for runs from a terminal.
    pub pat_env_var_name: Option<String>,
    /// Top-level `custom_statuses`: the statuses a project with a custom methodology adds to
    /// IntelliManage's own (a status in neither list earns a warning).
    pub custom_statuses: Vec<String>,
}

impl ProjectConfig {
    /// Whether this project syncs with `repository` (`owner/name`, compared without case).
    pub fn syncs_with(&self, repository: &str) -> bool {
        self.enable_sync && format!("{}/{}", self.repo_owner, self.repo_name).eq_ignore_ascii_case(repository)
    }

    /// `epic` or `feature`: [`normalize_label`] of `milestone_type`, so that `"🗺️ Epic"`,
    /// `"🗺 Epic"` and `"Epic"` are one type.
    pub fn milestone_kind(&self) -> String {
        normalize_label(&self.milestone_type)
    }

    /// The folder of the project that holds artifacts of the milestone type.
    pub fn artifact_folder(&self) -> &'static str {
        if self.milestone_kind() == "feature" { "features" } else { "epics" }
    }
}

// `expecting` names the TOML type in messages ("expected a table", not "expected struct
// RawIntegration").
#[derive(Deserialize, Default)]
#[serde(expecting = "a table")]
struct RawFile {
    #[serde(default)]
    github_integration: Option<RawIntegration>,
    #[serde(default)]
    custom_statuses: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(expecting = "a table")]
struct RawIntegration {
    #[serde(default)]
    enable_sync: Option<bool>,
    #[serde(default)]
    repo_owner: Option<String>,
    #[serde(default)]
    repo_name: Option<String>,
    #[serde(default)]
    create_missing_milestones: Option<bool>,
    #[serde(default)]
    conflict_resolution: Option<ConflictResolution>,
    #[serde(default)]
    create_artifacts_from_milestones: Option<bool>,
    #[serde(default)]
    pat_env_var_name: Option<String>,
    #[serde(default)]
    mapping: Option<RawMapping>,
}

#[derive(Deserialize, Default)]
#[serde(expecting = "a table")]
struct RawMapping {
    #[serde(default)]
    milestone_type: Option<String>,
    #[serde(default)]
    sync_milestone_due_date: Option<bool>,
    #[serde(default)]
    conflict_resolution: Option<ConflictResolution>,
    #[serde(default)]
    closed_status: Option<String>,
    #[serde(default)]
    reopened_status: Option<String>,
    #[serde(default)]
    archived_status: Option<String>,
}

impl ProjectConfig {
    /// Parses `project_config.toml`. `path` is workspace-relative, for messages. A file
    /// without `[github_integration]` gives a config with sync disabled.
    pub fn parse(path: &str, text: &str) -> Result<ProjectConfig, Diagnostic> {
        let raw: RawFile =
            toml::Deserializer::parse(text).map_err(|e| config_error(path, text, None, &e)).and_then(|d| {
                serde_path_to_error::deserialize(d).map_err(|e| config_error(path, text, Some(e.path()), e.inner()))
            })?;
        let gi = raw.github_integration.unwrap_or_default();
        let mapping = gi.mapping.unwrap_or_default();
        Ok(ProjectConfig {
            enable_sync: gi.enable_sync.unwrap_or(false),
            repo_owner: gi.repo_owner.unwrap_or_default(),
            repo_name: gi.repo_name.unwrap_or_default(),
            create_missing_milestones: gi.create_missing_milestones.unwrap_or(true),
            conflict_resolution: gi
                .conflict_resolution
                .or(mapping.conflict_resolution)
                .unwrap_or(ConflictResolution::LastUpdateWins),
            milestone_type: mapping.milestone_type.unwrap_or_else(|| "🗺️ Epic".into()),
            sync_due_date: mapping.sync_milestone_due_date.unwrap_or(true),
            create_artifacts: gi.create_artifacts_from_milestones.unwrap_or(false),
            closed_status: mapping.closed_status.unwrap_or_else(|| DEFAULT_CLOSED_STATUS.into()),
            reopened_status: mapping.reopened_status.unwrap_or_else(|| DEFAULT_REOPENED_STATUS.into()),
            archived_status: mapping.archived_status.unwrap_or_else(|| DEFAULT_ARCHIVED_STATUS.into()),
            pat_env_var_name: gi.pat_env_var_name.filter(|v| !v.trim().is_empty()),
            custom_statuses: raw.custom_statuses.unwrap_or_default(),
        })
    }
}

/// One diagnostic for a `project_config.toml` that cannot be read: the line of the bad value,
/// the key (as a dotted path, e.g. `github_integration.enable_sync`), the type it must have
/// and the type it has, so the fix is plain without opening the README.
fn config_error(path: &str, text: &str, key: Option<&serde_path_to_error::Path>, e: &toml::de::Error) -> Diagnostic {
    // An error at the very end (an unclosed `"""`) is shown on the last line, not on the
    // empty one after the final newline.
    let last = text.lines().count().max(1);
    let line = e.span().map(|s| (text[..s.start.min(text.len())].matches('\n').count() + 1).min(last));
    let what = e.message().trim();
    let key = key.map(ToString::to_string).filter(|k| !k.is_empty() && k != ".");
    let message = match (&key, what.strip_prefix("invalid type: ").and_then(|w| w.split_once(", expected "))) {
        (Some(key), Some((found, expected))) => format!(
            "project_config.toml: `{key}` must be {expected}, but it is {}: fix the value at this line \
             (see the [github_integration] keys in the README)",
            with_article(found)
        ),
        (Some(key), None) => format!(
            "project_config.toml: `{key}` cannot be used: {what}. Fix the value at this line (see the \
             [github_integration] keys in the README)"
        ),
        (None, _) => format!(
            "project_config.toml is not valid TOML: {what}. Fix this line (quote text values as \
             `key = \"value\"` and write each key once)"
        ),
    };
    Diagnostic::error(path, line, message)
}

/// `string "yes"` → `a string "yes"`, `integer `5`` → `an integer `5``, as serde names types.
fn with_article(found: &str) -> String {
    let article = if found.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
    format!("{article} {found}")
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
        assert!(s.commit, "action.yml default");
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

    #[test]
    fn project_config_defaults_and_either_table_for_conflicts() {
        let c = ProjectConfig::parse("p.toml", "[github_integration]\nenable_sync = true\nrepo_owner = \"Acme\"\nrepo_name = \"Plan\"\n[github_integration.mapping]\nconflict_resolution = \"prefer_github\"\n").unwrap();
        assert!(c.syncs_with("acme/plan"));
        assert!(!c.syncs_with("acme/other"));
        assert_eq!(c.conflict_resolution, ConflictResolution::PreferGithub);
        assert_eq!(c.milestone_kind(), "epic");
        assert!(c.sync_due_date && c.create_missing_milestones);
        let f =
            ProjectConfig::parse("p.toml", "[github_integration.mapping]\nmilestone_type = \"🌟 Feature\"\n").unwrap();
        assert_eq!(f.artifact_folder(), "features");
        assert!(!f.enable_sync);
    }

    #[test]
    fn wrong_types_name_the_line() {
        let e = ProjectConfig::parse("x/project_config.toml", "[github_integration]\n\nenable_sync = \"yes\"\n")
            .unwrap_err();
        assert_eq!(e.line, Some(3));
        assert_eq!(
            e.message,
            "project_config.toml: `github_integration.enable_sync` must be a boolean, but it is a string \"yes\": \
             fix the value at this line (see the [github_integration] keys in the README)"
        );
    }

    #[test]
    fn wrong_types_name_the_key_and_the_expected_type() {
        let cases = [
            ("github_integration = 3\n", 1, "`github_integration` must be a table, but it is an integer `3`"),
            (
                "[github_integration]\nrepo_owner = 5\n",
                2,
                "`github_integration.repo_owner` must be a string, but it is an integer `5`",
            ),
            (
                "[github_integration]\nmapping = \"x\"\n",
                2,
                "`github_integration.mapping` must be a table, but it is a string \"x\"",
            ),
            (
                "[github_integration.mapping]\n\nsync_milestone_due_date = \"no\"\n",
                3,
                "`github_integration.mapping.sync_milestone_due_date` must be a boolean, but it is a string \"no\"",
            ),
            (
                "custom_statuses = [\"🚀 Shipped\", 3]\n",
                1,
                "`custom_statuses[1]` must be a string, but it is an integer `3`",
            ),
            (
                "[github_integration]\nconflict_resolution = \"newest\"\n",
                2,
                "`github_integration.conflict_resolution` cannot be used: unknown variant `newest`, expected one of",
            ),
            ("[github_integration]\nenable_sync = true\nenable_sync = false\n", 3, "is not valid TOML: duplicate key"),
            // Found by fuzzing: an error at the end of the text pointed past the last line.
            ("[github_integration]\nrepo_owner = \"\"\"acme\n", 2, "is not valid TOML"),
        ];
        for (text, line, expected) in cases {
            let e = ProjectConfig::parse("p/project_config.toml", text).unwrap_err();
            assert_eq!(e.line, Some(line), "{text}: {}", e.message);
            assert!(e.message.contains(expected), "{text}: {}", e.message);
        }
        let c = ProjectConfig::parse("p", "custom_statuses = [\"🚀 Shipped\"]\n").unwrap();
        assert_eq!(c.custom_statuses, ["🚀 Shipped"]);
    }
}
