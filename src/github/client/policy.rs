//! Our policy for every request, as a tower layer under octocrab: what octocrab's own retry
//! and rate-limit handling would decide differently, in one place.
//!
//! For each request octocrab hands down ([`PolicyService`]):
//!
//! 1. it is counted under its [`Endpoint`] (pages and retries included): the bench, the log
//!    and the summary read these counts;
//! 2. a primary rate limit the last answer reported as used up is waited out when its reset
//!    is near, or the request is not sent ([`GitHubError::RateLimited`]);
//! 3. a write waits for its turn: writes start `write_delay` apart ([`Policy::pace_write`]);
//! 4. one attempt sends it and reads the whole answer within `attempt_timeout`;
//! 5. the answer's `x-ratelimit-*` headers are kept ([`Policy::rate`]);
//! 6. a failure is retried as [`RetryPolicy`] allows (only endpoints whose re-sending cannot
//!    make a duplicate; see [`Endpoint::resend_safe`]), a rate-limit refusal waited out as
//!    GitHub asks;
//! 7. what is left goes up as an answer, or as a [`GitHubError`] of ours when there was no
//!    answer (`Transport`) or a rate limit stopped it (`RateLimited`): octocrab hands such
//!    errors back as `Error::Service`, and `errors::from_octocrab` takes them out again.
//!
//! What needs an endpoint's meaning stays at the call sites in `client.rs`: a create whose
//! answer was lost is looked up before anything is sent again; a retried DELETE that finds
//! nothing, or a retried ref update that finds the branch already moved to its commit, is
//! done. Those checks need to know whether the request was sent more than once:
//! [`counting_attempts`] tells them.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use chrono::Utc;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt as _, Full};
use octocrab::OctoBody;
use tower::{Layer, Service};

use super::endpoint::Endpoint;
use super::errors::{WireError, describe, wire_message};
use super::retry::{self, RetryPolicy};
use super::transport::{NoAnswer, error_chain, host_of, path_of, tls_message};
use crate::github::{GitHubError, RateLimit, Waits};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

tokio::task_local! {
    /// How many attempts the last request sent inside [`counting_attempts`] took.
    static ATTEMPTS: Cell<u32>;
}

/// Runs `call` (one request through octocrab) and says how many attempts its request took.
/// A task-local carries the number up from the layer: octocrab's typed calls return the
/// parsed value only, and tower's buffer polls the layer's future on the caller's task.
pub(super) async fn counting_attempts<F: Future>(call: F) -> (F::Output, u32) {
    ATTEMPTS
        .scope(Cell::new(0), async {
            let output = call.await;
            (output, ATTEMPTS.with(Cell::get))
        })
        .await
}

/// What the clients of one run share: the clients of the other repositories a plan names
/// count with the first, and take their turn to write with it (GitHub's secondary limits are
/// per token and per user; an App token for every repository shares them).
#[derive(Debug, Default)]
pub(super) struct Shared {
    /// Requests sent per endpoint (retries and pages included).
    pub(super) counts: [AtomicU64; Endpoint::ALL.len()],
    /// Requests sent again after a failure or a rate-limit wait.
    pub(super) retries: AtomicU64,
    /// When the next write may start: the last write's start plus the write delay.
    next_write: Mutex<Option<Instant>>,
    /// Time spent waiting for a write's turn, in microseconds.
    paced_us: AtomicU64,
    /// Time spent waiting out rate limits (`Retry-After`, a primary limit's reset) and
    /// backing off before a retry, in microseconds.
    held_us: AtomicU64,
}

/// The policy's settings and what it keeps between requests; one per client, behind an
/// `Arc` shared by every request the client sends.
#[derive(Debug)]
pub(super) struct Policy {
    pub(super) retry: RetryPolicy,
    /// The least time between the starts of two mutations.
    pub(super) write_delay: Duration,
    /// The API's path prefix (`/api/v3` on GitHub Enterprise Server), left off before a path
    /// is matched to its [`Endpoint`].
    pub(super) prefix: String,
    /// The primary rate limit as the last answer reported it.
    rate: Mutex<Option<RateLimit>>,
    pub(super) shared: Arc<Shared>,
}

