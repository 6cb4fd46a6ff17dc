//! Running a probe command: no shell, a deadline, the user's own group, and nothing left behind.
//!
//! - The program is run from an argv list, never through a shell; a bare name is looked up in a
//!   fixed system path ([`SYSTEM_PATH`]), not the user's `PATH`.
//! - It runs in a process group of its own. When the deadline passes, the whole group is killed
//!   (`SIGKILL`), so a probe that started children cannot leave them running; a group that
//!   finished in time is killed too, to take any background straggler with it. The leader is
//!   not reaped until then, so its group id cannot have been reused by another process.
//! - A probe runs with the user's own ids: prodguard holds no privilege (a binary found setgid
//!   gives the group up as it starts, see `crate::privilege`).
//! - Standard input is `/dev/null`; output is read by threads and only its last line kept.

use nix::sys::signal::{killpg, Signal};
use nix::sys::wait::{waitid, Id, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::io::Read;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Where a probe's program is looked up when it is not given as a path.
pub const SYSTEM_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// How long output readers get, after the probe ended, to deliver what they read.
const READER_GRACE: Duration = Duration::from_millis(200);
/// How much of each output stream is kept (its end).
const KEEP_BYTES: usize = 4096;

/// How a probe ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeStatus {
    /// It exited with this status.
    Exited(i32),
    /// A signal killed it (not ours).
    Signaled(i32),
    /// The deadline passed; its process group was killed.
    TimedOut,
    /// It could not be started.
    NotRun(String),
}

/// What running a probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeOutcome {
    pub status: ProbeStatus,
    /// Wall time from spawn to the end (or to the kill).
    pub elapsed: Duration,
    /// The last non-empty line of standard error (else of standard output), if any.
    pub last_line: Option<String>,
    /// Its process group id (its pid), 0 when it did not start.
    pub pgid: i32,
}

impl ProbeOutcome {
    /// Whether it exited 0 in time.
    pub fn ok(&self) -> bool {
        self.status == ProbeStatus::Exited(0)
    }

    fn not_run(why: String) -> ProbeOutcome {
        ProbeOutcome {
            status: ProbeStatus::NotRun(why),
            elapsed: Duration::ZERO,
            last_line: None,
            pgid: 0,
        }
    }
}

/// The program to exec: `name` itself when it contains a slash, else the first executable
/// `name` in [`SYSTEM_PATH`].
fn resolve(name: &str) -> Result<PathBuf, String> {
    use std::os::unix::fs::PermissionsExt;
    if name.contains('/') {
        return Ok(PathBuf::from(name));
    }
    SYSTEM_PATH
        .split(':')
        .map(|d| Path::new(d).join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
        .ok_or_else(|| format!("{name}: not found in {SYSTEM_PATH}"))
}

/// Read `r` to its end, keeping the last [`KEEP_BYTES`], and send them.
fn drain(mut r: impl Read + Send + 'static) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut kept: Vec<u8> = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match r.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    kept.extend_from_slice(&buf[..n]);
                    if kept.len() > 2 * KEEP_BYTES {
                        kept.drain(..kept.len() - KEEP_BYTES);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = tx.send(kept);
    });
    rx
}

fn last_line(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    let line = text.lines().map(str::trim).rfind(|l| !l.is_empty())?;
    let mut line: String = line
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if line.chars().count() > 200 {
        line = line.chars().take(200).collect::<String>() + "…";
    }
    Some(line)
}

/// Run `argv` with a deadline of `timeout`. Never blocks much longer than `timeout`.
pub fn run(argv: &[String], timeout: Duration) -> ProbeOutcome {
    let Some((name, args)) = argv.split_first() else {
        return ProbeOutcome::not_run("empty argv".into());
    };
    let program = match resolve(name) {
        Ok(p) => p,
        Err(e) => return ProbeOutcome::not_run(e),
    };
    let mut cmd = Command::new(&program);
    cmd.arg0(name)
        .args(args)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let start = Instant::now();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return ProbeOutcome::not_run(format!("cannot run {}: {e}", program.display())),
    };
    let raw_pid = i32::try_from(child.id()).unwrap_or(0);
    let pid = Pid::from_raw(raw_pid);
    let out_rx = child.stdout.take().map(drain);
    let err_rx = child.stderr.take().map(drain);
    let deadline = start + timeout;
    let mut timed_out = false;
    loop {
        // WNOWAIT: look without reaping, so the group id stays ours until the kill below.
        match waitid(
            Id::Pid(pid),
            WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT,
        ) {
            Ok(WaitStatus::StillAlive) => {}
            Ok(_) => break,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => break,
        }
        let now = Instant::now();
        if now >= deadline {
            timed_out = true;
            break;
        }
        std::thread::sleep((deadline - now).min(Duration::from_millis(10)));
    }
    // The whole group: on a timeout the probe and everything it started; otherwise stragglers.
    if raw_pid > 0 {
        let _ = killpg(pid, Signal::SIGKILL);
    }
    let waited = child.wait();
    let elapsed = start.elapsed();
    let grace = Instant::now() + READER_GRACE;
    let take = |rx: Option<mpsc::Receiver<Vec<u8>>>| {
        rx.and_then(|rx| {
            rx.recv_timeout(grace.saturating_duration_since(Instant::now()))
                .ok()
        })
        .unwrap_or_default()
    };
    let err_bytes = take(err_rx);
    let out_bytes = take(out_rx);
    let status = if timed_out {
        ProbeStatus::TimedOut
    } else {
        match waited {
            Ok(s) => match (s.code(), s.signal()) {
                (Some(c), _) => ProbeStatus::Exited(c),
                (None, Some(sig)) => ProbeStatus::Signaled(sig),
                (None, None) => ProbeStatus::NotRun("no exit status".into()),
            },
            Err(e) => ProbeStatus::NotRun(format!("cannot wait for it: {e}")),
        }
    };
    ProbeOutcome {
        status,
        elapsed,
        last_line: last_line(&err_bytes).or_else(|| last_line(&out_bytes)),
        pgid: raw_pid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn exit_status_and_last_line() {
        let o = run(&argv(&["true"]), Duration::from_secs(5));
        assert!(o.ok(), "{o:?}");
        let o = run(
            &argv(&["sh", "-c", "echo one >&2; echo two >&2; exit 3"]),
            Duration::from_secs(5),
        );
        assert_eq!(o.status, ProbeStatus::Exited(3));
        assert_eq!(o.last_line.as_deref(), Some("two"));
    }

    #[test]
    fn a_missing_program_is_not_run() {
        let o = run(&argv(&["no-such-probe-xyz"]), Duration::from_secs(1));
        assert!(matches!(o.status, ProbeStatus::NotRun(ref w) if w.contains("not found")));
        assert!(!o.ok());
    }

    #[test]
    fn the_user_path_is_not_used() {
        assert!(resolve("sh").is_ok_and(|p| p.is_absolute()));
        assert!(resolve("/bin/sh").is_ok());
    }
}
