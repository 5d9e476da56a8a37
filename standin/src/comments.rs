//! Issue comments: the conversation of issues and pull requests (a pull request is an issue,
//! and its conversation comments live under `/issues/{number}/comments`).
//!
//! Rules kept from GitHub: comments exist only on an issue or pull request that exists (404
//! otherwise), list oldest first with `Link` pagination (30 a page by default, at most 100),
//! `body` is required and at most 65,536 characters, `updated_at` moves when the body
//! changes, ids are large and never reused. The shape of the answers is GitHub's "Issue
//! Comment" schema (checked in tests/all/faithfulness.rs).

use serde_json::{Map, Value, json};

use crate::milestones::{node_id, user_json};
use crate::pagination;
use crate::reply::Reply;
use crate::state::{Shared, State, now_after};
use crate::{CommentRecord, IssueKind};

const DOC_CREATE: &str = "https://docs.github.com/rest/issues/comments#create-an-issue-comment";
const DOC_UPDATE: &str = "https://docs.github.com/rest/issues/comments#update-an-issue-comment";

/// GitHub's limit on a comment body, in characters.
pub(crate) const MAX_BODY_CHARS: usize = 65_536;

/// Comment ids beyond `u32::MAX`, as today's GitHub hands out: a client that keeps ids in 32
/// bits breaks here as it would there.
const FIRST_COMMENT_ID: u64 = 5_000_000_000;

/// The login API writes are made as: the workflow's token.
pub(crate) const BOT_LOGIN: &str = "github-actions[bot]";

/// The JSON GitHub serves for a comment.
pub(crate) fn to_json(shared: &Shared, c: &CommentRecord) -> Value {
    let repo_api = shared.repo_api_url();
    let url = format!("{repo_api}/issues/comments/{}", c.id);
    let user = if c.user == BOT_LOGIN {
        user_json(shared, BOT_LOGIN, 41_898_282, "Bot")
    } else {
        user_json(shared, &c.user, user_id(&c.user), "User")
    };
    let association = if c.user.eq_ignore_ascii_case(&shared.config.owner) { "OWNER" } else { "NONE" };
    json!({
        "id": c.id,
        "node_id": node_id("012:IssueComment", c.id),
        "url": url,
        "html_url": c.html_url,
        "body": c.body,
        "user": user,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "issue_url": format!("{repo_api}/issues/{}", c.issue),
        "author_association": association,
        "performed_via_github_app": null,
        "minimized": null,
        "reactions": {
            "url": format!("{url}/reactions"),
            "total_count": 0,
            "+1": 0,
            "-1": 0,
            "laugh": 0,
            "hooray": 0,
            "confused": 0,
            "heart": 0,
            "rocket": 0,
            "eyes": 0,
        },
    })
}

/// A stable made-up user id for a login (the owner's matches the repository owner's).
fn user_id(login: &str) -> u64 {
    // FNV-1a, folded into seven digits above the owner's 1_000_001.
    let hash = login
        .to_ascii_lowercase()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
    2_000_000 + hash % 8_000_000
}

/// `Repository::add_comment` and `POST`: stores a comment by `user` on `issue`.
pub(crate) fn insert(shared: &Shared, state: &mut State, issue: u64, user: &str, body: String) -> CommentRecord {
    state.last_comment_id = state.last_comment_id.max(FIRST_COMMENT_ID) + 1;
    let id = state.last_comment_id;
    let kind = if state.issues.get(&issue) == Some(&IssueKind::PullRequest) { "pull" } else { "issues" };
    let now = now_after(None);
    let record = CommentRecord {
        id,
        issue,
        body,
        user: user.to_string(),
        created_at: now.clone(),
        updated_at: now,
        html_url: format!("{}/{kind}/{issue}#issuecomment-{id}", shared.html_url()),
    };
    state.comments.insert(id, record.clone());
    record
}

/// Reads `body`: a string of at most [`MAX_BODY_CHARS`], not blank.
fn parse_body(body: &Value, doc: &str) -> Result<String, Reply> {
    let invalid =
        |message: String| Reply::json(422, json!({"message": message, "documentation_url": doc, "status": "422"}));
    let Some(map) = body.as_object() else {
        return Err(Reply::bad_json());
    };
    let text = match map.get("body") {
        None => return Err(invalid("Invalid request.\n\n\"body\" wasn't supplied.".into())),
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(invalid(format!("Invalid request.\n\nFor 'properties/body', {other} is not a string.")));
        }
    };
    if text.trim().is_empty() {
        return Err(Reply::validation("IssueComment", "missing_field", "body", doc));
    }
    if text.chars().count() > MAX_BODY_CHARS {
        return Err(too_long(doc));
    }
    Ok(text)
}

/// 422 for a body over the limit, as GitHub words it.
fn too_long(doc: &str) -> Reply {
    let mut error = Map::new();
    error.insert("resource".into(), json!("IssueComment"));
    error.insert("code".into(), json!("custom"));
    error.insert("field".into(), json!("body"));
    error.insert("message".into(), json!(format!("body is too long (maximum is {MAX_BODY_CHARS} characters)")));
    Reply::json(
        422,
        json!({"message": "Validation Failed", "errors": [error], "documentation_url": doc, "status": "422"}),
    )
}

/// `GET /issues/{n}/comments`: oldest first, paginated.
pub(crate) fn list(shared: &Shared, state: &State, issue: u64, query: Option<&str>) -> Reply {
    if !state.issues.contains_key(&issue) {
        return Reply::not_found();
    }
    let items: Vec<&CommentRecord> = state.comments.values().filter(|c| c.issue == issue).collect();
    let (per_page, page) = pagination::page_params(query);
    let body: Vec<Value> = pagination::slice(&items, per_page, page).iter().map(|c| to_json(shared, c)).collect();
    let base = format!("{}/repositories/{}/issues/{issue}/comments", shared.api_url, shared.repo_id);
    let mut reply = Reply::ok(Value::Array(body));
    if let Some(link) = pagination::link_header(&base, query, items.len(), per_page, page) {
        reply = reply.with_header("link", link);
    }
    reply
}

/// `POST /issues/{n}/comments`, as the token's bot.
pub(crate) fn create(shared: &Shared, state: &mut State, issue: u64, body: &Value) -> Reply {
    if !state.issues.contains_key(&issue) {
        return Reply::not_found();
    }
    match parse_body(body, DOC_CREATE) {
        Ok(text) => {
            let record = insert(shared, state, issue, BOT_LOGIN, text);
            Reply::created(to_json(shared, &record))
        }
        Err(reply) => reply,
    }
}

pub(crate) fn get(shared: &Shared, state: &State, id: u64) -> Reply {
    match state.comments.get(&id) {
        Some(c) => Reply::ok(to_json(shared, c)),
        None => Reply::not_found(),
    }
}

/// `PATCH /issues/comments/{id}`: replaces the body.
pub(crate) fn update(shared: &Shared, state: &mut State, id: u64, body: &Value) -> Reply {
    if !state.comments.contains_key(&id) {
        return Reply::not_found();
    }
    let text = match parse_body(body, DOC_UPDATE) {
        Ok(text) => text,
        Err(reply) => return reply,
    };
    let c = state.comments.get_mut(&id).expect("checked above");
    if c.body != text {
        c.updated_at = now_after(Some(&c.updated_at));
        c.body = text;
    }
    Reply::ok(to_json(shared, c))
}

pub(crate) fn delete(state: &mut State, id: u64) -> Reply {
    match state.comments.remove(&id) {
        Some(_) => Reply::no_content(),
        None => Reply::not_found(),
    }
}
