//! A randomized soak of the sync without a concurrency group: rounds in which people edit both
//! sides, then the runs those edits start all at once, in random order, from checkouts that may
//! be older than the branch (shallow or full clones), some never starting at all. After the
//! rounds, one catch-up reconcile must bring everything to where the people left it, and one
//! more reconcile must write nothing.
//!
//! Each round (the clock first moves on to a new second, so that `last_update_wins` can tell
//! a person's later edit from an earlier one):
//!
//! - people edit: in the files (a push per edit: a rename, a due date, closing or reopening, a
//!   file removed, a new file) and on GitHub (a rename, a due date, closing or reopening, a
//!   milestone deleted, a milestone created). Within a round an artifact is edited on one side
//!   only, so the last value a person set is well defined without a policy;
//! - every edit starts the run GitHub would start (`push` from the push's commit, `milestone`
//!   from the branch head at the event), maybe a `workflow_dispatch` or `schedule` besides;
//!   a run may start from an older commit of the branch (a queued run), from a shallow or a full
//!   clone, and about one run in four never starts (cancelled in a concurrency group, or lost);
//! - the runs that start are spawned together and each must exit 0.
//!
//! At the end, after one `workflow_dispatch` from the head: every field holds the last value a
//! person gave it, on both sides; every live file links its own milestone, which carries its
//! marker once; no ID, file, milestone or link is doubled; a removed file stays removed (its
//! milestone closed) and a deleted milestone stays deleted (`milestone_deleted` in its file);
//! every milestone made on GitHub has one file; every commit a person pushed is on the branch;
//! and one more reconcile sends no write and makes no commit.
//!
//! `SOAK_SEED=n` replays seed `n`; otherwise seeds `SOAK_FIRST_SEED` (default 1) onwards,
//! `SOAK_SEEDS` of them (default [`DEFAULT_SEEDS`]), `SOAK_ROUNDS` rounds each (default
//! [`DEFAULT_ROUNDS`]). A seed fixes the edits and which runs start from where; the order in
//! which concurrent runs reach GitHub is the machine's. `scripts/soak.sh` runs many seeds.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::common::*;
use github_standin::{MilestoneRecord, SeedMilestone};
use serde_json::json;

/// Seeds per test run when `SOAK_SEEDS` is not set: what CI runs (a debug build on two cores).
const DEFAULT_SEEDS: u64 = 3;
/// Rounds per seed when `SOAK_ROUNDS` is not set.
const DEFAULT_ROUNDS: usize = 4;
/// Every run imports milestones made on GitHub; the policy is the default, `last_update_wins`.
const INPUTS: [(&str, &str); 1] = [("create-artifacts", "true")];
const DATES: [&str; 6] = ["2026-05-23", "2026-06-30", "2026-08-15", "2026-11-02", "2026-12-01", "2027-03-20"];
const WORDS: [&str; 6] = ["Alpha", "Beta", "Gamma", "Launch", "Grow", "Polish"];
const OPEN_STATUS: &str = "🔵 In Progress";
const CLOSED_STATUS: &str = "🟢 Done";

/// splitmix64: small, fast and good enough to pick edits.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// True `num` times in `den`.
    fn chance(&mut self, num: u64, den: u64) -> bool {
        self.next() % den < num
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

fn env_number(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| v.trim().parse().unwrap_or_else(|_| panic!("{name}={v:?} is not a number")))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    File,
    GitHub,
}

/// One artifact as the people left it: the last value a person set for each field, on either
/// side, and what is known of where it lives.
#[derive(Clone, Debug)]
struct Art {
    made_on: Side,
    /// Known from the start for a file a person made; for an import, once its file is found.
    id: Option<String>,
    /// Project-relative path of its file, once there is one.
    path: Option<String>,
    /// Its milestone, once there is one.
    number: Option<u64>,
    url: Option<String>,
    title: String,
    closed: bool,
    due: Option<String>,
    file_removed: bool,
    milestone_deleted: bool,
}

impl Art {
    fn name(&self) -> String {
        match (&self.id, self.number) {
            (Some(id), Some(n)) => format!("{id}/#{n}"),
            (Some(id), None) => id.clone(),
            (None, Some(n)) => format!("#{n}"),
            (None, None) => "?".into(),
        }
    }
    fn file_editable(&self) -> bool {
        self.path.is_some() && !self.file_removed
    }
    fn milestone_editable(&self) -> bool {
        self.number.is_some() && !self.milestone_deleted && !self.file_removed
    }
}

