//! Properties of `artifact::parse` and `artifact::edit` over every fixture file: real
//! IntelliManage artifacts and hand-made edge cases (tests/fixtures/intellimanage).
//!
//! - an untouched file prints back byte for byte;
//! - setting one key changes only that key's line, inserting one adds only one line;
//! - removing one key removes only its line;
//! - setting the description changes only the Description section;
//! - broken files are refused with one error on the right line.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use milestone_sync::artifact::{
    self, DueKey, FieldEdit, description_section, is_closed_status, normalize_label, normalize_text,
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/intellimanage")
}

fn md_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(md_files(&path));
        } else if path.extension().is_some_and(|e| e == "md") && !path.ends_with("README.md") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// Every file that must parse: the real ones and `edge/valid`.
fn valid_files() -> Vec<(String, Vec<u8>)> {
    let mut files = md_files(&root().join("rooport-implementation-plan"));
    files.extend(md_files(&root().join("edge/valid")));
    assert!(files.len() >= 30, "fixtures missing: {files:?}");
    files.into_iter().map(|p| (name(&p), std::fs::read(&p).unwrap())).collect()
}

fn name(path: &Path) -> String {
    path.strip_prefix(root()).unwrap().to_string_lossy().replace('\\', "/")
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(root().join(rel)).unwrap()
}

/// Lines split on `\n` only, so a changed line ending shows as a changed line.
fn lines(bytes: &[u8]) -> Vec<&[u8]> {
    bytes.split(|&b| b == b'\n').collect()
}

/// 0-based indices of the lines that differ between two texts of the same line count.
fn differing(old: &[u8], new: &[u8]) -> Vec<usize> {
    let (o, n) = (lines(old), lines(new));
    assert_eq!(o.len(), n.len(), "line count changed");
    (0..o.len()).filter(|&i| o[i] != n[i]).collect()
}

/// The 0-based index of the one line `new` adds to `old`; panics unless that is the only
/// difference.
fn added_line(old: &[u8], new: &[u8]) -> usize {
    let (o, n) = (lines(old), lines(new));
    assert_eq!(o.len() + 1, n.len(), "expected exactly one added line");
    let i = (0..o.len()).find(|&i| o[i] != n[i]).unwrap_or(o.len());
    assert_eq!(o[i..], n[i + 1..], "more than one line changed");
    i
}

fn eol(bytes: &[u8]) -> &'static str {
    let first = lines(bytes)[0];
    if first.ends_with(b"\r") { "\r\n" } else { "\n" }
}

fn set(key: &str, value: &str) -> FieldEdit {
    FieldEdit::SetString { key: key.into(), value: value.into() }
}

/// Keys the sync writes, and values no fixture holds.
const KEYS: [(&str, &str); 8] = [
    ("id", "EPIC-999"),
    ("title", "A \"new\" title \\ with ✨"),
    ("status", "🟢 Done"),
    ("type", "🧭 Other Kind"),
    ("updated_date", "2030-01-02"),
    ("target_date", "2030-03-04"),
    ("milestone_target_date", "2030-05-06"),
    ("related_milestone", "https://github.com/octo/repo/milestone/42"),
];

#[test]
fn untouched_files_print_back_byte_for_byte() {
    for (name, bytes) in valid_files() {
        artifact::parse(&name, &bytes).unwrap_or_else(|d| panic!("{name}: {d:?}"));
        let out = artifact::edit(&name, &bytes, &[]).unwrap();
        assert!(out == bytes, "{name}: round trip changed bytes");
        // Setting every value to what it already is changes nothing either.
        let a = artifact::parse(&name, &bytes).unwrap();
        let same = [set("id", &a.id), set("title", &a.title), FieldEdit::SetDescription(a.description.clone())];
        assert!(artifact::edit(&name, &bytes, &same).unwrap() == bytes, "{name}: no-op edit");
    }
}

