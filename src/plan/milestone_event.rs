//! Planning for a `milestone` event: GitHub → file. The payload's milestone is the source of
//! truth for the event; the plan says which front-matter values and which Description text
//! of the linked artifact change, or which new artifact file to create.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use crate::artifact::{Artifact, FieldEdit, keys};
use crate::config::OnMilestoneDeleted;
use crate::diagnostic::{Diagnostic, Level};
use crate::due_date;
use crate::event::{MilestoneAction, MilestoneEvent};
use crate::github::{Milestone, MilestonePatch, MilestoneState};
use crate::link;
use crate::workspace::Project;

use super::reconcile::{Evidence, reconcile};
use super::{Action, Change, Direction, Field, Options, Plan};

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
    let candidates: Vec<&Project> = match &input.settings.project {
        Some(slug) => input.projects.iter().filter(|p| &p.slug == slug).collect(),
        None => input.projects.iter().collect(),
    };
    let enabled = |p: &Project| input.settings.create_artifacts || p.config.create_artifacts;
    if !candidates.iter().any(|p| enabled(p)) {
        out.diagnostics.push(Diagnostic::notice(format!(
            "milestone #{} ({}) carries no IntelliManage marker; it is left alone (set `create-artifacts: true` or `create_artifacts_from_milestones = true` to create an artifact for it)",
            m.number, m.title
        )));
        return;
    }
    let project = match candidates.as_slice() {
        [one] => *one,
        _ => {
            out.diagnostics.push(Diagnostic::general(
                Level::Error,
                format!(
                    "milestone #{} ({}): {} projects sync with this repository, so the new artifact's project cannot be chosen; set the `project` input",
                    m.number,
                    m.title,
                    candidates.len()
                ),
            ));
            return;
        }
    };
    if let Some(existing) = project.artifacts.iter().find(|a| a.title == m.title) {
        out.diagnostics.push(Diagnostic::warning(
            &existing.path,
            None,
            format!("milestone #{} has the title of {} but no marker; link them by adding `related_milestone = \"{}\"` to the file", m.number, existing.id, m.html_url),
        ));
        return;
    }
    let (prefix, folder) =
        if project.config.milestone_kind() == "feature" { ("FEAT", "features") } else { ("EPIC", "epics") };
    let id = next_id(project, prefix);
    let path = format!("{}/{folder}/{id}_{}.md", project.dir, slug(&m.title));
    let content = new_artifact_text(project, &id, m, input.today);
    let marker_patch = MilestonePatch {
        description: Some(link::compose_description(
            &link::synced_text(m.description.as_deref().unwrap_or_default()),
            &id,
            &project.slug,
        )),
        ..Default::default()
    };
    out.changes.push(Change {
        project: project.slug.clone(),
        artifact_id: id,
        artifact_title: m.title.clone(),
        path,
        action: Action::CreateFile { number: m.number, html_url: m.html_url.clone(), content, marker_patch },
        file_edits: Vec::new(),
        file_fields: Vec::new(),
        conflicts: Vec::new(),
    });
}

/// The next free `PREFIX-NNN` in the project, from the IDs and file names already there
/// (broken files count too: their number is taken).
fn next_id(project: &Project, prefix: &str) -> String {
    let number = |s: &str| -> Option<(u32, usize)> {
        let rest = s.rsplit('/').next()?.strip_prefix(prefix)?.strip_prefix('-')?;
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        Some((digits.parse().ok()?, digits.len()))
    };
    let taken = project
        .artifacts
        .iter()
        .flat_map(|a| [number(&a.id), number(&a.path)])
        .chain(project.broken.iter().map(|p| number(p)))
        .flatten();
    let (max, width) = taken.fold((0, 3), |(m, w), (n, d)| (m.max(n), w.max(d)));
    format!("{prefix}-{:0width$}", max + 1)
}

/// A file-name slug: lower-case ASCII letters and digits joined by single hyphens, at most
/// 50 characters. It can never hold `/`, `.` or `..`, so a title cannot leave the folder.
pub fn slug(title: &str) -> String {
    let mut s = String::new();
    for ch in title.chars() {
        if ch.is_ascii_alphanumeric() {
            s.push(ch.to_ascii_lowercase());
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    s.truncate(50);
    let s = s.trim_end_matches('-').to_string();
    if s.is_empty() { "milestone".into() } else { s }
}

fn toml_string(s: &str) -> String {
    toml_edit::Value::from(s).to_string().trim().to_string()
}

/// A new artifact in the IntelliManage template's shape, with the schema's required keys.
fn new_artifact_text(project: &Project, id: &str, m: &Milestone, today: NaiveDate) -> String {
    let kind = &project.config.milestone_type;
    let feature = project.config.milestone_kind() == "feature";
    let status = if m.state == MilestoneState::Closed {
        project.config.closed_status.clone()
    } else {
        "⚪️ Planned".to_string()
    };
    let today = today.format("%Y-%m-%d");
    let mut text = String::from("+++\n");
    text.push_str(&format!("id = {}\n", toml_string(id)));
    text.push_str(&format!("title = {}\n", toml_string(&m.title)));
    text.push_str(&format!("status = {}\n", toml_string(&status)));
    text.push_str(&format!("type = {}\n", toml_string(kind)));
    text.push_str(&format!("created_date = \"{today}\"\nupdated_date = \"{today}\"\n"));
    text.push_str(&format!("project_name = {}\n", toml_string(&project.slug)));
    if feature {
        text.push_str("epic_id = \"\" # set the parent Epic's ID\n");
    }
    if let Some(due) = m.due_on.map(due_date::from_github) {
        let key = super::reconcile::default_due_key(&project.config).key();
        text.push_str(&format!("{key} = \"{}\"\n", due.format("%Y-%m-%d")));
    }
    text.push_str(&format!("related_milestone = {}\n", toml_string(&m.html_url)));
    text.push_str("+++\n\n");
    let heading = if feature { "Feature" } else { "EPIC" };
    text.push_str(&format!("# {heading}: {}\n\n## Description ✍️\n\n", m.title.replace('\n', " ")));
    let description = link::synced_text(m.description.as_deref().unwrap_or_default());
    if !description.is_empty() {
        text.push_str(&description);
        text.push_str("\n\n");
    }
    text.push_str("## Acceptance Criteria ✅\n\n*   - [ ] \n");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_stay_in_the_folder() {
        assert_eq!(slug("Mobile app: offline mode / sync"), "mobile-app-offline-mode-sync");
        assert_eq!(slug("../../etc"), "etc");
        assert_eq!(slug("..."), "milestone");
        assert_eq!(slug("Ünïcode ✨ only"), "n-code-only");
        assert!(slug(&"long words ".repeat(20)).len() <= 50);
        assert!(!slug(&"a/".repeat(40)).ends_with('-'));
    }
}
