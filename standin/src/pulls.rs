//! Pull requests: where a protected default branch makes the sync send its commit.
//!
//! Rules kept from GitHub: a pull request's number comes from the repository's one sequence
//! of issues and pull requests; `head` and `base` must be branches that exist and differ
//! (422 "Validation Failed"); a second open pull request for one head and base is refused
//! with 422 and "A pull request already exists for {owner}:{branch}."; Actions may be
//! forbidden to open pull requests (403 "GitHub Actions is not permitted to create or approve
//! pull requests."); `GET pulls` filters by `state` (default open), `head` as
//! `{owner}:{branch}` and `base`, newest first. The shape of the answers is GitHub's
//! "Pull Request" and "Pull Request Simple" schemas (checked in tests/all/faithfulness.rs).

use serde_json::{Value, json};

use crate::milestones::{node_id, user_json};
use crate::pagination;
use crate::reply::Reply;
use crate::state::{Shared, State, format_time, now_after};

const DOC_CREATE: &str = "https://docs.github.com/rest/pulls/pulls#create-a-pull-request";
const DOC_UPDATE: &str = "https://docs.github.com/rest/pulls/pulls#update-a-pull-request";

/// A pull request as the stand-in keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRecord {
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    /// The head branch's name (in this repository).
    pub head: String,
    pub base: String,
    /// `open` or `closed`.
    pub state: String,
    pub merged: bool,
    pub created_at: String,
    pub updated_at: String,
    pub closed_at: Option<String>,
    pub merged_at: Option<String>,
    pub merge_commit_sha: Option<String>,
    /// The login that opened it.
    pub user: String,
}

fn branch_json(shared: &Shared, branch: &str) -> Value {
    let sha = shared.git.read_ref(&format!("refs/heads/{branch}")).unwrap_or_default();
    let owner = &shared.config.owner;
    json!({
        "label": format!("{owner}:{branch}"),
        "ref": branch,
        "sha": sha,
        "user": user_json(shared, owner, 1_000_001, "User"),
        "repo": crate::repository::to_json(shared),
    })
}

/// The JSON GitHub serves for a pull request; `full` adds the fields of the single-item
/// answers (create, get, update) that the list leaves out.
pub(crate) fn to_json(shared: &Shared, p: &PullRecord, full: bool) -> Value {
    let repo_api = shared.repo_api_url();
    let html = format!("{}/pull/{}", shared.html_url(), p.number);
    let url = format!("{repo_api}/pulls/{}", p.number);
    let head = branch_json(shared, &p.head);
    let statuses = format!("{repo_api}/statuses/{}", head["sha"].as_str().unwrap_or_default());
    let user = if p.user == crate::comments::BOT_LOGIN {
        user_json(shared, &p.user, 41_898_282, "Bot")
    } else {
        user_json(shared, &p.user, 1_000_001, "User")
    };
    let href = |h: String| json!({ "href": h });
    let links = json!({
        "self": href(url.clone()),
        "html": href(html.clone()),
        "issue": href(format!("{repo_api}/issues/{}", p.number)),
        "comments": href(format!("{repo_api}/issues/{}/comments", p.number)),
        "review_comments": href(format!("{url}/comments")),
        "review_comment": href(format!("{repo_api}/pulls/comments{{/number}}")),
        "commits": href(format!("{url}/commits")),
        "statuses": href(statuses.clone()),
    });
    let mut v = json!({
        "url": url,
        "id": 900_000_000 + p.number,
        "node_id": node_id("011:PullRequest", 900_000_000 + p.number),
        "html_url": html,
        "diff_url": format!("{html}.diff"),
        "patch_url": format!("{html}.patch"),
        "issue_url": format!("{repo_api}/issues/{}", p.number),
        "commits_url": format!("{url}/commits"),
        "review_comments_url": format!("{url}/comments"),
        "review_comment_url": format!("{repo_api}/pulls/comments{{/number}}"),
        "comments_url": format!("{repo_api}/issues/{}/comments", p.number),
        "statuses_url": statuses,
        "number": p.number,
        "state": p.state,
        "locked": false,
        "title": p.title,
        "user": user,
        "body": p.body,
        "labels": [],
        "milestone": null,
        "active_lock_reason": null,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
        "closed_at": p.closed_at,
        "merged_at": p.merged_at,
        "merge_commit_sha": p.merge_commit_sha,
        "assignee": null,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "head": head,
        "base": branch_json(shared, &p.base),
        "_links": links,
        "author_association": "CONTRIBUTOR",
        "auto_merge": null,
        "draft": false,
    });
    if full {
        let extra = json!({
            "merged": p.merged,
            "mergeable": if p.state == "open" { Value::Bool(true) } else { Value::Null },
            "rebaseable": if p.state == "open" { Value::Bool(true) } else { Value::Null },
            "mergeable_state": if p.state == "open" { "clean" } else { "unknown" },
            "merged_by": null,
            "comments": 0,
            "review_comments": 0,
            "maintainer_can_modify": false,
            "commits": 1,
            "additions": 0,
            "deletions": 0,
            "changed_files": 0,
        });
        for (k, x) in extra.as_object().expect("an object") {
            v[k] = x.clone();
        }
    }
    v
}

