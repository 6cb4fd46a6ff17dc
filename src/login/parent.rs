//! The small parent an interactive login keeps while the real shell runs, as `su` and `sudo` do,
//! so that something is left to write the session's end record.
//!
//! The shell is started as a child, which checks before its exec that it holds no setgid group
//! (the binary gives one up as it starts: a defence, not a privilege). While it runs, the parent ignores SIGINT, SIGQUIT
//! and SIGTSTP (keys typed at the terminal are for the shell and its jobs: the shell puts itself
//! in its own process group and takes the terminal's foreground, so they do not reach the parent
//! once it has started), and passes SIGHUP, SIGTERM and SIGCONT on to the shell, then waits for
//! it.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus};
use std::sync::atomic::{AtomicI32, Ordering};

/// The shell's pid, for the signal handler.
static CHILD: AtomicI32 = AtomicI32::new(0);

const IGNORED: [libc::c_int; 3] = [libc::SIGINT, libc::SIGQUIT, libc::SIGTSTP];
const PASSED_ON: [libc::c_int; 3] = [libc::SIGHUP, libc::SIGTERM, libc::SIGCONT];

extern "C" fn pass_on(sig: libc::c_int) {
    let pid = CHILD.load(Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: kill is async-signal-safe; `pid` is the shell this process started.
        unsafe {
            libc::kill(pid, sig);
        }
    }
}

fn mask(how: libc::c_int) -> std::io::Result<()> {
    // SAFETY: the set is initialised by sigemptyset before use, and every signal number is
    // valid; sigprocmask only changes this thread's mask (the process has one thread here).
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in IGNORED.iter().chain(PASSED_ON.iter()) {
            libc::sigaddset(&mut set, *s);
        }
        if libc::sigprocmask(how, &set, std::ptr::null_mut()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

fn set_handler(sig: libc::c_int, handler: libc::sighandler_t) -> std::io::Result<()> {
    // SAFETY: the action is zero-initialised and then filled in; `handler` is SIG_IGN or
    // `pass_on`, which only calls an async-signal-safe function.
    unsafe {
        let mut act: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction = handler;
        act.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut act.sa_mask);
        if libc::sigaction(sig, &act, std::ptr::null_mut()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Start `cmd` as the session's shell, without the audit group, and wait for it. The signals
/// the parent ignores or passes on are blocked from before the start until the handling is in
/// place, so none is lost or kills the parent in between; the shell starts with no signal
/// blocked and the default handling of each (the standard library resets the mask and SIGPIPE;
/// nothing else is changed before the start).
pub fn run(mut cmd: Command) -> std::io::Result<ExitStatus> {
    let gid = nix::unistd::getgid().as_raw();
    // SAFETY: the closure runs in the child between fork and exec and calls only setresgid,
    // getresgid, sigemptyset and sigprocmask, which are async-signal-safe, and allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setresgid(gid, gid, gid) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            let (mut r, mut e, mut s) = (0, 0, 0);
            if libc::getresgid(&mut r, &mut e, &mut s) != 0 || r != gid || e != gid || s != gid {
                // Still holding the audit group: the shell is not started.
                return Err(std::io::Error::from_raw_os_error(libc::EPERM));
            }
            // The shell starts with nothing blocked, whatever the standard library does.
            let mut none: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut none);
            libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
            Ok(())
        });
    }
    mask(libc::SIG_BLOCK)?;
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let _ = mask(libc::SIG_UNBLOCK);
            return Err(e);
        }
    };
    let pid = i32::try_from(child.id()).unwrap_or(0);
    CHILD.store(pid, Ordering::SeqCst);
    let handled = IGNORED
        .iter()
        .try_for_each(|s| set_handler(*s, libc::SIG_IGN))
        .and_then(|()| {
            PASSED_ON
                .iter()
                .try_for_each(|s| set_handler(*s, pass_on as *const () as libc::sighandler_t))
        });
    let _ = mask(libc::SIG_UNBLOCK);
    if let Err(e) = handled {
        eprintln!("prodguard: warning: cannot set up signal handling for the session: {e}");
    }
    wait(pid)
}

fn wait(pid: i32) -> std::io::Result<ExitStatus> {
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: waitpid writes only `status`, and `pid` is this process's child.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            return Ok(ExitStatus::from_raw(status));
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// The exit status as the audit record writes it: the code, or minus the signal that killed it.
pub fn recorded_status(status: ExitStatus) -> i32 {
    match (status.code(), status.signal()) {
        (Some(c), _) => c,
        (None, Some(s)) => -s,
        (None, None) => -1,
    }
}

/// The exit status this process ends with, as a shell reports it: the code, or 128 plus the
/// signal.
pub fn exit_code(status: ExitStatus) -> u8 {
    match (status.code(), status.signal()) {
        (Some(c), _) => u8::try_from(c & 0xff).unwrap_or(1),
        (None, Some(s)) => u8::try_from((128 + s) & 0xff).unwrap_or(1),
        (None, None) => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_as_recorded_and_as_returned() {
        let exited = ExitStatus::from_raw(4 << 8);
        assert_eq!((recorded_status(exited), exit_code(exited)), (4, 4));
        let killed = ExitStatus::from_raw(libc::SIGKILL);
        assert_eq!((recorded_status(killed), exit_code(killed)), (-9, 137));
    }
}