impl Policy {
    pub(super) fn new(retry: RetryPolicy, write_delay: Duration, prefix: String, shared: Arc<Shared>) -> Policy {
        Policy { retry, write_delay, prefix, rate: Mutex::new(None), shared }
    }

    /// What the run's clients waited for so far.
    pub(super) fn waits(&self) -> Waits {
        Waits {
            pacing: Duration::from_micros(self.shared.paced_us.load(Ordering::Relaxed)),
            rate_limits: Duration::from_micros(self.shared.held_us.load(Ordering::Relaxed)),
        }
    }

    /// Sleeps `delay`, counted as held back by GitHub's limits or a retry's backoff.
    async fn hold(&self, delay: Duration) {
        self.shared.held_us.fetch_add(delay.as_micros() as u64, Ordering::Relaxed);
        tokio::time::sleep(delay).await;
    }

    /// The primary rate limit as the last answer reported it.
    pub(super) fn rate(&self) -> Option<RateLimit> {
        *lock(&self.rate)
    }

    /// Sends `request` through `inner` as the module documentation says.
    async fn send<S>(&self, mut inner: S, request: Request<OctoBody>) -> Result<Response<Full<Bytes>>, BoxError>
    where
        S: Service<Request<Full<Bytes>>, Response = Response<hyper::body::Incoming>>,
        S::Error: Into<BoxError>,
    {
        let (parts, body) = request.into_parts();
        let method = parts.method.clone();
        let url = parts.uri.to_string();
        let path = path_of(&url);
        let transport =
            |message: String| GitHubError::Transport { method: method.to_string(), path: path.clone(), message };
        // octocrab's bodies are serialised JSON already: read once, sent again as is.
        let body = body.collect().await.map_err(|e| transport(format!("could not read the request body: {e}")))?;
        let body = body.to_bytes();
        let endpoint = Endpoint::of(&method, path.strip_prefix(self.prefix.as_str()).unwrap_or(&path));
        let resend = endpoint.is_some_and(Endpoint::resend_safe);
        let max_attempts = self.retry.max_attempts.max(1);
        let mut attempt = 0;
        let mut waited = Duration::ZERO;
        loop {
            attempt += 1;
            let _ = ATTEMPTS.try_with(|cell| cell.set(attempt));
            self.await_rate_window(&method, &path, &mut waited).await?;
            let write = method != Method::GET;
            if write {
                self.pace_write().await;
            }
            if let Some(endpoint) = endpoint {
                self.shared.counts[endpoint.index()].fetch_add(1, Ordering::Relaxed);
            }
            let request = Request::from_parts(parts.clone(), Full::new(body.clone()));
            // Every request at debug level: method and URL (never a header), then the status.
            tracing::debug!(http.method = %method, http.url = %url, "request");
            let outcome = self.attempt(&mut inner, request, &url).await;
            if let Ok((_, headers, _)) = &outcome
                && let Some(rate) = retry::rate_limit_of(headers)
            {
                *lock(&self.rate) = Some(rate);
            }
            let can_retry = attempt < max_attempts;
            let wait = match &outcome {
                Err(failure) if can_retry && resend && failure.transient => {
                    Some((self.retry.backoff(attempt), failure.message.clone()))
                }
                Ok((status, _, _)) if can_retry && resend && retry::is_retryable_status(*status) => {
                    Some((self.retry.backoff(attempt), format!("GitHub answered {status}")))
                }
                // GitHub refused a rate-limited request before handling it: any request may
                // be sent again, a create included.
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
                self.shared.retries.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    method = %method,
                    path = %path,
                    attempt,
                    max_attempts,
                    delay_ms = delay.as_millis() as u64,
                    "retrying GitHub request: {reason}"
                );
                self.hold(delay).await;
                continue;
            }
            let (status, headers, body) = outcome.map_err(|failure| transport(failure.message))?;
            tracing::debug!(http.status_code = status.as_u16(), "answer");
            if let Some(refusal) = retry::rate_refusal(status, &headers, &wire_message(&body), Utc::now()) {
                let wire: WireError = serde_json::from_slice(&body).unwrap_or_default();
                return Err(GitHubError::RateLimited {
                    primary: refusal.primary,
                    until: Some(refusal.until),
                    method: method.to_string(),
                    path,
                    message: describe(&wire, status, &body),
                }
                .into());
            }
            let mut answer = Response::new(Full::new(body));
            *answer.status_mut() = status;
            *answer.headers_mut() = headers;
            return Ok(answer);
        }
    }

    /// One attempt: the request, and its whole body, within the policy's `attempt_timeout`.
    /// The error is a message without the token (hyper's errors never show headers; a TLS
    /// refusal names the host and port only), and whether to try again.
    async fn attempt<S>(
        &self,
        inner: &mut S,
        request: Request<Full<Bytes>>,
        url: &str,
    ) -> Result<(StatusCode, HeaderMap, Bytes), NoAnswer>
    where
        S: Service<Request<Full<Bytes>>, Response = Response<hyper::body::Incoming>>,
        S::Error: Into<BoxError>,
    {
        let exchange = async {
            std::future::poll_fn(|cx| inner.poll_ready(cx)).await.map_err(|e| no_answer(e.into(), url))?;
            let response = inner.call(request).await.map_err(|e| no_answer(e.into(), url))?;
            let (parts, body) = response.into_parts();
            let bytes = body.collect().await.map_err(|e| NoAnswer::transient(error_chain(&e)))?.to_bytes();
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

    /// Waits out a primary rate limit the last answer reported as used up, when its reset is
    /// near enough; otherwise the request is not sent and the caller stops cleanly.
    async fn await_rate_window(&self, method: &Method, path: &str, waited: &mut Duration) -> Result<(), GitHubError> {
        let Some(rate) = self.rate() else { return Ok(()) };
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
                path: path.to_string(),
                message: format!("{} requests an hour used up", rate.limit),
            });
        }
        tracing::warn!(
            method = %method,
            path = %path,
            delay_ms = wait.as_millis() as u64,
            "the primary rate limit is used up; waiting for it to reset"
        );
        *waited += wait;
        self.hold(wait).await;
        *lock(&self.rate) = None;
        Ok(())
    }

    /// Starts writes at most once per `write_delay`, measured from the previous start (of any
    /// client of the run): GitHub's limit is on how many writes start a minute, so a write that
    /// took longer than the delay is followed at once. The turn is taken before the wait, so
    /// two writes never get the same one.
    async fn pace_write(&self) {
        let now = Instant::now();
        let start = {
            let mut next = lock(&self.shared.next_write);
            let start = next.map_or(now, |due| due.max(now));
            *next = Some(start + self.write_delay);
            start
        };
        if let Some(pause) = start.checked_duration_since(now).filter(|p| !p.is_zero()) {
            self.shared.paced_us.fetch_add(pause.as_micros() as u64, Ordering::Relaxed);
            tokio::time::sleep(pause).await;
        }
    }
}

