//! Test harness: a repository with IntelliManage files, pushed to a bare repository that the
//! GitHub stand-in serves, and the real binary run through the environment a runner gives a
//! Docker action.

pub(crate) mod scenario;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use github_standin::{Config, MilestoneRecord, RequestRecord, StandIn};

pub(crate) mod pull_request;

pub(crate) const OWNER: &str = "acme";
pub(crate) const REPO: &str = "plan";
pub(crate) const TOKEN: &str = "ghs_test_token_never_printed_0123456789";
pub(crate) const PROJECT_DIR: &str = ".ruru/projects/demo";

pub(crate) const PROJECT_CONFIG: &str = r#"# Demo project
[github_integration]
enable_sync = true
repo_owner = "acme"
repo_name = "plan"
auth_method = "pat"

[github_integration.mapping]
milestone_type = "🗺️ Epic"
sync_milestone_due_date = true
"#;

/// A real push payload (@octokit/webhooks-examples, MIT), with our repository's values.
const PUSH_TEMPLATE: &str = include_str!("../../fixtures/webhooks/push.example.5.json");

pub(crate) struct Repo {
    pub dir: tempfile::TempDir,
    pub standin: StandIn,
}

/// What one run of the binary left behind.
pub(crate) struct Run {
    pub output: Output,
    pub stdout: String,
    pub stderr: String,
    pub summary: String,
    pub outputs: String,
}

impl Run {
    pub(crate) fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }
    pub(crate) fn output(&self, name: &str) -> Option<String> {
        let mut lines = self.outputs.lines();
        while let Some(line) = lines.next() {
            if let Some(v) = line.strip_prefix(&format!("{name}=")) {
                return Some(v.to_string());
            }
            if let Some(delim) = line.strip_prefix(&format!("{name}<<")) {
                let mut value = Vec::new();
                for l in lines.by_ref() {
                    if l == delim {
                        break;
                    }
                    value.push(l);
                }
                return Some(value.join("\n"));
            }
        }
        None
    }
}

pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Dev")
        .env("GIT_AUTHOR_EMAIL", "dev@example.com")
        .env("GIT_COMMITTER_NAME", "Dev")
        .env("GIT_COMMITTER_EMAIL", "dev@example.com")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim_end().to_string()
}

/// Alpha (`EPIC-001`, 🟡 To Do, due 2026-05-23, at `epics/EPIC-001_alpha.md`) and Beta
/// (`EPIC-002`, `beta_status`, at `epics/EPIC-002_beta.md`) pushed in one commit and synced
/// by that push's run, which must succeed. The workspace stays at the pushed commit: `pull`
/// brings it to the sync's commit with the links.
pub(crate) fn two_epics_synced(beta_status: &str) -> Repo {
    let repo = Repo::new(&[]);
    let payload = repo.push(
        &[
            ("epics/EPIC-001_alpha.md", Some(&epic("EPIC-001", "Alpha", "🟡 To Do", "target_date = \"2026-05-23\"\n"))),
            ("epics/EPIC-002_beta.md", Some(&epic("EPIC-002", "Beta", beta_status, ""))),
        ],
        "plan two epics",
    );
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    repo
}

