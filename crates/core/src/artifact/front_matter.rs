//! The TOML front matter: reading values with their lines, and format-preserving edits.

use chrono::NaiveDate;
use toml_edit::{Document, DocumentMut, Item, Key, KeyMut, RawString, Table, TomlError, Value};

use super::fences::line_at;
use super::{DueKey, KeyLines};
use crate::diagnostic::Diagnostic;

/// Turns toml_edit's error into one diagnostic on the file line where the error is.
/// `front_lf` is the front matter text toml_edit was given; its line 1 is file line 2.
fn toml_error(path: &str, front_lf: &str, err: &TomlError) -> Diagnostic {
    let offset = err.span().map_or(0, |s| s.start).min(front_lf.len());
    let line = line_at(front_lf.as_bytes(), offset) + 1;
    let line_start = front_lf[..offset].rfind('\n').map_or(0, |i| i + 1);
    let column = front_lf[line_start..offset].chars().count() + 1;
    let what = err.message().lines().next().unwrap_or("syntax error").trim();
    Diagnostic::error(
        path,
        Some(line),
        format!(
            "the front matter is not valid TOML (line {line}, column {column}: {what}): fix \
             that line, e.g. quote text values as `key = \"value\"` and write each key once"
        ),
    )
}

/// Parses the front matter keeping spans (for reading and line numbers).
pub(crate) fn parse_spanned(path: &str, front_lf: &str) -> Result<Document<String>, Diagnostic> {
    Document::parse(front_lf.to_owned()).map_err(|e| toml_error(path, front_lf, &e))
}

/// Parses the front matter for editing.
pub(crate) fn parse_mut(path: &str, front_lf: &str) -> Result<DocumentMut, Diagnostic> {
    front_lf.parse::<DocumentMut>().map_err(|e| toml_error(path, front_lf, &e))
}

/// File line (1-based, the opening fence is line 1) of every top-level key.
pub(crate) fn key_lines(doc: &Document<String>, front_lf: &str) -> KeyLines {
    doc.as_table()
        .iter()
        .filter_map(|(name, _)| {
            let (key, _) = doc.as_table().get_key_value(name)?;
            let start = key.span()?.start;
            Some((name, line_at(front_lf.as_bytes(), start) + 1))
        })
        .collect()
}

/// How a top-level string key reads.
pub(crate) enum StrRead<'a> {
    Absent,
    Str(&'a str),
    /// Present but not a string; holds TOML's name for what it is.
    NotStr(&'static str),
}

pub(crate) fn read_str<'a>(table: &'a Table, key: &str) -> StrRead<'a> {
    match table.get(key) {
        None | Some(Item::None) => StrRead::Absent,
        Some(Item::Value(Value::String(s))) => StrRead::Str(s.value()),
        Some(Item::Value(v)) => StrRead::NotStr(v.type_name()),
        Some(Item::Table(_)) => StrRead::NotStr("table"),
        Some(Item::ArrayOfTables(_)) => StrRead::NotStr("array of tables"),
    }
}

/// How a date key reads.
pub(crate) enum DateRead {
    Absent,
    Date(NaiveDate),
    /// A placeholder or a value that is not a date; holds the warning's explanation.
    Bad(String),
}

/// True for a template placeholder rather than a mistyped date: empty, or holding letters
/// (`"YYYY-MM-DD"`, `"TBD"`, `"next sprint"`).
fn is_placeholder(s: &str) -> bool {
    s.trim().is_empty() || s.chars().any(char::is_alphabetic)
}

/// Parses `"YYYY-MM-DD"` exactly (four-digit year, two-digit month and day).
pub(crate) fn parse_ymd(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter().enumerate().all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

pub(crate) fn read_date(table: &Table, key: &str) -> DateRead {
    match table.get(key) {
        None | Some(Item::None) => DateRead::Absent,
        Some(Item::Value(Value::String(s))) => {
            let raw = s.value();
            let trimmed = raw.trim();
            if is_placeholder(trimmed) {
                DateRead::Bad(format!("holds the placeholder {raw:?}, not a date"))
            } else if let Some(date) = parse_ymd(trimmed) {
                DateRead::Date(date)
            } else {
                DateRead::Bad(format!("holds {raw:?}, which is not a valid YYYY-MM-DD date"))
            }
        }
        // An unquoted TOML local date (`target_date = 2026-05-31`) is a date too.
        Some(Item::Value(Value::Datetime(dt))) => {
            let dt = dt.value();
            match (dt.date, dt.time, dt.offset) {
                (Some(d), None, None) => match NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into()) {
                    Some(date) => DateRead::Date(date),
                    None => DateRead::Bad(format!("holds {d}, which is not a valid date")),
                },
                _ => DateRead::Bad(format!("holds the date-time {dt}, not a plain date")),
            }
        }
        Some(other) => DateRead::Bad(format!("holds a {}, not a date", other.type_name())),
    }
}

