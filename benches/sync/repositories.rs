//! One plan, three repositories: the plan repository's project (`bench`, `acme/plan`) and two
//! projects whose milestones live in `acme/api` and `acme/web`, about N/3 Epics each, reached
//! with one token (a GitHub App token made for the three). Calls are counted in every
//! repository; the lower bounds are the single-repository ones summed over the repositories
//! (`Σ ⌈N_r/100⌉` list reads at steady state), with the commit in the plan's.

use std::path::Path;

use github_standin::{Config, MilestoneRecord, Repository, RequestRecord};

use crate::calls::{self, Calls, plus};
use crate::fixture::{OWNER, PROJECT_DIR, TOKEN, World, epic, epic_path, epic_title, git};
use crate::{Args, Row, measure};

/// The three repositories' names, the plan's first, and the project folder of each other one.
const OTHERS: [(&str, &str); 2] = [("api", ".ruru/projects/api"), ("web", ".ruru/projects/web")];

struct Three {
    world: World,
    others: Vec<Repository>,
    /// Epics per repository, the plan's first.
    sizes: [usize; 3],
}

impl Three {
    fn new(n: usize, args: &Args) -> Three {
        let sizes = [n - 2 * (n / 3), n / 3, n / 3];
        let mut world = World::new(sizes[0]);
        world.write_delay_ms = args.write_delay_ms;
        world.standin.set_latency(args.latency);
        let mut others = Vec::new();
        let mut files = Vec::new();
        for (k, (name, dir)) in OTHERS.iter().enumerate() {
            let git_dir = world.dir.path().join(format!("{name}.git"));
            git(world.dir.path(), &["init", "-q", "--bare", "-b", "main", git_dir.to_str().unwrap()]);
            let repo = world.standin.add_repository(Config {
                owner: OWNER.into(),
                repo: (*name).into(),
                token: format!("ghs_bench_{name}_only"),
                default_branch: "main".into(),
                git_dir,
            });
            // One App token for the three repositories.
            repo.allow_token(TOKEN);
            repo.set_rate_limit(100_000_000, std::time::Duration::from_secs(3600));
            others.push(repo);
            let config = format!(
                "[github_integration]\nenable_sync = true\nrepo_owner = \"{OWNER}\"\nrepo_name = \"{name}\"\n\n[github_integration.mapping]\nmilestone_type = \"🗺️ Epic\"\n"
            );
            files.push((format!("../{}/project_config.toml", name_of(dir)), config));
            for i in 1..=sizes[k + 1] {
                files.push((format!("../{}/{}", name_of(dir), epic_path(i)), epic(i)));
            }
        }
        world.push(&files, "two more projects, on acme/api and acme/web");
        world.pull();
        Three { world, others, sizes }
    }

    fn requests(&self) -> Vec<Vec<RequestRecord>> {
        std::iter::once(self.world.standin.requests()).chain(self.others.iter().map(|r| r.requests())).collect()
    }

    fn milestones(&self, k: usize) -> Vec<MilestoneRecord> {
        if k == 0 { self.world.standin.milestones() } else { self.others[k - 1].milestones() }
    }

    /// Runs the binary and counts its calls in the three repositories.
    fn run(&self, binary: &Path, scenario: &str, event: &str, payload: &str, bound: Calls) -> Row {
        let n: usize = self.sizes.iter().sum();
        eprint!("N = {n}: {scenario} … ");
        let env = self.world.runner_env(event, payload, &self.world.standin.api_url());
        let before: Vec<usize> = self.requests().iter().map(Vec::len).collect();
        let child = measure::run_child(binary, &env);
        if child.code != 0 {
            panic!("{scenario} (N = {n}) failed with exit code {}:\n{}\n{}", child.code, child.stdout, child.stderr);
        }
        let log: Vec<RequestRecord> =
            self.requests().into_iter().zip(before).flat_map(|(log, from)| log.into_iter().skip(from)).collect();
        let calls = calls::count(&log);
        eprintln!("{:.1} s, {} call(s)", child.wall.as_secs_f64(), calls::total(&calls));
        Row {
            scenario: scenario.to_string(),
            n,
            calls,
            bound,
            wall: child.wall,
            cpu: child.cpu,
            // The in-process planning figures are the single-repository scenarios'.
            plan_cpu: std::time::Duration::ZERO,
            read: std::time::Duration::ZERO,
            max_rss: child.max_rss,
        }
    }
}

