//! Issue comments: the conversation of a pull request, where the preview keeps its comment.

use crate::common::{OWNER, repo_path, start};
use serde_json::json;

#[test]
fn comments_need_an_issue_or_pull_request() {
    let env = start();
    assert_eq!(env.get(&repo_path("/issues/3/comments")).status, 404);
    assert_eq!(env.post(&repo_path("/issues/3/comments"), json!({"body": "hi"})).status, 404);
    assert_eq!(env.patch(&repo_path("/issues/comments/5000000001"), json!({"body": "hi"})).status, 404);
    env.standin.open_pull_request(3);
    let list = env.get(&repo_path("/issues/3/comments"));
    assert_eq!((list.status, list.body.clone()), (200, json!([])));
}

#[test]
fn a_comment_is_created_listed_and_updated_in_place() {
    let env = start();
    env.standin.open_pull_request(12);
    let c = env.post(&repo_path("/issues/12/comments"), json!({"body": "first"}));
    assert_eq!(c.status, 201);
    let id = c.body["id"].as_u64().unwrap();
    assert!(id > u64::from(u32::MAX), "ids beyond 32 bits, as GitHub's: {id}");
    assert_eq!(c.body["user"]["login"], "github-actions[bot]");
    assert_eq!(c.body["html_url"], format!("https://github.com/{OWNER}/planning/pull/12#issuecomment-{id}"));
    assert_eq!(c.header("location"), c.body["url"].as_str());
    let created_at = c.body["updated_at"].clone();

    let same = env.patch(&repo_path(&format!("/issues/comments/{id}")), json!({"body": "first"}));
    assert_eq!(same.body["updated_at"], created_at, "an edit that changes nothing moves nothing");
    let edited = env.patch(&repo_path(&format!("/issues/comments/{id}")), json!({"body": "second"}));
    assert_eq!(edited.status, 200);
    assert_eq!(edited.body["id"], id);
    assert_eq!(edited.body["body"], "second");
    assert!(edited.body["updated_at"].as_str() > created_at.as_str());
    assert_eq!(edited.body["created_at"], c.body["created_at"]);

    let stored = env.standin.comments(12);
    assert_eq!(stored.len(), 1);
    assert_eq!((stored[0].id, stored[0].body.as_str()), (id, "second"));
    assert_eq!(env.get(&repo_path(&format!("/issues/comments/{id}"))).body["body"], "second");
}

#[test]
fn comments_list_oldest_first_in_linked_pages() {
    let env = start();
    env.standin.open_pull_request(4);
    for i in 0..35 {
        env.standin.add_comment(4, if i % 2 == 0 { OWNER } else { "someone" }, &format!("comment {i}"));
    }
    let first = env.get(&repo_path("/issues/4/comments"));
    let bodies: Vec<&str> = first.body.as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap()).collect();
    assert_eq!(bodies.len(), 30, "GitHub's default page");
    assert_eq!((bodies[0], bodies[29]), ("comment 0", "comment 29"));
    let link = first.header("link").unwrap();
    let next =
        format!("{}/repositories/{}/issues/4/comments?page=2", env.standin.api_url(), env.standin.repository_id());
    assert!(link.contains(&format!("<{next}>; rel=\"next\"")), "{link}");
    let second = crate::common::send(&next, "GET", None);
    assert_eq!(second.body.as_array().unwrap().len(), 5);
    let all = env.get(&repo_path("/issues/4/comments?per_page=100"));
    assert_eq!(all.body.as_array().unwrap().len(), 35);
    assert!(all.header("link").is_none());
    assert_eq!(all.body[0]["author_association"], "OWNER");
    assert_eq!(all.body[1]["author_association"], "NONE");
}

#[test]
fn bodies_are_checked_like_github() {
    let env = start();
    env.standin.open_pull_request(1);
    let missing = env.post(&repo_path("/issues/1/comments"), json!({}));
    assert_eq!(missing.status, 422);
    assert!(missing.body["message"].as_str().unwrap().contains("\"body\" wasn't supplied"));
    assert_eq!(env.post(&repo_path("/issues/1/comments"), json!({"body": 5})).status, 422);
    assert_eq!(env.post(&repo_path("/issues/1/comments"), json!({"body": "  "})).status, 422);
    let limit = "é".repeat(65_536);
    assert_eq!(env.post(&repo_path("/issues/1/comments"), json!({"body": limit})).status, 201, "characters, not bytes");
    let over = env.post(&repo_path("/issues/1/comments"), json!({"body": format!("{limit}x")}));
    assert_eq!(over.status, 422);
    assert_eq!(over.body["errors"][0]["message"], "body is too long (maximum is 65536 characters)");
    assert_eq!(env.standin.comments(1).len(), 1);
}

#[test]
fn a_read_only_token_reads_but_cannot_write() {
    let env = start();
    env.standin.open_pull_request(9);
    let own = env.standin.add_comment(9, OWNER, "hello");
    env.standin.set_read_only(true);
    assert_eq!(env.get(&repo_path("/issues/9/comments")).status, 200);
    assert_eq!(env.get(&repo_path("/milestones")).status, 200);
    for r in [
        env.post(&repo_path("/issues/9/comments"), json!({"body": "x"})),
        env.patch(&repo_path(&format!("/issues/comments/{}", own.id)), json!({"body": "x"})),
        env.post(&repo_path("/milestones"), json!({"title": "v1"})),
    ] {
        assert_eq!(r.status, 403);
        assert_eq!(r.body["message"], "Resource not accessible by integration");
    }
    assert_eq!(env.standin.comments(9), vec![own]);
    env.standin.set_read_only(false);
    assert_eq!(env.post(&repo_path("/issues/9/comments"), json!({"body": "x"})).status, 201);
}
