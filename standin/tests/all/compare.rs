//! `GET compare/{base}...{head}`: GitHub's three-dot comparison, computed by git on the bare
//! repository: statuses, renames, the merge base, the 300-file cap, and 404s.

use std::process::{Command, Stdio};

use crate::common::{Env, git, repo_path, start};
use serde_json::Value;

/// Commits `changes` (path, `Some(content)` or `None` to remove) on top of `parent` without
/// moving any branch, through a scratch index; returns the commit.
fn commit(env: &Env, parent: &str, changes: &[(&str, Option<&str>)], message: &str) -> String {
    let scratch = tempfile::tempdir().unwrap();
    let index = scratch.path().join("index");
    let worktree = scratch.path().join("wt");
    std::fs::create_dir(&worktree).unwrap();
    let run = |args: &[&str], stdin: Option<&[u8]>| -> String {
        let mut c = Command::new("git");
        c.arg("--git-dir")
            .arg(env.git_dir())
            .arg("--work-tree")
            .arg(&worktree)
            .args(args)
            .env("GIT_INDEX_FILE", &index)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.com")
            .env("GIT_COMMITTER_NAME", "Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.com")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        {
            use std::io::Write;
            let mut pipe = child.stdin.take().unwrap();
            if let Some(input) = stdin {
                pipe.write_all(input).unwrap();
            }
        }
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    run(&["read-tree", parent], None);
    for (path, content) in changes {
        match content {
            Some(text) => {
                let blob = run(&["hash-object", "-w", "--stdin"], Some(text.as_bytes()));
                run(&["update-index", "--add", "--cacheinfo", &format!("100644,{blob},{path}")], None);
            }
            None => {
                run(&["update-index", "--force-remove", "--", path], None);
            }
        }
    }
    let tree = run(&["write-tree"], None);
    run(&["commit-tree", &tree, "-p", parent, "-m", message], None)
}

fn compare(env: &Env, basehead: &str) -> (u16, Value) {
    let r = env.get(&repo_path(&format!("/compare/{basehead}")));
    (r.status, r.body)
}

/// (filename, status, previous_filename) of each file, sorted.
fn files(body: &Value) -> Vec<(String, String, Option<String>)> {
    let mut out: Vec<_> = body["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["filename"].as_str().unwrap().to_string(),
                f["status"].as_str().unwrap().to_string(),
                f["previous_filename"].as_str().map(str::to_string),
            )
        })
        .collect();
    out.sort();
    out
}

fn entry(path: &str, status: &str, previous: Option<&str>) -> (String, String, Option<String>) {
    (path.to_string(), status.to_string(), previous.map(str::to_string))
}

const LONG: &str = "line one\nline two\nline three\nline four\nline five\nline six\nline seven\n";

#[test]
fn statuses_renames_and_counts_are_gits() {
    let env = start();
    let root = env.head();
    let one = commit(&env, &root, &[("a.md", Some("a\n")), ("b.md", Some("b\n")), ("moved.md", Some(LONG))], "one");
    let two = commit(
        &env,
        &one,
        &[("a.md", Some("a, changed\nand more\n")), ("b.md", None), ("c.md", Some("new\n")), ("moved.md", None)],
        "two",
    );
    let three = commit(&env, &two, &[("dir/renamed.md", Some(&LONG.replace("six", "6")))], "three");
    let (status, body) = compare(&env, &format!("{one}...{three}"));
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(
        files(&body),
        vec![
            entry("a.md", "modified", None),
            entry("b.md", "removed", None),
            entry("c.md", "added", None),
            entry("dir/renamed.md", "renamed", Some("moved.md")),
        ]
    );
    assert_eq!(
        (body["status"].as_str(), body["ahead_by"].as_u64(), body["behind_by"].as_u64()),
        (Some("ahead"), Some(2), Some(0))
    );
    assert_eq!(body["merge_base_commit"]["sha"].as_str(), Some(one.as_str()));
    assert_eq!(body["base_commit"]["sha"].as_str(), Some(one.as_str()));
    let shas: Vec<&str> = body["commits"].as_array().unwrap().iter().map(|c| c["sha"].as_str().unwrap()).collect();
    assert_eq!(shas, [two.as_str(), three.as_str()], "oldest first");
    let a = body["files"].as_array().unwrap().iter().find(|f| f["filename"] == "a.md").unwrap();
    assert_eq!((a["additions"].as_u64(), a["deletions"].as_u64(), a["changes"].as_u64()), (Some(2), Some(1), Some(3)));
    let blob = git(&env.git_dir(), &["rev-parse", &format!("{three}:a.md")]);
    assert_eq!(a["sha"].as_str(), Some(blob.as_str()));
    assert!(a["contents_url"].as_str().unwrap().ends_with(&format!("/contents/a.md?ref={three}")));

    // Nothing between a commit and itself.
    let (_, same) = compare(&env, &format!("{three}...{three}"));
    assert_eq!((same["status"].as_str(), same["files"].as_array().map(Vec::len)), (Some("identical"), Some(0)));
    // Backwards: head is behind, and has nothing of its own since the merge base (itself).
    let (_, back) = compare(&env, &format!("{three}...{one}"));
    assert_eq!((back["status"].as_str(), back["behind_by"].as_u64()), (Some("behind"), Some(2)));
    assert_eq!(back["files"].as_array().map(Vec::len), Some(0));
}

