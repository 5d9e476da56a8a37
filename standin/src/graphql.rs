//! `POST /graphql`: the one mutation milestone-sync sends, `createCommitOnBranch`, as GitHub
//! documents and answers it.
//!
//! - The input is read from the `input` variable (`CreateCommitOnBranchInput!`): `branch`
//!   (`repositoryNameWithOwner` + `branchName`), `expectedHeadOid`, `message` (`headline`,
//!   `body`), `fileChanges` (`additions` with base64 `contents`, `deletions`). A missing
//!   required value is refused the way GitHub's GraphQL validation refuses a variable.
//! - The commit lands only when the branch's head is `expectedHeadOid`; otherwise the answer is
//!   GitHub's `STALE_DATA` error: "Expected branch to point to "<oid>" but it did not.  Pull and
//!   try again." (two spaces, as GitHub sends it).
//! - A branch that does not exist: a `NOT_FOUND` error naming the ref.
//! - A protected branch (`StandIn::protect_default_branch`) refuses the commit: classic
//!   protection as `BRANCH_PROTECTION_RULE_VIOLATION`, a ruleset with "Repository rule
//!   violations found …" (the two kinds clients such as Keystatic tell apart).
//! - Errors come with HTTP 200 and `"data": {"createCommitOnBranch": null}`, each with
//!   `type`, `path`, `locations` and `message`, as GitHub's GraphQL API answers.
//! - The commit is made by the token's bot identity and is verified (like a Git Database
//!   commit without an author), its message `headline`, a blank line, then `body`.
//! - The answer holds `commit { oid url }`, the selection milestone-sync asks for.
//!
//! The repository is the one `branch.repositoryNameWithOwner` names (the path says nothing);
//! `server::dispatch` finds it there.

use base64::Engine as _;
use serde_json::{Value, json};

use crate::faults::Protection;
use crate::git::{Ident, TreeChange};
use crate::git_api::{BOT_EMAIL, BOT_NAME};
use crate::reply::Reply;
use crate::state::{Shared, State};

/// Whether a request path is the GraphQL endpoint (`/graphql` on github.com,
/// `/api/graphql` on GitHub Enterprise Server).
pub(crate) fn is_graphql(path: &str) -> bool {
    path == "/graphql" || path == "/api/graphql"
}

/// The `repositoryNameWithOwner` of a createCommitOnBranch request body, split.
pub(crate) fn addressed(body: &[u8]) -> Option<(String, String)> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let name = v.pointer("/variables/input/branch/repositoryNameWithOwner")?.as_str()?;
    let (owner, repo) = name.split_once('/')?;
    Some((owner.to_string(), repo.to_string()))
}

/// A GraphQL error answer: HTTP 200, no data for the mutation, one error.
fn error(kind: Option<&str>, message: &str) -> Reply {
    let mut e = json!({
        "path": ["createCommitOnBranch"],
        "locations": [{"line": 2, "column": 3}],
        "message": message,
    });
    if let Some(kind) = kind {
        e["type"] = json!(kind);
    }
    Reply::ok(json!({"data": {"createCommitOnBranch": null}, "errors": [e]}))
}

/// A variable GitHub's validation refuses before running anything: no `data` at all.
fn invalid_variable(problem: &str) -> Reply {
    Reply::ok(json!({"errors": [{
        "extensions": {"code": "variableMismatch"},
        "locations": [{"line": 1, "column": 10}],
        "message": format!("Variable $input of type CreateCommitOnBranchInput! was provided invalid value for {problem}"),
    }]}))
}

/// A repository the token cannot see or that does not exist.
pub(crate) fn repository_not_found(owner: &str, repo: &str) -> Reply {
    Reply::ok(json!({"data": {"createCommitOnBranch": null}, "errors": [{
        "type": "NOT_FOUND",
        "path": ["createCommitOnBranch"],
        "locations": [{"line": 2, "column": 3}],
        "message": format!("Could not resolve to a Repository with the name '{owner}/{repo}'."),
    }]}))
}

