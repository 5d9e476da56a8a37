//! The runner's files: the job summary (`GITHUB_STEP_SUMMARY`) and the step outputs
//! (`GITHUB_OUTPUT`), and the short report of a run that has nothing to do. Run from a
//! terminal neither file is set and nothing is written.

use std::io::Write;

use crate::config::Settings;
use crate::diagnostic::Diagnostic;
use crate::plan::Plan;
use crate::report;

/// Appends `text` to the job summary.
pub fn write_summary(settings: &Settings, text: &str) {
    if let Some(path) = &settings.summary_file {
        append(path, text);
    }
}

/// Appends `text` (lines `name=value` or heredocs) to the step outputs.
pub fn write_outputs(settings: &Settings, text: &str) {
    if let Some(path) = &settings.output_file {
        append(path, text);
    }
}

/// A run that has nothing to do, and says why: a notice, a short summary, the outputs of an
/// empty plan; exit code 0.
pub fn nothing_to_do(settings: &Settings, out: &mut dyn Write, message: &str) -> i32 {
    let notice = Diagnostic::notice(message);
    let _ = writeln!(out, "{}", report::annotation(&notice));
    write_summary(settings, &format!("## milestone-sync: nothing to do\n\n{}\n", report::cell(message)));
    write_outputs(settings, &report::outputs(&Plan::default(), None, &[]));
    if settings.json {
        let _ = writeln!(out, "{}", report::json(&Plan::default(), None, &[notice], settings.dry_run));
    }
    0
}

fn append(path: &std::path::Path, text: &str) {
    use std::fs::OpenOptions;
    if let Err(e) =
        OpenOptions::new().create(true).append(true).open(path).and_then(|mut f| f.write_all(text.as_bytes()))
    {
        tracing::warn!("cannot write {}: {e}", path.display());
    }
}
