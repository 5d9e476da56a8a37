//! A new artifact file for a milestone that has none: a `created` event for an unmarked
//! milestone, or the import of a repository's existing milestones by a full reconcile, when
//! `create-artifacts` (or the project's `create_artifacts_from_milestones`) allows it.
//!
//! The file gets the next free `EPIC-NNN`/`FEAT-NNN`, the schema's required keys, the link,
//! the due date, the description under `## Description ✍️` and a sync base; the milestone
//! gets its marker lines. The file name's slug is built so that no title can leave the
//! project's folder.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::base::{self, SyncBase};
use crate::diagnostic::{Diagnostic, Level};
use crate::due_date;
use crate::link;
use crate::milestone::{Milestone, MilestonePatch, MilestoneState};
use crate::project::Project;

use super::reconcile::{default_due_key, remote_values};
use super::{Action, Change};

/// The project a new artifact goes to: of `projects` (already narrowed by the `project`
/// input), the ones that allow creating artifacts (`create_artifacts` is the input). `Ok(None)`
/// when none does; an error when several do and the run cannot choose.
pub fn choose_project<'p>(
    projects: &'p [Project],
    create_artifacts: bool,
    m: &Milestone,
) -> Result<Option<&'p Project>, Diagnostic> {
    let enabled: Vec<&Project> = projects.iter().filter(|p| create_artifacts || p.config.create_artifacts).collect();
    match enabled.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        many => Err(Diagnostic::general(
            Level::Error,
            format!(
                "milestone #{} ({}): {} projects ({}) may receive a new artifact, so the run cannot choose; set the `project` input",
                m.number,
                m.title,
                many.len(),
                many.iter().map(|p| p.slug.as_str()).collect::<Vec<_>>().join(", ")
            ),
        )),
    }
}

