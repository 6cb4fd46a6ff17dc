//! Runs `shell::analyze` over corpus files, one command per line, and reports how many lines
//! parse cleanly and the time per line (p50/p99/max, µs). Run in release mode:
//!
//! ```text
//! cargo run --release --example corpus_stats -- [--bash] FILE…
//! ```
//!
//! With `--bash`, every line reported unparseable is checked with `bash -n`; lines bash accepts
//! are printed (each is a bug to look at).

use prodguard::shell::{analyze, Context, Problem};
use std::time::Instant;

fn main() {
    let mut check_bash = false;
    let mut files = Vec::new();
    for a in std::env::args().skip(1) {
        if a == "--bash" {
            check_bash = true;
        } else {
            files.push(a);
        }
    }
    let ctx = Context {
        cwd: "/home/user".to_owned(),
        home: Some("/home/user".to_owned()),
        env: Vec::new(),
        stdin_unknown: false,
    };
    for file in files {
        let text = match std::fs::read(&file) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => {
                eprintln!("{file}: {e}");
                continue;
            }
        };
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        // Warm up caches and allocator.
        for l in lines.iter().take(200) {
            std::hint::black_box(analyze(l, &ctx));
        }
        let (mut ok, mut unparseable, mut payload) = (0usize, 0usize, 0usize);
        let mut times = Vec::with_capacity(lines.len());
        let mut slowest: Vec<(u128, &str)> = Vec::new();
        let mut bash_ok = Vec::new();
        for l in &lines {
            let t = Instant::now();
            let a = analyze(l, &ctx);
            let ns = t.elapsed().as_nanos();
            times.push(ns);
            slowest.push((ns, l));
            if slowest.len() > 64 {
                slowest.sort_unstable_by_key(|s| std::cmp::Reverse(s.0));
                slowest.truncate(3);
            }
            let unp = a
                .problems
                .iter()
                .any(|p| matches!(p, Problem::Unparseable { .. }));
            if unp {
                unparseable += 1;
                if check_bash {
                    let st = std::process::Command::new("bash")
                        .args(["-n", "-c", l])
                        .output();
                    if st.is_ok_and(|o| o.status.success()) {
                        bash_ok.push((*l).to_owned());
                    }
                }
            } else if a.problems.is_empty() {
                ok += 1;
            } else {
                payload += 1;
            }
        }
        times.sort_unstable();
        let pct = |p: f64| {
            let i = ((times.len() as f64 - 1.0) * p).round() as usize;
            times.get(i).copied().unwrap_or(0) as f64 / 1000.0
        };
        println!(
            "{file}: {} lines, {ok} ok, {unparseable} unparseable, {payload} unknown-payload; \
             analyze µs p50 {:.1} p99 {:.1} max {:.1}",
            lines.len(),
            pct(0.5),
            pct(0.99),
            pct(1.0)
        );
        slowest.sort_unstable_by_key(|s| std::cmp::Reverse(s.0));
        for (ns, l) in slowest.iter().take(3) {
            let short: String = l.chars().take(100).collect();
            println!("  slow {:.1} µs: {short}", *ns as f64 / 1000.0);
        }
        for l in bash_ok {
            println!("  bash -n accepts: {l}");
        }
    }
}
