//! The cost of a sync, measured: API calls against their lower bound, wall time, CPU time of
//! the planning stage, peak RSS, for N = 100, 1,000 and 10,000 Epics, against the GitHub
//! stand-in with a GitHub-like latency per request. Also the release binary's size and its
//! time from start to first request.
//!
//! ```text
//! cargo bench --bench sync                                  # N = 100, 1000; 50 ms
//! cargo bench --bench sync -- --n 100,1000,10000            # the full run (about 11 min)
//! cargo bench --bench sync -- --n 1000 --latency-ms 0 --plan-repeats 9
//! cargo bench --bench sync -- --binary /tmp/ms-musl         # the image's static build
//! ```
//!
//! Every scenario runs the real binary (built with the release profile) as a subprocess,
//! through the environment a runner gives the action. Calls are counted from the stand-in's
//! request log; wall time, CPU time and peak RSS come from `wait4` on the child, started by a
//! small runner process (see `measure.rs`). The planning stage is measured in-process on the
//! same inputs (see `planning.rs`). A scenario whose run fails, or whose plan is not what the
//! scenario says, stops the bench: no figures from a broken run. docs/benchmarks.md explains
//! the lower bounds and holds the last full run.

mod calls;
mod fixture;
mod measure;
mod planning;
mod repositories;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use calls::Calls;
use fixture::{World, epic_path, epic_title};
use github_standin::MilestoneRecord;

struct Args {
    ns: Vec<usize>,
    latency: Duration,
    plan_repeats: usize,
    /// Keep each N's repository and the stand-in's milestones (for profiling a run by hand).
    keep: bool,
    /// The `write-delay-ms` input of every run: 0 measures the sync itself; the action's
    /// default pacing (writes start 750 ms apart) is added to the table by computation.
    write_delay_ms: u64,
    /// The milestone-sync binary to run: by default this crate's release build (glibc);
    /// the image ships a static musl build (`scripts/build-static.sh amd64 OUT`), whose
    /// allocator gives memory back sooner, so its peak RSS differs.
    binary: Option<PathBuf>,
}

const USAGE: &str = "usage: cargo bench --bench sync -- [--n 100,1000,10000] [--latency-ms 50] [--plan-repeats 5] [--write-delay-ms 0] [--keep] [--binary PATH]";

fn parse_args() -> Args {
    let mut args = Args {
        ns: vec![100, 1000],
        latency: Duration::from_millis(50),
        plan_repeats: 5,
        keep: false,
        write_delay_ms: 0,
        binary: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().unwrap_or_else(|| panic!("{name} needs a value\n{USAGE}"));
        match flag.as_str() {
            // cargo bench passes --bench to every bench binary.
            "--bench" => {}
            "--n" => {
                args.ns = value("--n")
                    .split(',')
                    .map(|s| s.trim().replace('_', "").parse().unwrap_or_else(|_| panic!("--n: not a number: {s}")))
                    .collect();
            }
            "--latency-ms" => {
                args.latency = Duration::from_millis(value("--latency-ms").parse().expect("--latency-ms: a number"));
            }
            "--plan-repeats" => args.plan_repeats = value("--plan-repeats").parse().expect("--plan-repeats: a number"),
            "--keep" => args.keep = true,
            "--binary" => args.binary = Some(PathBuf::from(value("--binary"))),
            "--write-delay-ms" => {
                args.write_delay_ms = value("--write-delay-ms").parse().expect("--write-delay-ms: a number")
            }
            "--help" | "-h" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => panic!("unknown argument {other}\n{USAGE}"),
        }
    }
    args
}

/// One measured scenario.
struct Row {
    scenario: String,
    n: usize,
    calls: Calls,
    bound: Calls,
    wall: Duration,
    cpu: Duration,
    plan_cpu: Duration,
    read: Duration,
    max_rss: u64,
}

