//! Audit trail figures, measured as ratios in one run (DESIGN §11).
//!
//! `cargo bench --bench audit` prints:
//! - appends with fsync per second: 1 writer; 8 writer threads; 8 writer processes;
//! - `prodguard audit verify` throughput against `sha256sum` of the same file, and the ratio
//!   (target ≥ 0.8);
//! - `prodguard audit search` over the same file, its throughput and peak RSS (bounded memory).
//!
//! The generated log is about 200 MB (`PRODGUARD_BENCH_MB` to change) so the run is quick; it
//! lives in `$TMPDIR` (a real disk for the fsync figures, not tmpfs, unless TMPDIR says so).

use prodguard::audit::chain::{seal, ZERO_HASH};
use prodguard::audit::{Action, Event, FileSink, InvocationRecord, Outcome, Record};
use prodguard::host::HostContext;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

const BIN: &str = env!("CARGO_BIN_EXE_prodguard");

fn sample(host: &HostContext, i: u64) -> Record {
    let mut r = Record::new_for_current_process(Event::Command, host)
        .with_command(format!(
            "psql -h db1 -c 'delete from sessions where created < now() - interval {i} days'"
        ))
        .with_invocations(vec![InvocationRecord {
            program: "psql".into(),
            targets: vec![],
            via: vec!["sudo".into()],
            sql: vec!["delete".into()],
            ansible: None,
        }])
        .with_decision(
            Action::Confirm,
            vec!["sql.delete-without-where".into()],
            Outcome::Confirmed,
        )
        .with_challenge("hostname", true)
        .with_policy_digest("9f2c".repeat(16));
    r.user = format!("user{}", i % 37);
    r
}

fn fatal(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("bench: {what}: {e}");
    std::process::exit(1)
}

fn chain(p: &Path) -> &'static str {
    use prodguard::audit::verify::{verify, Input};
    match verify(&[Input::Path(p.to_path_buf())]) {
        Ok(r) if r.ok => "chain ok",
        _ => "CHAIN BROKEN",
    }
}

fn bench_append(dir: &Path, host: &HostContext) {
    let n1 = 2000u64;
    let p = dir.join("append1.jsonl");
    let sink = FileSink::open(&p).unwrap_or_else(|e| fatal("open", e));
    let t = Instant::now();
    for i in 0..n1 {
        let mut r = sample(host, i);
        sink.append(&mut r).unwrap_or_else(|e| fatal("append", e));
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "append+fsync, 1 writer:          {:>8.0} records/s ({n1} records, {:.1} µs each, {})",
        n1 as f64 / s,
        s * 1e6 / n1 as f64,
        chain(&p)
    );

    let per = 500u64;
    let p = dir.join("append8.jsonl");
    let t = Instant::now();
    std::thread::scope(|sc| {
        for _ in 0..8 {
            let p = p.clone();
            sc.spawn(move || {
                let sink = FileSink::open(&p).unwrap_or_else(|e| fatal("open", e));
                for i in 0..per {
                    let mut r = sample(host, i);
                    sink.append(&mut r).unwrap_or_else(|e| fatal("append", e));
                }
            });
        }
    });
    let s = t.elapsed().as_secs_f64();
    println!(
        "append+fsync, 8 writer threads:  {:>8.0} records/s ({} records, {})",
        (8 * per) as f64 / s,
        8 * per,
        chain(&p)
    );

    let p = dir.join("append8p.jsonl");
    let host_toml = dir.join("host.toml");
    std::fs::write(
        &host_toml,
        "environment = \"production\"\n[audit]\nsyslog = \"none\"\n",
    )
    .unwrap_or_else(|e| fatal("host.toml", e));
    let t = Instant::now();
    let kids: Vec<_> = (0..8)
        .map(|_| {
            Command::new(BIN)
                .args([
                    "audit",
                    "append-test",
                    "--count",
                    &per.to_string(),
                    "--audit-file",
                ])
                .arg(&p)
                .arg("--host-file")
                .arg(&host_toml)
                .spawn()
                .unwrap_or_else(|e| fatal("spawn", e))
        })
        .collect();
    for mut k in kids {
        let ok = k.wait().map(|s| s.success()).unwrap_or(false);
        if !ok {
            fatal("append-test", "failed");
        }
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "append+fsync, 8 writer procs:    {:>8.0} records/s ({} records, incl. process start, {})",
        (8 * per) as f64 / s,
        8 * per,
        chain(&p)
    );
}

