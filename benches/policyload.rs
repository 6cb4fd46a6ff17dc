//! Loading site packs: time against pack size, as ratios against the smallest pack in the same
//! run. Loading is linear when doubling the pack doubles the time; the bench fails when the
//! largest pack (just under the 1 MiB cap) takes more than twice the linear share.
//!
//! `cargo bench --bench policyload` prints, for packs of 128 KiB to 1 MiB: the median load time
//! of a pack that parses, and of one with a syntax error on its first line (read again block by
//! block to report every error), and each time's ratio to the 128 KiB pack of its kind.

use prodguard::policy::{LoadOptions, PolicySet, MAX_PACK_BYTES};
use std::path::Path;
use std::time::{Duration, Instant};

fn pack(bytes: u64, broken: bool) -> String {
    let mut s = String::new();
    if broken {
        s.push_str("bogus = [\n");
    }
    let mut i = 0;
    loop {
        let r = format!(
            "[[rule]]\nid = \"site.r{i}\"\naction = \"confirm\"\nmessage = \"rule {i} on {{host}}\"\nmatch = {{ program = [\"prog{}\"], subcommand = [\"delete x{i}\"], flags = [\"force\"] }}\ntests.match = [\"prog{} delete x{i} --force\"]\n\n",
            i % 500,
            i % 500
        );
        if (s.len() + r.len()) as u64 > bytes {
            return s;
        }
        s.push_str(&r);
        i += 1;
    }
}

fn median_load(dir: &Path, runs: usize) -> (Duration, bool) {
    let mut times = Vec::with_capacity(runs);
    let mut strict = false;
    for _ in 0..runs {
        let start = Instant::now();
        let set = PolicySet::load(&LoadOptions {
            policy_dir: Some(dir.to_path_buf()),
            no_embedded: true,
        });
        times.push(start.elapsed());
        strict = set.strict;
    }
    times.sort();
    (times[times.len() / 2], strict)
}

fn main() {
    let sizes = [
        MAX_PACK_BYTES / 8,
        MAX_PACK_BYTES / 4,
        MAX_PACK_BYTES / 2,
        MAX_PACK_BYTES,
    ];
    let mut failed = false;
    for broken in [false, true] {
        let kind = if broken { "broken" } else { "valid " };
        let mut base: Option<(u64, Duration)> = None;
        for &size in &sizes {
            let dir = tempfile::tempdir().expect("temp dir");
            let text = pack(size, broken);
            std::fs::write(dir.path().join("10-big.toml"), &text).expect("write pack");
            let (t, strict) = median_load(dir.path(), 5);
            assert_eq!(strict, broken, "a {kind} pack of {size} bytes");
            let (b_size, b_time) = *base.get_or_insert((text.len() as u64, t));
            let size_ratio = text.len() as f64 / b_size as f64;
            let time_ratio = t.as_secs_f64() / b_time.as_secs_f64();
            println!(
                "policyload {kind} {:>5} KiB: {:>8.1} ms  size x{size_ratio:.1}  time x{time_ratio:.1}",
                text.len() / 1024,
                t.as_secs_f64() * 1000.0
            );
            if time_ratio > 2.0 * size_ratio {
                println!(
                    "policyload {kind}: loading grows faster than the pack (bound: twice linear)"
                );
                failed = true;
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
}
