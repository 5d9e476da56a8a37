//! What a run looks at, and what its trigger knows besides the two sides' values.
//!
//! Every trigger goes through the same planner. The trigger decides nothing; it adds hints:
//! a push names the files it changed (and which synced fields of each) and the artifacts it
//! removed, a milestone event names its milestone and the fields GitHub says changed. Within
//! the run's request budget every run looks at everything ([`Scope::everything`]), so that
//! whatever a cancelled run would have done, the next run of any trigger does. Above the
//! budget a run keeps to what its trigger names.

use std::collections::{BTreeMap, BTreeSet};

use crate::artifact::Artifact;

use super::Field;

/// Which fields of a touched artifact a push changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Touch {
    /// All synced fields (a new file, or history that cannot tell).
    Whole,
    /// Only these fields; a GitHub-side edit of any other field is kept.
    Fields(BTreeSet<Field>),
}

/// Which milestones the run read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Read {
    /// The whole list: a milestone missing from it does not exist.
    #[default]
    All,
    /// Only these (one `GET milestones/{n}` each): one of them missing does not exist;
    /// nothing is known of any other.
    Only(BTreeSet<u64>),
}

impl Read {
    /// Whether the run asked GitHub for milestone `number`, so that its absence means it was
    /// deleted.
    pub fn covers(&self, number: u64) -> bool {
        match self {
            Read::All => true,
            Read::Only(numbers) => numbers.contains(&number),
        }
    }
}

/// What a milestone event says, as a hint: its milestone and the synced fields GitHub
/// changed (from `changes.*.from`, or the state for `closed`/`opened`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventHint {
    pub number: u64,
    pub changed: BTreeSet<Field>,
}

/// What a run plans for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// Every artifact and every milestone: the run converges every pair, imports unmarked
    /// milestones (when allowed) and closes milestones whose artifact is gone. When false,
    /// only what the hints name is planned (a run above its request budget, a preview).
    pub everything: bool,
    /// The artifacts a push touched, by workspace-relative path, and which fields of each.
    pub touched: BTreeMap<String, Touch>,
    /// The artifacts a push removed (as they were before it), by project slug.
    pub removed: Vec<(String, Artifact)>,
    /// The milestone a milestone event is about.
    pub event: Option<EventHint>,
    /// Which milestones were read.
    pub read: Read,
}

impl Scope {
    /// Everything, with no hints: a manual or scheduled reconcile.
    pub fn all() -> Scope {
        Scope { everything: true, ..Scope::default() }
    }

    /// Only what a push (or a pull request) changed.
    pub fn files(touched: BTreeMap<String, Touch>, removed: Vec<(String, Artifact)>) -> Scope {
        Scope { everything: false, touched, removed, ..Scope::default() }
    }

    /// Everything, with a push's hints.
    pub fn push(touched: BTreeMap<String, Touch>, removed: Vec<(String, Artifact)>) -> Scope {
        Scope { everything: true, touched, removed, ..Scope::default() }
    }

    /// Everything (or, when `everything` is false, only its milestone), with a milestone
    /// event's hint.
    pub fn event(everything: bool, hint: EventHint) -> Scope {
        Scope { everything, event: Some(hint), ..Scope::default() }
    }
}
