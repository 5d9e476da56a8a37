//! The real bare repository behind the git database endpoints, driven through the `git` CLI.
//!
//! Using git itself (not a reimplementation) means object ids, trees and fast-forward checks
//! are exactly git's, and a test can look at the result with `git show`. Every call runs
//! `git --git-dir <dir>` directly (never through a shell) with the caller's git environment
//! and user/system config removed, so a developer's `commit.gpgSign` or a hook's `GIT_DIR`
//! cannot change what the stand-in does.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// An author or committer line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ident {
    pub name: String,
    pub email: String,
    /// Seconds since the epoch.
    pub time: i64,
    /// Offset from UTC in minutes (kept so a round trip is byte-exact).
    pub offset_minutes: i32,
}

impl Ident {
    /// A person (as on github.com), at `time` seconds since the epoch, in UTC.
    pub(crate) fn person(login: &str, time: i64) -> Ident {
        Ident { name: login.to_string(), email: format!("{login}@users.noreply.github.com"), time, offset_minutes: 0 }
    }

    fn git_date(&self) -> String {
        let sign = if self.offset_minutes < 0 { '-' } else { '+' };
        let m = self.offset_minutes.abs();
        format!("{} {sign}{:02}{:02}", self.time, m / 60, m % 60)
    }

    /// GitHub serves commit dates in UTC with a `Z`.
    pub(crate) fn iso_date(&self) -> String {
        chrono::DateTime::from_timestamp(self.time, 0).map(crate::state::format_time).unwrap_or_default()
    }
}

/// A parsed commit object.
#[derive(Debug, Clone)]
pub(crate) struct CommitInfo {
    pub tree: String,
    pub parents: Vec<String>,
    pub author: Ident,
    pub committer: Ident,
    pub message: String,
    /// The raw object, served as the signed payload of a verified commit.
    pub raw: String,
}

/// One entry of `git ls-tree -l`.
#[derive(Debug, Clone)]
pub(crate) struct TreeEntry {
    pub mode: String,
    pub kind: String,
    pub sha: String,
    pub size: Option<u64>,
    pub path: String,
}

/// One change requested by `POST git/trees`.
#[derive(Debug, Clone)]
pub(crate) enum TreeChange {
    /// Put object `sha` (blob, commit or tree, per `kind`) at `path` with `mode`.
    Put { path: String, mode: String, kind: String, sha: String },
    /// Remove `path` (a file, or everything under it when it is a directory).
    Delete { path: String },
}

pub(crate) struct Git {
    dir: PathBuf,
}

impl Git {
    pub(crate) fn new(dir: PathBuf) -> Git {
        Git { dir }
    }

