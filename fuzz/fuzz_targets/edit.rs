//! The front-matter editor: one edit of one key (or of the Description) on any file; no
//! panic, and only that field's bytes differ.
//!
//! Input: byte 0 picks the edit (set, remove, set the Description), byte 1 the key, byte 2
//! the length of the value that follows; the rest is the file. scripts/fuzz.sh makes seeds
//! of that shape from the fixture files.

#![no_main]

use libfuzzer_sys::fuzz_target;
use milestone_sync_core::artifact::{self, FieldEdit, keys};
use milestone_sync_fuzz::{Fenced, KEYS, KeyAt, PATH, fenced, has_structure, key_at, lines};

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let key = KEYS[usize::from(data[1]) % KEYS.len()];
    let len = usize::from(data[2]).min(data.len() - 3);
    let value = String::from_utf8_lossy(&data[3..3 + len]).into_owned();
    let file = &data[3 + len..];
    let edit = match data[0] % 3 {
        0 => FieldEdit::SetString { key: key.into(), value: value.clone() },
        1 => FieldEdit::Remove { key: key.into() },
        _ => FieldEdit::SetDescription(value.clone()),
    };
    let result = artifact::edit(PATH, file, std::slice::from_ref(&edit));
    let Some(f) = fenced(file) else {
        assert!(result.is_err(), "edited a file without fences");
        return;
    };
    let Some(at) = key_at(file, &f, key) else {
        assert!(result.is_err(), "edited a file whose front matter is not TOML");
        return;
    };
    match edit {
        FieldEdit::SetDescription(text) => description(file, &f, &text, &result.expect("a Description edit")),
        FieldEdit::SetString { .. } => set(file, &f, key, &value, &at, result),
        FieldEdit::Remove { .. } => remove(file, key, &at, result),
    }
});

/// Setting a key: its line(s) become one line holding the new value, with the key, the
/// spacing and any trailing comment as they were; or, when absent, one line is inserted in
/// the front matter. Nothing else changes, and the value reads back.
fn set(file: &[u8], f: &Fenced, key: &str, value: &str, at: &KeyAt, result: Result<Vec<u8>, impl std::fmt::Debug>) {
    let old = lines(file);
    let out = match (at, result) {
        (KeyAt::Table, r) => return assert!(r.is_err(), "set {key}, a table"),
        (_, Err(e)) => panic!("set {key}: {e:?}"),
        (_, Ok(out)) => out,
    };
    let new = lines(&out);
    match at {
        KeyAt::Table => unreachable!(),
        KeyAt::Value { as_str: Some(s), .. } if s == value => {
            assert!(out == file, "setting {key} to its own value changed the file");
            return;
        }
        KeyAt::Value { line, last_line, value: span, .. } => {
            assert_eq!(new[..*line], old[..*line], "set {key}: lines before it changed");
            assert_eq!(new[line + 1..], old[last_line + 1..], "set {key}: lines after it changed");
            let line_start: usize = old[..*line].iter().map(|l| l.len()).sum();
            let last_end: usize = old[..=*last_line].iter().map(|l| l.len()).sum();
            let before = &file[line_start..span.start];
            let after = &file[span.end..last_end];
            let after = after.strip_suffix(b"\n").unwrap_or(after);
            let after = after.strip_suffix(b"\r").unwrap_or(after);
            let written = new[*line];
            assert!(
                written.starts_with(before),
                "set {key}: the key or spacing changed: {:?}",
                String::from_utf8_lossy(written)
            );
            let body = written.strip_suffix(f.eol).expect("the file's line ending");
            assert!(
                body.ends_with(after),
                "set {key}: the trailing comment changed: {:?}",
                String::from_utf8_lossy(written)
            );
        }
        KeyAt::Absent => {
            assert_eq!(new.len(), old.len() + 1, "set {key}: one line inserted");
            let i = (0..old.len()).find(|&i| old[i] != new[i]).unwrap_or(old.len());
            assert_eq!(new[i + 1..], old[i..], "set {key}: more than one line changed");
            assert!(i > 0 && i <= f.close_line, "set {key}: inserted outside the front matter, at line {i}");
            assert!(
                new[i].starts_with(format!("{key} = \"").as_bytes()) && new[i].ends_with(f.eol),
                "{:?}",
                String::from_utf8_lossy(new[i])
            );
        }
    }
    // The value reads back.
    let g = fenced(&out).expect("still fenced");
    match key_at(&out, &g, key) {
        Some(KeyAt::Value { as_str: Some(s), .. }) => assert_eq!(s, value, "set {key}: reads back"),
        other => panic!("set {key}: reads back as {other:?}"),
    }
    if let Ok(a) = artifact::parse(PATH, &out) {
        match key {
            keys::ID => assert_eq!(a.id, value),
            keys::TITLE => assert_eq!(a.title, value),
            keys::STATUS => assert_eq!(a.status, value),
            keys::TYPE => assert_eq!(a.kind, value),
            _ => {}
        }
    }
}

/// Removing a key removes exactly its line(s).
fn remove(file: &[u8], key: &str, at: &KeyAt, result: Result<Vec<u8>, impl std::fmt::Debug>) {
    match (at, result) {
        (KeyAt::Table, r) => assert!(r.is_err(), "removed {key}, a table"),
        (_, Err(e)) => panic!("remove {key}: {e:?}"),
        (KeyAt::Absent, Ok(out)) => assert!(out == file, "removing an absent {key} changed the file"),
        (KeyAt::Value { line, last_line, .. }, Ok(out)) => {
            let old = lines(file);
            let mut expected: Vec<u8> = old[..*line].concat();
            expected.extend(old[last_line + 1..].concat());
            assert!(out == expected, "remove {key}: more than its lines changed:\n{}", String::from_utf8_lossy(&out));
        }
    }
}

/// Setting the Description changes only the Description section of the body, and the text
/// reads back (when it holds no heading or code fence of its own).
fn description(file: &[u8], f: &Fenced, text: &str, out: &[u8]) {
    assert!(out.starts_with(&file[..f.body_start]), "the front matter changed");
    let body = std::str::from_utf8(&file[f.body_start..]).unwrap();
    let section = artifact::description_section(body);
    let start = section.as_ptr() as usize - body.as_ptr() as usize;
    let (before, after) = (&body[..start], &body[start + section.len()..]);
    // The closing fence may have ended the file: a line ending then follows it.
    let mut new_body = &out[f.body_start..];
    if file.len() == f.body_start && !file.ends_with(b"\n") {
        new_body = new_body.strip_prefix(f.eol).unwrap_or(new_body);
    }
    assert!(new_body.starts_with(before.as_bytes()), "text before the Description changed");
    assert!(new_body.ends_with(after.as_bytes()), "text after the Description changed");
    if artifact::normalize_text(section) == artifact::normalize_text(text) {
        assert!(out == file, "the same Description rewrote the file");
    }
    if !has_structure(text) {
        let a = artifact::parse(PATH, out);
        if let (Ok(a), Ok(_)) = (a, artifact::parse(PATH, file)) {
            assert_eq!(
                artifact::normalize_text(&a.description),
                artifact::normalize_text(text),
                "the Description reads back"
            );
        }
    }
}
