//! The `milestone-sync` binary: the GitHub Action's entrypoint, also usable from a terminal.
//!
//! Inside Actions it takes everything from the runner's environment (`INPUT_*`,
//! `GITHUB_*`); from a terminal, set the same variables (see README) or rely on the
//! defaults, which equal action.yml's.

use clap::Parser;

use milestone_sync::config::{Inputs, Settings};
use milestone_sync::github::client::{Client, RetryPolicy};

/// Keeps IntelliManage Epics/Features and GitHub Milestones in two-way sync.
///
/// Configuration comes from the environment exactly as a GitHub Actions runner sets it for a
/// Docker action: inputs as INPUT_<NAME> (INPUT_GITHUB-TOKEN, INPUT_DRY-RUN, …) and the
/// runner's GITHUB_* variables. See the README for the full list.
#[derive(Parser)]
#[command(version, about, long_about)]
struct Cli {
    /// Print the plan without writing anything (same as INPUT_DRY-RUN=true).
    #[arg(long)]
    dry_run: bool,
}

fn main() {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MILESTONE_SYNC_LOG")
                .unwrap_or_else(|_| "milestone_sync=info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::env::var_os("GITHUB_ACTIONS").is_none())
        .with_target(false)
        .without_time()
        .init();
    let inputs = Inputs::from_env();
    let mut settings = match Settings::from_inputs(&inputs) {
        Ok(s) => s,
        Err(e) => {
            for line in e.0.lines() {
                println!("::error::{line}");
            }
            std::process::exit(2);
        }
    };
    settings.dry_run |= cli.dry_run;
    // A panic message is text we did not format: keep the token out of it all the same.
    let token = settings.token.clone();
    std::panic::set_hook(Box::new(move |info| {
        eprintln!("milestone-sync {}", token.redact(&info.to_string()));
    }));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime starts");
    // octocrab's client needs the runtime to exist when it is built.
    let _guard = runtime.enter();
    let client = match Client::new(&settings.api_url, &settings.token, settings.owner(), settings.repo()) {
        Ok(c) => c,
        Err(e) => {
            println!("::error::cannot set up the GitHub client: {e}");
            std::process::exit(2);
        }
    };
    let mut retry = RetryPolicy::default();
    if let Some(base) = settings.retry_base_delay {
        retry.base_delay = base;
    }
    if let Some(timeout) = settings.attempt_timeout {
        retry.attempt_timeout = timeout;
    }
    let client = client.with_retry_policy(retry).with_write_delay(settings.write_delay);
    let code = runtime.block_on(async {
        // Test hook (debug builds only): a panic whose message holds the token, to prove the
        // hook above keeps it out of the output.
        #[cfg(debug_assertions)]
        if std::env::var_os("MILESTONE_SYNC_TEST_PANIC").is_some() {
            panic!("test panic with the token {} in its message", settings.token.expose());
        }
        let mut stdout = std::io::stdout();
        milestone_sync::run::run(&settings, &client, &mut stdout).await
    });
    for (call, count) in client.call_counts() {
        tracing::info!("API calls: {count} × {call}");
    }
    if client.retries() > 0 {
        tracing::info!("API calls sent again after a failure or a rate-limit wait: {}", client.retries());
    }
    std::process::exit(code);
}
