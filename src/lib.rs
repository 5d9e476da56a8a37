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
pub mod run;
pub mod workspace;

/// The modules of the functional core: none of them may use a module of the shell.
pub const CORE: &[&str] =
    &["artifact", "base", "diagnostic", "due_date", "link", "milestone", "plan", "policy", "project"];

/// The modules of the imperative shell.
pub const SHELL: &[&str] =
    &["apply", "cli", "config", "event", "github", "history", "preview", "push_scope", "report", "run", "workspace"];
