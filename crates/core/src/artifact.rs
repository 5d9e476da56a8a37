//! IntelliManage artifacts: reading the TOML front matter and body of an Epic or Feature
//! file, and editing it format-preservingly.
//!
//! A file is `+++`, TOML front matter, `+++`, then a Markdown body. Reading produces a plain
//! [`Artifact`]; editing changes only the values named in a [`FieldEdit`] and keeps every
//! other byte (comments, key order, line endings, a missing final newline) as it was.

mod body;

/// Which fenced code block a walk through Markdown lines is in (the Description section's
/// rules; the marker lines of a milestone description are read by them too).
pub(crate) use body::Fences;
mod fences;
mod front_matter;
mod mojibake;
#[cfg(test)]
mod tests;

use chrono::NaiveDate;

use crate::diagnostic::Diagnostic;
use front_matter::{StrRead, read_str};

/// Front-matter keys this crate reads or writes.
pub mod keys {
    pub const ID: &str = "id";
    pub const TITLE: &str = "title";
    pub const STATUS: &str = "status";
    pub const TYPE: &str = "type";
    pub const UPDATED_DATE: &str = "updated_date";
    pub const TARGET_DATE: &str = "target_date";
    /// When the work starts; read for the summary's roadmap only, never synced.
    pub const START_DATE: &str = "start_date";
    pub const MILESTONE_TARGET_DATE: &str = "milestone_target_date";
    pub const RELATED_MILESTONE: &str = "related_milestone";
    /// Set by the sync when the linked milestone was deleted on GitHub: the artifact is not
    /// given a new milestone while it is there (remove it to create one).
    pub const MILESTONE_DELETED: &str = "milestone_deleted";
}

/// Which front-matter key supplied an artifact's due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueKey {
    MilestoneTargetDate,
    TargetDate,
}

impl DueKey {
    pub fn key(self) -> &'static str {
        match self {
            DueKey::MilestoneTargetDate => keys::MILESTONE_TARGET_DATE,
            DueKey::TargetDate => keys::TARGET_DATE,
        }
    }
}

/// An artifact as read from its file: the values the sync maps, nothing else.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Artifact {
    /// Workspace-relative path with `/` separators.
    pub path: String,
    /// `id`, e.g. `EPIC-001`.
    pub id: String,
    /// `title`.
    pub title: String,
    /// `type` as written (emoji and all), e.g. `🗺️ Epic`.
    pub kind: String,
    /// `status` as written; empty when absent.
    pub status: String,
    /// The Description section's text (see [`description_section`]) as written: line endings
    /// unified and the blank lines around it dropped, every other byte kept ([`as_written`]).
    /// Compare it through [`normalize_text`].
    pub description: String,
    /// The due date: `milestone_target_date`, else `target_date`. `None` when neither holds a
    /// real date (absent, placeholder or unparsable; the latter two add a warning).
    pub due: Option<NaiveDate>,
    /// The key that supplied `due`, or that holds a placeholder/unparsable date.
    pub due_key: Option<DueKey>,
    /// `start_date`, when it holds a real date (a placeholder is no start, and no warning:
    /// the date is not synced, only drawn on the summary's roadmap).
    pub start: Option<NaiveDate>,
    /// `related_milestone`, when present and non-empty.
    pub link: Option<String>,
    /// Warnings met while reading (placeholder dates, …), with their lines.
    pub warnings: Vec<Diagnostic>,
    /// The file line (1-based, the opening `+++` is line 1) of every top-level front-matter
    /// key, so messages about a key can point at it.
    pub key_lines: KeyLines,
    /// `milestone_sync_base`: the synced fields after the last sync (see [`crate::base`]).
    pub base: Option<String>,
    /// `sync_conflict`: fields flagged by the `manual_flag` policy, when present.
    pub conflict: Option<String>,
    /// `milestone_deleted`: the URL of the linked milestone that was deleted on GitHub, when
    /// present and non-empty.
    pub deleted: Option<String>,
    /// The file line where the body starts (the line after the closing `+++`), for messages
    /// about the description.
    pub body_line: usize,
}

/// The file line of each top-level front-matter key, by key name.
///
/// Kept for every artifact of a run, so kept small: the names back to back in one string and
/// one entry per key, about 300 bytes for an Epic's dozen keys, where a map of owned strings
/// took 1.4 KB (14 MB of a run over 10,000 artifacts). Front matter has a dozen or two keys,
/// so a lookup is a short scan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyLines {
    /// The key names, back to back.
    names: String,
    /// Per key, in file order: where its name ends in `names`, and its line.
    entries: Vec<(u32, usize)>,
}

