//! IntelliManage artifacts: reading the TOML front matter and body of an Epic or Feature
//! file, and editing it format-preservingly.
//!
//! A file is `+++`, TOML front matter, `+++`, then a Markdown body. Reading produces a plain
//! [`Artifact`]; editing changes only the values named in a [`FieldEdit`] and keeps every
//! other byte (comments, key order, line endings, a missing final newline) as it was.

use chrono::NaiveDate;

use crate::diagnostic::Diagnostic;

/// Front-matter keys this crate reads or writes.
pub mod keys {
    pub const ID: &str = "id";
    pub const TITLE: &str = "title";
    pub const STATUS: &str = "status";
    pub const TYPE: &str = "type";
    pub const UPDATED_DATE: &str = "updated_date";
    pub const TARGET_DATE: &str = "target_date";
    pub const MILESTONE_TARGET_DATE: &str = "milestone_target_date";
    pub const RELATED_MILESTONE: &str = "related_milestone";
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// The Description section's text (see [`description_section`]), normalised with
    /// [`normalize_text`].
    pub description: String,
    /// The due date: `milestone_target_date`, else `target_date`. `None` when neither holds a
    /// real date (absent, placeholder or unparsable; the latter two add a warning).
    pub due: Option<NaiveDate>,
    /// The key that supplied `due`, or that holds a placeholder/unparsable date.
    pub due_key: Option<DueKey>,
    /// `related_milestone`, when present and non-empty.
    pub link: Option<String>,
    /// Warnings met while reading (placeholder dates, …), with their lines.
    pub warnings: Vec<Diagnostic>,
}

/// One change to make to a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldEdit {
    /// Set a top-level string key; insert it after the last top-level key when absent.
    /// An existing value's trailing comment and surrounding spacing are kept.
    SetString { key: String, value: String },
    /// Remove a top-level key (and only its line).
    Remove { key: String },
    /// Replace the Description section's text; the heading and all other sections stay.
    SetDescription(String),
}

/// Reads an artifact. `path` is only used in messages and copied into the result.
///
/// Errors (one diagnostic, with the line where it applies and how to fix it): no opening or
/// closing `+++`, front matter that is not valid TOML, bytes that are not UTF-8, a missing or
/// non-string `id` or `title`.
pub fn parse(path: &str, bytes: &[u8]) -> Result<Artifact, Diagnostic> {
    let _ = (path, bytes);
    todo!()
}

/// Applies `edits` to the file's bytes and returns the new bytes. Everything not named by an
/// edit stays byte for byte, line endings (LF or CRLF) and the presence or absence of a final
/// newline included.
pub fn edit(path: &str, bytes: &[u8], edits: &[FieldEdit]) -> Result<Vec<u8>, Diagnostic> {
    let _ = (path, bytes, edits);
    todo!()
}

/// The Description section of a Markdown body: the text under the first heading that starts
/// with `## Description`, up to the next `## ` heading; the whole body when there is no such
/// heading. Returned raw (not normalised).
pub fn description_section(body: &str) -> &str {
    let _ = body;
    todo!()
}

/// Normalises text for comparison: `\r\n` and `\r` become `\n`, trailing white space is cut
/// from every line, and leading/trailing blank lines and white space are removed.
pub fn normalize_text(text: &str) -> String {
    let _ = text;
    todo!()
}

/// Reduces a `type` or `status` value to lower-case ASCII letters and digits separated by
/// single spaces, dropping emoji, variation selectors and damaged encodings of them:
/// `"🗺️ Epic"`, `"🗺 Epic"` and `"Epic"` all give `"epic"`.
pub fn normalize_label(value: &str) -> String {
    let _ = value;
    todo!()
}

/// True when `status` is in the closed set: Done, Completed, Archived, Closed (any emoji,
/// any case).
pub fn is_closed_status(status: &str) -> bool {
    let _ = status;
    todo!()
}