impl Repo {
    /// A repository whose first commit holds the project config and `files` (paths relative
    /// to the project folder), pushed to the stand-in's bare repository. The workspace is a
    /// clone at that commit.
    pub(crate) fn new(files: &[(&str, &str)]) -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let bare = dir.path().join("remote.git");
        let ws = dir.path().join("workspace");
        git(dir.path(), &["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()]);
        git(dir.path(), &["init", "-q", "-b", "main", ws.to_str().unwrap()]);
        git(&ws, &["remote", "add", "origin", bare.to_str().unwrap()]);
        write(&ws.join(PROJECT_DIR).join("project_config.toml"), PROJECT_CONFIG);
        write(&ws.join("README.md"), "# plan\n");
        for (path, content) in files {
            write(&ws.join(PROJECT_DIR).join(path), content);
        }
        git(&ws, &["add", "-A"]);
        git(&ws, &["commit", "-qm", "initial plan"]);
        git(&ws, &["push", "-q", "origin", "main"]);
        Repo { dir, standin: start_standin(bare) }
    }

    pub(crate) fn workspace(&self) -> PathBuf {
        self.dir.path().join("workspace")
    }

    pub(crate) fn bare(&self) -> PathBuf {
        self.dir.path().join("remote.git")
    }

    /// The head of `main` on the "GitHub" side.
    pub(crate) fn head(&self) -> String {
        git(&self.bare(), &["rev-parse", "main"])
    }

    /// A file's bytes at the head of `main` on the "GitHub" side (project-relative path).
    pub(crate) fn file_at_head(&self, path: &str) -> Option<String> {
        self.at_head(&format!("{PROJECT_DIR}/{path}"))
    }

    /// A file's bytes at the head of `main` on the "GitHub" side (workspace-relative path).
    pub(crate) fn at_head(&self, path: &str) -> Option<String> {
        let out = Command::new("git")
            .arg("--git-dir")
            .arg(self.bare())
            .args(["show", &format!("main:{path}")])
            .output()
            .unwrap();
        out.status.success().then(|| String::from_utf8(out.stdout).unwrap())
    }

    /// Brings the workspace to the head of `main`, as the next checkout would.
    pub(crate) fn pull(&self) {
        git(&self.workspace(), &["fetch", "-q", "origin"]);
        git(&self.workspace(), &["reset", "-q", "--hard", "origin/main"]);
    }

    /// Commits changes (project-relative path, Some(content) or None to remove) and pushes;
    /// returns the push event payload.
    pub(crate) fn push(&self, changes: &[(&str, Option<&str>)], message: &str) -> String {
        let paths: Vec<String> = changes.iter().map(|(path, _)| format!("{PROJECT_DIR}/{path}")).collect();
        let changes: Vec<(&str, Option<&str>)> =
            paths.iter().zip(changes).map(|(path, (_, content))| (path.as_str(), *content)).collect();
        self.push_paths(&changes, message)
    }

    /// Like [`Repo::push`], with workspace-relative paths (files of any project).
    pub(crate) fn push_paths(&self, changes: &[(&str, Option<&str>)], message: &str) -> String {
        self.pull();
        let ws = self.workspace();
        let before = git(&ws, &["rev-parse", "HEAD"]);
        for (path, content) in changes {
            let full = ws.join(path);
            match content {
                Some(c) => write(&full, c),
                None => std::fs::remove_file(&full).unwrap(),
            }
        }
        git(&ws, &["add", "-A"]);
        git(&ws, &["commit", "-qm", message]);
        git(&ws, &["push", "-q", "origin", "main"]);
        let after = git(&ws, &["rev-parse", "HEAD"]);
        with_commits(&push_payload(&before, &after), &ws)
    }

    /// Commits `readme` as the repository's README (outside every project) and pushes;
    /// returns the push event payload.
    pub(crate) fn push_outside(&self, readme: &str) -> String {
        self.pull();
        let ws = self.workspace();
        let before = git(&ws, &["rev-parse", "HEAD"]);
        write(&ws.join("README.md"), readme);
        git(&ws, &["add", "-A"]);
        git(&ws, &["commit", "-qm", "docs"]);
        git(&ws, &["push", "-q", "origin", "main"]);
        let after = git(&ws, &["rev-parse", "HEAD"]);
        with_commits(&push_payload(&before, &after), &ws)
    }

    /// Runs the binary as the action, for `event` with `payload`, with extra inputs.
    pub(crate) fn run(&self, event: &str, payload: &str, inputs: &[(&str, &str)]) -> Run {
        self.run_with(event, payload, inputs, &[])
    }

    /// Like [`Repo::run`], with no `git` the binary could find: its `PATH` is an empty folder,
    /// as in the container image (the test itself still uses git).
    pub(crate) fn run_without_git(&self, event: &str, payload: &str, inputs: &[(&str, &str)]) -> Run {
        let path = self.no_git_path();
        self.run_with(event, payload, inputs, &[("PATH", &path)])
    }

    /// An empty folder, to be the binary's whole `PATH`: no git on it.
    pub(crate) fn no_git_path(&self) -> String {
        let dir = self.dir.path().join("no-git-bin");
        std::fs::create_dir_all(&dir).unwrap();
        dir.to_str().unwrap().to_string()
    }

    /// Like [`Repo::run`], with runner variables set or replaced (`GITHUB_REF`, …).
    pub(crate) fn run_with_env(
        &self,
        event: &str,
        payload: &str,
        inputs: &[(&str, &str)],
        env: &[(&str, &str)],
    ) -> Run {
        self.run_with(event, payload, inputs, env)
    }

    /// Like [`Repo::run`], with extra environment variables (e.g. `MILESTONE_SYNC_LOG`).
    pub(crate) fn run_with(&self, event: &str, payload: &str, inputs: &[(&str, &str)], env: &[(&str, &str)]) -> Run {
        let (mut cmd, files) = self.command(event, payload, inputs);
        cmd.envs(env.iter().copied());
        let run = finish(cmd.output().expect("the binary runs"), &files);
        self.assert_one_user_agent_each();
        run
    }

    /// Every request the stand-in saw carried exactly one `User-Agent` line: HTTP allows one,
    /// and octocrab's default client (not used) adds its own beside ours.
    pub(crate) fn assert_one_user_agent_each(&self) {
        for request in self.standin.requests() {
            assert_eq!(request.user_agents.len(), 1, "{} {}: {:?}", request.method, request.path, request.user_agents);
        }
    }

    /// The command that runs the binary as the action (not started), and where its runner
    /// files will be: for tests that start it themselves, then pass its output to [`finish`].
    ///
    /// Besides the runner's variables and every declared input, it sets
    /// `INPUT_WRITE-DELAY-MS=0` and `MILESTONE_SYNC_RETRY_BASE_MS=1` (no pause between
    /// writes, millisecond retry backoff) so that tests run fast; `inputs` may override them.
    pub(crate) fn command(&self, event: &str, payload: &str, inputs: &[(&str, &str)]) -> (Command, RunnerFiles) {
        let tmp = self.dir.path().join("runner");
        std::fs::create_dir_all(&tmp).unwrap();
        let event_path = tmp.join("event.json");
        let files = RunnerFiles { output: tmp.join("output.txt"), summary: tmp.join("summary.md") };
        std::fs::write(&event_path, payload).unwrap();
        let _ = std::fs::remove_file(&files.output);
        let _ = std::fs::remove_file(&files.summary);
        let sha = git(&self.workspace(), &["rev-parse", "HEAD"]);
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_milestone-sync"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("GITHUB_ACTIONS", "true")
            .env("CI", "true")
            .env("GITHUB_API_URL", self.standin.api_url())
            .env("GITHUB_REPOSITORY", format!("{OWNER}/{REPO}"))
            .env("GITHUB_EVENT_NAME", event)
            .env("GITHUB_EVENT_PATH", &event_path)
            .env("GITHUB_WORKSPACE", self.workspace())
            .env("GITHUB_REF", "refs/heads/main")
            .env("GITHUB_SHA", sha)
            .env("GITHUB_OUTPUT", &files.output)
            .env("GITHUB_STEP_SUMMARY", &files.summary)
            .env("MILESTONE_SYNC_RETRY_BASE_MS", "1");
        // The runner sets every declared input, defaults included, hyphens kept.
        for milestone_sync::config::InputSpec { name, default, .. } in milestone_sync::config::INPUTS {
            cmd.env(format!("INPUT_{}", name.to_uppercase()), default);
        }
        cmd.env("INPUT_GITHUB-TOKEN", TOKEN);
        cmd.env("INPUT_WRITE-DELAY-MS", "0");
        for (name, value) in inputs {
            cmd.env(format!("INPUT_{}", name.to_uppercase()), value);
        }
        (cmd, files)
    }

    pub(crate) fn milestones(&self) -> Vec<MilestoneRecord> {
        self.standin.milestones()
    }

    pub(crate) fn writes(&self) -> Vec<RequestRecord> {
        self.standin.writes()
    }
}

/// Where a run of the binary writes its runner files.
pub(crate) struct RunnerFiles {
    pub output: PathBuf,
    pub summary: PathBuf,
}

/// What a finished run left behind; fails the test if the token shows in any of it.
pub(crate) fn finish(output: Output, files: &RunnerFiles) -> Run {
    let run = Run {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        summary: std::fs::read_to_string(&files.summary).unwrap_or_default(),
        outputs: std::fs::read_to_string(&files.output).unwrap_or_default(),
        output,
    };
    for text in [&run.stdout, &run.stderr, &run.summary, &run.outputs] {
        assert!(!text.contains(TOKEN), "the token leaked into the output:\n{text}");
    }
    run
}

pub(crate) fn write(path: &Path, content: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

pub(crate) fn push_payload(before: &str, after: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(PUSH_TEMPLATE).unwrap();
    v["ref"] = "refs/heads/main".into();
    v["before"] = before.into();
    v["after"] = after.into();
    v["created"] = false.into();
    v["forced"] = false.into();
    v["repository"]["default_branch"] = "main".into();
    v["repository"]["master_branch"] = "main".into();
    v["repository"]["full_name"] = format!("{OWNER}/{REPO}").into();
    v["repository"]["name"] = REPO.into();
    v.to_string()
}

/// `payload` with `commits` and `head_commit` as GitHub fills them for the push of
/// `before..after` in the checkout `ws`: each commit's id, committer time and the files it
/// added, modified and removed, oldest first.
pub(crate) fn with_commits(payload: &str, ws: &Path) -> String {
    let mut v: serde_json::Value = serde_json::from_str(payload).unwrap();
    let (before, after) = (v["before"].as_str().unwrap().to_string(), v["after"].as_str().unwrap().to_string());
    let range = if before.bytes().all(|b| b == b'0') { after.clone() } else { format!("{before}..{after}") };
    let ids = git(ws, &["rev-list", "--reverse", &range]);
    let commits: Vec<serde_json::Value> = ids
        .lines()
        .map(|id| {
            let time = git(ws, &["show", "-s", "--format=%cI", id]);
            let listing =
                git(ws, &["diff-tree", "--root", "--no-commit-id", "-r", "--name-status", "--no-renames", id]);
            let mut files = serde_json::json!({"added": [], "modified": [], "removed": []});
            for line in listing.lines() {
                let (status, path) = line.split_once('\t').unwrap();
                let key = match status {
                    "A" => "added",
                    "D" => "removed",
                    _ => "modified",
                };
                files[key].as_array_mut().unwrap().push(path.into());
            }
            serde_json::json!({
                "id": id, "tree_id": git(ws, &["rev-parse", &format!("{id}^{{tree}}")]), "distinct": true,
                "message": git(ws, &["show", "-s", "--format=%B", id]), "timestamp": time,
                "url": format!("https://github.com/{OWNER}/{REPO}/commit/{id}"),
                "author": {"name": "Dev", "email": "dev@example.com", "username": "dev"},
                "committer": {"name": "Dev", "email": "dev@example.com", "username": "dev"},
                "added": files["added"], "removed": files["removed"], "modified": files["modified"],
            })
        })
        .collect();
    v["head_commit"] = commits.last().cloned().unwrap_or(serde_json::Value::Null);
    v["commits"] = commits.into();
    v.to_string()
}

/// A milestone description without the sync's hidden record of the base (the last line,
/// `<!-- milestone-sync base … -->`), which every write of a milestone carries: what a
/// person sees on GitHub.
pub(crate) fn without_record(description: &str) -> String {
    let kept: Vec<&str> =
        description.split('\n').filter(|l| !l.trim_start().starts_with("<!-- milestone-sync base ")).collect();
    kept.join("\n").trim_end_matches(['\r', '\n']).to_string()
}

/// The sync's record of the base in a milestone description (the words after its prefix).
pub(crate) fn record_of(description: &str) -> Option<String> {
    description.lines().find_map(|l| {
        l.trim().strip_prefix("<!-- milestone-sync base ").map(|r| r.trim_end_matches("-->").trim().to_string())
    })
}

/// An Epic file in the usual IntelliManage shape.
pub(crate) fn epic(id: &str, title: &str, status: &str, extra: &str) -> String {
    format!(
        "+++\n# --- Epic Metadata ---\nid = \"{id}\"\ntitle = \"{title}\"\nstatus = \"{status}\"\ntype = \"🗺️ Epic\"\ncreated_date = \"2026-11-01\"\nupdated_date = \"2026-11-01\" # Use current date\nproject_name = \"demo\"\n{extra}# milestone_name = \"v1\"\n+++\n\n# EPIC: {title}\n\n## Description ✍️\n\nWhat {id} delivers.\n\n## Acceptance Criteria ✅\n\n*   - [ ] It works.\n"
    )
}

/// Lines that differ between two texts, as (old, new) pairs of the changed regions.
pub(crate) fn changed_lines(old: &str, new: &str) -> (Vec<String>, Vec<String>) {
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..].iter().rev().zip(b[prefix..].iter().rev()).take_while(|(x, y)| x == y).count();
    (
        a[prefix..a.len() - suffix].iter().map(|s| s.to_string()).collect(),
        b[prefix..b.len() - suffix].iter().map(|s| s.to_string()).collect(),
    )
}

/// A real milestone payload (@octokit/webhooks-examples, MIT) carrying a milestone exactly as
/// the stand-in serves it now, as GitHub sends it after a change.
const MILESTONE_TEMPLATE: &str = include_str!("../../fixtures/webhooks/milestone.closed.1.json");

impl Repo {
    /// Milestone `number` as the stand-in serves it (GitHub's JSON), if it exists.
    pub(crate) fn milestone_json(&self, number: u64) -> Option<serde_json::Value> {
        self.standin.milestones_json().as_array()?.iter().find(|m| m["number"] == number).cloned()
    }

