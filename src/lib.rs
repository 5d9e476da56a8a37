//! milestone-sync: keeps IntelliManage Epics/Features and GitHub Milestones in two-way sync.
//!
//! Functional core, imperative shell: the readers ([`workspace`], [`event`], [`history`],
//! [`github`]) produce plain values, the pure [`plan`] turns them into a list of changes, and
//! [`apply`] carries the changes out; [`report`] tells the user what happened. On a pull
//! request, [`preview`] plans the same way and shows what merging would do instead.

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
pub mod plan;
pub mod preview;
pub mod push_scope;
pub mod report;
pub mod run;
pub mod workspace;