/// An artifact file at the branch head.
#[derive(Clone, Debug)]
struct FileView {
    path: String,
    id: Option<String>,
    title: Option<String>,
    status: Option<String>,
    due: Option<String>,
    related: Option<String>,
    deleted: Option<String>,
}

/// A run GitHub would start.
struct Planned {
    label: String,
    event: &'static str,
    payload: String,
    checkout: String,
}

/// Why a seed failed, with everything needed to see it.
type Failure = String;

struct Soak {
    seed: u64,
    rng: Rng,
    repo: Repo,
    arts: Vec<Art>,
    /// Every ID a person or the sync used so far: a person numbers a new file above all of them.
    ids_seen: BTreeSet<String>,
    person_commits: Vec<String>,
    names: u32,
    log: String,
    runs_started: usize,
    runs_dropped: usize,
}

/// Reads a file's front matter (between the `+++` lines) as TOML.
fn front_matter(text: &str) -> Option<toml::Table> {
    let rest = text.strip_prefix("+++")?;
    let end = rest.find("\n+++")?;
    toml::from_str(&rest[..end]).ok()
}

fn is_closed(status: &str) -> bool {
    ["Done", "Completed", "Archived", "Closed"].iter().any(|s| status.contains(s))
}

/// `text` with the front-matter line of `key` set to `value` (added before the closing `+++`
/// when missing).
fn set_key(text: &str, key: &str, value: &str) -> String {
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let close = 1 + lines[1..].iter().position(|l| l == "+++").expect("front matter closes");
    let line = format!("{key} = \"{value}\"");
    match lines[1..close].iter().position(|l| l.starts_with(&format!("{key} =")) || l.starts_with(&format!("{key}="))) {
        Some(i) => lines[i + 1] = line,
        None => lines.insert(close, line),
    }
    lines.join("\n")
}

fn number_of(url: &str) -> u64 {
    url.rsplit('/').next().and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("not a milestone URL: {url}"))
}

fn due_of(m: &MilestoneRecord) -> Option<String> {
    m.due_on.as_ref().map(|d| d[..10].to_string())
}

/// The `IntelliManage-ID` marker lines of a milestone's description.
fn markers(m: &MilestoneRecord) -> Vec<String> {
    let text = without_record(m.description.as_deref().unwrap_or(""));
    text.lines().filter_map(|l| l.trim().strip_prefix("IntelliManage-ID:").map(|id| id.trim().to_string())).collect()
}

impl Soak {
    fn new(seed: u64) -> Soak {
        let repo = Repo::new(&[]);
        let mut soak = Soak {
            seed,
            rng: Rng(seed),
            repo,
            arts: Vec::new(),
            ids_seen: BTreeSet::new(),
            person_commits: Vec::new(),
            names: 0,
            log: String::new(),
            runs_started: 0,
            runs_dropped: 0,
        };
        // Three Epics, pushed and synced by their push's run.
        let mut changes = Vec::new();
        for i in 1..=3 {
            let id = format!("EPIC-{i:03}");
            let title = soak.new_title();
            let due = soak.rng.chance(2, 3).then(|| soak.rng.pick(&DATES).to_string());
            let extra = due.as_ref().map(|d| format!("target_date = \"{d}\"\n")).unwrap_or_default();
            let path = format!("epics/{id}_e{i}.md");
            changes.push((path.clone(), epic(&id, &title, "🟡 To Do", &extra)));
            soak.ids_seen.insert(id.clone());
            soak.arts.push(Art {
                made_on: Side::File,
                id: Some(id),
                path: Some(path),
                number: None,
                url: None,
                title,
                closed: false,
                due,
                file_removed: false,
                milestone_deleted: false,
            });
        }
        let borrowed: Vec<(&str, Option<&str>)> = changes.iter().map(|(p, c)| (p.as_str(), Some(c.as_str()))).collect();
        let payload = soak.repo.push(&borrowed, "plan three epics");
        soak.person_commits.push(soak.repo.head());
        let run = soak.repo.run("push", &payload, &INPUTS);
        assert_eq!(run.code(), 0, "seed {seed}: the first sync: {}\n{}", run.stdout, run.stderr);
        soak
    }

