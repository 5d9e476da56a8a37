//! Milestones: storage rules, JSON shape and the REST handlers.
//!
//! Rules kept from GitHub: titles are unique per repository (compared case-insensitively,
//! see below), `state` defaults to open when listing, `due_on` is floored to Pacific midnight,
//! `updated_at` moves on every change, `closed_at` follows `state`, and numbers are never
//! reused.

use serde_json::{Map, Value, json};

use crate::pagination;
use crate::reply::Reply;
use crate::state::{Creator, Milestone, Shared, State, now_after};
use crate::{MilestoneRecord, SeedMilestone, floor_due_on};

const DOC_CREATE: &str = "https://docs.github.com/rest/issues/milestones#create-a-milestone";
const DOC_UPDATE: &str = "https://docs.github.com/rest/issues/milestones#update-a-milestone";

/// The JSON GitHub serves for a milestone (the full "Milestone" schema, so strict clients
/// such as octocrab's models parse it).
pub(crate) fn to_json(shared: &Shared, m: &Milestone) -> Value {
    let r = &m.record;
    let url = format!("{}/milestones/{}", shared.repo_api_url(), r.number);
    json!({
        "url": url,
        "html_url": r.html_url,
        "labels_url": format!("{url}/labels"),
        "id": m.id,
        "node_id": node_id("09:Milestone", m.id),
        "number": r.number,
        "state": r.state,
        "title": r.title,
        "description": r.description,
        "creator": creator_json(shared, m.creator),
        "open_issues": r.open_issues,
        "closed_issues": r.closed_issues,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "closed_at": r.closed_at,
        "due_on": r.due_on,
    })
}

/// GitHub's global node ids are base64 of `"{type tag}{id}"`, e.g. `09:Milestone1002604`.
pub(crate) fn node_id(tag: &str, id: impl std::fmt::Display) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{tag}{id}"))
}

/// The "Simple User" object of whoever made the milestone.
pub(crate) fn creator_json(shared: &Shared, creator: Creator) -> Value {
    match creator {
        Creator::Bot => user_json(shared, "github-actions[bot]", 41_898_282, "Bot"),
        Creator::Owner => user_json(shared, &shared.config.owner, 1_000_001, "User"),
    }
}

pub(crate) fn user_json(shared: &Shared, login: &str, id: u64, kind: &str) -> Value {
    let api = &shared.api_url;
    let user_url = format!("{api}/users/{}", login.replace('[', "%5B").replace(']', "%5D"));
    // GitHub links a bot to its app's page: `github-actions[bot]` → /apps/github-actions.
    let html_url = match login.strip_suffix("[bot]") {
        Some(app) => format!("https://github.com/apps/{app}"),
        None => format!("https://github.com/{login}"),
    };
    json!({
        "login": login,
        "id": id,
        "node_id": node_id("04:User", id),
        "avatar_url": format!("https://avatars.githubusercontent.com/u/{id}?v=4"),
        "gravatar_id": "",
        "url": user_url,
        "html_url": html_url,
        "followers_url": format!("{user_url}/followers"),
        "following_url": format!("{user_url}/following{{/other_user}}"),
        "gists_url": format!("{user_url}/gists{{/gist_id}}"),
        "starred_url": format!("{user_url}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{user_url}/subscriptions"),
        "organizations_url": format!("{user_url}/orgs"),
        "repos_url": format!("{user_url}/repos"),
        "events_url": format!("{user_url}/events{{/privacy}}"),
        "received_events_url": format!("{user_url}/received_events"),
        "type": kind,
        "user_view_type": "public",
        "site_admin": false,
    })
}

/// Whether `title` is taken by a milestone other than `except`.
///
/// Compared case-insensitively: GitHub's uniqueness check on milestone titles is backed by
/// a case-insensitive collation (we believe; unverified offline). Being stricter than GitHub
/// here only makes the product handle a 422 it must handle anyway.
fn title_taken(state: &State, title: &str, except: Option<u64>) -> bool {
    let wanted = title.to_lowercase();
    state.milestones.values().any(|m| Some(m.record.number) != except && m.record.title.to_lowercase() == wanted)
}

