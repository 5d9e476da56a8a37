//! Which files a push touched, from the checkout's own git history.
//!
//! Runs the `git` program with arguments (never through a shell) and
//! `-c safe.directory=*`, because in a container the workspace belongs to another user and
//! git would refuse it as "dubious ownership". When the history cannot tell (a new branch, a
//! forced push), every artifact counts as touched; the reason is returned so the log can say
//! it. When only this checkout lacks what it takes (no git at all, as in the container image,
//! or a shallow clone without the push's commits), [`local_changes`] says so apart, and
//! [`crate::push_scope`] asks GitHub's compare API instead.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use std::process::Command;

/// How a file changed between `before` and `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileChange {
    Added,
    Modified { old: Vec<u8> },
    Removed { old: Vec<u8> },
}

/// The files under the projects root that changed in a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Touched {
    /// History could not tell; everything is in scope. The string says why.
    All { reason: String },
    /// Workspace-relative paths and how each changed (renames appear as removed + added).
    Files(Vec<(String, FileChange)>),
}

/// Reads the changes under `root` (workspace-relative) between two commits of the checkout
/// at `workspace`.
pub fn touched(workspace: &Path, root: &str, before: Option<&str>, after: &str, forced: bool) -> Touched {
    local_changes(workspace, root, before, after, forced).unwrap_or_else(|reason| Touched::All { reason })
}

/// Like [`touched`], but tells the two kinds of "cannot tell" apart: `Ok(Touched::All)` when
/// no history can list the push's changes (a new branch, a forced push, a payload value that
/// is not a commit id), `Err(reason)` when only this checkout lacks what it takes (git
/// itself, or a commit of the push, as in a shallow clone): GitHub's compare API can still
/// tell then (see [`crate::push_scope`]).
pub fn local_changes(
    workspace: &Path,
    root: &str,
    before: Option<&str>,
    after: &str,
    forced: bool,
) -> Result<Touched, String> {
    let before = match comparable(before, after, forced) {
        Ok(before) => before,
        Err(all) => return Ok(all),
    };
    for commit in [before, after] {
        match git(workspace, &["cat-file", "-e", &format!("{commit}^{{commit}}")]) {
            Ok(_) => {}
            Err(GitError::Missing) => return Err("git is not available in this environment".into()),
            Err(GitError::Failed(_)) => {
                return Err(format!(
                    "commit {commit} is not in the checkout (a shallow clone? use actions/checkout with `fetch-depth: 0`)"
                ));
            }
        }
    }
    let listing = git(workspace, &["diff", "--name-status", "--no-renames", "-z", before, after, "--", root])
        .map_err(|e| format!("git diff failed: {e}"))?;
    let mut files = Vec::new();
    let mut fields = listing.split(|b| *b == 0).filter(|f| !f.is_empty());
    while let (Some(status), Some(path)) = (fields.next(), fields.next()) {
        let path = String::from_utf8_lossy(path).into_owned();
        let old = || git(workspace, &["show", &format!("{before}:{path}")]).unwrap_or_default();
        let change = match status.first() {
            Some(b'A') => FileChange::Added,
            Some(b'D') => FileChange::Removed { old: old() },
            _ => FileChange::Modified { old: old() },
        };
        files.push((path, change));
    }
    Ok(Touched::Files(files))
}

/// The push's `before`, when the two ends of the push can be compared at all; otherwise
/// [`Touched::All`] with the reason, because no history, local or GitHub's, can list the
/// push's changes: a new branch has no earlier commit, a forced push may have dropped commits
/// whose changes a diff of its two ends no longer shows, and a value that is not a full
/// commit id never reaches git's command line or a URL.
pub fn comparable<'a>(before: Option<&'a str>, after: &str, forced: bool) -> Result<&'a str, Touched> {
    let Some(before) = before else {
        return Err(Touched::All {
            reason: "the push created the branch, so there is no earlier commit to compare with".into(),
        });
    };
    if forced {
        return Err(Touched::All {
            reason: "the push was forced, so its history cannot be trusted to list every change".into(),
        });
    }
    match [before, after].into_iter().find(|commit| !is_object_id(commit)) {
        Some(commit) => Err(Touched::All { reason: format!("the push names {commit:?}, which is not a commit id") }),
        None => Ok(before),
    }
}

/// Whether the checkout holds its whole history: git is there and the clone is not shallow.
/// Only then is [`last_change_times`] the time of each file's last change (a shallow clone's
/// oldest commit seems to add every file).
pub fn has_full_history(workspace: &Path) -> bool {
    git(workspace, &["rev-parse", "--is-shallow-repository"]).is_ok_and(|out| out.trim_ascii() == b"false")
}

