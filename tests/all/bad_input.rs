//! Bad input, one class per case: the real binary, run as the action on a push, against the
//! GitHub stand-in. Every case pushes one good Epic beside the bad input and checks that
//!
//! 1. the run prints the annotation `::error file=<path>,line=<n>::` (or `::warning` where
//!    the file still syncs) whose message names the problem and the fix;
//! 2. the bad file's bytes at the head of the branch are the bytes that were pushed (an error),
//!    or only the link lines were added (a warning);
//! 3. the good Epic still got its milestone and its link;
//! 4. the exit code is 1 when an error was reported, 0 otherwise.
//!
//! The cases are data ([`cases`]); what GitHub sends (hostile titles, foreign markers) and
//! line endings that must survive an edit have tests of their own below.

use std::process::Command;

use crate::common::*;
use github_standin::SeedMilestone;

const GOOD: &str = "epics/EPIC-001_alpha.md";

/// What a case puts at a workspace-relative path.
enum Put {
    Bytes(Vec<u8>),
    /// A symbolic link to this path, relative to the temporary folder that holds the
    /// workspace (so `outside/…` is outside the workspace).
    LinkOutside(&'static str),
}

fn text(s: impl Into<String>) -> Put {
    Put::Bytes(s.into().into_bytes())
}

/// Where the annotation must point and what it must say.
struct Expect {
    level: &'static str,
    /// Workspace-relative.
    file: String,
    line: usize,
    /// Substrings of the message: the problem and the fix.
    says: &'static [&'static str],
}

struct Case {
    name: &'static str,
    /// Workspace-relative paths and contents, pushed beside the good Epic.
    put: Vec<(String, Put)>,
    /// Files written outside the workspace (relative to its parent folder) that a link points
    /// at: each is a valid Epic the sync must never read.
    outside: Vec<(&'static str, String)>,
    expect: Vec<Expect>,
    /// Whether the bad file(s) still sync (warnings only).
    syncs: bool,
}

fn in_project(path: &str) -> String {
    format!("{PROJECT_DIR}/{path}")
}

fn error(file: String, line: usize, says: &'static [&'static str]) -> Expect {
    Expect { level: "error", file, line, says }
}

fn warning(file: String, line: usize, says: &'static [&'static str]) -> Expect {
    Expect { level: "warning", file, line, says }
}

/// A second project that syncs with the repository, for classes that spoil a whole project.
fn other_project(name: &str, config: &str) -> (String, Put) {
    (format!(".ruru/projects/{name}/project_config.toml"), text(config))
}

