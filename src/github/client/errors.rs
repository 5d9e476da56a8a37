//! GitHub's refusals, and octocrab's errors, mapped to the [`GitHubError`] the sync decides
//! on.

use http::{Method, StatusCode};
use serde::Deserialize;

use super::endpoint::Endpoint;
use super::transport::error_chain;
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

/// What octocrab's call to `endpoint` at `path` ended in, as the error the sync decides on:
/// GitHub's refusals by status, message and `errors[].code` ([`map_error`]); the errors our
/// policy layer raised (no answer, a rate limit) as they were raised; anything else (an
/// answer that does not parse) as a transport failure.
pub(super) fn from_octocrab(
    error: octocrab::Error,
    endpoint: Endpoint,
    path: &str,
    context: &ErrorContext,
) -> GitHubError {
    let method = endpoint.method();
    match error {
        octocrab::Error::GitHub { source, .. } => {
            let wire = WireError {
                message: Some(source.message.chars().take(MAX_MESSAGE).collect()),
                errors: source
                    .errors
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|e| serde_json::from_value(e).ok())
                    .collect(),
            };
            let message = describe(&wire, source.status_code, b"");
            map_refusal(&method, path, source.status_code, &wire, message, endpoint.permission(), context)
        }
        octocrab::Error::Service { source, .. } => match source.downcast::<GitHubError>() {
            Ok(ours) => *ours,
            Err(other) => GitHubError::Transport {
                method: method.to_string(),
                path: path.to_string(),
                message: error_chain(other.as_ref()),
            },
        },
        octocrab::Error::Serde { source, .. } => unexpected(&method, path, &source),
        octocrab::Error::Json { source, .. } => unexpected(&method, path, &source),
        other => {
            GitHubError::Transport { method: method.to_string(), path: path.to_string(), message: error_chain(&other) }
        }
    }
}

/// An answer whose body is not what the endpoint promises.
fn unexpected(method: &Method, path: &str, error: &dyn std::fmt::Display) -> GitHubError {
    GitHubError::Transport {
        method: method.to_string(),
        path: path.to_string(),
        message: format!("unexpected answer body: {error}"),
    }
}

/// The most of a refusal's message kept: a body that is not GitHub's JSON (a proxy's HTML
/// page) comes through as the message.
const MAX_MESSAGE: usize = 500;

/// Maps a non-success answer, body and all, to the error the sync decides on (the tests'
/// way in: octocrab reads the body before [`from_octocrab`] sees it).
#[cfg(test)]
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
    map_refusal(method, path, status, &wire, message, permission, context)
}

/// [`map_error`] of a body already read.
fn map_refusal(
    method: &Method,
    path: &str,
    status: StatusCode,
    wire: &WireError,
    message: String,
    permission: Permission,
    context: &ErrorContext,
) -> GitHubError {
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
