//! The world a scenario runs in: a workspace (a git clone) with N generated Epics, the bare
//! repository "GitHub" serves, the stand-in in front of it, and the runner's environment
//! for the real binary.

use std::path::{Path, PathBuf};
use std::process::Command;

use github_standin::{Config, StandIn};

pub(crate) const OWNER: &str = "acme";
pub(crate) const REPO: &str = "plan";
pub(crate) const REPOSITORY: &str = "acme/plan";
pub(crate) const TOKEN: &str = "ghs_bench_token_0123456789";
pub(crate) const ROOT: &str = ".ruru/projects";
pub(crate) const PROJECT_DIR: &str = ".ruru/projects/bench";

const PROJECT_CONFIG: &str = r#"# Benchmark project
[github_integration]
enable_sync = true
repo_owner = "acme"
repo_name = "plan"
auth_method = "pat"

[github_integration.mapping]
milestone_type = "🗺️ Epic"
sync_milestone_due_date = true
"#;

// Real payloads (@octokit/webhooks-examples 7.6.1, MIT; see tests/fixtures/webhooks).
const PUSH_TEMPLATE: &str = include_str!("../../tests/fixtures/webhooks/push.example.5.json");
const MILESTONE_TEMPLATE: &str = include_str!("../../tests/fixtures/webhooks/milestone.closed.1.json");
const DISPATCH_TEMPLATE: &str = include_str!("../../tests/fixtures/webhooks/workflow_dispatch.example.1.json");

/// Runs git in `dir` and returns its trimmed stdout; panics on failure (a broken fixture
/// must not turn into figures).
pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Dev")
        .env("GIT_AUTHOR_EMAIL", "dev@example.com")
        .env("GIT_COMMITTER_NAME", "Dev")
        .env("GIT_COMMITTER_EMAIL", "dev@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("git prints UTF-8").trim_end().to_string()
}

/// Project-relative path of Epic `i`.
pub(crate) fn epic_path(i: usize) -> String {
    format!("epics/EPIC-{i:05}_workstream-{i}.md")
}

pub(crate) fn epic_title(i: usize) -> String {
    format!("Workstream {i:05}: {}", WORDS[i % WORDS.len()])
}

const WORDS: [&str; 8] = [
    "offline mode and sync",
    "billing overhaul",
    "search relevance",
    "onboarding flow",
    "audit logging",
    "mobile release train",
    "data retention policy",
    "accessibility pass",
];

/// An Epic shaped like the real ones (tests/fixtures/intellimanage): comments, a commented-out
/// key, an array, a Description and more sections; about 2 KB. Every tenth is Done, two in
/// three carry a target date.
pub(crate) fn epic(i: usize) -> String {
    let title = epic_title(i);
    let status = match i % 10 {
        0 => "🟢 Done",
        1..=3 => "🔵 In Progress",
        4..=6 => "🟡 To Do",
        _ => "⚪️ Planned",
    };
    let date = if i % 3 == 2 {
        String::from("# target_date = \"YYYY-MM-DD\"\n")
    } else {
        format!("target_date = \"2027-{:02}-{:02}\" # agreed at planning\n", 1 + i % 12, 1 + i % 28)
    };
    let mut criteria = String::new();
    for c in 0..6 {
        criteria.push_str(&format!(
            "*   - [ ] Criterion {c} of workstream {i}: the behaviour is specified, implemented, tested and documented.\n"
        ));
    }
    format!(
        "+++\n# --- Epic Metadata ---\nid = \"EPIC-{i:05}\"\ntitle = \"{title}\"\nstatus = \"{status}\"\ntype = \"🗺️ Epic\"\n\
         created_date = \"2026-01-05\" # Use current date\nupdated_date = \"2026-01-05\" # Use current date\n\
         project_name = \"bench\" # Meta-project\n# owner = \"Platform Team\"\npriority = \"🔼 High\"\n\
         tags = [\"bench\", \"workstream\", \"q{}\"] # planning tags\n{date}# milestone_name = \"v1\"\n+++\n\n\
         # EPIC: {title}\n\n## Description ✍️\n\n\
         This Epic covers workstream {i}: the design, implementation, testing and documentation of \
         {}. It includes the data model, the user-facing flows, the migration of existing records, \
         and the operational runbooks the on-call team needs.\n\n\
         A second paragraph explains the constraints: budget, the teams involved, the external \
         dependencies and the dates that cannot move.\n\n\
         ## Acceptance Criteria ✅\n\n{criteria}\n## Related Features 📜\n\n\
         *   `FEAT-{i:05}-1`: Core data structures\n*   `FEAT-{i:05}-2`: User interface\n",
        1 + i % 4,
        WORDS[i % WORDS.len()],
    )
}