pub(crate) fn post(shared: &Shared, state: &mut State, body: &[u8]) -> Reply {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return Reply::ok(json!({"errors": [{"message": "Problems parsing JSON"}]}));
    };
    let query = request.get("query").and_then(Value::as_str).unwrap_or_default();
    if !query.contains("createCommitOnBranch") {
        return Reply::ok(json!({"errors": [{
            "message": "github-standin answers only the createCommitOnBranch mutation",
        }]}));
    }
    let Some(input) = request.pointer("/variables/input") else {
        return invalid_variable("input (Expected value to not be null)");
    };
    let str_at = |pointer: &str| input.pointer(pointer).and_then(Value::as_str);
    let Some(branch) = str_at("/branch/branchName") else {
        return invalid_variable("branch.branchName (Expected value to not be null)");
    };
    let Some(expected) = str_at("/expectedHeadOid") else {
        return invalid_variable("expectedHeadOid (Expected value to not be null)");
    };
    let Some(headline) = str_at("/message/headline") else {
        return invalid_variable("message.headline (Expected value to not be null)");
    };
    let full_ref = format!("refs/heads/{branch}");
    let Some(head) = shared.git.read_ref(&full_ref) else {
        return error(Some("NOT_FOUND"), &format!("A ref named \"{full_ref}\" does not exist."));
    };
    if branch == shared.config.default_branch
        && let Some(protection) = state.protection
    {
        return match protection {
            Protection::Classic => error(
                Some("BRANCH_PROTECTION_RULE_VIOLATION"),
                &format!(
                    "Protected branch update failed for {full_ref}.\n\nChanges must be made through a pull request."
                ),
            ),
            Protection::Ruleset => error(
                Some("UNPROCESSABLE"),
                "Repository rule violations found\n\nChanges must be made through a pull request.\n\n",
            ),
        };
    }
    if head != expected {
        return error(
            Some("STALE_DATA"),
            &format!("Expected branch to point to \"{expected}\" but it did not.  Pull and try again."),
        );
    }
    let mut changes = Vec::new();
    let additions = input.pointer("/fileChanges/additions").and_then(Value::as_array).cloned().unwrap_or_default();
    for addition in &additions {
        let (Some(path), Some(contents)) =
            (addition.get("path").and_then(Value::as_str), addition.get("contents").and_then(Value::as_str))
        else {
            return invalid_variable("fileChanges.additions (path and contents are required)");
        };
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(contents) else {
            return error(None, &format!("contents of {path} is not valid Base64"));
        };
        let sha = match shared.git.write_blob(&bytes) {
            Ok(sha) => sha,
            Err(e) => {
                return Reply::error(500, &format!("git hash-object failed: {e}"), "https://docs.github.com/graphql");
            }
        };
        changes.push(TreeChange::Put { path: path.to_string(), mode: "100644".into(), kind: "blob".into(), sha });
    }
    let deletions = input.pointer("/fileChanges/deletions").and_then(Value::as_array).cloned().unwrap_or_default();
    for deletion in &deletions {
        let Some(path) = deletion.get("path").and_then(Value::as_str) else {
            return invalid_variable("fileChanges.deletions (path is required)");
        };
        if shared.git.entry_at(&head, path).is_none() {
            return error(
                None,
                &format!("A path was requested for deletion which does not exist as of commit oid `{head}`"),
            );
        }
        changes.push(TreeChange::Delete { path: path.to_string() });
    }
    let tree = match shared.git.build_tree(Some(&head), &changes) {
        Ok(tree) => tree,
        Err(e) => return Reply::error(500, &format!("git write-tree failed: {e}"), "https://docs.github.com/graphql"),
    };
    let message = match str_at("/message/body").filter(|b| !b.is_empty()) {
        Some(body) => format!("{headline}\n\n{body}"),
        None => headline.to_string(),
    };
    let who = Ident {
        name: BOT_NAME.into(),
        email: BOT_EMAIL.into(),
        time: chrono::Utc::now().timestamp(),
        offset_minutes: 0,
    };
    let commit = match shared.git.commit_tree(&tree, std::slice::from_ref(&head), &message, &who, &who) {
        Ok(sha) => sha,
        Err(e) => return Reply::error(500, &format!("git commit-tree failed: {e}"), "https://docs.github.com/graphql"),
    };
    // Atomic against the head read above: a push in between makes this fail as stale.
    if shared.git.update_ref(&full_ref, &commit, Some(&head)).is_err() {
        return error(
            Some("STALE_DATA"),
            &format!("Expected branch to point to \"{expected}\" but it did not.  Pull and try again."),
        );
    }
    state.signed_commits.insert(commit.clone());
    Reply::ok(json!({"data": {"createCommitOnBranch": {"commit": {
        "oid": commit,
        "url": format!("{}/commit/{commit}", shared.html_url()),
    }}}}))
}