/// Write a sealed log of about `mb` MB without fsync; returns (records, bytes).
fn generate(path: &Path, host: &HostContext, mb: u64) -> (u64, u64) {
    let f = std::fs::File::create(path).unwrap_or_else(|e| fatal("create", e));
    let mut w = BufWriter::with_capacity(1 << 20, f);
    let mut prev = ZERO_HASH.to_string();
    let (mut n, mut bytes) = (0u64, 0u64);
    let mut r = sample(host, 0);
    while bytes < mb * 1_000_000 {
        r.command = Some(format!("psql -h db1 -c 'select {n}'"));
        r.user = format!("user{}", n % 37);
        let line = seal(&mut r, &prev).unwrap_or_else(|e| fatal("seal", e));
        prev = std::mem::take(&mut r.hash);
        w.write_all(&line).unwrap_or_else(|e| fatal("write", e));
        bytes += line.len() as u64;
        n += 1;
    }
    w.flush().unwrap_or_else(|e| fatal("flush", e));
    (n, bytes)
}

/// Run a command under `/usr/bin/time -v`; returns (seconds, peak RSS in KiB).
fn timed(cmd: &[&str], file: &Path) -> (f64, u64) {
    let t = Instant::now();
    let o = Command::new("/usr/bin/time")
        .arg("-v")
        .args(cmd)
        .arg(file)
        .stdout(Stdio::null())
        .output()
        .unwrap_or_else(|e| fatal(cmd[0], e));
    let s = t.elapsed().as_secs_f64();
    let err = String::from_utf8_lossy(&o.stderr);
    let rss = err
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    (s, rss)
}

fn best(runs: usize, cmd: &[&str], file: &Path) -> (f64, u64) {
    (0..runs)
        .map(|_| timed(cmd, file))
        .fold((f64::MAX, 0), |(s, r), (s2, r2)| (s.min(s2), r.max(r2)))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let host = HostContext::unknown();
    let dir = tempfile::tempdir().unwrap_or_else(|e| fatal("tempdir", e));
    bench_append(dir.path(), &host);

    let mb = std::env::var("PRODGUARD_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let log = dir.path().join("big.jsonl");
    let (n, bytes) = generate(&log, &host, mb);
    let mbs = bytes as f64 / 1e6;
    println!(
        "generated {n} records, {mbs:.0} MB ({} bytes/record)",
        bytes / n
    );

    // Warm the page cache, then best of 3 each, alternating nothing else.
    let _ = timed(&["cat"], &log);
    let (sha, _) = best(3, &["sha256sum"], &log);
    let (ver, ver_rss) = best(3, &[BIN, "audit", "verify"], &log);
    let ok = Command::new(BIN)
        .args(["audit", "verify"])
        .arg(&log)
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    println!("sha256sum:                       {:>8.0} MB/s", mbs / sha);
    println!(
        "prodguard audit verify:          {:>8.0} MB/s  ({:.0} records/s, peak RSS {} KiB, chain {})",
        mbs / ver,
        n as f64 / ver,
        ver_rss,
        if ok { "ok" } else { "BROKEN" }
    );
    println!("verify / sha256sum throughput:   {:>8.2}×", sha / ver);

    let (srch, srch_rss) = best(
        2,
        &[
            BIN,
            "audit",
            "search",
            "--user",
            "nobody",
            "--grep",
            "drop table",
        ],
        &log,
    );
    println!(
        "prodguard audit search ({mbs:.0} MB): {:>6.0} MB/s, peak RSS {} KiB (file is {} KiB)",
        mbs / srch,
        srch_rss,
        bytes / 1024
    );
}