/// The due date and the key that supplied it, with warnings for placeholder or bad dates in
/// the keys that were consulted: `milestone_target_date` first; `target_date` only when
/// `milestone_target_date` holds no real date.
pub(crate) fn read_due(
    path: &str,
    table: &Table,
    lines: &KeyLines,
    warnings: &mut Vec<Diagnostic>,
) -> (Option<NaiveDate>, Option<DueKey>) {
    let mut warn = |key: DueKey, why: String| {
        let name = key.key();
        warnings.push(Diagnostic::warning(
            path,
            lines.get(name).copied(),
            format!(
                "`{name}` {why}, so it sets no due date: write the date as \"2026-05-31\" or \
                 remove the key"
            ),
        ));
    };
    let mtd = read_date(table, DueKey::MilestoneTargetDate.key());
    if let DateRead::Date(d) = mtd {
        return (Some(d), Some(DueKey::MilestoneTargetDate));
    }
    let mtd_present = matches!(mtd, DateRead::Bad(_));
    if let DateRead::Bad(why) = mtd {
        warn(DueKey::MilestoneTargetDate, why);
    }
    match read_date(table, DueKey::TargetDate.key()) {
        DateRead::Date(d) => (Some(d), Some(DueKey::TargetDate)),
        DateRead::Bad(why) => {
            warn(DueKey::TargetDate, why);
            let key = if mtd_present { DueKey::MilestoneTargetDate } else { DueKey::TargetDate };
            (None, Some(key))
        }
        DateRead::Absent => (None, mtd_present.then_some(DueKey::MilestoneTargetDate)),
    }
}

/// A TOML basic (double-quoted) string holding `s`, escaped as TOML requires. toml_edit's
/// own `Value::from` picks a literal `'…'` string when `s` holds a quote; files use `"…"`.
pub(crate) fn basic_string(s: &str) -> Value {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c <= '\u{1f}' || c == '\u{7f}' => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    let mut value: Value = out.parse().expect("an escaped basic string is valid TOML");
    value.decor_mut().clear();
    value
}

/// Sets a top-level string key. An existing value keeps its decor (the spacing around it
/// and its trailing `# comment`, which toml_edit would otherwise drop); an absent key is
/// appended after the last top-level key-value, before any comments or `[table]` that
/// follow it.
pub(crate) fn set_string(
    path: &str,
    doc: &mut DocumentMut,
    key: &str,
    value: &str,
    line: Option<usize>,
) -> Result<(), Diagnostic> {
    let root = doc.as_table_mut();
    match root.get_mut(key) {
        Some(Item::Value(old)) => {
            if old.as_str() == Some(value) {
                return Ok(());
            }
            let mut new = basic_string(value);
            *new.decor_mut() = old.decor().clone();
            *old = new;
            Ok(())
        }
        None | Some(Item::None) => {
            root.insert(key, Item::Value(basic_string(value)));
            Ok(())
        }
        Some(other) => Err(not_a_value(path, key, other.type_name(), line)),
    }
}

fn not_a_value(path: &str, key: &str, what: &str, line: Option<usize>) -> Diagnostic {
    Diagnostic::error(
        path,
        line,
        format!(
            "`{key}` is a {what} here, but the sync keeps a plain value under this name: \
             rename the table or make `{key}` a top-level `{key} = \"…\"` line"
        ),
    )
}

/// Removes a top-level key's line. Comment lines and blank lines above the key (toml_edit
/// stores them as the key's prefix) are kept: they move to whatever follows the removed
/// line (the next key, the next `[table]` header, or the document's trailing text).
pub(crate) fn remove(path: &str, doc: &mut DocumentMut, key: &str, line: Option<usize>) -> Result<(), Diagnostic> {
    let root = doc.as_table_mut();
    let Some(index) = root.iter().position(|(k, _)| k == key) else {
        return Ok(());
    };
    match root.get(key) {
        Some(Item::Value(_)) | Some(Item::None) => {}
        Some(other) => return Err(not_a_value(path, key, other.type_name(), line)),
        None => return Ok(()),
    }
    let Some((removed, _)) = root.remove_entry(key) else {
        return Ok(());
    };
    let prefix = raw(removed.leaf_decor().prefix());
    if prefix.is_empty() {
        return Ok(());
    }
    // The next top-level key-value (plain or dotted, `a.b = 1`), if any, follows the
    // removed line directly.
    let next_value = root
        .iter_mut()
        .skip(index)
        .find(|(_, item)| item.is_value() || item.as_table().is_some_and(Table::is_dotted))
        .map(|(key, item)| prepend_to_leaf(key, item, &prefix));
    if next_value.is_some() {
        return Ok(());
    }
    // Otherwise the first `[table]` header follows, or the document's trailing text.
    if let Some(first) = first_table_mut(doc.as_table_mut()) {
        let decor = first.decor_mut();
        let joined = format!("{prefix}{}", raw(decor.prefix()));
        decor.set_prefix(joined);
    } else {
        let joined = format!("{prefix}{}", doc.trailing().as_str().unwrap_or(""));
        doc.set_trailing(joined);
    }
    Ok(())
}

