//! Creating a milestone exactly once, even when the answer to the create is lost.
//!
//! The client never sends a create twice: if GitHub made the milestone and the answer was lost
//! (a 502 from a proxy, a timeout, a connection cut), a second create would make a duplicate,
//! or a 422 because the title is taken. So here, after a create whose outcome is unknown, the
//! milestones are listed and the one carrying the artifact's marker is adopted; only when
//! there is none is the create sent again. A 422 `already_exists` is handled the same way
//! ("find and adopt it", not "fail"): a milestone with the marker (another run made it), or
//! one with the title and no marker (someone made it by hand meanwhile), is adopted and made
//! to show the artifact.

use crate::artifact::normalize_text;
use crate::due_date;
use crate::github::{GitHub, GitHubError};
use crate::link;
use crate::milestone::{Milestone, MilestonePatch, NewMilestone};
use crate::plan::Change;

/// How many times a create is sent when GitHub did not make the milestone.
const SENDS: u32 = 3;

/// Creates the milestone of `change`, or adopts the one a lost answer or another run made.
pub(super) async fn create_once<G: GitHub>(
    gh: &G,
    change: &Change,
    new: &NewMilestone,
) -> Result<Milestone, GitHubError> {
    let id = &change.artifact_id;
    let mut sends = 0;
    loop {
        sends += 1;
        let error = match gh.create_milestone(new).await {
            Ok(m) => return Ok(m),
            Err(e) => e,
        };
        if let GitHubError::AlreadyExists { .. } = error {
            tracing::warn!("{id}: GitHub says a milestone titled {:?} exists; looking for it to adopt", new.title);
            return adopt_existing(gh, change, new, error).await;
        }
        if !outcome_unknown(&error) {
            return Err(error);
        }
        tracing::warn!(
            "{id}: no answer to the create ({error}); looking for the milestone by its marker before sending it again"
        );
        if let Some(m) = find_marked(gh, change).await? {
            tracing::warn!("{id}: GitHub made milestone #{} after all; adopting it, no duplicate", m.number);
            return make_it_show(gh, m, new).await;
        }
        if sends >= SENDS {
            return Err(error);
        }
        tracing::warn!("{id}: GitHub did not make the milestone; sending the create again ({}/{SENDS})", sends + 1);
    }
}

/// Whether a failed create may have been made all the same: no answer, or a 5xx (a proxy's
/// 502 can follow a create that went through).
fn outcome_unknown(error: &GitHubError) -> bool {
    match error {
        GitHubError::Transport { .. } => true,
        GitHubError::Http { status, .. } => (500..600).contains(status),
        _ => false,
    }
}

/// After a 422 `already_exists`: the milestone with the artifact's marker, else the one with
/// the title and no marker, made to show the artifact; else the refusal stands (the title
/// belongs to another artifact's milestone).
async fn adopt_existing<G: GitHub>(
    gh: &G,
    change: &Change,
    new: &NewMilestone,
    refusal: GitHubError,
) -> Result<Milestone, GitHubError> {
    let id = &change.artifact_id;
    let all = gh.list_milestones().await?;
    if let Some(m) = only_marked(&all, change)? {
        tracing::warn!("{id}: milestone #{} carries the marker (another run made it); adopting it", m.number);
        return make_it_show(gh, m, new).await;
    }
    let unmarked = all
        .into_iter()
        .find(|m| m.title == new.title && link::marker(m.description.as_deref().unwrap_or_default()).is_none());
    match unmarked {
        Some(m) => {
            tracing::warn!(
                "{id}: milestone #{} has the title and no marker; adopting it and adding the marker",
                m.number
            );
            make_it_show(gh, m, new).await
        }
        None => Err(refusal),
    }
}

/// The one milestone carrying the artifact's marker, listed afresh.
async fn find_marked<G: GitHub>(gh: &G, change: &Change) -> Result<Option<Milestone>, GitHubError> {
    only_marked(&gh.list_milestones().await?, change)
}

/// The milestone among `all` whose marker names the artifact (and its project, when the
/// marker names one). Two or more is an error: adopting either would hide the other.
fn only_marked(all: &[Milestone], change: &Change) -> Result<Option<Milestone>, GitHubError> {
    let marked: Vec<&Milestone> = all
        .iter()
        .filter(|m| {
            link::marker(m.description.as_deref().unwrap_or_default()).is_some_and(|mk| {
                mk.id == change.artifact_id && mk.project.as_deref().is_none_or(|p| p == change.project)
            })
        })
        .collect();
    match marked.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some((*one).clone())),
        many => Err(GitHubError::Http {
            status: 409,
            method: "GET".into(),
            path: "milestones".into(),
            message: format!(
                "{} milestones ({}) carry the marker `IntelliManage-ID: {}`; delete the duplicates on GitHub, or set `related_milestone` to the one to keep",
                many.len(),
                many.iter().map(|m| format!("#{}", m.number)).collect::<Vec<_>>().join(", "),
                change.artifact_id
            ),
        }),
    }
}

