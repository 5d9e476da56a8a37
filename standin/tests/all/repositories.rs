//! One server, several repositories: each keeps its own state, and a token reaches only the
//! repositories it was made for, as on GitHub.

use crate::common::{OWNER, REPO, TOKEN, send, send_with_auth, start};
use github_standin::{Fault, SeedMilestone, Trigger};
use serde_json::{Value, json};

const OTHER_OWNER: &str = "octo-org";
const OTHER_REPO: &str = "service";
const OTHER_TOKEN: &str = "ghs_other_token";

fn get_as(url: &str, token: &str) -> crate::common::Resp {
    send_with_auth(url, "GET", None, Some(&format!("Bearer {token}")))
}

fn titles(body: &Value) -> Vec<String> {
    body.as_array().unwrap().iter().map(|m| m["title"].as_str().unwrap().to_string()).collect()
}

#[test]
fn milestones_numbers_and_urls_are_per_repository() {
    let env = start();
    let other = env.host(OTHER_OWNER, OTHER_REPO, TOKEN);
    let a = env.post(&format!("/repos/{OWNER}/{REPO}/milestones"), json!({"title": "A1"}));
    let b = env.post(&format!("/repos/{OTHER_OWNER}/{OTHER_REPO}/milestones"), json!({"title": "B1"}));
    assert_eq!((a.status, b.status), (201, 201));
    assert_eq!((a.body["number"].as_u64(), b.body["number"].as_u64()), (Some(1), Some(1)), "numbered per repository");
    assert_eq!(b.body["html_url"], format!("https://github.com/{OTHER_OWNER}/{OTHER_REPO}/milestone/1"));
    assert_eq!(a.body["html_url"], format!("https://github.com/{OWNER}/{REPO}/milestone/1"));
    assert_eq!(b.body["url"], format!("{}/repos/{OTHER_OWNER}/{OTHER_REPO}/milestones/1", env.standin.api_url()));
    // The same title in two repositories is no conflict.
    let again = env.post(&format!("/repos/{OTHER_OWNER}/{OTHER_REPO}/milestones"), json!({"title": "A1"}));
    assert_eq!(again.status, 201);

    let mine: Vec<String> = env.standin.milestones().into_iter().map(|m| m.title).collect();
    let theirs: Vec<String> = other.milestones().into_iter().map(|m| m.title).collect();
    assert_eq!(mine, ["A1"]);
    assert_eq!(theirs, ["B1", "A1"]);
    assert_eq!(other.milestones()[0].html_url, format!("{}/milestone/1", other.html_url()));
    assert_eq!(titles(&env.get(&format!("/repos/{OTHER_OWNER}/{OTHER_REPO}/milestones")).body), ["B1", "A1"]);

    // Each repository logs its own requests.
    assert_eq!(env.standin.writes().len(), 1);
    assert_eq!(other.writes().len(), 2);
    assert!(other.requests().iter().all(|r| r.path.starts_with(&format!("/repos/{OTHER_OWNER}/{OTHER_REPO}/"))));

    // Lookup by name is case-insensitive, and finds the same repository.
    let found = env.standin.repository("Octo-Org/SERVICE");
    assert_eq!(found.full_name(), format!("{OTHER_OWNER}/{OTHER_REPO}"));
    assert_eq!(found.repository_id(), other.repository_id());
    assert_eq!(env.standin.primary().full_name(), format!("{OWNER}/{REPO}"));
    assert_eq!(env.standin.repositories().len(), 2);
    assert_ne!(other.repository_id(), env.standin.repository_id());
    // Routes are case-insensitive too.
    assert_eq!(env.get("/repos/OCTO-ORG/Service/milestones/1").body["title"], "B1");
}

#[test]
fn each_repository_object_names_itself() {
    let env = start();
    let other = env.host("someone", "elsewhere", TOKEN);
    let r = env.get("/repos/someone/elsewhere");
    assert_eq!(r.status, 200);
    assert_eq!(r.body["full_name"], "someone/elsewhere");
    assert_eq!(r.body["owner"]["login"], "someone");
    assert_eq!(r.body["id"].as_u64(), Some(other.repository_id()));
    assert_eq!(r.body["html_url"], "https://github.com/someone/elsewhere");
    assert_eq!(r.body["fork"], json!(false));
    assert!(r.body.get("parent").is_none());
    let primary = env.get(&format!("/repos/{OWNER}/{REPO}"));
    assert_eq!(primary.body["full_name"], format!("{OWNER}/{REPO}"));
    assert_eq!(primary.body["id"].as_u64(), Some(env.standin.repository_id()));
    // By id, as GitHub's `Link` URLs address it.
    let by_id = env.get(&format!("/repositories/{}", other.repository_id()));
    assert_eq!(by_id.body["full_name"], "someone/elsewhere");
}