fn name_of(dir: &str) -> &str {
    dir.rsplit('/').next().unwrap_or(dir)
}

/// The three-repository scenarios for N Epics in all.
pub(crate) fn bench(binary: &Path, n: usize, args: &Args) -> Vec<Row> {
    eprintln!("N = {n}: setting up three repositories");
    let three = Three::new(n, args);
    let world = &three.world;
    let sizes = three.sizes;
    let dispatch = world.dispatch();
    let mut rows = Vec::new();

    // First import: every project's milestones made in its repository, one commit.
    let bound = plus(
        sizes.iter().fold(Calls::new(), |c, &m| {
            plus(
                c,
                Calls::from([
                    (calls::Endpoint::ListMilestones, calls::pages(0)),
                    (calls::Endpoint::CreateMilestone, m as u64),
                ]),
            )
        }),
        calls::commit(n, true),
    );
    rows.push(three.run(binary, "3 repositories: first import", "workflow_dispatch", &dispatch, bound));
    for (k, &m) in sizes.iter().enumerate() {
        assert_eq!(three.milestones(k).len(), m, "repository {k} has its project's milestones");
    }
    world.pull();

    // Steady state: Σ ⌈N_r/100⌉ list reads.
    let bound = sizes.iter().fold(Calls::new(), |c, &m| plus(c, calls::steady(m)));
    rows.push(three.run(binary, "3 repositories: steady-state reconcile", "workflow_dispatch", &dispatch, bound));

    // A push that renames one Epic of acme/api: its PATCH there; the lists within the budget.
    let path = format!("../api/{}", epic_path(1));
    let text = std::fs::read_to_string(world.workspace().join(PROJECT_DIR).join(&path)).expect("the Epic exists");
    let renamed = text.replacen(&format!("title = \"{}\"", epic_title(1)), "title = \"Renamed in the plan\"", 1);
    let payload = world.push(&[(path, renamed)], "rename one Epic of acme/api");
    let bound = plus(plus(calls::push(0, sizes[0]), calls::push(1, sizes[1])), calls::push(0, sizes[2]));
    rows.push(three.run(binary, "3 repositories: push touching 1 artifact", "push", &payload, bound));
    assert_eq!(three.others[0].milestones().iter().filter(|m| m.title == "Renamed in the plan").count(), 1);
    world.pull();

    // A milestone renamed in acme/web, forwarded as repository_dispatch: acme/web's reads, one
    // commit in the plan's.
    let web = &three.others[1];
    let number = web.milestones()[0].number;
    let old = web.milestones()[0].title.clone();
    web.edit_milestone(number, |m| m.title = format!("{} (renamed on GitHub)", m.title));
    let milestone = web.milestones_json().as_array().unwrap().iter().find(|m| m["number"] == number).cloned().unwrap();
    let payload = serde_json::json!({
        "action": "milestone",
        "branch": "main",
        "client_payload": {
            "action": "edited",
            "milestone": milestone,
            "changes": {"title": {"from": old}},
            "repository": {"full_name": format!("{OWNER}/web")},
        },
        "repository": {"full_name": format!("{OWNER}/plan"), "default_branch": "main", "fork": false},
    })
    .to_string();
    let bound = calls::event_with_change(sizes[2]);
    rows.push(three.run(
        binary,
        "3 repositories: forwarded milestone event (title edited)",
        "repository_dispatch",
        &payload,
        bound,
    ));
    world.pull();
    rows
}
