//! Our own retry policy, applied by the policy layer (`policy.rs`) under octocrab. octocrab's
//! own retry (turned off: built without its `retry` feature) re-sends every method, POST
//! included, at once and without backoff, so a create whose answer was lost would become a
//! duplicate.
//!
//! The rules, kept deliberately small:
//!
//! - Only requests whose re-sending cannot change the outcome are retried after a failure:
//!   GET, PATCH and DELETE as this client uses them (a PATCH sends the whole wanted value, a
//!   DELETE of a deleted milestone answers 404), and the git database's POSTs (a tree is
//!   addressed by its content; a commit sent twice leaves at most one unreferenced object).
//!   A milestone create is never re-sent here: a lost answer may mean the milestone exists,
//!   and only the caller can look for it by its marker (see `apply::create`).
//! - What is retried: no answer at all (connection refused or reset, timeouts, a body cut
//!   short) and 500, 502, 503, 504: GitHub's own advice for transient failures.
//! - What is never retried: a TLS handshake that failed for a reason no retry can change
//!   ([`tls_refusal`]): the server's certificate not accepted (an unknown CA, a wrong name,
//!   expired), or no TLS version or cipher suite in common. The run stops at once with what
//!   to check (the CA bundle, `SSL_CERT_FILE`, a proxy).
//! - Backoff: `base_delay * 2^(retry - 1)`, with "equal jitter" (half fixed, half random) so
//!   that parallel runs do not retry in lock step, and each wait capped at `max_delay`.
//! - Rate limits (403 or 429) are waited out as GitHub asks: `retry-after` seconds when sent;
//!   else, when `x-ratelimit-remaining` is 0 (the primary limit), until `x-ratelimit-reset`;
//!   else, for a secondary limit, one minute. GitHub refused such a request before handling
//!   it, so every request is re-sent after the wait, a create included. A wait longer than
//!   `max_retry_after` is not made: the caller gets [`crate::github::GitHubError::RateLimited`]
//!   and stops cleanly.
//! - All waits of one request together stay within `max_total_wait`; a retry that would
//!   exceed it is not made.
//! - Each attempt (send and read the whole answer) is bounded by `attempt_timeout`.
//!
//! With the defaults (3 attempts, 500 ms base) the backoff waits add up to at most ~1.5 s; a
//! rate limit may make a request wait up to a minute, twice.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use http::{HeaderMap, StatusCode};

/// How the client retries; see the module documentation for the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included (1 disables retries).
    pub max_attempts: u32,
    /// The first backoff wait; later ones double. Tests set it to a millisecond
    /// (`MILESTONE_SYNC_RETRY_BASE_MS` for the binary).
    pub base_delay: Duration,
    /// The longest single backoff wait.
    pub max_delay: Duration,
    /// The longest rate-limit wait the client will sit out; longer ones become errors.
    pub max_retry_after: Duration,
    /// The longest a request may spend waiting between its attempts, all waits together.
    pub max_total_wait: Duration,
    /// The longest one attempt may take, sending the request and reading the whole answer
    /// (`MILESTONE_SYNC_TIMEOUT_MS` for the binary).
    pub attempt_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(4),
            max_retry_after: Duration::from_secs(60),
            max_total_wait: Duration::from_secs(130),
            attempt_timeout: Duration::from_secs(60),
        }
    }
}

/// Whether a status is a transient server failure worth another attempt.
pub(crate) fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 500 | 502 | 503 | 504)
}

/// The seconds a 403/429 secondary-rate-limit answer asks us to wait, if it says.
///
/// GitHub sends `retry-after` as whole seconds; the HTTP-date form is not used by it and is
/// ignored here.
pub(crate) fn retry_after(status: StatusCode, headers: &HeaderMap) -> Option<Duration> {
    if status != StatusCode::FORBIDDEN && status != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    let value = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// A header's value as a number.
fn number(headers: &HeaderMap, name: &str) -> Option<i64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// A refusal because of a rate limit: how long GitHub asks us to wait, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RateRefusal {
    pub wait: Duration,
    /// The primary limit (`x-ratelimit-remaining: 0`), else a secondary one.
    pub primary: bool,
    pub until: DateTime<Utc>,
}

/// Reads a 403 or 429 as a rate-limit refusal, following GitHub's documented order:
/// `retry-after`, then `x-ratelimit-remaining: 0` with `x-ratelimit-reset`, then (a 429, or
/// a message about a secondary rate limit) at least one minute. A 403 that is none of these
/// (a missing permission) is not one.
pub(crate) fn rate_refusal(
    status: StatusCode,
    headers: &HeaderMap,
    message: &str,
    now: DateTime<Utc>,
) -> Option<RateRefusal> {
    if status != StatusCode::FORBIDDEN && status != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    let primary = number(headers, "x-ratelimit-remaining") == Some(0);
    let wait = if let Some(wait) = retry_after(status, headers) {
        wait
    } else if primary {
        let reset = number(headers, "x-ratelimit-reset").and_then(|t| DateTime::from_timestamp(t, 0))?;
        // One second more: the reset is whole seconds and clocks differ a little.
        let seconds = (reset - now).num_milliseconds().max(0) as u64 + 1000;
        Duration::from_millis(seconds)
    } else if status == StatusCode::TOO_MANY_REQUESTS || message.to_ascii_lowercase().contains("rate limit") {
        Duration::from_secs(60)
    } else {
        return None;
    };
    let until = now + chrono::Duration::from_std(wait).unwrap_or_else(|_| chrono::Duration::seconds(60));
    Some(RateRefusal { wait, primary, until })
}