#[test]
fn pagination_links_lead_back_to_their_repository() {
    let env = start();
    let other = env.host(OTHER_OWNER, OTHER_REPO, TOKEN);
    for i in 0..3 {
        env.standin.seed_milestone(SeedMilestone { title: format!("a{i}"), ..Default::default() });
        other.seed_milestone(SeedMilestone { title: format!("b{i}"), ..Default::default() });
    }
    for (full_name, repo, prefix) in
        [(format!("{OWNER}/{REPO}"), env.standin.primary(), "a"), (format!("{OTHER_OWNER}/{OTHER_REPO}"), other, "b")]
    {
        let mut url = env.url(&format!("/repos/{full_name}/milestones?per_page=1"));
        let mut seen = Vec::new();
        loop {
            let r = send(&url, "GET", None);
            assert_eq!(r.status, 200, "{url}");
            seen.extend(titles(&r.body));
            let Some(next) = r.header("link").and_then(|l| {
                l.split(", ")
                    .find(|p| p.ends_with("rel=\"next\""))
                    .map(|p| p.split_once(">;").unwrap().0.trim_start_matches('<').to_string())
            }) else {
                break;
            };
            assert!(
                next.starts_with(&format!(
                    "{}/repositories/{}/milestones?",
                    env.standin.api_url(),
                    repo.repository_id()
                )),
                "{next}"
            );
            url = next;
        }
        assert_eq!(seen, [0, 1, 2].map(|i| format!("{prefix}{i}")));
        assert_eq!(repo.requests().len(), 3, "every page served by {full_name}");
    }
}

#[test]
fn a_token_reaches_only_the_repositories_it_was_made_for() {
    let env = start();
    let other = env.host(OTHER_OWNER, OTHER_REPO, OTHER_TOKEN);
    let other_url = env.url(&format!("/repos/{OTHER_OWNER}/{OTHER_REPO}"));
    let primary_url = env.url(&format!("/repos/{OWNER}/{REPO}/milestones"));

    // The primary's token on the other repository: GitHub's answer about a repository the
    // token cannot see.
    let hidden = get_as(&other_url, TOKEN);
    assert_eq!(hidden.status, 404);
    assert_eq!(
        hidden.body,
        json!({
            "message": "Not Found",
            "documentation_url": "https://docs.github.com/rest/repos/repos#get-a-repository",
            "status": "404",
        })
    );
    let hidden = get_as(&format!("{other_url}/milestones"), TOKEN);
    assert_eq!(hidden.status, 404);
    assert_eq!(hidden.body["documentation_url"], "https://docs.github.com/rest/issues/milestones#list-milestones");
    // …and the other way round.
    assert_eq!(get_as(&primary_url, OTHER_TOKEN).status, 404);
    // Each token reaches its own.
    assert_eq!(get_as(&other_url, OTHER_TOKEN).status, 200);
    assert_eq!(get_as(&primary_url, TOKEN).status, 200);
    // A token no repository accepts.
    let unknown = get_as(&other_url, "ghs_nobody");
    assert_eq!((unknown.status, unknown.body["message"].as_str()), (401, Some("Bad credentials")));
    assert_eq!(get_as(&primary_url, "ghs_nobody").status, 401);
    // A repository not hosted at all: the same 404.
    let absent = get_as(&env.url("/repos/octo-org/nowhere"), TOKEN);
    assert_eq!(absent.status, 404);
    assert_eq!(absent.body, get_as(&other_url, TOKEN).body);

    // Logged where the path points; the refusals do not use the repository's rate limit.
    let statuses: Vec<u16> = other.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [404, 404, 200, 401, 404]);
    let used = get_as(&other_url, OTHER_TOKEN);
    assert_eq!(used.header("x-ratelimit-used"), Some("2"));
    assert!(env.standin.requests().iter().any(|r| r.path == "/repos/octo-org/nowhere" && r.status == 404));

    // A token made for both (an installation token for several repositories).
    other.allow_token(TOKEN);
    assert_eq!(get_as(&other_url, TOKEN).status, 200);
    let created = send_with_auth(
        &format!("{other_url}/milestones"),
        "POST",
        Some(json!({"title": "v1"})),
        Some(&format!("token {TOKEN}")),
    );
    assert_eq!(created.status, 201);
    assert_eq!(other.milestones().len(), 1);
    assert!(env.standin.milestones().is_empty());
}