    fn command(&self) -> Command {
        let mut c = Command::new("git");
        for var in [
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_OBJECT_DIRECTORY",
            "GIT_ALTERNATE_OBJECT_DIRECTORIES",
            "GIT_AUTHOR_NAME",
            "GIT_AUTHOR_EMAIL",
            "GIT_AUTHOR_DATE",
            "GIT_COMMITTER_NAME",
            "GIT_COMMITTER_EMAIL",
            "GIT_COMMITTER_DATE",
        ] {
            c.env_remove(var);
        }
        c.env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_LITERAL_PATHSPECS", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .arg("--git-dir")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    /// Runs git; `Err(stderr)` when it exits non-zero.
    ///
    /// The input is written from another thread while the output is read: git answers
    /// `--stdin-paths` line by line, and a large batch would otherwise fill both pipes and
    /// hang.
    fn run(&self, mut c: Command, stdin: Option<&[u8]>) -> Result<Vec<u8>, String> {
        if stdin.is_some() {
            c.stdin(Stdio::piped());
        }
        let mut child = c.spawn().map_err(|e| format!("cannot run git: {e}"))?;
        let out = std::thread::scope(|scope| {
            let writer = stdin.map(|input| {
                let mut pipe = child.stdin.take().expect("piped stdin");
                scope.spawn(move || pipe.write_all(input))
            });
            let out = child.wait_with_output().map_err(|e| format!("git: {e}"));
            match writer.map(|w| w.join()) {
                Some(Ok(Err(e))) => Err(format!("writing to git: {e}")),
                Some(Err(_)) => Err("writing to git: the writer panicked".to_string()),
                _ => out,
            }
        })?;
        if out.status.success() { Ok(out.stdout) } else { Err(String::from_utf8_lossy(&out.stderr).trim().to_string()) }
    }

    fn text(&self, args: &[&str]) -> Result<String, String> {
        let mut c = self.command();
        c.args(args);
        self.run(c, None).map(|o| String::from_utf8_lossy(&o).trim_end_matches('\n').to_string())
    }

    /// Whether `s` looks like a full object id (GitHub only accepts full SHAs in bodies).
    pub(crate) fn is_sha(s: &str) -> bool {
        s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
    }

    /// The object `rev` names, peeled to `kind` (`commit`, `tree`, …), if it exists.
    pub(crate) fn resolve(&self, rev: &str, kind: &str) -> Option<String> {
        if rev.starts_with('-') {
            return None;
        }
        self.text(&["rev-parse", "--verify", "--quiet", &format!("{rev}^{{{kind}}}")]).ok().filter(|s| Git::is_sha(s))
    }

    /// What a full ref name (`refs/heads/main`) points at, without peeling.
    pub(crate) fn read_ref(&self, full_ref: &str) -> Option<String> {
        if !self.valid_ref_name(full_ref) {
            return None;
        }
        self.text(&["rev-parse", "--verify", "--quiet", full_ref]).ok().filter(|s| Git::is_sha(s))
    }

    pub(crate) fn valid_ref_name(&self, full_ref: &str) -> bool {
        full_ref.starts_with("refs/") && self.text(&["check-ref-format", full_ref]).is_ok()
    }

    /// `blob`, `tree`, `commit` or `tag`; `None` when the object does not exist.
    pub(crate) fn object_type(&self, sha: &str) -> Option<String> {
        if !Git::is_sha(sha) {
            return None;
        }
        self.text(&["cat-file", "-t", sha]).ok()
    }

    pub(crate) fn is_ancestor(&self, ancestor: &str, descendant: &str) -> bool {
        self.text(&["merge-base", "--is-ancestor", ancestor, descendant]).is_ok()
    }

    /// Moves `full_ref` to `new` only if it still points at `old` (`None`: must not exist).
    pub(crate) fn update_ref(&self, full_ref: &str, new: &str, old: Option<&str>) -> Result<(), String> {
        let zero = "0".repeat(40);
        let old = old.unwrap_or(&zero);
        self.text(&["update-ref", "-m", "github-standin", full_ref, new, old]).map(|_| ())
    }

    pub(crate) fn delete_ref(&self, full_ref: &str, old: &str) -> Result<(), String> {
        self.text(&["update-ref", "-d", full_ref, old]).map(|_| ())
    }

    /// All refs under `refs/` as (name, sha).
    pub(crate) fn list_refs(&self) -> Vec<(String, String)> {
        self.text(&["for-each-ref", "--format=%(refname) %(objectname)"])
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(n, s)| (n.to_string(), s.to_string()))
            .collect()
    }

    pub(crate) fn write_blob(&self, content: &[u8]) -> Result<String, String> {
        let mut c = self.command();
        c.args(["hash-object", "-w", "--stdin"]);
        self.run(c, Some(content)).map(|o| String::from_utf8_lossy(&o).trim().to_string())
    }

    /// Writes many blobs with one git process (one process per blob costs milliseconds,
    /// which a tree of thousands of inline files turns into minutes).
    pub(crate) fn write_blobs(&self, contents: &[&[u8]]) -> Result<Vec<String>, String> {
        if contents.len() <= 1 {
            return contents.iter().map(|c| self.write_blob(c)).collect();
        }
        let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut paths = String::new();
        for (i, content) in contents.iter().enumerate() {
            let path = scratch.path().join(i.to_string());
            std::fs::write(&path, content).map_err(|e| format!("scratch file: {e}"))?;
            paths.push_str(path.to_str().ok_or("scratch path is not UTF-8")?);
            paths.push('\n');
        }
        let mut c = self.command();
        c.args(["hash-object", "-w", "--no-filters", "--stdin-paths"]);
        let out = self.run(c, Some(paths.as_bytes()))?;
        let shas: Vec<String> = String::from_utf8_lossy(&out).lines().map(str::to_string).collect();
        if shas.len() != contents.len() || !shas.iter().all(|s| Git::is_sha(s)) {
            return Err(format!("git hash-object wrote {} object(s) for {} blob(s)", shas.len(), contents.len()));
        }
        Ok(shas)
    }

    pub(crate) fn read_blob(&self, sha: &str) -> Option<Vec<u8>> {
        if self.object_type(sha).as_deref() != Some("blob") {
            return None;
        }
        let mut c = self.command();
        c.args(["cat-file", "blob", sha]);
        self.run(c, None).ok()
    }

