//! The HTTP side: one fallback handler that finds the hosted repository a path names,
//! authenticates against it, applies its injected faults and simulated pushes, routes by
//! path segments, and adds GitHub's common headers (see the crate doc for what is answered
//! and logged where, when the server hosts several repositories).
//!
//! Routing by hand rather than with axum's router lets `/repos/{o}/{r}/…` and
//! `/repositories/{id}/…` (the form GitHub puts in `Link` headers) share every route, and
//! lets ref names and file paths contain slashes.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, State as AxumState};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

use crate::faults::{self, ChaosStrike, Fault};
use crate::graphql;
use crate::reply::Reply;
use crate::state::{Hosts, Shared, State};
use crate::{RequestRecord, comments, commits, compare, git_api, milestones, pagination, pulls, repository};

/// What happens after a request was handled, besides answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum After {
    /// Answer at once.
    Answer,
    /// Send the status line, then cut the connection (the answer never arrives whole).
    Drop,
    /// Answer after this delay.
    Delay(std::time::Duration),
    /// Hold the answer until the test releases it ([`crate::Repository::hold_after_write`]).
    Hold,
}

pub(crate) fn router(hosts: Arc<Hosts>) -> Router {
    Router::new().fallback(handle).layer(DefaultBodyLimit::max(64 * 1024 * 1024)).with_state(hosts)
}

/// What the blocking side needs of a request.
pub(crate) struct Incoming {
    method: String,
    path: String,
    query: Option<String>,
    authorization: Option<String>,
    /// Every `User-Agent` line of the request (GitHub refuses a request without one).
    user_agents: Vec<String>,
    body: Bytes,
}

/// What the token of a request may do with the repository the request addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// The token reaches the repository (or the request addresses none: it is handled, and
    /// answered 404, as before there were several repositories).
    Granted,
    /// No hosted repository accepts the token: 401 "Bad credentials".
    BadCredentials,
    /// The token is good, but for other repositories only: 404, as GitHub answers about a
    /// repository the token cannot see (it does not tell that the repository exists).
    Hidden,
}

async fn handle(
    AxumState(hosts): AxumState<Arc<Hosts>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // A simulated network and server delay, before anything is handled; it does not hold
    // any state lock, so concurrent requests wait side by side as they would on GitHub.
    let latency = hosts.latency_nanos.load(Ordering::Relaxed);
    if latency > 0 {
        tokio::time::sleep(std::time::Duration::from_nanos(latency)).await;
    }
    let req = Incoming {
        method: method.as_str().to_string(),
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
        authorization: headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_string),
        user_agents: headers
            .get_all(header::USER_AGENT)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect(),
        body,
    };
    // Git runs as subprocesses: keep that off the async workers.
    let worker = hosts.clone();
    let Ok((reply, after, shared)) = tokio::task::spawn_blocking(move || dispatch(&worker, req)).await else {
        return into_response(Reply::error(500, "github-standin panicked", "https://docs.github.com/rest"));
    };
    match after {
        After::Answer => {}
        After::Delay(delay) => tokio::time::sleep(delay).await,
        After::Hold => {
            shared.held.store(true, Ordering::SeqCst);
            shared.release.notified().await;
            shared.held.store(false, Ordering::SeqCst);
        }
        After::Drop => return dropped(reply),
    }
    into_response(reply)
}

/// Finds the repository a request addresses and decides what its token may do there, then
/// serves it in that repository. A request that addresses no hosted repository (another
/// path, or a repository the server does not host) is served in, and logged by, the
/// primary repository, which answers 404 (or 401 to an unknown token), as before there
/// were several.
fn dispatch(hosts: &Hosts, req: Incoming) -> (Reply, After, Arc<Shared>) {
    let token = bearer_token(req.authorization.as_deref());
    let known = token.is_some_and(|t| hosts.all().iter().any(|s| s.accepts(t)));
    let named = if graphql::is_graphql(&req.path) {
        graphql::addressed(&req.body).and_then(|(owner, repo)| hosts.by_name(&owner, &repo))
    } else {
        addressed(hosts, &req.path)
    };
    let (shared, access) = match named {
        Some(shared) => {
            let access = match token {
                _ if !known => Access::BadCredentials,
                Some(t) if shared.accepts(t) => Access::Granted,
                _ => Access::Hidden,
            };
            (shared, access)
        }
        None => (hosts.primary(), if known { Access::Granted } else { Access::BadCredentials }),
    };
    let (reply, after) = serve(&shared, req, access);
    (reply, after, shared)
}