#[test]
fn setting_one_key_changes_only_its_line() {
    for (name, bytes) in valid_files() {
        let before = artifact::parse(&name, &bytes).unwrap();
        for (key, value) in KEYS {
            let out =
                artifact::edit(&name, &bytes, &[set(key, value)]).unwrap_or_else(|d| panic!("{name} {key}: {d:?}"));
            let after = artifact::parse(&name, &out).unwrap_or_else(|d| panic!("{name} {key}: {d:?}"));
            match before.key_lines.get(key) {
                Some(&line) => {
                    let changed = differing(&bytes, &out);
                    assert_eq!(changed, [line - 1], "{name} {key}");
                    let new_line = String::from_utf8_lossy(lines(&out)[line - 1]).into_owned();
                    assert!(new_line.starts_with(key), "{name} {key}: {new_line}");
                }
                None => {
                    let i = added_line(&bytes, &out);
                    let new_line = String::from_utf8_lossy(lines(&out)[i]).into_owned();
                    let toml_value = value.replace('\\', "\\\\").replace('"', "\\\"");
                    let expected = format!("{key} = \"{toml_value}\"{}", eol(&bytes).trim_end_matches('\n'));
                    assert_eq!(new_line, expected, "{name} {key}");
                    assert_eq!(after.key_lines[key], i + 1, "{name} {key}");
                    // Inserted inside the front matter, after every top-level key-value.
                    assert!(i + 1 < after.body_line, "{name} {key}");
                    // Removing it again gives back the original bytes.
                    let back = artifact::edit(&name, &out, &[FieldEdit::Remove { key: key.into() }]).unwrap();
                    assert!(back == bytes, "{name} {key}: insert + remove is not identity");
                }
            }
            // The value reads back.
            match key {
                "id" => assert_eq!(after.id, value),
                "title" => assert_eq!(after.title, value),
                "status" => assert_eq!(after.status, value),
                "type" => assert_eq!(after.kind, value),
                "related_milestone" => assert_eq!(after.link.as_deref(), Some(value)),
                "milestone_target_date" => {
                    assert_eq!(after.due, NaiveDate::from_ymd_opt(2030, 5, 6), "{name}");
                    assert_eq!(after.due_key, Some(DueKey::MilestoneTargetDate));
                }
                _ => {}
            }
            // The body is untouched.
            assert_eq!(after.description, before.description, "{name} {key}");
            assert!(out.ends_with(b"\n") == bytes.ends_with(b"\n"), "{name} {key}: final newline");
        }
    }
}

#[test]
fn removing_one_key_removes_only_its_line() {
    for (name, bytes) in valid_files() {
        let before = artifact::parse(&name, &bytes).unwrap();
        for key in ["status", "updated_date", "target_date", "milestone_target_date", "related_milestone"] {
            let Some(&line) = before.key_lines.get(key) else {
                continue;
            };
            let out = artifact::edit(&name, &bytes, &[FieldEdit::Remove { key: key.into() }]).unwrap();
            // The removed key is on one line in every fixture: the old file is the new one
            // plus that line.
            assert_eq!(added_line(&out, &bytes), line - 1, "{name} {key}");
            let after = artifact::parse(&name, &out).unwrap();
            assert!(!after.key_lines.contains_key(key), "{name} {key}");
        }
    }
}

