//! The `github-standin` binary as the demo script runs it.

use std::process::Command;
use std::time::{Duration, Instant};

/// Waits for the port file and returns the base URL written there.
fn base_url(port_file: &std::path::Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(b) = std::fs::read_to_string(port_file) {
            return b;
        }
        assert!(Instant::now() < deadline, "no port file");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn binary_serves_seeds_and_dumps_state_on_sigterm() {
    let env = crate::common::start(); // only for its bare repository
    let dir = env.dir.path();
    let seed = dir.join("seed.json");
    std::fs::write(&seed, r#"[{"title": "Seeded", "due_on": "2026-06-10T00:00:00Z"}]"#).unwrap();
    let port_file = dir.join("port");
    let state_file = dir.join("state.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_github-standin"))
        .args(["--owner", crate::common::OWNER, "--repo", crate::common::REPO, "--token", crate::common::TOKEN])
        .arg("--git-dir")
        .arg(env.git_dir())
        .args(["--default-branch", "main", "--port", "0"])
        .arg("--port-file")
        .arg(&port_file)
        .arg("--state-file")
        .arg(&state_file)
        .arg("--seed")
        .arg(&seed)
        .spawn()
        .unwrap();
    let base = base_url(&port_file);
    assert!(base.starts_with("http://127.0.0.1:"));
    let r = crate::common::send(&format!("{base}{}", crate::common::repo_path("/milestones")), "GET", None);
    assert_eq!(r.status, 200);
    assert_eq!(r.body[0]["due_on"], "2026-06-09T07:00:00Z");
    let created = crate::common::send(
        &format!("{base}{}", crate::common::repo_path("/milestones")),
        "POST",
        Some(serde_json::json!({"title": "Made"})),
    );
    assert_eq!(created.status, 201);

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    let state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&state_file).unwrap()).unwrap();
    let titles: Vec<&str> = state.as_array().unwrap().iter().map(|m| m["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Seeded", "Made"]);
}

#[test]
fn binary_hosts_more_repositories_with_also() {
    let env = crate::common::start(); // only for its bare repositories
    let dir = env.dir.path();
    let given = dir.join("given.git");
    crate::common::init_repo(&given);
    let port_file = dir.join("port");
    let state_file = dir.join("state.json");
    let mut child = Command::new(env!("CARGO_BIN_EXE_github-standin"))
        .args(["--owner", crate::common::OWNER, "--repo", crate::common::REPO, "--token", crate::common::TOKEN])
        .arg("--git-dir")
        .arg(env.git_dir())
        .args(["--port", "0", "--also", "acme/empty"])
        .arg(format!("--also=acme/given={}", given.display()))
        .arg("--port-file")
        .arg(&port_file)
        .arg("--state-file")
        .arg(&state_file)
        .spawn()
        .unwrap();
    let base = base_url(&port_file);
    let send = |path: &str, method: &str, body: Option<serde_json::Value>| {
        crate::common::send(&format!("{base}{path}"), method, body)
    };
    // A repository made for the run: its default branch holds the initial commit.
    let made = send("/repos/acme/empty/git/ref/heads/main", "GET", None);
    assert_eq!(made.status, 200, "{:#}", made.body);
    assert_eq!(send("/repos/acme/empty/contents/README.md", "GET", None).status, 200);
    // One backed by the given git directory.
    let given_ref = send("/repos/acme/given/git/ref/heads/main", "GET", None);
    assert_eq!(given_ref.body["object"]["sha"], crate::common::git(&given, &["rev-parse", "main"]).as_str());
    for (path, title) in [("/repos/acme/empty/milestones", "E"), ("/repos/acme/given/milestones", "G")] {
        assert_eq!(send(path, "POST", Some(serde_json::json!({"title": title}))).status, 201);
    }
    assert_eq!(send(&crate::common::repo_path("/milestones"), "GET", None).body, serde_json::json!([]));

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success());
    let state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&state_file).unwrap()).unwrap();
    assert_eq!(state["milestones"], serde_json::json!([]));
    assert_eq!(state["repositories"]["acme/empty"][0]["title"], "E");
    assert_eq!(state["repositories"]["acme/given"][0]["title"], "G");
    assert_eq!(state["repositories"]["acme/given"][0]["number"], 1);
}
