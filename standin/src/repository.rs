//! `GET /repos/{owner}/{repo}`: the full repository object.
//!
//! The body is GitHub's own OpenAPI example (`@octokit/openapi` 23.0.2, MIT; see
//! tests/fixtures/README.md) with names, URLs, ids and the default branch filled in, so
//! every field a client may read is present and shaped as GitHub's. A fork
//! ([`crate::Repository::set_fork`]) says `"fork": true` and carries `parent` and `source`,
//! as GitHub's does: both name `upstream/{repo}`, a repository the stand-in does not host.

use serde_json::{Value, json};

use crate::reply::Reply;
use crate::state::Shared;

const TEMPLATE: &str = include_str!("repository.json");

/// The owner of the repository a fork was made from.
const UPSTREAM_OWNER: &str = "upstream";

/// Ids of upstream repositories and their owner: apart from the hosted ones'.
const UPSTREAM_ID_OFFSET: u64 = 100_000_000;
const UPSTREAM_OWNER_ID: u64 = 1_000_002;

/// The repository object of `shared`, with `fork` and, for a fork, `parent` and `source`.
pub(crate) fn to_json(shared: &Shared) -> Value {
    let mut v = object(
        &shared.api_url,
        &shared.config.owner,
        &shared.config.repo,
        shared.repo_id,
        1_000_001,
        &shared.config.default_branch,
    );
    if shared.is_fork() {
        v["fork"] = json!(true);
        let upstream = object(
            &shared.api_url,
            UPSTREAM_OWNER,
            &shared.config.repo,
            shared.repo_id - UPSTREAM_ID_OFFSET,
            UPSTREAM_OWNER_ID,
            &shared.config.default_branch,
        );
        // The repository it was forked from, and the root of the fork network: the same
        // one for a fork of a repository that is not itself a fork.
        v["parent"] = upstream.clone();
        v["source"] = upstream;
    }
    v
}

fn object(api_url: &str, owner: &str, repo: &str, id: u64, owner_id: u64, default_branch: &str) -> Value {
    let text = TEMPLATE.replace("@API@", api_url).replace("@OWNER@", owner).replace("@REPO@", repo);
    let mut v: Value = serde_json::from_str(&text).expect("repository.json is valid JSON");
    v["id"] = json!(id);
    v["node_id"] = json!(crate::milestones::node_id("010:Repository", id));
    v["default_branch"] = json!(default_branch);
    v["mirror_url"] = Value::Null;
    v["homepage"] = Value::Null;
    v["description"] = Value::Null;
    v["private"] = json!(false);
    // Required by the schema although GitHub's own example leaves it out.
    v["language"] = Value::Null;
    v["visibility"] = json!("public");
    v["owner"]["id"] = json!(owner_id);
    v["owner"]["node_id"] = json!(crate::milestones::node_id("04:User", owner_id));
    v
}

pub(crate) fn get(shared: &Shared) -> Reply {
    Reply::ok(to_json(shared))
}