/// The hosted repository a path names, by `/repos/{owner}/{repo}` or `/repositories/{id}`.
fn addressed(hosts: &Hosts, path: &str) -> Option<Arc<Shared>> {
    let segs = decoded_segments(path);
    match segs.as_slice() {
        [repos, o, r, ..] if repos == "repos" => hosts.by_name(o, r),
        [repositories, id, ..] if repositories == "repositories" => hosts.by_id(id),
        _ => None,
    }
}

/// Handles one request under the lock of its repository's state, then logs it there and
/// adds the common headers.
///
/// A request refused for its token (401, or 404 for a repository the token cannot see) is
/// logged like any other but neither counted against the rate limit nor given to the
/// queued faults.
fn serve(shared: &Shared, req: Incoming, access: Access) -> (Reply, After) {
    let mut state = shared.lock();
    let now = chrono::Utc::now().timestamp();
    state.rate.roll(now);
    let (mut reply, after) = match access {
        // GitHub refuses a request without a User-Agent before anything else.
        _ if req.user_agents.is_empty() => (no_user_agent(), After::Answer),
        Access::BadCredentials => (Reply::bad_credentials(), After::Answer),
        Access::Hidden if graphql::is_graphql(&req.path) => {
            let (owner, repo) = graphql::addressed(&req.body).unwrap_or_default();
            (graphql::repository_not_found(&owner, &repo), After::Answer)
        }
        Access::Hidden => (repository_not_found(&req.method, &decoded_segments(&req.path)), After::Answer),
        // The primary limit is used up: refused before anything is handled, and not
        // counted (GitHub answers 403 or 429; 403 is what a token sees).
        Access::Granted if state.rate.remaining() == 0 => (primary_limit_refusal(), After::Answer),
        Access::Granted => {
            state.rate.used += 1;
            answer(shared, &mut state, &req)
        }
    };
    let common = [
        ("x-ratelimit-limit", state.rate.limit.to_string()),
        ("x-ratelimit-remaining", state.rate.remaining().to_string()),
        ("x-ratelimit-used", state.rate.used.to_string()),
        ("x-ratelimit-reset", state.rate.reset.to_string()),
        ("x-ratelimit-resource", "core".to_string()),
        ("x-github-media-type", "github.v3; format=json".to_string()),
        ("x-github-api-version-selected", "2022-11-28".to_string()),
        ("x-github-request-id", format!("0000:0000:{:07X}:{:07X}:00000000", state.log.len(), state.rate.used)),
    ];
    for (name, value) in common {
        if !reply.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            reply.headers.push((name.to_string(), value));
        }
    }
    state.log.push(RequestRecord {
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
        status: if after == After::Drop { 0 } else { reply.status },
        user_agents: req.user_agents.clone(),
    });
    (reply, after)
}

/// GitHub's answer to a request without a `User-Agent` header (its REST docs: "Requests with
/// no User-Agent header will be rejected"; the body as api.github.com sends it).
fn no_user_agent() -> Reply {
    Reply::error(
        403,
        "Request forbidden by administrative rules. Please make sure your request has a User-Agent header \
         (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check \
         https://developer.github.com for other possible causes.",
        "https://docs.github.com/rest/using-the-rest-api/getting-started-with-the-rest-api#user-agent",
    )
}

/// The path's segments, percent-decoded.
fn decoded_segments(path: &str) -> Vec<String> {
    path.split('/').filter(|s| !s.is_empty()).map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned()).collect()
}

/// GitHub's 404 for a repository that does not exist or that the token cannot see (GitHub
/// does not tell them apart): "Not Found", with the documentation of the operation asked
/// for, e.g. `{"message": "Not Found", "documentation_url":
/// "https://docs.github.com/rest/repos/repos#get-a-repository", "status": "404"}`.
/// `segs` is the whole decoded path.
fn repository_not_found(method: &str, segs: &[String]) -> Reply {
    let rest: Vec<&str> = match segs.first().map(String::as_str) {
        Some("repos") => segs.iter().skip(3).map(String::as_str).collect(),
        Some("repositories") => segs.iter().skip(2).map(String::as_str).collect(),
        _ => return Reply::not_found(),
    };
    Reply::error(404, "Not Found", operation_doc(method, &rest))
}

