//! The real `/dev/tty` path, under a pseudo-terminal: `examples/ask.rs` runs as the session
//! leader of a new session whose controlling terminal is a pty we hold the master of.
//!
//! A small helper on `nix::pty::openpty` and `Command::pre_exec` (setsid + TIOCSCTTY) rather than
//! expectrl/rexpect: it is forty lines, needs no new dependency, lets stdin and stdout be pipes
//! while the terminal is separate (the point of several tests), and lets the test read the pty's
//! termios directly.

use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::pty::openpty;
use nix::sys::termios::{tcgetattr, LocalFlags, Termios};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The example binary, built once if `cargo test` did not build it already.
fn example() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let exe = std::env::current_exe().expect("test binary path");
        let profile_dir = exe
            .parent()
            .and_then(|deps| deps.parent())
            .expect("target dir");
        let path = profile_dir.join("examples").join("ask");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "--example", "ask"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("run cargo build --example ask");
        assert!(status.success(), "cargo build --example ask failed");
        assert!(path.exists(), "{} missing", path.display());
        path
    })
    .clone()
}

enum Stdin {
    /// stdin is the terminal too.
    Tty,
    /// stdin is a pipe carrying these bytes.
    Pipe(&'static [u8]),
}

struct PtyChild {
    master: File,
    slave: OwnedFd,
    child: Child,
    screen: Vec<u8>,
    /// The terminal's modes before the child started.
    initial: Termios,
}

fn cloexec(fd: &OwnedFd) {
    fcntl(fd.as_raw_fd(), FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).expect("FD_CLOEXEC");
}

impl PtyChild {
    /// Start the example with `args` on a fresh pty; `typeahead` is queued on the terminal
    /// before the child starts.
    fn spawn(args: &[&str], stdin: Stdin, typeahead: &[u8]) -> PtyChild {
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
        cloexec(&pty.master);
        cloexec(&pty.slave);
        let initial = tcgetattr(pty.slave.as_fd()).expect("tcgetattr");
        let mut master = File::from(pty.master);
        if !typeahead.is_empty() {
            master.write_all(typeahead).expect("typeahead");
        }
        let slave_fd = pty.slave.as_raw_fd();
        let mut cmd = Command::new(example());
        cmd.args(args).env_remove("NO_COLOR").env("TERM", "dumb");
        cmd.stdout(Stdio::piped());
        cmd.stderr(Stdio::from(pty.slave.try_clone().expect("dup slave")));
        match stdin {
            Stdin::Tty => cmd.stdin(Stdio::from(pty.slave.try_clone().expect("dup slave"))),
            Stdin::Pipe(_) => cmd.stdin(Stdio::piped()),
        };
        // SAFETY: the closure runs in the forked child before exec and calls only setsid and
        // ioctl, which are async-signal-safe; `slave_fd` is open in the child (CLOEXEC closes it
        // only at exec).
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
        let mut child = cmd.spawn().expect("spawn example");
        if let Stdin::Pipe(data) = stdin {
            let mut pipe = child.stdin.take().expect("stdin pipe");
            pipe.write_all(data).expect("write stdin");
        }
        PtyChild {
            master,
            slave: pty.slave,
            child,
            screen: Vec::new(),
            initial,
        }
    }

    /// Read what the child shows on the terminal until it contains `needle`.
    fn expect(&mut self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !String::from_utf8_lossy(&self.screen).contains(needle) {
            assert!(
                Instant::now() < deadline,
                "never saw {needle:?}; screen:\n{}",
                String::from_utf8_lossy(&self.screen)
            );
            self.pump(Duration::from_millis(50));
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

    fn send(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).expect("type");
    }

    fn termios(&self) -> Termios {
        tcgetattr(self.slave.as_fd()).expect("tcgetattr")
    }

    /// Wait for the child; its stdout.
    fn finish(mut self) -> (ExitStatus, String, String, Termios) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            self.pump(Duration::from_millis(20));
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "child still running; screen:\n{}",
                    String::from_utf8_lossy(&self.screen)
                );
            }
        };
        self.pump(Duration::from_millis(20));
        let mut out = String::new();
        if let Some(mut stdout) = self.child.stdout.take() {
            stdout.read_to_string(&mut out).expect("read stdout");
        }
        let termios = self.termios();
        (
            status,
            out,
            String::from_utf8_lossy(&self.screen).into_owned(),
            termios,
        )
    }
}

const COOKED: LocalFlags = LocalFlags::ICANON
    .union(LocalFlags::ECHO)
    .union(LocalFlags::ISIG);

fn assert_cooked(t: &Termios) {
    assert!(
        t.local_flags.contains(COOKED),
        "terminal left in {:?}",
        t.local_flags
    );
}