fn cases() -> Vec<Case> {
    let bad = |name: &str| in_project(&format!("epics/{name}"));
    let mut huge = epic("EPIC-005", "Huge", "🟡 To Do", "");
    while huge.len() <= 1024 * 1024 {
        huge.push_str("A line of padding that makes this artifact larger than any plan document needs to be.\n");
    }
    let mut latin1 = epic("EPIC-004", "Caf_", "🟡 To Do", "").into_bytes();
    let at = latin1.iter().position(|&b| b == b'_').unwrap();
    latin1[at] = 0xE9; // `é` in Latin-1: not UTF-8
    vec![
        Case {
            name: "broken TOML",
            put: vec![(
                bad("EPIC-003_broken.md"),
                text("+++\nid = \"EPIC-003\"\ntitle = \"Broken\ntype = \"🗺️ Epic\"\n+++\nbody\n"),
            )],
            outside: vec![],
            expect: vec![error(bad("EPIC-003_broken.md"), 3, &["not valid TOML", "fix that line"])],
            syncs: false,
        },
        Case {
            name: "missing closing +++",
            put: vec![(
                bad("EPIC-003_open.md"),
                text("+++\nid = \"EPIC-003\"\ntitle = \"Open\"\n\n## Description\n\nNo end.\n"),
            )],
            outside: vec![],
            expect: vec![error(
                bad("EPIC-003_open.md"),
                1,
                &["never closed", "add a line holding exactly `+++` after the front matter"],
            )],
            syncs: false,
        },
        Case {
            name: "front matter not at the top",
            put: vec![(
                bad("EPIC-003_low.md"),
                text(format!("# EPIC-003\n\n{}", epic("EPIC-003", "Low", "🟡 To Do", ""))),
            )],
            outside: vec![],
            expect: vec![error(
                bad("EPIC-003_low.md"),
                3,
                &["starts on line 3, but it must start on line 1", "move the `+++` block to the top"],
            )],
            syncs: false,
        },
        Case {
            name: "non-UTF-8 bytes",
            put: vec![(bad("EPIC-004_latin1.md"), Put::Bytes(latin1))],
            outside: vec![],
            expect: vec![error(bad("EPIC-004_latin1.md"), 4, &["not valid UTF-8", "save the file with UTF-8"])],
            syncs: false,
        },
        Case {
            name: "a file over the size limit",
            put: vec![(bad("EPIC-005_huge.md"), text(huge))],
            outside: vec![],
            expect: vec![error(
                bad("EPIC-005_huge.md"),
                1,
                &["over the 1048576-byte limit", "keep the file under 1 MiB"],
            )],
            syncs: false,
        },
        Case {
            name: "duplicate artifact IDs",
            put: vec![
                (bad("EPIC-007_one.md"), text(epic("EPIC-007", "One", "🟡 To Do", ""))),
                (bad("EPIC-007_two.md"), text(epic("EPIC-007", "Two", "🟡 To Do", ""))),
            ],
            outside: vec![],
            expect: vec![
                error(
                    bad("EPIC-007_one.md"),
                    3,
                    &["the ID EPIC-007 is used by 2 files", "give each artifact its own `id`"],
                ),
                error(
                    bad("EPIC-007_two.md"),
                    3,
                    &["the ID EPIC-007 is used by 2 files", "give each artifact its own `id`"],
                ),
            ],
            syncs: false,
        },
        Case {
            name: "a related_milestone that is not a milestone URL of this repository",
            put: vec![(
                bad("EPIC-008_foreign.md"),
                text(epic(
                    "EPIC-008",
                    "Foreign",
                    "🟡 To Do",
                    "related_milestone = \"https://github.com/other/repo/milestone/1\"\n",
                )),
            )],
            outside: vec![],
            expect: vec![error(
                bad("EPIC-008_foreign.md"),
                10,
                &["is not a milestone URL of acme/plan", "correct it, or remove the key"],
            )],
            syncs: false,
        },
        Case {
            name: "placeholder and invalid dates",
            put: vec![(
                bad("EPIC-009_dates.md"),
                text(epic(
                    "EPIC-009",
                    "Dates",
                    "🟡 To Do",
                    "milestone_target_date = \"2026-02-30\"\ntarget_date = \"YYYY-MM-DD\"\n",
                )),
            )],
            outside: vec![],
            expect: vec![
                warning(
                    bad("EPIC-009_dates.md"),
                    10,
                    &[
                        "`milestone_target_date` holds \"2026-02-30\", which is not a valid YYYY-MM-DD date",
                        "write the date as",
                    ],
                ),
                warning(
                    bad("EPIC-009_dates.md"),
                    11,
                    &["`target_date` holds the placeholder \"YYYY-MM-DD\"", "write the date as"],
                ),
            ],
            syncs: true,
        },
        Case {
            name: "an unknown status",
            put: vec![(bad("EPIC-010_status.md"), text(epic("EPIC-010", "Status", "🚀 Shipped", "")))],
            outside: vec![],
            expect: vec![warning(
                bad("EPIC-010_status.md"),
                5,
                &["`status = \"🚀 Shipped\"` is not an IntelliManage status", "or list it in `custom_statuses`"],
            )],
            syncs: true,
        },
        Case {
            name: "a damaged emoji",
            put: vec![(bad("EPIC-011_mojibake.md"), text(epic("EPIC-011", "Mojibake", "ðŸŸ¢ Done", "")))],
            outside: vec![],
            expect: vec![warning(
                bad("EPIC-011_mojibake.md"),
                5,
                &["damaged by a wrong encoding", "write `status = \"🟢 Done\"`"],
            )],
            syncs: true,
        },
        Case {
            name: "a symlinked artifact that leads outside the workspace",
            put: vec![(bad("EPIC-012_link.md"), Put::LinkOutside("outside/EPIC-012_secret.md"))],
            outside: vec![("outside/EPIC-012_secret.md", epic("EPIC-012", "Outside", "🟡 To Do", ""))],
            expect: vec![error(
                bad("EPIC-012_link.md"),
                1,
                &["is a symbolic link", "links are never followed", "replace it with the file"],
            )],
            syncs: false,
        },
        Case {
            name: "a symlinked artifact folder that leads outside the workspace",
            put: vec![
                other_project("linked", PROJECT_CONFIG),
                (".ruru/projects/linked/epics".into(), Put::LinkOutside("outside-epics")),
            ],
            outside: vec![("outside-epics/EPIC-013_secret.md", epic("EPIC-013", "Outside folder", "🟡 To Do", ""))],
            expect: vec![error(
                ".ruru/projects/linked/epics".into(),
                1,
                &["is a symbolic link", "links are never followed"],
            )],
            syncs: false,
        },
        Case {
            name: "a symlinked project folder that leads outside the workspace",
            put: vec![(".ruru/projects/elsewhere".into(), Put::LinkOutside("outside-project"))],
            outside: vec![
                ("outside-project/project_config.toml", PROJECT_CONFIG.to_string()),
                ("outside-project/epics/EPIC-015_secret.md", epic("EPIC-015", "Outside project", "🟡 To Do", "")),
            ],
            expect: vec![error(
                ".ruru/projects/elsewhere".into(),
                1,
                &["is a symbolic link", "links are never followed"],
            )],
            syncs: false,
        },
        Case {
            name: "a symlinked project_config.toml that leads outside the workspace",
            put: vec![
                (".ruru/projects/cfglink/project_config.toml".into(), Put::LinkOutside("outside-config.toml")),
                (
                    ".ruru/projects/cfglink/epics/EPIC-016_cfg.md".into(),
                    text(epic("EPIC-016", "Config link", "🟡 To Do", "")),
                ),
            ],
            outside: vec![("outside-config.toml", PROJECT_CONFIG.to_string())],
            expect: vec![error(
                ".ruru/projects/cfglink/project_config.toml".into(),
                1,
                &["is a symbolic link", "replace it with the file or folder itself"],
            )],
            syncs: false,
        },
        Case {
            name: "a project_config with wrong types",
            put: vec![
                other_project(
                    "typo",
                    "[github_integration]\nenable_sync = \"yes\"\nrepo_owner = \"acme\"\nrepo_name = \"plan\"\n",
                ),
                (".ruru/projects/typo/epics/EPIC-014_typo.md".into(), text(epic("EPIC-014", "Typo", "🟡 To Do", ""))),
            ],
            outside: vec![],
            expect: vec![error(
                ".ruru/projects/typo/project_config.toml".into(),
                2,
                &[
                    "`github_integration.enable_sync` must be a boolean, but it is a string \"yes\"",
                    "fix the value at this line",
                ],
            )],
            syncs: false,
        },
    ]
}

