//! The one GraphQL request the sync sends: `createCommitOnBranch`, a commit in one request
//! (the Git Database takes four: the ref, a tree, a commit, the ref moved).
//!
//! The mutation carries the branch, `expectedHeadOid` (the head the plan was made on: a branch
//! that moved refuses it with `STALE_DATA`, so the commit is never made on a head the run did
//! not read), the message and every file as base64. GitHub marks such commits verified. Its
//! errors come with HTTP 200 in `errors[]`, each with a `type` and a `message`; they map to the
//! [`GitHubError`] the commit decides on. The document and the input are public so that the
//! tests check them against GitHub's GraphQL schema (`tests/fixtures/graphql`).

use base64::Engine as _;
use serde_json::{Value, json};

use super::errors::PROTECTION_MESSAGES;
use crate::github::{GitHubError, Permission, TreeFile};

/// The mutation, asking only for the new commit's id and URL.
pub const COMMIT_ON_BRANCH: &str = "mutation CommitOnBranch($input: CreateCommitOnBranchInput!) {
  createCommitOnBranch(input: $input) {
    commit {
      oid
      url
    }
  }
}
";

/// The request body: the document and its `input` variable. The message's first line is
/// the headline; what follows the blank line after it is the body.
pub fn commit_request(repository: &str, branch: &str, expected_head: &str, message: &str, files: &[TreeFile]) -> Value {
    let (headline, body) = match message.split_once('\n') {
        Some((headline, rest)) => (headline, rest.trim_start_matches('\n')),
        None => (message, ""),
    };
    let additions: Vec<Value> = files
        .iter()
        .map(|f| json!({"path": f.path, "contents": base64::engine::general_purpose::STANDARD.encode(&f.content)}))
        .collect();
    json!({
        "query": COMMIT_ON_BRANCH,
        "variables": {"input": {
            "branch": {"repositoryNameWithOwner": repository, "branchName": branch},
            "expectedHeadOid": expected_head,
            "message": {"headline": headline, "body": body},
            "fileChanges": {"additions": additions},
        }},
    })
}

/// The new commit's id, or the error GitHub's answer holds.
pub(super) fn commit_answer(answer: &Value, branch: &str, path: &str) -> Result<String, GitHubError> {
    if let Some(errors) = answer.get("errors").and_then(Value::as_array).filter(|e| !e.is_empty()) {
        return Err(refusal(errors, branch, path));
    }
    answer.pointer("/data/createCommitOnBranch/commit/oid").and_then(Value::as_str).map(str::to_string).ok_or_else(
        || GitHubError::Transport {
            method: "POST".into(),
            path: path.to_string(),
            message: "unexpected answer body: no data.createCommitOnBranch.commit.oid".into(),
        },
    )
}

