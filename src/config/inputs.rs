//! The raw layer: every input the action declares ([`INPUTS`], one table for action.yml's
//! defaults, the terminal's flags and the docs), and [`Inputs`], the strings a run receives
//! (`INPUT_*` and the runner's `GITHUB_*` variables) before any check.

use std::collections::BTreeMap;

/// Which subcommands of the terminal tool use a setting (the action uses every one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uses {
    /// `sync`, `plan` and `check`: where the projects are.
    Everywhere,
    /// `sync` and `plan`: what the planner decides with GitHub's side.
    Planning,
    /// `sync` only: how writes are made (`plan` writes nothing).
    Writing,
}

/// One input of the action, and the flag that sets it from a terminal.
#[derive(Debug, Clone, Copy)]
pub struct InputSpec {
    /// As action.yml declares it, e.g. `on-artifact-removed`.
    pub name: &'static str,
    /// action.yml's default (empty: unset).
    pub default: &'static str,
    /// The long flag, without `--` (the input's name, but `token` for `github-token`).
    pub flag: &'static str,
    /// The flag's value name; `None` for a switch, which sets `true`.
    pub value: Option<&'static str>,
    pub uses: Uses,
    /// One line for `--help`.
    pub help: &'static str,
    /// The `--help` heading the flag is listed under; `None`: the everyday "Options".
    pub heading: Option<&'static str>,
}

/// The `--help` heading of the inputs that only matter on some Actions events (a terminal run
/// has none): listed apart from the everyday flags.
const ACTIONS_EVENT: &str = "Actions-event options";

const fn input(
    name: &'static str,
    default: &'static str,
    flag: &'static str,
    value: Option<&'static str>,
    uses: Uses,
    help: &'static str,
) -> InputSpec {
    InputSpec { name, default, flag, value, uses, help, heading: None }
}

impl InputSpec {
    /// The same input, listed under `heading` in `--help`.
    const fn under(self, heading: &'static str) -> InputSpec {
        InputSpec { heading: Some(heading), ..self }
    }
}

/// Every input of the action: its default (action.yml's: a test checks that both declare the
/// same inputs and defaults), the flag that sets it from a terminal and where it is used. The
/// terminal's flags, the defaults a terminal run applies and docs/configuration.md's inputs
/// table all come from here. An input that only matters on some Actions events is listed
/// under "Actions-event options" in `--help`.
#[rustfmt::skip]
pub const INPUTS: &[InputSpec] = &[
    input("github-token", "", "token", Some("TOKEN"), Uses::Planning, "API token [default: GITHUB_TOKEN, GH_TOKEN, then the variable a project's `pat_env_var_name` names]. Prefer the variables: a flag shows in `ps`"),
    input("projects-root", ".ruru/projects", "projects-root", Some("DIR"), Uses::Everywhere, "Folder under the workspace that holds the projects [default: .ruru/projects]"),
    input("project", "", "project", Some("SLUG"), Uses::Everywhere, "Only this project, by folder name [default: every project that enables sync]"),
    input("dry-run", "false", "dry-run", None, Uses::Writing, "Plan and report, write nothing (`plan` always does)"),
    input("commit", "true", "commit", Some("MODE"), Uses::Writing, "`true`: commit file changes to the branch (a pull request where it refuses); `pull-request`: always by pull request; `false`: leave them in the workspace [default: true]"),
    input("on-artifact-removed", "close", "on-artifact-removed", Some("ACTION"), Uses::Planning, "What a removed artifact file does to its milestone: `close` or `delete` [default: close]"),
    input("conflict-resolution", "", "conflict-resolution", Some("POLICY"), Uses::Planning, "`last_update_wins`, `prefer_local`, `prefer_github` or `manual_flag` [default: the project's, else last_update_wins]"),
    input("create-artifacts", "false", "create-artifacts", None, Uses::Planning, "Import milestones without an artifact as new files"),
    input("on-milestone-deleted", "unlink", "on-milestone-deleted", Some("ACTION"), Uses::Planning, "What a milestone deleted on GitHub does to its artifact: `unlink` or `archive` [default: unlink]"),
    input("closed-status", "", "closed-status", Some("STATUS"), Uses::Planning, "Status a milestone closed on GitHub gives its artifact [default: the project's `closed_status`, else 🟢 Done]"),
    input("reopened-status", "", "reopened-status", Some("STATUS"), Uses::Planning, "Status a reopened milestone gives its artifact [default: the project's `reopened_status`, else 🔵 In Progress]"),
    input("direction", "both", "direction", Some("SIDE"), Uses::Planning, "Which side may be written: `both`, `to-github` or `from-github` [default: both]"),
    input("fail-on-conflict", "false", "fail-on-conflict", None, Uses::Planning, "Exit 1 when a conflict is left flagged (`manual_flag`)"),
    input("write-delay-ms", "750", "write-delay-ms", Some("MS"), Uses::Writing, "Least time between the starts of two writes to GitHub, in milliseconds (GitHub allows about 80 a minute); 0 turns pacing off [default: 750]"),
    input("pr-comment", "false", "pr-comment", None, Uses::Writing, "On a `pull_request` event, also post the preview as one comment on the pull request").under(ACTIONS_EVENT),
    input("reconcile-budget", "5", "reconcile-budget", Some("PAGES"), Uses::Planning, "The most milestone list pages a push or milestone event reads to converge everything [default: 5]").under(ACTIONS_EVENT),
];

/// The default of input `name` (action.yml's), if it has one.
pub fn default_of(name: &str) -> Option<&'static str> {
    INPUTS.iter().find(|i| i.name == name).map(|i| i.default).filter(|d| !d.is_empty())
}

/// How a message names input `name` where the run happens: the flag in a terminal
/// (`--direction`), the input in Actions (input `direction`).
pub fn setting_name(name: &str, terminal: bool) -> String {
    match INPUTS.iter().find(|i| i.name == name) {
        Some(i) if terminal => format!("`--{}`", i.flag),
        _ => format!("input `{name}`"),
    }
}

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
        set.map(str::to_string).or_else(|| default_of(name).map(str::to_string))
    }

    /// Whether the run is a person's at a terminal, not the action's in Actions
    /// (`GITHUB_ACTIONS=true`): messages then name flags, and output is shown for people.
    pub fn terminal(&self) -> bool {
        super::RunnerContext::from_vars(&self.env).map_or(true, |ctx| ctx.terminal())
    }

    /// A runner variable (`GITHUB_*`, `GH_TOKEN`, …), trimmed; empty counts as unset.
    pub(super) fn var(&self, name: &str) -> Option<String> {
        self.env.get(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
    }
}
