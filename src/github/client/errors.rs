//! GitHub's refusals mapped to the [`GitHubError`] the sync decides on.

use http::{Method, StatusCode};
use serde::Deserialize;

use crate::github::{GitHubError, Permission};

/// A refusal's body, as GitHub sends it (`{"message": …, "errors": [{"code": …}]}`).
#[derive(Debug, Default, Deserialize)]
pub(super) struct WireError {
    #[serde(default)]
    pub(super) message: Option<String>,
    #[serde(default)]
    pub(super) errors: Vec<WireErrorDetail>,
}

#[derive(Debug, Deserialize)]
pub(super) struct WireErrorDetail {
    #[serde(default)]
    pub(super) code: Option<String>,
    #[serde(default)]
    pub(super) message: Option<String>,
    #[serde(default)]
    pub(super) field: Option<String>,
}

/// What a failed request was about, for the mappings that depend on it.
#[derive(Debug, Default)]
pub(super) struct ErrorContext {
    /// A milestone create/update: 422 `already_exists` means this title is taken.
    pub(super) already_exists_title: Option<String>,
    /// A ref update of this branch: 422 "not a fast forward" means the branch moved, and a
    /// refusal in the words of branch protection means it is protected.
    pub(super) ref_branch: Option<String>,
}

/// Words of GitHub's refusals of a ref update by branch protection or a repository ruleset
/// (classic protection: 422 "Protected branch update failed for refs/heads/main."; rulesets:
/// "Repository rule violations found … Changes must be made through a pull request.").
pub(super) const PROTECTION_MESSAGES: &[&str] = &[
    "protected branch",
    "repository rule violation",
    "changes must be made through a pull request",
    "required status check",
    "not authorized to push",
    "commits must have verified signatures",
    "must not contain merge commits",
    "cannot force-push",
    "merge queue",
];

/// Maps a non-success answer to the error the sync decides on.
pub(super) fn map_error(
    method: &Method,
    path: &str,
    status: StatusCode,
    body: &[u8],
    permission: Permission,
    context: &ErrorContext,
) -> GitHubError {
    let wire: WireError = serde_json::from_slice(body).unwrap_or_default();
    let message = describe(&wire, status, body);
    let method = method.to_string();
    let path = path.to_string();
    let lower = message.to_ascii_lowercase();
    match status.as_u16() {
        404 => GitHubError::NotFound { method, path },
        422 if context.ref_branch.is_some() && lower.contains("not a fast forward") => GitHubError::NotFastForward,
        403 | 409 | 422 if context.ref_branch.is_some() && PROTECTION_MESSAGES.iter().any(|m| lower.contains(m)) => {
            GitHubError::ProtectedBranch { branch: context.ref_branch.clone().unwrap_or_default(), message }
        }
        422 if wire.errors.iter().any(|e| e.code.as_deref() == Some("already_exists")) => {
            match &context.already_exists_title {
                Some(title) => GitHubError::AlreadyExists { title: title.clone() },
                None => GitHubError::Http { status: 422, method, path, message },
            }
        }
        403 if lower.contains("not permitted to create or approve pull requests") => {
            GitHubError::PullRequestsForbidden { message }
        }
        422 if lower.contains("a pull request already exists") => GitHubError::PullRequestExists { message },
        // "Resource not accessible by integration" (GITHUB_TOKEN, App tokens) and
        // "… by personal access token" (fine-grained PATs) both mean a missing permission.
        403 if message.contains("Resource not accessible by") => {
            GitHubError::Permission { permission, method, path, message }
        }
        code => GitHubError::Http { status: code, method, path, message },
    }
}

/// GitHub's `message`, with the `errors[]` details that make a 422 readable; for a body that
/// is not GitHub's JSON, the start of the body or the status's reason.
pub(super) fn describe(wire: &WireError, status: StatusCode, body: &[u8]) -> String {
    let mut message = match &wire.message {
        Some(message) => message.clone(),
        None => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            if text.is_empty() {
                status.canonical_reason().unwrap_or("no message").to_string()
            } else {
                text.chars().take(200).collect()
            }
        }
    };
    let details: Vec<String> = wire
        .errors
        .iter()
        .filter_map(|e| match (&e.message, &e.field, &e.code) {
            (Some(m), _, _) => Some(m.clone()),
            (None, Some(f), Some(c)) => Some(format!("{f} {c}")),
            (None, None, Some(c)) => Some(c.clone()),
            _ => None,
        })
        .collect();
    if !details.is_empty() {
        message = format!("{message} ({})", details.join("; "));
    }
    message
}

/// GitHub's `message` of an error body, or nothing.
pub(super) fn wire_message(body: &[u8]) -> String {
    serde_json::from_slice::<WireError>(body).ok().and_then(|w| w.message).unwrap_or_default()
}
