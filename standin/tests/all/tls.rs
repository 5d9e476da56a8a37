//! `StandIn::start_tls`: the same API over HTTPS with a certificate made at test time
//! (`github_standin::tls::test_ca`); a client that trusts the test CA reaches it, one that
//! trusts another CA fails in the handshake, before any request.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use github_standin::{Config, SeedMilestone, StandIn, tls};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};

use crate::common::{OWNER, REPO, TOKEN, init_repo, repo_path};

/// A stand-in over HTTPS with `ca`'s server certificate.
fn start_tls(ca: &tls::TestCa) -> (tempfile::TempDir, StandIn) {
    let dir = tempfile::tempdir().unwrap();
    let git_dir = dir.path().join("repo.git");
    init_repo(&git_dir);
    let config =
        Config { owner: OWNER.into(), repo: REPO.into(), token: TOKEN.into(), default_branch: "main".into(), git_dir };
    (dir, StandIn::start_tls(config, ca.server.clone()))
}

/// `GET path` over TLS to the stand-in's port, dialling `name`, trusting only `ca_pem`;
/// the raw answer, or the client's TLS error.
fn get(standin: &StandIn, name: &str, ca_pem: &str, path: &str) -> Result<String, rustls::Error> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let port = standin.api_url().rsplit(':').next().unwrap().parse::<u16>().unwrap();
    let server_name = ServerName::try_from(name.to_string()).unwrap();
    let mut conn = rustls::ClientConnection::new(Arc::new(config), server_name).unwrap();
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut tcp) {
            let inner = e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()).cloned();
            return Err(inner.unwrap_or_else(|| panic!("not a TLS error: {e}")));
        }
    }
    let mut stream = rustls::Stream::new(&mut conn, &mut tcp);
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {name}\r\nAuthorization: Bearer {TOKEN}\r\nAccept: application/vnd.github+json\r\nUser-Agent: standin-test\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = Vec::new();
    // The server may close without close_notify; what arrived is the answer.
    let _ = stream.read_to_end(&mut answer);
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

#[test]
fn https_with_the_test_ca_serves_the_same_api() {
    let ca = tls::test_ca();
    let (_dir, standin) = start_tls(&ca);
    let api_url = standin.api_url();
    assert!(api_url.starts_with("https://localhost:"), "{api_url}");
    standin.seed_milestone(SeedMilestone { title: "v1".into(), ..Default::default() });

    for name in ["localhost", "127.0.0.1"] {
        let answer = get(&standin, name, &ca.ca_pem, &repo_path("/milestones")).expect("the handshake succeeds");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("\"title\":\"v1\""), "{answer}");
        // URLs in answers name the HTTPS origin.
        assert!(answer.contains(&format!("{api_url}/repos/{OWNER}/{REPO}/milestones/1")), "{answer}");
    }
    assert_eq!(standin.requests().len(), 2);
    assert_eq!(standin.tls_connections(), 2);
    assert_eq!(standin.tls_handshakes_failed(), 0);
}

#[test]
fn another_ca_fails_the_handshake_before_any_request() {
    let ca = tls::test_ca();
    let other = tls::test_ca();
    assert_ne!(ca.ca_pem, other.ca_pem);
    let (_dir, standin) = start_tls(&ca);

    let error = get(&standin, "localhost", &other.ca_pem, &repo_path("/milestones")).unwrap_err();
    assert_eq!(
        error,
        rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        "the client does not know the issuer"
    );
    // The server saw the refusal (the client's alert) and no request.
    let deadline = Instant::now() + Duration::from_secs(5);
    while standin.tls_handshakes_failed() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(standin.tls_handshakes_failed(), 1);
    assert_eq!(standin.tls_connections(), 1);
    assert!(standin.requests().is_empty(), "{:?}", standin.requests());
}

#[test]
fn a_plain_standin_counts_no_tls_connections() {
    let env = crate::common::start();
    assert!(env.standin.api_url().starts_with("http://127.0.0.1:"));
    assert_eq!(env.get(&repo_path("/milestones")).status, 200);
    assert_eq!(env.standin.tls_connections(), 0);
}

#[test]
fn start_tls_on_refuses_a_key_that_is_not_pem() {
    let dir = tempfile::tempdir().unwrap();
    let git_dir = dir.path().join("repo.git");
    init_repo(&git_dir);
    let config =
        Config { owner: OWNER.into(), repo: REPO.into(), token: TOKEN.into(), default_branch: "main".into(), git_dir };
    let mut files = tls::test_ca().server;
    files.key_pem = "not a key".into();
    let error = StandIn::start_tls_on(config, files, 0).err().expect("refused");
    assert!(error.to_string().contains("private key"), "{error}");
}
