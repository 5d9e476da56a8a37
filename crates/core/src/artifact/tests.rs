//! Unit tests for reading and editing artifacts, one rule each.

use super::*;
use crate::diagnostic::Level;

const EPIC: &str = "+++
# --- Epic Metadata ---
id = \"EPIC-001\"
title = \"Launch\" # the title
status = \"🔵 In Progress\"
type = \"🗺️ Epic\"
updated_date = \"2025-04-28\" # Use current date
target_date = \"2026-05-31\"
# owner = \"Development Team\"
tags = [
    \"a\", # first
    \"b\",
]
# milestone_name = \"Later\"
+++

# EPIC: Launch

## Description ✍️

Ship it.

## Acceptance Criteria ✅

* done
";

fn ok(src: &str) -> Artifact {
    parse("x.md", src.as_bytes()).expect("parses")
}

fn err(src: &[u8]) -> Diagnostic {
    let d = parse("x.md", src).expect_err("refused");
    assert_eq!(d.level, Level::Error);
    assert_eq!(d.file.as_deref(), Some("x.md"));
    d
}

fn edited(src: &str, edits: &[FieldEdit]) -> String {
    String::from_utf8(edit("x.md", src.as_bytes(), edits).expect("edits")).unwrap()
}

fn set(key: &str, value: &str) -> FieldEdit {
    FieldEdit::SetString { key: key.into(), value: value.into() }
}

fn remove(key: &str) -> FieldEdit {
    FieldEdit::Remove { key: key.into() }
}

