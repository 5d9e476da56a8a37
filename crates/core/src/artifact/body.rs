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

/// Which fenced code block a walk through the lines is in: a block opened with ```` ``` ````
/// is closed only by ```` ``` ````, one opened with `~~~` only by `~~~`. Finding the section and
/// making a text safe for it walk the lines the same way, so they agree on every heading.
#[derive(Default)]
pub(crate) struct Fences {
    open: Option<&'static str>,
}

impl Fences {
    /// Whether the walk is inside a block.
    pub(crate) fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// Steps over `line`; true when it is a fence line (opening, closing or inside a block).
    pub(crate) fn step(&mut self, line: &str) -> bool {
        if is_code_fence(line) {
            let marker = if line.trim_start().starts_with("```") { "```" } else { "~~~" };
            self.open = match self.open {
                None => Some(marker),
                Some(m) if m == marker => None,
                other => other,
            };
            return true;
        }
        self.open.is_some()
    }
}

fn find_section(body: &str) -> Section {
    let mut fences = Fences::default();
    let mut start = None;
    for (line_start, line, line_end) in lines(body) {
        if fences.step(line) {
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
    safe_lines(&normalize_text(text), true).join("\n")
}

/// A text as written, for sending: line endings unified to `\n` and the blank lines around it
/// dropped, every other byte kept (the two trailing spaces of a Markdown hard line break, the
/// indentation of the first line). Compared with others only through [`normalize_text`].
pub(crate) fn as_written(text: &str) -> String {
    let unified = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = unified.split('\n').collect();
    let first = lines.iter().position(|l| !l.trim().is_empty());
    let last = lines.iter().rposition(|l| !l.trim().is_empty());
    match (first, last) {
        (Some(f), Some(l)) => lines[f..=l].join("\n"),
        _ => String::new(),
    }
}

/// Lines of a text from GitHub made safe for the Description section, bytes kept otherwise:
/// a line that would end the section (`## …` outside a code block, when the body has a
/// `## Description` heading; a `## Description…` line in any case, which would start one)
/// becomes a `### ` heading, and a code block left open is closed.
fn safe_lines(text: &str, in_section: bool) -> Vec<String> {
    let mut fences = Fences::default();
    let mut out: Vec<String> = Vec::new();
    for line in text.split('\n') {
        if !fences.step(line) && (line.starts_with("## Description") || (in_section && line.starts_with("## "))) {
            out.push(format!("#{line}"));
        } else {
            out.push(line.to_string());
        }
    }
    if let Some(marker) = fences.open {
        out.push(marker.to_string());
    }
    out
}

/// A text from GitHub as a new Description section holds it: as written, its `## ` headings
/// turned into `### ` and an open code block closed.
pub(crate) fn section_as_written(text: &str) -> String {
    safe_lines(&as_written(text), true).join("\n")
}

/// What a line means for comparison: its text without trailing white space or `\r`.
fn key(line: &str) -> &str {
    line.trim_end()
}

/// Brings the Description section to `new_text` (from GitHub) by changing only the lines that
/// differ: a line-level diff of the section's lines and the new text's, compared as
/// [`normalize_text`] compares them (line endings and trailing white space aside); every line
/// equal in that sense keeps the file's own bytes (trailing spaces, CRLF, a heading's form),
/// deleted lines go, and new lines are GitHub's, with the body's line ending. A `## ` heading in
/// the new text becomes `### ` only inside a real Description section, where it would end it.
/// An empty section or an emptied text is replaced whole ([`replace_description`]).
pub(crate) fn merge_description(body: &str, new_text: &str, eol: &str) -> String {
    let section = find_section(body);
    let ours = &body[section.text.clone()];
    // The section's own text coming back (the text it sent) changes nothing, whatever it holds.
    if normalize_text(ours) == normalize_text(new_text) {
        return body.to_owned();
    }
    let theirs = safe_lines(&as_written(new_text), section.has_heading);
    let wanted = normalize_text(&theirs.join("\n"));
    if normalize_text(ours) == wanted {
        return body.to_owned();
    }
    // The section's lines with their endings; its blank lines at either end stay as they are.
    let lines: Vec<&str> = ours.split_inclusive('\n').collect();
    let first = lines.iter().position(|l| !l.trim().is_empty());
    let last = lines.iter().rposition(|l| !l.trim().is_empty());
    let (Some(first), Some(last)) = (first, last) else { return replace_description(body, new_text, eol) };
    if wanted.is_empty() {
        return replace_description(body, new_text, eol);
    }
    let core = &lines[first..=last];
    let old_keys: Vec<&str> = core.iter().map(|l| key(l)).collect();
    let new_keys: Vec<&str> = theirs.iter().map(|l| key(l)).collect();
    let mut out = String::with_capacity(body.len() + new_text.len());
    out.push_str(&body[..section.text.start]);
    for l in &lines[..first] {
        out.push_str(l);
    }
    // The core's last line may end the body without a newline: then so does the new last line.
    let ends_without_newline = core.last().is_some_and(|l| !l.ends_with('\n'));
    let mut merged = String::new();
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &old_keys, &new_keys) {
        let (tag, old, new) = op.as_tag_tuple();
        match tag {
            similar::DiffTag::Equal => {
                for l in &core[old] {
                    merged.push_str(l);
                    if !l.ends_with('\n') {
                        merged.push_str(eol);
                    }
                }
            }
            similar::DiffTag::Delete => {}
            similar::DiffTag::Insert | similar::DiffTag::Replace => {
                for l in &theirs[new] {
                    merged.push_str(l);
                    merged.push_str(eol);
                }
            }
        }
    }
    if ends_without_newline {
        let kept = merged.trim_end_matches(['\r', '\n']).len();
        merged.truncate(kept);
    }
    out.push_str(&merged);
    for l in &lines[last + 1..] {
        out.push_str(l);
    }
    out.push_str(&body[section.text.end..]);
    // The merge must say what GitHub says; anything else (it never should) is replaced whole.
    if normalize_text(description_section(&out)) != wanted {
        return replace_description(body, new_text, eol);
    }
    out
}

/// The line ending of a body's first line (`"\n"` when it has none).
pub(crate) fn detect_eol(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if text[..i].ends_with('\r') => "\r\n",
        _ => "\n",
    }
}