impl KeyLines {
    /// The line of `key`, if the front matter has it.
    pub fn get(&self, key: &str) -> Option<&usize> {
        self.iter_entries().find(|(name, _)| *name == key).map(|(_, line)| line)
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// (key, line) in file order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, usize)> {
        self.iter_entries().map(|(name, line)| (name, *line))
    }

    fn iter_entries(&self) -> impl Iterator<Item = (&str, &usize)> {
        let mut start = 0;
        self.entries.iter().map(move |(end, line)| {
            let name = &self.names[start..*end as usize];
            start = *end as usize;
            (name, line)
        })
    }
}

impl<'k> FromIterator<(&'k str, usize)> for KeyLines {
    fn from_iter<I: IntoIterator<Item = (&'k str, usize)>>(iter: I) -> Self {
        let mut out = KeyLines::default();
        for (name, line) in iter {
            out.names.push_str(name);
            out.entries.push((u32::try_from(out.names.len()).expect("front matter under 4 GB"), line));
        }
        out.names.shrink_to_fit();
        out.entries.shrink_to_fit();
        out
    }
}

impl std::ops::Index<&str> for KeyLines {
    type Output = usize;

    /// Panics when the front matter has no such key, like a map's index.
    fn index(&self, key: &str) -> &usize {
        self.get(key).unwrap_or_else(|| panic!("no key {key:?} in the front matter"))
    }
}

/// One change to make to a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldEdit {
    /// Set a top-level string key; insert it after the last top-level key when absent.
    /// An existing value's trailing comment and surrounding spacing are kept.
    SetString { key: String, value: String },
    /// Remove a top-level key (and only its line).
    Remove { key: String },
    /// Bring the Description section to this text (from GitHub), changing only the lines
    /// that differ from it; the heading and all other sections stay ([`merge_description`]).
    SetDescription(String),
}

/// Reads an artifact. `path` is only used in messages and copied into the result.
///
/// Errors (one diagnostic, with the line where it applies and how to fix it): no opening or
/// closing `+++`, front matter that is not valid TOML, bytes that are not UTF-8, a missing or
/// non-string `id` or `title`. Problems that still leave a usable artifact (a placeholder
/// date, a `status` that is not a string) become [`Artifact::warnings`] instead.
pub fn parse(path: &str, bytes: &[u8]) -> Result<Artifact, Diagnostic> {
    let split = fences::split(path, bytes)?;
    let front_lf = split.front_lf();
    let doc = front_matter::parse_spanned(path, &front_lf)?;
    let table = doc.as_table();
    let key_lines = front_matter::key_lines(&doc, &front_lf);
    let line_of = |key: &str| key_lines.get(key).copied();
    let mut warnings = Vec::new();

    let required = |key: &str, example: &str| -> Result<String, Diagnostic> {
        match read_str(table, key) {
            StrRead::Str(s) => Ok(s.to_owned()),
            StrRead::Absent => Err(Diagnostic::error(
                path,
                Some(1),
                format!("the front matter has no `{key}`: add a line such as `{key} = {example}`"),
            )),
            StrRead::NotStr(what) => Err(Diagnostic::error(
                path,
                line_of(key),
                format!(
                    "`{key}` is a {what}, but it must be a string: write it in double quotes, \
                     e.g. `{key} = {example}`"
                ),
            )),
        }
    };
    let id = required(keys::ID, "\"EPIC-001\"")?;
    let title = required(keys::TITLE, "\"Launch the new site\"")?;

    let mut optional = |key: &str, example: &str| -> Option<String> {
        match read_str(table, key) {
            StrRead::Str(s) => Some(s.to_owned()),
            StrRead::Absent => None,
            StrRead::NotStr(what) => {
                warnings.push(Diagnostic::warning(
                    path,
                    line_of(key),
                    format!(
                        "`{key}` is a {what}, not a string, so it is ignored: write it in \
                         double quotes, e.g. `{key} = {example}`"
                    ),
                ));
                None
            }
        }
    };
    let kind = optional(keys::TYPE, "\"🗺️ Epic\"").unwrap_or_default();
    let status = optional(keys::STATUS, "\"🔵 In Progress\"").unwrap_or_default();
    let link = optional(keys::RELATED_MILESTONE, "\"https://github.com/OWNER/REPO/milestone/1\"")
        .filter(|s| !s.trim().is_empty());

    let base = optional(crate::base::KEY, "\"v1\"");
    let conflict = optional(crate::base::CONFLICT_KEY, "\"title\"");
    let deleted = optional(keys::MILESTONE_DELETED, "\"https://github.com/OWNER/REPO/milestone/1\"")
        .filter(|s| !s.trim().is_empty());
    for (key, value) in [(keys::TITLE, &title), (keys::STATUS, &status), (keys::TYPE, &kind)] {
        if let Some(w) = damaged(path, key, value, line_of(key)) {
            warnings.push(w);
        }
    }

    let (due, due_key) = front_matter::read_due(path, table, &key_lines, &mut warnings);
    let start = match front_matter::read_date(table, keys::START_DATE) {
        front_matter::DateRead::Date(d) => Some(d),
        _ => None,
    };
    let body = split.body();
    let description = body::as_written(description_section(body));
    let body_line = fences::line_at(split.text.as_bytes(), split.front.end) + 1;

    Ok(Artifact {
        path: path.to_owned(),
        id,
        title,
        kind,
        status,
        description,
        due,
        due_key,
        start,
        link,
        warnings,
        key_lines,
        base,
        conflict,
        deleted,
        body_line,
    })
}