/// The commit time of the last commit that changed each file under `root`, from one
/// `git log` over the checkout (empty when git or the history is unavailable). This is the
/// local side's time for the `last_update_wins` policy.
pub fn last_change_times(workspace: &Path, root: &str) -> BTreeMap<String, DateTime<Utc>> {
    let mut out = BTreeMap::new();
    let Ok(log) = git(workspace, &["log", "--format=%x00%ct", "--name-only", "--no-renames", "--", root]) else {
        return out;
    };
    let text = String::from_utf8_lossy(&log);
    let mut time = None;
    for line in text.lines() {
        if let Some(ts) = line.strip_prefix('\0') {
            time = ts.trim().parse::<i64>().ok().and_then(|t| DateTime::from_timestamp(t, 0));
        } else if let (Some(t), false) = (time, line.trim().is_empty()) {
            out.entry(line.to_string()).or_insert(t);
        }
    }
    out
}

/// The tree of a commit in the checkout, when git has it (saves an API call).
pub fn local_tree(workspace: &Path, commit: &str) -> Option<String> {
    if !is_object_id(commit) {
        return None;
    }
    let out = git(workspace, &["rev-parse", "--verify", &format!("{commit}^{{tree}}")]).ok()?;
    Some(String::from_utf8(out).ok()?.trim().to_string())
}

/// The commit the checkout's HEAD points at, when git can tell; without git (the container
/// image), as `.git/HEAD` names it (see [`head_from_files`]).
pub fn local_head(workspace: &Path) -> Option<String> {
    match git(workspace, &["rev-parse", "--verify", "HEAD"]) {
        Ok(out) => Some(String::from_utf8(out).ok()?.trim().to_string()),
        Err(GitError::Missing) => head_from_files(workspace),
        Err(GitError::Failed(_)) => None,
    }
}

/// The commit `.git/HEAD` names, read without git: a detached HEAD holds the commit id itself
/// (actions/checkout's checkout of a pull request or a commit), an attached one names a branch
/// whose commit is in `.git/refs/heads/…` or `.git/packed-refs`. Anything else (a `.git` file
/// of a worktree, a ref outside `refs/heads/`, a damaged file) is `None`: unknown, never a
/// guess.
pub fn head_from_files(workspace: &Path) -> Option<String> {
    let dir = workspace.join(".git");
    if !std::fs::symlink_metadata(&dir).ok()?.is_dir() {
        return None;
    }
    let head = std::fs::read_to_string(dir.join("HEAD")).ok()?;
    let head = head.trim();
    if is_object_id(head) {
        return Some(head.to_ascii_lowercase());
    }
    let name = head.strip_prefix("ref:")?.trim();
    let branch = name.strip_prefix("refs/heads/")?;
    if branch.split('/').any(|part| part.is_empty() || part == "." || part == "..") {
        return None;
    }
    if let Ok(text) = std::fs::read_to_string(dir.join(name)) {
        return Some(text.trim().to_ascii_lowercase()).filter(|id| is_object_id(id));
    }
    // `<id> <ref>` lines; `#` starts the header, `^` a peeled tag.
    let packed = std::fs::read_to_string(dir.join("packed-refs")).ok()?;
    packed
        .lines()
        .filter_map(|line| line.split_once(' '))
        .find(|(id, r)| *r == name && is_object_id(id))
        .map(|(id, _)| id.to_ascii_lowercase())
}

/// Whether the `git` program can be run here (the container image has none).
pub fn available() -> bool {
    !matches!(git(Path::new("."), &["--version"]), Err(GitError::Missing))
}

