//! Reading the workspace: the projects under the projects root that sync (each with the
//! repository its `project_config.toml` names), and their artifacts of the configured
//! milestone type.
//!
//! Produces plain values (parsed artifacts, and a fingerprint of each file for later edits)
//! and diagnostics; a file that cannot be read is reported and left out, and the rest goes
//! on. Files are read and parsed on several threads; the results keep the files' order, so
//! artifacts and diagnostics come out the same on every run.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use crate::artifact::{self, Artifact, normalize_label};
use crate::diagnostic::{Diagnostic, Level};
use crate::project::{Project, ProjectConfig};

/// Larger artifact files are refused: no plan document needs a megabyte, and reading one
/// whole into memory on every run is how a mistake becomes an outage.
pub const MAX_ARTIFACT_BYTES: u64 = 1024 * 1024;

/// Everything read from the workspace.
#[derive(Debug, Clone, Default)]
pub struct Workspace {
    /// The projects that sync, in folder order.
    pub projects: Vec<Project>,
    /// The projects under the root that do not sync, and why (for `check` and the log).
    pub skipped: Vec<Skipped>,
    /// Every artifact read, for format-preserving edits.
    pub files: Files,
    pub diagnostics: Vec<Diagnostic>,
}

/// The artifact files read, by workspace-relative path: a fingerprint of each file's bytes,
/// not the bytes. An edit reads its file again and goes ahead only when the bytes are still
/// the ones the plan was made from, so a workspace of 10,000 artifacts does not keep 25 MB
/// of text in memory for the few files a run edits.
///
/// When the branch head has moved on from the checkout, the files that differ are laid over
/// the workspace's with their bytes at the head ([`Workspace::overlay`]); those are held in
/// memory, since they are few.
#[derive(Debug, Clone, Default)]
pub struct Files {
    root: PathBuf,
    fingerprints: BTreeMap<String, u64>,
    /// Files as the branch head has them where it differs from the checkout (`None`:
    /// removed at the head).
    overlay: BTreeMap<String, Option<Vec<u8>>>,
}

/// A project under the projects root that does not sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub slug: String,
    /// Why, with the fix: "sync is not enabled (`enable_sync = true` …)".
    pub why: String,
}

impl Files {
    fn new(root: &Path) -> Files {
        Files { root: root.to_path_buf(), fingerprints: BTreeMap::new(), overlay: BTreeMap::new() }
    }

    /// The bytes of `path` as they were read: `Ok(None)` for a path that was not read (not an
    /// artifact of this run), an error when the file changed or became unreadable since.
    pub fn get(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        if let Some(at_head) = self.overlay.get(path) {
            return Ok(at_head.clone());
        }
        let Some(&fingerprint) = self.fingerprints.get(path) else { return Ok(None) };
        let bytes = read_file(&self.root, path).map_err(|d| format!("{path}: {}", d.message))?;
        if fingerprint_of(&bytes) != fingerprint {
            return Err(format!("{path} changed in the workspace while the sync ran; its changes are not written"));
        }
        Ok(Some(bytes))
    }

    /// Whether `path` was read.
    pub fn contains(&self, path: &str) -> bool {
        self.fingerprints.contains_key(path) || self.overlay.get(path).is_some_and(Option::is_some)
    }

    /// Whether a file is at `path` in the tree planned on: the head's where it was laid over
    /// the checkout, else the workspace's.
    pub fn exists(&self, path: &str) -> bool {
        match self.overlay.get(path) {
            Some(at_head) => at_head.is_some(),
            None => std::fs::symlink_metadata(self.root.join(path)).is_ok(),
        }
    }

    pub fn len(&self) -> usize {
        self.fingerprints.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
    }
}