    fn new_title(&mut self) -> String {
        self.names += 1;
        format!("{} {}", self.rng.pick(&WORDS), self.names)
    }

    fn note(&mut self, line: impl AsRef<str>) {
        self.log.push_str(line.as_ref());
        self.log.push('\n');
    }

    fn fail(&self, why: impl AsRef<str>) -> Failure {
        format!(
            "soak seed {seed} failed: {why}\n\nreplay: SOAK_SEED={seed} SOAK_ROUNDS={rounds} cargo test --test all soak:: -- --nocapture\n\n--- round log\n{log}",
            seed = self.seed,
            why = why.as_ref(),
            rounds = rounds(),
            log = self.log
        )
    }

    fn head_files(&self) -> Vec<FileView> {
        let bare = self.repo.bare();
        let listing = git(&bare, &["ls-tree", "-r", "--name-only", "main", &format!("{PROJECT_DIR}/epics/")]);
        listing
            .lines()
            .filter(|p| p.ends_with(".md"))
            .map(|full| {
                let path = full.strip_prefix(&format!("{PROJECT_DIR}/")).unwrap().to_string();
                let text = self.repo.file_at_head(&path).unwrap_or_default();
                let fm = front_matter(&text).unwrap_or_default();
                let key = |k: &str| fm.get(k).and_then(|v| v.as_str()).map(str::to_string);
                FileView {
                    id: key("id"),
                    title: key("title"),
                    status: key("status"),
                    due: key("milestone_target_date").or_else(|| key("target_date")),
                    related: key("related_milestone"),
                    deleted: key("milestone_deleted"),
                    path,
                }
            })
            .collect()
    }

    /// Learns the links and files the runs made: a new file's milestone, an import's file.
    fn discover(&mut self) {
        let files = self.head_files();
        for f in &files {
            if let Some(id) = &f.id {
                self.ids_seen.insert(id.clone());
            }
        }
        for art in &mut self.arts {
            if art.number.is_none() && !art.file_removed {
                let file = files.iter().find(|f| Some(&f.path) == art.path.as_ref());
                if let Some(url) = file.and_then(|f| f.related.clone()) {
                    art.number = Some(number_of(&url));
                    art.url = Some(url);
                }
            }
            if art.path.is_none() && !art.milestone_deleted {
                if let Some(f) = files.iter().find(|f| f.related.is_some() && f.related == art.url) {
                    art.path = Some(f.path.clone());
                    art.id = f.id.clone();
                }
            }
        }
    }

    fn sleep_to_next_second(&self) {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        std::thread::sleep(Duration::from_millis(1000 - u64::from(now.subsec_millis()) + 20));
    }

    /// Commits one person's change and returns the push's run.
    fn person_push(&mut self, changes: &[(&str, Option<&str>)], what: &str) -> Planned {
        let payload = self.repo.push(changes, what);
        let head = self.repo.head();
        self.person_commits.push(head.clone());
        Planned { label: format!("push {} ({what})", &head[..8]), event: "push", payload, checkout: head }
    }

    fn milestone_run(&self, action: &str, payload: String, n: u64) -> Planned {
        Planned { label: format!("milestone.{action} #{n}"), event: "milestone", payload, checkout: self.repo.head() }
    }

    /// One person's edit of a random kind; `sides` says which side each artifact was edited on
    /// this round. Returns the run it starts, if the edit happened.
    fn edit(&mut self, sides: &mut BTreeMap<usize, Side>) -> Option<Planned> {
        let kind = self.rng.below(12);
        if kind == 10 {
            return Some(self.new_file());
        }
        if kind == 11 {
            return Some(self.new_milestone(sides));
        }
        let side = if kind < 5 { Side::File } else { Side::GitHub };
        let eligible: Vec<usize> = (0..self.arts.len())
            .filter(|&i| sides.get(&i).is_none_or(|s| *s == side))
            .filter(|&i| match side {
                Side::File => self.arts[i].file_editable(),
                Side::GitHub => self.arts[i].milestone_editable(),
            })
            .collect();
        if eligible.is_empty() {
            return None;
        }
        let i = self.rng.pick(&eligible);
        sides.insert(i, side);
        match side {
            Side::File => Some(self.edit_file(i, kind)),
            Side::GitHub => Some(self.edit_milestone(i, kind - 5)),
        }
    }

