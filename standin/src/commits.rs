//! `GET /repos/{o}/{r}/commits`: the commits of a branch, newest first, paged with `Link`;
//! with `path`, only those that changed it. The sync asks for one (`per_page=1`) to learn when
//! a file last changed, where the checkout has no git history to tell.

use percent_encoding::percent_decode_str;
use serde_json::Value;

use crate::compare::commit_json;
use crate::pagination;
use crate::reply::Reply;
use crate::state::{Shared, State};

const DOC_LIST: &str = "https://docs.github.com/rest/commits/commits#list-commits";

/// `GET commits?sha=&path=&per_page=&page=`; `sha` is a branch or commit (the default branch
/// when absent). An unknown `sha` answers 404 like GitHub ("No commit found for SHA: …"); a
/// `path` no commit touched gives an empty list.
pub(crate) fn list(shared: &Shared, state: &State, query: Option<&str>) -> Reply {
    let decode = |v: &str| percent_decode_str(&v.replace('+', " ")).decode_utf8_lossy().into_owned();
    let rev = pagination::query_param(query, "sha").map(decode).unwrap_or_else(|| shared.config.default_branch.clone());
    let path = pagination::query_param(query, "path").map(decode).filter(|p| !p.is_empty());
    let Some(head) = shared.git.resolve(&rev, "commit") else {
        return Reply::error(404, &format!("No commit found for SHA: {rev}"), DOC_LIST);
    };
    let shas = shared.git.history(&head, path.as_deref());
    let (per_page, page) = pagination::page_params(query);
    let body: Vec<Value> = pagination::slice(&shas, per_page, page)
        .iter()
        .filter_map(|sha| shared.git.commit(sha).map(|c| commit_json(shared, state, sha, &c)))
        .collect();
    let base = format!("{}/repositories/{}/commits", shared.api_url, shared.repo_id);
    let mut reply = Reply::ok(Value::Array(body));
    if let Some(link) = pagination::link_header(&base, query, shas.len(), per_page, page) {
        reply = reply.with_header("link", link);
    }
    reply
}
