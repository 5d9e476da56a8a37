//! The fuzz targets' oracle: an independent, deliberately plain reading of an artifact file
//! (fences, lines, the front matter's key and value positions), against which the reader's
//! and editor's results are checked. It shares no code with `milestone_sync_core::artifact`, so a
//! bug there is not mirrored here.

use std::ops::Range;

use toml_edit::{Document, Item};

/// The path every target uses in messages.
pub const PATH: &str = ".ruru/projects/fuzz/epics/EPIC-001_fuzz.md";

/// Keys the edit target sets and removes: the ones the sync writes, and one that is often an
/// array or table in real files.
pub const KEYS: [&str; 10] = [
    "id",
    "title",
    "status",
    "type",
    "updated_date",
    "target_date",
    "milestone_target_date",
    "related_milestone",
    "milestone_sync_base",
    "tags",
];

/// Lines split after each `\n` (the `\n`, and any `\r` before it, stay on the line).
pub fn lines(bytes: &[u8]) -> Vec<&[u8]> {
    bytes.split_inclusive(|&b| b == b'\n').collect()
}

/// The number of lines a file has, as an editor counts them (at least 1).
pub fn line_count(bytes: &[u8]) -> usize {
    lines(bytes).len().max(1)
}

/// A file cut at its fences, by the plain rule: optional BOM, a first line that is exactly
/// `+++` (CRLF allowed), the front matter, the next line that is exactly `+++`.
#[derive(Debug, Clone)]
pub struct Fenced {
    /// Byte offset (in the whole file) where the front matter starts.
    pub front: Range<usize>,
    /// 0-based index of the first front-matter line (the opening fence is index `first - 1`).
    pub first_line: usize,
    /// 0-based index of the closing fence line.
    pub close_line: usize,
    /// Byte offset where the body starts.
    pub body_start: usize,
    /// The file's line ending, by its first line.
    pub eol: &'static [u8],
}

fn is_fence(line: &[u8]) -> bool {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line == b"+++"
}

pub fn fenced(bytes: &[u8]) -> Option<Fenced> {
    std::str::from_utf8(bytes).ok()?;
    let bom = if bytes.starts_with("\u{feff}".as_bytes()) { 3 } else { 0 };
    let ls = lines(&bytes[bom..]);
    let first = ls.first()?;
    if !is_fence(first) || !first.ends_with(b"\n") {
        return None;
    }
    let eol: &'static [u8] = if first.ends_with(b"\r\n") { b"\r\n" } else { b"\n" };
    let close = ls.iter().skip(1).position(|l| is_fence(l))? + 1;
    let start_of = |i: usize| bom + ls[..i].iter().map(|l| l.len()).sum::<usize>();
    Some(Fenced {
        front: start_of(1)..start_of(close),
        first_line: 1,
        close_line: close,
        body_start: start_of(close + 1),
        eol,
    })
}

/// Where a top-level key of the front matter stands, in 0-based file lines, and what it is.
#[derive(Debug, Clone)]
pub enum KeyAt {
    Absent,
    /// A `[table]`, `[[array]]` or dotted key (`key.x = 1`): not a plain value.
    Table,
    /// A plain value: the key's line, the value's last line, and byte offsets (in the whole
    /// file) of the value's first and one-past-last byte.
    Value {
        line: usize,
        last_line: usize,
        value: Range<usize>,
        as_str: Option<String>,
    },
}

/// Reads `key` from the front matter with toml_edit's spans. `None` when the front matter is
/// not valid TOML.
pub fn key_at(bytes: &[u8], f: &Fenced, key: &str) -> Option<KeyAt> {
    let raw = std::str::from_utf8(&bytes[f.front.clone()]).ok()?;
    // Offsets in the LF text map back to the file by counting the `\r`s dropped before them.
    let lf = raw.replace("\r\n", "\n");
    let doc = Document::parse(lf.clone()).ok()?;
    let Some((k, item)) = doc.as_table().get_key_value(key) else { return Some(KeyAt::Absent) };
    let Item::Value(v) = item else { return Some(KeyAt::Table) };
    let to_file = |lf_offset: usize| {
        let mut crs = 0;
        let mut seen = 0;
        for (i, b) in raw.bytes().enumerate() {
            if seen == lf_offset {
                return f.front.start + i;
            }
            if b == b'\r' && raw.as_bytes().get(i + 1) == Some(&b'\n') {
                crs += 1;
                continue;
            }
            seen += 1;
        }
        f.front.start + lf_offset + crs
    };
    let line_of = |lf_offset: usize| f.first_line + lf[..lf_offset].matches('\n').count();
    let (ks, vs) = (k.span()?, v.span()?);
    Some(KeyAt::Value {
        line: line_of(ks.start),
        last_line: line_of(vs.end),
        value: to_file(vs.start)..to_file(vs.end),
        as_str: v.as_str().map(str::to_owned),
    })
}

/// True when `text` has a line that the body reader takes for a heading or a code fence: such
/// text, once written as the Description, cannot read back as the same section.
pub fn has_structure(text: &str) -> bool {
    text.split(['\n', '\r']).any(|l| {
        let t = l.trim_start_matches(' ');
        l.starts_with("## ") || (l.len() - t.len() <= 3 && (t.starts_with("```") || t.starts_with("~~~")))
    })
}