#[test]
fn right_hostname_confirms_and_modes_are_switched_then_restored() {
    let mut c = PtyChild::spawn(&[], Stdin::Tty, b"");
    let before = c.initial.clone();
    assert_cooked(&before);
    c.expect("host name: ");
    let during = c.termios();
    assert!(
        !during.local_flags.intersects(COOKED),
        "during: {:?}",
        during.local_flags
    );
    c.send(b"db1\r");
    let (status, out, screen, after) = c.finish();
    assert_eq!(
        out.lines().next(),
        Some("outcome: confirmed"),
        "{out}\n{screen}"
    );
    assert!(
        out.contains(r#""challenge":"hostname","passed":true"#),
        "{out}"
    );
    assert!(
        screen.contains("PRODUCTION \u{b7} db1 \u{b7} db-primary"),
        "{screen}"
    );
    assert!(
        screen.contains("host name: db1"),
        "the answer is echoed: {screen}"
    );
    assert!(status.success());
    assert_eq!(after.local_flags, before.local_flags);
    assert_eq!(after.input_flags, before.input_flags);
    assert_eq!(after.output_flags, before.output_flags);
}

#[test]
fn wrong_hostname_is_refused_naming_both() {
    let mut c = PtyChild::spawn(&[], Stdin::Tty, b"");
    c.expect("host name: ");
    c.send(b"db2\r");
    let (status, out, _, after) = c.finish();
    assert_eq!(
        out.lines().next(),
        Some("outcome: refused: you typed db2 (db-replica) \u{2014} this is db1 (db-primary)")
    );
    assert_eq!(status.code(), Some(1));
    assert_cooked(&after);
}

#[test]
fn ctrl_c_aborts_without_a_signal_and_restores_the_terminal() {
    let mut c = PtyChild::spawn(&[], Stdin::Tty, b"");
    let before = c.initial.clone();
    c.expect("host name: ");
    c.send(b"db\x03");
    let (status, out, screen, after) = c.finish();
    assert_eq!(out.lines().next(), Some("outcome: aborted"), "{screen}");
    // The process was not killed by SIGINT: it returned and printed its outcome.
    assert_eq!((status.code(), status.signal()), (Some(1), None));
    assert!(screen.contains("aborted: not confirmed"), "{screen}");
    assert_eq!(after.local_flags, before.local_flags);
}

#[test]
fn ctrl_d_is_end_of_input() {
    let mut c = PtyChild::spawn(&[], Stdin::Tty, b"");
    c.expect("host name: ");
    c.send(b"\x04");
    let (_, out, _, after) = c.finish();
    assert_eq!(out.lines().next(), Some("outcome: eof"));
    assert_cooked(&after);
}

#[test]
fn silence_times_out() {
    let started = Instant::now();
    let mut c = PtyChild::spawn(&["--timeout-ms", "400"], Stdin::Tty, b"");
    c.expect("host name: ");
    let (_, out, screen, after) = c.finish();
    assert_eq!(out.lines().next(), Some("outcome: timed-out"), "{screen}");
    assert!(started.elapsed() >= Duration::from_millis(400));
    assert!(screen.contains("no answer within 400 ms"), "{screen}");
    assert_cooked(&after);
}

#[test]
fn typeahead_before_the_question_is_discarded() {
    // "db1\r" is already waiting on the terminal when the question opens: it must not answer.
    let mut c = PtyChild::spawn(&["--timeout-ms", "600"], Stdin::Tty, b"db1\r");
    c.expect("host name: ");
    let (_, out, screen, _) = c.finish();
    assert_eq!(out.lines().next(), Some("outcome: timed-out"), "{screen}");
}

#[test]
fn piped_stdin_is_left_alone() {
    let mut c = PtyChild::spawn(&["--read-stdin"], Stdin::Pipe(b"data from the pipe\n"), b"");
    c.expect("host name: ");
    c.send(b"DB1\r");
    let (status, out, screen, _) = c.finish();
    assert!(status.success(), "{out}\n{screen}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.first(), Some(&"outcome: confirmed"), "{out}");
    assert_eq!(
        lines.last(),
        Some(&r#"stdin: "data from the pipe\n""#),
        "{out}"
    );
    assert!(
        !out.contains("PRODUCTION"),
        "the question went to stdout: {out}"
    );
}

#[test]
fn sigterm_while_asking_restores_the_terminal_then_terminates() {
    let mut c = PtyChild::spawn(&[], Stdin::Tty, b"");
    let before = c.initial.clone();
    c.expect("host name: ");
    let pid = nix::unistd::Pid::from_raw(i32::try_from(c.child.id()).expect("pid"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("kill child");
    let (status, out, _, after) = c.finish();
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?} {out}");
    assert_eq!(after.local_flags, before.local_flags);
}

#[test]
fn phrase_shown_on_the_terminal_confirms() {
    let mut c = PtyChild::spawn(&["--challenge", "phrase"], Stdin::Tty, b"");
    c.expect("type it: ");
    let screen = String::from_utf8_lossy(&c.screen).into_owned();
    let word = screen
        .split("word: ")
        .nth(1)
        .and_then(|r| r.lines().next())
        .map(|w| w.trim().to_string())
        .expect("word shown");
    c.send(format!("{word}\r").as_bytes());
    let (_, out, _, _) = c.finish();
    assert_eq!(
        out.lines().next(),
        Some("outcome: confirmed"),
        "word {word:?}"
    );
}

#[test]
fn no_controlling_terminal_is_no_terminal() {
    let mut cmd = Command::new(example());
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: setsid is async-signal-safe; it detaches the child from our controlling
    // terminal (if any), so /dev/tty cannot be opened.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd.output().expect("run example");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.lines().next(),
        Some("outcome: no-terminal"),
        "{stdout}"
    );
    assert_eq!(out.status.code(), Some(1));
}
