//! The pseudo-terminal proxy: the client on a pty, the user's terminal in raw mode, one `poll`
//! loop between them. The `unsafe` here is for what neither std nor nix wraps safely: the
//! child's `pre_exec` (setsid, TIOCSCTTY), the window-size ioctls and
//! the signal handler that writes to a self-pipe.

use super::client::{Client, Family};
use super::editor::{Editor, Key};
use super::{Judge, Pause};
use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::pty::{openpty, Winsize};
use nix::sys::signal::{kill, sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use nix::sys::termios::{self, LocalFlags, SetArg, SpecialCharacterIndices, Termios};
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};

/// Longest line sent to a client. A pty in canonical mode keeps at most 4095 bytes of a line
/// and drops the rest, so a longer line would not reach the client as it was checked.
pub const MAX_LINE: usize = 4000;

/// How a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionEnd {
    /// The client's exit status (128 + signal number when a signal ended it).
    pub status: i32,
}

/// The user's terminal (stdin), with its original modes put back on drop.
struct Terminal {
    original: Termios,
    raw: Termios,
    is_raw: bool,
}

fn stdin_fd() -> BorrowedFd<'static> {
    // SAFETY: descriptor 0 stays open for the life of the process; nothing here closes it.
    unsafe { BorrowedFd::borrow_raw(0) }
}

impl Terminal {
    fn open() -> io::Result<Terminal> {
        let original = termios::tcgetattr(stdin_fd())?;
        let mut raw = original.clone();
        termios::cfmakeraw(&mut raw);
        raw.control_chars[SpecialCharacterIndices::VMIN as usize] = 1;
        raw.control_chars[SpecialCharacterIndices::VTIME as usize] = 0;
        Ok(Terminal {
            original,
            raw,
            is_raw: false,
        })
    }

    fn raw(&mut self) -> io::Result<()> {
        if !self.is_raw {
            termios::tcsetattr(stdin_fd(), SetArg::TCSADRAIN, &self.raw)?;
            self.is_raw = true;
        }
        Ok(())
    }

    fn cooked(&mut self) {
        if self.is_raw {
            let _ = termios::tcsetattr(stdin_fd(), SetArg::TCSADRAIN, &self.original);
            self.is_raw = false;
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        self.cooked();
    }
}

impl Pause for Terminal {
    fn cooked(&mut self) {
        Terminal::cooked(self);
    }
}

/// A `Pause` that remembers whether the judge used it.
struct Paused<'a> {
    term: &'a mut Terminal,
    used: bool,
}

impl Pause for Paused<'_> {
    fn cooked(&mut self) {
        self.used = true;
        self.term.cooked();
    }
}

/// The write end of the self-pipe the signal handler reports to (-1: none).
static SIGNAL_PIPE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_signal(sig: libc::c_int) {
    let fd = SIGNAL_PIPE.load(Ordering::Relaxed);
    if fd >= 0 {
        let byte = sig as u8;
        let saved = Errno::last_raw();
        // SAFETY: write(2) is async-signal-safe; the buffer is one valid byte on the stack and
        // the descriptor is the non-blocking write end of a pipe that outlives the handler.
        unsafe {
            libc::write(fd, (&byte as *const u8).cast(), 1);
        }
        Errno::set_raw(saved);
    }
}

const WATCHED: [Signal; 4] = [
    Signal::SIGWINCH,
    Signal::SIGCHLD,
    Signal::SIGTERM,
    Signal::SIGHUP,
];

/// The signal handlers and self-pipe, for as long as the session runs.
struct Signals {
    read: OwnedFd,
    _write: OwnedFd,
    old: Vec<(Signal, SigAction)>,
}

impl Signals {
    fn install() -> io::Result<Signals> {
        let (read, write) =
            nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC | nix::fcntl::OFlag::O_NONBLOCK)?;
        SIGNAL_PIPE.store(write.as_raw_fd(), Ordering::Relaxed);
        let action = SigAction::new(
            SigHandler::Handler(on_signal),
            SaFlags::SA_RESTART,
            SigSet::empty(),
        );
        let mut old = Vec::new();
        for s in WATCHED {
            // SAFETY: the handler only calls write(2) and touches errno, both async-signal-safe.
            let prev = unsafe { sigaction(s, &action) }?;
            old.push((s, prev));
        }
        Ok(Signals {
            read,
            _write: write,
            old,
        })
    }

    /// The signals that arrived since the last call.
    fn drain(&self) -> Vec<Signal> {
        let mut buf = [0u8; 64];
        let mut out = Vec::new();
        while let Ok(n) = nix::unistd::read(self.read.as_raw_fd(), &mut buf) {
            if n == 0 {
                break;
            }
            out.extend(
                buf[..n]
                    .iter()
                    .filter_map(|b| Signal::try_from(i32::from(*b)).ok()),
            );
        }
        out
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        SIGNAL_PIPE.store(-1, Ordering::Relaxed);
        for (s, prev) in &self.old {
            // SAFETY: restores the action that was in place before `install`.
            let _ = unsafe { sigaction(*s, prev) };
        }
    }
}