/// Updates the fields of an adopted milestone that differ from the create that was meant.
async fn make_it_show<G: GitHub>(gh: &G, m: Milestone, new: &NewMilestone) -> Result<Milestone, GitHubError> {
    let patch = difference(&m, new);
    if patch.is_empty() { Ok(m) } else { gh.update_milestone(m.number, &patch).await }
}

/// The patch that makes `m` show `new`: titles exactly, descriptions with line endings and
/// surrounding white space normalised, due dates as Pacific calendar dates.
fn difference(m: &Milestone, new: &NewMilestone) -> MilestonePatch {
    let description = m.description.as_deref().unwrap_or_default();
    MilestonePatch {
        title: (m.title != new.title).then(|| new.title.clone()),
        description: (normalize_text(description) != normalize_text(&new.description)).then(|| new.description.clone()),
        state: (m.state != new.state).then_some(new.state),
        due_on: (m.due_on.map(due_date::from_github) != new.due_on).then_some(new.due_on),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::milestone::MilestoneState;
    use chrono::{NaiveDate, TimeZone, Utc};

    fn milestone(number: u64, title: &str, description: Option<&str>) -> Milestone {
        Milestone {
            number,
            html_url: format!("https://github.com/o/r/milestone/{number}"),
            title: title.into(),
            description: description.map(str::to_string),
            state: MilestoneState::Open,
            due_on: Some(Utc.with_ymd_and_hms(2026, 5, 23, 7, 0, 0).unwrap()),
            updated_at: Utc::now(),
            created_at: None,
            open_issues: 0,
            closed_issues: 0,
        }
    }

    fn change() -> Change {
        Change {
            project: "demo".into(),
            repository: "o/r".into(),
            artifact_id: "EPIC-001".into(),
            artifact_title: "Alpha".into(),
            path: "p/epics/EPIC-001_alpha.md".into(),
            action: crate::plan::Action::RecordDeleted { number: 0, html_url: String::new() },
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

    #[test]
    fn only_the_artifacts_marker_counts_and_two_are_refused() {
        let c = change();
        let ours = milestone(3, "Alpha", Some("Text\r\n\r\nIntelliManage-ID: EPIC-001\r\nIntelliManage-Project: demo"));
        let other_project = milestone(4, "x", Some("IntelliManage-ID: EPIC-001\nIntelliManage-Project: other"));
        let no_project = milestone(5, "y", Some("IntelliManage-ID: EPIC-001"));
        assert_eq!(only_marked(&[ours.clone(), other_project.clone()], &c).unwrap(), Some(ours.clone()));
        assert_eq!(only_marked(std::slice::from_ref(&other_project), &c).unwrap(), None);
        assert_eq!(only_marked(std::slice::from_ref(&no_project), &c).unwrap().map(|m| m.number), Some(5));
        let err = only_marked(&[ours, no_project], &c).unwrap_err().to_string();
        assert!(err.contains("#3, #5") && err.contains("EPIC-001"), "{err}");
    }

    #[test]
    fn an_adopted_milestone_gets_only_the_fields_that_differ() {
        let new = NewMilestone {
            title: "Alpha".into(),
            description: "Text\n\nIntelliManage-ID: EPIC-001\nIntelliManage-Project: demo".into(),
            state: MilestoneState::Open,
            due_on: NaiveDate::from_ymd_opt(2026, 5, 23),
        };
        let same =
            milestone(1, "Alpha", Some("Text\r\n\r\nIntelliManage-ID: EPIC-001\r\nIntelliManage-Project: demo\r\n"));
        assert!(difference(&same, &new).is_empty(), "browser line endings and Pacific midnight are no change");
        let by_hand = milestone(2, "Alpha", None);
        let patch = difference(&by_hand, &new);
        assert_eq!(patch.description.as_deref(), Some(new.description.as_str()));
        assert_eq!((patch.title, patch.state, patch.due_on), (None, None, None));
        let undated = NewMilestone { due_on: None, state: MilestoneState::Closed, ..new };
        let patch = difference(&same, &undated);
        assert_eq!((patch.due_on, patch.state), (Some(None), Some(MilestoneState::Closed)));
    }

    #[test]
    fn only_no_answer_and_5xx_leave_the_outcome_unknown() {
        let http = |status| GitHubError::Http { status, method: "POST".into(), path: "p".into(), message: "m".into() };
        assert!(outcome_unknown(&GitHubError::Transport {
            method: "POST".into(),
            path: "p".into(),
            message: "m".into()
        }));
        assert!(outcome_unknown(&http(502)) && outcome_unknown(&http(500)));
        assert!(!outcome_unknown(&http(422)) && !outcome_unknown(&http(403)));
        assert!(!outcome_unknown(&GitHubError::AlreadyExists { title: "t".into() }));
    }
}
