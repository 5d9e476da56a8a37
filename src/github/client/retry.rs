//! Our own retry policy, in place of octocrab's (which re-sends every method, POST included, at
//! once and without backoff, so a create whose answer was lost becomes a duplicate).
//!
//! The rules, kept deliberately small:
//!
//! - Only idempotent requests are retried: GET, PATCH and DELETE as this client uses them (a
//!   PATCH sends the whole wanted value, a DELETE of a deleted milestone answers 404). POST is
//!   never retried: a lost answer to a create may mean the milestone exists, and only the
//!   caller can check.
//! - What is retried: no answer at all (connection refused or reset, timeouts, a body cut
//!   short) and 500, 502, 503, 504: GitHub's own advice for transient failures.
//! - Backoff: `base_delay * 2^(retry - 1)`, with "equal jitter" (half fixed, half random) so
//!   that parallel runs do not retry in lock step, and each wait capped at `max_delay`.
//! - Secondary rate limits (403 or 429 with `retry-after`) wait the seconds GitHub asks for,
//!   when that is no longer than `max_retry_after`; a longer wait is left to the caller as an
//!   error rather than stalling a workflow run.
//!
//! - All waits of one request together stay within `max_total_wait`; a retry that would
//!   exceed it is not made.
//!
//! With the defaults (3 attempts, 500 ms base) the backoff waits add up to at most ~1.5 s, and
//! no request waits more than 10 s in all beyond the time of its attempts (each attempt is
//! bounded by the client's own timeouts).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{HeaderMap, Method, StatusCode};

/// How the client retries; see the module documentation for the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per idempotent request, the first included (1 disables retries).
    pub max_attempts: u32,
    /// The first backoff wait; later ones double. Tests set it to a millisecond.
    pub base_delay: Duration,
    /// The longest single backoff wait.
    pub max_delay: Duration,
    /// The longest `retry-after` the client will sit out; longer ones become errors.
    pub max_retry_after: Duration,
    /// The longest a request may spend waiting between its attempts, all waits together.
    pub max_total_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(4),
            max_retry_after: Duration::from_secs(10),
            max_total_wait: Duration::from_secs(10),
        }
    }
}

/// Whether a request may be sent again without changing its effect.
pub(crate) fn is_idempotent(method: &Method) -> bool {
    method == Method::GET || method == Method::PATCH || method == Method::DELETE || method == Method::HEAD
}

/// Whether a status is a transient server failure worth another attempt.
pub(crate) fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 500 | 502 | 503 | 504)
}

/// The seconds a 403/429 secondary-rate-limit answer asks us to wait, if it says.
///
/// GitHub sends `retry-after` as whole seconds; the HTTP-date form is not used by it and is
/// ignored here (the answer then becomes an ordinary error).
pub(crate) fn retry_after(status: StatusCode, headers: &HeaderMap) -> Option<Duration> {
    if status != StatusCode::FORBIDDEN && status != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    let value = headers.get(http::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
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
    fn only_idempotent_methods_are_retried() {
        assert!(is_idempotent(&Method::GET));
        assert!(is_idempotent(&Method::PATCH));
        assert!(is_idempotent(&Method::DELETE));
        assert!(!is_idempotent(&Method::POST));
    }

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
}