/// One generated repository with the stand-in serving it.
pub(crate) struct World {
    pub dir: tempfile::TempDir,
    pub standin: StandIn,
    pub n: usize,
    /// The `write-delay-ms` input runs get (the action's default is 750).
    pub write_delay_ms: u64,
}

impl World {
    /// A repository whose first commit holds the project and `n` Epics, pushed to the bare
    /// repository behind the stand-in; the workspace is a clone at that commit.
    pub(crate) fn new(n: usize) -> World {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let bare = dir.path().join("remote.git");
        let ws = dir.path().join("workspace");
        git(dir.path(), &["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()]);
        git(dir.path(), &["init", "-q", "-b", "main", ws.to_str().unwrap()]);
        git(&ws, &["remote", "add", "origin", bare.to_str().unwrap()]);
        write(&ws.join(PROJECT_DIR).join("project_config.toml"), PROJECT_CONFIG);
        write(&ws.join("README.md"), "# plan\n");
        for i in 1..=n {
            write(&ws.join(PROJECT_DIR).join(epic_path(i)), &epic(i));
        }
        git(&ws, &["add", "-A"]);
        git(&ws, &["commit", "-qm", "initial plan"]);
        git(&ws, &["push", "-q", "origin", "main"]);
        let standin = StandIn::start(Config {
            owner: OWNER.into(),
            repo: REPO.into(),
            token: TOKEN.into(),
            default_branch: "main".into(),
            git_dir: bare,
        });
        // GitHub gives a token 5,000 requests an hour (GITHUB_TOKEN 1,000 per repository): a
        // first import of more artifacts stops cleanly and a later run goes on. The bench
        // measures what one run costs, so the stand-in's window is wide enough for any N.
        standin.set_rate_limit(100_000_000, std::time::Duration::from_secs(3600));
        World { dir, standin, n, write_delay_ms: 0 }
    }

    pub(crate) fn workspace(&self) -> PathBuf {
        self.dir.path().join("workspace")
    }

    /// Brings the workspace to the head of `main`, as the next checkout would.
    pub(crate) fn pull(&self) {
        git(&self.workspace(), &["fetch", "-q", "origin"]);
        git(&self.workspace(), &["reset", "-q", "--hard", "origin/main"]);
    }

    /// A file's bytes in the workspace (project-relative path).
    pub(crate) fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.workspace().join(PROJECT_DIR).join(path)).expect("the artifact exists")
    }

    /// Commits new contents of project-relative files and pushes them; returns the push
    /// payload.
    pub(crate) fn push(&self, changes: &[(String, String)], message: &str) -> String {
        self.pull();
        let ws = self.workspace();
        let before = git(&ws, &["rev-parse", "HEAD"]);
        for (path, content) in changes {
            write(&ws.join(PROJECT_DIR).join(path), content);
        }
        git(&ws, &["add", "-A"]);
        git(&ws, &["commit", "-qm", message]);
        git(&ws, &["push", "-q", "origin", "main"]);
        let after = git(&ws, &["rev-parse", "HEAD"]);
        let mut v: serde_json::Value = serde_json::from_str(PUSH_TEMPLATE).expect("the push template parses");
        v["ref"] = "refs/heads/main".into();
        v["before"] = before.into();
        v["after"] = after.into();
        v["created"] = false.into();
        v["forced"] = false.into();
        set_repository(&mut v);
        v.to_string()
    }