/// A warning for a value whose emoji were damaged by a wrong encoding, with the value it
/// should hold when that can be worked out.
fn damaged(path: &str, key: &str, value: &str, line: Option<usize>) -> Option<Diagnostic> {
    let message = match mojibake::damage(value) {
        mojibake::Damage::None => return None,
        mojibake::Damage::Repairable(fixed) => format!(
            "`{key}` holds {value:?}, whose emoji was damaged by a wrong encoding (the UTF-8 file \
             was opened as Windows-1252 and saved): write `{key} = {fixed:?}`"
        ),
        mojibake::Damage::Lost => format!(
            "`{key}` holds {value:?}: the characters shown as \u{fffd} were lost to a wrong \
             encoding. Type them again (e.g. the emoji of the status) and save the file as UTF-8"
        ),
    };
    Some(Diagnostic::warning(path, line, message))
}

/// Statuses IntelliManage defines, as [`normalize_label`] reduces them (emoji dropped): the
/// open ones and [`CLOSED_STATUSES`].
pub const KNOWN_STATUSES: [&str; 14] = [
    "backlog",
    "planned",
    "to do",
    "todo",
    "ready",
    "in progress",
    "review",
    "qa",
    "review qa",
    "blocked",
    "done",
    "completed",
    "archived",
    "closed",
];

/// True when `status` is one of [`KNOWN_STATUSES`] or of `custom` (the project's
/// `custom_statuses` and configured statuses), compared as [`normalize_label`] reduces them.
pub fn is_known_status(status: &str, custom: &[impl AsRef<str>]) -> bool {
    let label = normalize_label(status);
    KNOWN_STATUSES.contains(&label.as_str()) || custom.iter().any(|c| normalize_label(c.as_ref()) == label)
}

/// The file line of a top-level front-matter key, or `None` when the file cannot be read or
/// has no such key. For callers holding only bytes; [`Artifact::key_lines`] has them all.
pub fn key_line(bytes: &[u8], key: &str) -> Option<usize> {
    let split = fences::split("", bytes).ok()?;
    front_matter::key_line(&split.front_lf(), key)
}

/// Applies `edits` to the file's bytes and returns the new bytes. Everything not named by an
/// edit stays byte for byte, line endings (LF or CRLF) and the presence or absence of a final
/// newline included.
///
/// Edits apply in order. Errors are those of [`parse`] about the file's form (fences,
/// encoding, TOML syntax); `id` and `title` need not be present. Setting or removing a key
/// that is a `[table]` is an error.
pub fn edit(path: &str, bytes: &[u8], edits: &[FieldEdit]) -> Result<Vec<u8>, Diagnostic> {
    let split = fences::split(path, bytes)?;
    let front_raw = &split.text[split.front.clone()];
    let front_lf = split.front_lf();
    let lines = front_matter::key_lines(&front_matter::parse_spanned(path, &front_lf)?, &front_lf);
    let mut doc = front_matter::parse_mut(path, &front_lf)?;
    // What toml_edit prints for the unedited front matter: compared with it, not with the
    // raw text, so that a byte toml_edit would not print back (a lone `\r` before a line end)
    // does not count as a change when no value changed.
    let unedited = doc.to_string();
    let old_body = split.body();
    let mut body = std::borrow::Cow::Borrowed(old_body);

    for e in edits {
        match e {
            FieldEdit::SetString { key, value } => {
                front_matter::set_string(path, &mut doc, key, value, lines.get(key).copied())?;
            }
            FieldEdit::Remove { key } => {
                front_matter::remove(path, &mut doc, key, lines.get(key).copied())?;
            }
            FieldEdit::SetDescription(text) => {
                let new = body::merge_description(&body, text, split.eol);
                if new != *body {
                    body = std::borrow::Cow::Owned(new);
                }
            }
        }
    }

    let new_lf = doc.to_string();
    let front_changed = new_lf != unedited;
    let body_changed = *body != *old_body;
    if !front_changed && !body_changed {
        return Ok(bytes.to_vec());
    }
    let front = if front_changed {
        front_matter::merge_lines(front_raw, &front_lf, &new_lf, split.eol)
    } else {
        front_raw.to_owned()
    };

    let mut out = Vec::with_capacity(bytes.len() + 64);
    out.extend_from_slice(&bytes[..split.bom_len]);
    out.extend_from_slice(&split.text.as_bytes()[..split.front.start]);
    out.extend_from_slice(front.as_bytes());
    out.extend_from_slice(&split.text.as_bytes()[split.front.end..split.body_start]);
    if !split.close_has_newline && !body.is_empty() {
        // The closing `+++` ended the file; a body now follows it on a line of its own.
        out.extend_from_slice(split.eol.as_bytes());
    }
    out.extend_from_slice(body.as_bytes());
    Ok(out)
}