impl Workspace {
    /// Plans on the branch head rather than the checkout: `changes` are the files under the
    /// projects' artifact folders that differ at the head (workspace-relative paths), with
    /// their bytes there (`None`: removed). Each replaces the checkout's version of its path in
    /// the projects (parsed, reported and counted as a freshly read file would be) and in
    /// [`Files`]. Files outside every artifact folder are ignored: project configurations are
    /// read from the checkout.
    pub fn overlay(&mut self, changes: Vec<(String, Option<Vec<u8>>)>) {
        for (path, bytes) in changes {
            let Some(project) = self.projects.iter_mut().find(|p| in_artifact_folder(p, &path)) else { continue };
            project.artifacts.retain(|a| a.path != path);
            project.broken.retain(|b| *b != path);
            self.diagnostics.retain(|d| d.file.as_deref() != Some(path.as_str()));
            if let Some(bytes) = &bytes {
                let parsed = if bytes.len() as u64 > MAX_ARTIFACT_BYTES {
                    Err(too_large(&path, bytes.len() as u64))
                } else {
                    artifact::parse(&path, bytes)
                };
                accept(project, &path, parsed, &mut self.diagnostics);
                project.artifacts.sort_by(|a, b| a.path.cmp(&b.path));
                project.broken.sort();
            }
            self.files.overlay.insert(path, bytes);
        }
    }
}

/// Whether `path` is a file directly in `project`'s artifact folder, where the reader looks.
fn in_artifact_folder(project: &Project, path: &str) -> bool {
    path.strip_prefix(&format!("{}/{}/", project.dir, project.config.artifact_folder()))
        .is_some_and(|name| !name.contains('/') && name.ends_with(".md"))
}

/// Files a project with what reading one of its artifact files gave: an artifact of the
/// milestone type (with a warning for a status the project does not know), a file of another
/// type (skipped), or a file that cannot be read (reported, and its name's ID kept taken).
/// True when it is an artifact of the milestone type.
fn accept(
    project: &mut Project,
    path: &str,
    read: Result<Artifact, Diagnostic>,
    diagnostics: &mut Vec<Diagnostic>,
) -> bool {
    match read {
        Ok(mut a) if normalize_label(&a.kind) == project.config.milestone_kind() => {
            let config = &project.config;
            let statuses: Vec<&String> = config
                .custom_statuses
                .iter()
                .chain([&config.closed_status, &config.reopened_status, &config.archived_status])
                .collect();
            if !a.status.trim().is_empty() && !artifact::is_known_status(&a.status, &statuses) {
                a.warnings.push(unknown_status(&a));
            }
            project.artifacts.push(a);
            true
        }
        Ok(a) => {
            tracing::debug!("{path}: type {:?} is not the milestone type; skipped", a.kind);
            false
        }
        Err(d) => {
            diagnostics.push(d);
            project.broken.push(path.to_string());
            false
        }
    }
}

fn fingerprint_of(bytes: &[u8]) -> u64 {
    // SipHash with fixed keys: the same bytes give the same value within a run.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

/// Reads the projects under `root` (workspace-relative) that sync, whichever repository each
/// names; only `only` when given. `terminal` picks how messages name a setting: the flag a
/// person typed, or the input a workflow set.
pub fn read(workspace: &Path, root: &str, only: Option<&str>, terminal: bool) -> Workspace {
    let mut out = Workspace { files: Files::new(workspace), ..Workspace::default() };
    let root_dir = workspace.join(root);
    if let Err(d) = refuse_links(workspace, root) {
        out.diagnostics.push(d);
        return out;
    }
    let mut slugs: Vec<String> = match std::fs::read_dir(&root_dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter(|e| match e.file_type() {
                Ok(t) if t.is_symlink() => {
                    let path = format!("{root}/{}", e.file_name().to_string_lossy());
                    out.diagnostics.push(link_refused(workspace, &path));
                    false
                }
                Ok(t) => t.is_dir(),
                Err(_) => false,
            })
            .filter_map(|e| e.file_name().into_string().ok())
            .collect(),
        Err(_) => {
            out.diagnostics.push(Diagnostic::general(
                Level::Warning,
                format!(
                    "no projects folder at `{root}`: nothing to sync. If your projects live elsewhere, set {}",
                    crate::config::setting_name("projects-root", terminal)
                ),
            ));
            return out;
        }
    };
    slugs.sort();
    if let Some(only) = only
        && !slugs.iter().any(|s| s == only)
    {
        out.diagnostics.push(Diagnostic::general(
            Level::Error,
            format!(
                "{} names {only:?}, but `{root}/{only}` does not exist",
                crate::config::setting_name("project", terminal)
            ),
        ));
        return out;
    }
    for slug in slugs.into_iter().filter(|s| only.is_none_or(|o| o == s)) {
        let dir = format!("{root}/{slug}");
        let config_path = format!("{dir}/project_config.toml");
        if std::fs::symlink_metadata(workspace.join(&config_path)).is_err() {
            continue;
        }
        let text = match read_file(workspace, &config_path).and_then(|bytes| {
            String::from_utf8(bytes).map_err(|e| {
                let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()].iter().filter(|&&b| b == b'\n').count();
                Diagnostic::error(
                    &config_path,
                    Some(line),
                    format!(
                        "line {line} holds bytes that are not valid UTF-8: save project_config.toml with UTF-8 encoding"
                    ),
                )
            })
        }) {
            Ok(text) => text,
            Err(d) => {
                out.diagnostics.push(d);
                continue;
            }
        };
        let config = match ProjectConfig::parse(&config_path, &text) {
            Ok(c) => c,
            Err(d) => {
                out.diagnostics.push(d);
                continue;
            }
        };
        if !config.enable_sync {
            tracing::debug!("project {slug}: sync not enabled; skipped");
            let why =
                format!("sync is not enabled: set `enable_sync = true` under `[github_integration]` in {config_path}");
            out.skipped.push(Skipped { slug, why });
            continue;
        }
        if !config.names_repository() {
            let line = ProjectConfig::key_line(&text, "enable_sync");
            out.diagnostics.push(Diagnostic::warning(
                &config_path,
                line,
                format!("project `{slug}` enables sync but names no repository: add `repo_owner` and `repo_name` (the repository that holds its milestones) under `[github_integration]`; it is skipped until then"),
            ));
            let why = "names no repository: add `repo_owner` and `repo_name`".to_string();
            out.skipped.push(Skipped { slug, why });
            continue;
        }
        let project = read_project(workspace, slug, dir, config, &mut out);
        out.projects.push(project);
    }
    if out.projects.is_empty() && !out.diagnostics.iter().any(|d| d.level != Level::Notice) {
        out.diagnostics.push(Diagnostic::notice(format!(
            "no project under `{root}` enables sync: add to a project's project_config.toml `[github_integration]` with `enable_sync = true`, `repo_owner` and `repo_name` (see the README's Getting started)"
        )));
    }
    out
}

