//! The command line: subcommands and flags, turned into the same raw [`Inputs`] the action
//! receives, so that a terminal run and an Actions run go through one set of checks
//! ([`crate::config::Settings::from_inputs`]) and one set of defaults (action.yml's).
//!
//! Flags win over the environment; what neither gives is looked up where a terminal has it:
//! the repository from the `origin` remote, the branch from the checkout, the token from the
//! variable a project names in `pat_env_var_name`.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::config::Inputs;

use crate::project::ProjectConfig;

/// Keeps IntelliManage Epics/Features and GitHub Milestones in two-way sync.
///
/// Inside GitHub Actions (GITHUB_ACTIONS=true) it is the action: everything comes from the
/// runner's environment, inputs as INPUT_<NAME> (INPUT_GITHUB-TOKEN, INPUT_DRY-RUN, …). From a
/// terminal, the flags below set the same inputs; unset ones take action.yml's defaults.
///
/// Without a subcommand it runs `sync`. A terminal run with no event is a full two-way
/// reconcile of the current branch (the default branch is the only one that syncs).
#[derive(Debug, Parser)]
#[command(version, about, long_about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub flags: Flags,
}

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Sync both sides (what the action runs): plan, write milestones and files, report.
    Sync,
    /// Show what `sync` would do, as a table (or JSON with --json); write nothing.
    Plan,
    /// Validate the workspace and the project configs without GitHub: unreadable files,
    /// duplicate IDs, shared or malformed links. Exits 1 when there is an error.
    Check,
}

/// Flags shared by every subcommand. Each one sets an input or a runner variable.
#[derive(Debug, Clone, Default, Args)]
pub struct Flags {
    /// The repository, `owner/name` [default: GITHUB_REPOSITORY, else the `origin` remote].
    #[arg(long, global = true, value_name = "OWNER/NAME")]
    pub repo: Option<String>,
    /// API token [default: input github-token, GITHUB_TOKEN, GH_TOKEN, then the variable a
    /// project's `pat_env_var_name` names]. Prefer the variables: a flag shows in `ps`.
    #[arg(long, global = true, value_name = "TOKEN")]
    pub token: Option<String>,
    /// GitHub's API URL; GitHub Enterprise Server is `https://HOST/api/v3`
    /// [default: GITHUB_API_URL, else https://api.github.com].
    #[arg(long, global = true, value_name = "URL")]
    pub api_url: Option<String>,
    /// The repository's checkout [default: GITHUB_WORKSPACE, else the current directory].
    #[arg(long, global = true, value_name = "DIR")]
    pub workspace: Option<PathBuf>,
    /// Folder under the workspace that holds the projects (input `projects-root`).
    #[arg(long, global = true, value_name = "DIR")]
    pub projects_root: Option<String>,
    /// Sync only this project, by folder name (input `project`).
    #[arg(long, global = true, value_name = "SLUG")]
    pub project: Option<String>,
    /// Print the plan, diagnostics and totals as one JSON object on stdout; the log goes to
    /// stderr.
    #[arg(long, global = true)]
    pub json: bool,
    /// Plan and report, write nothing (input `dry-run`; `plan` always does this).
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// `last_update_wins`, `prefer_local`, `prefer_github` or `manual_flag` (input
    /// `conflict-resolution`).
    #[arg(long, global = true, value_name = "POLICY")]
    pub conflict_resolution: Option<String>,
    /// `both`, `to-github` or `from-github` (input `direction`).
    #[arg(long, global = true, value_name = "SIDE")]
    pub direction: Option<String>,
    /// Import milestones without an artifact as new files (input `create-artifacts`).
    #[arg(long, global = true)]
    pub create_artifacts: bool,
}

impl Cli {
    /// The subcommand, `sync` when none was given.
    pub fn command(&self) -> Command {
        self.command.unwrap_or(Command::Sync)
    }

