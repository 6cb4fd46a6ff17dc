//! What the end-to-end tests share: the binary, host descriptions, golden files, a run without a
//! terminal, and a run on a pseudo-terminal that is the child's controlling terminal.
#![allow(dead_code)]

use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::pty::openpty;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_prodguard"))
}

/// `db1`, the PostgreSQL primary of the GitLab incident, recording to no syslog.
pub const DB1: &str = r#"hostname = "db1.example.com"
environment = "production"
role = "db-primary"
fleet = [{ name = "db2.example.com", role = "db-replica" }]
[audit]
syslog = "none"
"#;

/// `db2`, the replica.
pub const DB2: &str = r#"hostname = "db2.example.com"
environment = "production"
role = "db-replica"
fleet = [{ name = "db1.example.com", role = "db-primary" }]
[audit]
syslog = "none"
"#;

/// A site pack that makes a harmless command ask: `exit` (as in `sh -c '…; exit 5'`) needs the
/// host name typed. Lets the tests run what they confirm without deleting anything.
pub const ASKING_PACK: &str = r#"[pack]
name = "e2e"
description = "Makes `exit` ask for the host name, so that tests can confirm a harmless command"

[[rule]]
id = "site.e2e-exit"
severity = "high"
action = "confirm"
confirm = "hostname"
match = { program = ["exit"] }
message = "Test rule: exit on {host} ({role})."
why = "Lets the end-to-end tests confirm a command that harms nothing."
"#;

/// A temporary world for one test: host.toml, a policy directory (empty, or with the packs
/// given) and an audit log, all under one temp dir.
pub struct World {
    pub dir: tempfile::TempDir,
    pub host_file: PathBuf,
    pub policy_dir: PathBuf,
    pub audit_file: PathBuf,
    /// `XDG_RUNTIME_DIR` of the runs: where `prodguard intent` keeps the declaration.
    pub runtime_dir: PathBuf,
}

impl World {
    pub fn new(host_toml: &str) -> World {
        World::with_packs(host_toml, &[])
    }

    pub fn with_packs(host_toml: &str, packs: &[&str]) -> World {
        let dir = tempfile::tempdir().expect("temp dir");
        let host_file = dir.path().join("host.toml");
        std::fs::write(&host_file, host_toml).expect("write host.toml");
        let policy_dir = dir.path().join("policies.d");
        std::fs::create_dir(&policy_dir).expect("policy dir");
        for (i, pack) in packs.iter().enumerate() {
            std::fs::write(policy_dir.join(format!("{i:02}-e2e.toml")), pack).expect("pack");
        }
        let audit_file = dir.path().join("audit.jsonl");
        let runtime_dir = dir.path().join("run");
        std::fs::create_dir(&runtime_dir).expect("runtime dir");
        World {
            dir,
            host_file,
            policy_dir,
            audit_file,
            runtime_dir,
        }
    }

    /// The options every run takes, so nothing of the machine's own /etc/prodguard is used.
    pub fn global_args(&self) -> Vec<String> {
        vec![
            "--host-file".into(),
            self.host_file.display().to_string(),
            "--policy-dir".into(),
            self.policy_dir.display().to_string(),
            "--audit-file".into(),
            self.audit_file.display().to_string(),
        ]
    }

    /// `prodguard GLOBAL ARGS…` as a command, not yet started.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin());
        cmd.args(self.global_args()).args(args);
        // Every run of one world is one login session with its own runtime dir, so an intent
        // declared by one test is seen by that test's later runs and by no other test.
        cmd.env_remove("NO_COLOR")
            .env("XDG_RUNTIME_DIR", &self.runtime_dir)
            .env("PRODGUARD_SESSION", "e2e");
        cmd
    }

    /// Run with no terminal at all: a new session (so /dev/tty cannot be opened), stdin
    /// `/dev/null`.
    pub fn run_detached(&self, args: &[&str]) -> Output {
        let mut cmd = self.command(args);
        cmd.stdin(Stdio::null());
        detach(&mut cmd);
        cmd.output().expect("run prodguard")
    }

    /// The audit records written so far.
    pub fn records(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.audit_file)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("audit record is JSON"))
            .collect()
    }
}

/// Start `cmd` in a new session with no controlling terminal.
pub fn detach(cmd: &mut Command) {
    // SAFETY: setsid is async-signal-safe and touches no memory of the parent.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Compare `actual` with `tests/golden/NAME`; `PRODGUARD_BLESS=1` rewrites the file instead.
pub fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("PRODGUARD_BLESS").is_some() {
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with PRODGUARD_BLESS=1 to create it)",
            path.display()
        )
    });
    assert_eq!(actual, expected, "output differs from {}", path.display());
}

