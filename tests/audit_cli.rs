//! End-to-end tests of the audit trail through the real binary: concurrent writers, tampering,
//! torn writes, full disks, syslog delivery and redaction.

use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod support;

const BIN: &str = env!("CARGO_BIN_EXE_prodguard");

struct Env {
    dir: tempfile::TempDir,
    log: PathBuf,
    host: PathBuf,
}

/// A temp dir with a host.toml (syslog as given, `none` by default) and a log path. `base`
/// chooses the filesystem: /dev/shm (tmpfs, fsync is free) for the big concurrent run.
fn env_in(base: Option<&Path>, syslog: &str) -> Env {
    let dir = match base {
        Some(b) => tempfile::tempdir_in(b),
        None => tempfile::tempdir(),
    }
    .unwrap_or_else(|e| panic!("tempdir: {e}"));
    let log = dir.path().join("audit.jsonl");
    let host = dir.path().join("host.toml");
    std::fs::write(
        &host,
        format!("hostname = \"db1.example.com\"\nenvironment = \"production\"\nrole = \"db-primary\"\n[audit]\nsyslog = \"{syslog}\"\n"),
    )
    .unwrap_or_else(|e| panic!("host.toml: {e}"));
    Env { dir, log, host }
}

fn env() -> Env {
    env_in(None, "none")
}

impl Env {
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("audit")
            .args(args)
            .arg("--audit-file")
            .arg(&self.log)
            .arg("--host-file")
            .arg(&self.host)
            .env_remove("PRODGUARD_SESSION");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args)
            .output()
            .unwrap_or_else(|e| panic!("run {args:?}: {e}"))
    }

    fn append(&self, n: u64) {
        let o = self.run(&["append-test", "--count", &n.to_string()]);
        assert!(
            o.status.success(),
            "append failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }

    fn verify_file(&self, file: &Path) -> (i32, String) {
        let o = Command::new(BIN)
            .args(["audit", "verify"])
            .arg(file)
            .output()
            .unwrap_or_else(|e| panic!("verify: {e}"));
        (
            o.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&o.stdout).into_owned(),
        )
    }

    fn lines(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

fn verify_json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "verify --json: {e}: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[test]
fn eight_concurrent_writer_processes_lose_and_interleave_nothing() {
    let e = env_in(Some(Path::new("/dev/shm")), "none");
    let writers: Vec<_> = (0..8)
        .map(|_| {
            e.cmd(&["append-test", "--count", "5000"])
                .stdout(Stdio::null())
                .spawn()
                .unwrap_or_else(|err| panic!("spawn: {err}"))
        })
        .collect();
    for mut w in writers {
        let st = w.wait().unwrap_or_else(|err| panic!("wait: {err}"));
        assert!(st.success());
    }
    let o = e.run(&["verify", "--json"]);
    let v = verify_json(&o);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["records"], 40_000);
    assert_eq!(e.lines().len(), 40_000);
    let pids: std::collections::BTreeSet<u64> = e
        .lines()
        .iter()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|r| r["pid"].as_u64())
        .collect();
    assert_eq!(pids.len(), 8);
    let human = e.run(&["verify"]);
    assert!(human.status.success());
    assert!(String::from_utf8_lossy(&human.stdout)
        .starts_with("ok: 40000 records in 1 file, chain intact"));
}

