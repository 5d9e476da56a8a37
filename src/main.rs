//! The `milestone-sync` binary: the GitHub Action's entrypoint, also usable from a terminal.
//!
//! Inside Actions it takes everything from the runner's environment (`INPUT_*`,
//! `GITHUB_*`) and, without a subcommand, runs `sync`; from a terminal, flags and subcommands
//! ([`milestone_sync::cli`]) set the same inputs, the defaults are action.yml's, and a command
//! without a subcommand writes nothing: it shows the help and how to sync.

use std::io::Write;

use milestone_sync::cli::{Cli, Command, without_subcommand};
use milestone_sync::config::{Inputs, Settings, Token};
use milestone_sync::diagnostic::Level;
use milestone_sync::github::client::{Client, RetryPolicy};
use milestone_sync::repositories::TokenFrom;
use milestone_sync::{plan, report, workspace};

fn main() {
    let cli = Cli::parse();
    let env = Inputs::from_env();
    let Some(command) = cli.command(env.terminal()) else {
        // A bare command in a terminal: the help, on stderr like a usage error, and no run.
        eprint!("{}", without_subcommand());
        std::process::exit(2);
    };
    let raw = cli.apply(env, &|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()));
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MILESTONE_SYNC_LOG")
                .unwrap_or_else(|_| "milestone_sync=info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(colour(raw.terminal()))
        .with_target(false)
        .without_time()
        .init();
    let derived = if command == Command::Check { Settings::offline(&raw) } else { Settings::from_inputs(&raw) };
    let mut settings = match derived {
        Ok(s) => s,
        Err(e) => {
            let terminal = raw.terminal();
            for line in e.0.lines() {
                let shown = render(&terminal, &format!("::error::{line}")).unwrap_or_default();
                // A person reads errors on stderr (stdout may be piped); the runner reads stdout.
                if terminal { eprintln!("{shown}") } else { println!("{shown}") }
            }
            std::process::exit(2);
        }
    };
    settings.json = cli.json;
    settings.pull = cli.pull;
    // A panic message is text we did not format: keep the token out of it all the same.
    let token = settings.token.clone();
    std::panic::set_hook(Box::new(move |info| {
        eprintln!("milestone-sync {}", token.redact(&info.to_string()));
    }));
    let mut out = Output { terminal: settings.terminal, json: settings.json, pending: Vec::new() };
    let code = match command {
        Command::Check => check(&settings, &mut out),
        Command::Sync | Command::Plan => sync(&settings, &mut out),
    };
    let _ = out.flush();
    std::process::exit(code);
}

/// `sync` and `plan` (a dry run): the whole run against GitHub.
fn sync(settings: &Settings, out: &mut Output) -> i32 {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime starts");
    // The client is made (and its connections spawned) inside the runtime.
    let _guard = runtime.enter();
    let client = match Client::new(&settings.api_url, &settings.token, settings.owner(), settings.repo()) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(out, "::error::cannot set up the GitHub client: {e}");
            return 2;
        }
    };
    let mut retry = RetryPolicy::default();
    if let Some(base) = settings.retry_base_delay {
        retry.base_delay = base;
    }
    if let Some(timeout) = settings.attempt_timeout {
        retry.attempt_timeout = timeout;
    }
    // Retries, pacing and where GraphQL is, the same for every repository's client.
    let configure = |client: Client| {
        let client = client.with_retry_policy(retry.clone()).with_write_delay(settings.write_delay);
        match &settings.graphql_url {
            Some(url) => client.with_graphql_url(url).unwrap_or_else(|(client, e)| {
                tracing::warn!("{e}; GraphQL requests go to the API's own GraphQL endpoint");
                client
            }),
            None => client,
        }
    };
    let client = configure(client);
    let code = runtime.block_on(async {
        // Test hook (debug builds only): a panic whose message holds the token, to prove the
        // hook above keeps it out of the output.
        #[cfg(debug_assertions)]
        if std::env::var_os("MILESTONE_SYNC_TEST_PANIC").is_some() {
            panic!("test panic with the token {} in its message", settings.token.expose());
        }
        // Another repository a project names: a client of its own, with that repository's token,
        // counted with this one.
        let connect = |repository: &str, token: &Token| {
            let (owner, name) = repository.split_once('/').unwrap_or((repository, ""));
            Client::new(&settings.api_url, token, owner, name).map(|c| configure(c).counting_with(&client))
        };
        milestone_sync::run::run(settings, &client, &connect, out).await
    });
    for (call, count) in client.call_counts() {
        tracing::info!("API calls: {count} × {call}");
    }
    if client.retries() > 0 {
        tracing::info!("API calls sent again after a failure or a rate-limit wait: {}", client.retries());
    }
    code
}

