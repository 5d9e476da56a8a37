//! The policies a run follows, as plain values: how a conflict is settled, what happens to a
//! milestone whose artifact is gone or to an artifact whose milestone was deleted, and which
//! sides a run may write. Set by inputs (the `milestone-sync` crate's `config`) and `project_config.toml`
//! ([`crate::project`]); decided on by the planner.

use serde::Deserialize;

/// What to do with a milestone whose artifact file was removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnRemoved {
    Close,
    Delete,
}

/// What happens to an artifact whose milestone was deleted on GitHub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnMilestoneDeleted {
    /// Remove `related_milestone` (the content stays) and warn.
    Unlink,
    /// Also set the archived status.
    Archive,
}

/// How a field changed on both sides since the last sync is settled (IntelliManage's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(
    rename_all = "snake_case",
    expecting = "one of the strings last_update_wins, prefer_local, prefer_github, manual_flag"
)]
pub enum ConflictResolution {
    /// The side changed last wins: the file's last commit time against the milestone's
    /// `updated_at`; ties go to the file.
    LastUpdateWins,
    PreferLocal,
    PreferGithub,
    /// Neither side is written; the artifact is flagged with `sync_conflict`.
    ManualFlag,
}

impl ConflictResolution {
    /// The name as written in project_config and the input.
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictResolution::LastUpdateWins => "last_update_wins",
            ConflictResolution::PreferLocal => "prefer_local",
            ConflictResolution::PreferGithub => "prefer_github",
            ConflictResolution::ManualFlag => "manual_flag",
        }
    }
}

/// Which sides a run may write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Direction {
    /// Files → GitHub only.
    ToGithub,
    /// GitHub → files only.
    FromGithub,
    #[default]
    Both,
}