#[test]
fn setting_the_description_changes_only_that_section() {
    for (name, bytes) in valid_files() {
        let text = "New description.\n\nSecond paragraph with `code`.";
        let out = artifact::edit(&name, &bytes, &[FieldEdit::SetDescription(text.into())]).unwrap();
        let after = artifact::parse(&name, &out).unwrap();
        assert_eq!(after.description, text, "{name}");
        let before = artifact::parse(&name, &bytes).unwrap();
        assert_eq!(before.body_line, after.body_line, "{name}: front matter changed");

        // Everything before and after the section is byte-identical.
        let old = String::from_utf8(bytes.clone()).unwrap();
        let new = String::from_utf8(out.clone()).unwrap();
        let (old_body, new_body) = (body(&old), body(&new));
        let old_section = description_section(old_body);
        let new_section = description_section(new_body);
        let old_start = old_section.as_ptr() as usize - old_body.as_ptr() as usize;
        let new_start = new_section.as_ptr() as usize - new_body.as_ptr() as usize;
        if !old_body.is_empty() {
            assert_eq!(old_body[..old_start], new_body[..new_start], "{name}: before the section");
            assert_eq!(
                old_body[old_start + old_section.len()..],
                new_body[new_start + new_section.len()..],
                "{name}: after the section"
            );
        }
        // The fences and front matter are untouched (a file that ended at its closing `+++`
        // gains the newline that ends that line).
        assert!(new.starts_with(&old[..old.len() - old_body.len()]), "{name}: front matter changed");
        // New lines take the body's line ending; lines kept keep their own (a file with mixed
        // endings keeps its mix).
        let e = eol(&bytes);
        if e == "\r\n" && !old_section.replace("\r\n", "").contains('\n') {
            assert!(!new_section.replace("\r\n", "").contains('\n'), "{name}: LF in a CRLF file");
        }
        // Setting it again changes nothing.
        let again = artifact::edit(&name, &out, &[FieldEdit::SetDescription(format!("\r\n{text}\r\n"))]).unwrap();
        assert!(again == out, "{name}: second write changed bytes");
    }
}

/// The body of a file: after the closing fence line.
fn body(text: &str) -> &str {
    let mut seen = 0;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        pos += line.len();
        if line.trim_end_matches(['\r', '\n']).trim_start_matches('\u{feff}') == "+++" {
            seen += 1;
            if seen == 2 {
                return &text[pos..];
            }
        }
    }
    ""
}

