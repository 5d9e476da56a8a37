//! Which repository each project syncs with, and how the run reaches it.
//!
//! A plan kept in one repository may hold projects whose milestones live in others: each
//! project names its repository (`[github_integration] repo_owner`, `repo_name`) and, where the
//! run's own token cannot reach it, the variable that holds one (`pat_env_var_name`). The run
//! groups the projects by repository, reaches each with its token, and keeps a repository it
//! cannot reach to one error: the others sync. A run in a fork never writes to a repository
//! other than its own.

use std::ops::Range;

use crate::config::{Settings, Token, setting_name};
use crate::diagnostic::Diagnostic;
use crate::project::{Project, ProjectConfig};
use crate::workspace::Workspace;

/// Where a repository's token came from, for the message that says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenFrom {
    /// The `github-token` input (or `--token`, `GITHUB_TOKEN`, `GH_TOKEN` in a terminal).
    Input,
    /// The variable a project's `pat_env_var_name` names.
    Variable(String),
    /// A project names a variable that is not set: the input's token was used instead.
    UnsetVariable(String),
}

impl TokenFrom {
    /// Where the token came from, for the log: "token from `API_PAT`".
    pub fn describe(&self, terminal: bool) -> String {
        match self {
            TokenFrom::Variable(v) => format!("token from `{v}`"),
            TokenFrom::UnsetVariable(v) => {
                format!("`{v}` is not set: token from {}", setting_name("github-token", terminal))
            }
            TokenFrom::Input => format!("token from {}", setting_name("github-token", terminal)),
        }
    }
}

/// How a run reaches one repository: the plan repository's own client, or one of its own.
#[derive(Debug)]
pub enum Reach<'g, G> {
    Plan(&'g G),
    Own(G),
}

impl<G> Reach<'_, G> {
    pub fn get(&self) -> &G {
        match self {
            Reach::Plan(gh) => gh,
            Reach::Own(gh) => gh,
        }
    }
}

/// Makes a client for `owner/name` with a token.
pub type Connect<'c, G> = dyn Fn(&str, &Token) -> anyhow::Result<G> + 'c;

/// One repository's part of the run.
#[derive(Debug)]
pub struct Share<'g, G> {
    /// `owner/name`, as the first of its projects spells it.
    pub repository: String,
    /// Its projects: a range of the workspace's projects (see [`group`]).
    pub projects: Range<usize>,
    pub gh: Reach<'g, G>,
    pub token: TokenFrom,
}

/// Orders the workspace's projects by repository, the plan's own first, and returns each
/// repository with the range of its projects. Within a repository the projects keep their
/// folder order.
pub fn group(ws: &mut Workspace, plan_repository: &str) -> Vec<(String, Range<usize>)> {
    ws.projects.sort_by_cached_key(|p| (!p.config.is_in(plan_repository), p.config.repository().to_ascii_lowercase()));
    let mut groups: Vec<(String, Range<usize>)> = Vec::new();
    for (i, p) in ws.projects.iter().enumerate() {
        match groups.last_mut() {
            Some((repository, range)) if p.config.is_in(repository) => range.end = i + 1,
            _ => groups.push((p.config.repository(), i..i + 1)),
        }
    }
    groups
}

/// The token for a repository's projects: the variable the first of them to name one in
/// `pat_env_var_name` holds, else the `github-token` input's. `env` looks a variable up.
pub fn token_for(
    settings: &Settings,
    projects: &[Project],
    env: &dyn Fn(&str) -> Option<String>,
) -> (Token, TokenFrom) {
    let mut unset = None;
    for name in projects.iter().filter_map(|p| p.config.pat_env_var_name.as_deref()) {
        match env(name).filter(|v| !v.trim().is_empty()) {
            Some(value) => return (Token::new(value.trim()), TokenFrom::Variable(name.to_string())),
            None => unset = unset.or_else(|| Some(name.to_string())),
        }
    }
    match unset {
        Some(name) => (settings.token.clone(), TokenFrom::UnsetVariable(name)),
        None => (settings.token.clone(), TokenFrom::Input),
    }
}

/// Reaches `repository` for `projects`: the plan repository's client where the repository
/// and the token are its own, else a new client.
pub fn reach<'g, G>(
    settings: &Settings,
    gh: &'g G,
    connect: &Connect<'_, G>,
    repository: &str,
    projects: Range<usize>,
    all: &[Project],
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<Share<'g, G>> {
    let (token, from) = token_for(settings, &all[projects.clone()], env);
    let own = repository.eq_ignore_ascii_case(&settings.repository) && token.expose() == settings.token.expose();
    let gh = if own { Reach::Plan(gh) } else { Reach::Own(connect(repository, &token)?) };
    Ok(Share { repository: repository.to_string(), projects, gh, token: from })
}

