//! Pull requests for the harness: a branch pushed to the "GitHub" side, GitHub's test merge
//! (`refs/pull/N/merge`) checked out in the workspace as actions/checkout does on
//! `pull_request`, and the event payload.

use super::{OWNER, PROJECT_DIR, REPO, Repo, Run, git, write};

/// A real `pull_request.opened` payload (@octokit/webhooks-examples, MIT).
const TEMPLATE: &str = include_str!("../../fixtures/webhooks/pull_request.opened.1.json");

/// A pull request as the tests drive it.
#[derive(Debug, Clone)]
pub(crate) struct PullRequest {
    pub number: u64,
    pub branch: String,
    /// `main` when the pull request was last updated.
    pub base_sha: String,
    pub head_sha: String,
    /// GitHub's test merge of the head into the base.
    pub merge_sha: String,
}

impl Repo {
    /// Opens pull request `number` from a new branch off `main` with `changes`
    /// (project-relative path, `Some(content)` or `None` to remove), and checks out its test
    /// merge in the workspace.
    pub(crate) fn open_pull_request(&self, number: u64, branch: &str, changes: &[(&str, Option<&str>)]) -> PullRequest {
        self.pull();
        let ws = self.workspace();
        git(&ws, &["checkout", "-q", "-B", branch, "origin/main"]);
        self.update_pull_request_branch(number, branch, changes, "open the pull request")
    }

    /// Pushes another commit with `changes` to the pull request's branch and checks out the new
    /// test merge (the `synchronize` event).
    pub(crate) fn push_to_pull_request(&self, pr: &PullRequest, changes: &[(&str, Option<&str>)]) -> PullRequest {
        let ws = self.workspace();
        git(&ws, &["fetch", "-q", "origin"]);
        git(&ws, &["checkout", "-q", &pr.branch]);
        self.update_pull_request_branch(pr.number, &pr.branch, changes, "more changes")
    }

    fn update_pull_request_branch(
        &self,
        number: u64,
        branch: &str,
        changes: &[(&str, Option<&str>)],
        message: &str,
    ) -> PullRequest {
        let ws = self.workspace();
        for (path, content) in changes {
            let full = if path.starts_with('/') {
                ws.join(path.trim_start_matches('/'))
            } else {
                ws.join(PROJECT_DIR).join(path)
            };
            match content {
                Some(c) => write(&full, c),
                None => std::fs::remove_file(&full).unwrap(),
            }
        }
        git(&ws, &["add", "-A"]);
        git(&ws, &["commit", "-q", "--allow-empty", "-m", message]);
        git(&ws, &["push", "-q", "-f", "origin", branch]);
        let head_sha = git(&ws, &["rev-parse", "HEAD"]);
        let base_sha = git(&ws, &["rev-parse", "origin/main"]);
        // GitHub's test merge: always a merge commit, first parent the base.
        git(&ws, &["checkout", "-q", "--detach", "origin/main"]);
        git(&ws, &["merge", "-q", "--no-ff", "-m", &format!("Merge {head_sha} into {base_sha}"), &head_sha]);
        let merge_sha = git(&ws, &["rev-parse", "HEAD"]);
        git(&ws, &["push", "-q", "-f", "origin", &format!("HEAD:refs/pull/{number}/merge")]);
        PullRequest { number, branch: branch.to_string(), base_sha, head_sha, merge_sha }
    }

    /// The payload of `pull_request.<action>` for `pr` into `base_ref`, from the same repository.
    pub(crate) fn pull_request_payload(&self, action: &str, pr: &PullRequest, base_ref: &str) -> serde_json::Value {
        let mut v: serde_json::Value = serde_json::from_str(TEMPLATE).unwrap();
        v["action"] = action.into();
        v["number"] = pr.number.into();
        let p = &mut v["pull_request"];
        p["number"] = pr.number.into();
        p["state"] = "open".into();
        p["base"]["ref"] = base_ref.into();
        p["base"]["sha"] = pr.base_sha.clone().into();
        p["head"]["ref"] = pr.branch.clone().into();
        p["head"]["sha"] = pr.head_sha.clone().into();
        for side in ["base", "head"] {
            p[side]["repo"]["full_name"] = format!("{OWNER}/{REPO}").into();
            p[side]["repo"]["name"] = REPO.into();
            p[side]["repo"]["default_branch"] = "main".into();
        }
        v["repository"]["full_name"] = format!("{OWNER}/{REPO}").into();
        v["repository"]["name"] = REPO.into();
        v["repository"]["default_branch"] = "main".into();
        v
    }

    /// Runs the binary for `event` (`pull_request` or `pull_request_target`) as the runner
    /// would on the test merge: `GITHUB_REF=refs/pull/N/merge`.
    pub(crate) fn run_pull_request(
        &self,
        event: &str,
        payload: &serde_json::Value,
        pr: &PullRequest,
        inputs: &[(&str, &str)],
    ) -> Run {
        let git_ref = format!("refs/pull/{}/merge", pr.number);
        self.run_with_env(event, &payload.to_string(), inputs, &[("GITHUB_REF", &git_ref)])
    }

    /// Replaces the workspace with a clone of depth 1 of `refs/pull/N/merge`: what
    /// actions/checkout makes by default, without the merge's parents.
    pub(crate) fn shallow_checkout(&self, pr: &PullRequest) {
        let ws = self.workspace();
        std::fs::remove_dir_all(&ws).unwrap();
        git(self.dir.path(), &["init", "-q", "-b", "main", ws.to_str().unwrap()]);
        let url = format!("file://{}", self.bare().display());
        git(&ws, &["fetch", "-q", "--depth=1", &url, &format!("refs/pull/{}/merge", pr.number)]);
        git(&ws, &["checkout", "-q", "--detach", "FETCH_HEAD"]);
    }
}
