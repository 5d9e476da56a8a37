//! Injected failures: the answers a real network and a real GitHub sometimes give.
//!
//! They exist to test the product's fault handling: a create whose answer was lost must not
//! become a duplicate, a 403/429 secondary limit must be waited out, a 5xx retried, a slow
//! answer given up on and healed, a run killed half way healed by the next one.
//!
//! - [`Fault`]: one failure, fired once on the first request matching its [`Trigger`].
//! - [`Chaos`]: random failures on any request, reproducible from a seed.
//! - The primary rate limit, a protected branch and a held answer (for killing a client after
//!   its k-th write) are switched on with [`crate::Repository`] methods.

use std::time::Duration;

use serde_json::{Value, json};

/// Which request a fault or branch move waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    /// HTTP method, compared case-insensitively (`"POST"`).
    pub method: String,
    /// A substring of the request path (without the query).
    pub path_contains: String,
}

impl Trigger {
    pub fn new(method: &str, path_contains: &str) -> Trigger {
        Trigger { method: method.to_string(), path_contains: path_contains.to_string() }
    }

    pub(crate) fn matches(&self, method: &str, path: &str) -> bool {
        self.method.eq_ignore_ascii_case(method) && path.contains(&self.path_contains)
    }
}

/// GitHub's message for a secondary rate limit (403 or 429), as its documentation and real
/// answers show it.
pub const SECONDARY_LIMIT_MESSAGE: &str = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.";

/// A failure that fires once, on the first request matching its trigger.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer with this status and body instead of handling the request (nothing changes).
    Status { trigger: Trigger, status: u16, body: serde_json::Value },
    /// Like `Status`, with extra headers, e.g. `retry-after` for a secondary rate limit.
    StatusWithHeaders { trigger: Trigger, status: u16, headers: Vec<(String, String)>, body: serde_json::Value },
    /// Handle the request (state changes!) but answer 502, as when a proxy loses the answer.
    LostAnswer { trigger: Trigger },
    /// Handle the request (state changes!), then cut the connection after the status line:
    /// the client sees a body cut short, never the answer.
    DroppedAnswer { trigger: Trigger },
    /// Handle the request (state changes!), then wait `delay` before answering: beyond a
    /// client's timeout, the client gives up on an answer that was on its way.
    SlowAnswer { trigger: Trigger, delay: Duration },
}

impl Fault {
    pub fn trigger(&self) -> &Trigger {
        match self {
            Fault::Status { trigger, .. }
            | Fault::StatusWithHeaders { trigger, .. }
            | Fault::LostAnswer { trigger }
            | Fault::DroppedAnswer { trigger }
            | Fault::SlowAnswer { trigger, .. } => trigger,
        }
    }

    /// A secondary rate limit on the matching request: `status` 403 or 429, GitHub's message,
    /// and `retry-after: <seconds>` when given (GitHub does not always send it). Nothing
    /// changes: GitHub refuses such a request before handling it.
    pub fn secondary_limit(trigger: Trigger, status: u16, retry_after: Option<u64>) -> Fault {
        let body = json!({
            "message": SECONDARY_LIMIT_MESSAGE,
            "documentation_url": "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
            "status": status.to_string(),
        });
        let headers = retry_after.map(|s| vec![("retry-after".to_string(), s.to_string())]).unwrap_or_default();
        Fault::StatusWithHeaders { trigger, status, headers, body }
    }
}

/// Removes and returns the first queued fault whose trigger matches.
pub(crate) fn take_matching(queue: &mut Vec<Fault>, method: &str, path: &str) -> Option<Fault> {
    let i = queue.iter().position(|f| f.trigger().matches(method, path))?;
    Some(queue.remove(i))
}

