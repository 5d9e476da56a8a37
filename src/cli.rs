//! The command line: subcommands and flags, turned into the same raw [`Inputs`] the action
//! receives, so that a terminal run and an Actions run go through one set of checks
//! ([`crate::config::Settings::from_inputs`]) and one set of defaults (action.yml's).
//!
//! Flags win over the environment; what neither gives is looked up where a terminal has it:
//! the repository from the `origin` remote, the branch from the checkout, the token from the
//! variable a project names in `pat_env_var_name`.
//!
//! Without a subcommand the binary is the action: `sync` inside Actions, where the Docker
//! action runs it with no arguments. From a terminal, a bare command writes nothing: it shows
//! the help and how to sync ([`Cli::command`], [`without_subcommand`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::{Arg, ArgAction, ArgMatches};

use crate::config::{INPUTS, InputSpec, Inputs, Uses};

use crate::project::ProjectConfig;

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Sync both sides (what the action runs): plan, write milestones and files, report.
    Sync,
    /// Show what `sync` would do; write nothing.
    Plan,
    /// Validate the workspace and the project configs without GitHub.
    Check,
}

impl Command {
    fn name(self) -> &'static str {
        match self {
            Command::Sync => "sync",
            Command::Plan => "plan",
            Command::Check => "check",
        }
    }

    /// Whether this subcommand uses an input of `uses`.
    fn uses(self, uses: Uses) -> bool {
        match self {
            Command::Sync => true,
            Command::Plan => uses != Uses::Writing,
            Command::Check => uses == Uses::Everywhere,
        }
    }
}

const ABOUT: &str = "Keeps IntelliManage Epics/Features and GitHub Milestones in two-way sync.";

const LONG_ABOUT: &str = "Keeps IntelliManage Epics/Features and GitHub Milestones in two-way sync.

From a terminal, name what to do: `check` validates the files, `plan` shows what a sync would \
do, `sync` does it; without one it only shows a short help. Every input of the action is a flag \
(`--on-artifact-removed delete` sets input `on-artifact-removed`); unset ones take action.yml's \
defaults. The options below are `sync`'s: `milestone-sync plan --help` shows `plan`'s. A \
terminal `sync` is a full two-way reconcile of the checked-out branch (only the default branch \
syncs).

Inside GitHub Actions (GITHUB_ACTIONS=true) it is the action: everything comes from the \
runner's environment, inputs as INPUT_<NAME> (INPUT_GITHUB-TOKEN, INPUT_DRY-RUN, ...), and \
without a subcommand it runs `sync`.";

/// How a terminal user syncs, said where a bare command stops.
const HOW_TO_SYNC: &str = "No subcommand, so nothing was done: run `milestone-sync plan` to see what a sync \
would do, `milestone-sync sync` to do it (flags go after the subcommand).";

/// The command line, parsed.
#[derive(Debug, Clone)]
pub struct Cli {
    /// The subcommand given, if any: [`Cli::command`] says what runs without one.
    pub subcommand: Option<Command>,
    /// Inputs the flags set, by input name (`github-token`, `dry-run`, …).
    pub inputs: BTreeMap<&'static str, String>,
    /// `--repo`: `owner/name`.
    pub repo: Option<String>,
    /// `--api-url`.
    pub api_url: Option<String>,
    /// `--workspace`.
    pub workspace: Option<PathBuf>,
    /// `--json`: the report as one JSON object on stdout, the log on stderr.
    pub json: bool,
    /// `--pull`: after a `sync` that committed, fast-forward the checkout.
    pub pull: bool,
}

/// The flag of one input, under its `--help` heading (the everyday "Options" when the table
/// gives none).
fn input_arg(i: &InputSpec) -> Arg {
    let arg = Arg::new(i.name).long(i.flag).help(i.help).help_heading(i.heading);
    match i.value {
        Some(value) => arg.value_name(value).action(ArgAction::Set),
        None => arg.action(ArgAction::SetTrue),
    }
}

