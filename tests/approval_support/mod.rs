//! Shared by the approval tests: Unix accounts made for the test and removed on every path, a
//! host with a spool in a temp dir held by its own audit service (`prodguard daemon` on a
//! socket in the temp dir), running prodguard as a given user, and a pseudo-terminal to type the
//! host name on (the approach of tests/prompt_pty.rs).
#![allow(dead_code)]

#[path = "../support/daemon.rs"]
pub mod daemon;

use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::pty::openpty;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_prodguard");

/// Account changes are serialised: useradd and groupadd lock /etc/passwd and /etc/group.
pub static ACCOUNTS: Mutex<()> = Mutex::new(());

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Why this machine cannot run the tests that need real users, if it cannot.
pub fn cannot_run() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("creating users and a root-owned spool needs root".into());
    }
    for tool in ["useradd", "userdel", "groupadd", "groupdel", "setpriv"] {
        if !have(tool) {
            return Some(format!("{tool} is not installed"));
        }
    }
    None
}

/// A test user.
#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

/// Users and groups made for one test, removed on drop.
pub struct Accounts {
    users: Vec<String>,
    groups: Vec<String>,
}

impl Drop for Accounts {
    fn drop(&mut self) {
        for u in &self.users {
            let _ = Command::new("userdel").arg(u).output();
            let _ = Command::new("groupdel").arg(u).output();
        }
        for g in &self.groups {
            let _ = Command::new("groupdel").arg(g).output();
        }
    }
}

fn ok(c: &mut Command) -> bool {
    c.output().map(|o| o.status.success()).unwrap_or(false)
}

/// A name unique to this process and moment.
pub fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() % 100_000)
        .unwrap_or(0);
    format!("{}{nanos}", std::process::id())
}

impl Accounts {
    pub fn new() -> Accounts {
        Accounts {
            users: Vec::new(),
            groups: Vec::new(),
        }
    }

    pub fn group(&mut self, name: &str) -> u32 {
        assert!(ok(Command::new("groupadd").arg(name)), "groupadd {name}");
        self.groups.push(name.to_string());
        nix::unistd::Group::from_name(name)
            .ok()
            .flatten()
            .map(|g| g.gid.as_raw())
            .expect("new group")
    }

    /// A user with its own group, also in `groups`.
    pub fn user(&mut self, name: &str, groups: &[&str]) -> User {
        let mut c = Command::new("useradd");
        c.args(["--no-create-home", "--user-group", "--shell", "/bin/sh"]);
        if !groups.is_empty() {
            c.arg("--groups").arg(groups.join(","));
        }
        assert!(ok(c.arg(name)), "useradd {name}");
        self.users.push(name.to_string());
        let u = nix::unistd::User::from_name(name)
            .ok()
            .flatten()
            .expect("new user");
        User {
            name: name.to_string(),
            uid: u.uid.as_raw(),
            gid: u.gid.as_raw(),
        }
    }
}

/// A host description with a spool held by a running audit service, a policy asking approval
/// for `bump`, an audit log and a `bump` program that appends its argument to `ran.log`.
pub struct Site {
    pub dir: tempfile::TempDir,
    pub spool: PathBuf,
    pub audit: PathBuf,
    pub ran: PathBuf,
    pub service: Option<daemon::Daemon>,
}

pub const POLICY: &str = r#"[[rule]]
id = "test.bump"
severity = "critical"
action = "approve"
match = { program = ["bump"] }
message = "bump needs a second person on {host}."
why = "A test rule."
"#;

