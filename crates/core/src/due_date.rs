//! Due dates as GitHub stores them.
//!
//! GitHub keeps only a calendar date in US Pacific time: it floors the instant it is sent to
//! Pacific midnight and answers `…T07:00:00Z` (daylight time) or `…T08:00:00Z`. Sending
//! midnight UTC would land on the previous day, so [`to_github`] sends 12:00 UTC, which falls
//! on the same Pacific date all year, and [`from_github`] reads the date back in Pacific time.
//!
//! The US rule (daylight time from the second Sunday of March, 02:00 local, to the first
//! Sunday of November, 02:00 local; in force since 2007) takes a few lines; a time-zone
//! database would add a dependency for one zone. Older dates use the same rule, which can put
//! a pre-2007 instant an hour off; GitHub's own answers are midnight, far from that edge.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};

/// The instant to send for a due date: 12:00 UTC on that date, RFC 3339.
pub fn to_github(date: NaiveDate) -> String {
    format!("{}T12:00:00Z", date.format("%Y-%m-%d"))
}

/// The calendar date an instant falls on in US Pacific time.
pub fn from_github(instant: DateTime<Utc>) -> NaiveDate {
    let standard = instant - Duration::hours(8);
    if is_daylight_time(instant) { (instant - Duration::hours(7)).date_naive() } else { standard.date_naive() }
}

/// Whether US Pacific daylight time is in force at `instant`.
fn is_daylight_time(instant: DateTime<Utc>) -> bool {
    let year = instant.year();
    // 02:00 PST = 10:00 UTC on the second Sunday of March; 02:00 PDT = 09:00 UTC on the
    // first Sunday of November.
    let start = nth_sunday(year, 3, 2).and_time(NaiveTime::from_hms_opt(10, 0, 0).expect("valid time"));
    let end = nth_sunday(year, 11, 1).and_time(NaiveTime::from_hms_opt(9, 0, 0).expect("valid time"));
    let start = Utc.from_utc_datetime(&start);
    let end = Utc.from_utc_datetime(&end);
    instant >= start && instant < end
}

fn nth_sunday(year: i32, month: u32, n: u32) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Sun, n as u8)
        .expect("every month has a first and second Sunday")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }
    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn reads_githubs_midnight_answers() {
        // Real payloads: shared/fixtures milestone.closed.1.json has 2019-05-23T07:00:00Z.
        assert_eq!(from_github(at("2019-05-23T07:00:00Z")), d("2019-05-23"));
        assert_eq!(from_github(at("2026-01-15T08:00:00Z")), d("2026-01-15"));
        assert_eq!(from_github(at("2026-12-31T08:00:00Z")), d("2026-12-31"));
    }

    #[test]
    fn midnight_utc_is_the_previous_pacific_day() {
        assert_eq!(from_github(at("2026-06-10T00:00:00Z")), d("2026-06-09"));
        assert_eq!(from_github(at("2026-02-10T00:00:00Z")), d("2026-02-09"));
    }

    #[test]
    fn noon_utc_round_trips_every_day_of_several_years() {
        let mut day = d("2019-01-01");
        while day < d("2031-01-01") {
            assert_eq!(from_github(at(&to_github(day))), day, "{day}");
            day = day.succ_opt().unwrap();
        }
    }

    #[test]
    fn transitions_fall_on_the_us_rule() {
        // 2026: DST starts 2026-03-08 10:00 UTC, ends 2026-11-01 09:00 UTC.
        assert!(!is_daylight_time(at("2026-03-08T09:59:59Z")));
        assert!(is_daylight_time(at("2026-03-08T10:00:00Z")));
        assert!(is_daylight_time(at("2026-11-01T08:59:59Z")));
        assert!(!is_daylight_time(at("2026-11-01T09:00:00Z")));
        // Pacific midnight on the transition days themselves.
        assert_eq!(from_github(at("2026-03-08T08:00:00Z")), d("2026-03-08"));
        assert_eq!(from_github(at("2026-11-01T07:00:00Z")), d("2026-11-01"));
    }
}
