//! A project as the planner sees it: its folder, its `project_config.toml`
//! (`[github_integration]`, parsed here from text) and its artifacts. The shell reads the
//! files (the `milestone-sync` crate's `workspace`); everything here is plain values and pure functions.

use serde::Deserialize;

use crate::artifact::{Artifact, normalize_label};
use crate::diagnostic::Diagnostic;
use crate::policy::ConflictResolution;

/// The status a milestone closed on GitHub gives its artifact, unless configured.
pub const DEFAULT_CLOSED_STATUS: &str = "🟢 Done";
/// The status a reopened milestone gives an artifact whose status was in the closed set.
pub const DEFAULT_REOPENED_STATUS: &str = "🔵 In Progress";
/// The status `on-milestone-deleted: archive` sets.
pub const DEFAULT_ARCHIVED_STATUS: &str = "🧊 Archived";

/// One project that syncs with the repository.
#[derive(Debug, Clone)]
pub struct Project {
    /// The folder name under the projects root.
    pub slug: String,
    /// Workspace-relative folder of the project.
    pub dir: String,
    pub config: ProjectConfig,
    /// Artifacts of the milestone type, sorted by path.
    pub artifacts: Vec<Artifact>,
    /// Workspace-relative paths of files in the artifact folder that could not be read.
    pub broken: Vec<String>,
}

/// `[github_integration]` of a project's `project_config.toml`, with IntelliManage's defaults.
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
    /// `pat_env_var_name`: the environment variable that holds the token for this project's
    /// repository (in Actions, set from a secret in the workflow's `env:`); without it, the
    /// `github-token` input's.
    pub pat_env_var_name: Option<String>,
    /// Top-level `custom_statuses`: the statuses a project with a custom methodology adds to
    /// IntelliManage's own (a status in neither list earns a warning).
    pub custom_statuses: Vec<String>,
}

impl ProjectConfig {
    /// Whether this project names a repository to sync with (`repo_owner` and `repo_name`).
    pub fn names_repository(&self) -> bool {
        !self.repo_owner.trim().is_empty() && !self.repo_name.trim().is_empty()
    }

    /// Whether this project's milestones live in `repository` (`owner/name`, compared
    /// without case, as GitHub compares names).
    pub fn is_in(&self, repository: &str) -> bool {
        self.repository().eq_ignore_ascii_case(repository)
    }

    /// The 1-based line of `key = …` in a `project_config.toml`'s `text` (the first one), for
    /// messages that point at a key.
    pub fn key_line(text: &str, key: &str) -> Option<usize> {
        text.lines()
            .position(|l| l.trim_start().strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with('=')))
            .map(|i| i + 1)
    }

    /// `repo_owner/repo_name`.
    pub fn repository(&self) -> String {
        format!("{}/{}", self.repo_owner, self.repo_name)
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
             (see the [github_integration] keys in docs/configuration.md)",
            with_article(found)
        ),
        (Some(key), None) => format!(
            "project_config.toml: `{key}` cannot be used: {what}. Fix the value at this line (see the \
             [github_integration] keys in docs/configuration.md)"
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

    #[test]
    fn project_config_defaults_and_either_table_for_conflicts() {
        let c = ProjectConfig::parse("p.toml", "[github_integration]\nenable_sync = true\nrepo_owner = \"Acme\"\nrepo_name = \"Plan\"\n[github_integration.mapping]\nconflict_resolution = \"prefer_github\"\n").unwrap();
        assert!(c.names_repository() && c.is_in("acme/plan"));
        assert!(!c.is_in("acme/other"));
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
             fix the value at this line (see the [github_integration] keys in docs/configuration.md)"
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
