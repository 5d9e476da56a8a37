//! milestone-sync: keeps IntelliManage Epics/Features and GitHub Milestones in two-way sync.
//!
//! Functional core, imperative shell. The **core** is plain values and pure functions: the
//! planner ([`plan`]) and what it plans over ([`artifact`], [`milestone`], [`project`],
//! [`policy`], [`base`], [`link`], [`due_date`], [`diagnostic`]). It reads no file, calls no
//! GitHub and looks at no clock (today's date is an input). The **shell** does the I/O: the
//! readers ([`workspace`], [`event`], [`history`], [`push_scope`], [`github`]) produce plain
//! values, [`run`] is the one pipeline every trigger goes through (read, plan, apply, report),
//! [`apply`] carries a plan out, [`report`] and [`preview`] tell the user what happened or
//! would happen. The core never imports the shell; a test below enforces it.

pub mod apply;
pub mod artifact;
pub mod base;
pub mod branch;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod due_date;
pub mod event;
pub mod github;
pub mod history;
pub mod link;
pub mod milestone;
pub mod plan;
pub mod policy;
pub mod preview;
pub mod project;
pub mod push_scope;
pub mod report;
pub mod repositories;
pub mod run;
pub mod runner;
pub mod summary;
pub mod workspace;

/// The modules of the functional core: none of them may use a module of the shell.
pub const CORE: &[&str] =
    &["artifact", "base", "diagnostic", "due_date", "link", "milestone", "plan", "policy", "project"];

/// The modules of the imperative shell.
pub const SHELL: &[&str] = &[
    "apply",
    "branch",
    "cli",
    "config",
    "event",
    "github",
    "history",
    "preview",
    "push_scope",
    "report",
    "repositories",
    "summary",
    "run",
    "runner",
    "workspace",
];

#[cfg(test)]
mod architecture {
    use std::path::{Path, PathBuf};

    use super::{CORE, SHELL};

    /// A core module's files: `src/<name>.rs` and everything under `src/<name>/`.
    fn files(name: &str) -> Vec<PathBuf> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut out = vec![src.join(format!("{name}.rs"))];
        let mut dirs = vec![src.join(name)];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(path);
                }
            }
        }
        out
    }

    #[test]
    fn the_core_imports_nothing_from_the_shell() {
        let mut found = Vec::new();
        for name in CORE {
            for path in files(name) {
                let text = std::fs::read_to_string(&path).unwrap();
                for (i, line) in text.lines().enumerate() {
                    for shell in SHELL {
                        let uses =
                            [format!("crate::{shell}::"), format!("crate::{shell};"), format!("crate::{shell} ")];
                        if uses.iter().any(|u| line.contains(u.as_str())) {
                            found.push(format!("{}:{}: {}", path.display(), i + 1, line.trim()));
                        }
                    }
                }
            }
        }
        assert!(found.is_empty(), "core modules use the shell:\n{}", found.join("\n"));
    }

    #[test]
    fn every_module_is_core_or_shell() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut listed: Vec<&str> = CORE.iter().chain(SHELL).copied().collect();
        listed.sort();
        let mut modules: Vec<String> = std::fs::read_dir(&src)
            .unwrap()
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter_map(|n| n.strip_suffix(".rs").map(str::to_string))
            .filter(|n| n != "lib" && n != "main")
            .collect();
        modules.sort();
        assert_eq!(modules, listed, "list a new module in CORE or SHELL (src/lib.rs)");
    }
}
