//! `GET /repos/{owner}/{repo}`: the full repository object.
//!
//! The body is GitHub's own OpenAPI example (`@octokit/openapi` 23.0.2, MIT; see
//! tests/fixtures/README.md) with names, URLs, ids and the default branch filled in, so
//! every field a client may read is present and shaped as GitHub's.

use serde_json::{Value, json};

use crate::reply::Reply;
use crate::state::Shared;

const TEMPLATE: &str = include_str!("repository.json");

pub(crate) fn to_json(shared: &Shared) -> Value {
    let text = TEMPLATE
        .replace("@API@", &shared.api_url)
        .replace("@OWNER@", &shared.config.owner)
        .replace("@REPO@", &shared.config.repo);
    let mut v: Value = serde_json::from_str(&text).expect("repository.json is valid JSON");
    v["id"] = json!(shared.repo_id);
    v["node_id"] = json!(crate::milestones::node_id("010:Repository", shared.repo_id));
    v["default_branch"] = json!(shared.config.default_branch);
    v["mirror_url"] = Value::Null;
    v["homepage"] = Value::Null;
    v["description"] = Value::Null;
    v["private"] = json!(false);
    // Required by the schema although GitHub's own example leaves it out.
    v["language"] = Value::Null;
    v["visibility"] = json!("public");
    v["owner"]["id"] = json!(1_000_001);
    v["owner"]["node_id"] = json!(crate::milestones::node_id("04:User", 1_000_001));
    v
}

pub(crate) fn get(shared: &Shared) -> Reply {
    Reply::ok(to_json(shared))
}
