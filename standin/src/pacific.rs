//! GitHub keeps only a calendar date in a milestone's `due_on`, in US Pacific time.
//!
//! Whatever instant a client sends is floored to midnight in America/Los_Angeles and served
//! back as that midnight in UTC: `…T07:00:00Z` in summer (PDT) or `…T08:00:00Z` in winter
//! (PST). Sending midnight UTC therefore lands on the previous day. A stand-in that stored
//! the instant verbatim would hide exactly the bug that makes a sync rewrite dates forever.

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::America::Los_Angeles;

/// Floors an RFC 3339 instant to Pacific midnight, formatted as GitHub serves `due_on`.
/// `None` when the text is not an RFC 3339 instant.
pub fn floor_due_on(input: &str) -> Option<String> {
    let instant = DateTime::parse_from_rfc3339(input.trim()).ok()?;
    let date = instant.with_timezone(&Los_Angeles).date_naive();
    // Midnight always exists in Los Angeles (DST switches at 02:00), `earliest` is exact.
    let midnight = Los_Angeles.from_local_datetime(&date.and_hms_opt(0, 0, 0)?).earliest()?;
    Some(crate::state::format_time(midnight.with_timezone(&Utc)))
}

#[cfg(test)]
mod tests {
    use super::floor_due_on;

    #[test]
    fn floors_to_pacific_midnight() {
        assert_eq!(floor_due_on("2026-06-10T00:00:00Z").unwrap(), "2026-06-09T07:00:00Z");
        assert_eq!(floor_due_on("2026-06-10T12:00:00Z").unwrap(), "2026-06-10T07:00:00Z");
        assert_eq!(floor_due_on("2026-01-10T12:00:00Z").unwrap(), "2026-01-10T08:00:00Z");
        assert_eq!(floor_due_on("2026-01-10T12:00:00+09:00").unwrap(), "2026-01-09T08:00:00Z");
        assert!(floor_due_on("2026-01-10").is_none());
    }
}