fn new_milestone(
    shared: &Shared,
    state: &mut State,
    title: String,
    description: Option<String>,
    open: bool,
    due_on: Option<String>,
    creator: Creator,
) -> MilestoneRecord {
    state.last_number += 1;
    let number = state.last_number;
    let now = now_after(None);
    let record = MilestoneRecord {
        number,
        title,
        description,
        state: if open { "open" } else { "closed" }.to_string(),
        due_on,
        created_at: now.clone(),
        updated_at: now.clone(),
        closed_at: if open { None } else { Some(now) },
        html_url: format!("{}/milestone/{number}", shared.html_url()),
        open_issues: 0,
        closed_issues: 0,
    };
    state.milestones.insert(number, Milestone { record: record.clone(), id: 9_000_000 + number, creator });
    record
}

/// `Repository::seed_milestone`: the API's rules without the API.
pub(crate) fn seed(shared: &Shared, state: &mut State, m: SeedMilestone) -> Result<MilestoneRecord, String> {
    if m.title.trim().is_empty() {
        return Err("a milestone needs a title".into());
    }
    if title_taken(state, &m.title, None) {
        return Err(format!("title {:?} is already taken", m.title));
    }
    let open = match m.state.as_str() {
        "" | "open" => true,
        "closed" => false,
        other => return Err(format!("state must be open or closed, not {other:?}")),
    };
    let due_on = match m.due_on {
        None => None,
        Some(d) => Some(floor_due_on(&d).ok_or_else(|| format!("due_on {d:?} is not RFC 3339"))?),
    };
    Ok(new_milestone(shared, state, m.title, m.description, open, due_on, Creator::Owner))
}

/// `Repository::edit_milestone`: a person's edit on github.com, with GitHub's bookkeeping.
pub(crate) fn edit(state: &mut State, number: u64, f: impl FnOnce(&mut MilestoneRecord)) {
    let m = state.milestones.get_mut(&number).unwrap_or_else(|| panic!("edit_milestone: no milestone #{number}"));
    let before = m.record.clone();
    f(&mut m.record);
    let r = &mut m.record;
    if r.due_on != before.due_on {
        r.due_on = r.due_on.as_deref().map(|d| floor_due_on(d).unwrap_or_else(|| d.to_string()));
    }
    let now = now_after(Some(&before.updated_at));
    if r.state != before.state && r.closed_at == before.closed_at {
        r.closed_at = (r.state == "closed").then(|| now.clone());
    }
    if r.updated_at == before.updated_at {
        r.updated_at = now;
    }
}

/// `GET /milestones`: filter by state (open by default), sort, paginate.
///
/// Sorting by `due_on`: milestones without a due date sort *before* dated ones in ascending
/// order and after them in descending order (SQL NULL ordering; GitHub users report "GitHub
/// returns milestones with no due date before milestones with due date", radekstepan/burnchart
/// #27). Ties break by number. `completeness` is open/closed issue ratio; with no issues
/// here every milestone is 0 %, so it sorts by number alone.
pub(crate) fn list(shared: &Shared, state: &State, query: Option<&str>) -> Reply {
    let wanted = pagination::query_param(query, "state").unwrap_or("open");
    let mut items: Vec<&Milestone> = state
        .milestones
        .values()
        .filter(|m| match wanted {
            "all" => true,
            "closed" => m.record.state == "closed",
            _ => m.record.state == "open",
        })
        .collect();
    let by_completeness = pagination::query_param(query, "sort") == Some("completeness");
    let descending = pagination::query_param(query, "direction") == Some("desc");
    items.sort_by(|a, b| {
        let primary = if by_completeness {
            std::cmp::Ordering::Equal
        } else {
            // `None < Some`, and the fixed-width UTC format orders like the instants.
            a.record.due_on.cmp(&b.record.due_on)
        };
        let primary = if descending { primary.reverse() } else { primary };
        primary.then(a.record.number.cmp(&b.record.number))
    });
    let (per_page, page) = pagination::page_params(query);
    let body: Vec<Value> = pagination::slice(&items, per_page, page).iter().map(|m| to_json(shared, m)).collect();
    let base = format!("{}/repositories/{}/milestones", shared.api_url, shared.repo_id);
    let mut reply = Reply::ok(Value::Array(body));
    if let Some(link) = pagination::link_header(&base, query, items.len(), per_page, page) {
        reply = reply.with_header("link", link);
    }
    reply
}

pub(crate) fn get(shared: &Shared, state: &State, number: u64) -> Reply {
    match state.milestones.get(&number) {
        Some(m) => Reply::ok(to_json(shared, m)),
        None => Reply::not_found(),
    }
}

