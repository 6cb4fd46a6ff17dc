//! Running the checker: fork and exec it with a clean environment, its stdin and stdout on the
//! user's terminal (or /dev/null), its stderr on a pipe the plugin reads, and a hard time limit
//! after which it is terminated, then killed.

use std::ffi::{c_char, c_int, CString};
use std::time::{Duration, Instant};

/// How the checker answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Exit status 0: the command may run. What it printed on stderr (warnings).
    Approve(String),
    /// Exit status 1: refused. What it printed on stderr (the reason).
    Refuse(String),
    /// Anything else: could not be run, was killed, timed out, or exited otherwise.
    Unavailable(String),
}

/// The most of the checker's stderr kept.
const STDERR_MAX: usize = 16 * 1024;
/// How long a terminated checker gets to exit before it is killed.
const GRACE: Duration = Duration::from_millis(500);

fn cstrings(items: &[Vec<u8>]) -> Option<Vec<CString>> {
    items.iter().map(|a| CString::new(a.clone()).ok()).collect()
}

fn last_os_error(what: &str) -> String {
    format!("{what}: {}", std::io::Error::last_os_error())
}

/// Open `path` read-write, close-on-exec; -1 on failure.
fn open_rw(path: &[u8]) -> c_int {
    let Ok(p) = CString::new(path) else { return -1 };
    // SAFETY: `p` is a valid NUL-terminated path; open has no other preconditions.
    unsafe { libc::open(p.as_ptr(), libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) }
}

fn close(fd: c_int) {
    if fd >= 0 {
        // SAFETY: `fd` is a descriptor this module opened and owns; it is closed once.
        unsafe { libc::close(fd) };
    }
}

/// The terminal the checker may ask on, opened by the caller (it stays the caller's).
#[derive(Debug, Clone, Copy)]
pub struct Terminal {
    pub fd: c_int,
    /// The terminal's foreground process group when it is not sudo's (a command started under
    /// `intercept` is in the foreground): the checker is made the foreground for its question,
    /// then this group is put back.
    pub foreground: Option<libc::pid_t>,
}

/// Run `argv` with `envp`, waiting at most `limit`, stdin and stdout on `terminal`, else on
/// /dev/null.
pub fn run(
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
    terminal: Option<Terminal>,
    limit: Duration,
) -> Answer {
    let (Some(c_argv), Some(c_envp)) = (cstrings(argv), cstrings(envp)) else {
        return Answer::Unavailable("an argument contains a NUL byte".into());
    };
    if c_argv.is_empty() {
        return Answer::Unavailable("no checker".into());
    }
    let mut p_argv: Vec<*const c_char> = c_argv.iter().map(|c| c.as_ptr()).collect();
    p_argv.push(std::ptr::null());
    let mut p_envp: Vec<*const c_char> = c_envp.iter().map(|c| c.as_ptr()).collect();
    p_envp.push(std::ptr::null());

    let null = open_rw(b"/dev/null");
    if null < 0 {
        return Answer::Unavailable(last_os_error("/dev/null"));
    }
    let io = terminal.map_or(null, |t| t.fd);
    let take_foreground = terminal.is_some_and(|t| t.foreground.is_some());
    let mut pipe = [-1 as c_int; 2];
    // SAFETY: `pipe` is a writable array of two ints, as pipe2 requires.
    if unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        close(null);
        return Answer::Unavailable(last_os_error("pipe"));
    }
    let [read_end, write_end] = pipe;

    // SAFETY: sudo is single-threaded; after fork the child only calls async-signal-safe
    // functions (dup2, sigaction, sigprocmask, syscall(close_range), execve, _exit) on memory
    // prepared before the fork, and never returns into Rust code.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: in the child, see above; every pointer was built before fork and is alive.
        unsafe {
            exec_child(
                io,
                write_end,
                take_foreground,
                p_argv.as_ptr(),
                p_envp.as_ptr(),
            )
        }
    }
    close(write_end);
    close(null);
    if pid < 0 {
        close(read_end);
        return Answer::Unavailable(last_os_error("fork"));
    }
    let (status, stderr, timed_out) = wait_reading(pid, read_end, limit);
    close(read_end);
    if let Some(Terminal {
        fd,
        foreground: Some(group),
    }) = terminal
    {
        give_foreground(fd, group);
    }
    let text = String::from_utf8_lossy(&stderr).into_owned();
    match status {
        _ if timed_out => {
            Answer::Unavailable(format!("no answer within {} s; stopped", limit.as_secs()))
        }
        Err(e) => Answer::Unavailable(e),
        Ok(st) if libc::WIFEXITED(st) => match libc::WEXITSTATUS(st) {
            0 => Answer::Approve(text),
            1 => Answer::Refuse(text),
            127 => Answer::Unavailable(format!("{} cannot be run", lossy(&argv[0]))),
            n => Answer::Unavailable(format!("exit status {n}: {}", text.trim())),
        },
        // ^C or ^\ at the question, or the terminal hung up: the person did not say yes.
        Ok(st)
            if libc::WIFSIGNALED(st)
                && matches!(
                    libc::WTERMSIG(st),
                    libc::SIGINT | libc::SIGQUIT | libc::SIGHUP
                ) =>
        {
            Answer::Refuse(format!("{text}prodguard: interrupted; not run\n"))
        }
        Ok(st) if libc::WIFSIGNALED(st) => {
            Answer::Unavailable(format!("killed by signal {}", libc::WTERMSIG(st)))
        }
        Ok(st) => Answer::Unavailable(format!("wait status {st}")),
    }
}

