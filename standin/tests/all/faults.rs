//! The fault modes: chaos from a seed, dropped and slow answers, secondary and primary rate
//! limits, a protected branch, and an answer held back while a client is killed.

use std::time::{Duration, Instant};

use crate::common::{TOKEN, repo_path, send, start};
use github_standin::{Chaos, Fault, Protection, SECONDARY_LIMIT_MESSAGE, SeedMilestone, Trigger};
use serde_json::json;

fn create(env: &crate::common::Env, title: &str) -> crate::common::Resp {
    env.post(&repo_path("/milestones"), json!({"title": title}))
}

#[test]
fn chaos_fails_requests_reproducibly_and_lost_answers_still_change_state() {
    let run = |seed: u64| {
        let env = start();
        env.standin.set_chaos(Some(Chaos { seed, failure_rate: 0.5, max_in_a_row: 2 }));
        let statuses: Vec<u16> = (0..30).map(|i| create(&env, &format!("m{i}")).status).collect();
        (statuses, env.standin.milestones().len(), env.standin.chaos_injected())
    };
    let (statuses, made, injected) = run(11);
    assert_eq!(run(11).0, statuses, "the same seed fails the same requests");
    assert!(statuses.iter().all(|s| [201, 500, 502, 503, 504].contains(s)), "{statuses:?}");
    let failed = statuses.iter().filter(|s| **s != 201).count() as u64;
    assert_eq!(failed, injected);
    assert!(failed >= 5, "{statuses:?}");
    // A lost answer (502) made the milestone; a failure before handling did not.
    let created = statuses.iter().filter(|s| **s == 201).count();
    assert!(made > created, "some 502s were lost answers: {made} made, {created} answered 201");
    assert!(!statuses.windows(3).any(|w| w.iter().all(|s| *s != 201)), "at most 2 failures in a row");

    let env = start();
    env.standin.set_chaos(Some(Chaos { seed: 1, failure_rate: 1.0, max_in_a_row: 1 }));
    env.standin.set_chaos(None);
    assert_eq!(create(&env, "calm").status, 201);
}

#[test]
fn a_dropped_answer_cuts_the_connection_after_the_change() {
    let env = start();
    env.standin.fail_next(Fault::DroppedAnswer { trigger: Trigger::new("POST", "/milestones") });
    let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
    let result = agent
        .post(env.url(&repo_path("/milestones")))
        .header("authorization", format!("Bearer {TOKEN}"))
        .send_json(json!({"title": "v1"}))
        .and_then(|mut r| r.body_mut().read_to_string());
    assert!(result.is_err(), "the answer never arrives whole: {result:?}");
    assert_eq!(env.standin.milestones().len(), 1, "but the milestone was made");
    assert_eq!(env.standin.requests()[0].status, 0, "logged as no answer");
}

#[test]
fn a_slow_answer_arrives_late_with_the_change_made() {
    let env = start();
    env.standin.fail_next(Fault::SlowAnswer {
        trigger: Trigger::new("POST", "/milestones"),
        delay: Duration::from_millis(300),
    });
    let t = Instant::now();
    assert_eq!(create(&env, "v1").status, 201);
    assert!(t.elapsed() >= Duration::from_millis(300), "{:?}", t.elapsed());
}

#[test]
fn a_secondary_limit_refuses_without_handling() {
    let env = start();
    env.standin.fail_next(Fault::secondary_limit(Trigger::new("POST", "/milestones"), 429, Some(7)));
    env.standin.fail_next(Fault::secondary_limit(Trigger::new("POST", "/milestones"), 403, None));
    let first = create(&env, "v1");
    assert_eq!(first.status, 429);
    assert_eq!(first.header("retry-after"), Some("7"));
    assert_eq!(first.body["message"], SECONDARY_LIMIT_MESSAGE);
    let second = create(&env, "v1");
    assert_eq!(second.status, 403);
    assert_eq!(second.header("retry-after"), None);
    assert!(env.standin.milestones().is_empty());
    assert_eq!(create(&env, "v1").status, 201);
}

