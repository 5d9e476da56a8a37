//! Injected failures: the answers a real network and a real GitHub sometimes give.
//!
//! They exist to test the product's retry policy: a create whose answer was lost must not
//! become a duplicate, a 403/429 secondary limit must be waited out, a 5xx retried.

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

/// A failure that fires once, on the first request matching its trigger.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer with this status and body instead of handling the request (nothing changes).
    Status { trigger: Trigger, status: u16, body: serde_json::Value },
    /// Like `Status`, with extra headers, e.g. `retry-after` for a secondary rate limit.
    StatusWithHeaders { trigger: Trigger, status: u16, headers: Vec<(String, String)>, body: serde_json::Value },
    /// Handle the request (state changes!) but answer 502, as when a proxy loses the answer.
    LostAnswer { trigger: Trigger },
}

impl Fault {
    pub fn trigger(&self) -> &Trigger {
        match self {
            Fault::Status { trigger, .. }
            | Fault::StatusWithHeaders { trigger, .. }
            | Fault::LostAnswer { trigger } => trigger,
        }
    }
}

/// Removes and returns the first queued fault whose trigger matches.
pub(crate) fn take_matching(queue: &mut Vec<Fault>, method: &str, path: &str) -> Option<Fault> {
    let i = queue.iter().position(|f| f.trigger().matches(method, path))?;
    Some(queue.remove(i))
}