#[test]
fn real_files_read_as_expected() {
    let epic = artifact::parse("e.md", &read("rooport-implementation-plan/epics/EPIC-IM-001.md")).unwrap();
    assert_eq!(epic.id, "EPIC-IM-001");
    assert_eq!(epic.title, "Implement IntelliManage Framework v1.0 (with Layered Coordination)");
    assert_eq!(normalize_label(&epic.kind), "epic");
    assert_eq!(normalize_label(&epic.status), "planned");
    assert!(!is_closed_status(&epic.status));
    // `# milestone_target_date = "YYYY-MM-DD"` is commented out: no date, no warning.
    assert_eq!((epic.due, epic.due_key), (None, None));
    assert!(epic.warnings.is_empty());
    assert!(epic.description.starts_with("This Epic covers the complete design"));
    assert!(!epic.description.contains("Acceptance"));
    assert!(!epic.key_lines.contains_key("milestone_name"), "commented out");
    assert_eq!(epic.key_lines["related_docs"], 13);

    for path in md_files(&root().join("rooport-implementation-plan/features")) {
        let a = artifact::parse("f.md", &std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(normalize_label(&a.kind), "feature", "{path:?}");
        assert!(a.id.starts_with("FEAT-IM-"));
        assert!(!a.description.is_empty());
    }
}

#[test]
fn edge_files_read_as_expected() {
    let parse = |rel: &str| artifact::parse(rel, &read(rel)).unwrap_or_else(|d| panic!("{rel}: {d:?}"));

    let a = parse("edge/valid/placeholder-dates.md");
    assert_eq!(a.due, NaiveDate::from_ymd_opt(2026, 5, 31));
    assert_eq!(a.due_key, Some(DueKey::TargetDate));
    assert_eq!(a.warnings.len(), 1);
    assert_eq!(a.warnings[0].line, Some(11));

    let a = parse("edge/valid/tbd-date.md");
    assert_eq!((a.due, a.due_key), (None, Some(DueKey::MilestoneTargetDate)));
    assert_eq!(a.warnings.iter().map(|w| w.line).collect::<Vec<_>>(), [Some(7), Some(8)]);

    let a = parse("edge/valid/damaged-emoji.md");
    assert_eq!(normalize_label(&a.kind), "epic");
    assert!(is_closed_status(&a.status));

    let a = parse("edge/valid/comments-and-tables.md");
    assert_eq!(a.title, "Spacing, comments and tables");
    assert_eq!(normalize_label(&a.kind), "epic");
    assert!(is_closed_status(&a.status));
    assert_eq!(a.due, NaiveDate::from_ymd_opt(2026, 7, 1));
    assert_eq!(a.link.as_deref(), Some("https://github.com/octo/repo/milestone/7"));
    assert!(a.description.contains("## Not a heading"), "{}", a.description);
    assert!(a.description.ends_with("More text after the code block."));

    let crlf = parse("edge/valid/crlf.md");
    let bom = parse("edge/valid/crlf-bom-no-final-newline.md");
    assert_eq!((crlf.id.as_str(), crlf.description.as_str()), (bom.id.as_str(), bom.description.as_str()));
    assert_eq!(crlf.description, "Text written on Windows.\nSecond line.");

    let a = parse("edge/valid/no-description-heading.md");
    assert_eq!(a.description, "The whole body is the description.\nIt has two lines.");
    assert_eq!(a.link, None);

    let a = parse("edge/valid/quotes-and-escapes.md");
    assert_eq!(a.title, "Say \"hello\" \\ with a backslash and a tab\t");
    assert!(is_closed_status(&a.status));

    assert_eq!(normalize_text(&parse("edge/valid/empty-body.md").description), "");

    // Damaged emoji still read as what they mean, with a warning that says the repair.
    let a = parse("edge/valid/damaged-emoji.md");
    assert!(is_closed_status(&a.status));
    assert_eq!(normalize_label(&a.kind), "epic");
    let warned: Vec<(Option<usize>, &str)> = a.warnings.iter().map(|w| (w.line, w.message.as_str())).collect();
    assert_eq!(warned.len(), 2, "{warned:?}");
    assert!(warned[0].0 == Some(4) && warned[0].1.contains("write `status = \"🟢 Done\"`"), "{warned:?}");
    assert!(warned[1].0 == Some(5) && warned[1].1.contains("write `type = \"🗺 Epic\"`"), "{warned:?}");
}

#[test]
fn broken_files_are_refused_on_the_right_line() {
    let cases = [
        ("no-opening-fence.md", 1, "exactly `+++`"),
        ("front-matter-not-at-top.md", 3, "starts on line 3, but it must start on line 1"),
        ("yaml-front-matter.md", 1, "YAML"),
        ("no-closing-fence.md", 1, "add a line holding exactly `+++` after the front matter"),
        ("broken-toml.md", 4, "not valid TOML"),
        ("duplicate-key.md", 4, "duplicate key"),
        ("missing-id.md", 1, "no `id`"),
        ("non-string-title.md", 3, "must be a string"),
        ("non-utf8.md", 3, "UTF-8"),
    ];
    let files = md_files(&root().join("edge/invalid"));
    assert_eq!(files.len(), cases.len(), "every invalid fixture has a case");
    for (file, line, text) in cases {
        let rel = format!("edge/invalid/{file}");
        let d = artifact::parse(&rel, &read(&rel)).expect_err(&rel);
        assert_eq!(d.line, Some(line), "{rel}: {}", d.message);
        assert_eq!(d.file.as_deref(), Some(rel.as_str()));
        assert!(d.message.contains(text), "{rel}: {}", d.message);
        // Editing is refused the same way, except where only `id`/`title` is wrong.
        if !matches!(file, "missing-id.md" | "non-string-title.md") {
            assert_eq!(artifact::edit(&rel, &read(&rel), &[]).unwrap_err(), d, "{rel}");
        }
    }
}
