//! The real client's compare call (the fallback for a checkout without history) against the
//! stand-in: every status GitHub gives a file, renames with their old path, the merge base,
//! the 300-file cap flagged, one request, a 404 for a commit GitHub does not know, and a 5xx
//! sent again.

use crate::common::{OWNER, PROJECT_DIR, REPO, Repo, TOKEN, git};
use github_standin::{Fault, Trigger};
use milestone_sync::github::client::{Client, RetryPolicy};
use milestone_sync::github::{ChangedFile, Comparison, FileStatus, GitHub, GitHubError};
use serde_json::json;

fn client(repo: &Repo) -> Client {
    let retry = RetryPolicy { base_delay: std::time::Duration::from_millis(1), ..RetryPolicy::default() };
    Client::new(&repo.standin.api_url(), TOKEN, OWNER, REPO).unwrap().with_retry_policy(retry)
}

const BODY: &str = "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\n";

fn path(p: &str) -> String {
    format!("{PROJECT_DIR}/{p}")
}

#[tokio::test]
async fn added_modified_removed_and_renamed_files_come_back_in_one_request() {
    let repo = Repo::new(&[("a.md", "a\n"), ("gone.md", "bye\n"), ("old-name.md", BODY)]);
    let before = repo.head();
    // A rename: `git mv` and a small change, as GitHub detects it (similar content).
    repo.push(
        &[
            ("a.md", Some("a, changed\n")),
            ("gone.md", None),
            ("new.md", Some("new\n")),
            ("old-name.md", None),
            ("new-name.md", Some(&BODY.replace("six", "6"))),
        ],
        "change everything",
    );
    let after = repo.head();
    let client = client(&repo);
    let mut c = client.compare(&before, &after).await.unwrap();
    c.files.sort_by(|a, b| a.path.cmp(&b.path));
    let file = |p: &str, status, previous: Option<&str>| ChangedFile {
        path: path(p),
        status,
        previous_path: previous.map(path),
    };
    assert_eq!(
        c,
        Comparison {
            status: "ahead".into(),
            merge_base: before.clone(),
            files: vec![
                file("a.md", FileStatus::Modified, None),
                file("gone.md", FileStatus::Removed, None),
                file("new-name.md", FileStatus::Renamed, Some("old-name.md")),
                file("new.md", FileStatus::Added, None),
            ],
            capped: false,
        }
    );
    assert_eq!(client.call_counts(), vec![("GET /repos/{o}/{r}/compare/{basehead}".to_string(), 1)]);
    let sent = repo.standin.requests();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].path, format!("/repos/{OWNER}/{REPO}/compare/{before}...{after}"));

    // Backwards, the head is behind: nothing of its own since the merge base.
    let back = client.compare(&after, &before).await.unwrap();
    assert_eq!((back.status.as_str(), back.files.len(), back.merge_base), ("behind", 0, before));
}

#[tokio::test]
async fn a_list_of_300_files_is_flagged_as_possibly_capped() {
    let repo = Repo::new(&[]);
    let before = repo.head();
    let names: Vec<String> = (0..299).map(|i| format!("notes/n{i:03}.md")).collect();
    let changes: Vec<(&str, Option<&str>)> = names.iter().map(|n| (n.as_str(), Some("x\n"))).collect();
    repo.push(&changes, "299 files");
    let c = client(&repo).compare(&before, &repo.head()).await.unwrap();
    assert_eq!((c.files.len(), c.capped), (299, false));
    repo.push(&[("notes/one-more.md", Some("x\n")), ("notes/and-another.md", Some("x\n"))], "301");
    let c = client(&repo).compare(&before, &repo.head()).await.unwrap();
    assert_eq!((c.files.len(), c.capped), (300, true), "GitHub lists 300 of 301, and says nothing");
}

#[tokio::test]
async fn an_unknown_commit_is_not_found_and_a_5xx_is_sent_again() {
    let repo = Repo::new(&[("a.md", "a\n")]);
    let head = repo.head();
    let client = client(&repo);
    let missing = "1234567890123456789012345678901234567890";
    match client.compare(missing, &head).await {
        Err(GitHubError::NotFound { method, path }) => {
            assert_eq!((method.as_str(), path), ("GET", format!("/repos/{OWNER}/{REPO}/compare/{missing}...{head}")));
        }
        other => panic!("{other:?}"),
    }
    repo.standin.fail_next(Fault::Status {
        trigger: Trigger::new("GET", "/compare/"),
        status: 502,
        body: json!({"message": "Server Error"}),
    });
    let c = client.compare(&git(&repo.workspace(), &["rev-parse", "HEAD~0"]), &head).await.unwrap();
    assert_eq!((c.status.as_str(), c.files.len()), ("identical", 0));
    assert_eq!(client.retries(), 1);
}
