//! Security, end to end: the token never shows (trace-level logs, failures, a panic), the
//! binary opens no network listener, talks only to the API, writes only inside the workspace
//! and the runner's files (checked with strace on every file and socket call of the binary
//! and its git children), and no shell runs with data from files or payloads.
//!
//! Every run through the harness also checks stdout, stderr, the summary and the outputs for
//! the test token (`common::finish`), and `scripts/test.sh` greps the whole suite's output.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::scenario::prepared;
use crate::common::*;
use github_standin::{Fault, Trigger};
use serde_json::json;

#[test]
fn the_token_never_shows_at_trace_level_nor_when_requests_fail() {
    let (repo, payload) = prepared();
    repo.standin.fail_next(Fault::LostAnswer { trigger: Trigger::new("POST", "/milestones") });
    repo.standin.fail_next(Fault::DroppedAnswer { trigger: Trigger::new("PATCH", "/milestones/1") });
    repo.standin.fail_next(Fault::Status {
        trigger: Trigger::new("POST", "/graphql"),
        status: 403,
        body: json!({"message": "Resource not accessible by integration"}),
    });
    let run = repo.run_with("push", &payload, &[], &[("MILESTONE_SYNC_LOG", "trace")]);
    assert_eq!(run.code(), 1, "the commit was refused");
    // Trace output of our code and hyper was on: every request shows, the token not.
    assert!(run.stderr.contains("TRACE") && run.stderr.contains("http.url="), "{}", run.stderr);
    assert!(run.stdout.contains("contents: write"), "{}", run.stdout);
    for line in run.stderr.lines().filter(|l| l.to_ascii_lowercase().contains("authorization")) {
        assert!(line.contains("Sensitive") || line.contains("***"), "{line}");
    }
    // `finish` checked stdout, stderr, summary and outputs for the token; also no fragment.
    let fragment = &TOKEN[4..24];
    for text in [&run.stdout, &run.stderr, &run.summary, &run.outputs] {
        assert!(!text.contains(fragment));
    }

    // A wrong token: refused, and neither token shows.
    let wrong = "ghs_wrong_token_also_never_printed_42";
    let run = repo.run_with("workflow_dispatch", "{}", &[("github-token", wrong)], &[("MILESTONE_SYNC_LOG", "trace")]);
    assert_ne!(run.code(), 0);
    assert!(run.stdout.contains("401"), "{}", run.stdout);
    for text in [&run.stdout, &run.stderr, &run.summary, &run.outputs] {
        assert!(!text.contains(wrong), "{text}");
    }
}

#[test]
fn a_panic_message_does_not_show_the_token() {
    let (repo, payload) = prepared();
    // A debug-build test hook panics with the token in the message.
    let run = repo.run_with("push", &payload, &[], &[("MILESTONE_SYNC_TEST_PANIC", "1")]);
    assert_eq!(run.code(), 101, "{}", run.stderr);
    assert!(run.stderr.contains("test panic with the token *** in its message"), "{}", run.stderr);
}

/// One traced call: the syscall, the paths it names (resolved), and whether it writes.
#[derive(Debug)]
struct Call {
    line: String,
    name: String,
    paths: Vec<PathBuf>,
}

/// Runs `cmd` under strace (following git children) and returns the traced calls.
fn traced(cmd: &Command, cwd: &Path, trace: &Path) -> (std::process::Output, Vec<Call>) {
    let calls = "open,openat,openat2,creat,mkdir,mkdirat,rename,renameat,renameat2,unlink,unlinkat,rmdir,link,linkat,\
                 symlink,symlinkat,truncate,chmod,fchmodat,chown,fchownat,utimensat,bind,listen,accept,accept4,connect";
    let mut strace = Command::new("strace");
    strace.args(["-f", "-qq", "-y", "-s", "4096", "-e", &format!("trace={calls}"), "-o"]).arg(trace);
    strace.arg(cmd.get_program()).args(cmd.get_args()).env_clear().current_dir(cwd);
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            strace.env(k, v);
        }
    }
    let output = strace.output().expect("strace runs (scripts/test.sh installs it)");
    let text = std::fs::read_to_string(trace).expect("strace wrote its trace");
    let calls = text
        .lines()
        .filter_map(|line| {
            let rest = line.split_once(' ')?.1.trim_start();
            let (name, _) = rest.split_once('(')?;
            if rest.starts_with("---") || rest.starts_with("+++") || name.contains(' ') {
                return None;
            }
            Some(Call { line: line.to_string(), name: name.to_string(), paths: paths_of(rest) })
        })
        .collect();
    (output, calls)
}

