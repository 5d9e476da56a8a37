//! The last check before a file is written: the path must stay inside the workspace.
//!
//! Paths come from the planner (an artifact's own path, or a new file named after a
//! milestone's title through the slug rules), so they are expected to be fine; this check
//! makes sure no title, payload or committed symbolic link can ever make the sync write
//! elsewhere.

use std::path::{Component, Path};

/// A workspace-relative path the sync may write: relative, made of plain names only (no `..`,
/// `.`, root, drive or empty part, no backslash), and a Markdown file.
pub(super) fn check(path: &str) -> Result<(), String> {
    let plain = !path.is_empty()
        && !path.contains('\\')
        && !path.contains('\0')
        && path.split('/').all(|part| !part.is_empty())
        && Path::new(path).components().all(|c| matches!(c, Component::Normal(_)));
    if !plain {
        return Err(format!("{path:?} is not a plain path inside the workspace; not written"));
    }
    if !path.ends_with(".md") {
        return Err(format!("{path:?} is not a Markdown artifact file; not written"));
    }
    Ok(())
}

/// For a write into the workspace itself: no folder on the way may be a symbolic link (one
/// committed to the repository could point anywhere), nor the file itself.
pub(super) fn check_no_link(workspace: &Path, path: &str) -> Result<(), String> {
    let mut at = workspace.to_path_buf();
    for part in path.split('/') {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(format!("{path}: {} is a symbolic link; not written through it", at.display()));
            }
            Ok(_) => {}
            Err(_) => break, // does not exist yet: nothing further can be a link
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_markdown_paths_pass() {
        assert!(check(".ruru/projects/demo/epics/EPIC-001_alpha.md").is_ok());
        for bad in [
            "",
            "/etc/passwd.md",
            "../outside.md",
            ".ruru/projects/demo/../../../x.md",
            "./a.md",
            "a//b.md",
            "a\\..\\b.md",
            "a/b.txt",
            "a/b.md/",
        ] {
            assert!(check(bad).is_err(), "{bad:?}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_linked_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("p")).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("p/epics")).unwrap();
        assert!(check_no_link(dir.path(), "p/epics/EPIC-001.md").is_err());
        assert!(check_no_link(dir.path(), "p/features/FEAT-001.md").is_ok());
        std::os::unix::fs::symlink(outside.path().join("f.md"), dir.path().join("p/f.md")).unwrap();
        assert!(check_no_link(dir.path(), "p/f.md").is_err());
    }
}