    fn edit_file(&mut self, i: usize, kind: usize) -> Planned {
        let path = self.arts[i].path.clone().unwrap();
        let name = self.arts[i].name();
        let text = self.repo.file_at_head(&path).unwrap_or_else(|| panic!("{path} is at the head"));
        let fm = front_matter(&text).unwrap_or_default();
        let due_key = if fm.contains_key("milestone_target_date") { "milestone_target_date" } else { "target_date" };
        let (new, what) = match kind {
            0 | 1 => {
                let title = self.new_title();
                self.arts[i].title = title.clone();
                (Some(set_key(&text, "title", &title)), format!("rename {name} to {title:?} in its file"))
            }
            2 => {
                let now = fm.get(due_key).and_then(|v| v.as_str());
                let date = self.other_date(now);
                self.arts[i].due = Some(date.to_string());
                (Some(set_key(&text, due_key, date)), format!("{due_key} of {name} = {date}"))
            }
            3 => {
                // A person toggles what the file says.
                let closed = !fm.get("status").and_then(|v| v.as_str()).is_some_and(is_closed);
                self.arts[i].closed = closed;
                let status = if closed { CLOSED_STATUS } else { OPEN_STATUS };
                (Some(set_key(&text, "status", status)), format!("status of {name} = {status}"))
            }
            _ => {
                self.arts[i].file_removed = true;
                (None, format!("remove {path} ({name})"))
            }
        };
        self.note(format!("  person, file: {what}"));
        self.person_push(&[(&path, new.as_deref())], &what)
    }

    fn new_file(&mut self) -> Planned {
        let highest = self.ids_seen.iter().filter_map(|id| id.strip_prefix("EPIC-")?.parse::<u32>().ok()).max();
        let id = format!("EPIC-{:03}", highest.unwrap_or(0) + 1);
        self.ids_seen.insert(id.clone());
        let title = self.new_title();
        let due = self.rng.chance(1, 2).then(|| self.rng.pick(&DATES).to_string());
        let extra = due.as_ref().map(|d| format!("target_date = \"{d}\"\n")).unwrap_or_default();
        let path = format!("epics/{id}_new-{}.md", self.names);
        let text = epic(&id, &title, "🟡 To Do", &extra);
        self.arts.push(Art {
            made_on: Side::File,
            id: Some(id.clone()),
            path: Some(path.clone()),
            number: None,
            url: None,
            title: title.clone(),
            closed: false,
            due: due.clone(),
            file_removed: false,
            milestone_deleted: false,
        });
        let what = format!("new file {path} ({id}, {title:?}, due {due:?})");
        self.note(format!("  person, file: {what}"));
        self.person_push(&[(&path, Some(&text))], &what)
    }

    fn new_milestone(&mut self, sides: &mut BTreeMap<usize, Side>) -> Planned {
        let title = self.new_title();
        let due = self.rng.chance(1, 2).then(|| self.rng.pick(&DATES).to_string());
        let m = self.repo.standin.seed_milestone(SeedMilestone {
            title: title.clone(),
            due_on: due.as_ref().map(|d| format!("{d}T12:00:00Z")),
            ..Default::default()
        });
        sides.insert(self.arts.len(), Side::GitHub);
        self.arts.push(Art {
            made_on: Side::GitHub,
            id: None,
            path: None,
            number: Some(m.number),
            url: Some(m.html_url.clone()),
            title: title.clone(),
            closed: false,
            due: due.clone(),
            file_removed: false,
            milestone_deleted: false,
        });
        self.note(format!("  person, GitHub: create milestone #{} {title:?} due {due:?}", m.number));
        let payload = self.repo.milestone_event("created", m.number, json!({}));
        self.milestone_run("created", payload, m.number)
    }

