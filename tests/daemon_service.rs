//! The audit service for real: `prodguard daemon` started by the test on a temporary socket and
//! state directory (no systemd), real `prodguard` clients, `kill -9` of clients and of the
//! service, a stopped client, a full disk (a small tmpfs, as root), and an unprivileged user
//! trying to read, write and forge.
//!
//! Record counts are scaled to keep each test well under a minute on a shared machine:
//! `PRODGUARD_DAEMON_RECORDS` (default 1000 per client) sets the count per client of the
//! concurrency test; the full 8 × 10,000 figure is run the same way with the variable set.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[path = "support/daemon.rs"]
mod daemon;
#[allow(dead_code)]
#[path = "support/pty.rs"]
mod pty;
mod support;
#[path = "support/users.rs"]
mod users;

const BIN: &str = env!("CARGO_BIN_EXE_prodguard");

/// A service running on a temp dir, killed on drop.
struct Service {
    dir: tempfile::TempDir,
    log: Option<PathBuf>,
    daemon: Option<daemon::Daemon>,
}

impl Service {
    fn host_file(&self) -> PathBuf {
        self.dir.path().join("host.toml")
    }
    fn socket(&self) -> PathBuf {
        self.dir.path().join("run/audit.sock")
    }
    fn log(&self) -> PathBuf {
        self.log
            .clone()
            .unwrap_or_else(|| self.dir.path().join("log/audit.jsonl"))
    }

    fn new(environment: &str) -> Service {
        Service::with_log(environment, None)
    }

    /// A service whose log is `log` instead of one in its temp dir.
    fn with_log(environment: &str, log: Option<PathBuf>) -> Service {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let mut s = Service {
            dir,
            log: log.clone(),
            daemon: None,
        };
        let host = format!(
            "hostname = \"db1.example.com\"\nenvironment = \"{environment}\"\n[audit]\nsyslog = \"none\"\nsocket = \"{}\"\nfile = \"{}\"\n",
            s.socket().display(),
            s.log().display()
        );
        std::fs::write(s.host_file(), host).unwrap_or_else(|e| panic!("{e}"));
        s.start();
        s
    }

    fn start(&mut self) {
        self.daemon = Some(daemon::Daemon::start(
            Path::new(BIN),
            &self.host_file(),
            &self.socket(),
            &self.dir.path().join("state"),
        ));
    }

    fn kill(&mut self) {
        self.daemon = None;
    }

