//! Clocks and meters: the child's wall time, CPU time and peak RSS (from `wait4`, so they
//! are the real process's, not an estimate), this thread's CPU clock for in-process
//! measurements, and the time from spawning the binary to its first request.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What one run of the binary cost.
#[derive(Debug, Clone)]
pub struct ChildRun {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub wall: Duration,
    /// User + system CPU of the binary and the processes it waited for (git).
    pub cpu: Duration,
    /// Peak resident set size in bytes (the largest of the binary and its children).
    pub max_rss: u64,
}

/// Spawns `binary` with exactly `env` and waits for it with `wait4`.
pub fn run_child(binary: &Path, env: &[(String, String)]) -> ChildRun {
    let mut cmd = Command::new(binary);
    cmd.env_clear().stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let start = Instant::now();
    let mut child = cmd.spawn().expect("the binary starts");
    let pid = child.id() as libc::pid_t;
    let mut out_pipe = child.stdout.take().expect("stdout piped");
    let mut err_pipe = child.stderr.take().expect("stderr piped");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out_pipe.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err_pipe.read_to_string(&mut s);
        s
    });
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain data that wait4 fills in; `pid` is our own child, which
    // nobody else waits for (std's `Child` is dropped without waiting).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert_eq!(waited, pid, "wait4 failed: {}", std::io::Error::last_os_error());
    drop(child);
    let code = if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { -1 };
    let tv = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    ChildRun {
        code,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
        wall,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        // Linux reports ru_maxrss in kilobytes.
        max_rss: usage.ru_maxrss as u64 * 1024,
    }
}

/// CPU time this thread has used so far.
pub fn thread_cpu() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into the timespec we own.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Runs `f` `repeats` times and returns the median of its thread CPU time, and the last
/// result.
pub fn median_cpu<T>(repeats: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
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
pub fn median_wall<T>(repeats: usize, mut f: impl FnMut() -> T) -> Duration {
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
pub fn time_to_first_request(binary: &Path, env: impl Fn(&str) -> Vec<(String, String)>) -> Duration {
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
