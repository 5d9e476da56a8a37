//! Behaviour of the milestone endpoints that milestone-sync's correctness depends on.

use crate::common::{repo_path, send_with_auth, start};
use github_standin::{Fault, SeedMilestone, Trigger};
use serde_json::json;

#[test]
fn create_returns_full_milestone_and_refuses_duplicate_titles() {
    let env = start();
    let r = env.post(&repo_path("/milestones"), json!({"title": "EPIC-001 Sync", "description": "d"}));
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["number"], 1);
    assert_eq!(r.body["state"], "open");
    assert_eq!(r.body["html_url"], format!("{}/milestone/1", env.standin.html_url()));
    assert_eq!(r.body["creator"]["login"], "github-actions[bot]");
    assert_eq!(r.header("location"), r.body["url"].as_str());
    assert_eq!(r.header("content-type"), Some("application/json; charset=utf-8"));

    for title in ["EPIC-001 Sync", "epic-001 sync"] {
        let dup = env.post(&repo_path("/milestones"), json!({"title": title}));
        assert_eq!(dup.status, 422);
        assert_eq!(dup.body["message"], "Validation Failed");
        assert_eq!(dup.body["errors"], json!([{"resource": "Milestone", "code": "already_exists", "field": "title"}]));
        assert_eq!(dup.body["status"], "422");
    }
    let missing = env.post(&repo_path("/milestones"), json!({"description": "no title"}));
    assert_eq!(missing.status, 422);
    assert_eq!(missing.body["errors"][0]["code"], "missing_field");
    assert_eq!(env.standin.milestones().len(), 1);
}

