//! Planning for a `milestone` event: GitHub → file. The payload's milestone is the source of
//! truth for the event; the plan says which front-matter values and which Description text
//! of the linked artifact change, or which new artifact file to create.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use crate::artifact::{Artifact, FieldEdit, keys};
use crate::diagnostic::Diagnostic;
use crate::event::{MilestoneAction, MilestoneEvent};
use crate::link;
use crate::policy::OnMilestoneDeleted;
use crate::project::Project;

use super::new_artifact;
use super::reconcile::{Evidence, reconcile};
use super::{Action, Change, Field, Options, Plan};
use crate::policy::Direction;

/// Run-level choices for milestone events only (inputs override project_config); the rest
/// are the planner's [`Options`].
#[derive(Debug, Clone, Default)]
pub struct EventSettings {
    pub on_deleted: Option<OnMilestoneDeleted>,
    /// `create-artifacts` input.
    pub create_artifacts: bool,
    /// `project` input: where a new artifact goes when several projects sync.
    pub project: Option<String>,
}

/// Everything the event planner needs.
#[derive(Debug, Clone, Copy)]
pub struct EventInput<'a> {
    pub repository: &'a str,
    pub projects: &'a [Project],
    pub event: &'a MilestoneEvent,
    /// False when the milestone no longer exists on GitHub (deleted right after the event):
    /// the event is then handled as `deleted`.
    pub exists: bool,
    /// The current UTC date, for `updated_date` and `created_date`.
    pub today: NaiveDate,
    pub settings: &'a EventSettings,
    /// Policy, direction, statuses and the files' last commit times, as for a push.
    pub options: &'a Options,
}

/// Plans the file changes one milestone event calls for.
pub fn plan(input: &EventInput<'_>) -> Plan {
    let m = &input.event.milestone;
    let action = if input.exists { input.event.action } else { MilestoneAction::Deleted };
    let mut out = Plan::default();

    let linked: Vec<(&Project, &Artifact)> = artifacts(input.projects)
        .filter(|(_, a)| a.link.as_deref().and_then(|l| link::milestone_number(l, input.repository)) == Some(m.number))
        .collect();
    if linked.len() > 1 {
        for (_, a) in &linked {
            out.diagnostics.push(Diagnostic::error(
                &a.path,
                a.key_lines.get(keys::RELATED_MILESTONE).copied(),
                format!(
                    "milestone #{} is linked by {} artifacts; keep `related_milestone` in one of them only",
                    m.number,
                    linked.len()
                ),
            ));
        }
        return out;
    }
    let marker = link::marker(m.description.as_deref().unwrap_or_default());
    let by_marker: Vec<(&Project, &Artifact)> = match &marker {
        Some(mk) => artifacts(input.projects)
            .filter(|(p, a)| a.id == mk.id && mk.project.as_deref().is_none_or(|s| s == p.slug))
            .collect(),
        None => Vec::new(),
    };
    // The milestone's marker names another artifact that exists: which one it belongs to is
    // for a person to decide, as on a push. (A marker of an artifact that exists nowhere is
    // put right by the next push or reconcile: the link wins.)
    if let (Some(mk), Some((lp, la))) = (&marker, linked.first())
        && action != MilestoneAction::Deleted
        && !(mk.id == la.id && mk.project.as_deref().is_none_or(|s| s == lp.slug))
        && !by_marker.is_empty()
    {
        out.diagnostics.push(Diagnostic::error(
            &la.path,
            la.key_lines.get(keys::RELATED_MILESTONE).copied(),
            format!(
                "links milestone #{}, whose description marks it as {}{}, another artifact; fix the link or the milestone's marker lines (nothing was written)",
                m.number,
                mk.id,
                mk.project.as_deref().map(|p| format!(" of project {p}")).unwrap_or_default()
            ),
        ));
        return out;
    }
    let target =
        linked.first().copied().or_else(|| if by_marker.len() == 1 { by_marker.first().copied() } else { None });

    let Some((project, a)) = target else {
        if action == MilestoneAction::Created && marker.is_none() {
            plan_new_artifact(input, &mut out);
        } else {
            let why = match &marker {
                Some(mk) if by_marker.len() > 1 => {
                    format!("its marker names {} artifacts with ID {}", by_marker.len(), mk.id)
                }
                Some(mk) => format!(
                    "its marker names {}, which is not in any project that syncs with {}",
                    mk.id, input.repository
                ),
                None => "no artifact links it".to_string(),
            };
            out.diagnostics
                .push(Diagnostic::notice(format!("milestone #{} ({}): {why}; nothing to do", m.number, m.title)));
        }
        return out;
    };
    let is_linked = !linked.is_empty();
    let (mut edits, mut fields, conflicts) = if action == MilestoneAction::Deleted {
        deleted_edits(input, project, a, is_linked, &mut out)
    } else {
        if input.options.direction == Direction::ToGithub {
            out.diagnostics.push(Diagnostic::notice(format!(
                "milestone #{} ({}): `direction: to-github`, so a milestone event changes no file",
                m.number, m.title
            )));
            return out;
        }
        // The fields the event says changed on GitHub; a payload without `changes` (a
        // redelivery, a hand-made event) names them all.
        let changed: BTreeSet<Field> = match action {
            MilestoneAction::Edited => {
                let e = input.event.edited;
                let named = [(e.title, Field::Title), (e.description, Field::Description), (e.due_on, Field::DueOn)];
                let set: BTreeSet<Field> = named.iter().filter(|(on, _)| *on).map(|(_, f)| *f).collect();
                if set.is_empty() { BTreeSet::from([Field::Title, Field::Description, Field::DueOn]) } else { set }
            }
            MilestoneAction::Closed | MilestoneAction::Opened => BTreeSet::from([Field::State]),
            MilestoneAction::Created | MilestoneAction::Deleted => BTreeSet::new(),
        };
        // An event writes the file only: the file's own changes reach GitHub by push.
        let options = Options { direction: Direction::FromGithub, ..input.options.clone() };
        let r = reconcile(project, a, m, Evidence::Event(&changed), &options);
        out.diagnostics.extend(r.diagnostics.iter().cloned());
        if r.needs_time {
            out.wanted_times.push(a.path.clone());
        }
        (r.file_edits, r.file_fields, r.conflicts)
    };
    if !is_linked && action != MilestoneAction::Deleted {
        edits.push(FieldEdit::SetString { key: keys::RELATED_MILESTONE.into(), value: m.html_url.clone() });
        fields.push(keys::RELATED_MILESTONE.to_string());
    }
    if edits.is_empty() {
        out.in_sync = 1;
        return out;
    }
    out.changes.push(Change {
        project: project.slug.clone(),
        artifact_id: a.id.clone(),
        artifact_title: a.title.clone(),
        path: a.path.clone(),
        action: Action::EditFile { number: m.number, html_url: m.html_url.clone() },
        file_edits: edits,
        file_fields: fields,
        conflicts,
    });
    out
}