    /// A client: `prodguard audit append-test`, printing the hash of every record the service
    /// confirmed.
    fn client(&self, count: u64, name: &str) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--host-file")
            .arg(self.host_file())
            .args(["audit", "append-test", "--print-hashes", "--count"])
            .arg(count.to_string())
            .args(["--command", name])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    /// `count` records by one client that must succeed; the hashes it was given.
    fn write_ok(&self, count: u64, name: &str) -> Vec<String> {
        let out = self
            .client(count, name)
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn lines(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.log())
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    fn verify(&self) -> (bool, String) {
        let out = Command::new(BIN)
            .args(["audit", "verify"])
            .arg(self.log())
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        self.kill();
    }
}

fn records_per_client() -> u64 {
    std::env::var("PRODGUARD_DAEMON_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

/// A small deterministic generator, so a failing run can be repeated.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn eight_clients_with_kills_of_clients_and_service_lose_nothing() {
    let mut svc = Service::new("development");
    let n = records_per_client();
    let started = Instant::now();
    let mut clients: Vec<Child> = (0..8)
        .map(|i| {
            svc.client(n, &format!("client-{i}"))
                .spawn()
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    let readers: Vec<_> = clients
        .iter_mut()
        .map(|c| {
            let out = c.stdout.take().unwrap_or_else(|| panic!("stdout"));
            std::thread::spawn(move || {
                BufReader::new(out)
                    .lines()
                    .map_while(Result::ok)
                    .collect::<Vec<String>>()
            })
        })
        .collect();
    // While they write: victims killed at random points, and the service killed and restarted.
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut victim_hashes = Vec::new();
    let mut service_kills = 0;
    let mut victims = 0;
    while clients
        .iter_mut()
        .any(|c| c.try_wait().ok().flatten().is_none())
    {
        let mut v = svc
            .client(1_000_000, "victim")
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        std::thread::sleep(Duration::from_millis(20 + rng.below(80)));
        let _ = v.kill();
        let out = v.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
        victim_hashes.extend(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_string),
        );
        victims += 1;
        if rng.below(4) == 0 && service_kills < 6 {
            svc.kill();
            svc.start();
            service_kills += 1;
        }
    }
    let mut acked = victim_hashes;
    for (i, (c, r)) in clients.into_iter().zip(readers).enumerate() {
        let out = c.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
        let hashes = r.join().unwrap_or_default();
        assert!(
            out.status.success(),
            "client {i} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            hashes.len() as u64,
            n,
            "client {i} got every record confirmed"
        );
        acked.extend(hashes);
    }
    let elapsed = started.elapsed();
    let lines = svc.lines();
    let in_log: std::collections::HashSet<&str> =
        lines.iter().filter_map(|l| l["hash"].as_str()).collect();
    let lost = acked
        .iter()
        .filter(|h| !in_log.contains(h.as_str()))
        .count();
    eprintln!(
        "{} confirmed records (8 × {n} + victims), {victims} clients killed, {service_kills} service kills, {} lines, {:.1}s",
        acked.len(),
        lines.len(),
        elapsed.as_secs_f64()
    );
    assert!(service_kills > 0 || n < 200, "the service was never killed");
    assert_eq!(lost, 0, "confirmed records missing from the log");
    let (ok, report) = svc.verify();
    assert!(ok, "the chain does not verify: {report}");
    // The service, not the client, wrote the identity: uid and pid of the client process.
    // Each client is the first to name its session, so the service confirms it, across
    // restarts too (a restarted service meets the same live process again).
    let me = nix::unistd::getuid().as_raw();
    let unconfirmed: Vec<_> = lines
        .iter()
        .filter(|l| l["event"] == "test")
        .filter(|l| {
            l["uid"] != me
                || l["pid"].as_u64().is_none_or(|p| p <= 1)
                || l["advisory"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|f| f == "session"))
        })
        .collect();
    assert!(unconfirmed.is_empty(), "{:?}", unconfirmed.first());
}

#[test]
fn a_stopped_client_does_not_delay_another() {
    let svc = Service::new("development");
    // A real client stopped (SIGSTOP) in the middle of writing.
    let mut stopped = svc
        .client(1_000_000, "stopped")
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let mut out = stopped.stdout.take().unwrap_or_else(|| panic!("stdout"));
    let mut first = [0u8; 65];
    std::io::Read::read_exact(&mut out, &mut first).unwrap_or_else(|e| panic!("{e}"));
    let pid = nix::unistd::Pid::from_raw(i32::try_from(stopped.id()).unwrap_or(0));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP)
        .unwrap_or_else(|e| panic!("{e}"));
    // A hostile one: half a request, then silence, holding its connection.
    let mut half =
        std::os::unix::net::UnixStream::connect(svc.socket()).unwrap_or_else(|e| panic!("{e}"));
    half.write_all(b"{\"op\":\"append\",\"sync\":true,\"record\":{\"v\":1,")
        .unwrap_or_else(|e| panic!("{e}"));
    // And one that floods a request past the size cap.
    let mut big =
        std::os::unix::net::UnixStream::connect(svc.socket()).unwrap_or_else(|e| panic!("{e}"));
    let _ = big.write_all(&vec![b'x'; 2 * 1024 * 1024]);

    let t = Instant::now();
    let other = svc
        .client(50, "other")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let took = t.elapsed();
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
    let _ = stopped.wait();
    assert!(
        other.status.success(),
        "{}",
        String::from_utf8_lossy(&other.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&other.stdout).lines().count(), 50);
    // The socket timeouts are 2 s (connect) and 10 s (reply); another client waits for neither.
    assert!(
        took < Duration::from_secs(2),
        "50 records took {took:?} while a client was stopped"
    );
    let (ok, report) = svc.verify();
    assert!(ok, "{report}");
}

/// A tmpfs of `size` mounted on a directory of its own, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Tmpfs {
        let dir = tempfile::Builder::new()
            .prefix("prodguard-full-")
            .tempdir()
            .unwrap_or_else(|e| panic!("tempdir: {e}"));
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size={size},mode=0700"))
            .arg("prodguard-test")
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "mount -t tmpfs on {}", dir.path().display());
        Tmpfs { dir }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[test]
