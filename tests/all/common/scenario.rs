//! One push that makes every kind of write, and the end state to compare runs by: for the
//! fault tests, which check that a run with a fault (or killed, or stopped) ends, after at
//! most a plain re-run, exactly where a fault-free run ends.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use super::*;

pub(crate) const E1: &str = "epics/EPIC-001_alpha.md";
pub(crate) const E2: &str = "epics/EPIC-002_beta.md";
pub(crate) const E3: &str = "epics/EPIC-003_gamma.md";
pub(crate) const E4: &str = "epics/EPIC-004_delta.md";

/// A repository where EPIC-001 (Alpha) and EPIC-002 (Beta) were synced by a first run
/// (milestones #1 and #2), and the payload of a second push that renames Alpha, closes Beta
/// and adds EPIC-003 (dated) and EPIC-004. Synced without faults, that push makes seven
/// writes: PATCH #1, PATCH #2, POST (#3), POST (#4), then one commit (tree, commit, ref).
///
/// Built once per test binary, then copied (repositories and milestones) for each call: a
/// fresh, independent repository and stand-in every time, without a setup run each time.
pub(crate) fn prepared() -> (Repo, String) {
    let template = template();
    let dir = tempfile::tempdir().unwrap();
    copy_tree(template.dir.path(), dir.path());
    let bare = dir.path().join("remote.git");
    git(&dir.path().join("workspace"), &["remote", "set-url", "origin", bare.to_str().unwrap()]);
    let standin = start_standin(bare);
    for seed in &template.milestones {
        standin.seed_milestone(seed.clone());
    }
    assert_eq!(standin.milestones().len(), template.milestones.len());
    (Repo { dir, standin }, template.payload.clone())
}

/// The prepared state, made once by a real first run.
struct Template {
    dir: tempfile::TempDir,
    milestones: Vec<github_standin::SeedMilestone>,
    payload: String,
}

fn template() -> &'static Template {
    static TEMPLATE: OnceLock<Template> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let repo = Repo::new(&[]);
        let first = repo.push(
            &[
                (E1, Some(&epic("EPIC-001", "Alpha", "🟡 To Do", "target_date = \"2026-05-23\"\n"))),
                (E2, Some(&epic("EPIC-002", "Beta", "🔵 In Progress", ""))),
            ],
            "plan two epics",
        );
        let run = repo.run("push", &first, &[]);
        assert_eq!(run.code(), 0, "setup run: {}\n{}", run.stdout, run.stderr);
        repo.pull();
        let alpha = repo.file_at_head(E1).unwrap().replace("title = \"Alpha\"", "title = \"Alpha v2\"");
        let beta = repo.file_at_head(E2).unwrap().replace("🔵 In Progress", "🟢 Done");
        let payload = repo.push(
            &[
                (E1, Some(&alpha)),
                (E2, Some(&beta)),
                (E3, Some(&epic("EPIC-003", "Gamma", "🟡 To Do", "target_date = \"2026-12-01\"\n"))),
                (E4, Some(&epic("EPIC-004", "Delta", "⚪️ Backlog", ""))),
            ],
            "rename, close, add two",
        );
        let milestones: Vec<github_standin::SeedMilestone> = repo
            .milestones()
            .into_iter()
            .enumerate()
            .map(|(i, m)| {
                assert_eq!(m.number, i as u64 + 1, "numbered from 1 without gaps, as seeding numbers them");
                github_standin::SeedMilestone {
                    title: m.title,
                    description: m.description,
                    state: m.state,
                    due_on: m.due_on,
                }
            })
            .collect();
        let Repo { dir, standin } = repo;
        drop(standin);
        Template { dir, milestones, payload }
    })
}

/// Copies a folder tree (files and folders only, as test repositories hold).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A milestone as compared: (number, title, description, state, due_on).
pub(crate) type MilestoneFields = (u64, String, Option<String>, String, Option<String>);

/// What a sync leaves behind: every milestone as GitHub serves it (timestamps aside), and
/// the bytes of every file at the head of the branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EndState {
    /// (number, title, description, state, due_on), by number.
    pub milestones: Vec<MilestoneFields>,
    /// Path → bytes of every file in the head commit.
    pub files: BTreeMap<String, String>,
}

pub(crate) fn end_state(repo: &Repo) -> EndState {
    let milestones =
        repo.milestones().into_iter().map(|m| (m.number, m.title, m.description, m.state, m.due_on)).collect();
    let listing = git(&repo.bare(), &["ls-tree", "-r", "--name-only", "main"]);
    let files =
        listing.lines().map(|path| (path.to_string(), git(&repo.bare(), &["show", &format!("main:{path}")]))).collect();
    EndState { milestones, files }
}

/// The end state of the prepared push synced without faults (computed once per test binary).
pub(crate) fn reference() -> &'static EndState {
    static REFERENCE: OnceLock<EndState> = OnceLock::new();
    REFERENCE.get_or_init(|| {
        let (repo, payload) = prepared();
        let run = repo.run("push", &payload, &[]);
        assert_eq!(run.code(), 0, "reference run: {}\n{}", run.stdout, run.stderr);
        // Two updates, two creates, and the commit in one GraphQL request.
        assert_eq!(repo.writes().len(), 5, "the prepared push makes five writes: {:?}", repo.writes());
        let state = end_state(&repo);
        assert_eq!(state.milestones.len(), 4);
        state
    })
}

/// Asserts that `repo` ended where the fault-free run ends: the same milestones (so no
/// duplicate and none missing) and the same bytes in every file at the head.
pub(crate) fn assert_same_end_state(repo: &Repo, case: &str) {
    let state = end_state(repo);
    let reference = reference();
    let titles: Vec<&str> = state.milestones.iter().map(|m| m.1.as_str()).collect();
    assert_eq!(state.milestones.len(), 4, "{case}: no duplicate, none missing: {titles:?}");
    assert_eq!(&state.milestones, &reference.milestones, "{case}: milestones");
    for (path, bytes) in &reference.files {
        assert_eq!(state.files.get(path), Some(bytes), "{case}: {path} at the head");
    }
    assert_eq!(state.files.len(), reference.files.len(), "{case}: same files");
}

/// [`assert_same_end_state`], then a full reconcile that must find nothing to do: nothing
/// is left for a later run to heal.
pub(crate) fn assert_healed(repo: &Repo, case: &str) {
    assert_same_end_state(repo, case);
    repo.pull();
    repo.standin.clear_requests();
    let run = repo.run("workflow_dispatch", "{}", &[]);
    assert_eq!(run.code(), 0, "{case}: reconcile after healing: {}", run.stdout);
    assert!(repo.writes().is_empty(), "{case}: nothing left to write: {:?}", repo.writes());
}