    fn edit_milestone(&mut self, i: usize, kind: usize) -> Planned {
        let n = self.arts[i].number.unwrap();
        let name = self.arts[i].name();
        let before = self.repo.milestone_json(n).unwrap_or_else(|| panic!("milestone #{n} exists"));
        match kind {
            0 | 1 => {
                let title = self.new_title();
                self.arts[i].title = title.clone();
                self.repo.standin.edit_milestone(n, |m| m.title = title.clone());
                self.note(format!("  person, GitHub: rename {name} to {title:?}"));
                let payload = self.repo.milestone_event("edited", n, json!({"title": {"from": before["title"]}}));
                self.milestone_run("edited", payload, n)
            }
            2 => {
                let date = self.other_date(before["due_on"].as_str().map(|d| &d[..10]));
                self.arts[i].due = Some(date.to_string());
                self.repo.standin.edit_milestone(n, |m| m.due_on = Some(format!("{date}T12:00:00Z")));
                self.note(format!("  person, GitHub: due date of {name} = {date}"));
                let payload = self.repo.milestone_event("edited", n, json!({"due_on": {"from": before["due_on"]}}));
                self.milestone_run("edited", payload, n)
            }
            3 => {
                // A person toggles what GitHub shows.
                let closed = before["state"] != "closed";
                self.arts[i].closed = closed;
                let (state, action) = if closed { ("closed", "closed") } else { ("open", "opened") };
                self.repo.standin.edit_milestone(n, |m| m.state = state.into());
                self.note(format!("  person, GitHub: {action} {name}"));
                let payload = self.repo.milestone_event(action, n, json!({}));
                self.milestone_run(action, payload, n)
            }
            _ => {
                // What reached the file holds; a GitHub edit no run has brought into the file
                // yet goes with the milestone (no later run can see it).
                if let Some(path) = self.arts[i].path.clone() {
                    let file = self.head_files().into_iter().find(|f| f.path == path).unwrap();
                    let art = &mut self.arts[i];
                    art.title = file.title.unwrap_or_default();
                    art.closed = file.status.as_deref().is_some_and(is_closed);
                    art.due = file.due;
                }
                self.arts[i].milestone_deleted = true;
                self.repo.standin.delete_milestone(n);
                self.note(format!("  person, GitHub: delete milestone {name}"));
                let payload = self.repo.milestone_event_for("deleted", before, json!({}));
                self.milestone_run("deleted", payload, n)
            }
        }
    }

