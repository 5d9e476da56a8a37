//! `project_config.toml`: any text, no panic; an error names a line of the file.

#![no_main]

use libfuzzer_sys::fuzz_target;
use milestone_sync_core::project::ProjectConfig;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(d) = ProjectConfig::parse("p/project_config.toml", text) {
        let lines = text.split_inclusive('\n').count().max(1);
        let line = d.line.expect("an error names its line");
        assert!((1..=lines).contains(&line), "line {line} of {lines}: {}", d.message);
    }
});
