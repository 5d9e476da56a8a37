//! The real client's issue-comment calls (the pull-request preview's comment) against the
//! stand-in: every page listed, create and update, a refusal that names the permission, and
//! a create never sent twice.

use crate::common::{OWNER, REPO, Repo, TOKEN};
use github_standin::{Fault, Trigger};
use milestone_sync::github::client::{Client, RetryPolicy};
use milestone_sync::github::{GitHub, GitHubError, Permission};

fn client(repo: &Repo) -> Client {
    let retry = RetryPolicy { base_delay: std::time::Duration::from_millis(1), ..RetryPolicy::default() };
    Client::new(&repo.standin.api_url(), TOKEN, OWNER, REPO).unwrap().with_retry_policy(retry)
}

fn count(repo: &Repo, method: &str, path_contains: &str) -> usize {
    repo.standin.requests().iter().filter(|r| r.method == method && r.path.contains(path_contains)).count()
}

#[tokio::test]
async fn comments_are_listed_through_every_page_then_created_and_updated() {
    let repo = Repo::new(&[]);
    repo.standin.open_pull_request(3);
    for i in 0..230 {
        repo.standin.add_comment(3, "someone", &format!("comment {i}"));
    }
    let client = client(&repo);
    let all = client.list_issue_comments(3).await.unwrap();
    assert_eq!(all.len(), 230);
    assert_eq!((all[0].body.as_str(), all[229].body.as_str()), ("comment 0", "comment 229"));
    assert_eq!(client.call_counts(), vec![("GET /repos/{o}/{r}/issues/{n}/comments".to_string(), 3)]);
    // Pages after the first follow the Link header, through /repositories/{id}.
    assert_eq!(count(&repo, "GET", &format!("/repositories/{}/issues/3/comments", repo.standin.repository_id())), 2);

    let created = client.create_issue_comment(3, "preview\n\nwith lines").await.unwrap();
    assert!(created.id > u64::from(u32::MAX));
    assert_eq!(created.body, "preview\n\nwith lines");
    assert!(created.html_url.ends_with(&format!("/pull/3#issuecomment-{}", created.id)), "{}", created.html_url);
    let updated = client.update_issue_comment(created.id, "preview, again").await.unwrap();
    assert_eq!((updated.id, updated.body.as_str()), (created.id, "preview, again"));
    let stored = repo.standin.comments(3);
    assert_eq!(stored.len(), 231);
    assert_eq!(stored[230].body, "preview, again");
    assert!(matches!(client.list_issue_comments(4).await, Err(GitHubError::NotFound { .. })));
}

#[tokio::test]
async fn a_read_only_token_is_refused_with_the_permission_to_add() {
    let repo = Repo::new(&[]);
    repo.standin.open_pull_request(5);
    let theirs = repo.standin.add_comment(5, OWNER, "hello");
    repo.standin.set_read_only(true);
    let client = client(&repo);
    assert_eq!(client.list_issue_comments(5).await.unwrap().len(), 1, "reading works");
    for result in [client.create_issue_comment(5, "x").await, client.update_issue_comment(theirs.id, "x").await] {
        match result {
            Err(e @ GitHubError::Permission { permission: Permission::PullRequestsWrite, .. }) => {
                assert!(e.to_string().contains("`pull-requests: write`"), "{e}");
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(count(&repo, "POST", "/comments"), 1, "a 403 is an answer: sent once");
    assert_eq!(count(&repo, "PATCH", "/comments"), 1);
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_not_sent_again() {
    let repo = Repo::new(&[]);
    repo.standin.open_pull_request(6);
    repo.standin.fail_next(Fault::LostAnswer { trigger: Trigger::new("POST", "/issues/6/comments") });
    let client = client(&repo);
    assert!(matches!(client.create_issue_comment(6, "x").await, Err(GitHubError::Http { status: 502, .. })));
    assert_eq!(count(&repo, "POST", "/comments"), 1);
    assert_eq!(repo.standin.comments(6).len(), 1, "GitHub has it all the same");
}
