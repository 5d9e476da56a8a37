//! The Markdown body: finding and replacing the Description section, normalising text.

use std::ops::Range;

/// Where the Description section is in a body.
struct Section {
    /// Byte range of the section text (after the heading line, up to the next `## `
    /// heading or the end).
    text: Range<usize>,
    /// Whether a `## Description…` heading was found (otherwise `text` is the whole body).
    has_heading: bool,
}

/// Lines of `body` with their start offsets, skipping none; each item is
/// `(start, line_without_newline, end_after_newline)`.
fn lines(body: &str) -> impl Iterator<Item = (usize, &str, usize)> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= body.len() {
            return None;
        }
        let start = pos;
        let end = body[start..].find('\n').map_or(body.len(), |i| start + i + 1);
        pos = end;
        Some((start, body[start..end].trim_end_matches('\n'), end))
    })
}

/// True for a line that opens or closes a fenced code block (```` ``` ```` or `~~~`, up to
/// three spaces of indentation): headings inside code blocks are not headings.
fn is_code_fence(line: &str) -> bool {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let rest = line.trim_start_matches(' ');
    indent <= 3 && (rest.starts_with("```") || rest.starts_with("~~~"))
}

fn find_section(body: &str) -> Section {
    let mut in_code = false;
    let mut start = None;
    for (line_start, line, line_end) in lines(body) {
        if is_code_fence(line) {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        match start {
            None if line.starts_with("## Description") => start = Some(line_end),
            Some(s) if line.starts_with("## ") => {
                return Section { text: s..line_start, has_heading: true };
            }
            _ => {}
        }
    }
    match start {
        Some(s) => Section { text: s..body.len(), has_heading: true },
        None => Section { text: 0..body.len(), has_heading: false },
    }
}

pub(crate) fn description_section(body: &str) -> &str {
    &body[find_section(body).text]
}

pub(crate) fn normalize_text(text: &str) -> String {
    let unified = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = unified.split('\n').map(str::trim_end).collect();
    lines.join("\n").trim().to_owned()
}

/// `text` (normalised) in the form the Description section can hold and give back
/// unchanged: a line that would end the section (`## …` outside a code block) becomes a
/// `### ` heading, and a code block left open is closed (an open fence would swallow the
/// sections after it). A description typed on GitHub with its own `## ` headings therefore
/// reads back from the file as it was written, instead of cut short and sent back cut.
pub(crate) fn section_safe(text: &str) -> String {
    let text = normalize_text(text);
    let mut open_fence: Option<&str> = None;
    let mut out: Vec<String> = Vec::new();
    for line in text.split('\n') {
        if is_code_fence(line) {
            let marker = if line.trim_start().starts_with("```") { "```" } else { "~~~" };
            open_fence = match open_fence {
                None => Some(marker),
                Some(m) if m == marker => None,
                other => other,
            };
            out.push(line.to_string());
        } else if open_fence.is_none() && line.starts_with("## ") {
            out.push(format!("#{line}"));
        } else {
            out.push(line.to_string());
        }
    }
    if let Some(marker) = open_fence {
        out.push(marker.to_string());
    }
    out.join("\n")
}

/// The line ending of a body's first line (`"\n"` when it has none).
pub(crate) fn detect_eol(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if text[..i].ends_with('\r') => "\r\n",
        _ => "\n",
    }
}

/// Replaces the Description section's text with `new_text`: a blank line, the text, and a
/// blank line before the next heading, all with `eol`. A body whose section already says
/// the same (compared with [`normalize_text`]) comes back unchanged, so a description that
/// went to GitHub and back does not rewrite the file. At the end of the body, the text
/// ends with a newline only if the body did.
pub(crate) fn replace_description(body: &str, new_text: &str, eol: &str) -> String {
    let section = find_section(body);
    let new_norm = section_safe(new_text);
    if normalize_text(&body[section.text.clone()]) == new_norm {
        return body.to_owned();
    }
    let text = new_norm.split('\n').collect::<Vec<_>>().join(eol);
    let followed_by_heading = section.text.end < body.len();
    let mut out = String::with_capacity(body.len() + text.len());
    out.push_str(&body[..section.text.start]);
    // A heading on the body's last line, without a newline, needs one first.
    if section.has_heading && section.text.start == body.len() && !body.ends_with('\n') {
        out.push_str(eol);
    }
    out.push_str(eol);
    if !text.is_empty() {
        out.push_str(&text);
        if followed_by_heading {
            out.push_str(eol);
            out.push_str(eol);
        } else if body.is_empty() || body.ends_with('\n') {
            out.push_str(eol);
        }
    }
    out.push_str(&body[section.text.end..]);
    out
}

#[cfg(test)]
mod section_tests {
    use super::*;

    #[test]
    fn text_with_its_own_headings_reads_back_as_written() {
        let body = "# EPIC: A\n\n## Description ✍️\n\nOld.\n\n## Acceptance Criteria ✅\n\n- [ ] ok\n";
        for typed in
            ["Intro.\r\n\r\n## Details\r\nMore.", "Code:\n```sh\n## not a heading\n", "~~~\n## inside\n~~~\n## outside"]
        {
            let new = replace_description(body, typed, "\n");
            assert_eq!(description_section(&new).trim(), section_safe(typed), "{typed:?} in {new}");
            assert!(new.ends_with("## Acceptance Criteria ✅\n\n- [ ] ok\n"), "{new}");
            assert_eq!(replace_description(&new, typed, "\n"), new, "stable");
        }
        assert_eq!(section_safe("a\n## b"), "a\n### b");
        assert_eq!(section_safe("```\n## b"), "```\n## b\n```");
    }
}