fn branch_exists(shared: &Shared, branch: &str) -> bool {
    shared.git.read_ref(&format!("refs/heads/{branch}")).is_some()
}

/// `head` as the API takes it: `branch` or `{owner}:{branch}` (this repository's owner).
fn head_branch<'h>(shared: &Shared, head: &'h str) -> Option<&'h str> {
    match head.split_once(':') {
        Some((owner, branch)) if owner.eq_ignore_ascii_case(&shared.config.owner) => Some(branch),
        Some(_) => None,
        None => Some(head),
    }
}

pub(crate) fn create(shared: &Shared, state: &mut State, body: &Value) -> Reply {
    if state.pulls_forbidden {
        return Reply::error(403, "GitHub Actions is not permitted to create or approve pull requests.", DOC_CREATE);
    }
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    let (Some(title), Some(head), Some(base)) = (text("title"), text("head"), text("base")) else {
        return Reply::validation("PullRequest", "missing_field", "head", DOC_CREATE);
    };
    let Some(branch) = head_branch(shared, &head).filter(|b| branch_exists(shared, b)) else {
        return Reply::validation("PullRequest", "invalid", "head", DOC_CREATE);
    };
    if !branch_exists(shared, &base) {
        return Reply::validation("PullRequest", "invalid", "base", DOC_CREATE);
    }
    if state.pulls.values().any(|p| p.state == "open" && p.head == branch && p.base == base) {
        return Reply::json(
            422,
            json!({
                "message": "Validation Failed",
                "errors": [{
                    "resource": "PullRequest",
                    "code": "custom",
                    "message": format!("A pull request already exists for {}:{branch}.", shared.config.owner),
                }],
                "documentation_url": DOC_CREATE,
                "status": "422",
            }),
        );
    }
    let number = next_issue_number(state);
    let now = now_after(None);
    let p = PullRecord {
        number,
        title,
        body: text("body"),
        head: branch.to_string(),
        base,
        state: "open".into(),
        merged: false,
        created_at: now.clone(),
        updated_at: now,
        closed_at: None,
        merged_at: None,
        merge_commit_sha: None,
        user: crate::comments::BOT_LOGIN.into(),
    };
    state.issues.insert(number, crate::IssueKind::PullRequest);
    state.pulls.insert(number, p.clone());
    Reply::created(to_json(shared, &p, true))
}

/// The next number of the repository's one sequence of issues and pull requests.
pub(crate) fn next_issue_number(state: &State) -> u64 {
    state.issues.keys().next_back().copied().unwrap_or(0) + 1
}