fn a_full_disk_refuses_through_the_service_loses_nothing_confirmed_and_recovers() {
    if !nix::unistd::geteuid().is_root() {
        support::skip("mounting a small tmpfs needs root");
        return;
    }
    if !have("/usr/bin/mount") && !have("/bin/mount") {
        support::skip("mount is not installed");
        return;
    }
    let fs = Tmpfs::mount("1m");
    let logdir = fs.dir.path().join("log");
    std::fs::create_dir(&logdir).unwrap_or_else(|e| panic!("{e}"));
    // Most of the space taken by a file that is removed later, to free it.
    let filler = fs.dir.path().join("filler");
    std::fs::write(&filler, vec![0u8; 896 * 1024]).unwrap_or_else(|e| panic!("{e}"));
    let mut svc = Service::with_log("production", Some(logdir.join("audit.jsonl")));
    // Clients write until the disk is full: each must stop with the reason, not hang or
    // claim records that were not written.
    let mut acked = Vec::new();
    let mut refused = 0;
    for i in 0..4 {
        let out = svc
            .client(1_000_000, &format!("filler-{i}"))
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        acked.extend(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_string),
        );
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !out.status.success(),
            "client {i} wrote forever on a full disk"
        );
        assert!(err.contains("No space left on device"), "{err}");
        refused += 1;
    }
    // The service's pre-check says the log cannot be written, and why.
    assert_eq!(service_state(&svc).0, "error");
    let detail = service_state(&svc).1;
    assert!(
        detail.contains("fails now") && detail.contains("No space left on device"),
        "{detail}"
    );
    // At a terminal, a command that needs a record is refused with that reason before the
    // question: nothing is typed, and the guard ends on its own.
    let t = Instant::now();
    let asked = pty::Pty::with(
        guard_command(&svc, &["check", "rm", "-rf", "/var/lib/postgresql/15/main"]),
        pty::Options::stderr_on_tty(),
    )
    .finish();
    let screen = asked.screen;
    assert_eq!(asked.status.code(), Some(1), "{screen}");
    assert!(
        !screen.contains("type the name of this host") && !screen.contains("host name:"),
        "asked before refusing: {screen}"
    );
    assert!(
        screen.contains("the audit log cannot be written")
            && screen.contains("fails now")
            && screen.contains("No space left on device"),
        "{screen}"
    );
    let refused_in = t.elapsed();
    // Without a terminal, the same refusal, from the same pre-check.
    let out = check_risky(&svc);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("refused:"), "{err}");
    assert!(
        err.contains("the audit log cannot be written")
            && err.contains("fails now")
            && err.contains("No space left on device"),
        "{err}"
    );
    // A command allowed without a question still runs (and its record is lost, said so).
    let out = run_guard(&svc, &["--", "true"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let in_log = |svc: &Service| -> std::collections::HashSet<String> {
        let text = std::fs::read(svc.log()).unwrap_or_default();
        String::from_utf8_lossy(&text)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|l| l["hash"].as_str().map(str::to_string))
            .collect()
    };
    let written = in_log(&svc);
    let lost = acked.iter().filter(|h| !written.contains(*h)).count();
    assert_eq!(lost, 0, "confirmed records missing from the full log");
    // Space freed: the pre-check passes again (its test write succeeds), the same service
    // writes again, and the chain, damage acknowledged, verifies.
    std::fs::remove_file(&filler).unwrap_or_else(|e| panic!("{e}"));
    std::thread::sleep(Duration::from_millis(600));
    let (state, detail) = service_state(&svc);
    assert_eq!(state, "ok", "{detail}");
    let after = svc.write_ok(20, "after");
    assert_eq!(after.len(), 20);
    // And after a restart too.
    svc.kill();
    svc.start();
    let out = run_guard(&svc, &["--", "true"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = in_log(&svc);
    let lost = acked
        .iter()
        .chain(&after)
        .filter(|h| !written.contains(*h))
        .count();
    assert_eq!(lost, 0, "confirmed records missing after recovery");
    let (ok, report) = svc.verify();
    assert!(ok, "the chain does not verify: {report}");
    eprintln!(
        "{} records confirmed before the disk was full, {refused} clients refused, {} after; a recorded command at a terminal refused in {refused_in:?} with no question",
        acked.len(),
        after.len()
    );
}

/// `prodguard status --json`'s word on the audit service: its state and detail.
fn service_state(svc: &Service) -> (String, String) {
    let status = run_guard(svc, &["status", "--json"]);
    let text = String::from_utf8_lossy(&status.stdout).into_owned();
    let v: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let s = &v["audit"]["service"];
    (
        s["state"].as_str().unwrap_or_default().to_string(),
        s["detail"].as_str().unwrap_or_default().to_string(),
    )
}

/// A command that needs a recorded decision, checked with no question asked.
fn check_risky(svc: &Service) -> std::process::Output {
    run_guard(
        svc,
        &[
            "check",
            "--no-ask",
            "--",
            "rm",
            "-rf",
            "/var/lib/postgresql/15/main",
        ],
    )
}

fn guard_command(svc: &Service, args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--host-file").arg(svc.host_file()).args(args);
    c
}

fn run_guard(svc: &Service, args: &[&str]) -> std::process::Output {
    guard_command(svc, args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn with_the_service_down_safe_commands_run_and_recorded_ones_are_refused() {
    let mut svc = Service::new("production");
    // A decision recorded through the service while it is up.
    let out = run_guard(&svc, &["--", "true"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(svc
        .lines()
        .iter()
        .any(|l| l["command"] == "true" && l["event"] == "command"));
    svc.kill();
    // The socket file stays (as with a stopped service behind a systemd socket): nobody listens.
    assert!(svc.socket().exists());
    let t = Instant::now();
    let out = run_guard(&svc, &["--", "true"]);
    assert!(out.status.success(), "a safe command still runs");
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "and does not wait for the service"
    );
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(err.contains("audit service"), "{err}");

    let out = check_risky(&svc);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(err.contains("audit service"), "{err}");
    assert!(err.contains("systemctl start prodguard.socket"), "{err}");
    assert!(err.contains(&svc.socket().display().to_string()), "{err}");

    let status = run_guard(&svc, &["status", "--json"]);
    let text = String::from_utf8_lossy(&status.stdout).into_owned();
    let v: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(v["audit"]["service"]["state"], "error", "{text}");
    svc.start();
    let status = run_guard(&svc, &["status", "--json"]);
    let text = String::from_utf8_lossy(&status.stdout).into_owned();
    let v: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(v["audit"]["service"]["state"], "ok", "{text}");
}

fn have(tool: &str) -> bool {
    Path::new(tool).exists()
}

#[test]
fn an_unprivileged_user_can_neither_read_nor_write_the_log_nor_forge_identity() {
    if !nix::unistd::geteuid().is_root() {
        support::skip("creating a test user needs root");
        return;
    }
    for tool in ["/usr/sbin/useradd", "/usr/bin/python3"] {
        if !have(tool) {
            support::skip(&format!("{tool} is not installed"));
            return;
        }
    }
    let user = users::TempUser::create("pgd");
    let (uid, gid) = (user.uid, user.gid);

    let svc = Service::new("production");
    // The socket's directory and the host file must be reachable, as /run/prodguard is.
    use std::os::unix::fs::PermissionsExt;
    for p in [svc.dir.path(), &svc.dir.path().join("run")] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::set_permissions(svc.host_file(), std::fs::Permissions::from_mode(0o644))
        .unwrap_or_else(|e| panic!("{e}"));
    let as_user = |program: &str| {
        let mut c = Command::new(program);
        c.uid(uid).gid(gid).stdin(Stdio::null()).current_dir("/");
        c
    };
    // A record of the user's own, through the service, so the log exists with content.
    let out = as_user(BIN)
        .arg("--host-file")
        .arg(svc.host_file())
        .args(["--", "true"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The layout: root-owned, not world-readable.
    use std::os::unix::fs::MetadataExt;
    let log_meta = std::fs::metadata(svc.log()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(log_meta.uid(), 0);
    assert_eq!(log_meta.mode() & 0o777, 0o640);
    let dir_meta = std::fs::metadata(svc.log().parent().unwrap_or(Path::new("/")))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(dir_meta.mode() & 0o7777, 0o2750);

    // Neither read nor write, directly.
    let log = svc.log().display().to_string();
    for script in [format!("cat '{log}'"), format!("echo forged >> '{log}'")] {
        let st = as_user("/bin/sh")
            .args(["-c", &script])
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!st.status.success(), "as {}: {script} succeeded", user.name);
    }
    // Nor through the prodguard reader commands.
    let out = as_user(BIN)
        .arg("--host-file")
        .arg(svc.host_file())
        .args(["audit", "tail", "-n", "5"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!out.status.success());

    // Forge: a raw request claiming to be root, pid 1, from another address and terminal; and
    // a record kind only the service writes.
    let forged = serde_json::json!({
        "op": "append", "sync": true,
        "record": {"v":1,"time":"2000-01-01T00:00:00.000Z","event":"command","host":"elsewhere",
            "environment":"development","session":"s","pid":1,"user":"root","uid":0,
            "ssh_client":"203.0.113.9:22","tty":"/dev/pts/77","command":"forged by a user",
            "prev":"","hash":""}
    });
    let mut torn = forged.clone();
    torn["record"]["event"] = "torn-tail".into();
    let py = "import socket,sys\ns=socket.socket(socket.AF_UNIX)\ns.connect(sys.argv[1])\nfor r in sys.argv[2:]:\n  s.sendall(r.encode()+b'\\n')\n  print(s.makefile().readline().strip())\n";
    let out = as_user("/usr/bin/python3")
        .args(["-c", py])
        .arg(svc.socket())
        .arg(forged.to_string())
        .arg(torn.to_string())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let replies = String::from_utf8_lossy(&out.stdout).into_owned();
    let replies: Vec<serde_json::Value> = replies
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(replies.len(), 2, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(replies[0]["ok"], true, "{:?}", replies[0]);
    assert_eq!(replies[1]["ok"], false, "{:?}", replies[1]);
    let lines = svc.lines();
    let rec = lines
        .iter()
        .find(|l| l["command"] == "forged by a user")
        .unwrap_or_else(|| panic!("the record is in the log"));
    assert_eq!(rec["uid"], uid);
    assert_eq!(rec["user"], user.name);
    assert_ne!(rec["pid"], 1);
    assert_eq!(rec["host"], "db1.example.com");
    assert_eq!(rec["environment"], "production");
    assert_ne!(rec["time"], "2000-01-01T00:00:00.000Z");
    assert_eq!(rec["tty"], "/dev/pts/77", "kept as sent, but marked");
    let advisory: Vec<&str> = rec["advisory"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default();
    assert!(
        advisory.contains(&"ssh_client") && advisory.contains(&"tty"),
        "{advisory:?}"
    );
    assert!(!lines.iter().any(|l| l["event"] == "torn-tail"));
    let (ok, report) = svc.verify();
    assert!(ok, "{report}");
}

/// An edit of host.toml on a running host (`dpkg -i`, then the environment and role written) is
/// in the next record the service stamps, as it is in the next decision, without a restart.
#[test]
fn the_service_stamps_records_with_host_toml_as_it_is_now() {
    let svc = Service::new("staging");
    svc.write_ok(1, "before the edit");
    let host = std::fs::read_to_string(svc.host_file()).unwrap_or_else(|e| panic!("{e}"));
    let edited = host.replace(
        "environment = \"staging\"\n",
        "environment = \"production\"\nrole = \"db-primary\"\n",
    );
    assert_ne!(host, edited);
    std::fs::write(svc.host_file(), edited).unwrap_or_else(|e| panic!("{e}"));
    let out = svc
        .client(1, "after the edit")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = svc.lines();
    let find = |cmd: &str| {
        lines
            .iter()
            .find(|l| l["command"] == cmd)
            .unwrap_or_else(|| panic!("no record of {cmd:?}: {lines:#?}"))
            .clone()
    };
    let before = find("before the edit");
    assert_eq!(before["environment"], "staging", "{before:#}");
    let after = find("after the edit");
    assert_eq!(after["environment"], "production", "{after:#}");
    assert_eq!(after["role"], "db-primary", "{after:#}");
    let (ok, report) = svc.verify();
    assert!(ok, "{report}");
}