/// A full git object id: 40 (SHA-1) or 64 (SHA-256) hexadecimal digits.
pub fn is_object_id(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The parents a commit names, first parent first, read from the commit object itself: this
/// works in a shallow clone too, where the parents are named but not present.
pub fn parents(workspace: &Path, commit: &str) -> Option<Vec<String>> {
    if !is_object_id(commit) {
        return None;
    }
    let out = git(workspace, &["cat-file", "commit", commit]).ok()?;
    let text = String::from_utf8_lossy(&out);
    // The header ends at the first empty line; the message may hold anything.
    let header = text.split("\n\n").next().unwrap_or_default();
    Some(header.lines().filter_map(|l| l.strip_prefix("parent ")).map(|p| p.trim().to_string()).collect())
}

/// The best common ancestor of two commits, when the checkout holds enough history.
pub fn merge_base(workspace: &Path, a: &str, b: &str) -> Option<String> {
    if !is_object_id(a) || !is_object_id(b) {
        return None;
    }
    let out = git(workspace, &["merge-base", a, b]).ok()?;
    Some(String::from_utf8(out).ok()?.trim().to_string()).filter(|s| !s.is_empty())
}

/// Brings the checkout at `workspace` forward to `commit`, which the sync made on `branch` on
/// GitHub (`--pull` after a terminal `sync`): `git fetch origin <branch>`, then
/// `git merge --ff-only <commit>`, only when `branch` is checked out. `Err` says why not (another
/// branch checked out, local commits or changes in the way), for the person to pull themselves.
pub fn fast_forward(workspace: &Path, branch: &str, commit: &str) -> anyhow::Result<()> {
    use anyhow::Context as _;
    anyhow::ensure!(is_object_id(commit), "{commit:?} is not a commit id");
    let current =
        git(workspace, &["symbolic-ref", "--quiet", "--short", "HEAD"]).context("no branch is checked out")?;
    let current = String::from_utf8_lossy(&current).trim().to_string();
    anyhow::ensure!(current == branch, "the checkout is on {current}, not {branch}");
    git(workspace, &["fetch", "--quiet", "origin", branch]).with_context(|| format!("fetching {branch}"))?;
    git(workspace, &["merge", "--ff-only", "--quiet", commit]).context("fast-forwarding")?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
enum GitError {
    #[error("git is not installed")]
    Missing,
    #[error("{0}")]
    Failed(String),
}

fn git(workspace: &Path, args: &[&str]) -> Result<Vec<u8>, GitError> {
    let out = Command::new("git")
        .arg("-c")
        .arg("safe.directory=*")
        .arg("-C")
        .arg(workspace)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound { GitError::Missing } else { GitError::Failed(e.to_string()) }
        })?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(GitError::Failed(String::from_utf8_lossy(&out.stderr).trim().to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@e")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@e")
            .output()
            .unwrap();
        assert!(out.status.success(), "{:?}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// A new repository in `d` on `main` with one commit (file `a`); its id.
    fn one_commit(d: &Path) -> String {
        run(d, &["init", "-q", "-b", "main"]);
        std::fs::write(d.join("a"), "1").unwrap();
        run(d, &["add", "."]);
        run(d, &["commit", "-qm", "one"]);
        run(d, &["rev-parse", "HEAD"])
    }

    #[test]
    fn lists_added_modified_removed_with_old_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        run(d, &["init", "-q", "-b", "main"]);
        std::fs::create_dir_all(d.join("p/epics")).unwrap();
        std::fs::write(d.join("p/epics/a.md"), "a1").unwrap();
        std::fs::write(d.join("p/epics/b.md"), "b1").unwrap();
        std::fs::write(d.join("outside.md"), "x").unwrap();
        run(d, &["add", "."]);
        run(d, &["commit", "-qm", "one"]);
        let before = run(d, &["rev-parse", "HEAD"]);
        std::fs::write(d.join("p/epics/a.md"), "a2").unwrap();
        std::fs::remove_file(d.join("p/epics/b.md")).unwrap();
        std::fs::write(d.join("p/epics/c.md"), "c1").unwrap();
        std::fs::write(d.join("outside.md"), "y").unwrap();
        run(d, &["add", "-A"]);
        run(d, &["commit", "-qm", "two"]);
        let after = run(d, &["rev-parse", "HEAD"]);
        let t = touched(d, "p", Some(&before), &after, false);
        assert_eq!(
            t,
            Touched::Files(vec![
                ("p/epics/a.md".into(), FileChange::Modified { old: b"a1".to_vec() }),
                ("p/epics/b.md".into(), FileChange::Removed { old: b"b1".to_vec() }),
                ("p/epics/c.md".into(), FileChange::Added),
            ])
        );
        assert!(matches!(
            touched(d, "p", Some("1234567890123456789012345678901234567890"), &after, false),
            Touched::All { .. }
        ));
        assert!(matches!(touched(d, "p", None, &after, false), Touched::All { .. }));
        // Values from the payload that are not object ids never reach git's command line.
        for hostile in ["--output=/tmp/pwned", "HEAD", "main", &after[..12]] {
            match touched(d, "p", Some(hostile), &after, false) {
                Touched::All { reason } => assert!(reason.contains("not a commit id"), "{reason}"),
                other => panic!("{hostile}: {other:?}"),
            }
            assert!(matches!(touched(d, "p", Some(&before), hostile, false), Touched::All { .. }));
            assert_eq!(local_tree(d, hostile), None);
        }
        assert!(matches!(touched(d, "p", Some(&before), &after, true), Touched::All { .. }));
        assert_eq!(local_head(d).as_deref(), Some(after.as_str()));
        assert_eq!(local_tree(d, &after).map(|t| t.len()), Some(40));
        let times = last_change_times(d, "p");
        assert!(times.contains_key("p/epics/a.md") && times.contains_key("p/epics/c.md"));
    }

    #[test]
    fn a_missing_commit_is_a_gap_but_a_new_branch_or_forced_push_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let head = one_commit(d);
        let unknown = "1234567890123456789012345678901234567890";
        match local_changes(d, "p", Some(unknown), &head, false) {
            Err(reason) => assert!(reason.contains("not in the checkout") && reason.contains(unknown), "{reason}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(local_changes(d, "p", None, &head, false), Ok(Touched::All { .. })));
        assert!(matches!(local_changes(d, "p", Some(&head), &head, true), Ok(Touched::All { .. })));
        assert!(matches!(local_changes(d, "p", Some("HEAD"), &head, false), Ok(Touched::All { .. })));
        assert_eq!(local_changes(d, "p", Some(&head), &head, false), Ok(Touched::Files(vec![])));
        assert_eq!(comparable(Some(&head), &head, false).ok(), Some(head.as_str()));
    }

    #[test]
    fn a_shallow_clone_lacks_full_history() {
        let dir = tempfile::tempdir().unwrap();
        let origin = dir.path().join("origin");
        std::fs::create_dir(&origin).unwrap();
        run(&origin, &["init", "-q", "-b", "main"]);
        for n in ["1", "2"] {
            std::fs::write(origin.join("a"), n).unwrap();
            run(&origin, &["add", "."]);
            run(&origin, &["commit", "-qm", n]);
        }
        assert!(has_full_history(&origin));
        let shallow = dir.path().join("shallow");
        let url = format!("file://{}", origin.display());
        run(dir.path(), &["clone", "-q", "--depth", "1", &url, shallow.to_str().unwrap()]);
        assert!(!has_full_history(&shallow));
        assert!(!has_full_history(dir.path()), "not a checkout at all");
    }

    #[test]
    fn head_is_read_from_the_files_as_git_would() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let head = one_commit(d);
        // On a branch, the loose ref.
        assert_eq!(head_from_files(d), Some(head.clone()));
        // Packed.
        run(d, &["pack-refs", "--all"]);
        assert!(!d.join(".git/refs/heads/main").exists());
        assert_eq!(head_from_files(d), Some(head.clone()));
        // Detached, as actions/checkout leaves a pull request's merge.
        run(d, &["checkout", "-q", "--detach"]);
        assert_eq!(head_from_files(d), Some(head.clone()));
        assert_eq!(local_head(d), head_from_files(d));
        // Names that lead elsewhere are not followed.
        std::fs::write(d.join(".git/HEAD"), "ref: refs/heads/../../../etc/passwd\n").unwrap();
        assert_eq!(head_from_files(d), None);
        std::fs::write(d.join(".git/HEAD"), "ref: refs/remotes/origin/main\n").unwrap();
        assert_eq!(head_from_files(d), None);
        std::fs::write(d.join(".git/HEAD"), "not a head\n").unwrap();
        assert_eq!(head_from_files(d), None);
        assert_eq!(head_from_files(&d.join("nowhere")), None);
    }

    #[test]
    fn parents_and_merge_base_of_a_pull_request_merge() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let root = one_commit(d);
        assert_eq!(parents(d, &root), Some(vec![]));
        run(d, &["checkout", "-qb", "topic"]);
        std::fs::write(d.join("b"), "2").unwrap();
        run(d, &["add", "."]);
        run(d, &["commit", "-qm", "parent\n\nparent 1234 is not a header line"]);
        let topic = run(d, &["rev-parse", "HEAD"]);
        run(d, &["checkout", "-q", "main"]);
        std::fs::write(d.join("c"), "3").unwrap();
        run(d, &["add", "."]);
        run(d, &["commit", "-qm", "main moves"]);
        let main = run(d, &["rev-parse", "HEAD"]);
        run(d, &["merge", "-q", "--no-ff", "-m", "merge", "topic"]);
        let merge = run(d, &["rev-parse", "HEAD"]);
        assert_eq!(parents(d, &merge), Some(vec![main.clone(), topic.clone()]));
        assert_eq!(parents(d, &topic), Some(vec![root.clone()]));
        assert_eq!(merge_base(d, &main, &topic), Some(root));
        assert_eq!(parents(d, "1234567890123456789012345678901234567890"), None);
        assert_eq!(merge_base(d, &main, "1234567890123456789012345678901234567890"), None);
    }
}
