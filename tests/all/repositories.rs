//! One plan, many repositories: a plan kept in `acme/plan` whose projects name their own
//! repositories. `demo` names the plan's own; `api` names `acme/api`, whose token is in
//! `API_PAT` (the project's `pat_env_var_name`); `web` names `acme/web`, reached with the
//! `github-token` input's token where the test gives it access (a GitHub App token made for
//! both repositories), and unreachable otherwise. Each test checks the milestones in every
//! repository and the bytes of the files at the plan's branch head.

use std::path::Path;

use crate::common::*;
use github_standin::{Config, Repository};
use serde_json::json;

const API_TOKEN: &str = "ghp_api_token_for_acme_api_only";
const WEB_TOKEN: &str = "ghp_web_token_for_acme_web_only";

const DEMO: &str = ".ruru/projects/demo/epics/EPIC-001_alpha.md";
const API: &str = ".ruru/projects/api/epics/EPIC-001_login.md";
const WEB: &str = ".ruru/projects/web/epics/EPIC-001_landing.md";

fn config(owner: &str, name: &str, var: Option<&str>) -> String {
    let var = var.map(|v| format!("auth_method = \"pat_env_var\"\npat_env_var_name = \"{v}\"\n")).unwrap_or_default();
    format!(
        "[github_integration]\nenable_sync = true\nrepo_owner = \"{owner}\"\nrepo_name = \"{name}\"\n{var}\n[github_integration.mapping]\nmilestone_type = \"🗺️ Epic\"\n"
    )
}

fn epic_in(project: &str, id: &str, title: &str) -> String {
    epic(id, title, "🟡 To Do", "").replace("project_name = \"demo\"", &format!("project_name = \"{project}\""))
}

/// The plan repository with the three projects, and the two other repositories on the same
/// stand-in.
struct Plan {
    repo: Repo,
    api: Repository,
    web: Repository,
}

impl Plan {
    /// `web_reachable`: the input's token reaches `acme/web` too (an App token for both).
    fn new(web_reachable: bool) -> Plan {
        let repo = Repo::new(&[]);
        let api = repo.standin.add_repository(other("api", API_TOKEN, repo.dir.path()));
        let web = repo.standin.add_repository(other("web", WEB_TOKEN, repo.dir.path()));
        if web_reachable {
            web.allow_token(TOKEN);
        }
        Plan { repo, api, web }
    }

    /// Commits `files` (workspace-relative) to the plan and pushes; the push's payload.
    fn push(&self, files: &[(&str, Option<&str>)], message: &str) -> String {
        self.repo.push_paths(files, message)
    }

    /// The three projects with one Epic each, all `EPIC-001`, pushed.
    fn push_three(&self) -> String {
        self.push(
            &[
                (".ruru/projects/api/project_config.toml", Some(&config("acme", "api", Some("API_PAT")))),
                (".ruru/projects/web/project_config.toml", Some(&config("acme", "web", None))),
                (DEMO, Some(&epic_in("demo", "EPIC-001", "Alpha"))),
                (API, Some(&epic_in("api", "EPIC-001", "Login"))),
                (WEB, Some(&epic_in("web", "EPIC-001", "Landing page"))),
            ],
            "plan three projects",
        )
    }

    fn run(&self, event: &str, payload: &str) -> Run {
        self.repo.run_with(event, payload, &[], &[("API_PAT", API_TOKEN)])
    }

    /// A file's bytes at the plan's branch head (workspace-relative).
    fn at_head(&self, path: &str) -> Option<String> {
        self.repo.at_head(path)
    }

    fn commits(&self) -> usize {
        git(&self.repo.bare(), &["rev-list", "--count", "main"]).parse().unwrap()
    }

    /// Every write the run made, in each repository.
    fn writes(&self) -> (usize, usize, usize) {
        (self.repo.standin.writes().len(), self.api.writes().len(), self.web.writes().len())
    }

    fn clear(&self) {
        self.repo.standin.clear_requests();
        self.api.clear_requests();
        self.web.clear_requests();
    }
}

/// Another repository on the stand-in, with an empty bare repository behind it.
fn other(name: &str, token: &str, dir: &Path) -> Config {
    let git_dir = dir.join(format!("{name}.git"));
    git(dir, &["init", "-q", "--bare", "-b", "main", git_dir.to_str().unwrap()]);
    Config { owner: OWNER.into(), repo: name.into(), token: token.into(), default_branch: "main".into(), git_dir }
}