    /// A due date other than `now`.
    fn other_date(&mut self, now: Option<&str>) -> &'static str {
        let others: Vec<&'static str> = DATES.iter().copied().filter(|d| Some(*d) != now).collect();
        self.rng.pick(&others)
    }

    /// A commit of the branch's first-parent history at or before `commit`, at random.
    fn older(&mut self, commit: &str) -> String {
        let listing = git(&self.repo.bare(), &["rev-list", "--first-parent", "-n", "6", commit]);
        let commits: Vec<&str> = listing.lines().collect();
        commits[self.rng.below(commits.len())].to_string()
    }

    /// A checkout of `commit` for one run: a shallow clone (one commit, as actions/checkout
    /// makes by default) or a full one.
    fn checkout(&mut self, dir: &Path, commit: &str) -> &'static str {
        let url = format!("file://{}", self.repo.bare().display());
        std::fs::create_dir_all(dir).unwrap();
        git(dir, &["init", "-q", "-b", "main"]);
        if self.rng.chance(1, 2) {
            git(dir, &["fetch", "-q", "--depth", "1", &url, commit]);
            git(dir, &["checkout", "-q", "--detach", commit]);
            "shallow"
        } else {
            git(dir, &["fetch", "-q", &url, "+refs/heads/main:refs/remotes/origin/main"]);
            git(dir, &["checkout", "-q", "--detach", commit]);
            "full"
        }
    }

    /// Starts every planned run at once, in random order, but for those that never start;
    /// waits for all; each must exit 0.
    fn start_together(&mut self, round: usize, mut planned: Vec<Planned>) -> Result<(), Failure> {
        self.rng.shuffle(&mut planned);
        let mut commands = Vec::new();
        for (k, p) in planned.into_iter().enumerate() {
            if self.rng.chance(1, 4) {
                self.note(format!("  run {k}: {} — never starts", p.label));
                self.runs_dropped += 1;
                continue;
            }
            let checkout =
                if p.event != "push" && self.rng.chance(1, 3) { self.older(&p.checkout) } else { p.checkout };
            let dir = self.repo.dir.path().join(format!("runs/{round}-{k}"));
            let ws = dir.join("workspace");
            let clone = self.checkout(&ws, &checkout);
            let (mut cmd, _) = self.repo.command(p.event, &p.payload, &INPUTS);
            std::fs::write(dir.join("event.json"), &p.payload).unwrap();
            let files = RunnerFiles { output: dir.join("output.txt"), summary: dir.join("summary.md") };
            cmd.env("GITHUB_EVENT_PATH", dir.join("event.json"))
                .env("GITHUB_OUTPUT", &files.output)
                .env("GITHUB_STEP_SUMMARY", &files.summary)
                .env("GITHUB_WORKSPACE", &ws)
                .env("GITHUB_SHA", &checkout)
                .stdin(Stdio::null())
                .stdout(std::fs::File::create(dir.join("stdout")).unwrap())
                .stderr(std::fs::File::create(dir.join("stderr")).unwrap());
            let label = format!("run {k}: {} from {} ({clone})", p.label, &checkout[..8]);
            commands.push((label, cmd, files, dir));
        }
        let children: Vec<_> = commands
            .into_iter()
            .map(|(label, mut cmd, files, dir)| (label, cmd.spawn().unwrap(), files, dir))
            .collect();
        let mut failed = Vec::new();
        for (label, mut child, files, dir) in children {
            let status = child.wait().unwrap();
            let output = Output {
                status,
                stdout: std::fs::read(dir.join("stdout")).unwrap_or_default(),
                stderr: std::fs::read(dir.join("stderr")).unwrap_or_default(),
            };
            let run = finish(output, &files);
            self.runs_started += 1;
            self.note(format!("  {label}: exit {}\n{}", run.code(), indent(&run.stdout)));
            if run.code() != 0 {
                failed.push(format!("{label} exited {}:\n{}\n{}", run.code(), run.stdout, run.stderr));
            }
        }
        if failed.is_empty() { Ok(()) } else { Err(self.fail(failed.join("\n"))) }
    }

    fn round(&mut self, round: usize) -> Result<(), Failure> {
        self.sleep_to_next_second();
        self.discover();
        self.note(format!("round {round} (head {})", &self.repo.head()[..8]));
        let mut sides = BTreeMap::new();
        let mut planned = Vec::new();
        for _ in 0..1 + self.rng.below(4) {
            planned.extend(self.edit(&mut sides));
        }
        if self.rng.chance(1, 2) {
            let event = if self.rng.chance(1, 2) { "workflow_dispatch" } else { "schedule" };
            planned.push(Planned { label: event.into(), event, payload: "{}".into(), checkout: self.repo.head() });
        }
        self.start_together(round, planned)
    }

    /// One reconcile from the branch head, which must exit 0.
    fn reconcile(&mut self, what: &str) -> Result<Run, Failure> {
        let head = self.repo.head();
        let ws = self.repo.dir.path().join(format!("runs/{what}"));
        self.checkout(&ws, &head);
        let (mut cmd, files) = self.repo.command("workflow_dispatch", "{}", &INPUTS);
        cmd.env("GITHUB_WORKSPACE", &ws).env("GITHUB_SHA", &head);
        let run = finish(cmd.output().unwrap(), &files);
        self.runs_started += 1;
        self.note(format!("{what} reconcile from {}: exit {}\n{}", &head[..8], run.code(), indent(&run.stdout)));
        if run.code() != 0 {
            return Err(self.fail(format!(
                "the {what} reconcile exited {}:\n{}\n{}",
                run.code(),
                run.stdout,
                run.stderr
            )));
        }
        Ok(run)
    }

    /// Everything the people did holds on both sides, and nothing is doubled or undone.
    fn check(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let files = self.head_files();
        let milestones = self.repo.milestones();
        let by_number: BTreeMap<u64, &MilestoneRecord> = milestones.iter().map(|m| (m.number, m)).collect();

        let mut ids: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        let mut links: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for f in &files {
            match &f.id {
                Some(id) => ids.entry(id).or_default().push(&f.path),
                None => problems.push(format!("{} has no id", f.path)),
            }
            if let Some(url) = &f.related {
                links.entry(url).or_default().push(&f.path);
            }
        }
        for (id, paths) in &ids {
            if paths.len() > 1 {
                problems.push(format!("ID {id} doubled: {paths:?}"));
            }
        }
        for (url, paths) in &links {
            if paths.len() > 1 {
                problems.push(format!("{url} linked by {paths:?}"));
            }
        }
        let mut marked: BTreeMap<String, Vec<u64>> = BTreeMap::new();
        for m in &milestones {
            let ms = markers(m);
            if ms.len() != 1 {
                problems.push(format!("milestone #{} {:?} carries {} markers: {ms:?}", m.number, m.title, ms.len()));
            }
            for id in ms {
                marked.entry(id).or_default().push(m.number);
            }
        }
        for (id, numbers) in &marked {
            if numbers.len() > 1 {
                problems.push(format!("{id} is marked on milestones {numbers:?}"));
            }
        }

        let mut claimed_paths = BTreeSet::new();
        let mut claimed_numbers = BTreeSet::new();
        for art in &self.arts {
            let name = art.name();
            let file = art.path.as_ref().and_then(|p| files.iter().find(|f| &f.path == p));
            let milestone = art.number.and_then(|n| by_number.get(&n).copied());
            if art.file_removed {
                if file.is_some() {
                    problems.push(format!("{name}: the removed file is back"));
                }
                // A file removed before any run linked it: the milestone a run may have made
                // for it meanwhile (found by its marker) is closed.
                if let (None, Some(id)) = (art.number, &art.id) {
                    for n in marked.get(id).into_iter().flatten() {
                        if self.arts.iter().any(|a| a.number == Some(*n)) {
                            continue;
                        }
                        claimed_numbers.insert(*n);
                        if by_number[n].state != "closed" {
                            problems.push(format!("{name}: milestone #{n} of the removed file is open"));
                        }
                    }
                }
                if let Some(url) = &art.url {
                    if let Some(paths) = links.get(url.as_str()) {
                        problems.push(format!("{name}: its milestone is linked again by {paths:?}"));
                    }
                }
                if let Some(m) = milestone {
                    claimed_numbers.insert(m.number);
                    if m.state != "closed" {
                        problems.push(format!("{name}: milestone of the removed file is open"));
                    }
                }
                continue;
            }
            if art.milestone_deleted && art.path.is_none() {
                // Deleted before any run imported it: nothing of it anywhere.
                if let Some(paths) = art.url.as_ref().and_then(|u| links.get(u.as_str())) {
                    problems.push(format!("{name}: deleted before its import, yet {paths:?} link it"));
                }
                continue;
            }
            let Some(file) = file else {
                problems.push(match &art.path {
                    Some(p) => format!("{name}: its file {p} is not at the head"),
                    None => format!("{name}: the milestone made on GitHub has no file"),
                });
                continue;
            };
            claimed_paths.insert(file.path.clone());
            if file.id != art.id {
                problems.push(format!("{name}: {} says id {:?}", file.path, file.id));
            }
            let closed = file.status.as_deref().is_some_and(is_closed);
            let got = (file.title.as_deref(), closed, file.due.as_deref());
            let want = (Some(art.title.as_str()), art.closed, art.due.as_deref());
            if got != want {
                problems
                    .push(format!("{name}: the file {} has (title, closed, due) {got:?}, wants {want:?}", file.path));
            }
            if art.milestone_deleted {
                if file.deleted != art.url || file.related.is_some() {
                    problems.push(format!(
                        "{name}: the file's milestone_deleted = {:?}, related_milestone = {:?}; wants {:?} and none",
                        file.deleted, file.related, art.url
                    ));
                }
                if let Some(numbers) = art.id.as_ref().and_then(|id| marked.get(id)) {
                    problems.push(format!("{name}: its deleted milestone came back as {numbers:?}"));
                }
                continue;
            }
            let Some(url) = &art.url else {
                problems
                    .push(format!("{name}: the new file links no milestone (related_milestone {:?})", file.related));
                continue;
            };
            if file.related.as_ref() != Some(url) {
                problems.push(format!("{name}: the file links {:?}, not {url}", file.related));
            }
            let Some(m) = milestone else {
                problems.push(format!("{name}: its milestone is gone"));
                continue;
            };
            claimed_numbers.insert(m.number);
            let got = (m.title.as_str(), m.state == "closed", due_of(m));
            let want = (art.title.as_str(), art.closed, art.due.clone());
            if got != want {
                problems
                    .push(format!("{name}: milestone #{} has (title, closed, due) {got:?}, wants {want:?}", m.number));
            }
            if markers(m) != art.id.iter().cloned().collect::<Vec<_>>() {
                problems.push(format!("{name}: milestone #{} is marked {:?}", m.number, markers(m)));
            }
        }
        for f in &files {
            if !claimed_paths.contains(&f.path) {
                problems.push(format!("{} ({:?}, {:?}) is no one's file", f.path, f.id, f.title));
            }
        }
        for m in &milestones {
            if !claimed_numbers.contains(&m.number) {
                problems.push(format!("milestone #{} {:?} ({:?}) is no one's", m.number, m.title, markers(m)));
            }
        }
        for commit in &self.person_commits {
            let out = std::process::Command::new("git")
                .arg("-C")
                .arg(self.repo.bare())
                .args(["merge-base", "--is-ancestor", commit, "main"])
                .status()
                .unwrap();
            if !out.success() {
                problems.push(format!("the person's commit {commit} is not on the branch"));
            }
        }
        problems
    }

    fn model(&self) -> String {
        let mut out = String::new();
        for a in &self.arts {
            let _ = writeln!(out, "  {a:?}");
        }
        out
    }

    fn play(&mut self, rounds: usize) -> Result<(), Failure> {
        for round in 1..=rounds {
            self.round(round)?;
        }
        self.discover();
        self.reconcile("catch-up")?;
        self.discover();
        let problems = self.check();
        if !problems.is_empty() {
            return Err(self.fail(format!(
                "after the catch-up reconcile:\n- {}\n\nthe model:\n{}\nmilestones:\n{:#?}",
                problems.join("\n- "),
                self.model(),
                self.repo.milestones()
            )));
        }
        let head = self.repo.head();
        self.repo.standin.clear_requests();
        self.reconcile("final")?;
        let writes = self.repo.writes();
        if !writes.is_empty() || self.repo.head() != head {
            return Err(self.fail(format!(
                "the reconcile after the catch-up wrote: {writes:?}; head {} → {}",
                &head[..8],
                &self.repo.head()[..8]
            )));
        }
        Ok(())
    }

    fn made_on_summary(&self) -> (usize, usize) {
        let github = self.arts.iter().filter(|a| a.made_on == Side::GitHub).count();
        (self.arts.len() - github, github)
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("      | {l}\n")).collect()
}

