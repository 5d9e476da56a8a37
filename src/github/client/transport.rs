//! Sending a request: headers, timeouts, retries, pacing of writes, rate limits, pagination
//! and the call counts. Everything the endpoints of [`GitHub`] share.

use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::Utc;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use http_body_util::BodyExt as _;
use http_body_util::Full;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::github::GitHubError;

use super::endpoint::Endpoint;
use super::errors::{ErrorContext, WireError, describe, map_error, wire_message};
use super::retry::TlsRefusal;
use super::url::{ApiBase, encode_component, last_page, next_link};
use super::{Client, DEFAULT_WRITE_DELAY, RetryPolicy, retry};

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
/// the connect/read/write timeouts. Every header is set per request ([`Client::request`]);
/// nothing is added here (octocrab's client, used before, added a second `User-Agent`).
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

/// Why an attempt got no answer: the message (without the token), and whether another
/// attempt may fare better.
pub(super) struct NoAnswer {
    pub(super) message: String,
    /// False for a failure no retry can mend: a TLS certificate not accepted, a request that
    /// cannot be built.
    pub(super) transient: bool,
}

impl NoAnswer {
    fn transient(message: String) -> NoAnswer {
        NoAnswer { message, transient: true }
    }

    /// A failure of the request to `url`; a TLS refusal says which host and what to check.
    fn of(error: &hyper_util::client::legacy::Error, url: &str) -> NoAnswer {
        match retry::tls_refusal(error) {
            Some(refusal) => NoAnswer { message: tls_message(&refusal, &host_of(url)), transient: false },
            None => NoAnswer::transient(error_chain(error)),
        }
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

/// A successful (or finally failed) answer, read in full.
pub(super) struct Answer {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) body: Vec<u8>,
    /// How many attempts it took; a DELETE that needed more than one may find its own earlier
    /// success as a 404.
    pub(super) attempts: u32,
}

impl Client {
    /// A client for `owner/repo` at `api_url` (`https://api.github.com`, or
    /// `https://HOST/api/v3` on GitHub Enterprise Server; a trailing slash is fine).
    ///
    /// Fails on an unusable URL or token (the message never holds the token) or when called
    /// outside a Tokio runtime.
    pub fn new(api_url: &str, token: &str, owner: &str, repo: &str) -> anyhow::Result<Client> {
        let base = ApiBase::parse(api_url)?;
        if tokio::runtime::Handle::try_current().is_err() {
            anyhow::bail!("the GitHub client must be created inside a Tokio runtime");
        }
        let token = token.trim();
        if token.is_empty() {
            anyhow::bail!("the GitHub token is empty");
        }
        let mut authorization = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|_| anyhow::anyhow!("the GitHub token holds characters that cannot go in an HTTP header"))?;
        authorization.set_sensitive(true);
        let user_agent = HeaderValue::from_static(concat!("milestone-sync/", env!("CARGO_PKG_VERSION")));
        let http = http_client()?;
        Ok(Client {
            http,
            base,
            owner: owner.to_string(),
            repo: repo.to_string(),
            authorization,
            user_agent,
            retry: RetryPolicy::default(),
            write_delay: DEFAULT_WRITE_DELAY,
            last_write: Mutex::new(None),
            rate: Mutex::new(None),
            counts: Default::default(),
            retries: Default::default(),
            repository: Mutex::new(None),
        })
    }