#[test]
fn read_only_faults_and_rate_limits_are_per_repository() {
    let env = start();
    let other = env.host(OTHER_OWNER, OTHER_REPO, TOKEN);
    let a = format!("/repos/{OWNER}/{REPO}/milestones");
    let b = format!("/repos/{OTHER_OWNER}/{OTHER_REPO}/milestones");

    other.set_read_only(true);
    assert_eq!(env.get(&b).status, 200, "reads go on");
    let refused = env.post(&b, json!({"title": "v1"}));
    assert_eq!(refused.status, 403);
    assert_eq!(refused.body["message"], "Resource not accessible by integration");
    assert_eq!(env.post(&a, json!({"title": "v1"})).status, 201, "the other repository still takes writes");
    other.set_read_only(false);

    other.fail_next(Fault::Status {
        trigger: Trigger::new("GET", "/milestones"),
        status: 500,
        body: json!({"message": "Server Error"}),
    });
    assert_eq!(env.get(&a).status, 200, "a fault of one repository does not fire in another");
    assert_eq!(env.get(&b).status, 500);

    other.set_rate_limit(1, std::time::Duration::from_secs(3600));
    assert_eq!(env.get(&b).status, 200);
    assert_eq!(env.get(&b).status, 403);
    assert_eq!(env.get(&a).status, 200, "the other repository has its own limit");
}

#[test]
fn a_fork_says_so() {
    let env = start();
    let other = env.host(OTHER_OWNER, OTHER_REPO, TOKEN);
    other.set_fork(true);
    let r = env.get(&format!("/repos/{OTHER_OWNER}/{OTHER_REPO}"));
    assert_eq!(r.body["fork"], json!(true));
    assert_eq!(r.body["parent"]["full_name"], format!("upstream/{OTHER_REPO}"));
    assert_eq!(r.body["source"], r.body["parent"]);
    assert_ne!(r.body["parent"]["id"], r.body["id"]);
    assert_eq!(env.get(&format!("/repos/{OWNER}/{REPO}")).body["fork"], json!(false), "only that one");
    other.set_fork(false);
    let r = env.get(&format!("/repos/{OTHER_OWNER}/{OTHER_REPO}"));
    assert_eq!(r.body["fork"], json!(false));
    assert!(r.body.get("parent").is_none());
}

#[test]
fn the_git_database_is_per_repository() {
    let env = start();
    let other = env.host(OTHER_OWNER, OTHER_REPO, TOKEN);
    let pushed = other.push_files(vec![("plan/x.md".into(), "x\n".into())], "push");
    let theirs = env.get(&format!("/repos/{OTHER_OWNER}/{OTHER_REPO}/git/ref/heads/main"));
    assert_eq!(theirs.body["object"]["sha"], pushed.as_str());
    let mine = env.get(&format!("/repos/{OWNER}/{REPO}/git/ref/heads/main"));
    assert_eq!(mine.body["object"]["sha"], env.head().as_str());
    assert_ne!(env.head(), pushed);
    assert_eq!(env.get(&format!("/repos/{OWNER}/{REPO}/contents/plan/x.md")).status, 404);
    assert_eq!(env.get(&format!("/repos/{OTHER_OWNER}/{OTHER_REPO}/contents/plan/x.md")).status, 200);
}

#[test]
#[should_panic(expected = "already hosted")]
fn a_repository_is_hosted_once() {
    let env = start();
    env.host("Octo-Org", "Planning", "ghs_again");
}

#[test]
#[should_panic(expected = "not hosted")]
fn asking_for_a_repository_not_hosted_panics() {
    let env = start();
    env.standin.repository("octo-org/nowhere");
}