/// A deleted milestone: the artifact keeps its content; its link, sync base and conflict
/// flag go (they describe a milestone that no longer exists); `on-milestone-deleted:
/// archive` also sets the archived status.
fn deleted_edits(
    input: &EventInput<'_>,
    project: &Project,
    a: &Artifact,
    is_linked: bool,
    out: &mut Plan,
) -> (Vec<FieldEdit>, Vec<String>, Vec<super::Conflict>) {
    let m = &input.event.milestone;
    let mut edits = Vec::new();
    let mut fields = Vec::new();
    if is_linked {
        edits.push(FieldEdit::Remove { key: keys::RELATED_MILESTONE.into() });
        fields.push("related_milestone (removed)".to_string());
        if a.base.is_some() {
            edits.push(FieldEdit::Remove { key: crate::base::KEY.into() });
        }
        if a.conflict.is_some() {
            edits.push(FieldEdit::Remove { key: crate::base::CONFLICT_KEY.into() });
        }
    }
    let archive = input.settings.on_deleted == Some(OnMilestoneDeleted::Archive);
    if archive && a.status != project.config.archived_status {
        edits.push(FieldEdit::SetString { key: keys::STATUS.into(), value: project.config.archived_status.clone() });
        edits.push(FieldEdit::SetString {
            key: keys::UPDATED_DATE.into(),
            value: input.today.format("%Y-%m-%d").to_string(),
        });
        fields.push("status".to_string());
    }
    out.diagnostics.push(Diagnostic::warning(
        &a.path,
        a.key_lines.get(keys::RELATED_MILESTONE).copied(),
        format!(
            "milestone #{} ({}) was deleted on GitHub; {} keeps its content{}",
            m.number,
            m.title,
            a.id,
            if archive { " and is archived" } else { ", its link is removed" }
        ),
    ));
    (edits, fields, Vec::new())
}

fn artifacts(projects: &[Project]) -> impl Iterator<Item = (&Project, &Artifact)> {
    projects.iter().flat_map(|p| p.artifacts.iter().map(move |a| (p, a)))
}

/// `created` for a milestone with no marker: a new artifact file, when enabled.
fn plan_new_artifact(input: &EventInput<'_>, out: &mut Plan) {
    let m = &input.event.milestone;
    let project = match new_artifact::choose_project(input.projects, input.settings.create_artifacts, m) {
        Ok(Some(p)) => p,
        Ok(None) => return out.diagnostics.push(new_artifact::not_enabled(m)),
        Err(d) => return out.diagnostics.push(d),
    };
    if let Some(existing) = project.artifacts.iter().find(|a| a.title == m.title) {
        out.diagnostics.push(Diagnostic::warning(
            &existing.path,
            existing.key_lines.get(keys::TITLE).copied(),
            format!(
                "milestone #{} has the title of {} but no marker; link them by adding `related_milestone = \"{}\"` to the file",
                m.number, existing.id, m.html_url
            ),
        ));
        return;
    }
    out.changes.push(new_artifact::plan_file(project, m, &mut new_artifact::NewIds::default(), input.today));
}
