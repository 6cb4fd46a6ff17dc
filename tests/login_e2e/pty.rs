//! A program on a fresh pseudo-terminal that is its controlling terminal (setsid + TIOCSCTTY),
//! with stdin, stdout and stderr all on it: what sshd gives a login shell, or a terminal emulator
//! gives a shell.

use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::pty::{openpty, Winsize};
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

pub struct Pty {
    master: File,
    child: Child,
    screen: Vec<u8>,
    /// Where the next `expect` starts looking.
    seen: usize,
}

fn cloexec(fd: &OwnedFd) {
    fcntl(fd.as_raw_fd(), FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).expect("FD_CLOEXEC");
}

/// How long `expect` waits.
pub const WAIT: Duration = Duration::from_secs(30);

impl Pty {
    pub fn spawn(mut cmd: Command) -> Pty {
        let size = Winsize {
            ws_row: 50,
            ws_col: 250,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = openpty(Some(&size), None).expect("openpty");
        cloexec(&pty.master);
        cloexec(&pty.slave);
        let slave_fd = pty.slave.as_raw_fd();
        let dup = || Stdio::from(pty.slave.try_clone().expect("dup slave"));
        cmd.stdin(dup()).stdout(dup()).stderr(dup());
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
        let child = loop {
            match cmd.spawn() {
                Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && tries < 50 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => break other.expect("spawn on a pty"),
            }
        };
        drop(pty.slave);
        Pty {
            master: File::from(pty.master),
            child,
            screen: Vec::new(),
            seen: 0,
        }
    }

    /// The process id of the program (the shell, once prodguard has exec'd it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything shown so far, escapes and all.
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.screen).into_owned()
    }

    /// Read until the text after the last `expect` contains `needle`; returns that text, and the
    /// next `expect` starts after `needle`.
    pub fn expect(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let tail = String::from_utf8_lossy(&self.screen[self.seen..]).into_owned();
            if let Some(at) = tail.find(needle) {
                let upto = tail[..at + needle.len()].to_string();
                self.seen += upto.len();
                return upto;
            }
            assert!(
                Instant::now() < deadline,
                "never saw {needle:?}; screen:\n{}",
                self.screen()
            );
            if !self.pump(Duration::from_millis(50)) && self.exited() {
                // One more read for what the child wrote before it went.
                self.pump(Duration::from_millis(50));
                let tail = String::from_utf8_lossy(&self.screen[self.seen..]).into_owned();
                assert!(
                    tail.contains(needle),
                    "the program ended without showing {needle:?}; screen:\n{}",
                    self.screen()
                );
            }
        }
    }

    /// Read what arrives for `wait`.
    #[allow(dead_code)]
    pub fn settle(&mut self, wait: Duration) {
        let end = Instant::now() + wait;
        while Instant::now() < end {
            self.pump(Duration::from_millis(20));
        }
    }

    /// Read what is there (waiting up to `wait`); whether anything came.
    fn pump(&mut self, wait: Duration) -> bool {
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

    pub fn send(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).expect("type on the terminal");
        self.master.flush().expect("flush");
    }

    /// Type `line` and Return.
    pub fn line(&mut self, line: &str) {
        self.send(line.as_bytes());
        self.send(b"\r");
    }

    /// Wait for the program to end.
    pub fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + WAIT;
        loop {
            self.pump(Duration::from_millis(20));
            if let Some(status) = self.child.try_wait().expect("wait") {
                self.pump(Duration::from_millis(20));
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "still running; screen:\n{}",
                self.screen()
            );
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