/// What the child's stdin is.
pub enum Stdin {
    /// The terminal, like an interactive command.
    Tty,
    /// A pipe carrying these bytes, then closed.
    Pipe(Vec<u8>),
}

/// prodguard running as the session leader of a new session whose controlling terminal is a pty
/// we hold the master of. stdout and stderr are pipes, so what the question shows on the
/// terminal and what the program prints are kept apart.
pub struct Pty {
    master: File,
    child: Child,
    screen: Vec<u8>,
    stdout: Option<JoinHandle<Vec<u8>>>,
    stderr: Option<JoinHandle<Vec<u8>>>,
}

/// How a pty run ended.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// Everything written to the terminal, `\r\n` turned into `\n`.
    pub screen: String,
}

fn cloexec(fd: &OwnedFd) {
    fcntl(fd.as_raw_fd(), FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).expect("FD_CLOEXEC");
}

fn drain(mut r: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = r.read_to_end(&mut v);
        v
    })
}

impl Pty {
    /// Start `cmd` on a fresh terminal of 24×80, as a person's would be.
    pub fn spawn(cmd: Command, stdin: Stdin) -> Pty {
        Pty::spawn_sized(cmd, stdin, 24, 80)
    }

    /// Start `cmd` on a fresh terminal of `rows`×`cols` (0×0: what `ssh -tt` makes for a
    /// script).
    pub fn spawn_sized(mut cmd: Command, stdin: Stdin, rows: u16, cols: u16) -> Pty {
        let size = nix::pty::Winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = openpty(Some(&size), None).expect("openpty");
        cloexec(&pty.master);
        cloexec(&pty.slave);
        let master = File::from(pty.master);
        let slave_fd = pty.slave.as_raw_fd();
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        match stdin {
            Stdin::Tty => cmd.stdin(Stdio::from(pty.slave.try_clone().expect("dup slave"))),
            Stdin::Pipe(_) => cmd.stdin(Stdio::piped()),
        };
        // SAFETY: the closure runs in the forked child before exec and calls only setsid and
        // ioctl, which are async-signal-safe; `slave_fd` stays open in the child until exec.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::ioctl(slave_fd, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().expect("spawn prodguard");
        drop(pty.slave);
        if let Stdin::Pipe(data) = stdin {
            let mut pipe = child.stdin.take().expect("stdin pipe");
            std::thread::spawn(move || {
                let _ = pipe.write_all(&data);
            });
        }
        let stdout = child.stdout.take().map(drain);
        let stderr = child.stderr.take().map(drain);
        Pty {
            master,
            child,
            screen: Vec::new(),
            stdout,
            stderr,
        }
    }

    /// What the terminal has shown so far, line ends (`\r\n`, and `\r\r\n` from an echoed
    /// `\r\n` through the terminal's output processing) turned into `\n`.
    pub fn screen(&self) -> String {
        text(&self.screen)
            .replace("\r\r\n", "\n")
            .replace("\r\n", "\n")
    }

    /// Read the terminal until it shows `needle`.
    pub fn expect(&mut self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.screen().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "never saw {needle:?}; screen:\n{}",
                self.screen()
            );
            if !self.pump(Duration::from_millis(50)) {
                if let Ok(Some(status)) = self.child.try_wait() {
                    self.pump(Duration::from_millis(50));
                    assert!(
                        self.screen().contains(needle),
                        "exited ({status}) before showing {needle:?}; screen:\n{}",
                        self.screen()
                    );
                }
            }
        }
    }

    /// Read what is there within `wait`; false when nothing was.
    fn pump(&mut self, wait: Duration) -> bool {
        let ms = u16::try_from(wait.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(self.master.as_fd(), PollFlags::POLLIN)];
        if poll(&mut fds, PollTimeout::from(ms)).unwrap_or(0) > 0 {
            let mut buf = [0u8; 4096];
            // After the last holder of the slave closes, Linux reports EIO here.
            if let Ok(n) = self.master.read(&mut buf) {
                self.screen.extend_from_slice(&buf[..n]);
                return n > 0;
            }
            std::thread::sleep(wait);
        }
        false
    }

    /// Type `bytes`.
    pub fn send(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).expect("type on the terminal");
    }

    /// Wait for prodguard (or what it exec'd) to end.
    pub fn finish(mut self) -> Finished {
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            self.pump(Duration::from_millis(20));
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("still running; screen:\n{}", self.screen());
            }
        };
        while self.pump(Duration::from_millis(20)) {}
        let join = |h: Option<JoinHandle<Vec<u8>>>| {
            text(&h.map(|h| h.join().expect("reader")).unwrap_or_default())
        };
        Finished {
            status,
            stdout: join(self.stdout.take()),
            stderr: join(self.stderr.take()),
            screen: self.screen(),
        }
    }
}