fn link(path_text: &str) -> Option<String> {
    path_text
        .lines()
        .find_map(|l| l.strip_prefix("related_milestone = \""))
        .map(|rest| rest.trim_end_matches('"').to_string())
}

/// Three projects on three repositories, first import: one milestone in each repository,
/// each file linking its own repository's milestone, one commit for all of them.
#[test]
fn a_first_import_makes_each_projects_milestone_in_its_own_repository() {
    let plan = Plan::new(true);
    let payload = plan.push_three();
    let commits = plan.commits();
    let run = plan.run("push", &payload);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);

    for (repository, milestones, title, path) in [
        ("plan", plan.repo.standin.milestones(), "Alpha", DEMO),
        ("api", plan.api.milestones(), "Login", API),
        ("web", plan.web.milestones(), "Landing page", WEB),
    ] {
        assert_eq!(milestones.len(), 1, "{repository}: {milestones:?}");
        let m = &milestones[0];
        assert_eq!((m.number, m.title.as_str()), (1, title), "numbers are per repository");
        assert!(m.description.as_deref().unwrap_or_default().contains("IntelliManage-ID: EPIC-001"));
        let file = plan.at_head(path).unwrap();
        assert_eq!(link(&file).as_deref(), Some(format!("https://github.com/acme/{repository}/milestone/1").as_str()));
    }
    assert_eq!(plan.commits(), commits + 1, "one commit carries the links of every project");
    assert!(run.summary.contains("acme/api") && run.summary.contains("acme/web"), "{}", run.summary);
    assert_eq!(run.output("errors").as_deref(), Some("0"));

    // A second reconcile writes nothing anywhere.
    plan.repo.pull();
    plan.clear();
    let run = plan.run("workflow_dispatch", "{}");
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(plan.writes(), (0, 0, 0), "{}", run.stdout);
}

/// A push that edits one project's Epic writes to that project's repository only.
#[test]
fn an_editing_push_updates_the_milestone_in_the_projects_repository() {
    let plan = Plan::new(true);
    let run = plan.run("push", &plan.push_three());
    assert_eq!(run.code(), 0, "{}", run.stdout);
    plan.repo.pull();
    let before = plan.at_head(API).unwrap();
    plan.clear();
    let edited = before.replace("title = \"Login\"", "title = \"Login with passkeys\"");
    let payload = plan.push(&[(API, Some(&edited))], "rename the login epic");
    let run = plan.run("push", &payload);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(plan.api.milestones()[0].title, "Login with passkeys");
    assert_eq!(plan.repo.standin.milestones()[0].title, "Alpha");
    assert_eq!(plan.web.milestones()[0].title, "Landing page");
    assert_eq!(plan.web.writes().len(), 0);
    let patches: Vec<_> = plan.api.writes().into_iter().filter(|w| w.method == "PATCH").collect();
    assert_eq!(patches.len(), 1, "{patches:?}");
}

/// A milestone renamed in `acme/api` reaches the plan by a forwarded `repository_dispatch`,
/// and, without one, by the next scheduled run.
#[test]
fn a_rename_on_github_in_another_repository_flows_into_the_plan() {
    for event in ["repository_dispatch", "schedule"] {
        let plan = Plan::new(true);
        let run = plan.run("push", &plan.push_three());
        assert_eq!(run.code(), 0, "{}", run.stdout);
        plan.repo.pull();
        let before = plan.at_head(API).unwrap();
        let web_before = plan.at_head(WEB);
        let head = plan.repo.head();
        plan.api.edit_milestone(1, |m| m.title = "Sign-in".into());
        plan.clear();
        let payload = match event {
            "repository_dispatch" => {
                let mut forwarded: serde_json::Value = serde_json::from_str(&plan.repo.milestone_event_for(
                    "edited",
                    milestone_json(&plan.api, 1),
                    json!({"title": {"from": "Login"}}),
                ))
                .unwrap();
                forwarded["repository"]["full_name"] = "acme/api".into();
                forwarded["repository"]["name"] = "api".into();
                forwarded["repository"]["default_branch"] = "trunk".into();
                json!({
                    "action": "milestone",
                    "branch": "main",
                    "client_payload": forwarded,
                    "repository": {"full_name": "acme/plan", "name": "plan", "default_branch": "main", "fork": false},
                })
                .to_string()
            }
            _ => json!({"schedule": "17 * * * *"}).to_string(),
        };
        let run = plan.run(event, &payload);
        assert_eq!(run.code(), 0, "{event}: {}\n{}", run.stdout, run.stderr);
        let after = plan.at_head(API).unwrap();
        assert!(after.contains("title = \"Sign-in\""), "{event}: {after}");
        assert_eq!(git(&plan.repo.bare(), &["rev-parse", "main^"]), head, "{event}: one commit on top");
        let changed = differing_lines(&before, &after);
        assert!(
            changed.iter().all(|(old, _)| old.starts_with("title")
                || old.starts_with("updated_date")
                || old.starts_with("milestone_sync_base")),
            "{event}: {changed:?}"
        );
        assert_eq!(plan.at_head(WEB), web_before, "{event}: untouched");
        if event == "repository_dispatch" {
            assert!(plan.web.requests().is_empty(), "a forwarded event reads its repository only");
            assert!(
                plan.repo.standin.requests().iter().all(|r| !r.path.contains("/milestones")),
                "nor the plan's milestones"
            );
        }
    }
}

