//! Reading the workspace: the projects under the projects root that sync with this
//! repository, and their artifacts of the configured milestone type.
//!
//! Produces plain values (parsed artifacts plus their raw bytes for later edits) and
//! diagnostics; a file that cannot be read is reported and left out, and the rest goes on.

use std::collections::BTreeMap;
use std::path::Path;

use crate::artifact::{self, Artifact, normalize_label};
use crate::config::ProjectConfig;
use crate::diagnostic::{Diagnostic, Level};

/// Larger artifact files are refused: no plan document needs a megabyte, and reading one
/// whole into memory on every run is how a mistake becomes an outage.
pub const MAX_ARTIFACT_BYTES: u64 = 1024 * 1024;

/// One project that syncs with the repository.
#[derive(Debug, Clone)]
pub struct Project {
    /// The folder name under the projects root.
    pub slug: String,
    /// Workspace-relative folder of the project.
    pub dir: String,
    pub config: ProjectConfig,
    /// Artifacts of the milestone type, sorted by path.
    pub artifacts: Vec<Artifact>,
    /// Workspace-relative paths of files in the artifact folder that could not be read.
    pub broken: Vec<String>,
}

/// Everything read from the workspace.
#[derive(Debug, Clone, Default)]
pub struct Workspace {
    pub projects: Vec<Project>,
    /// Raw bytes of every artifact read, by workspace-relative path, for format-preserving
    /// edits.
    pub files: BTreeMap<String, Vec<u8>>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads the projects under `root` (workspace-relative) that sync with `repository`;
/// only `only` when given.
pub fn read(workspace: &Path, root: &str, repository: &str, only: Option<&str>) -> Workspace {
    let mut out = Workspace::default();
    let root_dir = workspace.join(root);
    let mut slugs: Vec<String> = match std::fs::read_dir(&root_dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
            .filter_map(|e| e.file_name().into_string().ok())
            .collect(),
        Err(_) => {
            out.diagnostics.push(Diagnostic::general(
                Level::Warning,
                format!("no projects folder at `{root}`: nothing to sync. Set the `projects-root` input if your projects live elsewhere"),
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
            format!("input `project` names {only:?}, but `{root}/{only}` does not exist"),
        ));
        return out;
    }
    for slug in slugs.into_iter().filter(|s| only.is_none_or(|o| o == s)) {
        let dir = format!("{root}/{slug}");
        let config_path = format!("{dir}/project_config.toml");
        let Ok(text) = std::fs::read_to_string(workspace.join(&config_path)) else { continue };
        let config = match ProjectConfig::parse(&config_path, &text) {
            Ok(c) => c,
            Err(d) => {
                out.diagnostics.push(d);
                continue;
            }
        };
        if !config.syncs_with(repository) {
            tracing::info!("project {slug}: sync not enabled for {repository}; skipped");
            continue;
        }
        let project = read_project(workspace, slug, dir, config, &mut out);
        out.projects.push(project);
    }
    if out.projects.is_empty() && !out.diagnostics.iter().any(|d| d.level == Level::Error) {
        out.diagnostics.push(Diagnostic::notice(format!(
            "no project under `{root}` enables sync for {repository} (`[github_integration]` with `enable_sync = true`, `repo_owner` and `repo_name`)"
        )));
    }
    out
}

fn read_project(workspace: &Path, slug: String, dir: String, config: ProjectConfig, out: &mut Workspace) -> Project {
    let folder = format!("{dir}/{}", config.artifact_folder());
    let kind = config.milestone_kind();
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
    let mut project = Project { slug, dir, config, artifacts: Vec::new(), broken: Vec::new() };
    for name in names {
        let path = format!("{folder}/{name}");
        match read_file(workspace, &path) {
            Ok(bytes) => match artifact::parse(&path, &bytes) {
                Ok(a) if normalize_label(&a.kind) == kind => {
                    out.files.insert(path, bytes);
                    project.artifacts.push(a);
                }
                Ok(a) => tracing::debug!("{path}: type {:?} is not the milestone type; skipped", a.kind),
                Err(d) => {
                    out.diagnostics.push(d);
                    project.broken.push(path);
                }
            },
            Err(d) => {
                out.diagnostics.push(d);
                project.broken.push(path);
            }
        }
    }
    project
}

/// Reads one artifact file, refusing symlinks (they could lead outside the workspace) and
/// oversized files.
pub fn read_file(workspace: &Path, path: &str) -> Result<Vec<u8>, Diagnostic> {
    let full = workspace.join(path);
    let meta = std::fs::symlink_metadata(&full)
        .map_err(|e| Diagnostic::error(path, None, format!("cannot read the file: {e}")))?;
    if meta.file_type().is_symlink() {
        return Err(Diagnostic::warning(
            path,
            None,
            "is a symbolic link; links are never followed. Replace it with the file itself",
        ));
    }
    if meta.len() > MAX_ARTIFACT_BYTES {
        return Err(Diagnostic::error(
            path,
            None,
            format!(
                "is {} bytes, over the {MAX_ARTIFACT_BYTES}-byte limit for an artifact. Move long material into a linked document",
                meta.len()
            ),
        ));
    }
    std::fs::read(&full).map_err(|e| Diagnostic::error(path, None, format!("cannot read the file: {e}")))
}
