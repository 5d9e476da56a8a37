//! API calls: the stand-in's request log grouped by method and endpoint template, and the
//! lower bound of each scenario in the same terms.

use std::collections::BTreeMap;

use github_standin::RequestRecord;

/// Calls per endpoint, e.g. `"PATCH milestones/{n}" → 10`. Keys sort in a fixed order.
pub type Calls = BTreeMap<Endpoint, u64>;

/// The endpoints the sync may call, in the order a run calls them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Endpoint {
    Repo,
    ListMilestones,
    GetMilestone,
    CreateMilestone,
    UpdateMilestone,
    DeleteMilestone,
    Contents,
    GetRef,
    GetCommit,
    CreateTree,
    CreateCommit,
    UpdateRef,
    Other(String),
}

impl Endpoint {
    /// `METHOD path` relative to `/repos/{o}/{r}/`.
    pub fn name(&self) -> String {
        match self {
            Endpoint::Repo => "GET repo".into(),
            Endpoint::ListMilestones => "GET milestones".into(),
            Endpoint::GetMilestone => "GET milestones/{n}".into(),
            Endpoint::CreateMilestone => "POST milestones".into(),
            Endpoint::UpdateMilestone => "PATCH milestones/{n}".into(),
            Endpoint::DeleteMilestone => "DELETE milestones/{n}".into(),
            Endpoint::Contents => "GET contents/{path}".into(),
            Endpoint::GetRef => "GET git/ref/heads/{b}".into(),
            Endpoint::GetCommit => "GET git/commits/{sha}".into(),
            Endpoint::CreateTree => "POST git/trees".into(),
            Endpoint::CreateCommit => "POST git/commits".into(),
            Endpoint::UpdateRef => "PATCH git/refs/heads/{b}".into(),
            Endpoint::Other(s) => s.clone(),
        }
    }

    /// Classifies one logged request. Pages of the milestone list arrive as
    /// `/repositories/{id}/milestones` (GitHub's `Link` form) and count as list reads.
    pub fn of(method: &str, path: &str) -> Endpoint {
        let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let rest: &[&str] = match segs.as_slice() {
            ["repos", _, _, rest @ ..] => rest,
            ["repositories", _, rest @ ..] => rest,
            _ => return Endpoint::Other(format!("{method} {path}")),
        };
        match (method, rest) {
            ("GET", []) => Endpoint::Repo,
            ("GET", ["milestones"]) => Endpoint::ListMilestones,
            ("POST", ["milestones"]) => Endpoint::CreateMilestone,
            ("GET", ["milestones", _]) => Endpoint::GetMilestone,
            ("PATCH", ["milestones", _]) => Endpoint::UpdateMilestone,
            ("DELETE", ["milestones", _]) => Endpoint::DeleteMilestone,
            ("GET", ["contents", ..]) => Endpoint::Contents,
            ("GET", ["git", "ref", ..]) => Endpoint::GetRef,
            ("GET", ["git", "commits", _]) => Endpoint::GetCommit,
            ("POST", ["git", "trees"]) => Endpoint::CreateTree,
            ("POST", ["git", "commits"]) => Endpoint::CreateCommit,
            ("PATCH", ["git", "refs", ..]) => Endpoint::UpdateRef,
            _ => Endpoint::Other(format!("{method} {path}")),
        }
    }
}

pub fn count(log: &[RequestRecord]) -> Calls {
    let mut calls = Calls::new();
    for r in log {
        *calls.entry(Endpoint::of(&r.method, &r.path)).or_default() += 1;
    }
    calls
}

pub fn total(calls: &Calls) -> u64 {
    calls.values().sum()
}

/// Requests that change something on GitHub (what the action paces).
pub fn writes(calls: &Calls) -> u64 {
    calls
        .iter()
        .filter(|(e, _)| {
            matches!(
                e,
                Endpoint::CreateMilestone
                    | Endpoint::UpdateMilestone
                    | Endpoint::DeleteMilestone
                    | Endpoint::CreateTree
                    | Endpoint::CreateCommit
                    | Endpoint::UpdateRef
            )
        })
        .map(|(_, n)| n)
        .sum()
}

