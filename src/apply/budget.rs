//! The run's share of the primary rate limit, checked before each change.
//!
//! GitHub reports what is left of the token's hourly limit in every answer. Before a change
//! that sends a request, the executor makes sure enough is left for it and for the commit at
//! the end. When not: if the window resets soon and the rest of the run fits in a fresh one,
//! it waits; otherwise it stops cleanly, committing what was done and listing what remains
//! (a later run picks the rest up).

use std::time::Duration;

use chrono::Utc;

use crate::github::{GitHub, RateLimit};
use crate::plan::{Action, Change};

/// Requests the commit at the end may need: the branch head, a tree, a commit, the ref
/// update, and a few file reads when the branch moved meanwhile.
pub(super) const COMMIT_RESERVE: u64 = 8;

/// The longest the executor waits for the limit to reset; a later reset stops the run.
pub(super) const MAX_WAIT: Duration = Duration::from_secs(60);

/// The requests a change sends (a create that loses its answer sends a few more).
pub(super) fn cost(change: &Change) -> u64 {
    u64::from(change.after_commit.is_some())
        + match &change.action {
            Action::Create { .. } | Action::CloseRemoved { .. } | Action::DeleteRemoved { .. } => 1,
            Action::CreateFile { .. } => 1,
            Action::Adopt { patch, .. } | Action::Update { patch, .. } => u64::from(!patch.is_empty()),
            Action::RecordDeleted { .. } => 0,
        }
}

/// What to do before the first of `rest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Room {
    Enough,
    /// Wait this long for the window to reset.
    Wait(Duration),
    /// Stop: the reason, for the summary.
    Stop(String),
}

/// Decides whether the run can go on with `rest`, given the last reported `rate`: of `rest`,
/// only the changes in repository `only` when given (the token of one repository's client
/// is not spent on another's changes).
pub(super) fn room(rate: Option<RateLimit>, rest: &[Change], only: Option<&str>, now: chrono::DateTime<Utc>) -> Room {
    let (Some(rate), Some(next)) = (rate, rest.first()) else { return Room::Enough };
    let theirs = |c: &&Change| only.is_none_or(|r| c.repository.eq_ignore_ascii_case(r));
    let next_cost = cost(next);
    // A window that has reset since the last answer is fresh again.
    if next_cost == 0 || rate.remaining >= next_cost + COMMIT_RESERVE || rate.reset <= now {
        return Room::Enough;
    }
    let needed: u64 = rest.iter().filter(theirs).map(cost).sum::<u64>() + COMMIT_RESERVE;
    let wait = Duration::from_millis((rate.reset - now).num_milliseconds().max(0) as u64 + 1000);
    if wait <= MAX_WAIT && needed <= rate.limit {
        return Room::Wait(wait);
    }
    Room::Stop(format!(
        "GitHub's primary rate limit has {} of {} requests left until {} UTC, too few for the {} change(s) still to make (about {needed} requests)",
        rate.remaining,
        rate.limit,
        rate.reset.format("%H:%M:%S"),
        rest.iter().filter(theirs).count()
    ))
}

/// Waits when [`room`] says so; `Err` with the reason when the run must stop.
pub(super) async fn make_room<G: GitHub>(gh: &G, rest: &[Change], only: Option<&str>) -> Result<(), String> {
    match room(gh.rate_limit(), rest, only, Utc::now()) {
        Room::Enough => Ok(()),
        Room::Wait(wait) => {
            let rate = gh.rate_limit();
            tracing::warn!(
                "{} API request(s) left until the rate limit resets; waiting {} s for it, then going on with {} change(s)",
                rate.map_or(0, |r| r.remaining),
                wait.as_secs_f32().ceil(),
                rest.iter().filter(|c| only.is_none_or(|r| c.repository.eq_ignore_ascii_case(r))).count()
            );
            tokio::time::sleep(wait).await;
            Ok(())
        }
        Room::Stop(reason) => Err(reason),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::milestone::{MilestonePatch, MilestoneState, NewMilestone};

    fn change(action: Action) -> Change {
        Change {
            project: "p".into(),
            repository: "o/r".into(),
            artifact_id: "EPIC-001".into(),
            artifact_title: "t".into(),
            path: "x.md".into(),
            action,
            fields: Vec::new(),
            file_edits: Vec::new(),
            after_commit: None,
            file_fields: Vec::new(),
            values: Vec::new(),
            line: None,
            start: None,
            conflicts: Vec::new(),
        }
    }

    fn create() -> Change {
        change(Action::Create {
            milestone: NewMilestone {
                title: "t".into(),
                description: String::new(),
                state: MilestoneState::Open,
                due_on: None,
            },
        })
    }

    fn rate(limit: u64, remaining: u64, reset_in: i64, now: chrono::DateTime<Utc>) -> Option<RateLimit> {
        Some(RateLimit { limit, remaining, reset: now + chrono::Duration::seconds(reset_in) })
    }

    #[test]
    fn enough_left_goes_on_a_near_reset_waits_a_far_one_stops() {
        let now = Utc::now();
        let rest = vec![create(), create(), create()];
        assert_eq!(room(None, &rest, None, now), Room::Enough, "nothing known yet");
        assert_eq!(room(rate(5000, 100, 3000, now), &rest, None, now), Room::Enough);
        assert_eq!(room(rate(5000, 5, 10, now), &rest, None, now), Room::Wait(Duration::from_secs(11)));
        match room(rate(5000, 5, 3000, now), &rest, None, now) {
            Room::Stop(reason) => assert!(reason.contains("5 of 5000") && reason.contains("3 change(s)"), "{reason}"),
            other => panic!("{other:?}"),
        }
        // A run too big for a whole window does not wait for one.
        assert!(matches!(room(rate(5, 1, 10, now), &rest, None, now), Room::Stop(_)));
        assert_eq!(room(rate(5000, 0, -1, now), &rest, None, now), Room::Enough, "the window has reset meanwhile");
        // Changes that send nothing need no room.
        let nothing = change(Action::Update { number: 1, html_url: String::new(), patch: MilestonePatch::default() });
        assert_eq!(room(rate(5000, 0, 3000, now), &[nothing], None, now), Room::Enough);
    }
}
