//! The link contract between an artifact and its milestone (docs/sync-model.md).
//!
//! - In the artifact: `related_milestone = "<the milestone's html_url>"`.
//! - In the milestone description, after the synced text and a blank line:
//!   `IntelliManage-ID: EPIC-001` and `IntelliManage-Project: <project_slug>`, then the sync's
//!   hidden record of the base (`<!-- milestone-sync base v1 gen=… -->`, see [`crate::base`]).
//!   All three are stripped when the description flows back into the file, and with them the
//!   blank lines they leave (text typed around them comes back one paragraph break apart).
//!
//! Other tools and tests rely on these exact spellings.

use crate::artifact::{Fences, as_written, normalize_text};
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

/// The synced text of a milestone description: the sync's lines removed (see `person_lines`),
/// line endings and surrounding white space normalised. This is what is compared with an
/// artifact's Description and what flows back into the file.
pub fn synced_text(description: &str) -> String {
    normalize_text(&person_lines(description).join("\n"))
}

/// The text of a milestone description as written on GitHub, for the file: the sync's lines
/// removed (see `person_lines`), line endings unified, the blank lines around it dropped, every
/// other byte kept. Compare it through [`synced_text`].
pub fn text_as_written(description: &str) -> String {
    as_written(&person_lines(description).join("\n"))
}

/// True for one of the sync's own lines: a marker line or the record.
fn is_sync_line(line: &str) -> bool {
    let line = line.trim();
    line.starts_with(ID_PREFIX) || line.starts_with(PROJECT_PREFIX) || is_record(line)
}