fn read_project(workspace: &Path, slug: String, dir: String, config: ProjectConfig, out: &mut Workspace) -> Project {
    let folder = format!("{dir}/{}", config.artifact_folder());
    if let Err(d) = refuse_links(workspace, &folder) {
        out.diagnostics.push(d);
        return Project { slug, dir, config, artifacts: Vec::new(), broken: Vec::new() };
    }
    let mut names: Vec<String> = std::fs::read_dir(workspace.join(&folder))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.ends_with(".md"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let files = names.len();
    let mut project = Project { slug, dir, config, artifacts: Vec::new(), broken: Vec::new() };
    let paths: Vec<String> = names.into_iter().map(|name| format!("{folder}/{name}")).collect();
    let reads = read_all(workspace, &paths);
    for (path, read) in paths.into_iter().zip(reads) {
        let (read, fingerprint) = match read {
            Ok((a, fingerprint)) => (Ok(a), Some(fingerprint)),
            Err(d) => (Err(d), None),
        };
        if accept(&mut project, &path, read, &mut out.diagnostics)
            && let Some(fingerprint) = fingerprint
        {
            out.files.fingerprints.insert(path, fingerprint);
        }
    }
    if project.artifacts.is_empty() && project.broken.is_empty() {
        out.diagnostics.extend(nothing_of_the_type(workspace, &project, files));
    }
    project
}

/// Why a project that syncs has no artifact to sync, when the files say: the folder holds
/// files of another `type`, or the other folder holds the artifacts (`milestone_type` names
/// Epics, the project plans in Features, or the reverse). Without it such a run reads
/// "0 artifact(s)" and does nothing, with nothing to say why.
fn nothing_of_the_type(workspace: &Path, project: &Project, files: usize) -> Option<Diagnostic> {
    let config = &project.config;
    let folder = config.artifact_folder();
    let (other_folder, other_type) =
        if folder == "features" { ("epics", "🗺️ Epic") } else { ("features", "🌟 Feature") };
    let named = format!("`milestone_type` is \"{}\"", config.milestone_type);
    if files > 0 {
        return Some(Diagnostic::notice(format!(
            "project `{}`: {named}, but none of the {files} file(s) in `{}/{folder}` has that `type`, so none syncs: \
             check each file's `type` line, or change `milestone_type` in `[github_integration.mapping]`",
            project.slug, project.dir
        )));
    }
    let others = std::fs::read_dir(workspace.join(&project.dir).join(other_folder))
        .map(|entries| {
            entries.filter_map(Result::ok).filter(|e| e.file_name().to_string_lossy().ends_with(".md")).count()
        })
        .unwrap_or(0);
    (others > 0).then(|| {
        Diagnostic::notice(format!(
            "project `{}`: {named}, which syncs `{folder}/`; it holds no artifact, but `{other_folder}/` holds {others} file(s): \
             to sync those, set `milestone_type = \"{other_type}\"` in `[github_integration.mapping]`",
            project.slug
        ))
    })
}

/// Below this many files a project is read on one thread: starting threads costs more.
const PARALLEL_FROM: usize = 64;

/// Reads and parses `paths` (workspace-relative), on as many threads as the machine has
/// cores (at most 8), each taking a contiguous slice; the results come back in the order of
/// `paths`. Reading is mostly waiting for the disk and parsing mostly CPU: at 10,000 files
/// both add up to the largest part of a run's time before its first request. The paths are
/// files of one folder that [`refuse_links`] has passed.
fn read_all(workspace: &Path, paths: &[String]) -> Vec<Result<(Artifact, u64), Diagnostic>> {
    let one = |path: &String| -> Result<(Artifact, u64), Diagnostic> {
        let bytes = read_file_in_checked_folder(workspace, path)?;
        let artifact = artifact::parse(path, &bytes)?;
        Ok((artifact, fingerprint_of(&bytes)))
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    if threads < 2 || paths.len() < PARALLEL_FROM {
        return paths.iter().map(one).collect();
    }
    let slice = paths.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> =
            paths.chunks(slice).map(|chunk| scope.spawn(move || chunk.iter().map(one).collect::<Vec<_>>())).collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
            .collect()
    })
}

