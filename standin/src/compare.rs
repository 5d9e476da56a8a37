//! `GET /repos/{o}/{r}/compare/{base}...{head}`, computed by git on the bare repository.
//!
//! What the product relies on, as GitHub does it: three dots mean the changes on `head` since
//! its merge base with `base` (`git diff $(git merge-base base head) head`, renames detected);
//! `status` says how the two relate (`ahead`, `behind`, `diverged`, `identical`); the file
//! list stops at 300 entries, with nothing in the answer to say it was cut; the commits are
//! those of `git log base..head`, oldest first, at most the last 250. Either side may be a
//! commit id or a branch name. Not served: other repositories in the network
//! (`user:branch`), two dots, `page`/`per_page` (the product never pages: the files come on
//! the first page only), the `diff`/`patch` media types and the `patch` of each file.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use crate::git::{CommitInfo, DiffEntry, Ident};
use crate::milestones::node_id;
use crate::reply::Reply;
use crate::state::{Shared, State};

const DOC_COMPARE: &str = "https://docs.github.com/rest/commits/commits#compare-two-commits";

/// GitHub's cap on the files of one comparison.
pub(crate) const MAX_FILES: usize = 300;
/// GitHub's cap on the commits of an unpaginated comparison.
const MAX_COMMITS: usize = 250;

/// What stays as it is in a path put into a URL: RFC 3986's unreserved characters and `/`.
const PATH: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~').remove(b'/');

fn encode(path: &str) -> String {
    utf8_percent_encode(path, PATH).to_string()
}

/// `GET compare/{basehead}`.
pub(crate) fn get(shared: &Shared, state: &State, basehead: &str) -> Reply {
    let Some((base_name, head_name)) = basehead.split_once("...") else {
        return Reply::error(404, "Not Found", DOC_COMPARE);
    };
    let resolve = |name: &str| {
        if name.is_empty() || name.contains(':') { None } else { shared.git.resolve(name, "commit") }
    };
    let (Some(base), Some(head)) = (resolve(base_name), resolve(head_name)) else {
        return Reply::error(404, "Not Found", DOC_COMPARE);
    };
    let Some(merge_base) = shared.git.merge_base(&base, &head) else {
        return Reply::error(404, &format!("No common ancestor between {base_name} and {head_name}."), DOC_COMPARE);
    };
    let (Some(base_commit), Some(merge_base_commit)) = (shared.git.commit(&base), shared.git.commit(&merge_base))
    else {
        return Reply::error(500, "commit vanished", DOC_COMPARE);
    };
    let ahead = shared.git.commits_between(&base, &head);
    let behind = shared.git.commits_between(&head, &base).len();
    let status = match (ahead.len(), behind) {
        (0, 0) => "identical",
        (_, 0) => "ahead",
        (0, _) => "behind",
        _ => "diverged",
    };
    let diff = match shared.git.diff(&merge_base, &head) {
        Ok(d) => d,
        Err(e) => return Reply::error(500, &format!("git diff-tree failed: {e}"), DOC_COMPARE),
    };
    let commits: Vec<Value> = ahead[ahead.len().saturating_sub(MAX_COMMITS)..]
        .iter()
        .filter_map(|sha| shared.git.commit(sha).map(|c| commit_json(shared, state, sha, &c)))
        .collect();
    let html = shared.html_url();
    let owner = &shared.config.owner;
    let shown = encode(basehead);
    Reply::ok(json!({
        "url": format!("{}/compare/{shown}", shared.repo_api_url()),
        "html_url": format!("{html}/compare/{shown}"),
        "permalink_url": format!("{html}/compare/{owner}:{base}...{owner}:{head}"),
        "diff_url": format!("{html}/compare/{shown}.diff"),
        "patch_url": format!("{html}/compare/{shown}.patch"),
        "base_commit": commit_json(shared, state, &base, &base_commit),
        "merge_base_commit": commit_json(shared, state, &merge_base, &merge_base_commit),
        "status": status,
        "ahead_by": ahead.len(),
        "behind_by": behind,
        "total_commits": ahead.len(),
        "commits": commits,
        "files": diff.iter().take(MAX_FILES).map(|e| file_json(shared, &head, e)).collect::<Vec<_>>(),
    }))
}

/// A "Diff Entry": GitHub's status word for git's letter, the counts, and where to read it.
fn file_json(shared: &Shared, head: &str, e: &DiffEntry) -> Value {
    let status = match e.status {
        'A' => "added",
        'D' => "removed",
        'R' => "renamed",
        'C' => "copied",
        'T' => "changed",
        _ => "modified",
    };
    let html = shared.html_url();
    let path = encode(&e.path);
    let mut v = json!({
        "sha": if e.status == 'D' { &e.old_sha } else { &e.new_sha },
        "filename": e.path,
        "status": status,
        "additions": e.additions,
        "deletions": e.deletions,
        "changes": e.additions + e.deletions,
        "blob_url": format!("{html}/blob/{head}/{path}"),
        "raw_url": format!("{html}/raw/{head}/{path}"),
        "contents_url": format!("{}/contents/{path}?ref={head}", shared.repo_api_url()),
    });
    if let Some(previous) = &e.previous_path {
        v["previous_filename"] = json!(previous);
    }
    v
}

fn person_json(i: &Ident) -> Value {
    json!({"name": i.name, "email": i.email, "date": i.iso_date()})
}

/// A commit as the commits API (and compare) serves it: the git commit inside, and no
/// GitHub user for author or committer (their emails belong to no account here).
pub(crate) fn commit_json(shared: &Shared, state: &State, sha: &str, c: &CommitInfo) -> Value {
    let api = shared.repo_api_url();
    let html = shared.html_url();
    let verification = crate::git_api::verification_json(state, sha, c);
    json!({
        "url": format!("{api}/commits/{sha}"),
        "sha": sha,
        "node_id": node_id("06:Commit", sha),
        "html_url": format!("{html}/commit/{sha}"),
        "comments_url": format!("{api}/commits/{sha}/comments"),
        "commit": {
            "url": format!("{api}/git/commits/{sha}"),
            "author": person_json(&c.author),
            "committer": person_json(&c.committer),
            "message": c.message,
            "tree": {"sha": c.tree, "url": format!("{api}/git/trees/{}", c.tree)},
            "comment_count": 0,
            "verification": verification,
        },
        "author": null,
        "committer": null,
        "parents": c.parents.iter().map(|p| json!({
            "sha": p,
            "url": format!("{api}/commits/{p}"),
            "html_url": format!("{html}/commit/{p}"),
        })).collect::<Vec<_>>(),
    })
}
