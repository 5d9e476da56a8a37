//! `github-standin`: the stand-in as a process, for the demo script.
//!
//! ```text
//! github-standin --owner o --repo r --token t --git-dir path/to/bare.git \
//!     [--default-branch main] [--port 0] [--port-file f] [--state-file f] [--seed seed.json] \
//!     [--also OWNER/NAME[=BARE_GIT_DIR]]... [--tls-ca-out ca.pem]
//! ```
//! Writes the base URL to `--port-file` once listening, and the milestones (as the API
//! serves them) to `--state-file` on SIGTERM or ctrl-c. `--seed` takes a JSON array of
//! `{title, description, state, due_on}` (or `{"milestones": [...]}`) for the primary
//! repository (`--owner`/`--repo`).
//!
//! `--also OWNER/NAME[=BARE_GIT_DIR]` (repeatable) hosts one more repository on the same
//! server, reached by the same `--token`, with the same default branch. Without a git
//! directory it gets a new bare repository in a temporary directory (removed on exit) whose
//! default branch holds one commit with a README.md, as a repository created on github.com
//! "with a README" does. With extra repositories, `--state-file` holds
//! `{"milestones": [primary's...], "repositories": {"OWNER/NAME": [its milestones...], ...}}`
//! (the extras keyed by their full name); without any it stays the primary's bare array.
//!
//! `--tls-ca-out FILE` serves HTTPS instead, with a certificate for `localhost` signed by a CA
//! made at start (`github_standin::tls::test_ca`), whose certificate it writes to FILE (PEM)
//! before listening: a client trusts it through `SSL_CERT_FILE`. The base URL is then
//! `https://localhost:PORT`.

use std::path::PathBuf;
use std::process::ExitCode;

use github_standin::{Config, Repository, SeedMilestone, StandIn};

struct Args {
    config: Config,
    /// `--also`: full name and git directory (none: make one).
    also: Vec<(String, String, Option<PathBuf>)>,
    port: u16,
    port_file: Option<PathBuf>,
    state_file: Option<PathBuf>,
    seed: Option<PathBuf>,
    /// `--tls-ca-out`: serve HTTPS, and write the test CA's certificate here.
    tls_ca_out: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut owner = None;
    let mut repo = None;
    let mut token = None;
    let mut git_dir = None;
    let mut default_branch = "main".to_string();
    let mut port = 0u16;
    let mut port_file = None;
    let mut state_file = None;
    let mut seed = None;
    let mut tls_ca_out = None;
    let mut also = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            return Err(String::new());
        }
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (flag.clone(), None),
        };
        let value = match inline {
            Some(v) => v,
            None => it.next().ok_or_else(|| format!("{name} needs a value"))?,
        };
        match name.as_str() {
            "--owner" => owner = Some(value),
            "--repo" => repo = Some(value),
            "--token" => token = Some(value),
            "--git-dir" => git_dir = Some(PathBuf::from(value)),
            "--default-branch" => default_branch = value,
            "--port" => port = value.parse().map_err(|_| format!("--port: not a port: {value}"))?,
            "--port-file" => port_file = Some(PathBuf::from(value)),
            "--state-file" => state_file = Some(PathBuf::from(value)),
            "--seed" => seed = Some(PathBuf::from(value)),
            "--also" => also.push(parse_also(&value)?),
            "--tls-ca-out" => tls_ca_out = Some(PathBuf::from(value)),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(Args {
        config: Config {
            owner: owner.ok_or("--owner is required")?,
            repo: repo.ok_or("--repo is required")?,
            token: token.ok_or("--token is required")?,
            default_branch,
            git_dir: git_dir.ok_or("--git-dir is required")?,
        },
        also,
        port,
        port_file,
        state_file,
        seed,
        tls_ca_out,
    })
}

/// `OWNER/NAME[=GIT_DIR]`.
fn parse_also(value: &str) -> Result<(String, String, Option<PathBuf>), String> {
    let (name, dir) = match value.split_once('=') {
        Some((n, d)) => (n, Some(PathBuf::from(d))),
        None => (value, None),
    };
    match name.split_once('/') {
        Some((owner, repo)) if !owner.is_empty() && !repo.is_empty() && !repo.contains('/') => {
            Ok((owner.to_string(), repo.to_string(), dir))
        }
        _ => Err(format!("--also: not OWNER/NAME[=GIT_DIR]: {value}")),
    }
}