/// Lines of `new` that differ from `old`, for same-length texts.
fn changed_lines(old: &str, new: &str) -> Vec<(String, String)> {
    let (o, n): (Vec<_>, Vec<_>) = (old.split('\n').collect(), new.split('\n').collect());
    assert_eq!(o.len(), n.len(), "line count changed:\n{new}");
    o.iter().zip(&n).filter(|(a, b)| a != b).map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

// --- reading ---

#[test]
fn reads_the_mapped_fields() {
    let a = ok(EPIC);
    assert_eq!(a.path, "x.md");
    assert_eq!(a.id, "EPIC-001");
    assert_eq!(a.title, "Launch");
    assert_eq!(a.status, "🔵 In Progress");
    assert_eq!(a.kind, "🗺️ Epic");
    assert_eq!(a.description, "Ship it.");
    assert_eq!(a.due, NaiveDate::from_ymd_opt(2026, 5, 31));
    assert_eq!(a.due_key, Some(DueKey::TargetDate));
    assert_eq!(a.link, None);
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
}

#[test]
fn key_lines_count_the_opening_fence_as_line_one() {
    let a = ok(EPIC);
    assert_eq!(a.key_lines["id"], 3);
    assert_eq!(a.key_lines["title"], 4);
    assert_eq!(a.key_lines["tags"], 10);
    assert_eq!(a.body_line, 16);
    assert_eq!(key_line(EPIC.as_bytes(), "target_date"), Some(8));
    assert_eq!(key_line(EPIC.as_bytes(), "owner"), None);
}

#[test]
fn absent_status_and_type_are_empty() {
    let a = ok("+++\nid = \"E\"\ntitle = \"T\"\n+++\n");
    assert_eq!(a.status, "");
    assert_eq!(a.kind, "");
    assert_eq!(a.due, None);
    assert_eq!(a.due_key, None);
    assert_eq!(a.description, "");
}

#[test]
fn non_string_status_is_a_warning_not_an_error() {
    let a = ok("+++\nid = \"E\"\ntitle = \"T\"\nstatus = 3\n+++\n");
    assert_eq!(a.status, "");
    assert_eq!(a.warnings.len(), 1);
    assert_eq!(a.warnings[0].line, Some(4));
}

#[test]
fn related_milestone_empty_is_none() {
    let a = ok("+++\nid = \"E\"\ntitle = \"T\"\nrelated_milestone = \"\"\n+++\n");
    assert_eq!(a.link, None);
    let url = "https://github.com/o/r/milestone/3";
    let a = ok(&format!("+++\nid = \"E\"\ntitle = \"T\"\nrelated_milestone = \"{url}\"\n+++\n"));
    assert_eq!(a.link.as_deref(), Some(url));
}

#[test]
fn bom_is_skipped_when_reading() {
    let a = ok(&format!("\u{feff}{EPIC}"));
    assert_eq!(a.id, "EPIC-001");
    assert_eq!(a.key_lines["id"], 3);
}

#[test]
fn crlf_files_read_like_lf_files() {
    let a = ok(&EPIC.replace('\n', "\r\n"));
    let b = ok(EPIC);
    assert_eq!(a, b);
}

#[test]
fn closing_fence_at_end_of_file_gives_an_empty_body() {
    let a = ok("+++\nid = \"E\"\ntitle = \"T\"\n+++");
    assert_eq!(a.description, "");
    assert_eq!(a.body_line, 5);
}

// --- dates ---

fn dates(front: &str) -> Artifact {
    ok(&format!("+++\nid = \"E\"\ntitle = \"T\"\n{front}+++\n"))
}

#[test]
fn start_date_is_read_when_it_holds_a_date_and_never_warns() {
    assert_eq!(dates("start_date = \"2026-01-20\"\n").start, NaiveDate::from_ymd_opt(2026, 1, 20));
    let placeholder = dates("start_date = \"YYYY-MM-DD\"\n");
    assert_eq!((placeholder.start, placeholder.warnings.len()), (None, 0), "not synced: no warning");
    assert_eq!(dates("").start, None);
}

#[test]
fn milestone_target_date_wins_over_target_date() {
    let a = dates("target_date = \"2026-01-01\"\nmilestone_target_date = \"2026-02-02\"\n");
    assert_eq!(a.due, NaiveDate::from_ymd_opt(2026, 2, 2));
    assert_eq!(a.due_key, Some(DueKey::MilestoneTargetDate));
    assert!(a.warnings.is_empty());
}

#[test]
fn placeholder_milestone_date_falls_back_to_target_date_with_a_warning() {
    let a = dates("target_date = \"2026-01-01\"\nmilestone_target_date = \"YYYY-MM-DD\"\n");
    assert_eq!(a.due, NaiveDate::from_ymd_opt(2026, 1, 1));
    assert_eq!(a.due_key, Some(DueKey::TargetDate));
    assert_eq!(a.warnings.len(), 1);
    let w = &a.warnings[0];
    assert_eq!(w.level, Level::Warning);
    assert_eq!(w.line, Some(5));
    assert!(w.message.contains("milestone_target_date"), "{}", w.message);
    assert!(w.message.contains("placeholder"), "{}", w.message);
    assert!(w.message.contains("write the date as \"2026-05-31\" or remove the key"));
}

#[test]
fn placeholders_and_bad_dates_give_no_date() {
    for value in ["\"YYYY-MM-DD\"", "\"\"", "\"TBD\"", "\"2026-02-30\"", "\"2026/05/31\"", "\"2026-5-3\"", "12"] {
        let a = dates(&format!("target_date = {value}\n"));
        assert_eq!(a.due, None, "{value}");
        assert_eq!(a.due_key, Some(DueKey::TargetDate), "{value}");
        assert_eq!(a.warnings.len(), 1, "{value}");
        assert_eq!(a.warnings[0].line, Some(4), "{value}");
    }
}

#[test]
fn both_dates_bad_keeps_the_milestone_key_and_warns_twice() {
    let a = dates("milestone_target_date = \"TBD\"\ntarget_date = \"YYYY-MM-DD\"\n");
    assert_eq!(a.due, None);
    assert_eq!(a.due_key, Some(DueKey::MilestoneTargetDate));
    assert_eq!(a.warnings.len(), 2);
    let a = dates("milestone_target_date = \"TBD\"\n");
    assert_eq!(a.due_key, Some(DueKey::MilestoneTargetDate));
    assert_eq!(a.warnings.len(), 1);
}

#[test]
fn target_date_is_not_checked_when_the_milestone_date_is_good() {
    let a = dates("milestone_target_date = \"2026-03-01\"\ntarget_date = \"YYYY-MM-DD\"\n");
    assert_eq!(a.due, NaiveDate::from_ymd_opt(2026, 3, 1));
    assert!(a.warnings.is_empty());
}

#[test]
fn toml_date_literal_is_a_date() {
    let a = dates("target_date = 2026-05-31\n");
    assert_eq!(a.due, NaiveDate::from_ymd_opt(2026, 5, 31));
    assert!(a.warnings.is_empty());
    let a = dates("target_date = 2026-05-31T10:00:00Z\n");
    assert_eq!(a.due, None);
    assert_eq!(a.warnings.len(), 1);
}

#[test]
fn date_string_with_spaces_around_is_read() {
    assert_eq!(dates("target_date = \" 2026-05-31 \"\n").due, NaiveDate::from_ymd_opt(2026, 5, 31));
}

// --- errors ---

#[test]
fn missing_opening_fence_is_line_one() {
    let d = err(b"id = \"E\"\n+++\n");
    assert_eq!(d.line, Some(1));
    assert!(d.message.contains("must start with a line holding exactly `+++`"), "{}", d.message);
    assert!(err(b"").message.contains("exactly `+++`"));
    assert!(err(b"---\nid: E\n---\n").message.contains("YAML"));
    assert!(err(b"+++ \nid = \"E\"\n+++\n").message.contains("exactly `+++`"));
}

#[test]
fn missing_closing_fence_says_how_to_close() {
    for src in ["+++\nid = \"E\"\ntitle = \"T\"\n", "+++", "+++\n", "+++\nid = \"E\"\n++++\n"] {
        let d = err(src.as_bytes());
        assert_eq!(d.line, Some(1), "{src:?}");
        assert!(d.message.contains("add a line holding exactly `+++` after the front matter"));
    }
}

#[test]
fn toml_syntax_error_points_at_the_file_line() {
    let d = err("+++\nid = \"E\"\ntitle = \"T\"\nstatus = 🟢 Done\n+++\n".as_bytes());
    assert_eq!(d.line, Some(4), "{}", d.message);
    assert!(d.message.contains("not valid TOML"), "{}", d.message);
    assert!(d.message.contains("line 4, column 10"), "{}", d.message);
    let d = err(b"+++\r\nid = \"E\"\r\ntitle = \"T\"\r\ntitle = \"U\"\r\n+++\r\n");
    assert_eq!(d.line, Some(4), "{}", d.message);
    assert!(d.message.contains("duplicate key"), "{}", d.message);
}

#[test]
fn bom_does_not_shift_error_lines() {
    let d = err("\u{feff}+++\nid = \"E\"\ntitle = [\n+++\n".as_bytes());
    assert_eq!(d.line, Some(3), "{}", d.message);
}

#[test]
fn non_utf8_points_at_the_bad_byte_line() {
    let d = err(b"+++\nid = \"E\"\ntitle = \"Caf\xe9\"\n+++\n");
    assert_eq!(d.line, Some(3));
    assert!(d.message.contains("UTF-8"), "{}", d.message);
}

#[test]
fn id_and_title_must_be_strings() {
    let d = err(b"+++\ntitle = \"T\"\n+++\n");
    assert_eq!(d.line, Some(1));
    assert!(d.message.contains("no `id`"), "{}", d.message);
    let d = err(b"+++\nid = \"E\"\ntitle = 42\n+++\n");
    assert_eq!(d.line, Some(3));
    assert!(d.message.contains("must be a string"), "{}", d.message);
    let d = err(b"+++\nid = \"E\"\n[title]\nx = 1\n+++\n");
    assert_eq!(d.line, Some(3));
}

// --- labels ---

#[test]
fn labels_reduce_to_ascii_words() {
    assert_eq!(normalize_label("🟢 Done"), "done");
    assert_eq!(normalize_label("ðŸŸ¢ Done"), "done");
    assert_eq!(normalize_label("🗺️ Epic"), "epic");
    assert_eq!(normalize_label("🗺 Epic"), "epic");
    assert_eq!(normalize_label("ðŸ—ºï¸ Epic"), "epic");
    assert_eq!(normalize_label("Epic"), "epic");
    assert_eq!(normalize_label("🔵 In Progress"), "in progress");
    assert_eq!(normalize_label("  In-Progress  "), "in progress");
    assert_eq!(normalize_label("🟣 Review / QA"), "review qa");
    assert_eq!(normalize_label(""), "");
}

#[test]
fn closed_statuses() {
    for s in ["🟢 Done", "🟢 Completed", "🧊 Archived", "Closed", "done", "ðŸŸ¢ Done", "DONE"] {
        assert!(is_closed_status(s), "{s}");
    }
    for s in ["🔵 In Progress", "⚪️ Planned", "", "Not done", "Done soon", "🚧 Blocked"] {
        assert!(!is_closed_status(s), "{s}");
    }
}

// --- body ---

#[test]
fn description_section_is_under_the_heading_up_to_the_next() {
    let body = "\n# T\n\n## Description ✍️\n\nText.\n\n### Sub\n\nMore.\n\n## Next\n\nOther.\n";
    assert_eq!(description_section(body), "\nText.\n\n### Sub\n\nMore.\n\n");
    assert_eq!(description_section("## Description\nA\n"), "A\n");
    assert_eq!(description_section("No heading.\n"), "No heading.\n");
    assert_eq!(description_section(""), "");
    // A `## ` line in a fenced code block is not a heading.
    let code = "## Description\n\n```md\n## Fake\n```\nafter\n## Real\n";
    assert_eq!(description_section(code), "\n```md\n## Fake\n```\nafter\n");
    // Only the first Description heading counts, and `##Description` is no heading.
    assert_eq!(description_section("##Description\nx\n"), "##Description\nx\n");
    assert_eq!(description_section("## Description\na\n## Description\nb\n"), "a\n");
}

#[test]
fn normalize_text_ignores_line_endings_and_outer_space() {
    assert_eq!(normalize_text("\r\n\n  Hello  \r\nworld\t\r\rend \n\n"), "Hello\nworld\n\nend");
    assert_eq!(normalize_text("   "), "");
    assert_eq!(normalize_text("a\n\n\nb"), "a\n\n\nb");
}

#[test]
fn replace_description_keeps_heading_and_other_sections() {
    let body = "\n# T\n\n## Description ✍️\n\nOld.\n\n## Next ✅\n\nKeep.\n";
    assert_eq!(
        replace_description(body, "New\r\nlines\r\n"),
        "\n# T\n\n## Description ✍️\n\nNew\nlines\n\n## Next ✅\n\nKeep.\n"
    );
    // Same text after normalisation: untouched, even if spacing differs.
    let odd = "## Description\nOld.   \n## Next\n";
    assert_eq!(replace_description(odd, "\r\nOld.\r\n"), odd);
    // At the end of the body the final-newline choice is kept.
    assert_eq!(replace_description("## Description\n\nA\n", "B"), "## Description\n\nB\n");
    assert_eq!(replace_description("## Description\n\nA", "B"), "## Description\n\nB");
    assert_eq!(replace_description("## Description", "B"), "## Description\n\nB");
    // No heading: the whole body is the description.
    assert_eq!(replace_description("\nOld\n", "New"), "\nNew\n");
    assert_eq!(replace_description("", "New"), "\nNew\n");
    // CRLF bodies get CRLF.
    assert_eq!(
        replace_description("## Description\r\n\r\nA\r\n\r\n## N\r\n", "B\nC"),
        "## Description\r\n\r\nB\r\nC\r\n\r\n## N\r\n"
    );
    // Emptying the section leaves one blank line.
    assert_eq!(replace_description("## Description\n\nA\n\n## N\n", ""), "## Description\n\n## N\n");
}

// --- editing ---

#[test]
fn no_edits_is_byte_identical() {
    for src in [EPIC.to_string(), EPIC.replace('\n', "\r\n"), format!("\u{feff}{}", EPIC.trim_end())] {
        assert_eq!(edited(&src, &[]), src);
    }
}

#[test]
fn set_string_keeps_the_trailing_comment() {
    let out = edited(EPIC, &[set("updated_date", "2026-01-02")]);
    assert_eq!(
        changed_lines(EPIC, &out),
        [(
            "updated_date = \"2025-04-28\" # Use current date".into(),
            "updated_date = \"2026-01-02\" # Use current date".into()
        )]
    );
    let out = edited(EPIC, &[set("title", "Go \"live\" \\ ✨")]);
    assert_eq!(
        changed_lines(EPIC, &out),
        [("title = \"Launch\" # the title".into(), "title = \"Go \\\"live\\\" \\\\ ✨\" # the title".into())]
    );
    assert_eq!(ok(&out).title, "Go \"live\" \\ ✨");
}

#[test]
fn set_string_with_equal_value_changes_nothing() {
    assert_eq!(edited(EPIC, &[set("title", "Launch")]), EPIC);
    let literal = "+++\nid = 'E'\ntitle = \"\"\"T\"\"\"\n+++\n";
    assert_eq!(edited(literal, &[set("id", "E"), set("title", "T")]), literal);
}

#[test]
fn set_string_replaces_a_date_literal_with_a_string() {
    let src = "+++\nid = \"E\"\ntitle = \"T\"\ntarget_date = 2026-05-31 # due\n+++\n";
    let out = edited(src, &[set("target_date", "2026-06-01")]);
    assert_eq!(out, src.replace("2026-05-31", "\"2026-06-01\""));
}

#[test]
fn set_string_inserts_after_the_last_key_before_comments() {
    let out = edited(EPIC, &[set("related_milestone", "https://github.com/o/r/milestone/1")]);
    let expected = EPIC.replace(
        "]\n# milestone_name",
        "]\nrelated_milestone = \"https://github.com/o/r/milestone/1\"\n# milestone_name",
    );
    assert_eq!(out, expected);
}

#[test]
fn set_string_inserts_before_tables() {
    let src = "+++\nid = \"E\"\ntitle = \"T\"\n# about the table\n\n[extra]\nx = 1\n+++\nbody\n";
    let out = edited(src, &[set("status", "🟢 Done")]);
    assert_eq!(out, src.replace("\"T\"\n", "\"T\"\nstatus = \"🟢 Done\"\n"));
}

#[test]
fn inserting_into_a_crlf_file_uses_crlf() {
    let src = EPIC.replace('\n', "\r\n");
    let out = edited(&src, &[set("milestone_target_date", "2026-01-01"), set("title", "New")]);
    let expected = EPIC
        .replace("]\n# milestone_name", "]\nmilestone_target_date = \"2026-01-01\"\n# milestone_name")
        .replace("\"Launch\" #", "\"New\" #")
        .replace('\n', "\r\n");
    assert_eq!(out, expected);
}

#[test]
fn mixed_line_endings_keep_untouched_lines() {
    let src = "+++\r\nid = \"E\"\ntitle = \"T\"\r\nstatus = \"x\"\n+++\r\nbody\n";
    let out = edited(src, &[set("status", "y")]);
    assert_eq!(out, "+++\r\nid = \"E\"\ntitle = \"T\"\r\nstatus = \"y\"\r\n+++\r\nbody\n");
}

#[test]
fn remove_takes_only_the_line_and_keeps_comments_above() {
    let out = edited(EPIC, &[remove("tags")]);
    let expected = EPIC.replace("tags = [\n    \"a\", # first\n    \"b\",\n]\n", "");
    assert_eq!(out, expected);
    // The first key carries the header comment; it stays.
    let out = edited(EPIC, &[remove("id")]);
    assert_eq!(out, EPIC.replace("id = \"EPIC-001\"\n", ""));
    // Absent key: nothing changes.
    assert_eq!(edited(EPIC, &[remove("nope")]), EPIC);
}

#[test]
fn remove_the_last_key_keeps_comments_before_trailing_text_or_table() {
    let src = "+++\nid = \"E\"\n# about k\nk = \"v\" # gone\n# tail\n+++\n";
    assert_eq!(edited(src, &[remove("k")]), "+++\nid = \"E\"\n# about k\n# tail\n+++\n");
    let src = "+++\nid = \"E\"\n# about k\nk = \"v\"\n# tail\n[t]\nx = 1\n+++\n";
    assert_eq!(edited(src, &[remove("k")]), "+++\nid = \"E\"\n# about k\n# tail\n[t]\nx = 1\n+++\n");
}

#[test]
fn editing_a_table_key_is_an_error() {
    let src = "+++\nid = \"E\"\ntitle = \"T\"\n[status]\nx = 1\n+++\n";
    let d = edit("x.md", src.as_bytes(), &[set("status", "Done")]).unwrap_err();
    assert_eq!(d.line, Some(4));
    assert!(edit("x.md", src.as_bytes(), &[remove("status")]).is_err());
}

#[test]
fn no_final_newline_stays_absent() {
    let src = EPIC.trim_end();
    let out = edited(src, &[set("status", "🟢 Done")]);
    assert!(!out.ends_with('\n'));
    assert_eq!(out, src.replace("🔵 In Progress", "🟢 Done"));
}

#[test]
fn bom_is_kept_when_writing() {
    let src = format!("\u{feff}{EPIC}");
    let out = edited(&src, &[set("status", "🟢 Done")]);
    assert_eq!(out, src.replace("🔵 In Progress", "🟢 Done"));
}

#[test]
fn set_description_changes_only_the_section() {
    let out = edited(EPIC, &[FieldEdit::SetDescription("Ship it now.\nToday.".into())]);
    assert_eq!(out, EPIC.replace("\nShip it.\n", "\nShip it now.\nToday.\n"));
    // Equal after normalisation: untouched.
    assert_eq!(edited(EPIC, &[FieldEdit::SetDescription("Ship it.\r\n".into())]), EPIC);
    // CRLF file gets CRLF text.
    let crlf = EPIC.replace('\n', "\r\n");
    let out = edited(&crlf, &[FieldEdit::SetDescription("A\nB".into())]);
    assert_eq!(out, EPIC.replace("\nShip it.\n", "\nA\nB\n").replace('\n', "\r\n"));
}

#[test]
fn set_description_on_a_file_ending_at_the_fence() {
    let src = "+++\nid = \"E\"\ntitle = \"T\"\n+++";
    let out = edited(src, &[FieldEdit::SetDescription("New".into())]);
    assert_eq!(out, "+++\nid = \"E\"\ntitle = \"T\"\n+++\n\nNew\n");
    assert_eq!(ok(&out).description, "New");
}

#[test]
fn edits_apply_in_order_and_parse_back() {
    let out = edited(
        EPIC,
        &[
            set("status", "🟢 Done"),
            set("updated_date", "2026-02-03"),
            set("related_milestone", "https://x/milestone/2"),
            remove("target_date"),
            FieldEdit::SetDescription("Done.".into()),
        ],
    );
    let a = ok(&out);
    assert_eq!(a.status, "🟢 Done");
    assert!(is_closed_status(&a.status));
    assert_eq!(a.link.as_deref(), Some("https://x/milestone/2"));
    assert_eq!(a.due, None);
    assert_eq!(a.description, "Done.");
    assert!(out.contains("updated_date = \"2026-02-03\" # Use current date\n"));
}

#[test]
fn edit_refuses_broken_files() {
    let d = edit("x.md", b"+++\nid = \n+++\n", &[]).unwrap_err();
    assert_eq!(d.line, Some(2));
    assert_eq!(edit("x.md", b"no fence", &[]).unwrap_err().line, Some(1));
}

#[test]
fn control_characters_are_escaped() {
    let out = edited(EPIC, &[set("title", "a\tb\nc\u{1}")]);
    assert!(out.contains("title = \"a\\tb\\nc\\u0001\" # the title\n"), "{out}");
    assert_eq!(ok(&out).title, "a\tb\nc\u{1}");
}

#[test]
fn remove_before_a_dotted_key_keeps_comment_order() {
    let src = "+++\nid = \"E\"\n# about k\nk = \"v\"\n# about a\na.b = 1\nz = 2\n+++\n";
    assert_eq!(edited(src, &[remove("k")]), "+++\nid = \"E\"\n# about k\n# about a\na.b = 1\nz = 2\n+++\n");
    assert_eq!(edited(src, &[set("new", "x")]), src.replace("z = 2\n", "z = 2\nnew = \"x\"\n"));
}

/// Found by fuzzing: toml_edit drops a byte order mark at the start of the text it is given,
/// so a BOM at the start of the front matter (line 2) vanished on any edit, even an edit
/// that changed nothing.
#[test]
fn a_bom_at_the_start_of_the_front_matter_stays() {
    let src = "+++\n\u{feff}# comment\nid = \"EPIC-001\"\ntitle = \"Old\"\n+++\nbody\n";
    let remove_absent = [FieldEdit::Remove { key: "target_date".into() }];
    assert_eq!(edit("x.md", src.as_bytes(), &remove_absent).unwrap(), src.as_bytes());
    let out =
        edit("x.md", src.as_bytes(), &[FieldEdit::SetString { key: "title".into(), value: "New".into() }]).unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), src.replace("Old", "New"));
    let a = ok(src);
    assert_eq!((a.key_lines["id"], a.key_lines["title"]), (3, 4));
}

