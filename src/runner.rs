//! The runner's files and workflow commands: the job summary (`GITHUB_STEP_SUMMARY`), the
//! step outputs (`GITHUB_OUTPUT`), log groups ([`group`]) and the short report of a run that
//! has nothing to do. Run from a terminal neither file is set and nothing is written; the
//! terminal shows a group as a heading.

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

/// Opens a log group (`::group::NAME`); it closes (`::endgroup::`) when the guard is dropped,
/// on every way out of the code that holds it, an early return or a `?` included, or with
/// [`Group::end`], which gives the writer back. Write to the guard while it is open.
pub fn group<'a>(out: &'a mut dyn Write, name: &str) -> Group<'a> {
    let _ = writeln!(out, "::group::{name}");
    Group { out: Some(out) }
}

/// An open log group: see [`group`].
pub struct Group<'a> {
    out: Option<&'a mut dyn Write>,
}

impl<'a> Group<'a> {
    /// Closes the group and gives back the writer, for what follows it.
    pub fn end(mut self) -> &'a mut dyn Write {
        let out = self.out.take().expect("a group is ended once");
        let _ = writeln!(out, "::endgroup::");
        out
    }
}

impl Write for Group<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.as_mut().expect("an open group").write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.as_mut().expect("an open group").flush()
    }
}

impl Drop for Group<'_> {
    fn drop(&mut self) {
        if let Some(out) = self.out.take() {
            let _ = writeln!(out, "::endgroup::");
        }
    }
}

fn append(path: &std::path::Path, text: &str) {
    use std::fs::OpenOptions;
    if let Err(e) =
        OpenOptions::new().create(true).append(true).open(path).and_then(|mut f| f.write_all(text.as_bytes()))
    {
        tracing::warn!("cannot write {}: {e}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_closes_on_every_way_out() {
        let mut log = Vec::new();
        {
            let mut g = group(&mut log, "Read");
            let _ = writeln!(g, "inside");
        }
        let out = group(&mut log, "Plan").end();
        let _ = writeln!(out, "after");
        let failing = |out: &mut dyn Write| -> Result<(), ()> {
            let mut g = group(out, "Commit");
            let _ = writeln!(g, "trying");
            Err(())?;
            Ok(())
        };
        assert!(failing(&mut log).is_err());
        assert_eq!(
            String::from_utf8(log).unwrap(),
            "::group::Read\ninside\n::endgroup::\n::group::Plan\n::endgroup::\nafter\n::group::Commit\ntrying\n::endgroup::\n"
        );
    }
}