/// The Description section of a Markdown body: the text under the first heading that starts
/// with `## Description`, up to the next `## ` heading; the whole body when there is no such
/// heading. Returned raw (not normalised).
///
/// Lines inside fenced code blocks (```` ``` ````, `~~~`) are not taken for headings, so a
/// `## ` line in a code sample does not cut the section short.
pub fn description_section(body: &str) -> &str {
    body::description_section(body)
}

/// Replaces the Description section's text (see [`description_section`]) with `new_text`,
/// keeping the heading line exactly (e.g. `## Description ✍️`) and every other section. The
/// new section is a blank line, the text and, before a following heading, a blank line, with
/// the body's own line ending (that of its first line). When the body has no Description
/// heading the whole body is the description. When the old and new text are equal after
/// [`normalize_text`], the body comes back unchanged.
pub fn replace_description(body: &str, new_text: &str) -> String {
    body::replace_description(body, new_text, body::detect_eol(body))
}

/// Brings the Description section of `body` to `new_text` by changing only the lines that
/// differ (compared without line endings and trailing white space); every other line keeps
/// its bytes. A `## ` heading in `new_text` becomes `### ` only inside a real Description
/// section. An empty section or an emptied text is replaced whole.
pub fn merge_description(body: &str, new_text: &str) -> String {
    body::merge_description(body, new_text, body::detect_eol(body))
}

/// A text from GitHub as a new Description section holds it: as written ([`as_written`]), its
/// `## ` headings turned into `### ` and an open code block closed, so that it reads back
/// unchanged.
pub fn section_as_written(text: &str) -> String {
    body::section_as_written(text)
}

/// A text as written, for sending: line endings unified to `\n`, the blank lines around it
/// dropped, every other byte kept (a hard line break's trailing spaces included).
pub fn as_written(text: &str) -> String {
    body::as_written(text)
}

/// Normalises text for comparison: `\r\n` and `\r` become `\n`, trailing white space is cut
/// from every line, and leading/trailing blank lines and white space are removed.
///
/// GitHub stores text typed in its web forms with `\r\n`; without this every browser edit
/// would look like a change on every run.
pub fn normalize_text(text: &str) -> String {
    body::normalize_text(text)
}

/// A description in the form the Description section holds it: normalised ([`normalize_text`]),
/// `## ` headings turned into `### ` and an open code block closed, so that it reads back
/// from the file unchanged. Descriptions are compared in this form on both sides.
pub fn section_text(text: &str) -> String {
    body::section_safe(text)
}

/// Reduces a `type` or `status` value to lower-case ASCII letters and digits separated by
/// single spaces, dropping emoji, variation selectors and damaged encodings of them:
/// `"🗺️ Epic"`, `"🗺 Epic"` and `"Epic"` all give `"epic"`.
///
/// Every character that is not an ASCII letter or digit separates words, so mojibake such
/// as `"ðŸŸ¢ Done"` (UTF-8 read as Windows-1252) reduces like the emoji it came from, and
/// `"In-Progress"` matches `"In Progress"`.
pub fn normalize_label(value: &str) -> String {
    value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The statuses that mean a milestone is closed, as [`normalize_label`] reduces them.
pub const CLOSED_STATUSES: [&str; 4] = ["done", "completed", "archived", "closed"];

/// True when `status` is in the closed set: Done, Completed, Archived, Closed (any emoji,
/// any case).
pub fn is_closed_status(status: &str) -> bool {
    let label = normalize_label(status);
    CLOSED_STATUSES.contains(&label.as_str())
}