fn rounds() -> usize {
    env_number("SOAK_ROUNDS").map_or(DEFAULT_ROUNDS, |n| n as usize)
}

/// The soak: see the module's documentation. Fails with the seed and the round log.
#[test]
fn concurrent_runs_of_every_trigger_converge_after_one_reconcile() {
    let seeds: Vec<u64> = match env_number("SOAK_SEED") {
        Some(seed) => vec![seed],
        None => {
            let first = env_number("SOAK_FIRST_SEED").unwrap_or(1);
            (first..first + env_number("SOAK_SEEDS").unwrap_or(DEFAULT_SEEDS)).collect()
        }
    };
    let rounds = rounds();
    let started = Instant::now();
    let (mut runs, mut dropped, mut failures) = (0, 0, Vec::new());
    for &seed in &seeds {
        let mut soak = Soak::new(seed);
        let result = soak.play(rounds);
        runs += soak.runs_started;
        dropped += soak.runs_dropped;
        let (by_people, on_github) = soak.made_on_summary();
        eprintln!(
            "soak seed {seed}: {} ({} runs, {} never started, {by_people} artifacts from files, {on_github} from GitHub)",
            if result.is_ok() { "ok" } else { "FAILED" },
            soak.runs_started,
            soak.runs_dropped
        );
        if let Err(failure) = result {
            eprintln!("{failure}");
            failures.push(seed);
        }
    }
    eprintln!(
        "soak: {} seeds × {rounds} rounds, {runs} runs started, {dropped} never started, in {:.1?}; failed seeds: {failures:?}",
        seeds.len(),
        started.elapsed()
    );
    assert!(failures.is_empty(), "soak seeds failed (each replays with SOAK_SEED=n): {failures:?}");
}
