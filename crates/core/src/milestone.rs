//! Milestones as the sync sees them: plain values, read from GitHub by the shell
//! (the `milestone-sync` crate's `github` module) and planned over by the core ([`crate::plan`]). Nothing here talks to
//! GitHub.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// A milestone's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MilestoneState {
    Open,
    Closed,
}

impl MilestoneState {
    pub fn as_str(self) -> &'static str {
        match self {
            MilestoneState::Open => "open",
            MilestoneState::Closed => "closed",
        }
    }
}

/// A milestone as the sync needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Milestone {
    pub number: u64,
    pub html_url: String,
    pub title: String,
    /// `None` when GitHub answers `null`.
    pub description: Option<String>,
    pub state: MilestoneState,
    /// The instant GitHub returns (Pacific midnight of the due date); read the calendar date
    /// with [`crate::due_date::from_github`].
    pub due_on: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// When it was made: where its bar starts in the summary's roadmap.
    pub created_at: Option<DateTime<Utc>>,
    /// The issues in it, open and closed, as GitHub counts them: its progress.
    pub open_issues: u64,
    pub closed_issues: u64,
}

/// A milestone to create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewMilestone {
    pub title: String,
    pub description: String,
    pub state: MilestoneState,
    /// Sent as [`crate::due_date::to_github`] of the date.
    pub due_on: Option<NaiveDate>,
}

/// The fields to change on a milestone; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MilestonePatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<MilestoneState>,
    /// `Some(None)` clears the due date (sent as `"due_on": null`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due_on: Option<Option<NaiveDate>>,
}

impl MilestonePatch {
    pub fn is_empty(&self) -> bool {
        self.title.is_none() && self.description.is_none() && self.state.is_none() && self.due_on.is_none()
    }
}
