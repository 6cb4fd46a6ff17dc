//! The terminal: a small trait the question is asked through, and its one real implementation on
//! `/dev/tty`. This is the only file of the prompt module with `unsafe` (three libc calls that nix
//! does not wrap).
//!
//! Why not dialoguer: it reads from stdin/stdout through console's terminal detection, has no
//! timeout, and lets Ctrl-C arrive as a signal. Here the answer is read from `/dev/tty` (stdin and
//! stdout may be pipes carrying the user's data), in non-canonical mode with `ISIG` off so Ctrl-C
//! is an ordinary byte, with `poll` bounding the wait, and with the original modes put back by a
//! `Drop` guard on every path, panics included.

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{pthread_sigmask, SigSet, SigmaskHow, Signal};
use nix::sys::termios::{self, LocalFlags, SetArg, SpecialCharacterIndices, Termios};
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::time::{Duration, Instant};

/// What one read from the terminal gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOutcome {
    /// This many bytes were read into the buffer (at least one).
    Data(usize),
    /// The terminal reported end of file or hung up.
    Eof,
    /// Nothing arrived before the timeout.
    TimedOut,
    /// A terminating signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT) is waiting to be delivered.
    Interrupted,
}

/// A terminal the question is asked on. [`DevTty`] is the real one; tests script a fake.
pub trait TtyIo {
    /// Wait at most `timeout` for input and read what is there into `buf`.
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<ReadOutcome>;

    /// Write all of `bytes` to the terminal.
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()>;

    /// Whether to use colour escapes. The default is no.
    fn colour(&self) -> bool {
        false
    }
}

/// Whether colour should be used on an output that `is_terminal`: only on a terminal, never when
/// `NO_COLOR` is set to a non-empty value (no-color.org) or `TERM` is `dumb`.
pub fn colour_enabled(is_terminal: bool) -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let dumb = std::env::var_os("TERM").is_some_and(|t| t == "dumb");
    is_terminal && !no_color && !dumb
}

/// Signals that would kill the process while the terminal is in our mode. They are blocked while
/// a question is open and noticed by polling `sigpending`, so the terminal is restored first and
/// the signal is delivered after, when the original mask is put back.
const DEFERRED_SIGNALS: [Signal; 5] = [
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGTSTP,
];

/// How long a pseudo-terminal without a size may take to get one before nobody is taken to be at
/// it ([`DevTty::unattended`]).
const SIZE_GRACE: Duration = Duration::from_millis(500);

/// Rows and columns of the terminal `file`, when it says.
fn window_size(file: &File) -> Option<(u16, u16)> {
    use std::os::fd::AsRawFd;
    let mut ws = std::mem::MaybeUninit::<libc::winsize>::zeroed();
    // SAFETY: TIOCGWINSZ writes one `winsize` to the pointer, which points to writable memory of
    // that size; the fd is open for as long as `file` is borrowed. The value is read only when
    // the call reports success.
    let rc = unsafe { libc::ioctl(file.as_raw_fd(), libc::TIOCGWINSZ, ws.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: the call succeeded, so the struct is initialised (it was zeroed before, too).
    let ws = unsafe { ws.assume_init() };
    Some((ws.ws_row, ws.ws_col))
}

/// Whether this process's controlling terminal is a pseudo-terminal (`/dev/pts/N`, major numbers
/// 136–143), from `tty_nr` in `/proc/self/stat` (`/dev/tty` itself names no device).
fn controlling_terminal_is_pty() -> bool {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return false;
    };
    let tty_nr = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(4))
        .and_then(|n| n.parse::<u32>().ok());
    tty_nr.is_some_and(|n| (136..=143).contains(&((n >> 8) & 0xfff)))
}

/// How often a blocked signal is looked for while waiting for input.
const SIGNAL_CHECK: Duration = Duration::from_millis(100);

/// The controlling terminal, opened read+write, in non-canonical mode without echo and without
/// signal characters for as long as this value lives.
pub struct DevTty {
    file: File,
    original: Termios,
    old_mask: Option<SigSet>,
    colour: bool,
}