/// The change that creates `m`'s artifact in `project`, with the next ID `ids` gives.
pub fn plan_file(project: &Project, m: &Milestone, ids: &mut NewIds, today: NaiveDate) -> Change {
    let (prefix, folder) =
        if project.config.milestone_kind() == "feature" { ("FEAT", "features") } else { ("EPIC", "epics") };
    let id = ids.next(project, prefix);
    let path = format!("{}/{folder}/{id}_{}.md", project.dir, slug(&m.title));
    let content = text(project, &id, m, today);
    // Both sides hold the milestone's values now: that is the base, generation 1 in the new
    // file and on the milestone.
    let record = SyncBase { generation: 1, file_generation: Some(1), ..SyncBase::of(&remote_values(m)) };
    let marker_patch = MilestonePatch {
        description: Some(link::with_record(
            &link::compose_description(
                &link::synced_text(m.description.as_deref().unwrap_or_default()),
                &id,
                &project.slug,
            ),
            &record,
        )),
        ..Default::default()
    };
    Change {
        project: project.slug.clone(),
        repository: project.config.repository(),
        artifact_id: id,
        artifact_title: m.title.clone(),
        path,
        action: Action::CreateFile { number: m.number, html_url: m.html_url.clone(), content, marker_patch },
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

/// The notice for a milestone left alone because no project allows creating artifacts.
pub fn not_enabled(m: &Milestone) -> Diagnostic {
    Diagnostic::notice(format!(
        "milestone #{} ({}) carries no IntelliManage marker; it is left alone (set `create-artifacts: true` or `create_artifacts_from_milestones = true` to create an artifact for it)",
        m.number, m.title
    ))
}

/// The IDs given to new artifact files in one run. A new ID is one above the highest
/// `PREFIX-NNN` of the project's IDs and file names (broken files count too: their number is
/// taken), of the IDs the milestones' markers name for the project ([`NewIds::reserve`]: a
/// removed file's closed milestone still carries its ID, which a new file must not take
/// again) and of the IDs given earlier in the run, as wide as the widest (at least 3 digits).
/// Each project's highest is found once, so importing thousands of milestones stays linear.
#[derive(Debug, Default)]
pub struct NewIds {
    /// The highest number and width in each project's files, by project and prefix.
    highest: BTreeMap<(String, String), (u32, usize)>,
    /// The highest number and width given in this run, by prefix.
    given: BTreeMap<String, (u32, usize)>,
    /// IDs the milestones' markers name: (the marker's project, when it names one; the ID).
    reserved: Vec<(Option<String>, String)>,
}

impl NewIds {
    /// Keeps `id` from being given to a new file of `project` (every project's, when `None`):
    /// a milestone's marker names it.
    pub fn reserve(&mut self, project: Option<&str>, id: &str) {
        self.reserved.push((project.map(str::to_string), id.to_string()));
    }

    /// The next free `PREFIX-NNN` for a new file in `project`.
    pub fn next(&mut self, project: &Project, prefix: &str) -> String {
        let key = (project.slug.clone(), prefix.to_string());
        let reserved = &self.reserved;
        let (max, width) = *self.highest.entry(key).or_insert_with(|| {
            let marked = reserved
                .iter()
                .filter(|(p, _)| p.as_deref().is_none_or(|p| p == project.slug))
                .filter_map(|(_, id)| number(prefix, id));
            marked.fold(highest(project, prefix), |(m, w), (n, d)| (m.max(n), w.max(d)))
        });
        let (given, given_width) = self.given.get(prefix).copied().unwrap_or((0, 3));
        let (n, width) = (max.max(given) + 1, width.max(given_width));
        self.given.insert(prefix.to_string(), (n, width));
        format!("{prefix}-{n:0width$}")
    }
}

/// The number and width of `PREFIX-NNN` at the start of `s`'s last path part.
fn number(prefix: &str, s: &str) -> Option<(u32, usize)> {
    let rest = s.rsplit('/').next()?.strip_prefix(prefix)?.strip_prefix('-')?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((digits.parse().ok()?, digits.len()))
}

/// The highest `PREFIX-NNN` number in the project's IDs and file names and its width.
fn highest(project: &Project, prefix: &str) -> (u32, usize) {
    let number = |s: &str| number(prefix, s);
    project
        .artifacts
        .iter()
        .flat_map(|a| [number(&a.id), number(&a.path)])
        .chain(project.broken.iter().map(|p| number(p)))
        .flatten()
        .fold((0, 3), |(m, w), (n, d)| (m.max(n), w.max(d)))
}

/// A file-name slug: lower-case ASCII letters and digits joined by single hyphens, at most
/// 50 characters. Letters and digits of other scripts are transliterated (`Café` → `cafe`,
/// `Дорожная карта` → `dorozhnaia-karta`, `路线图` → `lu-xian-tu`); anything else (punctuation,
/// emoji) separates words. It can never hold `/`, `.` or `..`, so a title cannot leave the
/// folder.
pub fn slug(title: &str) -> String {
    let mut s = String::new();
    let mut push = |ch: char| {
        if ch.is_ascii_alphanumeric() {
            s.push(ch.to_ascii_lowercase());
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    };
    for ch in title.chars() {
        if !ch.is_ascii() && ch.is_alphanumeric() {
            deunicode::deunicode_char(ch).unwrap_or("-").chars().for_each(&mut push);
        } else {
            push(ch);
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
fn text(project: &Project, id: &str, m: &Milestone, today: NaiveDate) -> String {
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
        let key = default_due_key(&project.config).key();
        text.push_str(&format!("{key} = \"{}\"\n", due.format("%Y-%m-%d")));
    }
    text.push_str(&format!("related_milestone = {}\n", toml_string(&m.html_url)));
    // Both sides hold the milestone's values now: that is the base.
    let record = SyncBase { generation: 1, ..SyncBase::of(&remote_values(m)) };
    text.push_str(&format!("{} = {}\n", base::KEY, toml_string(&record.format())));
    text.push_str("+++\n\n");
    let heading = if feature { "Feature" } else { "EPIC" };
    text.push_str(&format!("# {heading}: {}\n\n## Description ✍️\n\n", m.title.replace('\n', " ")));
    let description =
        crate::artifact::section_as_written(&link::text_as_written(m.description.as_deref().unwrap_or_default()));
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
    fn new_ids_count_up_from_the_highest_taken_number() {
        let config =
            crate::project::ProjectConfig::parse("p.toml", "[github_integration]\nenable_sync = true\n").unwrap();
        let project = |slug: &str, broken: &[&str]| Project {
            slug: slug.into(),
            dir: format!(".ruru/projects/{slug}"),
            config: config.clone(),
            artifacts: Vec::new(),
            broken: broken.iter().map(|b| format!(".ruru/projects/{slug}/epics/{b}")).collect(),
        };
        let a = project("a", &["EPIC-0099_wide.md", "EPIC-007_x.md", "notes.md"]);
        let b = project("b", &["EPIC-002_y.md"]);
        let mut ids = NewIds::default();
        assert_eq!(ids.next(&a, "EPIC"), "EPIC-0100", "one above the highest, as wide as the widest");
        assert_eq!(ids.next(&a, "EPIC"), "EPIC-0101");
        // IDs given in the run are taken in every project, as before.
        assert_eq!(ids.next(&b, "EPIC"), "EPIC-0102");
        assert_eq!(ids.next(&a, "FEAT"), "FEAT-001");
        assert_eq!(NewIds::default().next(&b, "EPIC"), "EPIC-003");
        // A removed file's milestone still carries EPIC-005 for b: not given again. A marker
        // of another project takes nothing from b; one naming no project takes from all.
        let mut ids = NewIds::default();
        ids.reserve(Some("b"), "EPIC-005");
        ids.reserve(Some("a"), "EPIC-0200");
        assert_eq!(ids.next(&b, "EPIC"), "EPIC-006");
        let mut ids = NewIds::default();
        ids.reserve(None, "EPIC-010");
        assert_eq!(ids.next(&b, "EPIC"), "EPIC-011");
    }

    #[test]
    fn slugs_stay_in_the_folder() {
        assert_eq!(slug("Mobile app: offline mode / sync"), "mobile-app-offline-mode-sync");
        assert_eq!(slug("../../etc"), "etc");
        assert_eq!(slug("..."), "milestone");
        assert_eq!(slug("Ünïcode ✨ only"), "unicode-only");
        assert_eq!(slug("🗺️ Café déjà vu"), "cafe-deja-vu");
        assert_eq!(slug("Дорожная карта"), "dorozhnaia-karta");
        assert_eq!(slug("路线图"), "lu-xian-tu");
        assert_eq!(slug("Ελληνικά: Φάση 2"), "ellenika-phase-2");
        assert_eq!(slug("✨🚀"), "milestone");
        for title in ["../ﾟ/..", "a\u{2215}b", "x\u{FF0F}y", "\u{2024}\u{2024}/etc", "ﬁle"] {
            let s = slug(title);
            assert!(s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'), "{title:?} → {s}");
        }
        assert!(slug(&"long words ".repeat(20)).len() <= 50);
        assert!(!slug(&"a/".repeat(40)).ends_with('-'));
    }
}
