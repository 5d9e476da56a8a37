//! Shared helpers: a bare repository with one commit, a started stand-in, a tiny client.

use std::path::Path;
use std::process::Command;

use github_standin::{Config, Repository, StandIn};
use serde_json::Value;

pub(crate) const OWNER: &str = "octo-org";
pub(crate) const REPO: &str = "planning";
pub(crate) const TOKEN: &str = "ghs_test_token";

/// Runs git in `dir` (a bare repo) and returns trimmed stdout; panics on failure.
pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("--git-dir")
        .arg(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

pub(crate) struct Env {
    pub dir: tempfile::TempDir,
    pub standin: StandIn,
}

impl Env {
    pub(crate) fn git_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("repo.git")
    }

    /// Hosts `owner/repo` too, over a new bare repository like the primary's, reached by
    /// `token`.
    pub(crate) fn host(&self, owner: &str, repo: &str, token: &str) -> Repository {
        let git_dir = self.dir.path().join(format!("{owner}-{repo}.git"));
        init_repo(&git_dir);
        self.standin.add_repository(Config {
            owner: owner.into(),
            repo: repo.into(),
            token: token.into(),
            default_branch: "main".into(),
            git_dir,
        })
    }

    pub(crate) fn head(&self) -> String {
        git(&self.git_dir(), &["rev-parse", "refs/heads/main"])
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.standin.api_url())
    }

    pub(crate) fn get(&self, path: &str) -> Resp {
        send(&self.url(path), "GET", None)
    }

    pub(crate) fn post(&self, path: &str, body: Value) -> Resp {
        send(&self.url(path), "POST", Some(body))
    }

    pub(crate) fn patch(&self, path: &str, body: Value) -> Resp {
        send(&self.url(path), "PATCH", Some(body))
    }

    pub(crate) fn delete(&self, path: &str) -> Resp {
        send(&self.url(path), "DELETE", None)
    }
}

/// A bare repository whose `main` holds one commit with README.md, and a stand-in over it.
pub(crate) fn start() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let git_dir = dir.path().join("repo.git");
    init_repo(&git_dir);
    let standin = StandIn::start(Config {
        owner: OWNER.into(),
        repo: REPO.into(),
        token: TOKEN.into(),
        default_branch: "main".into(),
        git_dir: git_dir.clone(),
    });
    Env { dir, standin }
}

/// Makes a bare repository at `git_dir` whose `main` holds one commit with README.md.
pub(crate) fn init_repo(git_dir: &Path) {
    let parent = git_dir.parent().unwrap();
    git(parent, &["init", "--bare", "-q", "-b", "main", git_dir.to_str().unwrap()]);
    let blob = {
        let mut c = Command::new("git")
            .arg("--git-dir")
            .arg(git_dir)
            .args(["hash-object", "-w", "--stdin"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        c.stdin.take().unwrap().write_all(b"# planning\n").unwrap();
        String::from_utf8(c.wait_with_output().unwrap().stdout).unwrap().trim().to_string()
    };
    let tree = {
        let mut c = Command::new("git")
            .arg("--git-dir")
            .arg(git_dir)
            .arg("mktree")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        c.stdin.take().unwrap().write_all(format!("100644 blob {blob}\tREADME.md\n").as_bytes()).unwrap();
        String::from_utf8(c.wait_with_output().unwrap().stdout).unwrap().trim().to_string()
    };
    let commit = git(git_dir, &["commit-tree", &tree, "-m", "initial"]);
    git(git_dir, &["update-ref", "refs/heads/main", &commit]);
}

pub(crate) struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Resp {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

pub(crate) fn send(url: &str, method: &str, body: Option<Value>) -> Resp {
    send_with_auth(url, method, body, Some(&format!("Bearer {TOKEN}")))
}

pub(crate) fn send_with_auth(url: &str, method: &str, body: Option<Value>, auth: Option<&str>) -> Resp {
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let mut req =
        ureq::http::Request::builder().method(method).uri(url).header("accept", "application/vnd.github+json");
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let result = match body {
        Some(b) => {
            agent.run(req.header("content-type", "application/json").body(serde_json::to_vec(&b).unwrap()).unwrap())
        }
        None => agent.run(req.body(()).unwrap()),
    };
    let mut resp = result.expect("request reaches the stand-in");
    let status = resp.status().as_u16();
    let headers =
        resp.headers().iter().map(|(n, v)| (n.as_str().to_string(), v.to_str().unwrap_or("").to_string())).collect();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    Resp { status, headers, body }
}

pub(crate) fn repo_path(rest: &str) -> String {
    format!("/repos/{OWNER}/{REPO}{rest}")
}
