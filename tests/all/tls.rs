//! TLS, tested: the real binary against the stand-in over HTTPS, with a certificate made at
//! test time. With `SSL_CERT_FILE` naming the CA that signed it, a push syncs as over plain
//! HTTP; with another CA the run fails at once (one connection, no retry, no request), naming
//! the host and what to check.

use std::path::PathBuf;

use github_standin::{Config, StandIn, tls};

use crate::common::*;

const E1: &str = "epics/EPIC-001_alpha.md";

/// A repository as [`Repo::new`] makes it, its stand-in serving HTTPS with `ca`'s server
/// certificate (`https://localhost:PORT`).
fn https_repo(ca: &tls::TestCa) -> Repo {
    let mut repo = Repo::new(&[]);
    let config = Config {
        owner: OWNER.into(),
        repo: REPO.into(),
        token: TOKEN.into(),
        default_branch: "main".into(),
        git_dir: repo.bare(),
    };
    // The plain-HTTP stand-in made by `Repo::new` stops as it is replaced.
    repo.standin = StandIn::start_tls(config, ca.server.clone());
    repo
}

/// Writes a PEM bundle where a runner's `SSL_CERT_FILE` would name it.
fn bundle(repo: &Repo, name: &str, pem: &str) -> PathBuf {
    let path = repo.dir.path().join(name);
    std::fs::write(&path, pem).unwrap();
    path
}

#[test]
fn a_push_syncs_over_https_with_the_ca_in_ssl_cert_file() {
    let ca = tls::test_ca();
    let repo = https_repo(&ca);
    assert!(repo.standin.api_url().starts_with("https://localhost:"), "{}", repo.standin.api_url());
    let ca_file = bundle(&repo, "test-ca.pem", &ca.ca_pem);
    let payload = repo.push(&[(E1, Some(&epic("EPIC-001", "Alpha", "🟡 To Do", "")))], "plan alpha");

    let run = repo.run_with("push", &payload, &[], &[("SSL_CERT_FILE", ca_file.to_str().unwrap())]);

    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    let ms = repo.milestones();
    assert_eq!(ms.iter().map(|m| m.title.as_str()).collect::<Vec<_>>(), ["Alpha"]);
    // The links were committed through the git database, over HTTPS too.
    assert!(repo.file_at_head(E1).unwrap().contains(&format!("related_milestone = \"{}\"", ms[0].html_url)));
    assert_eq!(repo.standin.tls_handshakes_failed(), 0);
}

#[test]
fn a_ca_that_did_not_sign_the_certificate_fails_at_once_and_says_what_to_check() {
    let ca = tls::test_ca();
    let other = tls::test_ca();
    let repo = https_repo(&ca);
    let other_file = bundle(&repo, "other-ca.pem", &other.ca_pem);
    let payload = repo.push(&[(E1, Some(&epic("EPIC-001", "Alpha", "🟡 To Do", "")))], "plan alpha");

    let run = repo.run_with("push", &payload, &[], &[("SSL_CERT_FILE", other_file.to_str().unwrap())]);

    assert_ne!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    let output = format!("{}\n{}\n{}", run.stdout, run.stderr, run.summary);
    let port = repo.standin.api_url().rsplit(':').next().unwrap().to_string();
    for words in [
        format!("the TLS certificate of localhost:{port} was not accepted"),
        "UnknownIssuer".to_string(),
        "SSL_CERT_FILE".to_string(),
        "proxy".to_string(),
        "not retried".to_string(),
    ] {
        assert!(output.contains(&words), "{words:?} missing from:\n{output}");
    }
    assert!(!output.contains("retrying GitHub request"), "a certificate failure is not retried:\n{output}");
    // The handshake failed before any HTTP: the stand-in read no request, and the client
    // opened one connection only (a retry would open another).
    assert!(repo.standin.requests().is_empty(), "{:?}", repo.standin.requests());
    assert_eq!(repo.standin.tls_connections(), 1, "one connection, no retry:\n{output}");
    assert!(repo.milestones().is_empty());
}
