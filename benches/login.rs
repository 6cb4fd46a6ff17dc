//! What the guard adds to each interactive command and to each `ssh host CMD`, measured as the
//! whole process, against the same shell without it, in one run.
//!
//! `cargo bench --bench login` prints, for N Return presses of `true` in bash under a
//! pseudo-terminal (time from the Return to the next prompt):
//! - bash without the integration;
//! - bash with `prodguard init bash` loaded (each Return runs `prodguard check --hook`, and each
//!   prompt starts `prodguard report` in the background);
//!
//! and for the login `-c` path, `prodguard -c true` against `bash -c true`. p50/p99/max in ms,
//! the added latency and the ratio. Budget: at most 5 ms added at p99 per interactive command
//! (release build). `PRODGUARD_BENCH_N` sets N (default 300).
//!
//! The binary is a copy under /tmp with its own `prodguard-paths.toml`, so the machine's
//! /etc/prodguard and audit log are neither read nor written.

#[allow(dead_code)]
#[path = "../tests/login_e2e/common.rs"]
mod common;
#[allow(dead_code)]
#[path = "../tests/support/pty.rs"]
mod pty;
#[allow(dead_code)]
#[path = "../tests/support/mod.rs"]
mod support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

struct Stats {
    p50: Duration,
    p99: Duration,
    max: Duration,
}

fn stats(mut v: Vec<Duration>) -> Stats {
    v.sort();
    Stats {
        p50: percentile(&v, 0.5),
        p99: percentile(&v, 0.99),
        max: *v.last().unwrap_or(&Duration::ZERO),
    }
}

fn line(name: &str, s: &Stats) {
    println!(
        "  {name:<34} p50 {:7.2} ms   p99 {:7.2} ms   max {:7.2} ms",
        ms(s.p50),
        ms(s.p99),
        ms(s.max)
    );
}

fn compare(what: &str, base: &Stats, guarded: &Stats) {
    println!(
        "  {what:<34} added p50 {:+6.2} ms   added p99 {:+6.2} ms   ratio p50 {:.2}x",
        ms(guarded.p50) - ms(base.p50),
        ms(guarded.p99) - ms(base.p99),
        guarded.p50.as_secs_f64() / base.p50.as_secs_f64().max(1e-9)
    );
}

/// Time `n` Return presses of `true` in bash started with `rcfile`, after `warmup` unmeasured.
fn returns(rcfile: &std::path::Path, n: usize, warmup: usize) -> Vec<Duration> {
    let mut c = Command::new("bash");
    c.args(["--noprofile", "--rcfile"])
        .arg(rcfile)
        .arg("-i")
        .env_clear()
        .env("HOME", "/nonexistent")
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("TERM", "xterm")
        .env("NO_COLOR", "1");
    let mut t = pty::Pty::spawn(c);
    t.expect("BENCH> ");
    let mut times = Vec::with_capacity(n);
    for i in 0..n + warmup {
        let start = Instant::now();
        t.line("true");
        t.expect("BENCH> ");
        if i >= warmup {
            times.push(start.elapsed());
        }
    }
    t.line("exit");
    t.wait();
    times
}

/// Time `n` runs of `argv0 -c true` through `program`.
fn dash_c(program: &std::path::Path, argv0: &str, n: usize) -> Vec<Duration> {
    use std::os::unix::process::CommandExt;
    (0..n)
        .map(|_| {
            let start = Instant::now();
            let status = Command::new(program)
                .arg0(argv0)
                .args(["-c", "true"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("run");
            assert!(status.success(), "{} -c true failed", program.display());
            start.elapsed()
        })
        .collect()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let n: usize = std::env::var("PRODGUARD_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let install = common::Install::new("/bin/bash");
    let dir = install.root.path();

    let plain = dir.join("plain.rc");
    std::fs::write(&plain, "PS1='BENCH> '\n").expect("rc");
    let init = Command::new(&install.bin)
        .args(["init", "bash"])
        .output()
        .expect("prodguard init bash");
    let guarded = dir.join("guarded.rc");
    std::fs::write(
        &guarded,
        format!("PS1='BENCH> '\n{}", String::from_utf8_lossy(&init.stdout)),
    )
    .expect("rc");

    println!(
        "login: {n} interactive commands (`true` + Return, to the next prompt), bash under a pty"
    );
    let base = stats(returns(&plain, n, 20));
    let with = stats(returns(&guarded, n, 20));
    line("bash", &base);
    line("bash + prodguard integration", &with);
    compare("integration", &base, &with);
    let added_p99 = ms(with.p99) - ms(base.p99);
    println!(
        "  budget: at most 5 ms added at p99: {}",
        if added_p99 <= 5.0 { "met" } else { "NOT met" }
    );

    println!("login: {n} × `-c true` (what sshd runs for `ssh host true`)");
    let bash = std::path::Path::new("/bin/bash");
    let base = stats(dash_c(bash, "bash", n));
    let with = stats(dash_c(&install.bin, "-prodguard", n));
    line("bash -c true", &base);
    line("prodguard -c true", &with);
    compare("login -c", &base, &with);
}
