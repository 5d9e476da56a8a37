//! The runner's context: the `GITHUB_*` variables a run reads, as one typed value.
//!
//! envy deserializes them by name (`GITHUB_EVENT_NAME` → `github_event_name`); an empty
//! value counts as unset, as the runner leaves some variables empty. The action's inputs
//! (`INPUT_*`) stay outside this struct, in their one table ([`super::INPUTS`]): their names
//! hold hyphens (`INPUT_GITHUB-TOKEN`), which no Rust field can spell, every input is set
//! (an unset one arrives as `""`, to fall back on action.yml's default), and booleans arrive
//! as the workflow wrote them (`true`, `TRUE`, `True`): the table's checks, not serde's,
//! read them and name the input in their messages.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

/// The runner's variables a run uses, each `None` when unset or empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct RunnerContext {
    /// `true` inside GitHub Actions.
    pub github_actions: Option<String>,
    pub github_event_name: Option<String>,
    pub github_event_path: Option<PathBuf>,
    /// `owner/name` of the repository the workflow runs in: the plan's.
    pub github_repository: Option<String>,
    pub github_sha: Option<String>,
    /// `refs/heads/main`, …
    pub github_ref: Option<String>,
    pub github_workspace: Option<PathBuf>,
    pub github_output: Option<PathBuf>,
    pub github_step_summary: Option<PathBuf>,
    /// `https://api.github.com`, or `https://HOST/api/v3` on GitHub Enterprise Server.
    pub github_api_url: Option<String>,
    /// `https://github.com`, or `https://HOST`.
    pub github_server_url: Option<String>,
    /// `https://api.github.com/graphql`, or its Enterprise form.
    pub github_graphql_url: Option<String>,
    /// `GITHUB_TOKEN` and `GH_TOKEN`: a terminal's fallbacks for the token.
    pub github_token: Option<String>,
    pub gh_token: Option<String>,
}

impl RunnerContext {
    /// The context from runner variables by name; empty values (after trimming) are unset.
    pub fn from_vars(vars: &BTreeMap<String, String>) -> Result<RunnerContext, String> {
        let set = vars.iter().map(|(k, v)| (k.clone(), v.trim().to_string())).filter(|(_, v)| !v.is_empty());
        envy::from_iter(set).map_err(|e| format!("the runner's variables cannot be read: {e}"))
    }

    /// Whether the run is a person's at a terminal, not the action's in Actions.
    pub fn terminal(&self) -> bool {
        self.github_actions.as_deref() != Some("true")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_are_unset_and_names_map_to_fields() {
        let vars: BTreeMap<String, String> = [
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_REPOSITORY", " acme/plan "),
            ("GITHUB_REF", ""),
            ("GITHUB_WORKSPACE", "/github/workspace"),
            ("GITHUB_GRAPHQL_URL", "https://api.github.com/graphql"),
            ("UNRELATED", "x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let ctx = RunnerContext::from_vars(&vars).unwrap();
        assert_eq!(ctx.github_repository.as_deref(), Some("acme/plan"));
        assert_eq!(ctx.github_ref, None, "empty is unset");
        assert_eq!(ctx.github_workspace, Some(PathBuf::from("/github/workspace")));
        assert_eq!(ctx.github_graphql_url.as_deref(), Some("https://api.github.com/graphql"));
        assert!(!ctx.terminal());
        assert!(RunnerContext::from_vars(&BTreeMap::new()).unwrap().terminal());
    }
}