/// Puts `prefix` in front of the comments printed before the key-value line of `key =
/// item`. For a dotted key (`a.b = 1`) toml_edit prints the last part's prefix, so the
/// prefix goes to the first leaf of the dotted table.
fn prepend_to_leaf(mut key: KeyMut<'_>, item: &mut Item, prefix: &str) {
    match item {
        Item::Table(t) if t.is_dotted() => {
            if let Some((k, i)) = t.iter_mut().next() {
                prepend_to_leaf(k, i, prefix);
            }
        }
        _ => {
            let decor = key.leaf_decor_mut();
            let joined = format!("{prefix}{}", raw(decor.prefix()));
            decor.set_prefix(joined);
        }
    }
}

/// The text of a decor part: empty when absent (default decor) or not owned.
fn raw(part: Option<&RawString>) -> String {
    part.and_then(RawString::as_str).unwrap_or("").to_owned()
}

/// The explicit `[table]` (or `[[array]]` entry) printed first, i.e. with the lowest
/// document position: the one right after the top-level key-values.
fn first_table_mut(root: &mut Table) -> Option<&mut Table> {
    fn min_position(table: &Table, best: &mut Option<isize>) {
        for (_, item) in table.iter() {
            let tables: Vec<&Table> = match item {
                Item::Table(t) => vec![t],
                Item::ArrayOfTables(a) => a.iter().collect(),
                _ => continue,
            };
            for t in tables {
                if !t.is_implicit() && !t.is_dotted() {
                    if let Some(p) = t.position() {
                        *best = Some(best.map_or(p, |b| b.min(p)));
                    }
                }
                min_position(t, best);
            }
        }
    }
    fn find(table: &mut Table, pos: isize) -> Option<&mut Table> {
        for (_, item) in table.iter_mut() {
            let tables: Vec<&mut Table> = match item {
                Item::Table(t) => vec![t],
                Item::ArrayOfTables(a) => a.iter_mut().collect(),
                _ => continue,
            };
            for t in tables {
                if !t.is_implicit() && !t.is_dotted() && t.position() == Some(pos) {
                    return Some(t);
                }
                if let Some(found) = find(t, pos) {
                    return Some(found);
                }
            }
        }
        None
    }
    let mut best = None;
    min_position(root, &mut best);
    find(root, best?)
}

/// Rebuilds the front matter's bytes after an edit: lines the edit left alone keep their
/// original bytes (their own line endings included); changed or new lines get `eol`.
/// `old_raw` is the original front matter, `old_lf` the same with CRLF turned into LF (so
/// the two have the same lines), `new_lf` what toml_edit printed after the edit.
pub(crate) fn merge_lines(old_raw: &str, old_lf: &str, new_lf: &str, eol: &str) -> String {
    let raw: Vec<&str> = old_raw.split_inclusive('\n').collect();
    let old: Vec<&str> = old_lf.split_inclusive('\n').collect();
    let new: Vec<&str> = new_lf.split_inclusive('\n').collect();
    debug_assert_eq!(raw.len(), old.len());

    // Longest common subsequence of lines; front matter is small, so O(n·m) is fine.
    let (n, m) = (old.len(), new.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if old[i] == new[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let mut out = String::with_capacity(new_lf.len() + new.len());
    let push_new = |out: &mut String, line: &str| match line.strip_suffix('\n') {
        Some(content) => {
            out.push_str(content);
            out.push_str(eol);
        }
        None => out.push_str(line),
    };
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if old[i] == new[j] {
            out.push_str(raw[i]);
            i += 1;
            j += 1;
        } else if lcs[i + 1][j] >= lcs[i][j + 1] {
            i += 1;
        } else {
            push_new(&mut out, new[j]);
            j += 1;
        }
    }
    for line in &new[j..] {
        push_new(&mut out, line);
    }
    out
}

/// Used by tests and callers that only need one key's line.
pub(crate) fn key_line(front_lf: &str, key: &str) -> Option<usize> {
    let doc = Document::parse(front_lf.to_owned()).ok()?;
    let (k, _): (&Key, _) = doc.as_table().get_key_value(key)?;
    Some(line_at(front_lf.as_bytes(), k.span()?.start) + 1)
}