fn main() {
    let raw: Vec<String> = std::env::args().skip(1).collect();
    if raw.first().map(String::as_str) == Some(measure::RUNNER_FLAG) {
        measure::runner_main(&raw[1..]);
    }
    let args = parse_args();
    let binary = args.binary.clone().unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_milestone-sync")));
    let started = Instant::now();
    let mut rows = Vec::new();
    let mut first_request = Vec::new();
    for &n in &args.ns {
        let (scenario_rows, ttfr) = bench_n(&binary, n, &args);
        rows.extend(scenario_rows);
        rows.extend(repositories::bench(&binary, n, &args));
        first_request.push((n, ttfr));
    }
    let small = World::new(1);
    let startup = median((0..9).map(|_| {
        measure::time_to_first_request(&binary, |url| small.runner_env("workflow_dispatch", &small.dispatch(), url))
    }));
    print_report(&args, &binary, &rows, startup, &first_request, started.elapsed());
}

fn median(values: impl Iterator<Item = Duration>) -> Duration {
    let mut v: Vec<Duration> = values.collect();
    v.sort();
    v[v.len() / 2]
}

/// Every scenario for one N, in an order where each starts from the state the previous left
/// (the workspace brought to the branch head in between, as the next checkout would).
fn bench_n(binary: &Path, n: usize, args: &Args) -> (Vec<Row>, Duration) {
    eprintln!("N = {n}: setting up {n} Epics");
    let mut world = World::new(n);
    world.write_delay_ms = args.write_delay_ms;
    world.standin.set_latency(args.latency);
    let reps = args.plan_repeats;
    let mut rows = Vec::new();
    let dispatch = world.dispatch();

    // First import: N unlinked artifacts, no milestones.
    let planned =
        planning::sync(&world.workspace(), &env(&world, "workflow_dispatch", &dispatch), &dispatch, &[], reps);
    check(planned.plan.changes.len() == n, "first import plans one create per artifact", &planned.plan);
    let row = run(&world, binary, "first import", "workflow_dispatch", &dispatch, calls::first_import(n), planned);
    assert_eq!(world.standin.milestones().len(), n, "first import created every milestone");
    rows.push(row);
    world.pull();

    // Steady state: everything linked and equal.
    let ms = world.standin.milestones();
    let planned =
        planning::sync(&world.workspace(), &env(&world, "workflow_dispatch", &dispatch), &dispatch, &ms, reps);
    check(planned.plan.changes.is_empty() && planned.plan.in_sync == n, "steady state plans nothing", &planned.plan);
    rows.push(run(&world, binary, "steady-state reconcile", "workflow_dispatch", &dispatch, calls::steady(n), planned));
    let ttfr =
        median((0..5).map(|_| {
            measure::time_to_first_request(binary, |url| world.runner_env("workflow_dispatch", &dispatch, url))
        }));

    // A push that touches no artifact (most pushes to a repository with code in it).
    let payload =
        world.push(&[("../../../README.md".to_string(), "# plan\n\nNow with a README.\n".to_string())], "docs");
    rows.push(push_row(&world, binary, "push touching no artifact", &payload, 0, reps));
    world.pull();

    // A push that changes one artifact, then the milestone event GitHub sends back for the
    // sync's own update (with a PAT or App token): nothing to do.
    let old_title = epic_title(1);
    let payload = world.push(&[(epic_path(1), edit_file(&world.read(&epic_path(1)), 0))], "rename one");
    rows.push(push_row(&world, binary, "push touching 1 artifact", &payload, 1, reps));
    world.pull();
    let number = number_of(&world.standin.milestones(), 1);
    let echo = world.milestone_event("edited", number, serde_json::json!({"title": {"from": old_title}}));
    rows.push(event_row(&world, binary, "milestone event, nothing to change (echo)", &echo, 0, reps));

    // A push that changes ten artifacts: title, status, description, due date.
    let changes: Vec<(String, String)> =
        (2..=11).map(|i| (epic_path(i), edit_file(&world.read(&epic_path(i)), i))).collect();
    let payload = world.push(&changes, "update ten");
    rows.push(push_row(&world, binary, "push touching 10 artifacts", &payload, 10, reps));
    world.pull();

    // One milestone event: a title edited on GitHub flows into the file.
    let number = number_of(&world.standin.milestones(), 12);
    world.standin.edit_milestone(number, |m| m.title = format!("{} (renamed on GitHub)", m.title));
    let payload = world.milestone_event("edited", number, serde_json::json!({"title": {"from": epic_title(12)}}));
    rows.push(event_row(&world, binary, "milestone event (title edited)", &payload, 1, reps));
    world.pull();

    // A reconcile after one field was edited in a file (its push run cancelled).
    let payload = world.push(&[(epic_path(15), edit_file(&world.read(&epic_path(15)), 0))], "rename one, run lost");
    let _ = payload;
    let ms = world.standin.milestones();
    let planned =
        planning::sync(&world.workspace(), &env(&world, "workflow_dispatch", &dispatch), &dispatch, &ms, reps);
    check(planned.plan.changes.len() == 1, "one field edited in a file plans one update", &planned.plan);
    let name = "reconcile, 1 field edited in a file";
    rows.push(run(&world, binary, name, "workflow_dispatch", &dispatch, calls::reconcile(n, 1, 0), planned));
    world.pull();

    // A full reconcile where 1 % of the artifacts changed in files and 1 % of the milestones
    // changed on GitHub since the last sync (runs missed, or events dropped).
    let c = n.div_ceil(100);
    let local: Vec<(String, String)> =
        (20..20 + c).map(|i| (epic_path(i), edit_file(&world.read(&epic_path(i)), i))).collect();
    world.push(&local, "edits whose push run was missed");
    let ms = world.standin.milestones();
    for (k, i) in (20 + c..20 + 2 * c).enumerate() {
        world.standin.edit_milestone(number_of(&ms, i), |m| edit_milestone(m, k));
    }
    let ms = world.standin.milestones();
    let planned =
        planning::sync(&world.workspace(), &env(&world, "workflow_dispatch", &dispatch), &dispatch, &ms, reps);
    check(planned.plan.changes.len() == 2 * c, "1 % each side plans one change per changed artifact", &planned.plan);
    let name = "reconcile, 1 % changed on each side";
    rows.push(run(&world, binary, name, "workflow_dispatch", &dispatch, calls::reconcile(n, c, c), planned));
    world.pull();
    if args.keep {
        let seed = world.dir.path().join("milestones.json");
        std::fs::write(&seed, world.standin.milestones_json().to_string()).expect("milestones written");
        let kept = world.dir.keep();
        eprintln!("N = {n}: kept {} (serve it with github-standin --seed {})", kept.display(), seed.display());
    }
    (rows, ttfr)
}