/// The paths a traced call names: each quoted argument, joined to the directory strace shows
/// for the file descriptor before it (`AT_FDCWD</dir>`, `3</dir>`), and the path of a
/// returned descriptor (`= 4</file>`).
fn paths_of(call: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut base: Option<PathBuf> = None;
    let mut rest = call;
    while let Some(i) = rest.find(['"', '<']) {
        let (open, after) = (rest.as_bytes()[i], &rest[i + 1..]);
        let close = if open == b'"' { '"' } else { '>' };
        let Some(end) = after.find(close) else { break };
        let text = &after[..end];
        if open == b'<' {
            base = Some(PathBuf::from(text));
        } else if text.starts_with('/') {
            out.push(PathBuf::from(text));
        } else if let Some(dir) = &base {
            out.push(dir.join(text));
        } else {
            out.push(PathBuf::from(text));
        }
        rest = &after[end + 1..];
        if rest.trim_start().starts_with(") =") {
            // The returned descriptor's path, when it has one.
            if let Some(j) = rest.find('<')
                && let Some(k) = rest[j..].find('>')
            {
                out.push(PathBuf::from(&rest[j + 1..j + k]));
            }
            break;
        }
    }
    out
}

fn writes(call: &Call) -> bool {
    match call.name.as_str() {
        "open" | "openat" | "openat2" => {
            ["O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND"].iter().any(|flag| call.line.contains(flag))
        }
        "bind" | "listen" | "accept" | "accept4" | "connect" => false,
        _ => true,
    }
}

fn assert_contained(case: &str, calls: &[Call], allowed: &[PathBuf], port: u16) {
    let mut file_writes = 0;
    for call in calls {
        match call.name.as_str() {
            "bind" | "listen" | "accept" | "accept4" => panic!("{case}: a network listener: {}", call.line),
            // Only to the API; the Unix sockets of name lookup have nothing to say here.
            "connect" if call.line.contains("AF_INET") => {
                assert!(
                    call.line.contains(&format!("sin_port=htons({port})"))
                        && call.line.contains("inet_addr(\"127.0.0.1\")"),
                    "{case}: a connection elsewhere than the API: {}",
                    call.line
                );
            }
            "connect" => {}
            _ if writes(call) => {
                for path in &call.paths {
                    assert!(!path.components().any(|c| c == std::path::Component::ParentDir), "{case}: {}", call.line);
                    let inside = allowed.iter().any(|root| path.starts_with(root)) || path == Path::new("/dev/null");
                    assert!(inside, "{case}: a write outside the workspace and the runner's files: {}", call.line);
                    file_writes += 1;
                }
            }
            _ => {}
        }
    }
    assert!(file_writes >= 2, "{case}: the trace saw the summary and outputs written: {calls:#?}");
}

#[test]
fn no_listener_no_stray_connection_and_writes_only_in_the_workspace_and_runner_files() {
    assert!(
        Command::new("strace").arg("-V").output().is_ok_and(|o| o.status.success()),
        "this test needs strace (scripts/test.sh installs it)"
    );
    for (case, inputs) in [("commit", vec![]), ("commit: false", vec![("commit", "false")])] {
        let (repo, payload) = prepared();
        let port: u16 = repo.standin.api_url().rsplit(':').next().unwrap().parse().unwrap();
        let (cmd, files) = repo.command("push", &payload, &inputs);
        let trace = repo.dir.path().join("strace.txt");
        let (output, calls) = traced(&cmd, &repo.workspace(), &trace);
        let run = finish(output, &files);
        assert_eq!(run.code(), 0, "{case}: {}\n{}", run.stdout, run.stderr);
        let canonical = |p: &Path| std::fs::canonicalize(p).unwrap();
        let allowed = [canonical(&repo.workspace()), canonical(&files.output), canonical(&files.summary)];
        assert_contained(case, &calls, &allowed, port);
        assert!(
            calls.iter().any(|c| c.name == "connect" && c.line.contains(&format!("htons({port})"))),
            "{case}: the trace saw the connection to the API"
        );
        if inputs.is_empty() {
            assert_eq!(repo.milestones().len(), 4);
        } else {
            let workspace_writes = calls.iter().filter(|c| writes(c) && c.line.contains("/epics/EPIC-00")).count();
            // The two new links (the two updated milestones carry their base themselves).
            assert!(workspace_writes >= 2, "{case}: the links went into the workspace files");
        }
    }
}