pub(crate) fn list(shared: &Shared, state: &State, query: Option<&str>) -> Reply {
    let q = |k: &str| {
        pagination::query_param(query, k)
            .map(|v| percent_encoding::percent_decode_str(&v.replace('+', " ")).decode_utf8_lossy().into_owned())
    };
    let wanted_state = q("state").unwrap_or_else(|| "open".into());
    if !matches!(wanted_state.as_str(), "open" | "closed" | "all") {
        return Reply::validation(
            "PullRequest",
            "invalid",
            "state",
            "https://docs.github.com/rest/pulls/pulls#list-pull-requests",
        );
    }
    let head = q("head");
    let base = q("base");
    let mut items: Vec<&PullRecord> = state
        .pulls
        .values()
        .filter(|p| wanted_state == "all" || p.state == wanted_state)
        .filter(|p| head.as_deref().is_none_or(|h| head_branch(shared, h) == Some(p.head.as_str())))
        .filter(|p| base.as_deref().is_none_or(|b| p.base == b))
        .collect();
    items.reverse(); // newest first, as `sort=created&direction=desc` by default
    let (per_page, page) = pagination::page_params(query);
    let body: Vec<Value> =
        pagination::slice(&items, per_page, page).iter().map(|p| to_json(shared, p, false)).collect();
    let base_url = format!("{}/repositories/{}/pulls", shared.api_url, shared.repo_id);
    let mut reply = Reply::ok(Value::Array(body));
    if let Some(link) = pagination::link_header(&base_url, query, items.len(), per_page, page) {
        reply = reply.with_header("link", link);
    }
    reply
}

pub(crate) fn get(shared: &Shared, state: &State, number: u64) -> Reply {
    match state.pulls.get(&number) {
        Some(p) => Reply::ok(to_json(shared, p, true)),
        None => Reply::not_found(),
    }
}

pub(crate) fn update(shared: &Shared, state: &mut State, number: u64, body: &Value) -> Reply {
    let Some(p) = state.pulls.get_mut(&number) else { return Reply::not_found() };
    if let Some(title) = body.get("title").and_then(Value::as_str) {
        p.title = title.to_string();
    }
    if let Some(b) = body.get("body") {
        p.body = b.as_str().map(str::to_string);
    }
    match body.get("state").and_then(Value::as_str) {
        Some("closed") if p.state == "open" => {
            p.state = "closed".into();
            p.closed_at = Some(now_after(None));
        }
        Some("open") if p.state == "closed" && !p.merged => {
            p.state = "open".into();
            p.closed_at = None;
        }
        Some("open" | "closed") | None => {}
        Some(_) => return Reply::validation("PullRequest", "invalid", "state", DOC_UPDATE),
    }
    p.updated_at = now_after(Some(&p.updated_at));
    let p = p.clone();
    Reply::ok(to_json(shared, &p, true))
}

/// `Repository::merge_pull_request`: a merge commit of the head into the base (the head's tree,
/// both tips as parents), the pull request closed as merged. The head must contain the
/// base's tip, as the sync's branch, rebuilt on the base, does.
pub(crate) fn merge(shared: &Shared, state: &mut State, number: u64) -> Result<String, String> {
    let p = state.pulls.get(&number).cloned().ok_or(format!("no pull request #{number}"))?;
    if p.state != "open" {
        return Err(format!("pull request #{number} is {}", p.state));
    }
    let base_ref = format!("refs/heads/{}", p.base);
    let base_tip = shared.git.read_ref(&base_ref).ok_or("no base branch")?;
    let head_tip = shared.git.read_ref(&format!("refs/heads/{}", p.head)).ok_or("no head branch")?;
    if !shared.git.is_ancestor(&base_tip, &head_tip) {
        return Err(format!("pull request #{number} is behind its base; the stand-in only merges what contains it"));
    }
    let tree = shared.git.commit(&head_tip).ok_or("the head is no commit")?.tree;
    let who = crate::git::Ident::person(&shared.config.owner, chrono::Utc::now().timestamp());
    let message = format!("Merge pull request #{number} from {}/{}\n\n{}", shared.config.owner, p.head, p.title);
    let sha = shared.git.commit_tree(&tree, &[base_tip.clone(), head_tip], &message, &who, &who)?;
    shared.git.update_ref(&base_ref, &sha, Some(&base_tip))?;
    let now = format_time(chrono::Utc::now());
    let record = state.pulls.get_mut(&number).expect("checked above");
    record.state = "closed".into();
    record.merged = true;
    record.merged_at = Some(now.clone());
    record.closed_at = Some(now.clone());
    record.updated_at = now;
    record.merge_commit_sha = Some(sha.clone());
    Ok(sha)
}