/// Random server failures on any request, the same sequence for the same seed and the same
/// requests: a 500, 502, 503 or 504 before handling (nothing changes), or, for a write, a
/// lost answer (handled, then 502).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Chaos {
    pub seed: u64,
    /// The share of requests that fail, from 0.0 to 1.0.
    pub failure_rate: f64,
    /// At most this many failures in a row; the next request is then served. With a client
    /// that tries each request 3 times, 2 keeps every run able to finish.
    pub max_in_a_row: u32,
}

/// What [`Chaos`] does to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChaosStrike {
    /// Answer this status without handling the request.
    Before(u16),
    /// Handle the request, then answer 502.
    LoseAnswer,
}

/// The running state of [`Chaos`]: its generator and the failures in a row so far.
#[derive(Debug, Clone)]
pub(crate) struct ChaosState {
    pub chaos: Chaos,
    rng: u64,
    in_a_row: u32,
    /// Failures injected so far.
    pub injected: u64,
}

impl ChaosState {
    pub(crate) fn new(chaos: Chaos) -> ChaosState {
        ChaosState { chaos, rng: chaos.seed, in_a_row: 0, injected: 0 }
    }

    /// splitmix64: small, seedable, good enough to spread failures.
    fn next(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Decides the fate of one request.
    pub(crate) fn strike(&mut self, is_write: bool) -> Option<ChaosStrike> {
        let roll = self.unit();
        let kind = self.next();
        if roll >= self.chaos.failure_rate || self.in_a_row >= self.chaos.max_in_a_row {
            self.in_a_row = 0;
            return None;
        }
        self.in_a_row += 1;
        self.injected += 1;
        if is_write && kind.is_multiple_of(2) {
            return Some(ChaosStrike::LoseAnswer);
        }
        Some(ChaosStrike::Before([500, 502, 503, 504][(kind >> 1) as usize % 4]))
    }
}

/// How a protected branch refuses a ref update, in GitHub's two forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protection {
    /// Classic branch protection: 422 "Protected branch update failed for refs/heads/main."
    Classic,
    /// A repository ruleset: 422 "Repository rule violations found … Changes must be made
    /// through a pull request."
    Ruleset,
}

impl Protection {
    /// The status and body GitHub answers to `PATCH git/refs/heads/{branch}`.
    pub(crate) fn refusal(self, branch: &str) -> (u16, Value) {
        const DOC: &str = "https://docs.github.com/rest/git/refs#update-a-reference";
        match self {
            Protection::Classic => (
                422,
                json!({
                    "message": format!("Protected branch update failed for refs/heads/{branch}."),
                    "documentation_url": DOC,
                    "status": "422",
                }),
            ),
            Protection::Ruleset => (
                422,
                json!({
                    "message": "Repository rule violations found\n\nChanges must be made through a pull request.\n\n",
                    "documentation_url": DOC,
                    "status": "422",
                }),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chaos_is_reproducible_and_bounded() {
        let chaos = Chaos { seed: 7, failure_rate: 0.5, max_in_a_row: 2 };
        let run = |c: Chaos| {
            let mut s = ChaosState::new(c);
            (0..200).map(|i| s.strike(i % 3 == 0)).collect::<Vec<_>>()
        };
        let a = run(chaos);
        assert_eq!(a, run(chaos), "same seed, same strikes");
        assert_ne!(a, run(Chaos { seed: 8, ..chaos }));
        let failures = a.iter().filter(|s| s.is_some()).count();
        assert!((40..=140).contains(&failures), "{failures}");
        assert!(a.windows(3).all(|w| w.iter().any(Option::is_none)), "never 3 in a row");
        assert!(a.contains(&Some(ChaosStrike::LoseAnswer)));
        let mut reads = ChaosState::new(chaos);
        assert!((0..100).all(|_| reads.strike(false) != Some(ChaosStrike::LoseAnswer)), "reads fail before");
        let mut none = ChaosState::new(Chaos { failure_rate: 0.0, ..chaos });
        assert!((0..100).all(|_| none.strike(true).is_none()));
    }
}