/// The bytes of a workspace-relative path at the head of `main` on the "GitHub" side.
fn bytes_at_head(repo: &Repo, path: &str) -> Option<Vec<u8>> {
    let out =
        Command::new("git").arg("--git-dir").arg(repo.bare()).args(["show", &format!("main:{path}")]).output().unwrap();
    out.status.success().then_some(out.stdout)
}

/// Commits `put` (plus the good Epic) into the workspace and pushes; returns the payload.
fn push_case(repo: &Repo, case: &Case) -> String {
    repo.pull();
    let ws = repo.workspace();
    let before = git(&ws, &["rev-parse", "HEAD"]);
    write(&ws.join(PROJECT_DIR).join(GOOD), &epic("EPIC-001", "Alpha", "🟡 To Do", ""));
    for (rel, content) in &case.outside {
        write(&repo.dir.path().join(rel), content);
    }
    for (path, put) in &case.put {
        let full = ws.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        match put {
            Put::Bytes(b) => std::fs::write(&full, b).unwrap(),
            Put::LinkOutside(target) => {
                // An absolute target: wherever the workspace is, it leads out of it.
                std::os::unix::fs::symlink(repo.dir.path().join(target), &full).unwrap()
            }
        }
    }
    git(&ws, &["add", "-A"]);
    git(&ws, &["commit", "-qm", case.name]);
    git(&ws, &["push", "-q", "origin", "main"]);
    push_payload(&before, &git(&ws, &["rev-parse", "HEAD"]))
}