#[test]
fn a_hostile_title_writes_a_slugged_file_inside_the_project_and_nothing_else() {
    let repo = Repo::new(&[]);
    let m = repo.standin.seed_milestone(github_standin::SeedMilestone {
        title: "../../../../tmp/evil\u{0}.md; rm -rf / #".into(),
        ..Default::default()
    });
    let payload = repo.milestone_event("created", m.number, json!({}));
    let port: u16 = repo.standin.api_url().rsplit(':').next().unwrap().parse().unwrap();
    let (cmd, files) = repo.command("milestone", &payload, &[("create-artifacts", "true"), ("commit", "false")]);
    let (output, calls) = traced(&cmd, &repo.workspace(), &repo.dir.path().join("strace.txt"));
    let run = finish(output, &files);
    assert_eq!(run.code(), 0, "{}\n{}", run.stdout, run.stderr);
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap();
    let project = canonical(&repo.workspace().join(PROJECT_DIR));
    let allowed = [canonical(&repo.workspace()), canonical(&files.output), canonical(&files.summary)];
    assert_contained("hostile title", &calls, &allowed, port);
    let created: Vec<&PathBuf> =
        calls.iter().filter(|c| writes(c) && c.line.contains("O_CREAT")).flat_map(|c| &c.paths).collect();
    let new_file = project.join("epics/EPIC-001_tmp-evil-md-rm-rf.md");
    assert!(created.contains(&&new_file), "{created:#?}");
    assert!(new_file.is_file());
    assert!(!Path::new("/tmp/evil").exists());
}

#[test]
fn the_binary_runs_no_shell_and_only_git_with_arguments() {
    // Every process the product starts, in its source.
    let mut starts = Vec::new();
    let mut stack = vec![PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (i, line) in text.lines().enumerate() {
                    // clap's `Command` is the command line's parser, not a process.
                    if line.contains("Command::new(") && !line.contains("clap::Command::new(") {
                        starts.push((format!("{}:{}", path.display(), i + 1), line.trim().to_string()));
                    }
                    for shell in ["\"sh\"", "\"bash\"", "\"/bin/sh\"", "\"cmd\"", "\"powershell\""] {
                        assert!(!line.contains(shell), "{}:{}: {line}", path.display(), i + 1);
                    }
                }
            }
        }
    }
    assert!(!starts.is_empty(), "the scan found the git calls");
    for (place, line) in &starts {
        assert!(line.contains("Command::new(\"git\")"), "{place}: only git is started: {line}");
    }
}

#[test]
fn the_trace_check_catches_a_stray_write_a_listener_and_a_stray_connection() {
    let allowed =
        [PathBuf::from("/w/workspace"), PathBuf::from("/w/runner/output.txt"), PathBuf::from("/w/runner/summary.md")];
    let call = |line: &str| {
        let rest = line.split_once(' ').unwrap().1;
        Call { line: line.to_string(), name: rest.split_once('(').unwrap().0.to_string(), paths: paths_of(rest) }
    };
    let fine = [
        call(
            r#"7 openat(AT_FDCWD</w/workspace>, "/w/runner/summary.md", O_WRONLY|O_CREAT|O_APPEND|O_CLOEXEC, 0666) = 11</w/runner/summary.md>"#,
        ),
        call(
            r#"7 openat(AT_FDCWD</w/workspace>, ".git/index.lock", O_RDWR|O_CREAT|O_EXCL, 0666) = 3</w/workspace/.git/index.lock>"#,
        ),
        call(r#"7 openat(AT_FDCWD</w/workspace>, "/etc/hosts", O_RDONLY|O_CLOEXEC) = 3</etc/hosts>"#),
        call(
            r#"7 connect(9<socket:[1]>, {sa_family=AF_INET, sin_port=htons(4242), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 EINPROGRESS"#,
        ),
    ];
    assert_contained("fine", &fine, &allowed, 4242);
    for bad in [
        r#"7 openat(AT_FDCWD</w/workspace>, "/tmp/x", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3</tmp/x>"#,
        r#"7 mkdir("/home/x", 0777) = 0"#,
        r#"7 unlinkat(3</w>, "elsewhere", 0) = 0"#,
        r#"7 openat(AT_FDCWD</w/workspace>, "../outside.md", O_WRONLY|O_CREAT, 0666) = 3</w/outside.md>"#,
        r#"7 bind(3<socket:[2]>, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("0.0.0.0")}, 16) = 0"#,
        r#"7 connect(9<socket:[1]>, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("140.82.112.6")}, 16) = 0"#,
    ] {
        let mut calls = fine.iter().map(|c| call(&c.line)).collect::<Vec<_>>();
        calls.push(call(bad));
        let caught = std::panic::catch_unwind(|| assert_contained("bad", &calls, &allowed, 4242));
        assert!(caught.is_err(), "not caught: {bad}");
    }
}