fn window_size(fd: RawFd) -> Option<Winsize> {
    let mut ws = Winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ writes one `struct winsize` to the pointer, which points to one.
    let rc = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) };
    (rc == 0 && ws.ws_row > 0).then_some(ws)
}

fn set_window_size(fd: RawFd, ws: &Winsize) {
    // SAFETY: TIOCSWINSZ reads one `struct winsize` from the pointer, which points to one.
    unsafe {
        libc::ioctl(fd, libc::TIOCSWINSZ, ws);
    }
}

/// The child's side of a pty spawn: become a session leader whose controlling terminal is
/// descriptor 0.
fn child_setup(cmd: &mut Command) {
    // SAFETY: setsid and ioctl are async-signal-safe system calls that touch no memory of the
    // parent; the closure allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setsid() < 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Start `argv` with its stdin a pipe (the non-interactive mode).
pub fn spawn_piped(argv: &[String]) -> io::Result<Child> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty command"))?;
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::piped());
    cmd.spawn()
}

/// Start `client` on a new pty whose terminal modes copy `user`'s.
fn spawn(client: &Client, user: &Termios) -> io::Result<(File, Child)> {
    let ws = window_size(0);
    let mut modes = user.clone();
    // Control characters in the input are echoed as they are, so the echo is the input.
    modes.local_flags.remove(LocalFlags::ECHOCTL);
    modes
        .local_flags
        .insert(LocalFlags::ECHO | LocalFlags::ICANON | LocalFlags::ISIG);
    let pty = openpty(ws.as_ref(), Some(&modes))?;
    nix::fcntl::fcntl(
        pty.master.as_raw_fd(),
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    )?;
    let (program, args) = client
        .argv
        .split_first()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty command"))?;
    let mut cmd = Command::new(program);
    cmd.args(args);
    cmd.envs(client.env.iter().map(|(k, v)| (k, v)));
    cmd.stdin(Stdio::from(pty.slave.try_clone()?))
        .stdout(Stdio::from(pty.slave.try_clone()?))
        .stderr(Stdio::from(pty.slave));
    child_setup(&mut cmd);
    let child = cmd.spawn()?;
    Ok((File::from(pty.master), child))
}

/// Run `client` under the guard until it exits. The user's terminal is restored on every path
/// out, panics included.
pub fn run(client: &mut Client, judge: &mut dyn Judge) -> io::Result<SessionEnd> {
    let mut term = Terminal::open()?;
    let (master, child) = spawn(client, &term.original)?;
    let signals = Signals::install()?;
    term.raw()?;
    let mut proxy = Proxy {
        term,
        master,
        child,
        client,
        judge,
        editor: Editor::new(),
        pending: Vec::new(),
        tail: Vec::new(),
        expect: VecDeque::new(),
        copy_in: false,
        out: Vec::new(),
    };
    let result = proxy.pump(&signals);
    proxy.term.cooked();
    drop(signals);
    result
}

struct Proxy<'a> {
    term: Terminal,
    master: File,
    child: Child,
    client: &'a mut Client,
    judge: &'a mut dyn Judge,
    editor: Editor,
    /// Lines of a statement that is not complete yet.
    pending: Vec<String>,
    /// The client's current output line: its prompt when it waits for input.
    tail: Vec<u8>,
    /// The pty's echo of input written to the client, still to be swallowed.
    expect: VecDeque<u8>,
    /// psql reads data lines (`COPY … FROM STDIN`) until `\.`.
    copy_in: bool,
    /// What to show the user, written out after each event.
    out: Vec<u8>,
}