    /// Lays the flags over the environment's inputs (flags win), then fills what a terminal
    /// run lacks: the repository from the `origin` remote, `GITHUB_REF` from the checked-out
    /// branch, and the token from a project's `pat_env_var_name`. `env` looks a variable up
    /// (the process environment in the binary, a map in tests).
    pub fn apply(&self, mut raw: Inputs, env: &dyn Fn(&str) -> Option<String>) -> Inputs {
        let f = &self.flags;
        let mut set_input = |name: &str, value: Option<String>| {
            if let Some(v) = value {
                raw.inputs.insert(name.to_string(), v);
            }
        };
        set_input("github-token", f.token.clone());
        set_input("projects-root", f.projects_root.clone());
        set_input("project", f.project.clone());
        set_input("conflict-resolution", f.conflict_resolution.clone());
        set_input("direction", f.direction.clone());
        set_input("dry-run", (f.dry_run || self.command() == Command::Plan).then(|| "true".into()));
        set_input("create-artifacts", f.create_artifacts.then(|| "true".into()));
        let mut set_var = |name: &str, value: Option<String>| {
            if let Some(v) = value {
                raw.env.insert(name.to_string(), v);
            }
        };
        set_var("GITHUB_REPOSITORY", f.repo.clone());
        set_var("GITHUB_API_URL", f.api_url.clone());
        set_var("GITHUB_WORKSPACE", f.workspace.as_ref().map(|p| p.display().to_string()));

        let workspace = PathBuf::from(raw.env.get("GITHUB_WORKSPACE").cloned().unwrap_or_else(|| ".".into()));
        if !raw.env.contains_key("GITHUB_REPOSITORY")
            && let Some(repo) = git_output(&workspace, &["remote", "get-url", "origin"]).and_then(|u| repository_of(&u))
        {
            raw.env.insert("GITHUB_REPOSITORY".into(), repo);
        }
        if !raw.env.contains_key("GITHUB_REF")
            && !raw.env.contains_key("GITHUB_EVENT_NAME")
            && let Some(branch) = git_output(&workspace, &["symbolic-ref", "--quiet", "--short", "HEAD"])
        {
            raw.env.insert("GITHUB_REF".into(), format!("refs/heads/{branch}"));
        }
        let has_token = raw.input("github-token").is_some()
            || ["GITHUB_TOKEN", "GH_TOKEN"].iter().any(|k| raw.env.get(*k).is_some_and(|v| !v.trim().is_empty()));
        if !has_token {
            let root = raw.input("projects-root").unwrap_or_default();
            if let Some(token) = pat_variables(&workspace.join(root)).iter().find_map(|name| env(name)) {
                raw.inputs.insert("github-token".into(), token);
            }
        }
        raw
    }
}

/// `owner/name` of a GitHub remote URL (`https://github.com/o/n(.git)`, `git@github.com:o/n`,
/// `ssh://git@host/o/n`, or a GHES host).
pub fn repository_of(url: &str) -> Option<String> {
    let url = url.trim().trim_end_matches('/');
    let path = if let Some(rest) = url.split_once("://").map(|(_, r)| r) {
        rest.split_once('/')?.1
    } else {
        url.split_once(':')?.1
    };
    let path = path.strip_suffix(".git").unwrap_or(path);
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        [.., owner, name] => Some(format!("{owner}/{name}")),
        _ => None,
    }
}

/// The variable names the projects' `pat_env_var_name` keys give, in project order.
fn pat_variables(root: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(root) else { return Vec::new() };
    let mut dirs: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    dirs.iter()
        .filter_map(|d| std::fs::read_to_string(d.join("project_config.toml")).ok())
        .filter_map(|text| ProjectConfig::parse("project_config.toml", &text).ok())
        .filter_map(|c| c.pat_env_var_name)
        .collect()
}

/// A git command's trimmed output, when git exists and succeeds (no shell involved).
fn git_output(dir: &Path, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string()).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_urls_give_the_repository() {
        for url in [
            "https://github.com/acme/plan.git",
            "https://github.com/acme/plan",
            "git@github.com:acme/plan.git",
            "ssh://git@github.com/acme/plan.git",
            "https://ghe.example.com/acme/plan/",
        ] {
            assert_eq!(repository_of(url).as_deref(), Some("acme/plan"), "{url}");
        }
        assert_eq!(repository_of("plan"), None);
    }

    #[test]
    fn flags_win_and_plan_is_a_dry_run() {
        let cli = Cli::parse_from(["milestone-sync", "plan", "--repo", "o/r", "--token", "t", "--project", "demo"]);
        let raw = cli.apply(Inputs::from_vars([("GITHUB_REPOSITORY".to_string(), "x/y".to_string())]), &|_| None);
        let s = crate::config::Settings::from_inputs(&raw).unwrap();
        assert_eq!((s.repository.as_str(), s.token.expose(), s.project.as_deref()), ("o/r", "t", Some("demo")));
        assert!(s.dry_run);
    }
}