    /// Replaces the retry policy (tests use a tiny `base_delay`).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Client {
        self.retry = retry;
        self
    }

    /// Sets the pause between mutations (default [`DEFAULT_WRITE_DELAY`]; zero for none).
    pub fn with_write_delay(mut self, delay: Duration) -> Client {
        self.write_delay = delay;
        self
    }

    /// Counts its requests (and retries) with `other`'s: the client of another repository
    /// in the same run.
    pub fn counting_with(mut self, other: &Client) -> Client {
        self.counts = other.counts.clone();
        self.retries = other.retries.clone();
        self
    }

    /// How many requests were sent again (after a failure or a rate-limit wait).
    pub fn retries(&self) -> u64 {
        self.retries.load(Ordering::Relaxed)
    }

    /// The HTTP requests sent so far (retries and pages included), per endpoint, in a fixed
    /// order, endpoints never called left out: e.g. `("GET /repos/{o}/{r}/milestones", 3)`.
    pub fn call_counts(&self) -> Vec<(String, u64)> {
        Endpoint::ALL
            .iter()
            .map(|e| (e.template().to_string(), self.counts[e.index()].load(Ordering::Relaxed)))
            .filter(|(_, n)| *n > 0)
            .collect()
    }

    /// `/repos/{owner}/{repo}` followed by `rest` (which starts with `/` or is empty).
    pub(super) fn repo_path(&self, rest: &str) -> String {
        format!("/repos/{}/{}{rest}", encode_component(&self.owner), encode_component(&self.repo))
    }

    /// Sends one request, retrying as [`RetryPolicy`] allows, and reads the answer in full.
    /// Any status comes back as `Ok`; only a request that got no answer is an error, or one
    /// that a used-up primary rate limit keeps from being sent.
    pub(super) async fn send(
        &self,
        endpoint: Endpoint,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Answer, GitHubError> {
        self.send_bytes(endpoint, url, body.map(|v| Bytes::from(v.to_string()))).await
    }

    /// [`Client::send`] with the body already serialised. A resent body is shared, not
    /// copied: a tree of thousands of files is megabytes.
    pub(super) async fn send_bytes(
        &self,
        endpoint: Endpoint,
        url: &str,
        body: Option<Bytes>,
    ) -> Result<Answer, GitHubError> {
        let method = endpoint.method();
        let max_attempts = self.retry.max_attempts.max(1);
        let mut attempt = 0;
        let mut waited = Duration::ZERO;
        loop {
            attempt += 1;
            self.await_rate_window(&method, url, &mut waited).await?;
            let write = method != Method::GET;
            if write {
                self.pace_write().await;
            }
            self.counts[endpoint.index()].fetch_add(1, Ordering::Relaxed);
            let outcome = self.attempt(&method, url, body.clone()).await;
            if write {
                *lock(&self.last_write) = Some(Instant::now());
            }
            if let Ok((_, headers, _)) = &outcome
                && let Some(rate) = retry::rate_limit_of(headers)
            {
                *lock(&self.rate) = Some(rate);
            }
            let can_retry = attempt < max_attempts;
            let resend = endpoint.resend_safe();
            let wait = match &outcome {
                Err(failure) if can_retry && resend && failure.transient => {
                    Some((self.retry.backoff(attempt), failure.message.clone()))
                }
                Ok((status, _, _)) if can_retry && resend && retry::is_retryable_status(*status) => {
                    Some((self.retry.backoff(attempt), format!("GitHub answered {status}")))
                }
                // A rate-limit refusal was not handled: any request may be sent again.
                Ok((status, headers, body)) if can_retry => {
                    retry::rate_refusal(*status, headers, &wire_message(body), Utc::now())
                        .filter(|r| r.wait <= self.retry.max_retry_after)
                        .map(|r| {
                            let kind = if r.primary { "primary" } else { "secondary" };
                            (r.wait, format!("{kind} rate limit ({status}); waiting as GitHub asks"))
                        })
                }
                _ => None,
            }
            // The waits of one request stay within `max_total_wait`.
            .filter(|(delay, _)| waited + *delay <= self.retry.max_total_wait);
            if let Some((delay, reason)) = wait {
                waited += delay;
                self.retries.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    method = %method,
                    path = %path_of(url),
                    attempt,
                    max_attempts,
                    delay_ms = delay.as_millis() as u64,
                    "retrying GitHub request: {reason}"
                );
                tokio::time::sleep(delay).await;
                continue;
            }
            return match outcome {
                Ok((status, headers, body)) => Ok(Answer { status, headers, body, attempts: attempt }),
                Err(failure) => Err(GitHubError::Transport {
                    method: method.to_string(),
                    path: path_of(url),
                    message: failure.message,
                }),
            };
        }
    }

    /// Waits out a primary rate limit the last answer reported as used up, when its reset is
    /// near enough; otherwise the request is not sent and the caller stops cleanly.
    pub(super) async fn await_rate_window(
        &self,
        method: &Method,
        url: &str,
        waited: &mut Duration,
    ) -> Result<(), GitHubError> {
        let Some(rate) = *lock(&self.rate) else { return Ok(()) };
        let now = Utc::now();
        if rate.remaining > 0 || rate.reset <= now - chrono::Duration::seconds(1) {
            return Ok(());
        }
        let wait = Duration::from_millis((rate.reset - now).num_milliseconds().max(0) as u64 + 1000);
        if wait > self.retry.max_retry_after || *waited + wait > self.retry.max_total_wait {
            return Err(GitHubError::RateLimited {
                primary: true,
                until: Some(rate.reset),
                method: method.to_string(),
                path: path_of(url),
                message: format!("{} requests an hour used up", rate.limit),
            });
        }
        tracing::warn!(
            method = %method,
            path = %path_of(url),
            delay_ms = wait.as_millis() as u64,
            "the primary rate limit is used up; waiting for it to reset"
        );
        *waited += wait;
        tokio::time::sleep(wait).await;
        *lock(&self.rate) = None;
        Ok(())
    }

    /// Keeps `write_delay` between the end of the last mutation and the start of this one.
    pub(super) async fn pace_write(&self) {
        let last = *lock(&self.last_write);
        if let Some(pause) =
            last.map(|t| t + self.write_delay).and_then(|due| due.checked_duration_since(Instant::now()))
        {
            tokio::time::sleep(pause).await;
        }
    }

    /// The request as sent. `Authorization` is a sensitive header value: `Debug` of the
    /// request, of its headers (and hyper's logs of them) show `Sensitive`, never the token.
    pub(super) fn request(
        &self,
        method: &Method,
        url: &str,
        body: Option<Bytes>,
    ) -> Result<http::Request<Full<Bytes>>, String> {
        let builder = http::Request::builder()
            .method(method.clone())
            .uri(url)
            .header(AUTHORIZATION, self.authorization.clone())
            .header(ACCEPT, MEDIA_TYPE)
            .header("x-github-api-version", API_VERSION)
            .header(USER_AGENT, self.user_agent.clone());
        match body {
            Some(json) => builder.header(CONTENT_TYPE, "application/json").body(Full::new(json)),
            None => builder.body(Full::new(Bytes::new())),
        }
        .map_err(|e| format!("could not build the request: {e}"))
    }

    /// One attempt: the request, and its whole body, within the policy's `attempt_timeout`. The error is
    /// a message without the token (hyper's errors never show headers; a TLS refusal names
    /// the host and port only), and whether to try again.
    pub(super) async fn attempt(
        &self,
        method: &Method,
        url: &str,
        body: Option<Bytes>,
    ) -> Result<(StatusCode, HeaderMap, Vec<u8>), NoAnswer> {
        let request = self.request(method, url, body).map_err(|message| NoAnswer { message, transient: false })?;
        // Every request at debug level: method and URL (never a header), then the status.
        tracing::debug!(http.method = %method, http.url = %url, "request");
        let exchange = async {
            let response = self.http.request(request).await.map_err(|e| NoAnswer::of(&e, url))?;
            tracing::debug!(http.status_code = response.status().as_u16(), "answer");
            let (parts, body) = response.into_parts();
            let bytes = body.collect().await.map_err(|e| NoAnswer::transient(error_chain(&e)))?.to_bytes().to_vec();
            Ok((parts.status, parts.headers, bytes))
        };
        match tokio::time::timeout(self.retry.attempt_timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(NoAnswer::transient(format!(
                "no complete answer within {} ms",
                self.retry.attempt_timeout.as_millis()
            ))),
        }
    }

    /// Sends a request and parses a 2xx answer, mapping anything else with `context`.
    pub(super) async fn call<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        url: &str,
        body: Option<&Value>,
        context: &ErrorContext,
    ) -> Result<(T, Answer), GitHubError> {
        let answer = self.send(endpoint, url, body).await?;
        let value = self.parse(endpoint, url, &answer, context)?;
        Ok((value, answer))
    }

    pub(super) fn parse<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        url: &str,
        answer: &Answer,
        context: &ErrorContext,
    ) -> Result<T, GitHubError> {
        self.check(endpoint, url, answer, context)?;
        serde_json::from_slice(&answer.body).map_err(|e| GitHubError::Transport {
            method: endpoint.method().to_string(),
            path: path_of(url),
            message: format!("unexpected answer body: {e}"),
        })
    }

    /// GETs `first` and every page its `Link` headers lead to, in order.
    pub(super) async fn get_all_pages<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        first: String,
        what: &str,
    ) -> Result<Vec<T>, GitHubError> {
        self.get_pages_within(endpoint, first, what, MAX_PAGES).await?.ok_or_else(|| GitHubError::Transport {
            method: "GET".into(),
            path: String::new(),
            message: format!("more than {MAX_PAGES} pages of {what}; the Link header may loop"),
        })
    }

    /// Like [`Client::get_all_pages`] when the list takes at most `max_pages` pages;
    /// `Ok(None)` otherwise, as soon as that is known: after the first page when its `Link`
    /// header names a last page beyond `max_pages`.
    pub(super) async fn get_pages_within<T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        first: String,
        what: &str,
        max_pages: usize,
    ) -> Result<Option<Vec<T>>, GitHubError> {
        let mut url = first;
        let mut items = Vec::new();
        for page_number in 1..=max_pages.min(MAX_PAGES) {
            let (page, answer): (Vec<T>, _) = self.call(endpoint, &url, None, &ErrorContext::default()).await?;
            items.extend(page);
            let links: Vec<&str> =
                answer.headers.get_all(http::header::LINK).iter().filter_map(|v| v.to_str().ok()).collect();
            if page_number == 1 && links.iter().find_map(|l| last_page(l)).is_some_and(|last| last > max_pages) {
                return Ok(None);
            }
            let next = links.iter().find_map(|l| next_link(l));
            match next {
                Some(next) => {
                    url = self.base.follow(&next).map_err(|message| GitHubError::Transport {
                        method: "GET".into(),
                        path: path_of(&url),
                        message,
                    })?;
                }
                None => return Ok(Some(items)),
            }
        }
        if max_pages >= MAX_PAGES {
            return Err(GitHubError::Transport {
                method: "GET".into(),
                path: path_of(&url),
                message: format!("more than {MAX_PAGES} pages of {what}; the Link header may loop"),
            });
        }
        Ok(None)
    }

    pub(super) fn check(
        &self,
        endpoint: Endpoint,
        url: &str,
        answer: &Answer,
        context: &ErrorContext,
    ) -> Result<(), GitHubError> {
        if answer.status.is_success() {
            return Ok(());
        }
        if let Some(refusal) =
            retry::rate_refusal(answer.status, &answer.headers, &wire_message(&answer.body), Utc::now())
        {
            let wire: WireError = serde_json::from_slice(&answer.body).unwrap_or_default();
            return Err(GitHubError::RateLimited {
                primary: refusal.primary,
                until: Some(refusal.until),
                method: endpoint.method().to_string(),
                path: path_of(url),
                message: describe(&wire, answer.status, &answer.body),
            });
        }
        Err(map_error(&endpoint.method(), &path_of(url), answer.status, &answer.body, endpoint.permission(), context))
    }
}

/// Locks a mutex, poisoned or not (the values behind it stay valid either way).
pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
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
pub(super) fn error_chain(error: &dyn std::error::Error) -> String {
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