/// A BOM before `+++` on line 2 does not make that line a fence.
#[test]
fn a_bom_before_a_fence_line_is_not_a_fence() {
    let src = "+++\n\u{feff}+++\nid = \"E\"\ntitle = \"T\"\n+++\nbody\n";
    let d = parse("x.md", src.as_bytes()).expect_err("`\u{feff}+++` is not TOML");
    assert_eq!(d.line, Some(2));
    assert_eq!(edit("x.md", src.as_bytes(), &[]).unwrap_err(), d);
}

#[test]
fn key_lines_answer_like_a_map_in_file_order() {
    let text = "+++\nid = \"E-1\"\ntitle = \"T\"\n# a comment\ntags = [\"a\",\n  \"b\"]\nstatus = \"x\"\n+++\nBody\n";
    let a = parse("x.md", text.as_bytes()).unwrap();
    let k = &a.key_lines;
    assert_eq!(k.iter().collect::<Vec<_>>(), vec![("id", 2), ("title", 3), ("tags", 5), ("status", 7)]);
    assert_eq!((k.get("tags"), k["status"], k.len()), (Some(&5), 7, 4));
    // Names are whole: neither a prefix nor two names run together is a key.
    for absent in ["i", "idtitle", "", "statuses"] {
        assert!(!k.contains_key(absent), "{absent:?}");
    }
}

/// Found by `fuzz/fuzz_targets/read.rs`: a comment line ending in `\r\r\n` reads (toml_edit
/// takes the lone `\r` as part of the line end) but is printed back without it; an edit that
/// changes no value must still give the file back byte for byte.
#[test]
fn an_edit_that_changes_nothing_keeps_a_lone_carriage_return() {
    let file =
        b"+++\r\nid = \"EPIC-001\"\r\ntitle = \"T\" # saved on Windows\r\r\n+++\r\n\r\n## Description\r\n\r\nText.\r\n";
    assert_eq!(edit("x.md", file, &[]).unwrap(), file);
    let same = [FieldEdit::SetString { key: "title".into(), value: "T".into() }];
    assert_eq!(edit("x.md", file, &same).unwrap(), file);
}