/// The documentation page of an operation on a repository, as GitHub names it in errors;
/// `rest` are the segments after the repository.
fn operation_doc(method: &str, rest: &[&str]) -> &'static str {
    match (method, rest) {
        ("GET", []) => "https://docs.github.com/rest/repos/repos#get-a-repository",
        ("GET", ["milestones"]) => "https://docs.github.com/rest/issues/milestones#list-milestones",
        ("POST", ["milestones"]) => "https://docs.github.com/rest/issues/milestones#create-a-milestone",
        ("GET", ["milestones", _]) => "https://docs.github.com/rest/issues/milestones#get-a-milestone",
        ("PATCH", ["milestones", _]) => "https://docs.github.com/rest/issues/milestones#update-a-milestone",
        ("DELETE", ["milestones", _]) => "https://docs.github.com/rest/issues/milestones#delete-a-milestone",
        ("GET", ["issues", _, "comments"]) => "https://docs.github.com/rest/issues/comments#list-issue-comments",
        ("POST", ["issues", _, "comments"]) => "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
        ("PATCH", ["issues", "comments", _]) => "https://docs.github.com/rest/issues/comments#update-an-issue-comment",
        ("GET", ["pulls"]) => "https://docs.github.com/rest/pulls/pulls#list-pull-requests",
        ("POST", ["pulls"]) => "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
        ("GET", ["pulls", _]) => "https://docs.github.com/rest/pulls/pulls#get-a-pull-request",
        ("PATCH", ["pulls", _]) => "https://docs.github.com/rest/pulls/pulls#update-a-pull-request",
        ("GET", ["git", "ref", ..]) => "https://docs.github.com/rest/git/refs#get-a-reference",
        ("GET", ["git", "matching-refs", ..]) => "https://docs.github.com/rest/git/refs#list-matching-references",
        ("POST", ["git", "refs"]) => "https://docs.github.com/rest/git/refs#create-a-reference",
        ("PATCH", ["git", "refs", ..]) => "https://docs.github.com/rest/git/refs#update-a-reference",
        ("DELETE", ["git", "refs", ..]) => "https://docs.github.com/rest/git/refs#delete-a-reference",
        ("GET", ["git", "commits", _]) => "https://docs.github.com/rest/git/commits#get-a-commit-object",
        ("POST", ["git", "commits"]) => "https://docs.github.com/rest/git/commits#create-a-commit",
        ("GET", ["git", "trees", _]) => "https://docs.github.com/rest/git/trees#get-a-tree",
        ("POST", ["git", "trees"]) => "https://docs.github.com/rest/git/trees#create-a-tree",
        ("GET", ["git", "blobs", _]) => "https://docs.github.com/rest/git/blobs#get-a-blob",
        ("POST", ["git", "blobs"]) => "https://docs.github.com/rest/git/blobs#create-a-blob",
        ("GET", ["compare", ..]) => "https://docs.github.com/rest/commits/commits#compare-two-commits",
        ("GET", ["commits"]) => "https://docs.github.com/rest/commits/commits#list-commits",
        ("GET", ["contents", ..]) => "https://docs.github.com/rest/repos/contents#get-repository-content",
        _ => "https://docs.github.com/rest",
    }
}

/// GitHub's answer once the primary rate limit is used up.
fn primary_limit_refusal() -> Reply {
    Reply::error(
        403,
        "API rate limit exceeded for installation ID 700100200. If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000 and timestamp 2026-01-01 00:00:00 UTC.",
        "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
    )
}

/// The token of an `Authorization: Bearer <token>` (or `token <token>`) header.
fn bearer_token(authorization: Option<&str>) -> Option<&str> {
    let (scheme, token) = authorization?.trim().split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token")).then(|| token.trim())
}

fn is_write(method: &str) -> bool {
    matches!(method, "POST" | "PATCH" | "PUT" | "DELETE")
}