#[test]
fn tampering_is_found_and_the_line_named() {
    let e = env();
    e.append(20);
    let lines = e.lines();
    let cases: Vec<(&str, Vec<String>, &str)> = vec![
        (
            "edit",
            {
                let mut l = lines.clone();
                l[6] = l[6].replacen("append-test record 6", "append-test record 7", 1);
                l
            },
            ":7: bad hash",
        ),
        (
            "delete",
            {
                let mut l = lines.clone();
                l.remove(6);
                l
            },
            ":7: broken link",
        ),
        (
            "reorder",
            {
                let mut l = lines.clone();
                l.swap(4, 9);
                l
            },
            ":5: broken link",
        ),
        (
            "insert",
            {
                let mut l = lines.clone();
                l.insert(3, "{\"v\":1,\"note\":\"hello\"}".to_string());
                l
            },
            ":4: unparseable",
        ),
    ];
    let (code, out) = e.verify_file(&e.log);
    assert_eq!(code, 0, "{out}");
    for (what, content, want) in cases {
        let f = e.dir.path().join(format!("{what}.jsonl"));
        std::fs::write(&f, content.join("\n") + "\n").unwrap_or_else(|err| panic!("{err}"));
        let (code, out) = e.verify_file(&f);
        assert_eq!(code, 1, "{what}: {out}");
        let first = out.lines().next().unwrap_or("");
        assert!(
            first.starts_with("FAILED: ") && first.contains(&format!("{what}.jsonl{want}")),
            "{what}: {out}"
        );
    }
    // One flipped byte anywhere in a line is found.
    let mut bytes = std::fs::read(&e.log).unwrap_or_default();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x04;
    let f = e.dir.path().join("flip.jsonl");
    std::fs::write(&f, &bytes).unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(e.verify_file(&f).0, 1);
}

#[test]
fn a_writer_killed_mid_write_loses_nothing_earlier_and_is_chained_past() {
    let e = env();
    let o = e.run(&["append-test", "--count", "10", "--print-hashes"]);
    assert!(o.status.success());
    let earlier: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(earlier.len(), 10);
    let size_before = std::fs::metadata(&e.log).map(|m| m.len()).unwrap_or(0);

    let o = e.run(&["append-test", "--count", "1", "--tear-after", "120"]);
    assert_eq!(
        o.status.signal(),
        Some(9),
        "the writer should die by SIGKILL"
    );

    let o = e.run(&["verify", "--json"]);
    let v = verify_json(&o);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(v["failure"]["kind"], "torn", "{v}");
    assert_eq!(v["failure"]["line"], 11);
    assert_eq!(v["failure"]["offset"], size_before);
    assert_eq!(v["records"], 10);

    e.append(1);
    let o = e.run(&["verify", "--json"]);
    let v = verify_json(&o);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["records"], 12, "10 + the torn-tail record + the new one");
    assert_eq!(v["warnings"][0]["kind"], "torn-acknowledged");
    let text = std::fs::read_to_string(&e.log).unwrap_or_default();
    for h in &earlier {
        assert!(text.contains(h.as_str()));
    }
    let note: serde_json::Value =
        serde_json::from_str(&e.lines()[11]).unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(note["event"], "torn-tail");
    assert_eq!(note["offset"], size_before);
    assert_eq!(note["prev"].as_str(), earlier.last().map(String::as_str));
}

