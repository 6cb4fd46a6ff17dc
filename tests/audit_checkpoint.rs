//! Signed checkpoints through the real binary: a host key made by `audit keygen`, writers that
//! sign, the syslog copy captured from a socket, and every way of tampering with the log
//! reported by `prodguard audit verify`.

use prodguard::audit::{chain, Record};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_prodguard");

/// A checkpoint every this many records in these tests.
const EVERY: usize = 10;

struct Env {
    dir: tempfile::TempDir,
    log: PathBuf,
    host: PathBuf,
    copy: PathBuf,
}

/// A temp dir with a host.toml naming a key in it, a checkpoint every [`EVERY`] records, and
/// syslog on a socket in the dir (`syslog`: else none).
fn env(syslog: bool) -> Env {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let log = dir.path().join("audit.jsonl");
    let host = dir.path().join("host.toml");
    let sock = if syslog {
        format!("unix:{}", dir.path().join("log").display())
    } else {
        "none".to_string()
    };
    std::fs::write(
        &host,
        format!(
            "hostname = \"db1.example.com\"\nenvironment = \"production\"\n[audit]\nsyslog = \"{sock}\"\nkey = \"{}\"\ncheckpoint_every = {EVERY}\n",
            dir.path().join("keys/audit.key").display()
        ),
    )
    .unwrap_or_else(|e| panic!("host.toml: {e}"));
    let copy = dir.path().join("siem.log");
    Env {
        dir,
        log,
        host,
        copy,
    }
}

