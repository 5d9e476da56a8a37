//! Splitting a file into its `+++` fences, TOML front matter and Markdown body.
//!
//! toml_edit rewrites CRLF as LF and always ends with a newline, so the fences, the body and
//! the line endings are handled here, by byte offsets into the original text, and toml_edit
//! only ever sees the front matter.

use std::ops::Range;

use crate::diagnostic::Diagnostic;

/// The UTF-8 byte order mark some Windows editors put at the start of a file.
pub(crate) const BOM: &str = "\u{feff}";

/// A file cut at its fences. All offsets index into `text` (the file without its BOM).
#[derive(Debug)]
pub(crate) struct Split<'a> {
    /// The file without a leading BOM.
    pub text: &'a str,
    /// Length of the BOM that preceded `text` (0 or 3 bytes), kept when writing.
    pub bom_len: usize,
    /// The file's line ending, decided by its first line: `"\r\n"` or `"\n"`.
    pub eol: &'static str,
    /// The front matter between the fence lines (each of its lines keeps its own ending).
    pub front: Range<usize>,
    /// Where the body starts: just after the closing fence line's newline, or the end of the
    /// file when the closing fence is its last line.
    pub body_start: usize,
    /// Whether the closing fence line ends with a newline (it does unless it ends the file).
    pub close_has_newline: bool,
}

impl Split<'_> {
    /// The front matter with CRLF turned into LF: what toml_edit is given. Line numbers and
    /// line counts are the same as in the file.
    pub(crate) fn front_lf(&self) -> String {
        self.text[self.front.clone()].replace("\r\n", "\n")
    }

    pub(crate) fn body(&self) -> &str {
        &self.text[self.body_start..]
    }
}

/// 1-based line of byte `offset` in `text`.
pub(crate) fn line_at(text: &[u8], offset: usize) -> usize {
    1 + text[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count()
}

/// True for a line (without its `\n`) that is a front-matter fence: exactly `+++`, with an
/// optional `\r` left over from a CRLF ending.
fn is_fence(line: &str) -> bool {
    line.strip_suffix('\r').unwrap_or(line) == "+++"
}

/// The line (1-based) of the first fence line after line 1 that opens a block of TOML-looking
/// lines closed by another fence: front matter that is there, just not at the top (a title or
/// a blank line was put above it). `None` when there is no such block.
fn later_fence(text: &str) -> Option<usize> {
    let lines: Vec<&str> = text.split('\n').collect();
    let open = lines.iter().skip(1).position(|l| is_fence(l))? + 1;
    let close = lines[open + 1..].iter().position(|l| is_fence(l))? + open + 1;
    let tomlish = lines[open + 1..close].iter().any(|l| {
        let l = l.trim();
        !l.starts_with('#') && l.contains('=')
    });
    tomlish.then_some(open + 1)
}

/// Checks the encoding and finds the fences. Errors carry the line to look at and the fix.
pub(crate) fn split<'a>(path: &str, bytes: &'a [u8]) -> Result<Split<'a>, Diagnostic> {
    let whole = std::str::from_utf8(bytes).map_err(|e| {
        let line = line_at(bytes, e.valid_up_to());
        Diagnostic::error(
            path,
            Some(line),
            format!(
                "line {line} holds bytes that are not valid UTF-8: save the file with UTF-8 \
                 encoding (IntelliManage files are UTF-8 text)"
            ),
        )
    })?;
    let (text, bom_len) = match whole.strip_prefix(BOM) {
        Some(rest) => (rest, BOM.len()),
        None => (whole, 0),
    };

    let first_end = text.find('\n');
    let first = &text[..first_end.unwrap_or(text.len())];
    if !is_fence(first) {
        if let Some(line) = later_fence(text) {
            return Err(Diagnostic::error(
                path,
                Some(line),
                format!(
                    "the front matter starts on line {line}, but it must start on line 1: move \
                     the `+++` block to the top of the file (nothing, not even a blank line, may \
                     come before it)"
                ),
            ));
        }
        let hint = if first.trim() == "---" {
            " (this looks like YAML front matter; IntelliManage front matter is TOML between \
             `+++` lines)"
        } else if first.trim() == "+++" {
            " (remove the spaces around `+++`)"
        } else {
            ""
        };
        return Err(Diagnostic::error(
            path,
            Some(1),
            format!(
                "no front matter: the file must start with a line holding exactly `+++`, then \
                 the TOML front matter, then another `+++` line{hint}"
            ),
        ));
    }
    let eol = if first.ends_with('\r') { "\r\n" } else { "\n" };
    let unclosed = || {
        Diagnostic::error(
            path,
            Some(1),
            "the front matter opened by the `+++` on line 1 is never closed: add a line \
             holding exactly `+++` after the front matter",
        )
    };
    let Some(first_end) = first_end else {
        return Err(unclosed());
    };

    // toml_edit drops a BOM at the start of its input and never prints it back: one at the
    // start of the front matter stays outside the TOML text, with the opening fence's bytes.
    let front_start = first_end + 1 + if text[first_end + 1..].starts_with(BOM) { BOM.len() } else { 0 };
    let mut pos = first_end + 1;
    while pos < text.len() {
        let end = text[pos..].find('\n').map(|i| pos + i);
        let line = &text[pos..end.unwrap_or(text.len())];
        if is_fence(line) {
            return Ok(Split {
                text,
                bom_len,
                eol,
                front: front_start..pos,
                body_start: end.map_or(text.len(), |e| e + 1),
                close_has_newline: end.is_some(),
            });
        }
        match end {
            Some(e) => pos = e + 1,
            None => break,
        }
    }
    Err(unclosed())
}