/// The primary rate limit an answer reports, when it carries the `core` resource's headers.
pub(crate) fn rate_limit_of(headers: &HeaderMap) -> Option<crate::github::RateLimit> {
    let resource = headers.get("x-ratelimit-resource").and_then(|v| v.to_str().ok()).unwrap_or("core");
    if resource != "core" {
        return None;
    }
    Some(crate::github::RateLimit {
        limit: u64::try_from(number(headers, "x-ratelimit-limit")?).ok()?,
        remaining: u64::try_from(number(headers, "x-ratelimit-remaining")?).ok()?,
        reset: DateTime::from_timestamp(number(headers, "x-ratelimit-reset")?, 0)?,
    })
}

/// A TLS handshake failure that another attempt cannot mend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TlsRefusal {
    /// The server's certificate was not accepted: rustls's words ("invalid peer certificate:
    /// UnknownIssuer").
    Certificate(String),
    /// The server and the client share no TLS version or cipher suite, or the server ended
    /// the handshake for that reason: rustls's words.
    Handshake(String),
}

/// The TLS refusal somewhere in `error`'s chain of sources, if that is why it failed.
///
/// rustls's error reaches us inside a `std::io::Error` (tokio-rustls wraps it so), itself
/// inside another (hyper-rustls wraps that one again); `io::Error::source()` skips the error
/// it wraps, so each link of the chain is also unwrapped with [`std::io::Error::get_ref`].
pub(crate) fn tls_refusal(error: &(dyn std::error::Error + 'static)) -> Option<TlsRefusal> {
    let mut next = Some(error);
    while let Some(current) = next {
        // The link itself, then what each `io::Error` layer of it wraps.
        let mut layer = Some(current);
        while let Some(inner) = layer {
            if let Some(refusal) = inner.downcast_ref::<rustls::Error>().and_then(classify_tls) {
                return Some(refusal);
            }
            layer = inner.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()).map(|e| e as _);
        }
        next = current.source();
    }
    None
}

/// Which rustls errors are final. Others (a corrupt record, a connection cut mid-handshake)
/// may be transient and are retried like any failure to connect.
fn classify_tls(error: &rustls::Error) -> Option<TlsRefusal> {
    use rustls::AlertDescription as Alert;
    match error {
        rustls::Error::InvalidCertificate(_) => Some(TlsRefusal::Certificate(error.to_string())),
        rustls::Error::PeerIncompatible(_) => Some(TlsRefusal::Handshake(error.to_string())),
        rustls::Error::AlertReceived(
            Alert::HandshakeFailure | Alert::ProtocolVersion | Alert::InsufficientSecurity,
        ) => Some(TlsRefusal::Handshake(error.to_string())),
        _ => None,
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 for the first retry).
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        let exponent = retry.saturating_sub(1).min(16);
        let full = self.base_delay.saturating_mul(1 << exponent).min(self.max_delay);
        let half = full / 2;
        half + half.mul_f64(jitter())
    }
}

