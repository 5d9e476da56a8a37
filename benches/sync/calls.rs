//! API calls: the stand-in's request log grouped by method and endpoint template, and the
//! lower bound of each scenario in the same terms.

use std::collections::BTreeMap;

use github_standin::RequestRecord;

/// Calls per endpoint, e.g. `"PATCH milestones/{n}" → 10`. Keys sort in a fixed order.
pub(crate) type Calls = BTreeMap<Endpoint, u64>;

/// The endpoints the sync may call, in the order a run calls them.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Endpoint {
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
    Graphql,
    Other(String),
}

impl Endpoint {
    /// `METHOD path` relative to `/repos/{o}/{r}/`.
    pub(crate) fn name(&self) -> String {
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
            Endpoint::Graphql => "POST graphql".into(),
            Endpoint::Other(s) => s.clone(),
        }
    }

    /// Classifies one logged request. Pages of the milestone list arrive as
    /// `/repositories/{id}/milestones` (GitHub's `Link` form) and count as list reads.
    pub(crate) fn of(method: &str, path: &str) -> Endpoint {
        if method == "POST" && (path == "/graphql" || path == "/api/graphql") {
            return Endpoint::Graphql;
        }
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

pub(crate) fn count(log: &[RequestRecord]) -> Calls {
    let mut calls = Calls::new();
    for r in log {
        *calls.entry(Endpoint::of(&r.method, &r.path)).or_default() += 1;
    }
    calls
}

pub(crate) fn total(calls: &Calls) -> u64 {
    calls.values().sum()
}

/// Requests that change something on GitHub (what the action paces).
pub(crate) fn writes(calls: &Calls) -> u64 {
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
                    | Endpoint::Graphql
            )
        })
        .map(|(_, n)| n)
        .sum()
}

/// `GET milestones ×10 · PATCH milestones/{n} ×10 · …`
pub(crate) fn show(calls: &Calls) -> String {
    if calls.is_empty() {
        return "none".into();
    }
    calls.iter().map(|(e, n)| format!("{} ×{n}", e.name())).collect::<Vec<_>>().join(" · ")
}

/// The calls beyond the bound, per endpoint (empty when the run met it).
pub(crate) fn excess(actual: &Calls, bound: &Calls) -> Calls {
    actual
        .iter()
        .filter_map(|(e, n)| {
            let allowed = bound.get(e).copied().unwrap_or(0);
            (*n > allowed).then(|| (e.clone(), n - allowed))
        })
        .collect()
}

/// Pages of a milestone list of `m` milestones (100 a page; an empty list is one page).
pub(crate) fn pages(m: usize) -> u64 {
    m.div_ceil(100).max(1) as u64
}

/// The default `reconcile-budget`: list pages a push or a milestone event reads to converge
/// everything.
pub(crate) const BUDGET: u64 = 5;

/// Whether a push or event run over `m` milestones (all linked) converges everything: the
/// list fits in the budget.
pub(crate) fn within_budget(m: usize) -> bool {
    pages(m) <= BUDGET
}

/// One commit of `files` on the branch's head. The head is read first (`GET git/ref`,
/// `read_head`) so that the plan is made on its files: a run writes files only after planning
/// on the head. At
/// most 1,000 files go in one GraphQL request (`createCommitOnBranch`, its `expectedHeadOid`
/// the head the plan was made on); more through the Git Database: the head read, one tree per
/// 1,000 files, the commit, the branch moved (fast-forward only), the base tree from the
/// checkout's own git.
pub(crate) fn commit(files: usize, read_head: bool) -> Calls {
    if files <= 1000 {
        let mut c = Calls::from([(Endpoint::Graphql, 1)]);
        if read_head {
            c.insert(Endpoint::GetRef, 1);
        }
        return c;
    }
    Calls::from([
        (Endpoint::GetRef, 1),
        (Endpoint::CreateTree, files.div_ceil(1000) as u64),
        (Endpoint::CreateCommit, 1),
        (Endpoint::UpdateRef, 1),
    ])
}

pub(crate) fn plus(mut a: Calls, b: Calls) -> Calls {
    for (e, n) in b {
        *a.entry(e).or_default() += n;
    }
    a.retain(|_, n| *n > 0);
    a
}

/// First import: one (empty) list read to find milestones to adopt, one create per
/// artifact, one commit with every link and base (the milestone carries the base already).
pub(crate) fn first_import(n: usize) -> Calls {
    plus(Calls::from([(Endpoint::ListMilestones, pages(0)), (Endpoint::CreateMilestone, n as u64)]), commit(n, true))
}

/// Steady state: every milestone must be seen to know nothing changed on GitHub.
pub(crate) fn steady(m: usize) -> Calls {
    Calls::from([(Endpoint::ListMilestones, pages(m))])
}

/// The reads of a push or event run over `m` milestones that names `k` of them: the whole
/// list within the budget (the run converges everything); above it the cheaper of `k` single
/// reads and the list.
fn trigger_reads(k: usize, m: usize) -> Calls {
    if within_budget(m) || k as u64 >= pages(m) {
        Calls::from([(Endpoint::ListMilestones, pages(m))])
    } else if k == 0 {
        Calls::new()
    } else {
        Calls::from([(Endpoint::GetMilestone, k as u64)])
    }
}

/// A push that changes a synced field of `k` linked artifacts among `m` milestones (0: a
/// push that touches no artifact, such as a change of the code beside the plan): the link
/// names each milestone, but its current values must be read to tell a GitHub-side edit since
/// the last sync from none. One update each, which also carries the new base in the
/// milestone's record: no commit.
pub(crate) fn push(k: usize, m: usize) -> Calls {
    plus(trigger_reads(k, m), Calls::from([(Endpoint::UpdateMilestone, k as u64)]))
}

/// A milestone event whose change flows into the linked file: the milestone read (the list
/// within the budget; above it the one milestone, since the payload is only a hint), one
/// commit.
pub(crate) fn event_with_change(m: usize) -> Calls {
    plus(trigger_reads(1, m), commit(1, true))
}

/// A milestone event that changes nothing (the echo of the sync's own update): the list
/// within the budget, to converge everything; above it nothing (the payload shows nothing to
/// do).
pub(crate) fn event_without_change(m: usize) -> Calls {
    if within_budget(m) { steady(m) } else { Calls::new() }
}

/// A full reconcile where `local` files and `remote` milestones changed since the last sync
/// (different artifacts): the whole list, one update per local change, one commit for the
/// remote changes.
pub(crate) fn reconcile(m: usize, local: usize, remote: usize) -> Calls {
    let mut c = plus(steady(m), Calls::from([(Endpoint::UpdateMilestone, local as u64)]));
    if remote > 0 {
        c = plus(c, commit(remote, true));
    }
    c
}