/// Make `group` the foreground process group of the terminal `fd` again (with SIGTTOU blocked:
/// sudo may be in the background).
fn give_foreground(fd: c_int, group: libc::pid_t) {
    // SAFETY: plain signal-mask and terminal calls on a descriptor the caller owns; the old
    // mask is put back.
    unsafe {
        let mut ttou: libc::sigset_t = std::mem::zeroed();
        let mut old: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut ttou);
        libc::sigaddset(&mut ttou, libc::SIGTTOU);
        libc::sigprocmask(libc::SIG_BLOCK, &ttou, &mut old);
        libc::tcsetpgrp(fd, group);
        libc::sigprocmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The child after fork: set up stdio, reset signals, close every other descriptor, exec.
///
/// # Safety
/// Only in the child of a fork of a single-threaded process; the pointers are NULL-terminated
/// arrays of valid C strings.
unsafe fn exec_child(
    io: c_int,
    err: c_int,
    take_foreground: bool,
    argv: *const *const c_char,
    envp: *const *const c_char,
) -> ! {
    // SAFETY: async-signal-safe calls on descriptors and memory valid in this child (contract).
    unsafe {
        if libc::dup2(io, 0) < 0 || libc::dup2(io, 1) < 0 || libc::dup2(err, 2) < 0 {
            libc::_exit(126);
        }
        if take_foreground {
            // A process group of its own, in the foreground of the terminal, so that it may
            // read the answer (a background reader is stopped by SIGTTIN). SIGTTOU is blocked
            // while it takes the terminal from the background; a failure leaves it where it
            // was, and the checker then finds no terminal and refuses what needs a human.
            let mut ttou: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut ttou);
            libc::sigaddset(&mut ttou, libc::SIGTTOU);
            libc::sigprocmask(libc::SIG_BLOCK, &ttou, std::ptr::null_mut());
            if libc::setpgid(0, 0) == 0 {
                libc::tcsetpgrp(0, libc::getpid());
            }
        }
        // sudo blocks and catches signals; the checker starts with the defaults.
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        let mut dfl: libc::sigaction = std::mem::zeroed();
        dfl.sa_sigaction = libc::SIG_DFL;
        // Except the job-control stops: a checker stopped by ^Z (or by reading the terminal
        // from the background) would wait out its time limit and be approved as unavailable.
        // Ignored, ^Z does nothing and a background read fails (the checker then refuses).
        let mut ign: libc::sigaction = std::mem::zeroed();
        ign.sa_sigaction = libc::SIG_IGN;
        for sig in 1..libc::SIGRTMAX() {
            if sig == libc::SIGTSTP || sig == libc::SIGTTIN || sig == libc::SIGTTOU {
                libc::sigaction(sig, &ign, std::ptr::null_mut());
            } else if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                libc::sigaction(sig, &dfl, std::ptr::null_mut());
            }
        }
        // Descriptors sudo holds open (its own pipes, the sudoers files) stay with sudo.
        if libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) != 0 {
            for fd in 3..1024 {
                libc::close(fd);
            }
        }
        libc::execve(*argv, argv, envp);
        libc::_exit(127)
    }
}

/// Wait for `pid`, collecting what it writes on `fd`, for at most `limit`; then SIGTERM, a grace
/// period, and SIGKILL. Returns the wait status (or why it is unknown), the output, and whether
/// the limit was reached. Sleeps in poll(2) on the pipe and on a pidfd of the child (Linux 5.3),
/// so that its exit is seen at once; without a pidfd, it looks every 2 ms.
fn wait_reading(
    pid: libc::pid_t,
    fd: c_int,
    limit: Duration,
) -> (Result<c_int, String>, Vec<u8>, bool) {
    let start = Instant::now();
    let mut out = Vec::new();
    let mut open = true;
    let mut signalled: Option<Instant> = None;
    // SAFETY: pidfd_open on our own child; -1 (ENOSYS on old kernels) is handled.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as c_int;
    let result = loop {
        let mut status: c_int = 0;
        // SAFETY: `pid` is our child; `status` is a valid out pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        if r == pid {
            // What it wrote before exiting; a descendant holding the pipe open is not waited for.
            while open && read_some(fd, &mut out) == Read::Got {}
            break Ok(status);
        }
        if r < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            break Err(last_os_error("waitpid"));
        }
        let next = match signalled {
            None if start.elapsed() >= limit => {
                // SAFETY: signalling our own child.
                unsafe { libc::kill(pid, libc::SIGTERM) };
                signalled = Some(Instant::now());
                GRACE
            }
            None => limit - start.elapsed(),
            Some(t) if t.elapsed() >= GRACE => {
                // SAFETY: signalling our own child; then reap it (SIGKILL cannot be caught).
                unsafe {
                    libc::kill(pid, libc::SIGKILL);
                    libc::waitpid(pid, &mut status, 0);
                }
                break Ok(status);
            }
            Some(t) => GRACE - t.elapsed(),
        };
        let cap = if pidfd >= 0 { 1000 } else { 2 };
        let wait_ms = next.as_millis().clamp(1, cap) as c_int;
        let mut fds = [
            libc::pollfd {
                fd: if open { fd } else { -1 },
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: pidfd,
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: two valid pollfd entries (negative fds are ignored by poll).
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, wait_ms) };
        if n > 0 && open && fds[0].revents != 0 {
            open = read_some(fd, &mut out) != Read::Closed;
        }
    };
    close(pidfd);
    (result, out, signalled.is_some())
}

