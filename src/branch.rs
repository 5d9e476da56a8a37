//! The branch's current head, and the artifact files it holds beyond the checkout.
//!
//! A run's checkout is a hint, not the truth: a milestone event's run checks out the commit
//! the branch had when the event happened, a queued run starts after other runs committed, and
//! the sync's own commits made with the workflow's token start no run of their own. Before a
//! run writes anything that depends on the files, it reads the branch head (one request) and,
//! when the head is not the checkout, lays the files that differ over the workspace (one
//! compare, one contents read per changed artifact), so that it plans on what the branch
//! holds now.

use std::io::Write;

use anyhow::Context as _;

use crate::github::GitHub;
use crate::push_scope::is_artifact_path;
use crate::workspace::Workspace;

/// What reading the branch head found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caught {
    /// The head is the checkout.
    AtCheckout { head: String },
    /// The head moved on from the checkout; these artifact files differ, and were read at the
    /// head and laid over the workspace.
    Moved { head: String, files: Vec<String> },
    /// The head moved on in a way one comparison cannot list (the branch was rewritten, or
    /// more files changed than GitHub lists): the run plans on the checkout, and the commit
    /// reads each file it edits at the head.
    Unknown { head: String, why: String },
}

impl Caught {
    pub fn head(&self) -> &str {
        match self {
            Caught::AtCheckout { head } | Caught::Moved { head, .. } | Caught::Unknown { head, .. } => head,
        }
    }
}

/// Reads `branch`'s head and brings `ws` to it (see the module documentation). `checkout` is
/// the commit the workspace holds, when known.
pub async fn catch_up<G: GitHub>(
    gh: &G,
    ws: &mut Workspace,
    branch: &str,
    checkout: Option<&str>,
    out: &mut dyn Write,
) -> anyhow::Result<Caught> {
    let head = gh.branch_head(branch).await.with_context(|| format!("reading the head of {branch}"))?;
    let Some(checkout) = checkout else {
        return Ok(Caught::Unknown { head, why: "the checkout's commit is not known".into() });
    };
    if checkout == head {
        return Ok(Caught::AtCheckout { head });
    }
    let c = match gh.compare(checkout, &head).await {
        Ok(c) => c,
        Err(e) => return Ok(Caught::Unknown { head, why: format!("comparing it with the checkout failed: {e}") }),
    };
    if c.status != "ahead" || c.merge_base != checkout {
        return Ok(Caught::Unknown { head, why: format!("it is {} of the checkout, not ahead", c.status) });
    }
    if c.capped {
        return Ok(Caught::Unknown { head, why: "more files changed than one comparison lists".into() });
    }
    let mut changes = Vec::new();
    for file in c.files {
        if let Some(previous) = file.previous_path.filter(|p| is_artifact_path(ws, p)) {
            changes.push((previous, None));
        }
        if is_artifact_path(ws, &file.path) {
            let bytes =
                gh.file_at(&head, &file.path).await.with_context(|| format!("reading {} at the head", file.path))?;
            changes.push((file.path, bytes));
        }
    }
    let files: Vec<String> = changes.iter().map(|(path, _)| path.clone()).collect();
    let _ = writeln!(
        out,
        "{branch} moved on from the checkout ({} → {}): {} artifact file(s) read at the head",
        short(checkout),
        short(&head),
        files.len()
    );
    ws.overlay(changes);
    Ok(Caught::Moved { head, files })
}

/// The first 7 characters of a commit id, as GitHub shows them.
fn short(sha: &str) -> &str {
    sha.get(..7).unwrap_or(sha)
}