/// Why a request got no answer; a TLS refusal says which host and what to check.
fn no_answer(error: BoxError, url: &str) -> NoAnswer {
    match retry::tls_refusal(error.as_ref()) {
        Some(refusal) => NoAnswer { message: tls_message(&refusal, &host_of(url)), transient: false },
        None => NoAnswer::transient(error_chain(error.as_ref())),
    }
}

/// The layer that puts a client's [`Policy`] under octocrab.
#[derive(Clone)]
pub(super) struct PolicyLayer(pub(super) Arc<Policy>);

impl<S> Layer<S> for PolicyLayer {
    type Service = PolicyService<S>;

    fn layer(&self, inner: S) -> PolicyService<S> {
        PolicyService { inner, policy: self.0.clone() }
    }
}

/// [`Policy`] as a tower service: octocrab's requests in, whole answers out.
#[derive(Clone)]
pub(super) struct PolicyService<S> {
    inner: S,
    policy: Arc<Policy>,
}

impl<S> Service<Request<OctoBody>> for PolicyService<S>
where
    S: Service<Request<Full<Bytes>>, Response = Response<hyper::body::Incoming>> + Clone + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
{
    type Response = Response<Full<Bytes>>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        // Readiness is awaited per attempt, on a clone of the inner service.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<OctoBody>) -> Self::Future {
        let inner = self.inner.clone();
        let policy = self.policy.clone();
        Box::pin(async move { policy.send(inner, request).await })
    }
}

/// Locks a mutex, poisoned or not (the values behind it stay valid either way).
pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