#[test]
fn writers_killed_at_random_lose_no_record_they_reported() {
    let e = env_in(Some(Path::new("/dev/shm")), "none");
    let mut victims: Vec<_> = (0..3)
        .map(|_| {
            e.cmd(&["append-test", "--count", "1000000", "--print-hashes"])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap_or_else(|err| panic!("spawn: {err}"))
        })
        .collect();
    let survivor = e
        .cmd(&["append-test", "--count", "300"])
        .spawn()
        .unwrap_or_else(|err| panic!("spawn: {err}"));
    std::thread::sleep(std::time::Duration::from_millis(400));
    let mut reported = Vec::new();
    for v in &mut victims {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(v.id() as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    for v in victims {
        let o = v.wait_with_output().unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(o.status.signal(), Some(9));
        reported.extend(
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter(|l| l.len() == 64)
                .map(str::to_string),
        );
    }
    let mut survivor = survivor;
    assert!(survivor.wait().map(|s| s.success()).unwrap_or(false));
    e.append(1);
    let o = e.run(&["verify", "--json"]);
    let v = verify_json(&o);
    assert_eq!(v["ok"], true, "{v}");
    assert!(!reported.is_empty());
    let text = std::fs::read_to_string(&e.log).unwrap_or_default();
    for h in &reported {
        assert!(
            text.contains(&format!("\"hash\":\"{h}\"")),
            "record {h} lost"
        );
    }
}

#[test]
fn a_full_disk_is_an_error_with_the_reason() {
    let e = env();
    let o = Command::new(BIN)
        .args([
            "audit",
            "append-test",
            "--audit-file",
            "/dev/full",
            "--host-file",
        ])
        .arg(&e.host)
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("cannot write the audit log /dev/full: No space left on device"),
        "{err}"
    );
}

/// A real filesystem filling up: a 64 KiB tmpfs. Needs root (CI is root); skipped otherwise
/// (under `CI=true`: fails).
#[test]
fn a_tiny_tmpfs_fills_up_then_recovers() {
    if !nix::unistd::geteuid().is_root() {
        support::skip("mounting a tmpfs needs root");
        return;
    }
    let e = env();
    let mnt = e.dir.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap_or_else(|err| panic!("{err}"));
    let m = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "prodguard-test"])
        .arg(&mnt)
        .status();
    if !m.map(|s| s.success()).unwrap_or(false) {
        support::skip("cannot mount a tmpfs here");
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _guard = Unmount(mnt.clone());
    let log = mnt.join("audit.jsonl");
    let run = |n: &str| {
        Command::new(BIN)
            .args(["audit", "append-test", "--count", n, "--audit-file"])
            .arg(&log)
            .arg("--host-file")
            .arg(&e.host)
            .output()
            .unwrap_or_else(|err| panic!("{err}"))
    };
    let o = run("100000");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!(
            "cannot write the audit log {}: No space left on device",
            log.display()
        )),
        "{err}"
    );
    // Free space by moving the log away (a rotation), keep it, and go on.
    let rotated = e.dir.path().join("audit.jsonl.1");
    std::fs::copy(&log, &rotated).unwrap_or_else(|err| panic!("{err}"));
    std::fs::remove_file(&log).unwrap_or_else(|err| panic!("{err}"));
    let (code, out) = e.verify_file(&rotated);
    assert!(code == 0 || out.contains("torn"), "{out}");
}

fn strip_syslog_header(msg: &str) -> &str {
    // <86>Nov 23 18:04:05 prodguard[123]: {json}
    let at = msg.find("]: ").unwrap_or_else(|| panic!("no tag in {msg}"));
    &msg[at + 3..]
}

#[test]
fn syslog_receives_each_record_intact_over_a_unix_socket() {
    let base = tempfile::tempdir().unwrap_or_else(|err| panic!("{err}"));
    let sock = base.path().join("log.sock");
    let rx = std::os::unix::net::UnixDatagram::bind(&sock).unwrap_or_else(|err| panic!("{err}"));
    rx.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .ok();
    let e = env_in(None, &format!("unix:{}", sock.display()));
    e.append(5);
    let lines = e.lines();
    assert_eq!(lines.len(), 5);
    for line in &lines {
        let mut buf = vec![0u8; 65536];
        let n = rx
            .recv(&mut buf)
            .unwrap_or_else(|err| panic!("recv: {err}"));
        let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
        assert!(msg.starts_with("<86>"), "authpriv.info: {msg}");
        assert_eq!(strip_syslog_header(&msg), line);
        let v: serde_json::Value =
            serde_json::from_str(strip_syslog_header(&msg)).unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(v["host"], "db1.example.com");
    }
}

