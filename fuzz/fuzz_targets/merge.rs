//! The Description merge: a text from GitHub brought into a body by changing only the lines
//! that differ. No panic on any body and text; merging the section's own text back (as sent,
//! or as the web form stores it, with CRLF) is the identity; the text around the section never
//! changes; a second merge of the same text changes nothing; the section then says the text.
//!
//! Input: the body, a NUL byte, then the text from GitHub (UTF-8; anything else is skipped).

#![no_main]

use libfuzzer_sys::fuzz_target;
use milestone_sync_core::artifact::{as_written, description_section, merge_description, normalize_text};

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    let (body, text) = input.split_once('\0').unwrap_or((input, ""));
    let own = description_section(body);
    let sent = as_written(own);
    assert_eq!(merge_description(body, &sent), body, "its own text rewrote the body");
    assert_eq!(merge_description(body, &sent.replace('\n', "\r\n")), body, "its own text, typed back, rewrote the body");

    let out = merge_description(body, text);
    let start = own.as_ptr() as usize - body.as_ptr() as usize;
    let (before, after) = (&body[..start], &body[start + own.len()..]);
    assert!(out.starts_with(before), "text before the Description changed");
    assert!(out.ends_with(after), "text after the Description changed");
    assert_eq!(merge_description(&out, text), out, "a second merge changed the body");
    let section = normalize_text(description_section(&out));
    if !text.contains("##") && !text.contains("```") && !text.contains("~~~") {
        assert_eq!(section, normalize_text(text), "the section does not say the text");
    }
});