    /// A `workflow_dispatch` payload on main.
    pub(crate) fn dispatch(&self) -> String {
        let mut v: serde_json::Value = serde_json::from_str(DISPATCH_TEMPLATE).expect("the dispatch template parses");
        v["ref"] = "refs/heads/main".into();
        set_repository(&mut v);
        v.to_string()
    }

    /// The payload of `milestone.<action>` for milestone `number` as the stand-in holds it now.
    pub(crate) fn milestone_event(&self, action: &str, number: u64, changes: serde_json::Value) -> String {
        let milestone = self
            .standin
            .milestones_json()
            .as_array()
            .expect("an array")
            .iter()
            .find(|m| m["number"] == number)
            .cloned()
            .expect("the milestone exists");
        let mut v: serde_json::Value = serde_json::from_str(MILESTONE_TEMPLATE).expect("the milestone template parses");
        v["action"] = action.into();
        v["milestone"] = milestone;
        if action == "edited" {
            v["changes"] = changes;
        }
        set_repository(&mut v);
        v.to_string()
    }

    /// The environment a runner gives the action for `event`, with the payload written to a
    /// file. The binary must be spawned with exactly these variables.
    pub(crate) fn runner_env(&self, event: &str, payload: &str, api_url: &str) -> Vec<(String, String)> {
        let tmp = self.dir.path().join("runner");
        std::fs::create_dir_all(&tmp).expect("runner dir");
        let event_path = tmp.join("event.json");
        std::fs::write(&event_path, payload).expect("event payload written");
        let output = tmp.join("output.txt");
        let summary = tmp.join("summary.md");
        let _ = std::fs::remove_file(&output);
        let _ = std::fs::remove_file(&summary);
        let sha = git(&self.workspace(), &["rev-parse", "HEAD"]);
        let path = |p: &Path| p.to_string_lossy().into_owned();
        let mut env = vec![
            ("PATH".to_string(), std::env::var("PATH").unwrap_or_default()),
            ("HOME".to_string(), path(self.dir.path())),
            ("GITHUB_ACTIONS".to_string(), "true".to_string()),
            ("CI".to_string(), "true".to_string()),
            ("GITHUB_API_URL".to_string(), api_url.to_string()),
            ("GITHUB_REPOSITORY".to_string(), REPOSITORY.to_string()),
            ("GITHUB_EVENT_NAME".to_string(), event.to_string()),
            ("GITHUB_EVENT_PATH".to_string(), path(&event_path)),
            ("GITHUB_WORKSPACE".to_string(), path(&self.workspace())),
            ("GITHUB_REF".to_string(), "refs/heads/main".to_string()),
            ("GITHUB_SHA".to_string(), sha),
            ("GITHUB_OUTPUT".to_string(), path(&output)),
            ("GITHUB_STEP_SUMMARY".to_string(), path(&summary)),
        ];
        // The runner sets every declared input, defaults included, hyphens kept.
        for milestone_sync::config::InputSpec { name, default, .. } in milestone_sync::config::INPUTS {
            env.push((format!("INPUT_{}", name.to_uppercase()), default.to_string()));
        }
        env.push(("INPUT_GITHUB-TOKEN".to_string(), TOKEN.to_string()));
        env.push(("INPUT_WRITE-DELAY-MS".to_string(), self.write_delay_ms.to_string()));
        env
    }
}

fn set_repository(v: &mut serde_json::Value) {
    v["repository"]["default_branch"] = "main".into();
    v["repository"]["master_branch"] = "main".into();
    v["repository"]["full_name"] = REPOSITORY.into();
    v["repository"]["name"] = REPO.into();
}

pub(crate) fn write(path: &Path, content: &str) {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("directories");
    std::fs::write(path, content).expect("file written");
}
