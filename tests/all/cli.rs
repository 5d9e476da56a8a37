//! The binary from a terminal: subcommands, flags, where the repository and the token come
//! from, and the three output forms (table, JSON, check). The cases are data: arguments,
//! extra variables, and what the run must print and leave behind.

use std::process::Command;

use crate::common::*;

const E1: &str = "epics/EPIC-001_alpha.md";

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Outcome {
    /// What the person sees: diagnostics arrive on stderr, the run's account on stdout.
    fn shown(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs the binary as a person would in a terminal: no GITHUB_* variables, no INPUT_*.
fn terminal(repo: &Repo, args: &[&str], vars: &[(&str, &str)]) -> Outcome {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_milestone-sync"));
    cmd.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).env("HOME", repo.dir.path());
    // No pause between writes: the tests count requests, not seconds.
    cmd.env("INPUT_WRITE-DELAY-MS", "0").env("MILESTONE_SYNC_RETRY_BASE_MS", "1");
    cmd.current_dir(repo.workspace()).args(args);
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("the binary runs");
    let o = Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    for text in [&o.stdout, &o.stderr] {
        assert!(!text.contains(TOKEN), "the token leaked:\n{text}");
    }
    o
}

fn api(repo: &Repo) -> String {
    repo.standin.api_url()
}

#[test]
fn help_documents_every_subcommand_and_flag() {
    let repo = Repo::new(&[]);
    let o = terminal(&repo, &["--help"], &[]);
    assert_eq!(o.code, 0);
    for word in [
        "sync",
        "plan",
        "check",
        "--repo",
        "--token",
        "--api-url",
        "--json",
        "--dry-run",
        "--project",
        "--conflict-resolution",
        "--direction",
        "GH_TOKEN",
        "pat_env_var_name",
    ] {
        assert!(o.stdout.contains(word), "--help mentions {word}:\n{}", o.stdout);
    }
}

#[test]
fn plan_shows_a_table_and_writes_nothing() {
    let repo = Repo::new(&[(E1, &epic("EPIC-001", "Alpha", "🟡 To Do", ""))]);
    let api = api(&repo);
    let o = terminal(&repo, &["plan", "--repo", "acme/plan", "--api-url", &api], &[("GITHUB_TOKEN", TOKEN)]);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    let table: Vec<&str> = o.stdout.lines().skip_while(|l| !l.starts_with("ARTIFACT")).take(2).collect();
    assert_eq!(table.len(), 2, "{}", o.stdout);
    assert!(table[0].starts_with("ARTIFACT  TITLE  MILESTONE  ACTION"), "{table:?}");
    assert!(table[1].starts_with("EPIC-001  Alpha  new        create milestone"), "{table:?}");
    assert!(!o.stdout.contains("::group::") && o.stdout.contains("── Plan ──"), "terminal form: {}", o.stdout);
    assert!(repo.writes().is_empty(), "{:?}", repo.writes());
    assert!(repo.milestones().is_empty());
}

#[test]
fn json_puts_one_object_on_stdout_and_the_log_on_stderr() {
    let repo = Repo::new(&[(E1, &epic("EPIC-001", "Alpha", "🟡 To Do", ""))]);
    let api = api(&repo);
    let o = terminal(&repo, &["plan", "--json", "--repo", "acme/plan", "--api-url", &api], &[("GH_TOKEN", TOKEN)]);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    let v: serde_json::Value = serde_json::from_str(o.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", o.stdout));
    assert_eq!(v["dry_run"], true);
    assert_eq!(v["plan"][0]["action"], "create");
    assert_eq!(v["plan"][0]["artifact_id"], "EPIC-001");
    assert_eq!(v["plan"][0]["milestone"]["title"], "Alpha");
    assert_eq!(v["totals"]["created"], 1);
    assert!(o.stderr.contains("── Plan ──"), "{}", o.stderr);
}

#[test]
fn sync_from_a_terminal_syncs_the_checked_out_branch() {
    let repo = Repo::new(&[(E1, &epic("EPIC-001", "Alpha", "🟡 To Do", ""))]);
    let api = api(&repo);
    let o = terminal(&repo, &["sync", "--repo", "acme/plan", "--api-url", &api, "--token", TOKEN], &[]);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert_eq!(repo.milestones().len(), 1);
    assert!(
        repo.file_at_head(E1).unwrap().contains("related_milestone = \"https://github.com/acme/plan/milestone/1\"")
    );
    // Again: nothing to do, nothing written.
    repo.pull();
    repo.standin.clear_requests();
    let o = terminal(&repo, &["sync", "--repo", "acme/plan", "--api-url", &api, "--token", TOKEN], &[]);
    assert_eq!(o.code, 0, "{}", o.stdout);
    assert!(repo.writes().is_empty(), "{:?}", repo.writes());
}

/// A terminal `sync` commits on GitHub, through the API: the checkout it ran in is behind.
/// The run says so; a second run from the stale checkout makes no second commit; `--pull`
/// brings the checkout to the sync's commit.
#[test]
fn a_terminal_sync_that_committed_says_to_pull_or_pulls() {
    let repo = Repo::new(&[(E1, &epic("EPIC-001", "Alpha", "🟡 To Do", ""))]);
    let api = api(&repo);
    let args = ["sync", "--repo", "acme/plan", "--api-url", &api, "--token", TOKEN];
    let before = repo.head();
    let o = terminal(&repo, &args, &[]);
    assert_eq!(o.code, 0, "{}", o.shown());
    let committed = repo.head();
    assert_ne!(committed, before, "the link is committed");
    assert!(
        o.stdout.contains(&format!("the sync committed {} to main on GitHub", &committed[..7]))
            && o.stdout.contains("git pull"),
        "{}",
        o.stdout
    );
    // The checkout still holds the file without its link: a second run must not link again.
    let o = terminal(&repo, &args, &[]);
    assert_eq!(o.code, 0, "{}", o.shown());
    assert_eq!(repo.head(), committed, "no second commit from a stale checkout:\n{}", o.stdout);
    assert_eq!(repo.milestones().len(), 1);

    // With --pull, the checkout is at the sync's commit afterwards.
    let e2 = "epics/EPIC-002_beta.md";
    repo.push(&[(e2, Some(&epic("EPIC-002", "Beta", "🟡 To Do", "")))], "plan beta");
    let local = |rev: &str| git(&repo.workspace(), &["rev-parse", rev]);
    let o = terminal(&repo, &[&args[..], &["--pull"]].concat(), &[]);
    assert_eq!(o.code, 0, "{}", o.shown());
    assert_ne!(repo.head(), committed);
    assert_eq!(local("HEAD"), repo.head(), "{}", o.stdout);
    assert!(o.stdout.contains("pulled: the checkout is at"), "{}", o.stdout);
    let file = std::fs::read_to_string(repo.workspace().join(PROJECT_DIR).join(e2)).unwrap();
    assert!(file.contains("related_milestone = \"https://github.com/acme/plan/milestone/2\""), "{file}");
}

/// A folder that is not a git checkout (an export, a copy): `plan` syncs the repository's
/// default branch and says so, instead of refusing a branch it cannot name.
#[test]
fn plan_outside_a_git_checkout_plans_for_the_default_branch() {
    let repo = Repo::new(&[(E1, &epic("EPIC-001", "Alpha", "🟡 To Do", ""))]);
    let copy = tempfile::tempdir().unwrap();
    let project = copy.path().join(PROJECT_DIR);
    std::fs::create_dir_all(project.join("epics")).unwrap();
    for file in ["project_config.toml", E1] {
        std::fs::copy(repo.workspace().join(PROJECT_DIR).join(file), project.join(file)).unwrap();
    }
    let api = api(&repo);
    let dir = copy.path().to_str().unwrap();
    let o = terminal(
        &repo,
        &["plan", "--repo", "acme/plan", "--api-url", &api, "--workspace", dir],
        &[("GH_TOKEN", TOKEN)],
    );
    assert_eq!(o.code, 0, "{}", o.shown());
    assert!(o.stdout.contains("no branch checked out here: syncing the repository's default branch"), "{}", o.stdout);
    assert!(o.stdout.contains("EPIC-001  Alpha  new        create milestone"), "{}", o.stdout);
    assert!(!o.shown().contains("None"), "{}", o.shown());
    assert!(repo.writes().is_empty(), "{:?}", repo.writes());
}

#[test]
fn the_token_can_come_from_the_variable_a_project_names() {
    let config = PROJECT_CONFIG
        .replace("auth_method = \"pat\"", "auth_method = \"pat\"\npat_env_var_name = \"PLAN_SYNC_TOKEN\"");
    let repo = Repo::new(&[(E1, &epic("EPIC-001", "Alpha", "🟡 To Do", ""))]);
    let path = repo.workspace().join(PROJECT_DIR).join("project_config.toml");
    std::fs::write(&path, config).unwrap();
    let api = api(&repo);
    let o = terminal(&repo, &["plan", "--repo", "acme/plan", "--api-url", &api], &[("PLAN_SYNC_TOKEN", TOKEN)]);
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("create milestone"), "{}", o.stdout);
    // Without it, the error names every place a token may come from.
    let o = terminal(&repo, &["plan", "--repo", "acme/plan", "--api-url", &api], &[]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("error: no token") && o.stderr.contains("pat_env_var_name"), "{}", o.shown());
}

/// `check` needs neither GitHub nor a token. Each case: files (project-relative path,
/// content), expected exit code, lines the output must hold.
#[test]
fn check_validates_offline() {
    let broken = "+++\nid = \"EPIC-003\"\ntitle = \"Broken\ntype = \"🗺️ Epic\"\n+++\n\nbody\n";
    type Case<'a> = (&'a str, Vec<(&'a str, String)>, i32, Vec<&'a str>);
    let cases: Vec<Case> = vec![
        (
            "clean",
            vec![(E1, epic("EPIC-001", "Alpha", "🟡 To Do", ""))],
            0,
            vec!["1 project(s) syncing with acme/plan, 1 artifact(s) read, 0 error(s), 0 warning(s)"],
        ),
        (
            "broken TOML",
            vec![(E1, epic("EPIC-001", "Alpha", "🟡 To Do", "")), ("epics/EPIC-003_broken.md", broken.to_string())],
            1,
            vec!["error: .ruru/projects/demo/epics/EPIC-003_broken.md:3: ", "1 artifact(s) read, 1 error(s)"],
        ),
        (
            "duplicate IDs",
            vec![
                (E1, epic("EPIC-001", "Alpha", "🟡 To Do", "")),
                ("epics/EPIC-001_again.md", epic("EPIC-001", "Again", "🟡 To Do", "")),
            ],
            1,
            vec!["error: .ruru/projects/demo/epics/EPIC-001_again.md:3: the ID EPIC-001 is used by 2 files"],
        ),
        (
            "a link to another repository",
            vec![(
                E1,
                epic(
                    "EPIC-001",
                    "Alpha",
                    "🟡 To Do",
                    "related_milestone = \"https://github.com/other/repo/milestone/1\"\n",
                ),
            )],
            1,
            vec!["is not a milestone URL of acme/plan"],
        ),
        (
            "a placeholder date is a warning",
            vec![(E1, epic("EPIC-001", "Alpha", "🟡 To Do", "target_date = \"YYYY-MM-DD\"\n"))],
            0,
            vec!["warning: .ruru/projects/demo/epics/EPIC-001_alpha.md:10: ", "1 warning(s)"],
        ),
    ];
    for (name, files, code, expected) in cases {
        let files: Vec<(&str, &str)> = files.iter().map(|(p, c)| (*p, c.as_str())).collect();
        let repo = Repo::new(&files);
        // The repository comes from the `origin` remote when nothing else names it.
        git(&repo.workspace(), &["remote", "set-url", "origin", "git@github.com:acme/plan.git"]);
        let o = terminal(&repo, &["check"], &[]);
        assert_eq!(o.code, code, "{name}: {}\n{}", o.stdout, o.stderr);
        for line in expected {
            assert!(o.shown().contains(line), "{name}: {line:?} in\n{}", o.shown());
        }
        let o = terminal(&repo, &["check", "--json"], &[]);
        let v: serde_json::Value =
            serde_json::from_str(o.stdout.trim()).unwrap_or_else(|e| panic!("{name}: {e}: {}", o.stdout));
        assert_eq!(v["errors"].as_u64().unwrap() > 0, code == 1, "{name}");
    }
}