fn env(world: &World, event: &str, payload: &str) -> Vec<(String, String)> {
    world.runner_env(event, payload, &world.standin.api_url())
}

fn push_row(world: &World, binary: &Path, name: &str, payload: &str, k: usize, reps: usize) -> Row {
    let ms = world.standin.milestones();
    let planned = planning::sync(&world.workspace(), &env(world, "push", payload), payload, &ms, reps);
    check(planned.plan.changes.len() == k, &format!("the push plans {k} update(s)"), &planned.plan);
    run(world, binary, name, "push", payload, calls::push(k, world.n), planned)
}

fn event_row(world: &World, binary: &Path, name: &str, payload: &str, changes: usize, reps: usize) -> Row {
    let ms = world.standin.milestones();
    let planned = planning::sync(&world.workspace(), &env(world, "milestone", payload), payload, &ms, reps);
    check(planned.plan.changes.len() == changes, &format!("the event plans {changes} change(s)"), &planned.plan);
    let n = world.n;
    let bound = if changes == 0 { calls::event_without_change(n) } else { calls::event_with_change(n) };
    run(world, binary, name, "milestone", payload, bound, planned)
}

/// Runs the binary for one scenario and collects its figures.
fn run(
    world: &World,
    binary: &Path,
    scenario: &str,
    event: &str,
    payload: &str,
    bound: Calls,
    planned: planning::Planned,
) -> Row {
    eprint!("N = {}: {scenario} … ", world.n);
    let env = env(world, event, payload);
    let before = world.standin.requests().len();
    let child = measure::run_child(binary, &env);
    let log = world.standin.requests().split_off(before);
    if child.code != 0 {
        panic!(
            "{scenario} (N = {}) failed with exit code {}:\n{}\n{}",
            world.n, child.code, child.stdout, child.stderr
        );
    }
    let calls = calls::count(&log);
    eprintln!("{:.1} s, {} call(s)", child.wall.as_secs_f64(), calls::total(&calls));
    Row {
        scenario: scenario.to_string(),
        n: world.n,
        calls,
        bound,
        wall: child.wall,
        cpu: child.cpu,
        plan_cpu: planned.cpu,
        read: planned.read,
        max_rss: child.max_rss,
    }
}

