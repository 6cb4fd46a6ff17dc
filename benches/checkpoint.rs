//! What signed checkpoints cost the writer and the verifier, as ratios in one run.
//!
//! `cargo bench --bench checkpoint` prints records/s of one `FileSink` writing the same records
//! without and with checkpoints (ed25519, one every 100 records, the default), with
//! `fdatasync` per record and without it (page cache: the CPU cost alone), and `audit verify`
//! throughput without and with checking the signatures. Runs alternate (plain, signed, plain,
//! signed, …) and the best of each is kept, so a neighbour's burst on the shared disk hits
//! both. `PRODGUARD_BENCH_SYNC_RECORDS` and `PRODGUARD_BENCH_RECORDS` change the counts.

use prodguard::audit::checkpoint::{Checkpoints, Settings, Signer};
use prodguard::audit::verify::{verify_with, Input, Verifier};
use prodguard::audit::{Action, Event, FileSink, Outcome, Record};
use prodguard::host::HostContext;
use std::path::Path;
use std::time::Instant;

fn sample(host: &HostContext, i: u64) -> Record {
    Record::new_for_current_process(Event::Command, host)
        .with_command(format!(
            "psql -h db1 -c 'delete from sessions where created < now() - interval {i} days'"
        ))
        .with_decision(
            Action::Confirm,
            vec!["sql.delete-without-where".into()],
            Outcome::Confirmed,
        )
        .with_challenge("hostname", true)
}

fn fatal(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("bench: {what}: {e}");
    std::process::exit(1)
}

fn count(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Records per second writing `n` records to a new file `p`.
fn write(p: &Path, host: &HostContext, n: u64, sync: bool, signer: Option<&[u8; 32]>) -> f64 {
    let _ = std::fs::remove_file(p);
    let mut sink = FileSink::open(p).unwrap_or_else(|e| fatal("open", e));
    if let Some(seed) = signer {
        sink = sink.with_checkpoints(Checkpoints::new(
            Signer::from_seed(seed),
            Settings::default(),
            host,
        ));
    }
    let recs: Vec<Record> = (0..n).map(|i| sample(host, i)).collect();
    let t = Instant::now();
    for mut r in recs {
        let _ = sink
            .append_records(std::slice::from_mut(&mut r), sync)
            .unwrap_or_else(|e| fatal("append", e));
    }
    n as f64 / t.elapsed().as_secs_f64()
}

fn verify_rate(p: &Path, key: Option<&[u8; 32]>) -> (f64, bool) {
    let v = match key {
        Some(seed) => Verifier::new().with_key(Signer::from_seed(seed).public().clone()),
        None => Verifier::new(),
    };
    let t = Instant::now();
    let r = verify_with(v, &[Input::Path(p.to_path_buf())]).unwrap_or_else(|e| fatal("verify", e));
    (r.records as f64 / t.elapsed().as_secs_f64(), r.ok)
}

fn main() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| fatal("tempdir", e));
    let host = HostContext::unknown();
    let seed = [42u8; 32];
    let sync_n = count("PRODGUARD_BENCH_SYNC_RECORDS", 1000);
    let n = count("PRODGUARD_BENCH_RECORDS", 100_000);
    for (label, sync, n) in [
        ("fdatasync per record", true, sync_n),
        ("no sync", false, n),
    ] {
        let (mut plain, mut signed) = (0f64, 0f64);
        for _ in 0..3 {
            plain = plain.max(write(&dir.path().join("plain.jsonl"), &host, n, sync, None));
            signed = signed.max(write(
                &dir.path().join("signed.jsonl"),
                &host,
                n,
                sync,
                Some(&seed),
            ));
        }
        println!(
            "append, {label:<21} {n:>7} records: without checkpoints {plain:>9.0} records/s, with {signed:>9.0} records/s, ratio {:.3}",
            signed / plain
        );
    }
    let signed = dir.path().join("signed.jsonl");
    let (mut plain_v, mut key_v) = (0f64, 0f64);
    let mut ok = true;
    for _ in 0..3 {
        let (a, oa) = verify_rate(&signed, None);
        let (b, ob) = verify_rate(&signed, Some(&seed));
        plain_v = plain_v.max(a);
        key_v = key_v.max(b);
        ok &= ob && !oa; // without the key a signed log must fail ("no key")
    }
    println!(
        "verify {n} records: chain only {plain_v:>9.0} records/s, with signatures {key_v:>9.0} records/s, ratio {:.3} ({})",
        key_v / plain_v,
        if ok { "signed log ok, refused without the key" } else { "UNEXPECTED RESULT" }
    );
}