#[derive(PartialEq, Eq)]
enum Read {
    Got,
    Empty,
    Closed,
}

/// Read what is available on `fd` now.
fn read_some(fd: c_int, out: &mut Vec<u8>) -> Read {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    if unsafe { libc::poll(&mut pfd, 1, 0) } <= 0 {
        return Read::Empty;
    }
    let mut buf = [0u8; 4096];
    // SAFETY: reading into a local buffer of the given length.
    let got = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    if got < 0 {
        return if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) {
            Read::Empty
        } else {
            Read::Closed
        };
    }
    if got == 0 {
        return Read::Closed;
    }
    let got = got as usize;
    let room = STDERR_MAX.saturating_sub(out.len());
    out.extend_from_slice(&buf[..got.min(room)]);
    Read::Got
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Vec<Vec<u8>> {
        vec![
            b"/bin/sh".to_vec(),
            b"-c".to_vec(),
            script.as_bytes().to_vec(),
        ]
    }

    #[test]
    fn exit_statuses_map_to_answers() {
        let env = vec![b"PATH=/usr/bin:/bin".to_vec()];
        let lim = Duration::from_secs(5);
        assert_eq!(
            run(&sh("echo careful >&2; exit 0"), &env, None, lim),
            Answer::Approve("careful\n".into())
        );
        assert_eq!(
            run(&sh("echo no >&2; exit 1"), &env, None, lim),
            Answer::Refuse("no\n".into())
        );
        assert!(matches!(
            run(&sh("exit 3"), &env, None, lim),
            Answer::Unavailable(_)
        ));
        assert!(matches!(
            run(&[b"/nonexistent/prodguard".to_vec()], &env, None, lim),
            Answer::Unavailable(m) if m.contains("cannot be run")
        ));
    }

    #[test]
    fn an_interrupted_checker_refuses_and_a_crashed_one_is_unavailable() {
        let env = vec![b"PATH=/usr/bin:/bin".to_vec()];
        let lim = Duration::from_secs(5);
        for sig in ["INT", "QUIT", "HUP"] {
            let a = run(&sh(&format!("kill -{sig} $$; sleep 5")), &env, None, lim);
            assert!(
                matches!(a, Answer::Refuse(ref t) if t.contains("interrupted")),
                "{sig}: {a:?}"
            );
        }
        let a = run(&sh("kill -SEGV $$; sleep 5"), &env, None, lim);
        assert!(
            matches!(a, Answer::Unavailable(ref t) if t.contains("signal 11")),
            "{a:?}"
        );
    }

    #[test]
    fn job_control_stops_are_ignored_by_the_checker() {
        let env = vec![b"PATH=/usr/bin:/bin".to_vec()];
        let a = run(
            &sh("kill -TSTP $$; exit 1"),
            &env,
            None,
            Duration::from_secs(5),
        );
        assert!(matches!(a, Answer::Refuse(_)), "{a:?}");
    }

    #[test]
    fn a_slow_checker_is_stopped_in_bounded_time() {
        let env = vec![b"PATH=/usr/bin:/bin".to_vec()];
        let t = Instant::now();
        // Ignores SIGTERM: must be killed.
        let a = run(
            &sh("trap '' TERM; sleep 30"),
            &env,
            None,
            Duration::from_secs(1),
        );
        assert!(
            matches!(a, Answer::Unavailable(ref m) if m.contains("no answer")),
            "{a:?}"
        );
        assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    }

    #[test]
    fn long_output_is_kept_up_to_the_limit() {
        let env = vec![b"PATH=/usr/bin:/bin".to_vec()];
        let a = run(
            &sh("head -c 40000 /dev/zero | tr '\\0' x >&2; exit 1"),
            &env,
            None,
            Duration::from_secs(5),
        );
        assert!(
            matches!(a, Answer::Refuse(ref t) if t.len() == STDERR_MAX),
            "{a:?}"
        );
    }

    #[test]
    fn stdin_is_dev_null_without_a_terminal() {
        let env = vec![b"PATH=/usr/bin:/bin".to_vec()];
        let a = run(
            &sh("readlink /proc/self/fd/0 >&2; exit 0"),
            &env,
            None,
            Duration::from_secs(5),
        );
        assert_eq!(a, Answer::Approve("/dev/null\n".into()));
    }
}
