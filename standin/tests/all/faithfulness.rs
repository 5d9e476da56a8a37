//! The stand-in's answers against GitHub's own description of them: the response schemas
//! of GitHub's OpenAPI description, recordings of real answers, and octocrab's strict models.
//! Fixtures and their provenance: tests/fixtures/README.md.

use crate::common::{Env, OWNER, REPO, git, repo_path, start};
use github_standin::SeedMilestone;
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// OpenAPI 3.0's `nullable: true` is not JSON Schema: turn it into a type union (or an
/// `anyOf` with null when there is no `type`), recursively.
fn to_json_schema(v: &Value) -> Value {
    match v {
        Value::Array(items) => Value::Array(items.iter().map(to_json_schema).collect()),
        Value::Object(map) => {
            let mut out: serde_json::Map<String, Value> = map
                .iter()
                .filter(|(k, _)| k.as_str() != "nullable" && k.as_str() != "example" && k.as_str() != "examples")
                .map(|(k, v)| {
                    // `properties` maps names to schemas: a property may be called "example".
                    if k == "properties" {
                        let props =
                            v.as_object().unwrap().iter().map(|(p, s)| (p.clone(), to_json_schema(s))).collect();
                        (k.clone(), Value::Object(props))
                    } else {
                        (k.clone(), to_json_schema(v))
                    }
                })
                .collect();
            if map.get("nullable") == Some(&Value::Bool(true)) {
                if let Some(Value::Array(e)) = out.get_mut("enum") {
                    e.push(Value::Null);
                }
                match out.get("type").cloned() {
                    Some(Value::String(t)) => {
                        out.insert("type".into(), json!([t, "null"]));
                    }
                    _ => return json!({"anyOf": [Value::Object(out), {"type": "null"}]}),
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

fn assert_matches_schema(operation: &str, instance: &Value) {
    let all = fixture("openapi-responses.json");
    let schema = to_json_schema(&all[operation]["schema"]);
    assert!(schema.is_object(), "no schema for {operation}");
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("{operation}: schema does not compile: {e}"));
    let errors: Vec<String> =
        validator.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{operation}: {errors:#?}\n{instance:#}");
}

/// Makes one commit through the API and returns (blob sha, tree sha, commit sha).
fn commit_through_api(env: &Env) -> (String, String, String) {
    let head = env.head();
    let blob = env.post(&repo_path("/git/blobs"), json!({"content": "hi\n", "encoding": "utf-8"}));
    assert_matches_schema("POST /repos/{owner}/{repo}/git/blobs 201", &blob.body);
    let blob_sha = blob.body["sha"].as_str().unwrap().to_string();
    let base = git(&env.git_dir(), &["rev-parse", "main^{tree}"]);
    let tree = env.post(
        &repo_path("/git/trees"),
        json!({"base_tree": base, "tree": [
            {"path": "a/b.md", "mode": "100644", "type": "blob", "sha": blob_sha}
        ]}),
    );
    assert_matches_schema("POST /repos/{owner}/{repo}/git/trees 201", &tree.body);
    let tree_sha = tree.body["sha"].as_str().unwrap().to_string();
    let commit = env.post(&repo_path("/git/commits"), json!({"message": "m", "tree": tree_sha, "parents": [head]}));
    assert_matches_schema("POST /repos/{owner}/{repo}/git/commits 201", &commit.body);
    (blob_sha, tree_sha, commit.body["sha"].as_str().unwrap().to_string())
}

#[test]
fn milestone_answers_match_openapi_schemas() {
    let env = start();
    env.standin.seed_milestone(SeedMilestone { title: "seeded".into(), state: "closed".into(), ..Default::default() });
    let created = env
        .post(&repo_path("/milestones"), json!({"title": "v1", "due_on": "2026-06-10T12:00:00Z", "description": "d"}));
    assert_matches_schema("POST /repos/{owner}/{repo}/milestones 201", &created.body);
    let list = env.get(&repo_path("/milestones?state=all"));
    assert_matches_schema("GET /repos/{owner}/{repo}/milestones 200", &list.body);
    let one = env.get(&repo_path("/milestones/2"));
    assert_matches_schema("GET /repos/{owner}/{repo}/milestones/{milestone_number} 200", &one.body);
    let patched = env.patch(&repo_path("/milestones/2"), json!({"due_on": null, "state": "closed"}));
    assert_matches_schema("PATCH /repos/{owner}/{repo}/milestones/{milestone_number} 200", &patched.body);
    let dup = env.post(&repo_path("/milestones"), json!({"title": "v1"}));
    assert_matches_schema("POST /repos/{owner}/{repo}/milestones 422", &dup.body);
    let repo = env.get(&repo_path(""));
    assert_matches_schema("GET /repos/{owner}/{repo} 200", &repo.body);

    // The keys GitHub's own example carries, and no others.
    let all = fixture("openapi-responses.json");
    let example = &all["POST /repos/{owner}/{repo}/milestones 201"]["examples"]["default"];
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&created.body), keys(example));
    for key in keys(&example["creator"]) {
        assert!(created.body["creator"].get(&key).is_some(), "creator lacks {key}");
    }
}

#[test]
fn git_answers_match_openapi_schemas() {
    let env = start();
    let (blob, tree, commit) = commit_through_api(&env);
    let r = env.get(&repo_path("/git/ref/heads/main"));
    assert_matches_schema("GET /repos/{owner}/{repo}/git/ref/{ref} 200", &r.body);
    let r = env.patch(&repo_path("/git/refs/heads/main"), json!({"sha": commit}));
    assert_matches_schema("PATCH /repos/{owner}/{repo}/git/refs/{ref} 200", &r.body);
    let root = git(&env.git_dir(), &["commit-tree", &tree, "-m", "unrelated"]);
    let r = env.patch(&repo_path("/git/refs/heads/main"), json!({"sha": root}));
    assert_eq!(r.status, 422);
    assert_matches_schema("PATCH /repos/{owner}/{repo}/git/refs/{ref} 422", &r.body);
    let r = env.get(&repo_path(&format!("/git/commits/{commit}")));
    assert_matches_schema("GET /repos/{owner}/{repo}/git/commits/{commit_sha} 200", &r.body);
    let r = env.get(&repo_path(&format!("/git/trees/{tree}?recursive=1")));
    assert_matches_schema("GET /repos/{owner}/{repo}/git/trees/{tree_sha} 200", &r.body);
    let r = env.get(&repo_path(&format!("/git/blobs/{blob}")));
    assert_matches_schema("GET /repos/{owner}/{repo}/git/blobs/{file_sha} 200", &r.body);
    let r = env.get(&repo_path("/contents/a/b.md?ref=main"));
    assert_matches_schema("GET /repos/{owner}/{repo}/contents/{path} 200", &r.body);
    let r = env.get(&repo_path("/contents/a"));
    assert_matches_schema("GET /repos/{owner}/{repo}/contents/{path} 200", &r.body);
}

#[test]
fn validation_error_matches_recording() {
    let env = start();
    env.post(&repo_path("/milestones"), json!({"title": "v1"}));
    let ours = env.post(&repo_path("/milestones"), json!({"title": "v1"}));
    let recorded = &fixture("recorded-errors.json")[0];
    assert_eq!(recorded["status"], 422);
    assert_eq!(ours.status, 422);
    let rec = &recorded["response"];
    assert_eq!(ours.body["message"], rec["message"]);
    let item_keys = |v: &Value| {
        let mut k: Vec<String> = v["errors"][0].as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(item_keys(&ours.body), item_keys(rec));
    // Today's GitHub adds "status" to the 2017 recording's keys.
    for key in rec.as_object().unwrap().keys() {
        assert!(ours.body.get(key).is_some(), "missing {key}");
    }
    assert_eq!(ours.header("content-type"), recorded["headers"]["content-type"].as_str());
    for (name, _) in recorded["headers"].as_object().unwrap().iter().filter(|(n, _)| n.starts_with("x-ratelimit-")) {
        assert!(ours.header(name).is_some(), "missing header {name}");
    }
}

/// (rel, page) pairs of a Link header, with the URL checked against `expect_url(page)`.
fn rels(link: &str, expect_url: impl Fn(&str) -> String) -> Vec<(String, String)> {
    link.split(", ")
        .map(|part| {
            let (url, rel) = part.split_once(">; rel=\"").unwrap();
            let url = url.trim_start_matches('<');
            let page = url.rsplit_once("page=").unwrap().1.to_string();
            assert_eq!(url, expect_url(&page));
            (rel.trim_end_matches('"').to_string(), page)
        })
        .collect()
}

#[test]
fn link_header_matches_recording() {
    let recorded = fixture("recorded-paginate-issues.json");
    let env = start();
    for i in 0..15 {
        env.standin.seed_milestone(SeedMilestone { title: format!("m{i}"), ..Default::default() });
    }
    let base = format!("{}/repositories/{}/milestones", env.standin.api_url(), env.standin.repository_id());
    let mut url = env.url(&repo_path("/milestones?per_page=3"));
    for (page, rec) in recorded.as_array().unwrap().iter().enumerate() {
        let ours = crate::common::send(&url, "GET", None);
        assert_eq!(ours.status, 200);
        assert_eq!(ours.body.as_array().unwrap().len(), 3);
        let rec_link = rec["headers"]["link"].as_str().unwrap();
        let rec_rels =
            rels(rec_link, |p| format!("https://api.github.com/repositories/1000/issues?per_page=3&page={p}"));
        let our_rels = rels(ours.header("link").unwrap(), |p| format!("{base}?per_page=3&page={p}"));
        assert_eq!(our_rels, rec_rels, "page {}", page + 1);
        if let Some((_, next)) = our_rels.iter().find(|(r, _)| r == "next") {
            url = format!("{base}?per_page=3&page={next}");
        }
    }
}

#[test]
fn ref_object_matches_recording() {
    let env = start();
    let ours = env.get(&repo_path("/git/ref/heads/main")).body;
    let recorded = fixture("recorded-git-refs.json");
    let rec = &recorded[0]["response"][0];
    let rec_api = "https://api.github.com/repos/octokit-fixture-org/git-refs";
    let our_api = format!("{}/repos/{OWNER}/{REPO}", env.standin.api_url());
    let rec_sha = rec["object"]["sha"].as_str().unwrap();
    let our_sha = ours["object"]["sha"].as_str().unwrap();
    let normalise = |v: &Value, api: &str, sha: &str| -> Value {
        let mut v = v.clone();
        v["node_id"] = json!("?");
        serde_json::from_str(&v.to_string().replace(api, "API").replace(sha, "SHA")).unwrap()
    };
    assert_eq!(normalise(&ours, &our_api, our_sha), normalise(rec, rec_api, rec_sha));
    // The recorded PATCH answers 200 with the same shape.
    let patch = recorded.as_array().unwrap().iter().find(|r| r["method"] == "patch").unwrap();
    assert_eq!(patch["status"], 200);
}

#[test]
fn octocrab_models_parse_our_answers() {
    let env = start();
    env.standin.seed_milestone(SeedMilestone { title: "seeded".into(), ..Default::default() });
    let created = env.post(&repo_path("/milestones"), json!({"title": "v1", "due_on": "2026-06-10T12:00:00Z"}));
    let m: octocrab::models::Milestone = serde_json::from_value(created.body.clone()).unwrap();
    assert_eq!(m.title, "v1");
    assert_eq!(m.due_on.unwrap().to_rfc3339(), "2026-06-10T07:00:00+00:00");
    let list: Vec<octocrab::models::Milestone> =
        serde_json::from_value(env.get(&repo_path("/milestones")).body).unwrap();
    assert_eq!(list.len(), 2);
    let _: octocrab::models::Repository = serde_json::from_value(env.get(&repo_path("")).body).unwrap();
    let _: octocrab::models::repos::Ref =
        serde_json::from_value(env.get(&repo_path("/git/ref/heads/main")).body).unwrap();
    let _: octocrab::models::repos::Content =
        serde_json::from_value(env.get(&repo_path("/contents/README.md")).body).unwrap();
    let head = env.head();
    let _: octocrab::models::commits::GitCommitObject =
        serde_json::from_value(env.get(&repo_path(&format!("/git/commits/{head}"))).body).unwrap();
}

#[test]
fn schema_check_is_not_vacuous() {
    let all = fixture("openapi-responses.json");
    let schema = to_json_schema(&all["GET /repos/{owner}/{repo}/milestones/{milestone_number} 200"]["schema"]);
    let validator = jsonschema::options().should_validate_formats(true).build(&schema).unwrap();
    let mut example = all["GET /repos/{owner}/{repo}/milestones/{milestone_number} 200"]["examples"]["default"].clone();
    assert!(validator.is_valid(&example), "GitHub's own example passes");
    example["closed_at"] = Value::Null;
    assert!(validator.is_valid(&example), "nullable fields accept null");
    example.as_object_mut().unwrap().remove("number");
    assert!(!validator.is_valid(&example), "a missing required field fails");
    example["number"] = json!(1);
    example["state"] = json!("paused");
    assert!(!validator.is_valid(&example), "an unknown enum value fails");
}

#[test]
fn issue_comment_answers_match_openapi_schemas() {
    let env = start();
    env.standin.open_pull_request(7);
    env.standin.add_comment(7, OWNER, "Looks good");
    let created = env.post(&repo_path("/issues/7/comments"), json!({"body": "<!-- marker -->\nPreview"}));
    assert_eq!(created.status, 201);
    assert_matches_schema("POST /repos/{owner}/{repo}/issues/{issue_number}/comments 201", &created.body);
    let list = env.get(&repo_path("/issues/7/comments"));
    assert_matches_schema("GET /repos/{owner}/{repo}/issues/{issue_number}/comments 200", &list.body);
    assert_eq!(list.body.as_array().unwrap().len(), 2);
    let id = created.body["id"].as_u64().unwrap();
    let patched = env.patch(&repo_path(&format!("/issues/comments/{id}")), json!({"body": "Preview, again"}));
    assert_matches_schema("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id} 200", &patched.body);
    let too_long = env.patch(&repo_path(&format!("/issues/comments/{id}")), json!({"body": "x".repeat(65_537)}));
    assert_eq!(too_long.status, 422);
    assert_matches_schema("PATCH /repos/{owner}/{repo}/issues/comments/{comment_id} 422", &too_long.body);
    let missing = env.post(&repo_path("/issues/7/comments"), json!({}));
    assert_eq!(missing.status, 422);
    assert_matches_schema("POST /repos/{owner}/{repo}/issues/{issue_number}/comments 422", &missing.body);
    let nowhere = env.get(&repo_path("/issues/8/comments"));
    assert_eq!(nowhere.status, 404);
    assert_matches_schema("GET /repos/{owner}/{repo}/issues/{issue_number}/comments 404", &nowhere.body);
    env.standin.set_read_only(true);
    let refused = env.post(&repo_path("/issues/7/comments"), json!({"body": "x"}));
    assert_eq!(refused.status, 403);
    assert_matches_schema("POST /repos/{owner}/{repo}/issues/{issue_number}/comments 403", &refused.body);

    // Every key of GitHub's own example, and none the schema does not know. (The example's
    // `pin: null` contradicts its own schema, where `pin` is not nullable: left out.)
    let all = fixture("openapi-responses.json");
    let op = &all["POST /repos/{owner}/{repo}/issues/{issue_number}/comments 201"];
    let example = op["examples"]["default"].as_object().unwrap();
    for key in example.keys().filter(|k| *k != "pin") {
        assert!(created.body.get(key).is_some(), "the comment lacks {key}");
    }
    let known = op["schema"]["properties"].as_object().unwrap();
    for key in created.body.as_object().unwrap().keys() {
        assert!(known.contains_key(key), "{key} is not in GitHub's schema");
    }
    let _: octocrab::models::issues::Comment = serde_json::from_value(created.body).unwrap();
}

#[test]
fn compare_answers_match_openapi_schemas() {
    let env = start();
    let first = env.head();
    // A commit made through the API (signed, by the bot) and pushes by a person: added,
    // modified, a file with a space and non-ASCII in its name (the URLs must stay URIs).
    let (_, _, signed) = commit_through_api(&env);
    env.patch(&repo_path("/git/refs/heads/main"), json!({"sha": signed}));
    env.standin.push_files(vec![("plan/é x.md".into(), "one\n".into())], "add");
    let last = env.standin.push_files(vec![("a/b.md".into(), "changed\n".into())], "change");
    let r = env.get(&repo_path(&format!("/compare/{first}...{last}")));
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_matches_schema("GET /repos/{owner}/{repo}/compare/{basehead} 200", &r.body);
    assert_eq!(r.body["commits"].as_array().unwrap().len(), 3);
    assert_eq!(r.body["files"].as_array().unwrap().len(), 2);
    assert_eq!(r.body["commits"][0]["commit"]["verification"]["verified"], json!(true));
    // Every top-level key of GitHub's own example, and none its schema does not know.
    let all = fixture("openapi-responses.json");
    let op = &all["GET /repos/{owner}/{repo}/compare/{basehead} 200"];
    for key in op["examples"]["default"].as_object().unwrap().keys() {
        assert!(r.body.get(key).is_some(), "the comparison lacks {key}");
    }
    let known = op["schema"]["properties"].as_object().unwrap();
    for key in r.body.as_object().unwrap().keys() {
        assert!(known.contains_key(key), "{key} is not in GitHub's schema");
    }
    let _: octocrab::models::commits::CommitComparison = serde_json::from_value(r.body.clone()).unwrap();
    let missing = env.get(&repo_path(&format!("/compare/{first}...1234567890123456789012345678901234567890")));
    assert_eq!(missing.status, 404);
    assert_matches_schema("GET /repos/{owner}/{repo}/compare/{basehead} 404", &missing.body);
}

#[test]
fn the_commits_of_a_path_match_openapi_schemas_newest_first_and_paged() {
    let env = start();
    let first = env.standin.push_files(vec![("plan/a b.md".into(), "one\n".into())], "add a");
    env.standin.push_files(vec![("other.md".into(), "x\n".into())], "unrelated");
    let last = env.standin.push_files(vec![("plan/a b.md".into(), "two\n".into())], "change a");
    let r = env.get(&repo_path("/commits?sha=main&path=plan%2Fa%20b.md&per_page=1"));
    assert_eq!(r.status, 200, "{:#}", r.body);
    assert_matches_schema("GET /repos/{owner}/{repo}/commits 200", &r.body);
    let list = r.body.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["sha"], json!(last), "the newest commit that changed the path");
    assert!(list[0]["commit"]["committer"]["date"].as_str().is_some_and(|d| d.ends_with('Z')));
    assert!(r.headers.iter().any(|(k, v)| k == "link" && v.contains("rel=\"next\"")), "{:?}", r.headers);
    let _: Vec<octocrab::models::repos::RepoCommit> = serde_json::from_value(r.body.clone()).unwrap();
    // Page 2 of the path: the commit that added it; a path never touched: nothing.
    let r = env.get(&repo_path("/commits?sha=main&path=plan%2Fa%20b.md&per_page=1&page=2"));
    assert_eq!(r.body[0]["sha"], json!(first));
    let r = env.get(&repo_path("/commits?path=nowhere.md"));
    assert_eq!(r.body, json!([]));
    let r = env.get(&repo_path("/commits?sha=no-such-branch"));
    assert_eq!(r.status, 404);
}

/// The sync's pull request and its branch: `POST git/refs`, the pulls endpoints, and their
/// refusals, against GitHub's schemas.
#[test]
fn pull_request_answers_match_openapi_schemas() {
    let env = start();
    let (_, _, commit) = commit_through_api(&env);
    let created = env.post(&repo_path("/git/refs"), json!({"ref": "refs/heads/milestone-sync/main", "sha": commit}));
    assert_eq!(created.status, 201);
    assert_matches_schema("POST /repos/{owner}/{repo}/git/refs 201", &created.body);
    let again = env.post(&repo_path("/git/refs"), json!({"ref": "refs/heads/milestone-sync/main", "sha": commit}));
    assert_eq!((again.status, again.body["message"].as_str()), (422, Some("Reference already exists")));
    assert_matches_schema("POST /repos/{owner}/{repo}/git/refs 422", &again.body);

    let new = json!({"title": "Sync", "head": "milestone-sync/main", "base": "main", "body": "b"});
    let pr = env.post(&repo_path("/pulls"), new.clone());
    assert_eq!(pr.status, 201, "{:#}", pr.body);
    assert_matches_schema("POST /repos/{owner}/{repo}/pulls 201", &pr.body);
    assert_eq!(pr.body["head"]["sha"], commit.as_str());
    let n = pr.body["number"].as_u64().unwrap();
    let second = env.post(&repo_path("/pulls"), new.clone());
    assert_eq!(second.status, 422);
    assert_matches_schema("POST /repos/{owner}/{repo}/pulls 422", &second.body);
    assert_eq!(
        second.body["errors"][0]["message"],
        format!("A pull request already exists for {OWNER}:milestone-sync/main.")
    );
    let listed = env.get(&repo_path(&format!("/pulls?head={OWNER}:milestone-sync/main&base=main&state=open")));
    assert_matches_schema("GET /repos/{owner}/{repo}/pulls 200", &listed.body);
    assert_eq!(listed.body.as_array().unwrap().len(), 1);
    assert!(env.get(&repo_path("/pulls?head=someone:milestone-sync/main")).body.as_array().unwrap().is_empty());
    let one = env.get(&repo_path(&format!("/pulls/{n}")));
    assert_matches_schema("GET /repos/{owner}/{repo}/pulls/{pull_number} 200", &one.body);
    let patched = env.patch(&repo_path(&format!("/pulls/{n}")), json!({"title": "Sync 2", "body": "c"}));
    assert_matches_schema("PATCH /repos/{owner}/{repo}/pulls/{pull_number} 200", &patched.body);
    assert_eq!((patched.body["title"].as_str(), patched.body["body"].as_str()), (Some("Sync 2"), Some("c")));
    // A pull request takes comments, as an issue does.
    assert_eq!(env.post(&repo_path(&format!("/issues/{n}/comments")), json!({"body": "hi"})).status, 201);

    // Merged: closed, and the base holds the head's tree.
    env.standin.merge_pull_request(n);
    let merged = env.get(&repo_path(&format!("/pulls/{n}")));
    assert_eq!((merged.body["state"].as_str(), merged.body["merged"].as_bool()), (Some("closed"), Some(true)));
    assert_eq!(
        git(&env.git_dir(), &["rev-parse", "main^{tree}"]),
        git(&env.git_dir(), &["rev-parse", &format!("{commit}^{{tree}}")])
    );
    assert!(env.get(&repo_path("/pulls")).body.as_array().unwrap().is_empty(), "open ones by default");
    assert_eq!(env.get(&repo_path("/pulls?state=closed")).body.as_array().unwrap().len(), 1);

    // Where Actions may not open pull requests.
    env.standin.forbid_pull_requests(true);
    let refused = env.post(&repo_path("/pulls"), new);
    assert_eq!(refused.status, 403);
    assert_matches_schema("POST /repos/{owner}/{repo}/pulls 403", &refused.body);
    assert_eq!(refused.body["message"], "GitHub Actions is not permitted to create or approve pull requests.");
}

/// A second repository on the server: its object as a fork, and GitHub's 404 for a
/// repository the token cannot see or the server does not host.
#[test]
fn other_repositories_answers_match_openapi_schemas() {
    let env = start();
    let other = env.host("someone", "fork", "ghs_other");
    other.set_fork(true);
    let url = env.url("/repos/someone/fork");
    let fork = crate::common::send_with_auth(&url, "GET", None, Some("Bearer ghs_other"));
    assert_eq!(fork.status, 200);
    assert_eq!(fork.body["fork"], json!(true));
    assert_matches_schema("GET /repos/{owner}/{repo} 200", &fork.body);
    // `parent` and `source` are repositories too, with every field a strict client reads.
    let _: octocrab::models::Repository = serde_json::from_value(fork.body.clone()).unwrap();
    let _: octocrab::models::Repository = serde_json::from_value(fork.body["parent"].clone()).unwrap();

    let hidden = env.get("/repos/someone/fork");
    assert_eq!(hidden.status, 404);
    assert_matches_schema("GET /repos/{owner}/{repo} 404", &hidden.body);
    let absent = env.get("/repos/someone/nowhere");
    assert_eq!(absent.status, 404);
    assert_matches_schema("GET /repos/{owner}/{repo} 404", &absent.body);
    // Every key the schema knows of a plain error, as GitHub's 404 carries them (no `url`).
    let all = fixture("openapi-responses.json");
    let known = all["GET /repos/{owner}/{repo} 404"]["schema"]["properties"].as_object().unwrap();
    for key in hidden.body.as_object().unwrap().keys() {
        assert!(known.contains_key(key), "{key} is not in GitHub's schema");
    }
}