impl Proxy<'_> {
    fn pump(&mut self, signals: &Signals) -> io::Result<SessionEnd> {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let (ready_in, ready_out, ready_sig) = {
                let mut fds = [
                    PollFd::new(stdin_fd(), PollFlags::POLLIN),
                    PollFd::new(self.master.as_fd(), PollFlags::POLLIN),
                    PollFd::new(signals.read.as_fd(), PollFlags::POLLIN),
                ];
                match poll(&mut fds, PollTimeout::NONE) {
                    Err(Errno::EINTR) => continue,
                    Err(e) => return Err(e.into()),
                    Ok(_) => {}
                }
                let r = |f: &PollFd| {
                    f.revents().is_some_and(|e| {
                        e.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR)
                    })
                };
                (r(&fds[0]), r(&fds[1]), r(&fds[2]))
            };
            if ready_sig {
                for s in signals.drain() {
                    match s {
                        Signal::SIGWINCH => {
                            if let Some(ws) = window_size(0) {
                                set_window_size(self.master.as_raw_fd(), &ws);
                            }
                        }
                        Signal::SIGTERM | Signal::SIGHUP => {
                            let _ = kill(
                                nix::unistd::Pid::from_raw(self.child.id() as i32),
                                Signal::SIGHUP,
                            );
                        }
                        _ => {}
                    }
                }
                if let Some(status) = self.child.try_wait()? {
                    self.drain_output(&mut buf);
                    return Ok(end(status));
                }
            }
            if ready_out {
                match self.master.read(&mut buf) {
                    Ok(0) => return self.finish(),
                    Ok(n) => self.output(&buf[..n])?,
                    Err(e) if e.raw_os_error() == Some(libc::EIO) => return self.finish(),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            if ready_in {
                match nix::unistd::read(0, &mut buf) {
                    Ok(0) | Err(Errno::EIO) => {
                        // The user's terminal is gone: hang the client up as a terminal would.
                        let _ = kill(
                            nix::unistd::Pid::from_raw(self.child.id() as i32),
                            Signal::SIGHUP,
                        );
                        return self.finish();
                    }
                    Ok(n) => {
                        let chunk = buf[..n].to_vec();
                        self.input(&chunk)?;
                    }
                    Err(Errno::EINTR | Errno::EAGAIN) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }

    fn finish(&mut self) -> io::Result<SessionEnd> {
        let status = self.child.wait()?;
        Ok(end(status))
    }

    fn drain_output(&mut self, buf: &mut [u8]) {
        loop {
            let mut fds = [PollFd::new(self.master.as_fd(), PollFlags::POLLIN)];
            if !matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0) {
                return;
            }
            match self.master.read(buf) {
                Ok(n) if n > 0 => {
                    let chunk = buf[..n].to_vec();
                    if self.output(&chunk).is_err() {
                        return;
                    }
                }
                _ => return,
            }
        }
    }

    /// Client output: swallow the echo of what was sent, show the rest, remember the last line.
    fn output(&mut self, mut chunk: &[u8]) -> io::Result<()> {
        while let (Some(&want), Some(&got)) = (self.expect.front(), chunk.first()) {
            if want != got {
                self.expect.clear();
                break;
            }
            self.expect.pop_front();
            chunk = &chunk[1..];
        }
        if chunk.is_empty() {
            return Ok(());
        }
        match chunk.iter().rposition(|&b| b == b'\n') {
            Some(p) => {
                self.tail.clear();
                self.tail.extend_from_slice(&chunk[p + 1..]);
            }
            None => self.tail.extend_from_slice(chunk),
        }
        if self.tail.len() > 512 {
            let cut = self.tail.len() - 512;
            self.tail.drain(..cut);
        }
        show(chunk)
    }

    /// The prompt the line being edited follows on screen.
    fn prompt(&self) -> Vec<u8> {
        if self.pending.is_empty() || self.copy_in {
            return self.tail.clone();
        }
        continuation(&self.tail)
    }

    fn input(&mut self, chunk: &[u8]) -> io::Result<()> {
        let modes = termios::tcgetattr(self.master.as_fd())?;
        let canonical = modes.local_flags.contains(LocalFlags::ICANON);
        let echo = modes.local_flags.contains(LocalFlags::ECHO);
        if !canonical || !echo {
            // A pager or editor (non-canonical), or a password being read (no echo): the
            // client's terminal handles these keys itself.
            self.master.write_all(chunk)?;
            return Ok(());
        }
        let vintr = modes.control_chars[SpecialCharacterIndices::VINTR as usize];
        let veof = modes.control_chars[SpecialCharacterIndices::VEOF as usize];
        for &b in chunk {
            let prompt = self.prompt();
            let key = self.editor.feed(b, &prompt, &mut self.out);
            match key {
                None => {}
                Some(Key::Enter(line)) => {
                    self.flush_out()?;
                    let asked = self.enter(line)?;
                    if asked {
                        // What was typed before the question is not kept: it may have been
                        // meant as an answer, or pasted along with the statement.
                        self.editor.clear();
                        break;
                    }
                }
                Some(Key::Interrupt) => {
                    if self.editor.is_empty() && self.pending.is_empty() {
                        // Nothing typed: the client's own Ctrl-C (psql cancels a running
                        // query). redis-cli would die of it, so it gets a fresh prompt.
                        if self.client.family == Family::Postgres || self.copy_in {
                            self.master.write_all(&[vintr])?;
                        } else {
                            self.out.extend_from_slice(b"^C\r\n");
                            self.out.extend_from_slice(&self.tail);
                        }
                    } else {
                        self.editor.clear();
                        self.pending.clear();
                        self.out.extend_from_slice(b"^C\r\n");
                        self.out.extend_from_slice(&self.tail);
                    }
                }
                Some(Key::Eof) => {
                    if self.pending.is_empty() || self.copy_in {
                        self.copy_in = false;
                        self.master.write_all(&[veof])?;
                    } else {
                        self.pending.clear();
                        self.out.extend_from_slice(b"\r\n");
                        self.out.extend_from_slice(&self.tail);
                    }
                }
            }
        }
        self.flush_out()
    }

    fn flush_out(&mut self) -> io::Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let r = show(&self.out);
        self.out.clear();
        r
    }

    /// Write `text` and a newline to the client, expecting the pty to echo it.
    fn send(&mut self, text: &str) -> io::Result<()> {
        let mut bytes = text.as_bytes().to_vec();
        bytes.push(b'\n');
        let modes = termios::tcgetattr(self.master.as_fd())?;
        if modes.local_flags.contains(LocalFlags::ECHO) {
            let crlf = modes
                .output_flags
                .contains(termios::OutputFlags::OPOST | termios::OutputFlags::ONLCR);
            for &b in &bytes {
                if b == b'\n' && crlf {
                    self.expect.push_back(b'\r');
                }
                self.expect.push_back(b);
            }
        }
        self.master.write_all(&bytes)
    }

    /// A line was entered. Returns whether the user was asked something.
    fn enter(&mut self, line: String) -> io::Result<bool> {
        if self.copy_in {
            if line.trim_end() == "\\." {
                self.copy_in = false;
            }
            if line.len() > MAX_LINE {
                return self.refuse_long();
            }
            self.send(&line)?;
            return Ok(false);
        }
        self.pending.push(line);
        let text = self.pending.join("\n");
        if text.trim().is_empty() {
            self.pending.clear();
            self.out.extend_from_slice(&self.tail);
            self.flush_out()?;
            return Ok(false);
        }
        let complete = match self.client.family {
            Family::Postgres => {
                crate::sql::input_complete(&self.client.program, &text).unwrap_or(true)
            }
            Family::Redis => true,
        };
        if !complete {
            let cont = continuation(&self.tail);
            self.out.extend_from_slice(&cont);
            self.flush_out()?;
            return Ok(false);
        }
        self.pending.clear();
        if text.lines().any(|l| l.len() > MAX_LINE) {
            return self.refuse_long();
        }
        let mut pause = Paused {
            term: &mut self.term,
            used: false,
        };
        let send = self.judge.judge(&text, self.client, &mut pause);
        let asked = pause.used;
        if asked {
            self.term.raw()?;
        }
        if send {
            self.send(&text)?;
            self.client.follow(&text);
            self.copy_in = self.client.starts_copy_in(&text);
        } else {
            self.out
                .extend_from_slice(b"prodguard: not sent; the session goes on.\r\n");
            self.out.extend_from_slice(&self.tail);
            self.flush_out()?;
        }
        Ok(asked)
    }

    fn refuse_long(&mut self) -> io::Result<bool> {
        self.out.extend_from_slice(
            format!(
                "prodguard: not sent: a line longer than {MAX_LINE} bytes would be cut by the terminal; run it from a file instead.\r\n"
            )
            .as_bytes(),
        );
        self.out.extend_from_slice(&self.tail);
        self.flush_out()?;
        Ok(false)
    }
}

fn end(status: std::process::ExitStatus) -> SessionEnd {
    SessionEnd {
        status: status
            .code()
            .or_else(|| status.signal().map(|s| 128 + s))
            .unwrap_or(1),
    }
}

fn show(bytes: &[u8]) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

/// The prompt shown for the second and later lines of a statement: the client's prompt with its
/// last `=` turned into `-` (psql's `app=# ` becomes `app-# `), or `-> `.
pub(crate) fn continuation(prompt: &[u8]) -> Vec<u8> {
    let mut p = prompt.to_vec();
    match p.iter().rposition(|&b| b == b'=') {
        Some(k) if p.len() - k <= 4 => {
            p[k] = b'-';
            p
        }
        _ => b"-> ".to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_prompts() {
        assert_eq!(continuation(b"app=# "), b"app-# ");
        assert_eq!(continuation(b"app=*# "), b"app-*# ");
        assert_eq!(continuation(b"127.0.0.1:6379> "), b"-> ");
    }
}
