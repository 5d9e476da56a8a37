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
    let new_norm = normalize_text(new_text);
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