#[test]
fn the_primary_limit_counts_down_refuses_at_zero_and_resets() {
    let env = start();
    // A window long enough that a loaded machine cannot see it reset during the countdown
    // (with 1 s it did, under the whole suite on two cores).
    let window = 3;
    env.standin.set_rate_limit(3, Duration::from_secs(window));
    let path = repo_path("/milestones");
    let remaining: Vec<String> =
        (0..3).map(|_| env.get(&path).header("x-ratelimit-remaining").unwrap().to_string()).collect();
    assert_eq!(remaining, ["2", "1", "0"]);
    let refused = create(&env, "v1");
    assert_eq!(refused.status, 403);
    assert_eq!(refused.header("x-ratelimit-remaining"), Some("0"));
    assert!(refused.body["message"].as_str().unwrap().starts_with("API rate limit exceeded"));
    assert!(env.standin.milestones().is_empty(), "refused before handling");
    let reset: i64 = refused.header("x-ratelimit-reset").unwrap().parse().unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!((now..=now + window as i64).contains(&reset), "{reset} vs {now}");
    std::thread::sleep(Duration::from_millis(((reset - now + 1) * 1000) as u64));
    assert_eq!(create(&env, "v1").status, 201, "a new window");

    // Requests spent elsewhere count too.
    env.standin.set_rate_limit(10, Duration::from_secs(3600));
    env.standin.use_rate_limit(7);
    assert_eq!(env.get(&path).header("x-ratelimit-remaining"), Some("2"));
}

#[test]
fn a_protected_branch_refuses_ref_updates_in_githubs_words() {
    let env = start();
    let head = env.head();
    let path = repo_path("/git/refs/heads/main");
    env.standin.protect_branch(Some(Protection::Classic));
    let r = env.patch(&path, json!({"sha": head, "force": false}));
    assert_eq!(r.status, 422);
    assert_eq!(r.body["message"], "Protected branch update failed for refs/heads/main.");
    env.standin.protect_branch(Some(Protection::Ruleset));
    let r = env.patch(&path, json!({"sha": head, "force": false}));
    assert_eq!(r.status, 422);
    assert!(r.body["message"].as_str().unwrap().contains("Changes must be made through a pull request."));
    // Other branches are not protected.
    assert_eq!(env.post(&repo_path("/git/refs"), json!({"ref": "refs/heads/side", "sha": head})).status, 201);
    assert_eq!(env.patch(&repo_path("/git/refs/heads/side"), json!({"sha": head})).status, 200);
    env.standin.protect_branch(None);
    assert_eq!(env.patch(&path, json!({"sha": head})).status, 200);
}

#[test]
fn the_kth_write_is_made_and_its_answer_held_until_released() {
    let env = start();
    env.standin.seed_milestone(SeedMilestone { title: "seeded".into(), ..Default::default() });
    env.standin.hold_after_write(2);
    assert_eq!(create(&env, "one").status, 201);
    let url = env.url(&repo_path("/milestones"));
    let held = std::thread::spawn(move || send(&url, "POST", Some(json!({"title": "two"}))).status);
    assert!(env.standin.wait_for_hold(Duration::from_secs(10)));
    // The write is made; reads and other requests are still served meanwhile.
    assert_eq!(env.standin.milestones().len(), 3);
    assert_eq!(env.get(&repo_path("/milestones")).status, 200);
    assert_eq!(env.standin.writes_done(), 2);
    env.standin.release_hold();
    assert_eq!(held.join().unwrap(), 201);
    assert!(!env.standin.wait_for_hold(Duration::from_millis(20)));
    // Holding is over: later writes are answered at once.
    assert_eq!(create(&env, "three").status, 201);
}

#[test]
fn a_milestone_made_meanwhile_takes_the_title_before_the_create_is_handled() {
    let env = start();
    env.standin.seed_milestone_when(
        Trigger::new("POST", "/milestones"),
        SeedMilestone { title: "v1".into(), description: Some("made by hand".into()), ..Default::default() },
    );
    let r = create(&env, "v1");
    assert_eq!(r.status, 422);
    assert_eq!(r.body["errors"][0]["code"], "already_exists");
    assert_eq!(env.standin.milestones().len(), 1);
    assert_eq!(create(&env, "v2").status, 201, "once only");
}