#[test]
fn syslog_over_udp_and_a_failing_file_is_recorded_there() {
    let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap_or_else(|err| panic!("{err}"));
    rx.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .ok();
    let port = rx.local_addr().map(|a| a.port()).unwrap_or(0);
    let e = env_in(None, &format!("udp:127.0.0.1:{port}"));
    e.append(1);
    let mut buf = vec![0u8; 65536];
    let n = rx
        .recv(&mut buf)
        .unwrap_or_else(|err| panic!("recv: {err}"));
    let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(
        msg.contains(" db1.example.com prodguard["),
        "network syslog names the host: {msg}"
    );
    assert_eq!(strip_syslog_header(&msg), e.lines()[0]);

    // The file fails: the record still reaches syslog, after a note saying why.
    let o = Command::new(BIN)
        .args([
            "audit",
            "append-test",
            "--command",
            "ls /",
            "--audit-file",
            "/dev/full",
            "--host-file",
        ])
        .arg(&e.host)
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert!(
        o.status.success(),
        "syslog took it: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut got = Vec::new();
    for _ in 0..2 {
        let n = rx
            .recv(&mut buf)
            .unwrap_or_else(|err| panic!("recv: {err}"));
        let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
        got.push(
            serde_json::from_str::<serde_json::Value>(strip_syslog_header(&msg))
                .unwrap_or_else(|err| panic!("{err}: {msg}")),
        );
    }
    assert_eq!(got[0]["event"], "sink-failure");
    assert!(got[0]["detail"]
        .as_str()
        .unwrap_or("")
        .contains("cannot write the audit log /dev/full: No space left on device"));
    assert_eq!(got[1]["command"], "ls /");
}

#[test]
fn a_failing_syslog_is_recorded_in_the_file() {
    let e = env_in(None, "unix:/nonexistent/prodguard/log.sock");
    let o = e.run(&["append-test", "--command", "uptime"]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains(
        "cannot send the audit record to syslog at unix:/nonexistent/prodguard/log.sock"
    ));
    let lines = e.lines();
    assert_eq!(lines.len(), 2);
    let note: serde_json::Value =
        serde_json::from_str(&lines[1]).unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(note["event"], "sink-failure");
    assert!(note["detail"]
        .as_str()
        .unwrap_or("")
        .contains("No such file or directory"));
    assert_eq!(e.run(&["verify"]).status.code(), Some(0));
}

#[test]
fn no_secret_reaches_the_file_or_syslog() {
    // Every secret contains "S3cr"; nothing with it may be written anywhere.
    const FORMS: &[&str] = &[
        "mysql -uroot -pS3cretA shop",
        "mysqldump --password=S3cretB shop",
        "mongosh --password S3cretC",
        "PGPASSWORD=S3cretD psql -h db1",
        "MYSQL_PWD=S3cretE mysql",
        "DEPLOY_TOKEN=S3cretF APP_SECRET=S3cretG DB_PASSWORD=S3cretH STRIPE_KEY=S3cretI ./deploy",
        "psql postgres://app:S3cretJ@db1/app",
        "mongo mongodb://root:S3cretK@db1:27017/admin",
        "curl -H 'Authorization: Bearer S3cretL' https://api",
        "curl -H 'Authorization: Basic S3cretM' https://api",
        "curl -u admin:S3cretN https://api",
        "aws s3 ls --key AKIAS3CRS3CRS3CRS3CR",
        "aws configure set aws_secret_access_key S3cretO",
        "echo aws_secret_access_key=S3cretP >> ~/.aws/credentials",
        "sshpass -p S3cretQ ssh db2",
        "redis-cli -a S3cretR flushall",
        "redis-cli --pass S3cretS info",
        "git push https://ghp_S3crS3crS3crS3crS3crS3crS3crS3crS3cr@github.com/a/b",
        "glab auth login --hostname x glpat-S3crS3crS3crS3crS3cr",
        "slack-notify xoxb-S3cr-S3crS3crS3cr",
        "slack-notify xoxp-S3cr-S3crS3crS3cr",
        "bash -c 'mysql -pS3cretT -e \"drop database x\"'",
    ];
    let base = tempfile::tempdir().unwrap_or_else(|err| panic!("{err}"));
    let sock = base.path().join("log.sock");
    let rx = std::os::unix::net::UnixDatagram::bind(&sock).unwrap_or_else(|err| panic!("{err}"));
    rx.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .ok();
    let e = env_in(None, &format!("unix:{}", sock.display()));
    for form in FORMS {
        let o = e.run(&["append-test", "--command", form]);
        assert!(o.status.success());
        let mut buf = vec![0u8; 65536];
        let n = rx
            .recv(&mut buf)
            .unwrap_or_else(|err| panic!("recv: {err}"));
        let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
        assert!(
            !msg.contains("S3cr"),
            "syslog got a secret from {form}: {msg}"
        );
        let line = e.lines().pop().unwrap_or_default();
        assert!(
            !line.contains("S3cr"),
            "file got a secret from {form}: {line}"
        );
        assert!(line.contains("\"redacted\":true"), "{line}");
        assert!(line.contains("***"), "{line}");
    }
    let all = std::fs::read_to_string(&e.log).unwrap_or_default();
    assert!(!all.contains("S3cr"));
    assert_eq!(e.lines().len(), FORMS.len());
}

#[test]
fn the_chain_survives_rotation() {
    let e = env();
    e.append(5);
    std::fs::rename(&e.log, e.dir.path().join("audit.jsonl.1"))
        .unwrap_or_else(|err| panic!("{err}"));
    e.append(4);
    let o = e.run(&["verify", "--json"]);
    let v = verify_json(&o);
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["records"], 9);
    assert_eq!(v["files"].as_array().map(Vec::len), Some(2));
    // The new file alone: intact, and says it continues an earlier chain.
    let (code, out) = e.verify_file(&e.log);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("continues from an earlier file"), "{out}");
    // Out of order: a broken link at the first line of the second file given.
    let o = Command::new(BIN)
        .args(["audit", "verify"])
        .arg(&e.log)
        .arg(e.dir.path().join("audit.jsonl.1"))
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("audit.jsonl.1:1: broken link"));
}