/// Reads one file of the workspace (an artifact or a project config), refusing symbolic
/// links anywhere on its path (they could lead outside the workspace: a link is never
/// followed) and files over [`MAX_ARTIFACT_BYTES`].
pub fn read_file(workspace: &Path, path: &str) -> Result<Vec<u8>, Diagnostic> {
    if let Some((folder, _)) = path.rsplit_once('/') {
        refuse_links(workspace, folder)?;
    }
    read_file_in_checked_folder(workspace, path)
}

/// [`read_file`] for a file whose folder [`refuse_links`] has already passed (every artifact
/// of a project's folder): the file itself is the only part left to check, and the `lstat`
/// that sizes it tells whether it is a link. At 10,000 artifacts this saves 40,000 `lstat`s
/// of the same few folders.
fn read_file_in_checked_folder(workspace: &Path, path: &str) -> Result<Vec<u8>, Diagnostic> {
    let full = workspace.join(path);
    let meta = std::fs::symlink_metadata(&full)
        .map_err(|e| Diagnostic::error(path, Some(1), format!("cannot read the file: {e}")))?;
    if meta.file_type().is_symlink() {
        return Err(link_refused(workspace, path));
    }
    if !meta.is_file() {
        return Err(Diagnostic::error(path, Some(1), "is not a regular file: an artifact must be a Markdown file"));
    }
    if meta.len() > MAX_ARTIFACT_BYTES {
        return Err(too_large(path, meta.len()));
    }
    std::fs::read(&full).map_err(|e| Diagnostic::error(path, Some(1), format!("cannot read the file: {e}")))
}

/// Refuses a workspace-relative path when the file or any folder on the way to it is a
/// symbolic link. Checking each part (not only the last) matters: a linked `epics/` folder
/// would lead every file under it outside the workspace.
pub fn refuse_links(workspace: &Path, path: &str) -> Result<(), Diagnostic> {
    let mut part = String::new();
    for name in path.split('/').filter(|n| !n.is_empty() && *n != ".") {
        if !part.is_empty() {
            part.push('/');
        }
        part.push_str(name);
        match std::fs::symlink_metadata(workspace.join(&part)) {
            Ok(meta) if meta.file_type().is_symlink() => return Err(link_refused(workspace, &part)),
            Ok(_) => {}
            Err(_) => return Ok(()),
        }
    }
    Ok(())
}

fn too_large(path: &str, bytes: u64) -> Diagnostic {
    Diagnostic::error(
        path,
        Some(1),
        format!(
            "is {bytes} bytes, over the {MAX_ARTIFACT_BYTES}-byte limit for a file the sync reads: move long \
             material into a linked document and keep the file under 1 MiB"
        ),
    )
}

