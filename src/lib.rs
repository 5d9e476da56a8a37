//! milestone-sync: keeps IntelliManage Epics/Features and GitHub Milestones in two-way sync.
//!
//! Functional core, imperative shell, in two crates. The **core** is
//! [`milestone_sync_core`] (crates/core): the planner ([`plan`]) and what it plans over
//! ([`artifact`], [`milestone`], [`project`], [`policy`], [`base`], [`link`], [`due_date`],
//! [`diagnostic`]), plain values and pure functions that read no file, call no GitHub and look
//! at no clock. Its manifest names no async runtime, HTTP or CLI crate, so the compiler keeps
//! the rule that the core never imports the shell. Its modules are re-exported here under their
//! own names.
//!
//! This crate is the **shell**: the readers ([`workspace`], [`event`], [`history`],
//! [`push_scope`], [`github`], [`repositories`]) produce plain values, [`run`] is the one
//! pipeline every trigger goes through (read, plan, apply, report), [`apply`] carries a plan
//! out, [`report`], [`summary`] and [`preview`] tell the user what happened or would happen.

pub use milestone_sync_core::{artifact, base, diagnostic, due_date, link, milestone, plan, policy, project};

pub mod apply;
pub mod branch;
pub mod cli;
pub mod config;
pub mod event;
pub mod github;
pub mod history;
pub mod preview;
pub mod push_scope;
pub mod report;
pub mod repositories;
pub mod run;
pub mod runner;
pub mod summary;
pub mod workspace;
