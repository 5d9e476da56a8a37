//! The planner of milestone-sync, and what it plans over: plain values in, a plan out.
//!
//! milestone-sync keeps IntelliManage artifacts (Epics or Features: Markdown files with TOML
//! front matter under `.ruru/projects/<project>/`) and GitHub milestones in two-way sync. This
//! crate is its functional core: it reads no file, calls no GitHub and looks at no clock.
//! Everything it decides on is an input, and every decision is a value you can print, test or
//! throw away. The Action around it (the `milestone-sync` crate) reads the world, calls
//! [`plan::plan`], applies the plan and reports.
//!
//! # What goes in
//!
//! - **Projects** ([`project::Project`]): a project's folder, its `project_config.toml`
//!   ([`project::ProjectConfig::parse`]) and its artifacts, each parsed from the file's bytes
//!   with [`artifact::parse`] (which keeps what a format-preserving edit needs: the line of
//!   every key, the Description section as written).
//! - **Milestones** ([`milestone::Milestone`]): GitHub's milestones of the projects' one
//!   repository, as its API lists them.
//! - **A scope** ([`plan::Scope`]): what the run looks at and what its trigger knows (the
//!   fields a push changed, the milestone an event names); [`plan::Scope::all`] for a full
//!   reconcile.
//! - **Options** ([`plan::Options`]): the run's inputs (conflict policy, direction, what a
//!   removed file or a deleted milestone does), today's date, each file's last commit time.
//!
//! # What comes out
//!
//! A [`plan::Plan`]: the [`plan::Change`]s to make, in the order to make them (removals,
//! updates, adoptions, creations, imports), each naming its artifact, its repository and
//! milestone, the fields it sends to GitHub ([`plan::Change::fields`]), the edits it makes to
//! the file ([`plan::Change::file_edits`], applied with [`artifact::edit`], which changes only
//! those values and keeps every other byte), the values old → new on either side and the
//! conflicts a policy settled or flagged. Problems with the files are
//! [`diagnostic::Diagnostic`]s (file, line, message with the fix): a broken file is reported
//! and left out, the others are planned. A plan with no changes means both sides agree.
//!
//! # An example
//!
//! An Epic never synced, and no milestone yet: the plan creates its milestone.
//!
//! ```
//! use milestone_sync_core::artifact;
//! use milestone_sync_core::plan::{self, Action, Input, Options, Scope};
//! use milestone_sync_core::project::{Project, ProjectConfig};
//!
//! let config = ProjectConfig::parse(
//!     ".ruru/projects/demo/project_config.toml",
//!     "[github_integration]\nenable_sync = true\nrepo_owner = \"acme\"\nrepo_name = \"plan\"\n",
//! )
//! .expect("a valid project_config.toml");
//! let path = ".ruru/projects/demo/epics/EPIC-001_alpha.md";
//! let file = "+++\nid = \"EPIC-001\"\ntitle = \"Alpha\"\nstatus = \"🟡 To Do\"\ntype = \"🗺️ Epic\"\n+++\n\n## Description ✍️\n\nWhat Alpha delivers.\n";
//! let epic = artifact::parse(path, file.as_bytes()).expect("a valid Epic");
//! let project = Project {
//!     slug: "demo".into(),
//!     dir: ".ruru/projects/demo".into(),
//!     config,
//!     artifacts: vec![epic],
//!     broken: vec![],
//! };
//!
//! let scope = Scope::all();
//! let options = Options::default();
//! let plan = plan::plan(&Input {
//!     repository: "acme/plan",
//!     projects: &[project],
//!     milestones: &[],
//!     scope: &scope,
//!     options: &options,
//! });
//!
//! assert_eq!(plan.changes.len(), 1);
//! let change = &plan.changes[0];
//! assert_eq!((change.artifact_id.as_str(), change.repository.as_str()), ("EPIC-001", "acme/plan"));
//! match &change.action {
//!     Action::Create { milestone } => assert_eq!(milestone.title, "Alpha"),
//!     other => panic!("expected a create, got {other:?}"),
//! }
//! assert!(plan.diagnostics.is_empty());
//! ```
//!
//! # The modules
//!
//! - [`plan`]: the planner; [`plan::reconcile`] the per-field three-way merge, [`plan::scope`]
//!   what a run looks at, [`plan::new_artifact`] imports of milestones made on GitHub.
//! - [`artifact`]: reading an artifact file and editing its values in place.
//! - [`milestone`]: a milestone and the changes sent to it.
//! - [`project`]: a project and its `project_config.toml`.
//! - [`policy`]: conflict policies, direction, what removals and deletions do.
//! - [`base`]: the sync base, the values both sides last agreed on, and its two records.
//! - [`link`]: `related_milestone` and the marker lines a milestone carries.
//! - [`due_date`]: due dates in GitHub's Pacific calendar.
//! - [`diagnostic`]: problems with the user's files, with file, line and fix.

pub mod artifact;
pub mod base;
pub mod diagnostic;
pub mod due_date;
pub mod link;
pub mod milestone;
pub mod plan;
pub mod policy;
pub mod project;