    pub(crate) fn commit(&self, sha: &str) -> Option<CommitInfo> {
        if self.object_type(sha).as_deref() != Some("commit") {
            return None;
        }
        let mut c = self.command();
        c.args(["cat-file", "commit", sha]);
        let raw = String::from_utf8_lossy(&self.run(c, None).ok()?).to_string();
        parse_commit(&raw)
    }

    /// Writes a commit object; the message is kept verbatim (no cleanup), as GitHub does.
    pub(crate) fn commit_tree(
        &self,
        tree: &str,
        parents: &[String],
        message: &str,
        author: &Ident,
        committer: &Ident,
    ) -> Result<String, String> {
        let mut c = self.command();
        c.args(["commit-tree", tree]);
        for p in parents {
            c.args(["-p", p]);
        }
        c.args(["-F", "-"])
            .env("GIT_AUTHOR_NAME", &author.name)
            .env("GIT_AUTHOR_EMAIL", &author.email)
            .env("GIT_AUTHOR_DATE", author.git_date())
            .env("GIT_COMMITTER_NAME", &committer.name)
            .env("GIT_COMMITTER_EMAIL", &committer.email)
            .env("GIT_COMMITTER_DATE", committer.git_date());
        self.run(c, Some(message.as_bytes())).map(|o| String::from_utf8_lossy(&o).trim().to_string())
    }

    /// `git ls-tree -l` of `treeish` (optionally recursive, with the trees themselves).
    pub(crate) fn ls_tree(&self, treeish: &str, recursive: bool) -> Option<Vec<TreeEntry>> {
        let mut c = self.command();
        c.args(["ls-tree", "-z", "-l"]);
        if recursive {
            c.args(["-r", "-t"]);
        }
        c.arg(treeish);
        let out = self.run(c, None).ok()?;
        Some(parse_ls_tree(&out))
    }

    /// The entry at `path` inside `treeish`, if any.
    pub(crate) fn entry_at(&self, treeish: &str, path: &str) -> Option<TreeEntry> {
        let mut c = self.command();
        c.args(["ls-tree", "-z", "-l", treeish, "--", path]);
        let out = self.run(c, None).ok()?;
        parse_ls_tree(&out).into_iter().find(|e| e.path == path)
    }

    /// Builds a tree: `base` (or nothing) with `changes` applied, through a throw-away index.
    pub(crate) fn build_tree(&self, base: Option<&str>, changes: &[TreeChange]) -> Result<String, String> {
        let scratch = tempfile::tempdir().map_err(|e| e.to_string())?;
        let index = scratch.path().join("index");
        let worktree = scratch.path().join("empty-worktree");
        std::fs::create_dir(&worktree).map_err(|e| e.to_string())?;
        // Some plumbing (update-index --force-remove, read-tree --prefix) insists on a work
        // tree even though it never touches it: give it an empty one.
        let git = |args: &[&str]| -> Result<String, String> {
            let mut c = self.command();
            c.env("GIT_INDEX_FILE", &index).arg("--work-tree").arg(&worktree).args(args);
            self.run(c, None).map(|o| String::from_utf8_lossy(&o).trim().to_string())
        };
        match base {
            Some(b) => git(&["read-tree", b])?,
            None => git(&["read-tree", "--empty"])?,
        };
        // Files only (the usual commit): one `update-index` for all of them. `--replace`
        // removes what stands in the way (a directory where a file goes, or the reverse),
        // as the one-by-one path below does by hand.
        let files_only = changes.iter().all(|c| matches!(c, TreeChange::Put { kind, .. } if kind != "tree"));
        if files_only && changes.len() > 1 {
            let mut info = Vec::new();
            for change in changes {
                if let TreeChange::Put { path, mode, sha, .. } = change {
                    info.extend_from_slice(format!("{mode} {sha}\t{path}\0").as_bytes());
                }
            }
            let mut c = self.command();
            c.env("GIT_INDEX_FILE", &index).arg("--work-tree").arg(&worktree).args([
                "update-index",
                "--add",
                "--replace",
                "-z",
                "--index-info",
            ]);
            self.run(c, Some(&info))?;
            return git(&["write-tree"]);
        }
        for change in changes {
            match change {
                TreeChange::Delete { path } => remove_path(&git, path)?,
                TreeChange::Put { path, kind, sha, .. } if kind == "tree" => {
                    remove_path(&git, path)?;
                    git(&["read-tree", &format!("--prefix={path}/"), sha])?;
                }
                TreeChange::Put { path, mode, sha, .. } => {
                    remove_path(&git, &format!("{path}/"))?;
                    git(&["update-index", "--add", "--replace", "--cacheinfo", &format!("{mode},{sha},{path}")])?;
                }
            }
        }
        git(&["write-tree"])
    }

