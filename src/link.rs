//! The link contract between an artifact and its milestone (PRODUCT.md, "The link contract").
//!
//! - In the artifact: `related_milestone = "<the milestone's html_url>"`.
//! - In the milestone description, after the synced text and a blank line:
//!   `IntelliManage-ID: EPIC-001` and `IntelliManage-Project: <project_slug>`. They are
//!   stripped when the description flows back into the file.
//!
//! Other tools and tests rely on these exact spellings.

use crate::artifact::normalize_text;

const ID_PREFIX: &str = "IntelliManage-ID:";
const PROJECT_PREFIX: &str = "IntelliManage-Project:";

/// The marker lines found in a milestone description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    pub id: String,
    /// `None` when only the ID line is present (written by hand, or by an older tool).
    pub project: Option<String>,
}

/// The milestone description for an artifact: its Description text, a blank line, then the
/// marker lines.
pub fn compose_description(text: &str, id: &str, project: &str) -> String {
    let text = normalize_text(text);
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

/// The synced text of a milestone description: marker lines removed, line endings and
/// surrounding white space normalised. This is what is compared with an artifact's
/// Description and what flows back into the file.
pub fn synced_text(description: &str) -> String {
    let kept: Vec<&str> = description
        .lines()
        .filter(|line| {
            let line = line.trim();
            !line.starts_with(ID_PREFIX) && !line.starts_with(PROJECT_PREFIX)
        })
        .collect();
    normalize_text(&kept.join("\n"))
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
        assert_eq!(d, "Build the thing.\n\nWell.\n\nIntelliManage-ID: EPIC-001\nIntelliManage-Project: demo");
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
    fn milestone_urls() {
        assert_eq!(milestone_number("https://github.com/Acme/Plan/milestone/7", "acme/plan"), Some(7));
        assert_eq!(milestone_number("https://ghe.example.com/acme/plan/milestone/12/", "acme/plan"), Some(12));
        assert_eq!(milestone_number("https://github.com/other/plan/milestone/7", "acme/plan"), None);
        assert_eq!(milestone_number("https://github.com/acme/plan/issues/7", "acme/plan"), None);
        assert_eq!(milestone_number("https://github.com/acme/plan/milestone/x", "acme/plan"), None);
        assert_eq!(milestone_number("not a url", "acme/plan"), None);
    }
}