#[test]
fn three_dots_show_only_the_heads_changes_since_the_merge_base() {
    let env = start();
    let root = env.head();
    let base = commit(&env, &root, &[("main-only.md", Some("main moved on\n"))], "main moves");
    let topic = commit(&env, &root, &[("topic.md", Some("the pull request\n"))], "topic");
    git(&env.git_dir(), &["update-ref", "refs/heads/topic", &topic]);
    git(&env.git_dir(), &["update-ref", "refs/heads/main", &base]);
    // By commit ids and by branch names alike.
    for basehead in [format!("{base}...{topic}"), "main...topic".to_string()] {
        let (status, body) = compare(&env, &basehead);
        assert_eq!(status, 200, "{basehead}: {body:#}");
        assert_eq!(files(&body), vec![entry("topic.md", "added", None)], "{basehead}");
        assert_eq!(body["status"].as_str(), Some("diverged"));
        assert_eq!((body["ahead_by"].as_u64(), body["behind_by"].as_u64()), (Some(1), Some(1)));
        assert_eq!(body["merge_base_commit"]["sha"].as_str(), Some(root.as_str()));
    }
}

#[test]
fn the_file_list_stops_at_300_with_nothing_to_say_so() {
    let env = start();
    let root = env.head();
    let names: Vec<String> = (0..301).map(|i| format!("many/file-{i:03}.md")).collect();
    let changes: Vec<(&str, Option<&str>)> = names.iter().map(|n| (n.as_str(), Some("x\n"))).collect();
    let big = commit(&env, &root, &changes, "301 files");
    let (status, body) = compare(&env, &format!("{root}...{big}"));
    assert_eq!(status, 200);
    assert_eq!(body["files"].as_array().unwrap().len(), 300);
    let exactly = commit(&env, &root, &changes[..300], "300 files");
    let (_, body) = compare(&env, &format!("{root}...{exactly}"));
    assert_eq!(body["files"].as_array().unwrap().len(), 300);
}

#[test]
fn unknown_commits_and_other_forms_are_not_found() {
    let env = start();
    let head = env.head();
    let missing = "1234567890123456789012345678901234567890";
    for basehead in [
        format!("{missing}...{head}"),
        format!("{head}...{missing}"),
        format!("{head}..{head}"),
        format!("someone:main...{head}"),
        format!("...{head}"),
    ] {
        let (status, body) = compare(&env, &basehead);
        assert_eq!(status, 404, "{basehead}: {body:#}");
    }
    // Two root commits share no history.
    let tree = git(&env.git_dir(), &["rev-parse", "main^{tree}"]);
    let orphan = git(&env.git_dir(), &["commit-tree", &tree, "-m", "another root"]);
    let (status, body) = compare(&env, &format!("{head}...{orphan}"));
    assert_eq!(status, 404);
    assert!(body["message"].as_str().unwrap().contains("No common ancestor"), "{body:#}");
}