fn answer(shared: &Shared, state: &mut State, req: &Incoming) -> (Reply, After) {
    if let Some(i) = state.branch_moves.iter().position(|m| m.trigger.matches(&req.method, &req.path)) {
        let m = state.branch_moves.remove(i);
        if let Err(e) = shared.git.commit_files(&shared.config.default_branch, &m.files, &m.message) {
            eprintln!("github-standin: move_branch_when could not commit: {e}");
        }
    }
    if let Some(i) = state.seeds_when.iter().position(|(t, _)| t.matches(&req.method, &req.path)) {
        let (_, seed) = state.seeds_when.remove(i);
        if let Err(e) = milestones::seed(shared, state, seed) {
            eprintln!("github-standin: seed_milestone_when could not seed: {e}");
        }
    }
    // What to do once the request was handled: answer, lose the answer (502), cut the
    // connection, or answer late.
    let mut lose_answer = false;
    let mut after = After::Answer;
    match faults::take_matching(&mut state.faults, &req.method, &req.path) {
        Some(Fault::Status { status, body, .. }) => return (Reply::json(status, body), After::Answer),
        Some(Fault::StatusWithHeaders { status, headers, body, .. }) => {
            let mut r = Reply::json(status, body);
            r.headers = headers;
            return (r, After::Answer);
        }
        Some(Fault::LostAnswer { .. }) => lose_answer = true,
        Some(Fault::DroppedAnswer { .. }) => after = After::Drop,
        Some(Fault::SlowAnswer { delay, .. }) => after = After::Delay(delay),
        None => {}
    }
    if state.read_only && is_write(&req.method) {
        return (
            Reply::error(403, "Resource not accessible by integration", "https://docs.github.com/rest"),
            After::Answer,
        );
    }
    let write = is_write(&req.method);
    if after == After::Answer && !lose_answer {
        match state.chaos.as_mut().and_then(|c| c.strike(write)) {
            Some(ChaosStrike::Before(status)) => {
                return (Reply::error(status, "Server Error", "https://docs.github.com/rest"), After::Answer);
            }
            Some(ChaosStrike::LoseAnswer) => lose_answer = true,
            None => {}
        }
    }
    let reply = route(shared, state, req);
    if write && (200..300).contains(&reply.status) {
        state.writes_done += 1;
        if state.hold_after_write == Some(state.writes_done) {
            state.hold_after_write = None;
            after = After::Hold;
        }
    }
    if lose_answer {
        return (Reply::json(502, json!({"message": "Server Error"})), after);
    }
    (reply, after)
}

/// The path segments after the repository prefix, decoded; `None` for another repository.
fn repo_segments(shared: &Shared, path: &str) -> Option<Vec<String>> {
    let segs = decoded_segments(path);
    match segs.as_slice() {
        [repos, o, r, ..] if repos == "repos" && shared.is_named(o, r) => Some(segs[3..].to_vec()),
        [repositories, id, ..] if repositories == "repositories" && *id == shared.repo_id.to_string() => {
            Some(segs[2..].to_vec())
        }
        _ => None,
    }
}

fn json_body(req: &Incoming) -> Result<Value, Reply> {
    if req.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_slice(&req.body).map_err(|_| Reply::bad_json())
}