/// A project whose repository the token cannot reach fails alone, with one error that names
/// the project, the repository and what to set; the others sync and commit.
#[test]
fn a_project_without_a_token_that_reaches_its_repository_fails_alone() {
    let plan = Plan::new(false);
    let run = plan.run("push", &plan.push_three());
    assert_eq!(run.code(), 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(plan.web.milestones().len(), 0);
    assert_eq!(plan.api.milestones().len(), 1);
    assert_eq!(plan.repo.standin.milestones().len(), 1);
    assert!(link(&plan.at_head(API).unwrap()).is_some());
    assert!(link(&plan.at_head(DEMO).unwrap()).is_some());
    assert_eq!(link(&plan.at_head(WEB).unwrap()), None, "left as it was");
    let errors: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("::error")).collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let error = errors[0];
    for part in [
        "file=.ruru/projects/web/project_config.toml",
        "line=4",
        "`web`",
        "acme/web",
        "github-token",
        "pat_env_var_name",
    ] {
        assert!(error.contains(part), "{part}: {error}");
    }
    assert_eq!(run.output("errors").as_deref(), Some("1"));
    // Not retried as a fault: one request to acme/web, answered 404.
    let web = plan.web.requests();
    assert_eq!(web.len(), 1, "{web:?}");
    assert_eq!(web[0].status, 404);
}

/// A variable that `pat_env_var_name` names but the workflow did not set is said as such.
#[test]
fn an_unset_token_variable_is_named() {
    let plan = Plan::new(false);
    let run = plan.repo.run("push", &plan.push_three(), &[]);
    assert_eq!(run.code(), 1);
    let error = run.stdout.lines().find(|l| l.starts_with("::error") && l.contains("acme/api")).unwrap_or_default();
    assert!(error.contains("`API_PAT`") && error.contains("is not set"), "{}", run.stdout);
    assert_eq!(plan.repo.standin.milestones().len(), 1, "the plan's own project synced");
}

/// A run in a fork of the plan repository never writes to another repository.
#[test]
fn a_run_in_a_fork_writes_nowhere_else() {
    let plan = Plan::new(true);
    let mut payload: serde_json::Value = serde_json::from_str(&plan.push_three()).unwrap();
    payload["repository"]["fork"] = true.into();
    let run = plan.run("push", &payload.to_string());
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert!(plan.api.requests().is_empty() && plan.web.requests().is_empty(), "not even read");
    assert_eq!(plan.repo.standin.milestones().len(), 1, "its own repository's project syncs");
    let notices: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("::notice") && l.contains("fork")).collect();
    assert_eq!(notices.len(), 1, "{}", run.stdout);
    assert!(notices[0].contains("`api` (acme/api)") && notices[0].contains("`web` (acme/web)"), "{}", notices[0]);

    // Without `repository.fork` in the payload (a schedule), the repository API tells.
    plan.repo.standin.set_fork(true);
    plan.repo.pull();
    let run = plan.run("schedule", "{}");
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert!(plan.api.requests().is_empty() && plan.web.requests().is_empty());
}

