//! The `github-standin` binary as the demo script runs it.

use std::process::Command;
use std::time::{Duration, Instant};

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
    let deadline = Instant::now() + Duration::from_secs(20);
    let base = loop {
        if let Ok(b) = std::fs::read_to_string(&port_file) {
            break b;
        }
        assert!(Instant::now() < deadline, "no port file");
        std::thread::sleep(Duration::from_millis(50));
    };
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