fn route(shared: &Shared, state: &mut State, req: &Incoming) -> Reply {
    if graphql::is_graphql(&req.path) {
        return match (req.method.as_str(), graphql::addressed(&req.body)) {
            ("POST", Some((owner, repo))) if !shared.is_named(&owner, &repo) => {
                graphql::repository_not_found(&owner, &repo)
            }
            ("POST", _) => graphql::post(shared, state, &req.body),
            _ => Reply::not_found(),
        };
    }
    let Some(segs) = repo_segments(shared, &req.path) else {
        // A repository this server does not host.
        return repository_not_found(&req.method, &decoded_segments(&req.path));
    };
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let query = req.query.as_deref();
    let body = || json_body(req);
    let with_body = |f: &mut dyn FnMut(&Value) -> Reply| match body() {
        Ok(v) => f(&v),
        Err(r) => r,
    };
    let method = req.method.as_str();
    match (method, segs.as_slice()) {
        ("GET", []) => repository::get(shared),
        ("GET", ["milestones"]) => milestones::list(shared, state, query),
        ("POST", ["milestones"]) => with_body(&mut |b| milestones::create(shared, state, b)),
        (_, ["milestones", n, rest @ ..]) => {
            let Ok(n) = n.parse::<u64>() else {
                return Reply::not_found();
            };
            match (method, rest) {
                ("GET", []) => milestones::get(shared, state, n),
                ("PATCH", []) => with_body(&mut |b| milestones::update(shared, state, n, b)),
                ("DELETE", []) => milestones::delete(state, n),
                ("GET", ["labels"]) if state.milestones.contains_key(&n) => Reply::ok(json!([])),
                _ => Reply::not_found(),
            }
        }
        (_, ["issues", "comments", id]) => {
            let Ok(id) = id.parse::<u64>() else {
                return Reply::not_found();
            };
            match method {
                "GET" => comments::get(shared, state, id),
                "PATCH" => with_body(&mut |b| comments::update(shared, state, id, b)),
                "DELETE" => comments::delete(state, id),
                _ => Reply::not_found(),
            }
        }
        (_, ["issues", n, "comments"]) => {
            let Ok(n) = n.parse::<u64>() else {
                return Reply::not_found();
            };
            match method {
                "GET" => comments::list(shared, state, n, query),
                "POST" => with_body(&mut |b| comments::create(shared, state, n, b)),
                _ => Reply::not_found(),
            }
        }
        ("GET", ["pulls"]) => pulls::list(shared, state, query),
        ("POST", ["pulls"]) => with_body(&mut |b| pulls::create(shared, state, b)),
        (_, ["pulls", n]) => {
            let Ok(n) = n.parse::<u64>() else { return Reply::not_found() };
            match method {
                "GET" => pulls::get(shared, state, n),
                "PATCH" => with_body(&mut |b| pulls::update(shared, state, n, b)),
                _ => Reply::not_found(),
            }
        }
        ("GET", ["git", "ref", r @ ..]) if !r.is_empty() => git_api::get_ref(shared, &r.join("/")),
        ("GET", ["git", "matching-refs", r @ ..]) => git_api::list_refs(shared, &r.join("/"), false),
        ("GET", ["git", "refs", r @ ..]) => git_api::list_refs(shared, &r.join("/"), !r.is_empty()),
        ("POST", ["git", "refs"]) => with_body(&mut |b| git_api::create_ref(shared, b)),
        ("PATCH", ["git", "refs", r @ ..]) if !r.is_empty() => {
            let branch = &shared.config.default_branch;
            match state.protection {
                Some(p) if r.join("/") == format!("heads/{branch}") => {
                    let (status, body) = p.refusal(branch);
                    Reply::json(status, body)
                }
                _ => with_body(&mut |b| git_api::update_ref(shared, &r.join("/"), b)),
            }
        }
        ("DELETE", ["git", "refs", r @ ..]) if !r.is_empty() => git_api::delete_ref(shared, &r.join("/")),
        ("GET", ["git", "commits", sha]) => git_api::get_commit(shared, state, sha),
        ("POST", ["git", "commits"]) => with_body(&mut |b| git_api::create_commit(shared, state, b)),
        ("GET", ["git", "trees", sha]) => git_api::get_tree(shared, sha, query),
        ("POST", ["git", "trees"]) => with_body(&mut |b| git_api::create_tree(shared, b)),
        ("GET", ["git", "blobs", sha]) => git_api::get_blob(shared, sha),
        ("POST", ["git", "blobs"]) => with_body(&mut |b| git_api::create_blob(shared, b)),
        ("GET", ["compare", basehead @ ..]) if !basehead.is_empty() => compare::get(shared, state, &basehead.join("/")),
        ("GET", ["commits"]) => commits::list(shared, state, query),
        ("GET", ["contents", p @ ..]) => {
            let git_ref =
                pagination::query_param(query, "ref").map(|r| percent_decode_str(r).decode_utf8_lossy().into_owned());
            git_api::get_contents(shared, &p.join("/"), git_ref.as_deref())
        }
        _ => Reply::not_found(),
    }
}

/// The status line and headers, then a body that fails: the connection is cut before the
/// answer is complete, as when a proxy or the network drops it.
fn dropped(reply: Reply) -> Response {
    let failing = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "answer dropped"))
    });
    let mut resp = Response::new(Body::from_stream(failing));
    *resp.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    resp
}

fn into_response(reply: Reply) -> Response {
    let body = match &reply.body {
        Some(v) => Body::from(serde_json::to_vec(v).expect("JSON serialises")),
        None => Body::empty(),
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    for (name, value) in reply.headers {
        if let (Ok(n), Ok(v)) = (HeaderName::try_from(name.as_str()), HeaderValue::try_from(value.as_str())) {
            h.append(n, v);
        }
    }
    resp
}