#[test]
fn search_stats_and_tail() {
    let e = env();
    e.append(3);
    let o = e.run(&["append-test", "--command", "rm -rf /var/lib/postgresql"]);
    assert!(o.status.success());
    let o = e.run(&[
        "search",
        "--json",
        "--grep",
        "^rm -rf",
        "--since",
        "2000-01-01",
    ]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(out.lines().count(), 1);
    assert_eq!(out.lines().next(), e.lines().last().map(String::as_str));
    let o = e.run(&["search", "--until", "2000-01-01"]);
    assert_eq!(o.status.code(), Some(1), "nothing matched");
    let o = e.run(&["search", "--since", "yesterday"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--since yesterday: not a time"));
    let o = e.run(&["search", "--outcome", "allowed"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 4);

    let o = e.run(&["stats", "--json"]);
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(v["records"], 4);
    assert_eq!(v["by_outcome"]["allowed"], 4);
    assert_eq!(v["by_host"]["db1.example.com"], 4);
    let o = e.run(&["stats"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("by outcome:"));

    let o = e.run(&["tail", "-n", "2", "--json"]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(out.lines().collect::<Vec<_>>(), e.lines()[2..].to_vec());
    let o = e.run(&["tail", "-n", "1"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("db1.example.com"));

    // `tail -f` prints records appended later.
    let mut child = e
        .cmd(&["tail", "-f", "-n", "0", "--json"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("{err}"));
    std::thread::sleep(std::time::Duration::from_millis(300));
    e.append(1);
    std::thread::sleep(std::time::Duration::from_millis(800));
    let _ = child.kill();
    let o = child
        .wait_with_output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 1);
}

#[test]
fn records_carry_identity_and_utc_time() {
    let e = env();
    let o = e
        .cmd(&["append-test"])
        .env("PRODGUARD_SESSION", "sess-42")
        .env("SSH_CONNECTION", "10.1.2.3 50000 10.0.0.1 22")
        .output()
        .unwrap_or_else(|err| panic!("{err}"));
    assert!(o.status.success());
    let v: serde_json::Value =
        serde_json::from_str(&e.lines()[0]).unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(v["v"], 1);
    assert_eq!(v["session"], "sess-42");
    assert_eq!(v["ssh_client"], "10.1.2.3:50000");
    assert_eq!(v["environment"], "production");
    assert_eq!(v["role"], "db-primary");
    assert_eq!(v["uid"], nix::unistd::getuid().as_raw());
    let t = v["time"].as_str().unwrap_or("");
    assert_eq!(t.len(), 24, "{t}");
    assert!(t.ends_with('Z') && t.as_bytes()[19] == b'.', "{t}");
    assert_eq!(v["prev"], "0".repeat(64));
    let _ = std::io::stderr().flush();
}

/// tests/data/secret-forms.txt: one command line per line, `⏎` for a newline.
fn secret_forms() -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/secret-forms.txt");
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("secret-forms.txt: {e}"))
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l.replace('⏎', "\n"))
        .collect()
}

#[test]
fn secret_forms_checked_for_real_never_reach_the_file_or_syslog() {
    // Every secret in the forms contains "wq7" (any case); nothing else does.
    let forms = secret_forms();
    assert!(forms.len() >= 100, "{} forms", forms.len());
    let base = tempfile::tempdir().unwrap_or_else(|err| panic!("{err}"));
    let sock = base.path().join("log.sock");
    let rx = std::os::unix::net::UnixDatagram::bind(&sock).unwrap_or_else(|err| panic!("{err}"));
    let e = env_in(None, &format!("unix:{}", sock.display()));
    let policies = tempfile::tempdir().unwrap_or_else(|err| panic!("{err}"));
    let mut leaks = Vec::new();
    let mut records = 0;
    for form in &forms {
        let before = e.lines().len();
        let o = Command::new(BIN)
            .arg("--audit-file")
            .arg(&e.log)
            .arg("--host-file")
            .arg(&e.host)
            .arg("--policy-dir")
            .arg(policies.path())
            .args(["check", form])
            .env_remove("PRODGUARD_SESSION")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|err| panic!("run check: {err}"));
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{form}: {:?} {}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        );
        // Every datagram this check sent.
        let mut msgs = Vec::new();
        rx.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .ok();
        let mut buf = vec![0u8; 65536];
        while let Ok(n) = rx.recv(&mut buf) {
            msgs.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            rx.set_read_timeout(Some(std::time::Duration::from_millis(100)))
                .ok();
        }
        let lines = e.lines();
        let new = &lines[before..];
        assert!(!new.is_empty(), "{form}: no record written");
        assert!(!msgs.is_empty(), "{form}: nothing sent to syslog");
        records += new.len();
        for text in new.iter().chain(msgs.iter()) {
            if text.to_ascii_lowercase().contains("wq7") {
                leaks.push(format!("{form}\n    {text}"));
            }
        }
        let rec: serde_json::Value =
            serde_json::from_str(&new[new.len() - 1]).unwrap_or_else(|err| panic!("{form}: {err}"));
        assert_eq!(rec["redacted"], true, "{form}: {rec}");
        assert!(
            rec["redactions"].as_array().is_some_and(|k| !k.is_empty()),
            "{form}: {rec}"
        );
        assert!(
            rec["command"].as_str().is_some_and(|c| c.contains("***")),
            "{form}: {rec}"
        );
    }
    assert!(
        leaks.is_empty(),
        "{} leaks:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
    let all = std::fs::read_to_string(&e.log).unwrap_or_default();
    assert!(!all.to_ascii_lowercase().contains("wq7"));
    assert!(records >= forms.len());
    // The redacted records still chain and verify.
    assert_eq!(e.run(&["verify"]).status.code(), Some(0));
}