/// `check`: the workspace and the project configs, without GitHub. Says which repository
/// each project syncs with, and why a project that does not sync is left out.
fn check(settings: &Settings, out: &mut Output) -> i32 {
    let ws =
        workspace::read(&settings.workspace, &settings.projects_root, settings.project.as_deref(), settings.terminal);
    let mut diagnostics = ws.diagnostics.clone();
    diagnostics.extend(plan::check(&ws.projects));
    for d in &diagnostics {
        let _ = writeln!(out, "{}", report::annotation(d));
    }
    for p in &ws.projects {
        let repository = p.config.repository();
        let token = match &p.config.pat_env_var_name {
            Some(var) => TokenFrom::Variable(var.clone()),
            None => TokenFrom::Input,
        }
        .describe(settings.terminal);
        let elsewhere = if settings.repository.is_empty() || p.config.is_in(&settings.repository) {
            String::new()
        } else {
            format!("; its files are committed to {}, the plan's repository", settings.repository)
        };
        let _ = writeln!(out, "project `{}` syncs with {repository} ({token}){elsewhere}", p.slug);
    }
    for skipped in &ws.skipped {
        let _ = writeln!(out, "project `{}` does not sync: {}", skipped.slug, skipped.why);
    }
    let errors = diagnostics.iter().filter(|d| d.level == Level::Error).count();
    let artifacts: usize = ws.projects.iter().map(|p| p.artifacts.len()).sum();
    let repositories: Vec<String> = plan::by_repository(&ws.projects).into_iter().map(|(r, _)| r).collect();
    let with = match repositories.as_slice() {
        [] => String::new(),
        [one] => format!(" with {one}"),
        many => format!(" with {} repositories", many.len()),
    };
    let summary = format!(
        "{} project(s) syncing{with}, {artifacts} artifact(s) read, {errors} error(s), {} warning(s)",
        ws.projects.len(),
        diagnostics.iter().filter(|d| d.level == Level::Warning).count()
    );
    let _ = writeln!(out, "{summary}");
    if settings.json {
        let json = serde_json::json!({
            "projects": ws.projects.iter().map(|p| &p.slug).collect::<Vec<_>>(),
            "repositories": ws.projects.iter().map(|p| (p.slug.clone(), p.config.repository())).collect::<std::collections::BTreeMap<_, _>>(),
            "artifacts": artifacts,
            "errors": errors,
            "diagnostics": diagnostics,
        });
        let _ = writeln!(out, "{json}");
    }
    i32::from(errors > 0)
}

/// Colour only for a person at a terminal: never in Actions (the log is not a terminal and
/// shows escape codes as text), never into a file or a pipe, never under `NO_COLOR`.
fn colour(terminal: bool) -> bool {
    use std::io::IsTerminal;
    terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

/// Where the run's log goes. In Actions, stdout as written (workflow commands). From a
/// terminal, workflow commands are shown for people ([`report::for_terminal`]). With
/// `--json`, the JSON report alone goes to stdout and the log to stderr.
struct Output {
    terminal: bool,
    json: bool,
    pending: Vec<u8>,
}

fn render(terminal: &bool, line: &str) -> Option<String> {
    if *terminal { report::for_terminal(line) } else { Some(line.to_string()) }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=end).collect();
            let line = String::from_utf8_lossy(&line[..line.len() - 1]).into_owned();
            let is_report = self.json && line.starts_with('{');
            // In a terminal, diagnostics go to stderr as a compiler's do, so that stdout holds
            // only the run's account (or the JSON report) when it is piped.
            let is_diagnostic = ["::error", "::warning", "::notice"].iter().any(|p| line.starts_with(p));
            let Some(shown) = (if is_report { Some(line) } else { render(&self.terminal, &line) }) else { continue };
            if (self.json && !is_report) || (self.terminal && is_diagnostic) {
                eprintln!("{shown}");
            } else {
                println!("{shown}");
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.pending.is_empty() {
            self.pending.push(b'\n');
            self.write(&[])?;
        }
        std::io::stdout().flush()
    }
}