/// The one error for a repository the run could not reach (its milestones could not be read):
/// at the first project's `repo_name` line, naming the projects, the repository, what GitHub
/// answered and the variable or input to set.
pub fn unreachable(
    settings: &Settings,
    repository: &str,
    projects: &[Project],
    token: &TokenFrom,
    error: &anyhow::Error,
) -> Diagnostic {
    let names: Vec<String> = projects.iter().map(|p| format!("`{}`", p.slug)).collect();
    let input = setting_name("github-token", settings.terminal);
    let fix = match token {
        TokenFrom::Variable(v) => format!(
            "the token in `{v}` (the project's `pat_env_var_name`) must reach {repository} with \"Issues: Read and write\": give it access to {repository}, or correct `repo_owner`/`repo_name`"
        ),
        TokenFrom::UnsetVariable(v) => format!(
            "`{v}` (the project's `pat_env_var_name`) is not set, so the token of {input} was used: set `{v}` in the step's `env:` from a secret that holds a token for {repository} (`{v}: ${{{{ secrets.{v} }}}}`)"
        ),
        TokenFrom::Input if repository.eq_ignore_ascii_case(&settings.repository) => {
            format!("the token of {input} must reach {repository} with \"Issues: Read and write\"")
        }
        TokenFrom::Input => format!(
            "the token of {input} was used, and a workflow's own token reaches only its repository ({}): pass a GitHub App token made for both repositories as {input} (actions/create-github-app-token with `repositories:`), or name a variable that holds a token for {repository} in the project's `pat_env_var_name` (docs/workflows.md, \"A plan for several repositories\")",
            settings.repository
        ),
    };
    let why = match error.downcast_ref::<crate::github::GitHubError>() {
        Some(crate::github::GitHubError::NotFound { .. }) => {
            " GitHub answers 404 for a repository the token cannot see, or that does not exist."
        }
        _ => "",
    };
    let first = projects.first();
    let file = first.map(|p| format!("{}/project_config.toml", p.dir));
    // Read again only on this error path: the parsed config keeps no lines.
    let line = file
        .as_deref()
        .and_then(|f| std::fs::read_to_string(settings.workspace.join(f)).ok())
        .and_then(|text| ProjectConfig::key_line(&text, "repo_name"));
    let message = format!(
        "project {} syncs with {repository}, which this run could not reach ({error:#}).{why} Fix: {fix}. Its milestones and files were left as they are; the other projects synced",
        names.join(", ")
    );
    match file {
        Some(file) => Diagnostic::error(&file, line, message),
        None => Diagnostic::general(crate::diagnostic::Level::Error, message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::ProjectConfig;

    fn project(slug: &str, repository: &str, var: Option<&str>) -> Project {
        let (owner, name) = repository.split_once('/').unwrap();
        let var = var.map(|v| format!("pat_env_var_name = \"{v}\"\n")).unwrap_or_default();
        let text = format!(
            "[github_integration]\nenable_sync = true\nrepo_owner = \"{owner}\"\nrepo_name = \"{name}\"\n{var}"
        );
        let config = ProjectConfig::parse("p.toml", &text).unwrap();
        Project { slug: slug.into(), dir: format!(".ruru/projects/{slug}"), config, artifacts: vec![], broken: vec![] }
    }

    #[test]
    fn projects_group_by_repository_with_the_plans_first() {
        let mut ws = Workspace {
            projects: vec![
                project("a-web", "acme/web", None),
                project("b-plan", "acme/roadmap", None),
                project("c-api", "Acme/API", Some("API_PAT")),
                project("d-api", "acme/api", None),
                project("e-plan", "ACME/roadmap", None),
            ],
            ..Workspace::default()
        };
        let groups = group(&mut ws, "acme/Roadmap");
        let slugs: Vec<&str> = ws.projects.iter().map(|p| p.slug.as_str()).collect();
        assert_eq!(slugs, ["b-plan", "e-plan", "c-api", "d-api", "a-web"]);
        assert_eq!(
            groups,
            [("acme/roadmap".to_string(), 0..2), ("Acme/API".to_string(), 2..4), ("acme/web".to_string(), 4..5)]
        );
    }

    #[test]
    fn a_projects_variable_holds_its_token_else_the_inputs() {
        let raw = crate::config::Inputs::from_vars([
            ("GITHUB_REPOSITORY".to_string(), "acme/roadmap".to_string()),
            ("INPUT_GITHUB-TOKEN".to_string(), "input-token".to_string()),
        ]);
        let settings = Settings::from_inputs(&raw).unwrap();
        let env = |name: &str| (name == "API_PAT").then(|| "api-token".to_string());
        let (token, from) = token_for(&settings, &[project("api", "acme/api", Some("API_PAT"))], &env);
        assert_eq!((token.expose(), from), ("api-token", TokenFrom::Variable("API_PAT".into())));
        let (token, from) = token_for(&settings, &[project("web", "acme/web", Some("WEB_PAT"))], &env);
        assert_eq!((token.expose(), from), ("input-token", TokenFrom::UnsetVariable("WEB_PAT".into())));
        let (token, from) = token_for(&settings, &[project("plan", "acme/roadmap", None)], &env);
        assert_eq!((token.expose(), from), ("input-token", TokenFrom::Input));
    }
}