/// The bytes a path was pushed with: the file's, or a link's target as git stores it.
fn pushed_bytes(repo: &Repo, put: &Put) -> Vec<u8> {
    match put {
        Put::Bytes(b) => b.clone(),
        Put::LinkOutside(target) => repo.dir.path().join(target).to_string_lossy().into_owned().into_bytes(),
    }
}

/// The annotations of one level printed by a run, as (file, line, message).
fn annotations(stdout: &str, level: &str) -> Vec<(String, Option<usize>, String)> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix(&format!("::{level} ")))
        .filter_map(|rest| {
            let (props, message) = rest.split_once("::")?;
            let mut file = String::new();
            let mut line = None;
            for p in props.split(',') {
                match p.split_once('=') {
                    Some(("file", f)) => file = f.replace("%3A", ":").replace("%2C", ",").replace("%25", "%"),
                    Some(("line", n)) => line = n.parse().ok(),
                    _ => {}
                }
            }
            Some((file, line, message.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")))
        })
        .collect()
}

#[test]
fn each_bad_input_is_reported_on_its_line_left_untouched_and_the_rest_syncs() {
    let mut failures = Vec::new();
    for case in cases() {
        if let Err(why) = std::panic::catch_unwind(|| check(&case)) {
            let why = why
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| why.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".into());
            failures.push(format!("{}: {why}", case.name));
        }
    }
    assert!(failures.is_empty(), "{} case(s) failed:\n\n{}", failures.len(), failures.join("\n\n"));
}

fn check(case: &Case) {
    let repo = Repo::new(&[]);
    let payload = push_case(&repo, case);
    let pushed_head = repo.head();
    let run = repo.run("push", &payload, &[]);
    let log = format!("stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr);

    // (1) The annotation, on the file and line, naming the problem and the fix.
    for e in &case.expect {
        let found = annotations(&run.stdout, e.level);
        let hit = found.iter().find(|(f, l, _)| *f == e.file && *l == Some(e.line));
        let Some((_, _, message)) = hit else {
            panic!("no ::{} file={},line={}:: annotation\n{log}", e.level, e.file, e.line);
        };
        for s in e.says {
            assert!(message.contains(s), "the message lacks {s:?}: {message}");
        }
    }
    let errors = annotations(&run.stdout, "error");
    if case.syncs {
        assert!(errors.is_empty(), "no error expected: {errors:?}\n{log}");
    }
    // (4) The exit code.
    assert_eq!(run.code(), if case.syncs { 0 } else { 1 }, "exit code\n{log}");
    let expected_errors = case.expect.iter().filter(|e| e.level == "error").count();
    assert_eq!(run.output("errors"), Some(expected_errors.to_string()), "the `errors` output\n{log}");

    // (3) The good Epic synced.
    let ms = repo.milestones();
    let alpha = ms.iter().find(|m| m.title == "Alpha").unwrap_or_else(|| panic!("no milestone for Alpha\n{log}"));
    let good = repo.file_at_head(GOOD).unwrap();
    assert!(good.contains(&format!("related_milestone = \"{}\"", alpha.html_url)), "{good}");

    // (2) The bad files: untouched (an error), or only the link lines added (a warning).
    for (path, put) in &case.put {
        let pushed = pushed_bytes(&repo, put);
        let now = bytes_at_head(&repo, path).expect("still there");
        if case.syncs {
            let (old, new) = changed_lines(&String::from_utf8(pushed).unwrap(), &String::from_utf8(now).unwrap());
            assert!(old.is_empty(), "{path}: only lines added, none changed: {old:?}");
            assert!(
                new.len() == 2
                    && new[0].starts_with("related_milestone = ")
                    && new[1].starts_with("milestone_sync_base = "),
                "{path}: {new:?}"
            );
        } else {
            assert!(now == pushed, "{path}: changed by the run");
        }
    }
    if !case.syncs {
        // Nothing was created for them: only Alpha has a milestone, and only Alpha's file
        // changed in the sync's commit.
        assert_eq!(ms.len(), 1, "{ms:?}");
        assert_eq!(git(&repo.bare(), &["rev-parse", "main^"]), pushed_head);
        assert_eq!(git(&repo.bare(), &["diff", "--name-only", "main^", "main"]), in_project(GOOD));
    }
    // Nothing outside the workspace was read: no milestone carries a title from there.
    for (_, content) in &case.outside {
        let Some(title) = content.lines().find_map(|l| l.strip_prefix("title = \"")) else { continue };
        let title = title.trim_end_matches('"');
        assert!(ms.iter().all(|m| m.title != title), "{title} was read through a link");
    }
}

#[test]
fn warned_files_sync_with_what_they_mean() {
    let repo = Repo::new(&[]);
    let dates = epic("EPIC-009", "Dates", "🟡 To Do", "target_date = \"YYYY-MM-DD\"\n");
    let payload = repo.push(
        &[
            ("epics/EPIC-009_dates.md", Some(&dates)),
            ("epics/EPIC-010_status.md", Some(&epic("EPIC-010", "Status", "🚀 Shipped", ""))),
            ("epics/EPIC-011_mojibake.md", Some(&epic("EPIC-011", "Mojibake", "ðŸŸ¢ Done", ""))),
        ],
        "three odd files",
    );
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    let ms = repo.milestones();
    let by = |t: &str| ms.iter().find(|m| m.title == t).unwrap_or_else(|| panic!("{t}: {ms:?}"));
    assert_eq!(by("Dates").due_on, None, "a placeholder date is no date");
    assert_eq!(by("Status").state, "open", "an unknown status keeps the milestone open");
    assert_eq!(by("Mojibake").state, "closed", "a damaged 🟢 Done still means Done");
}

#[test]
fn custom_statuses_are_known_statuses() {
    let repo = Repo::new(&[]);
    let config = format!("custom_statuses = [\"🚀 Shipped\"]\n{PROJECT_CONFIG}");
    let payload = repo.push(
        &[
            ("project_config.toml", Some(&config)),
            ("epics/EPIC-010_status.md", Some(&epic("EPIC-010", "Status", "🚀 Shipped", ""))),
        ],
        "a custom status",
    );
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    assert!(!run.stdout.contains("::warning"), "{}", run.stdout);
}

#[test]
fn crlf_and_bom_files_keep_their_bytes_when_edited() {
    let crlf = epic("EPIC-001", "Alpha", "🟡 To Do", "").replace('\n', "\r\n");
    let bom = format!("\u{feff}{}", epic("EPIC-002", "Beta", "🟡 To Do", ""));
    let repo = Repo::new(&[]);
    let payload =
        repo.push(&[("epics/EPIC-001_alpha.md", Some(&crlf)), ("epics/EPIC-002_beta.md", Some(&bom))], "crlf and bom");
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    assert!(!run.stdout.contains("::error") && !run.stdout.contains("::warning"), "{}", run.stdout);

    // The links were added with CRLF, every other byte kept.
    let after = repo.file_at_head("epics/EPIC-001_alpha.md").unwrap();
    assert!(after.split_inclusive('\n').all(|l| l.ends_with("\r\n")), "{after:?}");
    let (old, new) = changed_lines(&crlf, &after);
    assert!(old.is_empty() && new.len() == 2 && new[0].starts_with("related_milestone = "), "{new:?}");
    let after = repo.file_at_head("epics/EPIC-002_beta.md").unwrap();
    assert!(after.starts_with("\u{feff}+++\n"), "the BOM stays");
    assert!(!after.contains('\r'));

    // A milestone edited on GitHub flows back into the CRLF file as CRLF.
    repo.pull();
    let number = repo.milestones().iter().find(|m| m.title == "Alpha").unwrap().number;
    repo.standin.edit_milestone(number, |m| {
        m.title = "Alpha, renamed".into();
        m.description =
            Some("Line one.\r\nLine two.\r\n\r\nIntelliManage-ID: EPIC-001\r\nIntelliManage-Project: demo".into());
    });
    let event = repo.milestone_event(
        "edited",
        number,
        serde_json::json!({"title": {"from": "Alpha"}, "description": {"from": "x"}}),
    );
    let run = repo.run("milestone", &event, &[]);
    assert_eq!(run.code(), 0, "{}", run.stdout);
    let edited = repo.file_at_head("epics/EPIC-001_alpha.md").unwrap();
    assert!(edited.contains("title = \"Alpha, renamed\"\r\n"), "{edited:?}");
    assert!(edited.contains("## Description ✍️\r\n\r\nLine one.\r\nLine two.\r\n\r\n## Acceptance"), "{edited:?}");
    assert!(edited.split_inclusive('\n').all(|l| l.ends_with("\r\n")), "{edited:?}");
}

/// A hostile text of 1,000+ characters: Markdown, HTML, pipes and line breaks.
fn hostile(tag: &str) -> String {
    format!(
        "{tag} | **bold** <img src=x onerror=alert(1)> [link](javascript:alert(1)) `code`\n## heading\r\n| a | b |\n{}",
        "long ".repeat(220)
    )
}

/// Every row of every Markdown table in `summary` has exactly the cells of its header: an
/// unescaped `|` or a line break inside a value would add cells or end the row.
fn assert_tables_intact(summary: &str) {
    let cells = |line: &str| {
        let mut n = 0;
        let mut escaped = false;
        for c in line.chars() {
            match c {
                '\\' if !escaped => {
                    escaped = true;
                    continue;
                }
                '|' if !escaped => n += 1,
                _ => {}
            }
            escaped = false;
        }
        n
    };
    let mut header = None;
    for line in summary.lines() {
        if line.starts_with('|') {
            let n = cells(line);
            match header {
                None => header = Some(n),
                Some(h) => assert_eq!(n, h, "a row with other cells than its header: {line}"),
            }
            assert!(line.chars().count() < 2000, "a row of {} characters", line.chars().count());
        } else {
            header = None;
        }
    }
    assert!(!summary.contains("<img"), "raw HTML in the summary:\n{summary}");
    assert!(!summary.replace("\\]", "").contains("](javascript"), "a live link in the summary:\n{summary}");
    assert!(!summary.contains("**bold**"), "live Markdown in the summary:\n{summary}");
}

#[test]
fn hostile_titles_and_descriptions_from_github_are_escaped_in_the_summary() {
    let repo = Repo::new(&[]);
    let m = repo.standin.seed_milestone(SeedMilestone {
        title: hostile("title"),
        description: Some(hostile("description")),
        ..Default::default()
    });
    let run = repo.run(
        "milestone",
        &repo.milestone_event("created", m.number, serde_json::json!({})),
        &[("create-artifacts", "true")],
    );
    assert_eq!(run.code(), 0, "{}", run.stdout);
    assert!(run.summary.contains("| **EPIC-001** title \\| \\*\\*bold\\*\\* &lt;img"), "{}", run.summary);
    assert_tables_intact(&run.summary);
    // The title went into the new file intact (TOML-escaped), and reads back the same.
    let path = git(&repo.bare(), &["diff", "--name-only", "main^", "main"]);
    let bytes = bytes_at_head(&repo, &path).unwrap();
    let a = milestone_sync::artifact::parse(&path, &bytes).expect("the new file reads back");
    assert_eq!(a.title, hostile("title"));
}

/// Someone copied EPIC-002's milestone description, marker lines and all, into the milestone
/// EPIC-003 links. Neither artifact may take the other's milestone: both are reported,
/// neither file nor milestone is written, and the rest syncs.
#[test]
fn a_milestone_marked_for_another_artifact_is_not_taken_over() {
    let repo = Repo::new(&[]);
    let marker = "IntelliManage-ID: EPIC-002\nIntelliManage-Project: demo";
    let beta = repo.standin.seed_milestone(SeedMilestone {
        title: "Beta".into(),
        description: Some(format!("What EPIC-002 delivers.\n\n{marker}")),
        ..Default::default()
    });
    let gamma = repo.standin.seed_milestone(SeedMilestone {
        title: "Gamma".into(),
        description: Some(format!("Copied from Beta.\n\n{marker}")),
        ..Default::default()
    });
    let linking =
        |id: &str, title: &str, url: &str| epic(id, title, "🟢 Done", &format!("related_milestone = \"{url}\"\n"));
    let (e2, e3) = ("epics/EPIC-002_beta.md", "epics/EPIC-003_gamma.md");
    let (beta_file, gamma_file) =
        (linking("EPIC-002", "Beta", &beta.html_url), linking("EPIC-003", "Gamma", &gamma.html_url));
    let payload = repo.push(
        &[(GOOD, Some(&epic("EPIC-001", "Alpha", "🟡 To Do", ""))), (e2, Some(&beta_file)), (e3, Some(&gamma_file))],
        "link both",
    );
    repo.standin.clear_requests();
    let run = repo.run("push", &payload, &[]);
    assert_eq!(run.code(), 1, "{}", run.stdout);
    let errors = annotations(&run.stdout, "error");
    let message_for = |path: &str| {
        let (_, line, message) =
            errors.iter().find(|(f, _, _)| *f == in_project(path)).unwrap_or_else(|| panic!("{path}: {}", run.stdout));
        assert_eq!(*line, Some(10), "{path}: the `related_milestone` line");
        message.clone()
    };
    let m = message_for(e3);
    assert!(
        m.contains("whose description marks it as EPIC-002")
            && m.contains("fix the link or the milestone's marker lines"),
        "{m}"
    );
    let m = message_for(e2);
    assert!(
        m.contains(&format!("milestone #{} ", gamma.number))
            && m.contains("also carries the marker")
            && m.contains("remove its marker lines"),
        "{m}"
    );
    assert_eq!(repo.file_at_head(e2).unwrap(), beta_file, "untouched");
    assert_eq!(repo.file_at_head(e3).unwrap(), gamma_file, "untouched");
    for n in [beta.number, gamma.number] {
        assert!(repo.writes().iter().all(|w| !w.path.ends_with(&format!("/milestones/{n}"))), "{:?}", repo.writes());
        assert_eq!(repo.milestones().iter().find(|m| m.number == n).unwrap().state, "open");
    }
    assert!(repo.file_at_head(GOOD).unwrap().contains("related_milestone"), "the rest syncs");
}
