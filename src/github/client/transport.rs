//! What octocrab runs on: hyper over rustls, and the layer that addresses every request to
//! the API and stamps GitHub's headers on it ([`OriginLayer`]).
//!
//! The service stack, outermost first (see [`super::Client::new`]):
//!
//! ```text
//! octocrab (typed handlers, models, Page<T>; no auth, no retry, no default client)
//!   └ OriginLayer   the API's origin and prefix; Authorization, Accept, API version,
//!   │               User-Agent, each exactly once; the token never leaves the origin
//!   └ PolicyLayer   counts, rate limits, write pacing, retries, timeouts (policy.rs)
//!     └ Http        hyper-util's client: rustls (ring, the system's roots), HTTP/1,
//!                   connect/read/write timeouts
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, USER_AGENT};
use http::{HeaderValue, Request, Uri};
use http_body_util::Full;
use octocrab::OctoBody;
use tower::{Layer, Service};

use super::retry::TlsRefusal;
use super::url::ApiBase;
use crate::github::GitHubError;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long to wait for a TCP/TLS connection.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one read (or write) on the connection may stall.
pub(super) const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// A bound on pages followed, so that a `Link` header pointing in a circle cannot loop
/// forever (100 per page: 100,000 milestones).
pub(super) const MAX_PAGES: usize = 1000;
pub(super) const API_VERSION: &str = "2022-11-28";
pub(super) const MEDIA_TYPE: &str = "application/vnd.github+json";

/// The HTTP client: hyper over rustls (ring) with the system's CA certificates, HTTP/1, and
/// the connect/read/write timeouts. It adds no header of its own.
pub(super) type Http = hyper_util::client::legacy::Client<
    hyper_timeout::TimeoutConnector<hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>>,
    Full<Bytes>,
>;

pub(super) fn http_client() -> anyhow::Result<Http> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider)
        .map_err(|e| anyhow::anyhow!("could not set up the HTTP client: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    let mut connector = hyper_timeout::TimeoutConnector::new(connector);
    connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
    connector.set_read_timeout(Some(READ_TIMEOUT));
    connector.set_write_timeout(Some(READ_TIMEOUT));
    Ok(hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector))
}

/// The headers every request carries, each set once (replacing whatever octocrab put there:
/// it adds its own `X-GitHub-Api-Version`).
#[derive(Clone)]
pub(super) struct Stamp {
    /// `Bearer <token>`, marked sensitive so that `Debug` of a request never shows it.
    pub(super) authorization: HeaderValue,
    pub(super) user_agent: HeaderValue,
}

impl Stamp {
    /// The token as a header value; the error never holds the token.
    pub(super) fn new(token: &str) -> anyhow::Result<Stamp> {
        let token = token.trim();
        if token.is_empty() {
            anyhow::bail!("the GitHub token is empty");
        }
        let mut authorization = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| anyhow::anyhow!("the GitHub token holds characters that cannot go in an HTTP header"))?;
        authorization.set_sensitive(true);
        let user_agent = HeaderValue::from_static(concat!("milestone-sync/", env!("CARGO_PKG_VERSION")));
        Ok(Stamp { authorization, user_agent })
    }

    /// Addresses `request` to the API at `base` and sets GitHub's headers. A relative URI
    /// (octocrab's routes, `/repos/…`) goes under the base's prefix; an absolute one (a
    /// `Link` header's next page, verbatim) must name the base's origin: the token goes with
    /// every request and must not leave for another host.
    pub(super) fn apply<B>(&self, base: &ApiBase, request: &mut Request<B>) -> Result<(), String> {
        let uri = request.uri();
        let target = match uri.scheme_str() {
            None => base.url(uri.path_and_query().map_or("/", |p| p.as_str())),
            Some(_) => base.follow(&uri.to_string())?,
        };
        *request.uri_mut() = target.parse::<Uri>().map_err(|e| format!("{target:?} is not a URI: {e}"))?;
        let headers = request.headers_mut();
        headers.insert(AUTHORIZATION, self.authorization.clone());
        headers.insert(ACCEPT, HeaderValue::from_static(MEDIA_TYPE));
        headers.insert("x-github-api-version", HeaderValue::from_static(API_VERSION));
        headers.insert(USER_AGENT, self.user_agent.clone());
        Ok(())
    }
}

/// The layer that applies a [`Stamp`] for an [`ApiBase`] (see [`Stamp::apply`]).
#[derive(Clone)]
pub(super) struct OriginLayer {
    pub(super) base: ApiBase,
    pub(super) stamp: Stamp,
}

impl<S> Layer<S> for OriginLayer {
    type Service = Origin<S>;

    fn layer(&self, inner: S) -> Origin<S> {
        Origin { inner, layer: self.clone() }
    }
}

#[derive(Clone)]
pub(super) struct Origin<S> {
    inner: S,
    layer: OriginLayer,
}

impl<S> Service<Request<OctoBody>> for Origin<S>
where
    S: Service<Request<OctoBody>, Error = BoxError>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<OctoBody>) -> Self::Future {
        match self.layer.stamp.apply(&self.layer.base, &mut request) {
            Ok(()) => Box::pin(self.inner.call(request)),
            Err(message) => {
                let refused = GitHubError::Transport {
                    method: request.method().to_string(),
                    path: path_of(&request.uri().to_string()),
                    message,
                };
                Box::pin(async move { Err(refused.into()) })
            }
        }
    }
}

/// Why an attempt got no answer: the message (without the token), and whether another
/// attempt may fare better.
pub(super) struct NoAnswer {
    pub(super) message: String,
    /// False for a failure no retry can mend: a TLS certificate not accepted.
    pub(super) transient: bool,
}

impl NoAnswer {
    pub(super) fn transient(message: String) -> NoAnswer {
        NoAnswer { message, transient: true }
    }
}

/// What a TLS refusal tells a person: the host, rustls's words, and what to check.
pub(super) fn tls_message(refusal: &TlsRefusal, host: &str) -> String {
    match refusal {
        TlsRefusal::Certificate(detail) => format!(
            "the TLS certificate of {host} was not accepted ({detail}): check the CA bundle the runner trusts \
             (`SSL_CERT_FILE` names it, or /etc/ssl/certs in the image; a GitHub Enterprise Server with a private \
             CA needs that CA in it) and whether a proxy intercepts TLS; not retried"
        ),
        TlsRefusal::Handshake(detail) => format!(
            "the TLS handshake with {host} failed ({detail}): the server and this client (TLS 1.2 or 1.3) have no \
             version or cipher suite in common; check `GITHUB_API_URL` and whether a proxy intercepts TLS; not retried"
        ),
    }
}

/// `host:port` of a URL, the port the scheme's default when not given: what a TLS error
/// names.
pub(super) fn host_of(url: &str) -> String {
    let Ok(uri) = url.parse::<Uri>() else { return url.to_string() };
    let host = uri.host().unwrap_or_default();
    let port = uri.port_u16().unwrap_or(if uri.scheme_str() == Some("http") { 80 } else { 443 });
    format!("{host}:{port}")
}

/// The path of a URL, without origin or query: what errors and logs name.
pub(super) fn path_of(url: &str) -> String {
    match url.parse::<Uri>() {
        Ok(uri) => uri.path().to_string(),
        Err(_) => url.split('?').next().unwrap_or(url).to_string(),
    }
}

/// An error and its sources, joined: hyper's top-level messages ("client error (Connect)")
/// say little without them.
pub(super) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}