/// Replaces the Description section's text with `new_text` as written and made safe for the
/// section (as [`merge_description`] makes it): a blank line, the text, and a blank line
/// before the next heading, all with `eol`. A body whose section already says the same
/// (compared with [`normalize_text`]) comes back unchanged, so a description that
/// went to GitHub and back does not rewrite the file. At the end of the body, the text
/// ends with a newline only if the body did.
pub(crate) fn replace_description(body: &str, new_text: &str, eol: &str) -> String {
    let section = find_section(body);
    let lines = safe_lines(&as_written(new_text), section.has_heading);
    if normalize_text(&body[section.text.clone()]) == normalize_text(&lines.join("\n")) {
        return body.to_owned();
    }
    let text = lines.join(eol);
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

    const BODY: &str = "# EPIC: A\n\n## Description ✍️\n\nFirst line,  \nwith a hard break.\n\n```sh\nrun it   \n```\n\nLast paragraph.\n\n## Acceptance Criteria ✅\n\n- [ ] ok\n";

    /// The lines of `new` that differ from `old`, with their line numbers.
    fn changed(old: &str, new: &str) -> Vec<String> {
        let (a, b): (Vec<&str>, Vec<&str>) = (old.split_inclusive('\n').collect(), new.split_inclusive('\n').collect());
        let ops = similar::capture_diff_slices(similar::Algorithm::Myers, &a, &b);
        ops.iter()
            .flat_map(|op| {
                let (tag, o, n) = op.as_tag_tuple();
                match tag {
                    similar::DiffTag::Equal => Vec::new(),
                    _ => a[o].iter().map(|l| format!("-{l}")).chain(b[n].iter().map(|l| format!("+{l}"))).collect(),
                }
            })
            .collect()
    }

    #[test]
    fn only_the_lines_github_changed_are_written() {
        let sent = as_written(description_section(BODY));
        assert!(sent.contains("First line,  \n") && sent.contains("run it   \n"), "sent as written: {sent:?}");
        // Unchanged, typed back with CRLF as the web form stores it: nothing changes.
        assert_eq!(merge_description(BODY, &sent.replace('\n', "\r\n"), "\n"), BODY);
        // A paragraph appended in the browser (CRLF): one blank line and one line more.
        let appended = format!("{sent}\n\nAdded on GitHub.").replace('\n', "\r\n");
        let out = merge_description(BODY, &appended, "\n");
        let mut added = changed(BODY, &out);
        added.sort();
        assert_eq!(added, ["+\n", "+Added on GitHub.\n"], "{out}");
        // A line edited in the middle, one deleted.
        let edited = sent.replace("with a hard break.", "with an edited break.");
        assert_eq!(
            changed(BODY, &merge_description(BODY, &edited, "\n")),
            ["-with a hard break.\n", "+with an edited break.\n"]
        );
        let deleted = sent.replace("Last paragraph.", "").trim_end().to_string();
        let out = merge_description(BODY, &deleted, "\n");
        assert!(changed(BODY, &out).iter().all(|l| l.starts_with('-')), "{out}");
        assert!(out.contains("run it   \n") && out.contains("First line,  \n"), "{out}");
        // Emptied: the section goes, the headings stay.
        let out = merge_description(BODY, "", "\n");
        assert!(out.contains("## Description ✍️\n\n## Acceptance") && !out.contains("First line"), "{out}");
    }

    #[test]
    fn headings_from_github_are_demoted_only_inside_a_description_section() {
        let added = format!("{}\n\n## Risks\n\nNone.", as_written(description_section(BODY)));
        let out = merge_description(BODY, &added, "\n");
        assert!(out.contains("\n### Risks\n") && out.ends_with("## Acceptance Criteria ✅\n\n- [ ] ok\n"), "{out}");
        // A body without a Description heading is the description: its headings are its own.
        let whole = "Intro.\n\n## Plan\n\nSteps.\n";
        let out = merge_description(whole, "Intro.\n\n## Plan\n\nSteps, revised.\n\n## Risks\n\nNone.", "\n");
        assert_eq!(out, "Intro.\n\n## Plan\n\nSteps, revised.\n\n## Risks\n\nNone.\n");
    }

    #[test]
    fn crlf_bodies_and_a_missing_final_newline_keep_their_form() {
        let body = "## Description\r\n\r\nOne.  \r\nTwo.";
        let out = merge_description(body, "One.\nTwo.\nThree.", "\r\n");
        assert_eq!(out, "## Description\r\n\r\nOne.  \r\nTwo.\r\nThree.");
        let out = merge_description(body, "Zero.\nOne.\nTwo.", "\r\n");
        assert_eq!(out, "## Description\r\n\r\nZero.\r\nOne.  \r\nTwo.");
    }

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

#[cfg(test)]
mod fence_tests {
    use super::*;

    /// Found by `fuzz/fuzz_targets/merge.rs`: a body without a Description heading took a text
    /// whose `## ` line was demoted by the whole-section path but not by the merge, and a `~~~`
    /// block holding a ```` ``` ```` line ended early for one walk and not the other; the second
    /// merge of the same text then changed the body again.
    #[test]
    fn both_paths_treat_headings_and_fences_alike() {
        for text in ["## Acceptance\n~~~\n## Description\n~~~", "~~~\n```\n## Description\n~~~\n## After", "a\n```\n"] {
            for body in ["", "Old.\n", "# T\n\n## Description\n\nOld.\n\n## Next\n\nx\n"] {
                let once = merge_description(body, text, "\n");
                assert_eq!(merge_description(&once, text, "\n"), once, "{body:?} + {text:?}");
                let whole = replace_description(body, text, "\n");
                assert_eq!(replace_description(&whole, text, "\n"), whole, "{body:?} + {text:?}");
                assert_eq!(normalize_text(description_section(&once)), normalize_text(description_section(&whole)));
            }
        }
    }
}
