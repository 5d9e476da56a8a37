//! `github-standin`: the stand-in as a process, for the demo script.
//!
//! ```text
//! github-standin --owner o --repo r --token t --git-dir path/to/bare.git \
//!     [--default-branch main] [--port 0] [--port-file f] [--state-file f] [--seed seed.json]
//! ```
//! Writes the base URL to `--port-file` once listening, and the milestones (as the API
//! serves them) to `--state-file` on SIGTERM or ctrl-c. `--seed` takes a JSON array of
//! `{title, description, state, due_on}` (or `{"milestones": [...]}`).

use std::path::PathBuf;
use std::process::ExitCode;

use github_standin::{Config, SeedMilestone, StandIn};

struct Args {
    config: Config,
    port: u16,
    port_file: Option<PathBuf>,
    state_file: Option<PathBuf>,
    seed: Option<PathBuf>,
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
        port,
        port_file,
        state_file,
        seed,
    })
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
    let standin = StandIn::start_on(args.config, args.port).map_err(|e| format!("cannot listen: {e}"))?;
    for s in seeds {
        standin.seed_milestone(s);
    }
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
        let json = serde_json::to_string_pretty(&standin.milestones_json()).expect("JSON");
        std::fs::write(p, json + "\n").map_err(|e| format!("{}: {e}", p.display()))?;
    }
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
                 [--default-branch main] [--port 0] [--port-file F] [--state-file F] [--seed F]"
            );
            ExitCode::from(2)
        }
    }
}