fn check(ok: bool, what: &str, plan: &milestone_sync_core::plan::Plan) {
    if !ok {
        let changes: Vec<String> =
            plan.changes.iter().map(|c| format!("{} {}", c.artifact_id, milestone_sync::apply::describe(c))).collect();
        panic!("scenario set-up is wrong: {what}; planned {} change(s): {changes:?}", plan.changes.len());
    }
}

/// The milestone of Epic `i` (found by its marker, so renames do not matter).
fn number_of(ms: &[MilestoneRecord], i: usize) -> u64 {
    let id = format!("IntelliManage-ID: EPIC-{i:05}\n");
    ms.iter()
        .find(|m| m.description.as_deref().is_some_and(|d| d.contains(&id)))
        .unwrap_or_else(|| panic!("no milestone carries EPIC-{i:05}"))
        .number
}

/// A change of one synced field in the file, chosen by `k`: title, status, description or
/// due date.
fn edit_file(text: &str, k: usize) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut done = false;
    for line in text.split_inclusive('\n') {
        let changed = match k % 4 {
            0 if line.starts_with("title = \"") => Some(line.replacen("\"\n", " (revised)\"\n", 1)),
            1 if line.starts_with("status = ") => Some(
                if line.contains("Done") { "status = \"🔵 In Progress\"\n" } else { "status = \"🟢 Done\"\n" }.into(),
            ),
            2 if line.starts_with("A second paragraph explains") => {
                Some(line.replacen("A second paragraph explains", "A second paragraph, revised, explains", 1))
            }
            3 if line.starts_with("target_date = ") || line.starts_with("# target_date = ") => {
                Some("target_date = \"2028-02-29\" # moved\n".into())
            }
            _ => None,
        };
        match changed {
            Some(c) if !done => {
                out.push_str(&c);
                done = true;
            }
            _ => out.push_str(line),
        }
    }
    assert!(done, "edit {} found its line", k % 4);
    out
}

/// A change of one synced field on GitHub, chosen by `k`.
fn edit_milestone(m: &mut MilestoneRecord, k: usize) {
    match k % 4 {
        0 => m.title = format!("{} (renamed on GitHub)", m.title),
        1 => m.state = if m.state == "open" { "closed".into() } else { "open".into() },
        2 => m.description = m.description.as_ref().map(|d| format!("Reworded on GitHub. {d}")),
        _ => m.due_on = Some("2028-03-15T12:00:00Z".into()),
    }
}

