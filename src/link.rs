//! The link contract between an artifact and its milestone (docs/sync-model.md).
//!
//! - In the artifact: `related_milestone = "<the milestone's html_url>"`.
//! - In the milestone description, after the synced text and a blank line:
//!   `IntelliManage-ID: EPIC-001` and `IntelliManage-Project: <project_slug>`, then the sync's
//!   hidden record of the base (`<!-- milestone-sync base v1 gen=… -->`, see [`crate::base`]).
//!   All three are stripped when the description flows back into the file.
//!
//! Other tools and tests rely on these exact spellings.

use crate::artifact::{as_written, normalize_text};
use crate::base::SyncBase;

const ID_PREFIX: &str = "IntelliManage-ID:";
const PROJECT_PREFIX: &str = "IntelliManage-Project:";
/// The hidden line that holds the milestone's record of the sync base. GitHub renders a
/// milestone description as Markdown, where an HTML comment shows as nothing.
const RECORD_PREFIX: &str = "<!-- milestone-sync base ";
const RECORD_SUFFIX: &str = "-->";

/// The marker lines found in a milestone description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    pub id: String,
    /// `None` when only the ID line is present (written by hand, or by an older tool).
    pub project: Option<String>,
}

/// The milestone description for an artifact: its Description text as written (a hard line
/// break's trailing spaces kept), a blank line, then the marker lines.
pub fn compose_description(text: &str, id: &str, project: &str) -> String {
    let text = as_written(text);
    let markers = format!("{ID_PREFIX} {id}\n{PROJECT_PREFIX} {project}");
    if text.is_empty() { markers } else { format!("{text}\n\n{markers}") }
}

/// Reads the marker lines of a milestone description, wherever they stand.
pub fn marker(description: &str) -> Option<Marker> {
    let mut id = None;
    let mut project = None;
    for line in description.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix(ID_PREFIX) {
            let rest = rest.trim();
            if !rest.is_empty() && id.is_none() {
                id = Some(rest.to_string());
            }
        } else if let Some(rest) = line.strip_prefix(PROJECT_PREFIX) {
            let rest = rest.trim();
            if !rest.is_empty() && project.is_none() {
                project = Some(rest.to_string());
            }
        }
    }
    id.map(|id| Marker { id, project })
}

/// The synced text of a milestone description: marker lines and the record removed, line
/// endings and surrounding white space normalised. This is what is compared with an
/// artifact's Description and what flows back into the file.
pub fn synced_text(description: &str) -> String {
    let kept: Vec<&str> = description
        .lines()
        .filter(|line| {
            let line = line.trim();
            !line.starts_with(ID_PREFIX) && !line.starts_with(PROJECT_PREFIX) && !is_record(line)
        })
        .collect();
    normalize_text(&kept.join("\n"))
}

/// The text of a milestone description as written on GitHub, for the file: marker lines and
/// the record removed, line endings unified, the blank lines around it dropped, every other
/// byte kept. Compare it through [`synced_text`].
pub fn text_as_written(description: &str) -> String {
    let kept: Vec<&str> = description
        .split('\n')
        .filter(|line| {
            let line = line.trim();
            !line.starts_with(ID_PREFIX) && !line.starts_with(PROJECT_PREFIX) && !is_record(line)
        })
        .collect();
    as_written(&kept.join("\n"))
}

fn is_record(line: &str) -> bool {
    line.trim().starts_with(RECORD_PREFIX)
}

/// The milestone's record of the sync base, when its description holds one (the first).
pub fn record(description: &str) -> Option<SyncBase> {
    description.lines().map(str::trim).find(|line| is_record(line)).map(|line| {
        let inner = line.strip_prefix(RECORD_PREFIX).unwrap_or(line);
        SyncBase::parse(inner.strip_suffix(RECORD_SUFFIX).unwrap_or(inner))
    })
}

/// `description` with its record of the base replaced by `record` (appended on a line of its
/// own after the last line when it had none). Every other byte stays as GitHub had it; the
/// new line ends like the description's lines (`\r\n` for text typed in the browser).
pub fn with_record(description: &str, record: &SyncBase) -> String {
    let eol = if description.contains("\r\n") { "\r\n" } else { "\n" };
    let mut out = String::with_capacity(description.len() + 100);
    for line in description.split_inclusive('\n') {
        if !is_record(line) {
            out.push_str(line);
        }
    }
    let kept = out.trim_end_matches(['\r', '\n']).len();
    out.truncate(kept);
    if !out.is_empty() {
        out.push_str(eol);
    }
    out.push_str(&format!("{RECORD_PREFIX}{} {RECORD_SUFFIX}", record.format()));
    out
}