/// `GET milestones ×10 · PATCH milestones/{n} ×10 · …`
pub fn show(calls: &Calls) -> String {
    if calls.is_empty() {
        return "none".into();
    }
    calls.iter().map(|(e, n)| format!("{} ×{n}", e.name())).collect::<Vec<_>>().join(" · ")
}

/// The calls beyond the bound, per endpoint (empty when the run met it).
pub fn excess(actual: &Calls, bound: &Calls) -> Calls {
    actual
        .iter()
        .filter_map(|(e, n)| {
            let allowed = bound.get(e).copied().unwrap_or(0);
            (*n > allowed).then(|| (e.clone(), n - allowed))
        })
        .collect()
}

/// Pages of a milestone list of `m` milestones (100 a page; an empty list is one page).
pub fn pages(m: usize) -> u64 {
    m.div_ceil(100).max(1) as u64
}

/// One commit through the Git Database API on the branch's current head: read the head
/// (`GET git/ref`), write the tree with the changed files inline, write the commit, move the
/// branch (fast-forward only). The base tree comes from the checkout's own git. A run that
/// changes a milestone also commits the artifact's new sync base in this commit: without it
/// the next reconcile could not tell which side changed a field.
pub fn commit() -> Calls {
    Calls::from([
        (Endpoint::GetRef, 1),
        (Endpoint::CreateTree, 1),
        (Endpoint::CreateCommit, 1),
        (Endpoint::UpdateRef, 1),
    ])
}

pub fn plus(mut a: Calls, b: Calls) -> Calls {
    for (e, n) in b {
        *a.entry(e).or_default() += n;
    }
    a.retain(|_, n| *n > 0);
    a
}

/// First import: one (empty) list read to find milestones to adopt, one create per
/// artifact, one commit with every link and base.
pub fn first_import(n: usize) -> Calls {
    plus(Calls::from([(Endpoint::ListMilestones, pages(0)), (Endpoint::CreateMilestone, n as u64)]), commit())
}

/// Steady state: every milestone must be seen to know nothing changed on GitHub.
pub fn steady(m: usize) -> Calls {
    Calls::from([(Endpoint::ListMilestones, pages(m))])
}

/// A push that changes a synced field of `k` linked artifacts among `m` milestones (0: a
/// push that touches no artifact, such as a change of the code beside the plan): the
/// link names each milestone, but its current values must be read to tell a GitHub-side
/// edit since the last sync (a conflict, or a value to bring into the file) from none. The
/// cheaper of `k` single reads and the whole list; one update each; one commit for the new
/// bases.
pub fn push(k: usize, m: usize) -> Calls {
    if k == 0 {
        return Calls::new(); // a push that touches no artifact has nothing to read or write
    }
    let reads = if (k as u64) < pages(m) {
        Calls::from([(Endpoint::GetMilestone, k as u64)])
    } else {
        Calls::from([(Endpoint::ListMilestones, pages(m))])
    };
    plus(plus(reads, Calls::from([(Endpoint::UpdateMilestone, k as u64)])), commit())
}

/// A milestone event whose change flows into the linked file: the payload carries the
/// milestone and the file carries the link, so no read; one commit.
pub fn event_with_change() -> Calls {
    commit()
}

/// A milestone event that changes nothing (the echo of the sync's own update): no call.
pub fn event_without_change() -> Calls {
    Calls::new()
}

/// A full reconcile where `local` files and `remote` milestones changed since the last sync
/// (different artifacts): the whole list, one update per local change, one commit for the
/// remote changes and the new bases.
pub fn reconcile(m: usize, local: usize, remote: usize) -> Calls {
    let mut c = plus(steady(m), Calls::from([(Endpoint::UpdateMilestone, local as u64)]));
    if local + remote > 0 {
        c = plus(c, commit());
    }
    c
}
