//! The git database and contents endpoints, checked against the real bare repository.

use crate::common::{git, repo_path, start};
use base64::Engine;
use github_standin::{Fault, Trigger};
use serde_json::json;

fn decode(content: &str) -> String {
    let compact: String = content.chars().filter(|c| *c != '\n').collect();
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(compact).unwrap()).unwrap()
}

#[test]
fn tree_commit_ref_round_trip_is_visible_to_git() {
    let env = start();
    let head = env.head();
    let r = env.get(&repo_path("/git/ref/heads/main"));
    assert_eq!(r.status, 200);
    assert_eq!(r.body["ref"], "refs/heads/main");
    assert_eq!(r.body["object"]["sha"], head);
    assert_eq!(r.body["object"]["type"], "commit");
    assert_eq!(env.get(&repo_path("/git/ref/heads/nope")).status, 404);

    let base_commit = env.get(&repo_path(&format!("/git/commits/{head}")));
    assert_eq!(base_commit.status, 200);
    let base_tree = base_commit.body["tree"]["sha"].as_str().unwrap().to_string();
    assert_eq!(base_commit.body["verification"]["verified"], false);

    let blob = env.post(&repo_path("/git/blobs"), json!({"content": "aGVsbG8=", "encoding": "base64"}));
    assert_eq!(blob.status, 201);
    let blob_sha = blob.body["sha"].as_str().unwrap().to_string();

    let tree = env.post(
        &repo_path("/git/trees"),
        json!({"base_tree": base_tree, "tree": [
            {"path": ".ruru/projects/p/epics/EPIC-001_x.md", "mode": "100644", "type": "blob", "content": "+++\nid = \"EPIC-001\"\n+++\n"},
            {"path": "docs/hello.txt", "mode": "100644", "type": "blob", "sha": blob_sha},
        ]}),
    );
    assert_eq!(tree.status, 201, "{:?}", tree.body);
    let tree_sha = tree.body["sha"].as_str().unwrap().to_string();
    let top: Vec<&str> = tree.body["tree"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert_eq!(top, [".ruru", "README.md", "docs"]);

    let commit = env
        .post(&repo_path("/git/commits"), json!({"message": "sync: EPIC-001\n", "tree": tree_sha, "parents": [head]}));
    assert_eq!(commit.status, 201);
    assert_eq!(commit.body["author"]["name"], "github-actions[bot]");
    assert_eq!(commit.body["committer"]["email"], "41898282+github-actions[bot]@users.noreply.github.com");
    assert_eq!(commit.body["verification"]["verified"], true);
    assert_eq!(commit.body["parents"][0]["sha"], head);
    let commit_sha = commit.body["sha"].as_str().unwrap().to_string();

    let r = env.patch(&repo_path("/git/refs/heads/main"), json!({"sha": commit_sha, "force": false}));
    assert_eq!(r.status, 200);
    assert_eq!(r.body["object"]["sha"], commit_sha);

    let gd = env.git_dir();
    assert_eq!(git(&gd, &["rev-parse", "main"]), commit_sha);
    assert_eq!(git(&gd, &["show", "main:.ruru/projects/p/epics/EPIC-001_x.md"]), "+++\nid = \"EPIC-001\"\n+++");
    assert_eq!(git(&gd, &["show", "main:docs/hello.txt"]), "hello");
    assert_eq!(git(&gd, &["show", "main:README.md"]), "# planning");
    assert_eq!(git(&gd, &["log", "-1", "--format=%an|%s", "main"]), "github-actions[bot]|sync: EPIC-001");

    // Deleting with sha: null, and a custom author.
    let tree2 = env.post(
        &repo_path("/git/trees"),
        json!({"base_tree": tree_sha, "tree": [{"path": "docs/hello.txt", "mode": "100644", "type": "blob", "sha": null}]}),
    );
    assert_eq!(tree2.status, 201);
    let paths: Vec<&str> = tree2.body["tree"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert_eq!(paths, [".ruru", "README.md"]);
    let c2 = env.post(
        &repo_path("/git/commits"),
        json!({
            "message": "rm", "tree": tree2.body["sha"], "parents": [commit_sha],
            "author": {"name": "Ada", "email": "ada@example.com", "date": "2026-01-02T03:04:05+01:00"}
        }),
    );
    assert_eq!(c2.status, 201);
    assert_eq!(c2.body["author"]["date"], "2026-01-02T02:04:05Z");
    assert_eq!(c2.body["committer"]["name"], "Ada");

    // Recursive tree listing and the blob endpoint.
    let r = env.get(&repo_path(&format!("/git/trees/{tree_sha}?recursive=1")));
    assert!(r.body["tree"].as_array().unwrap().iter().any(|e| e["path"] == ".ruru/projects/p/epics/EPIC-001_x.md"));
    let r = env.get(&repo_path(&format!("/git/blobs/{blob_sha}")));
    assert_eq!(r.body["encoding"], "base64");
    assert_eq!(decode(r.body["content"].as_str().unwrap()), "hello");
}

#[test]
fn a_tree_of_many_inline_files_replaces_files_and_directories_in_their_way() {
    let env = start();
    let base_tree = git(&env.git_dir(), &["rev-parse", "main^{tree}"]);
    // Written in one batch: the blobs and the index entries.
    let mut entries: Vec<serde_json::Value> = (0..300)
        .map(|i| json!({"path": format!("plan/f{i:03}.md"), "mode": "100644", "type": "blob", "content": format!("file {i}\n")}))
        .collect();
    entries.push(json!({"path": "docs/a/b.txt", "mode": "100644", "type": "blob", "content": "deep\n"}));
    let tree = env.post(&repo_path("/git/trees"), json!({"base_tree": base_tree, "tree": entries}));
    assert_eq!(tree.status, 201, "{:?}", tree.body);
    let first = tree.body["sha"].as_str().unwrap().to_string();
    assert_eq!(git(&env.git_dir(), &["show", &format!("{first}:plan/f123.md")]), "file 123");
    assert_eq!(git(&env.git_dir(), &["ls-tree", "-r", "--name-only", &first, "plan"]).lines().count(), 300);

    // A file where a directory was, and a directory where a file was; later entries win.
    let tree = env.post(
        &repo_path("/git/trees"),
        json!({"base_tree": first, "tree": [
            {"path": "docs", "mode": "100644", "type": "blob", "content": "now a file\n"},
            {"path": "plan/f000.md/inner.md", "mode": "100644", "type": "blob", "content": "inner\n"},
            {"path": "plan/f001.md", "mode": "100644", "type": "blob", "content": "first\n"},
            {"path": "plan/f001.md", "mode": "100755", "type": "blob", "content": "second\n"},
        ]}),
    );
    assert_eq!(tree.status, 201, "{:?}", tree.body);
    let second = tree.body["sha"].as_str().unwrap().to_string();
    let gd = env.git_dir();
    assert_eq!(git(&gd, &["cat-file", "-t", &format!("{second}:docs")]), "blob");
    assert_eq!(git(&gd, &["show", &format!("{second}:docs")]), "now a file");
    assert_eq!(git(&gd, &["cat-file", "-t", &format!("{second}:plan/f000.md")]), "tree");
    assert_eq!(git(&gd, &["show", &format!("{second}:plan/f000.md/inner.md")]), "inner");
    assert_eq!(git(&gd, &["show", &format!("{second}:plan/f001.md")]), "second");
    assert!(git(&gd, &["ls-tree", &second, "plan/f001.md"]).starts_with("100755 blob"));
    assert_eq!(git(&gd, &["show", &format!("{second}:README.md")]), "# planning");
}

#[test]
fn ref_update_refuses_non_fast_forward_unless_forced() {
    let env = start();
    let head = env.head();
    let tree = git(&env.git_dir(), &["rev-parse", "main^{tree}"]);
    let sibling = git(&env.git_dir(), &["commit-tree", &tree, "-m", "unrelated root"]);
    let r = env.patch(&repo_path("/git/refs/heads/main"), json!({"sha": sibling}));
    assert_eq!(r.status, 422);
    assert_eq!(
        r.body,
        json!({
            "message": "Update is not a fast forward",
            "documentation_url": "https://docs.github.com/rest/git/refs#update-a-reference",
            "status": "422"
        })
    );
    assert_eq!(env.head(), head);
    let r = env.patch(&repo_path("/git/refs/heads/main"), json!({"sha": sibling, "force": true}));
    assert_eq!(r.status, 200);
    assert_eq!(env.head(), sibling);
}

#[test]
fn move_branch_when_commits_before_handling() {
    let env = start();
    let head = env.head();
    env.standin.move_branch_when(
        Trigger::new("PATCH", "/git/refs/heads/main"),
        vec![("other.md".into(), "pushed meanwhile\n".into())],
        "someone pushed",
    );
    let tree = env.post(
        &repo_path("/git/trees"),
        json!({
            "base_tree": git(&env.git_dir(), &["rev-parse", "main^{tree}"]),
            "tree": [{"path": "mine.md", "mode": "100644", "type": "blob", "content": "mine\n"}]
        }),
    );
    let commit =
        env.post(&repo_path("/git/commits"), json!({"message": "mine", "tree": tree.body["sha"], "parents": [head]}));
    let r = env.patch(&repo_path("/git/refs/heads/main"), json!({"sha": commit.body["sha"]}));
    assert_eq!(r.status, 422, "the branch moved under us");
    let moved = env.head();
    assert_ne!(moved, head);
    assert_eq!(git(&env.git_dir(), &["show", "main:other.md"]), "pushed meanwhile");
    assert_eq!(git(&env.git_dir(), &["rev-parse", "main^"]), head);

    // Rebuilt on the new head it goes through, and the move fired only once.
    let tree = env.post(
        &repo_path("/git/trees"),
        json!({
            "base_tree": git(&env.git_dir(), &["rev-parse", "main^{tree}"]),
            "tree": [{"path": "mine.md", "mode": "100644", "type": "blob", "content": "mine\n"}]
        }),
    );
    let commit =
        env.post(&repo_path("/git/commits"), json!({"message": "mine", "tree": tree.body["sha"], "parents": [moved]}));
    let r = env.patch(&repo_path("/git/refs/heads/main"), json!({"sha": commit.body["sha"]}));
    assert_eq!(r.status, 200);
    assert_eq!(git(&env.git_dir(), &["show", "main:other.md"]), "pushed meanwhile");
    assert_eq!(git(&env.git_dir(), &["show", "main:mine.md"]), "mine");
}

#[test]
fn lost_answer_on_ref_update_still_moves_the_branch() {
    let env = start();
    let head = env.head();
    env.standin.fail_next(Fault::LostAnswer { trigger: Trigger::new("PATCH", "/git/refs/") });
    let tree = git(&env.git_dir(), &["rev-parse", "main^{tree}"]);
    let c = env.post(&repo_path("/git/commits"), json!({"message": "x", "tree": tree, "parents": [head]}));
    let r = env.patch(&repo_path("/git/refs/heads/main"), json!({"sha": c.body["sha"]}));
    assert_eq!(r.status, 502);
    assert_eq!(env.head(), c.body["sha"].as_str().unwrap());
}

#[test]
fn contents_serves_files_and_directories() {
    let env = start();
    let long = "x".repeat(100);
    env.standin.push_files(vec![("dir/a b.md".into(), long.clone()), ("dir/b.md".into(), "b".into())], "add");
    let r = env.get(&repo_path("/contents/dir/a%20b.md?ref=main"));
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(r.body["type"], "file");
    assert_eq!(r.body["encoding"], "base64");
    assert_eq!(r.body["name"], "a b.md");
    assert_eq!(r.body["path"], "dir/a b.md");
    assert_eq!(r.body["size"], 100);
    let content = r.body["content"].as_str().unwrap();
    assert!(content.lines().all(|l| l.len() <= 60) && content.ends_with('\n'));
    assert_eq!(content.lines().next().unwrap().len(), 60);
    assert_eq!(decode(content), long);
    let sha = env.head();
    let r = env.get(&repo_path(&format!("/contents/dir/b.md?ref={sha}")));
    assert_eq!(decode(r.body["content"].as_str().unwrap()), "b");
    let r = env.get(&repo_path("/contents/dir"));
    assert_eq!(r.body.as_array().unwrap().len(), 2);
    assert_eq!(env.get(&repo_path("/contents/missing.md")).status, 404);
    assert_eq!(env.get(&repo_path("/contents/README.md?ref=nope")).status, 404);
}

#[test]
fn repository_object_names_the_default_branch() {
    let env = start();
    let r = env.get(&repo_path(""));
    assert_eq!(r.status, 200);
    assert_eq!(r.body["default_branch"], "main");
    assert_eq!(r.body["full_name"], format!("{}/{}", crate::common::OWNER, crate::common::REPO));
    assert_eq!(r.body["html_url"], env.standin.html_url());
    assert_eq!(r.body["id"], env.standin.repository_id());
}