/// Two projects on the plan's own repository sync as they always did: one list read, each
/// artifact its milestone.
#[test]
fn two_projects_on_one_repository_sync_as_before() {
    let repo = Repo::new(&[]);
    let ws = repo.workspace();
    write(&ws.join(".ruru/projects/ops/project_config.toml"), &config("acme", "plan", None));
    write(&ws.join(".ruru/projects/ops/epics/EPIC-001_ops.md"), &epic_in("ops", "EPIC-001", "Ops"));
    let payload = repo.push(&[("epics/EPIC-001_alpha.md", Some(&epic("EPIC-001", "Alpha", "🟡 To Do", "")))], "two");
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    let mut titles: Vec<String> = repo.milestones().into_iter().map(|m| m.title).collect();
    titles.sort();
    assert_eq!(titles, ["Alpha", "Ops"]);
    let lists = repo.standin.requests().iter().filter(|r| r.method == "GET" && r.path.ends_with("/milestones")).count();
    assert_eq!(lists, 1);
}

/// A link into another repository than the project names is an error with the fix.
#[test]
fn a_link_into_another_repository_is_refused() {
    let plan = Plan::new(true);
    let mut payload = plan.push_three();
    let run = plan.run("push", &payload);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    plan.repo.pull();
    let api = plan.at_head(API).unwrap();
    let wrong = api.replace("https://github.com/acme/api/milestone/1", "https://github.com/acme/web/milestone/1");
    payload = plan.push(&[(API, Some(&wrong))], "point api at web");
    plan.clear();
    let run = plan.run("push", &payload);
    assert_eq!(run.code(), 1, "{}", run.stdout);
    let error =
        run.stdout.lines().find(|l| l.starts_with("::error") && l.contains("EPIC-001_login.md")).unwrap_or_default();
    assert!(error.contains("is not a milestone URL of acme/api"), "{}", run.stdout);
    assert!(plan.web.writes().is_empty() && plan.api.writes().is_empty());
}

fn milestone_json(repository: &Repository, number: u64) -> serde_json::Value {
    repository.milestones_json().as_array().unwrap().iter().find(|m| m["number"] == number).cloned().unwrap()
}

/// A token that can read a project's repository but not write its milestones (403) stops
/// that repository's changes only, with one error; the other repositories' changes are made
/// and the plan's commit carries their links.
#[test]
fn a_missing_permission_in_one_repository_stops_only_its_changes() {
    let plan = Plan::new(true);
    plan.api.set_read_only(true);
    let more = epic_in("api", "EPIC-002", "Logout");
    let payload = plan.push_three();
    let payload2 = plan.push(&[(".ruru/projects/api/epics/EPIC-002_logout.md", Some(&more))], "a second api epic");
    let _ = payload;
    let run = plan.run("push", &payload2);
    assert_eq!(run.code(), 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(plan.api.milestones().len(), 0);
    assert_eq!((plan.repo.standin.milestones().len(), plan.web.milestones().len()), (1, 1));
    assert!(link(&plan.at_head(WEB).unwrap()).is_some() && link(&plan.at_head(DEMO).unwrap()).is_some());
    assert_eq!(link(&plan.at_head(API).unwrap()), None);
    let posts = plan.api.requests().iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts, 1, "the first refusal stops acme/api: its second create is not sent");
    let errors: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("::error")).collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].contains("the run stopped for acme/api")
            && errors[0].contains("other repositories went on")
            && errors[0].contains("lacks \"Issues: Read and write\" there")
            && !errors[0].contains("under `permissions:`"),
        "{}",
        errors[0]
    );
    assert!(run.summary.contains("not attempted"), "{}", run.summary);
}

/// A plan repository whose only project names another repository: the milestones are made
/// there, never in the plan's repository, and the link commit lands in the plan's.
#[test]
fn a_plan_whose_only_project_names_another_repository_writes_milestones_there_only() {
    let repo = Repo::new(&[]);
    let api = repo.standin.add_repository(other("api", API_TOKEN, repo.dir.path()));
    // The demo project (acme/plan) turned into one that names acme/api.
    let api_config = config("acme", "api", Some("API_PAT"));
    let alpha = epic("EPIC-001", "Alpha", "🟡 To Do", "");
    let payload =
        repo.push(&[("project_config.toml", Some(&api_config)), ("epics/EPIC-001_alpha.md", Some(&alpha))], "plan");
    let run = repo.run_with("push", &payload, &[], &[("API_PAT", API_TOKEN)]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(api.milestones().len(), 1, "{}", run.stdout);
    assert!(repo.standin.milestones().is_empty(), "nothing written to the plan's milestones");
    assert!(repo.standin.writes().iter().all(|w| !w.path.contains("/milestones")), "{:?}", repo.standin.writes());
    let file = repo.file_at_head("epics/EPIC-001_alpha.md").unwrap();
    assert_eq!(link(&file).as_deref(), Some("https://github.com/acme/api/milestone/1"));
}