impl Env {
    fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .arg("audit")
            .args(args)
            .arg("--audit-file")
            .arg(&self.log)
            .arg("--host-file")
            .arg(&self.host)
            .env_remove("PRODGUARD_SESSION")
            .output()
            .unwrap_or_else(|e| panic!("run {args:?}: {e}"))
    }

    fn keygen(&self) -> String {
        let o = self.run(&["keygen"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    fn append(&self, n: usize) {
        let o = self.run(&["append-test", "--count", &n.to_string()]);
        assert!(
            o.status.success(),
            "append failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }

    /// `audit verify` of the configured log and its rotations with `extra` flags.
    fn verify(&self, extra: &[&str]) -> (i32, String) {
        let mut args = vec!["verify"];
        args.extend_from_slice(extra);
        let o = self.run(&args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        (o.status.code().unwrap_or(-1), text)
    }

    fn with_copy(&self) -> (i32, String) {
        let copy = self.copy.display().to_string();
        self.verify(&["--checkpoints", &copy])
    }

    fn lines(&self) -> Vec<String> {
        lines_of(&self.log)
    }

    fn set_lines(&self, lines: &[String]) {
        set_lines(&self.log, lines);
    }

    /// A copy of the checkpoint lines as a SIEM keeps them: taken from the file, with a
    /// syslog header in front of each.
    fn save_copy(&self) {
        let mut text = String::new();
        for f in files_of(&self.log) {
            for l in lines_of(&f) {
                if l.contains("\"event\":\"checkpoint\"") {
                    text.push_str(&format!("Dec  2 17:00:00 db1 prodguard[1]: {l}\n"));
                }
            }
        }
        std::fs::write(&self.copy, text).unwrap_or_else(|e| panic!("{e}"));
    }
}

fn files_of(log: &Path) -> Vec<PathBuf> {
    let mut v = prodguard::audit::sink::rotated_siblings(log);
    v.push(log.to_path_buf());
    v
}

fn lines_of(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn set_lines(p: &Path, lines: &[String]) {
    let mut text = lines.join("\n");
    if !lines.is_empty() {
        text.push('\n');
    }
    std::fs::write(p, text).unwrap_or_else(|e| panic!("write: {e}"));
}

fn parse(line: &str) -> Record {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

/// Recompute the chain from line `from` on, as someone without the key can.
fn rechain(lines: &mut [String], from: usize, first_prev: Option<&str>) {
    for i in from..lines.len() {
        let prev = match (i, first_prev) {
            (i, Some(p)) if i == from => p.to_string(),
            (0, None) => chain::ZERO_HASH.to_string(),
            _ => parse(&lines[i - 1]).hash,
        };
        let mut r = parse(&lines[i]);
        let line = chain::seal(&mut r, &prev).unwrap_or_default();
        lines[i] = String::from_utf8_lossy(&line).trim_end().to_string();
    }
}

fn is_cp(line: &str) -> bool {
    line.contains("\"event\":\"checkpoint\"")
}

fn cp_indices(lines: &[String]) -> Vec<usize> {
    (0..lines.len()).filter(|&i| is_cp(&lines[i])).collect()
}

fn first_plain_after(lines: &[String], i: usize) -> usize {
    (i + 1..lines.len())
        .find(|&j| !is_cp(&lines[j]))
        .unwrap_or_else(|| panic!("no plain record after line {i}"))
}

/// A signed log of `n` records (plus its checkpoints), and the SIEM copy of the checkpoints.
fn signed(n: usize) -> Env {
    let e = env(false);
    e.keygen();
    e.append(n);
    e.save_copy();
    let (code, out) = e.with_copy();
    assert_eq!(code, 0, "the untampered log must verify: {out}");
    e
}

fn assert_caught(e: &Env, (code, out): (i32, String), words: &str) {
    assert_eq!(code, 1, "tampering went unreported: {out}");
    assert!(out.contains(words), "expected {words:?} in: {out}");
    let _ = e;
}

#[test]
fn an_untampered_log_with_rotations_verifies_against_the_syslog_copy() {
    let e = env(true);
    e.keygen();
    let rx = UnixDatagram::bind(e.dir.path().join("log")).unwrap_or_else(|err| panic!("{err}"));
    let stop = Arc::new(AtomicBool::new(false));
    let drain = {
        let stop = stop.clone();
        let copy = e.copy.clone();
        std::thread::spawn(move || {
            let _ = rx.set_read_timeout(Some(Duration::from_millis(100)));
            let mut text = Vec::new();
            let mut buf = vec![0u8; 65536];
            loop {
                match rx.recv(&mut buf) {
                    Ok(n) => {
                        text.extend_from_slice(&buf[..n]);
                        text.push(b'\n');
                    }
                    Err(_) if stop.load(Ordering::SeqCst) => break,
                    Err(_) => {}
                }
            }
            std::fs::write(copy, text).unwrap_or_else(|err| panic!("{err}"));
        })
    };
    e.append(25);
    std::fs::rename(&e.log, e.dir.path().join("audit.jsonl.2")).unwrap_or_else(|x| panic!("{x}"));
    e.append(7);
    std::fs::rename(&e.log, e.dir.path().join("audit.jsonl.1")).unwrap_or_else(|x| panic!("{x}"));
    // Several writers at once, each holding the key.
    let kids: Vec<_> = (0..4)
        .map(|_| {
            Command::new(BIN)
                .args(["audit", "append-test", "--count", "30", "--audit-file"])
                .arg(&e.log)
                .arg("--host-file")
                .arg(&e.host)
                .spawn()
                .unwrap_or_else(|x| panic!("{x}"))
        })
        .collect();
    for mut k in kids {
        let st = k.wait().unwrap_or_else(|x| panic!("{x}"));
        assert!(st.success());
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::SeqCst);
    drain.join().unwrap_or_else(|_| panic!("drain thread"));
    let copy = std::fs::read_to_string(&e.copy).unwrap_or_default();
    let copied = copy.lines().filter(|l| is_cp(l)).count();
    let all: Vec<String> = files_of(&e.log).iter().flat_map(|f| lines_of(f)).collect();
    let in_log = all.iter().filter(|l| is_cp(l)).count();
    // Every file starts with one; at least one per EVERY records.
    assert!(in_log >= (25 + 7 + 120) / EVERY, "{in_log} checkpoints");
    assert_eq!(copied, in_log, "every checkpoint reached syslog");
    assert!(copy.contains("prodguard["), "syslog lines: {copy}");
    for f in files_of(&e.log) {
        let first = lines_of(&f).into_iter().next().unwrap_or_default();
        assert!(is_cp(&first), "{} starts with a checkpoint", f.display());
    }
    let (code, out) = e.with_copy();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ok: "), "{out}");
    assert!(
        out.contains(&format!("{in_log} of {in_log} checkpoints found")),
        "{out}"
    );
    // The JSON report says the same.
    let copy_arg = e.copy.display().to_string();
    let (code, json) = e.verify(&["--json", "--checkpoints", &copy_arg]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap_or_default();
    assert_eq!(v["ok"], true);
    assert_eq!(v["checkpoints"].as_u64(), Some(in_log as u64));
    assert_eq!(v["copy"]["found"].as_u64(), Some(in_log as u64));
    // The key is shown, and is the published one.
    let (code, shown) = e.verify(&["--show-key"]);
    assert_eq!(code, 0, "{shown}");
    let published = std::fs::read_to_string(e.dir.path().join("audit.pub")).unwrap_or_default();
    assert!(shown.starts_with(&published), "{shown} vs {published}");
}

#[test]
fn the_key_is_private_and_refused_when_open_to_others() {
    use std::os::unix::fs::PermissionsExt;
    let e = env(false);
    e.keygen();
    let key = e.dir.path().join("keys/audit.key");
    let mode = |p: &Path| {
        std::fs::metadata(p)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0)
    };
    assert_eq!(mode(&key), 0o600);
    assert_eq!(mode(&e.dir.path().join("audit.pub")), 0o644);
    let _ = std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644));
    let o = e.run(&["keygen"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("mode 0644") && err.contains("audit.key"),
        "{err}"
    );
}

#[test]
fn edit() {
    let e = signed(35);
    let mut l = e.lines();
    let i = first_plain_after(&l, 3);
    l[i] = l[i].replace("append-test record", "append-test RECORD");
    e.set_lines(&l);
    assert_caught(&e, e.verify(&[]), "bad hash");
}

#[test]
fn edit_with_recomputed_chain() {
    let e = signed(35);
    let mut l = e.lines();
    let i = first_plain_after(&l, 3);
    l[i] = l[i].replace("append-test record", "append-test RECORD");
    rechain(&mut l, i, None);
    e.set_lines(&l);
    assert_caught(&e, e.verify(&[]), "checkpoint mismatch");
}

#[test]
fn delete_middle() {
    let e = signed(35);
    let mut l = e.lines();
    l.remove(first_plain_after(&l, 3));
    e.set_lines(&l);
    assert_caught(&e, e.verify(&[]), "broken link");
}

#[test]
fn delete_middle_with_recomputed_chain() {
    let e = signed(35);
    let mut l = e.lines();
    let i = first_plain_after(&l, 3);
    l.remove(i);
    rechain(&mut l, i, None);
    e.set_lines(&l);
    assert_caught(&e, e.verify(&[]), "checkpoint mismatch");
}

#[test]
fn delete_tail() {
    let e = signed(35);
    let mut l = e.lines();
    let last_cp = *cp_indices(&l).last().unwrap_or(&0);
    l.truncate(last_cp - 2);
    e.set_lines(&l);
    assert_caught(&e, e.with_copy(), "missing tail");
}

#[test]
fn truncate_to_zero() {
    let e = signed(35);
    e.set_lines(&[]);
    assert_caught(&e, e.verify(&[]), "missing checkpoint");
    assert_caught(&e, e.with_copy(), "missing tail");
}

#[test]
fn torn_mid_line() {
    let e = signed(35);
    let text = std::fs::read(&e.log).unwrap_or_default();
    std::fs::write(&e.log, &text[..text.len() - 40]).unwrap_or_else(|x| panic!("{x}"));
    assert_caught(&e, e.verify(&[]), "torn");
}

#[test]
fn replace_with_an_unsigned_chain() {
    let e = signed(35);
    let other = env(false); // no key made: its writer does not sign
    std::fs::write(
        &other.host,
        "hostname = \"db1.example.com\"\nenvironment = \"production\"\n[audit]\nsyslog = \"none\"\n",
    )
    .unwrap_or_else(|x| panic!("{x}"));
    other.append(40);
    std::fs::copy(&other.log, &e.log).unwrap_or_else(|x| panic!("{x}"));
    assert_caught(&e, e.verify(&[]), "missing checkpoint");
    assert_caught(&e, e.with_copy(), "not in the log");
}

#[test]
fn replace_with_a_chain_signed_by_another_key() {
    let e = signed(35);
    let other = env(false);
    other.keygen();
    other.append(40);
    std::fs::copy(&other.log, &e.log).unwrap_or_else(|x| panic!("{x}"));
    assert_caught(&e, e.verify(&[]), "not by the host key");
}

#[test]
fn verify_with_the_wrong_key() {
    let e = signed(35);
    let other = env(false);
    other.keygen();
    let k = other.dir.path().join("audit.pub").display().to_string();
    assert_caught(&e, e.verify(&["--key", &k]), "not by the host key");
}

#[test]
fn reorder() {
    let e = signed(35);
    let mut l = e.lines();
    let i = first_plain_after(&l, 3);
    l.swap(i, i + 1);
    e.set_lines(&l);
    assert_caught(&e, e.verify(&[]), "broken link");
}

#[test]
fn insert_forged_with_recomputed_chain() {
    let e = signed(35);
    let mut l = e.lines();
    let i = first_plain_after(&l, 3);
    let forged = l[i].replace("append-test record", "forged record");
    l.insert(i + 1, forged);
    rechain(&mut l, i + 1, None);
    e.set_lines(&l);
    assert_caught(&e, e.verify(&[]), "checkpoint mismatch");
}

/// Three files: .2 (oldest), .1, the log.
fn rotated() -> Env {
    let e = env(false);
    e.keygen();
    e.append(15);
    std::fs::rename(&e.log, e.dir.path().join("audit.jsonl.2")).unwrap_or_else(|x| panic!("{x}"));
    e.append(15);
    std::fs::rename(&e.log, e.dir.path().join("audit.jsonl.1")).unwrap_or_else(|x| panic!("{x}"));
    e.append(15);
    e.save_copy();
    let (code, out) = e.with_copy();
    assert_eq!(code, 0, "{out}");
    e
}

#[test]
fn missing_rotated_middle_file() {
    let e = rotated();
    std::fs::remove_file(e.dir.path().join("audit.jsonl.1")).unwrap_or_else(|x| panic!("{x}"));
    assert_caught(&e, e.verify(&[]), "broken link");
}

#[test]
fn missing_rotated_middle_file_with_recomputed_chain() {
    let e = rotated();
    std::fs::remove_file(e.dir.path().join("audit.jsonl.1")).unwrap_or_else(|x| panic!("{x}"));
    let older = lines_of(&e.dir.path().join("audit.jsonl.2"));
    let last = parse(older.last().map(String::as_str).unwrap_or("")).hash;
    let mut l = e.lines();
    rechain(&mut l, 0, Some(&last));
    e.set_lines(&l);
    assert_caught(&e, e.verify(&[]), "checkpoint mismatch");
}

#[test]
fn forged_checkpoint() {
    let e = signed(35);
    let mut l = e.lines();
    let i = cp_indices(&l)[1];
    let mut r = parse(&l[i]);
    if let Some(cp) = r.checkpoint.as_mut() {
        cp.records -= 1;
    }
    l[i] = serde_json::to_string(&r).unwrap_or_default();
    l.remove(i - 1);
    rechain(&mut l, i - 1, None);
    e.set_lines(&l);
    assert_caught(&e, e.verify(&[]), "does not verify");
}

#[test]
fn checkpoints_removed_after_an_edit() {
    let e = signed(35);
    let mut l = e.lines();
    let i = first_plain_after(&l, 3);
    l[i] = l[i].replace("append-test record", "append-test RECORD");
    let mut kept: Vec<String> = l[..=i].to_vec();
    kept.extend(l[i + 1..].iter().filter(|x| !is_cp(x)).cloned());
    rechain(&mut kept, i, None);
    e.set_lines(&kept);
    assert_caught(&e, e.verify(&[]), "missing checkpoint");
}

#[test]
fn published_key_removed() {
    let e = signed(35);
    std::fs::remove_file(e.dir.path().join("audit.pub")).unwrap_or_else(|x| panic!("{x}"));
    assert_caught(&e, e.verify(&[]), "no key");
}

#[test]
fn forged_line_in_the_checkpoint_copy() {
    let e = signed(35);
    let text = std::fs::read_to_string(&e.copy).unwrap_or_default();
    let forged = text.replacen("\"records\":0,", "\"records\":1,", 1);
    assert_ne!(forged, text);
    std::fs::write(&e.copy, forged).unwrap_or_else(|x| panic!("{x}"));
    assert_caught(&e, e.with_copy(), "does not verify");
}

#[test]
fn tail_rewritten_within_the_schedule() {
    let e = signed(35);
    let mut l = e.lines();
    let cps = cp_indices(&l);
    // Keep up to the second checkpoint and one record, then forge a tail as long as the
    // schedule allows without a checkpoint: only the copy can tell.
    let keep = cps[1] + 2;
    let template = l[keep - 1].clone();
    l.truncate(keep);
    for n in 0..=EVERY {
        l.push(template.replace("append-test record", &format!("forged {n}")));
    }
    rechain(&mut l, keep, None);
    e.set_lines(&l);
    let (code, out) = e.verify(&[]);
    assert_eq!(code, 0, "without the copy this cannot be seen: {out}");
    assert_caught(&e, e.with_copy(), "not in the log");
}
