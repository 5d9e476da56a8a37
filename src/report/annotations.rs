//! Workflow commands (`::error file=…,line=…::message`), escaped as @actions/core escapes
//! them, and how a terminal shows them.

use crate::diagnostic::{Diagnostic, Level};

/// A workflow command that shows `d` as an annotation on the file and line.
pub fn annotation(d: &Diagnostic) -> String {
    let command = match d.level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Notice => "notice",
    };
    let mut props = Vec::new();
    if let Some(file) = &d.file {
        props.push(format!("file={}", escape_property(file)));
        if let Some(line) = d.line {
            props.push(format!("line={line}"));
        }
    }
    let props = if props.is_empty() { String::new() } else { format!(" {}", props.join(",")) };
    let message = match &d.file {
        Some(file) => format!("{file}{}: {}", d.line.map(|l| format!(":{l}")).unwrap_or_default(), d.message),
        None => d.message.clone(),
    };
    format!("::{command}{props}::{}", escape_data(&message))
}

/// A line of the run's log as a terminal shows it: a `::group::` becomes a heading, an
/// `::endgroup::` nothing, an annotation `level: message` (unescaped); other lines stay.
pub fn for_terminal(line: &str) -> Option<String> {
    if let Some(name) = line.strip_prefix("::group::") {
        return Some(format!("── {name} ──"));
    }
    if line == "::endgroup::" {
        return None;
    }
    for level in ["error", "warning", "notice"] {
        if let Some(rest) = line.strip_prefix(&format!("::{level}")) {
            if let Some((_, message)) = rest.split_once("::") {
                let message = message.replace("%0A", "\n").replace("%0D", "").replace("%25", "%");
                return Some(format!("{level}: {message}"));
            }
        }
    }
    Some(line.to_string())
}

/// Escaping of a workflow command's message, as @actions/core does it.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escaping of a workflow command's property value.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_escape_like_actions_core() {
        let d = Diagnostic::error(".ruru/projects/a,b/epics/E:1.md", Some(4), "100% bad\nnext");
        assert_eq!(
            annotation(&d),
            "::error file=.ruru/projects/a%2Cb/epics/E%3A1.md,line=4::.ruru/projects/a,b/epics/E:1.md:4: 100%25 bad%0Anext"
        );
        assert_eq!(annotation(&Diagnostic::notice("hi")), "::notice::hi");
    }
}
