//! Which files a push touched, from the checkout's own git history.
//!
//! Runs the `git` program with arguments (never through a shell) and
//! `-c safe.directory=*`, because in a container the workspace belongs to another user and
//! git would refuse it as "dubious ownership". When the history cannot tell (a new branch, a
//! shallow clone, a forced push, no git at all), every artifact counts as touched; the
//! reason is returned so the log can say it.

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
    let Some(before) = before else {
        return Touched::All {
            reason: "the push created the branch, so there is no earlier commit to compare with".into(),
        };
    };
    if forced {
        return Touched::All {
            reason: "the push was forced, so its history cannot be trusted to list every change".into(),
        };
    }
    for commit in [before, after] {
        // The payload names the commits; only an object id goes on git's command line, so no
        // value can be read as an option.
        if !is_object_id(commit) {
            return Touched::All { reason: format!("the push names {commit:?}, which is not a commit id") };
        }
        match git(workspace, &["cat-file", "-e", &format!("{commit}^{{commit}}")]) {
            Ok(_) => {}
            Err(GitError::Missing) => {
                return Touched::All { reason: "git is not available in this environment".into() };
            }
            Err(GitError::Failed(_)) => {
                return Touched::All {
                    reason: format!(
                        "commit {commit} is not in the checkout (a shallow clone? use actions/checkout with `fetch-depth: 0`)"
                    ),
                };
            }
        }
    }
    let listing = match git(workspace, &["diff", "--name-status", "--no-renames", "-z", before, after, "--", root]) {
        Ok(out) => out,
        Err(e) => return Touched::All { reason: format!("git diff failed: {e}") },
    };
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
    Touched::Files(files)
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

/// The commit the checkout's HEAD points at, when git can tell.
pub fn local_head(workspace: &Path) -> Option<String> {
    let out = git(workspace, &["rev-parse", "--verify", "HEAD"]).ok()?;
    Some(String::from_utf8(out).ok()?.trim().to_string())
}

/// A full git object id: 40 (SHA-1) or 64 (SHA-256) hexadecimal digits.
fn is_object_id(text: &str) -> bool {
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
    fn parents_and_merge_base_of_a_pull_request_merge() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        run(d, &["init", "-q", "-b", "main"]);
        std::fs::write(d.join("a"), "1").unwrap();
        run(d, &["add", "."]);
        run(d, &["commit", "-qm", "root"]);
        let root = run(d, &["rev-parse", "HEAD"]);
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