fn link_refused(workspace: &Path, path: &str) -> Diagnostic {
    let target =
        std::fs::read_link(workspace.join(path)).map(|t| format!(" (to `{}`)", t.display())).unwrap_or_default();
    Diagnostic::error(
        path,
        Some(1),
        format!(
            "is a symbolic link{target}; links are never followed (one could lead outside the \
             workspace), so nothing is read through it: replace it with the file or folder itself"
        ),
    )
}

/// The warning for a status IntelliManage does not define: the file still syncs, and its
/// milestone stays open.
fn unknown_status(a: &Artifact) -> Diagnostic {
    Diagnostic::warning(
        &a.path,
        a.key_lines.get(artifact::keys::STATUS).copied(),
        format!(
            "`status = {:?}` is not an IntelliManage status, so its milestone stays open: use one \
             of ⚪️ Backlog, ⚪️ Planned, 🟡 To Do, 🟡 Ready, 🔵 In Progress, 🟣 Review, 🟣 QA, \
             🚧 Blocked, 🟢 Done, 🟢 Completed, 🧊 Archived, 🧊 Closed, or list it in \
             `custom_statuses` in project_config.toml",
            a.status
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "[github_integration]\nenable_sync = true\nrepo_owner = \"acme\"\nrepo_name = \"plan\"\n";

    fn epic(i: usize) -> String {
        format!(
            "+++\nid = \"EPIC-{i:03}\"\ntitle = \"Epic {i}\"\ntype = \"🗺️ Epic\"\nstatus = \"🟡 To Do\"\n+++\n\nBody {i}.\n"
        )
    }

    /// 150 Epics, every seventh broken: enough to be read on several threads.
    fn workspace() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join(".ruru/projects/p");
        std::fs::create_dir_all(project.join("epics")).unwrap();
        std::fs::write(project.join("project_config.toml"), CONFIG).unwrap();
        for i in 0..150 {
            let text = if i % 7 == 3 { format!("+++\nid = \"EPIC-{i:03}\"\ntitle = \n+++\n") } else { epic(i) };
            std::fs::write(project.join(format!("epics/EPIC-{i:03}.md")), text).unwrap();
        }
        dir
    }

    #[test]
    fn many_files_come_out_in_file_order_with_their_diagnostics_in_order() {
        let dir = workspace();
        let ws = read(dir.path(), ".ruru/projects", None, false);
        let p = &ws.projects[0];
        let expected: Vec<String> =
            (0..150).filter(|i| i % 7 != 3).map(|i| format!(".ruru/projects/p/epics/EPIC-{i:03}.md")).collect();
        let paths: Vec<&str> = p.artifacts.iter().map(|a| a.path.as_str()).collect();
        assert_eq!(paths, expected);
        let broken: Vec<String> =
            (0..150).filter(|i| i % 7 == 3).map(|i| format!(".ruru/projects/p/epics/EPIC-{i:03}.md")).collect();
        assert_eq!(p.broken, broken);
        let files: Vec<Option<&str>> = ws.diagnostics.iter().map(|d| d.file.as_deref()).collect();
        assert_eq!(files, broken.iter().map(|b| Some(b.as_str())).collect::<Vec<_>>());
        assert_eq!(ws.files.len(), expected.len());
        // The same on every run.
        let again = read(dir.path(), ".ruru/projects", None, false);
        assert_eq!(again.projects[0].artifacts, p.artifacts);
        assert_eq!(again.diagnostics, ws.diagnostics);
    }

    #[test]
    fn an_edited_file_is_read_again_and_refused_when_it_changed_meanwhile() {
        let dir = workspace();
        let ws = read(dir.path(), ".ruru/projects", None, false);
        let path = ".ruru/projects/p/epics/EPIC-001.md";
        assert_eq!(ws.files.get(path).unwrap(), Some(epic(1).into_bytes()));
        assert_eq!(ws.files.get(".ruru/projects/p/epics/EPIC-003.md").unwrap(), None, "broken: not read");
        std::fs::write(dir.path().join(path), epic(1).replace("Body", "Changed body")).unwrap();
        assert!(ws.files.get(path).unwrap_err().contains("changed in the workspace"));
    }
}