#[test]
fn list_defaults_to_open_and_filters_by_state() {
    let env = start();
    env.standin.seed_milestone(SeedMilestone { title: "open one".into(), ..Default::default() });
    env.standin.seed_milestone(SeedMilestone {
        title: "closed one".into(),
        state: "closed".into(),
        ..Default::default()
    });
    let titles = |q: &str| -> Vec<String> {
        let r = env.get(&repo_path(&format!("/milestones{q}")));
        assert_eq!(r.status, 200);
        r.body.as_array().unwrap().iter().map(|m| m["title"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(titles(""), ["open one"]);
    assert_eq!(titles("?state=open"), ["open one"]);
    assert_eq!(titles("?state=closed"), ["closed one"]);
    assert_eq!(titles("?state=all"), ["open one", "closed one"]);
}

#[test]
fn list_sorts_by_due_on_with_undated_first_ascending() {
    let env = start();
    for (title, due) in
        [("late", Some("2026-09-01T12:00:00Z")), ("none", None), ("early", Some("2026-03-01T12:00:00Z"))]
    {
        env.standin.seed_milestone(SeedMilestone {
            title: title.into(),
            due_on: due.map(String::from),
            ..Default::default()
        });
    }
    let order = |q: &str| -> Vec<String> {
        env.get(&repo_path(&format!("/milestones{q}")))
            .body
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["title"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(order(""), ["none", "early", "late"]);
    assert_eq!(order("?direction=desc"), ["late", "early", "none"]);
    assert_eq!(order("?sort=completeness"), ["late", "none", "early"]);
}

#[test]
fn pagination_follows_link_verbatim_over_250_milestones() {
    let env = start();
    for i in 0..250 {
        env.standin.seed_milestone(SeedMilestone { title: format!("M{i:03}"), ..Default::default() });
    }
    env.standin.clear_requests();
    let mut url = env.url(&repo_path("/milestones?state=all&per_page=100"));
    let mut seen = Vec::new();
    let mut links = Vec::new();
    loop {
        let r = crate::common::send(&url, "GET", None);
        assert_eq!(r.status, 200);
        seen.extend(r.body.as_array().unwrap().iter().map(|m| m["number"].as_u64().unwrap()));
        let link = r.header("link").map(str::to_string);
        links.push(link.clone());
        let next = link.and_then(|l| {
            l.split(", ").find(|p| p.ends_with("rel=\"next\"")).map(|p| p[1..p.find('>').unwrap()].to_string())
        });
        match next {
            Some(n) => url = n,
            None => break,
        }
    }
    assert_eq!(seen, (1..=250).collect::<Vec<_>>());
    let base = format!("{}/repositories/{}/milestones", env.standin.api_url(), env.standin.repository_id());
    assert_eq!(
        links[0].as_deref().unwrap(),
        format!(
            "<{base}?state=all&per_page=100&page=2>; rel=\"next\", <{base}?state=all&per_page=100&page=3>; rel=\"last\""
        )
    );
    assert_eq!(
        links[2].as_deref().unwrap(),
        format!(
            "<{base}?state=all&per_page=100&page=2>; rel=\"prev\", <{base}?state=all&per_page=100&page=1>; rel=\"first\""
        )
    );
    let paths: Vec<String> = env.standin.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths[1], format!("/repositories/{}/milestones", env.standin.repository_id()));
    assert_eq!(env.standin.requests()[1].query.as_deref(), Some("state=all&per_page=100&page=2"));

    // per_page above 100 is clamped, and 30 is the default.
    let r = env.get(&repo_path("/milestones?state=all&per_page=500"));
    assert_eq!(r.body.as_array().unwrap().len(), 100);
    let r = env.get(&repo_path("/milestones?state=all"));
    assert_eq!(r.body.as_array().unwrap().len(), 30);
    assert!(r.header("link").unwrap().contains("page=9>; rel=\"last\""));
}

#[test]
fn due_on_is_floored_to_pacific_midnight_in_dst_and_standard_time() {
    let env = start();
    let cases = [
        ("2026-06-10T00:00:00Z", "2026-06-09T07:00:00Z"), // midnight UTC: previous Pacific day (PDT)
        ("2026-06-10T12:00:00Z", "2026-06-10T07:00:00Z"), // noon UTC: same day (PDT)
        ("2026-12-10T00:00:00Z", "2026-12-09T08:00:00Z"), // PST
        ("2026-12-10T12:00:00Z", "2026-12-10T08:00:00Z"),
        ("2026-12-10T23:59:59-08:00", "2026-12-10T08:00:00Z"), // offsets accepted
        ("2026-03-08T12:00:00Z", "2026-03-08T08:00:00Z"),      // the day DST starts: midnight is still PST
        ("2026-11-01T12:00:00Z", "2026-11-01T07:00:00Z"),      // the day DST ends: midnight is still PDT
    ];
    for (i, (sent, stored)) in cases.iter().enumerate() {
        let r = env.post(&repo_path("/milestones"), json!({"title": format!("m{i}"), "due_on": sent}));
        assert_eq!(r.status, 201);
        assert_eq!(r.body["due_on"], *stored, "sent {sent}");
    }
    let bad = env.post(&repo_path("/milestones"), json!({"title": "bad", "due_on": "next week"}));
    assert_eq!(bad.status, 422);
    assert_eq!(bad.body["errors"][0]["field"], "due_on");
}

#[test]
fn patch_changes_only_present_fields_and_tracks_state() {
    let env = start();
    let m = env.standin.seed_milestone(SeedMilestone {
        title: "A".into(),
        description: Some("keep me".into()),
        due_on: Some("2026-06-10T12:00:00Z".into()),
        ..Default::default()
    });
    env.standin.seed_milestone(SeedMilestone { title: "B".into(), ..Default::default() });
    let path = repo_path(&format!("/milestones/{}", m.number));

    let r = env.patch(&path, json!({"state": "closed"}));
    assert_eq!(r.status, 200);
    assert_eq!(r.body["description"], "keep me");
    assert_eq!(r.body["due_on"], "2026-06-10T07:00:00Z");
    assert!(r.body["closed_at"].is_string());
    assert_ne!(r.body["updated_at"], json!(m.updated_at));

    let r = env.patch(&path, json!({"due_on": null, "state": "open"}));
    assert_eq!(r.body["due_on"], json!(null));
    assert_eq!(r.body["closed_at"], json!(null));

    let r = env.patch(&path, json!({"title": "B"}));
    assert_eq!(r.status, 422);
    assert_eq!(r.body["errors"][0]["code"], "already_exists");

    assert_eq!(env.delete(&path).status, 204);
    assert_eq!(env.get(&path).status, 404);
    assert_eq!(env.get(&path).body["message"], "Not Found");
    // Numbers are never reused.
    let r = env.post(&repo_path("/milestones"), json!({"title": "C"}));
    assert_eq!(r.body["number"], 3);
}

#[test]
fn edit_milestone_simulates_the_web_ui() {
    let env = start();
    let m = env.standin.seed_milestone(SeedMilestone { title: "A".into(), ..Default::default() });
    env.standin.edit_milestone(m.number, |r| {
        r.description = Some("typed\r\nin the browser".into());
        r.state = "closed".into();
        r.due_on = Some("2026-01-05T00:00:00Z".into());
    });
    let after = &env.standin.milestones()[0];
    assert!(after.updated_at > m.updated_at);
    assert!(after.closed_at.is_some());
    assert_eq!(after.due_on.as_deref(), Some("2026-01-04T08:00:00Z"));
    assert!(env.standin.requests().is_empty(), "edits bypass the API");
}

#[test]
fn auth_rate_limit_headers_and_unknown_repos() {
    let env = start();
    let url = env.url(&repo_path("/milestones"));
    for auth in [None, Some("Bearer wrong"), Some("Basic abc")] {
        let r = send_with_auth(&url, "GET", None, auth);
        assert_eq!(r.status, 401);
        assert_eq!(
            r.body,
            json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"})
        );
    }
    let r = send_with_auth(&url, "GET", None, Some(&format!("token {}", crate::common::TOKEN)));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-ratelimit-limit"), Some("5000"));
    assert_eq!(r.header("x-ratelimit-remaining"), Some("4999"));
    assert_eq!(r.header("x-ratelimit-used"), Some("1"));
    assert_eq!(r.header("x-ratelimit-resource"), Some("core"));
    assert!(r.header("x-ratelimit-reset").unwrap().parse::<i64>().is_ok());
    let r = env.get(&repo_path("/milestones"));
    assert_eq!(r.header("x-ratelimit-remaining"), Some("4998"));
    assert_eq!(env.get("/repos/someone/else/milestones").status, 404);
    let statuses: Vec<u16> = env.standin.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [401, 401, 401, 200, 200, 404]);
}

#[test]
fn faults_fire_once_and_lost_answers_still_change_state() {
    let env = start();
    env.standin.fail_next(Fault::Status {
        trigger: Trigger::new("POST", "/milestones"),
        status: 500,
        body: json!({"message": "Server Error"}),
    });
    env.standin.fail_next(Fault::LostAnswer { trigger: Trigger::new("post", "/milestones") });
    env.standin.fail_next(Fault::StatusWithHeaders {
        trigger: Trigger::new("GET", "/milestones"),
        status: 403,
        headers: vec![("retry-after".into(), "1".into())],
        body: json!({"message": "You have exceeded a secondary rate limit."}),
    });

    let r = env.post(&repo_path("/milestones"), json!({"title": "X"}));
    assert_eq!(r.status, 500);
    assert!(env.standin.milestones().is_empty(), "a Status fault changes nothing");
    let r = env.post(&repo_path("/milestones"), json!({"title": "X"}));
    assert_eq!(r.status, 502);
    assert_eq!(env.standin.milestones().len(), 1, "a lost answer still created it");
    let r = env.post(&repo_path("/milestones"), json!({"title": "X"}));
    assert_eq!(r.status, 422, "the retry meets the duplicate");
    let r = env.get(&repo_path("/milestones"));
    assert_eq!(r.status, 403);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(env.get(&repo_path("/milestones")).status, 200);

    let writes: Vec<u16> = env.standin.writes().iter().map(|w| w.status).collect();
    assert_eq!(writes, [500, 502, 422]);
}
