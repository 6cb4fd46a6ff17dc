//! The one pseudo-terminal harness of the test suites: a program on a fresh pty that is its
//! controlling terminal (setsid + TIOCSCTTY), as sshd gives a login shell or a terminal emulator
//! gives a shell. [`Pty::spawn`] puts stdin, stdout and stderr all on the terminal; [`Pty::with`]
//! lets any of them be a pipe instead, so what a question shows on the terminal and what the
//! program prints are kept apart.
//!
//! A small helper on `nix::pty::openpty` and `Command::pre_exec` rather than expectrl/rexpect: it
//! needs no new dependency, lets stdin and stdout be pipes while the terminal is separate, and
//! lets a test read the terminal's modes directly.
//!
//! Included with `#[path]` (`mod pty;`) by the suites that drive a terminal.

use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::pty::{openpty, Winsize};
use nix::sys::termios::{tcgetattr, LocalFlags, Termios};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long `expect` and `wait` wait.
pub const WAIT: Duration = Duration::from_secs(30);

/// What the program's stdin is.
pub enum Stdin {
    /// The terminal, like an interactive command.
    Tty,
    /// A pipe carrying these bytes, then closed.
    Pipe(Vec<u8>),
    /// `/dev/null`.
    Null,
}

/// Where the program's stdout or stderr goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Out {
    /// The terminal.
    Tty,
    /// A pipe, read to the end by [`Pty::finish`].
    Piped,
}

/// How to start the program.
pub struct Options {
    pub rows: u16,
    pub cols: u16,
    pub stdin: Stdin,
    pub stdout: Out,
    pub stderr: Out,
    /// Typed on the terminal before the program starts.
    pub typeahead: Vec<u8>,
}

impl Options {
    /// A 24×80 terminal holding `stdin` (when it is [`Stdin::Tty`]); stdout and stderr are pipes.
    pub fn piped(stdin: Stdin) -> Options {
        Options {
            rows: 24,
            cols: 80,
            stdin,
            stdout: Out::Piped,
            stderr: Out::Piped,
            typeahead: Vec::new(),
        }
    }

    /// A 24×80 terminal holding stdin and stderr; stdout is a pipe.
    pub fn stderr_on_tty() -> Options {
        Options {
            stderr: Out::Tty,
            ..Options::piped(Stdin::Tty)
        }
    }

    /// The terminal is `rows`×`cols` (0×0: what `ssh -tt` makes for a script).
    pub fn size(self, rows: u16, cols: u16) -> Options {
        Options { rows, cols, ..self }
    }
}

/// How a run ended.
pub struct Finished {
    pub status: ExitStatus,
    /// What went to a piped stdout (empty when it was the terminal).
    pub stdout: String,
    /// What went to a piped stderr (empty when it was the terminal).
    pub stderr: String,
    /// Everything written to the terminal, line ends turned into `\n` (see [`Pty::text`]).
    pub screen: String,
    /// The terminal's modes once the program had ended.
    pub termios: Termios,
}

pub struct Pty {
    master: File,
    child: Child,
    screen: Vec<u8>,
    /// Where the next `expect` starts looking.
    seen: usize,
    stdout: Option<JoinHandle<Vec<u8>>>,
    stderr: Option<JoinHandle<Vec<u8>>>,
    /// The terminal's modes before the program started.
    initial: Termios,
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

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `bytes` as text, line ends (`\r\n`, and `\r\r\n` from an echoed `\r\n` through the
/// terminal's output processing) turned into `\n`.
pub fn lines(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .replace("\r\r\n", "\n")
        .replace("\r\n", "\n")
}

/// Whether `t` is a terminal's normal mode: canonical input, echo, signals.
pub fn cooked(t: &Termios) -> bool {
    t.local_flags
        .contains(LocalFlags::ICANON | LocalFlags::ECHO | LocalFlags::ISIG)
}

impl Pty {
    /// Start `cmd` on a fresh 50×250 terminal holding its stdin, stdout and stderr.
    pub fn spawn(cmd: Command) -> Pty {
        Pty::with(
            cmd,
            Options {
                stdout: Out::Tty,
                stderr: Out::Tty,
                ..Options::piped(Stdin::Tty).size(50, 250)
            },
        )
    }

    /// Start `cmd` on a fresh terminal as `opts` say.
    pub fn with(mut cmd: Command, opts: Options) -> Pty {
        let size = Winsize {
            ws_row: opts.rows,
            ws_col: opts.cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = openpty(Some(&size), None).expect("openpty");
        cloexec(&pty.master);
        cloexec(&pty.slave);
        let initial = tcgetattr(pty.slave.as_fd()).expect("tcgetattr");
        let mut master = File::from(pty.master);
        if !opts.typeahead.is_empty() {
            master.write_all(&opts.typeahead).expect("typeahead");
        }
        let slave_fd = pty.slave.as_raw_fd();
        let tty = || Stdio::from(pty.slave.try_clone().expect("dup slave"));
        let out = |o: Out| match o {
            Out::Tty => tty(),
            Out::Piped => Stdio::piped(),
        };
        cmd.stdout(out(opts.stdout)).stderr(out(opts.stderr));
        match opts.stdin {
            Stdin::Tty => cmd.stdin(tty()),
            Stdin::Pipe(_) => cmd.stdin(Stdio::piped()),
            Stdin::Null => cmd.stdin(Stdio::null()),
        };
        // SAFETY: the closure runs in the forked child before exec and calls only setsid and
        // ioctl, which are async-signal-safe; `slave_fd` is open in the child until exec.
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
        // ETXTBSY: another test thread was writing an executable (a stub or a copied binary)
        // when this one forked, and the child held its descriptor for a moment; try again.
        let mut tries = 0;
        let mut child = loop {
            match cmd.spawn() {
                Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && tries < 50 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                other => break other.expect("spawn on a pty"),
            }
        };
        drop(pty.slave);
        if let Stdin::Pipe(data) = opts.stdin {
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
            seen: 0,
            stdout,
            stderr,
            initial,
        }
    }

    /// The terminal's modes before the program started.
    pub fn initial(&self) -> &Termios {
        &self.initial
    }

    /// The process id of the program (the shell, once prodguard has exec'd it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything shown so far, escapes and all.
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.screen).into_owned()
    }

    /// Everything shown so far, line ends turned into `\n`.
    pub fn text(&self) -> String {
        lines(&self.screen)
    }

    /// How often `needle` has been shown so far.
    pub fn count(&self, needle: &str) -> usize {
        self.screen().matches(needle).count()
    }

    /// Read until the text after the last `expect` contains `needle` (line ends as shown, or
    /// turned into `\n`); returns that text, and the next `expect` starts after `needle`.
    pub fn expect(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(found) = self.take_through(needle) {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "never saw {needle:?}; screen:\n{}",
                self.screen()
            );
            if !self.pump(Duration::from_millis(50)) && self.exited() {
                // One more read for what the program wrote before it went.
                self.pump(Duration::from_millis(50));
                if let Some(found) = self.take_through(needle) {
                    return found;
                }
                panic!(
                    "the program ended without showing {needle:?}; screen:\n{}",
                    self.screen()
                );
            }
        }
    }