    /// Commits `files` on `branch` as another person would (for a simulated push).
    pub(crate) fn commit_files(
        &self,
        branch: &str,
        files: &[(String, String)],
        message: &str,
    ) -> Result<String, String> {
        let full_ref = format!("refs/heads/{branch}");
        let head = self.read_ref(&full_ref);
        let mut changes = Vec::new();
        for (path, content) in files {
            let sha = self.write_blob(content.as_bytes())?;
            changes.push(TreeChange::Put { path: path.clone(), mode: "100644".into(), kind: "blob".into(), sha });
        }
        let tree = self.build_tree(head.as_deref(), &changes)?;
        let who = Ident {
            name: "Someone Else".into(),
            email: "someone.else@example.com".into(),
            time: chrono::Utc::now().timestamp(),
            offset_minutes: 0,
        };
        let parents: Vec<String> = head.iter().cloned().collect();
        let commit = self.commit_tree(&tree, &parents, message, &who, &who)?;
        self.update_ref(&full_ref, &commit, head.as_deref())?;
        Ok(commit)
    }

    /// The best common ancestor of two commits, if they have one.
    pub(crate) fn merge_base(&self, a: &str, b: &str) -> Option<String> {
        if !Git::is_sha(a) || !Git::is_sha(b) {
            return None;
        }
        self.text(&["merge-base", a, b]).ok().filter(|s| Git::is_sha(s))
    }

    /// The commits reachable from `commit`, newest first (`git rev-list`), only those that
    /// changed `path` when given (git's history simplification, as GitHub's list does).
    pub(crate) fn history(&self, commit: &str, path: Option<&str>) -> Vec<String> {
        if !Git::is_sha(commit) {
            return Vec::new();
        }
        let mut args = vec!["rev-list", commit];
        if let Some(p) = path {
            args.extend(["--", p]);
        }
        self.text(&args).map(|out| out.lines().map(str::to_string).collect()).unwrap_or_default()
    }

