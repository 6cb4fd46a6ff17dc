//! Audit service figures, as ratios measured in one run.
//!
//! `cargo bench --bench service` starts the real `prodguard daemon` on a socket in a temporary
//! directory on the same disk as a plain baseline file (`$TMPDIR`, a real disk unless TMPDIR
//! says otherwise), and prints:
//! - the baseline: `write` + `fdatasync` of one record line, in a loop, records/s;
//! - durable records through the service (`sync`), 1 client and 8 client threads, records/s and
//!   the ratio to the baseline (group commit lets 8 clients share a flush);
//! - the round trip of one durable and one non-durable record from one client (what a recorded
//!   decision adds to a command), median and 99th percentile;
//! - `prodguard -- true` end to end, through the service against writing the file directly.
//!
//! Each phase runs `PRODGUARD_BENCH_SECS` seconds (default 3).

use prodguard::audit::service::ServiceSink;
use prodguard::audit::{Action, Event, Outcome, Record};
use prodguard::host::HostContext;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_prodguard");

fn secs() -> Duration {
    Duration::from_secs(
        std::env::var("PRODGUARD_BENCH_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(3),
    )
}

fn sample(host: &HostContext, i: u64) -> Record {
    Record::new_for_current_process(Event::Command, host)
        .with_command(format!("systemctl restart postgresql # run {i}"))
        .with_decision(
            Action::Confirm,
            vec!["svc.restart".into()],
            Outcome::Confirmed,
        )
        .with_challenge("hostname", true)
        .with_policy_digest("9f2c".repeat(16))
}

fn baseline(path: &Path, host: &HostContext) -> f64 {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .custom_flags(libc::O_CLOEXEC)
        .open(path)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut rec = sample(host, 0);
    let line = prodguard::audit::chain::seal(&mut rec, prodguard::audit::chain::ZERO_HASH)
        .unwrap_or_default();
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < secs() {
        f.write_all(&line).unwrap_or_else(|e| panic!("{e}"));
        f.sync_data().unwrap_or_else(|e| panic!("{e}"));
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn through_service(socket: &Path, host: &HostContext, clients: usize) -> f64 {
    let start = Instant::now();
    let total: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = (0..clients)
            .map(|_| {
                s.spawn(|| {
                    let sink = ServiceSink::new(socket);
                    let mut n = 0u64;
                    while start.elapsed() < secs() {
                        sink.append(&sample(host, n), true)
                            .unwrap_or_else(|e| panic!("{e}"));
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
    });
    total as f64 / start.elapsed().as_secs_f64()
}

fn round_trips(socket: &Path, host: &HostContext, sync: bool) -> (Duration, Duration) {
    let sink = ServiceSink::new(socket);
    let mut times = Vec::new();
    let start = Instant::now();
    while start.elapsed() < secs() && times.len() < 20_000 {
        let t = Instant::now();
        sink.append(&sample(host, 1), sync)
            .unwrap_or_else(|e| panic!("{e}"));
        times.push(t.elapsed());
    }
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    (at(0.5), at(0.99))
}

fn command_time(args: &[&std::ffi::OsStr], runs: u32) -> Duration {
    let mut best = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let ok = Command::new(BIN)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "prodguard -- true failed");
        best.push(t.elapsed());
    }
    best.sort();
    best[best.len() / 2]
}

fn main() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let socket = dir.path().join("audit.sock");
    let log = dir.path().join("log/audit.jsonl");
    let host_file = dir.path().join("host.toml");
    std::fs::write(
        &host_file,
        format!(
            "hostname = \"db1\"\nenvironment = \"production\"\n[audit]\nsyslog = \"none\"\nsocket = \"{}\"\nfile = \"{}\"\n",
            socket.display(),
            log.display()
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let host = HostContext::load(Some(&host_file));
    let mut daemon = Command::new(BIN)
        .arg("--host-file")
        .arg(&host_file)
        .arg("daemon")
        .arg("--socket")
        .arg(&socket)
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::os::unix::net::UnixStream::connect(&socket).is_err() {
        assert!(Instant::now() < deadline, "the service did not start");
        std::thread::sleep(Duration::from_millis(10));
    }

    let base = baseline(&dir.path().join("baseline.jsonl"), &host);
    println!("baseline write+fdatasync, 1 writer      {base:>9.0} records/s");
    let one = through_service(&socket, &host, 1);
    println!(
        "service, durable, 1 client              {one:>9.0} records/s  ({:.2}× baseline)",
        one / base
    );
    let eight = through_service(&socket, &host, 8);
    println!(
        "service, durable, 8 clients             {eight:>9.0} records/s  ({:.2}× baseline)",
        eight / base
    );
    let (p50, p99) = round_trips(&socket, &host, true);
    println!("durable record round trip               p50 {p50:?}  p99 {p99:?}");
    let (q50, q99) = round_trips(&socket, &host, false);
    println!("non-durable record round trip           p50 {q50:?}  p99 {q99:?}");

    let direct_log = dir.path().join("direct.jsonl");
    let hf = host_file.as_os_str();
    let via = command_time(
        &["--host-file".as_ref(), hf, "--".as_ref(), "true".as_ref()],
        30,
    );
    let direct = command_time(
        &[
            "--host-file".as_ref(),
            hf,
            "--audit-file".as_ref(),
            direct_log.as_os_str(),
            "--".as_ref(),
            "true".as_ref(),
        ],
        30,
    );
    println!(
        "prodguard -- true, median of 30         service {via:?}, direct file {direct:?} ({:.2}×)",
        via.as_secs_f64() / direct.as_secs_f64()
    );

    let _ = daemon.kill();
    let _ = daemon.wait();
    let out = Command::new(BIN)
        .args(["audit", "verify"])
        .arg(&log)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    println!(
        "service log verify: {}",
        if out.status.success() {
            "chain ok"
        } else {
            "FAILED"
        }
    );
}