/// The flags `command` takes: the inputs it uses, and the runner's settings it needs.
fn args_of(command: Command) -> Vec<Arg> {
    let mut args: Vec<Arg> = Vec::new();
    let repo_help = match command {
        Command::Check => {
            "The repository, `owner/name`, to check links against [default: GITHUB_REPOSITORY, else the `origin` remote, else each project's `repo_owner/repo_name`]"
        }
        _ => "The repository, `owner/name` [default: GITHUB_REPOSITORY, else the `origin` remote]",
    };
    args.push(Arg::new("repo").long("repo").value_name("OWNER/NAME").help(repo_help));
    if command != Command::Check {
        args.push(Arg::new("api-url").long("api-url").value_name("URL").help(
            "GitHub's API URL; GitHub Enterprise Server is `https://HOST/api/v3` [default: GITHUB_API_URL, else https://api.github.com]",
        ));
    }
    args.push(
        Arg::new("workspace")
            .long("workspace")
            .value_name("DIR")
            .value_parser(clap::value_parser!(PathBuf))
            .help("The repository's checkout [default: GITHUB_WORKSPACE, else the current directory]"),
    );
    args.extend(INPUTS.iter().filter(|i| command.uses(i.uses)).map(input_arg));
    let json_help = match command {
        Command::Check => "Print the projects, artifacts and diagnostics as one JSON object",
        _ => "Print the plan, diagnostics and totals as one JSON object on stdout; the log goes to stderr",
    };
    args.push(Arg::new("json").long("json").action(ArgAction::SetTrue).help(json_help));
    if command == Command::Sync {
        args.push(
            Arg::new("pull")
                .long("pull")
                .action(ArgAction::SetTrue)
                .help("After a sync that committed on GitHub, fast-forward this checkout to the new commit"),
        );
    }
    args
}

/// The whole command line: `sync`, `plan` and `check`, each with the flags it uses; without a
/// subcommand, `sync`'s flags (the action's form, for Actions: [`Cli::command`]).
pub fn definition() -> clap::Command {
    let sub = |command: Command, about: &'static str, long: &'static str| {
        clap::Command::new(command.name()).about(about).long_about(long).args(args_of(command))
    };
    clap::Command::new("milestone-sync")
        .version(env!("CARGO_PKG_VERSION"))
        .about(ABOUT)
        .long_about(LONG_ABOUT)
        .max_term_width(100)
        // The form a person types; `milestone-sync [OPTIONS]` alone is the action's.
        .override_usage("milestone-sync <COMMAND> [OPTIONS]")
        .args_conflicts_with_subcommands(true)
        .args(args_of(Command::Sync))
        .subcommand(sub(
            Command::Sync,
            "Sync both sides (what the action runs): plan, write milestones and files, report",
            "Sync both sides (what the action runs): plan, write milestones and files, report. After a \
             commit on GitHub the checkout is behind: `--pull` fast-forwards it.",
        ))
        .subcommand(sub(
            Command::Plan,
            "Show what `sync` would do, as a table (or JSON with --json); write nothing",
            "Show what `sync` would do, as a table (or JSON with --json); write nothing. Needs a token \
             to read the milestones.",
        ))
        .subcommand(sub(
            Command::Check,
            "Validate the workspace and the project configs, without GitHub or a token",
            "Validate the workspace and the project configs without GitHub or a token: unreadable \
             files, duplicate IDs, shared or malformed links. Works in any folder. Exits 1 when there \
             is an error.",
        ))
}

/// What a terminal run without a subcommand prints, on stderr with exit code 2 (as clap's
/// usage errors): the short help, without `sync`'s flags, and how to sync.
pub fn without_subcommand() -> String {
    let mut short = definition().mut_args(|a| a.hide(true));
    format!("{}\n{HOW_TO_SYNC}\n", short.render_help())
}