/// GitHub's GraphQL errors (the first one decides) as the error the commit decides on.
fn refusal(errors: &[Value], branch: &str, path: &str) -> GitHubError {
    let first = &errors[0];
    let kind = first.get("type").and_then(Value::as_str).unwrap_or_default();
    let code = first.pointer("/extensions/code").and_then(Value::as_str).unwrap_or_default();
    let message = first.get("message").and_then(Value::as_str).unwrap_or("no message").to_string();
    let lower = message.to_ascii_lowercase();
    let described = if kind.is_empty() { message.clone() } else { format!("{kind}: {message}") };
    match kind {
        "STALE_DATA" => GitHubError::NotFastForward,
        "BRANCH_PROTECTION_RULE_VIOLATION" => GitHubError::ProtectedBranch { branch: branch.to_string(), message },
        _ if PROTECTION_MESSAGES.iter().any(|m| lower.contains(m)) => {
            GitHubError::ProtectedBranch { branch: branch.to_string(), message }
        }
        "NOT_FOUND" => GitHubError::NotFound { method: "POST".into(), path: format!("{path} ({message})") },
        _ if kind == "FORBIDDEN" || message.contains("Resource not accessible by") => GitHubError::Permission {
            permission: Permission::ContentsWrite,
            method: "POST".into(),
            path: path.to_string(),
            message,
        },
        "RATE_LIMITED" => GitHubError::RateLimited {
            primary: true,
            until: None,
            method: "POST".into(),
            path: path.to_string(),
            message,
        },
        // A GitHub Enterprise Server from before the mutation: its schema has no such field.
        _ if code == "undefinedField" || message.contains("doesn't exist on type 'Mutation'") => {
            GitHubError::Unsupported { message }
        }
        _ => GitHubError::GraphQl { message: described },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(kind: Option<&str>, message: &str) -> Value {
        let mut e = json!({"path": ["createCommitOnBranch"], "message": message});
        if let Some(kind) = kind {
            e["type"] = json!(kind);
        }
        json!({"data": {"createCommitOnBranch": null}, "errors": [e]})
    }

    #[test]
    fn githubs_errors_map_to_what_the_commit_decides_on() {
        let answer = |kind, message| commit_answer(&error(kind, message), "main", "/graphql").unwrap_err();
        // As GitHub answers a moved branch (two spaces before "Pull").
        let stale = "Expected branch to point to \"d8a7a1d03f212ac203112cf729d6c27d7030f42c\" but it did not.  Pull and try again.";
        assert!(matches!(answer(Some("STALE_DATA"), stale), GitHubError::NotFastForward));
        assert!(matches!(
            answer(Some("BRANCH_PROTECTION_RULE_VIOLATION"), "Changes must be made through a pull request."),
            GitHubError::ProtectedBranch { .. }
        ));
        assert!(matches!(
            answer(
                Some("UNPROCESSABLE"),
                "Repository rule violations found\n\nChanges must be made through a pull request.\n\n"
            ),
            GitHubError::ProtectedBranch { .. }
        ));
        assert!(matches!(
            answer(Some("NOT_FOUND"), "A ref named \"refs/heads/x\" does not exist."),
            GitHubError::NotFound { .. }
        ));
        assert!(matches!(
            answer(Some("FORBIDDEN"), "Resource not accessible by integration"),
            GitHubError::Permission { permission: Permission::ContentsWrite, .. }
        ));
        let old = json!({"errors": [{"message": "Field 'createCommitOnBranch' doesn't exist on type 'Mutation'",
            "extensions": {"code": "undefinedField", "typeName": "Mutation", "fieldName": "createCommitOnBranch"}}]});
        assert!(matches!(commit_answer(&old, "main", "/api/graphql"), Err(GitHubError::Unsupported { .. })));
        match answer(Some("UNPROCESSABLE"), "Something else") {
            GitHubError::GraphQl { message } => assert_eq!(message, "UNPROCESSABLE: Something else"),
            other => panic!("{other:?}"),
        }
        let ok = json!({"data": {"createCommitOnBranch": {"commit": {"oid": "abc", "url": "u"}}}});
        assert_eq!(commit_answer(&ok, "main", "/graphql").unwrap(), "abc");
        assert!(matches!(
            commit_answer(&json!({"data": null}), "main", "/graphql"),
            Err(GitHubError::Transport { .. })
        ));
    }

    #[test]
    fn the_message_splits_into_headline_and_body_and_files_go_as_base64() {
        let files = [TreeFile { path: "a b/ü.md".into(), content: "x\r\ny\n".into() }];
        let request = commit_request("acme/plan", "main", "abc", "milestone-sync: 1 change\n\n- one\n- two", &files);
        let input = &request["variables"]["input"];
        assert_eq!(input["message"], json!({"headline": "milestone-sync: 1 change", "body": "- one\n- two"}));
        assert_eq!(input["branch"], json!({"repositoryNameWithOwner": "acme/plan", "branchName": "main"}));
        assert_eq!(input["expectedHeadOid"], "abc");
        assert_eq!(input["fileChanges"]["additions"][0], json!({"path": "a b/ü.md", "contents": "eA0KeQo="}));
        let one_line = commit_request("acme/plan", "main", "abc", "one line", &[]);
        assert_eq!(one_line["variables"]["input"]["message"], json!({"headline": "one line", "body": ""}));
    }
}