fn print_report(
    args: &Args,
    binary: &Path,
    rows: &[Row],
    startup: Duration,
    first_request: &[(usize, Duration)],
    elapsed: Duration,
) {
    let ns: Vec<String> = args.ns.iter().map(usize::to_string).collect();
    println!("## milestone-sync benchmarks\n");
    println!("- date: {} UTC", chrono::Utc::now().format("%Y-%m-%d %H:%M"));
    println!("- machine: {}", machine());
    println!(
        "- command: `cargo bench --bench sync -- --n {} --latency-ms {} --plan-repeats {} --write-delay-ms {}` ({:.0} s)",
        ns.join(","),
        args.latency.as_millis(),
        args.plan_repeats,
        args.write_delay_ms,
        elapsed.as_secs_f64()
    );
    println!("- stand-in latency: {} ms per request", args.latency.as_millis());
    let size = std::fs::metadata(binary).map(|m| m.len()).unwrap_or(0);
    println!("- binary: {:.1} MB ({})", size as f64 / 1e6, binary.display());
    println!("- start to first request (1 artifact, median of 9): {:.1} ms", ms(startup));
    for (n, d) in first_request {
        println!("- start to first request with {n} artifacts (reading them; median of 5): {:.1} ms", ms(*d));
    }
    if args.write_delay_ms == 0 {
        println!(
            "- write-delay-ms: 0 (the sync's own cost). The action's default pacing starts writes 750 ms apart, \
             so it adds at most (writes − 1) × 0.75 s (less where writes take long): the column \"with 750 ms \
             pacing\" is the wall time plus that bound, computed, not measured"
        );
    } else {
        println!("- write-delay-ms: {}", args.write_delay_ms);
    }
    println!();
    println!(
        "| scenario | N | calls | lower bound | over the bound | wall | with 750 ms pacing | CPU (process) | planning CPU | read (wall) | peak RSS |"
    );
    println!("|---|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|");
    for r in rows {
        let excess = calls::excess(&r.calls, &r.bound);
        let over = if excess.is_empty() { "—".to_string() } else { calls::show(&excess) };
        let paced = if args.write_delay_ms == 0 {
            // Starts 750 ms apart: at most a whole delay between two writes, less where the
            // write before took some of it.
            format!("{:.0} s", r.wall.as_secs_f64() + calls::writes(&r.calls).saturating_sub(1) as f64 * 0.75)
        } else {
            "—".to_string()
        };
        // Not measured in-process (the three-repository scenarios): a dash, not a zero.
        let (plan_cpu, read) = if r.plan_cpu.is_zero() {
            ("—".to_string(), "—".to_string())
        } else {
            (format!("{:.1} ms", ms(r.plan_cpu)), format!("{:.0} ms", ms(r.read)))
        };
        println!(
            "| {} | {} | {} | {} | {} | {:.2} s | {} | {:.2} s | {plan_cpu} | {read} | {:.1} MB |",
            r.scenario,
            r.n,
            calls::total(&r.calls),
            calls::total(&r.bound),
            over,
            r.wall.as_secs_f64(),
            paced,
            r.cpu.as_secs_f64(),
            r.max_rss as f64 / 1e6,
        );
    }
    println!();
    println!("| scenario | N | calls by endpoint | lower bound by endpoint |");
    println!("|---|--:|---|---|");
    for r in rows {
        println!("| {} | {} | {} | {} |", r.scenario, r.n, calls::show(&r.calls), calls::show(&r.bound));
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// CPU model, cores, memory, kernel and compiler, from the machine itself.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split_once(':')).map(|(_, m)| m.trim().to_string()))
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().find_map(|l| l.strip_prefix("MemTotal:").map(|v| v.trim().to_string())))
        .and_then(|v| v.trim_end_matches(" kB").trim().parse::<u64>().ok())
        .map(|kb| format!("{:.0} GB RAM", kb as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let rustc = std::process::Command::new("rustc")
        .arg("-V")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!("{model}, {cores} cores, {mem}, Linux {}, {rustc}", kernel.trim())
}