    fn take_through(&mut self, needle: &str) -> Option<String> {
        let tail = &self.screen[self.seen..];
        if let Some(at) = find(tail, needle.as_bytes()) {
            let upto = String::from_utf8_lossy(&tail[..at + needle.len()]).into_owned();
            self.seen += at + needle.len();
            return Some(upto);
        }
        if lines(tail).contains(needle) {
            let upto = lines(tail);
            self.seen = self.screen.len();
            return Some(upto);
        }
        None
    }

    /// Read what arrives for `wait`.
    pub fn settle(&mut self, wait: Duration) {
        let end = Instant::now() + wait;
        while Instant::now() < end {
            self.pump(Duration::from_millis(20));
        }
    }

    /// Read what is there (waiting up to `wait`); whether anything came.
    pub fn pump(&mut self, wait: Duration) -> bool {
        let ms = u16::try_from(wait.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(self.master.as_fd(), PollFlags::POLLIN)];
        if poll(&mut fds, PollTimeout::from(ms)).unwrap_or(0) > 0 {
            let mut buf = [0u8; 8192];
            match self.master.read(&mut buf) {
                Ok(n) if n > 0 => {
                    self.screen.extend_from_slice(&buf[..n]);
                    return true;
                }
                // EIO: the other side is closed.
                _ => std::thread::sleep(wait),
            }
        }
        false
    }

    fn exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Type `bytes`.
    pub fn send(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).expect("type on the terminal");
        self.master.flush().expect("flush");
    }

    /// Type `line` and Return.
    pub fn line(&mut self, line: &str) {
        self.send(line.as_bytes());
        self.send(b"\r");
    }

    /// The terminal's modes now.
    pub fn termios(&self) -> Termios {
        tcgetattr(self.master.as_fd()).expect("tcgetattr")
    }

    /// Make the terminal `rows`×`cols` (the program gets SIGWINCH).
    pub fn resize(&self, rows: u16, cols: u16) {
        let ws = Winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads one `struct winsize` from the pointer, which points to one.
        let rc = unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
        assert_eq!(rc, 0, "TIOCSWINSZ");
    }

    /// Send `signal` to the program.
    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.pid()).expect("pid"));
        nix::sys::signal::kill(pid, signal).expect("kill");
    }

    /// Wait for the program to end.
    pub fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            self.pump(Duration::from_millis(20));
            if let Some(status) = self.child.try_wait().expect("wait") {
                while self.pump(Duration::from_millis(20)) {}
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("still running; screen:\n{}", self.screen());
            }
        }
    }

    /// Wait for the program to end; what it showed and printed.
    pub fn finish(mut self) -> Finished {
        let status = self.wait();
        let join = |h: Option<JoinHandle<Vec<u8>>>| {
            String::from_utf8_lossy(&h.map(|h| h.join().expect("reader")).unwrap_or_default())
                .into_owned()
        };
        Finished {
            status,
            stdout: join(self.stdout.take()),
            stderr: join(self.stderr.take()),
            screen: self.text(),
            termios: self.termios(),
        }
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
