//! Speed of the decision, measured as ratios against a baseline taken in the same run.
//!
//! `cargo bench --bench check` prints:
//! - in-process analyse + decide over the command corpora: p50/p99/max µs;
//! - whole process: `prodguard check 'ls -la'` against spawning `/bin/true`, and
//!   `prodguard explain "psql -c 'DROP DATABASE x'"`; p50/p99 ms and the ratio;
//! - peak resident memory of one `prodguard check`;
//! - discovery of this host's protected state (`host::state::discover`), in process.
//!
//! Corpora are read from `$PRODGUARD_CORPUS` or `../shared/corpus` (lines of commands).

use prodguard::decide::decide;
use prodguard::host::HostContext;
use prodguard::policy::PolicySet;
use prodguard::shell::{analyze, Context};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn corpus_dir() -> PathBuf {
    std::env::var_os("PRODGUARD_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"))
}

fn production() -> HostContext {
    HostContext::from_toml(
        "hostname = \"db1.example.com\"\nenvironment = \"production\"\nrole = \"db-primary\"\nfleet = [\"db2.example.com\"]\n",
        None,
    )
}

fn in_process() {
    let host = production();
    let policy = PolicySet::embedded_only(true);
    let ctx = Context {
        cwd: "/root".into(),
        home: Some("/root".into()),
        env: Vec::new(),
        stdin_unknown: false,
    };
    let dir = corpus_dir();
    for name in [
        "dangerous_agent_guard_tests.txt",
        "benign_agent_guard_tests.txt",
        "benign_tldr_examples.txt",
    ] {
        let Ok(text) = std::fs::read_to_string(dir.join(name)) else {
            println!(
                "in-process  {name}: not found under {} (set PRODGUARD_CORPUS)",
                dir.display()
            );
            continue;
        };
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        // One warm-up pass fills the rule cache, as a long-running `explain --stdin` would.
        for l in &lines {
            let _ = decide(&analyze(l, &ctx), &policy, &host);
        }
        let mut timed = Vec::with_capacity(lines.len());
        for l in &lines {
            let t = Instant::now();
            let v = decide(&analyze(l, &ctx), &policy, &host);
            timed.push((t.elapsed(), *l));
            let _ = std::hint::black_box(v);
        }
        timed.sort();
        // `PRODGUARD_BENCH_SLOWEST=N`: the N slowest lines, to know where the tail comes from.
        let slowest = std::env::var("PRODGUARD_BENCH_SLOWEST")
            .ok()
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0);
        for (t, l) in timed.iter().rev().take(slowest) {
            println!("  slow {:>8.1} µs  {l}", t.as_secs_f64() * 1e6);
        }
        let times: Vec<Duration> = timed.iter().map(|(t, _)| *t).collect();
        println!(
            "in-process  {name:<34} {:>6} lines  analyse+decide µs p50 {:>6.1}  p99 {:>6.1}  max {:>7.1}",
            lines.len(),
            percentile(&times, 0.5).as_secs_f64() * 1e6,
            percentile(&times, 0.99).as_secs_f64() * 1e6,
            times.last().copied().unwrap_or_default().as_secs_f64() * 1e6,
        );
    }
}

fn spawn_times(argv: &[&str], n: usize) -> Vec<Duration> {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let status = Command::new(argv[0])
            .args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        times.push(t.elapsed());
        if status.is_err() {
            break;
        }
    }
    times.sort();
    times
}

fn peak_rss_kib(argv: &[&str]) -> Option<u64> {
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .args(argv)
        .stdout(Stdio::null())
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .last()?
        .trim()
        .parse()
        .ok()
}

fn whole_process() {
    let bin = env!("CARGO_BIN_EXE_prodguard");
    let dir = std::env::temp_dir().join(format!("prodguard-bench-{}", std::process::id()));
    let _ = std::fs::create_dir_all(dir.join("policies.d"));
    let host_file = dir.join("host.toml");
    let _ = std::fs::write(
        &host_file,
        "hostname = \"db1\"\nenvironment = \"production\"\nrole = \"db-primary\"\n",
    );
    let hf = host_file.to_string_lossy().to_string();
    let pd = dir.join("policies.d").to_string_lossy().to_string();
    let n = 400;
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("/bin/true", vec!["/bin/true"]),
        (
            "check 'ls -la'",
            vec![
                bin,
                "--host-file",
                &hf,
                "--policy-dir",
                &pd,
                "check",
                "ls -la",
            ],
        ),
        (
            "explain psql DROP",
            vec![
                bin,
                "--host-file",
                &hf,
                "--policy-dir",
                &pd,
                "explain",
                "psql -c 'DROP DATABASE x'",
            ],
        ),
        (
            "check rm -f (no hit)",
            vec![
                bin,
                "--host-file",
                &hf,
                "--policy-dir",
                &pd,
                "check",
                "rm -f /tmp/prodguard-bench-none",
            ],
        ),
        (
            "check rm -rf data",
            vec![
                bin,
                "--host-file",
                &hf,
                "--policy-dir",
                &pd,
                "check",
                "rm -rf /var/lib/postgresql/15/main",
            ],
        ),
    ];
    // Interleave rounds so that machine noise hits every case alike.
    let mut all: Vec<Vec<Duration>> = vec![Vec::new(); cases.len()];
    for _ in 0..4 {
        for (i, (_, argv)) in cases.iter().enumerate() {
            all[i].extend(spawn_times(argv, n / 4));
        }
    }
    let base = {
        let mut b = all[0].clone();
        b.sort();
        percentile(&b, 0.5)
    };
    for (i, (name, argv)) in cases.iter().enumerate() {
        let mut t = all[i].clone();
        t.sort();
        let p50 = percentile(&t, 0.5);
        println!(
            "process     {name:<20} ms p50 {:>6.3}  p99 {:>6.3}  ratio to /bin/true p50 {:>5.2}x  peak RSS {} KiB",
            p50.as_secs_f64() * 1e3,
            percentile(&t, 0.99).as_secs_f64() * 1e3,
            p50.as_secs_f64() / base.as_secs_f64().max(1e-9),
            peak_rss_kib(argv).map_or("?".into(), |k| k.to_string()),
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn discovery() {
    use prodguard::host::state::{discover, Roots};
    let roots = Roots::system();
    let mut times = Vec::with_capacity(200);
    let mut found = discover(&roots);
    for _ in 0..200 {
        let t = Instant::now();
        found = discover(&roots);
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "discovery   protected state: {} paths, {} devices, {} servers  µs p50 {:>6.1}  p99 {:>6.1}",
        found.entries.len(),
        found.devices.len(),
        found.services.len(),
        percentile(&times, 0.5).as_secs_f64() * 1e6,
        percentile(&times, 0.99).as_secs_f64() * 1e6,
    );
}

fn main() {
    // `cargo bench` passes `--bench`; a filter word selects one part.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let want = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    if want("in-process") {
        in_process();
    }
    if want("process") {
        whole_process();
    }
    if want("discovery") {
        discovery();
    }
}