impl Site {
    /// The spool is made by the service (root's, mode 0700); `approvers` is the approvers
    /// group, `extra` more `[approvers]` lines of host.toml.
    pub fn new(approvers: &str, extra: &str) -> Site {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let spool = root.join("spool");
        std::fs::create_dir(root.join("pol")).expect("pol");
        std::fs::write(root.join("pol/approve.toml"), POLICY).expect("policy");
        let audit = root.join("audit.jsonl");
        let ran = root.join("ran.log");
        for f in [&audit, &ran] {
            std::fs::write(f, "").expect("create");
            std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o666)).expect("chmod");
        }
        std::fs::create_dir(root.join("bin")).expect("bin");
        let bump = root.join("bin/bump");
        std::fs::write(
            &bump,
            format!("#!/bin/sh\necho \"$1\" >> '{}'\n", ran.display()),
        )
        .expect("bump");
        std::fs::set_permissions(&bump, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let mut site = Site {
            dir,
            spool,
            audit,
            ran,
            service: None,
        };
        site.host_file("host.toml", "db1.example.com", approvers, extra);
        site.service = Some(daemon::Daemon::start(
            Path::new(BIN),
            &site.path("host.toml"),
            &site.socket(),
            &site.path("state"),
        ));
        site
    }

    /// The audit service's socket.
    pub fn socket(&self) -> PathBuf {
        self.path("run/audit.sock")
    }

    /// Write another host description with the same spool.
    pub fn host_file(&self, name: &str, hostname: &str, approvers: &str, extra: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(
            &path,
            format!(
                "hostname = \"{hostname}\"\nenvironment = \"production\"\nrole = \"db-primary\"\n\
                 [approvers]\ngroup = \"{approvers}\"\nspool = \"{}\"\n{extra}\n[audit]\nsyslog = \"none\"\n\
                 socket = \"{}\"\n",
                self.spool.display(),
                self.socket().display()
            ),
        )
        .expect("host.toml");
        path
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `bump` run by its absolute path, as a command line.
    pub fn bump(&self, arg: &str) -> Vec<String> {
        vec![self.path("bin/bump").display().to_string(), arg.to_string()]
    }

    /// What `bump` was run with, one line per run.
    pub fn runs(&self) -> Vec<String> {
        std::fs::read_to_string(&self.ran)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    pub fn records(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(&self.audit)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).expect("record is JSON"))
            .collect()
    }

    /// prodguard's global options for host file `host`.
    pub fn global(&self, host: &str) -> Vec<String> {
        vec![
            "--host-file".into(),
            self.path(host).display().to_string(),
            "--policy-dir".into(),
            self.path("pol").display().to_string(),
            "--audit-file".into(),
            self.audit.display().to_string(),
        ]
    }

    /// A command running prodguard as `user` (root when `None`) in the site's directory.
    pub fn as_user(&self, user: Option<&User>, host: &str, args: &[String]) -> Command {
        let mut cmd = match user {
            Some(u) => {
                let mut c = Command::new("setpriv");
                c.arg(format!("--reuid={}", u.uid))
                    .arg(format!("--regid={}", u.gid))
                    .arg("--init-groups")
                    .arg("--")
                    .arg(BIN);
                c.env("HOME", "/")
                    .env("USER", &u.name)
                    .env("LOGNAME", &u.name);
                c
            }
            None => Command::new(BIN),
        };
        cmd.args(self.global(host))
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("SUDO_USER")
            .env_remove("NO_COLOR")
            .env("TERM", "dumb");
        cmd
    }

    /// Run prodguard as `user` without a terminal (a new session, stdin from /dev/null).
    pub fn run(&self, user: Option<&User>, host: &str, args: &[String]) -> Output {
        let mut cmd = self.as_user(user, host, args);
        cmd.stdin(Stdio::null());
        detach(&mut cmd);
        cmd.output().expect("run prodguard")
    }
}

/// Start the child in a new session without a controlling terminal.
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

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

pub fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// The full id printed by `prodguard request` on its first stdout line.
pub fn request_id(out: &Output) -> (String, String) {
    let s = text(&out.stdout);
    let line = s.lines().next().unwrap_or_default().to_string();
    let mut it = line.split_whitespace();
    assert_eq!(it.next(), Some("request"), "{s}\n{}", text(&out.stderr));
    let short = it.next().expect("short id").to_string();
    let full = it.next().expect("full id").to_string();
    (short, full)
}

