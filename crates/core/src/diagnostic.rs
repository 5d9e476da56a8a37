//! Messages about a place in the workspace: what is wrong, where, and how to fix it.
//!
//! Readers and the planner produce them as plain values; `report` turns them into
//! workflow-command annotations (`::error file=…,line=…::…`), log lines and summary rows.

use serde::Serialize;

/// How serious a diagnostic is; maps one-to-one onto GitHub's annotation levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Notice,
    Warning,
    Error,
}

/// One message, optionally tied to a file (workspace-relative, `/`-separated) and a line
/// (1-based, counted in the whole file, front-matter fences included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub level: Level,
    pub file: Option<String>,
    pub line: Option<usize>,
    pub message: String,
}

impl Diagnostic {
    pub fn error(file: impl Into<String>, line: Option<usize>, message: impl Into<String>) -> Self {
        Self { level: Level::Error, file: Some(file.into()), line, message: message.into() }
    }
    pub fn warning(file: impl Into<String>, line: Option<usize>, message: impl Into<String>) -> Self {
        Self { level: Level::Warning, file: Some(file.into()), line, message: message.into() }
    }
    pub fn notice(message: impl Into<String>) -> Self {
        Self { level: Level::Notice, file: None, line: None, message: message.into() }
    }
    /// A run-level message that belongs to no file.
    pub fn general(level: Level, message: impl Into<String>) -> Self {
        Self { level, file: None, line: None, message: message.into() }
    }
}