impl DevTty {
    /// Open `/dev/tty` and switch it to the question's mode, discarding anything typed before the
    /// question was shown (a paste or type-ahead must not answer it).
    ///
    /// Fails with the OS error when there is no controlling terminal (`ENXIO`) or it is not a
    /// terminal.
    pub fn open() -> io::Result<DevTty> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOCTTY)
            .open("/dev/tty")?;
        let original = termios::tcgetattr(file.as_fd())?;

        let mut set = SigSet::empty();
        for s in DEFERRED_SIGNALS {
            set.add(s);
        }
        let mut old = SigSet::empty();
        pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&set), Some(&mut old))?;
        // From here on, Drop restores the mask (and the modes, which are still the original).
        let mut tty = DevTty {
            file,
            original: original.clone(),
            old_mask: Some(old),
            colour: false,
        };

        let mut raw = original;
        raw.local_flags
            .remove(LocalFlags::ICANON | LocalFlags::ECHO | LocalFlags::ISIG);
        raw.local_flags
            .remove(LocalFlags::IEXTEN | LocalFlags::ECHONL);
        raw.control_chars[SpecialCharacterIndices::VMIN as usize] = 1;
        raw.control_chars[SpecialCharacterIndices::VTIME as usize] = 0;
        termios::tcsetattr(tty.file.as_fd(), SetArg::TCSAFLUSH, &raw)?;
        tty.colour = colour_enabled(true);
        Ok(tty)
    }

    /// Whether nobody is at this terminal: a pseudo-terminal that has no size, and gets none within
    /// [`SIZE_GRACE`]. That is what `ssh -tt` allocates when its own input is not a terminal (a
    /// script, Ansible's `raw`, a CI job): it sends the size of no window, 0×0. A person's terminal
    /// always has one, and a client that sizes it just after start (`docker exec -t`) does so within
    /// the grace. A console or serial line, which may well have no size, is never taken for this.
    pub fn unattended(&self) -> bool {
        if !controlling_terminal_is_pty() {
            return false;
        }
        let deadline = Instant::now() + SIZE_GRACE;
        loop {
            match window_size(&self.file) {
                Some((0, 0)) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Some((0, 0)) => return true,
                _ => return false,
            }
        }
    }

    /// Whether one of the deferred signals is pending.
    fn signal_pending() -> bool {
        let mut pending = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigpending writes a complete sigset_t to the pointer, which points to writable
        // memory of the right size; we read it only when the call reports success.
        let rc = unsafe { libc::sigpending(pending.as_mut_ptr()) };
        if rc != 0 {
            return false;
        }
        // SAFETY: sigpending returned 0, so the set is initialised.
        let pending = unsafe { pending.assume_init() };
        DEFERRED_SIGNALS.iter().any(|s| {
            // SAFETY: `pending` is an initialised sigset_t and the signal number is valid.
            unsafe { libc::sigismember(&pending, *s as libc::c_int) == 1 }
        })
    }
}

impl TtyIo for DevTty {
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<ReadOutcome> {
        let deadline = Instant::now() + timeout;
        loop {
            if Self::signal_pending() {
                return Ok(ReadOutcome::Interrupted);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(ReadOutcome::TimedOut);
            }
            let slice = left.min(SIGNAL_CHECK);
            let ms = u16::try_from(slice.as_millis().max(1)).unwrap_or(u16::MAX);
            let mut fds = [PollFd::new(self.file.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::from(ms)) {
                Ok(0) | Err(Errno::EINTR) => continue,
                Ok(_) => {}
                Err(e) => return Err(e.into()),
            }
            let revents = fds[0].revents().unwrap_or(PollFlags::empty());
            if revents.contains(PollFlags::POLLNVAL) {
                return Err(io::Error::from_raw_os_error(libc::EBADF));
            }
            return match self.file.read(buf) {
                Ok(0) => Ok(ReadOutcome::Eof),
                Ok(n) => Ok(ReadOutcome::Data(n)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                // A hung-up terminal reads as EIO.
                Err(e) if e.raw_os_error() == Some(libc::EIO) => Ok(ReadOutcome::Eof),
                Err(e) => Err(e),
            };
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes)?;
        self.file.flush()
    }

    fn colour(&self) -> bool {
        self.colour
    }
}

impl Drop for DevTty {
    fn drop(&mut self) {
        // Discard what was typed after the answer, then put the modes back. Errors are ignored:
        // there is nothing better to do with a terminal that is gone.
        let _ = termios::tcsetattr(self.file.as_fd(), SetArg::TCSAFLUSH, &self.original);
        if let Some(old) = self.old_mask.take() {
            let _ = pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
        }
    }
}
