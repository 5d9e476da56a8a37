//! HTTPS for the stand-in: certificates made at test time ([`test_ca`]) and the server side
//! ([`StandIn::start_tls`](crate::StandIn::start_tls)): an accept loop of our own, TCP, then
//! rustls (ring), then hyper's HTTP/1 server with the same router as over plain HTTP.
//!
//! A client that trusts [`TestCa::ca_pem`] (`SSL_CERT_FILE` naming a file that holds it, for
//! milestone-sync) reaches `https://localhost:PORT` and `https://127.0.0.1:PORT`; the CA of
//! another [`test_ca`] call did not sign that certificate, as a runner's bundle without a GitHub
//! Enterprise Server's private CA, or a TLS-intercepting proxy, would not have.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A server's certificate chain and private key, both PEM.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The server's certificate first, then any intermediates.
    pub cert_chain_pem: String,
    /// The private key (PKCS#8, SEC1 or PKCS#1 PEM).
    pub key_pem: String,
}

/// A certificate authority made for one test, and a server certificate it signed.
#[derive(Debug, Clone)]
pub struct TestCa {
    /// The CA's certificate (PEM): what a client must trust.
    pub ca_pem: String,
    /// A certificate for `localhost` and `127.0.0.1`, signed by the CA, with its key.
    pub server: TlsFiles,
}

/// A fresh CA (its own key and a name no other call gives) and a server certificate for
/// `localhost` and `127.0.0.1` that it signed, valid from a day ago for a week.
pub fn test_ca() -> TestCa {
    static SERIAL: AtomicU64 = AtomicU64::new(0);
    let nonce = format!(
        "{}-{}-{}",
        std::process::id(),
        SERIAL.fetch_add(1, Ordering::Relaxed),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
    );
    let now = rcgen::date_time_ymd(1970, 1, 1)
        + std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let day = std::time::Duration::from_secs(86_400);

    let mut ca = CertificateParams::new(Vec::new()).expect("no names");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, format!("github-standin test CA {nonce}"));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    ca.not_before = now - day;
    ca.not_after = now + 7 * day;
    let ca_key = KeyPair::generate().expect("a CA key");
    let ca_cert = ca.self_signed(&ca_key).expect("a self-signed CA certificate");
    let issuer = Issuer::new(ca, ca_key);

    let mut server = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .expect("valid subject alternative names");
    server.distinguished_name.push(DnType::CommonName, "localhost");
    server.use_authority_key_identifier_extension = true;
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.not_before = now - day;
    server.not_after = now + 7 * day;
    let server_key = KeyPair::generate().expect("a server key");
    let server_cert = server.signed_by(&server_key, &issuer).expect("a server certificate");

    TestCa {
        ca_pem: ca_cert.pem(),
        server: TlsFiles { cert_chain_pem: server_cert.pem(), key_pem: server_key.serialize_pem() },
    }
}

/// The rustls server configuration for `files` (ring; TLS 1.2 and 1.3; HTTP/1.1 by ALPN).
pub(crate) fn server_config(files: &TlsFiles) -> std::io::Result<rustls::ServerConfig> {
    let invalid = |what: &str, e: &dyn std::fmt::Display| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{what}: {e}"))
    };
    let chain = CertificateDer::pem_slice_iter(files.cert_chain_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid("the certificate chain", &e))?;
    if chain.is_empty() {
        return Err(invalid("the certificate chain", &"no certificate in it"));
    }
    let key = PrivateKeyDer::from_pem_slice(files.key_pem.as_bytes()).map_err(|e| invalid("the private key", &e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid("the TLS versions", &e))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| invalid("the certificate or key", &e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// What the HTTPS accept loop saw, for tests that count connections (a client that gives up
/// on a certificate must not come back).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) accepted: AtomicU64,
    pub(crate) handshakes_failed: AtomicU64,
}

/// Accepts connections until the runtime is dropped: each one's TLS handshake and HTTP/1
/// exchange on a task of its own, so that a slow or failed one holds up no other.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    config: Arc<rustls::ServerConfig>,
    app: Router,
    counters: Arc<Counters>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    loop {
        let tcp = match listener.accept().await {
            Ok((tcp, _)) => tcp,
            // Out of file descriptors and the like: wait a little rather than spin.
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        counters.accepted.fetch_add(1, Ordering::SeqCst);
        let (acceptor, app, counters) = (acceptor.clone(), app.clone(), counters.clone());
        tokio::spawn(async move {
            let _ = tcp.set_nodelay(true);
            let stream = match acceptor.accept(tcp).await {
                Ok(stream) => stream,
                Err(_) => {
                    counters.handshakes_failed.fetch_add(1, Ordering::SeqCst);
                    return;
                }
            };
            let service = TowerToHyperService::new(app);
            // A connection cut by the client ends here; nothing to report.
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}