/// A number in `[0, 1)`, different on each call. A linear congruential step over the clock and
/// a counter is plenty for spreading retries; it is not meant to be unpredictable.
fn jitter() -> f64 {
    static STATE: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
    let count = STATE.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    let mut x = nanos ^ count;
    // splitmix64 finaliser
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_statuses() {
        for s in [500, 502, 503, 504] {
            assert!(is_retryable_status(StatusCode::from_u16(s).unwrap()), "{s}");
        }
        for s in [200, 400, 401, 403, 404, 422, 429, 501] {
            assert!(!is_retryable_status(StatusCode::from_u16(s).unwrap()), "{s}");
        }
    }

    #[test]
    fn backoff_doubles_within_jitter_and_cap() {
        let policy = RetryPolicy::default();
        for _ in 0..100 {
            let first = policy.backoff(1);
            assert!(first >= Duration::from_millis(250) && first <= Duration::from_millis(500), "{first:?}");
            let second = policy.backoff(2);
            assert!(second >= Duration::from_millis(500) && second <= Duration::from_secs(1), "{second:?}");
            let late = policy.backoff(20);
            assert!(late <= policy.max_delay, "{late:?}");
        }
    }

    #[test]
    fn retry_after_only_on_rate_limit_statuses() {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(StatusCode::FORBIDDEN, &headers), Some(Duration::from_secs(3)));
        assert_eq!(retry_after(StatusCode::TOO_MANY_REQUESTS, &headers), Some(Duration::from_secs(3)));
        assert_eq!(retry_after(StatusCode::BAD_GATEWAY, &headers), None);
        headers.insert(http::header::RETRY_AFTER, "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap());
        assert_eq!(retry_after(StatusCode::FORBIDDEN, &headers), None);
        assert_eq!(retry_after(StatusCode::FORBIDDEN, &HeaderMap::new()), None);
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn rate_refusals_follow_githubs_order() {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let forbidden = StatusCode::FORBIDDEN;
        // retry-after wins.
        let r = rate_refusal(forbidden, &headers(&[("retry-after", "5")]), "secondary rate limit", now).unwrap();
        assert_eq!((r.wait, r.primary), (Duration::from_secs(5), false));
        // The primary limit: until the reset, and a second more.
        let h = headers(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1700000030")]);
        let r = rate_refusal(forbidden, &h, "API rate limit exceeded for installation ID 1.", now).unwrap();
        assert_eq!((r.wait, r.primary), (Duration::from_secs(31), true));
        assert_eq!(r.until.timestamp(), 1_700_000_031);
        // A secondary limit without retry-after: a minute, as GitHub asks.
        let h = headers(&[("x-ratelimit-remaining", "4000")]);
        let r = rate_refusal(forbidden, &h, "You have exceeded a secondary rate limit.", now).unwrap();
        assert_eq!(r.wait, Duration::from_secs(60));
        assert!(rate_refusal(StatusCode::TOO_MANY_REQUESTS, &HeaderMap::new(), "", now).is_some());
        // A missing permission is not a rate limit.
        assert_eq!(rate_refusal(forbidden, &h, "Resource not accessible by integration", now), None);
        assert_eq!(rate_refusal(StatusCode::BAD_GATEWAY, &headers(&[("retry-after", "1")]), "", now), None);
    }

    #[test]
    fn tls_refusals_are_found_inside_io_errors() {
        use rustls::{CertificateError, Error as Tls};
        let wrapped = |e: Tls| std::io::Error::new(std::io::ErrorKind::InvalidData, e);
        let unknown = Tls::InvalidCertificate(CertificateError::UnknownIssuer);
        let refusal = tls_refusal(&wrapped(unknown.clone())).unwrap();
        assert_eq!(refusal, TlsRefusal::Certificate("invalid peer certificate: UnknownIssuer".into()));
        // Bare, and a wrong name or an expired certificate.
        assert!(matches!(tls_refusal(&unknown), Some(TlsRefusal::Certificate(_))));
        for e in [CertificateError::Expired, CertificateError::NotValidForName, CertificateError::BadSignature] {
            assert!(matches!(tls_refusal(&wrapped(Tls::InvalidCertificate(e))), Some(TlsRefusal::Certificate(_))));
        }
        // Nothing in common with the server.
        let incompatible = Tls::PeerIncompatible(rustls::PeerIncompatible::NoCipherSuitesInCommon);
        assert!(matches!(tls_refusal(&wrapped(incompatible)), Some(TlsRefusal::Handshake(_))));
        let alert = Tls::AlertReceived(rustls::AlertDescription::HandshakeFailure);
        assert!(matches!(tls_refusal(&wrapped(alert)), Some(TlsRefusal::Handshake(_))));
        // What may pass: a record garbled on the way, a reset, a timeout.
        let corrupt = Tls::InvalidMessage(rustls::InvalidMessage::InvalidContentType);
        assert_eq!(tls_refusal(&wrapped(corrupt)), None);
        assert_eq!(tls_refusal(&std::io::Error::from(std::io::ErrorKind::ConnectionReset)), None);
        let timeout = std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out");
        assert_eq!(tls_refusal(&timeout), None);
    }

    #[test]
    fn tls_refusals_are_found_deep_in_the_chain() {
        #[derive(Debug)]
        struct Outer(Box<dyn std::error::Error + Send + Sync>);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("client error (Connect)")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&*self.0)
            }
        }
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        );
        assert!(matches!(tls_refusal(&Outer(Box::new(io))), Some(TlsRefusal::Certificate(_))));
        // hyper-rustls wraps tokio-rustls's `io::Error` in another.
        let twice = std::io::Error::other(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
        ));
        assert!(matches!(tls_refusal(&Outer(Box::new(twice))), Some(TlsRefusal::Certificate(_))));
        assert_eq!(tls_refusal(&Outer("connection refused".into())), None);
    }

    #[test]
    fn rate_limit_headers_are_read_for_the_core_resource_only() {
        let h = headers(&[
            ("x-ratelimit-limit", "5000"),
            ("x-ratelimit-remaining", "4990"),
            ("x-ratelimit-reset", "1700000000"),
            ("x-ratelimit-resource", "core"),
        ]);
        let r = rate_limit_of(&h).unwrap();
        assert_eq!((r.limit, r.remaining, r.reset.timestamp()), (5000, 4990, 1_700_000_000));
        let mut search = h.clone();
        search.insert("x-ratelimit-resource", "search".parse().unwrap());
        assert_eq!(rate_limit_of(&search), None);
        assert_eq!(rate_limit_of(&HeaderMap::new()), None);
    }
}