/// The milestone number of a `related_milestone` URL, when it is a milestone URL of this
/// repository (`https://HOST/OWNER/REPO/milestone/N`, owner and repo compared without case;
/// any host, so GitHub Enterprise Server links work too).
pub fn milestone_number(url: &str, repository: &str) -> Option<u64> {
    let rest = url.trim().split_once("://")?.1;
    let mut parts = rest.trim_end_matches('/').split('/');
    let _host = parts.next()?;
    let owner = parts.next()?;
    let repo = parts.next()?;
    if parts.next()? != "milestone" {
        return None;
    }
    let number = parts.next()?.parse().ok()?;
    if parts.next().is_some() || !format!("{owner}/{repo}").eq_ignore_ascii_case(repository) {
        return None;
    }
    Some(number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compose_then_read_back() {
        let d = compose_description("  Build the thing.\r\n\r\nWell.  \r\n", "EPIC-001", "demo");
        assert_eq!(d, "  Build the thing.\n\nWell.  \n\nIntelliManage-ID: EPIC-001\nIntelliManage-Project: demo");
        assert_eq!(marker(&d), Some(Marker { id: "EPIC-001".into(), project: Some("demo".into()) }));
        assert_eq!(synced_text(&d), "Build the thing.\n\nWell.");
    }

    #[test]
    fn empty_text_is_just_the_markers() {
        let d = compose_description("", "FEAT-002", "p");
        assert_eq!(d, "IntelliManage-ID: FEAT-002\nIntelliManage-Project: p");
        assert_eq!(synced_text(&d), "");
    }

    #[test]
    fn markers_typed_in_the_browser_have_crlf() {
        let d = "Text\r\n\r\nIntelliManage-ID: EPIC-9\r\nIntelliManage-Project: x\r\n";
        assert_eq!(marker(d).unwrap().id, "EPIC-9");
        assert_eq!(synced_text(d), "Text");
        assert_eq!(marker("no markers here"), None);
    }

    #[test]
    fn the_record_is_hidden_read_back_and_replaced_in_place() {
        let base = SyncBase { generation: 2, file_generation: Some(1), closed: Some(false), ..Default::default() };
        let d = with_record(&compose_description("Text", "EPIC-001", "demo"), &base);
        assert_eq!(
            d,
            "Text\n\nIntelliManage-ID: EPIC-001\nIntelliManage-Project: demo\n<!-- milestone-sync base v1 gen=2 file=1 state=open -->"
        );
        assert_eq!(record(&d), Some(base.clone()));
        assert_eq!(synced_text(&d), "Text", "the record never reaches the file");
        assert_eq!(marker(&d).map(|m| m.id), Some("EPIC-001".into()));
        // Replaced, not added; the browser's CRLF and every other byte kept.
        let typed = "Typed  \r\n\r\nIntelliManage-ID: EPIC-001\r\n<!-- milestone-sync base v1 gen=1 -->\r\n";
        let next = SyncBase { generation: 3, ..base };
        assert_eq!(
            with_record(typed, &next),
            "Typed  \r\n\r\nIntelliManage-ID: EPIC-001\r\n<!-- milestone-sync base v1 gen=3 file=1 state=open -->"
        );
        assert_eq!(record(typed).map(|r| r.generation), Some(1));
        assert_eq!(with_record("", &SyncBase::default()), "<!-- milestone-sync base v1 -->");
        assert_eq!(record("no record"), None);
    }

    #[test]
    fn milestone_urls() {
        assert_eq!(milestone_number("https://github.com/Acme/Plan/milestone/7", "acme/plan"), Some(7));
        assert_eq!(milestone_number("https://ghe.example.com/acme/plan/milestone/12/", "acme/plan"), Some(12));
        assert_eq!(milestone_number("https://github.com/other/plan/milestone/7", "acme/plan"), None);
        assert_eq!(milestone_number("https://github.com/acme/plan/issues/7", "acme/plan"), None);
        assert_eq!(milestone_number("https://github.com/acme/plan/milestone/x", "acme/plan"), None);
        assert_eq!(milestone_number("not a url", "acme/plan"), None);
    }
}