pub(crate) fn delete(state: &mut State, number: u64) -> Reply {
    match state.milestones.remove(&number) {
        Some(_) => Reply::no_content(),
        None => Reply::not_found(),
    }
}

/// Reads `state` from a request body: absent means `keep`, anything but open/closed is 422.
fn parse_state(body: &Map<String, Value>, keep: bool, doc: &str) -> Result<bool, Reply> {
    match body.get("state") {
        None | Some(Value::Null) => Ok(keep),
        Some(Value::String(s)) if s == "open" => Ok(true),
        Some(Value::String(s)) if s == "closed" => Ok(false),
        Some(_) => Err(Reply::validation("Milestone", "invalid", "state", doc)),
    }
}

/// Reads `due_on`: `Ok(None)` absent, `Ok(Some(None))` explicit null (clears),
/// `Ok(Some(Some(d)))` a floored date.
fn parse_due_on(body: &Map<String, Value>, doc: &str) -> Result<Option<Option<String>>, Reply> {
    match body.get("due_on") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => floor_due_on(s)
            .map(|d| Some(Some(d)))
            .ok_or_else(|| Reply::validation("Milestone", "invalid", "due_on", doc)),
        Some(_) => Err(Reply::validation("Milestone", "invalid", "due_on", doc)),
    }
}

fn parse_description(body: &Map<String, Value>, doc: &str) -> Result<Option<Option<String>>, Reply> {
    match body.get("description") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
        Some(_) => Err(Reply::validation("Milestone", "invalid", "description", doc)),
    }
}

pub(crate) fn create(shared: &Shared, state: &mut State, body: &Value) -> Reply {
    let Some(body) = body.as_object() else {
        return Reply::bad_json();
    };
    let title = match body.get("title") {
        Some(Value::String(t)) if !t.trim().is_empty() => t.clone(),
        _ => return Reply::validation("Milestone", "missing_field", "title", DOC_CREATE),
    };
    let open = match parse_state(body, true, DOC_CREATE) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let due_on = match parse_due_on(body, DOC_CREATE) {
        Ok(d) => d.flatten(),
        Err(r) => return r,
    };
    let description = match parse_description(body, DOC_CREATE) {
        Ok(d) => d.flatten(),
        Err(r) => return r,
    };
    if title_taken(state, &title, None) {
        return Reply::validation("Milestone", "already_exists", "title", DOC_CREATE);
    }
    let record = new_milestone(shared, state, title, description, open, due_on, Creator::Bot);
    Reply::created(to_json(shared, &state.milestones[&record.number]))
}

/// `PATCH`: only the fields present change; `"due_on": null` clears the date.
pub(crate) fn update(shared: &Shared, state: &mut State, number: u64, body: &Value) -> Reply {
    let Some(body) = body.as_object() else {
        return Reply::bad_json();
    };
    let Some(current) = state.milestones.get(&number).map(|m| m.record.clone()) else {
        return Reply::not_found();
    };
    let title = match body.get("title") {
        None => None,
        Some(Value::String(t)) if !t.trim().is_empty() => Some(t.clone()),
        Some(_) => return Reply::validation("Milestone", "missing_field", "title", DOC_UPDATE),
    };
    let open = match parse_state(body, current.state == "open", DOC_UPDATE) {
        Ok(o) => o,
        Err(r) => return r,
    };
    let due_on = match parse_due_on(body, DOC_UPDATE) {
        Ok(d) => d,
        Err(r) => return r,
    };
    let description = match parse_description(body, DOC_UPDATE) {
        Ok(d) => d,
        Err(r) => return r,
    };
    if title.as_deref().is_some_and(|t| title_taken(state, t, Some(number))) {
        return Reply::validation("Milestone", "already_exists", "title", DOC_UPDATE);
    }
    let m = state.milestones.get_mut(&number).expect("checked above");
    let r = &mut m.record;
    let before = r.clone();
    let now = now_after(Some(&r.updated_at));
    if let Some(t) = title {
        r.title = t;
    }
    if let Some(d) = description {
        r.description = d;
    }
    if let Some(d) = due_on {
        r.due_on = d;
    }
    let new_state = if open { "open" } else { "closed" };
    if r.state != new_state {
        r.state = new_state.to_string();
        r.closed_at = (!open).then(|| now.clone());
    }
    // Like a Rails save, a PATCH that changes nothing leaves updated_at alone.
    if *r != before {
        r.updated_at = now;
    }
    Reply::ok(to_json(shared, m))
}
