//! Clocks and meters: the binary's wall time, CPU time and peak RSS (from `wait4`, so they
//! are the real process's, not an estimate), this thread's CPU clock for in-process
//! measurements, and the time from spawning the binary to its first request.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one run of the binary cost.
#[derive(Debug, Clone)]
pub(crate) struct ChildRun {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub wall: Duration,
    /// User + system CPU of the binary and the processes it waited for (git).
    pub cpu: Duration,
    /// Peak resident set size in bytes (the largest of the binary and the git processes it
    /// ran).
    pub max_rss: u64,
}

/// The hidden first argument that turns the bench into the runner ([`runner_main`]).
pub(crate) const RUNNER_FLAG: &str = "--run-child";

/// Runs `binary` with exactly `env` and measures it.
///
/// Linux carries the peak RSS of the memory a process had before `execve` into its
/// `ru_maxrss`; a child spawned straight from this process (which holds a whole workspace
/// by now) would report this process's peak, not its own. So the binary is started by a
/// fresh, small runner process (this bench re-executed with [`RUNNER_FLAG`]), which waits
/// for it with `wait4` and writes the figures to a file.
pub(crate) fn run_child(binary: &Path, env: &[(String, String)]) -> ChildRun {
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let report = scratch.path().join("rusage");
    let mut cmd = Command::new(std::env::current_exe().expect("the bench knows its path"));
    cmd.arg(RUNNER_FLAG).arg(binary).arg(&report);
    cmd.env_clear().stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("the runner starts");
    assert!(out.status.success(), "the runner failed: {}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&report).expect("the runner wrote its report");
    let field = |name: &str| -> u64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("the runner's report lacks {name}: {text}"))
    };
    ChildRun {
        code: field("code") as i32,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        wall: Duration::from_micros(field("wall_us")),
        cpu: Duration::from_micros(field("cpu_us")),
        // Linux reports ru_maxrss in kilobytes.
        max_rss: field("maxrss_kb") * 1024,
    }
}

/// The runner: `bench --run-child BINARY REPORT` runs BINARY with the runner's own
/// environment and standard streams, waits for it with `wait4`, and writes its exit code,
/// wall time, CPU time and peak RSS to REPORT.
#[allow(unsafe_code)] // wait4: std has no way to read a child's rusage
pub(crate) fn runner_main(args: &[String]) -> ! {
    let [binary, report] = args else {
        eprintln!("usage: {RUNNER_FLAG} BINARY REPORT");
        std::process::exit(2);
    };
    let start = Instant::now();
    let child = Command::new(binary).stdin(Stdio::null()).spawn().expect("the binary starts");
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain data that wait4 fills in; `pid` is our own child, which
    // nobody else waits for (std's `Child` is dropped without waiting).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert_eq!(waited, pid, "wait4 failed: {}", std::io::Error::last_os_error());
    drop(child);
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 };
    let us = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    let text = format!(
        "code={code}\nwall_us={}\ncpu_us={}\nmaxrss_kb={}\n",
        wall.as_micros(),
        us(usage.ru_utime) + us(usage.ru_stime),
        usage.ru_maxrss
    );
    std::fs::write(report, text).expect("the report is written");
    std::process::exit(0);
}

/// CPU time this thread has used so far.
#[allow(unsafe_code)] // clock_gettime(CLOCK_THREAD_CPUTIME_ID): std has no thread CPU clock
pub(crate) fn thread_cpu() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into the timespec we own.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Runs `f` `repeats` times and returns the median of its thread CPU time, and the last
/// result.
pub(crate) fn median_cpu<T>(repeats: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut times = Vec::with_capacity(repeats);
    let mut last = None;
    for _ in 0..repeats.max(1) {
        let start = thread_cpu();
        let value = f();
        times.push(thread_cpu() - start);
        last = Some(value);
    }
    times.sort();
    (times[times.len() / 2], last.expect("ran at least once"))
}

/// Runs `f` `repeats` times and returns the median wall time.
pub(crate) fn median_wall<T>(repeats: usize, mut f: impl FnMut() -> T) -> Duration {
    let mut times = Vec::with_capacity(repeats);
    for _ in 0..repeats.max(1) {
        let start = Instant::now();
        std::hint::black_box(f());
        times.push(start.elapsed());
    }
    times.sort();
    times[times.len() / 2]
}

/// The time from spawning the binary to the moment its first HTTP request line arrives, on
/// a listener of our own that answers nothing (the child is killed right after): start-up,
/// configuration, and whatever local work comes before the first request.
pub(crate) fn time_to_first_request(binary: &Path, env: impl Fn(&str) -> Vec<(String, String)>) -> Duration {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a local port");
    let api_url = format!("http://{}", listener.local_addr().expect("an address"));
    let mut cmd = Command::new(binary);
    cmd.env_clear().stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    for (k, v) in env(&api_url) {
        cmd.env(k, v);
    }
    let start = Instant::now();
    let mut child = cmd.spawn().expect("the binary starts");
    let (stream, _) = listener.accept().expect("the binary connects");
    let mut line = String::new();
    let _ = BufReader::new(&stream).read_line(&mut line);
    let elapsed = start.elapsed();
    let _ = (&stream).write_all(b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n");
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.starts_with("GET ") || line.starts_with("POST "), "not an HTTP request: {line:?}");
    elapsed
}