    /// The commits reachable from `to` but not from `from` (`git rev-list from..to`), oldest
    /// first, as GitHub's compare lists them.
    pub(crate) fn commits_between(&self, from: &str, to: &str) -> Vec<String> {
        if !Git::is_sha(from) || !Git::is_sha(to) {
            return Vec::new();
        }
        self.text(&["rev-list", "--reverse", &format!("{from}..{to}")])
            .map(|out| out.lines().map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// The files that differ from commit `from` to commit `to`, with renames detected (git's
    /// default similarity, 50%) and line counts, in git's path order.
    pub(crate) fn diff(&self, from: &str, to: &str) -> Result<Vec<DiffEntry>, String> {
        if !Git::is_sha(from) || !Git::is_sha(to) {
            return Err("not commit ids".into());
        }
        let mut c = self.command();
        c.args(["diff-tree", "-r", "-z", "-M", "--no-abbrev", "--raw", from, to]);
        let raw = self.run(c, None)?;
        let mut c = self.command();
        c.args(["diff-tree", "-r", "-z", "-M", "--numstat", from, to]);
        let numstat = self.run(c, None)?;
        let counts = parse_numstat(&numstat);
        let mut entries = parse_raw_diff(&raw);
        for e in &mut entries {
            if let Some((added, deleted)) = counts.get(&e.path) {
                e.additions = *added;
                e.deletions = *deleted;
            }
        }
        Ok(entries)
    }
}

/// One file of `git diff-tree --raw`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DiffEntry {
    /// git's status letter: `A`, `D`, `M`, `R`, `C`, `T`.
    pub status: char,
    pub path: String,
    /// For a rename or copy: where it came from.
    pub previous_path: Option<String>,
    pub old_sha: String,
    pub new_sha: String,
    /// Lines added and deleted (0 for a binary file, as GitHub counts it).
    pub additions: u64,
    pub deletions: u64,
}

/// Parses `diff-tree -z --raw`: `:old_mode new_mode old_sha new_sha STATUS\0path\0`, with a
/// second path for renames and copies (`R086\0old\0new\0`).
fn parse_raw_diff(out: &[u8]) -> Vec<DiffEntry> {
    let text = String::from_utf8_lossy(out);
    let mut fields = text.split('\0');
    let mut entries = Vec::new();
    while let Some(meta) = fields.next() {
        let Some(meta) = meta.strip_prefix(':') else { continue };
        let parts: Vec<&str> = meta.split(' ').collect();
        let (Some(old_sha), Some(new_sha), Some(status)) = (parts.get(2), parts.get(3), parts.get(4)) else {
            continue;
        };
        let letter = status.chars().next().unwrap_or('M');
        let Some(first) = fields.next() else { break };
        let (path, previous_path) = if matches!(letter, 'R' | 'C') {
            let Some(second) = fields.next() else { break };
            (second.to_string(), Some(first.to_string()))
        } else {
            (first.to_string(), None)
        };
        entries.push(DiffEntry {
            status: letter,
            path,
            previous_path,
            old_sha: old_sha.to_string(),
            new_sha: new_sha.to_string(),
            additions: 0,
            deletions: 0,
        });
    }
    entries
}

/// Parses `diff-tree -z --numstat` into (lines added, lines deleted) by (new) path:
/// `added\tdeleted\tpath\0`, or `added\tdeleted\t\0old\0new\0` for a rename; `-` for binary.
fn parse_numstat(out: &[u8]) -> std::collections::HashMap<String, (u64, u64)> {
    let text = String::from_utf8_lossy(out);
    let mut fields = text.split('\0');
    let mut counts = std::collections::HashMap::new();
    while let Some(record) = fields.next() {
        let mut parts = record.splitn(3, '\t');
        let (Some(added), Some(deleted), Some(path)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let path = if path.is_empty() {
            // A rename: the old path, then the new one.
            let _old = fields.next();
            fields.next().unwrap_or_default().to_string()
        } else {
            path.to_string()
        };
        counts.insert(path, (added.parse().unwrap_or(0), deleted.parse().unwrap_or(0)));
    }
    counts
}

/// Removes `path` from the scratch index: the file itself, or everything under `path/`.
fn remove_path(git: &dyn Fn(&[&str]) -> Result<String, String>, path: &str) -> Result<(), String> {
    let dir_prefix = if path.ends_with('/') { path.to_string() } else { format!("{path}/") };
    let listed = git(&["ls-files", "-z"])?;
    let mut doomed: Vec<&str> =
        listed.split('\0').filter(|p| !p.is_empty() && (*p == path || p.starts_with(&dir_prefix))).collect();
    doomed.dedup();
    for p in doomed {
        git(&["update-index", "--force-remove", "--", p])?;
    }
    Ok(())
}

fn parse_ls_tree(out: &[u8]) -> Vec<TreeEntry> {
    String::from_utf8_lossy(out)
        .split('\0')
        .filter_map(|rec| {
            let (meta, path) = rec.split_once('\t')?;
            let mut it = meta.split_whitespace();
            let mode = it.next()?.to_string();
            let kind = it.next()?.to_string();
            let sha = it.next()?.to_string();
            let size = it.next().and_then(|s| s.parse().ok());
            Some(TreeEntry { mode, kind, sha, size, path: path.to_string() })
        })
        .collect()
}

fn parse_ident(value: &str) -> Option<Ident> {
    let (name, rest) = value.split_once(" <")?;
    let (email, rest) = rest.split_once("> ")?;
    let (time, tz) = rest.trim().split_once(' ')?;
    let sign = if tz.starts_with('-') { -1 } else { 1 };
    let digits = tz.trim_start_matches(['+', '-']);
    let hours: i32 = digits.get(0..2)?.parse().ok()?;
    let minutes: i32 = digits.get(2..4)?.parse().ok()?;
    Some(Ident {
        name: name.to_string(),
        email: email.to_string(),
        time: time.parse().ok()?,
        offset_minutes: sign * (hours * 60 + minutes),
    })
}

fn parse_commit(raw: &str) -> Option<CommitInfo> {
    let (headers, message) = raw.split_once("\n\n").unwrap_or((raw, ""));
    let mut tree = None;
    let mut parents = Vec::new();
    let mut author = None;
    let mut committer = None;
    for line in headers.lines() {
        match line.split_once(' ') {
            Some(("tree", v)) => tree = Some(v.to_string()),
            Some(("parent", v)) => parents.push(v.to_string()),
            Some(("author", v)) => author = parse_ident(v),
            Some(("committer", v)) => committer = parse_ident(v),
            _ => {}
        }
    }
    Some(CommitInfo {
        tree: tree?,
        parents,
        author: author?,
        committer: committer?,
        message: message.to_string(),
        raw: raw.to_string(),
    })
}