/// The lines of a milestone description that are the person's (split at `\n`, a CRLF line
/// keeping its `\r`): the marker lines and the record removed, and with them the blank lines
/// they leave over. People type around the sync's lines (before them, between them and the
/// record, after the record), so the blank lines on both sides of a run of the sync's lines
/// become one: a paragraph break, as between paragraphs anywhere else (none when there was
/// none, so sync lines inside a paragraph leave it whole). Blank lines elsewhere are the
/// person's and stay. Inside a fenced code block (where the sync's lines stand only when the
/// text left a block open) only the sync's lines go: the block's blank lines are its content.
fn person_lines(description: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    let mut fence = Fences::default();
    // A run of the sync's lines was removed since the last line of text (outside a block).
    let mut in_gap = false;
    for line in description.split('\n') {
        let blank = line.trim().is_empty();
        if is_sync_line(line) {
            if !fence.is_open() {
                // The blank lines typed before the run: at most one stays.
                while out.len() >= 2 && out[out.len() - 2..].iter().all(|l| l.trim().is_empty()) {
                    out.pop();
                }
                in_gap = true;
            }
        } else if blank && in_gap && out.last().is_some_and(|l| l.trim().is_empty()) {
            // The gap already holds its blank line.
        } else {
            if !blank {
                fence.step(line);
                in_gap = false;
            }
            out.push(line);
        }
    }
    out
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

    /// A description as the sync writes it: the text, the marker lines, the hidden record.
    fn written(text: &str) -> String {
        let base = SyncBase { generation: 2, file_generation: Some(1), ..Default::default() };
        with_record(&compose_description(text, "EPIC-001", "demo"), &base)
    }

    /// Both readings of a description's person text: as compared, and as written to the file.
    fn both(description: &str) -> (String, String) {
        (synced_text(description), text_as_written(description))
    }

    #[test]
    fn a_paragraph_typed_after_the_marker_lines_follows_one_blank_line() {
        let d = "Text\n\nIntelliManage-ID: EPIC-001\nIntelliManage-Project: demo\n\nAdded on GitHub.";
        assert_eq!(both(d), ("Text\n\nAdded on GitHub.".into(), "Text\n\nAdded on GitHub.".into()));
        // Typed on the line right after them: still a paragraph of its own, after one blank line.
        let d = "Text\n\nIntelliManage-ID: EPIC-001\nIntelliManage-Project: demo\nAdded on GitHub.";
        assert_eq!(both(d).1, "Text\n\nAdded on GitHub.");
    }

    #[test]
    fn a_paragraph_typed_after_the_record_follows_one_blank_line() {
        let d = format!("{}\r\n\r\nAfter the record.", written("Text"));
        assert_eq!(both(&d), ("Text\n\nAfter the record.".into(), "Text\n\nAfter the record.".into()));
        let d = format!("{}\r\nAfter the record, no blank line typed.", written("Text"));
        assert_eq!(both(&d).1, "Text\n\nAfter the record, no blank line typed.");
    }

    #[test]
    fn a_paragraph_typed_between_the_marker_lines_and_the_record_follows_one_blank_line() {
        let d = "Text\r\n\r\nIntelliManage-ID: EPIC-001\r\nIntelliManage-Project: demo\r\n\r\nBetween.\r\n\r\n<!-- milestone-sync base v1 gen=2 -->";
        assert_eq!(both(d), ("Text\n\nBetween.".into(), "Text\n\nBetween.".into()));
    }

    #[test]
    fn text_before_and_after_the_sync_lines_is_one_paragraph_break_apart() {
        let d = format!("{}\r\n\r\nAfter.", written("One.  \nTwo.\n\nThree."));
        assert_eq!(
            both(&d),
            ("One.\nTwo.\n\nThree.\n\nAfter.".into(), "One.  \nTwo.\n\nThree.\n\nAfter.".into()),
            "the person's own blank line and hard break kept, the gap one blank line"
        );
        // Extra blank lines typed on either side of the sync's lines collapse too.
        let d = "Before.\r\n\r\n\r\nIntelliManage-ID: EPIC-001\r\nIntelliManage-Project: demo\r\n\r\n\r\n<!-- milestone-sync base v1 -->\r\n\r\n\r\nAfter.";
        assert_eq!(both(d), ("Before.\n\nAfter.".into(), "Before.\n\nAfter.".into()));
        // Blank lines the person typed away from the sync's lines are theirs.
        let d = format!("{}\n\nAfter.", written("A\n\n\nB"));
        assert_eq!(both(&d).1, "A\n\n\nB\n\nAfter.");
        // Sync lines between two lines of one paragraph leave the paragraph whole.
        assert_eq!(both("A\nIntelliManage-ID: EPIC-001\nB").1, "A\nB");
    }

    #[test]
    fn crlf_descriptions_read_like_lf_ones() {
        let lf = format!("{}\n\nAfter.\n\nAnd more.  \nStill.\n", written("Text"));
        let crlf = lf.replace('\n', "\r\n");
        assert_eq!(both(&crlf), both(&lf));
        assert_eq!(both(&crlf).1, "Text\n\nAfter.\n\nAnd more.  \nStill.");
        assert!(!both(&crlf).0.contains('\r') && !both(&crlf).1.contains('\r'));
    }

    #[test]
    fn only_the_sync_lines_is_no_text() {
        for d in [
            written(""),
            "\r\n\r\nIntelliManage-ID: EPIC-001\r\n\r\nIntelliManage-Project: demo\r\n\r\n<!-- milestone-sync base v1 -->\r\n\r\n"
                .into(),
        ] {
            assert_eq!(both(&d), (String::new(), String::new()), "{d:?}");
        }
    }

    #[test]
    fn blank_lines_in_a_code_block_are_kept() {
        let code = "Intro.\n\n```sh\nstep one\n\n\nstep two  \n\n```\n\n~~~\n\n~~~";
        let d = format!("{}\n\nAfter.", written(code));
        assert_eq!(both(&d).1, format!("{code}\n\nAfter."));
        assert_eq!(both(&d).0, normalize_text(&format!("{code}\n\nAfter.")));
        // A block left open holds the sync's lines (GitHub shows them as code): only they go.
        let d = "```\nrun\n\nIntelliManage-ID: EPIC-001\nIntelliManage-Project: demo\n\nmore\n<!-- milestone-sync base v1 -->";
        assert_eq!(both(d).1, "```\nrun\n\n\nmore");
    }

    #[test]
    fn the_text_read_back_is_stable() {
        // What flows into the file, sent back by the sync, reads back the same: no loop.
        for d in [
            format!("{}\r\n\r\nAfter.", written("Text")),
            "Before.\r\n\r\n\r\nIntelliManage-ID: EPIC-001\r\nIntelliManage-Project: demo\r\n\r\nBetween.\r\n<!-- milestone-sync base v1 -->\r\nAfter.".into(),
        ] {
            let (compared, as_file) = both(&d);
            assert_eq!(normalize_text(&as_file), compared, "{d:?}");
            let again = written(&as_file);
            assert_eq!(both(&again), (compared.clone(), as_file.clone()), "{d:?}");
            let rerecorded = with_record(&d, &SyncBase { generation: 3, ..Default::default() });
            assert_eq!(both(&rerecorded), (compared, as_file), "{d:?}");
        }
    }

    #[test]
    fn a_paragraph_appended_on_github_lands_in_the_file_after_one_blank_line() {
        use crate::artifact::{description_section, merge_description, section_text};
        let body = "# EPIC: A\n\n## Description ✍️\n\nText\n\n## Acceptance Criteria ✅\n\n- [ ] ok\n";
        let d = format!("{}\r\n\r\nAdded on GitHub.", written("Text"));
        let merged = merge_description(body, &text_as_written(&d));
        assert_eq!(merged, body.replace("Text\n", "Text\n\nAdded on GitHub.\n"));
        // The file now says what the milestone says: the next run sees no change.
        assert_eq!(section_text(description_section(&merged)), section_text(&synced_text(&d)));
        assert_eq!(merge_description(&merged, &text_as_written(&d)), merged);
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