/// A child whose controlling terminal is a pty we hold the master of.
pub struct PtyChild {
    master: File,
    _slave: OwnedFd,
    child: Child,
    pub screen: Vec<u8>,
}

impl PtyChild {
    /// Spawn `cmd` as the leader of a new session on a fresh pty (stdin and stderr on it,
    /// stdout piped).
    pub fn spawn(mut cmd: Command) -> PtyChild {
        let pty = openpty(
            Some(&nix::pty::Winsize {
                ws_row: 24,
                ws_col: 80,
                ws_xpixel: 0,
                ws_ypixel: 0,
            }),
            None,
        )
        .expect("openpty");
        for fd in [&pty.master, &pty.slave] {
            fcntl(fd.as_raw_fd(), FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).expect("cloexec");
        }
        let slave_fd = pty.slave.as_raw_fd();
        cmd.stdin(Stdio::from(pty.slave.try_clone().expect("dup")))
            .stderr(Stdio::from(pty.slave.try_clone().expect("dup")))
            .stdout(Stdio::piped());
        // SAFETY: runs in the forked child before exec; setsid and ioctl are
        // async-signal-safe, and `slave_fd` is open there until exec.
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
        let child = cmd.spawn().expect("spawn on pty");
        PtyChild {
            master: File::from(pty.master),
            _slave: pty.slave,
            child,
            screen: Vec::new(),
        }
    }

    fn pump(&mut self, wait: Duration) {
        let ms = u16::try_from(wait.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(self.master.as_fd(), PollFlags::POLLIN)];
        if poll(&mut fds, PollTimeout::from(ms)).unwrap_or(0) > 0 {
            let mut buf = [0u8; 4096];
            if let Ok(n) = self.master.read(&mut buf) {
                self.screen.extend_from_slice(&buf[..n]);
            }
        }
    }

    /// Read the terminal until it shows `needle`.
    pub fn expect(&mut self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !text(&self.screen).contains(needle) {
            assert!(
                Instant::now() < deadline,
                "never saw {needle:?}; screen:\n{}",
                text(&self.screen)
            );
            if let Ok(Some(st)) = self.child.try_wait() {
                self.pump(Duration::from_millis(50));
                assert!(
                    text(&self.screen).contains(needle),
                    "exited {st:?} without showing {needle:?}; screen:\n{}",
                    text(&self.screen)
                );
            }
            self.pump(Duration::from_millis(50));
        }
    }

    pub fn send(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).expect("type");
    }

    /// Wait for the child: status, stdout, screen.
    pub fn finish(mut self) -> (ExitStatus, String, String) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            self.pump(Duration::from_millis(20));
            if let Some(s) = self.child.try_wait().expect("wait") {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("child still running; screen:\n{}", text(&self.screen));
            }
        };
        self.pump(Duration::from_millis(20));
        let mut out = String::new();
        if let Some(mut s) = self.child.stdout.take() {
            let _ = s.read_to_string(&mut out);
        }
        (status, out, text(&self.screen))
    }
}

/// `approve ID` as `user` on a pty, typing `typed` at the host name question.
pub fn approve_on_pty(
    site: &Site,
    user: Option<&User>,
    host: &str,
    id: &str,
    typed: &str,
) -> (ExitStatus, String) {
    let mut c = PtyChild::spawn(site.as_user(user, host, &args(&["approve", id])));
    c.expect("host name: ");
    c.send(format!("{typed}\r").as_bytes());
    let (status, _, screen) = c.finish();
    (status, screen)
}

/// Whether `path` exists without following a final symlink.
pub fn exists_nofollow(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// One raw request line to the service at `socket` as this process (its uid is what the
/// service sees), and the answer.
pub fn raw_call(socket: &Path, line: &str) -> serde_json::Value {
    use std::io::BufRead;
    let mut s = std::os::unix::net::UnixStream::connect(socket).expect("connect to the service");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(format!("{line}\n").as_bytes()).expect("send");
    let mut answer = String::new();
    std::io::BufReader::new(s)
        .read_line(&mut answer)
        .expect("answer");
    serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{e}: {answer}"))
}
