//! The front-matter reader: any bytes, no panic; an error names a line of the file; a file
//! that reads prints back byte for byte, also through edits that change nothing.

#![no_main]

use libfuzzer_sys::fuzz_target;
use milestone_sync_core::artifact::{self, FieldEdit, keys};
use milestone_sync_fuzz::{PATH, fenced, line_count};

fuzz_target!(|data: &[u8]| {
    let lines = line_count(data);
    let parsed = artifact::parse(PATH, data);
    let _ = artifact::key_line(data, keys::ID);
    let a = match parsed {
        Err(d) => {
            // Every refusal points at a line of the file.
            assert_eq!(d.file.as_deref(), Some(PATH));
            let line = d.line.expect("an error names its line");
            assert!((1..=lines).contains(&line), "line {line} of {lines}: {}", d.message);
            // The editor refuses a file whose form the reader refused (it does not need an
            // `id` or `title`, and does not read values).
            if fenced(data).is_none() {
                assert!(artifact::edit(PATH, data, &[]).is_err(), "edited a file without fences");
            }
            return;
        }
        Ok(a) => a,
    };
    let f = fenced(data).expect("a file the reader accepts has fences");
    for (key, line) in a.key_lines.iter() {
        assert!(line > f.first_line && line <= f.close_line, "{key} on line {line}");
    }
    assert_eq!(a.body_line, f.close_line + 2, "the body starts after the closing fence");
    assert_eq!(artifact::key_line(data, keys::ID), a.key_lines.get(keys::ID).copied());
    for w in &a.warnings {
        assert!(w.line.is_none_or(|l| (1..=lines).contains(&l)), "{w:?}");
    }
    // The Description as written normalises to itself, and carries no blank edge lines.
    assert_eq!(artifact::normalize_text(&artifact::normalize_text(&a.description)), artifact::normalize_text(&a.description));
    assert_eq!(artifact::as_written(&a.description), a.description);

    // parse → edit nothing → write: the same bytes.
    assert!(artifact::edit(PATH, data, &[]).unwrap() == data, "an empty edit changed the file");
    // Setting every synced value to what it already is changes nothing either.
    let same = [
        FieldEdit::SetString { key: keys::ID.into(), value: a.id.clone() },
        FieldEdit::SetString { key: keys::TITLE.into(), value: a.title.clone() },
        FieldEdit::SetDescription(a.description.clone()),
    ];
    assert!(artifact::edit(PATH, data, &same).unwrap() == data, "a no-op edit changed the file");
});