/// A new, empty bare repository at `dir` whose `branch` is yet to be born.
fn init_bare(dir: &std::path::Path, branch: &str) -> Result<(), String> {
    let out = std::process::Command::new("git")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env_remove("GIT_DIR")
        .args(["init", "--bare", "-q"])
        .arg(format!("--initial-branch={branch}"))
        .arg(dir)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("git init {}: {}", dir.display(), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

fn read_seed(path: &PathBuf) -> Result<Vec<SeedMilestone>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let list = value.get("milestones").cloned().unwrap_or(value);
    serde_json::from_value(list).map_err(|e| format!("{}: {e}", path.display()))
}

fn run(args: Args) -> Result<(), String> {
    if !args.config.git_dir.is_dir() {
        return Err(format!("--git-dir {} is not a directory", args.config.git_dir.display()));
    }
    let seeds = match &args.seed {
        Some(p) => read_seed(p)?,
        None => Vec::new(),
    };
    // Made before the server starts, so a bad `--also` fails before anything listens.
    let mut temp_dirs = Vec::new();
    let mut extras = Vec::new();
    for (owner, repo, dir) in &args.also {
        let (git_dir, fresh) = match dir {
            Some(d) if d.is_dir() => (d.clone(), false),
            Some(d) => return Err(format!("--also {owner}/{repo}: {} is not a directory", d.display())),
            None => {
                let tmp = tempfile::tempdir().map_err(|e| format!("cannot make a temporary directory: {e}"))?;
                let git_dir = tmp.path().join(format!("{repo}.git"));
                init_bare(&git_dir, &args.config.default_branch)?;
                temp_dirs.push(tmp);
                (git_dir, true)
            }
        };
        let config = Config {
            owner: owner.clone(),
            repo: repo.clone(),
            token: args.config.token.clone(),
            default_branch: args.config.default_branch.clone(),
            git_dir,
        };
        extras.push((config, fresh));
    }
    let primary_name = format!("{}/{}", args.config.owner, args.config.repo);
    let mut names: Vec<String> = vec![primary_name.to_lowercase()];
    for (c, _) in &extras {
        let name = format!("{}/{}", c.owner, c.repo).to_lowercase();
        if names.contains(&name) {
            return Err(format!("--also {}/{}: hosted twice", c.owner, c.repo));
        }
        names.push(name);
    }
    let standin = match &args.tls_ca_out {
        None => StandIn::start_on(args.config, args.port).map_err(|e| format!("cannot listen: {e}"))?,
        Some(ca_out) => {
            let ca = github_standin::tls::test_ca();
            std::fs::write(ca_out, &ca.ca_pem).map_err(|e| format!("--tls-ca-out {}: {e}", ca_out.display()))?;
            StandIn::start_tls_on(args.config, ca.server, args.port).map_err(|e| format!("cannot listen: {e}"))?
        }
    };
    for s in seeds {
        standin.seed_milestone(s);
    }
    let extras: Vec<Repository> = extras
        .into_iter()
        .map(|(config, fresh)| {
            let readme = format!("# {}\n", config.repo);
            let repository = standin.add_repository(config);
            if fresh {
                repository.push_files(vec![("README.md".to_string(), readme)], "Initial commit");
            }
            repository
        })
        .collect();
    if let Some(p) = &args.port_file {
        // Write then rename, so a script polling for the file never reads half a URL.
        let tmp = p.with_extension("tmp");
        std::fs::write(&tmp, standin.api_url()).map_err(|e| format!("{}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, p).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    eprintln!("github-standin listening on {}", standin.api_url());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    rt.block_on(wait_for_stop());
    if let Some(p) = &args.state_file {
        let state = if extras.is_empty() {
            standin.milestones_json()
        } else {
            let repositories: serde_json::Map<String, serde_json::Value> =
                extras.iter().map(|r| (r.full_name(), r.milestones_json())).collect();
            serde_json::json!({"milestones": standin.milestones_json(), "repositories": repositories})
        };
        let json = serde_json::to_string_pretty(&state).expect("JSON");
        std::fs::write(p, json + "\n").map_err(|e| format!("{}: {e}", p.display()))?;
    }
    // The server first, then the repositories it served from.
    drop(standin);
    drop(temp_dirs);
    Ok(())
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn main() -> ExitCode {
    match parse_args().and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("github-standin: {e}");
            }
            eprintln!(
                "usage: github-standin --owner O --repo R --token T --git-dir BARE_REPO \
                 [--default-branch main] [--port 0] [--port-file F] [--state-file F] [--seed F] \
                 [--also OWNER/NAME[=BARE_REPO]]... [--tls-ca-out CA_PEM]"
            );
            ExitCode::from(2)
        }
    }
}