    /// The payload of `milestone.<action>` for milestone `number` as it stands now;
    /// `changes` is the `changes` object of an `edited` event.
    pub(crate) fn milestone_event(&self, action: &str, number: u64, changes: serde_json::Value) -> String {
        let milestone = self.milestone_json(number).expect("the milestone exists");
        self.milestone_event_for(action, milestone, changes)
    }

    /// Like [`Repo::milestone_event`], with the milestone object given (e.g. one deleted since).
    pub(crate) fn milestone_event_for(
        &self,
        action: &str,
        milestone: serde_json::Value,
        changes: serde_json::Value,
    ) -> String {
        let mut v: serde_json::Value = serde_json::from_str(MILESTONE_TEMPLATE).unwrap();
        v["action"] = action.into();
        v["milestone"] = milestone;
        if action == "edited" {
            v["changes"] = changes;
        }
        v["repository"]["default_branch"] = "main".into();
        v["repository"]["full_name"] = format!("{OWNER}/{REPO}").into();
        v["repository"]["name"] = REPO.into();
        v.to_string()
    }
}

/// Line pairs that differ between two texts with the same number of lines.
pub(crate) fn differing_lines(old: &str, new: &str) -> Vec<(String, String)> {
    assert_eq!(old.lines().count(), new.lines().count(), "same number of lines:\n{old}\n---\n{new}");
    old.lines().zip(new.lines()).filter(|(a, b)| a != b).map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

/// The stand-in for `acme/plan` (branch `main`, the test token), serving the bare
/// repository `git_dir`.
pub(crate) fn start_standin(git_dir: PathBuf) -> StandIn {
    StandIn::start(Config {
        owner: OWNER.into(),
        repo: REPO.into(),
        token: TOKEN.into(),
        default_branch: "main".into(),
        git_dir,
    })
}