impl Cli {
    /// What runs. A subcommand names it. Without one: `sync` inside Actions (`terminal` false),
    /// where the Docker action runs the binary with no arguments; from a terminal, `None`:
    /// a bare command must not write, and [`without_subcommand`] says what to type.
    pub fn command(&self, terminal: bool) -> Option<Command> {
        match self.subcommand {
            Some(command) => Some(command),
            None if terminal => None,
            None => Some(Command::Sync),
        }
    }

    /// The process's arguments; prints help or an error and exits when they ask for it.
    pub fn parse() -> Cli {
        Cli::from_matches(&definition().get_matches())
    }

    /// `args` (the program name first), or clap's error.
    pub fn try_parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        definition().try_get_matches_from(args).map(|m| Cli::from_matches(&m))
    }

    fn from_matches(top: &ArgMatches) -> Cli {
        let (subcommand, m) = match top.subcommand() {
            Some(("plan", m)) => (Some(Command::Plan), m),
            Some(("check", m)) => (Some(Command::Check), m),
            Some((_, m)) => (Some(Command::Sync), m),
            None => (None, top),
        };
        // Without a subcommand, the flags are `sync`'s.
        let command = subcommand.unwrap_or(Command::Sync);
        let mut inputs = BTreeMap::new();
        for i in INPUTS.iter().filter(|i| command.uses(i.uses)) {
            match i.value {
                Some(_) => {
                    if let Some(v) = m.get_one::<String>(i.name) {
                        inputs.insert(i.name, v.clone());
                    }
                }
                None => {
                    if m.get_flag(i.name) {
                        inputs.insert(i.name, "true".to_string());
                    }
                }
            }
        }
        let has = |id: &str| m.try_contains_id(id).unwrap_or(false);
        Cli {
            subcommand,
            inputs,
            repo: m.get_one::<String>("repo").cloned(),
            api_url: if has("api-url") { m.get_one::<String>("api-url").cloned() } else { None },
            workspace: m.get_one::<PathBuf>("workspace").cloned(),
            json: m.get_flag("json"),
            pull: has("pull") && m.get_flag("pull"),
        }
    }

    /// Lays the flags over the environment's inputs (flags win), then fills what a terminal
    /// run lacks: the repository from the `origin` remote, `GITHUB_REF` from the checked-out
    /// branch, and the token from a project's `pat_env_var_name`. `env` looks a variable up
    /// (the process environment in the binary, a map in tests).
    pub fn apply(&self, mut raw: Inputs, env: &dyn Fn(&str) -> Option<String>) -> Inputs {
        for (name, value) in &self.inputs {
            raw.inputs.insert((*name).to_string(), value.clone());
        }
        if self.subcommand == Some(Command::Plan) {
            raw.inputs.insert("dry-run".into(), "true".into());
        }
        let mut set_var = |name: &str, value: Option<String>| {
            if let Some(v) = value {
                raw.env.insert(name.to_string(), v);
            }
        };
        set_var("GITHUB_REPOSITORY", self.repo.clone());
        set_var("GITHUB_API_URL", self.api_url.clone());
        set_var("GITHUB_WORKSPACE", self.workspace.as_ref().map(|p| p.display().to_string()));

        let workspace = PathBuf::from(raw.env.get("GITHUB_WORKSPACE").cloned().unwrap_or_else(|| ".".into()));
        if !raw.env.contains_key("GITHUB_REPOSITORY")
            && let Some(repo) = git_output(&workspace, &["remote", "get-url", "origin"]).and_then(|u| repository_of(&u))
        {
            raw.env.insert("GITHUB_REPOSITORY".into(), repo);
        }
        // Outside a clone: the repository the projects name, when they all name one.
        if !raw.env.contains_key("GITHUB_REPOSITORY") {
            let root = raw.input("projects-root").unwrap_or_default();
            let named = project_configs(&workspace.join(root))
                .into_iter()
                .filter(|c| c.enable_sync && c.names_repository())
                .map(|c| c.repository())
                .fold(Vec::<String>::new(), |mut all, r| {
                    if !all.iter().any(|a| a.eq_ignore_ascii_case(&r)) {
                        all.push(r);
                    }
                    all
                });
            if let [one] = named.as_slice() {
                raw.env.insert("GITHUB_REPOSITORY".into(), one.clone());
            }
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
    project_configs(root).into_iter().filter_map(|c| c.pat_env_var_name).collect()
}

/// The projects' configurations that parse, in folder order (errors are `check`'s to report).
fn project_configs(root: &Path) -> Vec<ProjectConfig> {
    let Ok(entries) = std::fs::read_dir(root) else { return Vec::new() };
    let mut dirs: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    dirs.iter()
        .filter_map(|d| std::fs::read_to_string(d.join("project_config.toml")).ok())
        .filter_map(|text| ProjectConfig::parse("project_config.toml", &text).ok())
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
        let cli = Cli::try_parse_from(["milestone-sync", "plan", "--repo", "o/r", "--token", "t", "--project", "demo"])
            .unwrap();
        let raw = cli.apply(Inputs::from_vars([("GITHUB_REPOSITORY".to_string(), "x/y".to_string())]), &|_| None);
        let s = crate::config::Settings::from_inputs(&raw).unwrap();
        assert_eq!((s.repository.as_str(), s.token.expose(), s.project.as_deref()), ("o/r", "t", Some("demo")));
        assert!(s.dry_run);
    }

    /// The Docker action runs the binary with no arguments: that is `sync` inside Actions. From
    /// a terminal a bare command runs nothing, flags or not; a subcommand runs the same either way.
    #[test]
    fn no_subcommand_syncs_in_actions_and_runs_nothing_in_a_terminal() {
        for args in [&["milestone-sync"][..], &["milestone-sync", "--repo", "o/r", "--token", "t"]] {
            let cli = Cli::try_parse_from(args).unwrap();
            assert_eq!(cli.subcommand, None, "{args:?}");
            let actions = Inputs::from_vars([("GITHUB_ACTIONS".to_string(), "true".to_string())]);
            assert_eq!(cli.command(actions.terminal()), Some(Command::Sync), "{args:?} in Actions");
            assert_eq!(cli.command(Inputs::default().terminal()), None, "{args:?} in a terminal");
        }
        for (name, command) in [("sync", Command::Sync), ("plan", Command::Plan), ("check", Command::Check)] {
            let cli = Cli::try_parse_from(["milestone-sync", name]).unwrap();
            assert_eq!((cli.command(true), cli.command(false)), (Some(command), Some(command)), "{name}");
        }
        let shown = without_subcommand();
        assert!(shown.contains("Commands:") && shown.contains("`milestone-sync sync` to do it"), "{shown}");
        assert!(!shown.contains("--token"), "the short form leaves `sync`'s flags to `sync --help`: {shown}");
    }

    /// Inputs that only matter on an Actions event are listed apart, under the heading the
    /// table gives, in the top-level help as in `sync`'s and `plan`'s.
    #[test]
    fn event_only_flags_are_listed_under_their_heading() {
        let mut top = definition();
        let help = top.render_long_help().to_string();
        for flag in ["--pr-comment", "--reconcile-budget"] {
            let heading = help.find("Actions-event options:").expect(&help);
            assert!(help.find(flag).is_some_and(|at| at > heading), "{flag} under the heading:\n{help}");
        }
        for command in ["sync", "plan"] {
            let sub = top.find_subcommand_mut(command).unwrap();
            let help = sub.render_long_help().to_string();
            let heading = help.find("Actions-event options:").expect(&help);
            assert!(help.find("--reconcile-budget").is_some_and(|at| at > heading), "{command}:\n{help}");
            assert!(help.find("--direction").is_some_and(|at| at < heading), "{command}:\n{help}");
        }
    }
}
